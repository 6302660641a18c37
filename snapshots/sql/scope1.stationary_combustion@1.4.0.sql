-- ccf compiled SQL for scope1.stationary_combustion@1.4.0 (published)
-- Scope 1 stationary combustion, fuel-based, per gas, factors of the row's country
-- content hash sha256:bd4c6a09fd3bf0533810a99915d31a3de21019211c1e6404881d6ceee5129d3a
-- activity type stationary_fuel; factor set desnz; GWP AR5
-- parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s, %(factor_set_id__epa_per_mmbtu)s (epa-hub-2025), %(factor_set_id__epa_per_scf)s (epa-hub-2025), %(factor_set_id__epa_per_gallon)s (epa-hub-2025), %(factor_set_id__epa_per_short_ton)s (epa-hub-2025)
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
    a.fuel,
    a.country,
    a.energy * unit_energy.factor AS energy,
    a.volume * unit_volume.factor AS volume,
    a.mass * unit_mass.factor AS mass,
    CONCAT_WS('; ', unit_energy.note, unit_volume.note, unit_mass.note) AS unit_conversion,
    a.energy * unit_energy.x1_1055055852620 AS energy__x1_1055055852620,
    a.energy * unit_energy.x50_52752792631 AS energy__x50_52752792631,
    a.energy * unit_energy.x1_3600000 AS energy__x1_3600000,
    a.volume * unit_volume.x1953125_55306341 AS volume__x1953125_55306341,
    a.volume * unit_volume.x125000000_473176473 AS volume__x125000000_473176473,
    a.volume * unit_volume.x1953125000_55306341 AS volume__x1953125000_55306341,
    a.volume * unit_volume.x125000000000_473176473 AS volume__x125000000000_473176473,
    a.mass * unit_mass.x50_45359237 AS mass__x50_45359237,
    a.mass * unit_mass.x50000_45359237 AS mass__x50000_45359237
  FROM ccf.activity_stationary_fuel AS a
  LEFT JOIN (VALUES
    (
      'Btu',
      1055.05585262,
      'energy Btu→kWh ×52752792631/180000000000000',
      NULL,
      0.000001,
      NULL
    ),
    ('GJ', 1000000000, 'energy GJ→kWh ×2500/9', NULL, NULL, NULL),
    ('GWh', 3600000000000, 'energy GWh→kWh ×1000000', NULL, NULL, 1000000),
    ('J', 1, 'energy J→kWh ×1/3600000', NULL, NULL, NULL),
    ('MJ', 1000000, 'energy MJ→kWh ×5/18', NULL, NULL, NULL),
    ('MWh', 3600000000, 'energy MWh→kWh ×1000', NULL, NULL, 1000),
    ('TJ', 1000000000000, 'energy TJ→kWh ×2500000/9', NULL, NULL, NULL),
    ('Wh', 3600, 'energy Wh→kWh ×0.001', NULL, NULL, 0.001),
    ('kJ', 1000, 'energy kJ→kWh ×1/3600', NULL, NULL, NULL),
    ('kWh', 3600000, 'energy in kWh', NULL, NULL, 1),
    (
      'mmBtu',
      1055055852.62,
      'energy mmBtu→kWh ×52752792631/180000000',
      0.001,
      1,
      NULL
    ),
    ('therm', 105505585.257348, 'energy therm→kWh ×29.30710701593', NULL, NULL, NULL),
    ('therm_US', 105480400, 'energy therm_US→kWh ×263701/9000', NULL, NULL, NULL)) AS unit_energy("unit", factor, note, x1_1055055852620, x50_52752792631, x1_3600000)
    ON unit_energy."unit" = a.energy_unit
  LEFT JOIN (VALUES
    ('L', 0.001, 'volume in L', NULL, NULL, NULL, NULL),
    ('gal_UK', 0.00454609, 'volume gal_UK→L ×4.54609', NULL, NULL, NULL, NULL),
    ('gal_US', 0.003785411784, 'volume gal_US→L ×3.785411784', NULL, 0.001, NULL, 1),
    ('litre', 0.001, 'volume in litre', NULL, NULL, NULL, NULL),
    ('litres', 0.001, 'volume in litres', NULL, NULL, NULL, NULL),
    ('m3', 1, 'volume m3→L ×1000', NULL, NULL, NULL, NULL),
    ('megalitre', 1000, 'volume megalitre→L ×1000000', NULL, NULL, NULL, NULL),
    ('scf', 0.028316846592, 'volume scf→L ×28.316846592', 0.001, NULL, 1, NULL)) AS unit_volume("unit", factor, note, x1953125_55306341, x125000000_473176473, x1953125000_55306341, x125000000000_473176473)
    ON unit_volume."unit" = a.volume_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'mass g→kg ×0.001', NULL, NULL),
    ('kg', 1, 'mass in kg', NULL, NULL),
    ('lb', 0.45359237, 'mass lb→kg ×0.45359237', 0.0000005, 0.0005),
    ('long_ton', 1016.0469088, 'mass long_ton→kg ×1016.0469088', 0.00112, 1.12),
    ('short_ton', 907.18474, 'mass short_ton→kg ×907.18474', 0.001, 1),
    ('t', 1000, 'mass t→kg ×1000', NULL, NULL),
    ('tonne', 1000, 'mass tonne→kg ×1000', NULL, NULL),
    ('tonnes', 1000, 'mass tonnes→kg ×1000', NULL, NULL)) AS unit_mass("unit", factor, note, x50_45359237, x50000_45359237)
    ON unit_mass."unit" = a.mass_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_per_kwh_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'kWh'
      THEN f."value"
      ELSE ccf.div(f."value" * 3600000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'kWh' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'kWh') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'cv_basis' = 'Gross CV'
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_per_kwh AS MATERIALIZED (
  SELECT
    key_level3,
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
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level,
    COUNT(*) FILTER(WHERE
      gas = 'N2O') AS n2o_n,
    MIN("value") FILTER(WHERE
      gas = 'N2O') AS n2o,
    MIN(factor_id) FILTER(WHERE
      gas = 'N2O') AS n2o_id,
    MIN(match_level) FILTER(WHERE
      gas = 'N2O') AS n2o_level
  FROM factor_per_kwh_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_per_litre_ranked AS NOT MATERIALIZED (
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
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_per_litre AS MATERIALIZED (
  SELECT
    key_level3,
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
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level,
    COUNT(*) FILTER(WHERE
      gas = 'N2O') AS n2o_n,
    MIN("value") FILTER(WHERE
      gas = 'N2O') AS n2o,
    MIN(factor_id) FILTER(WHERE
      gas = 'N2O') AS n2o_id,
    MIN(match_level) FILTER(WHERE
      gas = 'N2O') AS n2o_level
  FROM factor_per_litre_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_per_m3_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 'm3' THEN f."value" ELSE ccf.div(f."value" * 1, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'm3' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'm3') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^3'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_per_m3 AS MATERIALIZED (
  SELECT
    key_level3,
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
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level,
    COUNT(*) FILTER(WHERE
      gas = 'N2O') AS n2o_n,
    MIN("value") FILTER(WHERE
      gas = 'N2O') AS n2o,
    MIN(factor_id) FILTER(WHERE
      gas = 'N2O') AS n2o_id,
    MIN(match_level) FILTER(WHERE
      gas = 'N2O') AS n2o_level
  FROM factor_per_m3_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_per_tonne_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 't' THEN f."value" ELSE ccf.div(f."value" * 1000, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 't' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 't') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_per_tonne AS MATERIALIZED (
  SELECT
    key_level3,
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
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level,
    COUNT(*) FILTER(WHERE
      gas = 'N2O') AS n2o_n,
    MIN("value") FILTER(WHERE
      gas = 'N2O') AS n2o,
    MIN(factor_id) FILTER(WHERE
      gas = 'N2O') AS n2o_id,
    MIN(match_level) FILTER(WHERE
      gas = 'N2O') AS n2o_level
  FROM factor_per_tonne_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_epa_per_mmbtu_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'fuel_type' AS key_fuel_type,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'mmBtu'
      THEN f."value"
      ELSE ccf.div(f."value" * 1055055852.62, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'mmBtu' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'fuel_type', f.gas ORDER BY f."unit" <> 'mmBtu') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id__epa_per_mmbtu)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CH4', 'CO2', 'N2O')
    AND f.attributes ->> 'table' = '1'
), factor_epa_per_mmbtu AS MATERIALIZED (
  SELECT
    key_fuel_type,
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
  FROM factor_epa_per_mmbtu_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_fuel_type
), factor_epa_per_scf_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'fuel_type' AS key_fuel_type,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'scf'
      THEN f."value"
      ELSE ccf.div(f."value" * 0.028316846592, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'scf' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'fuel_type', f.gas ORDER BY f."unit" <> 'scf') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id__epa_per_scf)s
    AND fu.dimension = 'm^3'
    AND f.gas IN ('CH4', 'CO2', 'N2O')
    AND f.attributes ->> 'table' = '1'
), factor_epa_per_scf AS MATERIALIZED (
  SELECT
    key_fuel_type,
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
  FROM factor_epa_per_scf_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_fuel_type
), factor_epa_per_gallon_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'fuel_type' AS key_fuel_type,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'gal_US'
      THEN f."value"
      ELSE ccf.div(f."value" * 0.003785411784, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'gal_US' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'fuel_type', f.gas ORDER BY f."unit" <> 'gal_US') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id__epa_per_gallon)s
    AND fu.dimension = 'm^3'
    AND f.gas IN ('CH4', 'CO2', 'N2O')
    AND f.attributes ->> 'table' = '1'
), factor_epa_per_gallon AS MATERIALIZED (
  SELECT
    key_fuel_type,
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
  FROM factor_epa_per_gallon_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_fuel_type
), factor_epa_per_short_ton_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'fuel_type' AS key_fuel_type,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'short_ton'
      THEN f."value"
      ELSE ccf.div(f."value" * 907.18474, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'short_ton' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'fuel_type', f.gas ORDER BY f."unit" <> 'short_ton') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id__epa_per_short_ton)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CH4', 'CO2', 'N2O')
    AND f.attributes ->> 'table' = '1'
), factor_epa_per_short_ton AS MATERIALIZED (
  SELECT
    key_fuel_type,
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
  FROM factor_epa_per_short_ton_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_fuel_type
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
    f_per_kwh.ch4 AS per_kwh__ch4,
    f_per_kwh.ch4_id AS per_kwh__ch4_id,
    f_per_kwh.ch4_n AS per_kwh__ch4_n,
    f_per_kwh.ch4_level AS per_kwh__ch4_level,
    f_per_kwh.co2 AS per_kwh__co2,
    f_per_kwh.co2_id AS per_kwh__co2_id,
    f_per_kwh.co2_n AS per_kwh__co2_n,
    f_per_kwh.co2_level AS per_kwh__co2_level,
    f_per_kwh.co2e AS per_kwh__co2e,
    f_per_kwh.co2e_id AS per_kwh__co2e_id,
    f_per_kwh.co2e_n AS per_kwh__co2e_n,
    f_per_kwh.co2e_level AS per_kwh__co2e_level,
    f_per_kwh.n2o AS per_kwh__n2o,
    f_per_kwh.n2o_id AS per_kwh__n2o_id,
    f_per_kwh.n2o_n AS per_kwh__n2o_n,
    f_per_kwh.n2o_level AS per_kwh__n2o_level,
    a.fuel AS per_kwh__key_level3,
    f_per_litre.ch4 AS per_litre__ch4,
    f_per_litre.ch4_id AS per_litre__ch4_id,
    f_per_litre.ch4_n AS per_litre__ch4_n,
    f_per_litre.ch4_level AS per_litre__ch4_level,
    f_per_litre.co2 AS per_litre__co2,
    f_per_litre.co2_id AS per_litre__co2_id,
    f_per_litre.co2_n AS per_litre__co2_n,
    f_per_litre.co2_level AS per_litre__co2_level,
    f_per_litre.co2e AS per_litre__co2e,
    f_per_litre.co2e_id AS per_litre__co2e_id,
    f_per_litre.co2e_n AS per_litre__co2e_n,
    f_per_litre.co2e_level AS per_litre__co2e_level,
    f_per_litre.n2o AS per_litre__n2o,
    f_per_litre.n2o_id AS per_litre__n2o_id,
    f_per_litre.n2o_n AS per_litre__n2o_n,
    f_per_litre.n2o_level AS per_litre__n2o_level,
    a.fuel AS per_litre__key_level3,
    f_per_m3.ch4 AS per_m3__ch4,
    f_per_m3.ch4_id AS per_m3__ch4_id,
    f_per_m3.ch4_n AS per_m3__ch4_n,
    f_per_m3.ch4_level AS per_m3__ch4_level,
    f_per_m3.co2 AS per_m3__co2,
    f_per_m3.co2_id AS per_m3__co2_id,
    f_per_m3.co2_n AS per_m3__co2_n,
    f_per_m3.co2_level AS per_m3__co2_level,
    f_per_m3.co2e AS per_m3__co2e,
    f_per_m3.co2e_id AS per_m3__co2e_id,
    f_per_m3.co2e_n AS per_m3__co2e_n,
    f_per_m3.co2e_level AS per_m3__co2e_level,
    f_per_m3.n2o AS per_m3__n2o,
    f_per_m3.n2o_id AS per_m3__n2o_id,
    f_per_m3.n2o_n AS per_m3__n2o_n,
    f_per_m3.n2o_level AS per_m3__n2o_level,
    a.fuel AS per_m3__key_level3,
    f_per_tonne.ch4 AS per_tonne__ch4,
    f_per_tonne.ch4_id AS per_tonne__ch4_id,
    f_per_tonne.ch4_n AS per_tonne__ch4_n,
    f_per_tonne.ch4_level AS per_tonne__ch4_level,
    f_per_tonne.co2 AS per_tonne__co2,
    f_per_tonne.co2_id AS per_tonne__co2_id,
    f_per_tonne.co2_n AS per_tonne__co2_n,
    f_per_tonne.co2_level AS per_tonne__co2_level,
    f_per_tonne.co2e AS per_tonne__co2e,
    f_per_tonne.co2e_id AS per_tonne__co2e_id,
    f_per_tonne.co2e_n AS per_tonne__co2e_n,
    f_per_tonne.co2e_level AS per_tonne__co2e_level,
    f_per_tonne.n2o AS per_tonne__n2o,
    f_per_tonne.n2o_id AS per_tonne__n2o_id,
    f_per_tonne.n2o_n AS per_tonne__n2o_n,
    f_per_tonne.n2o_level AS per_tonne__n2o_level,
    a.fuel AS per_tonne__key_level3,
    f_epa_per_mmbtu.ch4 AS epa_per_mmbtu__ch4,
    f_epa_per_mmbtu.ch4_id AS epa_per_mmbtu__ch4_id,
    f_epa_per_mmbtu.ch4_n AS epa_per_mmbtu__ch4_n,
    f_epa_per_mmbtu.ch4_level AS epa_per_mmbtu__ch4_level,
    f_epa_per_mmbtu.co2 AS epa_per_mmbtu__co2,
    f_epa_per_mmbtu.co2_id AS epa_per_mmbtu__co2_id,
    f_epa_per_mmbtu.co2_n AS epa_per_mmbtu__co2_n,
    f_epa_per_mmbtu.co2_level AS epa_per_mmbtu__co2_level,
    f_epa_per_mmbtu.n2o AS epa_per_mmbtu__n2o,
    f_epa_per_mmbtu.n2o_id AS epa_per_mmbtu__n2o_id,
    f_epa_per_mmbtu.n2o_n AS epa_per_mmbtu__n2o_n,
    f_epa_per_mmbtu.n2o_level AS epa_per_mmbtu__n2o_level,
    a.fuel AS epa_per_mmbtu__key_fuel_type,
    f_epa_per_scf.ch4 AS epa_per_scf__ch4,
    f_epa_per_scf.ch4_id AS epa_per_scf__ch4_id,
    f_epa_per_scf.ch4_n AS epa_per_scf__ch4_n,
    f_epa_per_scf.ch4_level AS epa_per_scf__ch4_level,
    f_epa_per_scf.co2 AS epa_per_scf__co2,
    f_epa_per_scf.co2_id AS epa_per_scf__co2_id,
    f_epa_per_scf.co2_n AS epa_per_scf__co2_n,
    f_epa_per_scf.co2_level AS epa_per_scf__co2_level,
    f_epa_per_scf.n2o AS epa_per_scf__n2o,
    f_epa_per_scf.n2o_id AS epa_per_scf__n2o_id,
    f_epa_per_scf.n2o_n AS epa_per_scf__n2o_n,
    f_epa_per_scf.n2o_level AS epa_per_scf__n2o_level,
    a.fuel AS epa_per_scf__key_fuel_type,
    f_epa_per_gallon.ch4 AS epa_per_gallon__ch4,
    f_epa_per_gallon.ch4_id AS epa_per_gallon__ch4_id,
    f_epa_per_gallon.ch4_n AS epa_per_gallon__ch4_n,
    f_epa_per_gallon.ch4_level AS epa_per_gallon__ch4_level,
    f_epa_per_gallon.co2 AS epa_per_gallon__co2,
    f_epa_per_gallon.co2_id AS epa_per_gallon__co2_id,
    f_epa_per_gallon.co2_n AS epa_per_gallon__co2_n,
    f_epa_per_gallon.co2_level AS epa_per_gallon__co2_level,
    f_epa_per_gallon.n2o AS epa_per_gallon__n2o,
    f_epa_per_gallon.n2o_id AS epa_per_gallon__n2o_id,
    f_epa_per_gallon.n2o_n AS epa_per_gallon__n2o_n,
    f_epa_per_gallon.n2o_level AS epa_per_gallon__n2o_level,
    a.fuel AS epa_per_gallon__key_fuel_type,
    f_epa_per_short_ton.ch4 AS epa_per_short_ton__ch4,
    f_epa_per_short_ton.ch4_id AS epa_per_short_ton__ch4_id,
    f_epa_per_short_ton.ch4_n AS epa_per_short_ton__ch4_n,
    f_epa_per_short_ton.ch4_level AS epa_per_short_ton__ch4_level,
    f_epa_per_short_ton.co2 AS epa_per_short_ton__co2,
    f_epa_per_short_ton.co2_id AS epa_per_short_ton__co2_id,
    f_epa_per_short_ton.co2_n AS epa_per_short_ton__co2_n,
    f_epa_per_short_ton.co2_level AS epa_per_short_ton__co2_level,
    f_epa_per_short_ton.n2o AS epa_per_short_ton__n2o,
    f_epa_per_short_ton.n2o_id AS epa_per_short_ton__n2o_id,
    f_epa_per_short_ton.n2o_n AS epa_per_short_ton__n2o_n,
    f_epa_per_short_ton.n2o_level AS epa_per_short_ton__n2o_level,
    a.fuel AS epa_per_short_ton__key_fuel_type
  FROM activity AS a
  LEFT JOIN factor_per_kwh AS f_per_kwh
    ON a.fuel = f_per_kwh.key_level3
  LEFT JOIN factor_per_litre AS f_per_litre
    ON a.fuel = f_per_litre.key_level3
  LEFT JOIN factor_per_m3 AS f_per_m3
    ON a.fuel = f_per_m3.key_level3
  LEFT JOIN factor_per_tonne AS f_per_tonne
    ON a.fuel = f_per_tonne.key_level3
  LEFT JOIN factor_epa_per_mmbtu AS f_epa_per_mmbtu
    ON a.fuel = f_epa_per_mmbtu.key_fuel_type
  LEFT JOIN factor_epa_per_scf AS f_epa_per_scf
    ON a.fuel = f_epa_per_scf.key_fuel_type
  LEFT JOIN factor_epa_per_gallon AS f_epa_per_gallon
    ON a.fuel = f_epa_per_gallon.key_fuel_type
  LEFT JOIN factor_epa_per_short_ton AS f_epa_per_short_ton
    ON a.fuel = f_epa_per_short_ton.key_fuel_type
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        (
          j.energy = 0
        ) OR (
          j.volume = 0
        )
      ) OR (
        j.mass = 0
      )
      THEN 1 /* rule nothing_burned */
      WHEN (
        j.country = 'US'
      )
      AND j.fuel IN (
        'Agricultural Byproducts',
        'Solid Byproducts',
        'Wood and Wood Residuals',
        'Landfill Gas',
        'Other Biomass Gases',
        'Biodiesel (100%)',
        'Ethanol (100%)',
        'Rendered Animal Fat',
        'Vegetable Oil',
        'North American Softwood',
        'North American Hardwood',
        'Bagasse',
        'Bamboo',
        'Straw'
      )
      THEN 2 /* rule us_biomass */
      WHEN (
        j.country = 'US'
      ) AND (
        NOT j.energy IS NULL
      )
      THEN 3 /* rule us_by_energy */
      WHEN (
        (
          j.country = 'US'
        ) AND (
          NOT j.volume IS NULL
        )
      )
      AND j.fuel IN ('Natural Gas', 'Blast Furnace Gas', 'Coke Oven Gas', 'Fuel Gas', 'Propane Gas')
      THEN 4 /* rule us_gas_by_volume */
      WHEN (
        j.country = 'US'
      ) AND (
        NOT j.volume IS NULL
      )
      THEN 5 /* rule us_liquid_by_volume */
      WHEN (
        j.country = 'US'
      ) AND (
        NOT j.mass IS NULL
      )
      THEN 6 /* rule us_by_mass */
      WHEN (
        j.country = 'GB'
      ) AND (
        NOT j.energy IS NULL
      )
      THEN 7 /* rule by_energy */
      WHEN (
        (
          j.country = 'GB'
        ) AND (
          NOT j.volume IS NULL
        )
      )
      AND j.fuel IN ('Natural gas', 'CNG', 'Biogas', 'Landfill gas')
      THEN 8 /* rule gas_by_volume */
      WHEN (
        j.country = 'GB'
      ) AND (
        NOT j.volume IS NULL
      )
      THEN 9 /* rule liquid_by_volume */
      WHEN (
        j.country = 'GB'
      ) AND (
        NOT j.mass IS NULL
      )
      THEN 10 /* rule by_mass */
      WHEN (
        j.country <> 'US'
      ) AND (
        NOT j.energy IS NULL
      )
      THEN 11 /* rule proxy_by_energy */
      WHEN (
        (
          j.country <> 'US'
        ) AND (
          NOT j.volume IS NULL
        )
      )
      AND j.fuel IN ('Natural gas', 'CNG', 'Biogas', 'Landfill gas')
      THEN 12 /* rule proxy_gas_by_volume */
      WHEN (
        j.country <> 'US'
      ) AND (
        NOT j.volume IS NULL
      )
      THEN 13 /* rule proxy_liquid_by_volume */
      WHEN (
        j.country <> 'US'
      ) AND (
        NOT j.mass IS NULL
      )
      THEN 14 /* rule proxy_by_mass */
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
      THEN 'nothing_burned'
      WHEN 2
      THEN 'us_biomass'
      WHEN 3
      THEN 'us_by_energy'
      WHEN 4
      THEN 'us_gas_by_volume'
      WHEN 5
      THEN 'us_liquid_by_volume'
      WHEN 6
      THEN 'us_by_mass'
      WHEN 7
      THEN 'by_energy'
      WHEN 8
      THEN 'gas_by_volume'
      WHEN 9
      THEN 'liquid_by_volume'
      WHEN 10
      THEN 'by_mass'
      WHEN 11
      THEN 'proxy_by_energy'
      WHEN 12
      THEN 'proxy_gas_by_volume'
      WHEN 13
      THEN 'proxy_liquid_by_volume'
      WHEN 14
      THEN 'proxy_by_mass'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'zero fuel use in the period'
      WHEN 2
      THEN 'biomass fuel: report it as bioenergy_fuel (its CO2 is biogenic, outside the scopes; its CH4 and N2O are Scope 1)'
    END AS exclude_reason,
    r.data_quality,
    r.per_kwh__ch4_n,
    r.per_kwh__co2_n,
    r.per_kwh__co2e_n,
    r.per_kwh__n2o_n,
    r.per_kwh__key_level3,
    r.per_litre__ch4_n,
    r.per_litre__co2_n,
    r.per_litre__co2e_n,
    r.per_litre__n2o_n,
    r.per_litre__key_level3,
    r.per_m3__ch4_n,
    r.per_m3__co2_n,
    r.per_m3__co2e_n,
    r.per_m3__n2o_n,
    r.per_m3__key_level3,
    r.per_tonne__ch4_n,
    r.per_tonne__co2_n,
    r.per_tonne__co2e_n,
    r.per_tonne__n2o_n,
    r.per_tonne__key_level3,
    r.epa_per_mmbtu__ch4_n,
    r.epa_per_mmbtu__co2_n,
    r.epa_per_mmbtu__n2o_n,
    r.epa_per_mmbtu__key_fuel_type,
    r.epa_per_scf__ch4_n,
    r.epa_per_scf__co2_n,
    r.epa_per_scf__n2o_n,
    r.epa_per_scf__key_fuel_type,
    r.epa_per_gallon__ch4_n,
    r.epa_per_gallon__co2_n,
    r.epa_per_gallon__n2o_n,
    r.epa_per_gallon__key_fuel_type,
    r.epa_per_short_ton__ch4_n,
    r.epa_per_short_ton__co2_n,
    r.epa_per_short_ton__n2o_n,
    r.epa_per_short_ton__key_fuel_type,
    CASE r.rule_no
      WHEN 3
      THEN 'epa-hub-2025'
      WHEN 4
      THEN 'epa-hub-2025'
      WHEN 5
      THEN 'epa-hub-2025'
      WHEN 6
      THEN 'epa-hub-2025'
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_set,
    CASE r.rule_no
      WHEN 3
      THEN CASE
        WHEN r.energy__x50_52752792631 IS NULL
        THEN ccf.div((
          r.energy * r.epa_per_mmbtu__co2
        ) * 50, 52752792631)
        ELSE ROUND(r.energy__x50_52752792631 * r.epa_per_mmbtu__co2, 20)
      END
      WHEN 4
      THEN CASE
        WHEN r.volume__x1953125000_55306341 IS NULL
        THEN ccf.div((
          r.volume * r.epa_per_scf__co2
        ) * 1953125000, 55306341)
        ELSE ROUND(r.volume__x1953125000_55306341 * r.epa_per_scf__co2, 20)
      END
      WHEN 5
      THEN CASE
        WHEN r.volume__x125000000000_473176473 IS NULL
        THEN ccf.div((
          r.volume * r.epa_per_gallon__co2
        ) * 125000000000, 473176473)
        ELSE ROUND(r.volume__x125000000000_473176473 * r.epa_per_gallon__co2, 20)
      END
      WHEN 6
      THEN CASE
        WHEN r.mass__x50000_45359237 IS NULL
        THEN ccf.div((
          r.mass * r.epa_per_short_ton__co2
        ) * 50000, 45359237)
        ELSE ROUND(r.mass__x50000_45359237 * r.epa_per_short_ton__co2, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_kg,
    CASE r.rule_no
      WHEN 3
      THEN gwp.gwp_co2
      WHEN 4
      THEN gwp.gwp_co2
      WHEN 5
      THEN gwp.gwp_co2
      WHEN 6
      THEN gwp.gwp_co2
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_gwp,
    CASE r.rule_no
      WHEN 3
      THEN (
        CASE
          WHEN r.energy__x50_52752792631 IS NULL
          THEN ccf.div((
            r.energy * r.epa_per_mmbtu__co2
          ) * 50, 52752792631)
          ELSE ROUND(r.energy__x50_52752792631 * r.epa_per_mmbtu__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 4
      THEN (
        CASE
          WHEN r.volume__x1953125000_55306341 IS NULL
          THEN ccf.div((
            r.volume * r.epa_per_scf__co2
          ) * 1953125000, 55306341)
          ELSE ROUND(r.volume__x1953125000_55306341 * r.epa_per_scf__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 5
      THEN (
        CASE
          WHEN r.volume__x125000000000_473176473 IS NULL
          THEN ccf.div((
            r.volume * r.epa_per_gallon__co2
          ) * 125000000000, 473176473)
          ELSE ROUND(r.volume__x125000000000_473176473 * r.epa_per_gallon__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 6
      THEN (
        CASE
          WHEN r.mass__x50000_45359237 IS NULL
          THEN ccf.div((
            r.mass * r.epa_per_short_ton__co2
          ) * 50000, 45359237)
          ELSE ROUND(r.mass__x50000_45359237 * r.epa_per_short_ton__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 7
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__co2, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__co2, 20)
      END
      WHEN 8
      THEN r.volume * r.per_m3__co2
      WHEN 9
      THEN (
        r.volume * r.per_litre__co2
      ) * 1000
      WHEN 10
      THEN (
        r.mass * r.per_tonne__co2
      ) * 0.001
      WHEN 11
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__co2, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__co2, 20)
      END
      WHEN 12
      THEN r.volume * r.per_m3__co2
      WHEN 13
      THEN (
        r.volume * r.per_litre__co2
      ) * 1000
      WHEN 14
      THEN (
        r.mass * r.per_tonne__co2
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.epa_per_mmbtu__co2_id
      WHEN 4
      THEN r.epa_per_scf__co2_id
      WHEN 5
      THEN r.epa_per_gallon__co2_id
      WHEN 6
      THEN r.epa_per_short_ton__co2_id
      WHEN 7
      THEN r.per_kwh__co2_id
      WHEN 8
      THEN r.per_m3__co2_id
      WHEN 9
      THEN r.per_litre__co2_id
      WHEN 10
      THEN r.per_tonne__co2_id
      WHEN 11
      THEN r.per_kwh__co2_id
      WHEN 12
      THEN r.per_m3__co2_id
      WHEN 13
      THEN r.per_litre__co2_id
      WHEN 14
      THEN r.per_tonne__co2_id
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.epa_per_mmbtu__co2_level
      WHEN 4
      THEN r.epa_per_scf__co2_level
      WHEN 5
      THEN r.epa_per_gallon__co2_level
      WHEN 6
      THEN r.epa_per_short_ton__co2_level
      WHEN 7
      THEN r.per_kwh__co2_level
      WHEN 8
      THEN r.per_m3__co2_level
      WHEN 9
      THEN r.per_litre__co2_level
      WHEN 10
      THEN r.per_tonne__co2_level
      WHEN 11
      THEN r.per_kwh__co2_level
      WHEN 12
      THEN r.per_m3__co2_level
      WHEN 13
      THEN r.per_litre__co2_level
      WHEN 14
      THEN r.per_tonne__co2_level
      ELSE CAST(NULL AS TEXT)
    END AS co2_match_level,
    CASE r.rule_no
      WHEN 3
      THEN 'epa-hub-2025'
      WHEN 4
      THEN 'epa-hub-2025'
      WHEN 5
      THEN 'epa-hub-2025'
      WHEN 6
      THEN 'epa-hub-2025'
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_set,
    CASE r.rule_no
      WHEN 3
      THEN CASE
        WHEN r.energy__x1_1055055852620 IS NULL
        THEN ccf.div(r.energy * r.epa_per_mmbtu__ch4, 1055055852620)
        ELSE ROUND(r.energy__x1_1055055852620 * r.epa_per_mmbtu__ch4, 20)
      END
      WHEN 4
      THEN CASE
        WHEN r.volume__x1953125_55306341 IS NULL
        THEN ccf.div((
          r.volume * r.epa_per_scf__ch4
        ) * 1953125, 55306341)
        ELSE ROUND(r.volume__x1953125_55306341 * r.epa_per_scf__ch4, 20)
      END
      WHEN 5
      THEN CASE
        WHEN r.volume__x125000000_473176473 IS NULL
        THEN ccf.div((
          r.volume * r.epa_per_gallon__ch4
        ) * 125000000, 473176473)
        ELSE ROUND(r.volume__x125000000_473176473 * r.epa_per_gallon__ch4, 20)
      END
      WHEN 6
      THEN CASE
        WHEN r.mass__x50_45359237 IS NULL
        THEN ccf.div((
          r.mass * r.epa_per_short_ton__ch4
        ) * 50, 45359237)
        ELSE ROUND(r.mass__x50_45359237 * r.epa_per_short_ton__ch4, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_kg,
    CASE r.rule_no
      WHEN 3
      THEN gwp.gwp_ch4
      WHEN 4
      THEN gwp.gwp_ch4
      WHEN 5
      THEN gwp.gwp_ch4
      WHEN 6
      THEN gwp.gwp_ch4
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_gwp,
    CASE r.rule_no
      WHEN 3
      THEN (
        CASE
          WHEN r.energy__x1_1055055852620 IS NULL
          THEN ccf.div(r.energy * r.epa_per_mmbtu__ch4, 1055055852620)
          ELSE ROUND(r.energy__x1_1055055852620 * r.epa_per_mmbtu__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 4
      THEN (
        CASE
          WHEN r.volume__x1953125_55306341 IS NULL
          THEN ccf.div((
            r.volume * r.epa_per_scf__ch4
          ) * 1953125, 55306341)
          ELSE ROUND(r.volume__x1953125_55306341 * r.epa_per_scf__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 5
      THEN (
        CASE
          WHEN r.volume__x125000000_473176473 IS NULL
          THEN ccf.div((
            r.volume * r.epa_per_gallon__ch4
          ) * 125000000, 473176473)
          ELSE ROUND(r.volume__x125000000_473176473 * r.epa_per_gallon__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 6
      THEN (
        CASE
          WHEN r.mass__x50_45359237 IS NULL
          THEN ccf.div((
            r.mass * r.epa_per_short_ton__ch4
          ) * 50, 45359237)
          ELSE ROUND(r.mass__x50_45359237 * r.epa_per_short_ton__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 7
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__ch4, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__ch4, 20)
      END
      WHEN 8
      THEN r.volume * r.per_m3__ch4
      WHEN 9
      THEN (
        r.volume * r.per_litre__ch4
      ) * 1000
      WHEN 10
      THEN (
        r.mass * r.per_tonne__ch4
      ) * 0.001
      WHEN 11
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__ch4, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__ch4, 20)
      END
      WHEN 12
      THEN r.volume * r.per_m3__ch4
      WHEN 13
      THEN (
        r.volume * r.per_litre__ch4
      ) * 1000
      WHEN 14
      THEN (
        r.mass * r.per_tonne__ch4
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.epa_per_mmbtu__ch4_id
      WHEN 4
      THEN r.epa_per_scf__ch4_id
      WHEN 5
      THEN r.epa_per_gallon__ch4_id
      WHEN 6
      THEN r.epa_per_short_ton__ch4_id
      WHEN 7
      THEN r.per_kwh__ch4_id
      WHEN 8
      THEN r.per_m3__ch4_id
      WHEN 9
      THEN r.per_litre__ch4_id
      WHEN 10
      THEN r.per_tonne__ch4_id
      WHEN 11
      THEN r.per_kwh__ch4_id
      WHEN 12
      THEN r.per_m3__ch4_id
      WHEN 13
      THEN r.per_litre__ch4_id
      WHEN 14
      THEN r.per_tonne__ch4_id
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.epa_per_mmbtu__ch4_level
      WHEN 4
      THEN r.epa_per_scf__ch4_level
      WHEN 5
      THEN r.epa_per_gallon__ch4_level
      WHEN 6
      THEN r.epa_per_short_ton__ch4_level
      WHEN 7
      THEN r.per_kwh__ch4_level
      WHEN 8
      THEN r.per_m3__ch4_level
      WHEN 9
      THEN r.per_litre__ch4_level
      WHEN 10
      THEN r.per_tonne__ch4_level
      WHEN 11
      THEN r.per_kwh__ch4_level
      WHEN 12
      THEN r.per_m3__ch4_level
      WHEN 13
      THEN r.per_litre__ch4_level
      WHEN 14
      THEN r.per_tonne__ch4_level
      ELSE CAST(NULL AS TEXT)
    END AS ch4_match_level,
    CASE r.rule_no
      WHEN 3
      THEN 'epa-hub-2025'
      WHEN 4
      THEN 'epa-hub-2025'
      WHEN 5
      THEN 'epa-hub-2025'
      WHEN 6
      THEN 'epa-hub-2025'
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_set,
    CASE r.rule_no
      WHEN 3
      THEN CASE
        WHEN r.energy__x1_1055055852620 IS NULL
        THEN ccf.div(r.energy * r.epa_per_mmbtu__n2o, 1055055852620)
        ELSE ROUND(r.energy__x1_1055055852620 * r.epa_per_mmbtu__n2o, 20)
      END
      WHEN 4
      THEN CASE
        WHEN r.volume__x1953125_55306341 IS NULL
        THEN ccf.div((
          r.volume * r.epa_per_scf__n2o
        ) * 1953125, 55306341)
        ELSE ROUND(r.volume__x1953125_55306341 * r.epa_per_scf__n2o, 20)
      END
      WHEN 5
      THEN CASE
        WHEN r.volume__x125000000_473176473 IS NULL
        THEN ccf.div((
          r.volume * r.epa_per_gallon__n2o
        ) * 125000000, 473176473)
        ELSE ROUND(r.volume__x125000000_473176473 * r.epa_per_gallon__n2o, 20)
      END
      WHEN 6
      THEN CASE
        WHEN r.mass__x50_45359237 IS NULL
        THEN ccf.div((
          r.mass * r.epa_per_short_ton__n2o
        ) * 50, 45359237)
        ELSE ROUND(r.mass__x50_45359237 * r.epa_per_short_ton__n2o, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_kg,
    CASE r.rule_no
      WHEN 3
      THEN gwp.gwp_n2o
      WHEN 4
      THEN gwp.gwp_n2o
      WHEN 5
      THEN gwp.gwp_n2o
      WHEN 6
      THEN gwp.gwp_n2o
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_gwp,
    CASE r.rule_no
      WHEN 3
      THEN (
        CASE
          WHEN r.energy__x1_1055055852620 IS NULL
          THEN ccf.div(r.energy * r.epa_per_mmbtu__n2o, 1055055852620)
          ELSE ROUND(r.energy__x1_1055055852620 * r.epa_per_mmbtu__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 4
      THEN (
        CASE
          WHEN r.volume__x1953125_55306341 IS NULL
          THEN ccf.div((
            r.volume * r.epa_per_scf__n2o
          ) * 1953125, 55306341)
          ELSE ROUND(r.volume__x1953125_55306341 * r.epa_per_scf__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 5
      THEN (
        CASE
          WHEN r.volume__x125000000_473176473 IS NULL
          THEN ccf.div((
            r.volume * r.epa_per_gallon__n2o
          ) * 125000000, 473176473)
          ELSE ROUND(r.volume__x125000000_473176473 * r.epa_per_gallon__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 6
      THEN (
        CASE
          WHEN r.mass__x50_45359237 IS NULL
          THEN ccf.div((
            r.mass * r.epa_per_short_ton__n2o
          ) * 50, 45359237)
          ELSE ROUND(r.mass__x50_45359237 * r.epa_per_short_ton__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 7
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__n2o, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__n2o, 20)
      END
      WHEN 8
      THEN r.volume * r.per_m3__n2o
      WHEN 9
      THEN (
        r.volume * r.per_litre__n2o
      ) * 1000
      WHEN 10
      THEN (
        r.mass * r.per_tonne__n2o
      ) * 0.001
      WHEN 11
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__n2o, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__n2o, 20)
      END
      WHEN 12
      THEN r.volume * r.per_m3__n2o
      WHEN 13
      THEN (
        r.volume * r.per_litre__n2o
      ) * 1000
      WHEN 14
      THEN (
        r.mass * r.per_tonne__n2o
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.epa_per_mmbtu__n2o_id
      WHEN 4
      THEN r.epa_per_scf__n2o_id
      WHEN 5
      THEN r.epa_per_gallon__n2o_id
      WHEN 6
      THEN r.epa_per_short_ton__n2o_id
      WHEN 7
      THEN r.per_kwh__n2o_id
      WHEN 8
      THEN r.per_m3__n2o_id
      WHEN 9
      THEN r.per_litre__n2o_id
      WHEN 10
      THEN r.per_tonne__n2o_id
      WHEN 11
      THEN r.per_kwh__n2o_id
      WHEN 12
      THEN r.per_m3__n2o_id
      WHEN 13
      THEN r.per_litre__n2o_id
      WHEN 14
      THEN r.per_tonne__n2o_id
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.epa_per_mmbtu__n2o_level
      WHEN 4
      THEN r.epa_per_scf__n2o_level
      WHEN 5
      THEN r.epa_per_gallon__n2o_level
      WHEN 6
      THEN r.epa_per_short_ton__n2o_level
      WHEN 7
      THEN r.per_kwh__n2o_level
      WHEN 8
      THEN r.per_m3__n2o_level
      WHEN 9
      THEN r.per_litre__n2o_level
      WHEN 10
      THEN r.per_tonne__n2o_level
      WHEN 11
      THEN r.per_kwh__n2o_level
      WHEN 12
      THEN r.per_m3__n2o_level
      WHEN 13
      THEN r.per_litre__n2o_level
      WHEN 14
      THEN r.per_tonne__n2o_level
      ELSE CAST(NULL AS TEXT)
    END AS n2o_match_level,
    CAST(NULL AS TEXT) AS total_minus_gases_factor_set,
    CASE r.rule_no
      WHEN 7
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__co2e, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__co2e, 20)
      END - (
        (
          CASE
            WHEN r.energy__x1_3600000 IS NULL
            THEN ccf.div(r.energy * r.per_kwh__co2, 3600000)
            ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__co2, 20)
          END + CASE
            WHEN r.energy__x1_3600000 IS NULL
            THEN ccf.div(r.energy * r.per_kwh__ch4, 3600000)
            ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__ch4, 20)
          END
        ) + CASE
          WHEN r.energy__x1_3600000 IS NULL
          THEN ccf.div(r.energy * r.per_kwh__n2o, 3600000)
          ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__n2o, 20)
        END
      )
      WHEN 8
      THEN (
        r.volume * r.per_m3__co2e
      ) - (
        (
          (
            r.volume * r.per_m3__co2
          ) + (
            r.volume * r.per_m3__ch4
          )
        ) + (
          r.volume * r.per_m3__n2o
        )
      )
      WHEN 9
      THEN (
        (
          r.volume * r.per_litre__co2e
        ) * 1000
      ) - (
        (
          (
            (
              r.volume * r.per_litre__co2
            ) * 1000
          ) + (
            (
              r.volume * r.per_litre__ch4
            ) * 1000
          )
        ) + (
          (
            r.volume * r.per_litre__n2o
          ) * 1000
        )
      )
      WHEN 10
      THEN (
        (
          r.mass * r.per_tonne__co2e
        ) * 0.001
      ) - (
        (
          (
            (
              r.mass * r.per_tonne__co2
            ) * 0.001
          ) + (
            (
              r.mass * r.per_tonne__ch4
            ) * 0.001
          )
        ) + (
          (
            r.mass * r.per_tonne__n2o
          ) * 0.001
        )
      )
      WHEN 11
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__co2e, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__co2e, 20)
      END - (
        (
          CASE
            WHEN r.energy__x1_3600000 IS NULL
            THEN ccf.div(r.energy * r.per_kwh__co2, 3600000)
            ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__co2, 20)
          END + CASE
            WHEN r.energy__x1_3600000 IS NULL
            THEN ccf.div(r.energy * r.per_kwh__ch4, 3600000)
            ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__ch4, 20)
          END
        ) + CASE
          WHEN r.energy__x1_3600000 IS NULL
          THEN ccf.div(r.energy * r.per_kwh__n2o, 3600000)
          ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__n2o, 20)
        END
      )
      WHEN 12
      THEN (
        r.volume * r.per_m3__co2e
      ) - (
        (
          (
            r.volume * r.per_m3__co2
          ) + (
            r.volume * r.per_m3__ch4
          )
        ) + (
          r.volume * r.per_m3__n2o
        )
      )
      WHEN 13
      THEN (
        (
          r.volume * r.per_litre__co2e
        ) * 1000
      ) - (
        (
          (
            (
              r.volume * r.per_litre__co2
            ) * 1000
          ) + (
            (
              r.volume * r.per_litre__ch4
            ) * 1000
          )
        ) + (
          (
            r.volume * r.per_litre__n2o
          ) * 1000
        )
      )
      WHEN 14
      THEN (
        (
          r.mass * r.per_tonne__co2e
        ) * 0.001
      ) - (
        (
          (
            (
              r.mass * r.per_tonne__co2
            ) * 0.001
          ) + (
            (
              r.mass * r.per_tonne__ch4
            ) * 0.001
          )
        ) + (
          (
            r.mass * r.per_tonne__n2o
          ) * 0.001
        )
      )
      ELSE CAST(NULL AS DECIMAL)
    END AS total_minus_gases_co2e_kg,
    CASE r.rule_no
      WHEN 7
      THEN ARRAY[r.per_kwh__co2e_id, r.per_kwh__co2_id, r.per_kwh__ch4_id, r.per_kwh__n2o_id]
      WHEN 8
      THEN ARRAY[r.per_m3__co2e_id, r.per_m3__co2_id, r.per_m3__ch4_id, r.per_m3__n2o_id]
      WHEN 9
      THEN ARRAY[
        r.per_litre__co2e_id,
        r.per_litre__co2_id,
        r.per_litre__ch4_id,
        r.per_litre__n2o_id
      ]
      WHEN 10
      THEN ARRAY[
        r.per_tonne__co2e_id,
        r.per_tonne__co2_id,
        r.per_tonne__ch4_id,
        r.per_tonne__n2o_id
      ]
      WHEN 11
      THEN ARRAY[r.per_kwh__co2e_id, r.per_kwh__co2_id, r.per_kwh__ch4_id, r.per_kwh__n2o_id]
      WHEN 12
      THEN ARRAY[r.per_m3__co2e_id, r.per_m3__co2_id, r.per_m3__ch4_id, r.per_m3__n2o_id]
      WHEN 13
      THEN ARRAY[
        r.per_litre__co2e_id,
        r.per_litre__co2_id,
        r.per_litre__ch4_id,
        r.per_litre__n2o_id
      ]
      WHEN 14
      THEN ARRAY[
        r.per_tonne__co2e_id,
        r.per_tonne__co2_id,
        r.per_tonne__ch4_id,
        r.per_tonne__n2o_id
      ]
      ELSE CAST(NULL AS TEXT[])
    END AS total_minus_gases_factor_ids,
    CASE r.rule_no
      WHEN 7
      THEN r.per_kwh__co2e_level
      WHEN 8
      THEN r.per_m3__co2e_level
      WHEN 9
      THEN r.per_litre__co2e_level
      WHEN 10
      THEN r.per_tonne__co2e_level
      WHEN 11
      THEN r.per_kwh__co2e_level
      WHEN 12
      THEN r.per_m3__co2e_level
      WHEN 13
      THEN r.per_litre__co2e_level
      WHEN 14
      THEN r.per_tonne__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS total_minus_gases_match_level
  FROM ruled AS r
  CROSS JOIN gwp
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 3
      THEN CASE
        WHEN COALESCE(e.epa_per_mmbtu__ch4_n, 0) = 0
        THEN 'no_factor:epa_per_mmbtu'
        WHEN e.epa_per_mmbtu__ch4_n > 1
        THEN 'ambiguous_factor:epa_per_mmbtu'
        WHEN COALESCE(e.epa_per_mmbtu__co2_n, 0) = 0
        THEN 'no_factor:epa_per_mmbtu'
        WHEN e.epa_per_mmbtu__co2_n > 1
        THEN 'ambiguous_factor:epa_per_mmbtu'
        WHEN COALESCE(e.epa_per_mmbtu__n2o_n, 0) = 0
        THEN 'no_factor:epa_per_mmbtu'
        WHEN e.epa_per_mmbtu__n2o_n > 1
        THEN 'ambiguous_factor:epa_per_mmbtu'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.epa_per_scf__ch4_n, 0) = 0
        THEN 'no_factor:epa_per_scf'
        WHEN e.epa_per_scf__ch4_n > 1
        THEN 'ambiguous_factor:epa_per_scf'
        WHEN COALESCE(e.epa_per_scf__co2_n, 0) = 0
        THEN 'no_factor:epa_per_scf'
        WHEN e.epa_per_scf__co2_n > 1
        THEN 'ambiguous_factor:epa_per_scf'
        WHEN COALESCE(e.epa_per_scf__n2o_n, 0) = 0
        THEN 'no_factor:epa_per_scf'
        WHEN e.epa_per_scf__n2o_n > 1
        THEN 'ambiguous_factor:epa_per_scf'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.epa_per_gallon__ch4_n, 0) = 0
        THEN 'no_factor:epa_per_gallon'
        WHEN e.epa_per_gallon__ch4_n > 1
        THEN 'ambiguous_factor:epa_per_gallon'
        WHEN COALESCE(e.epa_per_gallon__co2_n, 0) = 0
        THEN 'no_factor:epa_per_gallon'
        WHEN e.epa_per_gallon__co2_n > 1
        THEN 'ambiguous_factor:epa_per_gallon'
        WHEN COALESCE(e.epa_per_gallon__n2o_n, 0) = 0
        THEN 'no_factor:epa_per_gallon'
        WHEN e.epa_per_gallon__n2o_n > 1
        THEN 'ambiguous_factor:epa_per_gallon'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.epa_per_short_ton__ch4_n, 0) = 0
        THEN 'no_factor:epa_per_short_ton'
        WHEN e.epa_per_short_ton__ch4_n > 1
        THEN 'ambiguous_factor:epa_per_short_ton'
        WHEN COALESCE(e.epa_per_short_ton__co2_n, 0) = 0
        THEN 'no_factor:epa_per_short_ton'
        WHEN e.epa_per_short_ton__co2_n > 1
        THEN 'ambiguous_factor:epa_per_short_ton'
        WHEN COALESCE(e.epa_per_short_ton__n2o_n, 0) = 0
        THEN 'no_factor:epa_per_short_ton'
        WHEN e.epa_per_short_ton__n2o_n > 1
        THEN 'ambiguous_factor:epa_per_short_ton'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 7
      THEN CASE
        WHEN COALESCE(e.per_kwh__ch4_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__ch4_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN COALESCE(e.per_kwh__co2_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__co2_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN COALESCE(e.per_kwh__co2e_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__co2e_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN COALESCE(e.per_kwh__n2o_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__n2o_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 8
      THEN CASE
        WHEN COALESCE(e.per_m3__ch4_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__ch4_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN COALESCE(e.per_m3__co2_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__co2_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN COALESCE(e.per_m3__co2e_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__co2e_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN COALESCE(e.per_m3__n2o_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__n2o_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 9
      THEN CASE
        WHEN COALESCE(e.per_litre__ch4_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__ch4_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN COALESCE(e.per_litre__co2_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__co2_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN COALESCE(e.per_litre__co2e_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__co2e_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN COALESCE(e.per_litre__n2o_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__n2o_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 10
      THEN CASE
        WHEN COALESCE(e.per_tonne__ch4_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__ch4_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN COALESCE(e.per_tonne__co2_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__co2_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN COALESCE(e.per_tonne__co2e_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__co2e_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN COALESCE(e.per_tonne__n2o_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__n2o_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 11
      THEN CASE
        WHEN COALESCE(e.per_kwh__ch4_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__ch4_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN COALESCE(e.per_kwh__co2_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__co2_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN COALESCE(e.per_kwh__co2e_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__co2e_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN COALESCE(e.per_kwh__n2o_n, 0) = 0
        THEN 'no_factor:per_kwh'
        WHEN e.per_kwh__n2o_n > 1
        THEN 'ambiguous_factor:per_kwh'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 12
      THEN CASE
        WHEN COALESCE(e.per_m3__ch4_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__ch4_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN COALESCE(e.per_m3__co2_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__co2_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN COALESCE(e.per_m3__co2e_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__co2e_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN COALESCE(e.per_m3__n2o_n, 0) = 0
        THEN 'no_factor:per_m3'
        WHEN e.per_m3__n2o_n > 1
        THEN 'ambiguous_factor:per_m3'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 13
      THEN CASE
        WHEN COALESCE(e.per_litre__ch4_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__ch4_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN COALESCE(e.per_litre__co2_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__co2_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN COALESCE(e.per_litre__co2e_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__co2e_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN COALESCE(e.per_litre__n2o_n, 0) = 0
        THEN 'no_factor:per_litre'
        WHEN e.per_litre__n2o_n > 1
        THEN 'ambiguous_factor:per_litre'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 14
      THEN CASE
        WHEN COALESCE(e.per_tonne__ch4_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__ch4_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN COALESCE(e.per_tonne__co2_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__co2_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN COALESCE(e.per_tonne__co2e_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__co2e_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN COALESCE(e.per_tonne__n2o_n, 0) = 0
        THEN 'no_factor:per_tonne'
        WHEN e.per_tonne__n2o_n > 1
        THEN 'ambiguous_factor:per_tonne'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
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
  CASE WHEN NOT c.problem IS NULL THEN c.per_kwh__key_level3 END AS per_kwh__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.per_litre__key_level3 END AS per_litre__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.per_m3__key_level3 END AS per_m3__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.per_tonne__key_level3 END AS per_tonne__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.epa_per_mmbtu__key_fuel_type END AS epa_per_mmbtu__key_fuel_type,
  CASE WHEN NOT c.problem IS NULL THEN c.epa_per_scf__key_fuel_type END AS epa_per_scf__key_fuel_type,
  CASE WHEN NOT c.problem IS NULL THEN c.epa_per_gallon__key_fuel_type END AS epa_per_gallon__key_fuel_type,
  CASE WHEN NOT c.problem IS NULL THEN c.epa_per_short_ton__key_fuel_type END AS epa_per_short_ton__key_fuel_type,
  c.co2_factor_set,
  c.co2_kg,
  c.co2_gwp,
  c.co2_co2e_kg,
  c.co2_factor_id,
  c.co2_match_level,
  c.ch4_factor_set,
  c.ch4_kg,
  c.ch4_gwp,
  c.ch4_co2e_kg,
  c.ch4_factor_id,
  c.ch4_match_level,
  c.n2o_factor_set,
  c.n2o_kg,
  c.n2o_gwp,
  c.n2o_co2e_kg,
  c.n2o_factor_id,
  c.n2o_match_level,
  c.total_minus_gases_factor_set,
  c.total_minus_gases_co2e_kg,
  c.total_minus_gases_factor_ids,
  c.total_minus_gases_match_level,
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
  co2_kg,
  co2_gwp,
  co2_co2e_kg,
  co2_factor_ids,
  co2_match_level,
  co2_factor_set,
  ch4_kg,
  ch4_gwp,
  ch4_co2e_kg,
  ch4_factor_ids,
  ch4_match_level,
  ch4_factor_set,
  n2o_kg,
  n2o_gwp,
  n2o_co2e_kg,
  n2o_factor_ids,
  n2o_match_level,
  n2o_factor_set,
  total_minus_gases_co2e_kg,
  total_minus_gases_factor_ids,
  total_minus_gases_match_level,
  total_minus_gases_factor_set
)
SELECT
  %(run_id)s,
  'scope1.stationary_combustion',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2_co2e_kg, 0) + COALESCE(e.ch4_co2e_kg, 0) + COALESCE(e.n2o_co2e_kg, 0) + COALESCE(e.total_minus_gases_co2e_kg, 0),
  e.co2_kg,
  e.co2_gwp,
  e.co2_co2e_kg,
  CASE WHEN NOT e.co2_co2e_kg IS NULL THEN ARRAY[e.co2_factor_id] END,
  e.co2_match_level,
  e.co2_factor_set,
  e.ch4_kg,
  e.ch4_gwp,
  e.ch4_co2e_kg,
  CASE WHEN NOT e.ch4_co2e_kg IS NULL THEN ARRAY[e.ch4_factor_id] END,
  e.ch4_match_level,
  e.ch4_factor_set,
  e.n2o_kg,
  e.n2o_gwp,
  e.n2o_co2e_kg,
  CASE WHEN NOT e.n2o_co2e_kg IS NULL THEN ARRAY[e.n2o_factor_id] END,
  e.n2o_match_level,
  e.n2o_factor_set,
  e.total_minus_gases_co2e_kg,
  e.total_minus_gases_factor_ids,
  e.total_minus_gases_match_level,
  e.total_minus_gases_factor_set
FROM ccf_eval AS e
WHERE
  e.outcome = 'result'
  AND (
    NOT e.co2_co2e_kg IS NULL
    OR NOT e.ch4_co2e_kg IS NULL
    OR NOT e.n2o_co2e_kg IS NULL
    OR NOT e.total_minus_gases_co2e_kg IS NULL
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
  'scope1.stationary_combustion',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'zero fuel use in the period'
    WHEN 2
    THEN 'biomass fuel: report it as bioenergy_fuel (its CO2 is biogenic, outside the scopes; its CH4 and N2O are Scope 1)'
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
  'scope1.stationary_combustion',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:per_kwh'
    THEN 'no emission factor found for lookup ''per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_kwh'
    THEN 'more than one emission factor matches lookup ''per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:per_litre'
    THEN 'no emission factor found for lookup ''per_litre'' in desnz per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_litre'
    THEN 'more than one emission factor matches lookup ''per_litre'' in desnz per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:per_m3'
    THEN 'no emission factor found for lookup ''per_m3'' in desnz per m3 (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_m3__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_m3'
    THEN 'more than one emission factor matches lookup ''per_m3'' in desnz per m3 (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_m3__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:per_tonne'
    THEN 'no emission factor found for lookup ''per_tonne'' in desnz per t (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_tonne__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_tonne'
    THEN 'more than one emission factor matches lookup ''per_tonne'' in desnz per t (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_tonne__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:epa_per_mmbtu'
    THEN 'no emission factor found for lookup ''epa_per_mmbtu'' in epa-hub-2025 per mmBtu (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_mmbtu__key_fuel_type || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:epa_per_mmbtu'
    THEN 'more than one emission factor matches lookup ''epa_per_mmbtu'' in epa-hub-2025 per mmBtu (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_mmbtu__key_fuel_type || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:epa_per_scf'
    THEN 'no emission factor found for lookup ''epa_per_scf'' in epa-hub-2025 per scf (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_scf__key_fuel_type || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:epa_per_scf'
    THEN 'more than one emission factor matches lookup ''epa_per_scf'' in epa-hub-2025 per scf (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_scf__key_fuel_type || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:epa_per_gallon'
    THEN 'no emission factor found for lookup ''epa_per_gallon'' in epa-hub-2025 per gal_US (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_gallon__key_fuel_type || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:epa_per_gallon'
    THEN 'more than one emission factor matches lookup ''epa_per_gallon'' in epa-hub-2025 per gal_US (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_gallon__key_fuel_type || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:epa_per_short_ton'
    THEN 'no emission factor found for lookup ''epa_per_short_ton'' in epa-hub-2025 per short_ton (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_short_ton__key_fuel_type || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:epa_per_short_ton'
    THEN 'more than one emission factor matches lookup ''epa_per_short_ton'' in epa-hub-2025 per short_ton (table = ''1''' || ', fuel_type = ' || COALESCE('''' || e.epa_per_short_ton__key_fuel_type || '''', '(empty)') || ')'
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
    FROM ccf.activity_stationary_fuel
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
      AND activity_type = 'stationary_fuel'
  ) AS rows_rejected,
  e.co2_co2e_kg,
  e.ch4_co2e_kg,
  e.n2o_co2e_kg,
  e.total_minus_gases_co2e_kg
FROM (
  SELECT
    COUNT(*) AS rows_result,
    COUNT(*) AS result_rows,
    SUM(co2_co2e_kg) AS co2_co2e_kg,
    SUM(ch4_co2e_kg) AS ch4_co2e_kg,
    SUM(n2o_co2e_kg) AS n2o_co2e_kg,
    SUM(total_minus_gases_co2e_kg) AS total_minus_gases_co2e_kg
  FROM ccf_eval
  WHERE
    outcome = 'result'
) AS e;

-- [6] cleanup
DROP TABLE IF EXISTS ccf_eval;
