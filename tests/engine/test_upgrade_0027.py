"""Migration 0027 on a database that already holds runs: each run's result, exclusion and
unmatched rows are moved into its partitions, and every reader gives what it gave before.

The database before the upgrade is made as an older ccf left it: the migrations through 0026
applied to an empty database (``migrate(through=26)``), then every row of ``ccf demo``'s database
(both sample companies: two datasets, every latest published version, runs of an older version
for ``ccf diff --dataset``) written into the tables 0026 has, as 0026 held them: the result rows in
plain, unpartitioned tables. The migrations from 0027 on are then applied by today's code, and
each reader is asked the same thing of the upgraded database and of the database the rows came
from (its rows written by today's runs into their partitions): the same answers.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from contextlib import redirect_stdout

import psycopg
import pytest
from psycopg import sql

from ccf.engine.cli import main
from ccf.engine.database import connect
from ccf.engine.load.tables import attach_partition, ensure_activity_table, has_partition, new_partition
from ccf.engine.migrate import migrate
from ccf.engine.sql import Executor
from helpers import shipped_library

BEFORE = 26  # the last migration before the result rows were partitioned by run
CHANGED = "scope2.electricity.location_based"  # two versions of it run on each dataset before the upgrade
OLD, NEW = f"{CHANGED}@1.0.0", f"{CHANGED}@1.2.0"


def _ccf(url: str, *args: str) -> str:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out):
        mp.setenv("CCF_DATABASE_URL", url)
        code = main(list(args))
    assert code == 0, (args, out.getvalue())
    return out.getvalue()


def _tables(conn: psycopg.Connection) -> list[str]:
    """The tables of schema ccf (partitioned parents, not their partitions), parents of a foreign
    key before the tables that refer to them."""
    names = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'ccf'::regnamespace"
        " AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname")]
    refers = {}
    for child, parent in conn.execute(
            "SELECT c.relname, p.relname FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid"
            " JOIN pg_class AS p ON p.oid = k.confrelid WHERE k.contype = 'f' AND k.connamespace = 'ccf'::regnamespace"):
        refers.setdefault(child, set()).add(parent)
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and refers.get(n, set()) - {n} <= set(ordered)]
        assert ready, f"a cycle of foreign keys among {sorted(set(names) - set(ordered))}"
        ordered += ready
    return ordered


def _columns(conn: psycopg.Connection, name: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT a.attname FROM pg_attribute AS a WHERE a.attrelid = pg_catalog.to_regclass(%s)"
        " AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum", (f"ccf.{name}",))]


def _as_0026_held_them(src: psycopg.Connection, dst: psycopg.Connection) -> dict[str, int]:
    """Every row of ``src`` (at head) written into ``dst`` (at 0026), column by column of 0026's
    tables; the activity tables and their datasets' partitions made as the load makes them. Rows
    per table."""
    lib = shipped_library()
    types = [r[0].removeprefix("activity_") for r in src.execute(
        "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'ccf'::regnamespace AND c.relkind = 'p'"
        " AND c.relname LIKE 'activity\\_%'")]
    datasets = [r[0] for r in src.execute("SELECT dataset FROM ccf.dataset")]
    ex_src, ex_dst = Executor(src), Executor(dst)
    for type_id in types:
        at = lib.activity_types[type_id]
        ensure_activity_table(ex_dst, at)
        for dataset in datasets:
            if has_partition(ex_src, at, dataset):
                ex_dst.execute(new_partition(at, dataset))
                attach_partition(ex_dst, at, dataset)
    tables = [t for t in _tables(dst) if t != "schema_migration"]
    dst.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier("ccf", t) for t in tables)))
    copied = {}
    for name in tables:
        cols = [c for c in _columns(dst, name) if c in set(_columns(src, name))]
        listed = sql.SQL(", ").join(map(sql.Identifier, cols))
        with src.cursor().copy(sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(listed, sql.Identifier("ccf", name))) as out, \
                dst.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier("ccf", name), listed)) as into:
            for block in out:
                into.write(block)
        copied[name] = dst.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("ccf", name))).fetchone()[0]
    for seq, value in src.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'ccf'"
                                  " AND last_value IS NOT NULL").fetchall():
        if dst.execute("SELECT pg_catalog.to_regclass(%s)", (f"ccf.{seq}",)).fetchone()[0] is not None:
            dst.execute("SELECT pg_catalog.setval(%s, %s)", (f"ccf.{seq}", value))
    return copied


def _partitioned(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT relkind FROM pg_class WHERE oid = 'ccf.result_row'::regclass").fetchone()[0] == "p"


@pytest.fixture(scope="module")
def upgraded(module_cli_demo, module_empty_db_url):
    """(the demo's database at head, the same rows upgraded from 0026); the module's tests read
    both, then the last one changes both alike."""
    cli_demo_url, empty_db_url = module_cli_demo.url, module_empty_db_url
    for dataset in ("demo", "meridian"):  # runs of two versions of a methodology, read by diff --dataset
        _ccf(cli_demo_url, "diff", OLD, NEW, "--dataset", dataset, "--json")
    with connect(empty_db_url) as old:
        migrate(old, through=BEFORE)
        old.commit()
        assert not _partitioned(old)
        with connect(cli_demo_url) as head:
            copied = _as_0026_held_them(head, old)
        old.commit()
    assert min(copied["result_row"], copied["excluded"], copied["unmatched"]) > 0
    with connect(empty_db_url) as old:
        applied = migrate(old)
        old.commit()
        assert applied[0].startswith("0027_") and _partitioned(old)
    return cli_demo_url, empty_db_url


def _runs(url: str) -> list[dict]:
    return json.loads(_ccf(url, "runs", "list", "--json"))


def _provenance(url: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute("SELECT * FROM ccf.result_provenance ORDER BY 1, 2, 7, 8, 11").fetchall()


def _partitions(url: str, run_id: int) -> list[str]:
    with connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
            " WHERE c.relnamespace = 'ccf_run'::regnamespace AND c.relname ~ ('_' || %s || '$') ORDER BY 1",
            (str(run_id),))]


def _holding_rows(url: str, run_id: int) -> list[str]:
    """The partitions 0027 makes of a run: one per table that held rows of it (a fresh run has all three)."""
    with connect(url) as conn:
        return [f"{t}_{run_id}" for t in ("excluded", "result_row", "unmatched")
                if conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {} WHERE run_id = %s)").format(sql.Identifier("ccf", t)),
                                (run_id,)).fetchone()[0]]


def _activities(url: str, run_id: int) -> list[str]:
    """An activity row of each outcome the run had (the first and the last of each table)."""
    with connect(url) as conn:
        return sorted({r for t in ("result_row", "excluded", "unmatched") for r in conn.execute(
            sql.SQL("SELECT min(activity_id), max(activity_id) FROM {} WHERE run_id = %s").format(sql.Identifier("ccf", t)),
            (run_id,)).fetchone()} - {None})


def test_every_reader_gives_after_the_upgrade_what_it_gave_before(upgraded) -> None:
    head, old = upgraded
    runs = _runs(head)
    assert _runs(old) == runs and len({r["dataset"] for r in runs}) == 2 and len(runs) >= 4
    assert _provenance(old) == _provenance(head)
    for run in runs:
        run_id = str(run["run_id"])
        assert _partitions(old, run["run_id"]) == _holding_rows(head, run["run_id"]) != []
        readers = [["runs", "show", run_id, "--json"], ["report", run_id, "--approach", "operational-control", "--json"],
                   ["unmatched", run_id, "--json"]]
        if run["dataset"] == "meridian" or len(run["methodologies"]) == 1:  # Northwind's whole runs: 4.5 s each
            readers.append(["verify", run_id, "--json"])
        for args in readers:
            assert _ccf(old, *args) == _ccf(head, *args), args
    for dataset in ("demo", "meridian"):
        run_id = next(r["run_id"] for r in runs if r["dataset"] == dataset)
        activities = _activities(head, run_id)
        assert len(activities) >= 4
        for activity in activities:
            args = ("explain", str(run_id), activity, "--json")
            assert _ccf(old, *args) == _ccf(head, *args), args
    for dataset in ("demo", "meridian"):  # the runs of both versions made before the upgrade, reused
        args = ("diff", OLD, NEW, "--dataset", dataset, "--json")
        assert _ccf(old, *args) == _ccf(head, *args), args
    assert _runs(old) == runs  # no reader ran anything anew


@pytest.mark.skipif(shutil.which("psql") is None, reason="no psql client on this machine")
def test_a_converted_run_lacking_a_partition_is_recomputed_by_its_psql_script(upgraded, tmp_path) -> None:
    """A run 0027 converted has no partition of a table that held none of its rows; ``ccf compile
    --bind``'s script makes it in its transaction (migration 0032) and leaves nothing."""
    _, old = upgraded
    run = next(r for r in _runs(old) if len(_partitions(old, r["run_id"])) < 3)
    before = _partitions(old, run["run_id"])
    script = tmp_path / "bound.sql"
    script.write_text(_ccf(old, "compile", run["methodologies"][0], "--bind", f"run_id={run['run_id']},dataset={run['dataset']}"))
    done = subprocess.run([shutil.which("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-f", str(script), old],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["make_result_partitions", str(3 - len(before))]
    assert _partitions(old, run["run_id"]) == before


def test_after_the_upgrade_a_run_is_deleted_with_its_partitions_and_a_new_run_adds_its_own(upgraded) -> None:
    head, old = upgraded
    first = _runs(head)[0]["run_id"]
    deleted = _ccf(old, "runs", "delete", str(first), "--json")
    assert deleted == _ccf(head, "runs", "delete", str(first), "--json")
    assert json.loads(deleted)["rows"]["result_row"] > 0 and _partitions(old, first) == []
    assert _runs(old) == _runs(head)
    args = ("run", "--dataset", "demo", CHANGED, "--json")
    ran = json.loads(_ccf(old, *args))
    again = json.loads(_ccf(head, *args))
    assert ran["run_id"] == again["run_id"] and ran["total_co2e_kg"] == again["total_co2e_kg"]
    assert _partitions(old, ran["run_id"]) == _partitions(head, ran["run_id"]) != []
    assert _provenance(old) == _provenance(head)
