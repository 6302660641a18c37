"""Connections: CCF_DATABASE_URL, or an embedded PostgreSQL that ccf starts and reuses.

The embedded server (pgserver, PostgreSQL 16) lives in a per-user data directory
(``$CCF_HOME/pgdata``, default ``~/.ccf/pgdata``). The first start initialises it (seconds);
later commands find it running and connect through its Unix socket. After an unclean stop
(a killed process, a reboot) PostgreSQL first replays its write-ahead log, which can take longer
than pgserver's 10-second wait: ccf then waits for the server to say it is ready
(``START_TIMEOUT_S``) instead of failing.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import time
import warnings
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

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


def connect(url: str | None = None) -> psycopg.Connection:
    """A new connection (autocommit off); checks the server is PostgreSQL 15 or newer."""
    target = url or database_url()
    _check_url(target)
    try:
        conn = psycopg.connect(target, autocommit=False)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {mask_secrets(str(exc).strip(), target)}") from None
    if conn.info.server_version < MIN_SERVER_VERSION:
        conn.close()
        raise DatabaseError(f"PostgreSQL {conn.info.server_version // 10000} is too old; ccf needs 15 or newer")
    _tune_session(conn)
    return conn


def _check_url(url: str) -> None:
    """Refuse a URL libpq cannot parse, with its reason, before connecting."""
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        source = "CCF_DATABASE_URL" if url == os.environ.get("CCF_DATABASE_URL") else "the database URL"
        raise DatabaseError(
            f"{source} is not a valid PostgreSQL connection string: {mask_secrets(str(exc).strip(), url)}. "
            "Expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE (characters such as % @ / : in the "
            "password percent-encoded: % as %25) or key=value pairs (host=… dbname=…)"
        ) from None


# Where a connection string keeps a password: the userinfo of a URI (libpq ends it at the
# first '@' or '/'), a ``password`` query parameter, or a ``password=`` keyword, maybe quoted.
_URI_PASSWORD = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://[^:@/]*:([^@/]*)@")
_PARAM_PASSWORD = re.compile(r"[?&]password=([^&]*)")
_KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def mask_secrets(text: str, url: str) -> str:
    """``text`` (a message that may quote the URL or a libpq error about it) with the URL's
    password replaced by ``***``, as written and as decoded. Every message that quotes a
    connection string or a libpq error goes through here."""
    from urllib.parse import unquote

    secrets = set()
    for pattern in (_URI_PASSWORD, _PARAM_PASSWORD, _KEYWORD_PASSWORD):
        for found in pattern.findall(url):
            secrets |= {found, unquote(found), found.strip("'"), re.sub(r"\\(.)", r"\1", found.strip("'"))}
    try:
        secrets.add(conninfo_to_dict(url).get("password") or "")
    except psycopg.Error:
        pass
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def failure(exc: psycopg.Error, what: str, undone: str) -> DatabaseError:
    """One paragraph for a database failure in the middle of a command — the server stopped or
    was killed, its disk filled, the connection broke: what failed, why (libpq's reason, with
    any password masked), and that the transaction was rolled back (``undone``)."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return DatabaseError(
        f"PostgreSQL failed during {what}: {mask_secrets(reason, os.environ.get('CCF_DATABASE_URL', ''))}. "
        f"{undone} Check that the server is running and has disk space, then run the command again."
    )


def _tune_session(conn: psycopg.Connection) -> None:
    """Session settings for large set-based runs. temp_buffers can only be set before the
    session first touches a temporary table, i.e. here."""
    from sqlglot import exp

    from ccf.engine.sql import Executor

    Executor(conn).execute(exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.column("temp_buffers"), expression=exp.Literal.string("256MB")))]))
    conn.commit()
