-- ccf compiled SQL for scope1.mobile_combustion.distance_based@1.2.0 (published)
-- Scope 1 mobile combustion, distance-based, per gas
-- content hash sha256:5fc26d93935ab57c57a435d03678d74034d80c8d8ec03b30fbb9e46990f9c9d9
-- activity type fleet_distance; factor set desnz; GWP AR5
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
    a.vehicle,
    a.vehicle_class,
    a.fuel,
    a.laden,
    a.registration,
    a.distance * unit_distance.factor AS distance,
    COALESCE(unit_distance.note, '') AS unit_conversion
  FROM ccf.activity_fleet_distance AS a
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
), factor_car_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level2' AS key_level2,
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'km' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level2', f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 'km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'Passenger vehicles'
), factor_car AS MATERIALIZED (
  SELECT
    key_level2,
    key_level3,
    key_column_text,
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
  FROM factor_car_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level2,
    key_level3,
    key_column_text
), factor_motorbike_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'km' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'km') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'Passenger vehicles'
    AND f.attributes ->> 'level2' = 'Motorbike'
), factor_motorbike AS MATERIALIZED (
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
  FROM factor_motorbike_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_van_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'km' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 'km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'Delivery vehicles'
    AND f.attributes ->> 'level2' = 'Vans'
), factor_van AS MATERIALIZED (
  SELECT
    key_level3,
    key_column_text,
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
  FROM factor_van_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3,
    key_column_text
), factor_hgv_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level2' AS key_level2,
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'km'
      THEN f."value"
      ELSE ccf.div(f."value" * 1000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'km' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level2', f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 'km'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'm^1'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'Delivery vehicles'
), factor_hgv AS MATERIALIZED (
  SELECT
    key_level2,
    key_level3,
    key_column_text,
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
  FROM factor_hgv_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level2,
    key_level3,
    key_column_text
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_car.ch4 AS car__ch4,
    f_car.ch4_id AS car__ch4_id,
    f_car.ch4_n AS car__ch4_n,
    f_car.ch4_level AS car__ch4_level,
    f_car.co2 AS car__co2,
    f_car.co2_id AS car__co2_id,
    f_car.co2_n AS car__co2_n,
    f_car.co2_level AS car__co2_level,
    f_car.co2e AS car__co2e,
    f_car.co2e_id AS car__co2e_id,
    f_car.co2e_n AS car__co2e_n,
    f_car.co2e_level AS car__co2e_level,
    f_car.n2o AS car__n2o,
    f_car.n2o_id AS car__n2o_id,
    f_car.n2o_n AS car__n2o_n,
    f_car.n2o_level AS car__n2o_level,
    CASE
      WHEN a.vehicle_class IN (
        'Mini',
        'Supermini',
        'Lower medium',
        'Upper medium',
        'Executive',
        'Luxury',
        'Sports',
        'Dual purpose 4X4',
        'MPV'
      )
      THEN 'Cars (by market segment)'
      ELSE 'Cars (by size)'
    END AS car__key_level2,
    COALESCE(a.vehicle_class, 'Average car') AS car__key_level3,
    COALESCE(a.fuel, 'Unknown') AS car__key_column_text,
    f_motorbike.ch4 AS motorbike__ch4,
    f_motorbike.ch4_id AS motorbike__ch4_id,
    f_motorbike.ch4_n AS motorbike__ch4_n,
    f_motorbike.ch4_level AS motorbike__ch4_level,
    f_motorbike.co2 AS motorbike__co2,
    f_motorbike.co2_id AS motorbike__co2_id,
    f_motorbike.co2_n AS motorbike__co2_n,
    f_motorbike.co2_level AS motorbike__co2_level,
    f_motorbike.co2e AS motorbike__co2e,
    f_motorbike.co2e_id AS motorbike__co2e_id,
    f_motorbike.co2e_n AS motorbike__co2e_n,
    f_motorbike.co2e_level AS motorbike__co2e_level,
    f_motorbike.n2o AS motorbike__n2o,
    f_motorbike.n2o_id AS motorbike__n2o_id,
    f_motorbike.n2o_n AS motorbike__n2o_n,
    f_motorbike.n2o_level AS motorbike__n2o_level,
    COALESCE(a.vehicle_class, 'Average') AS motorbike__key_level3,
    f_van.ch4 AS van__ch4,
    f_van.ch4_id AS van__ch4_id,
    f_van.ch4_n AS van__ch4_n,
    f_van.ch4_level AS van__ch4_level,
    f_van.co2 AS van__co2,
    f_van.co2_id AS van__co2_id,
    f_van.co2_n AS van__co2_n,
    f_van.co2_level AS van__co2_level,
    f_van.co2e AS van__co2e,
    f_van.co2e_id AS van__co2e_id,
    f_van.co2e_n AS van__co2e_n,
    f_van.co2e_level AS van__co2e_level,
    f_van.n2o AS van__n2o,
    f_van.n2o_id AS van__n2o_id,
    f_van.n2o_n AS van__n2o_n,
    f_van.n2o_level AS van__n2o_level,
    COALESCE(a.vehicle_class, 'Average (up to 3.5 tonnes)') AS van__key_level3,
    COALESCE(a.fuel, 'Unknown') AS van__key_column_text,
    f_hgv.ch4 AS hgv__ch4,
    f_hgv.ch4_id AS hgv__ch4_id,
    f_hgv.ch4_n AS hgv__ch4_n,
    f_hgv.ch4_level AS hgv__ch4_level,
    f_hgv.co2 AS hgv__co2,
    f_hgv.co2_id AS hgv__co2_id,
    f_hgv.co2_n AS hgv__co2_n,
    f_hgv.co2_level AS hgv__co2_level,
    f_hgv.co2e AS hgv__co2e,
    f_hgv.co2e_id AS hgv__co2e_id,
    f_hgv.co2e_n AS hgv__co2e_n,
    f_hgv.co2e_level AS hgv__co2e_level,
    f_hgv.n2o AS hgv__n2o,
    f_hgv.n2o_id AS hgv__n2o_id,
    f_hgv.n2o_n AS hgv__n2o_n,
    f_hgv.n2o_level AS hgv__n2o_level,
    CASE
      WHEN a.vehicle = 'hgv_refrigerated'
      THEN 'HGVs refrigerated (all diesel)'
      ELSE 'HGV (all diesel)'
    END AS hgv__key_level2,
    COALESCE(a.vehicle_class, 'All HGVs') AS hgv__key_level3,
    COALESCE(a.laden, 'Average laden') AS hgv__key_column_text
  FROM activity AS a
  LEFT JOIN factor_car AS f_car
    ON CASE
      WHEN a.vehicle_class IN (
        'Mini',
        'Supermini',
        'Lower medium',
        'Upper medium',
        'Executive',
        'Luxury',
        'Sports',
        'Dual purpose 4X4',
        'MPV'
      )
      THEN 'Cars (by market segment)'
      ELSE 'Cars (by size)'
    END = f_car.key_level2
    AND COALESCE(a.vehicle_class, 'Average car') = f_car.key_level3
    AND COALESCE(a.fuel, 'Unknown') = f_car.key_column_text
  LEFT JOIN factor_motorbike AS f_motorbike
    ON COALESCE(a.vehicle_class, 'Average') = f_motorbike.key_level3
  LEFT JOIN factor_van AS f_van
    ON COALESCE(a.vehicle_class, 'Average (up to 3.5 tonnes)') = f_van.key_level3
    AND COALESCE(a.fuel, 'Unknown') = f_van.key_column_text
  LEFT JOIN factor_hgv AS f_hgv
    ON CASE
      WHEN a.vehicle = 'hgv_refrigerated'
      THEN 'HGVs refrigerated (all diesel)'
      ELSE 'HGV (all diesel)'
    END = f_hgv.key_level2
    AND COALESCE(a.vehicle_class, 'All HGVs') = f_hgv.key_level3
    AND COALESCE(a.laden, 'Average laden') = f_hgv.key_column_text
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.distance = 0
      THEN 1 /* rule no_distance */
      WHEN j.vehicle = 'car'
      THEN 2 /* rule car */
      WHEN j.vehicle = 'motorbike'
      THEN 3 /* rule motorbike */
      WHEN j.vehicle = 'van'
      THEN 4 /* rule van */
      WHEN j.vehicle IN ('hgv', 'hgv_refrigerated')
      THEN 5 /* rule hgv */
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
      THEN 'no_distance'
      WHEN 2
      THEN 'car'
      WHEN 3
      THEN 'motorbike'
      WHEN 4
      THEN 'van'
      WHEN 5
      THEN 'hgv'
    END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'vehicle not driven in the period' END AS exclude_reason,
    r.data_quality,
    r.car__ch4_n,
    r.car__co2_n,
    r.car__co2e_n,
    r.car__n2o_n,
    r.car__key_level2,
    r.car__key_level3,
    r.car__key_column_text,
    r.motorbike__ch4_n,
    r.motorbike__co2_n,
    r.motorbike__co2e_n,
    r.motorbike__n2o_n,
    r.motorbike__key_level3,
    r.van__ch4_n,
    r.van__co2_n,
    r.van__co2e_n,
    r.van__n2o_n,
    r.van__key_level3,
    r.van__key_column_text,
    r.hgv__ch4_n,
    r.hgv__co2_n,
    r.hgv__co2e_n,
    r.hgv__n2o_n,
    r.hgv__key_level2,
    r.hgv__key_level3,
    r.hgv__key_column_text,
    CASE r.rule_no
      WHEN 2
      THEN (
        r.distance * r.car__co2
      ) * 0.001
      WHEN 3
      THEN (
        r.distance * r.motorbike__co2
      ) * 0.001
      WHEN 4
      THEN (
        r.distance * r.van__co2
      ) * 0.001
      WHEN 5
      THEN (
        r.distance * r.hgv__co2
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.car__co2_id
      WHEN 3
      THEN r.motorbike__co2_id
      WHEN 4
      THEN r.van__co2_id
      WHEN 5
      THEN r.hgv__co2_id
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.car__co2_level
      WHEN 3
      THEN r.motorbike__co2_level
      WHEN 4
      THEN r.van__co2_level
      WHEN 5
      THEN r.hgv__co2_level
      ELSE CAST(NULL AS TEXT)
    END AS co2_match_level,
    CASE r.rule_no
      WHEN 2
      THEN (
        r.distance * r.car__ch4
      ) * 0.001
      WHEN 3
      THEN (
        r.distance * r.motorbike__ch4
      ) * 0.001
      WHEN 4
      THEN (
        r.distance * r.van__ch4
      ) * 0.001
      WHEN 5
      THEN (
        r.distance * r.hgv__ch4
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.car__ch4_id
      WHEN 3
      THEN r.motorbike__ch4_id
      WHEN 4
      THEN r.van__ch4_id
      WHEN 5
      THEN r.hgv__ch4_id
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.car__ch4_level
      WHEN 3
      THEN r.motorbike__ch4_level
      WHEN 4
      THEN r.van__ch4_level
      WHEN 5
      THEN r.hgv__ch4_level
      ELSE CAST(NULL AS TEXT)
    END AS ch4_match_level,
    CASE r.rule_no
      WHEN 2
      THEN (
        r.distance * r.car__n2o
      ) * 0.001
      WHEN 3
      THEN (
        r.distance * r.motorbike__n2o
      ) * 0.001
      WHEN 4
      THEN (
        r.distance * r.van__n2o
      ) * 0.001
      WHEN 5
      THEN (
        r.distance * r.hgv__n2o
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.car__n2o_id
      WHEN 3
      THEN r.motorbike__n2o_id
      WHEN 4
      THEN r.van__n2o_id
      WHEN 5
      THEN r.hgv__n2o_id
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.car__n2o_level
      WHEN 3
      THEN r.motorbike__n2o_level
      WHEN 4
      THEN r.van__n2o_level
      WHEN 5
      THEN r.hgv__n2o_level
      ELSE CAST(NULL AS TEXT)
    END AS n2o_match_level,
    CASE r.rule_no
      WHEN 2
      THEN (
        (
          r.distance * r.car__co2e
        ) * 0.001
      ) - (
        (
          (
            (
              r.distance * r.car__co2
            ) * 0.001
          ) + (
            (
              r.distance * r.car__ch4
            ) * 0.001
          )
        ) + (
          (
            r.distance * r.car__n2o
          ) * 0.001
        )
      )
      WHEN 3
      THEN (
        (
          r.distance * r.motorbike__co2e
        ) * 0.001
      ) - (
        (
          (
            (
              r.distance * r.motorbike__co2
            ) * 0.001
          ) + (
            (
              r.distance * r.motorbike__ch4
            ) * 0.001
          )
        ) + (
          (
            r.distance * r.motorbike__n2o
          ) * 0.001
        )
      )
      WHEN 4
      THEN (
        (
          r.distance * r.van__co2e
        ) * 0.001
      ) - (
        (
          (
            (
              r.distance * r.van__co2
            ) * 0.001
          ) + (
            (
              r.distance * r.van__ch4
            ) * 0.001
          )
        ) + (
          (
            r.distance * r.van__n2o
          ) * 0.001
        )
      )
      WHEN 5
      THEN (
        (
          r.distance * r.hgv__co2e
        ) * 0.001
      ) - (
        (
          (
            (
              r.distance * r.hgv__co2
            ) * 0.001
          ) + (
            (
              r.distance * r.hgv__ch4
            ) * 0.001
          )
        ) + (
          (
            r.distance * r.hgv__n2o
          ) * 0.001
        )
      )
      ELSE CAST(NULL AS DECIMAL)
    END AS total_minus_gases_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN ARRAY[r.car__co2e_id, r.car__co2_id, r.car__ch4_id, r.car__n2o_id]
      WHEN 3
      THEN ARRAY[
        r.motorbike__co2e_id,
        r.motorbike__co2_id,
        r.motorbike__ch4_id,
        r.motorbike__n2o_id
      ]
      WHEN 4
      THEN ARRAY[r.van__co2e_id, r.van__co2_id, r.van__ch4_id, r.van__n2o_id]
      WHEN 5
      THEN ARRAY[r.hgv__co2e_id, r.hgv__co2_id, r.hgv__ch4_id, r.hgv__n2o_id]
      ELSE CAST(NULL AS TEXT[])
    END AS total_minus_gases_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN r.car__co2e_level
      WHEN 3
      THEN r.motorbike__co2e_level
      WHEN 4
      THEN r.van__co2e_level
      WHEN 5
      THEN r.hgv__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS total_minus_gases_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 2
      THEN CASE
        WHEN COALESCE(e.car__ch4_n, 0) = 0
        THEN 'no_factor:car'
        WHEN e.car__ch4_n > 1
        THEN 'ambiguous_factor:car'
        WHEN COALESCE(e.car__co2_n, 0) = 0
        THEN 'no_factor:car'
        WHEN e.car__co2_n > 1
        THEN 'ambiguous_factor:car'
        WHEN COALESCE(e.car__co2e_n, 0) = 0
        THEN 'no_factor:car'
        WHEN e.car__co2e_n > 1
        THEN 'ambiguous_factor:car'
        WHEN COALESCE(e.car__n2o_n, 0) = 0
        THEN 'no_factor:car'
        WHEN e.car__n2o_n > 1
        THEN 'ambiguous_factor:car'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 3
      THEN CASE
        WHEN COALESCE(e.motorbike__ch4_n, 0) = 0
        THEN 'no_factor:motorbike'
        WHEN e.motorbike__ch4_n > 1
        THEN 'ambiguous_factor:motorbike'
        WHEN COALESCE(e.motorbike__co2_n, 0) = 0
        THEN 'no_factor:motorbike'
        WHEN e.motorbike__co2_n > 1
        THEN 'ambiguous_factor:motorbike'
        WHEN COALESCE(e.motorbike__co2e_n, 0) = 0
        THEN 'no_factor:motorbike'
        WHEN e.motorbike__co2e_n > 1
        THEN 'ambiguous_factor:motorbike'
        WHEN COALESCE(e.motorbike__n2o_n, 0) = 0
        THEN 'no_factor:motorbike'
        WHEN e.motorbike__n2o_n > 1
        THEN 'ambiguous_factor:motorbike'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.van__ch4_n, 0) = 0
        THEN 'no_factor:van'
        WHEN e.van__ch4_n > 1
        THEN 'ambiguous_factor:van'
        WHEN COALESCE(e.van__co2_n, 0) = 0
        THEN 'no_factor:van'
        WHEN e.van__co2_n > 1
        THEN 'ambiguous_factor:van'
        WHEN COALESCE(e.van__co2e_n, 0) = 0
        THEN 'no_factor:van'
        WHEN e.van__co2e_n > 1
        THEN 'ambiguous_factor:van'
        WHEN COALESCE(e.van__n2o_n, 0) = 0
        THEN 'no_factor:van'
        WHEN e.van__n2o_n > 1
        THEN 'ambiguous_factor:van'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.hgv__ch4_n, 0) = 0
        THEN 'no_factor:hgv'
        WHEN e.hgv__ch4_n > 1
        THEN 'ambiguous_factor:hgv'
        WHEN COALESCE(e.hgv__co2_n, 0) = 0
        THEN 'no_factor:hgv'
        WHEN e.hgv__co2_n > 1
        THEN 'ambiguous_factor:hgv'
        WHEN COALESCE(e.hgv__co2e_n, 0) = 0
        THEN 'no_factor:hgv'
        WHEN e.hgv__co2e_n > 1
        THEN 'ambiguous_factor:hgv'
        WHEN COALESCE(e.hgv__n2o_n, 0) = 0
        THEN 'no_factor:hgv'
        WHEN e.hgv__n2o_n > 1
        THEN 'ambiguous_factor:hgv'
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
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_level2 END AS car__key_level2,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_level3 END AS car__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.car__key_column_text END AS car__key_column_text,
  CASE WHEN NOT c.problem IS NULL THEN c.motorbike__key_level3 END AS motorbike__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.van__key_level3 END AS van__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.van__key_column_text END AS van__key_column_text,
  CASE WHEN NOT c.problem IS NULL THEN c.hgv__key_level2 END AS hgv__key_level2,
  CASE WHEN NOT c.problem IS NULL THEN c.hgv__key_level3 END AS hgv__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.hgv__key_column_text END AS hgv__key_column_text,
  c.co2_co2e_kg,
  c.co2_factor_id,
  c.co2_match_level,
  c.ch4_co2e_kg,
  c.ch4_factor_id,
  c.ch4_match_level,
  c.n2o_co2e_kg,
  c.n2o_factor_id,
  c.n2o_match_level,
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
  co2_co2e_kg,
  co2_factor_ids,
  co2_match_level,
  ch4_co2e_kg,
  ch4_factor_ids,
  ch4_match_level,
  n2o_co2e_kg,
  n2o_factor_ids,
  n2o_match_level,
  total_minus_gases_co2e_kg,
  total_minus_gases_factor_ids,
  total_minus_gases_match_level
)
SELECT
  %(run_id)s,
  'scope1.mobile_combustion.distance_based',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2_co2e_kg, 0) + COALESCE(e.ch4_co2e_kg, 0) + COALESCE(e.n2o_co2e_kg, 0) + COALESCE(e.total_minus_gases_co2e_kg, 0),
  e.co2_co2e_kg,
  CASE WHEN NOT e.co2_co2e_kg IS NULL THEN ARRAY[e.co2_factor_id] END,
  e.co2_match_level,
  e.ch4_co2e_kg,
  CASE WHEN NOT e.ch4_co2e_kg IS NULL THEN ARRAY[e.ch4_factor_id] END,
  e.ch4_match_level,
  e.n2o_co2e_kg,
  CASE WHEN NOT e.n2o_co2e_kg IS NULL THEN ARRAY[e.n2o_factor_id] END,
  e.n2o_match_level,
  e.total_minus_gases_co2e_kg,
  e.total_minus_gases_factor_ids,
  e.total_minus_gases_match_level
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
  'scope1.mobile_combustion.distance_based',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'vehicle not driven in the period' END
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
  'scope1.mobile_combustion.distance_based',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:car'
    THEN 'no emission factor found for lookup ''car'' in desnz per km (level1 = ''Passenger vehicles''' || ', level2 = ' || COALESCE('''' || e.car__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:car'
    THEN 'more than one emission factor matches lookup ''car'' in desnz per km (level1 = ''Passenger vehicles''' || ', level2 = ' || COALESCE('''' || e.car__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.car__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.car__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:motorbike'
    THEN 'no emission factor found for lookup ''motorbike'' in desnz per km (level1 = ''Passenger vehicles'', level2 = ''Motorbike''' || ', level3 = ' || COALESCE('''' || e.motorbike__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:motorbike'
    THEN 'more than one emission factor matches lookup ''motorbike'' in desnz per km (level1 = ''Passenger vehicles'', level2 = ''Motorbike''' || ', level3 = ' || COALESCE('''' || e.motorbike__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:van'
    THEN 'no emission factor found for lookup ''van'' in desnz per km (level1 = ''Delivery vehicles'', level2 = ''Vans''' || ', level3 = ' || COALESCE('''' || e.van__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.van__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:van'
    THEN 'more than one emission factor matches lookup ''van'' in desnz per km (level1 = ''Delivery vehicles'', level2 = ''Vans''' || ', level3 = ' || COALESCE('''' || e.van__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.van__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:hgv'
    THEN 'no emission factor found for lookup ''hgv'' in desnz per km (level1 = ''Delivery vehicles''' || ', level2 = ' || COALESCE('''' || e.hgv__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.hgv__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.hgv__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:hgv'
    THEN 'more than one emission factor matches lookup ''hgv'' in desnz per km (level1 = ''Delivery vehicles''' || ', level2 = ' || COALESCE('''' || e.hgv__key_level2 || '''', '(empty)') || ', level3 = ' || COALESCE('''' || e.hgv__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.hgv__key_column_text || '''', '(empty)') || ')'
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
    FROM ccf.activity_fleet_distance
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
      AND activity_type = 'fleet_distance'
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
