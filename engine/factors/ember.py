"""Ember's national grid-average emissions intensity of electricity, as republished by CO2.js
(``factors/ember_average_intensities_co2js_2025_08_03.json``).

The file is the Green Web Foundation's ``data/output/average-intensities.json`` of CO2.js: for
each country (ISO 3166-1 alpha-3 key) and a few aggregates (keyed by name), the latest year of
Ember's yearly electricity data that has an intensity, in g CO2e per kWh of electricity
generated. The basis is Ember's: **life-cycle** emissions of generation (upstream methane,
supply chain and plant manufacture included, all gases as CO2e over 100 years), domestic
generation mix without imports. It is not a combustion factor, so a methodology ranks it as a
proxy below any combustion-basis national factor and says so; every record carries
``basis: life-cycle``.

Each country record's ``region`` is its ISO 3166-1 alpha-2 code (``factors/country_codes.csv``;
a key that is no country code there is an error), the ``World`` aggregate's is ``WORLD`` and the
``EU`` aggregate's is ``EU`` (the EU-27, as ``regions.csv`` has it). The other aggregates
(continents, OECD, G7, G20, ASEAN, Middle East) are not read: their membership is Ember's, which
ccf's region tree does not model, and a record without a region would stand for the world.
Values are parsed exactly as published; each record keeps its own year.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from ccf.dsl.units import parse_unit
from ccf.engine.factors.model import (
    FactorFileError,
    FactorRecord,
    FactorSetEdition,
    Publication,
    file_sha256,
    parse_decimal,
    read_file,
    read_text,
    sorted_attributes,
)
from ccf.engine.factors.regions import shipped_country_codes

PUBLISHER = "Ember (republished by the Green Web Foundation in CO2.js)"
TITLE = "Yearly electricity data: emissions intensity of electricity generation, latest year per country (life-cycle)"
LICENCE = "CC BY-SA 4.0 as republished by CO2.js (Ember publishes its data under CC BY 4.0); attribution required"
UNIT = "kWh"
GAS = "CO2e"
GAS_UNITS = ((GAS, "gCO2e"),)
ATTRIBUTES = ("area", "country_code", "country_or_region", "basis")
PUBLICATION = Publication(PUBLISHER, TITLE, LICENCE, None, GAS_UNITS, ATTRIBUTES)
BASIS = "life-cycle"
COUNTRY, AGGREGATE = "country", "aggregate"
# aggregate name as published -> ccf region (the others are not read, see the module docstring)
AGGREGATES = {"World": "WORLD", "EU": "EU"}
FIELDS = ("country_code", "country_or_region", "year", "emissions_intensity_gco2_per_kwh")
_KEY_LINE = re.compile(r'  "([^"]+)": \{')


def _key_lines(text: str) -> dict[str, int]:
    """The line of each top-level key, for positioned errors and ``source_line``."""
    return {m.group(1): n for n, line in enumerate(text.splitlines(), 1) if (m := _KEY_LINE.fullmatch(line))}


def read_ember(path: str | Path, country_codes: dict[str, str] | None = None) -> tuple[str, list[FactorRecord]]:
    """The file's sha256 and one CO2e-per-kWh record per country and per read aggregate."""
    path = Path(path)
    data = read_file(path)
    text = read_text(data, path)
    codes = shipped_country_codes() if country_codes is None else country_codes
    try:  # numbers stay text here: parse_decimal reads them exactly
        doc = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as e:
        raise FactorFileError(f"not JSON: {e.msg}", path, e.lineno) from None
    if not isinstance(doc, dict) or not doc:
        raise FactorFileError("expected an object of countries and regions", path)
    lines = _key_lines(text)
    records: list[FactorRecord] = []
    regions: dict[str, int] = {}
    for key, row in doc.items():
        line = lines.get(key)
        if line is None:
            raise FactorFileError(f"entry '{key}' is not on a line of its own as the layout expects", path)
        if not isinstance(row, dict) or tuple(row) != FIELDS:
            raise FactorFileError(f"entry '{key}': expected the fields {', '.join(FIELDS)}", path, line)
        code, name, year, intensity = (row[f] for f in FIELDS)
        if code:
            if code != key or code not in codes:
                raise FactorFileError(f"entry '{key}': '{code}' is not an ISO 3166-1 alpha-3 country code", path, line)
            area, region = COUNTRY, codes[code]
        elif key in AGGREGATES and name == key:
            area, region = AGGREGATE, AGGREGATES[key]
        else:
            continue  # an aggregate ccf has no region for (module docstring)
        value = parse_decimal(intensity) if isinstance(intensity, str) else None
        if value is None or not isinstance(year, str) or not year.isdigit():
            raise FactorFileError(f"entry '{key}': year '{year}' and intensity '{intensity}' must be numbers", path, line)
        if region in regions:
            raise FactorFileError(f"region {region} given twice (also line {regions[region]})", path, line)
        regions[region] = line
        records.append(FactorRecord(
            factor_id=f"{region}:{GAS}/{UNIT}",
            name=f"Electricity > {name} ({region}) > grid average, {BASIS}",
            unit=UNIT,
            gas=GAS,
            value=value,
            attributes=sorted_attributes([("area", area), ("country_code", code), ("country_or_region", name),
                                          ("basis", BASIS)]),
            region=region,
            year=int(year),
            source_line=line,
        ))
    if set(AGGREGATES.values()) - set(regions):
        raise FactorFileError(f"no {' or '.join(sorted(AGGREGATES))} aggregate", path)
    parse_unit(f"{GAS_UNITS[0][1]}/{UNIT}")
    return file_sha256(data), records


def load_ember(path: str | Path, id: str, edition: str = "CO2.js data update of 2025-08-03",
               published: datetime.date | None = datetime.date(2025, 8, 3)
               ) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Load the file as a factor-set edition (g CO2e per kWh, each record of its own year)."""
    sha256, records = read_ember(path)
    return PUBLICATION.edition(id, edition, published, path, sha256, None), records
