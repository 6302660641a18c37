-- ccf compiled SQL for scope3.cat3.fuel_energy.sold_electricity.average_data@1.0.0 (published)
-- Scope 3 category 3 (d) generation of purchased electricity sold to end users, average-data method
-- content hash sha256:507d3a2a619c29baa5c9b00127600cc048aadcc9e32182b332e45ed545b9a72f
-- activity type energy_supplier_data; factor set desnz; GWP AR5
-- parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s, %(factor_set_id__egrid_subregion)s (egrid-2023), %(factor_set_id__egrid_us_average)s (egrid-2023), %(factor_set_id__national_grid)s (ember-2025-08)
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
    a.energy * unit_energy.x45359237_360000000000000000 AS energy__x45359237_360000000000000000,
    a.energy * unit_energy.x1_3600000000 AS energy__x1_3600000000,
    a.energy * unit_energy.x1_3600000 AS energy__x1_3600000
  FROM ccf.activity_energy_supplier_data AS a
  LEFT JOIN (VALUES
    (
      'Btu',
      1055.05585262,
      'energy Btu→kWh ×52752792631/180000000000000',
      NULL,
      NULL,
      NULL
    ),
    ('GJ', 1000000000, 'energy GJ→kWh ×2500/9', NULL, NULL, NULL),
    ('GWh', 3600000000000, 'energy GWh→kWh ×1000000', 453.59237, 1000, 1000000),
    ('J', 1, 'energy J→kWh ×1/3600000', NULL, NULL, NULL),
    ('MJ', 1000000, 'energy MJ→kWh ×5/18', NULL, NULL, NULL),
    ('MWh', 3600000000, 'energy MWh→kWh ×1000', 0.45359237, 1, 1000),
    ('TJ', 1000000000000, 'energy TJ→kWh ×2500000/9', NULL, NULL, NULL),
    ('Wh', 3600, 'energy Wh→kWh ×0.001', NULL, 0.000001, 0.001),
    ('kJ', 1000, 'energy kJ→kWh ×1/3600', NULL, NULL, NULL),
    ('kWh', 3600000, 'energy in kWh', NULL, 0.001, 1),
    (
      'mmBtu',
      1055055852.62,
      'energy mmBtu→kWh ×52752792631/180000000',
      NULL,
      NULL,
      NULL
    ),
    ('therm', 105505585.257348, 'energy therm→kWh ×29.30710701593', NULL, NULL, NULL),
    ('therm_US', 105480400, 'energy therm_US→kWh ×263701/9000', NULL, NULL, NULL)) AS unit_energy("unit", factor, note, x45359237_360000000000000000, x1_3600000000, x1_3600000)
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
), factor_egrid_subregion_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'subregion' AS key_subregion,
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'MWh'
      THEN f."value"
      ELSE ccf.div(f."value" * 3600000000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'MWh' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'subregion', f.gas ORDER BY f."unit" <> 'MWh') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id__egrid_subregion)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CH4', 'CO2', 'N2O')
    AND f.attributes ->> 'basis' = 'total output'
), factor_egrid_subregion AS MATERIALIZED (
  SELECT
    key_subregion,
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
  FROM factor_egrid_subregion_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_subregion
), factor_egrid_us_average_ranked AS NOT MATERIALIZED (
  SELECT
    f.gas,
    f.factor_id,
    CASE
      WHEN f."unit" = 'MWh'
      THEN f."value"
      ELSE ccf.div(f."value" * 3600000000, fu.scale)
    END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'MWh' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.gas ORDER BY f."unit" <> 'MWh') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id__egrid_us_average)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CH4', 'CO2', 'N2O')
    AND f.attributes ->> 'basis' = 'total output'
    AND f.attributes ->> 'subregion' = 'US'
), factor_egrid_us_average AS MATERIALIZED (
  SELECT
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
  FROM factor_egrid_us_average_ranked
  WHERE
    fallback_rank = 1
), factor_uk_grid_ranked AS NOT MATERIALIZED (
  SELECT
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
    RANK() OVER (PARTITION BY f.gas ORDER BY f."unit" <> 'kWh') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CH4', 'CO2', 'CO2e', 'N2O')
    AND f.attributes ->> 'level1' = 'UK electricity'
    AND f.attributes ->> 'level3' = 'Electricity: UK'
), factor_uk_grid AS MATERIALIZED (
  SELECT
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
  FROM factor_uk_grid_ranked
  WHERE
    fallback_rank = 1
), factor_national_grid_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    a.country AS key_region
  FROM activity AS a
), factor_national_grid_ranked AS NOT MATERIALIZED (
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
  FROM factor_national_grid_keys AS k
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
    f.factor_set_id = %(factor_set_id__national_grid)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'area' = 'country'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_national_grid AS MATERIALIZED (
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
  FROM factor_national_grid_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
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
    f_egrid_subregion.ch4 AS egrid_subregion__ch4,
    f_egrid_subregion.ch4_id AS egrid_subregion__ch4_id,
    f_egrid_subregion.ch4_n AS egrid_subregion__ch4_n,
    f_egrid_subregion.ch4_level AS egrid_subregion__ch4_level,
    f_egrid_subregion.co2 AS egrid_subregion__co2,
    f_egrid_subregion.co2_id AS egrid_subregion__co2_id,
    f_egrid_subregion.co2_n AS egrid_subregion__co2_n,
    f_egrid_subregion.co2_level AS egrid_subregion__co2_level,
    f_egrid_subregion.n2o AS egrid_subregion__n2o,
    f_egrid_subregion.n2o_id AS egrid_subregion__n2o_id,
    f_egrid_subregion.n2o_n AS egrid_subregion__n2o_n,
    f_egrid_subregion.n2o_level AS egrid_subregion__n2o_level,
    a.grid_region AS egrid_subregion__key_subregion,
    (
      SELECT
        ch4
      FROM factor_egrid_us_average
    ) AS egrid_us_average__ch4,
    (
      SELECT
        ch4_id
      FROM factor_egrid_us_average
    ) AS egrid_us_average__ch4_id,
    (
      SELECT
        ch4_n
      FROM factor_egrid_us_average
    ) AS egrid_us_average__ch4_n,
    (
      SELECT
        ch4_level
      FROM factor_egrid_us_average
    ) AS egrid_us_average__ch4_level,
    (
      SELECT
        co2
      FROM factor_egrid_us_average
    ) AS egrid_us_average__co2,
    (
      SELECT
        co2_id
      FROM factor_egrid_us_average
    ) AS egrid_us_average__co2_id,
    (
      SELECT
        co2_n
      FROM factor_egrid_us_average
    ) AS egrid_us_average__co2_n,
    (
      SELECT
        co2_level
      FROM factor_egrid_us_average
    ) AS egrid_us_average__co2_level,
    (
      SELECT
        n2o
      FROM factor_egrid_us_average
    ) AS egrid_us_average__n2o,
    (
      SELECT
        n2o_id
      FROM factor_egrid_us_average
    ) AS egrid_us_average__n2o_id,
    (
      SELECT
        n2o_n
      FROM factor_egrid_us_average
    ) AS egrid_us_average__n2o_n,
    (
      SELECT
        n2o_level
      FROM factor_egrid_us_average
    ) AS egrid_us_average__n2o_level,
    (
      SELECT
        ch4
      FROM factor_uk_grid
    ) AS uk_grid__ch4,
    (
      SELECT
        ch4_id
      FROM factor_uk_grid
    ) AS uk_grid__ch4_id,
    (
      SELECT
        ch4_n
      FROM factor_uk_grid
    ) AS uk_grid__ch4_n,
    (
      SELECT
        ch4_level
      FROM factor_uk_grid
    ) AS uk_grid__ch4_level,
    (
      SELECT
        co2
      FROM factor_uk_grid
    ) AS uk_grid__co2,
    (
      SELECT
        co2_id
      FROM factor_uk_grid
    ) AS uk_grid__co2_id,
    (
      SELECT
        co2_n
      FROM factor_uk_grid
    ) AS uk_grid__co2_n,
    (
      SELECT
        co2_level
      FROM factor_uk_grid
    ) AS uk_grid__co2_level,
    (
      SELECT
        co2e
      FROM factor_uk_grid
    ) AS uk_grid__co2e,
    (
      SELECT
        co2e_id
      FROM factor_uk_grid
    ) AS uk_grid__co2e_id,
    (
      SELECT
        co2e_n
      FROM factor_uk_grid
    ) AS uk_grid__co2e_n,
    (
      SELECT
        co2e_level
      FROM factor_uk_grid
    ) AS uk_grid__co2e_level,
    (
      SELECT
        n2o
      FROM factor_uk_grid
    ) AS uk_grid__n2o,
    (
      SELECT
        n2o_id
      FROM factor_uk_grid
    ) AS uk_grid__n2o_id,
    (
      SELECT
        n2o_n
      FROM factor_uk_grid
    ) AS uk_grid__n2o_n,
    (
      SELECT
        n2o_level
      FROM factor_uk_grid
    ) AS uk_grid__n2o_level,
    f_national_grid.co2e AS national_grid__co2e,
    f_national_grid.co2e_id AS national_grid__co2e_id,
    f_national_grid.co2e_n AS national_grid__co2e_n,
    f_national_grid.co2e_level AS national_grid__co2e_level,
    a.country AS national_grid__key_region
  FROM activity AS a
  LEFT JOIN factor_egrid_subregion AS f_egrid_subregion
    ON a.grid_region = f_egrid_subregion.key_subregion
  LEFT JOIN factor_national_grid AS f_national_grid
    ON a.country = f_national_grid.key_region
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.purpose <> 'resold'
      THEN 1 /* rule consumed */
      WHEN NOT j.generation_factor IS NULL
      THEN 2 /* rule generator_factor_known */
      WHEN j.energy = 0
      THEN 3 /* rule nothing_resold */
      WHEN (
        (
          (
            j.carrier = 'electricity'
          ) AND (
            j.country = 'US'
          )
        )
        AND (
          j.grid_region <> 'US'
        )
      )
      AND (
        NOT j.egrid_subregion__co2 IS NULL
      )
      THEN 4 /* rule egrid_subregion */
      WHEN (
        j.carrier = 'electricity'
      ) AND (
        j.country = 'US'
      )
      THEN 5 /* rule egrid_us_average */
      WHEN (
        j.carrier = 'electricity'
      ) AND (
        j.country = 'GB'
      )
      THEN 6 /* rule desnz_uk */
      WHEN (
        j.carrier = 'electricity'
      ) AND (
        NOT j.country IS NULL
      )
      THEN 7 /* rule national_grid */
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
      THEN 'consumed'
      WHEN 2
      THEN 'generator_factor_known'
      WHEN 3
      THEN 'nothing_resold'
      WHEN 4
      THEN 'egrid_subregion'
      WHEN 5
      THEN 'egrid_us_average'
      WHEN 6
      THEN 'desnz_uk'
      WHEN 7
      THEN 'national_grid'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'energy the organisation consumes is category 3 activities (a) to (c)'
      WHEN 2
      THEN 'the generators'' factor is known; the supplier-specific method takes the row'
      WHEN 3
      THEN 'no energy bought for resale in the period'
    END AS exclude_reason,
    r.data_quality,
    r.egrid_subregion__ch4_n,
    r.egrid_subregion__co2_n,
    r.egrid_subregion__n2o_n,
    r.egrid_subregion__key_subregion,
    r.egrid_us_average__ch4_n,
    r.egrid_us_average__co2_n,
    r.egrid_us_average__n2o_n,
    r.uk_grid__ch4_n,
    r.uk_grid__co2_n,
    r.uk_grid__co2e_n,
    r.uk_grid__n2o_n,
    r.national_grid__co2e_n,
    r.national_grid__key_region,
    CASE r.rule_no WHEN 7 THEN 'ember-2025-08' ELSE CAST(NULL AS TEXT) END AS co2e_factor_set,
    CASE r.rule_no
      WHEN 7
      THEN CASE
        WHEN r.energy__x1_3600000000 IS NULL
        THEN ccf.div(r.energy * r.national_grid__co2e, 3600000000)
        ELSE ROUND(r.energy__x1_3600000000 * r.national_grid__co2e, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no WHEN 7 THEN r.national_grid__co2e_id ELSE CAST(NULL AS TEXT) END AS co2e_factor_id,
    CASE r.rule_no WHEN 7 THEN r.national_grid__co2e_level ELSE CAST(NULL AS TEXT) END AS co2e_match_level,
    CASE r.rule_no
      WHEN 4
      THEN 'egrid-2023'
      WHEN 5
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_set,
    CASE r.rule_no
      WHEN 4
      THEN CASE
        WHEN r.energy__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.energy * r.egrid_subregion__co2
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_subregion__co2, 20)
      END
      WHEN 5
      THEN CASE
        WHEN r.energy__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.energy * r.egrid_us_average__co2
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_us_average__co2, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_kg,
    CASE r.rule_no
      WHEN 4
      THEN gwp.gwp_co2
      WHEN 5
      THEN gwp.gwp_co2
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_gwp,
    CASE r.rule_no
      WHEN 4
      THEN (
        CASE
          WHEN r.energy__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.energy * r.egrid_subregion__co2
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_subregion__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 5
      THEN (
        CASE
          WHEN r.energy__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.energy * r.egrid_us_average__co2
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_us_average__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 6
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.uk_grid__co2, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.uk_grid__co2, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN r.egrid_subregion__co2_id
      WHEN 5
      THEN r.egrid_us_average__co2_id
      WHEN 6
      THEN r.uk_grid__co2_id
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_id,
    CASE r.rule_no
      WHEN 4
      THEN r.egrid_subregion__co2_level
      WHEN 5
      THEN r.egrid_us_average__co2_level
      WHEN 6
      THEN r.uk_grid__co2_level
      ELSE CAST(NULL AS TEXT)
    END AS co2_match_level,
    CASE r.rule_no
      WHEN 4
      THEN 'egrid-2023'
      WHEN 5
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_set,
    CASE r.rule_no
      WHEN 4
      THEN CASE
        WHEN r.energy__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.energy * r.egrid_subregion__ch4
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_subregion__ch4, 20)
      END
      WHEN 5
      THEN CASE
        WHEN r.energy__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.energy * r.egrid_us_average__ch4
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_us_average__ch4, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_kg,
    CASE r.rule_no
      WHEN 4
      THEN gwp.gwp_ch4
      WHEN 5
      THEN gwp.gwp_ch4
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_gwp,
    CASE r.rule_no
      WHEN 4
      THEN (
        CASE
          WHEN r.energy__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.energy * r.egrid_subregion__ch4
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_subregion__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 5
      THEN (
        CASE
          WHEN r.energy__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.energy * r.egrid_us_average__ch4
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_us_average__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 6
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.uk_grid__ch4, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.uk_grid__ch4, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN r.egrid_subregion__ch4_id
      WHEN 5
      THEN r.egrid_us_average__ch4_id
      WHEN 6
      THEN r.uk_grid__ch4_id
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_id,
    CASE r.rule_no
      WHEN 4
      THEN r.egrid_subregion__ch4_level
      WHEN 5
      THEN r.egrid_us_average__ch4_level
      WHEN 6
      THEN r.uk_grid__ch4_level
      ELSE CAST(NULL AS TEXT)
    END AS ch4_match_level,
    CASE r.rule_no
      WHEN 4
      THEN 'egrid-2023'
      WHEN 5
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_set,
    CASE r.rule_no
      WHEN 4
      THEN CASE
        WHEN r.energy__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.energy * r.egrid_subregion__n2o
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_subregion__n2o, 20)
      END
      WHEN 5
      THEN CASE
        WHEN r.energy__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.energy * r.egrid_us_average__n2o
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_us_average__n2o, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_kg,
    CASE r.rule_no
      WHEN 4
      THEN gwp.gwp_n2o
      WHEN 5
      THEN gwp.gwp_n2o
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_gwp,
    CASE r.rule_no
      WHEN 4
      THEN (
        CASE
          WHEN r.energy__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.energy * r.egrid_subregion__n2o
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_subregion__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 5
      THEN (
        CASE
          WHEN r.energy__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.energy * r.egrid_us_average__n2o
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.energy__x45359237_360000000000000000 * r.egrid_us_average__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 6
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.uk_grid__n2o, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.uk_grid__n2o, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN r.egrid_subregion__n2o_id
      WHEN 5
      THEN r.egrid_us_average__n2o_id
      WHEN 6
      THEN r.uk_grid__n2o_id
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_id,
    CASE r.rule_no
      WHEN 4
      THEN r.egrid_subregion__n2o_level
      WHEN 5
      THEN r.egrid_us_average__n2o_level
      WHEN 6
      THEN r.uk_grid__n2o_level
      ELSE CAST(NULL AS TEXT)
    END AS n2o_match_level,
    CAST(NULL AS TEXT) AS total_minus_gases_factor_set,
    CASE r.rule_no
      WHEN 6
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.uk_grid__co2e, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.uk_grid__co2e, 20)
      END - (
        (
          CASE
            WHEN r.energy__x1_3600000 IS NULL
            THEN ccf.div(r.energy * r.uk_grid__co2, 3600000)
            ELSE ROUND(r.energy__x1_3600000 * r.uk_grid__co2, 20)
          END + CASE
            WHEN r.energy__x1_3600000 IS NULL
            THEN ccf.div(r.energy * r.uk_grid__ch4, 3600000)
            ELSE ROUND(r.energy__x1_3600000 * r.uk_grid__ch4, 20)
          END
        ) + CASE
          WHEN r.energy__x1_3600000 IS NULL
          THEN ccf.div(r.energy * r.uk_grid__n2o, 3600000)
          ELSE ROUND(r.energy__x1_3600000 * r.uk_grid__n2o, 20)
        END
      )
      ELSE CAST(NULL AS DECIMAL)
    END AS total_minus_gases_co2e_kg,
    CASE r.rule_no
      WHEN 6
      THEN ARRAY[r.uk_grid__co2e_id, r.uk_grid__co2_id, r.uk_grid__ch4_id, r.uk_grid__n2o_id]
      ELSE CAST(NULL AS TEXT[])
    END AS total_minus_gases_factor_ids,
    CASE r.rule_no WHEN 6 THEN r.uk_grid__co2e_level ELSE CAST(NULL AS TEXT) END AS total_minus_gases_match_level
  FROM ruled AS r
  CROSS JOIN gwp
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.egrid_subregion__ch4_n, 0) = 0
        THEN 'no_factor:egrid_subregion'
        WHEN e.egrid_subregion__ch4_n > 1
        THEN 'ambiguous_factor:egrid_subregion'
        WHEN COALESCE(e.egrid_subregion__co2_n, 0) = 0
        THEN 'no_factor:egrid_subregion'
        WHEN e.egrid_subregion__co2_n > 1
        THEN 'ambiguous_factor:egrid_subregion'
        WHEN COALESCE(e.egrid_subregion__n2o_n, 0) = 0
        THEN 'no_factor:egrid_subregion'
        WHEN e.egrid_subregion__n2o_n > 1
        THEN 'ambiguous_factor:egrid_subregion'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.egrid_us_average__ch4_n, 0) = 0
        THEN 'no_factor:egrid_us_average'
        WHEN e.egrid_us_average__ch4_n > 1
        THEN 'ambiguous_factor:egrid_us_average'
        WHEN COALESCE(e.egrid_us_average__co2_n, 0) = 0
        THEN 'no_factor:egrid_us_average'
        WHEN e.egrid_us_average__co2_n > 1
        THEN 'ambiguous_factor:egrid_us_average'
        WHEN COALESCE(e.egrid_us_average__n2o_n, 0) = 0
        THEN 'no_factor:egrid_us_average'
        WHEN e.egrid_us_average__n2o_n > 1
        THEN 'ambiguous_factor:egrid_us_average'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.uk_grid__ch4_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__ch4_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN COALESCE(e.uk_grid__co2_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__co2_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN COALESCE(e.uk_grid__co2e_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__co2e_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN COALESCE(e.uk_grid__n2o_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__n2o_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN e.co2_co2e_kg IS NULL
        OR e.ch4_co2e_kg IS NULL
        OR e.n2o_co2e_kg IS NULL
        OR e.total_minus_gases_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 7
      THEN CASE
        WHEN COALESCE(e.national_grid__co2e_n, 0) = 0
        THEN 'no_factor:national_grid'
        WHEN e.national_grid__co2e_n > 1
        THEN 'ambiguous_factor:national_grid'
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
  CASE WHEN NOT c.problem IS NULL THEN c.egrid_subregion__key_subregion END AS egrid_subregion__key_subregion,
  CASE WHEN NOT c.problem IS NULL THEN c.national_grid__key_region END AS national_grid__key_region,
  c.co2e_factor_set,
  c.co2e_co2e_kg,
  c.co2e_factor_id,
  c.co2e_match_level,
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
  co2e_co2e_kg,
  co2e_factor_ids,
  co2e_match_level,
  co2e_factor_set,
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
  'scope3.cat3.fuel_energy.sold_electricity.average_data',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0) + COALESCE(e.co2_co2e_kg, 0) + COALESCE(e.ch4_co2e_kg, 0) + COALESCE(e.n2o_co2e_kg, 0) + COALESCE(e.total_minus_gases_co2e_kg, 0),
  e.co2e_co2e_kg,
  CASE WHEN NOT e.co2e_co2e_kg IS NULL THEN ARRAY[e.co2e_factor_id] END,
  e.co2e_match_level,
  e.co2e_factor_set,
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
    NOT e.co2e_co2e_kg IS NULL
    OR NOT e.co2_co2e_kg IS NULL
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
  'scope3.cat3.fuel_energy.sold_electricity.average_data',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'energy the organisation consumes is category 3 activities (a) to (c)'
    WHEN 2
    THEN 'the generators'' factor is known; the supplier-specific method takes the row'
    WHEN 3
    THEN 'no energy bought for resale in the period'
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
  'scope3.cat3.fuel_energy.sold_electricity.average_data',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:egrid_subregion'
    THEN 'no emission factor found for lookup ''egrid_subregion'' in egrid-2023 per MWh (basis = ''total output''' || ', subregion = ' || COALESCE('''' || e.egrid_subregion__key_subregion || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:egrid_subregion'
    THEN 'more than one emission factor matches lookup ''egrid_subregion'' in egrid-2023 per MWh (basis = ''total output''' || ', subregion = ' || COALESCE('''' || e.egrid_subregion__key_subregion || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:egrid_us_average'
    THEN 'no emission factor found for lookup ''egrid_us_average'' in egrid-2023 per MWh (basis = ''total output'', subregion = ''US''' || ')'
    WHEN e.problem = 'ambiguous_factor:egrid_us_average'
    THEN 'more than one emission factor matches lookup ''egrid_us_average'' in egrid-2023 per MWh (basis = ''total output'', subregion = ''US''' || ')'
    WHEN e.problem = 'no_factor:uk_grid'
    THEN 'no emission factor found for lookup ''uk_grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ')'
    WHEN e.problem = 'ambiguous_factor:uk_grid'
    THEN 'more than one emission factor matches lookup ''uk_grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ')'
    WHEN e.problem = 'no_factor:national_grid'
    THEN 'no emission factor found for lookup ''national_grid'' in ember-2025-08 per kWh (area = ''country''' || ', region (or a parent region) = ' || COALESCE('''' || e.national_grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:national_grid'
    THEN 'more than one emission factor matches lookup ''national_grid'' in ember-2025-08 per kWh (area = ''country''' || ', region (or a parent region) = ' || COALESCE('''' || e.national_grid__key_region || '''', '(empty)') || ')'
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
  e.co2e_co2e_kg,
  e.co2_co2e_kg,
  e.ch4_co2e_kg,
  e.n2o_co2e_kg,
  e.total_minus_gases_co2e_kg
FROM (
  SELECT
    COUNT(*) AS rows_result,
    COUNT(*) AS result_rows,
    SUM(co2e_co2e_kg) AS co2e_co2e_kg,
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
