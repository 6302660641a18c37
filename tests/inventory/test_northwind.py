"""The Northwind sample group end to end: the demo run, the shipped entity set, three approaches."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from helpers import results

from ccf.dsl.numeric import EXACT, exact_sum
from ccf.engine.inventory.inventory import build_inventory
from ccf.engine.inventory.presentation import report_document

# The shares the sample file states (docs/reporting.md#the-northwind-group): NW-UK-LOG is 60 % owned and
# controlled; NW-DE is a 40 % joint venture that Northwind operates while the partner has financial control.
SHARES = {
    "equity-share": {"NW-HOLD": "1", "NW-UK-MFG": "1", "NW-UK-LOG": "0.6", "NW-DE": "0.4"},
    "financial-control": {"NW-HOLD": "1", "NW-UK-MFG": "1", "NW-UK-LOG": "1", "NW-DE": "0"},
    "operational-control": {"NW-HOLD": "1", "NW-UK-MFG": "1", "NW-UK-LOG": "1", "NW-DE": "1"},
}


@pytest.fixture(scope="module")
def northwind(sample_company):
    """The session's sample company: its demo run and its entity set northwind-2024."""
    from ccf.engine.database import connect

    conn = connect(sample_company.url)
    report = sample_company.demo.report
    yield conn, report.run_id, report
    conn.close()


@pytest.mark.parametrize("approach", list(SHARES))
def test_each_approach_is_the_sum_of_result_rows_times_the_entity_share(northwind, approach):
    conn, run_id, report = northwind
    rows = results(conn, run_id)
    assert {r["entity"] for r in rows} <= set(SHARES[approach]), "a sample file uses an entity the entity set lacks"
    # outside the scopes, in no total: biogenic CO2, and projected lifetime emissions of projects financed
    rows = [r for r in rows if "biogenic" not in r["gas"].lower()
            and r["methodology_id"] != "scope3.cat15.investments.projected_lifetime"]
    # Scope 2 side by side: electricity location-based or market-based; heat and steam (location-
    # based only, no market-based methodology for it) in both
    bases = {"location-based": [r for r in rows if r["methodology_id"] != "scope2.electricity.market_based"],
             "market-based": [r for r in rows if r["methodology_id"] != "scope2.electricity.location_based"]}
    inv = build_inventory(conn, [run_id], approach, "northwind-2024")
    assert inv.bases == ("location-based", "market-based")
    for basis, mine in bases.items():
        with localcontext(EXACT):
            expected = sum((r["co2e_kg"] * Decimal(SHARES[approach][r["entity"]]) for r in mine), Decimal(0))
            by_entity = {
                e: sum((r["co2e_kg"] * Decimal(s) for r in mine if r["entity"] == e), Decimal(0))
                for e, s in SHARES[approach].items()
            }
        assert inv.totals[basis] == expected
        got = {r.key: r.co2e_kg[basis] for r in inv.section("entity").rows}
        assert got == {**by_entity, "NW-GROUP": 0, "NW-LOG-IE": 0}
    assert inv.unknown_entities == ()


def test_the_three_approaches_give_three_inventories(northwind):
    conn, run_id, report = northwind
    totals = {a: report_document(build_inventory(conn, [run_id], a, "northwind-2024"))["totals"]["location-based"]["co2e_t"]
              for a in SHARES}
    assert len(set(totals.values())) == 3
    # operational control takes every entity at 100 %, the other approaches take less of NW-UK-LOG or NW-DE
    assert Decimal(totals["operational-control"]) > max(Decimal(totals["equity-share"]), Decimal(totals["financial-control"]))


def test_entities_without_rows_and_coverage_are_reported(northwind):
    conn, run_id, report = northwind
    doc = report_document(build_inventory(conn, [run_id], "financial-control", "northwind-2024"))
    entities = {r["key"]: r for r in next(s for s in doc["sections"] if s["id"] == "entity")["rows"]}
    assert list(entities) == ["NW-GROUP", "NW-HOLD", "NW-UK-MFG", "NW-UK-LOG", "NW-LOG-IE", "NW-DE"]
    assert entities["NW-LOG-IE"]["activity_rows"] == 0 and entities["NW-LOG-IE"]["share_percent"] == "50"
    de = entities["NW-DE"]
    assert de["share_percent"] == "0" and de["values"]["location-based"]["co2e_t"] == "0.000"
    assert de["values"]["location-based"]["gross_t"] != "0.000"  # reported at 100 %, consolidated at 0 %
    # coverage repeats the run's reconciliation, methodology by methodology (the sample data grows,
    # so the counts are taken from the run rather than written here)
    cov = {c["methodology"]: c for c in doc["coverage"]["methodologies"]}
    assert set(cov) == {m.methodology_id for m in report.methodologies}
    for m in report.methodologies:
        r, c = m.reconciliation, cov[m.methodology_id]
        assert (c["activity_rows"], c["rows_result"], c["rows_excluded"], c["rows_unmatched"], c["rows_rejected"]) == (
            r.rows_in + r.rows_rejected, r.rows_result, r.rows_excluded, r.rows_unmatched, r.rows_rejected)
    # 26 rows in the file, 3 rejected; the German rows are matched since 1.2.0 (Ember's national proxy)
    electricity = cov["scope2.electricity.location_based"]
    assert (electricity["unmatched_percent"], electricity["rejected_percent"]) == ("0.0", "11.5")
    assert doc["coverage"]["total"]["rows_unknown_entity"] == 0


def test_market_based_instruments_and_biogenic_co2_in_the_report(northwind):
    """The sample's real market-based run beside location-based, its unallocated certificates,
    and the bioenergy methodology's biogenic CO2 outside the scopes."""
    conn, run_id, report = northwind
    doc = report_document(build_inventory(conn, [run_id], "operational-control", "northwind-2024"))
    assert doc["bases"] == ["location-based", "market-based"]
    assert Decimal(doc["totals"]["market-based"]["co2e_kg"]) < Decimal(doc["totals"]["location-based"]["co2e_kg"])
    unallocated = {r["instrument"]: (r["unallocated"], r["unit"], r["reason_code"]) for r in doc["unallocated_instruments"]}
    assert unallocated == {
        "GO-NW-DE-2024-B": ("17.07", "MWh", "surplus"),  # 250 MWh of GOs, 232.93 MWh consumed in Berlin
        "GO-NW-DE-2024-NL": ("50", "MWh", "market_boundary"),
        "REGO-NW-MFG-2022-OLD": ("200", "MWh", "vintage"),
    }
    biogenic, projected = doc["outside_scopes"]["rows"]
    assert biogenic["label"] == "CO2 (biogenic)"
    # projected lifetime emissions of projects financed, reported apart from Scope 3 (in no total):
    # 3,400 t x 25 years x 4,000,000 / 62,000,000 (0.06451612903225806452 at 20 decimals) = 5,483.871 t,
    # + 18,500 t x 30 years x 6 % = 33,300 t
    assert projected["key"] == "projected_lifetime"
    assert projected["values"]["location-based"]["co2e_t"] == "38783.871"
    assert biogenic["values"]["location-based"]["co2e_t"] == "82.610"  # 71,280.15 + 7,648 + 3,681.87 kg


def test_the_run_reports_projected_lifetime_emissions_apart_from_its_total(northwind):
    conn, run_id, report = northwind
    js = report.to_json()
    # 5,483,870.9677419354842 kg (the biomass CHP: 3,400 t x 25 years x 4,000,000 / 62,000,000) + 33,300,000 kg
    assert js["projected_lifetime_co2e_kg"] == "38783870.9677419354842"
    counted = [m for m in js["methodologies"] if m["method"] not in ("market-based", "projected-lifetime")]
    assert Decimal(js["total_co2e_kg"]) == exact_sum(Decimal(m["co2e_kg"]) for m in counted)
