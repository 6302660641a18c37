-- ccf compiled SQL for scope3.cat2.capital_goods.average_data@1.0.0 (published)
-- Scope 3 category 2 capital goods, average-data method (mass by material)
-- content hash sha256:e38ce250c5b4929c66b0ce035bbffc57fe9f50deb010b595622bf3b22f778c0b
-- activity type purchased_materials; factor set desnz-2024; GWP AR5
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
    a.category,
    a.material,
    a.source,
    a.mass * unit_mass.factor AS mass,
    a.supplier,
    COALESCE(unit_mass.note, '') AS unit_conversion
  FROM ccf.activity_purchased_materials AS a
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
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_material_factor_ranked AS NOT MATERIALIZED (
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
    AND f.attributes ->> 'level1' = 'Material use'
), factor_material_factor AS MATERIALIZED (
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
  FROM factor_material_factor_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3,
    key_column_text
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_material_factor.co2e AS material_factor__co2e,
    f_material_factor.co2e_id AS material_factor__co2e_id,
    f_material_factor.co2e_n AS material_factor__co2e_n,
    f_material_factor.co2e_level AS material_factor__co2e_level,
    a.material AS material_factor__key_level3,
    COALESCE(a.source, 'Primary material production') AS material_factor__key_column_text
  FROM activity AS a
  LEFT JOIN factor_material_factor AS f_material_factor
    ON a.material = f_material_factor.key_level3
    AND COALESCE(a.source, 'Primary material production') = f_material_factor.key_column_text
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.category <> 2
      THEN 1 /* rule other_category */
      WHEN j.mass = 0
      THEN 2 /* rule nothing_bought */
      WHEN TRUE
      THEN 3 /* rule by_mass */
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
      THEN 'other_category'
      WHEN 2
      THEN 'nothing_bought'
      WHEN 3
      THEN 'by_mass'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not a category 2 purchase (purchases that are not capital goods are category 1)'
      WHEN 2
      THEN 'zero mass bought in the period'
    END AS exclude_reason,
    r.data_quality,
    r.material_factor__co2e_n,
    r.material_factor__key_level3,
    r.material_factor__key_column_text,
    CASE r.rule_no
      WHEN 3
      THEN (
        r.mass * r.material_factor__co2e
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no WHEN 3 THEN r.material_factor__co2e_id ELSE CAST(NULL AS TEXT) END AS co2e_factor_id,
    CASE r.rule_no WHEN 3 THEN r.material_factor__co2e_level ELSE CAST(NULL AS TEXT) END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 3
      THEN CASE
        WHEN COALESCE(e.material_factor__co2e_n, 0) = 0
        THEN 'no_factor:material_factor'
        WHEN e.material_factor__co2e_n > 1
        THEN 'ambiguous_factor:material_factor'
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
  CASE WHEN NOT c.problem IS NULL THEN c.material_factor__key_level3 END AS material_factor__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.material_factor__key_column_text END AS material_factor__key_column_text,
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
  'scope3.cat2.capital_goods.average_data',
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
  'scope3.cat2.capital_goods.average_data',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not a category 2 purchase (purchases that are not capital goods are category 1)'
    WHEN 2
    THEN 'zero mass bought in the period'
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
  'scope3.cat2.capital_goods.average_data',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:material_factor'
    THEN 'no emission factor found for lookup ''material_factor'' in desnz-2024 per t (level1 = ''Material use''' || ', level3 = ' || COALESCE('''' || e.material_factor__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.material_factor__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:material_factor'
    THEN 'more than one emission factor matches lookup ''material_factor'' in desnz-2024 per t (level1 = ''Material use''' || ', level3 = ' || COALESCE('''' || e.material_factor__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.material_factor__key_column_text || '''', '(empty)') || ')'
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
    FROM ccf.activity_purchased_materials
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
      AND activity_type = 'purchased_materials'
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
