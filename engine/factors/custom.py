"""An organisation's own emission factors, from a simple CSV, or from a CSV or XLSX file
checked against its set's declaration (``load_declared``, what ``ccf factors add`` installs).

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

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError, did_you_mean
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


# --- a file checked against its set's declaration (ccf factors add) -----------------------------

MAX_SHOWN = 20  # problems listed in one error; the count of the rest follows


class FactorFileProblems(CcfError):
    """Every problem found in a factor file, each positioned; nothing was installed."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_SHOWN] + ([f"… and {len(problems) - MAX_SHOWN} more"] if len(problems) > MAX_SHOWN else [])
        super().__init__(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}, nothing was installed:\n"
                         + "\n".join(f"  {p}" for p in shown))


def _cell_text(value: object) -> str:
    """An XLSX cell as text: a number as its shortest decimal text (Excel stores numbers in
    binary; the shortest text that is that number is what its author typed), blank as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def table_rows(path: Path, data: bytes) -> tuple[str, list[tuple[int, list[str]]]]:
    """The rows of a CSV or XLSX factor file with the number a person finds each by (CSV: its
    line; XLSX: its row on the first sheet), header first; and what that number is called."""
    if path.suffix.lower() == ".xlsx":
        import io

        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds for a file that is not a workbook
            raise FactorFileError(f"not an XLSX workbook ({type(e).__name__}: {e})", path) from None
        sheet = book.worksheets[0]
        rows = [(i, [_cell_text(v) for v in row]) for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)
                if any(v is not None and str(v).strip() for v in row)]
        book.close()
        return f"sheet '{sheet.title}', row", rows
    return "line", list(csv_rows(read_text(data, path)))


def load_declared(
    path: str | Path, declared: ir.FactorSet, edition: str, *, label: str | None = None,
    publisher: str | None = None, title: str | None = None, licence: str | None = None,
) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Read a CSV or XLSX file as edition ``edition`` of the declared set, checking every row
    against the declaration: its columns are the row columns (factor_id, name, unit, gas, value;
    region and year optional) and the declared attributes; each gas one the set declares (its
    value in the declared unit), each region and year among those declared. Every problem is
    reported, positioned (line or row, column); one problem and nothing is installed."""
    path = Path(path)
    declared_edition = declared.edition(edition)
    if declared_edition is None:
        raise CcfError(f"factor set {declared.id} declares no edition {edition!r}; "
                       + (did_you_mean(edition, [e.id for e in declared.editions]) or
                          "its editions: " + ", ".join(e.id for e in declared.editions))
                       + f" (add it under 'editions' in factor_sets/{declared.id}.yaml)")
    data = read_file(path)
    sha256 = file_sha256(data)
    if declared_edition.sha256 is not None and declared_edition.sha256 != sha256:
        raise FactorFileError(f"sha256 {sha256} is not the {declared_edition.sha256} that factor_sets/{declared.id}.yaml "
                              f"declares for {edition}", path)
    where, rows = table_rows(path, data)
    if not rows:
        raise FactorFileError("empty file: expected a header row", path, 1)
    problems: list[str] = []
    header_at, header = rows[0]
    names = [h.strip() for h in header]
    allowed = list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS) + list(declared.attributes)
    xlsx = where != "line"

    def at(n: int, column: int | None = None) -> str:
        col = "" if column is None else f", column {_column_letter(column) + ' ' if xlsx else ''}'{names[column]}'"
        return f"{where} {n}{col}"

    for i, n in enumerate(names):
        if not n:
            problems.append(f"{where} {header_at}: column {i + 1} has no name")
        elif names.count(n) > 1 and names.index(n) == i:
            problems.append(f"{where} {header_at}: column '{n}' appears more than once")
        elif n not in allowed:
            hint = did_you_mean(n, allowed)
            problems.append(f"{where} {header_at}: column '{n}' is neither a factor column nor an attribute factor_sets/"
                            f"{declared.id}.yaml declares" + (f"; {hint}" if hint else f" ({', '.join(declared.attributes)})"))
    missing = [c for c in [*REQUIRED_COLUMNS, *declared.attributes] if c not in names]
    if missing:
        problems.append(f"{where} {header_at}: missing column(s) {', '.join(missing)}")
    if problems:
        raise FactorFileProblems(path, problems)
    gas_units = dict(declared.gas_units)
    records: list[FactorRecord] = []
    seen: dict[str, int] = {}
    for n, row in rows[1:]:
        if len(row) > len(names) and any(c.strip() for c in row[len(names):]):
            problems.append(f"{at(n)}: {len(row)} cells, the header has {len(names)}")
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(names)}
        bad = len(problems)
        for c in REQUIRED_COLUMNS:
            if not cells[c]:
                problems.append(f"{at(n, names.index(c))}: empty")
        if cells["gas"] and cells["gas"] not in gas_units:
            problems.append(f"{at(n, names.index('gas'))}: '{cells['gas']}' is not a gas of {declared.id} "
                            f"(declared: {', '.join(gas_units)})")
        value = parse_decimal(cells["value"]) if cells["value"] else None
        if cells["value"] and value is None:
            problems.append(f"{at(n, names.index('value'))}: '{cells['value']}' is not a decimal number")
        if cells["unit"]:
            try:
                _unit(cells["unit"], path, n)
            except FactorFileError as e:
                problems.append(f"{at(n, names.index('unit'))}: {e.message}")
        region = cells.get("region") or None
        if region is not None and declared.regions and region not in declared.regions:
            problems.append(f"{at(n, names.index('region'))}: region '{region}' is not one factor_sets/{declared.id}.yaml "
                            f"declares" + (f"; {h}" if (h := did_you_mean(region, declared.regions)) else ""))
        year = None
        if cells.get("year"):
            try:
                year = _year(cells["year"], path, n)
            except FactorFileError as e:
                problems.append(f"{at(n, names.index('year'))}: {e.message}")
            if year is not None and declared.years and year not in declared.years:
                problems.append(f"{at(n, names.index('year'))}: year {year} is not one factor_sets/{declared.id}.yaml "
                                f"declares ({', '.join(map(str, declared.years))})")
        if cells["factor_id"] in seen:
            problems.append(f"{at(n, names.index('factor_id'))}: '{cells['factor_id']}' is also the factor_id on "
                            f"{where} {seen[cells['factor_id']]}")
        seen.setdefault(cells["factor_id"], n)
        if len(problems) > bad or value is None:
            continue
        records.append(FactorRecord(
            cells["factor_id"], cells["name"], cells["unit"], cells["gas"], value,
            sorted_attributes((a, cells[a]) for a in declared.attributes), region, year, n,
        ))
    if problems:
        raise FactorFileProblems(path, problems)
    publication = Publication(publisher or declared.publisher, title or declared.title, licence or declared.licence,
                              None, tuple(gas_units.items()), tuple(declared.attributes))
    return publication.edition(edition, label or edition, None, path, sha256, None), records
