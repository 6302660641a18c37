-- Hand-written SQL for scope1.stationary_combustion@1.1.0, as an expert would write it for the
-- same computation: `ccf bench` runs it beside the compiled SQL and compares totals.
-- Same numeric semantics (docs/numeric-semantics.md): quantities in base units (J, m3, kg); energy
-- given in a finite decimal multiple of kWh multiplied into kWh and rounded as ccf.div rounds
-- (ROUND(…, 20)), other energy through one ccf.div to kWh.
-- Parameters: %(run_id)s, %(dataset)s, %(factor_set_id)s.

-- results: one row per fuel row, its three gases as columns (its fuel's factors in the unit its amount is in)
INSERT INTO ccf.result_row (
  run_id, methodology_id, activity_id, entity, period_start, rule_id, unit_conversion, total_co2e_kg,
  co2_co2e_kg, co2_factor_ids, co2_match_level, ch4_co2e_kg, ch4_factor_ids, ch4_match_level,
  n2o_co2e_kg, n2o_factor_ids, n2o_match_level
)
WITH energy_unit (unit, joules, kwh, note) AS (
  VALUES
    ('Btu', 1055.05585262, NULL, 'energy Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, NULL, 'energy GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 1000000, 'energy GWh→kWh ×1000000'),
    ('J', 1, NULL, 'energy J→kWh ×1/3600000'),
    ('MJ', 1000000, NULL, 'energy MJ→kWh ×5/18'),
    ('MWh', 3600000000, 1000, 'energy MWh→kWh ×1000'),
    ('TJ', 1000000000000, NULL, 'energy TJ→kWh ×2500000/9'),
    ('Wh', 3600, 0.001, 'energy Wh→kWh ×0.001'),
    ('kJ', 1000, NULL, 'energy kJ→kWh ×1/3600'),
    ('kWh', 3600000, 1, 'energy in kWh'),
    ('mmBtu', 1055055852.62, NULL, 'energy mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 29.30710701593, 'energy therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, NULL, 'energy therm_US→kWh ×263701/9000')
), volume_unit (unit, m3, note) AS (
  VALUES
    ('L', 0.001, 'volume in L'),
    ('gal_UK', 0.00454609, 'volume gal_UK→L ×4.54609'),
    ('gal_US', 0.003785411784, 'volume gal_US→L ×3.785411784'),
    ('litre', 0.001, 'volume in litre'),
    ('litres', 0.001, 'volume in litres'),
    ('m3', 1, 'volume m3→L ×1000'),
    ('megalitre', 1000, 'volume megalitre→L ×1000000'),
    ('scf', 0.028316846592, 'volume scf→L ×28.316846592')
), mass_unit (unit, kg, note) AS (
  VALUES
    ('g', 0.001, 'mass g→kg ×0.001'),
    ('kg', 1, 'mass in kg'),
    ('lb', 0.45359237, 'mass lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'mass long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'mass short_ton→kg ×907.18474'),
    ('t', 1000, 'mass t→kg ×1000'),
    ('tonne', 1000, 'mass tonne→kg ×1000'),
    ('tonnes', 1000, 'mass tonnes→kg ×1000')
), fuel_factor AS (
  -- one row per fuel and unit, its three gases as columns
  SELECT f.attributes ->> 'level3' AS fuel, f.unit,
    MIN(f.value) FILTER (WHERE f.gas = 'CO2') AS co2, MIN(f.factor_id) FILTER (WHERE f.gas = 'CO2') AS co2_id,
    MIN(f.value) FILTER (WHERE f.gas = 'CH4') AS ch4, MIN(f.factor_id) FILTER (WHERE f.gas = 'CH4') AS ch4_id,
    MIN(f.value) FILTER (WHERE f.gas = 'N2O') AS n2o, MIN(f.factor_id) FILTER (WHERE f.gas = 'N2O') AS n2o_id
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s
    AND f.gas IN ('CO2', 'CH4', 'N2O')
    AND f.attributes ->> 'level1' = 'Fuels'
    AND (f.unit IN ('L', 'm3', 't') OR (f.unit = 'kWh' AND f.attributes ->> 'cv_basis' = 'Gross CV'))
  GROUP BY 1, 2
), burned AS (
  SELECT
    a.activity_id, a.entity, a.period_start, a.fuel,
    a.energy * eu.joules AS joules, a.energy * eu.kwh AS kwh, a.volume * vu.m3 AS m3, a.mass * mu.kg AS kg,
    CASE
      WHEN a.energy IS NOT NULL THEN 'kWh'
      WHEN a.volume IS NOT NULL AND a.fuel IN ('Natural gas', 'CNG', 'Biogas', 'Landfill gas') THEN 'm3'
      WHEN a.volume IS NOT NULL THEN 'L'
      WHEN a.mass IS NOT NULL THEN 't'
    END AS per,
    CONCAT_WS('; ', eu.note, vu.note, mu.note) AS note
  FROM ccf.activity_stationary_fuel AS a
  LEFT JOIN energy_unit AS eu ON eu.unit = a.energy_unit
  LEFT JOIN volume_unit AS vu ON vu.unit = a.volume_unit
  LEFT JOIN mass_unit AS mu ON mu.unit = a.mass_unit
  WHERE a.dataset = %(dataset)s AND (a.energy = 0 OR a.volume = 0 OR a.mass = 0) IS NOT TRUE
), computed AS (
  SELECT
    b.activity_id, b.entity, b.period_start, b.note,
    CASE b.per WHEN 'kWh' THEN 'by_energy' WHEN 'm3' THEN 'gas_by_volume' WHEN 'L' THEN 'liquid_by_volume' ELSE 'by_mass' END AS rule_id,
    CASE b.per
      WHEN 'kWh' THEN CASE WHEN b.kwh IS NULL THEN ccf.div(b.joules * f.co2, 3600000) ELSE ROUND(b.kwh * f.co2, 20) END
      WHEN 'm3' THEN b.m3 * f.co2
      WHEN 'L' THEN b.m3 * f.co2 * 1000 ELSE b.kg * f.co2 * 0.001
    END AS co2,
    CASE b.per
      WHEN 'kWh' THEN CASE WHEN b.kwh IS NULL THEN ccf.div(b.joules * f.ch4, 3600000) ELSE ROUND(b.kwh * f.ch4, 20) END
      WHEN 'm3' THEN b.m3 * f.ch4
      WHEN 'L' THEN b.m3 * f.ch4 * 1000 ELSE b.kg * f.ch4 * 0.001
    END AS ch4,
    CASE b.per
      WHEN 'kWh' THEN CASE WHEN b.kwh IS NULL THEN ccf.div(b.joules * f.n2o, 3600000) ELSE ROUND(b.kwh * f.n2o, 20) END
      WHEN 'm3' THEN b.m3 * f.n2o
      WHEN 'L' THEN b.m3 * f.n2o * 1000 ELSE b.kg * f.n2o * 0.001
    END AS n2o,
    f.co2_id, f.ch4_id, f.n2o_id
  FROM burned AS b
  JOIN fuel_factor AS f ON f.fuel = b.fuel AND f.unit = b.per
  OFFSET 0
)
SELECT
  %(run_id)s, 'scope1.stationary_combustion', c.activity_id, c.entity, c.period_start, c.rule_id, c.note,
  c.co2 + c.ch4 + c.n2o,
  c.co2, ARRAY[c.co2_id], 'exact', c.ch4, ARRAY[c.ch4_id], 'exact', c.n2o, ARRAY[c.n2o_id], 'exact'
FROM computed AS c;

-- excluded: zero fuel use
INSERT INTO ccf.excluded (run_id, methodology_id, activity_id, rule_id, reason)
SELECT %(run_id)s, 'scope1.stationary_combustion', a.activity_id, 'nothing_burned', 'zero fuel use in the period'
FROM ccf.activity_stationary_fuel AS a
WHERE a.dataset = %(dataset)s AND (a.energy = 0 OR a.volume = 0 OR a.mass = 0);

-- unmatched: no amount at all (no rule), or a fuel without factors stated per the unit its amount is in
INSERT INTO ccf.unmatched (run_id, methodology_id, activity_id, rule_id, reason_code, reason)
WITH fuel_unit AS (
  SELECT DISTINCT f.attributes ->> 'level3' AS fuel, f.unit
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s
    AND f.gas IN ('CO2', 'CH4', 'N2O')
    AND f.attributes ->> 'level1' = 'Fuels'
    AND (f.unit IN ('L', 'm3', 't') OR (f.unit = 'kWh' AND f.attributes ->> 'cv_basis' = 'Gross CV'))
), burned AS (
  SELECT
    a.activity_id, a.fuel,
    CASE
      WHEN a.energy IS NOT NULL THEN 'kWh'
      WHEN a.volume IS NOT NULL AND a.fuel IN ('Natural gas', 'CNG', 'Biogas', 'Landfill gas') THEN 'm3'
      WHEN a.volume IS NOT NULL THEN 'L'
      WHEN a.mass IS NOT NULL THEN 't'
    END AS per
  FROM ccf.activity_stationary_fuel AS a
  WHERE a.dataset = %(dataset)s AND (a.energy = 0 OR a.volume = 0 OR a.mass = 0) IS NOT TRUE
)
SELECT
  %(run_id)s, 'scope1.stationary_combustion', b.activity_id,
  CASE b.per WHEN 'kWh' THEN 'by_energy' WHEN 'm3' THEN 'gas_by_volume' WHEN 'L' THEN 'liquid_by_volume' WHEN 't' THEN 'by_mass' END,
  CASE WHEN b.per IS NULL THEN 'no_rule' ELSE 'no_factor' END,
  CASE WHEN b.per IS NULL THEN 'no rule applies to this row' ELSE 'no emission factor found for this fuel' END
FROM burned AS b
WHERE NOT EXISTS (SELECT 1 FROM fuel_unit AS u WHERE u.fuel = b.fuel AND u.unit = b.per);
