-- The edition of the reporting period (engine/factors/editions.py). A methodology may name a
-- factor set (`factor_set: desnz`) and the run reads the edition declared for the dataset's
-- period; run_methodology.factor_set (and run_factor_set.set_id) hold the edition read, as
-- before, and beside it: the id the methodology named (NULL in runs made before: the edition
-- itself), the period the edition was chosen for, and, when the run was asked to compute with
-- a pinned edition that is for another period (--other-edition), the reason, which every
-- result of that methodology carries in ccf.result_provenance.
ALTER TABLE ccf.run_methodology ADD COLUMN IF NOT EXISTS factor_set_named TEXT;
ALTER TABLE ccf.run_methodology ADD COLUMN IF NOT EXISTS edition_period TEXT;
ALTER TABLE ccf.run_methodology ADD COLUMN IF NOT EXISTS edition_fallback TEXT;
ALTER TABLE ccf.run_factor_set ADD COLUMN IF NOT EXISTS factor_set_named TEXT;
ALTER TABLE ccf.run_factor_set ADD COLUMN IF NOT EXISTS edition_fallback TEXT;

CREATE OR REPLACE VIEW ccf.result_provenance AS
SELECT r.run_id, r.methodology_id, m.version AS methodology_version, m.content_hash AS methodology_hash,
       m.scope, m.category, r.rule_id, r.activity_id, r.entity, r.period_start, r.gas, r.gas_kg,
       m.gwp_set, r.gwp, r.co2e_kg, r.factor_ids, COALESCE(r.factor_set, m.factor_set) AS factor_set,
       CASE WHEN r.factor_set IS NULL THEN m.factor_set_sha256 ELSE x.sha256 END AS factor_set_sha256,
       r.match_level, r.unit_conversion, r.instrument_id,
       CASE WHEN r.factor_set IS NULL THEN m.edition_fallback ELSE x.edition_fallback END AS edition_fallback
FROM ccf.result AS r
JOIN ccf.run_methodology AS m ON m.run_id = r.run_id AND m.methodology_id = r.methodology_id
LEFT JOIN ccf.run_factor_set AS x
  ON x.run_id = r.run_id AND x.methodology_id = r.methodology_id AND x.set_id = r.factor_set;
