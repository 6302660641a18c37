-- ccf compiled SQL for scope3.cat8.upstream_leased_assets.lessor_specific@1.0.0 (published)
-- Scope 3 category 8 upstream leased assets, lessor-specific (the lessor's reported Scope 1 and 2, allocated)
-- content hash sha256:5de8ef63377c3f1a3ed45896495444c125b1dacaac160a201f5afbb1d53a6b22
-- activity type third_party_emissions; factor set desnz; GWP AR5
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
    a.party,
    a.role,
    a.asset,
    a.reported_scope,
    a.emissions * unit_emissions.factor AS emissions,
    a.reporting_year,
    a.in_scope1_2,
    a.share * 0.01 AS share,
    a.share_numerator,
    a.share_denominator,
    a.occupancy * 0.01 AS occupancy,
    a.share_basis,
    COALESCE(unit_emissions.note, '') AS unit_conversion
  FROM ccf.activity_third_party_emissions AS a
  LEFT JOIN (VALUES
    ('gCO2e', 0.001, 'emissions gCO2e→kgCO2e ×0.001'),
    ('kgCO2e', 1, 'emissions in kgCO2e'),
    ('tCO2e', 1000, 'emissions tCO2e→kgCO2e ×1000')) AS unit_emissions("unit", factor, note)
    ON unit_emissions."unit" = a.emissions_unit
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
      WHEN j.role <> 'lessor'
      THEN 1 /* rule other_role */
      WHEN j.in_scope1_2 = TRUE
      THEN 2 /* rule in_own_scope1_2 */
      WHEN j.reported_scope = 'scope2_market'
      THEN 3 /* rule market_based_scope2 */
      WHEN j.reported_scope IN ('scope1', 'scope2', 'scope2_location', 'scope1_2')
      AND (
        NOT j.share IS NULL
      )
      THEN 4 /* rule by_share */
      WHEN j.reported_scope IN ('scope1', 'scope2', 'scope2_location', 'scope1_2')
      THEN 5 /* rule by_allocation */
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
      THEN 'other_role'
      WHEN 2
      THEN 'in_own_scope1_2'
      WHEN 3
      THEN 'market_based_scope2'
      WHEN 4
      THEN 'by_share'
      WHEN 5
      THEN 'by_allocation'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'not emissions of a lessor of the organisation (other roles belong to other Scope 3 categories)'
      WHEN 2
      THEN 'already in the organisation''s own Scope 1 and 2 under its consolidation approach'
      WHEN 3
      THEN 'the lessor''s market-based Scope 2; the method reads its location-based Scope 2'
    END AS exclude_reason,
    r.data_quality,
    CASE r.rule_no
      WHEN 4
      THEN r.emissions * r.share
      WHEN 5
      THEN ccf.div(
        r.emissions * r.share_numerator,
        r.share_denominator * COALESCE(r.occupancy * 100, 100 /* parameter full_occupancy */)
      ) * 100
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
  'scope3.cat8.upstream_leased_assets.lessor_specific',
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
  'scope3.cat8.upstream_leased_assets.lessor_specific',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'not emissions of a lessor of the organisation (other roles belong to other Scope 3 categories)'
    WHEN 2
    THEN 'already in the organisation''s own Scope 1 and 2 under its consolidation approach'
    WHEN 3
    THEN 'the lessor''s market-based Scope 2; the method reads its location-based Scope 2'
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
  'scope3.cat8.upstream_leased_assets.lessor_specific',
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
    FROM ccf.activity_third_party_emissions
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
      AND activity_type = 'third_party_emissions'
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
