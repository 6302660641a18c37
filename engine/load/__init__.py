"""Load activity files (CSV, XLSX, Parquet) into PostgreSQL, typed and validated; nothing is ever lost.

CSV contract: UTF-8 (a leading byte-order mark is dropped), comma-separated, header row
first. Columns, in any order: ``activity_id``, ``entity``, ``period_start``, ``period_end``,
every field of the activity type, and ``<field>_unit`` for each quantity whose unit is given
per row. Optional fields may be left out of the header (a field and its unit column go
together); another column is left out with a notice, unless it looks like a misspelt one.
Fully blank lines carry no data and are skipped; every other record is either
loaded into ``ccf."activity_<type>"`` or written to ``ccf.rejected`` with a plain reason.
Other files are read into the same records first: another CSV dialect (dialect.py), a column
mapping (mapping.py), XLSX and Parquet (formats.py), each record turned into ccf's text by its
layout (layout.py), where a cell the dialect cannot read rejects its row.

How a load runs (one transaction, so a failure leaves nothing behind), and where each step lives:
the activity table (tables.py), the dataset (datasets.py), then

1. A plain CSV file (ccf's own dialect, no mapping, no column left out; every record one line
   with the header's field count, every quote in a well-formed quoted cell, no NUL; source.py
   ``stage_plain``) is staged by one ``COPY … (FORMAT CSV)``
   of its bytes: PostgreSQL parses it, reading exactly what step 1' would (tests/engine/
   test_load_plain.py compares both on the database), with no per-record Python work.
   1'. Any other file, or one PostgreSQL refuses (a wrong field count, bad UTF-8), is staged by
   Python record by record: its encoding per physical line (a bad byte is a whole-file ``LoadError``
   naming the line), ``csv`` for quoting, records keep the line they start on (an XLSX or
   Parquet record its row); each through its layout (layout.py). A file that ends
   inside a quoted cell (a truncated export; never plain, so always read here) is a whole-file
   ``LoadError`` naming the line the quote opens on. Only checks that need no types happen
   here: field count and NUL characters (which PostgreSQL text cannot hold). Every record, good
   or bad, is COPYed as text into a temporary staging table.
2. A fixed number of set-based statements, independent of the row count, classify and
   move the rows. A fast test (fast.py) picks the rows that pass every check:
   its per-row part is computed by the staging table as the rows are copied in, dates are
   checked once per distinct value, repeated ids are found by one aggregate (by a dataset's
   first load, by its new partition's key, falling back to the aggregate: fast.py); those rows go
   straight into the activity table, typed, in one INSERT. Every other row (few, usually) is
   copied aside and checked one by one (slow.py, with the checks of checks.py): unknown units are collected (for did-you-mean hints),
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

import functools
import re
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Callable, Iterator

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import EXACT
from ccf.engine import locks
from ccf.engine.database import connect_again
from ccf.engine.load import source as staging
from ccf.engine.load.base import CELL_PREFIX, SLOW, STAGING, LoadError, icol, temp
from ccf.engine.load.checks import REASONS
from ccf.engine.load.datasets import (
    Dataset, ReportingPeriod, bind_dataset, dataset_info, dataset_loads, require_dataset,
)
from ccf.engine.load.fast import (
    create_slow, fast_plan, insert_fast, is_fast_ready, repeated_taken_fast, row_test_of,
)
from ccf.engine.load.slow import (
    create_checked, drop_temps, entity_hints, hints, insert_activity, insert_load, insert_rejected,
    next_load_id, reason_counts,
)
from ccf.engine.load.dialect import DATE_FORMATS, Dialect
from ccf.engine.load.formats import file_format, open_reader
from ccf.engine.load.layout import layout
from ccf.engine.load.mapping import Mapping, MappingError, read_mapping
from ccf.engine.load.source import NotPlain, Progress, check_header, staged_rows, unclosed_quote
from ccf.engine.load.split import FIRST, SPLIT_MIN, drop_leftovers, drop_second_half, stage_split
from ccf.engine.load.tables import (
    activity_table, activity_table_name, attach_partition, csv_columns, ensure_activity_table, has_partition,
    has_unit_column, new_partition, owns_activity_table, partition_table, prepare_activity_tables,
)
from ccf.engine.sql import Executor, func, ident, param, text


# The repeated-id aggregate of a load hashes every activity id: room for ≈ 1M of them in memory
LOAD_WORK_MEM = "64MB"


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
    notices: tuple[str, ...] = ()  # what the load decided that the user should know (a detected delimiter, ignored columns)


def load_csv(
    conn: psycopg.Connection,
    dataset: str,
    at: ir.ActivityType,
    path: Path,
    progress: Progress | None = None,
    *,
    period: ReportingPeriod | None = None,
    entity_set: str | None = None,
    max_rejects: RejectLimit = RejectLimit(),
    fast: bool = True,
    dialect: Dialect = Dialect(),
    mapping: Path | None = None,
    sheet: str | None = None,
    source: str | None = None,
    second: Callable[[], psycopg.Connection] | None = None,
) -> LoadReport:
    """Load one file (CSV, XLSX or Parquet: formats.py) into ``dataset`` in one transaction;
    every row is loaded or rejected.

    ``period`` and ``entity_set`` are stored on the dataset by its first load; a later load may
    leave them out (the stored ones apply) but not give others (LoadError). More rejected rows
    than ``max_rejects`` allows is a LoadError, and nothing is committed. ``fast=False`` sends every
    row through the one-by-one checks (the fast path is tested against them: same outcome).
    ``dialect`` says how the file writes its values, ``mapping`` (a file: mapping.py) which of its
    columns are which fields; ``sheet`` is the XLSX sheet to read (default: the mapping's, or the first).
    ``source`` is the file's name as the load records it (default: ``path``): the service loads
    an upload from a temporary file and records the name it was sent under. ``second`` opens the
    second connection that stages the second half of a large plain file (split.py; default: one
    like ``conn``, ``database.connect_again``)."""
    path = Path(path)
    if "\x00" in dataset or not dataset.strip():
        raise LoadError(f"invalid dataset name {dataset!r}")
    columns = read_mapping(Path(mapping), at) if mapping is not None else None
    if sheet is None and columns is not None and file_format(path) == "xlsx":
        sheet = columns.sheet  # a mapping's sheet is for its workbooks, not for CSV exports of them
    reader = open_reader(path, dialect, sheet)
    try:
        header = reader.header()
        if header is None:
            raise LoadError("empty file: expected a header row", path, None if reader.empty() else 1)
        shape = layout(header[1], header[0], at, path, dialect, columns)
        # PostgreSQL parses a plain CSV file itself (one COPY, measured: docs/performance.md); any
        # other file, format or dialect goes record by record through Python (layout.py)
        plain = (reader.kind == "csv" and reader.delimiter == "," and dialect.encoding in ("utf-8", "utf-8-sig")
                 and dialect.plain and shape.identity)
        rows = staged_rows(reader.records(), shape.stage, progress, reader.fraction)
        ex = Executor(conn)
        undo: list[Callable[[], None]] = []
        try:
            with conn.transaction():
                ds = bind_dataset(ex, Dataset(dataset, period, entity_set))
                report = _load(ex, ds, at, path, reader.sha256, shape.names, rows, progress, fast, plain, source,
                               second, undo)
                report = replace(report, notices=tuple(reader.notices + shape.notices))
                if max_rejects.exceeded(report.rows_read, report.rows_rejected):
                    raise LoadError(_too_many_rejects(ex, report, max_rejects), path)
                return report
        except BaseException:
            for step in undo:
                step()
            raise
    finally:
        reader.close()


def _too_many_rejects(ex: Executor, report: LoadReport, limit: RejectLimit) -> str:
    """The refusal of a load past its reject limit, with the reasons and the first rejected rows
    (ccf.rejected will not keep them: the load is rolled back)."""
    first = ex.rows(
        exp.select(icol("line_no"), icol("reason")).from_(exp.Table(this=ident("rejected"), db=ident("ccf")))
        .where(exp.EQ(this=icol("load_id"), expression=param("load_id"))).order_by(icol("line_no")).limit(3),
        {"load_id": report.load_id},
    )
    counts = ", ".join(f"{n} × {reason}" for reason, n in report.reasons)
    examples = "; ".join(f"line {line}: {reason}" for line, reason in first)
    return (f"{report.rows_rejected} of {report.rows_read} rows rejected, more than --max-rejects allows "
            f"({limit}); nothing was loaded. Rejected: {counts}; first: {examples}. Fix the file, or allow "
            "rejected rows with --max-rejects N or P%")


def _set_work_mem(ex: Executor, value: str) -> str:
    """Set work_mem for the rest of the transaction; the value it had."""
    row = ex.one(exp.select(func("current_setting", text("work_mem")),
                            func("set_config", text("work_mem"), param("work_mem"), exp.true())), {"work_mem": value})
    assert row is not None
    return row[0]


def _load(ex: Executor, ds: Dataset, at: ir.ActivityType, path: Path, sha256: Callable[[], str], names: list[str],
          rows: Iterator[tuple], progress: Progress | None, fast_path: bool, plain: bool,
          source: str | None, second: Callable[[], psycopg.Connection] | None,
          undo: list[Callable[[], None]]) -> LoadReport:
    """The statements of one load, inside the caller's transaction; ``undo`` gets what must be
    undone outside it should it fail (split.py's second half)."""
    dataset = ds.name
    ex.execute(locks.load_lock(), {"lock_key": locks.load_lock_key(at.id)})
    work_mem = _set_work_mem(ex, LOAD_WORK_MEM)
    ensure_activity_table(ex, at)
    # A dataset's first load of the type makes its partition and fills it before it has an
    # index (tables.py); a later load writes through the parent into the keyed partition
    owner = owns_activity_table(ex, at)
    first = not has_partition(ex, at, dataset)
    if first:
        if not owner:
            raise LoadError(f"dataset {dataset!r} has no partition of ccf.{activity_table_name(at.id)} yet, and this "
                            "login may not create one (its owner does: prepare_activity_tables)", path)
        ex.execute(new_partition(at, dataset))
    target = partition_table(at, dataset) if first else activity_table(at)
    # PostgreSQL parses a plain CSV file (measured: docs/performance.md), a large one on both
    # cores (split.py); any other goes record by record through Python, which finds and rejects
    # each bad record
    row_test = row_test_of(at, names, fast_path)
    if owner:
        drop_leftovers(ex, at.id)
    second = second or functools.partial(connect_again, ex.conn)
    split: exp.Table | None = None  # the second half's table, when a second connection staged it
    staged: tuple[int, str] | None = None
    try:
        if plain and owner and path.stat().st_size >= SPLIT_MIN:
            done = stage_split(ex, second, at.id, names, row_test, path, progress)
            if done is not None:
                staged, split = done[:2], done[2]
        if staged is None and plain:
            staged = staging.stage_plain(ex, names, row_test, path, progress)
    except NotPlain:  # (found by split.py: no second look)
        staged = None
    if staged is None:
        staged = staging.stage_rows(ex, names, row_test, rows), sha256()
    if split is not None:  # committed by the second connection: dropped by this transaction, or
        undo.append(functools.partial(drop_second_half, second, split))  # by ``undo`` if it fails
    return _checked(ex, ds, at, path, names, staged, fast_path, source, owner, first, target, split, work_mem)


def _checked(ex: Executor, ds: Dataset, at: ir.ActivityType, path: Path, names: list[str], staged: tuple[int, str],
             fast_path: bool, source: str | None, owner: bool, first: bool, target: exp.Table,
             split: exp.Table | None, work_mem: str) -> LoadReport:
    """The statements after the staging: the rows checked, rejected or written into ``target``
    (the dataset's new partition, attached then, or the activity table), the load recorded."""
    dataset = ds.name
    rows_read, sha256 = staged
    params: dict[str, object] = {
        "dataset": dataset, "activity_type": at.id, "activity_type_hash": at.content_hash,
        "source_file": source or str(path), "sha256": sha256, "rows_read": rows_read,
    }
    if ds.period is not None:
        params |= {"period_start": ds.period.start, "period_end": ds.period.end}
    if ds.entity_set is not None:
        params["entity_set"] = ds.entity_set
    # A dataset's first load keys its new partition after the insert: that key build finds
    # repeated ids among the rows taken fast, so the aggregate over every staged id is left out
    # and the rows are classified in a savepoint; should an id be repeated (the key refused, or a
    # rejected row's id loaded), the savepoint is rolled back and the rows classified again with
    # the aggregate: the same outcome, found by the one pass or the other (docs/data.md).
    written = None
    if first and is_fast_ready(names, fast_path):
        (params["load_id"],) = ex.one(next_load_id())  # type: ignore[misc]  (the same in both attempts)
        try:
            with ex.conn.transaction():
                written = _write(ex, ds, at, names, params, fast_path, rows_read, target, first, find_repeated=False)
        except _Repeated:
            pass
    if written is None:
        written = _write(ex, ds, at, names, params, fast_path, rows_read, target, first, find_repeated=True)
    load_id, loaded, rejected, loaded_rows, rejected_rows = written
    # Fresh statistics for the run that follows (autovacuum may not have run yet): without them
    # the planner misjudges the keys of factor matching (measured: 25 s instead of 0.26 s for
    # 200k spend rows, docs/performance.md). From a 3,000-row sample: matching and runs took
    # the same time as with the default 30,000, and the ANALYZE 0.08-0.14 s instead of 0.8-3.5 s
    # for the four 1M-row bench files. The dataset's partition only: a run reads one dataset,
    # pruned to its partition, whose statistics the planner then uses (an ANALYZE of the parent
    # would sample every dataset's partition again at each load). Only the owner may analyze:
    # for another login (the service's) PostgreSQL skips the parent with a warning, as before.
    ex.analyze_sample(partition_table(at, dataset) if owner else activity_table(at))
    reasons = tuple((category, int(n)) for category, n in ex.rows(reason_counts()))
    if split is not None:
        ex.execute(exp.Drop(kind="VIEW", tables=[temp(STAGING)]))
        ex.execute(exp.Drop(kind="TABLE", tables=[temp(FIRST), split]))
    ex.execute(drop_temps())
    _set_work_mem(ex, work_mem)
    _reconcile(path, rows_read, loaded, rejected, loaded_rows, rejected_rows)
    return LoadReport(load_id, dataset, at.id, params["source_file"], sha256,
                      rows_read, loaded, rejected, reasons, ds.period, ds.entity_set)


class _Repeated(Exception):
    """An activity id was repeated where the load classified its rows without looking for repeats."""


def _write(ex: Executor, ds: Dataset, at: ir.ActivityType, names: list[str], params: dict[str, object],
           fast_path: bool, rows_read: int, target: exp.Table, first: bool,
           find_repeated: bool) -> tuple[int, int, int, int, int]:
    """Classify the staged rows and write them: the load's record, its rejected rows and its
    loaded rows into ``target``, keyed and attached when it is the dataset's new partition.
    (load id, loaded, rejected, as recorded; rows loaded and rejected, as written.) Not
    ``find_repeated``: _Repeated when an id turns out repeated (the caller's savepoint undoes it)."""
    # The fast path (fast.py): rows that pass every check, decided cheaply, go straight to the
    # activity table; every other row is checked one by one (slow.py).
    fast = fast_plan(ex, at, names, ds, params, fast_path, find_repeated)
    slow = ex.execute(create_slow(fast, names), params).rowcount
    params["unit_hints"] = hints(ex, at, names)
    if ds.entity_set is not None:
        params["entity_hints"] = entity_hints(ex, ds.entity_set)
    ex.execute(create_checked(at, names, ds), params)
    row = ex.one(insert_load("load_id" in params), params)
    assert row is not None  # INSERT … RETURNING of one row
    load_id, loaded, rejected = row
    params["load_id"] = load_id
    rejected_rows = ex.execute(insert_rejected(names), params).rowcount
    # (when every row is a slow one, e.g. a file loaded twice, there is nothing to insert fast)
    loaded_rows = ex.execute(insert_fast(fast, target), params).rowcount if slow < rows_read else 0
    loaded_rows += ex.execute(insert_activity(at, names, target), params).rowcount
    if first:
        try:
            attach_partition(ex, at, ds.name)
        except psycopg.errors.UniqueViolation:
            if find_repeated:  # (cannot be: every repeated id was checked one by one)
                raise
            raise _Repeated from None
    if not find_repeated and ex.one(repeated_taken_fast(target), params) == (True,):
        raise _Repeated
    return load_id, loaded, rejected, loaded_rows, rejected_rows


def _reconcile(path: Path, read: int, loaded: int, rejected: int, loaded_rows: int, rejected_rows: int) -> None:
    """Refuse to commit unless every row read is accounted for exactly once."""
    if read != loaded + rejected or (loaded, rejected) != (loaded_rows, rejected_rows):
        raise LoadError(
            f"internal error: rows do not reconcile (read {read}, loaded {loaded_rows} of {loaded}, "
            f"rejected {rejected_rows} of {rejected}); nothing was loaded",
            path,
        )


__all__ = [
    "CELL_PREFIX", "DATE_FORMATS", "LOAD_WORK_MEM", "REASONS", "SLOW", "Dataset", "Dialect", "LoadError", "LoadReport",
    "Mapping", "MappingError", "Progress", "RejectLimit",
    "ReportingPeriod", "activity_table", "activity_table_name", "bind_dataset", "check_header", "csv_columns",
    "dataset_info", "dataset_loads", "ensure_activity_table", "has_unit_column", "load_csv",
    "prepare_activity_tables", "require_dataset", "unclosed_quote",
]
