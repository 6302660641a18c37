-- ccf compiled SQL for scope3.cat11.use_of_sold_products.intermediate_products@1.0.0 (published)
-- Scope 3 category 11 use of sold products, sold intermediate products with their share of the final product's use phase
-- content hash sha256:f5d627cd0cb300e98aa10a07a5f023cb801eb16714b65000e57e35e9047dce5e
-- activity type sold_intermediate_products; factor set desnz; GWP AR5
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
    a.final_product,
    a.units_sold,
    a.lifetime_uses,
    a.emissions_per_use * unit_emissions_per_use.factor AS emissions_per_use,
    a.share * 0.01 AS share,
    a.product_mass * unit_product_mass.factor AS product_mass,
    a.final_product_mass * unit_final_product_mass.factor AS final_product_mass,
    CONCAT_WS(
      '; ',
      unit_emissions_per_use.note,
      unit_product_mass.note,
      unit_final_product_mass.note
    ) AS unit_conversion
  FROM ccf.activity_sold_intermediate_products AS a
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'emissions_per_use gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'emissions_per_use in kgCO2e'),
    ('tCO2e', 1000, 'emissions_per_use tCO2e→kgCO2e ×1000')) AS unit_emissions_per_use("unit", factor, note)
    ON unit_emissions_per_use."unit" = a.emissions_per_use_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'product_mass g→kg ×0.001'),
    ('kg', 1, 'product_mass in kg'),
    ('lb', 0.45359237, 'product_mass lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'product_mass long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'product_mass short_ton→kg ×907.18474'),
    ('t', 1000, 'product_mass t→kg ×1000'),
    ('tonne', 1000, 'product_mass tonne→kg ×1000'),
    ('tonnes', 1000, 'product_mass tonnes→kg ×1000')) AS unit_product_mass("unit", factor, note)
    ON unit_product_mass."unit" = a.product_mass_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'final_product_mass g→kg ×0.001'),
    ('kg', 1, 'final_product_mass in kg'),
    ('lb', 0.45359237, 'final_product_mass lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'final_product_mass long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'final_product_mass short_ton→kg ×907.18474'),
    ('t', 1000, 'final_product_mass t→kg ×1000'),
    ('tonne', 1000, 'final_product_mass tonne→kg ×1000'),
    ('tonnes', 1000, 'final_product_mass tonnes→kg ×1000')) AS unit_final_product_mass("unit", factor, note)
    ON unit_final_product_mass."unit" = a.final_product_mass_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), joined AS NOT MATERIALIZED (
  SELECT
    a.*
  FROM activity AS a
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        (
          j.units_sold = 0
        ) OR (
          j.lifetime_uses = 0
        )
      )
      OR (
        j.share = 0
      )
      THEN 1 /* rule nothing_sold */
      WHEN NOT j.share IS NULL
      THEN 2 /* rule given_share */
      WHEN (
        NOT j.product_mass IS NULL
      ) AND (
        NOT j.final_product_mass IS NULL
      )
      THEN 3 /* rule mass_share */
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
      THEN 'nothing_sold'
      WHEN 2
      THEN 'given_share'
      WHEN 3
      THEN 'mass_share'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'no intermediate products sold, or none of the final product''s emissions attributed to them'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no
      WHEN 2
      THEN (
        (
          r.units_sold * r.lifetime_uses
        ) * r.emissions_per_use
      ) * r.share
      WHEN 3
      THEN ccf.div(
        (
          (
            r.units_sold * r.lifetime_uses
          ) * r.emissions_per_use
        ) * r.product_mass,
        r.final_product_mass
      )
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 3
      THEN CAST(ARRAY[] AS TEXT[])
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN 'no factor'
      WHEN 3
      THEN 'no factor'
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
  'scope3.cat11.use_of_sold_products.intermediate_products',
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
  'scope3.cat11.use_of_sold_products.intermediate_products',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'no intermediate products sold, or none of the final product''s emissions attributed to them'
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
  'scope3.cat11.use_of_sold_products.intermediate_products',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
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
    FROM ccf.activity_sold_intermediate_products
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
      AND activity_type = 'sold_intermediate_products'
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
