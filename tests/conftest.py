"""Shared fixtures: a real PostgreSQL (embedded, or CCF_DATABASE_URL), one fresh database per test.

A template database with the migrations applied is built once per session; each test that asks
for ``db`` gets ``CREATE DATABASE … TEMPLATE`` of it (fast) and it is dropped afterwards.
Databases are made by an admin login (the embedded server's superuser, or CCF_DATABASE_URL),
owned by the login ccf uses (``ccf`` on the embedded server), and tests connect as that login,
as every ccf command does; runs log in as ``ccf_runner``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = f"ccf_test_template_{os.getpid()}"  # one per test session: sessions may overlap


def _admin_url() -> str:
    if os.environ.get("CCF_DATABASE_URL"):
        return os.environ["CCF_DATABASE_URL"]
    from ccf.engine.database import embedded_superuser_url

    return embedded_superuser_url()


def _admin(template: str, *names: str) -> sql.Composed:
    """Test-harness database administration (sqlglot has no grammar for CREATE DATABASE …
    TEMPLATE); identifiers are quoted by psycopg, never formatted into the text."""
    return sql.SQL(template).format(*[sql.Identifier(n) for n in names])


def _with_db(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The server the tests use: CCF_DATABASE_URL, or an embedded server of this test run's own.

    The embedded one lives in a new temporary directory (so two test runs on one machine never
    share a server), is stopped and its directory removed when the session ends. Not under
    pytest's basetemp: pytest resets that folder to mode 0700 at each session start, which locks
    out the embedded server (it runs as its own system user under root)."""
    if os.environ.get("CCF_DATABASE_URL"):
        yield os.environ["CCF_DATABASE_URL"]
        return
    from ccf.engine.database import stop_embedded

    home = Path(tempfile.mkdtemp(prefix="ccf-tests-"))
    previous = os.environ.get("CCF_HOME")
    os.environ["CCF_HOME"] = str(home)
    try:
        yield _admin_url()
    finally:
        stop_embedded(home / "pgdata")
        shutil.rmtree(home, ignore_errors=True)
        if previous is None:
            os.environ.pop("CCF_HOME", None)
        else:
            os.environ["CCF_HOME"] = previous


@pytest.fixture(scope="session")
def pg_owner_url(pg_admin_url: str) -> str:
    """The login ccf connects as: CCF_DATABASE_URL's user, or the embedded server's owner ``ccf``."""
    if os.environ.get("CCF_DATABASE_URL"):
        return pg_admin_url
    from ccf.engine.database import OWNER, as_user

    return as_user(pg_admin_url, OWNER)


def _owner(url: str) -> str:
    return conninfo_to_dict(url)["user"]


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str, pg_owner_url: str) -> str:
    from ccf.engine.database import connect
    from ccf.engine.migrate import migrate

    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", TEMPLATE))
        admin.execute(_admin("CREATE DATABASE {} OWNER {}", TEMPLATE, _owner(pg_owner_url)))
    url = _with_db(pg_owner_url, TEMPLATE)
    with connect(url) as conn:
        migrate(conn)
        _seed(conn)
        conn.commit()
    _runner_login(pg_admin_url)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", TEMPLATE))


def _seed(conn: psycopg.Connection) -> None:
    """Load the shipped factor sets and GWPs once into the template."""
    try:
        from ccf.engine.factors.store import install_shipped
    except ImportError:  # factor store not present yet
        return
    install_shipped(conn)


def _runner_login(pg_admin_url: str) -> None:
    """On a server given by CCF_DATABASE_URL, do what docs/reliability.md asks of its DBA: make
    ccf_runner a login (with a password of this session's, for servers that ask for one). The
    embedded server's roles are made by ccf itself (engine/embedded_roles.sql)."""
    if not os.environ.get("CCF_DATABASE_URL") or os.environ.get("CCF_RUNNER_PASSWORD"):
        return
    password = uuid.uuid4().hex
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        if admin.info.parameter_status("is_superuser") != "on":
            return  # a DBA's setup, not ours to change
        admin.execute(sql.SQL("ALTER ROLE ccf_runner LOGIN NOINHERIT PASSWORD {}").format(sql.Literal(password)))
    os.environ["CCF_RUNNER_PASSWORD"] = password


def _fresh_database(pg_admin_url: str, owner_url: str):
    name = f"ccf_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(_admin("CREATE DATABASE {} TEMPLATE {} OWNER {}", name, TEMPLATE, _owner(owner_url)))
    yield _with_db(owner_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name))


@pytest.fixture()
def db_url(pg_admin_url: str, pg_owner_url: str, template_url: str) -> str:
    """A fresh migrated database with the shipped factor sets, for one test."""
    yield from _fresh_database(pg_admin_url, pg_owner_url)


@pytest.fixture(scope="module")
def module_db_url(pg_admin_url: str, pg_owner_url: str, template_url: str) -> str:
    """A fresh migrated database shared by the tests of one module."""
    yield from _fresh_database(pg_admin_url, pg_owner_url)


@pytest.fixture()
def db(db_url: str):
    from ccf.engine.database import connect

    conn = connect(db_url)
    yield conn
    conn.close()
