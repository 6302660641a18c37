-- ccf compiled SQL for scope3.cat15.investments.pcaf_motor_vehicle_loans@1.0.0 (published)
-- Scope 3 category 15 investments, PCAF motor vehicle loans (outstanding / vehicle value at origination × vehicle emissions)
-- content hash sha256:bbd14b3ecafcc7528f2dd94e2814bdb595557ada20bbecd24b5d6a001eb13d91
-- activity type financed_vehicles; factor set desnz-2024; GWP AR5
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
    a.vehicle,
    a.outstanding_amount,
    a.vehicle_value_at_origination,
    a.currency,
    a.vehicle_emissions * unit_vehicle_emissions.factor AS vehicle_emissions,
    a.fuel,
    a.fuel_used * unit_fuel_used.factor AS fuel_used,
    a.vehicle_class,
    a.powertrain,
    a.distance * unit_distance.factor AS distance,
    a.distance_factor,
    CONCAT_WS('; ', unit_vehicle_emissions.note, unit_fuel_used.note, unit_distance.note) AS unit_conversion
  FROM ccf.activity_financed_vehicles AS a
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'vehicle_emissions gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'vehicle_emissions in kgCO2e'),
    ('tCO2e', 1000, 'vehicle_emissions tCO2e→kgCO2e ×1000')) AS unit_vehicle_emissions("unit", factor, note)
    ON unit_vehicle_emissions."unit" = a.vehicle_emissions_unit
  LEFT JOIN (VALUES
    ('L', 0.001, 'fuel_used in L'),
    ('gal_UK', 0.00454609, 'fuel_used gal_UK→L ×4.54609'),
    ('gal_US', 0.003785411784, 'fuel_used gal_US→L ×3.785411784'),
    ('litre', 0.001, 'fuel_used in litre'),
    ('litres', 0.001, 'fuel_used in litres'),
    ('m3', 1, 'fuel_used m3→L ×1000'),
    ('megalitre', 1000, 'fuel_used megalitre→L ×1000000'),
    ('scf', 0.028316846592, 'fuel_used scf→L ×28.316846592')) AS unit_fuel_used("unit", factor, note)
    ON unit_fuel_used."unit" = a.fuel_used_unit
  LEFT JOIN (VALUES
    ('cm', 0.01, 'distance cm→km ×0.00001'),
    ('km', 1000, 'distance in km'),
    ('m', 1, 'distance m→km ×0.001'),
    ('mile', 1609.344, 'distance mile→km ×1.609344'),
    ('miles', 1609.344, 'distance miles→km ×1.609344'),
    ('nmi', 1852, 'distance nmi→km ×1.852')) AS unit_distance("unit", factor, note)
    ON unit_distance."unit" = a.distance_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_per_litre_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'L'
      THEN f."value"
      ELSE ccf.div(f."value" * 0.001, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'L' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'L') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^3'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_per_litre AS MATERIALIZED (
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
  FROM factor_per_litre_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_car_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level2' AS key_level2,
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'km' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level2', f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 'km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Passenger vehicles'
), factor_car AS MATERIALIZED (
  SELECT
    key_level2,
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
  FROM factor_car_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level2,
    key_level3,
    key_column_text
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_per_litre.co2e AS per_litre__co2e,
    f_per_litre.co2e_id AS per_litre__co2e_id,
    f_per_litre.co2e_n AS per_litre__co2e_n,
    f_per_litre.co2e_level AS per_litre__co2e_level,
    a.fuel AS per_litre__key_level3,
    f_car.co2e AS car__co2e,
    f_car.co2e_id AS car__co2e_id,
    f_car.co2e_n AS car__co2e_n,
    f_car.co2e_level AS car__co2e_level,
    CASE
      WHEN a.vehicle_class IN (
        'Mini',
        'Supermini',
        'Lower medium',
        'Upper medium',
        'Executive',
        'Luxury',
        'Sports',
        'Dual purpose 4X4',
        'MPV'
      )
      THEN 'Cars (by market segment)'
      ELSE 'Cars (by size)'
    END AS car__key_level2,
    COALESCE(a.vehicle_class, 'Average car') AS car__key_level3,
    COALESCE(a.powertrain, 'Unknown') AS car__key_column_text
  FROM activity AS a
  LEFT JOIN factor_per_litre AS f_per_litre
    ON a.fuel = f_per_litre.key_level3
  LEFT JOIN factor_car AS f_car
    ON CASE
      WHEN a.vehicle_class IN (
        'Mini',
        'Supermini',
        'Lower medium',
        'Upper medium',
        'Executive',
        'Luxury',
        'Sports',
        'Dual purpose 4X4',
        'MPV'
      )
      THEN 'Cars (by market segment)'
      ELSE 'Cars (by size)'
    END = f_car.key_level2
    AND COALESCE(a.vehicle_class, 'Average car') = f_car.key_level3
    AND COALESCE(a.powertrain, 'Unknown') = f_car.key_column_text
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.outstanding_amount = 0
      THEN 1 /* rule repaid */
      WHEN NOT j.vehicle_emissions IS NULL
      THEN 2 /* rule reported_emissions */
      WHEN NOT j.fuel_used IS NULL
      THEN 3 /* rule fuel_used */
      WHEN (
        NOT j.distance IS NULL
      ) AND (
        NOT j.distance_factor IS NULL
      )
      THEN 4 /* rule distance_own_factor */
      WHEN NOT j.distance IS NULL
      THEN 5 /* rule distance */
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
      THEN 'repaid'
      WHEN 2
      THEN 'reported_emissions'
      WHEN 3
      THEN 'fuel_used'
      WHEN 4
      THEN 'distance_own_factor'
      WHEN 5
      THEN 'distance'
    END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'nothing outstanding at the end of the period' END AS exclude_reason,
    r.data_quality,
    r.per_litre__co2e_n,
    r.per_litre__key_level3,
    r.car__co2e_n,
    r.car__key_level2,
    r.car__key_level3,
    r.car__key_column_text,
    CASE r.rule_no
      WHEN 2
      THEN r.vehicle_emissions * ccf.div(r.outstanding_amount, r.vehicle_value_at_origination)
      WHEN 3
      THEN (
        (
          r.fuel_used * r.per_litre__co2e
        ) * ccf.div(r.outstanding_amount, r.vehicle_value_at_origination)
      ) * 1000
      WHEN 4
      THEN (
        (
          (
            r.distance * r.distance_factor
          ) * CAST(1 AS DECIMAL)
        ) * ccf.div(r.outstanding_amount, r.vehicle_value_at_origination)
      ) * 0.001
      WHEN 5
      THEN (
        (
          r.distance * r.car__co2e
        ) * ccf.div(r.outstanding_amount, r.vehicle_value_at_origination)
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 3
      THEN ARRAY[r.per_litre__co2e_id]
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN ARRAY[r.car__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN 'no factor'
      WHEN 3
      THEN r.per_litre__co2e_level
      WHEN 4
      THEN 'no factor'
      WHEN 5
      THEN r.car__co2e_level
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
      THEN CASE
        WHEN COALESCE(e.per_litre__co2e_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__co2e_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 4
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.car__co2e_n, 0) = 0
        THEN 'no_factor:car'
        WHEN e.car__co2e_n > 1
        THEN 'ambiguous_factor:car'
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
  CASE WHEN NOT c.problem IS NULL THEN c.per_litre__key_level3 END AS per_litre__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_level2 END AS car__key_level2,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_level3 END AS car__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_column_text END AS car__key_column_text,
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
  'scope3.cat15.investments.pcaf_motor_vehicle_loans',
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
  'scope3.cat15.investments.pcaf_motor_vehicle_loans',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'nothing outstanding at the end of the period' END
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
  'scope3.cat15.investments.pcaf_motor_vehicle_loans',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:per_litre'
    THEN 'no emission factor found for lookup ''per_litre'' in desnz-2024 per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_litre'
    THEN 'more than one emission factor matches lookup ''per_litre'' in desnz-2024 per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:car'
    THEN 'no emission factor found for lookup ''car'' in desnz-2024 per km (level1 = ''Passenger vehicles''' || ', level2 = ' || COALESCE('''' || e.car__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:car'
    THEN 'more than one emission factor matches lookup ''car'' in desnz-2024 per km (level1 = ''Passenger vehicles''' || ', level2 = ' || COALESCE('''' || e.car__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
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
    FROM ccf.activity_financed_vehicles
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
      AND activity_type = 'financed_vehicles'
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
