"""The embedded server's start: after an unclean stop, PostgreSQL replays its WAL before it
accepts connections, which can outlast pgserver's 10-second wait; ccf then waits for the
status line of ``postmaster.pid`` (PostgreSQL's own file format) to say ``ready``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccf.engine.database import wait_until_ready


def _pid_file(folder, pid: int, status: str | None) -> None:
    lines = [str(pid), str(folder), "1764000000", "5432", str(folder), "", "  5432001     32768"]
    if status is not None:
        lines.append(status.ljust(8))
    (folder / "postmaster.pid").write_text("\n".join(lines) + "\n")


@pytest.fixture
def process():
    """A live process to stand for the postmaster (its pid is what the file names)."""
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield p
    p.kill()
    p.wait()


def test_ready_server_is_ready(tmp_path, process):
    _pid_file(tmp_path, process.pid, "ready")
    assert wait_until_ready(tmp_path, timeout_s=5) is True


def test_recovering_server_is_waited_for_until_ready(tmp_path, process):
    _pid_file(tmp_path, process.pid, "starting")
    t = time.monotonic()
    assert wait_until_ready(tmp_path, timeout_s=0.3, poll_s=0.05) is False  # still starting when time ran out
    assert time.monotonic() - t >= 0.3
    # recovery ends while ccf waits
    import threading

    threading.Timer(0.3, _pid_file, (tmp_path, process.pid, "ready")).start()
    assert wait_until_ready(tmp_path, timeout_s=10, poll_s=0.05) is True


def test_no_server_is_not_waited_for(tmp_path, process, monkeypatch):
    import ccf.engine.database as database

    def no_wait(seconds: float) -> None:
        raise AssertionError(f"waited {seconds} s for a server that cannot become ready")

    monkeypatch.setattr(database.time, "sleep", no_wait)  # none of these may poll until the timeout
    assert wait_until_ready(tmp_path, timeout_s=10) is False  # no postmaster.pid: the start failed
    _pid_file(tmp_path, process.pid, None)
    process.kill()
    process.wait()
    assert wait_until_ready(tmp_path, timeout_s=10) is False  # the named process is gone
    (tmp_path / "postmaster.pid").write_text("not a pid\n")
    assert wait_until_ready(tmp_path, timeout_s=10) is False


def test_a_failed_start_reports_the_end_of_the_server_log(tmp_path, monkeypatch):
    """A data directory PostgreSQL refuses (here: a PG_VERSION of a release that does not exist)
    fails with ccf's error naming the directory and quoting the server's own log, not a traceback."""
    import tempfile

    from ccf.engine.database import DatabaseError, embedded_superuser_url

    home = Path(tempfile.mkdtemp(prefix="ccf-badstart-"))  # not under pytest's 0700 basetemp
    try:
        data = home / "pgdata"
        data.mkdir()
        (data / "PG_VERSION").write_text("99\n")  # pgserver skips initdb; postgres refuses the directory
        monkeypatch.setenv("CCF_HOME", str(home))
        with pytest.raises(DatabaseError) as err:
            embedded_superuser_url()
        message = str(err.value)
        assert f"could not start the embedded PostgreSQL in {data}" in message
        assert "the end of its log" in message
    finally:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


def test_the_test_run_has_a_server_of_its_own(pg_admin_url):
    """tests/conftest.py: the embedded server of a test run lives in a new temporary directory of
    its own, so two test runs on one machine never share a server (or its databases)."""
    import os
    import tempfile

    import psycopg

    if os.environ.get("CCF_DATABASE_URL"):
        pytest.skip("the tests use CCF_DATABASE_URL's server")
    home = Path(os.environ["CCF_HOME"])
    assert home.parent == Path(tempfile.gettempdir()) and home.name.startswith("ccf-tests-")
    with psycopg.connect(pg_admin_url) as c:
        (data,) = c.execute("SHOW data_directory").fetchone()
    assert Path(data).resolve() == (home / "pgdata").resolve()


def test_stop_embedded_stops_the_server_of_a_data_directory(monkeypatch):
    """A fast shutdown, waited for: its postmaster.pid is gone; stopping it again says so."""
    import shutil
    import tempfile

    from ccf.engine.database import embedded_superuser_url, stop_embedded

    home = Path(tempfile.mkdtemp(prefix="ccf-stop-"))  # not under pytest's 0700 basetemp
    try:
        monkeypatch.setenv("CCF_HOME", str(home))
        embedded_superuser_url()
        assert (home / "pgdata" / "postmaster.pid").exists()
        assert stop_embedded(home / "pgdata") is True
        assert not (home / "pgdata" / "postmaster.pid").exists()
        assert stop_embedded(home / "pgdata") is False
    finally:
        stop_embedded(home / "pgdata")
        shutil.rmtree(home, ignore_errors=True)


def test_a_new_embedded_server_runs_with_the_bulk_settings(pg_admin_url):
    """engine/database.py EMBEDDED_SERVER_SETTINGS: a cluster ccf has just initialised (this
    test run's own) runs with every one of them, shared_buffers included (it restarted once),
    and none waits for a restart."""
    import os

    import psycopg

    from ccf.engine.database import EMBEDDED_SERVER_SETTINGS

    if os.environ.get("CCF_DATABASE_URL"):
        pytest.skip("the tests use CCF_DATABASE_URL's server, which ccf leaves as it is")
    with psycopg.connect(pg_admin_url) as c:
        for name, value in EMBEDDED_SERVER_SETTINGS.items():
            assert c.execute(f"SHOW {name}").fetchone() == (value,), name  # noqa: test reads only
        assert c.execute("SELECT count(*) FROM pg_settings WHERE pending_restart").fetchone() == (0,)  # noqa: test reads only


def test_the_settings_file_is_written_once_and_included_once(tmp_path):
    from ccf.engine.database import EMBEDDED_CONF, configure_embedded

    assert configure_embedded(tmp_path) is False  # not initialised yet: nothing to include it from
    assert not (tmp_path / EMBEDDED_CONF).exists()
    (tmp_path / "postgresql.conf").write_text("max_connections = 100\n")
    assert configure_embedded(tmp_path) is True
    assert configure_embedded(tmp_path) is False  # the same settings: nothing rewritten
    main = (tmp_path / "postgresql.conf").read_text().splitlines()
    assert main[0] == "max_connections = 100" and main.count(f"include_if_exists = '{EMBEDDED_CONF}'") == 1
    assert "shared_buffers = '512MB'" in (tmp_path / EMBEDDED_CONF).read_text().splitlines()
    (tmp_path / EMBEDDED_CONF).write_text("shared_buffers = '1GB'\n")  # an older ccf's settings
    assert configure_embedded(tmp_path) is True
    assert "shared_buffers = '512MB'" in (tmp_path / EMBEDDED_CONF).read_text().splitlines()
