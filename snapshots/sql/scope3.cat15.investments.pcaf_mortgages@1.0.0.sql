-- ccf compiled SQL for scope3.cat15.investments.pcaf_mortgages@1.0.0 (published)
-- Scope 3 category 15 investments, PCAF mortgages (outstanding / property value at origination × building emissions)
-- content hash sha256:24e6267fe9becbacc2f62ceb56503e3fdd031ad42711029f22d54e686fcd9d82
-- activity type financed_buildings; factor set desnz-2024; GWP AR5
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
    a.property,
    a.asset_class,
    a.outstanding_amount,
    a.property_value_at_origination,
    a.currency,
    a.country,
    a.building_emissions * unit_building_emissions.factor AS building_emissions,
    a.carrier,
    a.energy * unit_energy.factor AS energy,
    a.energy_factor,
    a.floor_area * unit_floor_area.factor AS floor_area,
    a.emission_intensity,
    CONCAT_WS('; ', unit_building_emissions.note, unit_energy.note, unit_floor_area.note) AS unit_conversion,
    a.energy * unit_energy.x1_3600000 AS energy__x1_3600000
  FROM ccf.activity_financed_buildings AS a
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'building_emissions gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'building_emissions in kgCO2e'),
    ('tCO2e', 1000, 'building_emissions tCO2e→kgCO2e ×1000')) AS unit_building_emissions("unit", factor, note)
    ON unit_building_emissions."unit" = a.building_emissions_unit
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'energy Btu→kWh ×52752792631/180000000000000', NULL),
    ('GJ', 1000000000, 'energy GJ→kWh ×2500/9', NULL),
    ('GWh', 3600000000000, 'energy GWh→kWh ×1000000', 1000000),
    ('J', 1, 'energy J→kWh ×1/3600000', NULL),
    ('MJ', 1000000, 'energy MJ→kWh ×5/18', NULL),
    ('MWh', 3600000000, 'energy MWh→kWh ×1000', 1000),
    ('TJ', 1000000000000, 'energy TJ→kWh ×2500000/9', NULL),
    ('Wh', 3600, 'energy Wh→kWh ×0.001', 0.001),
    ('kJ', 1000, 'energy kJ→kWh ×1/3600', NULL),
    ('kWh', 3600000, 'energy in kWh', 1),
    ('mmBtu', 1055055852.62, 'energy mmBtu→kWh ×52752792631/180000000', NULL),
    ('therm', 105505585.257348, 'energy therm→kWh ×29.30710701593', NULL),
    ('therm_US', 105480400, 'energy therm_US→kWh ×263701/9000', NULL)) AS unit_energy("unit", factor, note, x1_3600000)
    ON unit_energy."unit" = a.energy_unit
  LEFT JOIN (VALUES
    ('ft2', 0.09290304, 'floor_area ft2→m^2 ×0.09290304'),
    ('ha', 10000, 'floor_area ha→m^2 ×10000'),
    ('m2', 1, 'floor_area in m2')) AS unit_floor_area("unit", factor, note)
    ON unit_floor_area."unit" = a.floor_area_unit
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
), factor_fuel_ranked AS NOT MATERIALIZED (
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
), factor_fuel AS MATERIALIZED (
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
  FROM factor_fuel_ranked
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
    f_fuel.co2e AS fuel__co2e,
    f_fuel.co2e_id AS fuel__co2e_id,
    f_fuel.co2e_n AS fuel__co2e_n,
    f_fuel.co2e_level AS fuel__co2e_level,
    a.carrier AS fuel__key_level3
  FROM activity AS a
  LEFT JOIN factor_grid AS f_grid
    ON a.country = f_grid.key_region
  LEFT JOIN factor_fuel AS f_fuel
    ON a.carrier = f_fuel.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.asset_class <> 'mortgage'
      THEN 1 /* rule other_asset_class */
      WHEN j.outstanding_amount = 0
      THEN 2 /* rule repaid */
      WHEN NOT j.building_emissions IS NULL
      THEN 3 /* rule reported_emissions */
      WHEN (
        NOT j.energy IS NULL
      ) AND (
        NOT j.energy_factor IS NULL
      )
      THEN 4 /* rule energy_own_factor */
      WHEN (
        NOT j.energy IS NULL
      ) AND (
        j.carrier = 'Electricity'
      )
      THEN 5 /* rule grid_electricity */
      WHEN NOT j.energy IS NULL
      THEN 6 /* rule fuel */
      WHEN NOT j.floor_area IS NULL
      THEN 7 /* rule floor_area_estimate */
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
      THEN 'other_asset_class'
      WHEN 2
      THEN 'repaid'
      WHEN 3
      THEN 'reported_emissions'
      WHEN 4
      THEN 'energy_own_factor'
      WHEN 5
      THEN 'grid_electricity'
      WHEN 6
      THEN 'fuel'
      WHEN 7
      THEN 'floor_area_estimate'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not a mortgage; a commercial real estate loan (scope3.cat15.investments.pcaf_commercial_real_estate)'
      WHEN 2
      THEN 'nothing outstanding at the end of the period'
    END AS exclude_reason,
    r.data_quality,
    r.grid__co2e_n,
    r.grid__key_region,
    r.fuel__co2e_n,
    r.fuel__key_level3,
    CASE r.rule_no
      WHEN 3
      THEN r.building_emissions * ccf.div(r.outstanding_amount, r.property_value_at_origination)
      WHEN 4
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(
          (
            (
              r.energy * r.energy_factor
            ) * CAST(1 AS DECIMAL)
          ) * ccf.div(r.outstanding_amount, r.property_value_at_origination),
          3600000
        )
        ELSE ROUND(
          r.energy__x1_3600000 * r.energy_factor * CAST(1 AS DECIMAL) * ccf.div(r.outstanding_amount, r.property_value_at_origination),
          20
        )
      END
      WHEN 5
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(
          (
            r.energy * r.grid__co2e
          ) * ccf.div(r.outstanding_amount, r.property_value_at_origination),
          3600000
        )
        ELSE ROUND(
          r.energy__x1_3600000 * r.grid__co2e * ccf.div(r.outstanding_amount, r.property_value_at_origination),
          20
        )
      END
      WHEN 6
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(
          (
            r.energy * r.fuel__co2e
          ) * ccf.div(r.outstanding_amount, r.property_value_at_origination),
          3600000
        )
        ELSE ROUND(
          r.energy__x1_3600000 * r.fuel__co2e * ccf.div(r.outstanding_amount, r.property_value_at_origination),
          20
        )
      END
      WHEN 7
      THEN (
        (
          r.floor_area * r.emission_intensity
        ) * CAST(1 AS DECIMAL)
      ) * ccf.div(r.outstanding_amount, r.property_value_at_origination)
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN ARRAY[r.grid__co2e_id]
      WHEN 6
      THEN ARRAY[r.fuel__co2e_id]
      WHEN 7
      THEN CAST(ARRAY[] AS TEXT[])
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 3
      THEN 'no factor'
      WHEN 4
      THEN 'no factor'
      WHEN 5
      THEN r.grid__co2e_level
      WHEN 6
      THEN r.fuel__co2e_level
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
      WHEN 3
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
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
        WHEN COALESCE(e.fuel__co2e_n, 0) = 0
        THEN 'no_factor:fuel'
        WHEN e.fuel__co2e_n > 1
        THEN 'ambiguous_factor:fuel'
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
  CASE WHEN NOT c.problem IS NULL THEN c.fuel__key_level3 END AS fuel__key_level3,
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
  'scope3.cat15.investments.pcaf_mortgages',
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
  'scope3.cat15.investments.pcaf_mortgages',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not a mortgage; a commercial real estate loan (scope3.cat15.investments.pcaf_commercial_real_estate)'
    WHEN 2
    THEN 'nothing outstanding at the end of the period'
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
  'scope3.cat15.investments.pcaf_mortgages',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:grid'
    THEN 'no emission factor found for lookup ''grid'' in desnz-2024 per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:grid'
    THEN 'more than one emission factor matches lookup ''grid'' in desnz-2024 per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:fuel'
    THEN 'no emission factor found for lookup ''fuel'' in desnz-2024 per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel'
    THEN 'more than one emission factor matches lookup ''fuel'' in desnz-2024 per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel__key_level3 || '''', '(empty)') || ')'
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
    FROM ccf.activity_financed_buildings
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
      AND activity_type = 'financed_buildings'
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
