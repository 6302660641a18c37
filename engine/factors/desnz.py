"""UK DESNZ / Defra GHG conversion factors, read from the published flat-format CSV.

Each row is one value: ``ID, Scope, Level 1-4, Column Text, UOM, GHG/Unit, GHG Conversion
Factor <year>``. A factor has a total ``kg CO2e`` row and, for most, ``kg CO2e of CO2/CH4/N2O per
unit`` rows; the SECR rows give energy use (``kWh (Net CV)``, ``kWh (net)``) per unit of
activity and are kept as gas ``energy`` (numerator kWh, so they can never be summed as
emissions). Rows with a blank value are skipped and counted; labels are stripped of surrounding
whitespace, values are parsed exactly as published.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass
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

log = logging.getLogger(__name__)

PUBLISHER = "UK DESNZ / Defra"
TITLE = "UK Government GHG Conversion Factors for Company Reporting (flat format)"
LICENCE = "Open Government Licence v3.0"
REGION = "GB"

# DESNZ UOM -> (ccf unit of the denominator, cv_basis attribute or '')
UOM_UNITS = MappingProxyType({
    "kg": ("kg", ""),
    "tonnes": ("t", ""),
    "litres": ("L", ""),
    "million litres": ("megalitre", ""),
    "cubic metres": ("m3", ""),
    "kWh": ("kWh", ""),
    "kWh (Gross CV)": ("kWh", "Gross CV"),
    "kWh (Net CV)": ("kWh", "Net CV"),
    "GJ": ("GJ", ""),
    "km": ("km", ""),
    "miles": ("mile", ""),
    "passenger.km": ("passenger.km", ""),
    "tonne.km": ("t.km", ""),
    "Room per night": ("room.night", ""),
    "per FTE Working Hour": ("FTE.h", ""),
})

# DESNZ GHG/Unit -> gas of the value
GHG_UNIT_GASES = MappingProxyType({
    "kg CO2e": "CO2e",
    "kg CO2e of CO2 per unit": "CO2",
    "kg CO2e of CH4 per unit": "CH4",
    "kg CO2e of N2O per unit": "N2O",
    "kWh (Net CV)": "energy",
    "kWh (net)": "energy",
})

# Per-gas rows are already CO2e of that gas; SECR rows are kWh of energy.
GAS_UNITS = (("CO2e", "kgCO2e"), ("CO2", "kgCO2e"), ("CH4", "kgCO2e"), ("N2O", "kgCO2e"), ("energy", "kWh"))

LABEL_COLUMNS = (
    ("scope", "Scope"),
    ("level1", "Level 1"),
    ("level2", "Level 2"),
    ("level3", "Level 3"),
    ("level4", "Level 4"),
    ("column_text", "Column Text"),
)
ATTRIBUTES = tuple(k for k, _ in LABEL_COLUMNS) + ("uom", "ghg_unit", "cv_basis")
PUBLICATION = Publication(PUBLISHER, TITLE, LICENCE, REGION, GAS_UNITS, ATTRIBUTES)
REQUIRED_COLUMNS = ("ID",) + tuple(c for _, c in LABEL_COLUMNS) + ("UOM", "GHG/Unit")
_VALUE_COLUMN = re.compile(r"GHG Conversion Factor (\d{4})")


@dataclass(frozen=True)
class DesnzFile:
    """Everything read from one DESNZ flat file, including what was skipped and why."""

    year: int
    sha256: str
    records: tuple[FactorRecord, ...]
    blank_value_lines: tuple[int, ...]
    non_numeric: tuple[tuple[int, str], ...]  # (line, value text)
    unmapped_uoms: tuple[tuple[str, int], ...]  # (UOM, rows skipped)
    unmapped_ghg_units: tuple[tuple[str, int], ...]  # (GHG/Unit, rows skipped)


@dataclass
class _Skips:
    blank: list[int]
    non_numeric: list[tuple[int, str]]
    uoms: dict[str, int]
    ghg_units: dict[str, int]


def _columns(header: list[str], path: Path) -> tuple[dict[str, int], int]:
    """Column positions by name and the factor year named by the value column."""
    names = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    years = [(i, m) for i, n in enumerate(names) if (m := _VALUE_COLUMN.fullmatch(n))]
    if missing:
        raise FactorFileError(f"missing DESNZ column(s): {', '.join(missing)}", path, 1)
    if len(years) != 1:
        raise FactorFileError("expected one 'GHG Conversion Factor <year>' column", path, 1)
    index = {n: i for i, n in enumerate(names)}
    index["value"] = years[0][0]
    return index, int(years[0][1].group(1))


def _name(labels: dict[str, str]) -> str:
    """The human path: non-empty Level 1-4 and Column Text joined by ' > '."""
    return " > ".join(v for k, v in labels.items() if k != "scope" and v)


def _record(line: int, cells: dict[str, str], year: int, skips: _Skips) -> FactorRecord | None:
    """One row as a record, or None after noting why it was skipped."""
    uom, ghg_unit, text = cells["UOM"], cells["GHG/Unit"], cells["value"]
    if uom not in UOM_UNITS:
        skips.uoms[uom] = skips.uoms.get(uom, 0) + 1
        return None
    if ghg_unit not in GHG_UNIT_GASES:
        skips.ghg_units[ghg_unit] = skips.ghg_units.get(ghg_unit, 0) + 1
        return None
    if not text:
        skips.blank.append(line)
        return None
    value = parse_decimal(text)
    if value is None:
        skips.non_numeric.append((line, text))
        return None
    unit, cv_basis = UOM_UNITS[uom]
    labels = {k: cells[c] for k, c in LABEL_COLUMNS}
    extra = {"uom": uom, "ghg_unit": ghg_unit, "cv_basis": cv_basis}
    return FactorRecord(
        factor_id=cells["ID"],
        name=_name(labels),
        unit=unit,
        gas=GHG_UNIT_GASES[ghg_unit],
        value=value,
        attributes=sorted_attributes({**labels, **extra}.items()),
        region=None,
        year=year,
        source_line=line,
    )


def _cells(line: int, row: list[str], index: dict[str, int], path: Path) -> dict[str, str]:
    """A data row's stripped cells by column name."""
    if len(row) <= max(index.values()):
        raise FactorFileError(f"row has {len(row)} cells, fewer than the header", path, line)
    return {name: row[i].strip() for name, i in index.items()}


def read_desnz(path: str | Path) -> DesnzFile:
    """Read a DESNZ flat CSV: its records and an account of every row it skipped."""
    path = Path(path)
    data = read_file(path)
    rows = csv_rows(read_text(data, path))
    try:
        _, header = next(rows)
    except StopIteration:
        raise FactorFileError("empty file", path) from None
    index, year = _columns(header, path)
    skips = _Skips([], [], {}, {})
    records: list[FactorRecord] = []
    seen: dict[str, int] = {}
    ended_at: int | None = None
    for line, row in rows:
        if ended_at is not None:
            raise FactorFileError(f"data after the END marker on line {ended_at}", path, line)
        cells = _cells(line, row, index, path)
        if not cells["ID"]:
            if cells["Scope"] != "END":
                raise FactorFileError("row without an ID", path, line)
            ended_at = line
            continue
        if cells["ID"] in seen:
            raise FactorFileError(f"duplicate ID '{cells['ID']}' (first on line {seen[cells['ID']]})", path, line)
        seen[cells["ID"]] = line
        if (record := _record(line, cells, year, skips)) is not None:
            records.append(record)
    return DesnzFile(
        year=year,
        sha256=file_sha256(data),
        records=tuple(records),
        blank_value_lines=tuple(skips.blank),
        non_numeric=tuple(skips.non_numeric),
        unmapped_uoms=tuple(sorted(skips.uoms.items())),
        unmapped_ghg_units=tuple(sorted(skips.ghg_units.items())),
    )


def check_units() -> None:
    """Raise if any mapped DESNZ UOM is not a valid ccf unit (a bug in UOM_UNITS)."""
    for unit, _ in UOM_UNITS.values():
        parse_unit(unit)


def load_desnz(
    path: str | Path, id: str, edition: str, published: datetime.date | None
) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Load a DESNZ flat CSV as one factor-set edition and its records."""
    check_units()
    read = read_desnz(path)
    skipped = len(read.blank_value_lines) + len(read.non_numeric)
    log.info("%s: %d records, %d rows without a numeric value skipped", id, len(read.records), skipped)
    for what, items in (("UOM", read.unmapped_uoms), ("GHG/Unit", read.unmapped_ghg_units)):
        for text, count in items:
            log.warning("%s: %d rows with unmapped %s %r skipped", id, count, what, text)
    meta = PUBLICATION.edition(id, edition, published, path, read.sha256, read.year)
    return meta, list(read.records)
