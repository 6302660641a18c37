"""Connections for one organisation's requests: logged in as ccf_api, its organisation set.

Every query the HTTP service makes on organisation data goes through ``org_connection``. The
login ``ccf_api`` cannot bypass row-level security and owns no table, so the policies of
engine/service/policies.py hold for everything the connection does: a query that forgets its
organisation sees no other organisation's rows, and cannot change them. The organisation is
set for the session (``set_config('ccf.org_id', …, false)``): the connection serves one request,
and is closed after it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import psycopg
from sqlglot import exp

from ccf.engine.database import DatabaseError, as_user, connect, database_url
from ccf.engine.service.orgs import Org
from ccf.engine.service.policies import API_ROLE
from ccf.engine.sql import Executor, column, func, param, table, text

PASSWORD_ENV = "CCF_API_PASSWORD"  # ccf_api's password, where the server asks for one


def api_conninfo(url: str | None = None) -> str:
    """The database of ``url`` (default: ccf's database URL), logged in as ccf_api."""
    return as_user(url or database_url(), API_ROLE, os.environ.get(PASSWORD_ENV))


@contextmanager
def org_connection(org: Org, url: str | None = None) -> Iterator[psycopg.Connection]:
    """A new connection as ccf_api for ``org``'s rows only; closed on leaving. Refused when the
    login could bypass row-level security (a superuser, or BYPASSRLS): then nothing would hold."""
    conn = connect(api_conninfo(url))
    try:
        ex = Executor(conn)
        role = exp.select(column("rolsuper"), column("rolbypassrls"),
                          func("set_config", text("ccf.org_id"), param("org_id"), exp.false())) \
            .from_(table("pg_roles", schema="pg_catalog")) \
            .where(exp.EQ(this=column("rolname"), expression=exp.SessionUser()))
        row = ex.one(role, {"org_id": str(org.id)})
        conn.commit()
        if row is None or row[0] or row[1]:
            raise DatabaseError(f"the login {conn.info.user} can bypass row-level security; the service must connect "
                                f"as {API_ROLE} (docs/service.md, 'Deploying')")
        yield conn
    finally:
        conn.close()
