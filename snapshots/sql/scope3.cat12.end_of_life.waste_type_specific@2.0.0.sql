-- ccf compiled SQL for scope3.cat12.end_of_life.waste_type_specific@2.0.0 (published)
-- Scope 3 category 12 end-of-life treatment of sold products, waste-type-specific method with the treatment mix
-- content hash sha256:fa60c065022f378de9284d32a051cd95ae29f569b8f7fdd26ab96c4118a5488d
-- activity type end_of_life_mix; factor set desnz-2024; GWP AR5
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
    a.product,
    a.waste_type,
    a.mass * unit_mass.factor AS mass,
    a.landfill_share * 0.01 AS landfill_share,
    a.incineration_share * 0.01 AS incineration_share,
    a.recycling_share * 0.01 AS recycling_share,
    a.recycling_route,
    a.landfill_factor,
    a.incineration_factor,
    a.recycling_factor,
    COALESCE(unit_mass.note, '') AS unit_conversion
  FROM ccf.activity_end_of_life_mix AS a
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
), factor_landfill_ranked AS NOT MATERIALIZED (
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
    AND f.attributes ->> 'column_text' = 'Landfill'
    AND f.attributes ->> 'level1' = 'Waste disposal'
), factor_landfill AS MATERIALIZED (
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
  FROM factor_landfill_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_incineration_ranked AS NOT MATERIALIZED (
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
    AND f.attributes ->> 'column_text' = 'Combustion'
    AND f.attributes ->> 'level1' = 'Waste disposal'
), factor_incineration AS MATERIALIZED (
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
  FROM factor_incineration_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3
), factor_recycling_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'level3' AS key_level3,
    f.attributes ->> 'column_text' AS key_column_text,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 't' THEN f."value" ELSE ccf.div(f."value" * 1000, fu.scale) END AS value,
    COALESCE(
      NULLIF(CONCAT_WS('; ', CASE WHEN f."unit" <> 't' THEN 'stated per ' || f."unit" END), ''),
      'exact'
    ) AS match_level,
    RANK() OVER (
      PARTITION BY f.attributes ->> 'level3', f.attributes ->> 'column_text', f.gas
      ORDER BY f."unit" <> 't'
    ) AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'kg^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'level1' = 'Waste disposal'
), factor_recycling AS MATERIALIZED (
  SELECT
    key_level3,
    key_column_text,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_recycling_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_level3,
    key_column_text
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_landfill.co2e AS landfill__co2e,
    f_landfill.co2e_id AS landfill__co2e_id,
    f_landfill.co2e_n AS landfill__co2e_n,
    f_landfill.co2e_level AS landfill__co2e_level,
    a.waste_type AS landfill__key_level3,
    f_incineration.co2e AS incineration__co2e,
    f_incineration.co2e_id AS incineration__co2e_id,
    f_incineration.co2e_n AS incineration__co2e_n,
    f_incineration.co2e_level AS incineration__co2e_level,
    a.waste_type AS incineration__key_level3,
    f_recycling.co2e AS recycling__co2e,
    f_recycling.co2e_id AS recycling__co2e_id,
    f_recycling.co2e_n AS recycling__co2e_n,
    f_recycling.co2e_level AS recycling__co2e_level,
    a.waste_type AS recycling__key_level3,
    COALESCE(a.recycling_route, 'Closed-loop' /* parameter default_recycling */) AS recycling__key_column_text
  FROM activity AS a
  LEFT JOIN factor_landfill AS f_landfill
    ON a.waste_type = f_landfill.key_level3
  LEFT JOIN factor_incineration AS f_incineration
    ON a.waste_type = f_incineration.key_level3
  LEFT JOIN factor_recycling AS f_recycling
    ON a.waste_type = f_recycling.key_level3
    AND COALESCE(a.recycling_route, 'Closed-loop' /* parameter default_recycling */) = f_recycling.key_column_text
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.mass = 0
      THEN 1 /* rule nothing_sold */
      WHEN (
        (
          (
            (
              COALESCE(j.landfill_share, 0) + COALESCE(j.incineration_share, 0)
            ) + COALESCE(j.recycling_share, 0)
          ) * 100
        ) = 100 /* parameter whole_mix */
      )
      AND (
        (
          (
            NOT j.landfill_factor IS NULL
          ) OR (
            NOT j.incineration_factor IS NULL
          )
        )
        OR (
          NOT j.recycling_factor IS NULL
        )
      )
      THEN 2 /* rule own_factors */
      WHEN (
        (
          (
            COALESCE(j.landfill_share, 0) + COALESCE(j.incineration_share, 0)
          ) + COALESCE(j.recycling_share, 0)
        ) * 100
      ) = 100 /* parameter whole_mix */
      THEN 3 /* rule by_treatment_mix */
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
      THEN 'nothing_sold'
      WHEN 2
      THEN 'own_factors'
      WHEN 3
      THEN 'by_treatment_mix'
    END AS rule_id,
    CASE r.rule_no WHEN 1 THEN 'no mass of this material sold' END AS exclude_reason,
    r.data_quality,
    r.landfill__co2e_n,
    r.landfill__key_level3,
    r.incineration__co2e_n,
    r.incineration__key_level3,
    r.recycling__co2e_n,
    r.recycling__key_level3,
    r.recycling__key_column_text,
    CASE r.rule_no
      WHEN 2
      THEN r.mass * (
        (
          CASE
            WHEN COALESCE(r.landfill_share, 0) > 0
            THEN r.landfill_share * r.landfill_factor
            ELSE 0
          END + CASE
            WHEN COALESCE(r.incineration_share, 0) > 0
            THEN r.incineration_share * r.incineration_factor
            ELSE 0
          END
        ) + CASE
          WHEN COALESCE(r.recycling_share, 0) > 0
          THEN r.recycling_share * r.recycling_factor
          ELSE 0
        END
      )
      WHEN 3
      THEN (
        r.mass * (
          (
            CASE
              WHEN COALESCE(r.landfill_share, 0) > 0
              THEN r.landfill_share * r.landfill__co2e
              ELSE 0
            END + CASE
              WHEN COALESCE(r.incineration_share, 0) > 0
              THEN r.incineration_share * r.incineration__co2e
              ELSE 0
            END
          ) + CASE
            WHEN COALESCE(r.recycling_share, 0) > 0
            THEN r.recycling_share * r.recycling__co2e
            ELSE 0
          END
        )
      ) * 0.001
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 3
      THEN ARRAY[r.landfill__co2e_id, r.incineration__co2e_id, r.recycling__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN 'no factor'
      WHEN 3
      THEN CONCAT_WS(
        ' | ',
        'landfill: ' || r.landfill__co2e_level,
        'incineration: ' || r.incineration__co2e_level,
        'recycling: ' || r.recycling__co2e_level
      )
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 2
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 3
      THEN CASE
        WHEN COALESCE(e.incineration__co2e_n, 0) = 0
        THEN 'no_factor:incineration'
        WHEN e.incineration__co2e_n > 1
        THEN 'ambiguous_factor:incineration'
        WHEN COALESCE(e.landfill__co2e_n, 0) = 0
        THEN 'no_factor:landfill'
        WHEN e.landfill__co2e_n > 1
        THEN 'ambiguous_factor:landfill'
        WHEN COALESCE(e.recycling__co2e_n, 0) = 0
        THEN 'no_factor:recycling'
        WHEN e.recycling__co2e_n > 1
        THEN 'ambiguous_factor:recycling'
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
  CASE WHEN NOT c.problem IS NULL THEN c.landfill__key_level3 END AS landfill__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.incineration__key_level3 END AS incineration__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.recycling__key_level3 END AS recycling__key_level3,
  CASE WHEN NOT c.problem IS NULL THEN c.recycling__key_column_text END AS recycling__key_column_text,
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
  'scope3.cat12.end_of_life.waste_type_specific',
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
  'scope3.cat12.end_of_life.waste_type_specific',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no WHEN 1 THEN 'no mass of this material sold' END
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
  'scope3.cat12.end_of_life.waste_type_specific',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:landfill'
    THEN 'no emission factor found for lookup ''landfill'' in desnz-2024 per t (column_text = ''Landfill'', level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.landfill__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:landfill'
    THEN 'more than one emission factor matches lookup ''landfill'' in desnz-2024 per t (column_text = ''Landfill'', level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.landfill__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:incineration'
    THEN 'no emission factor found for lookup ''incineration'' in desnz-2024 per t (column_text = ''Combustion'', level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.incineration__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:incineration'
    THEN 'more than one emission factor matches lookup ''incineration'' in desnz-2024 per t (column_text = ''Combustion'', level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.incineration__key_level3 || '''', '(empty)') || ')'
    WHEN e.problem = 'no_factor:recycling'
    THEN 'no emission factor found for lookup ''recycling'' in desnz-2024 per t (level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.recycling__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.recycling__key_column_text || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:recycling'
    THEN 'more than one emission factor matches lookup ''recycling'' in desnz-2024 per t (level1 = ''Waste disposal''' || ', level3 = ' || COALESCE('''' || e.recycling__key_level3 || '''', '(empty)') || ', column_text = ' || COALESCE('''' || e.recycling__key_column_text || '''', '(empty)') || ')'
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
    FROM ccf.activity_end_of_life_mix
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
      AND activity_type = 'end_of_life_mix'
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
