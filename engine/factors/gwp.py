"""100-year global warming potentials from openclimatedata/globalwarmingpotentials.

The file has '#' comment lines, then ``Species`` and one column per metric (``AR5GWP100``,
``AR6GWP20``, ...). Only the 100-year GWP columns are read; a blank cell means the assessment
gives no value for that species. CO2 is the reference gas and is not a row of the file: it is
added with GWP 1 in every set, by definition of the metric.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from ccf.engine.factors.model import FactorFileError, GwpRecord, csv_rows, parse_decimal, read_file, read_text

# Column name -> GWP set: the file names the sets (SAR, TAR, AR4, AR5, AR6, and AR5CCF, AR5 with
# climate-carbon feedbacks, kept apart from AR5); the checker accepts the ones it finds here.
_GWP100_COLUMN = re.compile(r"([A-Z][A-Z0-9]*)GWP100")
REFERENCE_GAS = "CO2"


def _gwp100_columns(header: list[str], path: Path) -> dict[int, str]:
    """Positions of the 100-year GWP columns, mapped to their set names."""
    if not header or header[0].strip() != "Species":
        raise FactorFileError("expected a 'Species' column first", path, 1)
    columns = {i: m.group(1) for i, h in enumerate(header) if (m := _GWP100_COLUMN.fullmatch(h.strip()))}
    if not columns:
        raise FactorFileError("no <set>GWP100 columns", path, 1)
    return columns


def _species_records(line: int, row: list[str], columns: dict[int, str], path: Path) -> list[GwpRecord]:
    """The GWP records of one species row; blank cells give none."""
    gas = row[0].strip()
    records = []
    for i, gwp_set in columns.items():
        text = row[i].strip() if i < len(row) else ""
        if not text:
            continue
        value = parse_decimal(text)
        if value is None:
            raise FactorFileError(f"{gas} {gwp_set}: '{text}' is not a number", path, line)
        records.append(GwpRecord(gwp_set, gas, value))
    return records


def load_gwp(path: str | Path) -> list[GwpRecord]:
    """All 100-year GWPs in the file, plus CO2 = 1 for each set, in file order."""
    path = Path(path)
    text = read_text(read_file(path), path)
    rows = [(line, row) for line, row in csv_rows(text) if not row[0].lstrip().startswith("#")]
    if not rows:
        raise FactorFileError("no header row", path)
    (_, header), body = rows[0], rows[1:]
    columns = _gwp100_columns(header, path)
    records = [GwpRecord(s, REFERENCE_GAS, Decimal(1)) for s in columns.values()]
    seen = {REFERENCE_GAS}
    for line, row in body:
        if row[0].strip() in seen:
            raise FactorFileError(f"species '{row[0].strip()}' appears twice", path, line)
        seen.add(row[0].strip())
        records.extend(_species_records(line, row, columns, path))
    return records
