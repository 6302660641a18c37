"""``ccf bench --engine clickhouse``'s measurements on ClickHouse's side: its own ceilings and the
run's sums over the row-by-row sample, read where the run's rows are (docs/scale-out.md).

durable the activity rows the run copied into ClickHouse (``ccf.activity_<type>``) copied again
        by ``CREATE TABLE … ENGINE = MergeTree AS SELECT *``, then dropped: what writing one row
        per activity row to a MergeTree costs here, the least a ClickHouse run can do once its
        inputs are there. A ClickHouse run's floor (``run_floor_s``) is this copy alone: its
        matching is part of one statement there, not timed apart.
output  the committed run's rows (``result_row``, ``excluded``, ``unmatched``, its partition)
        copied into Memory tables: for information, as PostgreSQL's output ceiling.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Sequence

from sqlglot import exp

from ccf.dsl.numeric import exact_sum
from ccf.engine.bench.ceilings import Ceiling
from ccf.engine.clickhouse.tables import DATABASE, RESULT_TABLES
from ccf.engine.sql import ClickHouseExecutor, column, table

_COPY_PREFIX = "ccf_bench_copy_"


def _copy(ch: ClickHouseExecutor, sources: list[tuple[exp.Table, exp.Expression | None]], engine: str) -> Ceiling:
    """Each source (with its condition) copied into a new table of ``engine``, timed; dropped after."""
    copies = [table(f"{_COPY_PREFIX}{i}", DATABASE) for i in range(len(sources))]
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


def durable_copy_ceiling(ch: ClickHouseExecutor, activity_types: Sequence[str]) -> Ceiling:
    return _copy(ch, [(table(f"activity_{t}", DATABASE), None) for t in activity_types], "MergeTree")


def output_ceiling(ch: ClickHouseExecutor, database: str, run_id: int) -> Ceiling:
    """The run's rows (in its catalogue's ``database``: engine/clickhouse/catalogue.py) copied."""
    of_run = exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id))
    return _copy(ch, [(table(name, database), of_run.copy()) for name in RESULT_TABLES], "Memory")


def sum_co2e(ch: ClickHouseExecutor, database: str, run_id: int, methodology_id: str, ids: list[str]) -> Decimal:
    """bench/queries.py's ``sum_co2e`` of a ClickHouse run: the kg CO2e of the result rows of
    ``ids`` (every gas's, as ccf.result's co2e_kg), summed exactly."""
    from ccf.engine.clickhouse.reads import stored_rows

    return exact_sum(kg for _, kg in stored_rows(ch, database, run_id, methodology_id, "result", ["co2e_kg"], ids))


__all__ = ["durable_copy_ceiling", "output_ceiling", "sum_co2e"]
