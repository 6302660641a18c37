-- ccf compiled SQL for scope2.electricity.market_based@1.2.0 (published)
-- Scope 2 purchased electricity, market-based
-- content hash sha256:d1307e5ca0542b9b96db6a7e6bdfbaf6e2d188ecb5d74c0719f0b625aed18ee0
-- activity type electricity; factor set desnz; GWP AR5
-- parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s, %(factor_set_id__residual_mix)s (org-residual-mix), %(factor_set_id__egrid_subregion)s (egrid-2023), %(factor_set_id__egrid_us_average)s (egrid-2023), %(factor_set_id__national_lifecycle_proxy)s (ember-2025-08), %(factor_set_id__regional_lifecycle_proxy)s (ember-2025-08)
-- assumes the session settings ccf pins on each connection:
--   standard_conforming_strings=on search_path=pg_catalog DateStyle='ISO, MDY' IntervalStyle=postgres TimeZone=UTC client_encoding=UTF8 extra_float_digits=1 transform_null_equals=off statement_timeout=0 lock_timeout=0 idle_in_transaction_session_timeout=0

-- [1] evaluate
CREATE TEMPORARY TABLE ccf_eval AS
WITH consumption AS NOT MATERIALIZED (
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
    COALESCE(unit_quantity.note, '') AS unit_conversion
  FROM ccf.activity_electricity AS a
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'quantity Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, 'quantity GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 'quantity GWh→kWh ×1000000'),
    ('J', 1, 'quantity J→kWh ×1/3600000'),
    ('MJ', 1000000, 'quantity MJ→kWh ×5/18'),
    ('MWh', 3600000000, 'quantity MWh→kWh ×1000'),
    ('TJ', 1000000000000, 'quantity TJ→kWh ×2500000/9'),
    ('Wh', 3600, 'quantity Wh→kWh ×0.001'),
    ('kJ', 1000, 'quantity kJ→kWh ×1/3600'),
    ('kWh', 3600000, 'quantity in kWh'),
    ('mmBtu', 1055055852.62, 'quantity mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 'quantity therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, 'quantity therm_US→kWh ×263701/9000')) AS unit_quantity("unit", factor, note)
    ON unit_quantity."unit" = a.quantity_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), instrument AS NOT MATERIALIZED (
  SELECT
    a.activity_id,
    a.entity,
    a.period_start,
    a.period_end,
    a.data_quality,
    a.instrument_type,
    a.quantity * unit_quantity.factor AS quantity,
    a.country,
    a.grid_region,
    a.vintage,
    a.emission_rate,
    a.registry,
    COALESCE(unit_quantity.note, '') AS unit_conversion
  FROM ccf.activity_energy_attribute_certificates AS a
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'quantity Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, 'quantity GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 'quantity GWh→kWh ×1000000'),
    ('J', 1, 'quantity J→kWh ×1/3600000'),
    ('MJ', 1000000, 'quantity MJ→kWh ×5/18'),
    ('MWh', 3600000000, 'quantity MWh→kWh ×1000'),
    ('TJ', 1000000000000, 'quantity TJ→kWh ×2500000/9'),
    ('Wh', 3600, 'quantity Wh→kWh ×0.001'),
    ('kJ', 1000, 'quantity kJ→kWh ×1/3600'),
    ('kWh', 3600000, 'quantity in kWh'),
    ('mmBtu', 1055055852.62, 'quantity mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 'quantity therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, 'quantity therm_US→kWh ×263701/9000')) AS unit_quantity("unit", factor, note)
    ON unit_quantity."unit" = a.quantity_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), consumption_laid AS NOT MATERIALIZED (
  SELECT
    s.activity_id,
    s.entity,
    s.country,
    EXTRACT(YEAR FROM s.period_start) AS pool_year,
    s.quantity AS total,
    SUM(s.quantity) OVER (
      PARTITION BY s.entity, s.country, EXTRACT(YEAR FROM s.period_start)
      ORDER BY s.period_start, s.activity_id COLLATE "C"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS upto
  FROM consumption AS s
), instrument_laid AS NOT MATERIALIZED (
  SELECT
    s.activity_id,
    s.entity,
    s.country,
    s.vintage AS pool_year,
    s.quantity AS total,
    SUM(s.quantity) OVER (
      PARTITION BY s.entity, s.country, s.vintage
      ORDER BY s.activity_id COLLATE "C"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS upto
  FROM instrument AS s
), allocation AS NOT MATERIALIZED (
  SELECT
    c.activity_id AS activity_id,
    i.activity_id AS instrument_id,
    LEAST(c.upto, i.upto) - GREATEST((
      c.upto - c.total
    ), (
      i.upto - i.total
    )) AS allocated,
    ROW_NUMBER() OVER (PARTITION BY c.activity_id ORDER BY i.upto) AS part_no
  FROM consumption_laid AS c
  JOIN instrument_laid AS i
    ON c.entity IS NOT DISTINCT FROM i.entity
    AND c.country IS NOT DISTINCT FROM i.country
    AND c.pool_year = i.pool_year
    AND c.total > 0
    AND i.total > 0
    AND (
      c.upto - c.total
    ) < i.upto
    AND (
      i.upto - i.total
    ) < c.upto
), activity AS NOT MATERIALIZED (
  SELECT
    c.activity_id,
    c.entity,
    c.period_start,
    c.period_end,
    c.data_quality,
    al.allocated AS quantity,
    c.country,
    c.grid_region,
    c.supplier,
    c.supplier_rate,
    c.supplier_rate_source,
    c.unit_conversion,
    i.activity_id AS instrument__activity_id,
    i.entity AS instrument__entity,
    i.period_start AS instrument__period_start,
    i.period_end AS instrument__period_end,
    i.data_quality AS instrument__data_quality,
    i.instrument_type AS instrument__instrument_type,
    i.quantity AS instrument__quantity,
    i.country AS instrument__country,
    i.grid_region AS instrument__grid_region,
    i.vintage AS instrument__vintage,
    i.emission_rate AS instrument__emission_rate,
    i.registry AS instrument__registry,
    al.part_no
  FROM consumption AS c
  JOIN allocation AS al
    ON al.activity_id = c.activity_id
  JOIN instrument AS i
    ON i.activity_id = al.instrument_id
  UNION ALL
  SELECT
    c.activity_id,
    c.entity,
    c.period_start,
    c.period_end,
    c.data_quality,
    c.quantity - COALESCE(s.allocated, 0) AS quantity,
    c.country,
    c.grid_region,
    c.supplier,
    c.supplier_rate,
    c.supplier_rate_source,
    c.unit_conversion,
    NULL AS instrument__activity_id,
    NULL AS instrument__entity,
    NULL AS instrument__period_start,
    NULL AS instrument__period_end,
    NULL AS instrument__data_quality,
    NULL AS instrument__instrument_type,
    NULL AS instrument__quantity,
    NULL AS instrument__country,
    NULL AS instrument__grid_region,
    NULL AS instrument__vintage,
    NULL AS instrument__emission_rate,
    NULL AS instrument__registry,
    COALESCE(s.parts, 0) + 1 AS part_no
  FROM consumption AS c
  LEFT JOIN (
    SELECT
      activity_id,
      SUM(allocated) AS allocated,
      COUNT(*) AS parts
    FROM allocation
    GROUP BY
      activity_id
  ) AS s
    ON s.activity_id = c.activity_id
  WHERE
    s.activity_id IS NULL OR c.quantity > s.allocated
), lookup_keys AS MATERIALIZED (
  SELECT DISTINCT
    a.country AS residual_mix__key_region,
    EXTRACT(YEAR FROM a.period_start) AS residual_mix__key_year,
    a.country AS national_lifecycle_proxy__key_region,
    a.country AS regional_lifecycle_proxy__key_region
  FROM activity AS a
), factor_residual_mix_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    s.residual_mix__key_region AS key_region,
    s.residual_mix__key_year AS key_year
  FROM lookup_keys AS s
), factor_residual_mix_ranked AS NOT MATERIALIZED (
  SELECT
    k.key_region,
    k.key_year,
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
          CASE
            WHEN f.factor_year < k.key_year
            THEN 'year ' || f.factor_year || ' for ' || k.key_year
          END,
          CASE WHEN f."unit" <> 'kWh' THEN 'stated per ' || f."unit" END
        ),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY k.key_region, k.key_year, f.gas
      ORDER BY ra.depth, f.factor_year DESC NULLS LAST, f."unit" <> 'kWh'
    ) AS fallback_rank
  FROM factor_residual_mix_keys AS k
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
    f.factor_set_id = %(factor_set_id__residual_mix)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'energy' = 'electricity'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
    AND (
      f.factor_year <= k.key_year OR f.factor_year IS NULL
    )
), factor_residual_mix AS MATERIALIZED (
  SELECT
    key_region,
    key_year,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_residual_mix_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region,
    key_year
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
    AND f.gas IN ('CH4', 'CO2', 'N2O')
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
    f_residual_mix.co2e AS residual_mix__co2e,
    f_residual_mix.co2e_id AS residual_mix__co2e_id,
    f_residual_mix.co2e_n AS residual_mix__co2e_n,
    f_residual_mix.co2e_level AS residual_mix__co2e_level,
    a.country AS residual_mix__key_region,
    EXTRACT(YEAR FROM a.period_start) AS residual_mix__key_year,
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
  LEFT JOIN factor_residual_mix AS f_residual_mix
    ON a.country = f_residual_mix.key_region
    AND EXTRACT(YEAR FROM a.period_start) = f_residual_mix.key_year
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
      WHEN NOT j.instrument__activity_id IS NULL
      THEN 2 /* rule certificate */
      WHEN NOT j.supplier_rate IS NULL
      THEN 3 /* rule supplier_specific */
      WHEN NOT j.residual_mix__co2e IS NULL
      THEN 4 /* rule residual_mix */
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
      THEN 5 /* rule grid_average_egrid_subregion */
      WHEN j.country = 'US'
      THEN 6 /* rule grid_average_egrid_us_average */
      WHEN j.country = 'GB'
      THEN 7 /* rule grid_average_desnz_national */
      WHEN NOT j.national_lifecycle_proxy__co2e IS NULL
      THEN 8 /* rule grid_average_national_lifecycle_proxy */
      WHEN TRUE
      THEN 9 /* rule grid_average_regional_lifecycle_proxy */
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
      THEN 'certificate'
      WHEN 3
      THEN 'supplier_specific'
      WHEN 4
      THEN 'residual_mix'
      WHEN 5
      THEN 'grid_average_egrid_subregion'
      WHEN 6
      THEN 'grid_average_egrid_us_average'
      WHEN 7
      THEN 'grid_average_desnz_national'
      WHEN 8
      THEN 'grid_average_national_lifecycle_proxy'
      WHEN 9
      THEN 'grid_average_regional_lifecycle_proxy'
    END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'no electricity consumed in the period' END AS exclude_reason,
    r.data_quality,
    r.part_no,
    r.instrument__activity_id AS instrument_id,
    r.quantity AS part_quantity,
    r.residual_mix__co2e_n,
    r.residual_mix__key_region,
    r.residual_mix__key_year,
    r.egrid_subregion__ch4_n,
    r.egrid_subregion__co2_n,
    r.egrid_subregion__n2o_n,
    r.egrid_subregion__key_subregion,
    r.egrid_us_average__ch4_n,
    r.egrid_us_average__co2_n,
    r.egrid_us_average__n2o_n,
    r.uk_grid__ch4_n,
    r.uk_grid__co2_n,
    r.uk_grid__n2o_n,
    r.national_lifecycle_proxy__co2e_n,
    r.national_lifecycle_proxy__key_region,
    r.regional_lifecycle_proxy__co2e_n,
    r.regional_lifecycle_proxy__key_region,
    CASE r.rule_no
      WHEN 2
      THEN CONCAT_WS(' ', 'instrument', r.instrument__instrument_type, r.instrument__activity_id)
      WHEN 4
      THEN 'org-residual-mix'
      WHEN 8
      THEN 'ember-2025-08'
      WHEN 9
      THEN 'ember-2025-08'
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_set,
    CASE r.rule_no
      WHEN 2
      THEN ccf.div((
        r.quantity * r.instrument__emission_rate
      ) * CAST(1 AS DECIMAL), 3600000)
      WHEN 3
      THEN ccf.div((
        r.quantity * r.supplier_rate
      ) * CAST(1 AS DECIMAL), 3600000)
      WHEN 4
      THEN ccf.div(r.quantity * r.residual_mix__co2e, 3600000)
      WHEN 8
      THEN ccf.div(r.quantity * r.national_lifecycle_proxy__co2e, 3600000000)
      WHEN 9
      THEN ccf.div(r.quantity * r.regional_lifecycle_proxy__co2e, 3600000000)
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 3
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 4
      THEN ARRAY[r.residual_mix__co2e_id]
      WHEN 8
      THEN ARRAY[r.national_lifecycle_proxy__co2e_id]
      WHEN 9
      THEN ARRAY[r.regional_lifecycle_proxy__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN 'no factor'
      WHEN 3
      THEN 'no factor'
      WHEN 4
      THEN r.residual_mix__co2e_level
      WHEN 8
      THEN r.national_lifecycle_proxy__co2e_level
      WHEN 9
      THEN r.regional_lifecycle_proxy__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level,
    CASE r.rule_no
      WHEN 5
      THEN 'egrid-2023'
      WHEN 6
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_set,
    CASE r.rule_no
      WHEN 5
      THEN ccf.div((
        r.quantity * r.egrid_subregion__co2
      ) * 45359237, 360000000000000000)
      WHEN 6
      THEN ccf.div((
        r.quantity * r.egrid_us_average__co2
      ) * 45359237, 360000000000000000)
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_kg,
    CASE r.rule_no
      WHEN 5
      THEN gwp.gwp_co2
      WHEN 6
      THEN gwp.gwp_co2
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_gwp,
    CASE r.rule_no
      WHEN 5
      THEN (
        ccf.div((
          r.quantity * r.egrid_subregion__co2
        ) * 45359237, 360000000000000000)
      ) * gwp.gwp_co2
      WHEN 6
      THEN (
        ccf.div((
          r.quantity * r.egrid_us_average__co2
        ) * 45359237, 360000000000000000)
      ) * gwp.gwp_co2
      WHEN 7
      THEN ccf.div(r.quantity * r.uk_grid__co2, 3600000)
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no
      WHEN 5
      THEN r.egrid_subregion__co2_id
      WHEN 6
      THEN r.egrid_us_average__co2_id
      WHEN 7
      THEN r.uk_grid__co2_id
      ELSE CAST(NULL AS TEXT)
    END AS co2_factor_id,
    CASE r.rule_no
      WHEN 5
      THEN r.egrid_subregion__co2_level
      WHEN 6
      THEN r.egrid_us_average__co2_level
      WHEN 7
      THEN r.uk_grid__co2_level
      ELSE CAST(NULL AS TEXT)
    END AS co2_match_level,
    CASE r.rule_no
      WHEN 5
      THEN 'egrid-2023'
      WHEN 6
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_set,
    CASE r.rule_no
      WHEN 5
      THEN ccf.div((
        r.quantity * r.egrid_subregion__ch4
      ) * 45359237, 360000000000000000)
      WHEN 6
      THEN ccf.div((
        r.quantity * r.egrid_us_average__ch4
      ) * 45359237, 360000000000000000)
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_kg,
    CASE r.rule_no
      WHEN 5
      THEN gwp.gwp_ch4
      WHEN 6
      THEN gwp.gwp_ch4
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_gwp,
    CASE r.rule_no
      WHEN 5
      THEN (
        ccf.div((
          r.quantity * r.egrid_subregion__ch4
        ) * 45359237, 360000000000000000)
      ) * gwp.gwp_ch4
      WHEN 6
      THEN (
        ccf.div((
          r.quantity * r.egrid_us_average__ch4
        ) * 45359237, 360000000000000000)
      ) * gwp.gwp_ch4
      WHEN 7
      THEN ccf.div(r.quantity * r.uk_grid__ch4, 3600000)
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no
      WHEN 5
      THEN r.egrid_subregion__ch4_id
      WHEN 6
      THEN r.egrid_us_average__ch4_id
      WHEN 7
      THEN r.uk_grid__ch4_id
      ELSE CAST(NULL AS TEXT)
    END AS ch4_factor_id,
    CASE r.rule_no
      WHEN 5
      THEN r.egrid_subregion__ch4_level
      WHEN 6
      THEN r.egrid_us_average__ch4_level
      WHEN 7
      THEN r.uk_grid__ch4_level
      ELSE CAST(NULL AS TEXT)
    END AS ch4_match_level,
    CASE r.rule_no
      WHEN 5
      THEN 'egrid-2023'
      WHEN 6
      THEN 'egrid-2023'
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_set,
    CASE r.rule_no
      WHEN 5
      THEN ccf.div((
        r.quantity * r.egrid_subregion__n2o
      ) * 45359237, 360000000000000000)
      WHEN 6
      THEN ccf.div((
        r.quantity * r.egrid_us_average__n2o
      ) * 45359237, 360000000000000000)
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_kg,
    CASE r.rule_no
      WHEN 5
      THEN gwp.gwp_n2o
      WHEN 6
      THEN gwp.gwp_n2o
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_gwp,
    CASE r.rule_no
      WHEN 5
      THEN (
        ccf.div((
          r.quantity * r.egrid_subregion__n2o
        ) * 45359237, 360000000000000000)
      ) * gwp.gwp_n2o
      WHEN 6
      THEN (
        ccf.div((
          r.quantity * r.egrid_us_average__n2o
        ) * 45359237, 360000000000000000)
      ) * gwp.gwp_n2o
      WHEN 7
      THEN ccf.div(r.quantity * r.uk_grid__n2o, 3600000)
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no
      WHEN 5
      THEN r.egrid_subregion__n2o_id
      WHEN 6
      THEN r.egrid_us_average__n2o_id
      WHEN 7
      THEN r.uk_grid__n2o_id
      ELSE CAST(NULL AS TEXT)
    END AS n2o_factor_id,
    CASE r.rule_no
      WHEN 5
      THEN r.egrid_subregion__n2o_level
      WHEN 6
      THEN r.egrid_us_average__n2o_level
      WHEN 7
      THEN r.uk_grid__n2o_level
      ELSE CAST(NULL AS TEXT)
    END AS n2o_match_level
  FROM ruled AS r
  CROSS JOIN gwp
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 2
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 3
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.residual_mix__co2e_n, 0) = 0
        THEN 'no_factor:residual_mix'
        WHEN e.residual_mix__co2e_n > 1
        THEN 'ambiguous_factor:residual_mix'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
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
      WHEN 6
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
      WHEN 7
      THEN CASE
        WHEN COALESCE(e.uk_grid__ch4_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__ch4_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN COALESCE(e.uk_grid__co2_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__co2_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN COALESCE(e.uk_grid__n2o_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__n2o_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 8
      THEN CASE
        WHEN COALESCE(e.national_lifecycle_proxy__co2e_n, 0) = 0
        THEN 'no_factor:national_lifecycle_proxy'
        WHEN e.national_lifecycle_proxy__co2e_n > 1
        THEN 'ambiguous_factor:national_lifecycle_proxy'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 9
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
), parted AS NOT MATERIALIZED (
  SELECT
    c.*,
    CASE
      WHEN c.rule_no = 0
      THEN 'unmatched'
      WHEN NOT c.exclude_reason IS NULL
      THEN 'excluded'
      WHEN NOT c.problem IS NULL
      THEN 'unmatched'
      ELSE 'result'
    END AS part_outcome
  FROM checked AS c
), rowed AS NOT MATERIALIZED (
  SELECT
    p.*,
    CASE
      WHEN BOOL_OR(p.part_outcome = 'unmatched') OVER (PARTITION BY p.activity_id)
      THEN 'unmatched'
      WHEN BOOL_OR(p.part_outcome = 'excluded') OVER (PARTITION BY p.activity_id)
      THEN 'excluded'
      ELSE 'result'
    END AS row_outcome
  FROM parted AS p
)
SELECT
  CASE
    WHEN r.row_outcome = 'result'
    THEN 'result'
    WHEN ROW_NUMBER() OVER (PARTITION BY r.activity_id ORDER BY r.part_outcome <> r.row_outcome, r.part_no) = 1
    THEN r.row_outcome
    ELSE 'part'
  END AS outcome,
  r.*
FROM rowed AS r;

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
  instrument_id,
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
  n2o_factor_set
)
SELECT
  %(run_id)s,
  'scope2.electricity.market_based',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0) + COALESCE(e.co2_co2e_kg, 0) + COALESCE(e.ch4_co2e_kg, 0) + COALESCE(e.n2o_co2e_kg, 0),
  e.instrument_id,
  e.co2e_co2e_kg,
  e.co2e_factor_ids,
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
  e.n2o_factor_set
FROM ccf_eval AS e
WHERE
  e.outcome = 'result'
  AND (
    NOT e.co2e_co2e_kg IS NULL
    OR NOT e.co2_co2e_kg IS NULL
    OR NOT e.ch4_co2e_kg IS NULL
    OR NOT e.n2o_co2e_kg IS NULL
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
  'scope2.electricity.market_based',
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
  'scope2.electricity.market_based',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:residual_mix'
    THEN 'no emission factor found for lookup ''residual_mix'' in org-residual-mix per kWh (energy = ''electricity''' || ', region (or a parent region) = ' || COALESCE('''' || e.residual_mix__key_region || '''', '(empty)') || ', year (or an earlier year) = ' || COALESCE('''' || e.residual_mix__key_year || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:residual_mix'
    THEN 'more than one emission factor matches lookup ''residual_mix'' in org-residual-mix per kWh (energy = ''electricity''' || ', region (or a parent region) = ' || COALESCE('''' || e.residual_mix__key_region || '''', '(empty)') || ', year (or an earlier year) = ' || COALESCE('''' || e.residual_mix__key_year || '''', '(empty)') || ')'
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

-- [5] instruments
INSERT INTO ccf.instrument_allocation (
  run_id,
  methodology_id,
  instrument_id,
  entity,
  "unit",
  quantity,
  allocated,
  unallocated,
  allocated_rows,
  reason_code,
  reason
)
WITH consumption AS (
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
    COALESCE(unit_quantity.note, '') AS unit_conversion
  FROM ccf.activity_electricity AS a
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'quantity Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, 'quantity GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 'quantity GWh→kWh ×1000000'),
    ('J', 1, 'quantity J→kWh ×1/3600000'),
    ('MJ', 1000000, 'quantity MJ→kWh ×5/18'),
    ('MWh', 3600000000, 'quantity MWh→kWh ×1000'),
    ('TJ', 1000000000000, 'quantity TJ→kWh ×2500000/9'),
    ('Wh', 3600, 'quantity Wh→kWh ×0.001'),
    ('kJ', 1000, 'quantity kJ→kWh ×1/3600'),
    ('kWh', 3600000, 'quantity in kWh'),
    ('mmBtu', 1055055852.62, 'quantity mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 'quantity therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, 'quantity therm_US→kWh ×263701/9000')) AS unit_quantity("unit", factor, note)
    ON unit_quantity."unit" = a.quantity_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), instrument AS (
  SELECT
    a.activity_id,
    a.entity,
    a.period_start,
    a.period_end,
    a.data_quality,
    a.instrument_type,
    a.quantity * unit_quantity.factor AS quantity,
    a.country,
    a.grid_region,
    a.vintage,
    a.emission_rate,
    a.registry,
    COALESCE(unit_quantity.note, '') AS unit_conversion
  FROM ccf.activity_energy_attribute_certificates AS a
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'quantity Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, 'quantity GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 'quantity GWh→kWh ×1000000'),
    ('J', 1, 'quantity J→kWh ×1/3600000'),
    ('MJ', 1000000, 'quantity MJ→kWh ×5/18'),
    ('MWh', 3600000000, 'quantity MWh→kWh ×1000'),
    ('TJ', 1000000000000, 'quantity TJ→kWh ×2500000/9'),
    ('Wh', 3600, 'quantity Wh→kWh ×0.001'),
    ('kJ', 1000, 'quantity kJ→kWh ×1/3600'),
    ('kWh', 3600000, 'quantity in kWh'),
    ('mmBtu', 1055055852.62, 'quantity mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 'quantity therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, 'quantity therm_US→kWh ×263701/9000')) AS unit_quantity("unit", factor, note)
    ON unit_quantity."unit" = a.quantity_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
)
SELECT
  %(run_id)s,
  'scope2.electricity.market_based',
  i.activity_id,
  i.entity,
  'MWh',
  ccf.div(i.quantity, 3600000000),
  ccf.div(COALESCE(u.allocated, 0), 3600000000),
  ccf.div(i.quantity - COALESCE(u.allocated, 0), 3600000000),
  COALESCE(u.allocated_rows, 0),
  CASE
    WHEN i.quantity - COALESCE(u.allocated, 0) = 0
    THEN 'allocated'
    WHEN COALESCE(u.unreported, 0) > 0
    THEN 'unreported_row'
    WHEN NOT EXISTS(
      SELECT
        1
      FROM consumption AS c
      WHERE
        c.entity IS NOT DISTINCT FROM i.entity
        AND c.country IS NOT DISTINCT FROM i.country
    )
    THEN 'market_boundary'
    WHEN NOT EXISTS(
      SELECT
        1
      FROM consumption AS c
      WHERE
        c.entity IS NOT DISTINCT FROM i.entity
        AND c.country IS NOT DISTINCT FROM i.country
        AND EXTRACT(YEAR FROM c.period_start) = i.vintage
    )
    THEN 'vintage'
    ELSE 'surplus'
  END,
  CASE
    WHEN i.quantity - COALESCE(u.allocated, 0) = 0
    THEN 'fully allocated'
    WHEN COALESCE(u.unreported, 0) > 0
    THEN 'allocated to consumption rows that are unmatched or excluded as a whole (see ccf.unmatched), so applied to no reported emission'
    WHEN NOT EXISTS(
      SELECT
        1
      FROM consumption AS c
      WHERE
        c.entity IS NOT DISTINCT FROM i.entity
        AND c.country IS NOT DISTINCT FROM i.country
    )
    THEN 'no consumption in the instrument''s market boundary (entity, country)'
    WHEN NOT EXISTS(
      SELECT
        1
      FROM consumption AS c
      WHERE
        c.entity IS NOT DISTINCT FROM i.entity
        AND c.country IS NOT DISTINCT FROM i.country
        AND EXTRACT(YEAR FROM c.period_start) = i.vintage
    )
    THEN 'no consumption in its market boundary (entity, country) in its vintage year'
    ELSE 'more instrument volume than consumption in its market boundary (entity, country) and vintage year'
  END
FROM instrument AS i
LEFT JOIN (
  SELECT
    e.instrument_id,
    SUM(e.part_quantity) FILTER(WHERE
      e.row_outcome = 'result') AS allocated,
    SUM(e.part_quantity) FILTER(WHERE
      e.row_outcome <> 'result') AS unreported,
    COUNT(DISTINCT e.activity_id) FILTER(WHERE
      e.row_outcome = 'result') AS allocated_rows
  FROM ccf_eval AS e
  WHERE
    NOT e.instrument_id IS NULL
  GROUP BY
    e.instrument_id
) AS u
  ON u.instrument_id = i.activity_id;

-- [6] reconcile
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
  e.n2o_co2e_kg
FROM (
  SELECT
    COUNT(DISTINCT activity_id) AS rows_result,
    COUNT(*) AS result_rows,
    SUM(co2e_co2e_kg) AS co2e_co2e_kg,
    SUM(co2_co2e_kg) AS co2_co2e_kg,
    SUM(ch4_co2e_kg) AS ch4_co2e_kg,
    SUM(n2o_co2e_kg) AS n2o_co2e_kg
  FROM ccf_eval
  WHERE
    outcome = 'result'
) AS e;

-- [7] cleanup
DROP TABLE IF EXISTS ccf_eval;
