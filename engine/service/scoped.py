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
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlglot import exp

from ccf.engine.database import DatabaseError, as_user, connect, database_url
from ccf.engine.service.orgs import Org
from ccf.engine.service.policies import API_ROLE
from ccf.engine.sql import Executor, column, func, table, text

PASSWORD_ENV = "CCF_API_PASSWORD"  # ccf_api's password, where the server asks for one


def api_conninfo(url: str | None = None, org: Org | None = None) -> str:
    """The database of ``url`` (default: ccf's database URL), logged in as ccf_api; with ``org``,
    that organisation set for the session from its start (``ccf.org_id`` in the connection's
    options, so that a run this connection starts, which logs in as ccf_runner with the same
    options, reads that organisation's factor sets: engine/run.py, database.runner_conninfo)."""
    return org_conninfo(as_user(url or database_url(), API_ROLE, os.environ.get(PASSWORD_ENV)), org)


def org_conninfo(conninfo: str, org: Org | None) -> str:
    """``conninfo`` with the organisation ``org`` set for its sessions (none: unchanged)."""
    if org is None:
        return conninfo
    options = conninfo_to_dict(conninfo).get("options") or ""
    return make_conninfo(conninfo, options=f"{options} -c ccf.org_id={int(org.id)}".strip())


@contextmanager
def org_connection(org: Org | None, url: str | None = None) -> Iterator[psycopg.Connection]:
    """A new connection as ccf_api for ``org``'s rows only (None: no organisation's, and the
    shared factor sets); closed on leaving. Refused when the login could bypass row-level
    security (a superuser, or BYPASSRLS): then nothing would hold."""
    conn = connect(api_conninfo(url, org))
    try:
        ex = Executor(conn)
        role = exp.select(column("rolsuper"), column("rolbypassrls"), func("current_setting", text("ccf.org_id"), exp.true())) \
            .from_(table("pg_roles", schema="pg_catalog")) \
            .where(exp.EQ(this=column("rolname"), expression=exp.SessionUser()))
        row = ex.one(role)
        conn.commit()
        if row is None or row[0] or row[1]:
            raise DatabaseError(f"the login {conn.info.user} can bypass row-level security; the service must connect "
                                f"as {API_ROLE} (docs/service.md, 'Deploying')")
        if (row[2] or "") != ("" if org is None else str(org.id)):  # options a server or pooler did not pass on
            raise DatabaseError(f"the connection as {API_ROLE} did not keep its organisation (ccf.org_id in its options)")
        yield conn
    finally:
        conn.close()
