-- ccf compiled SQL for scope3.cat15.investments.average_data@1.0.0 (published)
-- Scope 3 category 15 investments, average-data method (EEIO by the investee's revenue)
-- content hash sha256:5b95a9b53a3b7050bf652e09c8e106a050c1848460aebcf97635bd3899f155d9
-- activity type investee_revenue; factor set useeio-1.3; GWP AR5
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
    a.investment_type,
    a.revenue,
    a.sector_share * 0.01 AS sector_share,
    a.naics,
    a.sector_factor,
    a.share * 0.01 AS share,
    NULL AS unit_conversion
  FROM ccf.activity_investee_revenue AS a
  WHERE
    a.dataset = %(dataset)s AND a.load_id = ANY(
      CAST(%(loads)s AS BIGINT[])
    )
  OFFSET 0
), factor_sector_ranked AS NOT MATERIALIZED (
  SELECT
    f.attributes ->> 'naics' AS key_naics,
    f.gas,
    f.factor_id,
    CASE WHEN f."unit" = 'USD' THEN f."value" ELSE ccf.div(f."value" * 1, fu.scale) END AS value,
    COALESCE(
      NULLIF(
        CONCAT_WS('; ', CASE WHEN f."unit" <> 'USD' THEN 'stated per ' || f."unit" END),
        ''
      ),
      'exact'
    ) AS match_level,
    RANK() OVER (PARTITION BY f.attributes ->> 'naics', f.gas ORDER BY f."unit" <> 'USD') AS fallback_rank
  FROM ccf.factor AS f
  JOIN ccf."unit" AS fu
    ON fu.name = f."unit"
  WHERE
    f.factor_set_id = %(factor_set_id)s
    AND fu.dimension = 'USD^1'
    AND f.gas IN ('CO2e')
    AND f.attributes ->> 'margins' = 'without'
), factor_sector AS MATERIALIZED (
  SELECT
    key_naics,
    COUNT(*) FILTER(WHERE
      gas = 'CO2e') AS co2e_n,
    MIN("value") FILTER(WHERE
      gas = 'CO2e') AS co2e,
    MIN(factor_id) FILTER(WHERE
      gas = 'CO2e') AS co2e_id,
    MIN(match_level) FILTER(WHERE
      gas = 'CO2e') AS co2e_level
  FROM factor_sector_ranked
  WHERE
    fallback_rank = 1
  GROUP BY
    key_naics
), joined AS NOT MATERIALIZED (
  SELECT
    a.*,
    f_sector.co2e AS sector__co2e,
    f_sector.co2e_id AS sector__co2e_id,
    f_sector.co2e_n AS sector__co2e_n,
    f_sector.co2e_level AS sector__co2e_level,
    a.naics AS sector__key_naics
  FROM activity AS a
  LEFT JOIN factor_sector AS f_sector
    ON a.naics = f_sector.key_naics
), ruled AS NOT MATERIALIZED (
  SELECT
    j.*,
    CASE
      WHEN j.share = 0
      THEN 1 /* rule no_share */
      WHEN NOT j.sector_factor IS NULL
      THEN 2 /* rule own_eeio_factor */
      WHEN NOT j.naics IS NULL
      THEN 3 /* rule useeio_sector */
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
      THEN 'no_share'
      WHEN 2
      THEN 'own_eeio_factor'
      WHEN 3
      THEN 'useeio_sector'
    END AS rule_id,
    CASE r.rule_no
      WHEN 1
      THEN 'no equity, debt or share of project costs held at the end of the period'
    END AS exclude_reason,
    r.data_quality,
    r.sector__co2e_n,
    r.sector__key_naics,
    CASE r.rule_no
      WHEN 2
      THEN (
        (
          (
            r.revenue * COALESCE(r.sector_share, 1)
          ) * r.sector_factor
        ) * CAST(1 AS DECIMAL)
      ) * r.share
      WHEN 3
      THEN (
        (
          r.revenue * COALESCE(r.sector_share, 1)
        ) * r.sector__co2e
      ) * r.share
      ELSE CAST(NULL AS DECIMAL)
    END AS co2e_co2e_kg,
    CASE r.rule_no
      WHEN 2
      THEN CAST(ARRAY[] AS TEXT[])
      WHEN 3
      THEN ARRAY[r.sector__co2e_id]
      ELSE CAST(NULL AS TEXT[])
    END AS co2e_factor_ids,
    CASE r.rule_no
      WHEN 2
      THEN 'no factor'
      WHEN 3
      THEN r.sector__co2e_level
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
        WHEN COALESCE(e.sector__co2e_n, 0) = 0
        THEN 'no_factor:sector'
        WHEN e.sector__co2e_n > 1
        THEN 'ambiguous_factor:sector'
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
  CASE WHEN NOT c.problem IS NULL THEN c.sector__key_naics END AS sector__key_naics,
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
  'scope3.cat15.investments.average_data',
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
  'scope3.cat15.investments.average_data',
  e.activity_id,
  e.rule_id,
  CASE e.rule_no
    WHEN 1
    THEN 'no equity, debt or share of project costs held at the end of the period'
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
  'scope3.cat15.investments.average_data',
  e.activity_id,
  e.rule_id,
  CASE WHEN e.rule_no = 0 THEN 'no_rule' ELSE SPLIT_PART(e.problem, ':', 1) END,
  CASE
    WHEN e.rule_no = 0
    THEN 'no rule applies to this row'
    WHEN e.problem = 'no_value'
    THEN 'the rule''s emissions have no value (an empty field, or a division by zero)'
    WHEN e.problem = 'no_factor:sector'
    THEN 'no emission factor found for lookup ''sector'' in useeio-1.3 per USD (margins = ''without''' || ', naics = ' || COALESCE('''' || e.sector__key_naics || '''', '(empty)') || ')'
    WHEN e.problem = 'ambiguous_factor:sector'
    THEN 'more than one emission factor matches lookup ''sector'' in useeio-1.3 per USD (margins = ''without''' || ', naics = ' || COALESCE('''' || e.sector__key_naics || '''', '(empty)') || ')'
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
    FROM ccf.activity_investee_revenue
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
      AND activity_type = 'investee_revenue'
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
