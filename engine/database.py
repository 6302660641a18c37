"""Connections: CCF_DATABASE_URL, or an embedded PostgreSQL that ccf starts and reuses.

The embedded server (pgserver, PostgreSQL 16) lives in a per-user data directory
(``$CCF_HOME/pgdata``, default ``~/.ccf/pgdata``). The first start initialises it (seconds);
later commands find it running and connect through its Unix socket. After an unclean stop
(a killed process, a reboot) PostgreSQL first replays its write-ahead log, which can take longer
than pgserver's 10-second wait: ccf then waits for the server to say it is ready
(``START_TIMEOUT_S``) instead of failing.

Every connection pins the session settings ccf's SQL depends on (``SESSION_SETTINGS``) as
startup options, whatever the server, database, role or environment sets, and is refused when
they did not take: a statement means the same on every server.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path

import psycopg

from ccf.dsl.diagnostics import CcfError

MIN_SERVER_VERSION = 150000
START_TIMEOUT_S = 600.0  # crash recovery of a large embedded database can take minutes
log = logging.getLogger(__name__)


class DatabaseError(CcfError):
    """The database could not be reached or is unsuitable."""


def ccf_home() -> Path:
    return Path(os.environ.get("CCF_HOME") or Path.home() / ".ccf")


def database_url() -> str:
    url = os.environ.get("CCF_DATABASE_URL")
    if url:
        return url
    return _embedded_url()


def _embedded_url() -> str:
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise DatabaseError("pgserver is not installed; set CCF_DATABASE_URL") from exc
    data = ccf_home() / "pgdata"
    data.mkdir(parents=True, exist_ok=True)

    def start(again: bool = False):
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            if again:  # a new handle: get_server would return the one whose start timed out
                return pgserver.PostgresServer(data.resolve(), cleanup_mode=None)
            return pgserver.get_server(str(data), cleanup_mode=None)

    quiet = logging.getLogger("pgserver")  # it logs the whole server log on a failed start: ccf reports instead
    propagate, quiet.propagate = quiet.propagate, False
    quiet.addHandler(silent := logging.NullHandler())
    try:
        try:
            server = start()
        except subprocess.TimeoutExpired:  # pg_ctl gave up after 10 s; the server may be recovering
            log.warning("the embedded PostgreSQL in %s is still starting (recovery?); waiting up to %d s",
                        data, START_TIMEOUT_S)
            if not wait_until_ready(data, START_TIMEOUT_S):
                raise
            server = start(again=True)  # finds it running now
    except Exception as exc:  # pgserver raises plain exceptions (a command line, a time-out)
        raise DatabaseError(f"could not start the embedded PostgreSQL in {data}: {exc}{_log_tail(data)}") from exc
    finally:
        quiet.removeHandler(silent)
        quiet.propagate = propagate
    return server.get_uri()


def _log_tail(data: Path, lines: int = 15) -> str:
    """The end of the embedded server's log, for an error message ('' when there is none)."""
    try:
        tail = (data / "log").read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\nthe end of its log (" + str(data / "log") + "):\n" + "\n".join(tail) if tail else ""


def wait_until_ready(data: Path, timeout_s: float, poll_s: float = 0.5) -> bool:
    """Wait until the server of a data directory is up and accepting connections: its
    ``postmaster.pid`` names a live process and its status line (the 8th) says ``ready``. False
    at once when there is no such process (the start failed), or when ``timeout_s`` runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            lines = (data / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
            os.kill(pid, 0)  # signal 0: does the process exist?
        except (OSError, ValueError, IndexError):
            return False
        if len(lines) > 7 and lines[7].strip() == "ready":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def stop_embedded(data: Path | None = None, timeout_s: float = 60.0) -> bool:
    """Stop the embedded server of a data directory (default ``$CCF_HOME/pgdata``) with a fast
    shutdown (SIGINT: open transactions roll back, nothing committed is lost) and wait until its
    ``postmaster.pid`` is gone. False when no server was running there."""
    data = data or ccf_home() / "pgdata"
    try:
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError, IndexError):
        return False
    deadline = time.monotonic() + timeout_s
    while (data / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


# The session settings ccf's SQL depends on, pinned on every connection it opens: with these
# values a rendered statement means the same whatever the server, the database, the role or the
# client environment (PGOPTIONS, PGCLIENTENCODING, PGTZ, ...) sets. Written as
# ``current_setting`` reports them: ``connect`` checks each after connecting.
SESSION_SETTINGS: dict[str, str] = {
    # String literals are rendered '...' with quotes doubled and backslashes as written; with
    # this off a backslash escapes the next character and a literal can end early, turning
    # methodology text into SQL.
    "standard_conforming_strings": "on",
    # Built-in functions and operators (=, round, coalesce, jsonb ->>) are written unqualified:
    # nothing a user creates may shadow them. ccf's own objects are always schema-qualified;
    # its temporary tables are found first in any search path.
    "search_path": "pg_catalog",
    # Dates cast to text (the loader's reasons) read YYYY-MM-DD, and date text is read as ISO.
    "DateStyle": "ISO, MDY",
    # Intervals cast to text: none are today; pinned so a new one cannot vary by server.
    "IntervalStyle": "postgres",
    # Timestamps (a run's start and end) read in UTC, and a timestamp cast to a date or to
    # text does not depend on where the server or the user is.
    "TimeZone": "UTC",
    # Every text value (methodology literals, CSV cells, reasons) crosses the wire as UTF-8;
    # another encoding fails or mangles text outside its repertoire.
    "client_encoding": "UTF8",
    # Float text, should a statement ever produce one: the shortest exact form.
    "extra_float_digits": "1",
    # `x = NULL` is NULL, as SQL says, never rewritten to `x IS NULL`.
    "transform_null_equals": "off",
    # A run is one transaction of long set-based statements: no server-wide time limit cancels
    # it halfway, or ends its session while it computes between statements.
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
}
# Tuning, not meaning: given before the user's own options, so these can be changed there.
# temp_buffers can only be set before the session first touches a temporary table.
SESSION_TUNING: dict[str, str] = {"temp_buffers": "256MB"}


def connect(url: str | None = None) -> psycopg.Connection:
    """A new connection (autocommit off) with ``SESSION_SETTINGS`` pinned; checks the server
    is PostgreSQL 15 or newer."""
    target = url or database_url()
    try:
        # libpq sends client_encoding (the keyword, or PGCLIENTENCODING) as a startup parameter
        # of its own, applied after `options`: it is pinned there too.
        conn = psycopg.connect(target, autocommit=False, options=_options(target),
                               client_encoding=SESSION_SETTINGS["client_encoding"])
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {str(exc).strip()}") from None
    if conn.info.server_version < MIN_SERVER_VERSION:
        conn.close()
        raise DatabaseError(f"PostgreSQL {conn.info.server_version // 10000} is too old; ccf needs 15 or newer")
    _check_session(conn)
    return conn


def _options(target: str) -> str:
    """libpq's ``options`` for a connection: ``SESSION_TUNING``, then the user's own options
    (the URL's, else PGOPTIONS, which libpq ignores once ``options`` is given), then
    ``SESSION_SETTINGS``. The server applies ``-c`` switches in order, so the pinned values win
    over the user's; as startup options they also win over ALTER DATABASE/ROLE ... SET and
    become the session's reset values (RESET ALL keeps them)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(target).get("options")
    except psycopg.ProgrammingError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {exc}") from None
    own = given if given is not None else os.environ.get("PGOPTIONS", "")

    def switches(settings: dict[str, str]) -> str:
        # in `options` a space separates switches and a backslash escapes the next character
        escape = lambda text: text.replace("\\", "\\\\").replace(" ", "\\ ")  # noqa: E731
        return " ".join(f"-c {name}={escape(value)}" for name, value in settings.items())

    return " ".join(part for part in (switches(SESSION_TUNING), own.strip(), switches(SESSION_SETTINGS)) if part)


def _check_session(conn: psycopg.Connection) -> None:
    """Check that the session holds ``SESSION_SETTINGS``: a connection pooler or proxy may drop
    startup options, and then ccf refuses to run rather than mean something else."""
    from sqlglot import exp

    from ccf.engine.sql import Executor

    names = list(SESSION_SETTINGS)
    current = [exp.Anonymous(this="current_setting", expressions=[exp.Literal.string(n)]) for n in names]
    row = Executor(conn).one(exp.select(*current))
    conn.commit()
    wrong = [f"{n} is {v!r} (ccf needs {SESSION_SETTINGS[n]!r})"
             for n, v in zip(names, row or ()) if v != SESSION_SETTINGS[n]]
    if wrong:
        conn.close()
        raise DatabaseError("the session did not take ccf's settings (does a connection pooler drop startup "
                            "options?): " + "; ".join(wrong))
