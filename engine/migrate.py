"""Versioned schema migrations, applied in order, idempotently, under an advisory lock."""

from __future__ import annotations

import psycopg
from sqlglot import exp

from ccf.dsl import resources
from ccf.engine.sql import Executor, column, param, parse, table

_LOCK_KEY = 0x0CCF  # advisory lock id: serialises concurrent migrators


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped, in order."""
    out = []
    for f in resources.migrations().iterdir():
        if f.name.endswith(".sql"):
            version = int(f.name.split("_", 1)[0])
            out.append((version, f.name, f.read_text("utf-8")))
    return sorted(out)


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply pending migrations, in order, in one transaction; return the names applied."""
    ex = Executor(conn)
    applied: list[str] = []
    with conn.transaction():
        ex.execute(exp.select(exp.Anonymous(this="pg_advisory_xact_lock", expressions=[exp.Literal.number(_LOCK_KEY)])))
        for tree in parse(
            "CREATE SCHEMA IF NOT EXISTS ccf;"
            "CREATE TABLE IF NOT EXISTS ccf.schema_migration (version INT PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        ):
            ex.execute(tree)
        done = {r[0] for r in ex.rows(exp.select(column("version")).from_(table("schema_migration")))}
        for version, name, sql in migrations():
            if version in done:
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
    return applied
