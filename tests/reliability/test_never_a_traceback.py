"""Never a traceback: failures of the user's input and of the environment end in a message.

Each case runs the ``ccf`` command line and checks the exit code, the message, and that no
Python traceback (nor a password) reaches the output. Every exit path is taken at least once in a
new process, as a user would (``ccf``); its repetitions with other input run ``cli.main`` in the
test's own process (``ccf_here``: the same code from the parsed arguments on, where an exception
escaping would fail the test just as a traceback would), which saves starting Python and
importing ccf for each. The cases:

- a malformed CCF_DATABASE_URL, one whose password has a '%';
- totals beyond Python's default decimal precision (1e25 kg) and beyond int()'s 4,300 digits,
  printed by ``ccf run`` after its commit and by ``ccf report --format table|html``;
- the output of a committed run cannot be written (a full disk);
- ``ccf load`` of /dev/zero, a FIFO, a folder;
- the first ``ccf run`` and ``ccf load`` on a fresh database started at the same moment;
- the server ending a load's connection, and the embedded server killed while a run executes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ccf.engine.inventory.rounding import grouped

ROOT = Path(__file__).resolve().parents[2]
ENTITIES = ROOT / "methodologies" / "sample_data" / "northwind" / "entities" / "northwind-2024.csv"
ELECTRICITY = "scope2.electricity.location_based@1.0.0"
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
SECRET = "s3cr%t-pw"


def ccf(*args: str, url: str | None = None, home: str | None = None, timeout: float = 600,
        **kwargs) -> subprocess.CompletedProcess:
    """``ccf ARGS`` in a new process, against ``url`` (CCF_DATABASE_URL) or an embedded server in
    ``home``. The timeout only guards the test run against a hang."""
    env = {k: v for k, v in os.environ.items() if k != "CCF_DATABASE_URL"}
    env |= {"CCF_DATABASE_URL": url} if url is not None else {}
    env |= {"CCF_HOME": home} if home is not None else {}
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "ccf.engine.cli", *args], env=env, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, **kwargs)


@pytest.fixture()
def ccf_here(monkeypatch, capsys):
    """``ccf ARGS`` in this process (``cli.main``), against ``url``: what ``ccf`` returns."""
    from ccf.engine.cli import main

    def run(*args: str, url: str | None = None, **_ignored) -> subprocess.CompletedProcess:
        monkeypatch.delenv("CCF_DATABASE_URL", raising=False)
        if url is not None:
            monkeypatch.setenv("CCF_DATABASE_URL", url)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["ccf", *args], code, out.out, out.err)

    return run


def assert_message(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    out = (proc.stdout or "") + proc.stderr
    assert "Traceback" not in out, out
    assert proc.returncode == code, out
    for f in fragments:
        assert f in proc.stderr, proc.stderr


def electricity_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    """(activity id, quantity in kWh) rows of entity NW-HOLD in Great Britain."""
    lines = [HEADER, *(f"{aid},NW-HOLD,2024-01-01,2024-01-31,{q},kWh,GB,," for aid, q in rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


# --- the database URL --------------------------------------------------------------------


MALFORMED = [
    f"postgresql://ccf:{SECRET}@localhost:5432/ccf",        # '%' not percent-encoded
    f"postgres://ccf:{SECRET}@[::1",                        # and an unclosed IPv6 address
    f"postgresql://localhost:5432/ccf?password={SECRET}",   # in a query parameter
    "postgresql://ccf:pw@local host:5432/ccf",              # a space in the host
    "nonsense",                                             # not a connection string at all
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_database_url_is_a_message_without_the_password(url, ccf_here):
    proc = (ccf if url == MALFORMED[0] else ccf_here)("run", "--dataset", "d", url=url, timeout=120)
    assert_message(proc, 1, "CCF_DATABASE_URL is not a valid PostgreSQL connection string")
    assert SECRET not in proc.stdout + proc.stderr and "s3cr" not in proc.stdout + proc.stderr


UNREACHABLE = [
    "postgresql://ccf:hunter2-pw@127.0.0.1:1/ccf",
    "host=127.0.0.1 port=1 dbname=ccf password='hunter2-pw'",
]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_an_unreachable_server_is_a_message_without_the_password(url, ccf_here):
    proc = (ccf if url == UNREACHABLE[0] else ccf_here)("load", "--dataset", "d", "--type", "electricity", "x.csv",
                                                        url=url, timeout=120)
    assert_message(proc, 1, "cannot connect to PostgreSQL")
    assert "hunter2" not in proc.stdout + proc.stderr


# --- huge totals ------------------------------------------------------------------------


def _total_line(stdout: str) -> tuple[str, str]:
    m = re.search(r"^Total: ([-\d,]+\.\d{3}) kg CO2e  \(unrounded: ([-\d.]+)\)", stdout, re.M)
    assert m, stdout
    return m.group(1), m.group(2)


def test_a_huge_total_prints_after_the_run_commits(db_url, tmp_path, ccf_here):
    """1e26 kWh: a total of about 2e24... beyond 28 significant digits at three decimals."""
    csv = electricity_csv(tmp_path / "huge.csv", [("H1", "1e26"), ("H2", "123456789012345678901234567.891")])
    assert_message(ccf_here("load", "--dataset", "huge", "--type", "electricity", str(csv), url=db_url), 0)
    proc = ccf("run", "--dataset", "huge", ELECTRICITY, url=db_url)
    assert_message(proc, 0)
    shown, exact = _total_line(proc.stdout)
    assert Decimal(exact) > Decimal("1e25")
    assert Decimal(shown.replace(",", "")) == Decimal(exact).quantize(Decimal("0.001"), context=_wide())


def _wide():
    from decimal import ROUND_HALF_UP, Context

    return Context(prec=10_000, rounding=ROUND_HALF_UP)


def test_a_total_of_thousands_of_digits_prints_in_every_report_format(db_url, tmp_path, ccf_here):
    """The largest quantity the loader takes (1,000 characters, an exponent of three digits:
    docs/data.md#limits) gives a total of about 2,000 digits, printed whole in every format (the
    table, which folds it over many lines, in a new process)."""
    assert_message(ccf_here("entities", "load", str(ENTITIES), url=db_url), 0)
    csv = electricity_csv(tmp_path / "vast.csv", [("V1", "9" * 995 + "e999")])
    assert_message(ccf_here("load", "--dataset", "vast", "--type", "electricity", str(csv), "--period", "2024",
                            "--entities", "northwind-2024", url=db_url), 0)
    run = ccf_here("run", "--dataset", "vast", ELECTRICITY, url=db_url)
    assert_message(run, 0)
    assert "Total: " in run.stdout  # (the terminal table folds a figure this long over many lines)
    run_id = re.search(r"run (\d+) ·", run.stdout).group(1)
    reports = {}
    for fmt in ("json", "csv", "table", "html"):
        reports[fmt] = (ccf if fmt == "table" else ccf_here)(
            "report", run_id, "--approach", "operational-control", "--format", fmt, url=db_url)
        assert_message(reports[fmt], 0)
    tonnes = next(iter(json.loads(reports["json"].stdout)["totals"].values()))["co2e_t"]
    assert len(tonnes) > 1900
    assert grouped(tonnes) in reports["html"].stdout


def test_figures_past_int_s_4300_digits_are_grouped():
    """int() refuses more than 4,300 digits (the report's table and HTML crashed with ValueError
    on such a figure); a NUMERIC figure may have 131,072, so grouping works on the text."""
    figure = "1" + "0" * 5000 + ".125"
    text = grouped(figure)
    assert text.replace(",", "") == figure
    whole = text.split(".")[0]
    assert all(len(g) == 3 for g in whole.split(",")[1:]) and 1 <= len(whole.split(",")[0]) <= 3
    assert grouped("-" + figure) == "-" + text


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_committed_run_whose_output_cannot_be_written_says_so(db_url, tmp_path, ccf_here):
    csv = electricity_csv(tmp_path / "small.csv", [("S1", "100")])
    assert_message(ccf_here("load", "--dataset", "full", "--type", "electricity", str(csv), url=db_url), 0)
    with open("/dev/full", "w") as full:
        proc = ccf("run", "--dataset", "full", ELECTRICITY, url=db_url, stdout=full)
    assert_message(proc, 1, "is committed, but its summary could not be written")
    with psycopg.connect(db_url) as c:  # it is committed indeed
        assert c.execute("SELECT count(*) FROM ccf.run WHERE dataset = 'full' AND finished_at IS NOT NULL").fetchone() == (1,)


# --- input files that are not regular files ---------------------------------------------------


def test_load_refuses_what_is_not_a_regular_file(db_url, tmp_path, ccf_here):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for target in ("/dev/zero", str(fifo), str(tmp_path)):
        # what would never end if read (a device, a FIFO without a writer) in a new process, under a timeout
        proc = (ccf_here if target == str(tmp_path) else ccf)("load", "--dataset", "d", "--type", "electricity", target,
                                                              url=db_url, timeout=120)
        assert_message(proc, 1, f"{target}: not a regular file")
    proc = ccf_here("load", "--dataset", "d", "--type", "electricity", "-", url=db_url)  # (pytest's stdin cannot be read)
    assert_message(proc, 1, "standard input cannot be loaded")


# --- the first commands on a fresh database ----------------------------------------------------


def _fresh_empty_database(admin_url: str) -> tuple[str, str]:
    name = f"ccf_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(admin_url)
    params["dbname"] = name
    return name, make_conninfo(**params)


def test_first_run_and_load_on_a_fresh_database_both_succeed(pg_admin_url, tmp_path):
    """Both migrate and install the shipped data, then the run creates the activity table the
    load writes to: before the setup lock and the run's own table step, one of the two failed
    on a duplicate key (pg_type, or a shipped row) in most attempts."""
    csv = electricity_csv(tmp_path / "el.csv", [(f"E{i}", str(i)) for i in range(50_000)])
    env = {k: v for k, v in os.environ.items() if k != "CCF_DATABASE_URL"}
    for attempt in range(3):
        name, url = _fresh_empty_database(pg_admin_url)
        try:
            procs = [
                subprocess.Popen([sys.executable, "-m", "ccf.engine.cli", *args], env=env | {"CCF_DATABASE_URL": url},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for args in (["run", "--dataset", "d", ELECTRICITY], ["load", "--dataset", "d", "--type", "electricity", str(csv)])
            ]
            (run_out, run_err), (load_out, load_err) = (p.communicate(timeout=600) for p in procs)
            assert_message(subprocess.CompletedProcess(procs[1].args, procs[1].returncode, load_out, load_err), 0)
            # the run reads the dataset as committed when it starts: before the load commits,
            # there is none yet, which is an error with its message (not a run of nothing)
            done = subprocess.CompletedProcess(procs[0].args, procs[0].returncode, run_out, run_err)
            if procs[0].returncode:
                assert_message(done, 1, "no dataset 'd': nothing has been loaded yet")
            else:
                assert_message(done, 0)
        finally:
            with psycopg.connect(pg_admin_url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- a connection ended by the server while a load executes --------------------------------


def test_a_load_whose_connection_the_server_ends_is_a_message_that_nothing_was_loaded(db_url, tmp_path):
    """pg_terminate_backend while the file is staged: what a fast shutdown of the server does."""
    csv = electricity_csv(tmp_path / "el.csv", [(f"E{i}", str(i)) for i in range(300_000)])
    app = f"ccf_load_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k != "CCF_DATABASE_URL"}
    env["CCF_DATABASE_URL"] = make_conninfo(db_url, application_name=app)
    proc = subprocess.Popen([sys.executable, "-m", "ccf.engine.cli", "load", "--dataset", "cut", "--type", "electricity",
                             str(csv)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        with psycopg.connect(db_url, autocommit=True) as admin:
            while time.monotonic() < deadline and proc.poll() is None:
                pid = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state = 'active' "
                                    "AND query LIKE '%%ccf_load_%%'", (app,)).fetchone()
                if pid:
                    admin.execute("SELECT pg_terminate_backend(%s)", pid)
                    break
                time.sleep(0.01)
            else:
                raise AssertionError(f"the load never reached its staging table (exit code {proc.poll()})")
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert_message(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), 1,
                   f"PostgreSQL failed during the load of {csv}", "none of its rows were loaded")
    with psycopg.connect(db_url) as c:
        assert c.execute("SELECT count(*) FROM ccf.activity_load WHERE dataset = 'cut'").fetchone() == (0,)


# --- the server killed while a run executes -------------------------------------------------


@pytest.mark.skipif(bool(os.environ.get("CCF_DATABASE_URL")), reason="the embedded server only")
def test_a_server_killed_mid_run_is_a_message_that_nothing_was_written(tmp_path):
    import psutil

    home = tempfile.mkdtemp(prefix="ccf-killed-")  # not under pytest's 0700 basetemp: the server runs as its own user
    try:
        csv = electricity_csv(tmp_path / "el.csv", [(f"E{i}", f"{i % 9973}.{i % 97}") for i in range(30_000)])
        assert_message(ccf("load", "--dataset", "d", "--type", "electricity", str(csv), home=home), 0)
        pgdata = Path(home) / "pgdata"
        env = {k: v for k, v in os.environ.items() if k != "CCF_DATABASE_URL"} | {"CCF_HOME": home}
        proc = subprocess.Popen([sys.executable, "-m", "ccf.engine.cli", "run", "--dataset", "d", ELECTRICITY],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_statement(f"host={pgdata} dbname=postgres user=postgres", "CREATE TEMPORARY TABLE ccf_eval", proc)
        postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        processes = [postmaster, *postmaster.children(recursive=True)]
        for p in processes:
            try:
                p.send_signal(signal.SIGKILL)
            except (psutil.NoSuchProcess, ProcessLookupError):  # a backend that ended by itself between listing and killing
                pass
        psutil.wait_procs(processes, timeout=30)
        out, err = proc.communicate(timeout=300)
        assert_message(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), 1,
                       "PostgreSQL failed during the run", "rolled back and nothing of it was written")
        assert len(err.strip().splitlines()) == 1  # one paragraph
    finally:
        info = Path(home) / "pgdata" / "postmaster.pid"
        if info.exists():
            try:
                server = psutil.Process(int(info.read_text().split()[0]))
                server.send_signal(signal.SIGINT)
                server.wait(60)
            except (psutil.Error, ValueError):
                pass
        shutil.rmtree(home, ignore_errors=True)


def _wait_for_statement(conninfo: str, like: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until some backend executes a statement starting with ``like`` (the run is mid-way)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as c:
        while time.monotonic() < deadline and proc.poll() is None:
            if c.execute("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
                         (like + "%",)).fetchone():
                return
            time.sleep(0.01)
    raise AssertionError(f"no backend started {like!r} (run exit code {proc.poll()})")
