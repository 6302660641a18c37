"""Faults: a run that dies midway leaves nothing and can be rerun; runs at once do not interfere.

- the server ends the run's backend while the evaluate statement runs (pg_terminate_backend);
- the client process is killed (SIGKILL) while its run executes;
- a statement fails inside a run (after earlier methodologies wrote their rows);
- two runs on one database at the same time, on separate connections;
- a rerun gives identical results.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from helpers import shipped_library
from reliability._support import NIGHTLY, nightly, unique
from ccf.engine.database import connect
from ccf.engine.load import load_csv
from ccf.engine.run import run

ELECTRICITY = "scope2.electricity.location_based@1.0.0"
FUEL = "scope1.stationary_combustion@1.0.0"
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
BIG = 400_000 if NIGHTLY else 30_000
UNITS = ("kWh", "MWh", "GJ", "therm", "Btu")


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


def write_big(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for i in range(n):
            f.write(f"E{i},ACME,2024-01-01,2024-01-31,{i % 9973}.{i % 97},{UNITS[i % 5]},{'GB' if i % 7 else 'FR'},,\n")
    return path


@pytest.fixture(scope="module")
def big(module_db_url, lib, tmp_path_factory) -> str:
    """A dataset large enough that its run takes a few seconds; the database of this module."""
    dataset = unique("big")
    with connect(module_db_url) as conn:
        path = write_big(tmp_path_factory.mktemp("faults") / "big.csv", BIG)
        load_csv(conn, dataset, lib.activity_types["electricity"], path)
        conn.execute('ANALYZE ccf."activity_electricity"')
        conn.commit()
    return dataset


def counts(url: str, dataset: str) -> tuple:
    """Rows a dataset's runs left behind (runs, methodology rows, results, exclusions, unmatched)."""
    with psycopg.connect(url) as c:
        return c.execute(
            """SELECT (SELECT count(*) FROM ccf.run WHERE dataset = %(d)s),
                      (SELECT count(*) FROM ccf.run_methodology m JOIN ccf.run r USING (run_id) WHERE r.dataset = %(d)s),
                      (SELECT count(*) FROM ccf.result x WHERE x.run_id IN (SELECT run_id FROM ccf.run WHERE dataset = %(d)s)),
                      (SELECT count(*) FROM ccf.excluded x WHERE x.run_id IN (SELECT run_id FROM ccf.run WHERE dataset = %(d)s)),
                      (SELECT count(*) FROM ccf.unmatched x WHERE x.run_id IN (SELECT run_id FROM ccf.run WHERE dataset = %(d)s)),
                      (SELECT max(run_id) FROM ccf.run)""",
            {"d": dataset},
        ).fetchone()


def orphans(url: str) -> int:
    """Result rows whose run does not exist (the result tables have no foreign key)."""
    with psycopg.connect(url) as c:
        return c.execute(
            "SELECT count(*) FROM ccf.result r WHERE NOT EXISTS (SELECT 1 FROM ccf.run x WHERE x.run_id = r.run_id)"
        ).fetchone()[0]


@pytest.fixture(scope="module")
def watcher_url(pg_admin_url, module_db_url) -> str:
    """The admin login on the module's database: it sees and may end the runner's backends
    (a run executes on its own connection, logged in as ccf_runner)."""
    return make_conninfo(pg_admin_url, dbname=conninfo_to_dict(module_db_url)["dbname"])


def wait_for_query(url: str, pid_or_app: int | str, like: str, timeout: float = 60) -> int:
    """The pid of the backend once it is executing a statement that starts with ``like``."""
    column = "pid" if isinstance(pid_or_app, int) else "application_name"
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as c:
        while time.monotonic() < deadline:
            row = c.execute(
                f"SELECT pid FROM pg_stat_activity WHERE {column} = %s AND state = 'active' AND query LIKE %s",
                (pid_or_app, like + "%"),
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.01)
    raise AssertionError(f"no backend started {like!r} within {timeout}s")


def rerun_reconciles(url: str, dataset: str, m) -> Decimal:
    with connect(url) as conn:
        report = run(conn, dataset, [m])
        assert report.methodologies[0].reconciliation.balanced
        return report.co2e_kg


def test_terminated_backend_leaves_nothing_and_the_run_can_be_rerun(module_db_url, watcher_url, big, lib):
    m = lib.resolve(ELECTRICITY)
    before = counts(module_db_url, big)
    app = unique("victim")
    victim = connect(module_db_url + " application_name=" + app)  # the run's own connection takes the name too
    outcome: dict[str, BaseException] = {}

    def go():
        try:
            run(victim, big, [m])
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome["error"] = exc

    thread = threading.Thread(target=go)
    thread.start()
    pid = wait_for_query(watcher_url, app, "CREATE TEMPORARY TABLE ccf_eval")
    with psycopg.connect(watcher_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    thread.join(120)
    assert isinstance(outcome.get("error"), psycopg.OperationalError), outcome
    victim.close()
    after = counts(module_db_url, big)
    assert after[:5] == before[:5]  # no run row, no results, nothing
    assert orphans(module_db_url) == 0
    assert rerun_reconciles(module_db_url, big, m) > 0


def test_killed_client_leaves_nothing(module_db_url, watcher_url, big, lib):
    """The client process dies (SIGKILL) while its run executes; the server rolls back."""
    m = lib.resolve(ELECTRICITY)
    before = counts(module_db_url, big)
    app = unique("victim")
    code = (
        "import sys\n"
        "from ccf.engine.api import library\n"
        "from ccf.engine.database import connect\n"
        "from ccf.engine.run import run\n"
        f"conn = connect({module_db_url + ' application_name=' + app!r})\n"
        f"run(conn, {big!r}, [library().resolve({ELECTRICITY!r})])\n"
        "conn.commit()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_query(watcher_url, app, "CREATE TEMPORARY TABLE ccf_eval")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    # the backend notices its client is gone when it next talks to it, and rolls back
    deadline = time.monotonic() + 120
    with psycopg.connect(watcher_url, autocommit=True) as c:
        while c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed client's backend is still there"
            time.sleep(0.1)
    assert counts(module_db_url, big)[:5] == before[:5]
    assert orphans(module_db_url) == 0
    assert rerun_reconciles(module_db_url, big, m) > 0


def test_a_statement_failing_midway_leaves_nothing(module_db_url, lib, tmp_path):
    """The second methodology fails inside PostgreSQL after the first wrote its rows."""
    good = lib.resolve(ELECTRICITY)
    broken = type(good)(**{**vars(good), "id": "scope2.broken", "rules": good.rules[:1] + (
        type(good.rules[1])(**{**vars(good.rules[1]), "where": _failing_condition()}),
    )})
    dataset = unique("midway")
    with connect(module_db_url) as conn:
        load_csv(conn, dataset, lib.activity_types["electricity"], write_big(tmp_path / "m.csv", 50))
        before = counts(module_db_url, dataset)
        with pytest.raises(psycopg.errors.DatetimeFieldOverflow):
            run(conn, dataset, [good, broken])
        conn.rollback()
        assert counts(module_db_url, dataset)[:5] == before[:5]
        assert conn.execute("SELECT current_user = session_user").fetchone() == (True,)  # role reset by the rollback
        conn.rollback()
        report = run(conn, dataset, [good])
        assert report.methodologies[0].reconciliation.balanced


def _failing_condition():
    """A condition PostgreSQL fails on while executing the run: a date it cannot read (the
    checker refuses date("2024-02-30"), so the IR is built by hand to stand for any statement
    that fails)."""
    from ccf.dsl import ir

    return ir.Compare("<", ir.FieldRef("period_start", ir.DATE), ir.DateConst("2024-02-30"))


def test_two_runs_at_once_both_reconcile_and_do_not_interfere(module_db_url, lib, tmp_path):
    elec, fuel = lib.resolve(ELECTRICITY), lib.resolve(FUEL)
    dataset = unique("together")
    fuel_header = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit,mass,mass_unit"
    with connect(module_db_url) as conn:
        load_csv(conn, dataset, lib.activity_types["electricity"], write_big(tmp_path / "e.csv", 5_000))
        fuel_csv = tmp_path / "f.csv"
        fuel_csv.write_text(fuel_header + "\n" + "".join(
            f"F{i},A,2024-01-01,2024-12-31,{('Natural gas', 'LPG', 'Gas oil')[i % 3]},{i},kWh,,,,\n" for i in range(5_000)
        ))
        load_csv(conn, dataset, lib.activity_types["stationary_fuel"], fuel_csv)
        solo = {m.id: run(conn, dataset, [m]).co2e_kg for m in (elec, fuel)}
    reports: dict[str, object] = {}
    barrier = threading.Barrier(3)

    def go(key: str, methodologies):
        with connect(module_db_url) as c:
            barrier.wait()
            try:
                reports[key] = run(c, dataset, methodologies)
            except BaseException as exc:  # noqa: BLE001
                reports[key] = exc

    threads = [
        threading.Thread(target=go, args=("elec", [elec])),
        threading.Thread(target=go, args=("fuel", [fuel])),
        threading.Thread(target=go, args=("both", [elec, fuel])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for key, r in reports.items():
        assert not isinstance(r, BaseException), f"{key}: {r!r}"
        for mo in r.methodologies:  # type: ignore[attr-defined]
            assert mo.reconciliation.balanced
            assert mo.co2e_kg == solo[mo.methodology_id]
    ids = {r.run_id for r in reports.values()}  # type: ignore[attr-defined]
    assert len(ids) == 3
    with psycopg.connect(module_db_url) as c:
        per_run = dict(c.execute(
            "SELECT run_id, count(*) FROM ccf.result WHERE run_id = ANY(%s) GROUP BY run_id", (list(ids),)
        ).fetchall())
    assert per_run[reports["both"].run_id] == per_run[reports["elec"].run_id] + per_run[reports["fuel"].run_id]  # type: ignore[attr-defined]


def test_rerun_gives_identical_rows(module_db_url, lib, tmp_path):
    m = lib.resolve(ELECTRICITY)
    dataset = unique("rerun")
    with connect(module_db_url) as conn:
        load_csv(conn, dataset, lib.activity_types["electricity"], write_big(tmp_path / "r.csv", 5_000))
        first, second = run(conn, dataset, [m]), run(conn, dataset, [m])
        rows = lambda run_id: conn.execute(  # noqa: E731
            """SELECT activity_id, gas, rule_id, gas_kg, gwp, co2e_kg, factor_ids, match_level, unit_conversion
               FROM ccf.result WHERE run_id = %s ORDER BY activity_id, gas""",
            (run_id,),
        ).fetchall()
        a, b = rows(first.run_id), rows(second.run_id)
    assert a == b and len(a) > 0
    assert first.co2e_kg == second.co2e_kg
    assert [mo.reconciliation for mo in first.methodologies] == [mo.reconciliation for mo in second.methodologies]


@pytest.mark.slow
@nightly
def test_many_runs_at_once(module_db_url, big, lib):
    """Nightly: eight concurrent runs of the large dataset."""
    m = lib.resolve(ELECTRICITY)
    results: list[object] = []

    def go():
        with connect(module_db_url) as c:
            try:
                results.append(run(c, big, [m]).co2e_kg)
            except BaseException as exc:  # noqa: BLE001
                results.append(exc)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(1800)
    assert len(set(results)) == 1 and isinstance(results[0], Decimal), results



# --- the embedded server killed (a crash, a reboot) --------------------------------------------

# Rows written before the kill. Nightly: ≈ 3.5 GB of WAL, whose replay takes longer (≈ 17 s here)
# than pgserver waits for a start (10 s), so ccf's own wait (database.wait_until_ready) is what
# lets the next command connect; in CI the replay is short and the same path runs without it.
CRASH_ROWS = 36_000_000 if NIGHTLY else 200_000
_WRITE = f"""
import sys
from ccf.engine.database import OWNER, connect, embedded_superuser_url
c = connect(embedded_superuser_url()); c.autocommit = True  # ALTER SYSTEM is the superuser's
c.execute("ALTER SYSTEM SET max_wal_size = '32GB'")  # no checkpoint: the rows are replayed from WAL
c.execute("ALTER SYSTEM SET checkpoint_timeout = '1h'")
c.execute("SELECT pg_reload_conf()")
c.execute("CHECKPOINT")
c.execute("CREATE TABLE public.crash AS SELECT g, md5(g::text) || md5((g + 1)::text) AS t FROM generate_series(1, {CRASH_ROWS}) g")
c.execute("ALTER TABLE public.crash OWNER TO " + OWNER)  # read back by the next command, as ccf
"""
_READ = """
from ccf.engine.database import connect
print(connect().execute("SELECT count(*) FROM public.crash").fetchone()[0])
"""


def _ccf_process(code: str, home: str) -> subprocess.CompletedProcess:
    """A new process, as each ccf command is (pgserver keeps one handle per process)."""
    env = {k: v for k, v in os.environ.items() if k != "CCF_DATABASE_URL"} | {"CCF_HOME": home}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.skipif(bool(os.environ.get("CCF_DATABASE_URL")), reason="the embedded server only")
def test_killed_embedded_server_recovers_at_the_next_command():
    import shutil
    import tempfile

    import psutil

    home = tempfile.mkdtemp(prefix="ccf-crash-")  # not under pytest's 0700 basetemp: the server runs as its own user
    try:
        written = _ccf_process(_WRITE, home)
        assert written.returncode == 0, written.stderr
        pgdata = Path(home) / "pgdata"
        postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        processes = [postmaster, *postmaster.children(recursive=True)]
        for p in processes:
            p.send_signal(signal.SIGKILL)  # no shutdown checkpoint: the next start must replay WAL
        gone, alive = psutil.wait_procs(processes, timeout=30)
        assert not alive
        assert (pgdata / "postmaster.pid").exists()  # left behind, as after a crash

        read = _ccf_process(_READ, home)
        assert read.returncode == 0, read.stderr
        assert int(read.stdout) == CRASH_ROWS
        log = (pgdata / "log").read_text()
        assert "database system was interrupted" in log or "not properly shut down" in log  # it did recover
    finally:
        info = Path(home) / "pgdata" / "postmaster.pid"
        if info.exists():
            try:
                server = psutil.Process(int(info.read_text().split()[0]))
                server.send_signal(signal.SIGINT)  # fast shutdown
                server.wait(60)
            except (psutil.Error, ValueError):
                pass
        shutil.rmtree(home, ignore_errors=True)
