"""Rate tables for spend-based methods: exchange rates and price indices.

A rate table is versioned, immutable data with a cited source, like a factor set: an edition id,
publisher, basis, licence, source file and its sha256. Installing the same edition twice is a
no-op; a different file claiming an installed edition is an error (``RateTableConflict``).

File format (ccf's own, a transcription of the publisher's table; docs/data.md#rate-tables):
a UTF-8 CSV with the header ``currency,year,value`` and optionally ``published_as`` (the
publisher's own label of the row, kept for traceability). ``currency`` is an ISO 4217 code,
``year`` a calendar year, ``value`` a plain decimal, kept exactly as written.

- exchange rates: ``value`` is units of the table's reference currency per one unit of
  ``currency`` in ``year`` (e.g. 1.0817 USD per EUR, 2023 annual average);
- price indices: ``value`` is the index of the economy whose currency is ``currency``, in
  ``year`` (e.g. the CPI-U annual average, 1967 = 100).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

import psycopg
from sqlglot import exp

from ccf.dsl import ir, resources
from ccf.dsl.currency import RateTableValues
from ccf.dsl.diagnostics import CcfError
from ccf.engine import locks
from ccf.engine.factors.model import FactorFileError, csv_rows, file_sha256, parse_decimal, read_file, read_text, require_in_range
from ccf.engine.sql import Executor, column, ident, param, table, text

Kind = Literal["exchange_rate", "price_index"]
_CURRENCY = re.compile(r"[A-Z]{3}")


class RateTableConflict(CcfError):
    """A different source file claims a rate-table edition that is already installed."""


@dataclass(frozen=True)
class RateTable:
    """One edition of an exchange-rate or price-index table, identified by its file's bytes."""

    id: str
    kind: Kind
    publisher: str
    title: str
    edition: str
    basis: str  # e.g. 'annual average of daily noon buying rates in New York'
    licence: str
    source_url: str | None
    source_file: str
    sha256: str
    reference_currency: str | None = None  # exchange rates: value = reference units per currency unit
    index_base: str | None = None  # price indices: e.g. '2017=100'


@dataclass(frozen=True)
class RateRecord:
    currency: str
    year: int
    value: Decimal
    source_line: int


@dataclass(frozen=True)
class RateTableMeta:
    """Everything about a table but its file: the registration of a shipped or supplied table."""

    id: str
    kind: Kind
    publisher: str
    title: str
    edition: str
    basis: str
    licence: str
    source_url: str | None = None
    reference_currency: str | None = None
    index_base: str | None = None


def load_rate_file(path: Path, meta: RateTableMeta) -> tuple[RateTable, list[RateRecord]]:
    """Read a rate CSV exactly as written; every problem names the file and line."""
    if meta.kind not in ("exchange_rate", "price_index"):
        raise FactorFileError(f"rate table kind must be exchange_rate or price_index, not {meta.kind!r}", path)
    if meta.kind == "exchange_rate" and not (meta.reference_currency and _CURRENCY.fullmatch(meta.reference_currency)):
        raise FactorFileError("an exchange-rate table needs its reference currency (an ISO 4217 code, e.g. USD)", path)
    data = read_file(path)
    rows = csv_rows(read_text(data, path))
    first = next(rows, None)
    if first is None:
        raise FactorFileError("empty file: expected the header currency,year,value", path)
    line, header = first
    header = [h.strip() for h in header]
    if header[:3] != ["currency", "year", "value"] or any(h not in ("published_as",) for h in header[3:]):
        raise FactorFileError(f"header must be currency,year,value[,published_as], not {','.join(header)}", path, line)
    records: list[RateRecord] = []
    seen: dict[tuple[str, int], int] = {}
    for line, row in rows:
        if len(row) != len(header):
            raise FactorFileError(f"expected {len(header)} columns, found {len(row)}", path, line)
        currency, year_text, value_text = (c.strip() for c in row[:3])
        if not _CURRENCY.fullmatch(currency):
            raise FactorFileError(f"currency must be an ISO 4217 code such as EUR, not {currency!r}", path, line)
        if not re.fullmatch(r"\d{4}", year_text):
            raise FactorFileError(f"year must be a four-digit year, not {year_text!r}", path, line)
        value = parse_decimal(value_text)
        if value is None or value <= 0:
            raise FactorFileError(f"value must be a positive decimal number, not {value_text!r}", path, line)
        key = (currency, int(year_text))
        if key in seen:
            raise FactorFileError(f"{currency} {year_text} is given twice (first on line {seen[key]})", path, line)
        seen[key] = line
        records.append(RateRecord(currency, int(year_text), value, line))
    table_ = RateTable(
        meta.id, meta.kind, meta.publisher, meta.title, meta.edition, meta.basis, meta.licence, meta.source_url,
        path.name, file_sha256(data), meta.reference_currency, meta.index_base,
    )
    return table_, records


# --- shipped tables ----------------------------------------------------------------------------

FRB_G5A_2024 = "frb_g5a_2024_usd_per_unit.csv"
BLS_CPI_U_1967 = "bls_cpi_u_1967_annual_average.csv"
SHA256 = {
    FRB_G5A_2024: "883817392cd18753b7ccb77a62b60ec6ce4ed37ad91ea86d9693942cccd365f8",
    BLS_CPI_U_1967: "3aae0b3a89a8428e74f44903b6c6447fe0ff3a3324d9870532678b8de54fbd50",
}

_SHIPPED: dict[str, tuple[str, RateTableMeta]] = {
    "frb-g5a-2024": (
        FRB_G5A_2024,
        RateTableMeta(
            id="frb-g5a-2024",
            kind="exchange_rate",
            publisher="Board of Governors of the Federal Reserve System",
            title="Foreign Exchange Rates -- G.5A Annual (currencies quoted in U.S. dollars per unit)",
            edition="release of 2024-02-01 (annual averages 2020-2023)",
            basis="annual average of daily noon buying rates for cable transfers in New York City certified "
            "for customs purposes by the Federal Reserve Bank of New York",
            licence="US Government work, public domain",
            source_url="https://www.federalreserve.gov/releases/g5a/20240201/",
            reference_currency="USD",
        ),
    ),
    # CPI-U annual averages on the 1967=100 base, each copied from the Secretary of Labor's notice
    # in the Federal Register (factors/README.md#rate-tables quotes the sentences). Only the years
    # whose notice could be retrieved and quoted are in the file: 2020 and 2022, not 2021 or 2023.
    "bls-cpi-u-1967": (
        BLS_CPI_U_1967,
        RateTableMeta(
            id="bls-cpi-u-1967",
            kind="price_index",
            publisher="U.S. Bureau of Labor Statistics (certified by the U.S. Department of Labor in the Federal Register)",
            title="All Items Consumer Price Index for All Urban Consumers; United States City Average (CPI-U, 1967=100)",
            edition="Federal Register notices of 2021-10-13 (86 FR 56986, FR Doc. 2021-22201) and 2023-07-06 "
            "(88 FR 43146, FR Doc. 2023-14212) (annual averages 2020, 2022)",
            basis="annual average, U.S. city average, all items, all urban consumers (CPI-U), as certified by the "
            "Secretary of Labor to the Federal Election Commission (52 U.S.C. 30116(c))",
            licence="U.S. federal government work, public domain",
            source_url="https://lexbuild.dev/fr/2023/07/2023-14212",
            index_base="1967=100",
        ),
    ),
}


def rates_dir() -> Path:
    return resources.factors() / "rates"


@cache
def _parsed(id: str) -> tuple[RateTable, tuple[RateRecord, ...]]:
    file, meta = _SHIPPED[id]
    rt, records = load_rate_file(rates_dir() / file, meta)
    if rt.sha256 != SHA256[file]:
        raise FactorFileError(f"sha256 {rt.sha256} is not the registered {SHA256[file]}", rates_dir() / file)
    return rt, tuple(records)


def shipped_rate_tables() -> dict[str, tuple[RateTable, tuple[RateRecord, ...]]]:
    """Every shipped rate table, parsed once and checked against its registered sha256."""
    return {id: _parsed(id) for id in _SHIPPED}


# --- the database --------------------------------------------------------------------------------

_TABLE_COLS = (
    "table_id", "kind", "publisher", "title", "edition", "basis", "reference_currency", "index_base",
    "licence", "source_url", "source_file", "sha256", "rate_count",
)


def installed_rate_table(ex: Executor, table_id: str) -> tuple[int, str] | None:
    """(rate_table_id, sha256) of an installed edition, or None."""
    row = ex.one(
        exp.select(column("rate_table_id"), column("sha256"))
        .from_(table("rate_table"))
        .where(exp.EQ(this=column("table_id"), expression=param("table_id"))),
        {"table_id": table_id},
    )
    return (row[0], row[1]) if row is not None else None


def install_rate_table(conn: psycopg.Connection, rt: RateTable, records: list[RateRecord] | tuple[RateRecord, ...]) -> bool:
    """Install one edition; False if it was already installed from the same bytes."""
    ex = Executor(conn)
    with conn.transaction():
        ex.execute(locks.xact_lock(locks.REFERENCE_DATA))
        have = installed_rate_table(ex, rt.id)
        if have is not None:
            if have[1] != rt.sha256:
                raise RateTableConflict(
                    f"rate table {rt.id} is already installed from a file with sha256 {have[1][:12]}…; "
                    f"{rt.source_file} has {rt.sha256[:12]}…. A changed table is a new edition: give it a new id."
                )
            return False
        require_in_range(((f"{r.currency} {r.year}", r.value) for r in records), f"rate table {rt.id}")
        values = {
            "table_id": rt.id, "kind": rt.kind, "publisher": rt.publisher, "title": rt.title, "edition": rt.edition,
            "basis": rt.basis, "reference_currency": rt.reference_currency, "index_base": rt.index_base,
            "licence": rt.licence, "source_url": rt.source_url, "source_file": rt.source_file, "sha256": rt.sha256,
            "rate_count": len(records),
        }
        insert = exp.insert(
            exp.select(*[param(c) for c in _TABLE_COLS]),
            exp.Schema(this=table("rate_table"), expressions=[ident(c) for c in _TABLE_COLS]),
            returning="rate_table_id",
        )
        pk = ex.one(insert, values)[0]  # type: ignore[index]
        ex.copy_rows(
            table("rate"), ("rate_table_id", "currency", "year", "value", "source_line"),
            iter((pk, r.currency, r.year, r.value, r.source_line) for r in records),
        )
    return True


def install_shipped_rates(conn: psycopg.Connection) -> list[str]:
    """Install every shipped rate table not yet installed; returns those added."""
    added = []
    for id, (rt, records) in shipped_rate_tables().items():
        if install_rate_table(conn, rt, records):
            added.append(id)
    return added


def rate_values(ex: Executor, table_id: str) -> dict[tuple[str, int], Decimal]:
    """An installed table's values by (currency, year), for the reference evaluator and explain."""
    rows = ex.rows(
        exp.select(column("currency", "r"), column("year", "r"), column("value", "r"))
        .from_(table("rate", alias="r"))
        .join(table("rate_table", alias="t"), on=exp.EQ(this=column("rate_table_id", "t"), expression=column("rate_table_id", "r")))
        .where(exp.EQ(this=column("table_id", "t"), expression=param("table_id"))),
        {"table_id": table_id},
    )
    return {(c, int(y)): v for c, y, v in rows}


def rate_tables(ex: Executor, m: ir.Methodology) -> dict[str, RateTableValues]:
    """The rate tables a methodology's conversions name, as installed (for the reference evaluator)."""
    out = {}
    for cv in m.conversions:
        for table_id in filter(None, (cv.exchange_rates, cv.price_index)):
            if table_id in out:
                continue
            ref = ex.one(
                exp.select(column("reference_currency")).from_(table("rate_table")).where(exp.EQ(this=column("table_id"), expression=text(table_id)))
            )
            if ref is not None:
                out[table_id] = RateTableValues(rate_values(ex, table_id), ref[0])
    return out
