"""Connections: CCF_DATABASE_URL, or an embedded PostgreSQL that ccf starts and reuses.

The embedded server (pgserver, PostgreSQL 16) lives in a per-user data directory
(``$CCF_HOME/pgdata``, default ``~/.ccf/pgdata``). The first start initialises it (seconds);
later commands find it running and connect through its Unix socket.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import psycopg

from ccf.dsl.diagnostics import CcfError

MIN_SERVER_VERSION = 150000


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
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            server = pgserver.get_server(str(data), cleanup_mode=None)
    except Exception as exc:  # pgserver raises plain exceptions with the server log
        raise DatabaseError(f"could not start the embedded PostgreSQL in {data}: {exc}") from exc
    return server.get_uri()


def connect(url: str | None = None) -> psycopg.Connection:
    """A new connection (autocommit off); checks the server is PostgreSQL 15 or newer."""
    target = url or database_url()
    try:
        conn = psycopg.connect(target, autocommit=False)
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {str(exc).strip()}") from None
    if conn.info.server_version < MIN_SERVER_VERSION:
        conn.close()
        raise DatabaseError(f"PostgreSQL {conn.info.server_version // 10000} is too old; ccf needs 15 or newer")
    _tune_session(conn)
    return conn


def _tune_session(conn: psycopg.Connection) -> None:
    """Session settings for large set-based runs. temp_buffers can only be set before the
    session first touches a temporary table, i.e. here."""
    from sqlglot import exp

    from ccf.engine.sql import Executor

    Executor(conn).execute(exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.column("temp_buffers"), expression=exp.Literal.string("256MB")))]))
    conn.commit()
