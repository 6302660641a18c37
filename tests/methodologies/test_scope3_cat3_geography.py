"""Scope 3 category 3 follows the site's geography (issue #17): the fuels' well-to-tank factors
on a labelled proxy outside the UK, US T&D losses from eGRID's grid gross loss, and no UK
number given silently to a site elsewhere.

Runs the new versions over the multinational sample company (meridian); expected values are
derived in the test from the shipped files' printed digits (eGRID through its loader, whose own
tests hold it to the Hub file) and, for one subregion, written out by hand.
"""

from __future__ import annotations

import csv
from decimal import Decimal as D
from fractions import Fraction

import pytest
from helpers import load, results, rows_of, shipped_library

from ccf.engine.api import methodologies_dir
from ccf.engine.factors.catalog import shipped_editions, shipped_gwp
from ccf.engine.run import run

LIB = shipped_library()
MERIDIAN = methodologies_dir() / "sample_data" / "meridian"
ELECTRICITY = "scope3.cat3.fuel_energy.electricity@1.2.0"
STATIONARY = "scope3.cat3.fuel_energy.stationary_fuel@1.1.0"
MOBILE = "scope3.cat3.fuel_energy.mobile_fuel@1.1.0"
LB_PER_KG = D("0.45359237")


def _rows(name: str) -> dict[str, dict]:
    with open(MERIDIAN / f"{name}.csv", encoding="utf-8", newline="") as f:
        return {r["activity_id"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def meridian(module_db_url):
    from ccf.engine.database import connect

    conn = connect(module_db_url)
    for name in ("electricity", "stationary_fuel", "mobile_fuel"):
        load(conn, LIB, "meridian", name, MERIDIAN / f"{name}.csv")
    out = {}
    for ref in (ELECTRICITY, STATIONARY, MOBILE):
        rep = run(conn, "meridian", [LIB.resolve(ref)])
        out[ref] = (rep, results(conn, rep.run_id), rows_of(conn, "unmatched", rep.run_id))
    yield out
    conn.close()


def _by_row(rows: list[dict]) -> dict[str, tuple[str, str, D]]:
    """activity_id -> (rule, factor set, CO2e summed over the row's parts)."""
    out: dict[str, tuple[str, str, D]] = {}
    for r in rows:
        kg = out.get(r["activity_id"], (None, None, D(0)))[2]
        out[r["activity_id"]] = (r["rule_id"], r["factor_set"], kg + r["co2e_kg"])
    return out


def test_electricity_tiers_by_country(meridian) -> None:
    """GB on DESNZ; US by eGRID subregion, or the US average without a subregion; every other
    country unmatched by the rule that says so, its country in the reason."""
    _, rows, unmatched = meridian[ELECTRICITY]
    rows_in = _rows("electricity")
    got = {a: (rule, fs) for a, (rule, fs, _) in _by_row(rows).items()}
    expected = {}
    for a, r in rows_in.items():
        if r["country"] == "GB" and r["quantity"] != "0":
            expected[a] = ("gb_upstream_and_losses", "desnz-2024")
        elif r["country"] == "US":
            # both sets read, both named: the emission rates and the grid gross loss
            expected[a] = ("egrid_subregion_td_losses" if r["grid_region"] else "egrid_us_average_td_losses",
                           "egrid-2023 | egrid-losses-2023")
    assert got == expected
    assert {u["activity_id"] for u in unmatched} == {
        a for a, r in rows_in.items() if r["country"] not in ("GB", "US") and r["quantity"] != "0"}
    for u in unmatched:
        assert (u["rule_id"], u["reason_code"]) == ("no_source_outside_gb_and_us", "no_factor")
        assert f"'{rows_in[u['activity_id']]['country']}'" in u["reason"], u["reason"]


def test_us_td_losses_by_hand_for_camx(meridian) -> None:
    """EL-US-SJC-2024H1: 412.5 MWh in CAMX. Hub Table 6 prints for CAMX 436.655 lb CO2, 0.025 lb
    CH4, 0.003 lb N2O per MWh and a grid gross loss of 0.041: the electricity lost per MWh
    consumed is 0.041 / (1 - 0.041) = 0.041 / 0.959 MWh, 17.63556… MWh lost for the row, so
    CO2: 412.5 × 436.655 × 0.041 / 0.959 × 0.45359237 = 3492.95814… kg;
    CH4: 412.5 × 0.025 × 0.041 / 0.959 × 0.45359237 × 28 = 5.59955… kg CO2e;
    N2O: 412.5 × 0.003 × 0.041 / 0.959 × 0.45359237 × 265 = 6.35949… kg CO2e.
    Each gas mass is its exact rational value rounded twice at the 20th decimal (the division by
    1 - GGL, then the conversion to kg: docs/numeric-semantics.md), so each part is within
    GWP × 10⁻²⁰ kg CO2e of the exact value."""
    _, rows, _ = meridian[ELECTRICITY]
    got = {r["gas"]: r for r in rows if r["activity_id"] == "EL-US-SJC-2024H1"}
    for gas, r in got.items():
        assert set(r["factor_ids"]) == {f"CAMX:total output:{gas}/MWh", "CAMX:grid gross loss:energy/MWh"}
    lost = Fraction("412.5") * Fraction("0.041") / Fraction("0.959")  # MWh lost for 412.5 MWh consumed
    exact = {gas: lost * Fraction(rate) * Fraction("0.45359237") * gwp
             for gas, rate, gwp in (("CO2", "436.655", 1), ("CH4", "0.025", 28), ("N2O", "0.003", 265))}
    for gas, value in exact.items():
        gwp = {"CO2": 1, "CH4": 28, "N2O": 265}[gas]
        assert abs(Fraction(got[gas]["co2e_kg"]) - value) <= Fraction(gwp, 10**20), (gas, got[gas]["co2e_kg"])
    # the hand calculation above, to its 5th decimal
    assert [round(got[g]["co2e_kg"], 5) for g in ("CO2", "CH4", "N2O")] == [D("3492.95814"), D("5.59955"), D("6.35949")]


def test_us_td_losses_from_the_loader_per_row(meridian) -> None:
    """Every US row: MWh × rate × GGL / (1 - GGL) × kg/lb × AR5 GWP per gas, its subregion's loss
    and rate, or the US average's where no subregion is known."""
    _, rows, _ = meridian[ELECTRICITY]
    gwp = {g.gas: Fraction(g.value) for g in shipped_gwp() if g.gwp_set == "AR5"}
    _, rates = shipped_editions()["egrid-2023"]()
    _, losses = shipped_editions()["egrid-losses-2023"]()
    rate = {(r.region, r.gas): Fraction(r.value) for r in rates if r.attribute("basis") == "total output"}
    loss = {r.region: Fraction(r.value) for r in losses}
    rows_in = _rows("electricity")
    got = {(r["activity_id"], r["gas"]): Fraction(r["co2e_kg"]) for r in rows}
    us = [a for a, r in rows_in.items() if r["country"] == "US"]
    assert len(us) == 5
    for a in us:
        region = rows_in[a]["grid_region"] or "US"
        mwh = Fraction(rows_in[a]["quantity"]) * {"kWh": Fraction(1, 1000), "MWh": 1}[rows_in[a]["quantity_unit"]]
        for gas in ("CO2", "CH4", "N2O"):
            exact = mwh * rate[(region, gas)] * loss[region] / (1 - loss[region]) * Fraction(LB_PER_KG) * gwp[gas]
            assert abs(got[(a, gas)] - exact) <= gwp[gas] / 10**20, (a, gas)


@pytest.mark.parametrize("ref,name", [(STATIONARY, "stationary_fuel"), (MOBILE, "mobile_fuel")])
def test_fuels_outside_the_uk_on_the_labelled_proxy(meridian, ref, name) -> None:
    """GB rows on DESNZ's own rules; every other row on a proxy_* rule of the same DESNZ set, or
    unmatched (no_factor) where DESNZ names no such fuel (the EPA Hub's US names); never a GB
    rule for a row outside GB."""
    _, rows, unmatched = meridian[ref]
    rows_in = _rows(name)
    got = _by_row(rows)
    assert got, "no results"
    for a, (rule, fs, _) in got.items():
        assert fs == "desnz-2024"
        assert rule.startswith("proxy_") == (rows_in[a]["country"] != "GB"), (a, rule)
    for u in unmatched:
        assert rows_in[u["activity_id"]]["country"] != "GB"
        assert u["reason_code"] == "no_factor" and rows_in[u["activity_id"]]["fuel"] in u["reason"], u["reason"]
    # the proxy is the UK factor itself: the numbers of 1.0.0, only labelled
    assert {a for a, (rule, _, _) in got.items() if rule.startswith("proxy_")} >= {
        a for a, r in rows_in.items() if r["country"] in ("DE", "FR", "PL", "IN", "CN")
        and "0" not in (r.get("volume"), r.get("energy"), r.get("mass"))}  # zero use is excluded
