-- ccf compiled SQL for scope3.cat6.business_travel@1.0.0 (published)
-- Scope 3 category 6 business travel, distance-based
-- content hash sha256:d96fb5fb889961177f8c76b0bd25ea9c0cf251e8e9d1d20714239ecdcb0ac412
-- activity type business_travel; factor set desnz-2024; GWP AR5
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
    a.mode,
    a.service,
    a.cabin_class,
    a.fuel,
    a.distance * unit_distance.factor AS distance,
    a.travellers,
    COALESCE(unit_distance.note, '') AS unit_conversion
  FROM ccf.activity_business_travel AS a
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
), factor_flight_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'level4' AS key_level4,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'passenger.km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'passenger.km' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level3', f.attributes ->> 'level4', f.gas
      ORDER BY f."unit" <> 'passenger.km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'column_text' = 'Without RF'
    AND f.attributes ->> 'level1' = 'Business travel- air'
    AND f.attributes ->> 'level2' = 'Flights'
), factor_flight AS MATERIALIZED (
  SELECT
    key_level3,
    key_level4,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_flight_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3,
    key_level4
), factor_land_passenger_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level2' AS key_level2,
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'passenger.km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'passenger.km' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level2', f.attributes ->> 'level3', f.gas
      ORDER BY f."unit" <> 'passenger.km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Business travel- land'
), factor_land_passenger AS MATERIALIZED (
  SELECT
    key_level2,
    key_level3,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_land_passenger_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level2,
    key_level3
), factor_ferry_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'passenger.km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'passenger.km' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'passenger.km') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Business travel- sea'
    AND f.attributes ->> 'level2' = 'Ferry'
), factor_ferry AS MATERIALIZED (
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
  FROM factor_ferry_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_car_ranked AS NOT MATERIALIZED (
  SELECT
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
      PARTITION BY f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 'km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Business travel- land'
    AND f.attributes ->> 'level2' = 'Cars (by size)'
), factor_car AS MATERIALIZED (
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
  FROM factor_car_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3,
    key_column_text
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_flight.co2e AS flight__co2e,
    f_flight.co2e_id AS flight__co2e_id,
    f_flight.co2e_n AS flight__co2e_n,
    f_flight.co2e_level AS flight__co2e_level,
    a.service AS flight__key_level3,
    COALESCE(a.cabin_class, 'Average passenger') AS flight__key_level4,
    f_land_passenger.co2e AS land_passenger__co2e,
    f_land_passenger.co2e_id AS land_passenger__co2e_id,
    f_land_passenger.co2e_n AS land_passenger__co2e_n,
    f_land_passenger.co2e_level AS land_passenger__co2e_level,
    CASE
      WHEN a.mode = 'rail'
      THEN 'Rail'
      ELSE CASE WHEN a.mode = 'bus' THEN 'Bus' ELSE 'Taxis' END
    END AS land_passenger__key_level2,
    a.service AS land_passenger__key_level3,
    f_ferry.co2e AS ferry__co2e,
    f_ferry.co2e_id AS ferry__co2e_id,
    f_ferry.co2e_n AS ferry__co2e_n,
    f_ferry.co2e_level AS ferry__co2e_level,
    COALESCE(a.service, 'Average (all passenger)') AS ferry__key_level3,
    f_car.co2e AS car__co2e,
    f_car.co2e_id AS car__co2e_id,
    f_car.co2e_n AS car__co2e_n,
    f_car.co2e_level AS car__co2e_level,
    COALESCE(a.service, 'Average car') AS car__key_level3,
    COALESCE(a.fuel, 'Unknown') AS car__key_column_text
  FROM activity AS a
  LEFT JOIN factor_flight AS f_flight
    ON a.service = f_flight.key_level3
    AND COALESCE(a.cabin_class, 'Average passenger') = f_flight.key_level4
  LEFT JOIN factor_land_passenger AS f_land_passenger
    ON CASE
      WHEN a.mode = 'rail'
      THEN 'Rail'
      ELSE CASE WHEN a.mode = 'bus' THEN 'Bus' ELSE 'Taxis' END
    END = f_land_passenger.key_level2
    AND a.service = f_land_passenger.key_level3
  LEFT JOIN factor_ferry AS f_ferry
    ON COALESCE(a.service, 'Average (all passenger)') = f_ferry.key_level3
  LEFT JOIN factor_car AS f_car
    ON COALESCE(a.service, 'Average car') = f_car.key_level3
    AND COALESCE(a.fuel, 'Unknown') = f_car.key_column_text
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.distance = 0
      THEN 1 /* rule no_distance */
      WHEN j.mode = 'air'
      THEN 2 /* rule air */
      WHEN j.mode IN ('rail', 'bus', 'taxi')
      THEN 3 /* rule rail_bus_taxi */
      WHEN j.mode = 'ferry'
      THEN 4 /* rule ferry */
      WHEN j.mode = 'car'
      THEN 5 /* rule car */
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
      THEN 'no_distance'
      WHEN 2
      THEN 'air'
      WHEN 3
      THEN 'rail_bus_taxi'
      WHEN 4
      THEN 'ferry'
      WHEN 5
      THEN 'car'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'journey with no distance (cancelled or refunded booking)'
    END AS exclude_reason,
    r.data_quality,
    r.flight__co2e_n,
    r.flight__key_level3,
    r.flight__key_level4,
    r.land_passenger__co2e_n,
    r.land_passenger__key_level2,
    r.land_passenger__key_level3,
    r.ferry__co2e_n,
    r.ferry__key_level3,
    r.car__co2e_n,
    r.car__key_level3,
    r.car__key_column_text,
    CASE r.rule_no
      WHEN 2
      THEN (
        (
          r.distance * COALESCE(r.travellers, 1 /* parameter default_travellers */)
        ) * r.flight__co2e
      ) * 0.001
      WHEN 3
      THEN (
        (
          r.distance * COALESCE(r.travellers, 1 /* parameter default_travellers */)
        ) * r.land_passenger__co2e
      ) * 0.001
      WHEN 4
      THEN (
        (
          r.distance * COALESCE(r.travellers, 1 /* parameter default_travellers */)
        ) * r.ferry__co2e
      ) * 0.001
      WHEN 5
      THEN (
        r.distance * r.car__co2e
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.flight__co2e_id
      WHEN 3
      THEN r.land_passenger__co2e_id
      WHEN 4
      THEN r.ferry__co2e_id
      WHEN 5
      THEN r.car__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.flight__co2e_level
      WHEN 3
      THEN r.land_passenger__co2e_level
      WHEN 4
      THEN r.ferry__co2e_level
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
      THEN CASE
        WHEN COALESCE(e.flight__co2e_n, 0) = 0
        THEN 'no_factor:flight'
        WHEN e.flight__co2e_n > 1
        THEN 'ambiguous_factor:flight'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 3
      THEN CASE
        WHEN COALESCE(e.land_passenger__co2e_n, 0) = 0
        THEN 'no_factor:land_passenger'
        WHEN e.land_passenger__co2e_n > 1
        THEN 'ambiguous_factor:land_passenger'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.ferry__co2e_n, 0) = 0
        THEN 'no_factor:ferry'
        WHEN e.ferry__co2e_n > 1
        THEN 'ambiguous_factor:ferry'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
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
  CASE WHEN NOT c.problem IS NULL THEN c.flight__key_level3 END AS flight__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.flight__key_level4 END AS flight__key_level4,
  CASE WHEN NOT c.problem IS NULL THEN c.land_passenger__key_level2 END AS land_passenger__key_level2,
  CASE WHEN NOT c.problem IS NULL THEN c.land_passenger__key_level3 END AS land_passenger__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.ferry__key_level3 END AS ferry__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_level3 END AS car__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_column_text END AS car__key_column_text,
  c.co2e_co2e_kg,
  c.co2e_factor_id,
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
  'scope3.cat6.business_travel',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0),
  e.co2e_co2e_kg,
  CASE WHEN NOT e.co2e_co2e_kg IS NULL THEN ARRAY[e.co2e_factor_id] END,
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
  'scope3.cat6.business_travel',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'journey with no distance (cancelled or refunded booking)'
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
  'scope3.cat6.business_travel',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:flight'
    THEN 'no emission factor found for lookup ''flight'' in desnz-2024 per passenger.km (column_text = ''Without RF'', level1 = ''Business travel- air'', level2 = ''Flights''' || ', level3 = ' || COALESCE('''' || e.flight__key_level3 || '''', '(empty)') || ', level4 = ' || COALESCE('''' || e.flight__key_level4 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:flight'
    THEN 'more than one emission factor matches lookup ''flight'' in desnz-2024 per passenger.km (column_text = ''Without RF'', level1 = ''Business travel- air'', level2 = ''Flights''' || ', level3 = ' || COALESCE('''' || e.flight__key_level3 || '''', '(empty)') || ', level4 = ' || COALESCE('''' || e.flight__key_level4 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:land_passenger'
    THEN 'no emission factor found for lookup ''land_passenger'' in desnz-2024 per passenger.km (level1 = ''Business travel- land''' || ', level2 = ' || COALESCE('''' || e.land_passenger__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.land_passenger__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:land_passenger'
    THEN 'more than one emission factor matches lookup ''land_passenger'' in desnz-2024 per passenger.km (level1 = ''Business travel- land''' || ', level2 = ' || COALESCE('''' || e.land_passenger__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.land_passenger__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:ferry'
    THEN 'no emission factor found for lookup ''ferry'' in desnz-2024 per passenger.km (level1 = ''Business travel- sea'', level2 = ''Ferry''' || ', level3 = ' || COALESCE('''' || e.ferry__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:ferry'
    THEN 'more than one emission factor matches lookup ''ferry'' in desnz-2024 per passenger.km (level1 = ''Business travel- sea'', level2 = ''Ferry''' || ', level3 = ' || COALESCE('''' || e.ferry__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:car'
    THEN 'no emission factor found for lookup ''car'' in desnz-2024 per km (level1 = ''Business travel- land'', level2 = ''Cars (by size)''' || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:car'
    THEN 'more than one emission factor matches lookup ''car'' in desnz-2024 per km (level1 = ''Business travel- land'', level2 = ''Cars (by size)''' || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
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
    FROM ccf.activity_business_travel
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
      AND activity_type = 'business_travel'
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
