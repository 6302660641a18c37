"""Which tables hold organisation data, and their row-level security: the one list of them.

Every table of schema ccf is either organisation data (``PROTECTED``, and every activity table)
or shared reference data (``SHARED``); tests/service/test_isolation.py fails on a table that is
neither, so a table added later cannot be missed. ``secure`` applies migration 0022's
``ccf.protect_org_data`` to each protected table whose policies are missing (after the
migrations, and to each new activity table: engine/load/tables.py), and makes every view read
with its caller's rights; when nothing is missing it changes nothing (no DDL, no lock).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import psycopg
from sqlglot import exp

from ccf.engine.sql import Executor, func, param, text

API_ROLE = "ccf_api"  # the HTTP service's login (engine/service/scoped.py)

# How a row reaches its organisation (ccf.protect_org_data's ``reach``). SHARED_OR_ORG and
# FACTOR_SET (migration 0029): a row shared by every organisation or one organisation's own, read
# in both cases and written only as its own; a factor through its set.
ORG, DATASET, RUN, ENTITY_SET = "org", "dataset", "run", "entity_set"
SHARED_OR_ORG, FACTOR_SET = "shared_or_org", "factor_set"
ALL = ("SELECT", "INSERT", "UPDATE", "DELETE")
READ_DELETE = ("SELECT", "DELETE")  # a run's rows: written by ccf_runner only; deleted with their run or dataset


@dataclass(frozen=True)
class Protected:
    """A table of organisation data: how its rows reach their organisation, what ccf_api may do
    to its organisation's rows, and whether it keeps policies of its own for the other roles."""

    table: str
    reach: str
    api_privileges: tuple[str, ...]
    own_policies: bool = False  # migration 0015's append-only policies for ccf_runner


PROTECTED: tuple[Protected, ...] = (
    Protected("organisation", ORG, ("SELECT",)),
    Protected("api_token", ORG, ()),  # read by ccf.token_organisation only
    Protected("dataset", ORG, ALL),
    Protected("entity_set", ORG, ALL),
    Protected("entity", ENTITY_SET, ALL),
    Protected("activity_load", DATASET, ALL),
    Protected("rejected", DATASET, ALL),
    Protected("run", ORG, READ_DELETE),
    Protected("run_methodology", RUN, READ_DELETE, own_policies=True),
    Protected("result_row", RUN, READ_DELETE, own_policies=True),
    Protected("excluded", RUN, READ_DELETE, own_policies=True),
    Protected("unmatched", RUN, READ_DELETE, own_policies=True),
    Protected("instrument_allocation", RUN, READ_DELETE, own_policies=True),
    Protected("run_factor_set", RUN, READ_DELETE, own_policies=True),
    Protected("run_job", ORG, ("SELECT", "INSERT", "UPDATE")),
    # factor sets: shared, or an organisation's own (uploaded and deleted through the API; an
    # installed set is never changed)
    Protected("factor_set", SHARED_OR_ORG, ("SELECT", "INSERT", "DELETE")),
    Protected("factor", FACTOR_SET, ("SELECT", "INSERT", "DELETE")),
    Protected("library_file", ORG, ("SELECT", "INSERT", "UPDATE")),  # an organisation's methodologies
)
ACTIVITY_TABLE_PREFIX = "activity_"  # engine/load/tables.py: one per activity type, rows by dataset


def activity_table(name: str) -> Protected:
    """An activity table (``ccf.activity_<type>``): rows of a dataset, loaded through the API too."""
    return Protected(name, DATASET, ALL)


# Shared by every organisation: read by ccf_api, written by the command line (the schema owner).
SHARED: frozenset[str] = frozenset({
    "schema_migration", "gwp", "unit", "region", "region_ancestor",
    "rate_table", "rate",
    "catalogue_identity",  # the database's identity, naming its ClickHouse database (migration 0031)
})


def protected_tables(conn: psycopg.Connection) -> list[Protected]:
    """``PROTECTED`` and the activity tables that exist now."""
    info = exp.Table(this=exp.to_identifier("pg_tables"), db=exp.to_identifier("pg_catalog"))
    names = Executor(conn).rows(
        exp.select(exp.column("tablename")).from_(info).where(exp.and_(
            exp.EQ(this=exp.column("schemaname"), expression=text("ccf")),
            exp.func("starts_with", exp.column("tablename"), text(ACTIVITY_TABLE_PREFIX)),
        )).order_by("tablename")
    )
    fixed = {p.table for p in PROTECTED}
    return [*PROTECTED, *(activity_table(n) for (n,) in names if n not in fixed)]


def secure(conn: psycopg.Connection, tables: list[Protected] | None = None) -> list[str]:
    """Apply row-level security to the protected tables that lack it (default: all, and every
    view), in the caller's transaction, as the schema owner; the tables it was applied to."""
    ex = Executor(conn)
    role = exp.select(exp.column("rolname")).from_(exp.Table(this=exp.to_identifier("pg_roles"), db=exp.to_identifier("pg_catalog"))) \
        .where(exp.EQ(this=exp.column("rolname"), expression=text(API_ROLE)))
    if ex.one(role) is None:
        return []  # no service on this database yet: applied once a DBA makes the role (docs/service.md)
    done = []
    secured = {t for (t,) in ex.rows(
        exp.select(exp.column("tablename")).from_(exp.Table(this=exp.to_identifier("pg_policies"), db=exp.to_identifier("pg_catalog")))
        .where(exp.and_(exp.EQ(this=exp.column("schemaname"), expression=text("ccf")),
                        exp.EQ(this=exp.column("policyname"), expression=text("organisation_only")))))}
    for p in tables if tables is not None else protected_tables(conn):
        if p.table in secured:
            continue
        applied = ex.one(
            exp.select(func("protect_org_data", param("table"), param("reach"), param("privileges"),
                            param("own"), schema="ccf")),
            {"table": p.table, "reach": p.reach, "privileges": list(p.api_privileges), "own": p.own_policies},
        )
        if applied and applied[0]:
            done.append(p.table)
    if tables is None:
        ex.execute(exp.select(func("protect_views", schema="ccf")))
    return done


@contextmanager
def committed(conn: psycopg.Connection) -> Iterator[None]:
    """The body's statements, committed with whatever the connection had open (a request's
    connection serves that request only), or rolled back on an error. Unlike psycopg's
    ``transaction()``, which inside an open transaction is a savepoint that commits nothing."""
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
