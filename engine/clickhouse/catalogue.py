"""Which ClickHouse database holds the ClickHouse runs' rows of a PostgreSQL database.

A run id is unique in one PostgreSQL database only, and one ClickHouse (a chdb folder, a server)
may serve several PostgreSQL databases: a user's two ``CCF_DATABASE_URL``s, the test suite's
per-test databases. So each PostgreSQL database writes and reads its runs' rows in a ClickHouse
database of its own, ``ccf_<identity>``, named by the uuid migration 0031 keeps in
``ccf.catalogue_identity`` (it travels with a dump and its restore). The PostgreSQL function
``ccf.clickhouse_catalogue`` checks that identity against where the database is now: a copy
(restored next to its original, or made from it as a template) with ClickHouse runs is refused
(``CatalogueCopy``) rather than read or write the original's rows; one without takes an identity
of its own at its first ClickHouse run, in that run's transaction (docs/scale-out.md, "Which
ClickHouse database").
"""

from __future__ import annotations

import uuid

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.sql import ClickHouseExecutor, Executor, func, param

PREFIX = "ccf_"  # a catalogue's database: ccf_ and its identity's 32 hex digits


class CatalogueCopy(CcfError):
    """This PostgreSQL database is a copy of another that has ClickHouse runs, and shares its identity."""


def database_name(identity: uuid.UUID) -> str:
    return f"{PREFIX}{identity.hex}"


def catalogue_database(ex: Executor, ch: ClickHouseExecutor, running: int | None = None, adopt: bool = False) -> str | None:
    """The ClickHouse database of ``ex``'s PostgreSQL database, its result tables made; None: a
    copy without ClickHouse runs, with nothing to read. ``running``: the id of the ClickHouse run
    in progress in ``ex``'s transaction, which may give a copy an identity of its own there.
    ``adopt``: this database takes its identity where it is now (the original is gone)."""
    try:
        row = ex.one(exp.select(func("clickhouse_catalogue", param("running"), param("adopt"), schema="ccf")),
                     {"running": running, "adopt": adopt})
    except psycopg.Error as exc:
        if exc.sqlstate != "CCF01":
            raise
        raise CatalogueCopy(
            "this PostgreSQL database is a copy of another (restored from a dump, or made from it as a template): it "
            "shares that database's identity, whose ClickHouse database holds both databases' ClickHouse runs under "
            "the same ids. Refused rather than read or write the other's rows. If the other database is gone (this one "
            "was moved or upgraded), 'ccf db adopt-clickhouse' makes this database the owner of its ClickHouse rows "
            "(docs/scale-out.md, \"Which ClickHouse database\")") from None
    if row is None or row[0] is None:
        return None
    name = database_name(row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0])))
    from ccf.engine.clickhouse.tables import ensure_result_tables

    ensure_result_tables(ch, name)  # if missing: a few statements, cheaper than knowing which folder made them
    return name


def opened(ex: Executor) -> tuple[ClickHouseExecutor, str]:
    """The process's ClickHouse session and the database of ``ex``'s PostgreSQL database, for a
    reader or a delete of its ClickHouse runs (which exist: so it has its identity, or is refused)."""
    from ccf.engine.clickhouse.session import open_clickhouse

    ch = open_clickhouse()
    database = catalogue_database(ex, ch)
    if database is None:
        raise CcfError("this PostgreSQL database has no run computed on ClickHouse")
    return ch, database


__all__ = ["CatalogueCopy", "PREFIX", "catalogue_database", "database_name", "opened"]
