-- Hand-written SQL for scope3.cat1.purchased_goods.spend_based@1.0.0, as an expert would write
-- it for the same computation: `ccf bench` runs it beside the compiled SQL and compares totals.
-- Parameters: %(run_id)s, %(dataset)s, %(factor_set_id)s.

-- results: category 1 spend × the USEEIO factor (with margins) of its NAICS code
INSERT INTO ccf.result_row (
  run_id, methodology_id, activity_id, entity, period_start, rule_id, unit_conversion, total_co2e_kg,
  co2e_co2e_kg, co2e_factor_ids, co2e_match_level
)
WITH industry AS (
  SELECT f.attributes ->> 'naics' AS naics, f.factor_id, f.value
  FROM ccf.factor AS f
  WHERE f.factor_set_id = %(factor_set_id)s
    AND f.unit = 'USD'
    AND f.gas = 'CO2e'
    AND f.attributes ->> 'margins' = 'with'
)
SELECT
  %(run_id)s, 'scope3.cat1.purchased_goods.spend_based', a.activity_id, a.entity, a.period_start, 'by_spend', NULL,
  a.spend * i.value, a.spend * i.value, ARRAY[i.factor_id], 'exact'
FROM ccf.activity_purchased_spend AS a
JOIN industry AS i ON i.naics = a.naics
WHERE a.dataset = %(dataset)s AND a.category = 1 AND a.spend <> 0;

-- excluded: other categories, then zero spend
INSERT INTO ccf.excluded (run_id, methodology_id, activity_id, rule_id, reason)
SELECT
  %(run_id)s, 'scope3.cat1.purchased_goods.spend_based', a.activity_id,
  CASE WHEN a.category <> 1 THEN 'other_category' ELSE 'nothing_spent' END,
  CASE
    WHEN a.category <> 1 THEN 'not a category 1 ledger line (reported under its own Scope 3 category)'
    ELSE 'zero spend'
  END
FROM ccf.activity_purchased_spend AS a
WHERE a.dataset = %(dataset)s AND (a.category <> 1 OR a.spend = 0);

-- unmatched: category 1 spend whose NAICS code has no factor
INSERT INTO ccf.unmatched (run_id, methodology_id, activity_id, rule_id, reason_code, reason)
SELECT
  %(run_id)s, 'scope3.cat1.purchased_goods.spend_based', a.activity_id, 'by_spend', 'no_factor',
  'no emission factor found for this NAICS code'
FROM ccf.activity_purchased_spend AS a
WHERE a.dataset = %(dataset)s AND a.category = 1 AND a.spend <> 0
  AND NOT EXISTS (
    SELECT 1 FROM ccf.factor AS f
    WHERE f.factor_set_id = %(factor_set_id)s AND f.unit = 'USD' AND f.gas = 'CO2e'
      AND f.attributes ->> 'margins' = 'with' AND f.attributes ->> 'naics' = a.naics
  );
