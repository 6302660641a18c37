-- ccf compiled SQL for scope3.cat4.upstream_transport.distance_based@1.0.0 (published)
-- Scope 3 category 4 upstream transportation and distribution, distance-based
-- content hash sha256:8bbf383542689423a21cf91d694282c27cf32e6259da568f3d3361d47115e1ab
-- activity type freight; factor set desnz-2024; GWP AR5
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
    a.direction,
    a.paid_by_company,
    a.company_vehicle,
    a.mode,
    a.vehicle,
    a.vehicle_class,
    a.size,
    a.load,
    a.mass * unit_mass.factor AS mass,
    a.distance * unit_distance.factor AS distance,
    CONCAT_WS('; ', unit_mass.note, unit_distance.note) AS unit_conversion
  FROM ccf.activity_freight AS a
  LEFT JOIN (VALUES
    ('g', 0.001, 'mass g→kg ×0.001'),
    ('kg', 1, 'mass in kg'),
    ('lb', 0.45359237, 'mass lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'mass long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'mass short_ton→kg ×907.18474'),
    ('t', 1000, 'mass t→kg ×1000'),
    ('tonne', 1000, 'mass tonne→kg ×1000'),
    ('tonnes', 1000, 'mass tonnes→kg ×1000')) AS unit_mass("unit", factor, note)
    ON unit_mass."unit" = a.mass_unit
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
), factor_road_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level2' AS key_level2,
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 't.km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 't.km' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level2', f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 't.km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1·m^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Freighting goods'
), factor_road AS MATERIALIZED (
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
  FROM factor_road_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level2,
    key_level3,
    key_column_text
), factor_rail_ranked AS NOT MATERIALIZED (
  SELECT
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 't.km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 't.km' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.gas ORDER BY f."unit" <> 't.km') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1·m^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Freighting goods'
    AND f.attributes ->> 'level2' = 'Rail'
    AND f.attributes ->> 'level3' = 'Freight train'
), factor_rail AS MATERIALIZED (
  SELECT
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_rail_ranked
  WHERE
    fallback_rank = 1
), factor_air_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 't.km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 't.km' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 't.km') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1·m^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'column_text' = 'With RF'
    AND f.attributes ->> 'level1' = 'Freighting goods'
    AND f.attributes ->> 'level2' = 'Freight flights'
), factor_air AS MATERIALIZED (
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
  FROM factor_air_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_sea_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level2' AS key_level2,
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'level4' AS key_level4,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 't.km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 't.km' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level2', f.attributes ->> 'level3', f.attributes ->> 'level4', f.gas
      ORDER BY f."unit" <> 't.km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1·m^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Freighting goods'
), factor_sea AS MATERIALIZED (
  SELECT
    key_level2,
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
  FROM factor_sea_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level2,
    key_level3,
    key_level4
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_road.co2e AS road__co2e,
    f_road.co2e_id AS road__co2e_id,
    f_road.co2e_n AS road__co2e_n,
    f_road.co2e_level AS road__co2e_level,
    COALESCE(a.vehicle, 'HGV (all diesel)') AS road__key_level2,
    COALESCE(
      a.vehicle_class,
      CASE WHEN a.vehicle = 'Vans' THEN 'Average (up to 3.5 tonnes)' ELSE 'All HGVs' END
    ) AS road__key_level3,
    COALESCE(a.load, CASE WHEN a.vehicle = 'Vans' THEN 'Unknown' ELSE 'Average laden' END) AS road__key_column_text,
    (
      SELECT
        co2e
      FROM factor_rail
    ) AS rail__co2e,
    (
      SELECT
        co2e_id
      FROM factor_rail
    ) AS rail__co2e_id,
    (
      SELECT
        co2e_n
      FROM factor_rail
    ) AS rail__co2e_n,
    (
      SELECT
        co2e_level
      FROM factor_rail
    ) AS rail__co2e_level,
    f_air.co2e AS air__co2e,
    f_air.co2e_id AS air__co2e_id,
    f_air.co2e_n AS air__co2e_n,
    f_air.co2e_level AS air__co2e_level,
    a.vehicle_class AS air__key_level3,
    f_sea.co2e AS sea__co2e,
    f_sea.co2e_id AS sea__co2e_id,
    f_sea.co2e_n AS sea__co2e_n,
    f_sea.co2e_level AS sea__co2e_level,
    COALESCE(a.vehicle, 'Cargo ship') AS sea__key_level2,
    a.vehicle_class AS sea__key_level3,
    COALESCE(a.size, 'Average') AS sea__key_level4
  FROM activity AS a
  LEFT JOIN factor_road AS f_road
    ON COALESCE(a.vehicle, 'HGV (all diesel)') = f_road.key_level2
    AND COALESCE(
      a.vehicle_class,
      CASE WHEN a.vehicle = 'Vans' THEN 'Average (up to 3.5 tonnes)' ELSE 'All HGVs' END
    ) = f_road.key_level3
    AND COALESCE(a.load, CASE WHEN a.vehicle = 'Vans' THEN 'Unknown' ELSE 'Average laden' END) = f_road.key_column_text
  LEFT JOIN factor_air AS f_air
    ON a.vehicle_class = f_air.key_level3
  LEFT JOIN factor_sea AS f_sea
    ON COALESCE(a.vehicle, 'Cargo ship') = f_sea.key_level2
    AND a.vehicle_class = f_sea.key_level3
    AND COALESCE(a.size, 'Average') = f_sea.key_level4
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.company_vehicle = TRUE
      THEN 1 /* rule company_vehicle */
      WHEN (
        j.direction = 'outbound'
      ) AND (
        NOT j.paid_by_company
      )
      THEN 2 /* rule downstream_not_paid */
      WHEN (
        j.mass = 0
      ) OR (
        j.distance = 0
      )
      THEN 3 /* rule nothing_carried */
      WHEN j.mode = 'road'
      THEN 4 /* rule road */
      WHEN j.mode = 'rail'
      THEN 5 /* rule rail */
      WHEN j.mode = 'air'
      THEN 6 /* rule air */
      WHEN j.mode = 'sea'
      THEN 7 /* rule sea */
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
      THEN 'company_vehicle'
      WHEN 2
      THEN 'downstream_not_paid'
      WHEN 3
      THEN 'nothing_carried'
      WHEN 4
      THEN 'road'
      WHEN 5
      THEN 'rail'
      WHEN 6
      THEN 'air'
      WHEN 7
      THEN 'sea'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'vehicle owned or operated by the organisation; its fuel is Scope 1 (mobile combustion)'
      WHEN 2
      THEN 'outbound transport of sold goods not paid by the organisation; reported in category 9'
      WHEN 3
      THEN 'no goods carried or no distance'
    END AS exclude_reason,
    r.data_quality,
    r.road__co2e_n,
    r.road__key_level2,
    r.road__key_level3,
    r.road__key_column_text,
    r.rail__co2e_n,
    r.air__co2e_n,
    r.air__key_level3,
    r.sea__co2e_n,
    r.sea__key_level2,
    r.sea__key_level3,
    r.sea__key_level4,
    CASE r.rule_no
      WHEN 4
      THEN (
        (
          r.mass * r.distance
        ) * r.road__co2e
      ) * 0.000001
      WHEN 5
      THEN (
        (
          r.mass * r.distance
        ) * r.rail__co2e
      ) * 0.000001
      WHEN 6
      THEN (
        (
          r.mass * r.distance
        ) * r.air__co2e
      ) * 0.000001
      WHEN 7
      THEN (
        (
          r.mass * r.distance
        ) * r.sea__co2e
      ) * 0.000001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN r.road__co2e_id
      WHEN 5
      THEN r.rail__co2e_id
      WHEN 6
      THEN r.air__co2e_id
      WHEN 7
      THEN r.sea__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 4
      THEN r.road__co2e_level
      WHEN 5
      THEN r.rail__co2e_level
      WHEN 6
      THEN r.air__co2e_level
      WHEN 7
      THEN r.sea__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.road__co2e_n, 0) = 0
        THEN 'no_factor:road'
        WHEN e.road__co2e_n > 1
        THEN 'ambiguous_factor:road'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.rail__co2e_n, 0) = 0
        THEN 'no_factor:rail'
        WHEN e.rail__co2e_n > 1
        THEN 'ambiguous_factor:rail'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.air__co2e_n, 0) = 0
        THEN 'no_factor:air'
        WHEN e.air__co2e_n > 1
        THEN 'ambiguous_factor:air'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 7
      THEN CASE
        WHEN COALESCE(e.sea__co2e_n, 0) = 0
        THEN 'no_factor:sea'
        WHEN e.sea__co2e_n > 1
        THEN 'ambiguous_factor:sea'
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
  CASE WHEN NOT c.problem IS NULL THEN c.road__key_level2 END AS road__key_level2,
  CASE WHEN NOT c.problem IS NULL THEN c.road__key_level3 END AS road__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.road__key_column_text END AS road__key_column_text,
  CASE WHEN NOT c.problem IS NULL THEN c.air__key_level3 END AS air__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.sea__key_level2 END AS sea__key_level2,
  CASE WHEN NOT c.problem IS NULL THEN c.sea__key_level3 END AS sea__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.sea__key_level4 END AS sea__key_level4,
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
  'scope3.cat4.upstream_transport.distance_based',
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
  'scope3.cat4.upstream_transport.distance_based',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'vehicle owned or operated by the organisation; its fuel is Scope 1 (mobile combustion)'
    WHEN 2
    THEN 'outbound transport of sold goods not paid by the organisation; reported in category 9'
    WHEN 3
    THEN 'no goods carried or no distance'
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
  'scope3.cat4.upstream_transport.distance_based',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:road'
    THEN 'no emission factor found for lookup ''road'' in desnz-2024 per t.km (level1 = ''Freighting goods''' || ', level2 = ' || COALESCE('''' || e.road__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.road__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.road__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:road'
    THEN 'more than one emission factor matches lookup ''road'' in desnz-2024 per t.km (level1 = ''Freighting goods''' || ', level2 = ' || COALESCE('''' || e.road__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.road__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.road__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:rail'
    THEN 'no emission factor found for lookup ''rail'' in desnz-2024 per t.km (level1 = ''Freighting goods'', level2 = ''Rail'', level3 = ''Freight train''' || ')'
    WHEN e.problem = 'ambiguous_factor:rail'
    THEN 'more than one emission factor matches lookup ''rail'' in desnz-2024 per t.km (level1 = ''Freighting goods'', level2 = ''Rail'', level3 = ''Freight train''' || ')'
    WHEN e.problem = 'no_factor:air'
    THEN 'no emission factor found for lookup ''air'' in desnz-2024 per t.km (column_text = ''With RF'', level1 = ''Freighting goods'', level2 = ''Freight flights''' || ', level3 = ' || COALESCE('''' || e.air__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:air'
    THEN 'more than one emission factor matches lookup ''air'' in desnz-2024 per t.km (column_text = ''With RF'', level1 = ''Freighting goods'', level2 = ''Freight flights''' || ', level3 = ' || COALESCE('''' || e.air__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:sea'
    THEN 'no emission factor found for lookup ''sea'' in desnz-2024 per t.km (level1 = ''Freighting goods''' || ', level2 = ' || COALESCE('''' || e.sea__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.sea__key_level3 || '''', '(empty)') || ', level4 = ' || COALESCE('''' || e.sea__key_level4 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:sea'
    THEN 'more than one emission factor matches lookup ''sea'' in desnz-2024 per t.km (level1 = ''Freighting goods''' || ', level2 = ' || COALESCE('''' || e.sea__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.sea__key_level3 || '''', '(empty)') || ', level4 = ' || COALESCE('''' || e.sea__key_level4 || '''', '(empty)') || ')'
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
    FROM ccf.activity_freight
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
      AND activity_type = 'freight'
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
