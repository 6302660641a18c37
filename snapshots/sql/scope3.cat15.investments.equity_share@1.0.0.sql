-- ccf compiled SQL for scope3.cat15.investments.equity_share@1.0.0 (published)
-- Scope 3 category 15 investments, investment-specific method (equity share of investee emissions)
-- content hash sha256:163503629b50f883c9f0843c263e5a0fc3b3624781fca343b75c6312a90c885d
-- activity type equity_investments; factor set desnz-2024; GWP AR5
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
    a.investee,
    a.reported_item,
    a.investee_emissions * unit_investee_emissions.factor AS investee_emissions,
    a.equity_share * 0.01 AS equity_share,
    a.consolidated,
    COALESCE(unit_investee_emissions.note, '') AS unit_conversion
  FROM ccf.activity_equity_investments AS a
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'investee_emissions gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'investee_emissions in kgCO2e'),
    ('tCO2e', 1000, 'investee_emissions tCO2e→kgCO2e ×1000')) AS unit_investee_emissions("unit", factor, note)
    ON unit_investee_emissions."unit" = a.investee_emissions_unit
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
      WHEN j.consolidated = TRUE
      THEN 1 /* rule consolidated */
      WHEN j.equity_share = 0
      THEN 2 /* rule no_equity */
      WHEN j.reported_item = 'scope1'
      THEN 3 /* rule investee_scope1 */
      WHEN j.reported_item = 'scope2'
      THEN 4 /* rule investee_scope2 */
      WHEN j.reported_item = 'scope1+2'
      THEN 5 /* rule investee_scope1_and_2 */
      WHEN j.reported_item = 'scope3'
      THEN 6 /* rule investee_scope3 */
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
      THEN 'consolidated'
      WHEN 2
      THEN 'no_equity'
      WHEN 3
      THEN 'investee_scope1'
      WHEN 4
      THEN 'investee_scope2'
      WHEN 5
      THEN 'investee_scope1_and_2'
      WHEN 6
      THEN 'investee_scope3'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'investee consolidated in the organisation''s own Scope 1 and 2'
      WHEN 2
      THEN 'no equity held at the end of the period'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no
      WHEN 3
      THEN r.investee_emissions * r.equity_share
      WHEN 4
      THEN r.investee_emissions * r.equity_share
      WHEN 5
      THEN r.investee_emissions * r.equity_share
      WHEN 6
      THEN r.investee_emissions * r.equity_share
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 3
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 6
      THEN CAST(ARRAY[] AS TEXT[])
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 3
      THEN 'no factor'
      WHEN 4
      THEN 'no factor'
      WHEN 5
      THEN 'no factor'
      WHEN 6
      THEN 'no factor'
      ELSE CAST(NULL AS TEXT)
    END AS co2e_match_level
  FROM ruled AS r
  OFFSET 0
), checked AS NOT MATERIALIZED (
  SELECT
    e.*,
    CASE e.rule_no
      WHEN 3
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 4
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 5
      THEN CASE WHEN e.co2e_co2e_kg IS NULL THEN 'no_value' END
      WHEN 6
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
  'scope3.cat15.investments.equity_share',
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
  'scope3.cat15.investments.equity_share',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'investee consolidated in the organisation''s own Scope 1 and 2'
    WHEN 2
    THEN 'no equity held at the end of the period'
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
  'scope3.cat15.investments.equity_share',
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
    FROM ccf.activity_equity_investments
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
      AND activity_type = 'equity_investments'
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
