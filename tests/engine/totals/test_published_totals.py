"""Published totals stay published totals (issue 17, item 3).

A rule with ``total:`` reports activity × the set's published CO2e factor, exactly; its gases
are reported beside it as published, and the published total minus their sum is a result part
of its own, ``total_minus_gases``. The expected figures are the published DESNZ 2025 digits,
read from the shipped flat file and multiplied by hand; every comparison is exact.
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
from ccf.dsl.library import Library
from ccf.engine.api import factor_signatures
from ccf.engine.cli import main
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
LIBRARY = HERE / "library"
DESNZ_2025 = ROOT / "factors" / "desnz_ghg_conversion_factors_2025_flat_v1.csv"
EXCEPTIONS = ROOT / "tests" / "factors" / "desnz_2025_gas_sum_exceptions.txt"
PERIOD = "UK,2025-01-01,2025-12-31"
EL_HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"
FUEL_HEADER = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit,mass,mass_unit"
GASES = ("CO2", "CH4", "N2O")


def published(factor_id: str) -> D:
    """A factor's value exactly as the flat file prints it."""
    with DESNZ_2025.open(encoding="utf-8-sig", newline="") as f:
        return next(D(r["GHG Conversion Factor 2025"]) for r in csv.DictReader(f) if r["ID"] == factor_id)


@pytest.fixture(scope="module")
def lib() -> Library:
    lib = Library.load(LIBRARY, factor_signatures())
    assert lib.diagnostics == []
    return lib


def parts(rows: list[dict], activity_id: str) -> dict[str, D]:
    return {r["gas"]: r["co2e_kg"] for r in rows if r["activity_id"] == activity_id}


# --- the published digits the arithmetic below starts from --------------------------------


def test_uk_electricity_total_is_not_the_sum_of_its_gases():
    """DESNZ 2025 "Electricity: UK" per kWh: total 0.177; CO2 0.17489, CH4 0.0009, N2O 0.00122
    (sum 0.17701)."""
    total, co2, ch4, n2o = (published(f"7_400_4000_5_{i}") for i in (1, 2, 3, 4))
    assert (total, co2, ch4, n2o) == (D("0.177"), D("0.17489"), D("0.0009"), D("0.00122"))
    assert co2 + ch4 + n2o - total == D("0.00001")


def test_propane_is_listed_among_the_totals_that_differ_from_their_gases():
    """Propane per kWh gross CV: total 0.2141; CO2 0.21381, CH4 0.00018, N2O 0.00012 (0.21411)."""
    listed = {line.split()[0]: line.split()[1:] for line in EXCEPTIONS.read_text("utf-8").splitlines() if not line.startswith("#")}
    assert listed["1_100_1007_6_1"] == ["0.2141", "0.21411"]
    assert [published(f"1_100_1007_6_{i}") for i in (1, 2, 3, 4)] == [D("0.2141"), D("0.21381"), D("0.00018"), D("0.00012")]


# --- through the command line, on PostgreSQL ------------------------------------------------


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    monkeypatch.setenv("CCF_METHODOLOGIES", str(LIBRARY))
    return db_url


def test_1000_kwh_of_uk_electricity_is_177_000_kg_with_the_split_and_the_difference(cli_db, db, tmp_path, capsys):
    data = write_csv(tmp_path / "el.csv", EL_HEADER, f"EL1,{PERIOD},1000,kWh,GB", f"EL2,{PERIOD},2.5,MWh,GB")
    assert main(["load", "--dataset", "el", "--type", "electricity", str(data)]) == 0
    capsys.readouterr()
    assert main(["run", "--dataset", "el", "test.total_electricity@1.0.0", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    run_id = summary["run_id"]
    # the run's CO2e is the published-total arithmetic: 3,500 kWh × 0.177
    assert D(summary["total_co2e_kg"]) == D("3500") * D("0.177") == D("619.500")
    (m,) = summary["methodologies"]
    assert {g: D(v) for g, v in m["by_gas"].items()} == {
        "CO2": D("612.115"), "CH4": D("3.15"), "N2O": D("4.27"), ir.TOTAL_MINUS_GASES: D("-0.035")}

    rows = results(db, run_id)
    assert parts(rows, "EL1") == {"CO2": D("174.89"), "CH4": D("0.9"), "N2O": D("1.22"), ir.TOTAL_MINUS_GASES: D("-0.010")}
    assert sum(parts(rows, "EL1").values()) == D("1000") * D("0.177") == D("177.000")
    assert sum(v for g, v in parts(rows, "EL1").items() if g in GASES) == D("177.010")  # the gases as published
    difference = next(r for r in rows if r["activity_id"] == "EL1" and r["gas"] == ir.TOTAL_MINUS_GASES)
    assert difference["factor_ids"] == ["7_400_4000_5_1", "7_400_4000_5_2", "7_400_4000_5_3", "7_400_4000_5_4"]
    assert difference["match_level"] == "exact"  # the total's
    assert difference["gas_kg"] is None and difference["gwp"] is None

    assert main(["explain", str(run_id), "EL1"]) == 0
    out = capsys.readouterr().out
    assert "reported CO2e (total): quantity * uk_grid" in out
    assert "uk_grid.co2e = 0.177 kgCO2e/kWh" in out
    assert "total_minus_gases: total − (CO2 + CH4 + N2O) = 177 − 177.01 = -0.01 kg CO2e" in out
    assert "the derivation reproduces the stored rows exactly" in out

    assert main(["verify", str(run_id)]) == 0
    assert "identical" in capsys.readouterr().out

    entities = write_csv(tmp_path / "entities.csv", "entity,name,parent,equity_share,financial_control,operational_control,"
                         "joint_financial_control,country", "UK,UK site,,1,true,true,false,GB")
    assert main(["entities", "load", str(entities), "--set", "uk"]) == 0
    capsys.readouterr()
    assert main(["report", str(run_id), "--approach", "operational-control", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (gas,) = [s for s in report["sections"] if s["id"] == "gas"]
    shown = {r["key"]: (r["label"], D(r["values"]["location-based"]["co2e_kg"])) for r in gas["rows"]}
    assert shown[ir.TOTAL_MINUS_GASES] == ("published CO2e totals minus their gases", D("-0.035"))
    assert D(gas["total"]["location-based"]["co2e_kg"]) == D("619.5")


# --- a Scope 1 fuel, through the run and through the reference evaluator ---------------------


FUEL_ROWS = (
    f"P1,{PERIOD},Propane,10000,kWh,,,,",
    f"P2,{PERIOD},Propane,1,GJ,,,,",  # 277.7… kWh: each part is divided once, rounded at the 20th decimal
    f"B1,{PERIOD},Butane,,,1000,L,,",
    f"Z1,{PERIOD},Propane,0,kWh,,,,",
)


def test_propane_reports_its_published_total_and_the_reference_evaluator_agrees(db, lib, tmp_path):
    m = lib.resolve("test.total_fuel@1.0.0")
    path = write_csv(tmp_path / "fuel.csv", FUEL_HEADER, *FUEL_ROWS)
    load(db, lib, "fuel", "stationary_fuel", path)
    report = run(db, "fuel", [m])
    rows = results(db, report.run_id)
    # 10,000 kWh × 0.2141 = 2141.0, while the gases are 2138.1 + 1.8 + 1.2 = 2141.1
    assert parts(rows, "P1") == {"CO2": D("2138.1"), "CH4": D("1.8"), "N2O": D("1.2"), ir.TOTAL_MINUS_GASES: D("-0.1")}
    assert sum(parts(rows, "P1").values()) == D("10000") * published("1_100_1007_6_1")
    # 1 GJ: the parts add up to the total as stored, to the last of its 20 decimals
    assert sum(parts(rows, "P2").values()) == D("59.47222222222222222222")
    # Butane by volume, the total beside its CO2 alone: 1745.33 − 1742.96
    assert parts(rows, "B1") == {"CO2": D("1742.96"), ir.TOTAL_MINUS_GASES: D("2.37")}
    assert report.co2e_kg == D("2141") + D("59.47222222222222222222") + D("1745.33")

    typed = [typed_row(m.activity, dict(zip(FUEL_HEADER.split(","), line.split(",")))) for line in FUEL_ROWS]
    ref = reference(m, typed, shipped_factors(m.factor_set))
    stored = {(r["activity_id"], r["gas"]): (r["co2e_kg"], tuple(r["factor_ids"]), r["match_level"]) for r in rows}
    mine = {(o.activity_id, g.gas): (g.co2e_kg, g.factor_ids, g.match_level)
            for o in ref.outcomes if isinstance(o, Result) for g in o.gases}
    assert mine == stored
    assert ref.co2e_kg == report.co2e_kg
    assert [o.outcome for o in ref.outcomes if o.activity_id == "Z1"] == ["excluded"]


# --- the checker ----------------------------------------------------------------------------


def _codes(tmp_path: Path, emissions: str) -> list[tuple[str, str]]:
    """The diagnostics of the fuel test methodology with its by_energy emissions replaced."""
    lib_dir = tmp_path / "lib"
    (lib_dir / "activity_types").mkdir(parents=True)
    (lib_dir / "activity_types" / "stationary_fuel.yaml").write_text(
        (LIBRARY / "activity_types" / "stationary_fuel.yaml").read_text("utf-8"), "utf-8")
    text = (LIBRARY / "test.total_fuel" / "1.0.0.yaml").read_text("utf-8")
    old = ("      total: energy * per_kwh\n      co2: energy * per_kwh.co2\n"
           "      ch4: energy * per_kwh.ch4\n      n2o: energy * per_kwh.n2o\n")
    assert old in text
    (lib_dir / "test.total_fuel").mkdir()
    (lib_dir / "test.total_fuel" / "1.0.0.yaml").write_text(text.replace(old, emissions), "utf-8")
    return [(d.code, d.message) for d in Library.load(lib_dir, factor_signatures()).diagnostics]


def test_a_total_with_co2e_is_refused(tmp_path):
    codes = _codes(tmp_path, "      total: energy * per_kwh\n      co2e: energy * per_kwh\n      co2: energy * per_kwh.co2\n")
    assert [c for c, _ in codes] == ["E508"]
    assert "'co2e' or a 'total'" in codes[0][1]


def test_a_total_without_its_gases_is_refused(tmp_path):
    codes = _codes(tmp_path, "      total: energy * per_kwh\n      co2_biogenic: energy * per_kwh.co2\n")
    assert [c for c, _ in codes] == ["E512"]
    assert "gives none" in codes[0][1]


def test_a_total_beside_a_gas_by_mass_is_refused(tmp_path):
    codes = _codes(tmp_path, "      total: energy * per_kwh\n      co2: energy * 0.2 kgCO2/kWh\n")
    assert [c for c, _ in codes] == ["E512"]
    assert "must be a mass of CO2e" in codes[0][1]


def test_a_total_must_be_a_mass_of_co2e(tmp_path):
    codes = _codes(tmp_path, "      total: energy\n      co2: energy * per_kwh.co2\n")
    assert [c for c, _ in codes] == ["E506"]


def test_diff_names_the_total_not_its_derived_difference(lib):
    """From the shipped per-gas Scope 2 version to one with the published total: the change is
    the total, added; the gases are the same, and total_minus_gases follows from both."""
    from ccf.dsl.diff import diff_methodologies

    before = shipped_library().resolve("scope2.electricity.location_based@1.1.0")
    changes = diff_methodologies(before, lib.resolve("test.total_electricity@1.0.0")).changes
    emitted = [(c.kind, c.subject, c.after.text) for c in changes if "emissions" in c.subject]
    assert emitted == [("formula changed", "rule uk_grid: emissions total", "quantity * uk_grid")]
