"""A run's partitions of ccf.result_row, ccf.excluded and ccf.unmatched (migration 0027,
engine/run_partition.py): made and filled in the run's transaction, attached with the CHECK of
their bound and no index, read through the parents, dropped with the run."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from sqlglot import exp
from helpers import load, shipped_library, write_csv
from ccf.engine.lifecycle.runs import delete_run, delete_runs
from ccf.engine.run import run
from ccf.engine.run_partition import PARTITIONS, WRITTEN, partition_name
from ccf.engine.sql import Executor, is_param, table

ELEC_HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
ROWS = ("E1,ACME,2024-01-01,2024-01-31,1000,kWh,GB,,",  # a result
        "E2,ACME,2024-01-01,2024-01-31,0,kWh,GB,,",  # excluded: zero
        "E3,ACME,2024-01-01,2024-01-31,5,kWh,ZZ,,")  # unmatched: no factor for the country


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


def _run(db, lib, tmp_path: Path, dataset: str):
    load(db, lib, dataset, "electricity", write_csv(tmp_path / "e.csv", ELEC_HEADER, *ROWS))
    return run(db, dataset, [lib.resolve("scope2.electricity.location_based@1.0.0")])


def _partitions(db, run_id: int) -> dict[str, tuple]:
    """Parent -> (bound, CHECK constraints, index count) of each attached partition of the run."""
    rows = db.execute(
        "SELECT p.relname, pg_get_expr(c.relpartbound, c.oid), "
        "       (SELECT array_agg(pg_get_constraintdef(k.oid)) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c' "
        "        AND pg_get_constraintdef(k.oid) LIKE '%%run_id%%'), "
        "       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) "
        "FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_class p ON p.oid = h.inhparent "
        "WHERE c.relnamespace = %s::regnamespace AND c.relname = ANY(%s)",
        [PARTITIONS, [partition_name(t, run_id) for t in WRITTEN]]).fetchall()
    db.rollback()
    return {parent: (bound, checks, indexes) for parent, bound, checks, indexes in rows}


def test_a_run_writes_each_outcome_into_its_own_partition_attached_at_its_commit(db, lib, tmp_path):
    report = _run(db, lib, tmp_path, "parts")
    run_id = report.run_id
    assert report.methodologies[0].reconciliation.rows_result == 1
    bound = f"FOR VALUES IN ('{run_id}')"
    assert _partitions(db, run_id) == {t: (bound, [f"CHECK ((run_id = {run_id}))"], 0) for t in WRITTEN}
    for t in WRITTEN:  # each outcome's row in its partition, read through the parent
        (n,) = db.execute(f"SELECT count(*) FROM ccf.{t} WHERE run_id = %s", [run_id]).fetchone()
        assert n == 1, t
    db.rollback()


def test_deleting_a_run_drops_its_partitions_and_counts_their_rows(db, lib, tmp_path):
    run_id = _run(db, lib, tmp_path, "gone").run_id
    deleted = delete_run(db, run_id)
    assert {t: deleted.rows[t] for t in WRITTEN} == {t: 1 for t in WRITTEN}
    assert _partitions(db, run_id) == {}
    assert db.execute("SELECT to_regclass(%s)", [f"{PARTITIONS}.{partition_name('result_row', run_id)}"]).fetchone() == (None,)
    db.rollback()


def test_only_the_run_in_progress_may_make_or_attach_partitions(db, lib, tmp_path):
    """The functions run with the owner's rights, for the caller's own run only: a finished run
    (visible to all) is refused, and so is a run id no transaction has (or another's, unseen)."""
    run_id = _run(db, lib, tmp_path, "closed").run_id
    for call in ("open_result_partition", "attach_result_partition"):
        for other in (run_id, run_id + 1000):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not the run in progress"):
                db.execute(f"SELECT ccf.{call}(%s)", [other])
            db.rollback()


def test_a_run_rolled_back_leaves_no_partition(db, lib, tmp_path):
    """A recomputation (ccf verify's inspect) runs in a transaction that is rolled back: its
    partitions, made in it, go with it."""
    load(db, lib, "rolled", "electricity", write_csv(tmp_path / "e.csv", ELEC_HEADER, *ROWS))
    seen = {}

    def look(ex, report):
        seen["run_id"] = report.run_id
        (seen["attached"],) = ex.one(exp.select(exp.Count(this=exp.Star())).from_(table("result_row"))
                                     .where(is_param("run_id")), {"run_id": report.run_id})

    run(db, "rolled", [lib.resolve("scope2.electricity.location_based@1.0.0")], inspect=look)
    assert seen["attached"] == 1  # inside the run: attached, read through the parent
    assert _partitions(db, seen["run_id"]) == {}


def test_deleting_a_run_locks_no_other_runs_partition(db, lib, tmp_path):
    """One lock per partition of every run, which the delete took of ccf.excluded's and
    ccf.unmatched's ("LOCK TABLE ONLY a, b" locks b's partitions), ran out of the server's lock
    table at about 3,000 runs (docs/performance.md, "Thousands of runs")."""
    kept, gone = (_run(db, lib, tmp_path, name).run_id for name in ("kept", "deleted"))
    theirs = [f"{PARTITIONS}.{partition_name(t, kept)}" for t in WRITTEN]
    delete_runs(Executor(db), [gone])
    locked = db.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = ANY(%s::regclass[])",
                        [theirs]).fetchone()[0]
    db.rollback()
    assert locked == 0


@pytest.mark.skipif(bool(os.environ.get("CCF_DATABASE_URL")), reason="a DBA's server: docs/performance.md says what to set")
def test_the_embedded_server_has_room_for_the_locks_of_deleting_thousands_of_runs(db, lib, tmp_path):
    """``ccf datasets delete --cascade`` deletes every run of the dataset in one transaction, and
    migration 0027 converts every run in one: their locks, counted here per run, must fit in the
    shared lock table (max_locks_per_transaction per connection slot: engine/database.py)."""
    runs = [_run(db, lib, tmp_path, f"many{i}").run_id for i in range(2)]
    delete_runs(Executor(db), runs[:1])
    one = db.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()").fetchone()[0]
    delete_runs(Executor(db), runs[1:])
    per_run = db.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()").fetchone()[0] - one
    db.rollback()
    slots = db.execute("SELECT current_setting('max_locks_per_transaction')::int * (current_setting('max_connections')::int"
                       " + current_setting('max_prepared_transactions')::int)").fetchone()[0]
    db.rollback()
    assert 15 <= per_run and slots >= 3_000 * per_run
