"""Spend in any currency: rate tables, the E509 check, the compiled conversion and the reference
evaluator, on a real PostgreSQL.

Expected values are hand-computed from the published Federal Reserve G.5A annual averages
(factors/rates/frb_g5a_2024_usd_per_unit.csv) and a TEST price index that is not published data
(tests/engine/rates/test-rates-not-published.csv: USD 2021 = 95, 2022 = 100, 2023 = 104).

The shipped 1.1.0 versions name the shipped CPI-U table ``bls-cpi-u-1967`` (tested with its
published values in test_price_index.py). The tests here that use the TEST index run the same
methodology file with ``price_index: org-us-price-index`` instead: the documented way for an
organisation to deflate with its own table (docs/data.md#rate-tables).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import ROOT, load, results, rows_of, shipped_library, write_csv

from ccf.dsl.currency import RateTableValues
from ccf.dsl.evaluate import RecordsResolver, Result, Unmatched, evaluate_rows
from ccf.dsl.library import Library
from ccf.engine.api import factor_signatures, library
from ccf.engine.factors.catalog import load_shipped
from ccf.engine.factors.model import FactorFileError
from ccf.engine.factors.rates import (
    RateTableConflict,
    RateTableMeta,
    install_rate_table,
    load_rate_file,
    rate_values,
    shipped_rate_tables,
)
from ccf.engine.run import run
from ccf.engine.sql import Executor

HERE = Path(__file__).resolve().parent
TEST_INDEX = HERE / "rates" / "test-rates-not-published.csv"
CAT1 = "scope3.cat1.purchased_goods.spend_based@1.1.0"
HEADER = "activity_id,entity,period_start,period_end,category,naics,description,supplier,spend,currency,price_year"
INDEX_META = RateTableMeta(
    id="org-us-price-index", kind="price_index", publisher="TEST fixture, not published data",
    title="test-rates-not-published", edition="test", basis="annual", licence="test only", index_base="2022=100",
)


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


@pytest.fixture(scope="module")
def org_lib(tmp_path_factory):
    """The shipped activity types and cat 1 1.1.0, its price index replaced by the organisation's
    own table 'org-us-price-index' (here: the TEST index)."""
    root = tmp_path_factory.mktemp("org-methodologies")
    src = ROOT / "methodologies"
    (root / "activity_types").mkdir()
    for f in (src / "activity_types").glob("*.yaml"):
        (root / "activity_types" / f.name).write_bytes(f.read_bytes())
    name = CAT1.split("@")[0]
    text = (src / name / "1.1.0.yaml").read_text(encoding="utf-8")
    assert text.count("price_index: bls-cpi-u-1967\n") == 1
    (root / name).mkdir()
    (root / name / "1.1.0.yaml").write_text(text.replace("price_index: bls-cpi-u-1967\n", "price_index: org-us-price-index\n"), encoding="utf-8")
    return library(root)


def _install_test_index(conn) -> None:
    rt, records = load_rate_file(TEST_INDEX, INDEX_META)
    assert install_rate_table(conn, rt, records)


# --- rate tables -----------------------------------------------------------------------------------


def test_shipped_g5a_rates_read_as_published():
    """G.5A release of 2024-02-01: EMU euro 2023 = 1.0817, UK pound 2022 = 1.2371 US dollars per unit."""
    rt, records = shipped_rate_tables()["frb-g5a-2024"]
    values = {(r.currency, r.year): r.value for r in records}
    assert values[("EUR", 2023)] == Decimal("1.0817")
    assert values[("EUR", 2020)] == Decimal("1.1410")
    assert values[("GBP", 2022)] == Decimal("1.2371")
    assert (rt.kind, rt.reference_currency) == ("exchange_rate", "USD")
    assert len(rt.sha256) == 64 and len(records) == 16


def test_rate_tables_install_once_and_conflicts_are_errors(db, tmp_path):
    ex = Executor(db)
    assert rate_values(ex, "frb-g5a-2024")[("GBP", 2023)] == Decimal("1.2440")  # installed with the factor sets
    _install_test_index(db)
    rt, records = load_rate_file(TEST_INDEX, INDEX_META)
    assert install_rate_table(db, rt, records) is False  # the same bytes again: a no-op
    other = write_csv(tmp_path / "other.csv", "currency,year,value", "USD,2022,100", "USD,2023,105")
    rt2, records2 = load_rate_file(other, INDEX_META)
    with pytest.raises(RateTableConflict, match="org-us-price-index is already installed"):
        install_rate_table(db, rt2, records2)
    assert rate_values(ex, "org-us-price-index")[("USD", 2023)] == Decimal("104")


@pytest.mark.parametrize(
    "rows, message",
    [
        (["EUR,2023,1.08", "EUR,2023,1.09"], r"other\.csv:3: EUR 2023 is given twice \(first on line 2\)"),
        (["euro,2023,1.08"], r"other\.csv:2: currency must be an ISO 4217 code"),
        (["EUR,23,1.08"], r"other\.csv:2: year must be a four-digit year"),
        (["EUR,2023,-1"], r"other\.csv:2: value must be a positive decimal number"),
        (["EUR,2023,NaN"], r"other\.csv:2: value must be a positive decimal number"),
    ],
)
def test_bad_rate_files_are_positioned_errors(tmp_path, rows, message):
    path = write_csv(tmp_path / "other.csv", "currency,year,value", *rows)
    with pytest.raises(FactorFileError, match=message):
        load_rate_file(path, INDEX_META)


# --- checking ----------------------------------------------------------------------------------------


def _library_with(tmp_path: Path, spend_field: str, emissions: str) -> Library:
    (tmp_path / "activity_types").mkdir()
    (tmp_path / "activity_types" / "ledger.yaml").write_text(
        "activity_type: ledger\ntitle: ledger\nfields:\n  naics: text\n" + spend_field, encoding="utf-8"
    )
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "1.0.0.yaml").write_text(
        "methodology: m\nversion: 1.0.0\nstatus: draft\ntitle: t\n"
        "ghg_protocol: {scope: 3, category: 1, method: spend-based, references: [x]}\n"
        "factor_set: useeio-1.3\ngwp: AR5\nactivity: ledger\n"
        "factors:\n  industry:\n    select: {margins: with}\n    match: {naics: naics}\n    per: USD\n"
        f"rules:\n  - id: by_spend\n    emissions: {emissions}\n",
        encoding="utf-8",
    )
    return Library.load(tmp_path, factor_signatures())


def test_euro_spend_times_a_dollar_factor_is_e509_at_the_expression(tmp_path):
    lib = _library_with(tmp_path, "  spend:\n    unit: EUR\n", "spend * industry")
    (e509,) = [d for d in lib.diagnostics if d.code == "E509"]
    assert "an amount in EUR is multiplied by a factor per USD" in e509.message
    assert (e509.span.line, e509.span.column) == (16, 16)  # `spend * industry`, line 16 of the file
    assert "currency_conversions" in (e509.suggestion or "")


def test_a_plain_number_times_a_dollar_factor_is_e509_too(tmp_path):
    lib = _library_with(tmp_path, "  spend: number\n  currency: text\n", "spend * industry")
    (e509,) = [d for d in lib.diagnostics if d.code == "E509"]
    assert e509.message == "a factor per USD is multiplied by an amount without a currency: no currency conversion is declared"


def test_converted_spend_times_a_dollar_factor_checks(tmp_path):
    lib = _library_with(
        tmp_path,
        "  spend: number\n  currency: text\n",
        "spend_usd * industry\ncurrency_conversions:\n  spend_usd: {amount: spend, currency: currency, "
        "to_currency: USD, to_year: 2022, exchange_rates: frb-g5a-2024}\n",
    )
    assert lib.diagnostics == []
    (m,) = lib.versions()
    (cv,) = m.conversions
    assert (cv.name, cv.to_currency, cv.to_year, cv.exchange_rates, cv.price_index) == ("spend_usd", "USD", 2022, "frb-g5a-2024", None)


# --- running ---------------------------------------------------------------------------------------------

ROWS = (
    "C-EUR-23,ACME,2023-01-01,2023-12-31,1,541511,,,1000,EUR,",  # 1000 × 1.0817 × 100/104
    "C-GBP-22,ACME,2024-01-01,2024-12-31,1,325510,,,500,GBP,2022",  # price year given: 500 × 1.2371
    "C-USD-22,ACME,2022-01-01,2022-12-31,1,541511,,,250,USD,",  # already USD 2022: unchanged
    "C-USD-23,ACME,2023-01-01,2023-12-31,1,541611,,,208,USD,",  # 208 × 100/104 = 200
    "C-JPY-23,ACME,2023-01-01,2023-12-31,1,541511,,,90000,JPY,",  # no JPY rate
    "C-EUR-24,ACME,2024-01-01,2024-12-31,1,541511,,,1000,EUR,",  # the G.5A release stops at 2023
    "C-USD-20,ACME,2020-01-01,2020-12-31,1,541511,,,100,USD,",  # no 2020 index in the test table
    "C-CAT2,ACME,2023-01-01,2023-12-31,2,541511,,,100,EUR,",  # another category: excluded
)
FACTOR = {"541511": Decimal("0.084"), "325510": Decimal("0.291"), "541611": Decimal("0.078")}  # read below too
CONVERTED = {
    "C-EUR-23": Decimal("1040.09615384615384615385"),  # 1081.7 / 1.04, rounded half up at 20 places
    "C-GBP-22": Decimal("618.55"),
    "C-USD-22": Decimal("250"),
    "C-USD-23": Decimal("200"),
}
UNMATCHED = {
    "C-JPY-23": "no exchange rate for JPY in 2023 in rate table frb-g5a-2024",
    "C-EUR-24": "no exchange rate for EUR in 2024 in rate table frb-g5a-2024",
    "C-USD-20": "no price index for USD in 2020 in rate table org-us-price-index",
}
NAICS = {"C-EUR-23": "541511", "C-GBP-22": "325510", "C-USD-22": "541511", "C-USD-23": "541611"}


def test_factor_values_used_below_are_the_published_useeio_ones():
    _, records = load_shipped("useeio-1.3")
    for naics, value in FACTOR.items():
        (r,) = [r for r in records if r.attribute("naics") == naics and r.attribute("margins") == "with"]
        assert r.value == value


def test_spend_in_any_currency_is_converted_then_deflated(db, org_lib, tmp_path):
    lib = org_lib
    _install_test_index(db)
    load(db, lib, "t", "purchased_spend_any_currency", write_csv(tmp_path / "spend.csv", HEADER, *ROWS))
    report = run(db, "t", [lib.resolve(CAT1)])
    (outcome,) = report.methodologies
    rows = {r["activity_id"]: r for r in results(db, report.run_id)}
    assert {a: r["co2e_kg"] for a, r in rows.items()} == {a: CONVERTED[a] * FACTOR[NAICS[a]] for a in CONVERTED}
    assert rows["C-EUR-23"]["co2e_kg"] == Decimal("87.36807692307692307692340")  # 1040.096… × 0.084, hand-computed
    assert rows["C-EUR-23"]["unit_conversion"] == (
        "spend_usd_2022: EUR 2023 → USD 2022: exchange rate 1.0817 USD per EUR (frb-g5a-2024, 2023); "
        "price index USD 2022 100 ÷ 2023 104 (org-us-price-index)"
    )
    assert rows["C-GBP-22"]["unit_conversion"] == (
        "spend_usd_2022: GBP 2022 → USD 2022: exchange rate 1.2371 USD per GBP (frb-g5a-2024, 2022)"
    )
    assert rows["C-USD-22"]["unit_conversion"] == "spend_usd_2022: USD 2022 → USD 2022 (no conversion needed)"
    unmatched = {r["activity_id"]: (r["reason_code"], r["reason"]) for r in rows_of(db, "unmatched", report.run_id)}
    assert unmatched == {a: ("no_rate", why) for a, why in UNMATCHED.items()}
    assert [r["activity_id"] for r in rows_of(db, "excluded", report.run_id)] == ["C-CAT2"]
    r = outcome.reconciliation
    assert (r.rows_in, r.rows_result, r.rows_excluded, r.rows_unmatched) == (len(ROWS), 4, 1, 3)


def test_reference_evaluator_converts_exactly_as_the_sql(db, org_lib, tmp_path):
    """The differential law on this methodology: same outcome, same Decimal, same reason."""
    lib = org_lib
    _install_test_index(db)
    load(db, lib, "t", "purchased_spend_any_currency", write_csv(tmp_path / "spend.csv", HEADER, *ROWS))
    m = lib.resolve(CAT1)
    report = run(db, "t", [m])
    ex = Executor(db)
    rates = {
        "frb-g5a-2024": RateTableValues(rate_values(ex, "frb-g5a-2024"), "USD"),
        "org-us-price-index": RateTableValues(rate_values(ex, "org-us-price-index")),
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
    reasons = {o.activity_id: o.reason for o in evaluation.outcomes if isinstance(o, Unmatched)}
    assert reasons == UNMATCHED


def test_explain_shows_the_conversion_steps_with_values(db, org_lib, tmp_path):
    from ccf.engine.explain import explain

    lib = org_lib
    _install_test_index(db)
    load(db, lib, "t", "purchased_spend_any_currency", write_csv(tmp_path / "spend.csv", HEADER, *ROWS))
    report = run(db, "t", [lib.resolve(CAT1)])
    (part,) = explain(db, report.run_id, "C-EUR-23", lib).parts
    assert part.reproduces_stored
    assert "  exchange rate 1.0817 USD per EUR (frb-g5a-2024, 2023)" in part.lines
    assert "  price index USD 2022 = 100, 2023 = 104 (org-us-price-index)" in part.lines
    assert "  spend_usd_2022 = 1000 × 1.0817 × 100 ÷ 104 = 1040.09615384615384615385 USD" in part.lines
    (missing,) = explain(db, report.run_id, "C-JPY-23", lib).parts
    assert missing.outcome == "unmatched (no_rate: no exchange rate for JPY in 2023 in rate table frb-g5a-2024)"
    assert missing.reproduces_stored


def test_northwind_ledger_in_eur_gbp_usd_chf(db, lib):
    """The sample ledger with the shipped tables only (the shipped CPI-U has no 2023), by hand:
    12600 EUR × 1.0534 = 13272.84 USD × 0.214; 20000 GBP × 1.2371 = 24742 USD × 0.078;
    35000 USD × 0.084."""
    from ccf.engine.api import demo_dir

    load(db, lib, "nw", "purchased_spend_any_currency", demo_dir() / "purchased_spend_any_currency.csv")
    report = run(db, "nw", [lib.resolve(CAT1)])
    rows = {r["activity_id"]: r["co2e_kg"] for r in results(db, report.run_id)}
    assert rows == {
        "PSC-DE-CLEAN-2022": Decimal("2840.38776"),
        "PSC-UK-CONSULT-2022": Decimal("1929.876"),
        "PSC-HOLD-SW-2022": Decimal("2940"),
    }
    unmatched = {r["activity_id"]: r["reason"] for r in rows_of(db, "unmatched", report.run_id)}
    assert unmatched == {
        "PSC-DE-IT-2024": "no exchange rate for EUR in 2024 in rate table frb-g5a-2024",
        "PSC-DE-CHF-2023": "no exchange rate for CHF in 2023 in rate table frb-g5a-2024",
        "PSC-UK-PAINT-2023": "no price index for USD in 2023 in rate table bls-cpi-u-1967",
    }
    assert report.co2e_kg == Decimal("7710.26376")


def test_rates_commands_list_show_and_load_an_organisation_table(db_url, monkeypatch, capsys):
    from ccf.engine.cli import main

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    args = ["rates", "load", str(TEST_INDEX), "--id", "org-us-price-index", "--kind", "price_index",
            "--publisher", "TEST fixture, not published data", "--title", "test", "--edition", "test",
            "--basis", "annual", "--licence", "test only", "--index-base", "2022=100"]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("installed org-us-price-index: 3 rates, sha256 ")
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("already installed org-us-price-index")
    assert main(["rates", "list"]) == 0
    listed = capsys.readouterr().out
    assert "frb-g5a-2024" in listed and "org-us-price-index" in listed and "bls-cpi-u-1967" in listed
    assert main(["rates", "show", "frb-g5a-2024"]) == 0
    assert "  EUR 2023  1.0817   (line 9)" in capsys.readouterr().out
    assert main(["rates", "show", "nope"]) == 1


@pytest.mark.parametrize("year", ["-0.0", "-0", "0.00", "-2024.0", "2024.5"])
def test_a_reason_shows_the_price_year_as_postgresql_does(db, lib, year):
    """The reference evaluator's 'no rate' reason writes the year as CAST(numeric AS TEXT) does:
    PostgreSQL's NUMERIC has no negative zero (the differential test found -0.0 shown as '-0.0')."""
    from ccf.dsl.currency import convert

    (cv,) = lib.resolve(CAT1).conversions
    shown = db.execute("SELECT CAST(CAST(%s AS NUMERIC) AS TEXT)", (year,)).fetchone()[0]
    _, reason = convert(cv, Decimal(1), "EUR", Decimal(year), {})
    assert reason is not None and f" in {shown} in rate table " in reason, (shown, reason)
