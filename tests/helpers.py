"""Helpers shared by the integration tests (real PostgreSQL via the ``db`` fixture)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from functools import cache
from pathlib import Path

import psycopg
from sqlglot import exp

from ccf.dsl import resources
from ccf.dsl.library import Library
from ccf.engine.api import case_plan, factor_signatures, library
from ccf.engine.load import load_csv
from ccf.engine.sql import Executor, column, param, table

ROOT = Path(__file__).resolve().parent.parent


@cache
def shipped_library() -> Library:
    """The shipped library, checked once per test session (building it parses and checks every
    version: about half a second each time). Shared by every test: read it, never add to it; a
    test that needs other versions builds a ``Library`` of its own."""
    return library()


@cache
def shipped_case_plan() -> tuple:
    """Every test case of the shipped library with each version it applies to (``api.case_plan``
    of ``shipped_library()``), read once per test session: read it, never change it."""
    return tuple(case_plan(shipped_library()))


def shipped_library_copy(dest: Path, methodologies: tuple[str, ...], *ignore: str) -> Path:
    """A copy of the shipped library's folder at ``dest`` for a test that changes it: the
    methodology folders whose names start with one of ``methodologies``, every activity type
    and factor set and the top-level files, without sample data, byte-code or what ``ignore``
    matches. Only the methodologies a test needs: its commands check every version of the copy
    anew, about 1.5 s each time for all 80 folders."""
    shipped = resources.methodologies()
    patterns = shutil.ignore_patterns("sample_data", "__pycache__", *ignore)

    def left_out(folder: str, names: list[str]) -> set[str]:
        others = {n for n in names if "." in n and (shipped / n).is_dir() and not n.startswith(methodologies)}
        return patterns(folder, names) | (others if Path(folder) == shipped else set())

    shutil.copytree(shipped, dest, ignore=left_out)
    return dest


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def load(conn: psycopg.Connection, lib: Library, dataset: str, activity_type: str, path: Path):
    return load_csv(conn, dataset, lib.activity_types[activity_type], path)


def results(conn: psycopg.Connection, run_id: int) -> list[dict]:
    """Every result row of a run with its provenance, ordered."""
    return _read(conn, exp.select(exp.Star())
                 .from_(table("result_provenance"))
                 .where(exp.EQ(this=column("run_id"), expression=param("run_id")))
                 .order_by(column("methodology_id"), column("activity_id"), column("gas")), run_id)


def rows_of(conn: psycopg.Connection, name: str, run_id: int) -> list[dict]:
    return _read(conn, exp.select(exp.Star()).from_(table(name))
                 .where(exp.EQ(this=column("run_id"), expression=param("run_id"))).order_by(column("activity_id")), run_id)


def _read(conn: psycopg.Connection, query: exp.Expression, run_id: int) -> list[dict]:
    """Rows as dicts, read in a transaction of their own when none is open, so that a run can
    follow (a run starts its own transaction, which reads one snapshot: engine/run.py)."""
    with conn.transaction():
        cur = Executor(conn).execute(query, {"run_id": run_id})
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def total(rows: list[dict]) -> Decimal:
    return sum((r["co2e_kg"] for r in rows), Decimal(0))


__all__ = ["ROOT", "shipped_library_copy", "write_csv", "load", "results", "rows_of", "total", "library", "shipped_library", "shipped_case_plan", "factor_signatures"]
