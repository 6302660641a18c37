-- ccf compiled SQL for scope3.cat1.purchased_goods.hybrid@1.0.0 (published)
-- Scope 3 category 1 purchased goods and services, hybrid method
-- content hash sha256:5437b5f241965a8b1804abe712334b078e56c31a76d49206f66bb41819c5c5d5
-- activity type hybrid_purchases; factor set desnz-2024; GWP AR5
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
    a.product,
    a.supplier,
    a.component,
    a.item,
    a.reported_emissions * unit_reported_emissions.factor AS reported_emissions,
    a.energy * unit_energy.factor AS energy,
    a.factor_per_kwh,
    a.mass * unit_mass.factor AS mass,
    a.items,
    a.distance * unit_distance.factor AS distance,
    a.factor_per_kg,
    a.factor_per_item,
    a.factor_per_tkm * 0.000001 AS factor_per_tkm,
    a.allocation_share * 0.01 AS allocation_share,
    a.allocation_basis,
    a.factor_source,
    CONCAT_WS('; ', unit_reported_emissions.note, unit_energy.note, unit_mass.note, unit_distance.note) AS unit_conversion,
    a.energy * unit_energy.x1_3600000 AS energy__x1_3600000
  FROM ccf.activity_hybrid_purchases AS a
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'reported_emissions gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'reported_emissions in kgCO2e'),
    ('tCO2e', 1000, 'reported_emissions tCO2e→kgCO2e ×1000')) AS unit_reported_emissions("unit", factor, note)
    ON unit_reported_emissions."unit" = a.reported_emissions_unit
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'energy Btu→kWh ×52752792631/180000000000000', NULL),
    ('GJ', 1000000000, 'energy GJ→kWh ×2500/9', NULL),
    ('GWh', 3600000000000, 'energy GWh→kWh ×1000000', 1000000),
    ('J', 1, 'energy J→kWh ×1/3600000', NULL),
    ('MJ', 1000000, 'energy MJ→kWh ×5/18', NULL),
    ('MWh', 3600000000, 'energy MWh→kWh ×1000', 1000),
    ('TJ', 1000000000000, 'energy TJ→kWh ×2500000/9', NULL),
    ('Wh', 3600, 'energy Wh→kWh ×0.001', 0.001),
    ('kJ', 1000, 'energy kJ→kWh ×1/3600', NULL),
    ('kWh', 3600000, 'energy in kWh', 1),
    ('mmBtu', 1055055852.62, 'energy mmBtu→kWh ×52752792631/180000000', NULL),
    ('therm', 105505585.257348, 'energy therm→kWh ×29.30710701593', NULL),
    ('therm_US', 105480400, 'energy therm_US→kWh ×263701/9000', NULL)) AS unit_energy("unit", factor, note, x1_3600000)
    ON unit_energy."unit" = a.energy_unit
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
), joined AS NOT MATERIALIZED (
  SELECT
    a.*
  FROM activity AS a
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.category <> 1
      THEN 1 /* rule other_category */
      WHEN (
        (
          j.mass = 0
        ) OR (
          j.items = 0
        )
      ) OR (
        j.energy = 0
      )
      THEN 2 /* rule nothing_bought */
      WHEN (
        NOT j.reported_emissions IS NULL
      )
      AND (
        (
          (
            (
              NOT j.energy IS NULL
            ) OR (
              NOT j.mass IS NULL
            )
          )
          OR (
            NOT j.items IS NULL
          )
        )
        OR (
          NOT j.distance IS NULL
        )
      )
      THEN 3 /* rule reported_and_quantity */
      WHEN j.component IN ('supplier_scope_1_2', 'supplier_waste', 'material_input', 'input_transport')
      AND (
        NOT j.reported_emissions IS NULL
      )
      THEN 4 /* rule supplier_reported */
      WHEN (
        j.component = 'supplier_scope_1_2'
      ) AND (
        NOT j.energy IS NULL
      )
      THEN 5 /* rule supplier_energy */
      WHEN (
        j.component = 'input_transport'
      ) AND (
        NOT j.distance IS NULL
      )
      THEN 6 /* rule input_transport */
      WHEN j.component IN ('supplier_waste', 'material_input') AND (
        NOT j.mass IS NULL
      )
      THEN 7 /* rule supplier_by_mass */
      WHEN (
        j.component = 'material_input'
      ) AND (
        NOT j.items IS NULL
      )
      THEN 8 /* rule input_by_items */
      WHEN (
        j.component = 'remaining_cradle_to_gate'
      ) AND (
        NOT j.mass IS NULL
      )
      THEN 9 /* rule remaining_by_mass */
      WHEN (
        j.component = 'remaining_cradle_to_gate'
      ) AND (
        NOT j.items IS NULL
      )
      THEN 10 /* rule remaining_by_items */
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
      THEN 'reported_and_quantity'
      WHEN 4
      THEN 'supplier_reported'
      WHEN 5
      THEN 'supplier_energy'
      WHEN 6
      THEN 'input_transport'
      WHEN 7
      THEN 'supplier_by_mass'
      WHEN 8
      THEN 'input_by_items'
      WHEN 9
      THEN 'remaining_by_mass'
      WHEN 10
      THEN 'remaining_by_items'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not a category 1 purchase (capital goods are category 2)'
      WHEN 2
      THEN 'zero quantity in the period'
      WHEN 3
      THEN 'both reported emissions and a quantity with its factor are given; give one'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no
      WHEN 4
      THEN r.reported_emissions * r.allocation_share
      WHEN 5
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(
          (
            (
              r.energy * r.factor_per_kwh
            ) * CAST(1 AS DECIMAL)
          ) * r.allocation_share,
          3600000
        )
        ELSE ROUND(
          r.energy__x1_3600000 * r.factor_per_kwh * CAST(1 AS DECIMAL) * r.allocation_share,
          20
        )
      END
      WHEN 6
      THEN (
        (
          r.mass * r.distance
        ) * r.factor_per_tkm
      ) * r.allocation_share
      WHEN 7
      THEN (
        r.mass * r.factor_per_kg
      ) * r.allocation_share
      WHEN 8
      THEN (
        r.items * r.factor_per_item
      ) * r.allocation_share
      WHEN 9
      THEN r.mass * r.factor_per_kg
      WHEN 10
      THEN r.items * r.factor_per_item
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 6
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 7
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 8
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 9
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 10
      THEN CAST(ARRAY[] AS TEXT[])
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 4
      THEN 'no factor'
      WHEN 5
      THEN 'no factor'
      WHEN 6
      THEN 'no factor'
      WHEN 7
      THEN 'no factor'
      WHEN 8
      THEN 'no factor'
      WHEN 9
      THEN 'no factor'
      WHEN 10
      THEN 'no factor'
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 4
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 5
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 6
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 7
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 8
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 9
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 10
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
  'scope3.cat1.purchased_goods.hybrid',
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
  'scope3.cat1.purchased_goods.hybrid',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not a category 1 purchase (capital goods are category 2)'
    WHEN 2
    THEN 'zero quantity in the period'
    WHEN 3
    THEN 'both reported emissions and a quantity with its factor are given; give one'
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
  'scope3.cat1.purchased_goods.hybrid',
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
    FROM ccf.activity_hybrid_purchases
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
      AND activity_type = 'hybrid_purchases'
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
