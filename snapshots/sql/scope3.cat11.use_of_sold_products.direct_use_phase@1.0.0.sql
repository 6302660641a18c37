-- ccf compiled SQL for scope3.cat11.use_of_sold_products.direct_use_phase@1.0.0 (published)
-- Scope 3 category 11 use of sold products, direct use-phase emissions of energy-using products
-- content hash sha256:4f86cb3f4ec9d30e09f075baa986088ba275e9bacab06b24bd2bb39cf520cd41
-- activity type sold_products_use; factor set desnz-2024; GWP AR5
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
    a.lifetime_uses,
    a.energy_per_use * unit_energy_per_use.factor AS energy_per_use,
    a.fuel,
    a.fuel_per_use * unit_fuel_per_use.factor AS fuel_per_use,
    a.country,
    CONCAT_WS('; ', unit_energy_per_use.note, unit_fuel_per_use.note) AS unit_conversion,
    a.energy_per_use * unit_energy_per_use.x1_3600000 AS energy_per_use__x1_3600000
  FROM ccf.activity_sold_products_use AS a
  LEFT JOIN (VALUES
    (
      'Btu',
      1055.05585262,
      'energy_per_use Btu→kWh ×52752792631/180000000000000',
      NULL
    ),
    ('GJ', 1000000000, 'energy_per_use GJ→kWh ×2500/9', NULL),
    ('GWh', 3600000000000, 'energy_per_use GWh→kWh ×1000000', 1000000),
    ('J', 1, 'energy_per_use J→kWh ×1/3600000', NULL),
    ('MJ', 1000000, 'energy_per_use MJ→kWh ×5/18', NULL),
    ('MWh', 3600000000, 'energy_per_use MWh→kWh ×1000', 1000),
    ('TJ', 1000000000000, 'energy_per_use TJ→kWh ×2500000/9', NULL),
    ('Wh', 3600, 'energy_per_use Wh→kWh ×0.001', 0.001),
    ('kJ', 1000, 'energy_per_use kJ→kWh ×1/3600', NULL),
    ('kWh', 3600000, 'energy_per_use in kWh', 1),
    ('mmBtu', 1055055852.62, 'energy_per_use mmBtu→kWh ×52752792631/180000000', NULL),
    ('therm', 105505585.257348, 'energy_per_use therm→kWh ×29.30710701593', NULL),
    ('therm_US', 105480400, 'energy_per_use therm_US→kWh ×263701/9000', NULL)) AS unit_energy_per_use("unit", factor, note, x1_3600000)
    ON unit_energy_per_use."unit" = a.energy_per_use_unit
  LEFT JOIN (VALUES
    ('L', 0.001, 'fuel_per_use in L'),
    ('gal_UK', 0.00454609, 'fuel_per_use gal_UK→L ×4.54609'),
    ('gal_US', 0.003785411784, 'fuel_per_use gal_US→L ×3.785411784'),
    ('litre', 0.001, 'fuel_per_use in litre'),
    ('litres', 0.001, 'fuel_per_use in litres'),
    ('m3', 1, 'fuel_per_use m3→L ×1000'),
    ('megalitre', 1000, 'fuel_per_use megalitre→L ×1000000'),
    ('scf', 0.028316846592, 'fuel_per_use scf→L ×28.316846592')) AS unit_fuel_per_use("unit", factor, note)
    ON unit_fuel_per_use."unit" = a.fuel_per_use_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_grid_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    a.country AS key_region
  FROM activity AS a
), factor_grid_ranked AS NOT MATERIALIZED (
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
  FROM factor_grid_keys AS k
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
    AND f.attributes ->> 'level1' = 'UK electricity'
    AND f.attributes ->> 'level3' = 'Electricity: UK'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_grid AS MATERIALIZED (
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
  FROM factor_grid_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
), factor_fuel_per_litre_ranked AS NOT MATERIALIZED (
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
), factor_fuel_per_litre AS MATERIALIZED (
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
  FROM factor_fuel_per_litre_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_grid.co2e AS grid__co2e,
    f_grid.co2e_id AS grid__co2e_id,
    f_grid.co2e_n AS grid__co2e_n,
    f_grid.co2e_level AS grid__co2e_level,
    a.country AS grid__key_region,
    f_fuel_per_litre.co2e AS fuel_per_litre__co2e,
    f_fuel_per_litre.co2e_id AS fuel_per_litre__co2e_id,
    f_fuel_per_litre.co2e_n AS fuel_per_litre__co2e_n,
    f_fuel_per_litre.co2e_level AS fuel_per_litre__co2e_level,
    a.fuel AS fuel_per_litre__key_level3
  FROM activity AS a
  LEFT JOIN factor_grid AS f_grid
    ON a.country = f_grid.key_region
  LEFT JOIN factor_fuel_per_litre AS f_fuel_per_litre
    ON a.fuel = f_fuel_per_litre.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        j.units_sold = 0
      ) OR (
        j.lifetime_uses = 0
      )
      THEN 1 /* rule nothing_sold */
      WHEN NOT j.energy_per_use IS NULL
      THEN 2 /* rule electricity */
      WHEN NOT j.fuel_per_use IS NULL
      THEN 3 /* rule fuel */
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
      THEN 'electricity'
      WHEN 3
      THEN 'fuel'
    END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'no products sold, or products not used' END AS exclude_reason,
    r.data_quality,
    r.grid__co2e_n,
    r.grid__key_region,
    r.fuel_per_litre__co2e_n,
    r.fuel_per_litre__key_level3,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.energy_per_use__x1_3600000 IS NULL
        THEN ccf.div(
          (
            (
              r.units_sold * r.lifetime_uses
            ) * r.energy_per_use
          ) * r.grid__co2e,
          3600000
        )
        ELSE ROUND(r.energy_per_use__x1_3600000 * r.units_sold * r.lifetime_uses * r.grid__co2e, 20)
      END
      WHEN 3
      THEN (
        (
          (
            r.units_sold * r.lifetime_uses
          ) * r.fuel_per_use
        ) * r.fuel_per_litre__co2e
      ) * 1000
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.grid__co2e_id
      WHEN 3
      THEN r.fuel_per_litre__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.grid__co2e_level
      WHEN 3
      THEN r.fuel_per_litre__co2e_level
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
        WHEN COALESCE(e.grid__co2e_n, 0) = 0
        THEN 'no_factor:grid'
        WHEN e.grid__co2e_n > 1
        THEN 'ambiguous_factor:grid'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 3
      THEN CASE
        WHEN COALESCE(e.fuel_per_litre__co2e_n, 0) = 0
        THEN 'no_factor:fuel_per_litre'
        WHEN e.fuel_per_litre__co2e_n > 1
        THEN 'ambiguous_factor:fuel_per_litre'
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
  CASE WHEN NOT c.problem IS NULL THEN c.grid__key_region END AS grid__key_region,
  CASE WHEN NOT c.problem IS NULL THEN c.fuel_per_litre__key_level3 END AS fuel_per_litre__key_level3,
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
  'scope3.cat11.use_of_sold_products.direct_use_phase',
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
  'scope3.cat11.use_of_sold_products.direct_use_phase',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'no products sold, or products not used' END
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
  'scope3.cat11.use_of_sold_products.direct_use_phase',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:grid'
    THEN 'no emission factor found for lookup ''grid'' in desnz-2024 per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:grid'
    THEN 'more than one emission factor matches lookup ''grid'' in desnz-2024 per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:fuel_per_litre'
    THEN 'no emission factor found for lookup ''fuel_per_litre'' in desnz-2024 per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel_per_litre'
    THEN 'more than one emission factor matches lookup ''fuel_per_litre'' in desnz-2024 per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_litre__key_level3 || '''', '(empty)') || ')'
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
    FROM ccf.activity_sold_products_use
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
      AND activity_type = 'sold_products_use'
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
