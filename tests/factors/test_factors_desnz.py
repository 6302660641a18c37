"""DESNZ / Defra flat-file loader: published values, counts, units and per-gas consistency."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl import resources
from ccf.dsl.units import parse_unit
from ccf.engine.factors.catalog import desnz_2024, desnz_2025
from ccf.engine.factors.desnz import GHG_UNIT_GASES, UOM_UNITS, read_desnz
from ccf.engine.factors.model import FactorFileError, FactorRecord, select

HERE = Path(__file__).parent
EDITIONS = {"2024": desnz_2024, "2025": desnz_2025}
UK_ELECTRICITY = "UK electricity > Electricity generated > Electricity: UK > kWh"
GASES = ("CO2", "CH4", "N2O")


def one(records: list[FactorRecord], **criteria: str) -> FactorRecord:
    found = select(records, **criteria)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("year,expected", [("2024", "0.20705"), ("2025", "0.177")])
def test_uk_grid_electricity_co2e_per_kwh(year: str, expected: str) -> None:
    _, records = EDITIONS[year]()
    r = one(records, name=UK_ELECTRICITY, unit="kWh", gas="CO2e", scope="Scope 2")
    assert r.value == Decimal(expected)
    assert r.factor_id == "7_400_4000_5_1"
    assert r.source_line == 3061
    assert r.year == int(year)


def test_uk_grid_electricity_per_gas_2024() -> None:
    _, records = desnz_2024()
    values = {r.gas: r.value for r in select(records, name=UK_ELECTRICITY, unit="kWh", scope="Scope 2")}
    assert values == {"CO2e": Decimal("0.20705"), "CO2": Decimal("0.20493"),
                      "CH4": Decimal("0.0009"), "N2O": Decimal("0.00122")}


def test_natural_gas_cv_basis_2024() -> None:
    _, records = desnz_2024()
    gas = select(records, name="Fuels > Gaseous fuels > Natural gas", unit="kWh", gas="CO2e")
    assert {r.attribute("cv_basis"): r.value for r in gas} == {"Gross CV": Decimal("0.1829"),
                                                              "Net CV": Decimal("0.20264")}


def test_values_are_the_published_text() -> None:
    _, records = desnz_2024()
    by_id = {r.factor_id: r for r in records}
    assert str(by_id["1_100_1004_6_4"].value) == "0.00009"  # published as '9e-05'
    assert by_id["1_100_1004_6_4"].value == Decimal("9e-05")
    # published with binary-float noise; loaded exactly as published, not rounded
    assert by_id["4_302_3077_9_1"].value == Decimal("0.13388999999999998")


@pytest.mark.parametrize("year", EDITIONS)
def test_counts(year: str) -> None:
    edition, records = EDITIONS[year]()
    assert len(records) == 7029
    assert Counter(r.gas for r in records) == {"CO2e": 2616, "CO2": 1358, "CH4": 1302, "N2O": 1302, "energy": 451}
    assert Counter(r.attribute("scope") for r in records) == {
        "Scope 1": 2531, "Scope 2": 352, "Scope 3": 4090, "Outside of Scopes": 56}
    assert len({r.factor_id for r in records}) == len(records)
    assert edition.year == int(year)


@pytest.mark.parametrize("year,file", [("2024", "desnz_ghg_conversion_factors_2024_flat_v1_1.csv"),
                                       ("2025", "desnz_ghg_conversion_factors_2025_flat_v1.csv")])
def test_skipped_rows_are_exactly_the_blank_values(year: str, file: str) -> None:
    read = read_desnz(resources.factors() / file)
    assert len(read.records) + len(read.blank_value_lines) == 8740  # every data row but the END marker
    assert len(read.blank_value_lines) == 1711
    assert read.non_numeric == ()
    assert read.unmapped_uoms == ()
    assert read.unmapped_ghg_units == ()


@pytest.mark.parametrize("year", EDITIONS)
def test_every_unit_parses_and_records_are_well_formed(year: str) -> None:
    edition, records = EDITIONS[year]()
    for r in records:
        parse_unit(r.unit)
        assert r.name and r.name == r.name.strip()
        assert list(r.attributes) == sorted(r.attributes) and all(v for _, v in r.attributes)
        assert {k for k, _ in r.attributes} <= set(edition.attributes)
        assert r.gas in dict(edition.gas_units)
    for _, unit in edition.gas_units:
        parse_unit(unit)


def test_uom_mapping() -> None:
    _, records = desnz_2024()
    seen = {(r.attribute("uom"), r.unit, r.attribute("cv_basis")) for r in records}
    assert seen == {
        ("kg", "kg", None), ("tonnes", "t", None), ("litres", "L", None),
        ("million litres", "megalitre", None), ("cubic metres", "m3", None),
        ("kWh", "kWh", None), ("kWh (Gross CV)", "kWh", "Gross CV"), ("kWh (Net CV)", "kWh", "Net CV"),
        ("GJ", "GJ", None), ("km", "km", None), ("miles", "mile", None),
        ("passenger.km", "passenger.km", None), ("tonne.km", "t.km", None),
        ("Room per night", "room.night", None), ("per FTE Working Hour", "FTE.h", None),
    }
    assert set(UOM_UNITS) == {uom for uom, _, _ in seen}


def test_megalitre_and_m3_rows_agree() -> None:
    _, records = desnz_2024()
    per_m3 = one(records, name="Water supply > Water supply > Water supply", unit="m3", gas="CO2e")
    per_ml = one(records, name="Water supply > Water supply > Water supply", unit="megalitre", gas="CO2e")
    assert (per_m3.value, per_ml.value) == (Decimal("0.15311"), Decimal("153.10865"))
    ratio = parse_unit("m3").ratio_to(parse_unit("megalitre"))
    assert round(per_ml.value * Decimal(ratio.numerator) / Decimal(ratio.denominator), 5) == per_m3.value


def test_secr_energy_rows() -> None:
    edition, records = desnz_2024()
    assert edition.gas_unit("energy") == "kWh"
    assert set(GHG_UNIT_GASES) == {r.attribute("ghg_unit") for r in records}
    mini = {r.factor_id: r for r in records}
    assert mini["6_300_3000_4_5"].gas == "energy" and mini["6_300_3000_4_5"].value == Decimal("0.42272")
    assert mini["6_300_3000_4_5"].unit == "km"
    assert mini["9_300_3004_4_6"].attribute("ghg_unit") == "kWh (net)"
    assert mini["9_300_3004_4_6"].value == Decimal("0.17067")


def test_labels_are_stripped_of_surrounding_whitespace() -> None:
    _, records = desnz_2024()
    r = {r.factor_id: r for r in records}["27_319_3198_14_1"]
    assert r.attribute("level3") == "Products tanker"
    assert r.name == "Freighting goods > Sea tanker > Products tanker > 60,000+ dwt"


@pytest.mark.parametrize("year,file", [("2024", "desnz_ghg_conversion_factors_2024_flat_v1_1.csv"),
                                       ("2025", "desnz_ghg_conversion_factors_2025_flat_v1.csv")])
def test_edition_metadata(year: str, file: str) -> None:
    edition, _ = EDITIONS[year]()
    assert edition.id == f"desnz-{year}"
    assert edition.source_file == file
    assert edition.sha256 == hashlib.sha256((resources.factors() / file).read_bytes()).hexdigest()
    assert edition.region == "GB" and edition.publisher == "UK DESNZ / Defra"
    assert edition.licence == "Open Government Licence v3.0"
    assert dict(edition.gas_units) == {"CO2e": "kgCO2e", "CO2": "kgCO2e", "CH4": "kgCO2e", "N2O": "kgCO2e",
                                       "energy": "kWh"}


# --- per-gas rows sum to the CO2e row -------------------------------------------------------


def gas_sum_mismatches(records: list[FactorRecord]) -> tuple[int, list[tuple[str, Decimal, Decimal]]]:
    """(factors with CO2e, CO2, CH4 and N2O rows, [(CO2e factor_id, CO2e value, exact gas sum)] that differ)."""
    by_factor: dict[tuple, dict[str, FactorRecord]] = defaultdict(dict)
    for r in records:
        if r.gas in GASES + ("CO2e",):
            key = (r.unit, tuple(kv for kv in r.attributes if kv[0] != "ghg_unit"))
            assert r.gas not in by_factor[key], r
            by_factor[key][r.gas] = r
    complete = [rows for rows in by_factor.values() if all(g in rows for g in GASES + ("CO2e",))]
    sums = [(rows["CO2e"], sum((rows[g].value for g in GASES), Decimal(0))) for rows in complete]
    return len(complete), [(t.factor_id, t.value, s) for t, s in sums if s != t.value]


def read_exceptions(path: Path) -> list[tuple[str, Decimal, Decimal]]:
    """'<factor_id> <CO2e value> <gas sum>' per line; '#' starts a comment line."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return [(fid, Decimal(total), Decimal(gases)) for fid, total, gases in lines]


@pytest.mark.parametrize("year,checked,exceptions", [("2024", 1302, 88), ("2025", 1302, 407)])
def test_per_gas_rows_sum_to_co2e(year: str, checked: int, exceptions: int) -> None:
    _, records = EDITIONS[year]()
    n, mismatches = gas_sum_mismatches(records)
    expected = read_exceptions(HERE / f"desnz_{year}_gas_sum_exceptions.txt")
    assert n == checked
    assert mismatches == expected, "\n".join(f"{f} {t} {s}" for f, t, s in mismatches)
    assert len(expected) == exceptions
    # every published exception is a rounding difference in the fifth decimal place
    assert all(abs(total - gases) <= Decimal("0.00001") for _, total, gases in expected)


# --- malformed files --------------------------------------------------------------------------

HEADER = "ID,Scope,Level 1,Level 2,Level 3,Level 4,Column Text,UOM,GHG/Unit,GHG Conversion Factor 2024\r\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "desnz.csv"
    path.write_bytes(text.encode())
    return path


def test_non_numeric_value_is_skipped_and_reported(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "a_1,Scope 1,Fuels,,,,,kg,kg CO2e,n/a\r\na_2,Scope 1,Fuels,,,,,kg,kg CO2e,1.5\r\n")
    read = read_desnz(path)
    assert read.non_numeric == ((2, "n/a"),)
    assert [(r.factor_id, r.value) for r in read.records] == [("a_2", Decimal("1.5"))]


def test_unmapped_uom_and_ghg_unit_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "a_1,Scope 1,Fuels,,,,,barrels,kg CO2e,1\r\n"
                                    "a_2,Scope 1,Fuels,,,,,kg,g CO2e,1\r\n")
    read = read_desnz(path)
    assert (read.unmapped_uoms, read.unmapped_ghg_units, read.records) == ((("barrels", 1),), (("g CO2e", 1),), ())


@pytest.mark.parametrize("text,message,line", [
    (HEADER.replace(",UOM", ""), "missing DESNZ column(s): UOM", 1),
    (HEADER.replace("Factor 2024", "Factor"), "expected one 'GHG Conversion Factor <year>' column", 1),
    (HEADER + "a_1,Scope 1,Fuels,,,,,kg,kg CO2e,1\r\na_1,Scope 1,Fuels,,,,,kg,kg CO2e,2\r\n",
     "duplicate ID 'a_1' (first on line 2)", 3),
    (HEADER + ",END,,,,,,,,\r\na_1,Scope 1,Fuels,,,,,kg,kg CO2e,1\r\n", "data after the END marker on line 2", 3),
    (HEADER + ",Scope 1,Fuels,,,,,kg,kg CO2e,1\r\n", "row without an ID", 2),
    (HEADER + "a_1,Scope 1\r\n", "row has 2 cells, fewer than the header", 2),
])
def test_malformed_files_raise(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(FactorFileError) as e:
        read_desnz(write(tmp_path, text))
    assert (e.value.message, e.value.line) == (message, line)
