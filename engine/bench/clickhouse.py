"""``ccf bench --engine clickhouse``'s measurements on ClickHouse's side: its own ceilings and the
run's sums over the row-by-row sample, read where the run's rows are (docs/scale-out.md).

durable the dataset's activity rows, copied into ClickHouse untimed as a run copies its inputs
        (engine/clickhouse/inputs.py; the run's own copies are dropped at its end), copied again
        by ``CREATE TABLE … ENGINE = MergeTree AS SELECT *``, then dropped: what writing one row
        per activity row to a MergeTree costs here, the least a ClickHouse run can do once its
        inputs are there. A ClickHouse run's floor (``run_floor_s``) is this copy alone: its
        matching is part of one statement there, not timed apart.
output  the committed run's rows (``result_row``, ``excluded``, ``unmatched``, its partition)
        copied into Memory tables: for information, as PostgreSQL's output ceiling.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum
from ccf.engine.bench.ceilings import Ceiling
from ccf.engine.clickhouse.tables import RESULT_TABLES, RunInputs
from ccf.engine.locks import clickhouse_run_lock_key, session_unlock_of, try_session_lock_of
from ccf.engine.sql import ClickHouseExecutor, Executor, column, table


def _copy(ch: ClickHouseExecutor, where: RunInputs, sources: list[tuple[exp.Table, exp.Expression | None]], engine: str) -> Ceiling:
    """Each source (with its condition) copied into a new table of ``engine`` (``where``'s), timed;
    dropped after."""
    copies = [where.table(f"copy_{i}") for i in range(len(sources))]
    rows, seconds = 0, 0.0
    try:
        for (source, where), copy in zip(sources, copies):
            query = exp.select(exp.Star()).from_(source)
            query = query.where(where) if where is not None else query
            properties = [exp.EngineProperty(this=exp.var(engine))]
            if engine == "MergeTree":
                properties.append(exp.Order(expressions=[exp.Ordered(this=exp.Tuple(expressions=[]))]))
            create = exp.Create(this=copy.copy(), kind="TABLE", expression=query,
                                properties=exp.Properties(expressions=properties))
            t = time.perf_counter()
            ch.execute(create)
            seconds += time.perf_counter() - t
            rows += ch.rows(exp.select(exp.Count(this=exp.Star())).from_(copy.copy()))[0][0]
    finally:
        for copy in copies:
            ch.execute(exp.Drop(tables=[copy], kind="TABLE", exists=True))
    return Ceiling(rows, seconds)


@contextmanager
def _tables_of(conn: psycopg.Connection, ch: ClickHouseExecutor, database: str, run_id: int, what: str) -> Iterator[RunInputs]:
    """Tables of the bench's own, named by the run measured (``RunInputs``), dropped after. The
    run's lock is held meanwhile, so another run's sweep (engine/clickhouse/run.py) leaves them;
    should this process end first, the next run drops them."""
    where, ex = RunInputs(database, run_id, f"bench: {what}"), Executor(conn)
    key = {"lock_key": clickhouse_run_lock_key(run_id)}
    ex.one(try_session_lock_of(), key)
    try:
        yield where
    finally:
        where.drop(ch)
        ex.execute(session_unlock_of(), key)
        conn.rollback()


def durable_copy_ceiling(conn: psycopg.Connection, ch: ClickHouseExecutor, database: str, run_id: int,
                         activity_types: Sequence[ir.ActivityType], dataset: str) -> Ceiling:
    """The dataset's activity rows copied into ClickHouse (untimed), then into MergeTree tables (timed)."""
    from ccf.engine.clickhouse.inputs import copy_activity
    from ccf.engine.load import dataset_loads

    with _tables_of(conn, ch, database, run_id, "durable copy") as where:
        ex = Executor(conn)
        params = {"dataset": dataset, "loads": dataset_loads(ex, dataset)}
        for at in activity_types:
            copy_activity(ex, ch, at, params, where)
        return _copy(ch, where, [(where.table(f"activity_{at.id}"), None) for at in activity_types], "MergeTree")


def output_ceiling(conn: psycopg.Connection, ch: ClickHouseExecutor, database: str, run_id: int) -> Ceiling:
    """The run's rows (in its catalogue's ``database``: engine/clickhouse/catalogue.py) copied."""
    of_run = exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id))
    with _tables_of(conn, ch, database, run_id, "output") as where:
        return _copy(ch, where, [(table(name, database), of_run.copy()) for name in RESULT_TABLES], "Memory")


def sum_co2e(ch: ClickHouseExecutor, database: str, run_id: int, methodology_id: str, ids: list[str]) -> Decimal:
    """bench/queries.py's ``sum_co2e`` of a ClickHouse run: the kg CO2e of the result rows of
    ``ids`` (every gas's, as ccf.result's co2e_kg), summed exactly."""
    from ccf.engine.clickhouse.reads import stored_rows

    return exact_sum(kg for _, kg in stored_rows(ch, database, run_id, methodology_id, "result", ["co2e_kg"], ids))


__all__ = ["durable_copy_ceiling", "output_ceiling", "sum_co2e"]
