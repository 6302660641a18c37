-- ccf compiled SQL for scope3.cat6.business_travel.fuel_based@1.0.0 (published)
-- Scope 3 category 6 business travel, fuel-based (fuel bought for vehicles the organisation does not own)
-- content hash sha256:01ca5f5158852301f8ec18345b60cd15bdf762d690770d865e5c0c37c12ab87f
-- activity type travel_fuel; factor set desnz; GWP AR5
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
    a.fuel,
    a.vehicle,
    a.volume * unit_volume.factor AS volume,
    a.mass * unit_mass.factor AS mass,
    a.energy * unit_energy.factor AS energy,
    CONCAT_WS('; ', unit_volume.note, unit_mass.note, unit_energy.note) AS unit_conversion,
    a.energy * unit_energy.x1_3600000 AS energy__x1_3600000
  FROM ccf.activity_travel_fuel AS a
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
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
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
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
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
    a.fuel AS per_kwh__key_level3
  FROM activity AS a
  LEFT JOIN factor_per_litre AS f_per_litre
    ON a.fuel = f_per_litre.key_level3
  LEFT JOIN factor_per_tonne AS f_per_tonne
    ON a.fuel = f_per_tonne.key_level3
  LEFT JOIN factor_per_kwh AS f_per_kwh
    ON a.fuel = f_per_kwh.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.category <> 6
      THEN 1 /* rule other_category */
      WHEN (
        (
          j.volume = 0
        ) OR (
          j.mass = 0
        )
      ) OR (
        j.energy = 0
      )
      THEN 2 /* rule nothing_used */
      WHEN NOT j.volume IS NULL
      THEN 3 /* rule by_volume */
      WHEN NOT j.mass IS NULL
      THEN 4 /* rule by_mass */
      WHEN NOT j.energy IS NULL
      THEN 5 /* rule by_energy */
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
      THEN 'nothing_used'
      WHEN 3
      THEN 'by_volume'
      WHEN 4
      THEN 'by_mass'
      WHEN 5
      THEN 'by_energy'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not fuel of category 6 (reported under its own Scope 3 category)'
      WHEN 2
      THEN 'zero fuel in the period'
    END AS exclude_reason,
    r.data_quality,
    r.per_litre__ch4_n,
    r.per_litre__co2_n,
    r.per_litre__co2e_n,
    r.per_litre__n2o_n,
    r.per_litre__key_level3,
    r.per_tonne__ch4_n,
    r.per_tonne__co2_n,
    r.per_tonne__co2e_n,
    r.per_tonne__n2o_n,
    r.per_tonne__key_level3,
    r.per_kwh__ch4_n,
    r.per_kwh__co2_n,
    r.per_kwh__co2e_n,
    r.per_kwh__n2o_n,
    r.per_kwh__key_level3,
    CASE r.rule_no
      WHEN 3
      THEN (
        r.volume * r.per_litre__co2
      ) * 1000
      WHEN 4
      THEN (
        r.mass * r.per_tonne__co2
      ) * 0.001
      WHEN 5
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__co2, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__co2, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.per_litre__co2_id
      WHEN 4
      THEN r.per_tonne__co2_id
      WHEN 5
      THEN r.per_kwh__co2_id
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.per_litre__co2_level
      WHEN 4
      THEN r.per_tonne__co2_level
      WHEN 5
      THEN r.per_kwh__co2_level
      ELSE CAST(NULL AS TEXT)
    END AS co2_match_level,
    CASE r.rule_no
      WHEN 3
      THEN (
        r.volume * r.per_litre__ch4
      ) * 1000
      WHEN 4
      THEN (
        r.mass * r.per_tonne__ch4
      ) * 0.001
      WHEN 5
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__ch4, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__ch4, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.per_litre__ch4_id
      WHEN 4
      THEN r.per_tonne__ch4_id
      WHEN 5
      THEN r.per_kwh__ch4_id
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.per_litre__ch4_level
      WHEN 4
      THEN r.per_tonne__ch4_level
      WHEN 5
      THEN r.per_kwh__ch4_level
      ELSE CAST(NULL AS TEXT)
    END AS ch4_match_level,
    CASE r.rule_no
      WHEN 3
      THEN (
        r.volume * r.per_litre__n2o
      ) * 1000
      WHEN 4
      THEN (
        r.mass * r.per_tonne__n2o
      ) * 0.001
      WHEN 5
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.per_kwh__n2o, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.per_kwh__n2o, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.per_litre__n2o_id
      WHEN 4
      THEN r.per_tonne__n2o_id
      WHEN 5
      THEN r.per_kwh__n2o_id
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.per_litre__n2o_level
      WHEN 4
      THEN r.per_tonne__n2o_level
      WHEN 5
      THEN r.per_kwh__n2o_level
      ELSE CAST(NULL AS TEXT)
    END AS n2o_match_level,
    CASE r.rule_no
      WHEN 3
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
      WHEN 4
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
      WHEN 5
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
      ELSE CAST(NULL AS DECIMAL)
    END AS total_minus_gases_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN ARRAY[
        r.per_litre__co2e_id,
        r.per_litre__co2_id,
        r.per_litre__ch4_id,
        r.per_litre__n2o_id
      ]
      WHEN 4
      THEN ARRAY[
        r.per_tonne__co2e_id,
        r.per_tonne__co2_id,
        r.per_tonne__ch4_id,
        r.per_tonne__n2o_id
      ]
      WHEN 5
      THEN ARRAY[r.per_kwh__co2e_id, r.per_kwh__co2_id, r.per_kwh__ch4_id, r.per_kwh__n2o_id]
      ELSE CAST(NULL AS TEXT[])
    END AS total_minus_gases_factor_ids,
    CASE r.rule_no
      WHEN 3
      THEN r.per_litre__co2e_level
      WHEN 4
      THEN r.per_tonne__co2e_level
      WHEN 5
      THEN r.per_kwh__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS total_minus_gases_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 3
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
      WHEN 4
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
      WHEN 5
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
  CASE WHEN NOT c.problem IS NULL THEN c.per_litre__key_level3 END AS per_litre__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.per_tonne__key_level3 END AS per_tonne__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.per_kwh__key_level3 END AS per_kwh__key_level3,
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
  'scope3.cat6.business_travel.fuel_based',
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
  'scope3.cat6.business_travel.fuel_based',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not fuel of category 6 (reported under its own Scope 3 category)'
    WHEN 2
    THEN 'zero fuel in the period'
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
  'scope3.cat6.business_travel.fuel_based',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:per_litre'
    THEN 'no emission factor found for lookup ''per_litre'' in desnz per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_litre'
    THEN 'more than one emission factor matches lookup ''per_litre'' in desnz per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:per_tonne'
    THEN 'no emission factor found for lookup ''per_tonne'' in desnz per t (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_tonne__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_tonne'
    THEN 'more than one emission factor matches lookup ''per_tonne'' in desnz per t (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_tonne__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:per_kwh'
    THEN 'no emission factor found for lookup ''per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:per_kwh'
    THEN 'more than one emission factor matches lookup ''per_kwh'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.per_kwh__key_level3 || '''', '(empty)') || ')'
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
    FROM ccf.activity_travel_fuel
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
      AND activity_type = 'travel_fuel'
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
