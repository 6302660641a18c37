-- A methodology's GWP set has one name from its file to its run: `gwp` in the YAML and the IR,
-- and now ccf.run_methodology.gwp (it was gwp_set). ccf.gwp keeps its key column gwp_set: there
-- it names the set a GWP value belongs to.
ALTER TABLE ccf.run_methodology RENAME COLUMN gwp_set TO gwp;

-- The provenance view reads the renamed column. Its output column keeps the name gwp_set: in a
-- row of the view `gwp` is that row's GWP value (ccf.result.gwp, the multiplier of gas_kg), so
-- the methodology's set needs a name of its own there, and auditors' queries keep working.
CREATE OR REPLACE VIEW ccf.result_provenance AS
SELECT r.run_id, r.methodology_id, m.version AS methodology_version, m.content_hash AS methodology_hash,
       m.scope, m.category, r.rule_id, r.activity_id, r.entity, r.period_start, r.gas, r.gas_kg,
       m.gwp AS gwp_set, r.gwp, r.co2e_kg, r.factor_ids, COALESCE(r.factor_set, m.factor_set) AS factor_set,
       CASE WHEN r.factor_set IS NULL THEN m.factor_set_sha256 ELSE x.sha256 END AS factor_set_sha256,
       r.match_level, r.unit_conversion, r.instrument_id,
       CASE WHEN r.factor_set IS NULL THEN m.edition_fallback ELSE x.edition_fallback END AS edition_fallback
FROM ccf.result AS r
JOIN ccf.run_methodology AS m ON m.run_id = r.run_id AND m.methodology_id = r.methodology_id
LEFT JOIN ccf.run_factor_set AS x
  ON x.run_id = r.run_id AND x.methodology_id = r.methodology_id AND x.set_id = r.factor_set;
