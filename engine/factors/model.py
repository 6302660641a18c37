"""Immutable records for published emission-factor sets and GWP tables.

Values are always ``Decimal`` parsed from the published text; nothing here rounds or
converts them. Loaders raise :class:`FactorFileError` for files they cannot read as published.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from collections.abc import Iterable, Iterator

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import MAX_INPUT_DIGITS, within_input_limits

# A plain decimal numeral: optional sign, digits with an optional point, optional exponent.
# Stricter than Decimal() itself, which also accepts 'NaN', 'Infinity' and '1_000'.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class FactorFileError(CcfError):
    """A factor file that cannot be read as published, located by file and line."""

    def __init__(self, message: str, path: str | Path, line: int | None = None):
        self.message = message
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class FactorSetEdition:
    """One published edition of a factor set, identified by the bytes of its source file."""

    id: str
    publisher: str
    title: str
    edition: str
    published: datetime.date | None
    licence: str
    source_file: str
    sha256: str
    region: str | None
    year: int | None
    gas_units: tuple[tuple[str, str], ...]
    attributes: tuple[str, ...]

    def gas_unit(self, gas: str) -> str:
        """The ccf unit of a factor value's numerator for this gas (e.g. 'kgCO2e')."""
        return dict(self.gas_units)[gas]


@dataclass(frozen=True)
class Publication:
    """What a factor-file reader knows of a set before it reads a file: its publisher, title and
    licence, its default region, the unit of each gas's values and the attributes its factors
    carry. Every reader makes its editions through :meth:`edition`, the one place a
    :class:`FactorSetEdition` is built from a file."""

    publisher: str
    title: str
    licence: str
    region: str | None
    gas_units: tuple[tuple[str, str], ...]
    attributes: tuple[str, ...]

    def edition(self, id: str, edition: str, published: datetime.date | None, path: str | Path, sha256: str,
                year: int | None) -> FactorSetEdition:
        """The edition ``id`` read from the file at ``path``, whose bytes have the checksum ``sha256``."""
        return FactorSetEdition(
            id=id, publisher=self.publisher, title=self.title, edition=edition, published=published,
            licence=self.licence, source_file=Path(path).name, sha256=sha256, region=self.region, year=year,
            gas_units=self.gas_units, attributes=self.attributes,
        )


@dataclass(frozen=True)
class FactorRecord:
    """One factor value: ``value`` numerator-units of ``gas`` per ``unit``, as a reader found it in
    its published file or as the factor store holds it (``store.stored_factors``); the one factor
    row of ccf, what the reference evaluator reads (``evaluate.FactorRecordLike``).

    ``region`` and ``year`` of None mean the edition's defaults apply.
    """

    factor_id: str
    name: str
    unit: str
    gas: str
    value: Decimal
    attributes: tuple[tuple[str, str], ...]
    region: str | None
    year: int | None
    source_line: int

    def attribute(self, key: str) -> str | None:
        """The value of one attribute, or None when the record does not carry it."""
        return dict(self.attributes).get(key)


@dataclass(frozen=True)
class GwpRecord:
    """A 100-year global warming potential of one gas in one IPCC assessment."""

    gwp_set: str
    gas: str
    value: Decimal


def parse_decimal(text: str) -> Decimal | None:
    """The exact Decimal of a published numeral, or None if the text is not one."""
    text = text.strip()
    return Decimal(text) if _DECIMAL.fullmatch(text) else None


def require_in_range(values: Iterable[tuple[str, Decimal]], what: str) -> None:
    """Refuse to install values past ccf's limits on numbers (``numeric.MAX_INPUT_DIGITS`` digits
    before and after the point), which keep PostgreSQL's arithmetic on them exact
    (dsl/exactness.py); ``values`` are (label, value) pairs, ``what`` names the set or table."""
    for label, value in values:
        if not within_input_limits(value):
            raise CcfError(
                f"{what}: {label} has the value {value}, out of range: ccf computes exactly with numbers of at most "
                f"{MAX_INPUT_DIGITS} digits before and after the decimal point"
            )


def sorted_attributes(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Attribute pairs sorted by key, keeping only non-empty values."""
    return tuple(sorted((k, v) for k, v in pairs if v))


def file_sha256(data: bytes) -> str:
    """Hex sha256 of a source file's bytes."""
    return hashlib.sha256(data).hexdigest()


def select(records: Iterable[FactorRecord], *, name: str | None = None, unit: str | None = None,
           gas: str | None = None, **attributes: str) -> list[FactorRecord]:
    """Records matching every given field and attribute exactly."""
    return [
        r for r in records
        if (name is None or r.name == name)
        and (unit is None or r.unit == unit)
        and (gas is None or r.gas == gas)
        and all(r.attribute(k) == v for k, v in attributes.items())
    ]


def read_file(path: str | Path) -> bytes:
    """A factor file's bytes. A file that is missing or unreadable (a shipped file absent from a
    damaged installation, a mistyped path) is a :class:`FactorFileError` naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise FactorFileError(f"cannot be read: {e.strerror or e}", path) from None


def read_text(data: bytes, path: str | Path) -> str:
    """A factor file's bytes decoded as UTF-8 (a leading byte-order mark is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FactorFileError(f"not UTF-8 text ({e.reason} at byte {e.start})", path) from None


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the 1-based line each starts on; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1
