-- ccf compiled SQL for scope1.fugitive.refrigeration.screening@1.0.0 (published)
-- Scope 1 fugitive emissions from refrigeration and air conditioning, screening method
-- content hash sha256:72f0162b9c9f24e8357139a1fcf620520f7c365761506ccefe12bcffbc7f95cf
-- activity type refrigeration_equipment; factor set desnz-2024; GWP AR5
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
    a.equipment_type,
    a.refrigerant,
    a.charge * unit_charge.factor AS charge,
    a.units,
    a.annual_leak_rate * 0.01 AS annual_leak_rate,
    a.years_in_service,
    a.units_installed,
    a.installation_loss_rate * 0.01 AS installation_loss_rate,
    a.units_disposed,
    a.remaining_charge * 0.01 AS remaining_charge,
    a.recovery_rate * 0.01 AS recovery_rate,
    a.asset,
    COALESCE(unit_charge.note, '') AS unit_conversion
  FROM ccf.activity_refrigeration_equipment AS a
  LEFT JOIN (VALUES
    ('g', 0.001, 'charge g→kg ×0.001'),
    ('kg', 1, 'charge in kg'),
    ('lb', 0.45359237, 'charge lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'charge long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'charge short_ton→kg ×907.18474'),
    ('t', 1000, 'charge t→kg ×1000'),
    ('tonne', 1000, 'charge tonne→kg ×1000'),
    ('tonnes', 1000, 'charge tonnes→kg ×1000')) AS unit_charge("unit", factor, note)
    ON unit_charge."unit" = a.charge_unit
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
        (
          j.charge = 0
        ) OR (
          j.units = 0
        )
      )
      OR (
        j.years_in_service = 0
      )
      THEN 1 /* rule no_charge */
      WHEN (
        j.kyoto_gwp__co2e IS NULL
      ) AND (
        NOT j.any_gwp__co2e IS NULL
      )
      THEN 2 /* rule not_kyoto */
      WHEN NOT j.annual_leak_rate IS NULL
      THEN 3 /* rule own_leak_rate */
      WHEN j.equipment_type = 'domestic_refrigeration'
      THEN 4 /* rule domestic_refrigeration */
      WHEN j.equipment_type = 'stand_alone_commercial'
      THEN 5 /* rule stand_alone_commercial */
      WHEN j.equipment_type = 'medium_large_commercial'
      THEN 6 /* rule medium_large_commercial */
      WHEN j.equipment_type = 'transport_refrigeration'
      THEN 7 /* rule transport_refrigeration */
      WHEN j.equipment_type = 'industrial_refrigeration'
      THEN 8 /* rule industrial_refrigeration */
      WHEN j.equipment_type = 'chillers'
      THEN 9 /* rule chillers */
      WHEN j.equipment_type = 'residential_commercial_ac'
      THEN 10 /* rule residential_commercial_ac */
      WHEN j.equipment_type = 'mobile_ac'
      THEN 11 /* rule mobile_ac */
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
      THEN 'no_charge'
      WHEN 2
      THEN 'not_kyoto'
      WHEN 3
      THEN 'own_leak_rate'
      WHEN 4
      THEN 'domestic_refrigeration'
      WHEN 5
      THEN 'stand_alone_commercial'
      WHEN 6
      THEN 'medium_large_commercial'
      WHEN 7
      THEN 'transport_refrigeration'
      WHEN 8
      THEN 'industrial_refrigeration'
      WHEN 9
      THEN 'chillers'
      WHEN 10
      THEN 'residential_commercial_ac'
      WHEN 11
      THEN 'mobile_ac'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'no refrigerant in service in the period'
      WHEN 2
      THEN 'refrigerant outside the Kyoto basket (CFC, HCFC, HFO or hydrocarbon): not Scope 1; report separately if at all (GHG Protocol Corporate Standard chapter 9)'
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
            r.charge * COALESCE(r.units, 1 /* parameter default_units */)
          ) * r.annual_leak_rate
        ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
      ) * r.kyoto_gwp__co2e
      WHEN 4
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * 0.5 /* parameter leak_domestic_refrigeration */
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      WHEN 5
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * CAST(15 /* parameter leak_stand_alone_commercial */ AS DECIMAL)
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      WHEN 6
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * CAST(35 /* parameter leak_medium_large_commercial */ AS DECIMAL)
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      WHEN 7
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * CAST(50 /* parameter leak_transport_refrigeration */ AS DECIMAL)
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      WHEN 8
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * CAST(25 /* parameter leak_industrial_refrigeration */ AS DECIMAL)
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      WHEN 9
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * CAST(15 /* parameter leak_chillers */ AS DECIMAL)
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      WHEN 10
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * CAST(10 /* parameter leak_residential_commercial_ac */ AS DECIMAL)
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      WHEN 11
      THEN (
        (
          (
            (
              r.charge * COALESCE(r.units, 1 /* parameter default_units */)
            ) * CAST(20 /* parameter leak_mobile_ac */ AS DECIMAL)
          ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
        ) * r.kyoto_gwp__co2e
      ) * 0.01
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN r.kyoto_gwp__co2e_id
      WHEN 4
      THEN r.kyoto_gwp__co2e_id
      WHEN 5
      THEN r.kyoto_gwp__co2e_id
      WHEN 6
      THEN r.kyoto_gwp__co2e_id
      WHEN 7
      THEN r.kyoto_gwp__co2e_id
      WHEN 8
      THEN r.kyoto_gwp__co2e_id
      WHEN 9
      THEN r.kyoto_gwp__co2e_id
      WHEN 10
      THEN r.kyoto_gwp__co2e_id
      WHEN 11
      THEN r.kyoto_gwp__co2e_id
      ELSE CAST(NULL AS TEXT)
    END AS co2e_factor_id,
    CASE r.rule_no
      WHEN 3
      THEN r.kyoto_gwp__co2e_level
      WHEN 4
      THEN r.kyoto_gwp__co2e_level
      WHEN 5
      THEN r.kyoto_gwp__co2e_level
      WHEN 6
      THEN r.kyoto_gwp__co2e_level
      WHEN 7
      THEN r.kyoto_gwp__co2e_level
      WHEN 8
      THEN r.kyoto_gwp__co2e_level
      WHEN 9
      THEN r.kyoto_gwp__co2e_level
      WHEN 10
      THEN r.kyoto_gwp__co2e_level
      WHEN 11
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
      WHEN 4
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
      WHEN 6
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 7
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 8
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 9
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 10
      THEN CASE
        WHEN COALESCE(e.kyoto_gwp__co2e_n, 0) = 0
        THEN 'no_factor:kyoto_gwp'
        WHEN e.kyoto_gwp__co2e_n > 1
        THEN 'ambiguous_factor:kyoto_gwp'
        WHEN e.co2e_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 11
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
  'scope1.fugitive.refrigeration.screening',
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
  'scope1.fugitive.refrigeration.screening',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'no refrigerant in service in the period'
    WHEN 2
    THEN 'refrigerant outside the Kyoto basket (CFC, HCFC, HFO or hydrocarbon): not Scope 1; report separately if at all (GHG Protocol Corporate Standard chapter 9)'
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
  'scope1.fugitive.refrigeration.screening',
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
    FROM ccf.activity_refrigeration_equipment
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
      AND activity_type = 'refrigeration_equipment'
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
