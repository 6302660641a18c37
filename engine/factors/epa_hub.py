"""US EPA GHG Emission Factors Hub, read from the CSV dump of its single published sheet.

The sheet is a sequence of tables, each starting at a ``Table N`` cell and ending at its
``Source:`` note; ``hub_tables`` splits it into them, for this reader and for the eGRID reader
(engine/factors/egrid.py), which reads Table 6. Read here: Table 1 (stationary combustion, with heat content as gas
``energy`` in mmBtu), Tables 2-5 (mobile combustion), 7 (steam and heat), 8 and 10 (Scope 3
transport and travel) in kg CO2, g CH4, g N2O per unit; Table 9 (waste) in metric tons CO2e per
short ton. Not read: Table 6 (eGRID, lb per MWh: a numerator unit this edition cannot also
declare for CO2/CH4/N2O), Tables 11-12 (GWPs, not emission factors). Values are parsed exactly
as published; labels lose surrounding whitespace and trailing footnote letters ('TruckC').
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from ccf.dsl.units import parse_unit
from ccf.engine.factors.model import (
    FactorFileError,
    FactorRecord,
    FactorSetEdition,
    Publication,
    csv_rows,
    file_sha256,
    parse_decimal,
    read_file,
    read_text,
    sorted_attributes,
)

PUBLISHER = "US EPA"
TITLE = "Emission Factors for Greenhouse Gas Inventories (GHG Emission Factors Hub)"
LICENCE = "US Government work, public domain"
REGION = "US"
GAS_UNITS = (("CO2", "kgCO2"), ("CH4", "gCH4"), ("N2O", "gN2O"), ("CO2e", "tCO2e"), ("energy", "mmBtu"))
ATTRIBUTES = ("table", "table_title", "category", "fuel_type", "vehicle_type", "model_year", "material",
              "method", "item")
PUBLICATION = Publication(PUBLISHER, TITLE, LICENCE, REGION, GAS_UNITS, ATTRIBUTES)
TABLES_READ = ("1", "2", "3", "4", "5", "7", "8", "9", "10")
TABLES_NOT_READ = MappingProxyType({
    "6": "eGRID factors are lb per MWh; this edition's CO2/CH4/N2O numerators are kg/g",
    "11": "GWP table, not emission factors",
    "12": "GWP table for refrigerant blends, not emission factors",
})

# Published per-unit words -> ccf units
DENOMINATORS = MappingProxyType({
    "mmBtu": "mmBtu",
    "short ton": "short_ton",
    "scf": "scf",
    "gallon": "gal_US",
    "vehicle-mile": "vehicle.mile",
    "passenger-mile": "passenger.mile",
    "short ton-mile": "short_ton.mile",
})
_NUMERATORS = {gas: unit for gas, unit in GAS_UNITS}
_MEASURE = re.compile(r"(?:\w+ Factor )?\(?(kg|g|mmBtu)(?: (CO2|CH4|N2O))? (?:per|/) ([^)]+?)\)?")
_FOOTNOTE = re.compile(r"(?<=[a-z)])\s?[A-E]$")
_KEY_ATTRIBUTES = {"Fuel Type": "fuel_type", "Vehicle Type": "vehicle_type", "Model Year": "model_year",
                   "Material": "material", "": "item"}


@dataclass(frozen=True)
class Measure:
    """A value column: its gas and the ccf unit of its denominator (None: from a Units column)."""

    gas: str
    unit: str | None


@dataclass(frozen=True)
class EpaHubFile:
    """Everything read from the Hub sheet, including the cells skipped as 'NA'."""

    sha256: str
    records: tuple[FactorRecord, ...]
    not_applicable: tuple[tuple[int, str], ...]  # (line, factor_id) of published 'NA' cells
    tables: tuple[str, ...]  # numbers of the tables found in the sheet


@dataclass
class HubTable:
    """One table of the Hub sheet: its number ('6'), title and rows (line, cells from column C on)."""

    number: str
    title: str
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def _clean(text: str) -> str:
    """A label with its whitespace collapsed and any trailing footnote letter removed."""
    return _FOOTNOTE.sub("", " ".join(text.split()))


def _measure(text: str, path: Path, line: int) -> Measure | None:
    """The gas and denominator a column header names, or None if it names no measure."""
    m = _MEASURE.fullmatch(" ".join(text.split()))
    if not m:
        return None
    numerator, gas, per = m.group(1), m.group(2) or "energy", m.group(3)
    if _NUMERATORS[gas] != numerator + ("" if gas == "energy" else gas):
        raise FactorFileError(f"'{text}': expected {gas} in {_NUMERATORS[gas]}", path, line)
    if per == "unit":
        return Measure(gas, None)
    if per not in DENOMINATORS:
        raise FactorFileError(f"'{text}': unknown per-unit '{per}'", path, line)
    return Measure(gas, DENOMINATORS[per])


def hub_tables(text: str) -> list[HubTable]:
    """The sheet's tables, each with its rows (from column C on) up to its 'Source' note."""
    tables: list[HubTable] = []
    ended = True
    for line, row in csv_rows(text):
        cells = [c.strip() for c in row[2:]] if len(row) > 2 else []
        if len(row) > 1 and re.fullmatch(r"Table \d+", row[1].strip()):
            tables.append(HubTable(row[1].split()[1], _clean(cells[0] if cells else "")))
            ended = False
        elif tables and not ended:
            if cells and cells[0].startswith("Source"):
                ended = True
            elif any(cells):
                tables[-1].rows.append((line, cells))
    return tables


def _factor_id(table: HubTable, keys: dict[str, str], gas: str, unit: str) -> str:
    """'<table>:<labels joined by />:<gas>/<unit>', e.g. '1:Natural Gas/Natural Gas:CO2/mmBtu'."""
    return f"{table.number}:{'/'.join(v for v in keys.values() if v)}:{gas}/{unit}"


def _record(table: HubTable, keys: dict[str, str], measure: Measure, unit: str, value: Decimal,
            line: int) -> FactorRecord:
    """One factor value of a table row."""
    return FactorRecord(
        factor_id=_factor_id(table, keys, measure.gas, unit),
        name=" > ".join([table.title, *(v for v in keys.values() if v)]),
        unit=unit,
        gas=measure.gas,
        value=value,
        attributes=sorted_attributes([("table", table.number), ("table_title", table.title), *keys.items()]),
        region=None,
        year=None,
        source_line=line,
    )


def _value(text: str, where: str, path: Path, line: int) -> Decimal | None:
    """A published value, None for a blank cell; anything else is an error."""
    if not text:
        return None
    value = parse_decimal(text)
    if value is None:
        raise FactorFileError(f"{where}: '{text}' is not a number", path, line)
    return value


def _table1(table: HubTable, path: Path) -> list[FactorRecord]:
    """Stationary combustion: category rows, unit rows that set the columns, fuel rows."""
    records: list[FactorRecord] = []
    measures: dict[int, Measure] = {}
    category = ""
    if table.rows[0][1][0] != "Fuel Type":
        raise FactorFileError("Table 1 header 'Fuel Type' not found", path, table.rows[0][0])
    for line, cells in table.rows[1:]:  # rows[0] names the columns; unit rows below give their units
        if not cells[0] and cells[1:] and cells[1]:
            measures = {i: m for i, c in enumerate(cells) if c and (m := _measure(c, path, line))}
            if any(m.unit is None for m in measures.values()):
                raise FactorFileError("Table 1 unit row without a per-unit", path, line)
        elif cells[0] and not any(cells[1:]):
            category = _clean(cells[0])
        else:
            keys = {"category": category, "fuel_type": _clean(cells[0])}
            for i, m in measures.items():
                value = _value(cells[i] if i < len(cells) else "", keys["fuel_type"], path, line)
                if value is not None:
                    records.append(_record(table, keys, m, str(m.unit), value, line))
    return records


def _carry(keys: list[str], previous: list[str]) -> list[str]:
    """Key cells with blanks left of the first given one taken from the previous row."""
    first = next((i for i, k in enumerate(keys) if k), len(keys))
    return [previous[i] if i < first and previous else k for i, k in enumerate(keys)]


def _keyed_rows(table: HubTable, path: Path) -> tuple[list[str], dict[int, Measure], int | None,
                                                     list[tuple[int, list[str], list[str]]]]:
    """Key column names, measure columns, the Units column and (line, keys, cells) per data row."""
    start = next((i for i, (_, c) in enumerate(table.rows) if sum(1 for x in c if x) > 1), None)
    if start is None:
        raise FactorFileError(f"Table {table.number}: no header row", path)
    (hline, header), body = table.rows[start], table.rows[start + 1:]
    measures = {i: m for i, c in enumerate(header) if c and (m := _measure(c, path, hline))}
    if not measures:
        raise FactorFileError(f"Table {table.number}: no value columns in its header", path, hline)
    units_col = next((i for i, c in enumerate(header) if c in ("Unit", "Units")), None)
    n_keys = min(measures)
    names = [_KEY_ATTRIBUTES.get(h, h) for h in header[:n_keys]]
    rows: list[tuple[int, list[str], list[str]]] = []
    previous: list[str] = []
    for line, cells in body:
        keys = _carry([_clean(c) for c in cells[:n_keys]], previous)
        if keys and keys[0].startswith("(") and previous:  # a label continued on the next line
            merged = f"{previous[0]} {keys[0]}"
            rows = [(ln, [merged if i == 0 and k == previous[0] else k for i, k in enumerate(ks)], cs)
                    for ln, ks, cs in rows]
            keys[0] = merged
        rows.append((line, keys, cells))
        previous = keys
    return names, measures, units_col, rows


def _keyed_table(table: HubTable, path: Path) -> list[FactorRecord]:
    """A table of key columns (carried down when blank) and kg/g per-unit value columns."""
    names, measures, units_col, rows = _keyed_rows(table, path)
    records: list[FactorRecord] = []
    for line, keys, cells in rows:
        key_map = dict(zip(names, keys, strict=False))
        for i, m in measures.items():
            unit = m.unit or DENOMINATORS.get(cells[units_col] if units_col is not None else "", "")
            if not unit:
                raise FactorFileError(f"no per-unit for column {i + 3}", path, line)
            value = _value(cells[i] if i < len(cells) else "", "/".join(keys), path, line)
            if value is not None:
                records.append(_record(table, key_map, m, unit, value, line))
    return records


def _waste_table(table: HubTable, path: Path, na: list[tuple[int, str]]) -> list[FactorRecord]:
    """Table 9: metric tons CO2e per short ton of material, one column per disposal method."""
    if not any("Metric Tons CO2e / Short Ton Material" in c for _, cells in table.rows for c in cells):
        raise FactorFileError("Table 9 is no longer in metric tons CO2e per short ton", path)
    start = next((i for i, (_, c) in enumerate(table.rows) if c[0] == "Material"), None)
    if start is None:
        raise FactorFileError("Table 9 header 'Material' not found", path, table.rows[0][0])
    header, body = table.rows[start][1], table.rows[start + 1:]
    methods = {i: _clean(h) for i, h in enumerate(header) if i and h}
    measure = Measure("CO2e", "short_ton")
    records: list[FactorRecord] = []
    for line, cells in body:
        for i, method in methods.items():
            keys = {"material": _clean(cells[0]), "method": method}
            text = cells[i] if i < len(cells) else ""
            if text == "NA":
                na.append((line, _factor_id(table, keys, "CO2e", "short_ton")))
            elif (value := _value(text, keys["material"], path, line)) is not None:
                records.append(_record(table, keys, measure, "short_ton", value, line))
    return records


def read_epa_hub(path: str | Path) -> EpaHubFile:
    """Read the Hub sheet's emission-factor tables; 'NA' cells are skipped and listed."""
    path = Path(path)
    data = read_file(path)
    tables = hub_tables(read_text(data, path))
    found = {t.number: t for t in tables}
    missing = [n for n in TABLES_READ if n not in found]
    if missing:
        raise FactorFileError(f"table(s) not found: {', '.join(missing)}", path)
    records: list[FactorRecord] = []
    na: list[tuple[int, str]] = []
    for number in TABLES_READ:
        table = found[number]
        if not table.rows:
            raise FactorFileError(f"Table {number} has no rows", path)
        if number == "1":
            records += _table1(table, path)
        elif number == "9":
            records += _waste_table(table, path, na)
        else:
            records += _keyed_table(table, path)
    _check_unique(records, path)
    return EpaHubFile(file_sha256(data), tuple(records), tuple(na), tuple(t.number for t in tables))


def _check_unique(records: list[FactorRecord], path: Path) -> None:
    """Raise if two records share a factor_id or a unit does not parse."""
    seen: dict[str, int] = {}
    for r in records:
        if r.factor_id in seen:
            raise FactorFileError(f"duplicate factor '{r.factor_id}' (also line {seen[r.factor_id]})", path,
                                  r.source_line)
        seen[r.factor_id] = r.source_line
        parse_unit(r.unit)


def load_epa_hub(path: str | Path, id: str = "epa-hub-2025", edition: str = "2025",
                 published: datetime.date | None = datetime.date(2025, 1, 15)
                 ) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Load the Hub sheet as one factor-set edition and its records."""
    read = read_epa_hub(path)
    meta = PUBLICATION.edition(id, edition, published, path, read.sha256, int(edition[:4]) if edition[:4].isdigit() else None)
    return meta, list(read.records)
