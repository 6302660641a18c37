-- ccf compiled SQL for scope3.cat13.downstream_leased_assets.average_data@1.0.0 (published)
-- Scope 3 category 13 downstream leased assets, average-data (floor area or number of assets × an average)
-- content hash sha256:021397fe9ac7ad1c7af368a9255d62437046009fafc8dd2d933299f90ddba6c8
-- activity type leased_asset_averages; factor set desnz; GWP AR5
-- parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s
-- assumes the session settings ccf pins on each connection:
--   standard_conforming_strings=on search_path=pg_catalog DateStyle='ISO, MDY' IntervalStyle=postgres TimeZone=UTC client_encoding=UTF8 extra_float_digits=1 transform_null_equals=off statement_timeout=0 lock_timeout=0 idle_in_transaction_session_timeout=0

-- [1] evaluate
CREATE TEMPORARY TABLE ccf_eval AS
WITH activity AS NOT MATERIALIZED (
  SELECT
    a.activity_id,
    a.entity,
    a.period_start,
    a.period_end,
    a.data_quality,
    a.relationship,
    a.in_scope1_2,
    a.asset,
    a.building_type,
    a.floor_area * unit_floor_area.factor AS floor_area,
    a.emission_intensity,
    a.energy_intensity * 3600000 AS energy_intensity,
    a.carrier,
    a.country,
    a.assets,
    a.emissions_per_asset * unit_emissions_per_asset.factor AS emissions_per_asset,
    CONCAT_WS('; ', unit_floor_area.note, unit_emissions_per_asset.note) AS unit_conversion
  FROM ccf.activity_leased_asset_averages AS a
  LEFT JOIN (VALUES
    ('ft2', 0.09290304, 'floor_area ft2→m^2 ×0.09290304'),
    ('ha', 10000, 'floor_area ha→m^2 ×10000'),
    ('m2', 1, 'floor_area in m2')) AS unit_floor_area("unit", factor, note)
    ON unit_floor_area."unit" = a.floor_area_unit
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'emissions_per_asset gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'emissions_per_asset in kgCO2e'),
    ('tCO2e', 1000, 'emissions_per_asset tCO2e→kgCO2e ×1000')) AS unit_emissions_per_asset("unit", factor, note)
    ON unit_emissions_per_asset."unit" = a.emissions_per_asset_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_grid_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    a.country AS key_region
  FROM activity AS a
), factor_grid_ranked AS NOT MATERIALIZED (
  SELECT
    k.key_region,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'kWh'
      THEN f."value"
      ELSE ccf.div(f."value" * 3600000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS(
          '; ',
          CASE WHEN ra.depth > 0 THEN 'region ' || ra.ancestor || ' for ' || k.key_region END,
          CASE WHEN f."unit" <> 'kWh' THEN 'stated per ' || f."unit" END
        ),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY k.key_region, f.gas ORDER BY ra.depth, f."unit" <> 'kWh') AS fallback_rank
  FROM factor_grid_keys AS k
  CROSS JOIN LATERAL (
    SELECT
      x.ancestor,
      x.depth
    FROM ccf.region_ancestor AS x
    WHERE
      x.region = k.key_region
    UNION ALL
    SELECT
      k.key_region,
      0
    WHERE
      NOT EXISTS(
        SELECT
          1
        FROM ccf.region AS r
        WHERE
          r.code = k.key_region
      )
    UNION ALL
    SELECT
      'WORLD',
      1
    WHERE
      NOT EXISTS(
        SELECT
          1
        FROM ccf.region AS r
        WHERE
          r.code = k.key_region
      )
  ) AS ra(ancestor, depth)
  JOIN ccf.factor AS f
    ON TRUE
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'UK electricity'
    AND f.attributes ->> 'level3' = 'Electricity: UK'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_grid AS MATERIALIZED (
  SELECT
    key_region,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_grid_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
), factor_fuel_per_kwh_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'kWh'
      THEN f."value"
      ELSE ccf.div(f."value" * 3600000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'kWh' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'kWh') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'cv_basis' = 'Gross CV'
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_fuel_per_kwh AS MATERIALIZED (
  SELECT
    key_level3,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_fuel_per_kwh_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_grid.co2e AS grid__co2e,
    f_grid.co2e_id AS grid__co2e_id,
    f_grid.co2e_n AS grid__co2e_n,
    f_grid.co2e_level AS grid__co2e_level,
    a.country AS grid__key_region,
    f_fuel_per_kwh.co2e AS fuel_per_kwh__co2e,
    f_fuel_per_kwh.co2e_id AS fuel_per_kwh__co2e_id,
    f_fuel_per_kwh.co2e_n AS fuel_per_kwh__co2e_n,
    f_fuel_per_kwh.co2e_level AS fuel_per_kwh__co2e_level,
    a.carrier AS fuel_per_kwh__key_level3
  FROM activity AS a
  LEFT JOIN factor_grid AS f_grid
    ON a.country = f_grid.key_region
  LEFT JOIN factor_fuel_per_kwh AS f_fuel_per_kwh
    ON a.carrier = f_fuel_per_kwh.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.relationship <> 'lessor'
      THEN 1 /* rule other_relationship */
      WHEN j.in_scope1_2 = TRUE
      THEN 2 /* rule in_own_scope1_2 */
      WHEN (
        j.floor_area = 0
      ) OR (
        j.assets = 0
      )
      THEN 3 /* rule nothing_leased */
      WHEN (
        NOT j.floor_area IS NULL
      ) AND (
        NOT j.emission_intensity IS NULL
      )
      THEN 4 /* rule by_emission_intensity */
      WHEN (
        (
          NOT j.floor_area IS NULL
        ) AND (
          NOT j.energy_intensity IS NULL
        )
      )
      AND (
        j.carrier = 'Electricity'
      )
      THEN 5 /* rule electricity_by_intensity */
      WHEN (
        NOT j.floor_area IS NULL
      ) AND (
        NOT j.energy_intensity IS NULL
      )
      THEN 6 /* rule fuel_by_intensity */
      WHEN (
        NOT j.assets IS NULL
      ) AND (
        NOT j.emissions_per_asset IS NULL
      )
      THEN 7 /* rule per_asset */
      ELSE 0
    END AS rule_no
  FROM joined AS j
  OFFSET 0
), evaluated AS NOT MATERIALIZED (
  SELECT
    r.activity_id,
    r.entity,
    r.period_start,
    r.unit_conversion,
    r.rule_no,
    CASE r.rule_no
      WHEN 1
      THEN 'other_relationship'
      WHEN 2
      THEN 'in_own_scope1_2'
      WHEN 3
      THEN 'nothing_leased'
      WHEN 4
      THEN 'by_emission_intensity'
      WHEN 5
      THEN 'electricity_by_intensity'
      WHEN 6
      THEN 'fuel_by_intensity'
      WHEN 7
      THEN 'per_asset'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not an asset the organisation leases to others (upstream leased assets and franchises are categories 8 and 14)'
      WHEN 2
      THEN 'already in the organisation''s own Scope 1 and 2 under its consolidation approach'
      WHEN 3
      THEN 'no floor area or no assets leased to others in the period'
    END AS exclude_reason,
    r.data_quality,
    r.grid__co2e_n,
    r.grid__key_region,
    r.fuel_per_kwh__co2e_n,
    r.fuel_per_kwh__key_level3,
    CASE r.rule_no
      WHEN 4
      THEN r.floor_area * r.emission_intensity
      WHEN 5
      THEN ccf.div((
        r.floor_area * r.energy_intensity
      ) * r.grid__co2e, 3600000)
      WHEN 6
      THEN ccf.div((
        r.floor_area * r.energy_intensity
      ) * r.fuel_per_kwh__co2e, 3600000)
      WHEN 7
      THEN r.assets * r.emissions_per_asset
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN ARRAY[r.grid__co2e_id]
      WHEN 6
      THEN ARRAY[r.fuel_per_kwh__co2e_id]
      WHEN 7
      THEN CAST(ARRAY[] AS TEXT[])
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 4
      THEN 'no factor'
      WHEN 5
      THEN r.grid__co2e_level
      WHEN 6
      THEN r.fuel_per_kwh__co2e_level
      WHEN 7
      THEN 'no factor'
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 4
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.grid__co2e_n, 0) = 0
        THEN 'no_factor:grid'
        WHEN e.grid__co2e_n > 1
        THEN 'ambiguous_factor:grid'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.fuel_per_kwh__co2e_n, 0) = 0
        THEN 'no_factor:fuel_per_kwh'
        WHEN e.fuel_per_kwh__co2e_n > 1
        THEN 'ambiguous_factor:fuel_per_kwh'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 7
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
    END AS problem
  FROM evaluated AS e
  OFFSET 0
)
SELECT
  CASE
    WHEN c.rule_no = 0
    THEN 'unmatched'
    WHEN NOT c.exclude_reason IS NULL
    THEN 'excluded'
    WHEN NOT c.problem IS NULL
    THEN 'unmatched'
    ELSE 'result'
  END AS outcome,
  c.activity_id,
  c.entity,
  c.period_start,
  c.unit_conversion,
  c.rule_no,
  c.rule_id,
  c.data_quality,
  CASE WHEN NOT c.problem IS NULL THEN c.grid__key_region END AS grid__key_region,
  CASE WHEN NOT c.problem IS NULL THEN c.fuel_per_kwh__key_level3 END AS fuel_per_kwh__key_level3,
  c.co2e_co2e_kg,
  c.co2e_factor_ids,
  c.co2e_match_level,
  c.problem
FROM checked AS c;

-- [2] results
INSERT INTO ccf.result_row (
  run_id,
  methodology_id,
  activity_id,
  entity,
  period_start,
  rule_id,
  unit_conversion,
  data_quality,
  total_co2e_kg,
  co2e_co2e_kg,
  co2e_factor_ids,
  co2e_match_level
)
SELECT
  %(run_id)s,
  'scope3.cat13.downstream_leased_assets.average_data',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0),
  e.co2e_co2e_kg,
  e.co2e_factor_ids,
  e.co2e_match_level
FROM ccf_eval AS e
WHERE
  e.outcome = 'result' AND NOT e.co2e_co2e_kg IS NULL;

-- [3] excluded
INSERT INTO ccf.excluded (
  run_id,
  methodology_id,
  activity_id,
  rule_id,
  reason
)
SELECT
  %(run_id)s,
  'scope3.cat13.downstream_leased_assets.average_data',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not an asset the organisation leases to others (upstream leased assets and franchises are categories 8 and 14)'
    WHEN 2
    THEN 'already in the organisation''s own Scope 1 and 2 under its consolidation approach'
    WHEN 3
    THEN 'no floor area or no assets leased to others in the period'
  END
FROM ccf_eval AS e
WHERE
  e.outcome = 'excluded';

-- [4] unmatched
INSERT INTO ccf.unmatched (
  run_id,
  methodology_id,
  activity_id,
  rule_id,
  reason_code,
  reason
)
SELECT
  %(run_id)s,
  'scope3.cat13.downstream_leased_assets.average_data',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:grid'
    THEN 'no emission factor found for lookup ''grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:grid'
    THEN 'more than one emission factor matches lookup ''grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:fuel_per_kwh'
    THEN 'no emission factor found for lookup ''fuel_per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel_per_kwh'
    THEN 'more than one emission factor matches lookup ''fuel_per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_kwh__key_level3 || '''', '(empty)') || ')'
    ELSE e.problem
  END
FROM ccf_eval AS e
WHERE
  e.outcome = 'unmatched';

-- [5] reconcile
SELECT
  (
    SELECT
      COUNT(*)
    FROM ccf.activity_leased_asset_averages
    WHERE
      dataset = %(dataset)s AND load_id = ANY(
        CAST(%(loads)s AS BIGINT[])
      )
  ) AS rows_in,
  e.rows_result,
  e.result_rows,
  (
    SELECT
      COUNT(*)
    FROM ccf.rejected
    WHERE
      (
        dataset = %(dataset)s AND load_id = ANY(
          CAST(%(loads)s AS BIGINT[])
        )
      )
      AND activity_type = 'leased_asset_averages'
  ) AS rows_rejected,
  e.co2e_co2e_kg
FROM (
  SELECT
    COUNT(*) AS rows_result,
    COUNT(*) AS result_rows,
    SUM(co2e_co2e_kg) AS co2e_co2e_kg
  FROM ccf_eval
  WHERE
    outcome = 'result'
) AS e;

-- [6] cleanup
DROP TABLE IF EXISTS ccf_eval;
