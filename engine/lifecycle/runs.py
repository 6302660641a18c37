"""Runs as records: list them, show one, delete one with every row it wrote.

A run's rows are its own: nothing ccf stores refers to a run (``ccf verify`` and ``ccf diff
--dataset`` read runs and store nothing; a report names its runs on the command line). A table a
later migration adds with a foreign key to ``ccf.run`` is a record that depends on the run: the
delete then fails on that key and says so, and nothing is deleted. A run computed on ClickHouse
(``ccf.run.engine``) has its rows there: its partition is dropped once PostgreSQL's rows are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine import locks
from ccf.engine.options import CLICKHOUSE
from ccf.engine.run_partition import WRITTEN
from ccf.engine.sql import Executor, column, eq, param, render, table

# Every table holding a run's rows, the run's own row last (deleted in this order). Its rows of
# the tables partitioned by run are its partitions, dropped with its row of ccf.run (migration
# 0027's trigger).
RUN_TABLES = (*WRITTEN, "instrument_allocation", "run_factor_set", "run_methodology", "run")


def _of_runs(alias: str | None = None) -> exp.Expression:
    """``run_id = ANY(%(run_ids)s)``: the rows of the runs bound as ``run_ids``."""
    return eq(column("run_id", alias), exp.Any(this=exp.Paren(this=exp.Cast(
        this=param("run_ids"), to=exp.DataType.build("BIGINT[]")))))


def list_runs(ex: Executor, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every run (of one dataset, if given), oldest first, with its methodology versions and total."""
    q = (exp.select(column("run_id"), column("dataset"), column("engine_version"), column("started_at"),
                    column("finished_at"), column("summary")).from_(table("run")).order_by(column("run_id")))
    if dataset is not None:
        q = q.where(eq(column("dataset"), param("dataset")))
    return [_run_row(r) for r in ex.rows(q, {"dataset": dataset})]


def _run_row(r: Sequence[Any]) -> dict[str, Any]:
    run_id, dataset, engine_version, started, finished, summary = r
    summary = summary or {}
    return {
        "run_id": run_id, "dataset": dataset, "engine_version": engine_version,
        "started_at": started.isoformat(), "finished_at": finished.isoformat() if finished else None,
        "loads": summary.get("loads", []), "total_co2e_kg": summary.get("total_co2e_kg"),
        "methodologies": [f"{m['methodology']}@{m['version']}" for m in summary.get("methodologies", [])],
    }


def show_run(ex: Executor, run_id: int) -> dict[str, Any]:
    """One run: what ``list_runs`` gives, its summary (totals by scope) and per methodology the
    reconciliation of its rows."""
    row = ex.one(exp.select(column("run_id"), column("dataset"), column("engine_version"), column("started_at"),
                            column("finished_at"), column("summary")).from_(table("run"))
                 .where(eq(column("run_id"), param("run_id"))), {"run_id": run_id})
    if row is None:
        raise no_run(ex, run_id)
    counts = ("rows_in", "rows_result", "rows_excluded", "rows_unmatched", "rows_rejected")
    methodologies = ex.rows(
        exp.select(column("methodology_id"), column("version"), column("activity_type"), column("factor_set"),
                   column("gwp"), *[column(c) for c in counts])
        .from_(table("run_methodology")).where(eq(column("run_id"), param("run_id"))).order_by(column("methodology_id")),
        {"run_id": run_id},
    )
    summary = row[5] or {}
    totals = {m["methodology"]: m["co2e_kg"] for m in summary.get("methodologies", [])}
    return {
        **_run_row(row),
        "by_scope_category": summary.get("by_scope_category", {}),
        "methodologies": [
            {"methodology": m[0], "version": m[1], "activity_type": m[2], "factor_set": m[3], "gwp": m[4],
             "co2e_kg": totals.get(m[0]), **dict(zip(counts, m[5:]))}
            for m in methodologies
        ],
    }


def no_run(ex: Executor, run_id: int) -> CcfError:
    """The error for a run id that does not exist, naming the range that does."""
    first, last = ex.one(exp.select(exp.Min(this=column("run_id")), exp.Max(this=column("run_id"))).from_(table("run"))) or (None, None)
    if first is None:
        return CcfError(f"there is no run {run_id}: no run has been made yet (see 'ccf run')")
    return CcfError(f"there is no run {run_id}; the runs are numbered {first} to {last} (see 'ccf runs list')")


@dataclass(frozen=True)
class Deleted:
    """What a delete removed: rows per table."""

    what: str
    rows: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"deleted": self.what, "rows": self.rows}


def delete_runs(ex: Executor, run_ids: Sequence[int]) -> dict[str, int]:
    """Delete the runs' rows from every run table, in the caller's transaction (which a refused
    delete rolls back whole); rows per table. Each run's delete lock is taken first, in id order
    (as every other deleter of several takes them), and held to the end of the transaction."""
    for run_id in sorted(set(run_ids)):
        ex.execute(locks.xact_lock_of(), {"lock_key": locks.run_lock_key(run_id)})
    # Dropping a partition locks its parent ACCESS EXCLUSIVE: taken first, of the parents only
    # (not every run's partition), so that two deletes never each hold a weaker lock of a parent
    # that the other's drop waits for (a deadlock); runs and readers wait for the short delete.
    # ONLY is said of each name: "ONLY a, b" locks b's every partition, every run's (a lock each:
    # thousands of runs exhaust max_locks_per_transaction, docs/performance.md "Thousands of runs").
    parents = ", ".join(f"ONLY {render(table(name), pretty=False)}" for name in WRITTEN)
    ex.execute(exp.Command(this="LOCK", expression=exp.Literal.string(f"TABLE {parents} IN ACCESS EXCLUSIVE MODE")))
    engine = exp.and_(_of_runs(), eq(column("engine"), exp.Literal.string(CLICKHOUSE)))
    on_clickhouse = [r[0] for r in ex.rows(exp.select(column("run_id")).from_(table("run")).where(engine), {"run_ids": list(run_ids)})]
    if on_clickhouse:  # their ClickHouse database, while the runs exist: a copy of another database is refused here
        from ccf.engine.clickhouse.catalogue import opened

        ch, database = opened(ex)
    out: dict[str, int] = {}
    for name in RUN_TABLES:
        try:
            if name in WRITTEN:  # counted, then dropped with the run: no row is deleted one by one
                out[name] = ex.one(exp.select(exp.Count(this=exp.Star())).from_(table(name)).where(_of_runs()),
                                   {"run_ids": list(run_ids)})[0]  # type: ignore[index]
                continue
            out[name] = ex.execute(exp.delete(table(name), where=_of_runs()), {"run_ids": list(run_ids)}).rowcount
        except psycopg.errors.ForeignKeyViolation as exc:
            detail = exc.diag.message_detail or str(exc)
            raise CcfError(f"other records depend on run(s) {', '.join(map(str, run_ids))}: {detail} "
                           "Nothing was deleted.") from None
    if on_clickhouse:  # last: a delete refused above leaves them; their partitions dropped (docs/scale-out.md)
        from ccf.engine.clickhouse.tables import drop_run

        for run_id in on_clickhouse:
            for name, n in drop_run(ch, database, run_id).items():
                out[f"clickhouse {name}"] = out.get(f"clickhouse {name}", 0) + n
    return out


def delete_run(conn: psycopg.Connection, run_id: int) -> Deleted:
    """Delete a run and every row it wrote, in one transaction. The run's delete lock is taken
    before the run is looked for, so a delete that waited on another finds the run gone. The
    lock is advisory, not ``FOR UPDATE``, which would need an UPDATE privilege on ``ccf.run``:
    the service's role may only read and delete runs (docs/service.md, roles)."""
    ex = Executor(conn)
    with conn.transaction():
        ex.execute(locks.xact_lock_of(), {"lock_key": locks.run_lock_key(run_id)})
        found = ex.one(exp.select(column("run_id")).from_(table("run")).where(eq(column("run_id"), param("run_id"))),
                       {"run_id": run_id})
        if found is None:
            raise no_run(ex, run_id)
        rows = delete_runs(ex, [run_id])
    return Deleted(f"run {run_id}", rows)
