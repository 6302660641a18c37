-- A data-quality score on every result (docs/data.md#data-quality): 1 (best) to 5 (poorest), PCAF's
-- scale; NULL: not scored. The row's own data_quality, else its rule's or its methodology's
-- (compile/evaluate.py). It is a column of ccf.result, repeated on each gas of an activity row:
-- results are laid out per activity row and gas, with no table of their own per activity row, and
-- a report weighs each result row's score by that row's kg CO2e (engine/inventory/quality.py), so a
-- score beside its CO2e is the one layout that needs no join. A SMALLINT of NULL costs a bit of the
-- null bitmap the row already has.
ALTER TABLE ccf.result ADD COLUMN IF NOT EXISTS data_quality SMALLINT
  CONSTRAINT result_data_quality_score CHECK (data_quality BETWEEN 1 AND 5);

-- The provenance view gains the score, as its last column (CREATE OR REPLACE VIEW adds columns at
-- the end only).
CREATE OR REPLACE VIEW ccf.result_provenance AS
SELECT r.run_id, r.methodology_id, m.version AS methodology_version, m.content_hash AS methodology_hash,
       m.scope, m.category, r.rule_id, r.activity_id, r.entity, r.period_start, r.gas, r.gas_kg,
       m.gwp AS gwp_set, r.gwp, r.co2e_kg, r.factor_ids, COALESCE(r.factor_set, m.factor_set) AS factor_set,
       CASE WHEN r.factor_set IS NULL THEN m.factor_set_sha256 ELSE x.sha256 END AS factor_set_sha256,
       r.match_level, r.unit_conversion, r.instrument_id,
       CASE WHEN r.factor_set IS NULL THEN m.edition_fallback ELSE x.edition_fallback END AS edition_fallback,
       r.data_quality
FROM ccf.result AS r
JOIN ccf.run_methodology AS m ON m.run_id = r.run_id AND m.methodology_id = r.methodology_id
LEFT JOIN ccf.run_factor_set AS x
  ON x.run_id = r.run_id AND x.methodology_id = r.methodology_id AND x.set_id = r.factor_set;
