"""Load activity CSV files into PostgreSQL, typed and validated; nothing is ever lost.

CSV contract: UTF-8 (a leading byte-order mark is dropped), comma-separated, header row
first. Columns, in any order: ``activity_id``, ``entity``, ``period_start``, ``period_end``,
every field of the activity type, and ``<field>_unit`` for each quantity whose unit is given
per row. Optional fields may be left out of the header (a field and its unit column go
together). Fully blank lines carry no data and are skipped; every other record is either
loaded into ``ccf."activity_<type>"`` or written to ``ccf.rejected`` with a plain reason.

How a load runs (one transaction, so a failure leaves nothing behind):

1. A plain CSV file (every record one line with the header's field count, every quote in a
   well-formed quoted cell, no NUL; ``_stage_plain``) is staged by one ``COPY … (FORMAT CSV)``
   of its bytes: PostgreSQL parses it, reading exactly what step 1' would (tests/engine/
   test_load_plain.py compares both on the database), with no per-record Python work.
   1'. Any other file, or one PostgreSQL refuses (a wrong field count, bad UTF-8), is staged by
   Python record by record: UTF-8 per physical line (a bad byte is a whole-file ``LoadError``
   naming the line), ``csv`` for quoting, records keep the line they start on. A file that ends
   inside a quoted cell (a truncated export; never plain, so always read here) is a whole-file
   ``LoadError`` naming the line the quote opens on. Only checks that need no types happen
   here: field count and NUL characters (which PostgreSQL text cannot hold). Every record, good
   or bad, is COPYed as text into a temporary staging table.
2. A fixed number of set-based statements, independent of the row count, classify and
   move the rows. A fast test (section "the fast path") picks the rows that pass every check:
   its per-row part is computed by the staging table as the rows are copied in, dates are
   checked once per distinct value, repeated ids are found by one aggregate; those rows go
   straight into the activity table, typed, in one INSERT. Every other row (few, usually) is
   copied aside and checked one by one: unknown units are collected (for did-you-mean hints),
   one CREATE TABLE AS gives each of those rows its first failing check, then one INSERT each
   fills ``ccf.activity_load``, ``ccf.rejected`` and the activity table, with casts that the
   checks have made safe.

A load with more rejected rows than its ``RejectLimit`` allows (``--max-rejects``; by default, one
that rejects every row) is a ``LoadError`` raised before the commit, so nothing of it is kept.

The first load of a dataset records it in ``ccf.dataset``, with a reporting period and an entity
set when given (``bind_dataset``); later loads are checked against those. Rows outside the period
(``outside_period``) and rows naming an entity the set does not have (``unknown_entity``) are
rejected like any other failing check.

Every value is validated in SQL without raising, so one bad row never aborts the load: each
row's checks form one CASE, in order, and a cast only runs in a branch its checks made safe (the
fast test only casts what it has matched against the same regexes and lists).
Dates: a ``YYYY-MM-DD`` regex admitting months 01-12 and days 01-31, then year 0000 and days
past the end of their month (Feb 29 only in leap years) are refused. Numbers must match a plain
decimal regex (optional sign, digits, optional point, optional exponent) and are stored as
NUMERIC cast from their text, so exactly; a number of more than 1000 characters or with an
exponent of more than three digits is out of ccf's range (``numeric.MAX_INPUT_DIGITS``, which
keeps PostgreSQL's arithmetic on it exact: dsl/exactness.py). A row reports its first failing
check only.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import re
import stat
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from functools import reduce
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError, did_you_mean
from ccf.dsl.numeric import EXACT
from ccf.dsl.units import format_dimension
from ccf.engine import locks
from ccf.engine.sql import Executor, func, ident, number, param, text

STANDARD_FIELDS = ("activity_id", "entity", "period_start", "period_end")
BOOKKEEPING = ("dataset", "load_id", "line_no")
REASONS = (
    "field_count", "missing_value", "not_a_number", "number_out_of_range", "negative_quantity", "unknown_unit",
    "bad_date", "bad_boolean", "period_order", "outside_period", "unknown_entity", "duplicate_activity_id",
    "bad_text",
)
PROGRESS_EVERY = 100_000
STAGING = "ccf_load_staging"
SLOW = "ccf_load_slow"  # the staged rows the fast path did not take: checked one by one (``_create_checked``)
PERIODS = "ccf_load_periods"  # distinct (period_start, period_end) pairs that pass every check on them
DATES = "ccf_load_dates"  # distinct valid texts of the other date columns, with their dates
REPEATED = "ccf_load_repeated"  # hashes of the activity ids staged more than once
CHECKED = "ccf_load_checked"
NUL_MARK = "\u2400"  # '␀' stands in for NUL in rejected records: neither text nor JSONB can hold NUL
CELL_PREFIX = "csv_"  # staging column of CSV column <name>: csv_<name>
# Far beyond real data: a number within both has fewer than 2000 digits before and after the
# point (numeric.MAX_INPUT_DIGITS), which dsl/exactness.py relies on.
MAX_NUMBER_CHARS = 1000
MAX_EXPONENT_DIGITS = 3

# Internal staging columns start with '_' so they can never clash with a field (lower_snake_case).
_LINE, _PRE_CATEGORY, _PRE_REASON, _PRE_RECORD = "_line_no", "_pre_category", "_pre_reason", "_pre_record"
_CHECK, _CATEGORY, _REASON = "_check", "_category", "_reason"
_FIRST_LINE, _PRIOR_LOAD, _PRIOR_LINE = "_first_line", "_prior_load", "_prior_line"
_KNOWN_ENTITY = "_known_entity"

_NUMBER_RE = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_IN_RANGE_RE = _NUMBER_RE.replace("[0-9]+)?$", f"[0-9]{{1,{MAX_EXPONENT_DIGITS}}})?$")  # exponent of at most 3 digits
_DATE_RE = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_PAST_MONTH_END = ("02-30", "02-31", "04-31", "06-31", "09-31", "11-31")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
# The repeated-id aggregate of a load hashes every activity id: room for ≈ 1M of them in memory
LOAD_WORK_MEM = "64MB"
_JSON_PAIRS = 50  # jsonb_build_object takes at most 100 arguments


class LoadError(CcfError):
    """A whole file cannot be loaded (nothing was); located by file and line where known."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True, order=True)
class ReportingPeriod:
    """The period a dataset reports on, both days included."""

    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> "ReportingPeriod":
        """``2024`` (a calendar year) or ``2024-04-01..2025-03-31``; LoadError otherwise."""
        t = text.strip()
        try:
            if re.fullmatch(r"[0-9]{4}", t):
                return cls(date(int(t), 1, 1), date(int(t), 12, 31))
            m = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\s*\.\.\s*([0-9]{4}-[0-9]{2}-[0-9]{2})", t)
            if m:
                start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
                if end < start:
                    raise LoadError(f"reporting period {t!r} ends before it starts")
                return cls(start, end)
        except ValueError as e:
            raise LoadError(f"reporting period {t!r}: {e}") from None
        raise LoadError(f"reporting period {t!r} is not YYYY (a calendar year) or YYYY-MM-DD..YYYY-MM-DD "
                        "(first and last day, e.g. 2024-04-01..2025-03-31)")

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True)
class RejectLimit:
    """How many rejected rows a load may have and still be committed (``ccf load --max-rejects``):
    at most ``rows`` rows, or at most ``percent`` % of the rows read. By default (neither) any
    number short of all of them: a file none of whose rows could be loaded is an error, however
    each row was checked (a wrong activity type, a wrong period), never a load of nothing."""

    rows: int | None = None
    percent: Decimal | None = None

    @classmethod
    def parse(cls, text: str) -> "RejectLimit":
        """``N`` (rows) or ``P%`` (of the rows read, 0 to 100); LoadError otherwise."""
        t = text.strip()
        if re.fullmatch(r"[0-9]+", t):
            return cls(rows=int(t))
        m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*%", t)
        if m and Decimal(m[1]) <= 100:
            return cls(percent=Decimal(m[1]))
        raise LoadError(f"--max-rejects {text!r} is neither a number of rows (e.g. 10) "
                        "nor a percentage of the rows read (e.g. 0.5%, at most 100%)")

    def exceeded(self, read: int, rejected: int) -> bool:
        if self.rows is not None:
            return rejected > self.rows
        if self.percent is not None:
            with localcontext(EXACT):  # never a rounded comparison at the limit
                return rejected * 100 > self.percent * read
        return rejected > 0 and rejected == read

    def __str__(self) -> str:
        if self.rows is not None:
            return f"at most {self.rows} row{'s' if self.rows != 1 else ''}"
        if self.percent is not None:
            return f"at most {self.percent}% of the rows read"
        return "fewer than all rows (the default)"


@dataclass(frozen=True)
class Dataset:
    """A dataset as its first load created it: its reporting period and entity set, if any."""

    name: str
    period: ReportingPeriod | None = None
    entity_set: str | None = None


@dataclass(frozen=True)
class LoadReport:
    """What one load did: every row read was either loaded or rejected."""

    load_id: int
    dataset: str
    activity_type: str
    source_file: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    reasons: tuple[tuple[str, int], ...]  # rejection category -> count, sorted by category
    period: ReportingPeriod | None = None  # the dataset's, which every loaded row lies inside
    entity_set: str | None = None  # the dataset's, of which every loaded row's entity is one


# --- columns ----------------------------------------------------------------------------


def has_unit_column(f: ir.Field) -> bool:
    """True for a quantity whose unit each row names in ``<field>_unit``."""
    return f.type.kind == "quantity" and bool(f.conversions)


def _is_quantity(f: ir.Field) -> bool:
    """A measured quantity (never negative), as opposed to a plain number."""
    return f.type.kind == "quantity" and (bool(f.conversions) or f.fixed_factor is not None)


def csv_columns(at: ir.ActivityType) -> list[tuple[str, ir.Field]]:
    """Every column a CSV of this activity type may have, with the field it belongs to."""
    cols: list[tuple[str, ir.Field]] = []
    for f in at.fields:
        cols.append((f.name, f))
        if has_unit_column(f):
            cols.append((f.name + "_unit", f))
    return cols


def _sql_type(f: ir.Field) -> str:
    return {"text": "TEXT", "quantity": "NUMERIC", "date": "DATE", "boolean": "BOOLEAN"}[f.type.kind]


def _table_columns(at: ir.ActivityType) -> list[tuple[str, str, bool]]:
    """(name, SQL type, required) of every activity table column, in table order."""
    cols = [("dataset", "TEXT", True), ("load_id", "BIGINT", True), ("line_no", "BIGINT", True)]
    for name, f in csv_columns(at):
        is_unit = name != f.name
        required = f.name in STANDARD_FIELDS or f.required
        cols.append((name, "TEXT" if is_unit else _sql_type(f), required))
    return cols


def _fid(name: str) -> exp.Identifier:
    """A field-derived identifier, always quoted: a field may be called e.g. 'end' or 'limit'."""
    return exp.to_identifier(name, quoted=True)


def _col(name: str, alias: str | None = None) -> exp.Column:
    return exp.Column(this=_fid(name), table=ident(alias) if alias else None)


def _cell(name: str, alias: str | None = None) -> exp.Column:
    """The staging column holding a CSV column's raw text.

    Prefixed so it can never be an SQL keyword: ``Executor.copy_rows`` names COPY columns
    through ``sql.ident``, which quotes only a few reserved words (a field may be called 'end').
    """
    return exp.Column(this=ident(CELL_PREFIX + name), table=ident(alias) if alias else None)


def _icol(name: str, alias: str | None = None) -> exp.Column:
    """An internal (bookkeeping or staging) column."""
    return exp.Column(this=ident(name), table=ident(alias) if alias else None)


def activity_table(at: ir.ActivityType) -> exp.Table:
    """ccf."activity_<id>": one table per activity type, shared by all datasets."""
    return exp.Table(this=_fid(f"activity_{at.id}"), db=ident("ccf"))


def _temp(name: str) -> exp.Table:
    return exp.Table(this=ident(name))


# --- the activity table -----------------------------------------------------------------


def _check_names(at: ir.ActivityType) -> None:
    """Refuse activity types whose columns PostgreSQL could not keep apart."""
    clash = [f.name for f in at.fields if f.name in BOOKKEEPING]
    if clash:
        raise LoadError(f"activity type '{at.id}': field name(s) {', '.join(clash)} are reserved for load bookkeeping")
    if len(f"activity_{at.id}") > 63:
        raise LoadError(f"activity type id '{at.id}' is too long for a table name (at most 54 characters)")


def _column_def(name: str, sql_type: str, not_null: bool) -> exp.ColumnDef:
    constraints = [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())] if not_null else []
    return exp.ColumnDef(this=_fid(name), kind=exp.DataType.build(sql_type), constraints=constraints)


def _create_table(at: ir.ActivityType) -> exp.Create:
    """CREATE TABLE IF NOT EXISTS: bookkeeping and standard columns NOT NULL, fields nullable.

    Field columns stay nullable so that a field may later become optional; the loader
    enforces required values itself.
    """
    defs: list[exp.Expression] = [
        _column_def(name, sql_type, name in BOOKKEEPING or name in STANDARD_FIELDS)
        for name, sql_type, _ in _table_columns(at)
    ]
    defs.append(exp.PrimaryKey(expressions=[_fid("dataset"), _fid("activity_id")]))
    return exp.Create(this=exp.Schema(this=activity_table(at), expressions=defs), kind="TABLE", exists=True)


def _existing_columns(ex: Executor, at: ir.ActivityType) -> dict[str, str]:
    """Column name -> information_schema data_type of the activity table as it is."""
    info = exp.Table(this=ident("columns"), db=ident("information_schema"))
    query = (
        exp.select(_icol("column_name"), _icol("data_type"))
        .from_(info)
        .where(exp.and_(
            exp.EQ(this=_icol("table_schema"), expression=text("ccf")),
            exp.EQ(this=_icol("table_name"), expression=param("table")),
        ))
    )
    return {name: dtype for name, dtype in ex.rows(query, {"table": f"activity_{at.id}"})}


def ensure_activity_table(ex: Executor, at: ir.ActivityType) -> None:
    """Create the activity table, or add columns for optional fields it lacks."""
    _check_names(at)
    ex.execute(_create_table(at))
    existing = _existing_columns(ex, at)
    missing = [(n, t, req) for n, t, req in _table_columns(at) if n not in existing]
    _check_types(at, existing)
    required = [n for n, _, req in missing if req]
    if required:
        raise LoadError(
            f"table ccf.activity_{at.id} has no column(s) {', '.join(required)}, which activity type "
            f"'{at.id}' requires; rows loaded earlier have no value for them, so the table must be "
            "migrated by hand (or the field made optional)"
        )
    if missing:
        actions = [_column_def(n, t, False) for n, t, _ in missing]
        ex.execute(exp.Alter(this=activity_table(at), kind="TABLE", actions=actions))


def prepare_activity_tables(conn: psycopg.Connection, types: Iterable[ir.ActivityType]) -> None:
    """Create or complete the activity tables of these types in a committed transaction of their
    own, each under its load lock. A run does this before its transaction starts: CREATE TABLE IF
    NOT EXISTS in a run's long transaction and in a load's at once fails in one of them with a
    duplicate key (pg_type), and taking the load lock for the whole run would stall loads."""
    ex = Executor(conn)
    with conn.transaction():
        for at in sorted({at.id: at for at in types}.values(), key=lambda at: at.id):  # one lock order
            ex.execute(locks.load_lock(), {"lock_key": locks.load_lock_key(at.id)})
            ensure_activity_table(ex, at)


def _check_types(at: ir.ActivityType, existing: dict[str, str]) -> None:
    """Refuse a table whose columns have other types than the activity type now says."""
    wrong = [
        f"{n} is {existing[n]}, expected {t.lower()}"
        for n, t, _ in _table_columns(at)
        if n in existing and existing[n] != t.lower()
    ]
    if wrong:
        raise LoadError(f"table ccf.activity_{at.id} does not match activity type '{at.id}': {'; '.join(wrong)}")


# --- reading the file -------------------------------------------------------------------


class _Source:
    """One pass over a CSV file: decoded lines, records with their first line, the file's sha256."""

    def __init__(self, path: Path, stream: BinaryIO):
        self.path = path
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def lines(self) -> Iterator[str]:
        """Physical lines as text; hashes the bytes as they pass."""
        for n, raw in enumerate(self.stream, 1):
            self.digest.update(raw)
            self.size += len(raw)
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as e:
                message = f"not UTF-8 text ({e.reason} at byte {e.start + 1} of the line)"
                raise LoadError(message, self.path, n) from None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line the record starts on, cells); fully blank lines are skipped.

        A file that ends inside a quoted cell (a truncated export) is a whole-file LoadError
        naming the line the cell opened on: the csv module would return the rest of the file
        as that one cell."""
        record: list[str] = []  # the lines of the record being read
        ended = False

        def lines() -> Iterator[str]:
            nonlocal ended
            for line in self.lines():
                record.append(line)
                yield line
            ended = True

        reader = csv.reader(lines())
        start = 1
        try:
            for row in reader:
                # the csv module returns a record cut off by the end of the file only after it has
                # asked for a line past the last one; a complete last record is read before that
                if ended and (opened := unclosed_quote(record, start)) is not None:
                    raise LoadError("the file ends inside a quoted cell that opens on this line (a truncated "
                                    "file, or a missing closing '\"'); nothing was loaded", self.path, opened)
                if row:
                    yield start, row
                start = reader.line_num + 1
                record.clear()
        except csv.Error as e:
            opened = unclosed_quote(record, start)  # e.g. a field past the size limit: quoted text never closed?
            if opened is not None:
                message = f"cannot read CSV: {e}, in a quoted cell that opens on this line"
                raise LoadError(message, self.path, opened) from None
            raise LoadError(f"cannot read CSV: {e}", self.path, reader.line_num) from None


def unclosed_quote(lines: Sequence[str], first_line: int) -> int | None:
    """The line on which a quoted cell that these lines never close opens (lines numbered from
    ``first_line``), or None: the csv module's default dialect (a quote opens a quoted cell only at
    the start of a cell; inside it, '""' is a quote and a lone '"' closes it)."""
    quoted, at_start, opened = False, True, None
    for n, line in enumerate(lines, first_line):
        i = 0
        while i < len(line):
            c = line[i]
            if quoted:
                if c == '"' and line[i + 1 : i + 2] == '"':
                    i += 1
                elif c == '"':
                    quoted = False
            elif c == '"' and at_start:
                quoted, opened = True, n
            at_start = not quoted and c in ",\r\n"
            i += 1
    return opened if quoted else None


def check_header(row: Sequence[str], at: ir.ActivityType, path: Path) -> list[str]:
    """The header's column names, or a LoadError naming every missing and unknown column."""
    names = [h.strip() for h in row]
    if "" in names:
        raise LoadError(f"column {names.index('') + 1} of the header has no name", path, 1)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LoadError(f"repeated column(s): {', '.join(repeated)}", path, 1)
    columns = csv_columns(at)
    known = [c for c, _ in columns]
    present_fields = {f.name for c, f in columns if c in names}
    missing = [c for c, f in columns if c not in names and (f.required or f.name in present_fields)]
    unknown = [n for n in names if n not in known]
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        absent = [c for c in known if c not in names]  # only suggest columns the header lacks
        problems.append("unknown column(s): " + ", ".join(_with_hint(n, absent) for n in unknown))
    if problems:
        raise LoadError("; ".join(problems) + f" (activity type '{at.id}')", path, 1)
    return names


def _with_hint(name: str, candidates: Iterable[str]) -> str:
    hint = did_you_mean(name, candidates)
    return f"{name} ({hint})" if hint else name


def _clean(cell: str) -> str:
    return cell.replace("\x00", NUL_MARK)


def _stage(line: int, cells: list[str], names: list[str]) -> tuple:
    """The staging row of one record: line, any Python-side rejection, then the cells."""
    n = len(names)
    if len(cells) != n:
        record: dict[str, object] = {k: _clean(v) for k, v in zip(names, cells)}
        if len(cells) > n:
            record["_extra_fields"] = [_clean(c) for c in cells[n:]]
        reason = f"row has {len(cells)} fields but the header has {n}"
        padded = [_clean(c) for c in cells[:n]] + [None] * (n - len(cells))
        return (line, "field_count", reason, json.dumps(record, ensure_ascii=False), *padded)
    if any("\x00" in c for c in cells):
        bad = next(k for k, c in zip(names, cells) if "\x00" in c)
        reason = f"{bad} contains a NUL character (shown as {NUL_MARK} in the record)"
        return (line, "bad_text", reason, None, *[_clean(c) for c in cells])
    return (line, None, None, None, *cells)


def _staged(
    records: Iterator[tuple[int, list[str]]], names: list[str], progress: Callable[[int], None] | None
) -> Iterator[tuple]:
    count = 0
    for line, cells in records:
        yield _stage(line, cells, names)
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)


# --- SQL building blocks ----------------------------------------------------------------


def _not(e: exp.Expression) -> exp.Expression:
    """NOT (e): sqlglot does not parenthesise a compound operand by itself."""
    return exp.Not(this=exp.Paren(this=e))


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.null())


def _is_not_null(e: exp.Expression) -> exp.Expression:
    return _not(_is_null(e))


def _concat(*parts: str | exp.Expression) -> exp.Expression:
    """a || b || …; plain strings become literals."""
    nodes = [text(p) if isinstance(p, str) else p for p in parts]
    return reduce(lambda a, b: exp.DPipe(this=a, expression=b), nodes)


def _cast(e: exp.Expression, sql_type: str) -> exp.Cast:
    return exp.Cast(this=e, to=exp.DataType.build(sql_type))


def _trim(e: exp.Expression) -> exp.Expression:
    return exp.Trim(this=e)


def _blank(e: exp.Expression) -> exp.Expression:
    return exp.EQ(this=_trim(e), expression=text(""))


def _filled(e: exp.Expression) -> exp.Expression:
    return exp.NEQ(this=_trim(e), expression=text(""))


def _nullif_blank(e: exp.Expression) -> exp.Expression:
    return exp.Nullif(this=_trim(e), expression=text(""))


def _in(e: exp.Expression, values: Iterable[str]) -> exp.Expression:
    return exp.In(this=e, expressions=[text(v) for v in values])


def _substring(t: exp.Expression, start: int, length: int) -> exp.Expression:
    return exp.Substring(this=t, start=number(start), length=number(length))


def _leap_year(year_text: exp.Expression) -> exp.Expression:
    # MOD(), not the % operator: a bare % would be read as a bound-parameter marker.
    y = _cast(year_text, "INT")
    mod = lambda n: func("MOD", y, number(n))  # noqa: E731
    century_ok = exp.or_(exp.NEQ(this=mod(100), expression=number(0)), exp.EQ(this=mod(400), expression=number(0)))
    return exp.and_(exp.EQ(this=mod(4), expression=number(0)), exp.Paren(this=century_ok))


def _valid_date(t: exp.Expression) -> exp.Expression:
    """A real YYYY-MM-DD date, decided without raising.

    The regex admits months 01-12 and days 01-31; what is left is year 0000 and days past
    the end of their month. The CASE keeps the one integer cast (the leap-year test of
    Feb 29) away from text the regex has not matched.
    """
    year, month_day = _substring(t, 1, 4), _substring(t, 6, 5)
    real = (
        exp.Case()
        .when(exp.EQ(this=year, expression=text("0000")), exp.false())
        .when(_in(month_day, _PAST_MONTH_END), exp.false())
        .when(exp.EQ(this=month_day, expression=text("02-29")), _leap_year(year))
        .else_(exp.true())
    )
    return exp.Case().when(exp.RegexpLike(this=t, expression=text(_DATE_RE)), real).else_(exp.false())


def _valid_number(t: exp.Expression) -> exp.Expression:
    return exp.RegexpLike(this=t, expression=text(_NUMBER_RE))


def _in_range(t: exp.Expression) -> exp.Expression:
    """A valid number within ccf's range: at most 1000 characters, an exponent of at most 3 digits."""
    return exp.and_(
        exp.RegexpLike(this=t, expression=text(_IN_RANGE_RE)),
        exp.LTE(this=exp.Length(this=t.copy()), expression=number(MAX_NUMBER_CHARS)),
    )


# --- row checks -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """One way a row can fail; only reached when every earlier check passed."""

    when: exp.Expression
    category: str
    reason: exp.Expression


def _unit_label(f: ir.Field) -> str:
    dim = format_dimension(f.type.dimension) or "dimensionless"
    return ("an " if dim[0] in "aeiou" else "a ") + dim


def _unit_checks(f: ir.Field) -> list[_Check]:
    name = f.name + "_unit"
    u, t = _cell(name), _trim(_cell(name))
    units = [c.unit for c in f.conversions]
    hint = exp.Coalesce(
        this=func("jsonb_extract_path_text", _cast(param("unit_hints"), "JSONB"), text(f.name), t),
        expressions=[text("use one of " + ", ".join(units))],
    )
    return [
        _Check(exp.and_(_filled(_cell(f.name)), _blank(u)), "missing_value", text(f"{name} is required but empty")),
        _Check(
            exp.and_(_filled(u), _not(_in(t, units))),
            "unknown_unit",
            _concat(f"{name} '", u, f"' is not {_unit_label(f)} unit (", hint, ")"),
        ),
    ]


def _value_checks(f: ir.Field) -> list[_Check]:
    """Checks of a non-empty value's form, by field kind."""
    v = _cell(f.name)
    t = _trim(v)
    kind = f.type.kind
    if kind == "quantity":
        checks = [
            _Check(exp.and_(_filled(v), _not(_valid_number(t))), "not_a_number", _concat(f"{f.name} '", v, "' is not a number")),
            _Check(exp.and_(_filled(v), _not(_in_range(t.copy()))), "number_out_of_range",
                   _concat(f"{f.name} '", v.copy(),
                           f"' is out of range (at most {MAX_NUMBER_CHARS} characters and an exponent of at most "
                           f"{MAX_EXPONENT_DIGITS} digits, which keeps the arithmetic on it exact)")),
        ]
        if _is_quantity(f):
            negative = exp.LT(this=_cast(_nullif_blank(v), "NUMERIC"), expression=number(0))
            checks.append(_Check(negative, "negative_quantity",
                                 _concat(f"{f.name} '", v, "' is negative; a quantity cannot be less than zero")))
        return checks + (_unit_checks(f) if has_unit_column(f) else [])
    if kind == "date":
        return [_Check(exp.and_(_filled(v), _not(_valid_date(t))), "bad_date",
                       _concat(f"{f.name} '", v, "' is not a valid date (expected YYYY-MM-DD)"))]
    if kind == "boolean":
        return [_Check(exp.and_(_filled(v), _not(_in(exp.Lower(this=t), _TRUE + _FALSE))), "bad_boolean",
                       _concat(f"{f.name} '", v, "' is not true or false (use true/false, yes/no or 1/0)"))]
    return []


def _field_checks(f: ir.Field) -> list[_Check]:
    required = [_Check(_blank(_cell(f.name)), "missing_value", text(f"{f.name} is required but empty"))]
    return (required if f.required else []) + _value_checks(f)


def _period_check(dataset: exp.Expression) -> _Check:
    """The row's period lies inside the dataset's reporting period (both days included)."""
    ps, pe = _trim(_cell("period_start")), _trim(_cell("period_end"))
    first, last = _cast(param("period_start"), "DATE"), _cast(param("period_end"), "DATE")
    row = _concat("period ", ps, "..", pe)
    reporting = _concat(" the reporting period ", _cast(param("period_start"), "TEXT"), "..",
                        _cast(param("period_end"), "TEXT"), " of dataset '", dataset, "'")
    starts_before = exp.LT(this=_cast(ps, "DATE"), expression=first)
    ends_after = exp.GT(this=_cast(pe, "DATE"), expression=last)
    reason = (
        exp.Case()
        .when(exp.or_(exp.LT(this=_cast(pe, "DATE"), expression=first), exp.GT(this=_cast(ps, "DATE"), expression=last)),
              _concat(row, " is outside", reporting))
        .when(starts_before.copy(), _concat(row, " starts before", reporting,
                                             "; split the row at ", _cast(param("period_start"), "TEXT")))
        .else_(_concat(row, " ends after", reporting, "; split the row after ", _cast(param("period_end"), "TEXT")))
    )
    return _Check(exp.or_(starts_before, ends_after), "outside_period", reason)


def _entity_check(dataset: exp.Expression) -> _Check:
    """The row's entity is one of the dataset's entity set (joined in ``_annotated``)."""
    entity = _cell("entity")
    hint = exp.Coalesce(
        this=func("jsonb_extract_path_text", _cast(param("entity_hints"), "JSONB"), entity),
        expressions=[_concat("see 'ccf entities show ", _cast(param("entity_set"), "TEXT"), "'")],
    )
    return _Check(
        _is_null(_icol(_KNOWN_ENTITY)), "unknown_entity",
        _concat("entity '", entity, "' is not an entity of entity set '", _cast(param("entity_set"), "TEXT"),
                "' bound to dataset '", dataset, "' (", hint, ")"),
    )


def _row_checks(ds: Dataset) -> list[_Check]:
    """Checks across fields and rows, once each field is known to be well formed."""
    ps, pe = _trim(_cell("period_start")), _trim(_cell("period_end"))
    aid = _cell("activity_id")
    prior_load, prior_line = _cast(_icol(_PRIOR_LOAD), "TEXT"), _cast(_icol(_PRIOR_LINE), "TEXT")
    dataset = _cast(param("dataset"), "TEXT")
    bound = ([_period_check(dataset)] if ds.period is not None else []) + (
        [_entity_check(dataset)] if ds.entity_set is not None else [])
    return [
        _Check(exp.LT(this=_cast(pe, "DATE"), expression=_cast(ps, "DATE")), "period_order",
               _concat("period_end ", pe, " is before period_start ", ps)),
        *bound,
        _Check(_is_not_null(_icol(_PRIOR_LOAD)), "duplicate_activity_id",
               _concat("activity_id '", aid, "' is already in dataset '", dataset,
                       "' (load ", prior_load, ", line ", prior_line, ")")),
        _Check(exp.GT(this=_icol(_LINE), expression=_icol(_FIRST_LINE)), "duplicate_activity_id",
               _concat("activity_id '", aid, "' appears more than once (also line ",
                       _cast(_icol(_FIRST_LINE), "TEXT"), ")")),
    ]


def _checks(at: ir.ActivityType, names: list[str], ds: Dataset) -> list[_Check]:
    """Every check, in the order a row's first failure is reported."""
    fields = [f for f in at.fields if f.name in names]
    return [c for f in fields for c in _field_checks(f)] + _row_checks(ds)


# --- statements -------------------------------------------------------------------------




def _create_staging(names: list[str], row_test: exp.Expression, numbered: bool = False) -> exp.Create:
    """The staging table; ``numbered``: its line numbers count up from 2 by themselves. ``row_test``
    (``_row_test``) is computed into ROW_OK as each row comes in."""
    identity = exp.ColumnConstraint(kind=exp.GeneratedAsIdentityColumnConstraint(this=False, start=number(2)))
    cols = [
        exp.ColumnDef(this=ident(_LINE), kind=exp.DataType.build("BIGINT"), constraints=[identity] if numbered else []),
        *[exp.ColumnDef(this=ident(n), kind=exp.DataType.build("TEXT"))
          for n in (_PRE_CATEGORY, _PRE_REASON, _PRE_RECORD)],
        *[exp.ColumnDef(this=ident(CELL_PREFIX + n), kind=exp.DataType.build("TEXT")) for n in names],
        exp.ColumnDef(this=ident(ROW_OK), kind=exp.DataType.build("BOOLEAN"),
                      constraints=[exp.ColumnConstraint(kind=exp.ComputedColumnConstraint(this=row_test))]),
    ]
    return exp.Create(
        this=exp.Schema(this=_temp(STAGING), expressions=cols),
        kind="TABLE",
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def _unit_columns(at: ir.ActivityType, names: list[str]) -> list[ir.Field]:
    return [f for f in at.fields if has_unit_column(f) and f.name + "_unit" in names]


def _unknown_units(fields: list[ir.Field]) -> exp.Expression:
    """Distinct (field, unit) pairs whose unit is not one the field accepts."""
    selects = []
    for f in fields:
        t = _trim(_cell(f.name + "_unit"))
        selects.append(
            exp.select(exp.alias_(text(f.name), "field"), exp.alias_(t, "unit"))
            .distinct()
            .from_(_temp(SLOW))
            .where(exp.and_(
                _is_null(_icol(_PRE_CATEGORY)),
                exp.NEQ(this=t, expression=text("")),
                _not(_in(t, [c.unit for c in f.conversions])),
            ))
        )
    return reduce(lambda a, b: exp.union(a, b, distinct=True), selects)


def _unit_hint(unit: str, units: list[str]) -> str | None:
    """'did you mean …?' naming the one closest unit, ignoring case first (KWH -> kWh)."""
    same = [u for u in units if u.lower() == unit.lower()]
    best = same[:1] or difflib.get_close_matches(unit, units, n=1, cutoff=0.6)
    return f"did you mean '{best[0]}'?" if best else None


def _hints(ex: Executor, at: ir.ActivityType, names: list[str]) -> str:
    """JSON {field: {unit: hint}} for every unknown unit that resembles a known one."""
    fields = _unit_columns(at, names)
    out: dict[str, dict[str, str]] = {}
    if not fields:
        return "{}"
    for field_name, unit in ex.rows(_unknown_units(fields)):
        f = at.field(field_name)
        hint = _unit_hint(unit, [c.unit for c in f.conversions]) if f else None
        if hint:
            out.setdefault(field_name, {})[unit] = hint
    return json.dumps(out, ensure_ascii=False)


def _entity_hints(ex: Executor, entity_set: str) -> str:
    """JSON {entity: "did you mean …?"} for every staged entity the set does not have that
    resembles one it has (one query for the distinct unknown codes, however many rows)."""
    codes = [c for (c,) in ex.rows(
        exp.select(_icol("entity")).from_(exp.Table(this=ident("entity"), db=ident("ccf")))
        .where(exp.EQ(this=_icol("entity_set"), expression=param("entity_set"))),
        {"entity_set": entity_set},
    )]
    unknown = (
        exp.select(_cell("entity")).distinct().from_(_temp(SLOW))
        .where(exp.and_(
            _is_null(_icol(_PRE_CATEGORY)),
            _filled(_cell("entity")),
            _not(exp.In(this=_cell("entity"), query=exp.select(_icol("entity")).from_(
                exp.Table(this=ident("entity"), db=ident("ccf"))).where(
                exp.EQ(this=_icol("entity_set"), expression=param("entity_set"))).subquery())),
        ))
    )
    out = {}
    for (code,) in ex.rows(unknown, {"entity_set": entity_set}):
        # ignoring a stray space and letter case first (' nw-uk' suggests 'NW-UK'), then close codes
        same = [c for c in codes if c.lower() == code.strip().lower()]
        hint = f"did you mean '{same[0]}'?" if len(same) == 1 else did_you_mean(code.strip(), codes)
        if hint:
            out[code] = hint
    return json.dumps(out, ensure_ascii=False)


def _annotated(at: ir.ActivityType, ds: Dataset) -> exp.Select:
    """The slow rows (SLOW) with the first line of their activity_id, any earlier load of it and,
    when the dataset has an entity set, the entity of the set that the row names."""
    first = exp.Window(
        this=exp.Min(this=_icol(_LINE, "s")),
        partition_by=[_cell("activity_id", "s"), exp.Paren(this=_is_null(_icol(_PRE_CATEGORY, "s")))],
    )
    on = exp.and_(
        exp.EQ(this=_icol("dataset", "a"), expression=param("dataset")),
        exp.EQ(this=_col("activity_id", "a"), expression=_cell("activity_id", "s")),
    )
    q = (
        exp.select(
            exp.Column(this=exp.Star(), table=ident("s")),
            exp.alias_(first, _FIRST_LINE),
            exp.alias_(_icol("load_id", "a"), _PRIOR_LOAD),
            exp.alias_(_icol("line_no", "a"), _PRIOR_LINE),
        )
        .from_(exp.alias_(_temp(SLOW), "s", table=True))
        .join(exp.alias_(activity_table(at), "a", table=True), on=on, join_type="LEFT")
    )
    if ds.entity_set is None:
        return q
    known = exp.and_(
        exp.EQ(this=_icol("entity_set", "e"), expression=param("entity_set")),
        exp.EQ(this=_icol("entity", "e"), expression=_cell("entity", "s")),
    )
    entities = exp.Table(this=ident("entity"), db=ident("ccf"), alias=exp.TableAlias(this=ident("e")))
    return q.select(exp.alias_(_icol("entity", "e"), _KNOWN_ENTITY)).join(entities, on=known, join_type="LEFT")


def _create_checked(at: ir.ActivityType, names: list[str], ds: Dataset) -> exp.Create:
    """CREATE TEMP TABLE … AS: each row with the index, category and reason of its first failed check."""
    checks = _checks(at, names, ds)
    which = exp.Case().when(_is_not_null(_icol(_PRE_CATEGORY)), number(0))
    category = exp.Case(this=_icol(_CHECK)).when(number(0), _icol(_PRE_CATEGORY))
    reason = exp.Case(this=_icol(_CHECK)).when(number(0), _icol(_PRE_REASON))
    for i, c in enumerate(checks, 1):
        which = which.when(c.when, number(i))
        category = category.when(number(i), text(c.category))
        reason = reason.when(number(i), c.reason)
    # OFFSET 0 keeps the planner from inlining _check into each of its three uses: the
    # checks are the costly part of a load and must run once per row.
    numbered = exp.select(exp.Column(this=exp.Star(), table=ident("d")), exp.alias_(which, _CHECK)).from_(
        exp.alias_(exp.Subquery(this=_annotated(at, ds)), "d", table=True)
    ).offset(number(0))
    query = exp.select(
        exp.Column(this=exp.Star(), table=ident("w")), exp.alias_(category, _CATEGORY), exp.alias_(reason, _REASON)
    ).from_(exp.alias_(exp.Subquery(this=numbered), "w", table=True))
    return exp.Create(
        this=_temp(CHECKED), kind="TABLE", expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def _failed() -> exp.Expression:
    return _is_not_null(_icol(_CATEGORY))


def _passed() -> exp.Expression:
    return _is_null(_icol(_CATEGORY))


def _count_where(cond: exp.Expression) -> exp.Expression:
    return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=cond))


def _insert_load() -> exp.Insert:
    """One ccf.activity_load row. Every rejected row is in the checked table (the fast path only
    takes rows that pass every check), so the rows loaded are the rest; ``_reconcile`` then holds
    them to the rows the activity INSERTs wrote."""
    cols = ["dataset", "activity_type", "activity_type_hash", "source_file", "sha256",
            "rows_read", "rows_loaded", "rows_rejected"]
    loaded = exp.Sub(this=_cast(param("rows_read"), "BIGINT"), expression=_count_where(_failed()))
    values = [param(c) for c in cols[:6]] + [loaded, _count_where(_failed())]
    select = exp.select(*values).from_(_temp(CHECKED))
    insert = exp.insert(select, exp.Schema(this=exp.Table(this=ident("activity_load"), db=ident("ccf")),
                                           expressions=[ident(c) for c in cols]))
    insert.set("returning", exp.Returning(expressions=[_icol("load_id"), _icol("rows_loaded"), _icol("rows_rejected")]))
    return insert


def _record(names: list[str]) -> exp.Expression:
    """The raw values as a JSONB object by column name (in chunks: functions take ≤ 100 args)."""
    chunks = []
    for i in range(0, len(names), _JSON_PAIRS):
        args = [a for n in names[i:i + _JSON_PAIRS] for a in (text(n), _cell(n))]
        chunks.append(func("jsonb_build_object", *args))
    built = reduce(lambda a, b: exp.DPipe(this=a, expression=b), chunks)
    return exp.Coalesce(this=_cast(_icol(_PRE_RECORD), "JSONB"), expressions=[built])


def _insert_rejected(names: list[str]) -> exp.Insert:
    cols = ["load_id", "dataset", "activity_type", "line_no", "activity_id", "record", "reason"]
    select = (
        exp.select(
            param("load_id"), param("dataset"), param("activity_type"), _icol(_LINE),
            _text_or_null(_cell("activity_id")),
            _record(names), _icol(_REASON),
        )
        .from_(_temp(CHECKED))
        .where(_failed())
        .order_by(_icol(_LINE))
    )
    return exp.insert(select, exp.Schema(this=exp.Table(this=ident("rejected"), db=ident("ccf")),
                                         expressions=[ident(c) for c in cols]))


def _typed(name: str, f: ir.Field) -> exp.Expression:
    """The stored value of a validated cell: blanks become NULL, the rest cast from text."""
    v = _cell(name)
    if name != f.name:  # the unit column: validated against the field's unit list
        return _nullif_blank(v)
    kind = f.type.kind
    if kind == "quantity":
        return _cast(_nullif_blank(v), "NUMERIC")
    if kind == "date":
        return _cast(_nullif_blank(v), "DATE")
    if kind == "boolean":
        is_true = _in(exp.Lower(this=_trim(v)), _TRUE)
        return exp.Case().when(_blank(v), exp.null()).when(is_true, exp.true()).else_(exp.false())
    return _text_or_null(v)


def _text_or_null(v: exp.Expression) -> exp.Expression:
    """Text exactly as written, or NULL when blank."""
    return exp.Case().when(_blank(v), exp.null()).else_(v)


def _insert_activity(at: ir.ActivityType, names: list[str]) -> exp.Insert:
    present = [(n, f) for n, f in csv_columns(at) if n in names]
    target = ["dataset", "load_id", "line_no"] + [n for n, _ in present]
    values = [param("dataset"), param("load_id"), _icol(_LINE)] + [_typed(n, f) for n, f in present]
    select = exp.select(*values).from_(_temp(CHECKED)).where(_passed())
    schema = exp.Schema(this=activity_table(at), expressions=[_fid(c) for c in target])
    return exp.insert(select, schema)


def _reason_counts() -> exp.Select:
    return (
        exp.select(_icol(_CATEGORY), exp.Count(this=exp.Star()))
        .from_(_temp(CHECKED))
        .where(_failed())
        .group_by(_icol(_CATEGORY))
        .order_by(_icol(_CATEGORY))
    )


def _drop_temps() -> exp.Drop:
    # Dropped explicitly: the caller may hold an outer transaction and load again in it.
    temps = (STAGING, SLOW, PERIODS, DATES, REPEATED, CHECKED)
    return exp.Drop(kind="TABLE", exists=True, tables=[_temp(t) for t in temps])


# --- the fast path ------------------------------------------------------------------------
#
# Most rows pass every check. The fast test decides that cheaply for each staged row; it is TRUE
# only for a row the checks above pass (never the other way round):
#
# - ``_row_test``, what one row decides alone, computed by the staging table as the rows are
#   copied in (a stored generated column, ROW_OK): not refused while staging, required text not
#   blank (``<> ''`` and ``NOT LIKE ' %'``: no trimming), numbers matching ``_NUMBER_RE`` as
#   written (no '-' for quantities), units and booleans by exact membership;
# - ``_fast_plan``'s lookups, joined by hash: the period pair among the distinct pairs that pass
#   their checks (PERIODS: required, ``_valid_date``, period_order, outside_period, each checked
#   once per distinct pair, however many rows), other dates among their distinct valid texts
#   (DATES), the activity id neither staged twice (REPEATED) nor already in the dataset, the
#   entity in the dataset's entity set.
#
# Those rows are inserted straight from the staging table (``_insert_fast``); every other row — a
# bad one, or a good one the fast test does not recognise (a cell with spaces around it, a
# quantity of '-0', 'TRUE' for true) — goes to SLOW and through the one-by-one
# checks of ``_create_checked``, which alone decide rejections and their reasons, as before.
# A fast row's activity id is staged once, so the repeated-id window over the slow rows alone
# sees every row of their ids, and the reasons are the same as over all rows.

FAST_PATH = True  # tests turn it off: every row then goes through the one-by-one checks

_OK = "_fast_ok"
ROW_OK = "_row_ok"  # staging column: ``_row_test`` of the row


@dataclass(frozen=True)
class _FastPlan:
    source: exp.Select  # SELECT … FROM staging s LEFT JOIN …: the joins the test needs
    ok: exp.Expression  # TRUE only for a row that passes every check
    values: list[tuple[str, exp.Expression]]  # activity column -> its stored value, for an ok row (over ``tested``)
    looked_up: list[exp.Expression]  # the values of the lookup tables that ``values`` use

    def tested(self, *columns: exp.Expression) -> exp.Subquery:
        """``columns`` and the test (as _fast_ok) of every staged row. OFFSET 0 keeps the planner
        from reading the test as join conditions: it would turn the LEFT JOINs into inner and
        anti joins with a guessed selectivity of ≈ 0 rows, and nested loops over the staging rows."""
        q = self.source.copy().select(*columns, exp.alias_(self.ok.copy(), _OK)).offset(number(0))
        return exp.alias_(exp.Subquery(this=q), "t", table=True)


def _scol(name: str) -> exp.Column:
    """A staged cell of the fast path's source (alias s)."""
    return _cell(name, "s")


def _passes(checks: list[_Check]) -> exp.Expression:
    """TRUE when none of ``checks`` (in order: each may rely on the ones before) fires."""
    case = exp.Case()
    for c in checks:
        case = case.when(c.when, exp.false())
    return case.else_(exp.true())


def _unstaged() -> exp.Expression:
    return _is_null(_icol(_PRE_CATEGORY))


def _not_blank_fast(v: exp.Expression) -> exp.Expression:
    """Non-blank, decided without trimming: a blank cell (only spaces) is '' or starts with one."""
    return exp.and_(exp.NEQ(this=v, expression=text("")), _not(exp.Like(this=v.copy(), expression=text(" %"))))


def _text_fast(v: exp.Expression) -> exp.Expression:
    """``_text_or_null`` without trimming the common case: NULL when blank, else the text."""
    return (exp.Case().when(exp.EQ(this=v, expression=text("")), exp.null())
            .when(_not(exp.Like(this=v.copy(), expression=text(" %"))), v.copy())
            .when(_blank(v.copy()), exp.null()).else_(v.copy()))


def _number_fast(v: exp.Expression, non_negative: bool) -> exp.Expression:
    """A number ``_valid_number`` and ``_in_range`` accept as written (no spaces), not negative when asked."""
    ok = _in_range(v)
    return exp.and_(ok, _not(exp.Like(this=v.copy(), expression=text("-%")))) if non_negative else ok


def _or_blank(v: exp.Expression, test: exp.Expression, required: bool) -> exp.Expression:
    return test if required else exp.or_(exp.EQ(this=v.copy(), expression=text("")), test)


def _create_temp(name: str, query: exp.Expression) -> exp.Create:
    return exp.Create(this=_temp(name), kind="TABLE", expression=query,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def _create_periods(at: ir.ActivityType, ds: Dataset) -> exp.Create:
    """The distinct (period_start, period_end) pairs that pass every check on them — required,
    valid date, period_order, outside_period, the expressions of ``_checks`` — with their dates
    as ``_typed`` stores them. (Pairs of rows refused while staging are harmless: such a row
    fails ROW_OK, and their NULL cells match no row.)"""
    fields = [f for f in at.fields if f.name in ("period_start", "period_end")]
    checks = [c for f in fields for c in _field_checks(f)]
    checks += [c for c in _row_checks(ds) if c.category in ("period_order", "outside_period")]
    # OFFSET 0: the checks must run on the distinct pairs, not be pushed down onto every row
    pairs = exp.select(_cell("period_start"), _cell("period_end")).distinct().from_(_temp(STAGING)).offset(number(0))
    query = (exp.select(_cell("period_start"), _cell("period_end"),
                        *[exp.alias_(_typed(f.name, f), "_" + f.name) for f in fields])
             .from_(exp.alias_(exp.Subquery(this=pairs), "p", table=True))
             .where(_passes(checks)))
    return _create_temp(PERIODS, query)


def _create_dates(fields: list[ir.Field]) -> exp.Create:
    """The distinct texts of the other date columns that ``_valid_date`` accepts as written
    (without spaces: the regex must match the untrimmed text), with their dates."""
    v = _icol("v")
    selects = [exp.select(exp.alias_(_cell(f.name), "v")).distinct().from_(_temp(STAGING)) for f in fields]
    union = reduce(lambda a, b: exp.union(a, b, distinct=True), selects).offset(number(0))
    query = (exp.select(v, exp.alias_(_cast(v.copy(), "DATE"), "d"))
             .from_(exp.alias_(exp.Subquery(this=union), "u", table=True))
             .where(_valid_date(v.copy())))
    return _create_temp(DATES, query)


def _id_hash(aid: exp.Expression) -> exp.Expression:
    return func("hashtextextended", aid, number(0))


def _create_repeated() -> exp.Create:
    """The 64-bit hashes of the activity ids staged more than once: their rows all go through the
    one-by-one checks. So do, harmlessly, a once-staged id whose hash collides with another's and
    an id shared with a row refused while staging (which the checks count apart). Hashes, not
    ids: the aggregate over every staged id is smaller and faster."""
    h = _id_hash(_cell("activity_id"))
    query = (exp.select(exp.alias_(h, "h")).from_(_temp(STAGING))
             .group_by(h.copy()).having(exp.GT(this=exp.Count(this=exp.Star()), expression=number(1))))
    return _create_temp(REPEATED, query)


def _has_rows(at: ir.ActivityType) -> exp.Select:
    """Whether the dataset has rows of this activity type already (then ids are checked against them)."""
    rows = (exp.select(number(1)).from_(activity_table(at))
            .where(exp.EQ(this=_icol("dataset"), expression=param("dataset"))))
    return exp.select(exp.Exists(this=rows))


def _left_join(q: exp.Select, table: exp.Table, alias: str, on: exp.Expression) -> exp.Select:
    return q.join(exp.alias_(table, alias, table=True), on=on, join_type="LEFT")


def _fast_ready(at: ir.ActivityType, names: list[str]) -> bool:
    return FAST_PATH and {"activity_id", "period_start", "period_end"} <= set(names)


def _row_test(at: ir.ActivityType, names: list[str]) -> exp.Expression:
    """The part of the fast test that reads one staged row alone (no lookups): not refused while
    staging, required text not blank, numbers, units and booleans as written. The staging table
    computes it while the rows are copied in (``ROW_OK``, a stored generated column), once a row."""
    if not _fast_ready(at, names):
        return exp.false()
    ok: list[exp.Expression] = [_unstaged()]
    for name, f in csv_columns(at):
        if name not in names or name in ("period_start", "period_end"):
            continue
        v, required = _cell(name), f.required or f.name in STANDARD_FIELDS
        kind = f.type.kind
        if name != f.name:  # a unit column: one of the field's units as written, or blank with its quantity
            units = [c.unit for c in f.conversions if c.unit and c.unit == c.unit.strip(" ")]
            known = _in(v, units) if units else exp.false()
            both_blank = exp.and_(exp.EQ(this=v.copy(), expression=text("")),
                                  exp.EQ(this=_cell(f.name), expression=text("")))
            ok.append(exp.Paren(this=exp.or_(known, both_blank)))
        elif kind == "quantity":
            ok.append(exp.Paren(this=_or_blank(v, _number_fast(v.copy(), _is_quantity(f)), required)))
        elif kind == "boolean":
            ok.append(exp.Paren(this=_or_blank(v, _in(v.copy(), _TRUE + _FALSE), required)))
        elif kind == "text" and required:
            ok.append(_not_blank_fast(v))
        # dates: looked up in DATES by ``_fast_plan``
    return exp.and_(*ok)


def _fast_plan(ex: Executor, at: ir.ActivityType, names: list[str], ds: Dataset, params: dict) -> _FastPlan:
    """Build the lookup tables of the fast test and return the test; see the section comment."""
    source = exp.select().from_(exp.alias_(_temp(STAGING), "s", table=True))
    if not _fast_ready(at, names):
        return _FastPlan(source, exp.false(), [], [])
    present = [(n, f) for n, f in csv_columns(at) if n in names]
    ex.execute(_create_periods(at, ds), params)
    repeated = ex.execute(_create_repeated()).rowcount
    # small tables, but the planner must know it (temp tables get no autovacuum statistics), or
    # it hashes the staging table instead of them
    ex.execute(exp.Analyze(tables=[_temp(PERIODS), _temp(REPEATED)]))
    same = lambda table_alias, col: exp.EQ(this=_cell(col, table_alias), expression=_scol(col))  # noqa: E731
    q = _left_join(source, _temp(PERIODS), "p", exp.and_(same("p", "period_start"), same("p", "period_end")))
    ok: list[exp.Expression] = [_icol(ROW_OK, "s"), _is_not_null(_cell("period_start", "p"))]
    if repeated:  # (none, usually: then the join is left out)
        q = _left_join(q, _temp(REPEATED), "r", exp.EQ(this=_icol("h", "r"), expression=_id_hash(_scol("activity_id"))))
        ok.append(_is_null(_icol("h", "r")))
    if ex.one(_has_rows(at), params) == (True,):
        on = exp.and_(exp.EQ(this=_icol("dataset", "a"), expression=param("dataset")),
                      exp.EQ(this=_col("activity_id", "a"), expression=_scol("activity_id")))
        q = _left_join(q, activity_table(at), "a", on)
        ok.append(_is_null(_col("activity_id", "a")))
    if ds.entity_set is not None:
        on = exp.and_(exp.EQ(this=_icol("entity_set", "e"), expression=param("entity_set")),
                      exp.EQ(this=_icol("entity", "e"), expression=_scol("entity")))
        q = _left_join(q, exp.Table(this=ident("entity"), db=ident("ccf")), "e", on)
        ok.append(_is_not_null(_icol("entity", "e")))
    other_dates = [f for _, f in present if f.type.kind == "date" and f.name not in ("period_start", "period_end")]
    if other_dates:
        ex.execute(_create_dates(other_dates))
        ex.execute(exp.Analyze(tables=[_temp(DATES)]))
    values: list[tuple[str, exp.Expression]] = []
    looked_up: list[exp.Expression] = []
    t = lambda name: _cell(name, "t")  # noqa: E731  (the staged cell, in ``values``)
    for name, f in present:
        kind = f.type.kind
        if name != f.name:  # a unit column
            values.append((name, exp.Nullif(this=t(name), expression=text(""))))
        elif name in ("period_start", "period_end"):
            looked_up.append(_icol("_" + name, "p"))
            values.append((name, _icol("_" + name, "t")))
        elif kind == "quantity":
            values.append((name, _cast(exp.Nullif(this=t(name), expression=text("")), "NUMERIC")))
        elif kind == "date":
            alias, v = f"d{len(looked_up)}", _scol(name)
            q = _left_join(q, _temp(DATES), alias, exp.EQ(this=_icol("v", alias), expression=v))
            required = f.required or f.name in STANDARD_FIELDS
            ok.append(exp.Paren(this=_or_blank(v, _is_not_null(_icol("v", alias)), required)))
            looked_up.append(exp.alias_(_icol("d", alias), f"_{alias}"))
            values.append((name, _icol(f"_{alias}", "t")))
        elif kind == "boolean":
            values.append((name, exp.Case().when(exp.EQ(this=t(name), expression=text("")), exp.null())
                           .when(_in(t(name), _TRUE), exp.true()).else_(exp.false())))
        else:  # text: a required one is not blank (``_row_test``)
            required = f.required or f.name in STANDARD_FIELDS
            values.append((name, t(name) if required else _text_fast(t(name))))
    return _FastPlan(q, exp.and_(*ok), values, looked_up)


def _create_slow(fast: _FastPlan, names: list[str]) -> exp.Create:
    """The staged rows the fast test does not pass (NULL counts as not passed)."""
    staged = [_LINE, _PRE_CATEGORY, _PRE_REASON, _PRE_RECORD]
    columns = [_icol(c, "s") for c in staged] + [_scol(n) for n in names]
    passed = exp.Is(this=_icol(_OK), expression=exp.true())
    query = (exp.select(*[_icol(c) for c in staged], *[_cell(n) for n in names])
             .from_(fast.tested(*columns)).where(_not(passed)))
    return _create_temp(SLOW, query)


def _insert_fast(at: ir.ActivityType, fast: _FastPlan) -> exp.Insert:
    """The rows that pass the fast test, typed, straight into the activity table."""
    target = ["dataset", "load_id", "line_no"] + [n for n, _ in fast.values]
    staged = [n for n, _ in fast.values if n not in ("period_start", "period_end")]
    columns = [_icol(_LINE, "s"), *[_scol(n) for n in staged], *[c.copy() for c in fast.looked_up]]
    select = (exp.select(param("dataset"), param("load_id"), _icol(_LINE, "t"), *[v.copy() for _, v in fast.values])
              .from_(fast.tested(*columns)).where(_icol(_OK, "t")))
    return exp.insert(select, exp.Schema(this=activity_table(at), expressions=[_fid(c) for c in target]))



# --- the load ---------------------------------------------------------------------------


def _open(path: Path) -> BinaryIO:
    """The file for reading; only a regular file. A device such as /dev/zero never ends, a FIFO
    blocks until a writer comes, and the loader reads a file twice (``_stage_plain`` first,
    ``_Source`` if it is not plain CSV): so those are refused, before opening (opening a FIFO
    already blocks)."""
    if str(path) == "-" and not path.exists():
        raise LoadError("standard input cannot be loaded (a file is read twice): save the data to a CSV file first")
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
            raise LoadError(f"not a regular file ({kind}): ccf loads CSV files saved on disk", path)
        return path.open("rb")
    except OSError as e:
        raise LoadError(f"cannot read file: {e.strerror}", path) from None


def load_csv(
    conn: psycopg.Connection,
    dataset: str,
    at: ir.ActivityType,
    path: Path,
    progress: Callable[[int], None] | None = None,
    *,
    period: ReportingPeriod | None = None,
    entity_set: str | None = None,
    max_rejects: RejectLimit = RejectLimit(),
) -> LoadReport:
    """Load one CSV into ``dataset`` in one transaction; every row is loaded or rejected.

    ``period`` and ``entity_set`` are stored on the dataset by its first load; a later load may
    leave them out (the stored ones apply) but not give others (LoadError). More rejected rows
    than ``max_rejects`` allows is a LoadError, and nothing is committed."""
    path = Path(path)
    if "\x00" in dataset or not dataset.strip():
        raise LoadError(f"invalid dataset name {dataset!r}")
    with _open(path) as stream:
        source = _Source(path, stream)
        records = source.records()
        header = next(records, None)
        if header is None:
            raise LoadError("empty file: expected a header row", path, 1 if source.size else None)
        names = check_header(header[1], at, path)
        ex = Executor(conn)
        with conn.transaction():
            ds = bind_dataset(ex, Dataset(dataset, period, entity_set))
            report = _load(ex, ds, at, source, names, _staged(records, names, progress), progress)
            if max_rejects.exceeded(report.rows_read, report.rows_rejected):
                raise LoadError(_too_many_rejects(ex, report, max_rejects), path)
            return report


def _too_many_rejects(ex: Executor, report: LoadReport, limit: RejectLimit) -> str:
    """The refusal of a load past its reject limit, with the reasons and the first rejected rows
    (ccf.rejected will not keep them: the load is rolled back)."""
    first = ex.rows(
        exp.select(_icol("line_no"), _icol("reason")).from_(exp.Table(this=ident("rejected"), db=ident("ccf")))
        .where(exp.EQ(this=_icol("load_id"), expression=param("load_id"))).order_by(_icol("line_no")).limit(3),
        {"load_id": report.load_id},
    )
    counts = ", ".join(f"{n} × {reason}" for reason, n in report.reasons)
    examples = "; ".join(f"line {line}: {reason}" for line, reason in first)
    return (f"{report.rows_rejected} of {report.rows_read} rows rejected, more than --max-rejects allows "
            f"({limit}); nothing was loaded. Rejected: {counts}; first: {examples}. Fix the file, or allow "
            "rejected rows with --max-rejects N or P%")


# --- datasets ---------------------------------------------------------------------------

_DATASET = exp.Table(this=ident("dataset"), db=ident("ccf"))


def dataset_info(ex: Executor, name: str) -> Dataset | None:
    """The dataset as stored, or None if nothing was ever loaded into it."""
    row = ex.one(
        exp.select(_icol("period_start"), _icol("period_end"), _icol("entity_set")).from_(_DATASET)
        .where(exp.EQ(this=_icol("dataset"), expression=param("dataset"))),
        {"dataset": name},
    )
    if row is None:
        return None
    start, end, entity_set = row
    return Dataset(name, ReportingPeriod(start, end) if start is not None else None, entity_set)


def require_dataset(ex: Executor, name: str) -> Dataset:
    """The dataset as stored; CcfError when nothing was ever loaded into it (a misspelt name would
    otherwise run over no rows and report zero emissions), naming the closest datasets that exist."""
    found = dataset_info(ex, name)
    if found is not None:
        return found
    names = [n for (n,) in ex.rows(exp.select(_icol("dataset")).from_(_DATASET).order_by(_icol("dataset")))]
    if not names:
        raise CcfError(f"no dataset {name!r}: nothing has been loaded yet (a dataset is created by its first "
                       "'ccf load --dataset NAME')")
    hint = did_you_mean(name, names)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise CcfError(f"no dataset {name!r}; " + (hint or f"the datasets are: {shown}"))


def dataset_loads(ex: Executor, name: str) -> list[int]:
    """The loads of a dataset that this transaction's snapshot holds, in order. Loads are only
    ever added, each in one transaction with its rows, so these ids name exactly the rows read."""
    rows = ex.rows(
        exp.select(_icol("load_id")).from_(exp.Table(this=ident("activity_load"), db=ident("ccf")))
        .where(exp.EQ(this=_icol("dataset"), expression=param("dataset"))).order_by(_icol("load_id")),
        {"dataset": name},
    )
    return [r[0] for r in rows]


def bind_dataset(ex: Executor, wanted: Dataset) -> Dataset:
    """Create the dataset with the period and entity set asked for, or check them against the
    ones it was created with (rows already loaded were checked against those)."""
    if wanted.entity_set is not None:
        found = ex.one(
            exp.select(_icol("entity_set")).from_(exp.Table(this=ident("entity_set"), db=ident("ccf")))
            .where(exp.EQ(this=_icol("entity_set"), expression=param("entity_set"))),
            {"entity_set": wanted.entity_set},
        )
        if found is None:
            raise LoadError(f"no entity set {wanted.entity_set!r}: load it first with "
                            f"'ccf entities load FILE --set {wanted.entity_set}' (see 'ccf entities list')")
    period = wanted.period
    cols = ["dataset", "period_start", "period_end", "entity_set"]
    params = {"dataset": wanted.name, "period_start": period.start if period else None,
              "period_end": period.end if period else None, "entity_set": wanted.entity_set}
    insert = exp.insert(
        exp.select(param("dataset"), _cast(param("period_start"), "DATE"), _cast(param("period_end"), "DATE"),
                   _cast(param("entity_set"), "TEXT")),
        exp.Schema(this=_DATASET, expressions=[ident(c) for c in cols]),
    )
    insert.set("conflict", exp.OnConflict(conflict_keys=[ident("dataset")], action=exp.var("DO NOTHING")))
    if ex.execute(insert, params).rowcount == 1:
        return wanted
    stored = dataset_info(ex, wanted.name)
    assert stored is not None  # it conflicted, so it exists
    name = wanted.name
    if wanted.period is not None and stored.period != wanted.period:
        if stored.period is None:
            raise LoadError(f"dataset {name!r} was created without a reporting period, so its rows were not checked "
                            f"against one; load into a new dataset to use the period {wanted.period}")
        raise LoadError(f"dataset {name!r} has the reporting period {stored.period}, not {wanted.period}: a dataset "
                        "keeps the period it was created with (leave --period out, or load into a new dataset)")
    if wanted.entity_set is not None and stored.entity_set != wanted.entity_set:
        if stored.entity_set is None:
            raise LoadError(f"dataset {name!r} was created without an entity set, so its rows' entities were not "
                            f"checked; load into a new dataset to bind it to entity set {wanted.entity_set!r}")
        raise LoadError(f"dataset {name!r} is bound to entity set {stored.entity_set!r}, not {wanted.entity_set!r}: "
                        "a dataset keeps the entity set it was created with (leave --entities out, or load into "
                        "a new dataset)")
    return stored


def _set_work_mem(ex: Executor, value: str) -> str:
    """Set work_mem for the rest of the transaction; the value it had."""
    row = ex.one(exp.select(func("current_setting", text("work_mem")),
                            func("set_config", text("work_mem"), param("work_mem"), exp.true())), {"work_mem": value})
    assert row is not None
    return row[0]


def _load(ex: Executor, ds: Dataset, at: ir.ActivityType, source: _Source, names: list[str],
          rows: Iterator[tuple], progress: Callable[[int], None] | None = None) -> LoadReport:
    """The statements of one load, inside the caller's transaction."""
    dataset = ds.name
    ex.execute(locks.load_lock(), {"lock_key": locks.load_lock_key(at.id)})
    work_mem = _set_work_mem(ex, LOAD_WORK_MEM)
    ensure_activity_table(ex, at)
    # PostgreSQL parses a plain CSV file (measured: docs/performance.md); any other goes record
    # by record through Python, which finds and rejects each bad record
    row_test = _row_test(at, names)
    staged = _stage_plain(ex, names, row_test, source.path, progress)
    if staged is None:
        staged = _stage_rows(ex, names, row_test, rows), source.digest.hexdigest()
    rows_read, sha256 = staged
    params: dict[str, object] = {
        "dataset": dataset, "activity_type": at.id, "activity_type_hash": at.content_hash,
        "source_file": str(source.path), "sha256": sha256, "rows_read": rows_read,
    }
    if ds.period is not None:
        params |= {"period_start": ds.period.start, "period_end": ds.period.end}
    if ds.entity_set is not None:
        params["entity_set"] = ds.entity_set
    # The fast path (section "the fast path"): rows that pass every check, decided cheaply, go
    # straight to the activity table; every other row is checked one by one (``_create_checked``).
    fast = _fast_plan(ex, at, names, ds, params)
    slow = ex.execute(_create_slow(fast, names), params).rowcount
    params["unit_hints"] = _hints(ex, at, names)
    if ds.entity_set is not None:
        params["entity_hints"] = _entity_hints(ex, ds.entity_set)
    ex.execute(_create_checked(at, names, ds), params)
    row = ex.one(_insert_load(), params)
    assert row is not None  # INSERT … RETURNING of one row
    load_id, loaded, rejected = row
    params["load_id"] = load_id
    rejected_rows = ex.execute(_insert_rejected(names), params).rowcount
    # (when every row is a slow one, e.g. a file loaded twice, there is nothing to insert fast)
    loaded_rows = ex.execute(_insert_fast(at, fast), params).rowcount if slow < rows_read else 0
    loaded_rows += ex.execute(_insert_activity(at, names), params).rowcount
    # Fresh statistics for the run that follows (autovacuum may not have run yet): without them
    # the planner misjudges the keys of factor matching (measured: 25 s instead of 0.26 s for
    # 200k spend rows, docs/performance.md). From a 3,000-row sample: matching and runs took
    # the same time as with the default 30,000, and the ANALYZE 0.08-0.14 s instead of 0.8-3.5 s
    # for the four 1M-row bench files.
    ex.analyze_sample(activity_table(at))
    reasons = tuple((category, int(n)) for category, n in ex.rows(_reason_counts()))
    ex.execute(_drop_temps())
    _set_work_mem(ex, work_mem)
    _reconcile(source.path, rows_read, loaded, rejected, loaded_rows, rejected_rows)
    return LoadReport(load_id, dataset, at.id, str(source.path), sha256,
                      rows_read, loaded, rejected, reasons, ds.period, ds.entity_set)


# --- staging a plain CSV file: PostgreSQL parses it ---------------------------------------

_BOM = b"\xef\xbb\xbf"
_BLOCK = 1 << 20
# A well-formed quoted cell: it starts a field, doubles its quotes, has no line break and ends
# a field. A line whose every '"' lies in such a cell reads the same in Python's csv module and
# PostgreSQL's CSV COPY; any other quote (e.g. a '"' inside an unquoted cell, which Python keeps
# and PostgreSQL takes as the start of quoting) sends the file through Python.
# The pattern starts with the quote itself (the field start is checked by the look-behind after
# it): a literal first character lets the regex engine skip to each quote (4x faster than
# ``(?<![^,\n])"…``, which it matched the same; tests/engine/test_load_fast.py compares them).
_QUOTED_CELL = re.compile(rb'"(?<![^,\n]")(?:[^"\r\n]|"")*"(?=[,\r\n]|\Z)')


class _NotPlain(Exception):
    """The file is not plain CSV (``_plain_blocks``): it is staged record by record in Python."""


def _check_plain(block: bytes) -> None:
    """Raise _NotPlain unless PostgreSQL reads these whole lines exactly as ``_Source`` would:
    no NUL, CR only in CRLF, every quote in a well-formed quoted cell, no line longer than the
    csv module's field limit (which it refuses and PostgreSQL would not)."""
    if b"\x00" in block or block.count(b"\r") != block.count(b"\r\n"):
        raise _NotPlain
    if b'"' in block and b'"' in _QUOTED_CELL.sub(b"", block):
        raise _NotPlain
    if len(block) > csv.field_size_limit() and max(map(len, block.split(b"\n"))) > csv.field_size_limit():
        raise _NotPlain


def _plain_blocks(stream: BinaryIO, digest: "hashlib._Hash", lines: list[int],
                  progress: Callable[[int], None] | None) -> Iterator[bytes]:
    """The file's bytes in blocks of whole lines (a leading BOM dropped), each checked by
    ``_check_plain`` and hashed as it passes; appends the number of physical lines to ``lines``."""
    tail, count, reported, first, last = b"", 0, 0, True, b"\n"
    while True:
        raw = stream.read(_BLOCK)
        digest.update(raw)
        if first and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        first = False
        data = tail + raw
        cut = data.rfind(b"\n") + 1 if raw else len(data)
        data, tail = data[:cut], data[cut:]
        if data:
            _check_plain(data)
            count += data.count(b"\n")
            last = data[-1:]
            while progress is not None and count - 1 >= reported + PROGRESS_EVERY:  # records read (the header is no record)
                reported += PROGRESS_EVERY
                progress(reported)
            yield data
        if not raw:
            break
    lines.append(count + (0 if last == b"\n" else 1))


def _stage_plain(ex: Executor, names: list[str], row_test: exp.Expression, path: Path,
                 progress: Callable[[int], None] | None) -> tuple[int, str] | None:
    """Stage the whole file with one COPY … (FORMAT CSV) of its bytes: (records, sha256), or
    None (nothing staged) when it is not plain CSV, so that ``_stage_rows`` reads it record by
    record and rejects bad records with their reasons. Plain means every record is one line
    (records + header = physical lines: no blank lines, no line breaks inside cells) and passes
    ``_check_plain``; PostgreSQL refuses anything else it reads differently (a wrong field count,
    bad UTF-8), which also sends the file through Python. Lines are numbered by the staging
    table's identity column in COPY order, from 2 (the header is line 1)."""
    if ex.conn.info.encoding != "utf-8":
        return None
    digest, lines = hashlib.sha256(), []
    try:
        with ex.conn.transaction():  # a savepoint: a refused file leaves nothing staged
            ex.execute(_create_staging(names, row_test, numbered=True))
            with _open(path) as stream:
                n = ex.copy_csv(_temp(STAGING), [CELL_PREFIX + c for c in names],
                                _plain_blocks(stream, digest, lines, progress))
            if lines != [n + 1]:
                raise _NotPlain
    except (_NotPlain, psycopg.errors.DataError):
        return None
    return n, digest.hexdigest()


def _stage_rows(ex: Executor, names: list[str], row_test: exp.Expression, rows: Iterator[tuple]) -> int:
    """COPY every record into a fresh staging table; the number of records."""
    ex.execute(_create_staging(names, row_test))
    columns = [_LINE, _PRE_CATEGORY, _PRE_REASON, _PRE_RECORD, *(CELL_PREFIX + n for n in names)]
    return ex.copy_rows(_temp(STAGING), columns, rows)


def _reconcile(path: Path, read: int, loaded: int, rejected: int, loaded_rows: int, rejected_rows: int) -> None:
    """Refuse to commit unless every row read is accounted for exactly once."""
    if read != loaded + rejected or (loaded, rejected) != (loaded_rows, rejected_rows):
        raise LoadError(
            f"internal error: rows do not reconcile (read {read}, loaded {loaded_rows} of {loaded}, "
            f"rejected {rejected_rows} of {rejected}); nothing was loaded",
            path,
        )


__all__ = [
    "Dataset", "LoadError", "LoadReport", "RejectLimit", "ReportingPeriod", "activity_table", "bind_dataset",
    "dataset_info", "check_header", "csv_columns", "ensure_activity_table", "load_csv", "prepare_activity_tables",
    "require_dataset",
]
