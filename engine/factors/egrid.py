"""US EPA eGRID2023 subregion output emission rates, as republished in Table 6 of the EPA GHG
Emission Factors Hub 2025 (``factors/epa_ghg_emission_factors_hub_2025.csv``).

Table 6 gives, for each of the 27 eGRID subregions and the US average, lb CO2, lb CH4 and lb N2O
per MWh of total output and of non-baseload output, plus a grid gross loss %. Both emission
rates are read, as distinct factors told apart by the attribute ``basis`` ('total output' or
'non-baseload'); the EPA notes that only total output rates are for inventories (non-baseload
rates estimate the effect of changing demand). They are the edition egrid-2023.

Grid gross loss is a transmission and distribution loss rate, not an emission factor: it is its
own edition, egrid-losses-2023 (``load_egrid_losses``), one record per subregion with gas
``energy`` in MWh per MWh: MWh lost in the grid per MWh put into it (eGRID: estimated losses /
(total disposition - exports - direct use)). The column is headed '%' but prints the fraction
(0.042 for 4.2 %, eGRID's rounding to three decimals); PRMS publishes none, and has no record.

Each record's ``region`` is its subregion acronym (e.g. 'SRSO'); the 'US Average' row has region
'US'. Values are parsed exactly as published.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from ccf.dsl.units import parse_unit
from ccf.engine.factors.epa_hub import hub_tables
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

PUBLISHER = "US EPA"
TITLE = "eGRID2023 subregion output emission rates (via EPA GHG Emission Factors Hub 2025, Table 6)"
LICENCE = "US Government work, public domain"
REGION = "US"
YEAR = 2023
UNIT = "MWh"
GAS_UNITS = (("CO2", "lbCO2"), ("CH4", "lbCH4"), ("N2O", "lbN2O"))
ATTRIBUTES = ("subregion", "subregion_name", "basis")
PUBLICATION = Publication(PUBLISHER, TITLE, LICENCE, REGION, GAS_UNITS, ATTRIBUTES)
TABLE = "6"
TOTAL = "total output"
NON_BASELOAD = "non-baseload"
US_AVERAGE = "US Average"
GROSS_LOSS = "grid gross loss"
LOSS_GAS_UNITS = (("energy", "MWh"),)
LOSS_TITLE = "eGRID2023 grid gross loss (via EPA GHG Emission Factors Hub 2025, Table 6)"
LOSS_PUBLICATION = Publication(PUBLISHER, LOSS_TITLE, LICENCE, REGION, LOSS_GAS_UNITS, ATTRIBUTES)
_LOSS_COLUMN = 8

# The layout the reader expects: (column index from column C, header text) of each kind of row.
_GROUPS = {2: "Total Output Emission Factors", 5: "Non-Baseload Emission Factors"}
_HEADER = ("eGRID Subregion Acronym", "eGRID Subregion Name", "CO2 Factor", "CH4 Factor", "N2O Factor",
           "CO2 Factor", "CH4 Factor", "N2O Factor", "Grid Gross Loss (%)")
_UNITS = {2: "(lb CO2 / MWh)", 3: "(lb CH4 / MWh)", 4: "(lb N2O / MWh)",
          5: "(lb CO2 / MWh)", 6: "(lb CH4 / MWh)", 7: "(lb N2O / MWh)"}
# value column -> (basis, gas)
_COLUMNS = {2: (TOTAL, "CO2"), 3: (TOTAL, "CH4"), 4: (TOTAL, "N2O"),
            5: (NON_BASELOAD, "CO2"), 6: (NON_BASELOAD, "CH4"), 7: (NON_BASELOAD, "N2O")}
_ACRONYM = re.compile(r"[A-Z]{4}")


@dataclass(frozen=True)
class Subregion:
    """One row of Table 6: a region code ('US' for the US average) and its published name."""

    region: str
    acronym: str  # as published: 'SRSO', or 'US Average'
    name: str
    line: int


@dataclass(frozen=True)
class EgridFile:
    sha256: str
    subregions: tuple[Subregion, ...]  # the 27 subregions, then the US average
    records: tuple[FactorRecord, ...]  # emission rates
    losses: tuple[FactorRecord, ...]  # grid gross loss, MWh lost per MWh put into the grid


def _expect(cells: list[str], expected: dict[int, str], what: str, path: Path, line: int) -> None:
    for i, text in expected.items():
        got = " ".join(cells[i].split()) if i < len(cells) else ""
        if got != text:
            raise FactorFileError(f"Table {TABLE} {what}: expected '{text}' in column {i + 3}, found '{got}'",
                                  path, line)


def read_egrid(path: str | Path) -> EgridFile:
    """Read Table 6 of the Hub sheet: both emission-rate groups of every subregion row."""
    path = Path(path)
    data = read_file(path)
    table = next((t for t in hub_tables(read_text(data, path)) if t.number == TABLE), None)
    if table is None:
        raise FactorFileError(f"Table {TABLE} not found", path)
    if len(table.rows) < 4:
        raise FactorFileError(f"Table {TABLE} has no data rows", path)
    (gline, groups), (hline, header), (uline, units), *body = table.rows
    _expect(groups, _GROUPS, "group header", path, gline)
    _expect(header, dict(enumerate(_HEADER)), "header", path, hline)
    _expect(units, _UNITS, "units row", path, uline)

    subregions: list[Subregion] = []
    records: list[FactorRecord] = []
    losses: list[FactorRecord] = []
    for line, cells in body:
        acronym, name = " ".join(cells[0].split()), " ".join(cells[1].split())
        if acronym == US_AVERAGE:
            region = REGION
        elif _ACRONYM.fullmatch(acronym):
            region = acronym
        else:
            raise FactorFileError(f"'{acronym}' is not an eGRID subregion acronym", path, line)
        if not name:
            raise FactorFileError(f"subregion {acronym} has no name", path, line)
        subregions.append(Subregion(region, acronym, name, line))
        for i, (basis, gas) in _COLUMNS.items():
            text = cells[i] if i < len(cells) else ""
            value = parse_decimal(text)
            if value is None:
                raise FactorFileError(f"{acronym} {basis} {gas}: '{text}' is not a number", path, line)
            records.append(FactorRecord(
                factor_id=f"{region}:{basis}:{gas}/{UNIT}",
                name=f"Electricity > {name} ({region}) > {basis}",
                unit=UNIT,
                gas=gas,
                value=value,
                attributes=sorted_attributes([("subregion", region), ("subregion_name", name), ("basis", basis)]),
                region=region,
                year=YEAR,
                source_line=line,
            ))
        if loss := _loss(cells, region, name, acronym, path, line):
            losses.append(loss)
    if not subregions or subregions[-1].acronym != US_AVERAGE:
        raise FactorFileError(f"Table {TABLE}: the last row is not '{US_AVERAGE}'", path)
    _check(subregions, records, path)
    return EgridFile(file_sha256(data), tuple(subregions), tuple(records), tuple(losses))


def _loss(cells: list[str], region: str, name: str, acronym: str, path: Path, line: int) -> FactorRecord | None:
    """A subregion's grid gross loss (a fraction, though headed %), None where none is published."""
    text = cells[_LOSS_COLUMN] if _LOSS_COLUMN < len(cells) else ""
    if not text:
        return None
    value = parse_decimal(text)
    if value is None or not 0 <= value < 1:
        raise FactorFileError(f"{acronym} grid gross loss: '{text}' is not a fraction of 1", path, line)
    return FactorRecord(
        factor_id=f"{region}:{GROSS_LOSS}:energy/{UNIT}",
        name=f"Electricity > {name} ({region}) > {GROSS_LOSS}",
        unit=UNIT,
        gas="energy",
        value=value,
        attributes=sorted_attributes([("subregion", region), ("subregion_name", name), ("basis", GROSS_LOSS)]),
        region=region,
        year=YEAR,
        source_line=line,
    )


def _check(subregions: list[Subregion], records: list[FactorRecord], path: Path) -> None:
    """Raise on a repeated subregion; every unit must parse (records are unique per subregion)."""
    seen: dict[str, int] = {}
    for s in subregions:
        if s.region in seen:
            raise FactorFileError(f"subregion {s.region} repeated (also line {seen[s.region]})", path, s.line)
        seen[s.region] = s.line
    for _gas, unit in GAS_UNITS:
        parse_unit(f"{unit}/{UNIT}")
    for r in records:
        parse_unit(r.unit)


def load_egrid(path: str | Path, id: str = "egrid-2023", edition: str = "eGRID2023",
               published: datetime.date | None = datetime.date(2025, 1, 15)
               ) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Load Table 6 as its own factor-set edition (lb of each gas per MWh)."""
    read = read_egrid(path)
    meta = PUBLICATION.edition(id, edition, published, path, read.sha256, YEAR)
    return meta, list(read.records)


def load_egrid_losses(path: str | Path, id: str = "egrid-losses-2023", edition: str = "eGRID2023",
                      published: datetime.date | None = datetime.date(2025, 1, 15)
                      ) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Load Table 6's grid gross loss column as its own edition (MWh lost per MWh put into the grid)."""
    read = read_egrid(path)
    meta = LOSS_PUBLICATION.edition(id, edition, published, path, read.sha256, YEAR)
    return meta, list(read.losses)
