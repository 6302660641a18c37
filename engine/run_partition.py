"""A run's partitions of ccf.result_row, ccf.excluded and ccf.unmatched: where a run writes its
rows (migration 0027).

The run creates them empty in its own transaction (``open_partitions``), each methodology's
``results``, ``excluded`` and ``unmatched`` statements insert into them by name
(``into_partition``), and they are attached to their parents as the run's last statements before
its commit (``attach_partitions``). A table created in the transaction that fills it writes no
WAL under ``wal_level = minimal`` (the embedded server's), and has no index to maintain row by
row; each carries the CHECK of its bound, so ATTACH does not scan it (docs/performance.md,
"Eighth pass"). Creating and attaching are the schema owner's rights: the run's login
(ccf_runner) calls the migration's SECURITY DEFINER functions, which refuse any run but the one
in progress in the caller's transaction. Deleting a run drops its partitions (the trigger of
migration 0027). ``ccf compile --bind``'s script makes those a run id lacks, as the owner
(``make_missing``, migration 0032), and rolls them back with its rows.

Until they are attached the run's rows are seen through its partitions only, not through the
parents and their views.
"""

from __future__ import annotations

from typing import Mapping

from sqlglot import exp

from ccf.engine.sql import Executor, func, param, table

PARTITIONS = "ccf_run"  # the schema of the partitions (migration 0027)
WRITTEN = ("result_row", "excluded", "unmatched")  # the tables of schema ccf partitioned by run


def partition_name(target: str, run_id: int) -> str:
    """The name of the run's partition of ccf.<target>; migration 0027's functions name it the same."""
    return f"{target}_{int(run_id)}"


def partition_table(target: str, run_id: int) -> exp.Table:
    """ccf_run.<target>_<run id>: the run's rows of ccf.<target>."""
    return table(partition_name(target, run_id), schema=PARTITIONS)


def open_partitions(ex: Executor, run_id: int) -> dict[str, exp.Table]:
    """Create the run's partitions, empty and not attached, in the caller's transaction (the
    run's); each parent's name -> its partition."""
    ex.execute(exp.select(func("open_result_partition", param("run_id"), schema="ccf")), {"run_id": run_id})
    return {target: partition_table(target, run_id) for target in WRITTEN}


def make_missing(run_id: int) -> exp.Expression:
    """``SELECT ccf.make_result_partitions(<run id>, true)``: the partitions the run lacks made, not
    attached, in the caller's transaction; for the schema owner only (migration 0032). The run
    id is a literal: the statement stands alone in a psql script (engine/psql_script.py)."""
    return exp.select(func("make_result_partitions", exp.Literal.number(int(run_id)), exp.true(), schema="ccf"))


def attach_partitions(ex: Executor, run_id: int) -> None:
    """Attach the run's filled partitions to their parents (its last statements before the
    commit: ATTACH holds a SHARE UPDATE EXCLUSIVE lock of the parent to the end of the
    transaction, which the next run's ATTACH waits for)."""
    ex.execute(exp.select(func("attach_result_partition", param("run_id"), schema="ccf")), {"run_id": run_id})


def into_partition(statement: exp.Expression, partitions: Mapping[str, exp.Table]) -> exp.Expression:
    """An ``INSERT INTO ccf.<target> …`` of a partitioned target that inserts into its partition in
    ``partitions`` instead: a copy (compiled trees are shared, engine/compile ``compiled``), the
    rest of it as it was. Any other statement is returned as it is."""
    if not isinstance(statement, exp.Insert) or not isinstance(statement.this, exp.Schema):
        return statement
    target = statement.this.this
    if not isinstance(target, exp.Table) or target.db != "ccf" or target.name not in partitions:
        return statement
    out = statement.copy()
    out.this.set("this", partitions[target.name].copy())
    return out


__all__ = ["PARTITIONS", "WRITTEN", "attach_partitions", "into_partition", "make_missing", "open_partitions",
           "partition_name", "partition_table"]
