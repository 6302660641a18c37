"""Runs at once on one ClickHouse (docs/scale-out.md, "Concurrent runs"): each methodology of a
run copies its inputs into tables of its own (``input_<run>_<crc>_<name>``, engine/clickhouse/
tables.py ``RunInputs``), dropped when it is done, whether it succeeded or not; tables a crashed
process left are dropped by the next run, and those of a run still running are not.

Two runs' phases are interleaved through run.py's two halves (``copy_methodology``, ``evaluate``)
on the process's one chdb client: both copies before either evaluates. With the inputs in shared
tables (``ccf.activity_<type>``, before), the second copy replaced the first's rows and the first
run evaluated the other dataset's rows."""

from __future__ import annotations

import pytest
from sqlglot import exp

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from clickhouse._support import ch_rows  # noqa: E402
from helpers import shipped_library  # noqa: E402
from ccf.engine import api  # noqa: E402
from ccf.engine.clickhouse import run as ch_run  # noqa: E402
from ccf.engine.clickhouse.catalogue import opened  # noqa: E402
from ccf.engine.clickhouse.tables import DATABASE, RESULT_TABLES, RunInputs, create_table, drop_run, run_tables  # noqa: E402
from ccf.engine.database import connect  # noqa: E402
from ccf.engine.load import dataset_loads, require_dataset  # noqa: E402
from ccf.engine.locks import clickhouse_run_lock_key, xact_lock_of  # noqa: E402
from ccf.engine.run import RunError, one_snapshot  # noqa: E402
from ccf.engine.sql import Executor  # noqa: E402

STATIONARY = "scope1.stationary_combustion"
DATASETS = ("meridian", "demo")  # the command line's demo's two companies: the same activity type, other rows
RUN_IDS = range(1_000_001, 1_000_005)  # run_on_clickhouse's own numbering, in database ccf: no other test's


def _stored(ch, run_id: int, methodology_id: str) -> dict[str, list[tuple]]:
    """Everything a run stored in database ``ccf``, its run id left out, in a stable order."""
    return {name: sorted(tuple(sorted((k, str(v)) for k, v in r.items() if k != "run_id"))
                         for r in ch_rows(ch, name, run_id, methodology_id)) for name in RESULT_TABLES}


def test_two_runs_interleaved_on_one_clickhouse_each_read_their_own_inputs(module_cli_demo, clickhouse):
    """Two runs of two datasets, both inputs copied before either evaluates, through one chdb
    client: each stores what it stores alone, and neither leaves an input table."""
    (m,) = api.resolve(shipped_library(), [STATIONARY])
    alone_ids, together_ids = RUN_IDS[:2], RUN_IDS[2:]
    with connect(module_cli_demo.url) as conn:
        for run_id, dataset in zip(alone_ids, DATASETS):
            ch_run.run_on_clickhouse(conn, clickhouse, dataset, m, run_id, other_edition=True)
    alone = [_stored(clickhouse, run_id, m.id) for run_id in alone_ids]
    assert all(a["result_row"] for a in alone) and alone[0] != alone[1]  # the datasets differ: a swap would show

    with connect(module_cli_demo.url) as a, connect(module_cli_demo.url) as b, \
            one_snapshot(a, rollback=True) as pa, one_snapshot(b, rollback=True) as pb:
        copied = []
        for pg, run_id, dataset in ((pa, together_ids[0], DATASETS[0]), (pb, together_ids[1], DATASETS[1])):
            where = RunInputs(DATABASE, run_id, m.id)
            info, read = require_dataset(pg, dataset), tuple(dataset_loads(pg, dataset))
            copied.append(ch_run.copy_methodology(pg, clickhouse, where, info, read, m, True))
        try:
            for c in copied:
                ch_run.evaluate(clickhouse, c)
        finally:
            for c in copied:
                c.where.drop(clickhouse)
    assert [_stored(clickhouse, run_id, m.id) for run_id in together_ids] == alone
    assert not set(run_tables(clickhouse, DATABASE)) & set(RUN_IDS)  # every input and evaluation table dropped
    for run_id in RUN_IDS:
        drop_run(clickhouse, DATABASE, run_id)


def test_a_run_drops_its_inputs_and_a_crashed_runs_but_not_a_running_ones(module_cli_demo, clickhouse, monkeypatch):
    """A run on ClickHouse leaves no input table, committed or failed; the tables of a run whose
    process ended without dropping them (its lock free) are dropped by the next run, and those
    of a run in progress in another session (its lock held) are left to it."""
    (m,) = api.resolve(shipped_library(), [STATIONARY])
    crashed, running = 2_000_001, 2_000_002  # ids no run of this database draws
    with connect(module_cli_demo.url) as conn, connect(module_cli_demo.url) as other:
        first = ch_run.run_clickhouse(conn, clickhouse, DATASETS[1], [m], other_edition=True)  # the database's identity taken
        ch, database = opened(Executor(conn))
        conn.commit()
        assert first.run_id not in run_tables(ch, database)
        for run_id in (crashed, running):
            create_table(ch, RunInputs(database, run_id, m.id).name(f"activity_{m.activity.id}"), [("x", "Int64")], ["x"],
                         database=database)
            create_table(ch, RunInputs(database, run_id, m.id).eval_table, [("x", "Int64")], ["x"], database=database)
        Executor(other).execute(xact_lock_of(), {"lock_key": clickhouse_run_lock_key(running)})  # in progress there

        done = ch_run.run_clickhouse(conn, ch, DATASETS[0], [m], other_edition=True)
        left = run_tables(ch, database)
        assert crashed not in left and done.run_id not in left
        assert len(left[running]) == 2  # the running run's input and evaluation tables are its own to drop
        other.rollback()  # the running run ends (without dropping its tables: as a crash)

        def refusing(*args, **kwargs):  # the inputs are copied, then the methodology fails
            raise RunError("refused by the test after the copy")

        monkeypatch.setattr(ch_run, "compile_for_clickhouse", refusing)
        with pytest.raises(RunError, match="refused by the test"):
            ch_run.run_clickhouse(conn, ch, DATASETS[0], [m], other_edition=True)
        assert not run_tables(ch, database)  # the failed run's, and the ended run's swept by it
        assert ch.rows(exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(f"{database}.result_row"))
                       .where(exp.column("run_id").eq(done.run_id)))[0][0] > 0  # the committed run's rows stay
