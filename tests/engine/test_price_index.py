"""The shipped US price index ``bls-cpi-u-1967``: CPI-U annual averages (All items, U.S. city
average, 1967=100) copied from the Secretary of Labor's notices in the Federal Register, and the
1.1.0 spend-based versions that deflate with it, on a real PostgreSQL.

Published values used below (factors/README.md#rate-tables quotes the sentences):

- 2020 annual average 775.284: 86 FR 56986, FR Doc. 2021-22201 (2021-10-13), also 86 FR 56985,
  FR Doc. 2021-22202;
- 2022 annual average 876.664: 88 FR 43146, FR Doc. 2023-14212 (2023-07-06), also 88 FR 43147,
  FR Doc. 2023-14213;
- EUR 2020 = 1.1410 and EUR 2022 = 1.0534 USD per euro: Federal Reserve G.5A, release of 2024-02-01.

No notice for the 2021, 2023 or 2024 annual average could be retrieved, so those years are not in
the table and lines priced in them are unmatched (``no_rate``).
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from helpers import load, results, rows_of, shipped_library, write_csv

from ccf.dsl.currency import RateTableValues
from ccf.dsl.evaluate import RecordsResolver, Result, Unmatched, evaluate_rows
from ccf.engine.api import demo_dir
from ccf.engine.factors.catalog import load_shipped
from ccf.engine.factors.rates import SHA256, rate_values, rates_dir, shipped_rate_tables
from ccf.engine.run import run
from ccf.engine.sql import Executor

CPI = "bls-cpi-u-1967"
CPI_2020 = Decimal("775.284")  # 86 FR 56986: "... to its 2020 annual average of 775.284"
CPI_2022 = Decimal("876.664")  # 88 FR 43146: "... to its 2022 annual average of 876.664"
USD_PER_EUR_2020 = Decimal("1.1410")  # G.5A, *EMU MEMBERS EURO, 2020
USD_PER_EUR_2022 = Decimal("1.0534")  # G.5A, *EMU MEMBERS EURO, 2022
SPEND_BASED = (
    "scope3.cat1.purchased_goods.spend_based@1.1.0",
    "scope3.cat2.capital_goods.spend_based@1.1.0",
    "scope3.cat4.upstream_transport.spend_based@1.1.0",
)
CAT1 = SPEND_BASED[0]
HEADER = "activity_id,entity,period_start,period_end,category,naics,description,supplier,spend,currency,price_year"
ROWS = (
    "P-EUR-20,ACME,2024-01-01,2024-12-31,1,541511,,,1000,EUR,2020",  # 1000 × 1.1410 × 876.664 ÷ 775.284
    "P-USD-20,ACME,2020-01-01,2020-12-31,1,541611,,,100,USD,",  # 100 × 876.664 ÷ 775.284 (only deflated)
    "P-EUR-22,ACME,2022-01-01,2022-12-31,1,541511,,,1000,EUR,",  # 1000 × 1.0534 (only converted)
    "P-EUR-23,ACME,2023-01-01,2023-12-31,1,541511,,,1000,EUR,",  # no 2023 CPI shipped
    "P-USD-21,ACME,2021-01-01,2021-12-31,1,541511,,,100,USD,",  # no 2021 CPI shipped
)
FACTOR = {"541511": Decimal("0.084"), "541611": Decimal("0.078")}  # USEEIO v1.3, with margins
NAICS = {"P-EUR-20": "541511", "P-USD-20": "541611", "P-EUR-22": "541511"}
UNMATCHED = {
    "P-EUR-23": "no price index for USD in 2023 in rate table bls-cpi-u-1967",
    "P-USD-21": "no price index for USD in 2021 in rate table bls-cpi-u-1967",
}


def ccf_div(a: Decimal, b: Decimal) -> Decimal:
    """docs/numeric-semantics.md#division: a ÷ b rounded half away from zero at 20 decimals,
    computed with integers (⌊(2|a|·10²⁰ + |b|) ÷ 2|b|⌋ with a, b scaled to integers)."""
    scale = max(-a.as_tuple().exponent, -b.as_tuple().exponent, 0)
    ia, ib = int(abs(a).scaleb(scale)), int(abs(b).scaleb(scale))
    q = (2 * ia * 10**20 + ib) // (2 * ib)
    sign = -1 if (a < 0) != (b < 0) else 1
    return Decimal(sign * q).scaleb(-20)


# Hand-computed from the published numbers: amount × USD per EUR (price year) × CPI(2022) ÷ CPI(price year),
# one division, rounded at 20 decimals.
EUR_2020_IN_USD_2022 = ccf_div(Decimal(1000) * USD_PER_EUR_2020 * CPI_2022, CPI_2020)
USD_2020_IN_USD_2022 = ccf_div(Decimal(100) * CPI_2022, CPI_2020)
CONVERTED = {
    "P-EUR-20": EUR_2020_IN_USD_2022,
    "P-USD-20": USD_2020_IN_USD_2022,
    "P-EUR-22": Decimal(1000) * USD_PER_EUR_2022,
}


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


def test_hand_computed_values_are_what_the_arithmetic_gives():
    assert Decimal(1000) * USD_PER_EUR_2020 * CPI_2022 == Decimal("1000273.6240000")
    assert EUR_2020_IN_USD_2022 == Decimal("1290.20284695672811511653")
    assert USD_2020_IN_USD_2022 == Decimal("113.07649841864400658339")
    assert ccf_div(Decimal(1), Decimal(200000000000000000000)) == Decimal("1E-20")  # numeric-semantics.md's table
    assert ccf_div(Decimal(-1), Decimal(200000000000000000000)) == Decimal("-1E-20")


# --- the shipped table -------------------------------------------------------------------------------


def test_shipped_cpi_u_reads_the_published_annual_averages():
    """88 FR 43146 (2023-07-06): CPI-U (1967=100) 2022 annual average 876.664;
    86 FR 56986 (2021-10-13): 2020 annual average 775.284."""
    rt, records = shipped_rate_tables()[CPI]
    values = {(r.currency, r.year): r.value for r in records}
    assert values == {("USD", 2020): CPI_2020, ("USD", 2022): CPI_2022}
    assert str(values[("USD", 2022)]) == "876.664" and str(values[("USD", 2020)]) == "775.284"  # as published
    assert (rt.kind, rt.index_base, rt.reference_currency) == ("price_index", "1967=100", None)
    assert rt.publisher == "U.S. Bureau of Labor Statistics (certified by the U.S. Department of Labor in the Federal Register)"
    assert rt.licence == "U.S. federal government work, public domain"
    assert rt.source_file == "bls_cpi_u_1967_annual_average.csv" and rt.sha256 == SHA256[rt.source_file]


def test_shipped_cpi_u_file_keeps_the_publishers_labels():
    with (rates_dir() / "bls_cpi_u_1967_annual_average.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["year"] for r in rows] == ["2020", "2022"]
    for r in rows:
        assert r["published_as"].startswith(
            "United States City Average All Items Consumer Price Index for All Urban Consumers (CPI-U) (1967=100) "
            f"{r['year']} annual average"
        )


def test_shipped_cpi_u_is_installed_with_the_factor_sets(db):
    values = rate_values(Executor(db), CPI)
    assert values == {("USD", 2020): CPI_2020, ("USD", 2022): CPI_2022}


# --- the 1.1.0 versions --------------------------------------------------------------------------------


def test_spend_based_1_1_0_deflate_with_the_shipped_index(lib):
    for ref in SPEND_BASED:
        m = lib.resolve(ref)
        (cv,) = m.conversions
        assert (cv.to_currency, cv.to_year, cv.exchange_rates, cv.price_index) == ("USD", 2022, "frb-g5a-2024", CPI)


def _sample_price_years() -> set[int]:
    with (demo_dir() / "purchased_spend_any_currency.csv").open(encoding="utf-8", newline="") as f:
        return {int(r["price_year"] or r["period_start"][:4]) for r in csv.DictReader(f)}


def test_status_follows_the_index_coverage_of_the_sample_years(lib):
    """Published only when the shipped index covers every price year of the sample ledger. It
    holds 2020 and 2022; the sample has 2022, 2023 and 2024 (no notice for 2023 or 2024 could be
    retrieved), so the three versions stay drafts."""
    _, records = shipped_rate_tables()[CPI]
    index_years = {r.year for r in records}
    sample_years = _sample_price_years()
    assert sample_years == {2022, 2023, 2024}
    assert sample_years - index_years == {2023, 2024}
    expected = "published" if sample_years <= index_years else "draft"
    for ref in SPEND_BASED:
        assert lib.resolve(ref).status == expected, ref


# --- running ------------------------------------------------------------------------------------------------


def test_factor_values_used_below_are_the_published_useeio_ones():
    _, records = load_shipped("useeio-1.3")
    for naics, value in FACTOR.items():
        (r,) = [r for r in records if r.attribute("naics") == naics and r.attribute("margins") == "with"]
        assert r.value == value


def test_eur_2020_is_converted_then_deflated_with_the_published_cpi(db, lib, tmp_path):
    load(db, lib, "p", "purchased_spend_any_currency", write_csv(tmp_path / "spend.csv", HEADER, *ROWS))
    report = run(db, "p", [lib.resolve(CAT1)])
    (outcome,) = report.methodologies
    rows = {r["activity_id"]: r for r in results(db, report.run_id)}
    assert {a: r["co2e_kg"] for a, r in rows.items()} == {a: CONVERTED[a] * FACTOR[NAICS[a]] for a in CONVERTED}
    assert rows["P-EUR-20"]["co2e_kg"] == Decimal("108.37703914436516166978852")  # 1290.202… × 0.084
    assert rows["P-EUR-20"]["unit_conversion"] == (
        "spend_usd_2022: EUR 2020 → USD 2022: exchange rate 1.1410 USD per EUR (frb-g5a-2024, 2020); "
        "price index USD 2022 876.664 ÷ 2020 775.284 (bls-cpi-u-1967)"
    )
    assert rows["P-USD-20"]["co2e_kg"] == USD_2020_IN_USD_2022 * Decimal("0.078")
    assert rows["P-EUR-22"]["unit_conversion"] == (
        "spend_usd_2022: EUR 2022 → USD 2022: exchange rate 1.0534 USD per EUR (frb-g5a-2024, 2022)"
    )
    unmatched = {r["activity_id"]: (r["reason_code"], r["reason"]) for r in rows_of(db, "unmatched", report.run_id)}
    assert unmatched == {a: ("no_rate", why) for a, why in UNMATCHED.items()}
    r = outcome.reconciliation
    assert (r.rows_in, r.rows_result, r.rows_excluded, r.rows_unmatched) == (len(ROWS), 3, 0, 2)


def test_reference_evaluator_deflates_exactly_as_the_sql(db, lib, tmp_path):
    load(db, lib, "p", "purchased_spend_any_currency", write_csv(tmp_path / "spend.csv", HEADER, *ROWS))
    m = lib.resolve(CAT1)
    report = run(db, "p", [m])
    ex = Executor(db)
    rates = {
        "frb-g5a-2024": RateTableValues(rate_values(ex, "frb-g5a-2024"), "USD"),
        CPI: RateTableValues(rate_values(ex, CPI)),
    }
    _, records = load_shipped("useeio-1.3")
    rows = []
    for line in ROWS:
        v = dict(zip(HEADER.split(","), line.split(",")))
        rows.append({
            "activity_id": v["activity_id"], "entity": v["entity"],
            "period_start": date.fromisoformat(v["period_start"]),
            "category": Decimal(v["category"]), "naics": v["naics"], "spend": Decimal(v["spend"]),
            "currency": v["currency"] or None, "price_year": Decimal(v["price_year"]) if v["price_year"] else None,
        })
    evaluation = evaluate_rows(m, rows, RecordsResolver(records), rates=rates)
    sql = {r["activity_id"]: r["co2e_kg"] for r in results(db, report.run_id)}
    python = {o.activity_id: o.gases[0].co2e_kg for o in evaluation.outcomes if isinstance(o, Result)}
    assert python == sql
    assert {o.activity_id: o.reason for o in evaluation.outcomes if isinstance(o, Unmatched)} == UNMATCHED


def test_explain_shows_the_published_index_values(db, lib, tmp_path):
    from ccf.engine.explain import explain

    load(db, lib, "p", "purchased_spend_any_currency", write_csv(tmp_path / "spend.csv", HEADER, *ROWS))
    report = run(db, "p", [lib.resolve(CAT1)])
    (part,) = explain(db, report.run_id, "P-EUR-20", lib).parts
    assert part.reproduces_stored
    assert "  price index USD 2022 = 876.664, 2020 = 775.284 (bls-cpi-u-1967)" in part.lines
    assert "  exchange rate 1.141 USD per EUR (frb-g5a-2024, 2020)" in part.lines  # explain prints plain decimals
    assert f"  spend_usd_2022 = 1000 × 1.141 × 876.664 ÷ 775.284 = {EUR_2020_IN_USD_2022} USD" in part.lines


def test_rates_show_prints_the_shipped_index(db_url, monkeypatch, capsys):
    from ccf.engine.cli import main

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["rates", "show", CPI]) == 0
    out = capsys.readouterr().out
    assert "index base 1967=100" in out
    assert "  USD 2022  876.664   (line 3)" in out and "  USD 2020  775.284   (line 2)" in out
