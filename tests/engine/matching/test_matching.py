"""Factor matching: region hierarchy fallback, year fallback, unit conversion, ambiguity.

The factor set here is a small custom one whose values make every path visible; the region
hierarchy is the shipped one (eGRID subregions → US → WORLD; EU members → EU → WORLD).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from helpers import load, results, rows_of, write_csv

from ccf.dsl.library import Library
from ccf.engine.api import factor_signatures
from ccf.engine.factors.custom import load_custom
from ccf.engine.factors.store import install_edition
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region"


@pytest.fixture()
def grid(db, tmp_path):
    edition, records = load_custom(HERE / "grid_test.csv", "grid-test", "test", publisher="test")
    install_edition(db, edition, records)
    lib = Library.load(HERE / "library", {**factor_signatures(), edition.id: edition})
    assert lib.diagnostics == []
    m = lib.resolve("test.grid_fallback@1.0.0")

    def run_rows(*rows: str) -> tuple[dict, dict]:
        load(db, lib, "g", "electricity", write_csv(tmp_path / "e.csv", HEADER, *rows))
        report = run(db, "g", [m])
        got = {r["activity_id"]: r for r in results(db, report.run_id)}
        unmatched = {r["activity_id"]: r for r in rows_of(db, "unmatched", report.run_id)}
        return got, unmatched

    return run_rows


def test_exact_region_and_year(grid):
    got, _ = grid("a,E,2023-03-01,2023-03-31,1000,kWh,US,SRSO")
    assert (got["a"]["co2e_kg"], got["a"]["factor_ids"], got["a"]["match_level"]) == (
        Decimal("400"), ["srso-2023"], "exact",
    )


def test_year_falls_back_to_the_latest_earlier_year(grid):
    got, unmatched = grid(
        "y24,E,2024-03-01,2024-03-31,1000,kWh,US,SRSO",
        "y22,E,2022-03-01,2022-03-31,1000,kWh,US,SRSO",
        "y21,E,2021-03-01,2021-03-31,1000,kWh,US,SRSO",
    )
    assert (got["y24"]["co2e_kg"], got["y24"]["match_level"]) == (Decimal("400"), "year 2023 for 2024")
    assert (got["y22"]["co2e_kg"], got["y22"]["match_level"]) == (Decimal("410"), "exact")
    # no factor of 2021 or earlier anywhere up the hierarchy
    assert unmatched["y21"]["reason_code"] == "no_factor"
    assert unmatched["y21"]["reason"] == (
        "no emission factor found for lookup 'grid' in grid-test per kWh (key = 'grid', "
        "region (or a parent region) = 'SRSO', year (or an earlier year) = '2021')"
    )


def test_region_falls_back_to_its_parent_then_world(grid):
    got, _ = grid(
        "sub,E,2023-03-01,2023-03-31,1000,kWh,US,SRMW",  # eGRID subregion without a factor → US
        "eu,E,2023-03-01,2023-03-31,1000,kWh,FR,",  # FR → EU → WORLD (stated per MWh)
        "unlisted,E,2023-03-01,2023-03-31,1000,kWh,XX,",  # not in the hierarchy: itself, then WORLD
    )
    assert (got["sub"]["co2e_kg"], got["sub"]["match_level"]) == (Decimal("300"), "region US for SRMW")
    assert (got["eu"]["co2e_kg"], got["eu"]["match_level"]) == (
        Decimal("500"), "region WORLD for FR; stated per MWh",
    )
    assert got["unlisted"]["match_level"] == "region WORLD for XX; stated per MWh"


def test_nearest_region_wins_over_a_more_recent_year(grid):
    got, _ = grid("n,E,2023-03-01,2023-03-31,1000,kWh,US,NWPP")
    assert (got["n"]["factor_ids"], got["n"]["match_level"]) == (["nwpp-2019"], "year 2019 for 2023")


def test_factor_in_another_unit_of_the_dimension_is_converted_exactly(grid):
    got, _ = grid("ca,E,2023-03-01,2023-03-31,1000,kWh,US,CAMX")
    # 60 kg CO2e/GJ = 60 × 3.6e6 / 1e9 = 0.216 kg CO2e/kWh
    assert (got["ca"]["co2e_kg"], got["ca"]["match_level"]) == (Decimal("216"), "stated per GJ")


def test_a_factor_in_the_lookups_own_unit_is_preferred(grid):
    got, _ = grid("pa,E,2023-03-01,2023-03-31,1000,kWh,US,RFCE")
    assert (got["pa"]["factor_ids"], got["pa"]["co2e_kg"]) == (["rfce-2023-kwh"], Decimal("250"))


def test_two_factors_at_the_best_level_are_ambiguous_not_guessed(grid):
    _, unmatched = grid("ny,E,2023-03-01,2023-03-31,1000,kWh,US,NYUP")
    assert unmatched["ny"]["reason_code"] == "ambiguous_factor"
    assert unmatched["ny"]["reason"].startswith("more than one emission factor matches lookup 'grid'")


def test_per_gas_masses_are_weighted_with_the_methodologys_gwp_set(db, tmp_path):
    """EPA Hub 2025 natural gas: 53.06 kg CO2, 1 g CH4, 0.1 g N2O per mmBtu; AR5 GWPs 28 and 265.
    Both the mass of each gas and its CO2e are stored."""
    lib = Library.load(HERE / "library", {**factor_signatures(), "grid-test": load_custom(HERE / "grid_test.csv", "grid-test", "test", publisher="test")[0]})
    assert lib.diagnostics == []
    header = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit,mass,mass_unit"
    load(db, lib, "epa", "stationary_fuel", write_csv(tmp_path / "f.csv", header, "g,E,2024-01-01,2024-12-31,Natural Gas,1000,mmBtu,,,,"))
    report = run(db, "epa", [lib.resolve("test.epa_stationary@1.0.0")])
    by_gas = {r["gas"]: r for r in results(db, report.run_id)}
    assert {g: (r["gas_kg"], r["gwp"], r["co2e_kg"]) for g, r in by_gas.items()} == {
        "CO2": (Decimal("53060"), Decimal("1"), Decimal("53060")),
        "CH4": (Decimal("1"), Decimal("28"), Decimal("28")),
        "N2O": (Decimal("0.1"), Decimal("265"), Decimal("26.5")),
    }
    assert report.co2e_kg == Decimal("53114.5")
    assert by_gas["CH4"]["gwp_set"] == "AR5"
