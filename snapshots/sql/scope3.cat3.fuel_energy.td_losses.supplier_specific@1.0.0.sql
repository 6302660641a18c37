-- ccf compiled SQL for scope3.cat3.fuel_energy.td_losses.supplier_specific@1.0.0 (published)
-- Scope 3 category 3 (c) transmission and distribution losses, supplier-specific method
-- content hash sha256:11b4d27f695a590a109d8e87b2622412dd675cc47650b6d6cc88e93fe022f858
-- activity type energy_supplier_data; factor set desnz-2024; GWP AR5
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
    a.carrier,
    a.purpose,
    a.supplier,
    a.country,
    a.grid_region,
    a.energy * unit_energy.factor AS energy,
    a.volume * unit_volume.factor AS volume,
    a.mass * unit_mass.factor AS mass,
    a.upstream_factor_per_kwh,
    a.upstream_factor_per_litre * 1000 AS upstream_factor_per_litre,
    a.upstream_factor_per_kg,
    a.generation_factor,
    a.td_loss_rate * 0.01 AS td_loss_rate,
    a.factor_source,
    CONCAT_WS('; ', unit_energy.note, unit_volume.note, unit_mass.note) AS unit_conversion,
    a.energy * unit_energy.x1_3600000 AS energy__x1_3600000
  FROM ccf.activity_energy_supplier_data AS a
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
    ('L', 0.001, 'volume in L'),
    ('gal_UK', 0.00454609, 'volume gal_UK→L ×4.54609'),
    ('gal_US', 0.003785411784, 'volume gal_US→L ×3.785411784'),
    ('litre', 0.001, 'volume in litre'),
    ('litres', 0.001, 'volume in litres'),
    ('m3', 1, 'volume m3→L ×1000'),
    ('megalitre', 1000, 'volume megalitre→L ×1000000'),
    ('scf', 0.028316846592, 'volume scf→L ×28.316846592')) AS unit_volume("unit", factor, note)
    ON unit_volume."unit" = a.volume_unit
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
), joined AS NOT MATERIALIZED (
  SELECT
    a.*
  FROM activity AS a
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.purpose <> 'consumed'
      THEN 1 /* rule resold */
      WHEN NOT (
        j.carrier IN ('electricity', 'heat', 'steam', 'cooling')
      )
      THEN 2 /* rule a_fuel */
      WHEN (
        j.energy = 0
      ) OR (
        j.td_loss_rate = 0
      )
      THEN 3 /* rule nothing_consumed */
      WHEN TRUE
      THEN 4 /* rule losses */
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
      THEN 'resold'
      WHEN 2
      THEN 'a_fuel'
      WHEN 3
      THEN 'nothing_consumed'
      WHEN 4
      THEN 'losses'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'energy bought for resale is category 3 activity (d)'
      WHEN 2
      THEN 'a fuel bought has no transmission and distribution losses in category 3 (c)'
      WHEN 3
      THEN 'no energy consumed, or no losses, in the period'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no
      WHEN 4
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(
          (
            (
              r.energy * r.generation_factor
            ) * CAST(1 AS DECIMAL)
          ) * r.td_loss_rate,
          3600000
        )
        ELSE ROUND(
          r.energy__x1_3600000 * r.generation_factor * CAST(1 AS DECIMAL) * r.td_loss_rate,
          20
        )
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no WHEN 4 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS co2e_factor_ids,
    CASE r.rule_no WHEN 4 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no WHEN 4 THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END END AS problem
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
  'scope3.cat3.fuel_energy.td_losses.supplier_specific',
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
  'scope3.cat3.fuel_energy.td_losses.supplier_specific',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'energy bought for resale is category 3 activity (d)'
    WHEN 2
    THEN 'a fuel bought has no transmission and distribution losses in category 3 (c)'
    WHEN 3
    THEN 'no energy consumed, or no losses, in the period'
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
  'scope3.cat3.fuel_energy.td_losses.supplier_specific',
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
    FROM ccf.activity_energy_supplier_data
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
      AND activity_type = 'energy_supplier_data'
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
