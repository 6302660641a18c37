"""The input formats a load reads (CSV, XLSX, Parquet), each as one reader with the same shape: a
header, then records numbered as the user finds them (a CSV line, a sheet row, a Parquet row),
every cell as text. Typed cells of XLSX and Parquet (numbers, dates, true/false) come as ``Exact``
text, ccf's own, to which no dialect option applies; text cells are read like CSV cells."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ccf.dsl.diagnostics import did_you_mean
from ccf.engine.load.base import LoadError
from ccf.engine.load.dialect import Dialect, detect_delimiter
from ccf.engine.load.source import Source, open_source

XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH = 10_000


class Exact(str):
    """A cell already in ccf's text (a typed XLSX or Parquet value): no dialect option applies to it."""


def file_format(path: Path) -> str:
    """'xlsx', 'parquet' or 'csv' (any other name), by the file's suffix."""
    suffix = path.suffix.lower()
    return "xlsx" if suffix in XLSX_SUFFIXES else "parquet" if suffix in PARQUET_SUFFIXES else "csv"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_source(path) as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class CsvReader:
    """A CSV file in the given dialect; the delimiter, when not given, is the header line's."""

    kind = "csv"

    def __init__(self, path: Path, dialect: Dialect):
        self.path, self.notices = path, []
        self.stream = open_source(path)
        delimiter = dialect.delimiter
        if delimiter is None:
            first = self.stream.readline().removeprefix(b"\xef\xbb\xbf")
            self.stream.seek(0)
            delimiter = detect_delimiter(first.decode(dialect.encoding.removesuffix("-sig"), errors="replace")) or ","
            if delimiter != ",":
                shown = "tab" if delimiter == "\t" else delimiter
                self.notices.append(f"delimiter '{shown}' found in the header line (give --delimiter to choose another)")
        self.delimiter = delimiter
        self.source = Source(path, self.stream, delimiter, dialect.encoding)
        self._records = self.source.records()

    def header(self) -> tuple[int | None, list[str]] | None:
        return next(self._records, None)

    def records(self) -> Iterator[tuple[int, list[str]]]:
        return self._records

    def empty(self) -> bool:
        return not self.source.size

    def sha256(self) -> str:
        return self.source.digest.hexdigest()

    def fraction(self) -> float | None:
        return self.source.fraction()

    def close(self) -> None:
        self.stream.close()


def typed(value: Any, column: str, rounded: set[str]) -> str:
    """A typed cell as text: typed values as ``Exact``, a float by its shortest decimal text (the
    column noted in ``rounded``, for the notice), a date-time at midnight as its date."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return Exact("true" if value else "false")
    if isinstance(value, (int, Decimal)):
        return Exact(str(value))
    if isinstance(value, float):
        rounded.add(column)
        return Exact(repr(value))
    if isinstance(value, datetime.datetime):
        return Exact(value.date().isoformat() if value.time() == datetime.time() and value.tzinfo is None
                     else value.isoformat(sep=" "))
    if isinstance(value, (datetime.date, datetime.time)):
        return Exact(value.isoformat())
    return Exact(str(value))


def _float_notice(kind: str, columns: set[str]) -> str:
    return (f"{kind} column(s) {', '.join(sorted(columns))} hold binary floating-point numbers: each was read as the "
            "shortest decimal that is the same number (e.g. 0.1, not 0.1000000000000000055…); store exact "
            "decimals as text or as a DECIMAL column to avoid this")


class XlsxReader:
    """One sheet of an XLSX workbook, streamed (openpyxl's read-only mode); row 1 is the header and
    a record's number is its row in the sheet. Cached formula results are read, never formulas."""

    kind = "xlsx"

    def __init__(self, path: Path, sheet: str | None):
        import zipfile

        import openpyxl

        self.path, self.notices, self._rounded = path, [], set()
        open_source(path).close()  # a regular file, or a LoadError saying why not
        try:
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
            raise LoadError(f"not an XLSX workbook ({e})", path) from None
        names = self.book.sheetnames
        if sheet is not None and sheet not in names:
            hint = did_you_mean(sheet, names)
            raise LoadError(f"the workbook has no sheet '{sheet}'" + (f"; {hint}" if hint else "")
                            + f" (sheets: {', '.join(names)})", path)
        self.sheet = self.book[sheet] if sheet is not None else self.book.worksheets[0]
        self._rows = enumerate(self.sheet.iter_rows(values_only=True), 1)
        self._row, self._width = 0, 0
        self._header: list[str] = []

    def header(self) -> tuple[int | None, list[str]] | None:
        for n, row in self._rows:
            cells = [("" if v is None else str(v)) for v in row]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                self._width, self._header = len(cells), cells
                return n, cells
            return None  # row 1 is blank: no header
        return None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        for n, row in self._rows:
            self._row = n
            cells = [typed(v, self._header[i] if i < self._width else f"#{i + 1}", self._rounded)
                     for i, v in enumerate(row)]
            while len(cells) > self._width and not cells[-1].strip():
                cells.pop()  # the sheet's used range may reach past the header
            if any(c.strip() for c in cells):
                yield n, cells
        if self._rounded:
            self.notices.append(_float_notice("XLSX", self._rounded))

    def empty(self) -> bool:
        return False

    def sha256(self) -> str:
        return _sha256(self.path)

    def fraction(self) -> float | None:
        total = self.sheet.max_row
        return min(self._row / total, 1.0) if total else None

    def close(self) -> None:
        self.book.close()


class ParquetReader:
    """A Parquet file, read in batches; a record's number is its row in the file, from 1. Decimal,
    integer, date, true/false and text columns read exactly; a float64 column by each value's
    shortest decimal text, with a notice; other types (float32, lists, binary, …) are refused."""

    kind = "parquet"

    def __init__(self, path: Path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path, self.notices, self._rounded = path, [], set()
        open_source(path).close()
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as e:
            raise LoadError(f"not a Parquet file ({e})", path) from None
        schema = self.file.schema_arrow
        readable = (pa.types.is_decimal, pa.types.is_integer, pa.types.is_boolean, pa.types.is_string,
                    pa.types.is_large_string, pa.types.is_date, pa.types.is_timestamp, pa.types.is_null)
        for f in schema:
            if pa.types.is_float64(f.type):
                continue
            kind = f.type.value_type if pa.types.is_dictionary(f.type) else f.type  # e.g. pandas' categories
            if not any(test(kind) for test in readable):
                raise LoadError(f"column {f.name} has the Parquet type {f.type}, which ccf does not read: cast it to "
                                "a decimal, integer, date, boolean or string column", path)
        self._names = list(schema.names)
        self._floats = {f.name for f in schema if pa.types.is_float64(f.type)}
        self._row, self._total = 0, self.file.metadata.num_rows

    def header(self) -> tuple[int | None, list[str]] | None:
        return None, self._names

    def records(self) -> Iterator[tuple[int, list[str]]]:
        for batch in self.file.iter_batches(batch_size=PARQUET_BATCH):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for values in zip(*columns):
                self._row += 1
                yield self._row, [typed(v, name, self._rounded) for v, name in zip(values, self._names)]
        if self._rounded & self._floats:
            self.notices.append(_float_notice("Parquet", self._rounded & self._floats))

    def empty(self) -> bool:
        return False

    def sha256(self) -> str:
        return _sha256(self.path)

    def fraction(self) -> float | None:
        return min(self._row / self._total, 1.0) if self._total else None

    def close(self) -> None:
        self.file.close()


Reader = CsvReader | XlsxReader | ParquetReader


def open_reader(path: Path, dialect: Dialect, sheet: str | None = None) -> Reader:
    """The reader of ``path``'s format. A sheet is XLSX's only; the CSV options are refused for
    XLSX and Parquet except those that read their text cells (--decimal, --thousands, --date-format)."""
    kind = file_format(path)
    if kind == "csv":
        if sheet is not None:
            raise LoadError("--sheet is for XLSX workbooks (.xlsx)", path)
        return CsvReader(path, dialect)
    if dialect.delimiter is not None or dialect.encoding != "utf-8":
        raise LoadError(f"--delimiter and --encoding are for CSV files; a {kind.upper()} file has neither", path)
    if kind == "xlsx":
        return XlsxReader(path, sheet)
    if sheet is not None:
        raise LoadError("--sheet is for XLSX workbooks (.xlsx)", path)
    return ParquetReader(path)
