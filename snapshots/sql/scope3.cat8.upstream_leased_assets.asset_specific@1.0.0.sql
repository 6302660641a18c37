-- ccf compiled SQL for scope3.cat8.upstream_leased_assets.asset_specific@1.0.0 (published)
-- Scope 3 category 8 upstream leased assets, asset-specific (energy use of each asset)
-- content hash sha256:6e96d953895bb5a16f49c6b1333a3a680332e27719126c9711685bc4a69fadcb
-- activity type leased_asset_energy; factor set desnz-2024; GWP AR5
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
    a.relationship,
    a.in_scope1_2,
    a.asset,
    a.carrier,
    a.country,
    a.energy * unit_energy.factor AS energy,
    a.volume * unit_volume.factor AS volume,
    a.mass * unit_mass.factor AS mass,
    CONCAT_WS('; ', unit_energy.note, unit_volume.note, unit_mass.note) AS unit_conversion,
    a.energy * unit_energy.x1_3600000 AS energy__x1_3600000
  FROM ccf.activity_leased_asset_energy AS a
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
), factor_grid_keys AS NOT MATERIALIZED (
  SELECT DISTINCT
    a.country AS key_region
  FROM activity AS a
), factor_grid_ranked AS NOT MATERIALIZED (
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
  FROM factor_grid_keys AS k
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
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'J^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'UK electricity'
    AND f.attributes ->> 'level3' = 'Electricity: UK'
    AND COALESCE(f.region, 'WORLD') = ra.ancestor
), factor_grid AS MATERIALIZED (
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
  FROM factor_grid_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_region
), factor_fuel_per_kwh_ranked AS NOT MATERIALIZED (
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
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'cv_basis' = 'Gross CV'
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_fuel_per_kwh AS MATERIALIZED (
  SELECT
    key_level3,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_fuel_per_kwh_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_fuel_per_m3_ranked AS NOT MATERIALIZED (
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
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_fuel_per_m3 AS MATERIALIZED (
  SELECT
    key_level3,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_fuel_per_m3_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_fuel_per_litre_ranked AS NOT MATERIALIZED (
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
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_fuel_per_litre AS MATERIALIZED (
  SELECT
    key_level3,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_fuel_per_litre_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_fuel_per_tonne_ranked AS NOT MATERIALIZED (
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
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Fuels'
), factor_fuel_per_tonne AS MATERIALIZED (
  SELECT
    key_level3,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_fuel_per_tonne_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_grid.co2e AS grid__co2e,
    f_grid.co2e_id AS grid__co2e_id,
    f_grid.co2e_n AS grid__co2e_n,
    f_grid.co2e_level AS grid__co2e_level,
    a.country AS grid__key_region,
    f_fuel_per_kwh.co2e AS fuel_per_kwh__co2e,
    f_fuel_per_kwh.co2e_id AS fuel_per_kwh__co2e_id,
    f_fuel_per_kwh.co2e_n AS fuel_per_kwh__co2e_n,
    f_fuel_per_kwh.co2e_level AS fuel_per_kwh__co2e_level,
    a.carrier AS fuel_per_kwh__key_level3,
    f_fuel_per_m3.co2e AS fuel_per_m3__co2e,
    f_fuel_per_m3.co2e_id AS fuel_per_m3__co2e_id,
    f_fuel_per_m3.co2e_n AS fuel_per_m3__co2e_n,
    f_fuel_per_m3.co2e_level AS fuel_per_m3__co2e_level,
    a.carrier AS fuel_per_m3__key_level3,
    f_fuel_per_litre.co2e AS fuel_per_litre__co2e,
    f_fuel_per_litre.co2e_id AS fuel_per_litre__co2e_id,
    f_fuel_per_litre.co2e_n AS fuel_per_litre__co2e_n,
    f_fuel_per_litre.co2e_level AS fuel_per_litre__co2e_level,
    a.carrier AS fuel_per_litre__key_level3,
    f_fuel_per_tonne.co2e AS fuel_per_tonne__co2e,
    f_fuel_per_tonne.co2e_id AS fuel_per_tonne__co2e_id,
    f_fuel_per_tonne.co2e_n AS fuel_per_tonne__co2e_n,
    f_fuel_per_tonne.co2e_level AS fuel_per_tonne__co2e_level,
    a.carrier AS fuel_per_tonne__key_level3
  FROM activity AS a
  LEFT JOIN factor_grid AS f_grid
    ON a.country = f_grid.key_region
  LEFT JOIN factor_fuel_per_kwh AS f_fuel_per_kwh
    ON a.carrier = f_fuel_per_kwh.key_level3
  LEFT JOIN factor_fuel_per_m3 AS f_fuel_per_m3
    ON a.carrier = f_fuel_per_m3.key_level3
  LEFT JOIN factor_fuel_per_litre AS f_fuel_per_litre
    ON a.carrier = f_fuel_per_litre.key_level3
  LEFT JOIN factor_fuel_per_tonne AS f_fuel_per_tonne
    ON a.carrier = f_fuel_per_tonne.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.relationship <> 'lessee'
      THEN 1 /* rule other_relationship */
      WHEN j.in_scope1_2 = TRUE
      THEN 2 /* rule in_own_scope1_2 */
      WHEN (
        (
          j.energy = 0
        ) OR (
          j.volume = 0
        )
      ) OR (
        j.mass = 0
      )
      THEN 3 /* rule no_energy */
      WHEN j.carrier = 'Electricity'
      THEN 4 /* rule electricity */
      WHEN NOT j.energy IS NULL
      THEN 5 /* rule fuel_by_energy */
      WHEN (
        NOT j.volume IS NULL
      )
      AND j.carrier IN ('Natural gas', 'CNG', 'Biogas', 'Landfill gas')
      THEN 6 /* rule gas_by_volume */
      WHEN NOT j.volume IS NULL
      THEN 7 /* rule liquid_by_volume */
      WHEN NOT j.mass IS NULL
      THEN 8 /* rule fuel_by_mass */
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
      THEN 'other_relationship'
      WHEN 2
      THEN 'in_own_scope1_2'
      WHEN 3
      THEN 'no_energy'
      WHEN 4
      THEN 'electricity'
      WHEN 5
      THEN 'fuel_by_energy'
      WHEN 6
      THEN 'gas_by_volume'
      WHEN 7
      THEN 'liquid_by_volume'
      WHEN 8
      THEN 'fuel_by_mass'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not an asset leased in by the organisation (assets leased out are category 13, franchises category 14)'
      WHEN 2
      THEN 'already in the organisation''s own Scope 1 and 2 under its consolidation approach'
      WHEN 3
      THEN 'no energy used in the period'
    END AS exclude_reason,
    r.data_quality,
    r.grid__co2e_n,
    r.grid__key_region,
    r.fuel_per_kwh__co2e_n,
    r.fuel_per_kwh__key_level3,
    r.fuel_per_m3__co2e_n,
    r.fuel_per_m3__key_level3,
    r.fuel_per_litre__co2e_n,
    r.fuel_per_litre__key_level3,
    r.fuel_per_tonne__co2e_n,
    r.fuel_per_tonne__key_level3,
    CASE r.rule_no
      WHEN 4
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.grid__co2e, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.grid__co2e, 20)
      END
      WHEN 5
      THEN CASE
        WHEN r.energy__x1_3600000 IS NULL
        THEN ccf.div(r.energy * r.fuel_per_kwh__co2e, 3600000)
        ELSE ROUND(r.energy__x1_3600000 * r.fuel_per_kwh__co2e, 20)
      END
      WHEN 6
      THEN r.volume * r.fuel_per_m3__co2e
      WHEN 7
      THEN (
        r.volume * r.fuel_per_litre__co2e
      ) * 1000
      WHEN 8
      THEN (
        r.mass * r.fuel_per_tonne__co2e
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN r.grid__co2e_id
      WHEN 5
      THEN r.fuel_per_kwh__co2e_id
      WHEN 6
      THEN r.fuel_per_m3__co2e_id
      WHEN 7
      THEN r.fuel_per_litre__co2e_id
      WHEN 8
      THEN r.fuel_per_tonne__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 4
      THEN r.grid__co2e_level
      WHEN 5
      THEN r.fuel_per_kwh__co2e_level
      WHEN 6
      THEN r.fuel_per_m3__co2e_level
      WHEN 7
      THEN r.fuel_per_litre__co2e_level
      WHEN 8
      THEN r.fuel_per_tonne__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 4
      THEN CASE
        WHEN COALESCE(e.grid__co2e_n, 0) = 0
        THEN 'no_factor:grid'
        WHEN e.grid__co2e_n > 1
        THEN 'ambiguous_factor:grid'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.fuel_per_kwh__co2e_n, 0) = 0
        THEN 'no_factor:fuel_per_kwh'
        WHEN e.fuel_per_kwh__co2e_n > 1
        THEN 'ambiguous_factor:fuel_per_kwh'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.fuel_per_m3__co2e_n, 0) = 0
        THEN 'no_factor:fuel_per_m3'
        WHEN e.fuel_per_m3__co2e_n > 1
        THEN 'ambiguous_factor:fuel_per_m3'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 7
      THEN CASE
        WHEN COALESCE(e.fuel_per_litre__co2e_n, 0) = 0
        THEN 'no_factor:fuel_per_litre'
        WHEN e.fuel_per_litre__co2e_n > 1
        THEN 'ambiguous_factor:fuel_per_litre'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 8
      THEN CASE
        WHEN COALESCE(e.fuel_per_tonne__co2e_n, 0) = 0
        THEN 'no_factor:fuel_per_tonne'
        WHEN e.fuel_per_tonne__co2e_n > 1
        THEN 'ambiguous_factor:fuel_per_tonne'
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
  CASE WHEN NOT c.problem IS NULL THEN c.grid__key_region END AS grid__key_region,
  CASE WHEN NOT c.problem IS NULL THEN c.fuel_per_kwh__key_level3 END AS fuel_per_kwh__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.fuel_per_m3__key_level3 END AS fuel_per_m3__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.fuel_per_litre__key_level3 END AS fuel_per_litre__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.fuel_per_tonne__key_level3 END AS fuel_per_tonne__key_level3,
  c.co2e_co2e_kg,
  c.co2e_factor_id,
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
  'scope3.cat8.upstream_leased_assets.asset_specific',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0),
  e.co2e_co2e_kg,
  CASE WHEN NOT e.co2e_co2e_kg IS NULL THEN ARRAY[e.co2e_factor_id] END,
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
  'scope3.cat8.upstream_leased_assets.asset_specific',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not an asset leased in by the organisation (assets leased out are category 13, franchises category 14)'
    WHEN 2
    THEN 'already in the organisation''s own Scope 1 and 2 under its consolidation approach'
    WHEN 3
    THEN 'no energy used in the period'
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
  'scope3.cat8.upstream_leased_assets.asset_specific',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:grid'
    THEN 'no emission factor found for lookup ''grid'' in desnz-2024 per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:grid'
    THEN 'more than one emission factor matches lookup ''grid'' in desnz-2024 per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ', region (or a parent region) = ' || COALESCE('''' || e.grid__key_region || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:fuel_per_kwh'
    THEN 'no emission factor found for lookup ''fuel_per_kwh'' in desnz-2024 per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel_per_kwh'
    THEN 'more than one emission factor matches lookup ''fuel_per_kwh'' in desnz-2024 per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_kwh__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:fuel_per_m3'
    THEN 'no emission factor found for lookup ''fuel_per_m3'' in desnz-2024 per m3 (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_m3__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel_per_m3'
    THEN 'more than one emission factor matches lookup ''fuel_per_m3'' in desnz-2024 per m3 (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_m3__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:fuel_per_litre'
    THEN 'no emission factor found for lookup ''fuel_per_litre'' in desnz-2024 per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel_per_litre'
    THEN 'more than one emission factor matches lookup ''fuel_per_litre'' in desnz-2024 per L (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_litre__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:fuel_per_tonne'
    THEN 'no emission factor found for lookup ''fuel_per_tonne'' in desnz-2024 per t (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_tonne__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel_per_tonne'
    THEN 'more than one emission factor matches lookup ''fuel_per_tonne'' in desnz-2024 per t (level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel_per_tonne__key_level3 || '''', '(empty)') || ')'
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
    FROM ccf.activity_leased_asset_energy
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
      AND activity_type = 'leased_asset_energy'
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
