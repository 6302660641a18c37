"""An organisation's own emission factors, from a simple CSV.

Format (UTF-8, header row first, one factor value per row)::

    factor_id,name,unit,gas,value[,region][,year][,<any other column>...]
    grid-2024,Site grid electricity,kWh,CO2e,0.2071,GB,2024,supplier-mix

- ``factor_id``: unique in the file.
- ``name``: human-readable name.
- ``unit``: the per-unit (denominator) of the value, a ccf unit such as ``kWh``, ``t.km``, ``GBP``.
- ``gas``: ``CO2e``, ``CO2``, ``CH4`` or ``N2O``; the value is kg of that gas per ``unit``.
- ``value``: a plain decimal numeral (``0.2071``, ``1e-5``), read exactly.
- ``region``, ``year`` (optional): a blank cell gives None, meaning the edition's default.
- Every other column becomes an attribute of the factor (blank cells are left out).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from types import MappingProxyType

from ccf.dsl.diagnostics import did_you_mean
from ccf.dsl.units import UnitError, parse_unit, unit_names
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

REQUIRED_COLUMNS = ("factor_id", "name", "unit", "gas", "value")
OPTIONAL_COLUMNS = ("region", "year")
GAS_UNITS = MappingProxyType({"CO2e": "kgCO2e", "CO2": "kgCO2", "CH4": "kgCH4", "N2O": "kgN2O"})


def _header(row: list[str], path: Path) -> list[str]:
    """Validated column names: all required present, none repeated or blank."""
    names = [h.strip() for h in row]
    if "" in names:
        raise FactorFileError(f"column {names.index('') + 1} has no name", path, 1)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FactorFileError(f"repeated column(s): {', '.join(repeated)}", path, 1)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise FactorFileError(f"missing column(s): {', '.join(missing)}", path, 1)
    return names


def _unit(text: str, path: Path, line: int) -> str:
    """The unit text, checked to be a known ccf unit without a gas in it."""
    try:
        unit = parse_unit(text)
    except UnitError as e:
        message = str(e) if e.name == text else f"unit '{text}': {e}"
        hint = did_you_mean(e.name, unit_names()) if e.name else None
        raise FactorFileError(message + (f"; {hint}" if hint else ""), path, line) from None
    if any(base in GAS_UNITS for base, _ in unit.dimension):
        raise FactorFileError(f"unit '{text}' names a gas; give only the per-unit, e.g. 'kWh'", path, line)
    return text


def _year(text: str, path: Path, line: int) -> int | None:
    """The row's year, or None when blank."""
    if not text:
        return None
    if not text.isdigit() or len(text) != 4:
        raise FactorFileError(f"year '{text}' is not a four-digit year", path, line)
    return int(text)


def _record(line: int, cells: dict[str, str], path: Path) -> FactorRecord:
    """One validated row as a factor record."""
    for column in REQUIRED_COLUMNS:
        if not cells[column]:
            raise FactorFileError(f"'{column}' is empty", path, line)
    if cells["gas"] not in GAS_UNITS:
        raise FactorFileError(f"unknown gas '{cells['gas']}' (use one of {', '.join(GAS_UNITS)})", path, line)
    value = parse_decimal(cells["value"])
    if value is None:
        raise FactorFileError(f"value '{cells['value']}' is not a decimal number", path, line)
    extras = ((k, v) for k, v in cells.items() if k not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    return FactorRecord(
        factor_id=cells["factor_id"],
        name=cells["name"],
        unit=_unit(cells["unit"], path, line),
        gas=cells["gas"],
        value=value,
        attributes=sorted_attributes(extras),
        region=cells.get("region") or None,
        year=_year(cells.get("year", ""), path, line),
        source_line=line,
    )


def parse_custom(data: bytes, path: str | Path) -> tuple[list[str], list[FactorRecord]]:
    """The column names and validated records of a custom factor CSV's bytes."""
    path = Path(path)
    rows = csv_rows(read_text(data, path))
    first = next(rows, None)
    if first is None:
        raise FactorFileError("empty file: expected a header row", path, 1)
    names = _header(first[1], path)
    records: list[FactorRecord] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if len(row) != len(names):
            raise FactorFileError(f"row has {len(row)} cells, header has {len(names)}", path, line)
        record = _record(line, {n: c.strip() for n, c in zip(names, row, strict=True)}, path)
        if record.factor_id in seen:
            raise FactorFileError(f"duplicate factor_id '{record.factor_id}' (first on line {seen[record.factor_id]})",
                                  path, line)
        seen[record.factor_id] = line
        records.append(record)
    return names, records


def load_custom(
    path: str | Path,
    id: str,
    edition: str,
    *,
    publisher: str,
    title: str | None = None,
    licence: str = "proprietary",
    published: datetime.date | None = None,
    region: str | None = None,
    year: int | None = None,
) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Load an organisation's own factor CSV; region and year are the edition's defaults."""
    path = Path(path)
    data = read_file(path)
    names, records = parse_custom(data, path)
    attributes = tuple(sorted(n for n in names if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS))
    publication = Publication(publisher, title or path.stem, licence, region, tuple(GAS_UNITS.items()), attributes)
    meta = publication.edition(id, edition, published, path, file_sha256(data), year)
    return meta, records
