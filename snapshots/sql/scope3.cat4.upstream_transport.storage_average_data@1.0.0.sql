-- ccf compiled SQL for scope3.cat4.upstream_transport.storage_average_data@1.0.0 (published)
-- Scope 3 category 4 upstream distribution, storage, average-data
-- content hash sha256:e0607365e5a5579dffbdd8a51577d7b4782585d728c021586b67fe750230a426
-- activity type storage; factor set desnz; GWP AR5
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
    ) AS unit_conversion,
    a.days * unit_days.x1_86400 AS days__x1_86400
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
    ('day', 86400, 'days day→h ×24', 1),
    ('h', 3600, 'days in h', NULL),
    ('hour', 3600, 'days in hour', NULL),
    ('min', 60, 'days min→h ×1/60', NULL),
    ('s', 1, 'days s→h ×1/3600', NULL)) AS unit_days("unit", factor, note, x1_86400)
    ON unit_days."unit" = a.days_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), joined AS NOT MATERIALIZED (
  SELECT
    a.*
  FROM activity AS a
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
        NOT j.site_electricity IS NULL
      ) OR (
        NOT j.site_fuel_energy IS NULL
      )
      THEN 3 /* rule site_energy_given */
      WHEN (
        NOT j.goods_volume IS NULL
      ) AND (
        NOT j.volume_factor IS NULL
      )
      THEN 4 /* rule by_volume */
      WHEN (
        NOT j.pallets IS NULL
      ) AND (
        NOT j.pallet_factor IS NULL
      )
      THEN 5 /* rule by_pallets */
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
      THEN 'site_energy_given'
      WHEN 4
      THEN 'by_volume'
      WHEN 5
      THEN 'by_pallets'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'another customer''s goods at the site, as its operator reports them; not the organisation''s'
      WHEN 2
      THEN 'sold goods stored at no cost to the organisation; reported in category 9'
      WHEN 3
      THEN 'the site''s energy is given; calculated by the site-specific method'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no
      WHEN 4
      THEN ccf.div(
        (
          (
            r.goods_volume * r.days
          ) * r.volume_factor
        ) * CAST(1 AS DECIMAL),
        86400
      )
      WHEN 5
      THEN CASE
        WHEN r.days__x1_86400 IS NULL
        THEN ccf.div((
          (
            r.pallets * r.days
          ) * r.pallet_factor
        ) * CAST(1 AS DECIMAL), 86400)
        ELSE ROUND(r.days__x1_86400 * r.pallets * r.pallet_factor * CAST(1 AS DECIMAL), 20)
      END
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN CAST(ARRAY[] AS TEXT[])
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 4
      THEN 'no factor'
      WHEN 5
      THEN 'no factor'
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 4
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 5
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
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
  'scope3.cat4.upstream_transport.storage_average_data',
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
  'scope3.cat4.upstream_transport.storage_average_data',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'another customer''s goods at the site, as its operator reports them; not the organisation''s'
    WHEN 2
    THEN 'sold goods stored at no cost to the organisation; reported in category 9'
    WHEN 3
    THEN 'the site''s energy is given; calculated by the site-specific method'
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
  'scope3.cat4.upstream_transport.storage_average_data',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
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
