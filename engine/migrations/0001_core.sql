-- ccf core schema. Static DDL, parsed into sqlglot trees and run by engine/migrate.py.
CREATE SCHEMA IF NOT EXISTS ccf;

-- Exact division, defined once (docs/numeric-semantics.md): the quotient rounded half away
-- from zero to 20 decimal places, computed with integer division so it is exact; NULL when
-- dividing by zero.
CREATE OR REPLACE FUNCTION ccf.div(a NUMERIC, b NUMERIC) RETURNS NUMERIC LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN b = 0 THEN NULL
              ELSE SIGN(a) * SIGN(b) * DIV(2 * ABS(a) * 100000000000000000000 + ABS(b), 2 * ABS(b)) * 0.00000000000000000001
         END
$$;

CREATE TABLE IF NOT EXISTS ccf.factor_set (
  factor_set_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  set_id TEXT NOT NULL UNIQUE,
  publisher TEXT NOT NULL,
  title TEXT NOT NULL,
  edition TEXT NOT NULL,
  published DATE,
  licence TEXT NOT NULL,
  source_file TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  region TEXT,
  factor_year INT,
  gas_units JSONB NOT NULL,
  factor_count INT NOT NULL,
  loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ccf.factor (
  factor_set_id BIGINT NOT NULL REFERENCES ccf.factor_set (factor_set_id),
  factor_id TEXT NOT NULL,
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  gas TEXT NOT NULL,
  value NUMERIC NOT NULL,
  attributes JSONB NOT NULL,
  region TEXT,
  factor_year INT,
  source_line INT,
  PRIMARY KEY (factor_set_id, factor_id)
);

CREATE TABLE IF NOT EXISTS ccf.gwp (
  gwp_set TEXT NOT NULL,
  gas TEXT NOT NULL,
  value NUMERIC NOT NULL,
  PRIMARY KEY (gwp_set, gas)
);

CREATE TABLE IF NOT EXISTS ccf.activity_load (
  load_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dataset TEXT NOT NULL,
  activity_type TEXT NOT NULL,
  activity_type_hash TEXT NOT NULL,
  source_file TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  rows_read BIGINT NOT NULL,
  rows_loaded BIGINT NOT NULL,
  rows_rejected BIGINT NOT NULL,
  loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ccf.rejected (
  load_id BIGINT NOT NULL REFERENCES ccf.activity_load (load_id),
  dataset TEXT NOT NULL,
  activity_type TEXT NOT NULL,
  line_no BIGINT NOT NULL,
  activity_id TEXT,
  record JSONB NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rejected_dataset ON ccf.rejected (dataset, activity_type);

CREATE TABLE IF NOT EXISTS ccf.run (
  run_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dataset TEXT NOT NULL,
  engine_version TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  summary JSONB
);

CREATE TABLE IF NOT EXISTS ccf.run_methodology (
  run_id BIGINT NOT NULL REFERENCES ccf.run (run_id),
  methodology_id TEXT NOT NULL,
  version TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  status TEXT NOT NULL,
  scope INT NOT NULL,
  category INT,
  method TEXT NOT NULL,
  activity_type TEXT NOT NULL,
  activity_type_hash TEXT NOT NULL,
  factor_set TEXT NOT NULL,
  factor_set_sha256 TEXT NOT NULL,
  gwp_set TEXT NOT NULL,
  rows_in BIGINT NOT NULL,
  rows_result BIGINT NOT NULL,
  rows_excluded BIGINT NOT NULL,
  rows_unmatched BIGINT NOT NULL,
  rows_rejected BIGINT NOT NULL,
  compiled_sql TEXT NOT NULL,
  PRIMARY KEY (run_id, methodology_id)
);

CREATE TABLE IF NOT EXISTS ccf.result (
  run_id BIGINT NOT NULL REFERENCES ccf.run (run_id),
  methodology_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  period_start DATE NOT NULL,
  rule_id TEXT NOT NULL,
  gas TEXT NOT NULL,
  gas_kg NUMERIC,
  gwp NUMERIC,
  co2e_kg NUMERIC NOT NULL,
  factor_ids TEXT[] NOT NULL,
  match_level TEXT NOT NULL,
  unit_conversion TEXT
);
CREATE INDEX IF NOT EXISTS result_run ON ccf.result (run_id, methodology_id);

CREATE TABLE IF NOT EXISTS ccf.excluded (
  run_id BIGINT NOT NULL REFERENCES ccf.run (run_id),
  methodology_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS excluded_run ON ccf.excluded (run_id, methodology_id);

CREATE TABLE IF NOT EXISTS ccf.unmatched (
  run_id BIGINT NOT NULL REFERENCES ccf.run (run_id),
  methodology_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  rule_id TEXT,
  reason_code TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS unmatched_run ON ccf.unmatched (run_id, methodology_id);

-- Every result row with its full provenance in one place, for auditors.
CREATE OR REPLACE VIEW ccf.result_provenance AS
SELECT r.run_id, r.methodology_id, m.version AS methodology_version, m.content_hash AS methodology_hash,
       m.scope, m.category, r.rule_id, r.activity_id, r.entity, r.period_start, r.gas, r.gas_kg,
       m.gwp_set, r.gwp, r.co2e_kg, r.factor_ids, m.factor_set, m.factor_set_sha256, r.match_level,
       r.unit_conversion
FROM ccf.result AS r
JOIN ccf.run_methodology AS m ON m.run_id = r.run_id AND m.methodology_id = r.methodology_id;
