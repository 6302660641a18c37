-- A factor lookup may read another factor set than its methodology's (`factor_set:` on the
-- lookup, e.g. the organisation's residual mix `org-residual-mix` in market-based Scope 2).
-- Provenance then names that set: result.factor_set holds the set of the row's factors when it
-- is not the methodology's (NULL for every other result row), and each run records, per
-- methodology, every such set it read with the sha256 of the installed edition (NULL: the set
-- was not installed, so its lookups found nothing and the rules fell through).
ALTER TABLE ccf.result ADD COLUMN IF NOT EXISTS factor_set TEXT;

CREATE TABLE IF NOT EXISTS ccf.run_factor_set (
  run_id BIGINT NOT NULL,
  methodology_id TEXT NOT NULL,
  set_id TEXT NOT NULL,
  lookups TEXT[] NOT NULL,
  sha256 TEXT,
  PRIMARY KEY (run_id, methodology_id, set_id)
);

-- The provenance view names each row's own factor set and its checksum (same columns).
CREATE OR REPLACE VIEW ccf.result_provenance AS
SELECT r.run_id, r.methodology_id, m.version AS methodology_version, m.content_hash AS methodology_hash,
       m.scope, m.category, r.rule_id, r.activity_id, r.entity, r.period_start, r.gas, r.gas_kg,
       m.gwp_set, r.gwp, r.co2e_kg, r.factor_ids, COALESCE(r.factor_set, m.factor_set) AS factor_set,
       CASE WHEN r.factor_set IS NULL THEN m.factor_set_sha256 ELSE x.sha256 END AS factor_set_sha256,
       r.match_level, r.unit_conversion, r.instrument_id
FROM ccf.result AS r
JOIN ccf.run_methodology AS m ON m.run_id = r.run_id AND m.methodology_id = r.methodology_id
LEFT JOIN ccf.run_factor_set AS x
  ON x.run_id = r.run_id AND x.methodology_id = r.methodology_id AND x.set_id = r.factor_set;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner') THEN
    GRANT SELECT, INSERT ON ccf.run_factor_set TO ccf_runner;
    GRANT SELECT ON ccf.result_provenance TO ccf_runner;
  END IF;
END
$$;
