-- ccf compiled SQL for scope2.heat_steam.location_based@1.0.0 (published)
-- Scope 2 purchased heat and steam, location-based, per gas
-- content hash sha256:4c7fcca2c284008c4736acb1decb66e6b156a4abc9ccb9218ab4ee8266580012
-- activity type purchased_heat; factor set desnz-2024; GWP AR5
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
    a.quantity * unit_quantity.factor AS quantity,
    a.country,
    a.supply,
    a.supplier,
    COALESCE(unit_quantity.note, '') AS unit_conversion,
    a.quantity * unit_quantity.x1_3600000 AS quantity__x1_3600000
  FROM ccf.activity_purchased_heat AS a
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'quantity Btu→kWh ×52752792631/180000000000000', NULL),
    ('GJ', 1000000000, 'quantity GJ→kWh ×2500/9', NULL),
    ('GWh', 3600000000000, 'quantity GWh→kWh ×1000000', 1000000),
    ('J', 1, 'quantity J→kWh ×1/3600000', NULL),
    ('MJ', 1000000, 'quantity MJ→kWh ×5/18', NULL),
    ('MWh', 3600000000, 'quantity MWh→kWh ×1000', 1000),
    ('TJ', 1000000000000, 'quantity TJ→kWh ×2500000/9', NULL),
    ('Wh', 3600, 'quantity Wh→kWh ×0.001', 0.001),
    ('kJ', 1000, 'quantity kJ→kWh ×1/3600', NULL),
    ('kWh', 3600000, 'quantity in kWh', 1),
    ('mmBtu', 1055055852.62, 'quantity mmBtu→kWh ×52752792631/180000000', NULL),
    ('therm', 105505585.257348, 'quantity therm→kWh ×29.30710701593', NULL),
    ('therm_US', 105480400, 'quantity therm_US→kWh ×263701/9000', NULL)) AS unit_quantity("unit", factor, note, x1_3600000)
    ON unit_quantity."unit" = a.quantity_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_heat_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    COALESCE(a.supply, 'District heat and steam') AS key_level3,
    a.country AS key_region
  FROM activity AS a
), factor_heat_ranked AS NOT MATERIALIZED (
  SELECT
    k.key_level3,
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
    RANK() OVER (
      PARTITION BY k.key_level3, k.key_region, f.gas
      ORDER BY ra.depth, f."unit" <> 'kWh'
    ) AS fallback_rank
  FROM factor_heat_keys AS k
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
    AND f.gas IN ('CH4', 'CO2', 'N2O')
    AND f.attributes ->> 'level1' = 'Heat and steam'
    AND f.attributes ->> 'level3' = k.key_level3
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_heat AS MATERIALIZED (
  SELECT
    key_level3,
    key_region,
    COUNT(*) FILTER(WHERE
      gas = 'CH4') AS ch4_n,
    MIN("value") FILTER(WHERE
      gas = 'CH4') AS ch4,
    MIN(factor_id) FILTER(WHERE
      gas = 'CH4') AS ch4_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CH4') AS ch4_level,
    COUNT(*) FILTER(WHERE
      gas = 'CO2') AS co2_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2') AS co2,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2') AS co2_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2') AS co2_level,
    COUNT(*) FILTER(WHERE
      gas = 'N2O') AS n2o_n,
    MIN("value") FILTER(WHERE
      gas = 'N2O') AS n2o,
    MIN(factor_id) FILTER(WHERE
      gas = 'N2O') AS n2o_id,
    MIN(match_level) FILTER(WHERE
      gas = 'N2O') AS n2o_level
  FROM factor_heat_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3,
    key_region
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_heat.ch4 AS heat__ch4,
    f_heat.ch4_id AS heat__ch4_id,
    f_heat.ch4_n AS heat__ch4_n,
    f_heat.ch4_level AS heat__ch4_level,
    f_heat.co2 AS heat__co2,
    f_heat.co2_id AS heat__co2_id,
    f_heat.co2_n AS heat__co2_n,
    f_heat.co2_level AS heat__co2_level,
    f_heat.n2o AS heat__n2o,
    f_heat.n2o_id AS heat__n2o_id,
    f_heat.n2o_n AS heat__n2o_n,
    f_heat.n2o_level AS heat__n2o_level,
    COALESCE(a.supply, 'District heat and steam') AS heat__key_level3,
    a.country AS heat__key_region
  FROM activity AS a
  LEFT JOIN factor_heat AS f_heat
    ON COALESCE(a.supply, 'District heat and steam') = f_heat.key_level3
    AND a.country = f_heat.key_region
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.quantity = 0
      THEN 1 /* rule zero_consumption */
      WHEN TRUE
      THEN 2 /* rule heat_steam */
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
    CASE r.rule_no WHEN 1 THEN 'zero_consumption' WHEN 2 THEN 'heat_steam' END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'no heat or steam consumed in the period' END AS exclude_reason,
    r.data_quality,
    r.heat__ch4_n,
    r.heat__co2_n,
    r.heat__n2o_n,
    r.heat__key_level3,
    r.heat__key_region,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(r.quantity * r.heat__co2, 3600000)
        ELSE ROUND(r.quantity__x1_3600000 * r.heat__co2, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no WHEN 2 THEN r.heat__co2_id ELSE CAST(NULL AS TEXT) END AS co2_factor_id,
    CASE r.rule_no WHEN 2 THEN r.heat__co2_level ELSE CAST(NULL AS TEXT) END AS co2_match_level,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(r.quantity * r.heat__ch4, 3600000)
        ELSE ROUND(r.quantity__x1_3600000 * r.heat__ch4, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no WHEN 2 THEN r.heat__ch4_id ELSE CAST(NULL AS TEXT) END AS ch4_factor_id,
    CASE r.rule_no WHEN 2 THEN r.heat__ch4_level ELSE CAST(NULL AS TEXT) END AS ch4_match_level,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(r.quantity * r.heat__n2o, 3600000)
        ELSE ROUND(r.quantity__x1_3600000 * r.heat__n2o, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no WHEN 2 THEN r.heat__n2o_id ELSE CAST(NULL AS TEXT) END AS n2o_factor_id,
    CASE r.rule_no WHEN 2 THEN r.heat__n2o_level ELSE CAST(NULL AS TEXT) END AS n2o_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 2
      THEN CASE
        WHEN COALESCE(e.heat__ch4_n, 0) = 0
        THEN 'no_factor:heat'
        WHEN e.heat__ch4_n > 1
        THEN 'ambiguous_factor:heat'
        WHEN COALESCE(e.heat__co2_n, 0) = 0
        THEN 'no_factor:heat'
        WHEN e.heat__co2_n > 1
        THEN 'ambiguous_factor:heat'
        WHEN COALESCE(e.heat__n2o_n, 0) = 0
        THEN 'no_factor:heat'
        WHEN e.heat__n2o_n > 1
        THEN 'ambiguous_factor:heat'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
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
  CASE WHEN NOT c.problem IS NULL THEN c.heat__key_level3 END AS heat__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.heat__key_region END AS heat__key_region,
  c.co2_co2e_kg,
  c.co2_factor_id,
  c.co2_match_level,
  c.ch4_co2e_kg,
  c.ch4_factor_id,
  c.ch4_match_level,
  c.n2o_co2e_kg,
  c.n2o_factor_id,
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
  co2_co2e_kg,
  co2_factor_ids,
  co2_match_level,
  ch4_co2e_kg,
  ch4_factor_ids,
  ch4_match_level,
  n2o_co2e_kg,
  n2o_factor_ids,
  n2o_match_level
)
SELECT
  %(run_id)s,
  'scope2.heat_steam.location_based',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2_co2e_kg, 0) + COALESCE(e.ch4_co2e_kg, 0) + COALESCE(e.n2o_co2e_kg, 0),
  e.co2_co2e_kg,
  CASE WHEN NOT e.co2_co2e_kg IS NULL THEN ARRAY[e.co2_factor_id] END,
  e.co2_match_level,
  e.ch4_co2e_kg,
  CASE WHEN NOT e.ch4_co2e_kg IS NULL THEN ARRAY[e.ch4_factor_id] END,
  e.ch4_match_level,
  e.n2o_co2e_kg,
  CASE WHEN NOT e.n2o_co2e_kg IS NULL THEN ARRAY[e.n2o_factor_id] END,
  e.n2o_match_level
FROM ccf_eval AS e
WHERE
  e.outcome = 'result'
  AND (
    NOT e.co2_co2e_kg IS NULL
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
  'scope2.heat_steam.location_based',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'no heat or steam consumed in the period' END
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
  'scope2.heat_steam.location_based',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:heat'
    THEN 'no emission factor found for lookup ''heat'' in desnz-2024 per kWh (level1 = ''Heat and steam''' || ', level3 = ' || COALESCE('''' || e.heat__key_level3 || '''', '(empty)') || ', region (or a parent region) = ' || COALESCE('''' || e.heat__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:heat'
    THEN 'more than one emission factor matches lookup ''heat'' in desnz-2024 per kWh (level1 = ''Heat and steam''' || ', level3 = ' || COALESCE('''' || e.heat__key_level3 || '''', '(empty)') || ', region (or a parent region) = ' || COALESCE('''' || e.heat__key_region || '''', '(empty)') || ')'
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
    FROM ccf.activity_purchased_heat
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
      AND activity_type = 'purchased_heat'
  ) AS rows_rejected,
  e.co2_co2e_kg,
  e.ch4_co2e_kg,
  e.n2o_co2e_kg
FROM (
  SELECT
    COUNT(*) AS rows_result,
    COUNT(*) AS result_rows,
    SUM(co2_co2e_kg) AS co2_co2e_kg,
    SUM(ch4_co2e_kg) AS ch4_co2e_kg,
    SUM(n2o_co2e_kg) AS n2o_co2e_kg
  FROM ccf_eval
  WHERE
    outcome = 'result'
) AS e;

-- [6] cleanup
DROP TABLE IF EXISTS ccf_eval;
