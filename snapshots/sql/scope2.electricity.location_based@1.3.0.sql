-- ccf compiled SQL for scope2.electricity.location_based@1.3.0 (published)
-- Scope 2 purchased electricity, location-based
-- content hash sha256:c8375ddc1cd4dfde23c0ed6ca59cfd727851407f1f4e29ff5591956b932a764a
-- activity type electricity; factor set desnz; GWP AR5
-- parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s, %(factor_set_id__egrid_subregion)s (egrid-2023), %(factor_set_id__egrid_us_average)s (egrid-2023), %(factor_set_id__national_lifecycle_proxy)s (ember-2025-08), %(factor_set_id__regional_lifecycle_proxy)s (ember-2025-08)
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
    a.quantity * unit_quantity.factor AS quantity,
    a.country,
    a.grid_region,
    a.supplier,
    a.supplier_rate,
    a.supplier_rate_source,
    COALESCE(unit_quantity.note, '') AS unit_conversion,
    a.quantity * unit_quantity.x45359237_360000000000000000 AS quantity__x45359237_360000000000000000,
    a.quantity * unit_quantity.x1_3600000000 AS quantity__x1_3600000000,
    a.quantity * unit_quantity.x1_3600000 AS quantity__x1_3600000
  FROM ccf.activity_electricity AS a
  LEFT JOIN (VALUES
    (
      'Btu',
      1055.05585262,
      'quantity Btu→kWh ×52752792631/180000000000000',
      NULL,
      NULL,
      NULL
    ),
    ('GJ', 1000000000, 'quantity GJ→kWh ×2500/9', NULL, NULL, NULL),
    ('GWh', 3600000000000, 'quantity GWh→kWh ×1000000', 453.59237, 1000, 1000000),
    ('J', 1, 'quantity J→kWh ×1/3600000', NULL, NULL, NULL),
    ('MJ', 1000000, 'quantity MJ→kWh ×5/18', NULL, NULL, NULL),
    ('MWh', 3600000000, 'quantity MWh→kWh ×1000', 0.45359237, 1, 1000),
    ('TJ', 1000000000000, 'quantity TJ→kWh ×2500000/9', NULL, NULL, NULL),
    ('Wh', 3600, 'quantity Wh→kWh ×0.001', NULL, 0.000001, 0.001),
    ('kJ', 1000, 'quantity kJ→kWh ×1/3600', NULL, NULL, NULL),
    ('kWh', 3600000, 'quantity in kWh', NULL, 0.001, 1),
    (
      'mmBtu',
      1055055852.62,
      'quantity mmBtu→kWh ×52752792631/180000000',
      NULL,
      NULL,
      NULL
    ),
    (
      'therm',
      105505585.257348,
      'quantity therm→kWh ×29.30710701593',
      NULL,
      NULL,
      NULL
    ),
    ('therm_US', 105480400, 'quantity therm_US→kWh ×263701/9000', NULL, NULL, NULL)) AS unit_quantity("unit", factor, note, x45359237_360000000000000000, x1_3600000000, x1_3600000)
    ON unit_quantity."unit" = a.quantity_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), lookup_keys AS MATERIALIZED (
  SELECT DISTINCT
    a.country AS national_lifecycle_proxy__key_region,
    a.country AS regional_lifecycle_proxy__key_region
  FROM activity AS a
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
), factor_national_lifecycle_proxy_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    s.national_lifecycle_proxy__key_region AS key_region
  FROM lookup_keys AS s
), factor_national_lifecycle_proxy_ranked AS NOT MATERIALIZED (
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
  FROM factor_national_lifecycle_proxy_keys AS k
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
    f.factor_set_id = %(factor_set_id__national_lifecycle_proxy)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'area' = 'country'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_national_lifecycle_proxy AS MATERIALIZED (
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
  FROM factor_national_lifecycle_proxy_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
), factor_regional_lifecycle_proxy_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    s.regional_lifecycle_proxy__key_region AS key_region
  FROM lookup_keys AS s
), factor_regional_lifecycle_proxy_ranked AS NOT MATERIALIZED (
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
  FROM factor_regional_lifecycle_proxy_keys AS k
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
    f.factor_set_id = %(factor_set_id__regional_lifecycle_proxy)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'area' = 'aggregate'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_regional_lifecycle_proxy AS MATERIALIZED (
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
  FROM factor_regional_lifecycle_proxy_ranked
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
    f_national_lifecycle_proxy.co2e AS national_lifecycle_proxy__co2e,
    f_national_lifecycle_proxy.co2e_id AS national_lifecycle_proxy__co2e_id,
    f_national_lifecycle_proxy.co2e_n AS national_lifecycle_proxy__co2e_n,
    f_national_lifecycle_proxy.co2e_level AS national_lifecycle_proxy__co2e_level,
    a.country AS national_lifecycle_proxy__key_region,
    f_regional_lifecycle_proxy.co2e AS regional_lifecycle_proxy__co2e,
    f_regional_lifecycle_proxy.co2e_id AS regional_lifecycle_proxy__co2e_id,
    f_regional_lifecycle_proxy.co2e_n AS regional_lifecycle_proxy__co2e_n,
    f_regional_lifecycle_proxy.co2e_level AS regional_lifecycle_proxy__co2e_level,
    a.country AS regional_lifecycle_proxy__key_region
  FROM activity AS a
  LEFT JOIN factor_egrid_subregion AS f_egrid_subregion
    ON a.grid_region = f_egrid_subregion.key_subregion
  LEFT JOIN factor_national_lifecycle_proxy AS f_national_lifecycle_proxy
    ON a.country = f_national_lifecycle_proxy.key_region
  LEFT JOIN factor_regional_lifecycle_proxy AS f_regional_lifecycle_proxy
    ON a.country = f_regional_lifecycle_proxy.key_region
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.quantity = 0
      THEN 1 /* rule zero_consumption */
      WHEN (
        (
          j.country = 'US'
        ) AND (
          j.grid_region <> 'US'
        )
      )
      AND (
        NOT j.egrid_subregion__co2 IS NULL
      )
      THEN 2 /* rule egrid_subregion */
      WHEN j.country = 'US'
      THEN 3 /* rule egrid_us_average */
      WHEN j.country = 'GB'
      THEN 4 /* rule desnz_national */
      WHEN NOT j.national_lifecycle_proxy__co2e IS NULL
      THEN 5 /* rule national_lifecycle_proxy */
      WHEN TRUE
      THEN 6 /* rule regional_lifecycle_proxy */
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
      THEN 'zero_consumption'
      WHEN 2
      THEN 'egrid_subregion'
      WHEN 3
      THEN 'egrid_us_average'
      WHEN 4
      THEN 'desnz_national'
      WHEN 5
      THEN 'national_lifecycle_proxy'
      WHEN 6
      THEN 'regional_lifecycle_proxy'
    END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'no electricity consumed in the period' END AS exclude_reason,
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
    r.national_lifecycle_proxy__co2e_n,
    r.national_lifecycle_proxy__key_region,
    r.regional_lifecycle_proxy__co2e_n,
    r.regional_lifecycle_proxy__key_region,
    CASE r.rule_no
      WHEN 5
      THEN 'ember-2025-08'
      WHEN 6
      THEN 'ember-2025-08'
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_set,
    CASE r.rule_no
      WHEN 5
      THEN CASE
        WHEN r.quantity__x1_3600000000 IS NULL
        THEN ccf.div(r.quantity * r.national_lifecycle_proxy__co2e, 3600000000)
        ELSE ROUND(r.quantity__x1_3600000000 * r.national_lifecycle_proxy__co2e, 20)
      END
      WHEN 6
      THEN CASE
        WHEN r.quantity__x1_3600000000 IS NULL
        THEN ccf.div(r.quantity * r.regional_lifecycle_proxy__co2e, 3600000000)
        ELSE ROUND(r.quantity__x1_3600000000 * r.regional_lifecycle_proxy__co2e, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 5
      THEN r.national_lifecycle_proxy__co2e_id
      WHEN 6
      THEN r.regional_lifecycle_proxy__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 5
      THEN r.national_lifecycle_proxy__co2e_level
      WHEN 6
      THEN r.regional_lifecycle_proxy__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level,
    CASE r.rule_no
      WHEN 2
      THEN 'egrid-2023'
      WHEN 3
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_set,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.quantity__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.quantity * r.egrid_subregion__co2
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_subregion__co2, 20)
      END
      WHEN 3
      THEN CASE
        WHEN r.quantity__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.quantity * r.egrid_us_average__co2
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_us_average__co2, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_kg,
    CASE r.rule_no
      WHEN 2
      THEN gwp.gwp_co2
      WHEN 3
      THEN gwp.gwp_co2
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_gwp,
    CASE r.rule_no
      WHEN 2
      THEN (
        CASE
          WHEN r.quantity__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.quantity * r.egrid_subregion__co2
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_subregion__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 3
      THEN (
        CASE
          WHEN r.quantity__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.quantity * r.egrid_us_average__co2
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_us_average__co2, 20)
        END
      ) * gwp.gwp_co2
      WHEN 4
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(r.quantity * r.uk_grid__co2, 3600000)
        ELSE ROUND(r.quantity__x1_3600000 * r.uk_grid__co2, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.egrid_subregion__co2_id
      WHEN 3
      THEN r.egrid_us_average__co2_id
      WHEN 4
      THEN r.uk_grid__co2_id
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.egrid_subregion__co2_level
      WHEN 3
      THEN r.egrid_us_average__co2_level
      WHEN 4
      THEN r.uk_grid__co2_level
      ELSE CAST(NULL AS TEXT)
    END AS co2_match_level,
    CASE r.rule_no
      WHEN 2
      THEN 'egrid-2023'
      WHEN 3
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_set,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.quantity__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.quantity * r.egrid_subregion__ch4
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_subregion__ch4, 20)
      END
      WHEN 3
      THEN CASE
        WHEN r.quantity__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.quantity * r.egrid_us_average__ch4
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_us_average__ch4, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_kg,
    CASE r.rule_no
      WHEN 2
      THEN gwp.gwp_ch4
      WHEN 3
      THEN gwp.gwp_ch4
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_gwp,
    CASE r.rule_no
      WHEN 2
      THEN (
        CASE
          WHEN r.quantity__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.quantity * r.egrid_subregion__ch4
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_subregion__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 3
      THEN (
        CASE
          WHEN r.quantity__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.quantity * r.egrid_us_average__ch4
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_us_average__ch4, 20)
        END
      ) * gwp.gwp_ch4
      WHEN 4
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(r.quantity * r.uk_grid__ch4, 3600000)
        ELSE ROUND(r.quantity__x1_3600000 * r.uk_grid__ch4, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.egrid_subregion__ch4_id
      WHEN 3
      THEN r.egrid_us_average__ch4_id
      WHEN 4
      THEN r.uk_grid__ch4_id
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.egrid_subregion__ch4_level
      WHEN 3
      THEN r.egrid_us_average__ch4_level
      WHEN 4
      THEN r.uk_grid__ch4_level
      ELSE CAST(NULL AS TEXT)
    END AS ch4_match_level,
    CASE r.rule_no
      WHEN 2
      THEN 'egrid-2023'
      WHEN 3
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_set,
    CASE r.rule_no
      WHEN 2
      THEN CASE
        WHEN r.quantity__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.quantity * r.egrid_subregion__n2o
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_subregion__n2o, 20)
      END
      WHEN 3
      THEN CASE
        WHEN r.quantity__x45359237_360000000000000000 IS NULL
        THEN ccf.div((
          r.quantity * r.egrid_us_average__n2o
        ) * 45359237, 360000000000000000)
        ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_us_average__n2o, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_kg,
    CASE r.rule_no
      WHEN 2
      THEN gwp.gwp_n2o
      WHEN 3
      THEN gwp.gwp_n2o
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_gwp,
    CASE r.rule_no
      WHEN 2
      THEN (
        CASE
          WHEN r.quantity__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.quantity * r.egrid_subregion__n2o
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_subregion__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 3
      THEN (
        CASE
          WHEN r.quantity__x45359237_360000000000000000 IS NULL
          THEN ccf.div((
            r.quantity * r.egrid_us_average__n2o
          ) * 45359237, 360000000000000000)
          ELSE ROUND(r.quantity__x45359237_360000000000000000 * r.egrid_us_average__n2o, 20)
        END
      ) * gwp.gwp_n2o
      WHEN 4
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(r.quantity * r.uk_grid__n2o, 3600000)
        ELSE ROUND(r.quantity__x1_3600000 * r.uk_grid__n2o, 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN r.egrid_subregion__n2o_id
      WHEN 3
      THEN r.egrid_us_average__n2o_id
      WHEN 4
      THEN r.uk_grid__n2o_id
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_id,
    CASE r.rule_no
      WHEN 2
      THEN r.egrid_subregion__n2o_level
      WHEN 3
      THEN r.egrid_us_average__n2o_level
      WHEN 4
      THEN r.uk_grid__n2o_level
      ELSE CAST(NULL AS TEXT)
    END AS n2o_match_level,
    CAST(NULL AS TEXT) AS total_minus_gases_factor_set,
    CASE r.rule_no
      WHEN 4
      THEN CASE
        WHEN r.quantity__x1_3600000 IS NULL
        THEN ccf.div(r.quantity * r.uk_grid__co2e, 3600000)
        ELSE ROUND(r.quantity__x1_3600000 * r.uk_grid__co2e, 20)
      END - (
        (
          CASE
            WHEN r.quantity__x1_3600000 IS NULL
            THEN ccf.div(r.quantity * r.uk_grid__co2, 3600000)
            ELSE ROUND(r.quantity__x1_3600000 * r.uk_grid__co2, 20)
          END + CASE
            WHEN r.quantity__x1_3600000 IS NULL
            THEN ccf.div(r.quantity * r.uk_grid__ch4, 3600000)
            ELSE ROUND(r.quantity__x1_3600000 * r.uk_grid__ch4, 20)
          END
        ) + CASE
          WHEN r.quantity__x1_3600000 IS NULL
          THEN ccf.div(r.quantity * r.uk_grid__n2o, 3600000)
          ELSE ROUND(r.quantity__x1_3600000 * r.uk_grid__n2o, 20)
        END
      )
      ELSE CAST(NULL AS DECIMAL)
    END AS total_minus_gases_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN ARRAY[r.uk_grid__co2e_id, r.uk_grid__co2_id, r.uk_grid__ch4_id, r.uk_grid__n2o_id]
      ELSE CAST(NULL AS TEXT[])
    END AS total_minus_gases_factor_ids,
    CASE r.rule_no WHEN 4 THEN r.uk_grid__co2e_level ELSE CAST(NULL AS TEXT) END AS total_minus_gases_match_level
  FROM ruled AS r
  CROSS JOIN gwp
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 2
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
      WHEN 3
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
      WHEN 4
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
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.national_lifecycle_proxy__co2e_n, 0) = 0
        THEN 'no_factor:national_lifecycle_proxy'
        WHEN e.national_lifecycle_proxy__co2e_n > 1
        THEN 'ambiguous_factor:national_lifecycle_proxy'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.regional_lifecycle_proxy__co2e_n, 0) = 0
        THEN 'no_factor:regional_lifecycle_proxy'
        WHEN e.regional_lifecycle_proxy__co2e_n > 1
        THEN 'ambiguous_factor:regional_lifecycle_proxy'
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
  CASE WHEN NOT c.problem IS NULL THEN c.national_lifecycle_proxy__key_region END AS national_lifecycle_proxy__key_region,
  CASE WHEN NOT c.problem IS NULL THEN c.regional_lifecycle_proxy__key_region END AS regional_lifecycle_proxy__key_region,
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
  'scope2.electricity.location_based',
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
  'scope2.electricity.location_based',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'no electricity consumed in the period' END
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
  'scope2.electricity.location_based',
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
    WHEN e.problem = 'no_factor:national_lifecycle_proxy'
    THEN 'no emission factor found for lookup ''national_lifecycle_proxy'' in ember-2025-08 per kWh (area = ''country''' || ', region (or a parent region) = ' || COALESCE('''' || e.national_lifecycle_proxy__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:national_lifecycle_proxy'
    THEN 'more than one emission factor matches lookup ''national_lifecycle_proxy'' in ember-2025-08 per kWh (area = ''country''' || ', region (or a parent region) = ' || COALESCE('''' || e.national_lifecycle_proxy__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:regional_lifecycle_proxy'
    THEN 'no emission factor found for lookup ''regional_lifecycle_proxy'' in ember-2025-08 per kWh (area = ''aggregate''' || ', region (or a parent region) = ' || COALESCE('''' || e.regional_lifecycle_proxy__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:regional_lifecycle_proxy'
    THEN 'more than one emission factor matches lookup ''regional_lifecycle_proxy'' in ember-2025-08 per kWh (area = ''aggregate''' || ', region (or a parent region) = ' || COALESCE('''' || e.regional_lifecycle_proxy__key_region || '''', '(empty)') || ')'
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
    FROM ccf.activity_electricity
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
      AND activity_type = 'electricity'
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
