-- ccf compiled SQL for scope1.fugitive.refrigeration.mass_balance@1.0.0 (published)
-- Scope 1 fugitive emissions from refrigeration and air conditioning, mass balance
-- content hash sha256:0403d68c4bd2648e46465267296511458dc32cea33f087f0540eb594c6f71737
-- activity type refrigerant_mass_balance; factor set desnz-2024; GWP AR5
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
    a.refrigerant,
    a.inventory_start * unit_inventory_start.factor AS inventory_start,
    a.inventory_end * unit_inventory_end.factor AS inventory_end,
    a.purchased * unit_purchased.factor AS purchased,
    a.disposed * unit_disposed.factor AS disposed,
    a.charge_new * unit_charge_new.factor AS charge_new,
    a.charge_retired * unit_charge_retired.factor AS charge_retired,
    a.charged_new * unit_charged_new.factor AS charged_new,
    a.serviced * unit_serviced.factor AS serviced,
    a.recovered * unit_recovered.factor AS recovered,
    CONCAT_WS(
      '; ',
      unit_inventory_start.note,
      unit_inventory_end.note,
      unit_purchased.note,
      unit_disposed.note,
      unit_charge_new.note,
      unit_charge_retired.note,
      unit_charged_new.note,
      unit_serviced.note,
      unit_recovered.note
    ) AS unit_conversion
  FROM ccf.activity_refrigerant_mass_balance AS a
  LEFT JOIN (VALUES
    ('g', 0.001, 'inventory_start g→kg ×0.001'),
    ('kg', 1, 'inventory_start in kg'),
    ('lb', 0.45359237, 'inventory_start lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'inventory_start long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'inventory_start short_ton→kg ×907.18474'),
    ('t', 1000, 'inventory_start t→kg ×1000'),
    ('tonne', 1000, 'inventory_start tonne→kg ×1000'),
    ('tonnes', 1000, 'inventory_start tonnes→kg ×1000')) AS unit_inventory_start("unit", factor, note)
    ON unit_inventory_start."unit" = a.inventory_start_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'inventory_end g→kg ×0.001'),
    ('kg', 1, 'inventory_end in kg'),
    ('lb', 0.45359237, 'inventory_end lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'inventory_end long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'inventory_end short_ton→kg ×907.18474'),
    ('t', 1000, 'inventory_end t→kg ×1000'),
    ('tonne', 1000, 'inventory_end tonne→kg ×1000'),
    ('tonnes', 1000, 'inventory_end tonnes→kg ×1000')) AS unit_inventory_end("unit", factor, note)
    ON unit_inventory_end."unit" = a.inventory_end_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'purchased g→kg ×0.001'),
    ('kg', 1, 'purchased in kg'),
    ('lb', 0.45359237, 'purchased lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'purchased long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'purchased short_ton→kg ×907.18474'),
    ('t', 1000, 'purchased t→kg ×1000'),
    ('tonne', 1000, 'purchased tonne→kg ×1000'),
    ('tonnes', 1000, 'purchased tonnes→kg ×1000')) AS unit_purchased("unit", factor, note)
    ON unit_purchased."unit" = a.purchased_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'disposed g→kg ×0.001'),
    ('kg', 1, 'disposed in kg'),
    ('lb', 0.45359237, 'disposed lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'disposed long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'disposed short_ton→kg ×907.18474'),
    ('t', 1000, 'disposed t→kg ×1000'),
    ('tonne', 1000, 'disposed tonne→kg ×1000'),
    ('tonnes', 1000, 'disposed tonnes→kg ×1000')) AS unit_disposed("unit", factor, note)
    ON unit_disposed."unit" = a.disposed_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'charge_new g→kg ×0.001'),
    ('kg', 1, 'charge_new in kg'),
    ('lb', 0.45359237, 'charge_new lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'charge_new long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'charge_new short_ton→kg ×907.18474'),
    ('t', 1000, 'charge_new t→kg ×1000'),
    ('tonne', 1000, 'charge_new tonne→kg ×1000'),
    ('tonnes', 1000, 'charge_new tonnes→kg ×1000')) AS unit_charge_new("unit", factor, note)
    ON unit_charge_new."unit" = a.charge_new_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'charge_retired g→kg ×0.001'),
    ('kg', 1, 'charge_retired in kg'),
    ('lb', 0.45359237, 'charge_retired lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'charge_retired long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'charge_retired short_ton→kg ×907.18474'),
    ('t', 1000, 'charge_retired t→kg ×1000'),
    ('tonne', 1000, 'charge_retired tonne→kg ×1000'),
    ('tonnes', 1000, 'charge_retired tonnes→kg ×1000')) AS unit_charge_retired("unit", factor, note)
    ON unit_charge_retired."unit" = a.charge_retired_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'charged_new g→kg ×0.001'),
    ('kg', 1, 'charged_new in kg'),
    ('lb', 0.45359237, 'charged_new lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'charged_new long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'charged_new short_ton→kg ×907.18474'),
    ('t', 1000, 'charged_new t→kg ×1000'),
    ('tonne', 1000, 'charged_new tonne→kg ×1000'),
    ('tonnes', 1000, 'charged_new tonnes→kg ×1000')) AS unit_charged_new("unit", factor, note)
    ON unit_charged_new."unit" = a.charged_new_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'serviced g→kg ×0.001'),
    ('kg', 1, 'serviced in kg'),
    ('lb', 0.45359237, 'serviced lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'serviced long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'serviced short_ton→kg ×907.18474'),
    ('t', 1000, 'serviced t→kg ×1000'),
    ('tonne', 1000, 'serviced tonne→kg ×1000'),
    ('tonnes', 1000, 'serviced tonnes→kg ×1000')) AS unit_serviced("unit", factor, note)
    ON unit_serviced."unit" = a.serviced_unit
  LEFT JOIN (VALUES
    ('g', 0.001, 'recovered g→kg ×0.001'),
    ('kg', 1, 'recovered in kg'),
    ('lb', 0.45359237, 'recovered lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'recovered long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'recovered short_ton→kg ×907.18474'),
    ('t', 1000, 'recovered t→kg ×1000'),
    ('tonne', 1000, 'recovered tonne→kg ×1000'),
    ('tonnes', 1000, 'recovered tonnes→kg ×1000')) AS unit_recovered("unit", factor, note)
    ON unit_recovered."unit" = a.recovered_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_kyoto_gwp_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 'kg' THEN f."value" ELSE ccf.div(f."value" * 1, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'kg' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'kg') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'column_text' = 'Emissions including only Kyoto products'
    AND f.attributes ->> 'level1' = 'Refrigerant & other'
), factor_kyoto_gwp AS MATERIALIZED (
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
  FROM factor_kyoto_gwp_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_any_gwp_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 'kg' THEN f."value" ELSE ccf.div(f."value" * 1, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'kg' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'level3', f.gas ORDER BY f."unit" <> 'kg') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'column_text' = 'Total emissions including non-Kyoto products'
    AND f.attributes ->> 'level1' = 'Refrigerant & other'
), factor_any_gwp AS MATERIALIZED (
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
  FROM factor_any_gwp_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_kyoto_gwp.co2e AS kyoto_gwp__co2e,
    f_kyoto_gwp.co2e_id AS kyoto_gwp__co2e_id,
    f_kyoto_gwp.co2e_n AS kyoto_gwp__co2e_n,
    f_kyoto_gwp.co2e_level AS kyoto_gwp__co2e_level,
    a.refrigerant AS kyoto_gwp__key_level3,
    f_any_gwp.co2e AS any_gwp__co2e,
    f_any_gwp.co2e_id AS any_gwp__co2e_id,
    f_any_gwp.co2e_n AS any_gwp__co2e_n,
    f_any_gwp.co2e_level AS any_gwp__co2e_level,
    a.refrigerant AS any_gwp__key_level3
  FROM activity AS a
  LEFT JOIN factor_kyoto_gwp AS f_kyoto_gwp
    ON a.refrigerant = f_kyoto_gwp.key_level3
  LEFT JOIN factor_any_gwp AS f_any_gwp
    ON a.refrigerant = f_any_gwp.key_level3
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        j.kyoto_gwp__co2e IS NULL
      ) AND (
        NOT j.any_gwp__co2e IS NULL
      )
      THEN 1 /* rule not_kyoto */
      WHEN (
        (
          (
            (
              NOT j.inventory_start IS NULL
            ) OR (
              NOT j.inventory_end IS NULL
            )
          )
          OR (
            NOT j.purchased IS NULL
          )
        )
        OR (
          NOT j.disposed IS NULL
        )
      )
      AND (
        (
          (
            (
              (
                COALESCE(j.inventory_start, 0) - COALESCE(j.inventory_end, 0)
              ) + COALESCE(j.purchased, 0)
            ) - COALESCE(j.disposed, 0)
          ) - (
            COALESCE(j.charge_new, 0) - COALESCE(j.charge_retired, 0)
          )
        ) < 0
      )
      THEN 2 /* rule company_wide_negative */
      WHEN (
        (
          (
            NOT j.inventory_start IS NULL
          ) OR (
            NOT j.inventory_end IS NULL
          )
        )
        OR (
          NOT j.purchased IS NULL
        )
      )
      OR (
        NOT j.disposed IS NULL
      )
      THEN 3 /* rule company_wide */
      WHEN (
        (
          (
            CASE
              WHEN NOT j.charged_new IS NULL
              THEN j.charged_new - COALESCE(j.charge_new, 0)
              ELSE 0
            END + COALESCE(j.serviced, 0)
          ) + COALESCE(j.charge_retired, 0)
        ) - COALESCE(j.recovered, 0)
      ) < 0
      THEN 4 /* rule simplified_negative */
      WHEN (
        (
          (
            NOT j.charged_new IS NULL
          ) OR (
            NOT j.serviced IS NULL
          )
        )
        OR (
          NOT j.charge_retired IS NULL
        )
      )
      OR (
        NOT j.recovered IS NULL
      )
      THEN 5 /* rule simplified */
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
      THEN 'not_kyoto'
      WHEN 2
      THEN 'company_wide_negative'
      WHEN 3
      THEN 'company_wide'
      WHEN 4
      THEN 'simplified_negative'
      WHEN 5
      THEN 'simplified'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'refrigerant outside the Kyoto basket (CFC, HCFC, HFO or hydrocarbon): not Scope 1; report separately if at all (GHG Protocol Corporate Standard chapter 9)'
      WHEN 2
      THEN 'negative mass balance (more refrigerant accounted for than was available); check the inventory, purchase and disposal records'
      WHEN 4
      THEN 'negative mass balance (more refrigerant recovered than retired equipment held, or new equipment charged with less than its capacity); check the service records'
    END AS exclude_reason,
    r.data_quality,
    r.kyoto_gwp__co2e_n,
    r.kyoto_gwp__key_level3,
    r.any_gwp__co2e_n,
    r.any_gwp__key_level3,
    CASE r.rule_no
      WHEN 3
      THEN (
        (
          (
            (
              COALESCE(r.inventory_start, 0) - COALESCE(r.inventory_end, 0)
            ) + COALESCE(r.purchased, 0)
          ) - COALESCE(r.disposed, 0)
        ) - (
          COALESCE(r.charge_new, 0) - COALESCE(r.charge_retired, 0)
        )
      ) * r.kyoto_gwp__co2e
      WHEN 5
      THEN (
        (
          (
            CASE
              WHEN NOT r.charged_new IS NULL
              THEN r.charged_new - COALESCE(r.charge_new, 0)
              ELSE 0
            END + COALESCE(r.serviced, 0)
          ) + COALESCE(r.charge_retired, 0)
        ) - COALESCE(r.recovered, 0)
      ) * r.kyoto_gwp__co2e
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.kyoto_gwp__co2e_id
      WHEN 5
      THEN r.kyoto_gwp__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.kyoto_gwp__co2e_level
      WHEN 5
      THEN r.kyoto_gwp__co2e_level
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 3
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 5
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
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
  CASE WHEN NOT c.problem IS NULL THEN c.kyoto_gwp__key_level3 END AS kyoto_gwp__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.any_gwp__key_level3 END AS any_gwp__key_level3,
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
  'scope1.fugitive.refrigeration.mass_balance',
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
  'scope1.fugitive.refrigeration.mass_balance',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'refrigerant outside the Kyoto basket (CFC, HCFC, HFO or hydrocarbon): not Scope 1; report separately if at all (GHG Protocol Corporate Standard chapter 9)'
    WHEN 2
    THEN 'negative mass balance (more refrigerant accounted for than was available); check the inventory, purchase and disposal records'
    WHEN 4
    THEN 'negative mass balance (more refrigerant recovered than retired equipment held, or new equipment charged with less than its capacity); check the service records'
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
  'scope1.fugitive.refrigeration.mass_balance',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:kyoto_gwp'
    THEN 'no emission factor found for lookup ''kyoto_gwp'' in desnz-2024 per kg (column_text = ''Emissions including only Kyoto products'', level1 = ''Refrigerant & other''' || ', level3 = ' || COALESCE('''' || e.kyoto_gwp__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:kyoto_gwp'
    THEN 'more than one emission factor matches lookup ''kyoto_gwp'' in desnz-2024 per kg (column_text = ''Emissions including only Kyoto products'', level1 = ''Refrigerant & other''' || ', level3 = ' || COALESCE('''' || e.kyoto_gwp__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:any_gwp'
    THEN 'no emission factor found for lookup ''any_gwp'' in desnz-2024 per kg (column_text = ''Total emissions including non-Kyoto products'', level1 = ''Refrigerant & other''' || ', level3 = ' || COALESCE('''' || e.any_gwp__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:any_gwp'
    THEN 'more than one emission factor matches lookup ''any_gwp'' in desnz-2024 per kg (column_text = ''Total emissions including non-Kyoto products'', level1 = ''Refrigerant & other''' || ', level3 = ' || COALESCE('''' || e.any_gwp__key_level3 || '''', '(empty)') || ')'
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
    FROM ccf.activity_refrigerant_mass_balance
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
      AND activity_type = 'refrigerant_mass_balance'
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
