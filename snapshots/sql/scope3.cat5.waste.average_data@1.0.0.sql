-- ccf compiled SQL for scope3.cat5.waste.average_data@1.0.0 (published)
-- Scope 3 category 5 waste generated in operations, average-data method
-- content hash sha256:d12ddb80dedb8000652e4f57ec226bb18073cfd7f7aed4d9fc04c176b45b5309
-- activity type waste_treatment_mix; factor set desnz; GWP AR5
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
    a.total_mass * unit_total_mass.factor AS total_mass,
    a.treatment,
    a.share * 0.01 AS share,
    a.factor_per_tonne * 0.001 AS factor_per_tonne,
    a.factor_source,
    a.contractor,
    COALESCE(unit_total_mass.note, '') AS unit_conversion
  FROM ccf.activity_waste_treatment_mix AS a
  LEFT JOIN (VALUES
    ('g', 0.001, 'total_mass g→kg ×0.001'),
    ('kg', 1, 'total_mass in kg'),
    ('lb', 0.45359237, 'total_mass lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'total_mass long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'total_mass short_ton→kg ×907.18474'),
    ('t', 1000, 'total_mass t→kg ×1000'),
    ('tonne', 1000, 'total_mass tonne→kg ×1000'),
    ('tonnes', 1000, 'total_mass tonnes→kg ×1000')) AS unit_total_mass("unit", factor, note)
    ON unit_total_mass."unit" = a.total_mass_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_route_average_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 't' THEN f."value" ELSE ccf.div(f."value" * 1000, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 't' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'column_text', f.gas ORDER BY f."unit" <> 't') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Waste disposal'
    AND f.attributes ->> 'level3' = 'Commercial and industrial waste'
), factor_route_average AS MATERIALIZED (
  SELECT
    key_column_text,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_route_average_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_column_text
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_route_average.co2e AS route_average__co2e,
    f_route_average.co2e_id AS route_average__co2e_id,
    f_route_average.co2e_n AS route_average__co2e_n,
    f_route_average.co2e_level AS route_average__co2e_level,
    a.treatment AS route_average__key_column_text
  FROM activity AS a
  LEFT JOIN factor_route_average AS f_route_average
    ON a.treatment = f_route_average.key_column_text
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        j.total_mass = 0
      ) OR (
        j.share = 0
      )
      THEN 1 /* rule nothing_treated */
      WHEN NOT j.factor_per_tonne IS NULL
      THEN 2 /* rule own_average */
      WHEN TRUE
      THEN 3 /* rule factor_set_average */
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
      THEN 'nothing_treated'
      WHEN 2
      THEN 'own_average'
      WHEN 3
      THEN 'factor_set_average'
    END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'no waste goes to this treatment route' END AS exclude_reason,
    r.data_quality,
    r.route_average__co2e_n,
    r.route_average__key_column_text,
    CASE r.rule_no
      WHEN 2
      THEN (
        r.total_mass * r.share
      ) * r.factor_per_tonne
      WHEN 3
      THEN (
        (
          r.total_mass * r.share
        ) * r.route_average__co2e
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 3
      THEN ARRAY[r.route_average__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN 'no factor'
      WHEN 3
      THEN r.route_average__co2e_level
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
        WHEN COALESCE(e.route_average__co2e_n, 0) = 0
        THEN 'no_factor:route_average'
        WHEN e.route_average__co2e_n > 1
        THEN 'ambiguous_factor:route_average'
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
  CASE WHEN NOT c.problem IS NULL THEN c.route_average__key_column_text END AS route_average__key_column_text,
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
  'scope3.cat5.waste.average_data',
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
  'scope3.cat5.waste.average_data',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'no waste goes to this treatment route' END
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
  'scope3.cat5.waste.average_data',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:route_average'
    THEN 'no emission factor found for lookup ''route_average'' in desnz per t (level1 = ''Waste disposal'', level3 = ''Commercial and industrial waste''' || ', column_text = ' || COALESCE('''' || e.route_average__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:route_average'
    THEN 'more than one emission factor matches lookup ''route_average'' in desnz per t (level1 = ''Waste disposal'', level3 = ''Commercial and industrial waste''' || ', column_text = ' || COALESCE('''' || e.route_average__key_column_text || '''', '(empty)') || ')'
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
    FROM ccf.activity_waste_treatment_mix
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
      AND activity_type = 'waste_treatment_mix'
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
