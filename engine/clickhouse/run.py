"""One methodology run on ClickHouse over a dataset's loads, reconciled as a PostgreSQL run is.

The run reads one PostgreSQL snapshot (engine/run.py's ``one_snapshot``, rolled back: nothing
is written there): the dataset and its loads, the editions the data's period binds
(``choose_editions``, ``factors.editions.bind``) and the statements' parameter values
(``statement_params``), exactly as a PostgreSQL run chooses them; its inputs are copied into
ClickHouse (tables.py), compiled for their sizes (compile.py) and executed there. Every activity
row must end in one place (result, excluded or unmatched), else ``RunError`` and the run's rows
are deleted.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum
from ccf.engine.clickhouse.compile import ClickHouseStatements, compile_for_clickhouse, supported
from ccf.engine.clickhouse.tables import DATABASE, copy_inputs
from ccf.engine.compile.evaluate import gases
from ccf.engine.factors.editions import bind
from ccf.engine.compile.activity import of_run_loads
from ccf.engine.load import dataset_loads, require_dataset
from ccf.engine.run import Reconciliation, RunError, choose_editions, one_snapshot, statement_params
from ccf.engine.sql import ClickHouseExecutor, Executor, column, table, text


@dataclass(frozen=True)
class ClickHouseOutcome:
    """A methodology's run on ClickHouse: its reconciliation, kg CO2e per gas and in scopes."""

    methodology: ir.Methodology
    run_id: int
    reconciliation: Reconciliation
    by_gas: tuple[tuple[str, Decimal], ...]
    co2e_kg: Decimal
    statements: ClickHouseStatements


def run_on_clickhouse(conn: psycopg.Connection, ch: ClickHouseExecutor, dataset: str, m: ir.Methodology,
                      run_id: int, loads: list[int] | None = None, other_edition: bool = False) -> ClickHouseOutcome:
    """Run ``m`` over ``dataset`` on ClickHouse as run ``run_id`` (ClickHouse's own numbering);
    ``loads`` and ``other_edition`` as for a PostgreSQL run (engine/run.py ``run``)."""
    supported(m)  # before anything is copied: an unsupported construct is named, nothing runs
    with one_snapshot(conn, rollback=True) as pg:
        info = require_dataset(pg, dataset)
        read = tuple(dataset_loads(pg, dataset) if loads is None else sorted(loads))
        bound = bind(m, choose_editions(pg, info, read, m, other_edition))
        params, _, _ = statement_params(pg, bound, run_id, dataset, read)
        sizes = copy_inputs(pg, ch, bound, params)
        params["rows_rejected"] = _rejected(pg, params, bound.activity.id)
    code = compile_for_clickhouse(bound, sizes, f"eval_{run_id}_{zlib.crc32(bound.id.encode())}")  # one per run and methodology
    counts = None
    try:
        for name, tree in code.statements():
            out = ch.rows(tree, params) if name == "reconcile" else ch.execute(tree, params)
            if name == "reconcile":
                counts = out[0]
    except Exception:
        ch.execute(exp.Drop(tables=[table(code.eval_table, DATABASE)], kind="TABLE", exists=True))
        raise
    assert counts is not None
    rows_in, rows_result, rows_excluded, rows_unmatched, result_rows, rows_rejected, *sums = counts
    rec = Reconciliation(rows_in, rows_result, rows_excluded, rows_unmatched, rows_rejected)
    written = tuple(_count(ch, name, run_id, bound.id) for name in ("result_row", "excluded", "unmatched"))
    if not rec.balanced or written != (result_rows, rows_excluded, rows_unmatched):
        for name in ("result_row", "excluded", "unmatched"):
            ch.execute(exp.Delete(this=table(name, DATABASE), where=_of_run(run_id, bound.id)))
        raise RunError(f"{bound.ref} does not reconcile on ClickHouse: {rows_in} activity rows but {rows_result} results + "
                       f"{rows_excluded} excluded + {rows_unmatched} unmatched (rows written: {written})")
    by_gas = tuple(sorted((g, v) for g, v in zip(gases(bound), sums) if v is not None))
    total = exact_sum(v for g, v in by_gas if g not in ir.OUTSIDE_SCOPES)
    return ClickHouseOutcome(bound, run_id, rec, by_gas, total, code)


def _rejected(pg: Executor, params: dict, activity_type: str) -> int:
    """The run's rejected rows of its activity type: counted in PostgreSQL, where loads reject them."""
    where = exp.and_(of_run_loads(), exp.EQ(this=column("activity_type"), expression=text(activity_type)))
    return pg.one(exp.select(exp.Count(this=exp.Star())).from_(table("rejected")).where(where), params)[0]  # type: ignore[index]


def _of_run(run_id: int, methodology_id: str) -> exp.Expression:
    return exp.and_(exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id)),
                    exp.EQ(this=column("methodology_id"), expression=text(methodology_id)))


def _count(ch: ClickHouseExecutor, name: str, run_id: int, methodology_id: str) -> int:
    return ch.rows(exp.select(exp.Count(this=exp.Star())).from_(table(name, DATABASE)).where(_of_run(run_id, methodology_id)))[0][0]


__all__ = ["ClickHouseOutcome", "run_on_clickhouse"]
