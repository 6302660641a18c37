-- ccf compiled SQL for scope3.cat7.employee_commuting.distance_based@1.0.0 (published)
-- Scope 3 category 7 employee commuting, distance-based
-- content hash sha256:664f074798d0d893d61f5f8251b9f6b313c8499b97322dad3dfb58a86f2617aa
-- activity type commuting; factor set desnz-2024; GWP AR5
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
    a.employee,
    a.mode,
    a.service,
    a.fuel,
    a.one_way_distance * unit_one_way_distance.factor AS one_way_distance,
    a.days_per_week,
    a.weeks,
    a.annual_distance * unit_annual_distance.factor AS annual_distance,
    a.employees,
    a.car_occupants,
    a.homeworking_hours * unit_homeworking_hours.factor AS homeworking_hours,
    CONCAT_WS(
      '; ',
      unit_one_way_distance.note,
      unit_annual_distance.note,
      unit_homeworking_hours.note
    ) AS unit_conversion,
    a.homeworking_hours * unit_homeworking_hours.x1_3600 AS homeworking_hours__x1_3600
  FROM ccf.activity_commuting AS a
  LEFT JOIN (VALUES
    ('cm', 0.01, 'one_way_distance cm→km ×0.00001'),
    ('km', 1000, 'one_way_distance in km'),
    ('m', 1, 'one_way_distance m→km ×0.001'),
    ('mile', 1609.344, 'one_way_distance mile→km ×1.609344'),
    ('miles', 1609.344, 'one_way_distance miles→km ×1.609344'),
    ('nmi', 1852, 'one_way_distance nmi→km ×1.852')) AS unit_one_way_distance("unit", factor, note)
    ON unit_one_way_distance."unit" = a.one_way_distance_unit
  LEFT JOIN (VALUES
    ('cm', 0.01, 'annual_distance cm→km ×0.00001'),
    ('km', 1000, 'annual_distance in km'),
    ('m', 1, 'annual_distance m→km ×0.001'),
    ('mile', 1609.344, 'annual_distance mile→km ×1.609344'),
    ('miles', 1609.344, 'annual_distance miles→km ×1.609344'),
    ('nmi', 1852, 'annual_distance nmi→km ×1.852')) AS unit_annual_distance("unit", factor, note)
    ON unit_annual_distance."unit" = a.annual_distance_unit
  LEFT JOIN (VALUES
    ('day', 86400, 'homeworking_hours day→h ×24', 24),
    ('h', 3600, 'homeworking_hours in h', 1),
    ('hour', 3600, 'homeworking_hours in hour', 1),
    ('min', 60, 'homeworking_hours min→h ×1/60', NULL),
    ('s', 1, 'homeworking_hours s→h ×1/3600', NULL)) AS unit_homeworking_hours("unit", factor, note, x1_3600)
    ON unit_homeworking_hours."unit" = a.homeworking_hours_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
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
), factor_motorbike_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
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
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'km') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Business travel- land'
    AND f.attributes ->> 'level2' = 'Motorbike'
), factor_motorbike AS MATERIALIZED (
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
  FROM factor_motorbike_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_public_transport_ranked AS NOT MATERIALIZED (
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
), factor_public_transport AS MATERIALIZED (
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
  FROM factor_public_transport_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level2,
    key_level3
), factor_homeworking_ranked AS NOT MATERIALIZED (
  SELECT
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'FTE.h'
      THEN f."value"
      ELSE ccf.div(f."value" * 3600, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'FTE.h' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.gas ORDER BY f."unit" <> 'FTE.h') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 's^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Homeworking'
    AND f.attributes ->> 'level2' = 'Homeworking (office equipment + heating)'
), factor_homeworking AS MATERIALIZED (
  SELECT
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_homeworking_ranked
  WHERE
    fallback_rank = 1
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_car.co2e AS car__co2e,
    f_car.co2e_id AS car__co2e_id,
    f_car.co2e_n AS car__co2e_n,
    f_car.co2e_level AS car__co2e_level,
    COALESCE(a.service, 'Average car') AS car__key_level3,
    COALESCE(a.fuel, 'Unknown') AS car__key_column_text,
    f_motorbike.co2e AS motorbike__co2e,
    f_motorbike.co2e_id AS motorbike__co2e_id,
    f_motorbike.co2e_n AS motorbike__co2e_n,
    f_motorbike.co2e_level AS motorbike__co2e_level,
    COALESCE(a.service, 'Average') AS motorbike__key_level3,
    f_public_transport.co2e AS public_transport__co2e,
    f_public_transport.co2e_id AS public_transport__co2e_id,
    f_public_transport.co2e_n AS public_transport__co2e_n,
    f_public_transport.co2e_level AS public_transport__co2e_level,
    CASE
      WHEN a.mode = 'rail'
      THEN 'Rail'
      ELSE CASE WHEN a.mode = 'bus' THEN 'Bus' ELSE 'Taxis' END
    END AS public_transport__key_level2,
    a.service AS public_transport__key_level3,
    (
      SELECT
        co2e
      FROM factor_homeworking
    ) AS homeworking__co2e,
    (
      SELECT
        co2e_id
      FROM factor_homeworking
    ) AS homeworking__co2e_id,
    (
      SELECT
        co2e_n
      FROM factor_homeworking
    ) AS homeworking__co2e_n,
    (
      SELECT
        co2e_level
      FROM factor_homeworking
    ) AS homeworking__co2e_level
  FROM activity AS a
  LEFT JOIN factor_car AS f_car
    ON COALESCE(a.service, 'Average car') = f_car.key_level3
    AND COALESCE(a.fuel, 'Unknown') = f_car.key_column_text
  LEFT JOIN factor_motorbike AS f_motorbike
    ON COALESCE(a.service, 'Average') = f_motorbike.key_level3
  LEFT JOIN factor_public_transport AS f_public_transport
    ON CASE
      WHEN a.mode = 'rail'
      THEN 'Rail'
      ELSE CASE WHEN a.mode = 'bus' THEN 'Bus' ELSE 'Taxis' END
    END = f_public_transport.key_level2
    AND a.service = f_public_transport.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.mode = 'homeworking'
      THEN 1 /* rule homeworking */
      WHEN j.mode IN ('walk', 'bicycle')
      THEN 2 /* rule active_travel */
      WHEN (
        (
          (
            j.one_way_distance = 0
          ) OR (
            j.annual_distance = 0
          )
        )
        OR (
          j.days_per_week = 0
        )
      )
      OR (
        j.weeks = 0
      )
      THEN 3 /* rule no_distance */
      WHEN j.mode = 'car'
      THEN 4 /* rule car */
      WHEN j.mode = 'motorbike'
      THEN 5 /* rule motorbike */
      WHEN j.mode IN ('rail', 'bus', 'taxi')
      THEN 6 /* rule public_transport */
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
      THEN 'homeworking'
      WHEN 2
      THEN 'active_travel'
      WHEN 3
      THEN 'no_distance'
      WHEN 4
      THEN 'car'
      WHEN 5
      THEN 'motorbike'
      WHEN 6
      THEN 'public_transport'
    END AS rule_id,
    CASE r.rule_no
      WHEN 2
      THEN 'walking and cycling have no emissions to report'
      WHEN 3
      THEN 'no commuting by this mode in the period'
    END AS exclude_reason,
    r.data_quality,
    r.car__co2e_n,
    r.car__key_level3,
    r.car__key_column_text,
    r.motorbike__co2e_n,
    r.motorbike__key_level3,
    r.public_transport__co2e_n,
    r.public_transport__key_level2,
    r.public_transport__key_level3,
    r.homeworking__co2e_n,
    CASE r.rule_no
      WHEN 1
      THEN CASE
        WHEN r.homeworking_hours__x1_3600 IS NULL
        THEN ccf.div(
          (
            r.homeworking_hours * COALESCE(r.employees, 1 /* parameter default_employees */)
          ) * r.homeworking__co2e,
          3600
        )
        ELSE ROUND(
          r.homeworking_hours__x1_3600 * COALESCE(r.employees, 1 /* parameter default_employees */) * r.homeworking__co2e,
          20
        )
      END
      WHEN 4
      THEN (
        ccf.div(
          COALESCE(
            r.annual_distance,
            (
              (
                r.one_way_distance * CAST(2 /* parameter trips_per_day */ AS DECIMAL)
              ) * r.days_per_week
            ) * r.weeks
          ) * COALESCE(r.employees, 1 /* parameter default_employees */),
          COALESCE(r.car_occupants, 1 /* parameter default_car_occupants */)
        ) * r.car__co2e
      ) * 0.001
      WHEN 5
      THEN (
        (
          COALESCE(
            r.annual_distance,
            (
              (
                r.one_way_distance * CAST(2 /* parameter trips_per_day */ AS DECIMAL)
              ) * r.days_per_week
            ) * r.weeks
          ) * COALESCE(r.employees, 1 /* parameter default_employees */)
        ) * r.motorbike__co2e
      ) * 0.001
      WHEN 6
      THEN (
        (
          COALESCE(
            r.annual_distance,
            (
              (
                r.one_way_distance * CAST(2 /* parameter trips_per_day */ AS DECIMAL)
              ) * r.days_per_week
            ) * r.weeks
          ) * COALESCE(r.employees, 1 /* parameter default_employees */)
        ) * r.public_transport__co2e
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 1
      THEN r.homeworking__co2e_id
      WHEN 4
      THEN r.car__co2e_id
      WHEN 5
      THEN r.motorbike__co2e_id
      WHEN 6
      THEN r.public_transport__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 1
      THEN r.homeworking__co2e_level
      WHEN 4
      THEN r.car__co2e_level
      WHEN 5
      THEN r.motorbike__co2e_level
      WHEN 6
      THEN r.public_transport__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 1
      THEN CASE
        WHEN COALESCE(e.homeworking__co2e_n, 0) = 0
        THEN 'no_factor:homeworking'
        WHEN e.homeworking__co2e_n > 1
        THEN 'ambiguous_factor:homeworking'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.car__co2e_n, 0) = 0
        THEN 'no_factor:car'
        WHEN e.car__co2e_n > 1
        THEN 'ambiguous_factor:car'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.motorbike__co2e_n, 0) = 0
        THEN 'no_factor:motorbike'
        WHEN e.motorbike__co2e_n > 1
        THEN 'ambiguous_factor:motorbike'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.public_transport__co2e_n, 0) = 0
        THEN 'no_factor:public_transport'
        WHEN e.public_transport__co2e_n > 1
        THEN 'ambiguous_factor:public_transport'
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
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_level3 END AS car__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_column_text END AS car__key_column_text,
  CASE WHEN NOT c.problem IS NULL THEN c.motorbike__key_level3 END AS motorbike__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.public_transport__key_level2 END AS public_transport__key_level2,
  CASE WHEN NOT c.problem IS NULL THEN c.public_transport__key_level3 END AS public_transport__key_level3,
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
  'scope3.cat7.employee_commuting.distance_based',
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
  'scope3.cat7.employee_commuting.distance_based',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 2
    THEN 'walking and cycling have no emissions to report'
    WHEN 3
    THEN 'no commuting by this mode in the period'
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
  'scope3.cat7.employee_commuting.distance_based',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:car'
    THEN 'no emission factor found for lookup ''car'' in desnz-2024 per km (level1 = ''Business travel- land'', level2 = ''Cars (by size)''' || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:car'
    THEN 'more than one emission factor matches lookup ''car'' in desnz-2024 per km (level1 = ''Business travel- land'', level2 = ''Cars (by size)''' || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:motorbike'
    THEN 'no emission factor found for lookup ''motorbike'' in desnz-2024 per km (level1 = ''Business travel- land'', level2 = ''Motorbike''' || ', level3 = ' || COALESCE('''' || e.motorbike__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:motorbike'
    THEN 'more than one emission factor matches lookup ''motorbike'' in desnz-2024 per km (level1 = ''Business travel- land'', level2 = ''Motorbike''' || ', level3 = ' || COALESCE('''' || e.motorbike__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:public_transport'
    THEN 'no emission factor found for lookup ''public_transport'' in desnz-2024 per passenger.km (level1 = ''Business travel- land''' || ', level2 = ' || COALESCE('''' || e.public_transport__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.public_transport__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:public_transport'
    THEN 'more than one emission factor matches lookup ''public_transport'' in desnz-2024 per passenger.km (level1 = ''Business travel- land''' || ', level2 = ' || COALESCE('''' || e.public_transport__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.public_transport__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:homeworking'
    THEN 'no emission factor found for lookup ''homeworking'' in desnz-2024 per FTE.h (level1 = ''Homeworking'', level2 = ''Homeworking (office equipment + heating)''' || ')'
    WHEN e.problem = 'ambiguous_factor:homeworking'
    THEN 'more than one emission factor matches lookup ''homeworking'' in desnz-2024 per FTE.h (level1 = ''Homeworking'', level2 = ''Homeworking (office equipment + heating)''' || ')'
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
    FROM ccf.activity_commuting
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
      AND activity_type = 'commuting'
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
