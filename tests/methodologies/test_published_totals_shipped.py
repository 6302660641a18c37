"""The shipped DESNZ-based methodologies report DESNZ's published totals (issue 17, item 3).

With the latest shipped versions, a row's CO2e is activity × the published kg CO2e factor of the
edition of its reporting period, each gas is reported beside it as published, and the total
minus the gas sum is the result part ``total_minus_gases``. Every expected figure is derived
here from the rows of the shipped DESNZ flat files, never typed in twice.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from helpers import load, results, shipped_library, write_csv
from reliability._support import reference, shipped_factors, typed_row

from ccf.dsl import ir
from ccf.dsl.evaluate import Result
from ccf.engine.cli import main
from ccf.engine.run import run

ROOT = Path(__file__).resolve().parents[2]
FLAT = {2024: ROOT / "factors" / "desnz_ghg_conversion_factors_2024_flat_v1_1.csv",
        2025: ROOT / "factors" / "desnz_ghg_conversion_factors_2025_flat_v1.csv"}
EXCEPTIONS_2025 = ROOT / "tests" / "factors" / "desnz_2025_gas_sum_exceptions.txt"
LIB = shipped_library()
EL_HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"
FUEL_HEADER = "activity_id,entity,period_start,period_end,fuel,country,energy,energy_unit,volume,volume_unit,mass,mass_unit"
UNIT_GAS = {"kg CO2e": "total", "kg CO2e of CO2 per unit": "CO2", "kg CO2e of CH4 per unit": "CH4",
            "kg CO2e of N2O per unit": "N2O"}


def published(year: int, level1: str, level3: str, uom: str) -> dict[str, D]:
    """The published total and gas components of one DESNZ factor, as the flat file prints them."""
    with FLAT[year].open(encoding="utf-8-sig", newline="") as f:
        return {UNIT_GAS[r["GHG/Unit"]]: D(r[f"GHG Conversion Factor {year}"]) for r in csv.DictReader(f)
                if (r["Level 1"], r["Level 3"], r["UOM"]) == (level1, level3, uom) and r["GHG/Unit"] in UNIT_GAS}


def expected_parts(quantity: D, factor: dict[str, D]) -> dict[str, D]:
    """The result parts of a published-total rule: each gas as published, and the total minus them."""
    gases = {g: quantity * factor[g] for g in ("CO2", "CH4", "N2O")}
    return {**gases, ir.TOTAL_MINUS_GASES: quantity * factor["total"] - sum(gases.values())}


def parts(rows: list[dict], activity_id: str) -> dict[str, D]:
    return {r["gas"]: r["co2e_kg"] for r in rows if r["activity_id"] == activity_id}


def latest(methodology: str):
    return max((m for m in LIB.versions() if m.id == methodology), key=lambda m: tuple(map(int, m.version.split("."))))


def test_the_latest_desnz_based_versions_report_published_totals():
    """Each names the DESNZ set (its edition follows the period) and gives a total in every
    DESNZ rule; the EPA rules stay per gas."""
    refs = {"scope2.electricity.location_based": "1.3.0", "scope2.electricity.market_based": "1.3.0",
            "scope2.heat_steam.location_based": "1.1.0", "scope1.stationary_combustion": "1.4.0",
            "scope1.mobile_combustion.fuel_based": "1.3.0", "scope1.mobile_combustion.distance_based": "1.2.0"}
    for methodology, version in refs.items():
        m = latest(methodology)
        assert (m.version, m.factor_set) == (version, "desnz"), methodology
        text = (ROOT / "methodologies" / methodology / f"{version}.yaml").read_text("utf-8")
        assert "total: " in text and "total_minus_gases" in text, methodology  # rules and description


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    monkeypatch.delenv("CCF_METHODOLOGIES", raising=False)  # the shipped library
    return db_url


@pytest.mark.parametrize("year", [2025, 2024])
def test_1000_kwh_of_gb_electricity_is_the_published_total_of_its_period(year, cli_db, db, tmp_path, capsys):
    factor = published(year, "UK electricity", "Electricity: UK", "kWh")
    ref = latest("scope2.electricity.location_based").ref
    data = write_csv(tmp_path / "el.csv", EL_HEADER, f"EL1,UK,{year}-01-01,{year}-12-31,1000,kWh,GB")
    assert main(["load", "--dataset", f"el{year}", "--type", "electricity", str(data)]) == 0
    capsys.readouterr()
    assert main(["run", "--dataset", f"el{year}", ref, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    total = D("1000") * factor["total"]
    if year == 2025:
        assert total == D("177.000")  # the published figure, not the gas sum 177.01
    assert D(summary["total_co2e_kg"]) == total

    rows = results(db, summary["run_id"])
    assert parts(rows, "EL1") == expected_parts(D("1000"), factor)
    assert sum(parts(rows, "EL1").values()) == total
    assert {r["rule_id"] for r in rows} == {"desnz_national"}

    assert main(["explain", str(summary["run_id"]), "EL1"]) == 0
    out = capsys.readouterr().out
    assert "reported CO2e (total): quantity * uk_grid" in out
    assert "the derivation reproduces the stored rows exactly" in out


# Propane per kWh gross CV: a DESNZ 2025 factor whose published gases do not add up to its total
PROPANE = ("Fuels", "Propane", "kWh (Gross CV)")
PERIOD_2025 = "UK,2025-01-01,2025-12-31"
FUEL_ROWS = (
    f"P1,{PERIOD_2025},Propane,GB,10000,kWh,,,,",
    f"P2,{PERIOD_2025},Propane,DE,2500,kWh,,,,",  # the DESNZ proxy rule for another country
)


def test_a_fuel_whose_gases_miss_its_total_through_stationary_combustion(db, tmp_path):
    factor = published(2025, *PROPANE)
    gas_sum = sum(factor[g] for g in ("CO2", "CH4", "N2O"))
    listed = [line.split()[1:] for line in EXCEPTIONS_2025.read_text("utf-8").splitlines() if not line.startswith("#")]
    assert [str(factor["total"]), str(gas_sum)] in listed and gas_sum != factor["total"]

    m = latest("scope1.stationary_combustion")
    path = write_csv(tmp_path / "fuel.csv", FUEL_HEADER, *FUEL_ROWS)
    load(db, LIB, "propane", "stationary_fuel", path)
    report = run(db, "propane", [m])
    rows = results(db, report.run_id)
    assert parts(rows, "P1") == expected_parts(D("10000"), factor)
    assert parts(rows, "P2") == expected_parts(D("2500"), factor)
    assert {r["activity_id"]: r["rule_id"] for r in rows} == {"P1": "by_energy", "P2": "proxy_by_energy"}
    assert report.co2e_kg == D("12500") * factor["total"]

    typed = [typed_row(m.activity, dict(zip(FUEL_HEADER.split(","), line.split(",")))) for line in FUEL_ROWS]
    ref = reference(m, typed, shipped_factors("desnz-2025"))
    stored = {(r["activity_id"], r["gas"]): (r["co2e_kg"], tuple(r["factor_ids"])) for r in rows}
    mine = {(o.activity_id, g.gas): (g.co2e_kg, g.factor_ids) for o in ref.outcomes if isinstance(o, Result) for g in o.gases}
    assert mine == stored
    assert ref.co2e_kg == report.co2e_kg
