-- ccf compiled SQL for scope1.process_emissions.user_supplied_factor@1.0.0 (published)
-- Scope 1 process emissions, organisation-supplied emission factors, per gas
-- content hash sha256:0facccc47625473298b164aacbf8b9b9a3493ddb79a7b313cdc17a95e30d8b10
-- activity type process_emissions; factor set desnz-2024; GWP AR5
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
    a.process,
    a.amount * unit_amount.factor AS amount,
    a.co2_factor * 0.001 AS co2_factor,
    a.ch4_factor * 0.001 AS ch4_factor,
    a.n2o_factor * 0.001 AS n2o_factor,
    a.co2e_factor * 0.001 AS co2e_factor,
    a.factor_source,
    COALESCE(unit_amount.note, '') AS unit_conversion
  FROM ccf.activity_process_emissions AS a
  LEFT JOIN (VALUES
    ('g', 0.001, 'amount g→kg ×0.001'),
    ('kg', 1, 'amount in kg'),
    ('lb', 0.45359237, 'amount lb→kg ×0.45359237'),
    ('long_ton', 1016.0469088, 'amount long_ton→kg ×1016.0469088'),
    ('short_ton', 907.18474, 'amount short_ton→kg ×907.18474'),
    ('t', 1000, 'amount t→kg ×1000'),
    ('tonne', 1000, 'amount tonne→kg ×1000'),
    ('tonnes', 1000, 'amount tonnes→kg ×1000')) AS unit_amount("unit", factor, note)
    ON unit_amount."unit" = a.amount_unit
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
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
    a.*
  FROM activity AS a
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.amount = 0
      THEN 1 /* rule nothing_produced */
      WHEN (
        NOT j.co2e_factor IS NULL
      )
      AND (
        (
          (
            NOT j.co2_factor IS NULL
          ) OR (
            NOT j.ch4_factor IS NULL
          )
        )
        OR (
          NOT j.n2o_factor IS NULL
        )
      )
      THEN 2 /* rule both_kinds_of_factor */
      WHEN (
        (
          NOT j.co2_factor IS NULL
        ) OR (
          NOT j.ch4_factor IS NULL
        )
      )
      OR (
        NOT j.n2o_factor IS NULL
      )
      THEN 3 /* rule per_gas_factors */
      WHEN NOT j.co2e_factor IS NULL
      THEN 4 /* rule co2e_factor */
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
      THEN 'nothing_produced'
      WHEN 2
      THEN 'both_kinds_of_factor'
      WHEN 3
      THEN 'per_gas_factors'
      WHEN 4
      THEN 'co2e_factor'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'no production or material use in the period'
      WHEN 2
      THEN 'the row gives both per-gas factors and a CO2e factor; give one kind only, or the same emissions would be counted twice'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no WHEN 4 THEN r.amount * r.co2e_factor ELSE CAST(NULL AS DECIMAL) END AS co2e_co2e_kg,
    CASE r.rule_no WHEN 4 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS co2e_factor_ids,
    CASE r.rule_no WHEN 4 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS co2e_match_level,
    CASE r.rule_no
      WHEN 3
      THEN r.amount * COALESCE(r.co2_factor, 0)
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_kg,
    CASE r.rule_no WHEN 3 THEN gwp.gwp_co2 ELSE CAST(NULL AS DECIMAL) END AS co2_gwp,
    CASE r.rule_no
      WHEN 3
      THEN (
        r.amount * COALESCE(r.co2_factor, 0)
      ) * gwp.gwp_co2
      ELSE CAST(NULL AS DECIMAL)
    END AS co2_co2e_kg,
    CASE r.rule_no WHEN 3 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS co2_factor_ids,
    CASE r.rule_no WHEN 3 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS co2_match_level,
    CASE r.rule_no
      WHEN 3
      THEN r.amount * COALESCE(r.ch4_factor, 0)
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_kg,
    CASE r.rule_no WHEN 3 THEN gwp.gwp_ch4 ELSE CAST(NULL AS DECIMAL) END AS ch4_gwp,
    CASE r.rule_no
      WHEN 3
      THEN (
        r.amount * COALESCE(r.ch4_factor, 0)
      ) * gwp.gwp_ch4
      ELSE CAST(NULL AS DECIMAL)
    END AS ch4_co2e_kg,
    CASE r.rule_no WHEN 3 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS ch4_factor_ids,
    CASE r.rule_no WHEN 3 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS ch4_match_level,
    CASE r.rule_no
      WHEN 3
      THEN r.amount * COALESCE(r.n2o_factor, 0)
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_kg,
    CASE r.rule_no WHEN 3 THEN gwp.gwp_n2o ELSE CAST(NULL AS DECIMAL) END AS n2o_gwp,
    CASE r.rule_no
      WHEN 3
      THEN (
        r.amount * COALESCE(r.n2o_factor, 0)
      ) * gwp.gwp_n2o
      ELSE CAST(NULL AS DECIMAL)
    END AS n2o_co2e_kg,
    CASE r.rule_no WHEN 3 THEN CAST(ARRAY[] AS TEXT[]) ELSE CAST(NULL AS TEXT[]) END AS n2o_factor_ids,
    CASE r.rule_no WHEN 3 THEN 'no factor' ELSE CAST(NULL AS TEXT) END AS n2o_match_level
  FROM ruled AS r
  CROSS JOIN gwp
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 3
      THEN CASE
        WHEN e.co2_co2e_kg IS NULL OR e.ch4_co2e_kg IS NULL OR e.n2o_co2e_kg IS NULL
        THEN 'no_value'
      END
      WHEN 4
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
  c.co2_kg,
  c.co2_gwp,
  c.co2_co2e_kg,
  c.co2_factor_ids,
  c.co2_match_level,
  c.ch4_kg,
  c.ch4_gwp,
  c.ch4_co2e_kg,
  c.ch4_factor_ids,
  c.ch4_match_level,
  c.n2o_kg,
  c.n2o_gwp,
  c.n2o_co2e_kg,
  c.n2o_factor_ids,
  c.n2o_match_level,
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
  co2_kg,
  co2_gwp,
  co2_co2e_kg,
  co2_factor_ids,
  co2_match_level,
  ch4_kg,
  ch4_gwp,
  ch4_co2e_kg,
  ch4_factor_ids,
  ch4_match_level,
  n2o_kg,
  n2o_gwp,
  n2o_co2e_kg,
  n2o_factor_ids,
  n2o_match_level
)
SELECT
  %(run_id)s,
  'scope1.process_emissions.user_supplied_factor',
  e.activity_id,
  e.entity,
  e.period_start,
  e.rule_id,
  e.unit_conversion,
  CAST(e.data_quality AS SMALLINT),
  COALESCE(e.co2e_co2e_kg, 0) + COALESCE(e.co2_co2e_kg, 0) + COALESCE(e.ch4_co2e_kg, 0) + COALESCE(e.n2o_co2e_kg, 0),
  e.co2e_co2e_kg,
  e.co2e_factor_ids,
  e.co2e_match_level,
  e.co2_kg,
  e.co2_gwp,
  e.co2_co2e_kg,
  e.co2_factor_ids,
  e.co2_match_level,
  e.ch4_kg,
  e.ch4_gwp,
  e.ch4_co2e_kg,
  e.ch4_factor_ids,
  e.ch4_match_level,
  e.n2o_kg,
  e.n2o_gwp,
  e.n2o_co2e_kg,
  e.n2o_factor_ids,
  e.n2o_match_level
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
  'scope1.process_emissions.user_supplied_factor',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'no production or material use in the period'
    WHEN 2
    THEN 'the row gives both per-gas factors and a CO2e factor; give one kind only, or the same emissions would be counted twice'
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
  'scope1.process_emissions.user_supplied_factor',
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
    FROM ccf.activity_process_emissions
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
      AND activity_type = 'process_emissions'
  ) AS rows_rejected,
  e.co2e_co2e_kg,
  e.co2_co2e_kg,
  e.ch4_co2e_kg,
  e.n2o_co2e_kg
FROM (
  SELECT
    COUNT(*) AS rows_result,
    COUNT(*) AS result_rows,
    SUM(co2e_co2e_kg) AS co2e_co2e_kg,
    SUM(co2_co2e_kg) AS co2_co2e_kg,
    SUM(ch4_co2e_kg) AS ch4_co2e_kg,
    SUM(n2o_co2e_kg) AS n2o_co2e_kg
  FROM ccf_eval
  WHERE
    outcome = 'result'
) AS e;

-- [6] cleanup
DROP TABLE IF EXISTS ccf_eval;
