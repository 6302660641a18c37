-- ccf compiled SQL for scope3.cat10.processing_of_sold_products.site_specific@1.0.0 (published)
-- Scope 3 category 10 processing of sold products, site-specific method
-- content hash sha256:59b3232439e99c649894819a8141fa496e3bac05392f2fc2cb04a7eb303a2974
-- activity type downstream_processing; factor set desnz; GWP AR5
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
    a.product,
    a.processor,
    a.fuel,
    a.energy * unit_energy.factor AS energy,
    a.country,
    a.factor_per_kwh,
    a.waste_type,
    a.treatment,
    a.waste_mass * unit_waste_mass.factor AS waste_mass,
    a.factor_per_kg,
    a.reported_emissions * unit_reported_emissions.factor AS reported_emissions,
    a.share * 0.01 AS share,
    CONCAT_WS('; ', unit_energy.note, unit_waste_mass.note, unit_reported_emissions.note) AS unit_conversion,
    a.energy * unit_energy.x1_360000000 AS energy__x1_360000000
  FROM ccf.activity_downstream_processing AS a
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'energy Btu→kWh ×52752792631/180000000000000', NULL),
    ('GJ', 1000000000, 'energy GJ→kWh ×2500/9', NULL),
    ('GWh', 3600000000000, 'energy GWh→kWh ×1000000', 10000),
    ('J', 1, 'energy J→kWh ×1/3600000', NULL),
    ('MJ', 1000000, 'energy MJ→kWh ×5/18', NULL),
    ('MWh', 3600000000, 'energy MWh→kWh ×1000', 10),
    ('TJ', 1000000000000, 'energy TJ→kWh ×2500000/9', NULL),
    ('Wh', 3600, 'energy Wh→kWh ×0.001', 0.00001),
    ('kJ', 1000, 'energy kJ→kWh ×1/3600', NULL),
    ('kWh', 3600000, 'energy in kWh', 0.01),
    ('mmBtu', 1055055852.62, 'energy mmBtu→kWh ×52752792631/180000000', NULL),
    ('therm', 105505585.257348, 'energy therm→kWh ×29.30710701593', NULL),
    ('therm_US', 105480400, 'energy therm_US→kWh ×263701/9000', NULL)) AS unit_energy("unit", factor, note, x1_360000000)
    ON unit_energy."unit" = a.energy_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'waste_mass g→kg ×0.001'),
    ('kg', 1, 'waste_mass in kg'),
    ('lb', 0.45359237, 'waste_mass lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'waste_mass long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'waste_mass short_ton→kg ×907.18474'),
    ('t', 1000, 'waste_mass t→kg ×1000'),
    ('tonne', 1000, 'waste_mass tonne→kg ×1000'),
    ('tonnes', 1000, 'waste_mass tonnes→kg ×1000')) AS unit_waste_mass("unit", factor, note)
    ON unit_waste_mass."unit" = a.waste_mass_unit
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'reported_emissions gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'reported_emissions in kgCO2e'),
    ('tCO2e', 1000, 'reported_emissions tCO2e→kgCO2e ×1000')) AS unit_reported_emissions("unit", factor, note)
    ON unit_reported_emissions."unit" = a.reported_emissions_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
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
), factor_disposal_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 't' THEN f."value" ELSE ccf.div(f."value" * 1000, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 't' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 't'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Waste disposal'
), factor_disposal AS MATERIALIZED (
  SELECT
    key_level3,
    key_column_text,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_disposal_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3,
    key_column_text
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_fuel_per_kwh.co2e AS fuel_per_kwh__co2e,
    f_fuel_per_kwh.co2e_id AS fuel_per_kwh__co2e_id,
    f_fuel_per_kwh.co2e_n AS fuel_per_kwh__co2e_n,
    f_fuel_per_kwh.co2e_level AS fuel_per_kwh__co2e_level,
    a.fuel AS fuel_per_kwh__key_level3,
    f_grid.co2e AS grid__co2e,
    f_grid.co2e_id AS grid__co2e_id,
    f_grid.co2e_n AS grid__co2e_n,
    f_grid.co2e_level AS grid__co2e_level,
    a.country AS grid__key_region,
    f_disposal.co2e AS disposal__co2e,
    f_disposal.co2e_id AS disposal__co2e_id,
    f_disposal.co2e_n AS disposal__co2e_n,
    f_disposal.co2e_level AS disposal__co2e_level,
    a.waste_type AS disposal__key_level3,
    a.treatment AS disposal__key_column_text
  FROM activity AS a
  LEFT JOIN factor_fuel_per_kwh AS f_fuel_per_kwh
    ON a.fuel = f_fuel_per_kwh.key_level3
  LEFT JOIN factor_grid AS f_grid
    ON a.country = f_grid.key_region
  LEFT JOIN factor_disposal AS f_disposal
    ON a.waste_type = f_disposal.key_level3 AND a.treatment = f_disposal.key_column_text
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        (
          (
            j.energy = 0
          ) OR (
            j.waste_mass = 0
          )
        )
        OR (
          j.reported_emissions = 0
        )
      )
      OR (
        j.share = 0
      )
      THEN 1 /* rule nothing_processed */
      WHEN NOT j.reported_emissions IS NULL
      THEN 2 /* rule reported */
      WHEN (
        NOT j.energy IS NULL
      ) AND (
        NOT j.factor_per_kwh IS NULL
      )
      THEN 3 /* rule energy_own_factor */
      WHEN (
        NOT j.energy IS NULL
      ) AND (
        NOT j.fuel IS NULL
      )
      THEN 4 /* rule fuel */
      WHEN NOT j.energy IS NULL
      THEN 5 /* rule electricity */
      WHEN (
        NOT j.waste_mass IS NULL
      ) AND (
        NOT j.factor_per_kg IS NULL
      )
      THEN 6 /* rule waste_own_factor */
      WHEN NOT j.waste_mass IS NULL
      THEN 7 /* rule waste */
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
      THEN 'nothing_processed'
      WHEN 2
      THEN 'reported'
      WHEN 3
      THEN 'energy_own_factor'
      WHEN 4
      THEN 'fuel'
      WHEN 5
      THEN 'electricity'
      WHEN 6
      THEN 'waste_own_factor'
      WHEN 7
      THEN 'waste'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'nothing consumed, produced or emitted for the organisation''s product'
    END AS exclude_reason,
    r.data_quality,
    r.fuel_per_kwh__co2e_n,
    r.fuel_per_kwh__key_level3,
    r.grid__co2e_n,
    r.grid__key_region,
    r.disposal__co2e_n,
    r.disposal__key_level3,
    r.disposal__key_column_text,
    CASE r.rule_no
      WHEN 2
      THEN (
        r.reported_emissions * COALESCE(r.share * 100, 100 /* parameter whole */)
      ) * 0.01
      WHEN 3
      THEN CASE
        WHEN r.energy__x1_360000000 IS NULL
        THEN ccf.div(
          (
            (
              r.energy * r.factor_per_kwh
            ) * CAST(1 AS DECIMAL)
          ) * COALESCE(r.share * 100, 100 /* parameter whole */),
          360000000
        )
        ELSE ROUND(
          r.energy__x1_360000000 * r.factor_per_kwh * CAST(1 AS DECIMAL) * COALESCE(r.share * 100, 100 /* parameter whole */),
          20
        )
      END
      WHEN 4
      THEN CASE
        WHEN r.energy__x1_360000000 IS NULL
        THEN ccf.div(
          (
            r.energy * r.fuel_per_kwh__co2e
          ) * COALESCE(r.share * 100, 100 /* parameter whole */),
          360000000
        )
        ELSE ROUND(
          r.energy__x1_360000000 * r.fuel_per_kwh__co2e * COALESCE(r.share * 100, 100 /* parameter whole */),
          20
        )
      END
      WHEN 5
      THEN CASE
        WHEN r.energy__x1_360000000 IS NULL
        THEN ccf.div(
          (
            r.energy * r.grid__co2e
          ) * COALESCE(r.share * 100, 100 /* parameter whole */),
          360000000
        )
        ELSE ROUND(
          r.energy__x1_360000000 * r.grid__co2e * COALESCE(r.share * 100, 100 /* parameter whole */),
          20
        )
      END
      WHEN 6
      THEN (
        (
          r.waste_mass * r.factor_per_kg
        ) * COALESCE(r.share * 100, 100 /* parameter whole */)
      ) * 0.01
      WHEN 7
      THEN (
        (
          r.waste_mass * r.disposal__co2e
        ) * COALESCE(r.share * 100, 100 /* parameter whole */)
      ) * 0.00001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 3
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 4
      THEN ARRAY[r.fuel_per_kwh__co2e_id]
      WHEN 5
      THEN ARRAY[r.grid__co2e_id]
      WHEN 6
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 7
      THEN ARRAY[r.disposal__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN 'no factor'
      WHEN 3
      THEN 'no factor'
      WHEN 4
      THEN r.fuel_per_kwh__co2e_level
      WHEN 5
      THEN r.grid__co2e_level
      WHEN 6
      THEN 'no factor'
      WHEN 7
      THEN r.disposal__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 2
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 3
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.fuel_per_kwh__co2e_n, 0) = 0
        THEN 'no_factor:fuel_per_kwh'
        WHEN e.fuel_per_kwh__co2e_n > 1
        THEN 'ambiguous_factor:fuel_per_kwh'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
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
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 7
      THEN CASE
        WHEN COALESCE(e.disposal__co2e_n, 0) = 0
        THEN 'no_factor:disposal'
        WHEN e.disposal__co2e_n > 1
        THEN 'ambiguous_factor:disposal'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
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
  CASE WHEN NOT c.problem IS NULL THEN c.fuel_per_kwh__key_level3 END AS fuel_per_kwh__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.grid__key_region END AS grid__key_region,
  CASE WHEN NOT c.problem IS NULL THEN c.disposal__key_level3 END AS disposal__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.disposal__key_column_text END AS disposal__key_column_text,
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
  'scope3.cat10.processing_of_sold_products.site_specific',
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
  'scope3.cat10.processing_of_sold_products.site_specific',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'nothing consumed, produced or emitted for the organisation''s product'
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
  'scope3.cat10.processing_of_sold_products.site_specific',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:fuel_per_kwh'
    THEN 'no emission factor found for lookup ''fuel_per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel_per_kwh'
    THEN 'more than one emission factor matches lookup ''fuel_per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:grid'
    THEN 'no emission factor found for lookup ''grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:grid'
    THEN 'more than one emission factor matches lookup ''grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:disposal'
    THEN 'no emission factor found for lookup ''disposal'' in desnz per t (level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.disposal__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.disposal__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:disposal'
    THEN 'more than one emission factor matches lookup ''disposal'' in desnz per t (level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.disposal__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.disposal__key_column_text || '''', '(empty)') || ')'
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
    FROM ccf.activity_downstream_processing
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
      AND activity_type = 'downstream_processing'
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
