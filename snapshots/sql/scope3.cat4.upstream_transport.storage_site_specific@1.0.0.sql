-- ccf compiled SQL for scope3.cat4.upstream_transport.storage_site_specific@1.0.0 (published)
-- Scope 3 category 4 upstream distribution, storage, site-specific
-- content hash sha256:c8f3fd9417812f3c3c928a29d35ab2a71e8dd77130e90a867995a2bacd19c1e6
-- activity type storage; factor set desnz; GWP AR5
-- parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s
-- assumes the session settings ccf pins on each connection:
--   standard_conforming_strings=on search_path=pg_catalog DateStyle='ISO, MDY' IntervalStyle=postgres TimeZone=UTC client_encoding=UTF8 extra_float_digits=1 transform_null_equals=off statement_timeout=0 lock_timeout=0 idle_in_transaction_session_timeout=0

-- [1] evaluate
CREATE TEMPORARY TABLE ccf_eval AS
WITH activity_rows AS NOT MATERIALIZED (
  SELECT
    a.activity_id,
    a.entity,
    a.period_start,
    a.period_end,
    a.data_quality,
    a.direction,
    a.paid_by_company,
    a.site,
    a.country,
    a.other_customer,
    a.site_electricity * unit_site_electricity.factor AS site_electricity,
    a.electricity_factor,
    a.site_fuel,
    a.site_fuel_energy * unit_site_fuel_energy.factor AS site_fuel_energy,
    a.fuel_factor,
    a.goods_volume * unit_goods_volume.factor AS goods_volume,
    a.pallets,
    a.days * unit_days.factor AS days,
    a.volume_factor,
    a.pallet_factor,
    CONCAT_WS(
      '; ',
      unit_site_electricity.note,
      unit_site_fuel_energy.note,
      unit_goods_volume.note,
      unit_days.note
    ) AS unit_conversion
  FROM ccf.activity_storage AS a
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'site_electricity Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, 'site_electricity GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 'site_electricity GWh→kWh ×1000000'),
    ('J', 1, 'site_electricity J→kWh ×1/3600000'),
    ('MJ', 1000000, 'site_electricity MJ→kWh ×5/18'),
    ('MWh', 3600000000, 'site_electricity MWh→kWh ×1000'),
    ('TJ', 1000000000000, 'site_electricity TJ→kWh ×2500000/9'),
    ('Wh', 3600, 'site_electricity Wh→kWh ×0.001'),
    ('kJ', 1000, 'site_electricity kJ→kWh ×1/3600'),
    ('kWh', 3600000, 'site_electricity in kWh'),
    ('mmBtu', 1055055852.62, 'site_electricity mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 'site_electricity therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, 'site_electricity therm_US→kWh ×263701/9000')) AS unit_site_electricity("unit", factor, note)
    ON unit_site_electricity."unit" = a.site_electricity_unit
  LEFT JOIN (VALUES
    ('Btu', 1055.05585262, 'site_fuel_energy Btu→kWh ×52752792631/180000000000000'),
    ('GJ', 1000000000, 'site_fuel_energy GJ→kWh ×2500/9'),
    ('GWh', 3600000000000, 'site_fuel_energy GWh→kWh ×1000000'),
    ('J', 1, 'site_fuel_energy J→kWh ×1/3600000'),
    ('MJ', 1000000, 'site_fuel_energy MJ→kWh ×5/18'),
    ('MWh', 3600000000, 'site_fuel_energy MWh→kWh ×1000'),
    ('TJ', 1000000000000, 'site_fuel_energy TJ→kWh ×2500000/9'),
    ('Wh', 3600, 'site_fuel_energy Wh→kWh ×0.001'),
    ('kJ', 1000, 'site_fuel_energy kJ→kWh ×1/3600'),
    ('kWh', 3600000, 'site_fuel_energy in kWh'),
    ('mmBtu', 1055055852.62, 'site_fuel_energy mmBtu→kWh ×52752792631/180000000'),
    ('therm', 105505585.257348, 'site_fuel_energy therm→kWh ×29.30710701593'),
    ('therm_US', 105480400, 'site_fuel_energy therm_US→kWh ×263701/9000')) AS unit_site_fuel_energy("unit", factor, note)
    ON unit_site_fuel_energy."unit" = a.site_fuel_energy_unit
  LEFT JOIN (VALUES
    ('L', 0.001, 'goods_volume in L'),
    ('gal_UK', 0.00454609, 'goods_volume gal_UK→L ×4.54609'),
    ('gal_US', 0.003785411784, 'goods_volume gal_US→L ×3.785411784'),
    ('litre', 0.001, 'goods_volume in litre'),
    ('litres', 0.001, 'goods_volume in litres'),
    ('m3', 1, 'goods_volume m3→L ×1000'),
    ('megalitre', 1000, 'goods_volume megalitre→L ×1000000'),
    ('scf', 0.028316846592, 'goods_volume scf→L ×28.316846592')) AS unit_goods_volume("unit", factor, note)
    ON unit_goods_volume."unit" = a.goods_volume_unit
  LEFT JOIN (VALUES
    ('day', 86400, 'days day→h ×24'),
    ('h', 3600, 'days in h'),
    ('hour', 3600, 'days in hour'),
    ('min', 60, 'days min→h ×1/60'),
    ('s', 1, 'days s→h ×1/3600')) AS unit_days("unit", factor, note)
    ON unit_days."unit" = a.days_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), activity AS NOT MATERIALIZED (
  SELECT
    s.*,
    CASE
      WHEN MIN(s.goods_volume) OVER (PARTITION BY s.site) >= 0
      AND SUM(s.goods_volume) OVER (PARTITION BY s.site) > 0
      THEN SUM(s.goods_volume) OVER (PARTITION BY s.site)
    END AS share__5f8398ebdd
  FROM activity_rows AS s
  OFFSET 0
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
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'UK electricity'
    AND f.attributes ->> 'level3' = 'Electricity: UK'
), factor_uk_grid AS MATERIALIZED (
  SELECT
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_uk_grid_ranked
  WHERE
    fallback_rank = 1
), factor_fuel_ranked AS NOT MATERIALIZED (
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
), factor_fuel AS MATERIALIZED (
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
  FROM factor_fuel_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
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
    f_fuel.co2e AS fuel__co2e,
    f_fuel.co2e_id AS fuel__co2e_id,
    f_fuel.co2e_n AS fuel__co2e_n,
    f_fuel.co2e_level AS fuel__co2e_level,
    a.site_fuel AS fuel__key_level3
  FROM activity AS a
  LEFT JOIN factor_fuel AS f_fuel
    ON a.site_fuel = f_fuel.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.other_customer = TRUE
      THEN 1 /* rule other_customer */
      WHEN (
        j.direction = 'outbound'
      ) AND (
        NOT j.paid_by_company
      )
      THEN 2 /* rule downstream_not_paid */
      WHEN (
        j.site_electricity IS NULL
      ) AND (
        j.site_fuel_energy IS NULL
      )
      THEN 3 /* rule no_site_energy */
      WHEN (
        (
          (
            NOT j.electricity_factor IS NULL
          ) OR (
            NOT j.fuel_factor IS NULL
          )
        )
        AND (
          (
            j.site_electricity IS NULL
          ) OR (
            NOT j.electricity_factor IS NULL
          )
        )
      )
      AND (
        (
          j.site_fuel_energy IS NULL
        ) OR (
          NOT j.fuel_factor IS NULL
        )
      )
      THEN 4 /* rule operator_factors */
      WHEN (
        (
          (
            j.country = 'GB'
          ) AND (
            j.site_fuel_energy IS NULL
          )
        )
        AND (
          j.electricity_factor IS NULL
        )
      )
      AND (
        j.fuel_factor IS NULL
      )
      THEN 5 /* rule desnz_electricity */
      WHEN (
        (
          j.country = 'GB'
        ) AND (
          j.electricity_factor IS NULL
        )
      )
      AND (
        j.fuel_factor IS NULL
      )
      THEN 6 /* rule desnz_electricity_and_fuel */
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
      THEN 'other_customer'
      WHEN 2
      THEN 'downstream_not_paid'
      WHEN 3
      THEN 'no_site_energy'
      WHEN 4
      THEN 'operator_factors'
      WHEN 5
      THEN 'desnz_electricity'
      WHEN 6
      THEN 'desnz_electricity_and_fuel'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'another customer''s goods at the site; they take their part of its energy, which is not the organisation''s'
      WHEN 2
      THEN 'sold goods stored at no cost to the organisation; reported in category 9'
      WHEN 3
      THEN 'no energy of the site given; calculated by the average-data method'
    END AS exclude_reason,
    r.data_quality,
    r.share__5f8398ebdd,
    r.uk_grid__co2e_n,
    r.fuel__co2e_n,
    r.fuel__key_level3,
    CASE r.rule_no
      WHEN 4
      THEN ccf.div(
        (
          (
            (
              COALESCE(r.site_electricity, 0) * COALESCE(r.electricity_factor, 0)
            ) + (
              COALESCE(r.site_fuel_energy, 0) * COALESCE(r.fuel_factor, 0)
            )
          ) * CAST(1 AS DECIMAL)
        ) * ccf.div(r.goods_volume, r.share__5f8398ebdd),
        3600000
      )
      WHEN 5
      THEN ccf.div(
        (
          r.site_electricity * r.uk_grid__co2e
        ) * ccf.div(r.goods_volume, r.share__5f8398ebdd),
        3600000
      )
      WHEN 6
      THEN ccf.div(
        (
          (
            COALESCE(r.site_electricity, 0) * r.uk_grid__co2e
          ) + (
            r.site_fuel_energy * r.fuel__co2e
          )
        ) * ccf.div(r.goods_volume, r.share__5f8398ebdd),
        3600000
      )
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN ARRAY[r.uk_grid__co2e_id]
      WHEN 6
      THEN ARRAY[r.uk_grid__co2e_id, r.fuel__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 4
      THEN 'no factor'
      WHEN 5
      THEN r.uk_grid__co2e_level
      WHEN 6
      THEN CONCAT_WS(' | ', 'uk_grid: ' || r.uk_grid__co2e_level, 'fuel: ' || r.fuel__co2e_level)
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
        WHEN e.share__5f8398ebdd IS NULL
        THEN 'no_total:share__5f8398ebdd'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.uk_grid__co2e_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__co2e_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN e.share__5f8398ebdd IS NULL
        THEN 'no_total:share__5f8398ebdd'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.fuel__co2e_n, 0) = 0
        THEN 'no_factor:fuel'
        WHEN e.fuel__co2e_n > 1
        THEN 'ambiguous_factor:fuel'
        WHEN COALESCE(e.uk_grid__co2e_n, 0) = 0
        THEN 'no_factor:uk_grid'
        WHEN e.uk_grid__co2e_n > 1
        THEN 'ambiguous_factor:uk_grid'
        WHEN e.share__5f8398ebdd IS NULL
        THEN 'no_total:share__5f8398ebdd'
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
  CASE WHEN NOT c.problem IS NULL THEN c.fuel__key_level3 END AS fuel__key_level3,
  c.co2e_co2e_kg,
  c.co2e_factor_ids,
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
  'scope3.cat4.upstream_transport.storage_site_specific',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0),
  e.co2e_co2e_kg,
  e.co2e_factor_ids,
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
  'scope3.cat4.upstream_transport.storage_site_specific',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'another customer''s goods at the site; they take their part of its energy, which is not the organisation''s'
    WHEN 2
    THEN 'sold goods stored at no cost to the organisation; reported in category 9'
    WHEN 3
    THEN 'no energy of the site given; calculated by the average-data method'
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
  'scope3.cat4.upstream_transport.storage_site_specific',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:uk_grid'
    THEN 'no emission factor found for lookup ''uk_grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ')'
    WHEN e.problem = 'ambiguous_factor:uk_grid'
    THEN 'more than one emission factor matches lookup ''uk_grid'' in desnz per kWh (level1 = ''UK electricity'', level3 = ''Electricity: UK''' || ')'
    WHEN e.problem = 'no_factor:fuel'
    THEN 'no emission factor found for lookup ''fuel'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:fuel'
    THEN 'more than one emission factor matches lookup ''fuel'' in desnz per kWh (cv_basis = ''Gross CV'', level1 = ''Fuels''' || ', level3 = ' || COALESCE('''' || e.fuel__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_total:share__5f8398ebdd'
    THEN 'share(goods_volume, site): the total over the rows with this row''s key is zero, empty or has a negative part, so no part of it can be allocated to this row'
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
    FROM ccf.activity_storage
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
      AND activity_type = 'storage'
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
