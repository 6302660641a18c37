-- Hand-written SQL for scope3.cat6.business_travel@2.0.0, as an expert would write it for the
-- same computation: `ccf bench` runs it beside the compiled SQL and compares totals.
-- Distances in metres (docs/numeric-semantics.md); flights with radiative forcing. Each kind of
-- journey keys its factor by two attributes, so one hash join serves all four kinds.
-- Parameters: %(run_id)s, %(dataset)s, %(factor_set_id)s.

-- results: each journey × the factor of its kind and keys
INSERT INTO ccf.result_row (
  run_id, methodology_id, activity_id, entity, period_start, rule_id, unit_conversion, total_co2e_kg,
  co2e_co2e_kg, co2e_factor_ids, co2e_match_level
)
WITH distance_unit (unit, metres, note) AS (
  VALUES
    ('cm', 0.01, 'distance cm→km ×0.00001'),
    ('km', 1000, 'distance in km'),
    ('m', 1, 'distance m→km ×0.001'),
    ('mile', 1609.344, 'distance mile→km ×1.609344'),
    ('miles', 1609.344, 'distance miles→km ×1.609344'),
    ('nmi', 1852, 'distance nmi→km ×1.852')
), travel_factor AS (
  SELECT 'air' AS kind, f.attributes ->> 'level3' AS k1, f.attributes ->> 'level4' AS k2, f.factor_id, f.value
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'passenger.km'
    AND f.attributes ->> 'level1' = 'Business travel- air' AND f.attributes ->> 'level2' = 'Flights'
    AND f.attributes ->> 'column_text' = 'With RF'
  UNION ALL
  SELECT 'land', f.attributes ->> 'level2', f.attributes ->> 'level3', f.factor_id, f.value
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'passenger.km'
    AND f.attributes ->> 'level1' = 'Business travel- land'
  UNION ALL
  SELECT 'ferry', f.attributes ->> 'level3', '', f.factor_id, f.value
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'passenger.km'
    AND f.attributes ->> 'level1' = 'Business travel- sea' AND f.attributes ->> 'level2' = 'Ferry'
  UNION ALL
  SELECT 'car', f.attributes ->> 'level3', f.attributes ->> 'column_text', f.factor_id, f.value
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'km'
    AND f.attributes ->> 'level1' = 'Business travel- land' AND f.attributes ->> 'level2' = 'Cars (by size)'
), journey AS (
  SELECT
    a.activity_id, a.entity, a.period_start, u.note,
    CASE a.mode WHEN 'air' THEN 'air' WHEN 'rail' THEN 'land' WHEN 'bus' THEN 'land' WHEN 'taxi' THEN 'land'
      WHEN 'ferry' THEN 'ferry' WHEN 'car' THEN 'car' END AS kind,
    CASE a.mode
      WHEN 'air' THEN a.service WHEN 'rail' THEN 'Rail' WHEN 'bus' THEN 'Bus' WHEN 'taxi' THEN 'Taxis'
      WHEN 'ferry' THEN COALESCE(a.service, 'Average (all passenger)') WHEN 'car' THEN COALESCE(a.service, 'Average car')
    END AS k1,
    CASE a.mode
      WHEN 'air' THEN COALESCE(a.cabin_class, 'Average passenger') WHEN 'ferry' THEN ''
      WHEN 'car' THEN COALESCE(a.fuel, 'Unknown') ELSE a.service
    END AS k2,
    CASE a.mode WHEN 'car' THEN a.distance * u.metres ELSE a.distance * u.metres * COALESCE(a.travellers, 1) END AS metres
  FROM ccf.activity_business_travel AS a
  JOIN distance_unit AS u ON u.unit = a.distance_unit
  WHERE a.dataset = %(dataset)s AND a.distance <> 0
)
SELECT
  %(run_id)s, 'scope3.cat6.business_travel', j.activity_id, j.entity, j.period_start,
  CASE j.kind WHEN 'land' THEN 'rail_bus_taxi' ELSE j.kind END, j.note,
  j.metres * f.value * 0.001, j.metres * f.value * 0.001, ARRAY[f.factor_id], 'exact'
FROM journey AS j
JOIN travel_factor AS f ON f.kind = j.kind AND f.k1 = j.k1 AND f.k2 = j.k2;

-- excluded: journeys with no distance
INSERT INTO ccf.excluded (run_id, methodology_id, activity_id, rule_id, reason)
SELECT %(run_id)s, 'scope3.cat6.business_travel', a.activity_id, 'no_distance',
  'journey with no distance (cancelled or refunded booking)'
FROM ccf.activity_business_travel AS a
WHERE a.dataset = %(dataset)s AND a.distance = 0;

-- unmatched: an unknown mode (no rule), or a journey whose keys no factor has
INSERT INTO ccf.unmatched (run_id, methodology_id, activity_id, rule_id, reason_code, reason)
WITH travel_factor AS (
  SELECT 'air' AS kind, f.attributes ->> 'level3' AS k1, f.attributes ->> 'level4' AS k2
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'passenger.km'
    AND f.attributes ->> 'level1' = 'Business travel- air' AND f.attributes ->> 'level2' = 'Flights'
    AND f.attributes ->> 'column_text' = 'With RF'
  UNION ALL
  SELECT 'land', f.attributes ->> 'level2', f.attributes ->> 'level3'
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'passenger.km'
    AND f.attributes ->> 'level1' = 'Business travel- land'
  UNION ALL
  SELECT 'ferry', f.attributes ->> 'level3', ''
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'passenger.km'
    AND f.attributes ->> 'level1' = 'Business travel- sea' AND f.attributes ->> 'level2' = 'Ferry'
  UNION ALL
  SELECT 'car', f.attributes ->> 'level3', f.attributes ->> 'column_text'
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s AND f.gas = 'CO2e' AND f.unit = 'km'
    AND f.attributes ->> 'level1' = 'Business travel- land' AND f.attributes ->> 'level2' = 'Cars (by size)'
), journey AS (
  SELECT
    a.activity_id, a.mode,
    CASE a.mode WHEN 'air' THEN 'air' WHEN 'rail' THEN 'land' WHEN 'bus' THEN 'land' WHEN 'taxi' THEN 'land'
      WHEN 'ferry' THEN 'ferry' WHEN 'car' THEN 'car' END AS kind,
    CASE a.mode
      WHEN 'air' THEN a.service WHEN 'rail' THEN 'Rail' WHEN 'bus' THEN 'Bus' WHEN 'taxi' THEN 'Taxis'
      WHEN 'ferry' THEN COALESCE(a.service, 'Average (all passenger)') WHEN 'car' THEN COALESCE(a.service, 'Average car')
    END AS k1,
    CASE a.mode
      WHEN 'air' THEN COALESCE(a.cabin_class, 'Average passenger') WHEN 'ferry' THEN ''
      WHEN 'car' THEN COALESCE(a.fuel, 'Unknown') ELSE a.service
    END AS k2
  FROM ccf.activity_business_travel AS a
  WHERE a.dataset = %(dataset)s AND a.distance <> 0
)
SELECT
  %(run_id)s, 'scope3.cat6.business_travel', j.activity_id,
  CASE j.kind WHEN 'land' THEN 'rail_bus_taxi' ELSE j.kind END,
  CASE WHEN j.kind IS NULL THEN 'no_rule' ELSE 'no_factor' END,
  CASE WHEN j.kind IS NULL THEN 'no rule applies to this row' ELSE 'no emission factor found for this journey' END
FROM journey AS j
WHERE NOT EXISTS (SELECT 1 FROM travel_factor AS f WHERE f.kind = j.kind AND f.k1 = j.k1 AND f.k2 = j.k2);
