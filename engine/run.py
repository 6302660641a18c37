"""Runs: one or more methodology versions over a dataset, in one transaction.

A run commits whole or leaves nothing. Each methodology executes its fixed statement list
(engine/compile/); afterwards the counts must reconcile — every activity row of the dataset is
a result, an exclusion or an unmatched record, and rejected rows are counted beside them — or
the run fails and rolls back.

A run reads one snapshot of the database (``one_snapshot``: REPEATABLE READ): a load or a
factor set committed while it runs is seen by none of its statements. Its first statement reads
the dataset's loads in that snapshot; they are recorded with the run, and every statement reads
the activity and rejected rows of exactly those loads (``%(loads)s``), so that a verification
can recompute the run with them after more loads were added (engine/verify.py).
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Callable, Iterator, Sequence

import psycopg
from psycopg.pq import TransactionStatus
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import exact_sum
from ccf.engine import __version__ as ENGINE_VERSION
from ccf.engine.compile import compiled, gases, lookup_set_params
from ccf.engine.database import RUNNER, DatabaseError, connect, runner_conninfo
from ccf.engine.compile.activity import of_run_loads
from ccf.engine.compile.statements import RESULT_TABLE
from ccf.engine.factors.editions import EditionChoice, EditionError, Period, bind, choices_for
from ccf.engine.factors.store import InstalledSet, installed
from ccf.engine.options import POSTGRESQL
from ccf.engine.load import Dataset, activity_table, dataset_loads, prepare_activity_tables, require_dataset
from ccf.engine.run_partition import attach_partitions, into_partition, open_partitions, partition_table
from ccf.engine.sql import Executor, column, func, ident, param, table, text


MARKET = "market-based"


class RunError(CcfError):
    """A run that cannot start or does not reconcile (nothing was written)."""


@dataclass(frozen=True)
class Reconciliation:
    rows_in: int
    rows_result: int
    rows_excluded: int
    rows_unmatched: int
    rows_rejected: int

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_result + self.rows_excluded + self.rows_unmatched


@dataclass(frozen=True)
class MethodologyOutcome:
    """What one methodology gave in a run. Its settings (factor set, GWP set, activity type, scope)
    are the IR's, read through it, never copied: the run stores them once, in ccf.run_methodology."""

    methodology: ir.Methodology
    reconciliation: Reconciliation
    co2e_kg: Decimal
    by_gas: tuple[tuple[str, Decimal], ...]
    instruments: "InstrumentTotals | None" = None  # only for a methodology with instruments
    # market-based Scope 2: kg CO2e per rule, i.e. per tier of the hierarchy (certificate,
    # supplier_specific, residual_mix, grid_average_fallback), in rule order
    by_rule: tuple[tuple[str, Decimal], ...] | None = None
    factor_set_named: str | None = None  # the set the methodology names, when not the edition itself
    edition_fallback: str | None = None  # why an edition for another period was read (--other-edition)

    methodology_id = property(lambda self: self.methodology.id)
    version = property(lambda self: self.methodology.version)
    content_hash = property(lambda self: self.methodology.content_hash)
    scope = property(lambda self: self.methodology.scope)
    category = property(lambda self: self.methodology.category)
    method = property(lambda self: self.methodology.method)
    factor_set = property(lambda self: self.methodology.factor_set)
    gwp = property(lambda self: self.methodology.gwp)
    activity_type = property(lambda self: self.methodology.activity.id)


@dataclass(frozen=True)
class InstrumentTotals:
    """Contractual instrument volume of a run (ccf.instrument_allocation), in ``unit``."""

    unit: str
    quantity: Decimal
    allocated: Decimal
    unallocated: Decimal
    unallocated_by_reason: tuple[tuple[str, Decimal], ...]

    def to_json(self) -> dict:
        return {
            "unit": self.unit, "quantity": _dec(self.quantity), "allocated": _dec(self.allocated),
            "unallocated": _dec(self.unallocated),
            "unallocated_by_reason": {r: _dec(v) for r, v in self.unallocated_by_reason},
        }


@dataclass(frozen=True)
class RunReport:
    run_id: int
    dataset: str
    engine_version: str
    started_at: datetime
    finished_at: datetime
    methodologies: tuple[MethodologyOutcome, ...]
    statements: int = field(default=0)
    loads: tuple[int, ...] = ()  # the dataset's loads the run read, exactly (for verification)

    def _beside(self, m: MethodologyOutcome) -> bool:
        """A market-based Scope 2 methodology reported beside location-based ones, or projected
        lifetime emissions of projects financed (reported apart from Scope 3): not added."""
        return m.method == ir.PROJECTED_LIFETIME or m.scope == 2 and m.method == MARKET and any(
            o.scope == 2 and o.method != MARKET for o in self.methodologies)

    @property
    def projected_lifetime_kg(self) -> Decimal:
        """Projected lifetime emissions of projects financed in the period, in no total."""
        return exact_sum(m.co2e_kg for m in self.methodologies if m.method == ir.PROJECTED_LIFETIME)

    @property
    def co2e_kg(self) -> Decimal:
        """The total, with Scope 2 location-based where the run has both bases (dual reporting)."""
        return exact_sum(m.co2e_kg for m in self.methodologies if not self._beside(m))

    @property
    def outside_scopes_kg(self) -> Decimal:
        """Biogenic CO2 (kg CO2e), reported beside the scopes and never in a total."""
        return exact_sum(v for m in self.methodologies for g, v in m.by_gas if g in ir.OUTSIDE_SCOPES)

    def scope2_by_basis(self) -> dict[str, Decimal]:
        """Scope 2 per basis, side by side (Scope 2 Guidance: dual reporting). Under the
        market-based basis a location-based methodology counts where no market-based one covers
        its activity type (the location-based figure is the hierarchy's last fallback)."""
        scope2 = [m for m in self.methodologies if m.scope == 2]
        covered = {m.activity_type for m in scope2 if m.method == MARKET}
        if not covered:
            return {}
        return {
            "location-based": exact_sum(m.co2e_kg for m in scope2 if m.method != MARKET),
            MARKET: exact_sum(m.co2e_kg for m in scope2 if m.method == MARKET or m.activity_type not in covered),
        }

    def to_json(self) -> dict:
        """Machine-readable summary; every number is a decimal string."""

        def scope_key(m: MethodologyOutcome) -> str:
            return f"scope{m.scope}" + (f".category{m.category}" if m.category else "")

        by_scope = {
            key: exact_sum(m.co2e_kg for m in self.methodologies if scope_key(m) == key and not self._beside(m))
            for key in {scope_key(m) for m in self.methodologies if not self._beside(m)}
        }
        by_basis = self.scope2_by_basis()
        return {
            "run_id": self.run_id,
            "dataset": self.dataset,
            "engine_version": self.engine_version,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "loads": list(self.loads),
            "total_co2e_kg": _dec(self.co2e_kg),
            "by_scope_category": {k: _dec(v) for k, v in sorted(by_scope.items())},
            **({"scope2_by_basis": {k: _dec(v) for k, v in by_basis.items()}} if by_basis else {}),
            **({"outside_scopes_co2e_kg": _dec(self.outside_scopes_kg)} if self.outside_scopes_kg else {}),
            **({"projected_lifetime_co2e_kg": _dec(self.projected_lifetime_kg)} if self.projected_lifetime_kg else {}),
            "methodologies": [
                {
                    "methodology": m.methodology_id,
                    "version": m.version,
                    "content_hash": m.content_hash,
                    "scope": m.scope,
                    "category": m.category,
                    "method": m.method,
                    "factor_set": m.factor_set,
                    **({"factor_set_named": m.factor_set_named} if m.factor_set_named else {}),
                    **({"edition_fallback": m.edition_fallback} if m.edition_fallback else {}),
                    "co2e_kg": _dec(m.co2e_kg),
                    "by_gas": {g: _dec(v) for g, v in m.by_gas},
                    "reconciliation": {**asdict(m.reconciliation), "balanced": m.reconciliation.balanced},
                    **({"instruments": m.instruments.to_json()} if m.instruments is not None else {}),
                    **({"by_rule": {r: _dec(v) for r, v in m.by_rule}} if m.by_rule is not None else {}),
                }
                for m in self.methodologies
            ],
        }


def _dec(d: Decimal) -> str:
    """Plain decimal text without trailing zeros or exponent."""
    if d == 0:
        return "0"
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# One methodology of run ``run_id`` computed over the dataset's loads ``read``, in the run's snapshot.
Compute = Callable[[Executor, int, Dataset, tuple[int, ...], ir.Methodology], MethodologyOutcome]
FINISHING = "(finishing the run)"  # the last progress call: statistics, summary, commit follow
SNAPSHOT_LEVELS = ("repeatable read", "serializable")  # the isolation levels with one snapshot per transaction


@contextmanager
def one_snapshot(conn: psycopg.Connection, rollback: bool = False) -> Iterator[Executor]:
    """A transaction whose every statement reads one snapshot of the database, committed on
    leaving (rolled back with ``rollback``, and on an error). Its first statement sets REPEATABLE
    READ whatever the server's default, and the snapshot is taken by the next one. Under READ
    COMMITTED each statement would take its own, so a load committed meanwhile would reach some
    statements of a run and not others. Inside a transaction already open it is a savepoint, and
    that transaction must read one snapshot too (REPEATABLE READ or SERIALIZABLE)."""
    ex = Executor(conn)
    if conn.info.transaction_status == TransactionStatus.IDLE:
        with conn.transaction(force_rollback=rollback):
            level = exp.SetItem(kind="TRANSACTION", expressions=[exp.var("ISOLATION LEVEL REPEATABLE READ")])
            ex.execute(exp.Set(expressions=[level]))
            yield ex
        return
    (current,) = ex.one(exp.select(func("current_setting", text("transaction_isolation"))))  # type: ignore[misc]
    if current not in SNAPSHOT_LEVELS:
        raise RunError(f"a run reads one snapshot of the database, which a {current} transaction does not give: "
                       "commit or roll back the open transaction first")
    with conn.transaction(force_rollback=rollback):
        yield ex


def run(
    conn: psycopg.Connection,
    dataset: str,
    methodologies: Sequence[ir.Methodology],
    progress: Callable[[str], None] | None = None,
    *,
    loads: Sequence[int] | None = None,
    inspect: Callable[[Executor, RunReport], None] | None = None,
    other_edition: bool = False,
    engine: str = POSTGRESQL,
    compute: Compute | None = None,
) -> RunReport:
    """Execute methodologies over a dataset in one transaction, reading one snapshot, and
    reconcile every row. Each reads the factor-set edition of the data's period
    (engine/factors/editions.py); with ``other_edition`` a pinned edition for another period is
    read too, and its reason recorded on the results, instead of refusing the run. ``loads``: the dataset's loads to read (a verification's recorded
    ones), each of which the snapshot must hold; by default every load it holds.
    ``progress`` is called with each methodology's ref before it runs, then with FINISHING.

    ``conn`` is the schema owner's connection: it creates or extends the activity tables
    (committed before the run starts). The run itself executes on its own connection, logged in
    as ccf_runner (see "run role" below), and commits there; since the run reads only what is
    committed, a transaction open on ``conn`` is committed first, and a transaction block refused.
    With ``inspect`` the run is a recomputation (ccf verify): ``inspect(executor, report)`` is
    called inside the run's transaction, on the run's connection, which is then rolled back.

    ``compute`` computes one methodology of the run on another ``engine`` than PostgreSQL
    (engine/clickhouse/run.py): the run row, its methodologies and its summary are recorded here
    all the same, in this transaction, with the engine that holds its rows."""
    if not methodologies:
        raise RunError("no methodology to run")
    ids = [m.id for m in methodologies]
    if len(set(ids)) != len(ids):
        raise RunError("a run takes one version of each methodology; " + ", ".join(sorted({i for i in ids if ids.count(i) > 1})) + " given twice")
    with _run_connection(conn) as (rconn, role):
        # DDL as the owner, committed before the runner reads the tables, under each type's load lock
        prepare_activity_tables(conn, [at for m in methodologies for at in (m.activity, *(
            [m.instruments.activity] if m.instruments is not None else []))])
        report = _run_all(rconn, dataset, methodologies, progress, compute, loads, inspect, engine, role, other_edition)
        if engine != POSTGRESQL:
            return report  # its result rows are on that engine
    # Fresh statistics of the columns that select a run's result rows, for the report that
    # follows (autovacuum may not have run yet): without them the planner expects one result
    # row of the new run, and the report of a 1M-row run took 27 s instead of 9 s
    # (docs/performance.md). Of the run's partition only, which the report's queries of the run
    # are pruned to (an ANALYZE of ccf.result_row would sample every run's partition again), two
    # columns from a sample of 3,000 rows (statistics target 10 for this ANALYZE only).
    # As the owner, after the run's commit: ANALYZE is the table owner's.
    if inspect is None:  # (a recomputation was rolled back: no partition is left)
        with conn.transaction():
            Executor(conn).analyze_sample(partition_table(RESULT_TABLE, report.run_id), ("run_id", "methodology_id"))
    return report


def _run_all(
    conn: psycopg.Connection, dataset: str, methodologies: Sequence[ir.Methodology],
    progress: Callable[[str], None] | None, compute: Compute | None, loads: Sequence[int] | None,
    inspect: Callable[[Executor, RunReport], None] | None, engine: str, role: str | None, other_edition: bool,
) -> RunReport:
    """The run's transaction, on the run's connection: one snapshot (rolled back with ``inspect``).
    Each methodology computed by ``compute`` (another engine's), else here into the run's partitions."""
    started = datetime.now(timezone.utc)
    outcomes = []
    with one_snapshot(conn, rollback=inspect is not None) as ex:
        info = require_dataset(ex, dataset)  # before anything is written: an unknown name is an error, not a run of zero rows
        held = dataset_loads(ex, dataset)  # in the snapshot the first read took
        if loads is not None and (missing := sorted(set(loads) - set(held))):
            raise RunError(f"dataset {dataset} holds no load {', '.join(map(str, missing))}")
        read = tuple(held if loads is None else sorted(set(loads)))
        run_id = ex.one(
            exp.insert(
                exp.select(param("dataset"), param("engine_version"), param("started_at"), param("engine")),
                exp.Schema(this=table("run"), expressions=[ident(c) for c in ("dataset", "engine_version", "started_at", "engine")]),
                returning="run_id",
            ),
            {"dataset": dataset, "engine_version": ENGINE_VERSION, "started_at": started, "engine": engine},
        )[0]  # type: ignore[index]
        # created in this transaction, so filled without WAL (run_partition); another engine holds its own rows
        partitions = open_partitions(ex, run_id) if compute is None else {}
        for m in methodologies:
            if progress:
                progress(m.ref)
            outcomes.append(_run_one(ex, run_id, info, read, m, partitions, role, other_edition) if compute is None
                            else compute(ex, run_id, info, read, m))
        if progress:
            progress(FINISHING)
        if compute is None:
            attach_partitions(ex, run_id)  # before the run is finished, and its last statement but the UPDATE
        finished = datetime.now(timezone.utc)
        report = RunReport(run_id, dataset, ENGINE_VERSION, started, finished, tuple(outcomes), len(ex.statements) + 2, read)
        ex.execute(
            exp.update(
                table("run"),
                {"finished_at": param("finished_at"), "summary": exp.Cast(this=param("summary"), to=exp.DataType.build("JSONB"))},
                where=exp.EQ(this=column("run_id"), expression=param("run_id")),
            ),
            {"finished_at": finished, "summary": json.dumps(report.to_json()), "run_id": run_id},
        )
        if inspect is not None:
            inspect(ex, report)  # then one_snapshot rolls the recomputation back
    return report


def _data_period(ex: Executor, info: Dataset, loads: tuple[int, ...], m: ir.Methodology) -> Period | None:
    """The period the editions are chosen for: the dataset's reporting period, else the span of
    its rows' period_start (None: no rows)."""
    if info.period is not None:
        return info.period.start, info.period.end
    start = column("period_start")
    row = ex.one(exp.select(exp.Min(this=start), exp.Max(this=start.copy())).from_(activity_table(m.activity))
                 .where(of_run_loads()), {"dataset": info.name, "loads": list(loads)})
    return (row[0], row[1]) if row is not None and row[0] is not None else None


def choose_editions(ex: Executor, info: Dataset, loads: tuple[int, ...], m: ir.Methodology,
                    other_edition: bool) -> dict[str | None, EditionChoice]:
    """The edition of every set ``m`` reads, for the period of the dataset's rows in ``loads``."""
    try:
        return choices_for(m, _data_period(ex, info, loads, m), other_edition=other_edition)
    except EditionError as e:
        raise RunError(f"dataset {info.name}: {e}") from None


def _run_one(ex: Executor, run_id: int, info: Dataset, loads: tuple[int, ...], m: ir.Methodology,
             partitions: dict[str, exp.Table], role: str | None = None, other_edition: bool = False) -> MethodologyOutcome:
    """One methodology's statements, its rows written into the run's ``partitions`` (run_partition)."""
    dataset = info.name
    editions = choose_editions(ex, info, loads, m, other_edition)
    own = editions[None]
    m = bind(m, editions)  # from here on every set is the edition read
    params, fs, other_sets = statement_params(ex, m, run_id, dataset, loads)
    if role is not None:
        _switch_role(ex, role)  # run role, fallback only: the statements below run as ccf_runner
    code = compiled(m)  # the same bound version in another run (a case, say): compiled once
    counts, written = None, {}
    for name, tree in code.statements():
        cur = ex.execute(into_partition(tree, partitions), params)
        if name in ("results", "excluded", "unmatched"):
            written[name] = cur.rowcount
        if name == "reconcile":
            counts = cur.fetchone()
    assert counts is not None
    rows_in, rows_result, result_rows, rows_rejected, *sums = counts
    # what the excluded and unmatched statements wrote, and each evaluated row with results
    # written (a row with results and no value would be one missing here)
    rec = Reconciliation(rows_in, rows_result, written["excluded"], written["unmatched"], rows_rejected)
    if not rec.balanced or written["results"] != result_rows:
        raise RunError(
            f"{m.ref} does not reconcile: {rows_in} activity rows but {rows_result} results + "
            f"{rec.rows_excluded} excluded + {rec.rows_unmatched} unmatched ({written['results']} result rows "
            f"written of {result_rows}); nothing was written"
        )
    # kg CO2e per gas of the result rows, summed by the reconcile pass (engine/compile/statements.py
    # reconcile) from the values the results statement wrote; a test checks them against
    # SUM(co2e_kg) of ccf.result (tests/engine/test_run.py)
    by_gas = sorted((g, v) for g, v in zip(gases(m), sums) if v is not None)
    total = exact_sum(v for g, v in by_gas if g not in ir.OUTSIDE_SCOPES)  # biogenic CO2: beside, not in
    record_methodology(ex, params, m, rec, fs, editions, other_sets, code.sql())
    if role is not None:
        _switch_role(ex, None)  # run role, fallback only: back to the connecting user
    return MethodologyOutcome(
        m, rec, total, tuple((g, v) for g, v in by_gas),
        instrument_totals(ex, params, m) if m.instruments is not None else None,
        _by_rule(ex, params, m, partitions[RESULT_TABLE]) if m.method == MARKET else None,
        own.named if own.named != own.edition else None, own.fallback,
    )


def record_methodology(ex: Executor, params: dict, m: ir.Methodology, rec: Reconciliation, fs: InstalledSet,
                       editions: dict[str | None, EditionChoice], other_sets: dict[str, InstalledSet | None],
                       compiled_sql: str) -> None:
    """ccf.run_methodology and ccf.run_factor_set: what a methodology of run %(run_id)s read and
    gave, whichever engine computed it (engine/clickhouse/run.py records its runs here too)."""
    own = editions[None]
    cols = {
        "run_id": param("run_id"), "methodology_id": text(m.id), "version": text(m.version),
        "content_hash": text(m.content_hash), "status": text(m.status), "scope": exp.Literal.number(m.scope),
        "category": exp.Literal.number(m.category) if m.category else exp.Null(), "method": text(m.method),
        "activity_type": text(m.activity.id), "activity_type_hash": text(m.activity.content_hash),
        "factor_set": text(m.factor_set), "factor_set_sha256": text(fs.sha256), "gwp": text(m.gwp),
        "rows_in": exp.Literal.number(rec.rows_in), "rows_result": exp.Literal.number(rec.rows_result),
        "rows_excluded": exp.Literal.number(rec.rows_excluded), "rows_unmatched": exp.Literal.number(rec.rows_unmatched),
        "rows_rejected": exp.Literal.number(rec.rows_rejected), "compiled_sql": param("compiled_sql"),
        "factor_set_named": text(own.named), "edition_period": _period_text(own.period),
        "edition_fallback": text(own.fallback) if own.fallback else exp.Null(),
    }
    ex.execute(
        exp.insert(exp.select(*cols.values()), exp.Schema(this=table("run_methodology"), expressions=[ident(c) for c in cols])),
        {**params, "compiled_sql": compiled_sql},
    )
    _record_other_sets(ex, params, m, other_sets, editions)


def statement_params(ex: Executor, m: ir.Methodology, run_id: int, dataset: str, loads: Sequence[int]
                     ) -> tuple[dict, InstalledSet, dict[str, InstalledSet | None]]:
    """The values of the bound parameters of ``m``'s statements (engine/compile), ``m`` bound to
    its editions: with the installed edition it reads and each other set a lookup reads."""
    fs = installed(ex, m.factor_set)
    if fs is None:
        raise RunError(
            f"{m.ref} uses factor set {m.factor_set}, which is not installed in this database "
            "(shipped sets are installed automatically; see 'ccf factors list')"
        )
    params = {"run_id": run_id, "dataset": dataset, "loads": list(loads), "factor_set_id": fs.factor_set_id}
    other_sets = {set_id: installed(ex, set_id) for set_id in sorted(set(lookup_set_params(m).values()))}
    for p, set_id in lookup_set_params(m).items():  # a set that is not installed: NULL, the lookup finds nothing
        params[p] = other_sets[set_id].factor_set_id if other_sets[set_id] is not None else None
    return params, fs, other_sets


def _period_text(period: Period | None) -> exp.Expression:
    return text(ir.period_text(*period)) if period is not None else exp.Null()


def _by_rule(ex: Executor, params: dict, m: ir.Methodology, results: exp.Table) -> tuple[tuple[str, Decimal], ...]:
    """kg CO2e in the scopes per rule that gave results (the tier of a market-based hierarchy), in
    rule order, read from the run's partition (``results``, not attached yet)."""
    rows = ex.rows(  # each result row's kg CO2e in the scopes, biogenic CO2 beside (migration 0019)
        exp.select(column("rule_id"), exp.Sum(this=column("total_co2e_kg")))
        .from_(results.copy())
        .where(exp.and_(
            exp.EQ(this=column("run_id"), expression=param("run_id")),
            exp.EQ(this=column("methodology_id"), expression=text(m.id)),
        ))
        .group_by(column("rule_id")),
        params,
    )
    got = dict(rows)
    return tuple((r.id, got[r.id]) for r in m.rules if r.id in got)


def _record_other_sets(ex: Executor, params: dict, m: ir.Methodology, sets: dict[str, InstalledSet | None],
                       editions: dict[str | None, EditionChoice]) -> None:
    """ccf.run_factor_set: each other factor set the methodology's lookups read, with the
    installed edition's sha256 (NULL when it is not installed: those lookups found nothing)
    and the id the lookups named it by."""
    chosen = {c.edition: c for named, c in editions.items() if named is not None}
    for set_id, fs in sets.items():
        lookups = [lk.name for lk in m.lookups if lk.factor_set == set_id and lk.gases]
        choice = chosen.get(set_id)
        cols = {
            "run_id": param("run_id"), "methodology_id": text(m.id), "set_id": text(set_id),
            "lookups": exp.Array(expressions=[text(name) for name in lookups]),
            "sha256": text(fs.sha256) if fs is not None else exp.Null(),
            "factor_set_named": text(choice.named) if choice is not None else exp.Null(),
            "edition_fallback": text(choice.fallback) if choice is not None and choice.fallback else exp.Null(),
        }
        ex.execute(
            exp.insert(exp.select(*cols.values()), exp.Schema(this=table("run_factor_set"), expressions=[ident(c) for c in cols])),
            params,
        )


def instrument_totals(ex: Executor, params: dict, m: ir.Methodology) -> InstrumentTotals:
    """The run's instrument volume: held, allocated, and unallocated by reason."""
    this_run = exp.and_(
        exp.EQ(this=column("run_id"), expression=param("run_id")),
        exp.EQ(this=column("methodology_id"), expression=text(m.id)),
    )
    rows = ex.rows(
        exp.select(column("unit"), column("reason_code"), exp.Sum(this=column("quantity")),
                   exp.Sum(this=column("allocated")), exp.Sum(this=column("unallocated")))
        .from_(table("instrument_allocation")).where(this_run)
        .group_by(column("unit"), column("reason_code")).order_by(column("reason_code")),
        params,
    )
    return InstrumentTotals(
        unit=rows[0][0] if rows else "MWh",
        quantity=exact_sum(r[2] for r in rows),
        allocated=exact_sum(r[3] for r in rows),
        unallocated=exact_sum(r[4] for r in rows),
        unallocated_by_reason=tuple((r[1], r[4]) for r in rows if r[4] != 0),
    )


# --- run role (reliability, docs/reliability.md "Least privilege that holds") -------------------
# A run executes on its own connection, logged in as ccf_runner (database.runner_conninfo), whose
# grants (engine/migrations/0002_run_role.sql) let it read and append but not change the schema,
# reference data or existing results. Being its login, not a role switched to, nothing its
# statements do can regain another role's privileges. Where that login is refused (a server whose
# DBA did not make ccf_runner a login), the run falls back to the connecting user's connection
# with SET LOCAL ROLE ccf_runner — which a statement could undo, so ccf warns.

RUN_ROLE = RUNNER
log = logging.getLogger("ccf.run")


@contextmanager
def _run_connection(conn: psycopg.Connection) -> Iterator[tuple[psycopg.Connection, str | None]]:
    """The connection a run executes on, and the role to SET on it (None: none)."""
    try:
        runner = connect(runner_conninfo(conn, RUN_ROLE))
    except DatabaseError as exc:
        log.warning(
            "cannot log in as %s (%s); the run executes on this connection with SET ROLE, which the "
            "run's SQL could undo (docs/reliability.md, 'Least privilege that holds')", RUN_ROLE, exc,
        )
        _commit_what_is_open(conn)
        role = _run_role(Executor(conn))
        conn.commit()  # that look-up opened a transaction: the run's own must be its first (one snapshot)
        yield conn, role
        return
    with runner:
        _commit_what_is_open(conn)
        yield runner, None


def _commit_what_is_open(conn: psycopg.Connection) -> None:
    """The run's own connection sees only what is committed, and would wait forever on locks of
    DDL the caller has not committed: a transaction open on ``conn`` (psycopg opens one at the
    first statement, e.g. a load's) is committed first. The caller's own transaction block
    (``with conn.transaction()``), or a failed transaction, is not ours to end: refused."""
    if conn.info.transaction_status == TransactionStatus.IDLE:
        return
    try:
        if conn.info.transaction_status == TransactionStatus.INTRANS:
            conn.commit()
            return
    except psycopg.ProgrammingError:  # inside the caller's transaction block
        pass
    raise RunError(
        "a run cannot start inside a transaction block or a failed transaction: it executes on its "
        f"own connection as {RUN_ROLE} and reads only what is committed (commit or roll back first)"
    )


def _run_role(ex: Executor) -> str | None:
    """ccf_runner if this session may switch to it; None (run as the connecting user) when the
    role was never created, for want of the CREATEROLE privilege."""
    member = exp.Anonymous(this="pg_has_role", expressions=[exp.CurrentUser(), column("oid", "r"), text("MEMBER")])
    row = ex.one(
        exp.select(member).from_(exp.Table(this=ident("pg_roles"), alias=exp.TableAlias(this=ident("r"))))
        .where(exp.EQ(this=column("rolname", "r"), expression=param("role"))),
        {"role": RUN_ROLE},
    )
    if row is None or not row[0]:
        log.warning("role %s is not available to this user; the run executes as the connecting user", RUN_ROLE)
        return None
    return RUN_ROLE


def _switch_role(ex: Executor, role: str | None) -> None:
    """SET LOCAL ROLE role, or back to the connecting user (None)."""
    ex.execute(exp.select(exp.Anonymous(this="set_config", expressions=[text("role"), param("role"), exp.true()])),
               {"role": role or "none"})
