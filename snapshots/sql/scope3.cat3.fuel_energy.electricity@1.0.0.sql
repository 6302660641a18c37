-- ccf compiled SQL for scope3.cat3.fuel_energy.electricity@1.0.0 (published)
-- Scope 3 category 3 fuel- and energy-related activities, purchased electricity
-- content hash sha256:b2d756e510c76e0123b4dc936e46d720239b5b4b4583f5b7bf6b03e8fab9eec4
-- activity type electricity; factor set desnz-2024; GWP AR5
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
    a.grid_region,
    a.supplier,
    a.supplier_rate,
    a.supplier_rate_source,
    COALESCE(unit_quantity.note, '') AS unit_conversion,
    a.quantity * unit_quantity.x1_3600000 AS quantity__x1_3600000
  FROM ccf.activity_electricity AS a
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
), lookup_keys AS MATERIALIZED (
  SELECT DISTINCT
    a.country AS wtt_generation__key_region,
    a.country AS td_losses__key_region,
    a.country AS wtt_td_losses__key_region
  FROM activity AS a
), factor_wtt_generation_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    s.wtt_generation__key_region AS key_region
  FROM lookup_keys AS s
), factor_wtt_generation_ranked AS NOT MATERIALIZED (
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
  FROM factor_wtt_generation_keys AS k
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
    AND f.attributes ->> 'level1' = 'WTT- UK electricity'
    AND f.attributes ->> 'level2' = 'WTT- UK electricity (generation)'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_wtt_generation AS MATERIALIZED (
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
  FROM factor_wtt_generation_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
), factor_td_losses_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    s.td_losses__key_region AS key_region
  FROM lookup_keys AS s
), factor_td_losses_ranked AS NOT MATERIALIZED (
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
  FROM factor_td_losses_keys AS k
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
    AND f.attributes ->> 'level1' = 'Transmission and distribution'
    AND f.attributes ->> 'level2' = 'T&D- UK electricity'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_td_losses AS MATERIALIZED (
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
  FROM factor_td_losses_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
), factor_wtt_td_losses_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    s.wtt_td_losses__key_region AS key_region
  FROM lookup_keys AS s
), factor_wtt_td_losses_ranked AS NOT MATERIALIZED (
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
  FROM factor_wtt_td_losses_keys AS k
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
    AND f.attributes ->> 'level1' = 'WTT- UK electricity'
    AND f.attributes ->> 'level2' = 'WTT- UK electricity (T&D)'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_wtt_td_losses AS MATERIALIZED (
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
  FROM factor_wtt_td_losses_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_wtt_generation.co2e AS wtt_generation__co2e,
    f_wtt_generation.co2e_id AS wtt_generation__co2e_id,
    f_wtt_generation.co2e_n AS wtt_generation__co2e_n,
    f_wtt_generation.co2e_level AS wtt_generation__co2e_level,
    a.country AS wtt_generation__key_region,
    f_td_losses.co2e AS td_losses__co2e,
    f_td_losses.co2e_id AS td_losses__co2e_id,
    f_td_losses.co2e_n AS td_losses__co2e_n,
    f_td_losses.co2e_level AS td_losses__co2e_level,
    a.country AS td_losses__key_region,
    f_wtt_td_losses.co2e AS wtt_td_losses__co2e,
    f_wtt_td_losses.co2e_id AS wtt_td_losses__co2e_id,
    f_wtt_td_losses.co2e_n AS wtt_td_losses__co2e_n,
    f_wtt_td_losses.co2e_level AS wtt_td_losses__co2e_level,
    a.country AS wtt_td_losses__key_region
  FROM activity AS a
  LEFT JOIN factor_wtt_generation AS f_wtt_generation
    ON a.country = f_wtt_generation.key_region
  LEFT JOIN factor_td_losses AS f_td_losses
    ON a.country = f_td_losses.key_region
  LEFT JOIN factor_wtt_td_losses AS f_wtt_td_losses
    ON a.country = f_wtt_td_losses.key_region
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.quantity = 0
      THEN 1 /* rule zero_consumption */
      WHEN TRUE
      THEN 2 /* rule upstream_and_losses */
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
    CASE r.rule_no WHEN 1 THEN 'zero_consumption' WHEN 2 THEN 'upstream_and_losses' END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'no electricity consumed in the period' END AS exclude_reason,
    r.data_quality,
    r.wtt_generation__co2e_n,
    r.wtt_generation__key_region,
    r.td_losses__co2e_n,
    r.td_losses__key_region,
    r.wtt_td_losses__co2e_n,
    r.wtt_td_losses__key_region,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(
          r.quantity * (
            (
              r.wtt_generation__co2e + r.td_losses__co2e
            ) + r.wtt_td_losses__co2e
          ),
          3600000
        )
        ELSE ROUND(
          r.quantity__x1_3600000 * (
            (
              r.wtt_generation__co2e + r.td_losses__co2e
            ) + r.wtt_td_losses__co2e
          ),
          20
        )
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN ARRAY[r.wtt_generation__co2e_id, r.td_losses__co2e_id, r.wtt_td_losses__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN CONCAT_WS(
        ' | ',
        'wtt_generation: ' || r.wtt_generation__co2e_level,
        'td_losses: ' || r.td_losses__co2e_level,
        'wtt_td_losses: ' || r.wtt_td_losses__co2e_level
      )
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
        WHEN COALESCE(e.td_losses__co2e_n, 0) = 0
        THEN 'no_factor:td_losses'
        WHEN e.td_losses__co2e_n > 1
        THEN 'ambiguous_factor:td_losses'
        WHEN COALESCE(e.wtt_generation__co2e_n, 0) = 0
        THEN 'no_factor:wtt_generation'
        WHEN e.wtt_generation__co2e_n > 1
        THEN 'ambiguous_factor:wtt_generation'
        WHEN COALESCE(e.wtt_td_losses__co2e_n, 0) = 0
        THEN 'no_factor:wtt_td_losses'
        WHEN e.wtt_td_losses__co2e_n > 1
        THEN 'ambiguous_factor:wtt_td_losses'
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
  CASE WHEN NOT c.problem IS NULL THEN c.wtt_generation__key_region END AS wtt_generation__key_region,
  CASE WHEN NOT c.problem IS NULL THEN c.td_losses__key_region END AS td_losses__key_region,
  CASE WHEN NOT c.problem IS NULL THEN c.wtt_td_losses__key_region END AS wtt_td_losses__key_region,
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
  'scope3.cat3.fuel_energy.electricity',
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
  'scope3.cat3.fuel_energy.electricity',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'no electricity consumed in the period' END
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
  'scope3.cat3.fuel_energy.electricity',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:wtt_generation'
    THEN 'no emission factor found for lookup ''wtt_generation'' in desnz-2024 per kWh (level1 = ''WTT- UK electricity'', level2 = ''WTT- UK electricity (generation)''' || ', region (or a parent region) = ' || COALESCE('''' || e.wtt_generation__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:wtt_generation'
    THEN 'more than one emission factor matches lookup ''wtt_generation'' in desnz-2024 per kWh (level1 = ''WTT- UK electricity'', level2 = ''WTT- UK electricity (generation)''' || ', region (or a parent region) = ' || COALESCE('''' || e.wtt_generation__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:td_losses'
    THEN 'no emission factor found for lookup ''td_losses'' in desnz-2024 per kWh (level1 = ''Transmission and distribution'', level2 = ''T&D- UK electricity''' || ', region (or a parent region) = ' || COALESCE('''' || e.td_losses__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:td_losses'
    THEN 'more than one emission factor matches lookup ''td_losses'' in desnz-2024 per kWh (level1 = ''Transmission and distribution'', level2 = ''T&D- UK electricity''' || ', region (or a parent region) = ' || COALESCE('''' || e.td_losses__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:wtt_td_losses'
    THEN 'no emission factor found for lookup ''wtt_td_losses'' in desnz-2024 per kWh (level1 = ''WTT- UK electricity'', level2 = ''WTT- UK electricity (T&D)''' || ', region (or a parent region) = ' || COALESCE('''' || e.wtt_td_losses__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:wtt_td_losses'
    THEN 'more than one emission factor matches lookup ''wtt_td_losses'' in desnz-2024 per kWh (level1 = ''WTT- UK electricity'', level2 = ''WTT- UK electricity (T&D)''' || ', region (or a parent region) = ' || COALESCE('''' || e.wtt_td_losses__key_region || '''', '(empty)') || ')'
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
    FROM ccf.activity_electricity
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
      AND activity_type = 'electricity'
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
