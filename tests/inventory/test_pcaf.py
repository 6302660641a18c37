"""PCAF portfolio metrics of category 15 on the Northwind sample (its category 15 sample files)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ccf.dsl.numeric import exact_sum
from ccf.engine.inventory.inventory import build_inventory
from ccf.engine.inventory.pcaf import FinancedRow, pcaf_document
from ccf.engine.inventory.presentation import report_document


@pytest.fixture(scope="module")
def pcaf(sample_company):
    from ccf.engine.database import connect

    conn = connect(sample_company.url)
    yield report_document(build_inventory(conn, [sample_company.demo.report.run_id], "equity-share", "northwind-2024"))["pcaf"]
    conn.close()


def test_waci_weights_each_investees_scope1_and_2_per_revenue_by_outstanding_amount(pcaf):
    waci = {r["currency"]: r for r in pcaf["waci"]}
    # financed_companies.csv, GBP holdings with the investee's revenue (t, GBP million):
    # Glassco (610,000 + 95,000) / 1,900 = 371.0526...; Northern Freight Rail (182,000 + 7,400) / 1,250 = 151.52;
    # Cornish Kaolin (14,800 + 2,100) / 26 = 650 (its Scope 3 is not in WACI); weights 4.2, 1.5, 2.2 of 7.9 million:
    # (4.2 x 705,000 / 1,900 + 1.5 x 151.52 + 2.2 x 650) / 7.9 = 407.05076615589606928714...
    assert (waci["GBP"]["holdings"], waci["GBP"]["waci_t"]) == (3, "407.051")
    assert waci["GBP"]["waci_exact"] == "407.05076615589606928714"
    # Kiln Robotics (240 + 410) t / EUR 4.1 million = 158.5365853658...
    assert (waci["EUR"]["holdings"], waci["EUR"]["waci_exact"]) == (1, "158.53658536585365853659")


def test_economic_emission_intensity_per_currency_counts_each_holding_once(pcaf):
    eei = {r["currency"]: r for r in pcaf["economic_emission_intensity"]}
    # Kiln Robotics: (240 + 410) t x 750,000 / 5,000,000 = 97.5 t over EUR 750,000 (two rows, one holding)
    assert (eei["EUR"]["outstanding"], eei["EUR"]["co2e_t"], eei["EUR"]["intensity_t"]) == ("750000", "97.500", "130.000")
    # sovereign debt, in US dollars by definition: 384,000,000 t x 6,500,000 / 3,870,000,000,000 over USD 6.5 million
    # = 384,000,000 / 3,870,000 = 99.2248... t per million (FC-MINES-S1-2024 has no result)
    assert (eei["USD"]["outstanding"], eei["USD"]["intensity_t"]) == ("6500000", "99.225")


def test_financed_emissions_by_asset_class_and_scope_add_up(pcaf):
    rows = {r["key"]: r for r in pcaf["financed_emissions"]}
    # Kiln Robotics (unlisted equity) Scope 2: 410 t x 15 % = 61.5 t; Cornish Kaolin loan Scope 2: 2,100 t x 2.2 / 31
    # = 149.032 t; Clay Supplies (financed_emissions, pcaf 1.0.0) Scope 2: 740 t x 1.5 / 12 = 92.5 t
    assert rows["business loans and unlisted equity|2"]["co2e_t"] == "303.032"
    assert rows["sovereign debt|1"]["co2e_t"] == "644.961"
    assert "mortgages|not split" in rows and "motor vehicle loans|not split" in rows
    assert not any(k.startswith("other investments (projected-lifetime)") for k in rows)  # reported apart
    assert exact_sum(Decimal(r["co2e_kg"]) for r in rows.values()) == Decimal(pcaf["financed_emissions_total"]["co2e_kg"])



def test_the_weighted_data_quality_score_of_the_sample(pcaf):
    # financed_companies.csv scores its rows (PCAF's scale): Glassco 1, Northern Freight Rail 2, Cornish
    # Kaolin 2 (Scope 1, 2) and 3 (Scope 3), Kiln Robotics 3; the other category 15 rows are not scored.
    # By financed emissions, t: Glassco (610,000 + 95,000) x 4.2 / 2,800 = 1,057.5 at 1; the rail bond
    # (182,000 + 7,400) x 1.5 / 3,100 = 91.645... at 2; Kaolin (14,800 + 2,100) x 2.2 / 31 = 1,199.35... at 2 and
    # 41,000 x 2.2 / 31 = 2,909.68... at 3; Kiln Robotics (240 + 410) x 0.15 = 97.5 at 3:
    # sum(score x t) / sum(t) = 196,246 / 83,013 = 2.3640... -> 2.36
    dq = pcaf["weighted_data_quality"]
    assert dq["by_financed_emissions"]["weighted_score"] == "2.36"
    by_currency = {r["currency"]: r for r in dq["by_outstanding_amount"]}
    # by outstanding amount, GBP: (1 x 4.2 + 2 x 1.5 + 3 x 2.2) / 7.9 million = 13.8 / 7.9 = 1.7468... -> 1.75
    # (Kaolin's poorest score, 3, is its holding's); the buildings, vehicles and project loans are not scored
    gbp = by_currency["GBP"]
    assert (gbp["weighted_score"], gbp["outstanding_scored"]) == ("1.75", "7900000")
    assert Decimal(gbp["outstanding_not_scored"]) > 0
    assert (by_currency["EUR"]["weighted_score"], by_currency["EUR"]["outstanding_not_scored"]) == ("3.00", "0")
    # USD: the copper bond has no result (no EVIC) and sovereign debt is not scored
    assert (by_currency["USD"]["weighted_score"], by_currency["USD"]["outstanding_scored"]) == (None, "0")


def _financed(holding: str, scope_rule: str, kg: str, score: int | None, outstanding: str | None = "1000",
              currency: str = "EUR") -> FinancedRow:
    return FinancedRow(1, "scope3.cat15.investments.pcaf_business_loans_unlisted_equity", "investment-specific",
                       f"{holding}-{scope_rule}", scope_rule, "A", Decimal(1), Decimal(kg), holding, score,
                       None if outstanding is None else Decimal(outstanding), currency, "business_loan", None, None, None)


def test_the_weighted_data_quality_score_by_financed_emissions_and_by_outstanding_amount():
    doc = pcaf_document([
        _financed("a", "scope1", "300", 1, "1000"), _financed("a", "scope2", "100", 3, "1000"),  # a: poorest 3
        _financed("b", "scope1", "600", 2, "3000"),
        _financed("c", "scope1", "1000", None, "500"),  # not scored: left out of both scores
        _financed("d", "scope1", "50", 5, "200", currency="USD"),
    ])["weighted_data_quality"]
    # by financed emissions: (1 x 300 + 3 x 100 + 2 x 600 + 5 x 50) / 1,050 = 2,050 / 1,050 = 1.952... -> 1.95
    assert doc["by_financed_emissions"]["weighted_score"] == "1.95"
    # by outstanding amount, per currency: EUR (3 x 1,000 + 2 x 3,000) / 4,000 = 2.25; c's 500 not scored
    eur, usd = doc["by_outstanding_amount"]
    assert (eur["currency"], eur["weighted_score"], eur["outstanding_scored"], eur["outstanding_not_scored"]) == (
        "EUR", "2.25", "4000", "500")
    assert (usd["currency"], usd["weighted_score"]) == ("USD", "5.00")
