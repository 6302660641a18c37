"""``ccf bench``: a run measured side by side with hand-written SQL and a row-by-row baseline.

One invocation, one database, one synthetic dataset (bench/dataset.py):

1. ingest   the generated CSV files through the real load path (``api.load_files``: COPY);
2. compile  each methodology (IR -> sqlglot trees);
3. matching the factor-matching part of each compiled evaluate statement alone (distinct keys,
            resolution, join; rolled back), for the matching-speed target of issue 3;
4. run      ``engine.run.run``: every methodology in one transaction, results with provenance;
5. report   the inventory report of that run (``build_inventory`` + ``report_document``);
   ceilings the least work a load (the files COPYed into text columns, and typed, on both
            cores) and a run (matching, and the run's own output rows copied) can do here
            (bench/ceilings.py);
6. hand-written SQL (bench/handwritten/<ref>.sql, parsed with sqlglot, run through sql.py)
            writing the same result rows into ccf.result under a run that is rolled back;
7. row by row: fetch a row, one query per factor lookup, the reference evaluator, one INSERT
            per result row (rolled back); on a sample when N is large, extrapolated and labelled.

With ``--repeat R`` (R > 1), steps 4 and 6 are timed R times, alternating (ccf, hand-written,
ccf, …; the repetitions rolled back): the times reported are the medians, the ratio is the
median of the R ratios measured side by side, and every repetition's totals must equal the
first's.

The totals of 4 and 6 must be identical to the last digit, and the row-by-row total of the
sample identical to ccf's total over the same activity ids (Decimal, never float). Timings are
wall-clock (``time.perf_counter``); memory is this process's peak resident set size.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable

import psycopg
from sqlglot import exp

from ccf.dsl import ir, resources
from ccf.dsl.library import Library
from ccf.engine import __version__ as ENGINE_VERSION
from ccf.engine.bench.ceilings import Ceiling, LoadCeilings, load_ceilings, output_ceiling
from ccf.engine.bench.dataset import SCENARIOS, Scenario, generate
from ccf.engine.bench.targets import judge
from ccf.engine.bench.row_by_row import QueryPerRowResolver, evaluate_one_by_one
from ccf.engine.compile import CompiledMethodology, compile_methodology
from ccf.engine.load import dataset_loads
from ccf.engine.sql import Executor, column, eq, ident, is_param, param, parse, render, table, text

DEFAULT_SAMPLE = 2000
ENTITY_SET = "northwind-2024"  # the sample company's structure (methodologies/sample_data/northwind/entities)


@dataclass
class MethodologyBench:
    ref: str
    activity_type: str
    rows_generated: int
    rows_loaded: int = 0
    rows_rejected: int = 0
    ingest_s: float = 0.0
    compile_s: float = 0.0
    matching_s: float | None = None
    run_s: float = 0.0
    handwritten_s: float = 0.0
    row_by_row_sample_s: float = 0.0
    row_by_row_sample_rows: int = 0
    ccf_total: Decimal = Decimal(0)
    handwritten_total: Decimal = Decimal(0)
    ccf_sample_total: Decimal = Decimal(0)
    row_by_row_sample_total: Decimal = Decimal(0)
    ccf_counts: tuple[int, int] = (0, 0)  # excluded, unmatched activity rows
    handwritten_counts: tuple[int, int] = (0, 0)
    run_samples: list[float] = field(default_factory=list)  # one per repetition (--repeat)
    handwritten_samples: list[float] = field(default_factory=list)
    repeats_identical: bool = True  # every repetition's totals and counts equal the first's

    def settle_medians(self) -> None:
        """run_s and handwritten_s: the medians of the repetitions."""
        self.run_s = statistics.median(self.run_samples)
        self.handwritten_s = statistics.median(self.handwritten_samples) if self.handwritten_samples else 0.0

    @property
    def ratio(self) -> float | None:
        return _median_ratio(self.run_samples, self.handwritten_samples)

    @property
    def row_by_row_s(self) -> float:
        """Row-by-row time for all loaded rows (extrapolated when a sample was timed)."""
        if not self.row_by_row_sample_rows:
            return 0.0
        return self.row_by_row_sample_s * self.rows_loaded / self.row_by_row_sample_rows

    @property
    def identical(self) -> bool:
        return (
            self.ccf_total == self.handwritten_total
            and self.ccf_sample_total == self.row_by_row_sample_total
            and self.ccf_counts == self.handwritten_counts
            and self.repeats_identical
        )


@dataclass
class BenchReport:
    rows: int
    seed: int
    dataset: str
    run_id: int | None
    kept: bool
    methodologies: list[MethodologyBench]
    report_s: float = 0.0
    run_s: float = 0.0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    server_version: str = ""
    matching_only: bool = False  # --matching-only: no run, report or baselines, nothing compared
    settle_s: dict[str, float] = field(default_factory=dict)  # waits for autovacuum before run / hand-written
    vacuum_s: float | None = None  # VACUUM of the loaded activity tables, after the load, before any timed query
    run_samples: list[float] = field(default_factory=list)  # the whole run, one per repetition
    handwritten_samples: list[float] = field(default_factory=list)
    run_end_samples: list[float] = field(default_factory=list)  # the run's end: statistics, summary, commit
    load_ceilings: LoadCeilings | None = None  # bench/ceilings.py
    output_ceiling: Ceiling | None = None

    @property
    def ratio(self) -> float | None:
        return _median_ratio(self.run_samples, self.handwritten_samples)

    def ceilings(self, matching: float | None) -> dict | None:
        """The least a load and a run of these rows can take here (bench/ceilings.py)."""
        if self.load_ceilings is None:
            return None
        out: dict = {}
        for name, c in (("copy", self.load_ceilings.copy), ("copy_both_cores", self.load_ceilings.copy_both_cores),
                        ("typed_both_cores", self.load_ceilings.typed_both_cores)):
            out |= ({f"{name}_s": round(c.seconds, 3), f"{name}_rows": c.rows, f"{name}_rows_per_s": _rate(c.rows, c.seconds)}
                    if c is not None else {f"{name}_s": None, f"{name}_rows": None, f"{name}_rows_per_s": None})
        if self.output_ceiling is not None and matching is not None:
            floor = matching + self.output_ceiling.seconds
            out |= {"output_s": round(self.output_ceiling.seconds, 3), "output_rows": self.output_ceiling.rows,
                    "run_floor_s": round(floor, 3), "run_ceiling_rows_per_s": _rate(self.rows_loaded, floor)}
        return out

    def _sum(self, name: str) -> float:
        return sum(getattr(m, name) or 0.0 for m in self.methodologies)

    @property
    def rows_loaded(self) -> int:
        return sum(m.rows_loaded for m in self.methodologies)

    @property
    def sampled(self) -> bool:
        return any(m.row_by_row_sample_rows < m.rows_loaded for m in self.methodologies)

    @property
    def row_by_row_label(self) -> str:
        k = sum(m.row_by_row_sample_rows for m in self.methodologies)
        return f"extrapolated from a sample of {k} rows" if self.sampled else f"measured on all {k} rows"

    @property
    def totals_identical(self) -> bool | None:
        return None if self.matching_only else all(m.identical for m in self.methodologies)

    def to_json(self) -> dict:
        data = self._measurements()
        return {**data, "targets": judge(data)}

    def _measurements(self) -> dict:
        ingest, row_by_row = self._sum("ingest_s"), self._sum("row_by_row_s")
        handwritten = statistics.median(self.handwritten_samples) if self.handwritten_samples else 0.0
        matching = [m.matching_s for m in self.methodologies if m.matching_s is not None]
        n = self.rows_loaded
        return {
            "rows": self.rows,
            "seed": self.seed,
            "dataset": self.dataset,
            "run_id": self.run_id,
            "kept": self.kept,
            "server_version": self.server_version,
            "rows_loaded": n,
            "rows_rejected": sum(m.rows_rejected for m in self.methodologies),
            "ingest_s": round(ingest, 3),
            "ingest_rows_per_s": _rate(self.rows, ingest),
            "compile_s": round(self._sum("compile_s"), 4),
            "run_s": round(self.run_s, 3),
            "run_rows_per_s": _rate(n, self.run_s),
            "run_end_s": round(statistics.median(self.run_end_samples), 3) if self.run_end_samples else None,
            "report_s": round(self.report_s, 3),
            "handwritten_s": round(handwritten, 3),
            "ratio_vs_handwritten": None if self.ratio is None else round(self.ratio, 3),
            "repeat": len(self.run_samples),
            "samples_s": {"run": [round(x, 3) for x in self.run_samples],
                          "handwritten": [round(x, 3) for x in self.handwritten_samples]},
            "row_by_row_s": round(row_by_row, 3),
            "row_by_row": None if self.matching_only else self.row_by_row_label,
            "speedup_vs_row_by_row": round(row_by_row / self.run_s, 1) if self.run_s else None,
            "matching_s": round(sum(matching), 3) if matching else None,
            "matching_rows_per_s": _rate(n, sum(matching)) if matching else None,
            "peak_rss_mb": self.peak_rss_mb,
            "settle_s": self.settle_s,
            "vacuum_s": None if self.vacuum_s is None else round(self.vacuum_s, 3),
            "ceilings": self.ceilings(sum(matching) if matching else None),
            "total_co2e_kg": str(sum((m.ccf_total for m in self.methodologies), Decimal(0))),
            "totals_identical": self.totals_identical,
            "methodologies": [
                {
                    **{k: v for k, v in asdict(m).items()
                       if not k.endswith(("_total", "_counts", "_samples")) and k != "repeats_identical"},
                    "samples_s": {"run": [round(x, 3) for x in m.run_samples],
                                  "handwritten": [round(x, 3) for x in m.handwritten_samples]},
                    "run_rows_per_s": _rate(m.rows_loaded, m.run_s),
                    "matching_rows_per_s": _rate(m.rows_loaded, m.matching_s) if m.matching_s else None,
                    "ratio_vs_handwritten": None if m.ratio is None else round(m.ratio, 3),
                    "row_by_row_s": round(m.row_by_row_s, 3),
                    "co2e_kg": {
                        "ccf": str(m.ccf_total), "handwritten": str(m.handwritten_total),
                        "ccf_on_sample": str(m.ccf_sample_total), "row_by_row_on_sample": str(m.row_by_row_sample_total),
                    },
                    "excluded_unmatched": {"ccf": list(m.ccf_counts), "handwritten": list(m.handwritten_counts)},
                    "identical": None if self.matching_only else m.identical,
                }
                for m in self.methodologies
            ],
        }


def _median_ratio(runs: list[float], handwritten: list[float]) -> float | None:
    """ccf / hand-written: the median of the repetitions' ratios, each pair timed back to back."""
    pairs = list(zip(runs, handwritten))
    return statistics.median(r / h for r, h in pairs) if pairs and all(h for _, h in pairs) else None


def _rate(rows: int, seconds: float | None) -> int | None:
    return int(rows / seconds) if seconds else None


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def run_bench(
    conn: psycopg.Connection, lib: Library, rows: int, seed: int = 0, sample: int = DEFAULT_SAMPLE, keep: bool = False,
    say: Callable[[str], None] = lambda _: None, explain: Path | None = None, matching_only: bool = False,
    repeat: int = 1, connect_again: Callable[[], psycopg.Connection] | None = None,
) -> BenchReport:
    """Generate, load, compile, match, run, report, and the two baselines; see the module docstring.
    ``connect_again`` opens a second connection to the same database (the ceilings' second core;
    default: ``database.connect()``, i.e. CCF_DATABASE_URL or the embedded server)."""
    from ccf.engine import api
    from ccf.engine.database import connect

    connect_again = connect_again or connect
    from ccf.engine.load import activity_table

    if rows < len(SCENARIOS):
        raise ValueError(f"--rows must be at least {len(SCENARIOS)}")
    if repeat < 1:
        raise ValueError("--repeat must be at least 1")
    ex = Executor(conn)
    methodologies = api.resolve(lib, [s.ref for s in SCENARIOS])
    dataset = f"bench-{rows}-{seed}-{uuid.uuid4().hex[:8]}"
    report = BenchReport(rows, seed, dataset, None, keep, [], matching_only=matching_only)
    report.server_version = str(conn.info.server_version)

    with tempfile.TemporaryDirectory(prefix="ccf-bench-") as folder:
        say(f"generating {rows} rows (seed {seed})")
        files = generate(Path(folder), rows, seed, api.demo_dir(), _naics_codes(ex))
        conn.commit()
        for scenario, path, n in files:
            say(f"loading {n} {scenario.activity_type} rows")
            b = MethodologyBench(scenario.ref, scenario.activity_type, n)
            t = time.perf_counter()
            (load,) = api.load_files(conn, dataset, scenario.activity_type, [path], lib)
            b.ingest_s = time.perf_counter() - t
            b.rows_loaded, b.rows_rejected = load.rows_loaded, load.rows_rejected
            report.methodologies.append(b)
        report.peak_rss_mb["after_ingest"] = _peak_rss_mb()
        say("ceilings: the same files COPYed into text columns (one stream, two), and typed (two)")
        report.load_ceilings = load_ceilings(
            conn, connect_again, [(lib.activity_types[scenario.activity_type], path) for scenario, path, _ in files])
    say("vacuum of the loaded activity tables")
    report.vacuum_s = _vacuum(conn, [activity_table(lib.activity_types[s.activity_type]) for s in SCENARIOS])

    compiled: list[CompiledMethodology] = []
    for b, m in zip(report.methodologies, methodologies):
        t = time.perf_counter()
        compiled.append(compile_methodology(m))
        b.compile_s = time.perf_counter() - t

    say("matching")
    for b, m, c in zip(report.methodologies, methodologies, compiled):
        b.matching_s = _time_matching(conn, ex, m, c, dataset)
    if matching_only:
        report.peak_rss_mb["peak"] = _peak_rss_mb()
        if not keep:
            _cleanup(conn, ex, dataset, None)
        return report

    say("running ccf")
    report.settle_s["run"] = _settle(conn, ex)
    outcome = _timed_run(conn, dataset, methodologies, report)
    report.run_id = outcome.run_id
    for b, o in zip(report.methodologies, outcome.methodologies):
        b.ccf_total = o.co2e_kg
        b.ccf_counts = (o.reconciliation.rows_excluded, o.reconciliation.rows_unmatched)
    report.peak_rss_mb["after_run"] = _peak_rss_mb()

    say("report")
    report.report_s = _time_report(conn, outcome.run_id)
    say("ceiling: the run's output rows copied")
    report.output_ceiling = output_ceiling(conn, outcome.run_id)

    say("hand-written SQL")
    report.settle_s["handwritten"] = _settle(conn, ex)
    _handwritten(conn, ex, dataset, methodologies, report)

    for i in range(2, repeat + 1):
        say(f"repetition {i} of {repeat}: ccf, then hand-written SQL (rolled back)")
        _settle(conn, ex)
        again = _timed_run(conn, dataset, methodologies, report, keep=False)
        for b, o in zip(report.methodologies, again.methodologies):
            same = (o.co2e_kg, (o.reconciliation.rows_excluded, o.reconciliation.rows_unmatched)) == (b.ccf_total, b.ccf_counts)
            b.repeats_identical = b.repeats_identical and same
        _settle(conn, ex)
        _handwritten(conn, ex, dataset, methodologies, report)
    for b in report.methodologies:
        b.settle_medians()
    report.run_s = statistics.median(report.run_samples)

    say("row by row")
    _row_by_row(conn, ex, dataset, methodologies, report, sample)
    report.peak_rss_mb["peak"] = _peak_rss_mb()

    if explain is not None:
        say(f"EXPLAIN (ANALYZE, BUFFERS) of each statement -> {explain}")
        explain.write_text(explain_plans(conn, ex, dataset, methodologies, compiled, outcome.run_id), "utf-8")

    if not keep:
        say("cleaning up")
        _cleanup(conn, ex, dataset, outcome.run_id)
    return report


def _timed_run(conn: psycopg.Connection, dataset: str, methodologies: list[ir.Methodology], report: BenchReport,
               keep: bool = True):
    """``engine.run.run`` over the methodologies, timed as a whole, per methodology and for the
    run's end (the end-of-run statistics, summary and commit: ``run_end_s``), from its progress
    callback, which marks the start of each methodology and of the end. ``keep=False``: the run
    is rolled back (its ``inspect`` hook; the run executes on a connection of its own)."""
    from ccf.engine.run import run

    marks: list[float] = []
    t = time.perf_counter()
    outcome = run(conn, dataset, methodologies, lambda ref: marks.append(time.perf_counter()),
                  inspect=None if keep else lambda ex, report: None)
    elapsed = time.perf_counter() - t
    report.run_samples.append(elapsed)
    report.run_end_samples.append(t + elapsed - marks[-1])
    for b, start, end in zip(report.methodologies, marks, marks[1:]):
        b.run_samples.append(end - start)
    return outcome


def _vacuum(conn: psycopg.Connection, tables: list[exp.Table]) -> float:
    """VACUUM the tables and return the seconds it took. After the load, the activity tables
    (``vacuum_s``, not counted as ingest: it is what autovacuum does in the background after a
    load), so that ccf's run, which reads the fresh rows first (and sets their hint bits), and
    the hand-written SQL after it read rows in the same state; before each timed phase, the
    result tables (_settle). Precautions: see docs/performance.md for what they changed."""
    conn.commit()
    conn.autocommit = True  # VACUUM cannot run inside a transaction block
    try:
        t = time.perf_counter()
        for tbl in tables:
            Executor(conn).execute(exp.Command(this="VACUUM", expression=exp.Literal.string(render(tbl))))
        return time.perf_counter() - t
    finally:
        conn.autocommit = False


RESULT_TABLES = ("result", "excluded", "unmatched")  # what a timed phase writes
SETTLE_TIMEOUT_S = 60.0


def _settle(conn: psycopg.Connection, ex: Executor) -> float:
    """Before each timed phase (a ccf run, the hand-written SQL): VACUUM the result tables, then
    wait (at most SETTLE_TIMEOUT_S) until no autovacuum worker is busy in this database; return
    the seconds both took. Each phase writes ≈ 1.7M result rows at 1M activity rows, and the
    repetitions and the hand-written SQL roll theirs back. Left to autovacuum, their vacuum was
    still running at the next phase boundary (waits of 42 s and 23 s in one invocation, whose
    ratio was 1.42), so it most likely ran during timed phases too; vacuumed here, nothing is
    left for autovacuum to start during a timed phase (docs/performance.md)."""
    t = time.perf_counter()
    _vacuum(conn, [table(name) for name in RESULT_TABLES])
    busy = (
        exp.select(exp.Count(this=exp.Star()))
        .from_(exp.Table(this=ident("pg_stat_activity")))
        .where(exp.and_(
            eq(column("backend_type"), text("autovacuum worker")),
            exp.EQ(this=column("datname"), expression=exp.Anonymous(this="current_database")),
        ))
    )
    waited = time.perf_counter()
    while time.perf_counter() - waited < SETTLE_TIMEOUT_S:
        (n,) = ex.one(busy)  # type: ignore[misc]
        conn.rollback()  # a new transaction sees the activity as it is now, not a cached snapshot
        if n == 0:
            break
        time.sleep(0.5)
    return round(time.perf_counter() - t, 2)


def _naics_codes(ex: Executor) -> list[str]:
    """Every NAICS code the installed USEEIO set has (keys for the spend rows)."""
    naics = exp.JSONExtractScalar(this=column("attributes", "f"), expression=text("naics"))
    rows = ex.rows(
        exp.select(naics).distinct()
        .from_(table("factor", alias="f"))
        .join(table("factor_set", alias="s"), on=exp.EQ(this=column("factor_set_id", "s"), expression=column("factor_set_id", "f")))
        .where(exp.and_(eq(column("set_id", "s"), text("useeio-1.3")), exp.Not(this=exp.Is(this=naics, expression=exp.Null())))),
    )
    return [r[0] for r in rows]


def _factor_set(ex: Executor, set_id: str) -> tuple[int, str | None, int | None]:
    row = ex.one(
        exp.select(column("factor_set_id"), column("region"), column("factor_year"))
        .from_(table("factor_set")).where(is_param("set_id")),
        {"set_id": set_id},
    )
    if row is None:
        raise ValueError(f"factor set {set_id} is not installed")
    return row[0], row[1], row[2]


def _bench_run(ex: Executor, dataset: str, what: str) -> int:
    """A run row for a baseline's result rows (its transaction is rolled back afterwards)."""
    return ex.one(
        exp.insert(
            exp.select(param("dataset"), param("engine_version"), param("started_at")),
            exp.Schema(this=table("run"), expressions=[ident("dataset"), ident("engine_version"), ident("started_at")]),
            returning="run_id",
        ),
        {"dataset": dataset, "engine_version": f"{ENGINE_VERSION} bench {what}", "started_at": datetime.now(timezone.utc)},
    )[0]  # type: ignore[index]


def matching_query(c: CompiledMethodology) -> exp.Select | None:
    """The factor-matching part of the evaluate statement: its CTEs up to ``joined`` (unit
    conversion, distinct keys, ranked and best factors, the join), counted. None if the
    statement has no ``joined`` step."""
    query = c.evaluate.expression
    with_ = query.args.get("with_") if isinstance(query, exp.Select) else None
    if with_ is None:
        return None
    ctes = []
    for cte in with_.expressions:
        ctes.append(cte.copy())
        if cte.alias_or_name == "joined":
            select = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table("joined"))
            select.set("with_", exp.With(expressions=ctes))
            return select
    return None


def _time_matching(conn: psycopg.Connection, ex: Executor, m: ir.Methodology, c: CompiledMethodology, dataset: str) -> float | None:
    query = matching_query(c)
    if query is None:
        return None
    factor_set_id, _, _ = _factor_set(ex, m.factor_set)
    params = {"dataset": dataset, "loads": dataset_loads(ex, dataset), "factor_set_id": factor_set_id, "run_id": 0}
    conn.commit()
    t = time.perf_counter()
    ex.one(query, params)
    elapsed = time.perf_counter() - t
    conn.rollback()
    return elapsed


def _time_report(conn: psycopg.Connection, run_id: int) -> float:
    """The inventory report of the run, consolidated over the sample company's structure (the
    generated rows keep its entities); the entity set is loaded once, like 'ccf entities load'."""
    from ccf.engine import api
    from ccf.engine.inventory.entities import load_entity_set
    from ccf.engine.inventory.inventory import build_inventory
    from ccf.engine.inventory.presentation import report_document

    load_entity_set(conn, ENTITY_SET, api.demo_dir() / "entities" / f"{ENTITY_SET}.csv")
    conn.commit()
    t = time.perf_counter()
    report_document(build_inventory(conn, [run_id], "operational-control", ENTITY_SET))
    elapsed = time.perf_counter() - t
    conn.rollback()
    return elapsed


def _sum_co2e(ex: Executor, run_id: int, methodology_id: str, ids: list[str] | None = None) -> Decimal:
    where = exp.and_(is_param("run_id"), is_param("methodology_id"))
    if ids is not None:
        where = exp.and_(where, exp.EQ(this=column("activity_id"), expression=exp.Any(this=exp.Paren(this=param("ids")))))
    row = ex.one(
        exp.select(exp.Coalesce(this=exp.Sum(this=column("co2e_kg")), expressions=[exp.Literal.number(0)]))
        .from_(table("result")).where(where),
        {"run_id": run_id, "methodology_id": methodology_id, "ids": ids},
    )
    return Decimal(row[0]) if row else Decimal(0)  # type: ignore[index]


def handwritten_statements(ref: str) -> list[exp.Expression]:
    return parse(resources.bench_sql(ref).read_text("utf-8"))


def _handwritten(conn: psycopg.Connection, ex: Executor, dataset: str, methodologies: list[ir.Methodology],
                 report: BenchReport) -> None:
    """One timed execution of the hand-written SQL of every methodology, rolled back. The first
    one's totals and counts are compared with ccf's; a repetition's must equal the first's."""
    conn.commit()
    run_id = _bench_run(ex, dataset, "hand-written SQL")
    whole = 0.0
    for b, m in zip(report.methodologies, methodologies):
        factor_set_id, _, _ = _factor_set(ex, m.factor_set)
        params = {"run_id": run_id, "dataset": dataset, "factor_set_id": factor_set_id}
        statements = handwritten_statements(m.ref)
        t = time.perf_counter()
        counts = [ex.execute(tree, params).rowcount for tree in statements]
        elapsed = time.perf_counter() - t
        whole += elapsed
        total, got = _sum_co2e(ex, run_id, m.id), (counts[1], counts[2])
        if not b.handwritten_samples:
            b.handwritten_total, b.handwritten_counts = total, got
        else:
            b.repeats_identical = b.repeats_identical and (total, got) == (b.handwritten_total, b.handwritten_counts)
        b.handwritten_samples.append(elapsed)
    report.handwritten_samples.append(whole)
    conn.rollback()


def _row_by_row(conn: psycopg.Connection, ex: Executor, dataset: str, methodologies: list[ir.Methodology],
                report: BenchReport, sample: int) -> None:
    from ccf.engine.load import activity_table

    conn.commit()
    run_id = _bench_run(ex, dataset, "row by row")
    loaded = report.rows_loaded
    for b, m in zip(report.methodologies, methodologies):
        k = min(b.rows_loaded, max(1, sample * b.rows_loaded // max(loaded, 1)))
        ids = [r[0] for r in ex.rows(
            exp.select(column("activity_id")).from_(activity_table(m.activity)).where(is_param("dataset"))
            .order_by(column("activity_id")).limit(k),
            {"dataset": dataset},
        )]
        factor_set_id, region, year = _factor_set(ex, m.factor_set)
        gwp = {g: v for g, v in ex.rows(
            exp.select(column("gas"), column("value")).from_(table("gwp")).where(is_param("gwp_set")), {"gwp_set": m.gwp},
        )}
        resolver = QueryPerRowResolver(ex, factor_set_id, region, year)
        t = time.perf_counter()
        b.row_by_row_sample_total = evaluate_one_by_one(ex, m, dataset, ids, resolver, gwp, run_id)
        b.row_by_row_sample_s = time.perf_counter() - t
        b.row_by_row_sample_rows = len(ids)
        assert report.run_id is not None
        b.ccf_sample_total = _sum_co2e(ex, report.run_id, m.id, ids)
    conn.rollback()


def explain_plans(conn: psycopg.Connection, ex: Executor, dataset: str, methodologies: list[ir.Methodology],
                  compiled: list[CompiledMethodology], report_run: int | None = None) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of every statement of a run, of the matching part and of the
    hand-written SQL, on the benchmark's data, and of the report's queries over ``report_run``,
    as Markdown (executed again, then rolled back)."""
    from ccf.engine.inventory.inventory import explain_report
    from ccf.engine.load import ensure_activity_table

    out = [f"# ccf bench: EXPLAIN (ANALYZE, BUFFERS), dataset {dataset}", ""]

    def block(title: str, tree: exp.Expression, params: dict) -> None:
        out.extend([f"### {title}", "", "```", *ex.explain_analyze(tree, params), "```", ""])

    conn.commit()
    run_id = _bench_run(ex, dataset, "explain")
    for m, c in zip(methodologies, compiled):
        ensure_activity_table(ex, m.activity)
        factor_set_id, _, _ = _factor_set(ex, m.factor_set)
        params = {"run_id": run_id, "dataset": dataset, "loads": dataset_loads(ex, dataset), "factor_set_id": factor_set_id}
        out.extend([f"## {m.ref}", ""])
        query = matching_query(c)
        if query is not None:
            block("matching (the evaluate statement's CTEs up to `joined`, counted)", query, params)
        for name, tree in c.statements():
            if name == "cleanup":
                ex.execute(tree, params)
            else:
                block(f"ccf: {name}", tree, params)
        for i, tree in enumerate(handwritten_statements(m.ref)):
            block(f"hand-written: {('results', 'excluded', 'unmatched')[i]}", tree, params)
    conn.rollback()
    if report_run is not None:
        out.extend([f"## report of run {report_run} (operational control, entity set {ENTITY_SET})", ""])
        for title, plan in explain_report(conn, [report_run], "operational-control", ENTITY_SET):
            out.extend([f"### {title}", "", "```", *plan, "```", ""])
    return "\n".join(out)


def _cleanup(conn: psycopg.Connection, ex: Executor, dataset: str, run_id: int | None) -> None:
    """Remove the benchmark's dataset and run (they exist only to be measured)."""
    for name in ("result", "excluded", "unmatched", "run_methodology", "run") if run_id is not None else ():
        ex.execute(exp.delete(table(name), where=is_param("run_id")), {"run_id": run_id})
    for scenario in SCENARIOS:
        ex.execute(exp.delete(table(f"activity_{scenario.activity_type}"), where=is_param("dataset")), {"dataset": dataset})
    for name in ("rejected", "activity_load"):
        ex.execute(exp.delete(table(name), where=is_param("dataset")), {"dataset": dataset})
    conn.commit()


__all__ = ["BenchReport", "MethodologyBench", "Scenario", "SCENARIOS", "matching_query", "run_bench"]
