"""What a run stored, read from each engine, and the comparison of a ClickHouse run's rows with
a PostgreSQL run's (tests/clickhouse/test_differential.py, test_engine.py's demo).

Every column of every result row is compared (decimals equal, not close), every exclusion and
unmatched row with its reason, and, for a methodology with instruments, every
``instrument_allocation`` row (both engines write those to PostgreSQL's catalogue)."""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from sqlglot import exp

from ccf.dsl import ir
from ccf.engine.clickhouse.tables import DATABASE
from ccf.engine.sql import ClickHouseExecutor, Executor, column, table, text

EXCLUDED = ("activity_id", "rule_id", "reason")
UNMATCHED = ("activity_id", "rule_id", "reason_code", "reason")
ALLOCATION = ("instrument_id", "entity", "unit", "quantity", "allocated", "unallocated", "allocated_rows", "reason_code", "reason")


def _of(run_id: int, methodology_id: str) -> exp.Expression:
    return exp.and_(exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id)),
                    exp.EQ(this=column("methodology_id"), expression=text(methodology_id)))


def pg_rows(conn, name: str, run_id: int, methodology_id: str) -> list[dict]:
    cur = Executor(conn).execute(exp.select(exp.Star()).from_(table(name)).where(_of(run_id, methodology_id)))
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def ch_rows(ch: ClickHouseExecutor, name: str, run_id: int, methodology_id: str, database: str = DATABASE) -> list[dict]:
    """A run's rows of one result table in ClickHouse: in ``database``, its catalogue's for a run
    ccf recorded (engine/clickhouse/catalogue.py), ``ccf`` for ``run_on_clickhouse``'s."""
    return ch.execute(exp.select(exp.Star()).from_(table(name, database)).where(_of(run_id, methodology_id))).to_pylist()


def result_key(m: ir.Methodology) -> Callable[[dict], object]:
    """A result row's key: its activity row; with instruments, its part (activity row and instrument)."""
    return (lambda r: r["activity_id"]) if m.instruments is None else (lambda r: (r["activity_id"], r["instrument_id"]))


def same_result(pg: dict, ch: dict) -> list[str]:
    """The columns where a ClickHouse result row differs from PostgreSQL's (an empty array where
    PostgreSQL has NULL is the same: a ClickHouse array is never NULL, and the gas has no value)."""
    differ = []
    for name, value in ch.items():
        if name == "run_id":
            continue
        theirs = pg[name]
        if name.endswith("_factor_ids") and value == [] and theirs is None:
            continue
        if isinstance(theirs, Decimal) and isinstance(value, Decimal):
            if theirs != value:
                differ.append(f"{name}: postgres {theirs}, clickhouse {value}")
        elif theirs != value:
            differ.append(f"{name}: postgres {theirs!r}, clickhouse {value!r}")
    return differ


def assert_same_rows(conn, ch: ClickHouseExecutor, m: ir.Methodology, pg_run: int, ch_run: int,
                     database: str = DATABASE) -> None:
    """Everything methodology ``m`` stored in ClickHouse run ``ch_run`` is what it stored in
    PostgreSQL run ``pg_run``."""
    key = result_key(m)
    pg = {key(r): r for r in pg_rows(conn, "result_row", pg_run, m.id)}
    got = {key(r): r for r in ch_rows(ch, "result_row", ch_run, m.id, database)}
    assert set(got) == set(pg), (m.ref, set(got) ^ set(pg))
    for k, row in got.items():
        assert not same_result(pg[k], row), (m.ref, k, same_result(pg[k], row))
    for name, cols in (("excluded", EXCLUDED), ("unmatched", UNMATCHED)):
        assert sorted(tuple(r[c] for c in cols) for r in ch_rows(ch, name, ch_run, m.id, database)) == \
            sorted(tuple(r[c] for c in cols) for r in pg_rows(conn, name, pg_run, m.id)), (m.ref, name)
    if m.instruments is not None:
        assert sorted(tuple(r[c] for c in ALLOCATION) for r in pg_rows(conn, "instrument_allocation", ch_run, m.id)) == \
            sorted(tuple(r[c] for c in ALLOCATION) for r in pg_rows(conn, "instrument_allocation", pg_run, m.id)), m.ref
