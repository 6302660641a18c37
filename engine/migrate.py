"""Versioned schema migrations, applied in order, idempotently, under an advisory lock."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from sqlglot import exp

from ccf.dsl import resources
from ccf.engine import locks
from ccf.engine.service import policies
from ccf.engine.sql import Executor, column, param, parse, table


@contextmanager
def setup_lock(conn: psycopg.Connection) -> Iterator[None]:
    """Hold ``locks.SETUP`` (session level: the setup spans several transactions) while the
    body runs. If the body fails, the lock is released when the connection closes."""
    ex = Executor(conn)
    ex.execute(locks.session_lock(locks.SETUP))
    conn.commit()
    yield
    ex.execute(locks.session_unlock(locks.SETUP))
    conn.commit()


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped, in order."""
    out = []
    for f in resources.migrations().iterdir():
        if f.name.endswith(".sql"):
            version = int(f.name.split("_", 1)[0])
            out.append((version, f.name, f.read_text("utf-8")))
    return sorted(out)


def migrate(conn: psycopg.Connection, through: int | None = None) -> list[str]:
    """Apply pending migrations, in order, in one transaction; return the names applied.

    ``through``: stop after that migration, leaving row-level security to the full migration
    (the tables of organisation data it names may not exist yet): a database as an older ccf
    left it, for the tests of an upgrade (tests/engine/test_upgrade_0027.py)."""
    ex = Executor(conn)
    applied: list[str] = []
    with conn.transaction():
        ex.execute(locks.xact_lock(locks.SETUP))
        for tree in parse(
            "CREATE SCHEMA IF NOT EXISTS ccf;"
            "CREATE TABLE IF NOT EXISTS ccf.schema_migration (version INT PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        ):
            ex.execute(tree)
        done = {r[0] for r in ex.rows(exp.select(column("version")).from_(table("schema_migration")))}
        for version, name, sql in migrations():
            if version in done or (through is not None and version > through):
                continue
            for tree in parse(sql, allow_commands=True):
                ex.execute(tree)
            ex.execute(
                exp.insert(
                    exp.select(param("version"), param("name")),
                    exp.Schema(this=table("schema_migration"), expressions=[exp.to_identifier("version"), exp.to_identifier("name")]),
                ),
                {"version": version, "name": name},
            )
            applied.append(name)
        if through is None:  # organisation data under row-level security, also tables made since (engine/service/policies.py)
            policies.secure(conn)
    return applied
