-- ccf compiled SQL for scope3.cat11.use_of_sold_products.ghg_release@1.0.0 (published)
-- Scope 3 category 11 use of sold products, direct use-phase emissions of products that contain or form GHGs
-- content hash sha256:674fa40682547ddf9bbdce3f2580002a6d2cd1e4881f95d2988b4219bda0dce6
-- activity type sold_products_ghg_content; factor set ipcc-gwp100-ar5; GWP AR5
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
    a.units_sold,
    a.gas,
    a.gas_content * unit_gas_content.factor AS gas_content,
    a.released_share * 0.01 AS released_share,
    COALESCE(unit_gas_content.note, '') AS unit_conversion
  FROM ccf.activity_sold_products_ghg_content AS a
  LEFT JOIN (VALUES
    ('g', 0.001, 'gas_content g→kg ×0.001'),
    ('kg', 1, 'gas_content in kg'),
    ('lb', 0.45359237, 'gas_content lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'gas_content long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'gas_content short_ton→kg ×907.18474'),
    ('t', 1000, 'gas_content t→kg ×1000'),
    ('tonne', 1000, 'gas_content tonne→kg ×1000'),
    ('tonnes', 1000, 'gas_content tonnes→kg ×1000')) AS unit_gas_content("unit", factor, note)
    ON unit_gas_content."unit" = a.gas_content_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_kyoto_gwp_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'refrigerant' AS key_refrigerant,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 'kg' THEN f."value" ELSE ccf.div(f."value" * 1, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'kg' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'refrigerant', f.gas ORDER BY f."unit" <> 'kg') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'basket' = 'kyoto'
), factor_kyoto_gwp AS MATERIALIZED (
  SELECT
    key_refrigerant,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_kyoto_gwp_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_refrigerant
), gwp AS NOT MATERIALIZED (
  SELECT
    MIN(g."value") FILTER(WHERE
      g.gas = 'CH4') AS gwp_ch4,
    MIN(g."value") FILTER(WHERE
      g.gas = 'CO2') AS gwp_co2,
    MIN(g."value") FILTER(WHERE
      g.gas = 'N2O') AS gwp_n2o
  FROM ccf.gwp AS g
  WHERE
    g.gwp_set = 'AR5'
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_kyoto_gwp.co2e AS kyoto_gwp__co2e,
    f_kyoto_gwp.co2e_id AS kyoto_gwp__co2e_id,
    f_kyoto_gwp.co2e_n AS kyoto_gwp__co2e_n,
    f_kyoto_gwp.co2e_level AS kyoto_gwp__co2e_level,
    a.gas AS kyoto_gwp__key_refrigerant
  FROM activity AS a
  LEFT JOIN factor_kyoto_gwp AS f_kyoto_gwp
    ON a.gas = f_kyoto_gwp.key_refrigerant
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        (
          j.units_sold = 0
        ) OR (
          j.gas_content = 0
        )
      )
      OR (
        j.released_share = 0
      )
      THEN 1 /* rule nothing_released */
      WHEN j.gas = 'CO2'
      THEN 2 /* rule carbon_dioxide */
      WHEN j.gas = 'CH4'
      THEN 3 /* rule methane */
      WHEN j.gas = 'N2O'
      THEN 4 /* rule nitrous_oxide */
      WHEN j.kyoto_gwp__co2e = 0
      THEN 5 /* rule not_kyoto */
      WHEN TRUE
      THEN 6 /* rule fluorinated_gas */
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
      THEN 'nothing_released'
      WHEN 2
      THEN 'carbon_dioxide'
      WHEN 3
      THEN 'methane'
      WHEN 4
      THEN 'nitrous_oxide'
      WHEN 5
      THEN 'not_kyoto'
      WHEN 6
      THEN 'fluorinated_gas'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'no products sold, or no gas released'
      WHEN 5
      THEN 'no Kyoto-basket gas (an HCFC, HFO or hydrocarbon), outside the scopes'
    END AS exclude_reason,
    r.data_quality,
    r.kyoto_gwp__co2e_n,
    r.kyoto_gwp__key_refrigerant,
    CASE r.rule_no
      WHEN 6
      THEN (
        (
          (
            r.units_sold * r.gas_content
          ) * COALESCE(r.released_share * 100, 100 /* parameter all_released */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no WHEN 6 THEN r.kyoto_gwp__co2e_id ELSE CAST(NULL AS TEXT) END AS co2e_factor_id,
    CASE r.rule_no WHEN 6 THEN r.kyoto_gwp__co2e_level ELSE CAST(NULL AS TEXT) END AS co2e_match_level,
    CASE r.rule_no
      WHEN 2
      THEN (
        (
          (
            r.units_sold * r.gas_content
          ) * COALESCE(r.released_share * 100, 100 /* parameter all_released */)
        ) * CAST(1 AS DECIMAL)
      ) * 0.01
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_kg,
    CASE r.rule_no WHEN 2 THEN gwp.gwp_co2 ELSE CAST(NULL AS DECIMAL) END AS co2_gwp,
    CASE r.rule_no
      WHEN 2
      THEN (
        (
          (
            (
              r.units_sold * r.gas_content
            ) * COALESCE(r.released_share * 100, 100 /* parameter all_released */)
          ) * CAST(1 AS DECIMAL)
        ) * 0.01
      ) * gwp.gwp_co2
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no WHEN 2 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS co2_factor_ids,
    CASE r.rule_no WHEN 2 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS co2_match_level,
    CASE r.rule_no
      WHEN 3
      THEN (
        (
          (
            r.units_sold * r.gas_content
          ) * COALESCE(r.released_share * 100, 100 /* parameter all_released */)
        ) * CAST(1 AS DECIMAL)
      ) * 0.01
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_kg,
    CASE r.rule_no WHEN 3 THEN gwp.gwp_ch4 ELSE CAST(NULL AS DECIMAL) END AS ch4_gwp,
    CASE r.rule_no
      WHEN 3
      THEN (
        (
          (
            (
              r.units_sold * r.gas_content
            ) * COALESCE(r.released_share * 100, 100 /* parameter all_released */)
          ) * CAST(1 AS DECIMAL)
        ) * 0.01
      ) * gwp.gwp_ch4
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no WHEN 3 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS ch4_factor_ids,
    CASE r.rule_no WHEN 3 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS ch4_match_level,
    CASE r.rule_no
      WHEN 4
      THEN (
        (
          (
            r.units_sold * r.gas_content
          ) * COALESCE(r.released_share * 100, 100 /* parameter all_released */)
        ) * CAST(1 AS DECIMAL)
      ) * 0.01
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_kg,
    CASE r.rule_no WHEN 4 THEN gwp.gwp_n2o ELSE CAST(NULL AS DECIMAL) END AS n2o_gwp,
    CASE r.rule_no
      WHEN 4
      THEN (
        (
          (
            (
              r.units_sold * r.gas_content
            ) * COALESCE(r.released_share * 100, 100 /* parameter all_released */)
          ) * CAST(1 AS DECIMAL)
        ) * 0.01
      ) * gwp.gwp_n2o
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no WHEN 4 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS n2o_factor_ids,
    CASE r.rule_no WHEN 4 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS n2o_match_level
  FROM ruled AS r
  CROSS JOIN gwp
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 2
      THEN CASE WHEN e.co2_co2e_kg IS NULL THEN 'no_value' END
      WHEN 3
      THEN CASE WHEN e.ch4_co2e_kg IS NULL THEN 'no_value' END
      WHEN 4
      THEN CASE WHEN e.n2o_co2e_kg IS NULL THEN 'no_value' END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
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
  CASE WHEN NOT c.problem IS NULL THEN c.kyoto_gwp__key_refrigerant END AS kyoto_gwp__key_refrigerant,
  c.co2e_co2e_kg,
  c.co2e_factor_id,
  c.co2e_match_level,
  c.co2_kg,
  c.co2_gwp,
  c.co2_co2e_kg,
  c.co2_factor_ids,
  c.co2_match_level,
  c.ch4_kg,
  c.ch4_gwp,
  c.ch4_co2e_kg,
  c.ch4_factor_ids,
  c.ch4_match_level,
  c.n2o_kg,
  c.n2o_gwp,
  c.n2o_co2e_kg,
  c.n2o_factor_ids,
  c.n2o_match_level,
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
  co2e_match_level,
  co2_kg,
  co2_gwp,
  co2_co2e_kg,
  co2_factor_ids,
  co2_match_level,
  ch4_kg,
  ch4_gwp,
  ch4_co2e_kg,
  ch4_factor_ids,
  ch4_match_level,
  n2o_kg,
  n2o_gwp,
  n2o_co2e_kg,
  n2o_factor_ids,
  n2o_match_level
)
SELECT
  %(run_id)s,
  'scope3.cat11.use_of_sold_products.ghg_release',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0) + COALESCE(e.co2_co2e_kg, 0) + COALESCE(e.ch4_co2e_kg, 0) + COALESCE(e.n2o_co2e_kg, 0),
  e.co2e_co2e_kg,
  CASE WHEN NOT e.co2e_co2e_kg IS NULL THEN ARRAY[e.co2e_factor_id] END,
  e.co2e_match_level,
  e.co2_kg,
  e.co2_gwp,
  e.co2_co2e_kg,
  e.co2_factor_ids,
  e.co2_match_level,
  e.ch4_kg,
  e.ch4_gwp,
  e.ch4_co2e_kg,
  e.ch4_factor_ids,
  e.ch4_match_level,
  e.n2o_kg,
  e.n2o_gwp,
  e.n2o_co2e_kg,
  e.n2o_factor_ids,
  e.n2o_match_level
FROM ccf_eval AS e
WHERE
  e.outcome = 'result'
  AND (
    NOT e.co2e_co2e_kg IS NULL
    OR NOT e.co2_co2e_kg IS NULL
    OR NOT e.ch4_co2e_kg IS NULL
    OR NOT e.n2o_co2e_kg IS NULL
  );

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
  'scope3.cat11.use_of_sold_products.ghg_release',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'no products sold, or no gas released'
    WHEN 5
    THEN 'no Kyoto-basket gas (an HCFC, HFO or hydrocarbon), outside the scopes'
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
  'scope3.cat11.use_of_sold_products.ghg_release',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:kyoto_gwp'
    THEN 'no emission factor found for lookup ''kyoto_gwp'' in ipcc-gwp100-ar5 per kg (basket = ''kyoto''' || ', refrigerant = ' || COALESCE('''' || e.kyoto_gwp__key_refrigerant || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:kyoto_gwp'
    THEN 'more than one emission factor matches lookup ''kyoto_gwp'' in ipcc-gwp100-ar5 per kg (basket = ''kyoto''' || ', refrigerant = ' || COALESCE('''' || e.kyoto_gwp__key_refrigerant || '''', '(empty)') || ')'
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
    FROM ccf.activity_sold_products_ghg_content
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
      AND activity_type = 'sold_products_ghg_content'
  ) AS rows_rejected,
  e.co2e_co2e_kg,
  e.co2_co2e_kg,
  e.ch4_co2e_kg,
  e.n2o_co2e_kg
FROM (
  SELECT
    COUNT(*) AS rows_result,
    COUNT(*) AS result_rows,
    SUM(co2e_co2e_kg) AS co2e_co2e_kg,
    SUM(co2_co2e_kg) AS co2_co2e_kg,
    SUM(ch4_co2e_kg) AS ch4_co2e_kg,
    SUM(n2o_co2e_kg) AS n2o_co2e_kg
  FROM ccf_eval
  WHERE
    outcome = 'result'
) AS e;

-- [6] cleanup
DROP TABLE IF EXISTS ccf_eval;
