"""Ember's national grid intensities as republished by CO2.js (factor set ember-2025-08)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ccf.dsl import resources
from ccf.engine.factors.catalog import EMBER_CO2JS, SHA256, shipped_editions
from ccf.engine.factors.ember import read_ember
from ccf.engine.factors.model import FactorFileError
from ccf.engine.factors.regions import load_country_codes, shipped_country_codes, shipped_regions

PATH = resources.factors() / EMBER_CO2JS


def _published() -> dict:
    """The file as JSON, numbers kept as their published text."""
    return json.loads(PATH.read_text("utf-8"), parse_float=str, parse_int=str)


def test_edition() -> None:
    edition, records = shipped_editions()["ember-2025-08"]()
    assert edition.source_file == EMBER_CO2JS and edition.sha256 == SHA256[EMBER_CO2JS]
    assert edition.gas_units == (("CO2e", "gCO2e"),) and edition.region is None and edition.year is None
    assert "CC BY" in edition.licence and "Ember" in edition.publisher
    assert {r.attribute("basis") for r in records} == {"life-cycle"}
    # every country entry of the file, plus the World and EU aggregates; the other aggregates are not read
    published = _published()
    countries = [k for k, v in published.items() if v["country_code"]]
    assert len(records) == len(countries) + 2 and len({r.region for r in records}) == len(records)
    assert {r.region for r in records if r.attribute("area") == "aggregate"} == {"WORLD", "EU"}


def test_every_value_as_published() -> None:
    """Each record's value and year are the file's text, exactly; regions are the alpha-2 codes."""
    _, records = shipped_editions()["ember-2025-08"]()
    alpha2 = shipped_country_codes()
    published = _published()
    by_region = {r.region: r for r in records}
    for key, entry in published.items():
        region = alpha2.get(entry["country_code"]) or {"World": "WORLD", "EU": "EU"}.get(key)
        if region is None:
            continue
        r = by_region[region]
        assert str(r.value) == entry["emissions_intensity_gco2_per_kwh"] and r.year == int(entry["year"])
        assert (r.unit, r.gas, r.attribute("country_or_region")) == ("kWh", "CO2e", entry["country_or_region"])


@pytest.mark.parametrize("region,value,year", [
    ("DE", "342.06", 2024), ("FR", "44.18", 2024), ("NL", "252.7", 2024), ("PL", "614.98", 2024),
    ("IN", "708.96", 2024), ("CN", "557.5", 2024), ("BR", "106.06", 2024), ("JP", "483.73", 2024),
    ("WORLD", "472.94", 2024), ("EU", "213.02", 2024), ("ABW", None, None),
])
def test_values(region: str, value: str | None, year: int | None) -> None:
    _, records = shipped_editions()["ember-2025-08"]()
    by_region = {r.region: r for r in records}
    if value is None:  # regions are alpha-2 codes, never the file's alpha-3 keys
        assert region not in by_region and by_region["AW"].value == Decimal("550")
        return
    r = by_region[region]
    assert (str(r.value), r.year, r.factor_id) == (value, year, f"{region}:CO2e/kWh")


def test_source_line() -> None:
    _, records = shipped_editions()["ember-2025-08"]()
    de = next(r for r in records if r.region == "DE")
    assert PATH.read_text("utf-8").splitlines()[de.source_line - 1] == '  "DEU": {'


def test_unknown_country_code_is_refused(tmp_path) -> None:
    text = PATH.read_text("utf-8").replace('"country_code": "DEU"', '"country_code": "DXU"')
    path = tmp_path / "edited.json"
    path.write_text(text, "utf-8")
    with pytest.raises(FactorFileError, match="'DXU' is not an ISO 3166-1 alpha-3 country code") as e:
        read_ember(path)
    assert e.value.line == text.splitlines().index('  "DEU": {') + 1


def test_a_value_that_is_no_number_is_refused(tmp_path) -> None:
    text = PATH.read_text("utf-8").replace('"emissions_intensity_gco2_per_kwh": 342.06', '"emissions_intensity_gco2_per_kwh": "n/a"')
    path = tmp_path / "edited.json"
    path.write_text(text, "utf-8")
    with pytest.raises(FactorFileError, match="entry 'DEU'"):
        read_ember(path)


def test_country_codes() -> None:
    codes = shipped_country_codes()
    assert (codes["DEU"], codes["GBR"], codes["USA"], codes["XKX"]) == ("DE", "GB", "US", "XK")
    assert len(codes) == 250  # the 249 ISO 3166-1 countries and Kosovo's user-assigned XK


def test_country_codes_repeated_is_refused(tmp_path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("alpha2,alpha3,name\nDE,DEU,Germany\nDE,DEX,Germany again\n", "utf-8")
    with pytest.raises(FactorFileError, match="listed twice") as e:
        load_country_codes(path)
    assert e.value.line == 3


def test_meridian_countries_in_regions() -> None:
    parents = {r.code: r.parent for r in shipped_regions()}
    assert {c: parents[c] for c in ("IN", "CN", "BR", "JP")} == dict.fromkeys(("IN", "CN", "BR", "JP"), "WORLD")
    assert {parents[c] for c in ("DE", "FR", "NL", "PL")} == {"EU"}
