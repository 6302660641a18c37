-- A dataset is created by its first load (docs/data.md#datasets). It may have a reporting period
-- (every activity row must lie inside it) and be bound to an entity set (every activity row's
-- entity must be one of the set's); both are fixed when the dataset is created, because the rows
-- already loaded were checked against them.
CREATE TABLE IF NOT EXISTS ccf.dataset (
  dataset TEXT PRIMARY KEY,
  period_start DATE,
  period_end DATE,
  entity_set TEXT REFERENCES ccf.entity_set (entity_set),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK ((period_start IS NULL) = (period_end IS NULL)),
  CHECK (period_end >= period_start)
);

-- Datasets loaded before this migration: no period, no entity set (their rows were not checked).
INSERT INTO ccf.dataset (dataset)
SELECT DISTINCT dataset FROM ccf.activity_load
ON CONFLICT (dataset) DO NOTHING;
