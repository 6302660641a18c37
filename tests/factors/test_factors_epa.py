"""US EPA GHG Emission Factors Hub 2025 and USEEIO v1.3 supply-chain factors."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl import resources
from ccf.dsl.units import parse_unit
from ccf.engine.factors.catalog import EPA_HUB_2025, shipped_editions
from ccf.engine.factors.epa_hub import TABLES_NOT_READ, read_epa_hub
from ccf.engine.factors.model import FactorFileError, FactorRecord
from ccf.engine.factors.useeio import read_useeio


def hub() -> dict[str, FactorRecord]:
    _, records = shipped_editions()["epa-hub-2025"]()
    return {r.factor_id: r for r in records}


@pytest.mark.parametrize("factor_id,value", [
    ("1:Natural Gas/Natural Gas:CO2/mmBtu", "53.06"),
    ("1:Natural Gas/Natural Gas:CH4/mmBtu", "1"),
    ("1:Natural Gas/Natural Gas:N2O/mmBtu", "0.1"),
    ("1:Natural Gas/Natural Gas:CO2/scf", "0.05444"),
    ("1:Natural Gas/Natural Gas:energy/scf", "0.001026"),
    ("1:Coal and Coke/Anthracite:CO2/short_ton", "2602"),
    ("1:Petroleum Products/Distillate Fuel Oil No. 2:CO2/mmBtu", "73.96"),
    ("1:Biomass Fuels - Kraft Pulping Liquor, by Wood Furnish/Straw:CO2/mmBtu", "95.1"),
    ("1:Other Fuels - Gaseous/Blast Furnace Gas:energy/scf", "9.2e-05"),
    ("1:Other Fuels - Gaseous/Blast Furnace Gas:CH4/mmBtu", "0.022000000000000002"),  # as published
    ("2:Diesel Fuel:CO2/gal_US", "10.21"),
    ("3:Gasoline Light-Duty Trucks (Vans, Pickup Trucks, SUVs)/1973-1974:CH4/vehicle.mile", "0.1908"),
    ("3:Gasoline Heavy-Duty Vehicles/≤1980:N2O/vehicle.mile", "0.0497"),
    ("4:Light-Duty Trucks/Diesel/1983-2006:CH4/vehicle.mile", "0.0009"),
    ("4:Buses/LNG:CH4/vehicle.mile", "2.719"),
    ("5:Agricultural Equipment/LPG:N2O/gal_US", "0.94"),
    ("7:Steam and Heat:CO2/mmBtu", "66.33"),
    ("8:Medium- and Heavy-Duty Truck:CO2/short_ton.mile", "0.186"),
    ("8:Medium- and Heavy-Duty Truck:CO2/vehicle.mile", "1.298"),
    ("9:Mixed MSW/Landfilled:CO2e/short_ton", "0.58"),
    ("10:Air Travel - Long Haul (>= 2300 miles):CO2/passenger.mile", "0.163"),
])
def test_hub_values(factor_id: str, value: str) -> None:
    assert hub()[factor_id].value == Decimal(value)


def test_hub_natural_gas_record() -> None:
    r = hub()["1:Natural Gas/Natural Gas:CO2/mmBtu"]
    assert (r.name, r.unit, r.gas, r.source_line) == ("Stationary Combustion > Natural Gas > Natural Gas", "mmBtu",
                                                      "CO2", 40)
    assert r.attribute("table") == "1" and r.attribute("fuel_type") == "Natural Gas"


def test_hub_counts_and_units() -> None:
    edition, records = shipped_editions()["epa-hub-2025"]()
    assert len(records) == 1052
    assert Counter(r.attribute("table") for r in records) == {
        "1": 421, "2": 10, "3": 230, "4": 68, "5": 80, "7": 3, "8": 21, "9": 183, "10": 36}
    assert dict(edition.gas_units) == {"CO2": "kgCO2", "CH4": "gCH4", "N2O": "gN2O", "CO2e": "tCO2e",
                                       "energy": "mmBtu"}
    assert (edition.region, edition.year, str(edition.published)) == ("US", 2025, "2025-01-15")
    for r in records:
        parse_unit(r.unit)
        assert r.gas in dict(edition.gas_units)


def test_hub_skips_are_declared() -> None:
    read = read_epa_hub(resources.factors() / EPA_HUB_2025)
    assert read.tables == tuple(str(n) for n in range(1, 13))
    assert set(TABLES_NOT_READ) == {"6", "11", "12"}
    assert len(read.not_applicable) == 183  # Table 9 cells published as 'NA'
    assert read.not_applicable[0] == (466, "9:Aluminum Cans/Composted:CO2e/short_ton")


def test_hub_missing_table(tmp_path: Path) -> None:
    path = tmp_path / "hub.csv"
    path.write_text(",Table 1,Stationary Combustion\n")
    with pytest.raises(FactorFileError, match="table\\(s\\) not found: 2, 3"):
        read_epa_hub(path)


def test_useeio() -> None:
    edition, records = shipped_editions()["useeio-1.3"]()
    by_id = {r.factor_id: r for r in records}
    assert len(records) == 2 * 1016 == len(by_id)
    assert by_id["111110/without"].value == Decimal("0.488")
    assert by_id["111110/with"].value == Decimal("0.532")
    assert by_id["111110/with"].attribute("margins") == "with"
    assert by_id["111110/with"].attribute("useeio_code") == "1111A0"
    assert (by_id["111110/with"].unit, by_id["111110/with"].gas, by_id["111110/with"].year) == ("USD", "CO2e", 2022)
    assert (edition.region, edition.year, edition.gas_unit("CO2e")) == ("US", 2022, "kgCO2e")


def test_useeio_bad_unit(tmp_path: Path) -> None:
    path = tmp_path / "useeio.csv"
    path.write_text("2017 NAICS Code,2017 NAICS Title,GHG,Unit,Supply Chain Emission Factors without Margins,"
                    "Margins of Supply Chain Emission Factors,Supply Chain Emission Factors with Margins,"
                    "Reference USEEIO Code\n111110,Soybean Farming,All GHGs,kg CO2e/EUR,0.488,0.044,0.532,1111A0\n")
    with pytest.raises(FactorFileError) as e:
        read_useeio(path)
    assert e.value.line == 2 and "kg CO2e/EUR" in e.value.message
