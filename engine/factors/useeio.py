"""US EPA Supply Chain GHG Emission Factors (USEEIO), kg CO2e per USD by 2017 NAICS-6 code.

Each published row gives a factor without margins and one with margins (purchaser price);
each becomes a record, ``<naics>/without`` and ``<naics>/with``, told apart by the attribute
``margins``. The published margins column is their (rounded) difference and is not a factor.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

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
TITLE = "Supply Chain Greenhouse Gas Emission Factors for US Industries and Commodities (by NAICS-6)"
LICENCE = "US Government work, public domain"
REGION = "US"
GAS_UNITS = (("CO2e", "kgCO2e"),)
ATTRIBUTES = ("naics", "naics_title", "ghg", "margins", "price_basis", "currency_year", "useeio_code")
PUBLICATION = Publication(PUBLISHER, TITLE, LICENCE, REGION, GAS_UNITS, ATTRIBUTES)

CODE, TITLE_COL, GHG, UNIT = "2017 NAICS Code", "2017 NAICS Title", "GHG", "Unit"
WITHOUT = "Supply Chain Emission Factors without Margins"
WITH = "Supply Chain Emission Factors with Margins"
USEEIO_CODE = "Reference USEEIO Code"
REQUIRED_COLUMNS = (CODE, TITLE_COL, GHG, UNIT, WITHOUT, WITH, USEEIO_CODE)
_UNIT = re.compile(r"kg CO2e/(\d{4}) USD, (purchaser|producer) price")


def _header(row: list[str], path: Path) -> dict[str, int]:
    """Column positions by name, with every required column present."""
    index = {h.strip(): i for i, h in enumerate(row)}
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if missing:
        raise FactorFileError(f"missing column(s): {', '.join(missing)}", path, 1)
    return index


def _row_records(line: int, cells: dict[str, str], path: Path) -> list[FactorRecord]:
    """The without- and with-margins records of one NAICS row."""
    unit = _UNIT.fullmatch(cells[UNIT])
    if not unit:
        raise FactorFileError(f"unit '{cells[UNIT]}' is not 'kg CO2e/<year> USD, <basis> price'", path, line)
    if not re.fullmatch(r"\d{6}", cells[CODE]):
        raise FactorFileError(f"NAICS code '{cells[CODE]}' is not six digits", path, line)
    labels = {"naics": cells[CODE], "naics_title": cells[TITLE_COL], "ghg": cells[GHG],
              "price_basis": f"{unit.group(2)} price", "currency_year": unit.group(1),
              "useeio_code": cells[USEEIO_CODE]}
    records = []
    for margins, column in (("without", WITHOUT), ("with", WITH)):
        value = parse_decimal(cells[column])
        if value is None:
            raise FactorFileError(f"{column}: '{cells[column]}' is not a number", path, line)
        records.append(FactorRecord(
            factor_id=f"{cells[CODE]}/{margins}",
            name=cells[TITLE_COL],
            unit="USD",
            gas="CO2e",
            value=value,
            attributes=sorted_attributes({**labels, "margins": margins}.items()),
            region=None,
            year=int(unit.group(1)),
            source_line=line,
        ))
    return records


def read_useeio(path: str | Path) -> tuple[str, list[FactorRecord]]:
    """The sha256 and records of a USEEIO supply-chain factor CSV."""
    path = Path(path)
    data = read_file(path)
    rows = csv_rows(read_text(data, path))
    first = next(rows, None)
    if first is None:
        raise FactorFileError("empty file", path)
    index = _header(first[1], path)
    records: list[FactorRecord] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        cells = {name: row[i].strip() if i < len(row) else "" for name, i in index.items()}
        if cells[CODE] in seen:
            raise FactorFileError(f"duplicate NAICS code {cells[CODE]} (first on line {seen[cells[CODE]]})", path, line)
        seen[cells[CODE]] = line
        records += _row_records(line, cells, path)
    return file_sha256(data), records


def load_useeio(path: str | Path, id: str = "useeio-1.3", edition: str = "v1.3.0 (USEEIO v2.2)",
                published: datetime.date | None = None) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Load the USEEIO supply-chain factors as one factor-set edition and its records."""
    sha256, records = read_useeio(path)
    years = {r.year for r in records}
    meta = PUBLICATION.edition(id, edition, published, path, sha256, years.pop() if len(years) == 1 else None)
    return meta, records
