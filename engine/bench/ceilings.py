"""Ceilings: the least work a load or a run of the bench's data can do, timed on the same
database in the same invocation, so that a throughput target can be read against what this
machine allows at all (docs/performance.md, "Ceilings").

copy    the generated CSV files COPYed (PostgreSQL's CSV parser, FORCE_NOT_NULL as the load's
        COPY) into temporary tables of text columns: no types, no checks, no key, no rejects,
        no WAL. Once in one stream (``copy_rows_per_s``: one load's COPY), then split over two
        connections, one per core (``copy_both_cores_rows_per_s``).
typed   the same two streams, each file then typed: every number, date and boolean cell cast to
        its type where PostgreSQL's own input function accepts it, else NULL (``typed_cell``:
        ``pg_input_is_valid``, PostgreSQL 16 and newer; not measured on 15), into a temporary
        table: no row checks, no key, no rejects, no WAL. A load must at least parse and type its
        rows, so no load of these files can beat ``typed_both_cores_rows_per_s`` here: it
        bounds ``ingest_rows_per_s``.
durable the dataset's activity rows of every type in the run copied by ``CREATE TABLE … AS
        SELECT *`` into new ordinary tables (logged, not temporary, not unlogged), committed,
        then dropped: what writing one durable row per activity row costs here. A run must at
        least match the rows (``matching_s``) and durably write what it found for each, so
        ``run_floor_s`` = matching + durable copy is the run's floor, and ``run_floor_ratio``
        (bench/presentation.py) the run's time over it. A run is one transaction, and
        PostgreSQL writes a statement's rows in one process: one core.
output  the committed run's own output rows (``ccf.result_row``, ``ccf.excluded``,
        ``ccf.unmatched``), already computed, copied into temporary tables without an index
        (no WAL): for information, what copying that volume of rows costs.

All but the durable copy are rolled back. Each is timed as a whole: its statements, and the
creation of its tables (milliseconds); the durable copy also its commit, not the drop.
"""

from __future__ import annotations

import csv
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.engine.compile.statements import RESULT_TABLE
from ccf.engine.load import CELL_PREFIX, csv_columns
from ccf.engine.sql import Executor, column, ident, param, table

_COPY_PREFIX = "ccf_bench_copy_"  # temporary tables; a session's own, dropped at rollback
_TYPED_PREFIX = "ccf_bench_typed_"
_OUTPUT_PREFIX = "ccf_bench_output_"
_DURABLE_PREFIX = "ccf_bench_durable_"  # ordinary tables in schema ccf: committed, then dropped
OUTPUT_TABLES = (RESULT_TABLE, "excluded", "unmatched")


@dataclass(frozen=True)
class Ceiling:
    rows: int
    seconds: float


@dataclass(frozen=True)
class LoadCeilings:
    copy: Ceiling  # one stream
    copy_both_cores: Ceiling
    typed_both_cores: Ceiling | None  # None before PostgreSQL 16 (no pg_input_is_valid)


_TYPES = {"quantity": "NUMERIC", "date": "DATE", "boolean": "BOOLEAN"}
TYPED_SINCE = 160000  # pg_input_is_valid


def typed_cell(name: str, f: ir.Field) -> exp.Expression:
    """A staged cell (``csv_<name>``) as its field's type where PostgreSQL accepts it, else NULL;
    never raises. Text and unit cells stay as they are."""
    v = exp.Column(this=ident(CELL_PREFIX + name))
    kind = _TYPES.get(f.type.kind) if name == f.name else None
    if kind is None:
        return v
    valid = exp.Anonymous(this="pg_input_is_valid", expressions=[v, exp.Literal.string(kind)])
    return exp.Case().when(valid, exp.Cast(this=v.copy(), to=exp.DataType.build(kind)))


def _chunks(path: Path, size: int = 1 << 20):
    with path.open("rb") as f:
        while block := f.read(size):
            yield block


def _temporary(name: str, columns: list[str] | None = None, query: exp.Expression | None = None) -> exp.Create:
    target: exp.Expression = exp.to_table(name)
    if columns is not None:
        target = exp.Schema(this=target, expressions=[
            exp.ColumnDef(this=ident(c), kind=exp.DataType.build("TEXT")) for c in columns])
    return exp.Create(this=target, kind="TABLE", expression=query,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def _stream(conn: psycopg.Connection, files: list[tuple[int, ir.ActivityType, Path]], typed: bool) -> int:
    """COPY each file into text columns (and type it), in one rolled-back transaction; the rows."""
    ex, rows = Executor(conn), 0
    with conn.transaction(force_rollback=True):
        for i, at, path in files:
            with path.open(newline="", encoding="utf-8") as f:
                header = next(csv.reader(f))
            staged = f"{_COPY_PREFIX}{i}"
            names = [CELL_PREFIX + h for h in header]
            ex.execute(_temporary(staged, names))
            rows += ex.copy_csv(exp.to_table(staged), names, _chunks(path))
            if typed:
                fields = dict(csv_columns(at))
                cells = [exp.alias_(typed_cell(h, fields[h]), exp.to_identifier(h, quoted=True)) if h in fields
                         else exp.Column(this=ident(CELL_PREFIX + h)) for h in header]
                ex.execute(_temporary(f"{_TYPED_PREFIX}{i}", query=exp.select(*cells).from_(staged)))
    return rows


def _split(files: list[tuple[int, ir.ActivityType, Path]]) -> tuple[list, list]:
    """Two streams of about equal bytes (largest file first, each to the lighter stream)."""
    a: list = []
    b: list = []
    for item in sorted(files, key=lambda f: -f[2].stat().st_size):
        (a if sum(f[2].stat().st_size for f in a) <= sum(f[2].stat().st_size for f in b) else b).append(item)
    return a, b


def _both_cores(conn: psycopg.Connection, other: psycopg.Connection,
                files: list[tuple[int, ir.ActivityType, Path]], typed: bool) -> Ceiling:
    a, b = _split(files)
    rows = [0, 0]
    errors: list[BaseException] = []

    def go(k: int, c: psycopg.Connection, part: list) -> None:
        try:
            rows[k] = _stream(c, part, typed)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(0, conn, a)), threading.Thread(target=go, args=(1, other, b))]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - t
    if errors:
        raise errors[0]
    return Ceiling(sum(rows), seconds)


def load_ceilings(conn: psycopg.Connection, connect_again: Callable[[], psycopg.Connection],
                  files: list[tuple[ir.ActivityType, Path]]) -> LoadCeilings:
    """One COPY stream, then two (COPY alone; COPY and typing), on a second connection for the
    second core."""
    numbered = [(i, at, path) for i, (at, path) in enumerate(files)]
    t = time.perf_counter()
    one = _stream(conn, numbered, typed=False)
    copy = Ceiling(one, time.perf_counter() - t)
    with connect_again() as other:
        both = _both_cores(conn, other, numbered, typed=False)
        typed = _both_cores(conn, other, numbered, typed=True) if conn.info.server_version >= TYPED_SINCE else None
    return LoadCeilings(copy, both, typed)


def output_ceiling(conn: psycopg.Connection, run_id: int) -> Ceiling:
    """The run's output rows copied by ``CREATE TEMPORARY TABLE … AS SELECT * … WHERE run_id``."""
    ex, rows, seconds = Executor(conn), 0, 0.0
    with conn.transaction(force_rollback=True):
        for name in OUTPUT_TABLES:
            query = exp.select(exp.Star()).from_(table(name)).where(
                exp.EQ(this=column("run_id"), expression=param("run_id")))
            t = time.perf_counter()
            rows += ex.execute(_temporary(f"{_OUTPUT_PREFIX}{name}", query=query), {"run_id": run_id}).rowcount
            seconds += time.perf_counter() - t
    return Ceiling(rows, seconds)


def durable_copy_ceiling(conn: psycopg.Connection, tables: list[exp.Table], dataset: str) -> Ceiling:
    """The dataset's rows of each activity table copied by ``CREATE TABLE ccf.<new> AS SELECT *
    … WHERE dataset = …`` into ordinary (logged) tables in one transaction, timed up to and
    including its commit (the WAL flush that makes them durable); the tables are dropped after,
    untimed."""
    ex, rows = Executor(conn), 0
    copies = [table(f"{_DURABLE_PREFIX}{i}") for i in range(len(tables))]
    conn.commit()
    t = time.perf_counter()
    try:
        for source, copy in zip(tables, copies):
            query = exp.select(exp.Star()).from_(source.copy()).where(
                exp.EQ(this=column("dataset"), expression=param("dataset")))
            rows += ex.execute(exp.Create(this=copy.copy(), kind="TABLE", expression=query), {"dataset": dataset}).rowcount
        conn.commit()
        seconds = time.perf_counter() - t
    finally:
        conn.rollback()
        ex.execute(exp.Drop(tables=copies, kind="TABLE", exists=True))
        conn.commit()
    return Ceiling(rows, seconds)
