-- ccf compiled SQL for scope3.cat15.investments.pcaf_business_loans_unlisted_equity@1.0.0 (published)
-- Scope 3 category 15 investments, PCAF business loans and unlisted equity (investee emissions × outstanding / total equity plus debt)
-- content hash sha256:71691d2fb84bcf2c4edd19384fbd681c592793935722e8e4a7a69111ff6f3da9
-- activity type financed_companies; factor set desnz-2024; GWP AR5
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
    a.asset_class,
    a.reported_item,
    a.investee_amount * unit_investee_amount.factor AS investee_amount,
    a.attribution_factor * 0.01 AS attribution_factor,
    a.outstanding_amount,
    a.evic,
    a.equity_plus_debt,
    a.investee_revenue,
    a.currency,
    COALESCE(unit_investee_amount.note, '') AS unit_conversion
  FROM ccf.activity_financed_companies AS a
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'investee_amount gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'investee_amount in kgCO2e'),
    ('tCO2e', 1000, 'investee_amount tCO2e→kgCO2e ×1000')) AS unit_investee_amount("unit", factor, note)
    ON unit_investee_amount."unit" = a.investee_amount_unit
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
      WHEN NOT (
        j.asset_class IN ('business_loan', 'unlisted_equity')
      )
      THEN 1 /* rule other_asset_class */
      WHEN j.reported_item = 'removals'
      THEN 2 /* rule removals */
      WHEN j.reported_item IN ('credits_retired', 'credits_generated')
      THEN 3 /* rule carbon_credits */
      WHEN j.reported_item = 'scope1'
      THEN 4 /* rule investee_scope1 */
      WHEN j.reported_item = 'scope2'
      THEN 5 /* rule investee_scope2 */
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
      THEN 'other_asset_class'
      WHEN 2
      THEN 'removals'
      WHEN 3
      THEN 'carbon_credits'
      WHEN 4
      THEN 'investee_scope1'
      WHEN 5
      THEN 'investee_scope2'
      WHEN 6
      THEN 'investee_scope3'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not business loans and unlisted equity (another PCAF asset class, its own methodology)'
      WHEN 2
      THEN 'emission removals are reported separately from financed emissions, never netted (PCAF)'
      WHEN 3
      THEN 'carbon credits are reported separately from financed emissions, never netted (PCAF)'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no
      WHEN 4
      THEN r.investee_amount * COALESCE(
        r.attribution_factor,
        ccf.div(r.outstanding_amount, COALESCE(r.equity_plus_debt, r.evic))
      )
      WHEN 5
      THEN r.investee_amount * COALESCE(
        r.attribution_factor,
        ccf.div(r.outstanding_amount, COALESCE(r.equity_plus_debt, r.evic))
      )
      WHEN 6
      THEN r.investee_amount * COALESCE(
        r.attribution_factor,
        ccf.div(r.outstanding_amount, COALESCE(r.equity_plus_debt, r.evic))
      )
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 4
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 5
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 6
      THEN CAST(ARRAY[] AS TEXT[])
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
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
  'scope3.cat15.investments.pcaf_business_loans_unlisted_equity',
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
  'scope3.cat15.investments.pcaf_business_loans_unlisted_equity',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not business loans and unlisted equity (another PCAF asset class, its own methodology)'
    WHEN 2
    THEN 'emission removals are reported separately from financed emissions, never netted (PCAF)'
    WHEN 3
    THEN 'carbon credits are reported separately from financed emissions, never netted (PCAF)'
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
  'scope3.cat15.investments.pcaf_business_loans_unlisted_equity',
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
    FROM ccf.activity_financed_companies
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
      AND activity_type = 'financed_companies'
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
