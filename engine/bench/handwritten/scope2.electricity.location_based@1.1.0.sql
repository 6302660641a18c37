-- Hand-written SQL for scope2.electricity.location_based@1.1.0, as an expert would write it for
-- the same computation: `ccf bench` runs it beside the compiled SQL and compares totals.
-- Same numeric semantics (docs/numeric-semantics.md): energy given in a unit that is a finite
-- decimal multiple of kWh is multiplied into kWh and rounded as ccf.div rounds (ROUND(…, 20));
-- any other unit goes through joules and one ccf.div to kWh.
-- Parameters: %(run_id)s, %(dataset)s, %(factor_set_id)s.

-- results: one row per UK row, its three gases as columns (the grid's per-gas factors, kg CO2e per kWh)
INSERT INTO ccf.result_row (
  run_id, methodology_id, activity_id, entity, period_start, rule_id, unit_conversion, total_co2e_kg,
  co2_co2e_kg, co2_factor_ids, co2_match_level, ch4_co2e_kg, ch4_factor_ids, ch4_match_level,
  n2o_co2e_kg, n2o_factor_ids, n2o_match_level
)
WITH energy_unit (unit, joules, kwh, note) AS (
  VALUES
    ('Btu', 1055.05585262, NULL, 'quantity Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, NULL, 'quantity GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 1000000, 'quantity GWh→kWh ×1000000'),
    ('J', 1, NULL, 'quantity J→kWh ×1/3600000'),
    ('MJ', 1000000, NULL, 'quantity MJ→kWh ×5/18'),
    ('MWh', 3600000000, 1000, 'quantity MWh→kWh ×1000'),
    ('TJ', 1000000000000, NULL, 'quantity TJ→kWh ×2500000/9'),
    ('Wh', 3600, 0.001, 'quantity Wh→kWh ×0.001'),
    ('kJ', 1000, NULL, 'quantity kJ→kWh ×1/3600'),
    ('kWh', 3600000, 1, 'quantity in kWh'),
    ('mmBtu', 1055055852.62, NULL, 'quantity mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 29.30710701593, 'quantity therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, NULL, 'quantity therm_US→kWh ×263701/9000')
), grid AS (
  SELECT
    MIN(f.value) FILTER (WHERE f.gas = 'CO2') AS co2, MIN(f.factor_id) FILTER (WHERE f.gas = 'CO2') AS co2_id,
    MIN(f.value) FILTER (WHERE f.gas = 'CH4') AS ch4, MIN(f.factor_id) FILTER (WHERE f.gas = 'CH4') AS ch4_id,
    MIN(f.value) FILTER (WHERE f.gas = 'N2O') AS n2o, MIN(f.factor_id) FILTER (WHERE f.gas = 'N2O') AS n2o_id
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s
    AND f.unit = 'kWh'
    AND f.gas IN ('CO2', 'CH4', 'N2O')
    AND f.attributes ->> 'level1' = 'UK electricity'
    AND f.attributes ->> 'level3' = 'Electricity: UK'
), computed AS (
  SELECT
    a.activity_id, a.entity, a.period_start, u.note,
    CASE WHEN u.kwh IS NULL THEN ccf.div(a.quantity * u.joules * g.co2, 3600000) ELSE ROUND(a.quantity * u.kwh * g.co2, 20) END AS co2,
    g.co2_id,
    CASE WHEN u.kwh IS NULL THEN ccf.div(a.quantity * u.joules * g.ch4, 3600000) ELSE ROUND(a.quantity * u.kwh * g.ch4, 20) END AS ch4,
    g.ch4_id,
    CASE WHEN u.kwh IS NULL THEN ccf.div(a.quantity * u.joules * g.n2o, 3600000) ELSE ROUND(a.quantity * u.kwh * g.n2o, 20) END AS n2o,
    g.n2o_id
  FROM ccf.activity_electricity AS a
  JOIN energy_unit AS u ON u.unit = a.quantity_unit
  CROSS JOIN grid AS g
  WHERE a.dataset = %(dataset)s AND a.quantity <> 0 AND a.country = 'GB'
  OFFSET 0
)
SELECT
  %(run_id)s, 'scope2.electricity.location_based', c.activity_id, c.entity, c.period_start, 'uk_grid', c.note,
  c.co2 + c.ch4 + c.n2o,
  c.co2, ARRAY[c.co2_id], 'exact', c.ch4, ARRAY[c.ch4_id], 'exact', c.n2o, ARRAY[c.n2o_id], 'exact'
FROM computed AS c;

-- excluded: nothing consumed
INSERT INTO ccf.excluded (run_id, methodology_id, activity_id, rule_id, reason)
SELECT %(run_id)s, 'scope2.electricity.location_based', a.activity_id, 'zero_consumption',
  'no electricity consumed in the period'
FROM ccf.activity_electricity AS a
WHERE a.dataset = %(dataset)s AND a.quantity = 0;

-- unmatched: every other row (outside the UK grid: no rule applies)
INSERT INTO ccf.unmatched (run_id, methodology_id, activity_id, rule_id, reason_code, reason)
SELECT %(run_id)s, 'scope2.electricity.location_based', a.activity_id, NULL, 'no_rule',
  'no rule applies to this row'
FROM ccf.activity_electricity AS a
WHERE a.dataset = %(dataset)s AND a.quantity <> 0 AND a.country IS DISTINCT FROM 'GB';
