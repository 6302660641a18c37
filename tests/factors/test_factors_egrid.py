"""eGRID2023 subregion output emission rates (EPA GHG Emission Factors Hub 2025, Table 6)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl import resources
from ccf.dsl.units import gas_of, parse_unit
from ccf.engine.factors.catalog import EPA_HUB_2025, SHA256, shipped_editions
from ccf.engine.factors.egrid import read_egrid
from ccf.engine.factors.model import FactorFileError, FactorRecord


def egrid() -> dict[str, FactorRecord]:
    _, records = shipped_editions()["egrid-2023"]()
    return {r.factor_id: r for r in records}


def test_edition() -> None:
    edition, records = shipped_editions()["egrid-2023"]()
    assert (edition.publisher, edition.year, edition.region) == ("US EPA", 2023, "US")
    assert edition.title == "eGRID2023 subregion output emission rates (via EPA GHG Emission Factors Hub 2025, Table 6)"
    assert edition.gas_units == (("CO2", "lbCO2"), ("CH4", "lbCH4"), ("N2O", "lbN2O"))
    assert edition.source_file == EPA_HUB_2025 and edition.sha256 == SHA256[EPA_HUB_2025]
    assert set(edition.attributes) == {"subregion", "subregion_name", "basis"}
    # 27 subregions + US average, x 3 gases x 2 bases (total output, non-baseload)
    assert len(records) == 28 * 3 * 2
    assert Counter(r.attribute("basis") for r in records) == {"total output": 84, "non-baseload": 84}
    assert len({r.factor_id for r in records}) == len(records)


@pytest.mark.parametrize("factor_id,value", [
    ("SRSO:total output:CO2/MWh", "840.893"),
    ("SRSO:total output:CH4/MWh", "0.055"),
    ("SRSO:total output:N2O/MWh", "0.008"),
    ("US:total output:CO2/MWh", "771.523"),
    ("US:total output:CH4/MWh", "0.057"),
    ("US:total output:N2O/MWh", "0.008"),
    ("US:non-baseload:CO2/MWh", "1393.7"),
    ("AKGD:non-baseload:CO2/MWh", "1077.11"),
    ("NYUP:total output:N2O/MWh", "0.001"),
    ("PRMS:total output:CO2/MWh", "1542.952"),
])
def test_values(factor_id: str, value: str) -> None:
    r = egrid()[factor_id]
    assert r.value == Decimal(value) and str(r.value) == value  # exact, as published


def test_records() -> None:
    r = egrid()["SRSO:total output:CO2/MWh"]
    assert (r.unit, r.gas, r.region, r.year, r.source_line) == ("MWh", "CO2", "SRSO", 2023, 378)
    assert dict(r.attributes) == {"subregion": "SRSO", "subregion_name": "SERC South", "basis": "total output"}
    us = egrid()["US:total output:CO2/MWh"]
    assert us.region == "US" and us.attribute("subregion_name") == "US Average"


def test_regions() -> None:
    read = read_egrid(resources.factors() / EPA_HUB_2025)
    assert len(read.subregions) == 28 and read.subregions[-1].region == "US"
    regions = {r.region for r in read.records}
    assert len(regions - {"US"}) == 27 and "SRSO" in regions and "CAMX" in regions


def test_every_unit_parses() -> None:
    edition, records = shipped_editions()["egrid-2023"]()
    for r in records:
        per = parse_unit(r.unit)
        value_unit = parse_unit(f"{edition.gas_unit(r.gas)}/{r.unit}")
        assert gas_of(parse_unit(edition.gas_unit(r.gas)).dimension) == r.gas
        assert value_unit.dimension == (parse_unit(edition.gas_unit(r.gas)) / per).dimension
    # 1 lb CO2 / MWh = 0.45359237 kg CO2 / MWh, exactly
    assert parse_unit("lbCO2/MWh").ratio_to(parse_unit("kgCO2/MWh")) == Decimal("0.45359237")


def test_changed_layout_is_an_error(tmp_path: Path) -> None:
    text = (resources.factors() / EPA_HUB_2025).read_text(encoding="utf-8-sig")
    bad = tmp_path / "hub.csv"
    bad.write_text(text.replace("(lb CO2 / MWh)", "(kg CO2 / MWh)", 1), encoding="utf-8")
    with pytest.raises(FactorFileError, match="units row"):
        read_egrid(bad)
    bad.write_text(text.replace("SRSO,SERC South,840.893", "SRSO,SERC South,n/a", 1), encoding="utf-8")
    with pytest.raises(FactorFileError, match="not a number"):
        read_egrid(bad)
    bad.write_text(text.replace(",,AKMS,", ",,AKGD,", 1), encoding="utf-8")
    with pytest.raises(FactorFileError, match="repeated"):
        read_egrid(bad)


def test_grid_gross_loss_is_its_own_edition() -> None:
    """The loss column is read as published into egrid-losses-2023, gas energy in MWh per MWh;
    the emission rates' edition keeps exactly its records."""
    edition, losses = shipped_editions()["egrid-losses-2023"]()
    assert edition.gas_units == (("energy", "MWh"),) and edition.sha256 == SHA256[EPA_HUB_2025]
    assert len(losses) == 27  # 26 subregions + the US average: PRMS publishes none
    by_region = {r.region: r for r in losses}
    assert "PRMS" not in by_region
    for region, text, line in (("CAMX", "0.041", 357), ("HIOA", "0.044", 361), ("SRSO", "0.042", 378),
                               ("US", "0.042", 381)):
        r = by_region[region]
        assert str(r.value) == text and r.source_line == line  # exact, as the file prints it
        assert (r.factor_id, r.gas, r.unit) == (f"{region}:grid gross loss:energy/MWh", "energy", "MWh")
        assert r.attribute("basis") == "grid gross loss"
    assert all(r.attribute("basis") != "grid gross loss" for r in egrid().values())


def test_grid_gross_loss_must_be_a_fraction(tmp_path: Path) -> None:
    """The column is headed '%' but prints fractions; a percentage (4.2) would be read as a
    loss of 420 %, so anything outside [0, 1) is an error, as is a non-number."""
    text = (resources.factors() / EPA_HUB_2025).read_text(encoding="utf-8-sig")
    bad = tmp_path / "hub.csv"
    bad.write_text(text.replace("1033.985,0.051,0.007,0.041", "1033.985,0.051,0.007,4.1", 1), encoding="utf-8")
    with pytest.raises(FactorFileError, match="CAMX grid gross loss: '4.1' is not a fraction of 1"):
        read_egrid(bad)
    bad.write_text(text.replace("1033.985,0.051,0.007,0.041", "1033.985,0.051,0.007,4.1%", 1), encoding="utf-8")
    with pytest.raises(FactorFileError, match="is not a fraction of 1"):
        read_egrid(bad)
