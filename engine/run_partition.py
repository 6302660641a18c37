"""A run's partition of ccf.result_row: where a run writes its result rows (migration 0027).

The run creates it empty in its own transaction (``open_partition``), each methodology's
``results`` statement inserts into it by name (``into_partition``), and it is attached to
ccf.result_row as the run's last statement before its commit (``attach_partition``). A table
created in the transaction that fills it writes no WAL under ``wal_level = minimal`` (the
embedded server's), and it has no index to maintain row by row; it carries the CHECK of its
bound, so ATTACH does not scan it (docs/performance.md, "Eighth pass"). Creating and attaching
are the schema owner's rights: the run's login (ccf_runner) calls the migration's SECURITY
DEFINER functions, which refuse any run but the one in progress in the caller's transaction.
Deleting a run drops its partition (the trigger of migration 0027).

Until it is attached the run's rows are seen through its partition only, not through
ccf.result_row and its views.
"""

from __future__ import annotations

from sqlglot import exp

from ccf.engine.sql import Executor, func, param, table

PARTITIONS = "ccf_run"  # the schema of the partitions (migration 0027)


def partition_name(run_id: int) -> str:
    """The partition's name; migration 0027's functions name it the same."""
    return f"result_row_{int(run_id)}"


def partition_table(run_id: int) -> exp.Table:
    """ccf_run.result_row_<run id>: the run's result rows."""
    return table(partition_name(run_id), schema=PARTITIONS)


def open_partition(ex: Executor, run_id: int) -> exp.Table:
    """Create the run's partition, empty and not attached, in the caller's transaction (the run's)."""
    ex.execute(exp.select(func("open_result_partition", param("run_id"), schema="ccf")), {"run_id": run_id})
    return partition_table(run_id)


def attach_partition(ex: Executor, run_id: int) -> None:
    """Attach the run's filled partition to ccf.result_row (its last statement before the commit:
    ATTACH holds a SHARE UPDATE EXCLUSIVE lock of ccf.result_row to the end of the transaction,
    which the next run's ATTACH waits for)."""
    ex.execute(exp.select(func("attach_result_partition", param("run_id"), schema="ccf")), {"run_id": run_id})


def into_partition(statement: exp.Expression, target: exp.Table) -> exp.Expression:
    """An ``INSERT INTO ccf.result_row …`` that inserts into ``target`` instead: a copy (compiled
    trees are shared, engine/compile ``compiled``), the rest of it as it was."""
    out = statement.copy()
    schema = out.this
    assert isinstance(out, exp.Insert) and isinstance(schema, exp.Schema), "an INSERT with its columns"
    schema.set("this", target.copy())
    return out


__all__ = ["PARTITIONS", "attach_partition", "into_partition", "open_partition", "partition_name", "partition_table"]
