-- Market-based Scope 2: contractual instruments (energy attribute certificates) allocated to
-- consumption before the rules run (engine/allocation.py; docs/methodologies.md#scope-2-market-based).
--
-- A result part that used an instrument names it: result.instrument_id (NULL for every other
-- result row). Each run records, per instrument of the dataset, how much of it was allocated
-- and how much was not, with the reason (docs/data.md#instrument-allocation).
ALTER TABLE ccf.result ADD COLUMN IF NOT EXISTS instrument_id TEXT;

CREATE TABLE IF NOT EXISTS ccf.instrument_allocation (
  run_id BIGINT NOT NULL,
  methodology_id TEXT NOT NULL,
  instrument_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  unit TEXT NOT NULL,
  quantity NUMERIC NOT NULL,
  allocated NUMERIC NOT NULL,
  unallocated NUMERIC NOT NULL,
  allocated_rows BIGINT NOT NULL,
  reason_code TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS instrument_allocation_run ON ccf.instrument_allocation (run_id, methodology_id);

-- Instrument volume a run could not use: surplus, wrong market boundary, wrong vintage.
CREATE OR REPLACE VIEW ccf.unallocated_instrument AS
SELECT run_id, methodology_id, instrument_id, entity, unit, quantity, unallocated, reason_code, reason
FROM ccf.instrument_allocation
WHERE unallocated > 0;

-- The provenance view gains the instrument (new columns go last: CREATE OR REPLACE VIEW).
CREATE OR REPLACE VIEW ccf.result_provenance AS
SELECT r.run_id, r.methodology_id, m.version AS methodology_version, m.content_hash AS methodology_hash,
       m.scope, m.category, r.rule_id, r.activity_id, r.entity, r.period_start, r.gas, r.gas_kg,
       m.gwp_set, r.gwp, r.co2e_kg, r.factor_ids, m.factor_set, m.factor_set_sha256, r.match_level,
       r.unit_conversion, r.instrument_id
FROM ccf.result AS r
JOIN ccf.run_methodology AS m ON m.run_id = r.run_id AND m.methodology_id = r.methodology_id;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner') THEN
    GRANT SELECT, INSERT ON ccf.instrument_allocation TO ccf_runner;
    GRANT SELECT ON ccf.unallocated_instrument, ccf.result_provenance TO ccf_runner;
  END IF;
END
$$;
