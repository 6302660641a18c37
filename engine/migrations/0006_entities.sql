-- The organisational boundary (docs/reporting.md): named entity sets, each one hierarchy of the
-- reporting company's entities with the share and the control its parent holds. Like factor
-- sets, an entity set is loaded once and never modified; a changed structure is a new set.
CREATE TABLE IF NOT EXISTS ccf.entity_set (
  entity_set TEXT PRIMARY KEY,
  source_file TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  entity_count INT NOT NULL,
  loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per entity. The root (the reporting company) has no parent, an equity share of 1 and
-- every control flag set; every other row describes the link from its parent: the share of its
-- equity the parent holds, and whether the parent controls it financially (alone, or jointly
-- with other partners) and operationally.
CREATE TABLE IF NOT EXISTS ccf.entity (
  entity_set TEXT NOT NULL REFERENCES ccf.entity_set (entity_set),
  entity TEXT NOT NULL,
  name TEXT NOT NULL,
  parent TEXT,
  equity_share NUMERIC NOT NULL CHECK (equity_share >= 0 AND equity_share <= 1),
  financial_control BOOLEAN NOT NULL,
  joint_financial_control BOOLEAN NOT NULL,
  operational_control BOOLEAN NOT NULL,
  country TEXT,
  line_no INT NOT NULL,
  PRIMARY KEY (entity_set, entity),
  FOREIGN KEY (entity_set, parent) REFERENCES ccf.entity (entity_set, entity),
  CHECK (NOT (financial_control AND joint_financial_control))
);
