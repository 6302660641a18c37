"""Ceilings: the least work a load or a run of the bench's data can do, timed on the same
database in the same invocation, so that a throughput target can be read against what this
machine allows at all (docs/performance.md, "Ceilings").

copy    the generated CSV files COPYed (PostgreSQL's CSV parser, FORCE_NOT_NULL as the load's
        COPY) into temporary tables of text columns: no types, no checks, no key, no rejects,
        no WAL. No load of these files can be faster than this one COPY stream;
        ``copy_rows_per_s`` bounds ``ingest_rows_per_s``.
output  the committed run's own output rows (``ccf.result``, ``ccf.excluded``,
        ``ccf.unmatched``), already computed, copied into temporary tables without an index:
        the least that writing them can cost. A run must also read and match the activity rows
        (``matching_s``), so ``run_floor_s`` = matching + output is a floor for the run, and
        ``run_ceiling_rows_per_s`` the rate no run writing these rows can beat here (an estimate:
        copying also reads the stored rows, and a run also computes them).

Both are rolled back. Only the COPY or the ``CREATE TABLE … AS`` is timed.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlglot import exp

from ccf.engine.sql import Executor, column, ident, param, table

_COPY_PREFIX = "ccf_bench_copy_"  # temporary tables; a session's own, dropped at rollback
_OUTPUT_PREFIX = "ccf_bench_output_"
OUTPUT_TABLES = ("result", "excluded", "unmatched")


@dataclass(frozen=True)
class Ceiling:
    rows: int
    seconds: float


def _chunks(path: Path, size: int = 1 << 20):
    with path.open("rb") as f:
        while block := f.read(size):
            yield block


def copy_ceiling(conn: psycopg.Connection, paths: list[Path]) -> Ceiling:
    """Each file COPYed as it is into a temporary table of text columns (one per header cell)."""
    ex, rows, seconds = Executor(conn), 0, 0.0
    with conn.transaction(force_rollback=True):
        for i, path in enumerate(paths):
            with path.open(newline="", encoding="utf-8") as f:
                header = next(csv.reader(f))
            names = [f"c{j}" for j in range(len(header))]
            target = exp.to_table(f"{_COPY_PREFIX}{i}")
            ex.execute(exp.Create(
                this=exp.Schema(this=target, expressions=[
                    exp.ColumnDef(this=ident(n), kind=exp.DataType.build("TEXT")) for n in names]),
                kind="TABLE", properties=exp.Properties(expressions=[exp.TemporaryProperty()])))
            t = time.perf_counter()
            rows += ex.copy_csv(target, names, _chunks(path))
            seconds += time.perf_counter() - t
    return Ceiling(rows, seconds)


def output_ceiling(conn: psycopg.Connection, run_id: int) -> Ceiling:
    """The run's output rows copied by ``CREATE TEMPORARY TABLE … AS SELECT * … WHERE run_id``."""
    ex, rows, seconds = Executor(conn), 0, 0.0
    with conn.transaction(force_rollback=True):
        for name in OUTPUT_TABLES:
            query = exp.select(exp.Star()).from_(table(name)).where(
                exp.EQ(this=column("run_id"), expression=param("run_id")))
            create = exp.Create(this=exp.to_table(f"{_OUTPUT_PREFIX}{name}"), kind="TABLE", expression=query,
                                properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
            t = time.perf_counter()
            rows += ex.execute(create, {"run_id": run_id}).rowcount
            seconds += time.perf_counter() - t
    return Ceiling(rows, seconds)
