-- One result row per activity row and rule (per part, for a row split among instruments), with
-- the gases as columns (issue #20, docs/performance.md "sixth pass"). ccf.result was one row per
-- activity row and gas: 2.4 rows per activity row, each repeating the row's ids, entity, period,
-- rule, unit-conversion note and score; writing them was most of a run. ccf.result_row holds per
-- gas of ir.GAS_ORDER its mass, GWP, kg CO2e, factor ids, match level and source set (NULL where
-- the row has no value of that gas), and the row's kg CO2e in the scopes (biogenic CO2, outside
-- them, is not in it), which readers that only total CO2e read without unpivoting.
--
-- ccf.result keeps its name and columns as a view, one row per activity row and gas with a value,
-- so that auditors' queries, ccf.result_provenance and the per-gas readers read what they read
-- before; runs write ccf.result_row.
CREATE TABLE ccf.result_row (
  run_id BIGINT NOT NULL,
  methodology_id TEXT NOT NULL,
  activity_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  period_start DATE NOT NULL,
  rule_id TEXT NOT NULL,
  unit_conversion TEXT,
  instrument_id TEXT,
  data_quality SMALLINT CONSTRAINT result_row_data_quality_score CHECK (data_quality BETWEEN 1 AND 5),
  total_co2e_kg NUMERIC NOT NULL,
  co2e_kg NUMERIC, co2e_gwp NUMERIC, co2e_co2e_kg NUMERIC, co2e_factor_ids TEXT[], co2e_match_level TEXT, co2e_factor_set TEXT,
  co2_kg NUMERIC, co2_gwp NUMERIC, co2_co2e_kg NUMERIC, co2_factor_ids TEXT[], co2_match_level TEXT, co2_factor_set TEXT,
  ch4_kg NUMERIC, ch4_gwp NUMERIC, ch4_co2e_kg NUMERIC, ch4_factor_ids TEXT[], ch4_match_level TEXT, ch4_factor_set TEXT,
  n2o_kg NUMERIC, n2o_gwp NUMERIC, n2o_co2e_kg NUMERIC, n2o_factor_ids TEXT[], n2o_match_level TEXT, n2o_factor_set TEXT,
  total_minus_gases_kg NUMERIC, total_minus_gases_gwp NUMERIC, total_minus_gases_co2e_kg NUMERIC, total_minus_gases_factor_ids TEXT[], total_minus_gases_match_level TEXT, total_minus_gases_factor_set TEXT,
  co2_biogenic_kg NUMERIC, co2_biogenic_gwp NUMERIC, co2_biogenic_co2e_kg NUMERIC, co2_biogenic_factor_ids TEXT[], co2_biogenic_match_level TEXT, co2_biogenic_factor_set TEXT
);

-- The rows of results that exist, regrouped: one per (activity row, rule, part) of each run.
-- A part is told apart by its instrument; the count below proves no gas row was merged away.
INSERT INTO ccf.result_row (run_id, methodology_id, activity_id, entity, period_start, rule_id, unit_conversion,
                            instrument_id, data_quality, total_co2e_kg, co2e_kg, co2e_gwp, co2e_co2e_kg, co2e_factor_ids, co2e_match_level, co2e_factor_set, co2_kg, co2_gwp, co2_co2e_kg, co2_factor_ids, co2_match_level, co2_factor_set, ch4_kg, ch4_gwp, ch4_co2e_kg, ch4_factor_ids, ch4_match_level, ch4_factor_set, n2o_kg, n2o_gwp, n2o_co2e_kg, n2o_factor_ids, n2o_match_level, n2o_factor_set, total_minus_gases_kg, total_minus_gases_gwp, total_minus_gases_co2e_kg, total_minus_gases_factor_ids, total_minus_gases_match_level, total_minus_gases_factor_set, co2_biogenic_kg, co2_biogenic_gwp, co2_biogenic_co2e_kg, co2_biogenic_factor_ids, co2_biogenic_match_level, co2_biogenic_factor_set)
SELECT o.run_id, o.methodology_id, o.activity_id, o.entity, o.period_start, o.rule_id, o.unit_conversion,
       o.instrument_id, o.data_quality,
       COALESCE(SUM(o.co2e_kg) FILTER (WHERE o.gas <> 'CO2_biogenic'), 0),
       MIN(o.gas_kg) FILTER (WHERE o.gas = 'CO2e'), MIN(o.gwp) FILTER (WHERE o.gas = 'CO2e'), MIN(o.co2e_kg) FILTER (WHERE o.gas = 'CO2e'),
       MIN(o.factor_ids) FILTER (WHERE o.gas = 'CO2e'), MIN(o.match_level) FILTER (WHERE o.gas = 'CO2e'), MIN(o.factor_set) FILTER (WHERE o.gas = 'CO2e'),
       MIN(o.gas_kg) FILTER (WHERE o.gas = 'CO2'), MIN(o.gwp) FILTER (WHERE o.gas = 'CO2'), MIN(o.co2e_kg) FILTER (WHERE o.gas = 'CO2'),
       MIN(o.factor_ids) FILTER (WHERE o.gas = 'CO2'), MIN(o.match_level) FILTER (WHERE o.gas = 'CO2'), MIN(o.factor_set) FILTER (WHERE o.gas = 'CO2'),
       MIN(o.gas_kg) FILTER (WHERE o.gas = 'CH4'), MIN(o.gwp) FILTER (WHERE o.gas = 'CH4'), MIN(o.co2e_kg) FILTER (WHERE o.gas = 'CH4'),
       MIN(o.factor_ids) FILTER (WHERE o.gas = 'CH4'), MIN(o.match_level) FILTER (WHERE o.gas = 'CH4'), MIN(o.factor_set) FILTER (WHERE o.gas = 'CH4'),
       MIN(o.gas_kg) FILTER (WHERE o.gas = 'N2O'), MIN(o.gwp) FILTER (WHERE o.gas = 'N2O'), MIN(o.co2e_kg) FILTER (WHERE o.gas = 'N2O'),
       MIN(o.factor_ids) FILTER (WHERE o.gas = 'N2O'), MIN(o.match_level) FILTER (WHERE o.gas = 'N2O'), MIN(o.factor_set) FILTER (WHERE o.gas = 'N2O'),
       MIN(o.gas_kg) FILTER (WHERE o.gas = 'total_minus_gases'), MIN(o.gwp) FILTER (WHERE o.gas = 'total_minus_gases'), MIN(o.co2e_kg) FILTER (WHERE o.gas = 'total_minus_gases'),
       MIN(o.factor_ids) FILTER (WHERE o.gas = 'total_minus_gases'), MIN(o.match_level) FILTER (WHERE o.gas = 'total_minus_gases'), MIN(o.factor_set) FILTER (WHERE o.gas = 'total_minus_gases'),
       MIN(o.gas_kg) FILTER (WHERE o.gas = 'CO2_biogenic'), MIN(o.gwp) FILTER (WHERE o.gas = 'CO2_biogenic'), MIN(o.co2e_kg) FILTER (WHERE o.gas = 'CO2_biogenic'),
       MIN(o.factor_ids) FILTER (WHERE o.gas = 'CO2_biogenic'), MIN(o.match_level) FILTER (WHERE o.gas = 'CO2_biogenic'), MIN(o.factor_set) FILTER (WHERE o.gas = 'CO2_biogenic')
FROM ccf.result AS o
GROUP BY o.run_id, o.methodology_id, o.activity_id, o.entity, o.period_start, o.rule_id, o.unit_conversion,
         o.instrument_id, o.data_quality;

DO $$
DECLARE
  gas_rows BIGINT;
  regrouped BIGINT;
BEGIN
  SELECT COUNT(*) INTO gas_rows FROM ccf.result;
  SELECT COUNT(*) INTO regrouped FROM ccf.result_row AS r
    CROSS JOIN LATERAL (VALUES (r.co2e_co2e_kg), (r.co2_co2e_kg), (r.ch4_co2e_kg), (r.n2o_co2e_kg),
                               (r.total_minus_gases_co2e_kg), (r.co2_biogenic_co2e_kg)) AS g (co2e_kg)
    WHERE g.co2e_kg IS NOT NULL;
  IF gas_rows <> regrouped THEN
    RAISE EXCEPTION 'ccf.result: % rows, but % after regrouping per activity row (two parts of one row alike?)', gas_rows, regrouped;
  END IF;
END
$$;

DROP VIEW ccf.result_provenance;
DROP TABLE ccf.result;

-- As ccf.result was (0005): appended run by run, so a BRIN index finds a run's rows.
CREATE INDEX result_row_run_brin ON ccf.result_row USING BRIN (run_id);

-- Per gas, in ir.GAS_ORDER, the columns ccf.result had, in its order.
CREATE VIEW ccf.result AS
SELECT r.run_id, r.methodology_id, r.activity_id, r.entity, r.period_start, r.rule_id, g.gas, g.gas_kg, g.gwp,
       g.co2e_kg, g.factor_ids, g.match_level, r.unit_conversion, r.instrument_id, g.factor_set, r.data_quality
FROM ccf.result_row AS r
CROSS JOIN LATERAL (
  VALUES
    ('CO2e', r.co2e_kg, r.co2e_gwp, r.co2e_co2e_kg, r.co2e_factor_ids, r.co2e_match_level, r.co2e_factor_set),
    ('CO2', r.co2_kg, r.co2_gwp, r.co2_co2e_kg, r.co2_factor_ids, r.co2_match_level, r.co2_factor_set),
    ('CH4', r.ch4_kg, r.ch4_gwp, r.ch4_co2e_kg, r.ch4_factor_ids, r.ch4_match_level, r.ch4_factor_set),
    ('N2O', r.n2o_kg, r.n2o_gwp, r.n2o_co2e_kg, r.n2o_factor_ids, r.n2o_match_level, r.n2o_factor_set),
    ('total_minus_gases', r.total_minus_gases_kg, r.total_minus_gases_gwp, r.total_minus_gases_co2e_kg, r.total_minus_gases_factor_ids, r.total_minus_gases_match_level, r.total_minus_gases_factor_set),
    ('CO2_biogenic', r.co2_biogenic_kg, r.co2_biogenic_gwp, r.co2_biogenic_co2e_kg, r.co2_biogenic_factor_ids, r.co2_biogenic_match_level, r.co2_biogenic_factor_set)
) AS g (gas, gas_kg, gwp, co2e_kg, factor_ids, match_level, factor_set)
WHERE g.co2e_kg IS NOT NULL;

-- As in 0018, over the view.
CREATE VIEW ccf.result_provenance AS
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

-- A run appends its own rows only (0015): the same policies as every run table.
ALTER TABLE ccf.result_row ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_every_run ON ccf.result_row FOR SELECT USING (true);
CREATE POLICY append_to_the_run_in_progress ON ccf.result_row FOR INSERT
  WITH CHECK (run_id IN (SELECT r.run_id FROM ccf.run AS r WHERE r.finished_at IS NULL));

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ccf_runner') THEN
    GRANT SELECT, INSERT ON ccf.result_row TO ccf_runner;
    GRANT SELECT ON ccf.result, ccf.result_provenance TO ccf_runner;
  END IF;
END
$$;
