-- ccf compiled SQL for scope1.fugitive.refrigeration.screening@2.0.0 (published)
-- Scope 1 fugitive emissions from refrigeration and air conditioning, screening method
-- content hash sha256:a6a6573e81f060e18672cbc6e94fb2bedf3ab69852469e43a6f532ab9f2db791
-- activity type refrigeration_equipment; factor set ipcc-gwp100-ar5; GWP AR5
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
    f.attributes ->> 'refrigerant' AS key_refrigerant,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 'kg' THEN f."value" ELSE ccf.div(f."value" * 1, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 'kg' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'refrigerant', f.gas ORDER BY f."unit" <> 'kg') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'basket' = 'kyoto'
), factor_kyoto_gwp AS MATERIALIZED (
  SELECT
    key_refrigerant,
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
    key_refrigerant
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_kyoto_gwp.co2e AS kyoto_gwp__co2e,
    f_kyoto_gwp.co2e_id AS kyoto_gwp__co2e_id,
    f_kyoto_gwp.co2e_n AS kyoto_gwp__co2e_n,
    f_kyoto_gwp.co2e_level AS kyoto_gwp__co2e_level,
    a.refrigerant AS kyoto_gwp__key_refrigerant
  FROM activity AS a
  LEFT JOIN factor_kyoto_gwp AS f_kyoto_gwp
    ON a.refrigerant = f_kyoto_gwp.key_refrigerant
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN (
        j.charge = 0
      )
      OR (
        (
          (
            (
              j.units = 0
            ) OR (
              j.years_in_service = 0
            )
          )
          AND (
            COALESCE(j.units_installed, 0) = 0
          )
        )
        AND (
          COALESCE(j.units_disposed, 0) = 0
        )
      )
      THEN 1 /* rule no_charge */
      WHEN j.kyoto_gwp__co2e = 0
      THEN 2 /* rule not_kyoto */
      WHEN j.equipment_type = 'domestic_refrigeration'
      THEN 3 /* rule domestic_refrigeration */
      WHEN j.equipment_type = 'stand_alone_commercial'
      THEN 4 /* rule stand_alone_commercial */
      WHEN j.equipment_type = 'medium_large_commercial'
      THEN 5 /* rule medium_large_commercial */
      WHEN j.equipment_type = 'transport_refrigeration'
      THEN 6 /* rule transport_refrigeration */
      WHEN j.equipment_type = 'industrial_refrigeration'
      THEN 7 /* rule industrial_refrigeration */
      WHEN j.equipment_type = 'chillers'
      THEN 8 /* rule chillers */
      WHEN j.equipment_type = 'residential_commercial_ac'
      THEN 9 /* rule residential_commercial_ac */
      WHEN j.equipment_type = 'mobile_ac'
      THEN 10 /* rule mobile_ac */
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
      THEN 'domestic_refrigeration'
      WHEN 4
      THEN 'stand_alone_commercial'
      WHEN 5
      THEN 'medium_large_commercial'
      WHEN 6
      THEN 'transport_refrigeration'
      WHEN 7
      THEN 'industrial_refrigeration'
      WHEN 8
      THEN 'chillers'
      WHEN 9
      THEN 'residential_commercial_ac'
      WHEN 10
      THEN 'mobile_ac'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'no refrigerant in service, installed or disposed of in the period'
      WHEN 2
      THEN 'refrigerant outside the Kyoto basket (CFC, HCFC, HFO or hydrocarbon): not Scope 1; report separately if at all (GHG Protocol Corporate Standard chapter 9)'
    END AS exclude_reason,
    r.data_quality,
    r.kyoto_gwp__co2e_n,
    r.kyoto_gwp__key_refrigerant,
    CASE r.rule_no
      WHEN 3
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(r.installation_loss_rate * 100, 1 /* parameter install_domestic_refrigeration */)
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 0.5 /* parameter leak_domestic_refrigeration */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 80 /* parameter remaining_domestic_refrigeration */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 70 /* parameter recovery_domestic_refrigeration */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
      WHEN 4
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(r.installation_loss_rate * 100, 3 /* parameter install_stand_alone_commercial */)
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 15 /* parameter leak_stand_alone_commercial */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 80 /* parameter remaining_stand_alone_commercial */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 70 /* parameter recovery_stand_alone_commercial */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
      WHEN 5
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(r.installation_loss_rate * 100, 3 /* parameter install_medium_large_commercial */)
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 35 /* parameter leak_medium_large_commercial */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 100 /* parameter remaining_medium_large_commercial */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 70 /* parameter recovery_medium_large_commercial */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
      WHEN 6
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(r.installation_loss_rate * 100, 1 /* parameter install_transport_refrigeration */)
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 50 /* parameter leak_transport_refrigeration */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 50 /* parameter remaining_transport_refrigeration */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 70 /* parameter recovery_transport_refrigeration */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
      WHEN 7
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(r.installation_loss_rate * 100, 3 /* parameter install_industrial_refrigeration */)
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 25 /* parameter leak_industrial_refrigeration */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 100 /* parameter remaining_industrial_refrigeration */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 90 /* parameter recovery_industrial_refrigeration */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
      WHEN 8
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(r.installation_loss_rate * 100, 1 /* parameter install_chillers */)
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 15 /* parameter leak_chillers */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 100 /* parameter remaining_chillers */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 95 /* parameter recovery_chillers */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
      WHEN 9
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(
                  r.installation_loss_rate * 100,
                  1 /* parameter install_residential_commercial_ac */
                )
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 10 /* parameter leak_residential_commercial_ac */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 80 /* parameter remaining_residential_commercial_ac */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 80 /* parameter recovery_residential_commercial_ac */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
      WHEN 10
      THEN (
        (
          (
            (
              (
                (
                  r.charge * COALESCE(r.units_installed, 0)
                ) * COALESCE(r.installation_loss_rate * 100, 0.5 /* parameter install_mobile_ac */)
              ) + (
                (
                  (
                    r.charge * COALESCE(r.units, 1 /* parameter default_units */)
                  ) * COALESCE(r.annual_leak_rate * 100, 20 /* parameter leak_mobile_ac */)
                ) * COALESCE(r.years_in_service, 1 /* parameter default_years_in_service */)
              )
            ) * 100
          ) + (
            (
              (
                r.charge * COALESCE(r.units_disposed, 0)
              ) * COALESCE(r.remaining_charge * 100, 50 /* parameter remaining_mobile_ac */)
            ) * (
              CAST(100 AS DECIMAL) - COALESCE(r.recovery_rate * 100, 50 /* parameter recovery_mobile_ac */)
            )
          )
        ) * r.kyoto_gwp__co2e
      ) * 0.0001
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
  CASE WHEN NOT c.problem IS NULL THEN c.kyoto_gwp__key_refrigerant END AS kyoto_gwp__key_refrigerant,
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
    THEN 'no refrigerant in service, installed or disposed of in the period'
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
    THEN 'no emission factor found for lookup ''kyoto_gwp'' in ipcc-gwp100-ar5 per kg (basket = ''kyoto''' || ', refrigerant = ' || COALESCE('''' || e.kyoto_gwp__key_refrigerant || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:kyoto_gwp'
    THEN 'more than one emission factor matches lookup ''kyoto_gwp'' in ipcc-gwp100-ar5 per kg (basket = ''kyoto''' || ', refrigerant = ' || COALESCE('''' || e.kyoto_gwp__key_refrigerant || '''', '(empty)') || ')'
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
