"""Runs on ClickHouse: each methodology computed there over a dataset's loads, reconciled as a
PostgreSQL run is, the run recorded in PostgreSQL's catalogue.

``run_clickhouse`` is ``ccf run --engine clickhouse``: engine/run.py's ``run`` with this module's
``compute`` for each methodology. The run row (engine ``clickhouse``, migration 0028), each
methodology's reconciliation and the summary are written to PostgreSQL in the run's one
snapshot, as for any run; the result, excluded and unmatched rows stay in ClickHouse, in the run's
partition (tables.py) of its PostgreSQL database's ClickHouse database (catalogue.py: run ids are
unique in one PostgreSQL database only). A run that fails or is rolled back leaves neither: its
partition is dropped.

A methodology reads the run's snapshot: the dataset's loads, the editions the data's period
binds (``choose_editions``, ``factors.editions.bind``) and the statements' parameter values
(``statement_params``), exactly as a PostgreSQL run chooses them; its inputs are copied into
ClickHouse (tables.py), compiled for their sizes (compile.py) and executed there. Every activity
row must end in one place (result, excluded or unmatched), else ``RunError``. The inputs are
tables of the run's own (``RunInputs``), dropped when the methodology is done, so runs at once
on one ClickHouse do not meet; a run holds a PostgreSQL lock while it runs, and the next run
drops the tables of runs whose lock is free (a crashed process's: ``sweep``). The two halves of a
methodology, ``copy_methodology`` and ``evaluate``, are apart so that a test can interleave
two runs' phases.
``run_on_clickhouse`` computes one methodology in a snapshot of its own, rolled back, and
records nothing (the differential tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum
from ccf.engine.clickhouse.allocation import ALLOCATION_COLUMNS
from ccf.engine.clickhouse.compile import ClickHouseStatements, Unsupported, compile_for_clickhouse, supported
from ccf.engine.clickhouse.catalogue import catalogue_database
from ccf.engine.clickhouse.inputs import copy_inputs
from ccf.engine.clickhouse.tables import DATABASE, RESULT_TABLES, RunInputs, drop_run, drop_tables, ensure_result_tables, run_tables
from ccf.engine.compile.evaluate import gases
from ccf.engine.factors.editions import bind
from ccf.engine.compile.activity import of_run_loads
from ccf.engine.locks import clickhouse_run_lock_key, session_unlock_of, try_session_lock_of, xact_lock_of
from ccf.engine.load import Dataset, dataset_loads, require_dataset
from ccf.engine.run import (
    MARKET, MethodologyOutcome, Reconciliation, RunError, RunReport, choose_editions, instrument_totals, one_snapshot,
    record_methodology, run, statement_params,
)
from ccf.engine.options import CLICKHOUSE
from ccf.engine.sql import ClickHouseExecutor, Executor, column, ident, param, render_clickhouse, table, text


@dataclass(frozen=True)
class ClickHouseOutcome:
    """A methodology's run on ClickHouse: its reconciliation, kg CO2e per gas and in scopes."""

    methodology: ir.Methodology
    run_id: int
    reconciliation: Reconciliation
    by_gas: tuple[tuple[str, Decimal], ...]
    co2e_kg: Decimal
    statements: ClickHouseStatements
    database: str  # where its rows are: its catalogue's (catalogue.py), or ``ccf`` for run_on_clickhouse
    executed: tuple[tuple[str, exp.Expression], ...]  # the statements as run, in ``database``
    # with instruments: the instrument_allocation rows (allocation.ALLOCATION_COLUMNS), one per instrument
    allocation: tuple[tuple, ...] = ()
    by_rule: tuple[tuple[str, Decimal], ...] | None = None  # market-based: kg CO2e per rule (tier), as engine/run.py


def run_clickhouse(conn: psycopg.Connection, ch: ClickHouseExecutor, dataset: str, methodologies: Sequence[ir.Methodology],
                   progress: Callable[[str], None] | None = None, *, loads: Sequence[int] | None = None,
                   other_edition: bool = False, inspect: Callable[[Executor, RunReport], None] | None = None) -> RunReport:
    """``engine.run.run`` computed on ClickHouse: the same report, the same catalogue rows in
    PostgreSQL, the rows in ClickHouse. Every methodology is checked before anything runs: one
    that is not compiled for ClickHouse is named (``Unsupported``) and nothing is written. With
    ``inspect`` the run is a recomputation (ccf verify): inspected, then rolled back in
    PostgreSQL and dropped from ClickHouse."""
    require_supported(methodologies)

    started: set[tuple[str, int]] = set()  # (ClickHouse database, run id) of the rows written for the run

    def compute(pg: Executor, run_id: int, info: Dataset, read: tuple[int, ...], m: ir.Methodology) -> MethodologyOutcome:
        # in the run's transaction: a copy of another PostgreSQL database takes an identity of its own here
        database = catalogue_database(pg, ch, running=run_id)
        assert database is not None  # running: an identity, or CatalogueCopy
        if (database, run_id) not in started:  # the run's first methodology
            # held until the run's transaction ends: its tables are in use (sweep)
            pg.execute(xact_lock_of(), {"lock_key": clickhouse_run_lock_key(run_id)})
            sweep(pg, ch, database)
        started.add((database, run_id))
        return _record(pg, _compute(pg, ch, run_id, info, read, m, other_edition, database))

    kept = False
    try:
        report = run(conn, dataset, methodologies, progress, loads=loads, other_edition=other_edition,
                     engine=CLICKHOUSE, compute=compute, inspect=inspect)
        kept = inspect is None
        return report
    finally:
        if not kept:  # the catalogue rolled back: the rows written for it go too
            for database, run_id in started:
                drop_run(ch, database, run_id)


def require_supported(methodologies: Sequence[ir.Methodology]) -> None:
    """``Unsupported`` naming every methodology of a run that is not compiled for ClickHouse,
    with its construct, one a line; nothing when all are."""
    refused = []
    for m in methodologies:
        try:
            supported(m)
        except Unsupported as exc:
            refused.append(str(exc))
    if refused:
        raise Unsupported(f"{len(refused)} of the {len(methodologies)} methodologies cannot run on ClickHouse:\n  "
                          + "\n  ".join(refused))


def run_on_clickhouse(conn: psycopg.Connection, ch: ClickHouseExecutor, dataset: str, m: ir.Methodology,
                      run_id: int, loads: list[int] | None = None, other_edition: bool = False) -> ClickHouseOutcome:
    """Run ``m`` over ``dataset`` on ClickHouse as run ``run_id`` (ClickHouse's own numbering),
    recording nothing in PostgreSQL; ``loads`` and ``other_edition`` as for a PostgreSQL run.
    Its rows and its inputs' tables are in database ``ccf``, not in a catalogue's: no catalogue
    knows the run."""
    supported(m)  # before anything is copied: an unsupported construct is named, nothing runs
    ensure_result_tables(ch, DATABASE)
    with one_snapshot(conn, rollback=True) as pg:
        info = require_dataset(pg, dataset)
        read = tuple(dataset_loads(pg, dataset) if loads is None else sorted(loads))
        return _compute(pg, ch, run_id, info, read, m, other_edition, DATABASE).outcome


@dataclass(frozen=True)
class _Computed:
    """A methodology computed on ClickHouse, with what the catalogue records of it."""

    outcome: ClickHouseOutcome
    params: dict
    recorded: tuple  # statement_params' installed set and other sets, and the editions chosen


@dataclass(frozen=True)
class Copied:
    """A methodology's inputs copied into ClickHouse (``where``: tables of its run's own) and its
    statements compiled for them, to be evaluated (``evaluate``)."""

    where: RunInputs
    bound: ir.Methodology
    params: dict
    recorded: tuple
    code: ClickHouseStatements
    statements: list[tuple[str, exp.Expression]]


def _compute(pg: Executor, ch: ClickHouseExecutor, run_id: int, info: Dataset, read: tuple[int, ...],
             m: ir.Methodology, other_edition: bool, database: str) -> _Computed:
    """One methodology of a run: its inputs copied, its statements evaluated, its inputs' and
    evaluation tables dropped whatever happens (a crashed process's are ``sweep``'s)."""
    where = RunInputs(database, run_id, m.id)
    try:
        return evaluate(ch, copy_methodology(pg, ch, where, info, read, m, other_edition))
    finally:
        where.drop(ch)


def copy_methodology(pg: Executor, ch: ClickHouseExecutor, where: RunInputs, info: Dataset, read: tuple[int, ...],
                     m: ir.Methodology, other_edition: bool) -> Copied:
    """The first half of a methodology's run: the editions chosen and bound, the parameters, the
    inputs copied into ``where``'s tables (read in ``pg``'s snapshot) and the statements compiled
    for their sizes, placed in ``where.database``."""
    editions = choose_editions(pg, info, read, m, other_edition)
    bound = bind(m, editions)
    params, fs, other_sets = statement_params(pg, bound, where.run_id, info.name, read)
    sizes = copy_inputs(pg, ch, bound, params, where)
    params["rows_rejected"] = _rejected(pg, params, bound.activity.id)
    code = compile_for_clickhouse(bound, sizes, where.eval_table)
    return Copied(where, bound, params, (fs, other_sets, editions), code, placed(code, where))


def evaluate(ch: ClickHouseExecutor, copied: Copied) -> _Computed:
    """The second half: the statements executed over the copied inputs, the rows reconciled;
    ``RunError`` (the methodology's rows deleted) when they do not."""
    bound, params, code, statements, database = copied.bound, copied.params, copied.code, copied.statements, copied.where.database
    run_id = copied.where.run_id
    counts, allocated = None, []
    for name, tree in statements:
        out = ch.rows(tree, params) if name in ("reconcile", "instruments") else ch.execute(tree, params)
        if name == "reconcile":
            counts = out[0]
        elif name == "instruments":
            allocated = out
    assert counts is not None
    rows_in, rows_result, rows_excluded, rows_unmatched, result_rows, rows_rejected, *sums = counts
    rec = Reconciliation(rows_in, rows_result, rows_excluded, rows_unmatched, rows_rejected)
    written = tuple(_count(ch, database, name, run_id, bound.id) for name in RESULT_TABLES)
    if not rec.balanced or written != (result_rows, rows_excluded, rows_unmatched):
        for name in RESULT_TABLES:
            ch.execute(exp.delete(table(name, database), where=_of_run(run_id, bound.id)))
        raise RunError(f"{bound.ref} does not reconcile on ClickHouse: {rows_in} activity rows but {rows_result} results + "
                       f"{rows_excluded} excluded + {rows_unmatched} unmatched (rows written: {written})")
    by_gas = tuple(sorted((g, v) for g, v in zip(gases(bound), sums) if v is not None))
    total = exact_sum(v for g, v in by_gas if g not in ir.OUTSIDE_SCOPES)
    by_rule = _by_rule(ch, database, run_id, bound) if bound.method == MARKET else None
    return _Computed(ClickHouseOutcome(bound, run_id, rec, by_gas, total, code, database, tuple(statements),
                                       tuple(tuple(r) for r in allocated), by_rule),
                     params, copied.recorded)


def sweep(pg: Executor, ch: ClickHouseExecutor, database: str) -> list[int]:
    """Drop the input and evaluation tables left in ``database`` by runs that are over: a run
    holds its lock (``locks.clickhouse_run_lock_key``) in its transaction from before its first
    table is made, and drops its tables at its end, so tables whose run's lock is free are a
    crashed process's (or of a run whose drop failed). The runs swept."""
    swept = []
    for run_id in sorted(run_tables(ch, database)):
        key = {"lock_key": clickhouse_run_lock_key(run_id)}
        if pg.one(try_session_lock_of(), key)[0]:  # type: ignore[index]
            try:
                drop_tables(ch, database, [f"input_{run_id}_", f"eval_{run_id}_"])
                swept.append(run_id)
            finally:
                pg.execute(session_unlock_of(), key)
    return swept


def placed(code: ClickHouseStatements, where: RunInputs) -> list[tuple[str, exp.Expression]]:
    """The compiled statements with their tables where the run has them: the compile names every
    table in ``ccf``; the evaluation and result tables are ``where.database``'s (a run's rows
    belong to its catalogue's database: catalogue.py), and each input is the table the copy
    made for this run's methodology (``where.table``)."""
    kept = {*RESULT_TABLES, code.eval_table, code.rows_table}

    def place(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.db == DATABASE:
            if node.name in kept:
                node = node.copy()
                node.set("db", ident(where.database))
            else:  # an input: the run's own table of it
                node = node.copy()
                node.set("this", ident(where.name(node.name)))
                node.set("db", ident(where.database))
        return node

    return [(name, tree.transform(place)) for name, tree in code.statements()]


def _record(pg: Executor, done: _Computed) -> MethodologyOutcome:
    """The methodology's catalogue rows in PostgreSQL (its compiled SQL: ClickHouse's), and its
    outcome as a PostgreSQL run gives it."""
    out, (fs, other_sets, editions) = done.outcome, done.recorded
    code = ";\n\n".join(render_clickhouse(tree) for _, tree in out.executed) + ";\n"
    record_methodology(pg, done.params, out.methodology, out.reconciliation, fs, editions, other_sets, code)
    instruments = None
    if out.methodology.instruments is not None:  # one row per instrument: the catalogue's, as for a PostgreSQL run
        # INSERT, each value a parameter: the table's row-level security refuses COPY
        names = ["run_id", "methodology_id", *ALLOCATION_COLUMNS]
        insert = exp.insert(exp.select(*[param(n) for n in names]),
                            exp.Schema(this=table("instrument_allocation"), expressions=[exp.to_identifier(n) for n in names]))
        for r in out.allocation:
            pg.execute(insert, dict(zip(names, (out.run_id, out.methodology.id, *r))))
        instruments = instrument_totals(pg, done.params, out.methodology)
    own = editions[None]
    return MethodologyOutcome(out.methodology, out.reconciliation, out.co2e_kg, out.by_gas, instruments, out.by_rule,
                              factor_set_named=own.named if own.named != own.edition else None, edition_fallback=own.fallback)


def _by_rule(ch: ClickHouseExecutor, database: str, run_id: int, m: ir.Methodology) -> tuple[tuple[str, Decimal], ...]:
    """kg CO2e in the scopes per rule that gave results (a market-based hierarchy's tier), in
    rule order, as engine/run.py's ``by_rule`` reads them on PostgreSQL."""
    got = dict(ch.rows(exp.select(column("rule_id"), exp.Sum(this=column("total_co2e_kg"))).from_(table("result_row", database))
                       .where(_of_run(run_id, m.id)).group_by(column("rule_id"))))
    return tuple((r.id, got[r.id]) for r in m.rules if r.id in got)


def _rejected(pg: Executor, params: dict, activity_type: str) -> int:
    """The run's rejected rows of its activity type: counted in PostgreSQL, where loads reject them."""
    where = exp.and_(of_run_loads(), exp.EQ(this=column("activity_type"), expression=text(activity_type)))
    return pg.one(exp.select(exp.Count(this=exp.Star())).from_(table("rejected")).where(where), params)[0]  # type: ignore[index]


def _of_run(run_id: int, methodology_id: str) -> exp.Expression:
    return exp.and_(exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id)),
                    exp.EQ(this=column("methodology_id"), expression=text(methodology_id)))


def _count(ch: ClickHouseExecutor, database: str, name: str, run_id: int, methodology_id: str) -> int:
    return ch.rows(exp.select(exp.Count(this=exp.Star())).from_(table(name, database)).where(_of_run(run_id, methodology_id)))[0][0]


__all__ = ["ClickHouseOutcome", "Copied", "copy_methodology", "evaluate", "placed", "require_supported", "run_clickhouse",
           "run_on_clickhouse", "sweep"]
