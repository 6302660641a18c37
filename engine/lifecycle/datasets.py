"""Datasets as records: list them, show one with its loads and runs, delete one with its rows.

A dataset is its ``ccf.dataset`` row, its loads (``ccf.activity_load``), their activity rows
(``ccf."activity_<type>"``) and rejected rows (``ccf.rejected``). Runs over the dataset depend on
it: each read some of its loads, and could not be verified or explained without them. A delete
names those runs and deletes nothing, unless asked to delete them too (``cascade``); then all of
it goes in one transaction.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine import locks
from ccf.engine.lifecycle.runs import Deleted, delete_runs, list_runs
from ccf.engine.load import activity_table_name, require_dataset
from ccf.engine.load.tables import drop_partition
from ccf.engine.sql import Executor, column, eq, param, table

_LOAD_COLUMNS = ("load_id", "activity_type", "source_file", "sha256", "rows_read", "rows_loaded", "rows_rejected", "loaded_at")


def list_datasets(ex: Executor) -> list[dict[str, Any]]:
    """Every dataset, by name: its period, entity set, loads, rows and runs."""
    loads = {
        r[0]: r[1:] for r in ex.rows(
            exp.select(column("dataset"), exp.Count(this=exp.Star()), exp.Sum(this=column("rows_loaded")),
                       exp.Sum(this=column("rows_rejected")),
                       exp.ArrayAgg(this=exp.Distinct(expressions=[column("activity_type")])))
            .from_(table("activity_load")).group_by(column("dataset")))
    }
    runs = dict(ex.rows(exp.select(column("dataset"), exp.Count(this=exp.Star())).from_(table("run")).group_by(column("dataset"))))
    out = []
    for name, start, end, entity_set, created in ex.rows(
        exp.select(column("dataset"), column("period_start"), column("period_end"), column("entity_set"),
                   column("created_at")).from_(table("dataset")).order_by(column("dataset"))
    ):
        n_loads, loaded, rejected, types = loads.get(name, (0, 0, 0, []))
        out.append({
            "dataset": name, "period": f"{start.isoformat()}..{end.isoformat()}" if start else None,
            "entity_set": entity_set, "created_at": created.isoformat(), "loads": n_loads,
            "rows_loaded": int(loaded or 0), "rows_rejected": int(rejected or 0),
            "activity_types": sorted(types or []), "runs": runs.get(name, 0),
        })
    return out


def show_dataset(ex: Executor, name: str) -> dict[str, Any]:
    """One dataset (an unknown name: CcfError with did-you-mean) as ``list_datasets`` gives it,
    its loads and its runs listed in place of their counts."""
    require_dataset(ex, name)
    (row,) = [d for d in list_datasets(ex) if d["dataset"] == name]
    loads = ex.rows(exp.select(*[column(c) for c in _LOAD_COLUMNS]).from_(table("activity_load"))
                    .where(eq(column("dataset"), param("dataset"))).order_by(column("load_id")), {"dataset": name})
    return {
        **row,
        "loads": [{**dict(zip(_LOAD_COLUMNS, r)), "loaded_at": r[-1].isoformat()} for r in loads],
        "runs": list_runs(ex, name),
    }


def dependent_runs(ex: Executor, name: str) -> list[int]:
    """The runs over a dataset: the records that depend on its loads."""
    return [r[0] for r in ex.rows(exp.select(column("run_id")).from_(table("run"))
                                  .where(eq(column("dataset"), param("dataset"))).order_by(column("run_id")),
                                  {"dataset": name})]


def delete_dataset(conn: psycopg.Connection, name: str, cascade: bool = False) -> Deleted:
    """Delete a dataset, its loads, their activity and rejected rows, in one transaction. Runs
    over it depend on it: without ``cascade`` they are named in a CcfError and nothing is deleted;
    with it they are deleted too. A load into the dataset waits for the delete (and the reverse):
    the delete holds the load lock of each of the dataset's activity types."""
    ex = Executor(conn)
    with conn.transaction():
        require_dataset(ex, name)
        types = [r[0] for r in ex.rows(
            exp.select(column("activity_type")).distinct().from_(table("activity_load"))
            .where(eq(column("dataset"), param("dataset"))).order_by(column("activity_type")), {"dataset": name})]
        for t in types:  # in name order, as every other holder of several would take them
            ex.execute(locks.load_lock(), {"lock_key": locks.load_lock_key(t)})
        ex.execute(exp.select(column("dataset")).from_(table("dataset")).where(eq(column("dataset"), param("dataset")))
                   .lock(), {"dataset": name})
        runs = dependent_runs(ex, name)
        if runs and not cascade:
            shown = ", ".join(map(str, runs[:20])) + (f" and {len(runs) - 20} more" if len(runs) > 20 else "")
            raise CcfError(f"dataset {name!r} has {len(runs)} run(s) over it, which read its loads: run(s) {shown}. "
                           "Nothing was deleted. Delete the runs with it: 'ccf datasets delete "
                           f"{name} --cascade' (or each with 'ccf runs delete RUN')")
        rows = delete_runs(ex, runs) if runs else {}
        of_dataset = eq(column("dataset"), param("dataset"))
        for t in types:
            rows[activity_table_name(t)] = ex.execute(exp.delete(table(activity_table_name(t)), where=of_dataset.copy()),
                                                      {"dataset": name}).rowcount
            drop_partition(ex, t, name)  # (the command line's: the service's login leaves it, empty)
        for t in ("rejected", "activity_load", "dataset"):
            rows[t] = ex.execute(exp.delete(table(t), where=of_dataset.copy()), {"dataset": name}).rowcount
    return Deleted(f"dataset {name}" + (f" and its {len(runs)} run(s)" if runs else ""), rows)


def activity_types_with_rows(ex: Executor, name: str) -> set[str]:
    """The activity types of which the dataset's loads hold at least one row."""
    return {r[0] for r in ex.rows(
        exp.select(column("activity_type")).distinct().from_(table("activity_load"))
        .where(exp.and_(eq(column("dataset"), param("dataset")), exp.GT(this=column("rows_loaded"), expression=exp.Literal.number(0)))),
        {"dataset": name})}
