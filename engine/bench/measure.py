"""``ccf bench``'s steps, timed: generate and load the data, compile, match, run, report, the
ceilings, the hand-written SQL and the row-by-row baseline, in that order (the package's
docstring, engine/bench/__init__.py), filling in a ``BenchReport`` (bench/model.py). The SQL of
its own that it runs is in bench/queries.py; what it prints, in bench/presentation.py."""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.library import Library
from ccf.engine.bench import queries as q
from ccf.engine.bench.ceilings import durable_copy_ceiling, load_ceilings, output_ceiling
from ccf.engine.bench.dataset import SCENARIOS, generate
from ccf.engine.bench.model import BenchReport, MethodologyBench
from ccf.engine.bench.row_by_row import QueryPerRowResolver, evaluate_one_by_one
from ccf.engine.compile import CompiledMethodology, compile_methodology
from ccf.engine.factors.store import gwp_values
from ccf.engine.load import activity_table, dataset_loads
from ccf.engine.options import CLICKHOUSE, POSTGRESQL
from ccf.engine.run import run
from ccf.engine.run_partition import attach_partitions, into_partition, open_partitions
from ccf.engine.sql import Executor, table

DEFAULT_SAMPLE = 2000
ENTITY_SET = "northwind-2024"  # the sample company's structure (methodologies/sample_data/northwind/entities)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def run_bench(
    conn: psycopg.Connection, lib: Library, rows: int, seed: int = 0, sample: int = DEFAULT_SAMPLE, keep: bool = False,
    say: Callable[[str], None] = lambda _: None, explain: Path | None = None, matching_only: bool = False,
    repeat: int = 1, connect_again: Callable[[], psycopg.Connection] | None = None, engine: str = POSTGRESQL,
) -> BenchReport:
    """Generate, load, compile, match, run, report, and the two baselines; see the package's docstring.
    ``connect_again`` opens a second connection to the same database (the ceilings' second core;
    default: ``database.connect()``, i.e. CCF_DATABASE_URL or the embedded server).

    With ``engine`` ClickHouse, the run, its repetitions, the report and the run's ceilings are
    ClickHouse's (bench/clickhouse.py); the data are loaded into PostgreSQL as always, and run
    there first, untimed: ccf's totals and counts on ClickHouse must equal that run's."""
    from ccf.engine import api
    from ccf.engine.database import connect

    connect_again = connect_again or connect
    if rows < len(SCENARIOS):
        raise ValueError(f"--rows must be at least {len(SCENARIOS)}")
    if repeat < 1:
        raise ValueError("--repeat must be at least 1")
    ex = Executor(conn)
    methodologies = api.resolve(lib, [s.ref for s in SCENARIOS])
    dataset = f"bench-{rows}-{seed}-{uuid.uuid4().hex[:8]}"
    report = BenchReport(rows, seed, dataset, None, keep, [], matching_only=matching_only, engine=engine)
    report.server_version = str(conn.info.server_version)

    with tempfile.TemporaryDirectory(prefix="ccf-bench-") as folder:
        say(f"generating {rows} rows (seed {seed})")
        files = generate(Path(folder), rows, seed, api.demo_dir(), q.naics_codes(ex))
        conn.commit()
        for scenario, path, n in files:
            say(f"loading {n} {scenario.activity_type} rows")
            b = MethodologyBench(scenario.ref, scenario.activity_type, n)
            t = time.perf_counter()
            (load,) = api.load_files(conn, dataset, scenario.activity_type, [path], lib)
            b.ingest_s = time.perf_counter() - t
            b.rows_loaded, b.rows_rejected = load.rows_loaded, load.rows_rejected
            report.methodologies.append(b)
        report.peak_rss_mb["after_ingest"] = peak_rss_mb()
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
        report.peak_rss_mb["peak"] = peak_rss_mb()
        if not keep:
            q.cleanup(ex, dataset, None)
            conn.commit()
        return report

    if engine != POSTGRESQL:
        say("running ccf on PostgreSQL (the totals ClickHouse's must equal; timed once, for comparison)")
        _settle(conn, ex)
        t = time.perf_counter()
        reference = run(conn, dataset, methodologies, other_edition=True)
        report.postgresql_run_s = time.perf_counter() - t
        report.postgresql_run_id = reference.run_id
        for b, o in zip(report.methodologies, reference.methodologies):
            b.postgresql_total = o.co2e_kg
            b.postgresql_counts = (o.reconciliation.rows_excluded, o.reconciliation.rows_unmatched)
    say(f"running ccf on {engine}")
    report.settle_s["run"] = _settle(conn, ex)
    outcome = _timed_run(conn, dataset, methodologies, report, engine=engine)
    report.run_id = outcome.run_id
    for b, o in zip(report.methodologies, outcome.methodologies):
        b.ccf_total = o.co2e_kg
        b.ccf_counts = (o.reconciliation.rows_excluded, o.reconciliation.rows_unmatched)
    report.peak_rss_mb["after_run"] = peak_rss_mb()

    say("report")
    report.report_s = _time_report(conn, outcome.run_id)
    if engine == CLICKHOUSE:
        from ccf.engine.bench import clickhouse as on_clickhouse
        from ccf.engine.clickhouse.catalogue import opened

        say("ceilings on ClickHouse: the run's output rows copied; its activity rows copied into new MergeTree tables")
        ch, database = opened(ex)
        report.output_ceiling = on_clickhouse.output_ceiling(conn, ch, database, outcome.run_id)
        report.durable_copy_ceiling = on_clickhouse.durable_copy_ceiling(
            conn, ch, database, outcome.run_id, [lib.activity_types[s.activity_type] for s in SCENARIOS], dataset)
    else:
        say("ceiling: the run's output rows copied")
        report.output_ceiling = output_ceiling(conn, outcome.run_id)
        say("ceiling: the activity rows copied into new logged tables")
        report.durable_copy_ceiling = durable_copy_ceiling(
            conn, [activity_table(lib.activity_types[s.activity_type]) for s in SCENARIOS], dataset)

    say("hand-written SQL")
    report.settle_s["handwritten"] = _settle(conn, ex)
    _handwritten(conn, ex, dataset, methodologies, report)

    for i in range(2, repeat + 1):
        say(f"repetition {i} of {repeat}: ccf, then hand-written SQL (rolled back)")
        _settle(conn, ex)
        again = _timed_run(conn, dataset, methodologies, report, keep=False, engine=engine)
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
    report.peak_rss_mb["peak"] = peak_rss_mb()

    if explain is not None:
        say(f"EXPLAIN (ANALYZE, BUFFERS) of each statement -> {explain}")
        explain.write_text(explain_plans(conn, ex, dataset, methodologies, compiled, outcome.run_id), "utf-8")

    if not keep:
        say("cleaning up")
        if engine == CLICKHOUSE:
            from ccf.engine.clickhouse.catalogue import opened
            from ccf.engine.clickhouse.tables import drop_run

            drop_run(*opened(ex), outcome.run_id)
            q.cleanup(ex, dataset, report.postgresql_run_id)
        q.cleanup(ex, dataset, outcome.run_id)
        conn.commit()
    return report


def _timed_run(conn: psycopg.Connection, dataset: str, methodologies: list[ir.Methodology], report: BenchReport,
               keep: bool = True, engine: str = POSTGRESQL):
    """``engine.run.run`` over the methodologies, timed as a whole, per methodology and for the
    run's end (the end-of-run statistics, summary and commit: ``run_end_s``), from its progress
    callback, which marks the start of each methodology and of the end. ``keep=False``: the run
    is rolled back (its ``inspect`` hook; the run executes on a connection of its own; on
    ClickHouse its partition dropped). ``engine``: where it runs (api.run_on)."""
    marks: list[float] = []
    t = time.perf_counter()
    # the synthetic data are for 2024, like the demo's: versions pinning the 2025 edition run as
    # a recorded fallback (engine/factors/editions.py), so the bench measures the same work
    mark = lambda ref: marks.append(time.perf_counter())  # noqa: E731
    if engine == CLICKHOUSE:
        from ccf.engine.clickhouse.run import run_clickhouse
        from ccf.engine.clickhouse.session import open_clickhouse

        outcome = run_clickhouse(conn, open_clickhouse(), dataset, methodologies, mark,
                                 inspect=None if keep else lambda ex, report: None, other_edition=True)
    else:
        outcome = run(conn, dataset, methodologies, mark, inspect=None if keep else lambda ex, report: None, other_edition=True)
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
            Executor(conn).execute(q.vacuum(tbl))
        return time.perf_counter() - t
    finally:
        conn.autocommit = False


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
    _vacuum(conn, [table(name) for name in q.RESULT_TABLES])
    busy = q.autovacuum_workers()
    waited = time.perf_counter()
    while time.perf_counter() - waited < SETTLE_TIMEOUT_S:
        (n,) = ex.one(busy)  # type: ignore[misc]
        conn.rollback()  # a new transaction sees the activity as it is now, not a cached snapshot
        if n == 0:
            break
        time.sleep(0.5)
    return round(time.perf_counter() - t, 2)


def _time_matching(conn: psycopg.Connection, ex: Executor, m: ir.Methodology, c: CompiledMethodology, dataset: str) -> float | None:
    """The matching part of the compiled evaluate statement alone (q.matching_query), timed, rolled back."""
    query = q.matching_query(c)
    if query is None:
        return None
    factor_set_id, _, _ = q.factor_set(ex, m.factor_set)
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


def _handwritten(conn: psycopg.Connection, ex: Executor, dataset: str, methodologies: list[ir.Methodology],
                 report: BenchReport) -> None:
    """One timed execution of the hand-written SQL of every methodology, rolled back. The first
    one's totals and counts are compared with ccf's; a repetition's must equal the first's."""
    conn.commit()
    whole = 0.0
    for b, m in zip(report.methodologies, methodologies):
        # a run of its own per methodology, so that its totals are read through ccf.result once its
        # partitions are attached; the expert writes into that layout as a run does (run_partition):
        # the partitions made, filled and attached are timed with the INSERTs
        run_id = q.bench_run(ex, dataset, "hand-written SQL")
        factor_set_id, _, _ = q.factor_set(ex, m.factor_set)
        params = {"run_id": run_id, "dataset": dataset, "factor_set_id": factor_set_id}
        statements = q.handwritten_statements(m.ref)
        t = time.perf_counter()
        partitions = open_partitions(ex, run_id)
        counts = [ex.execute(into_partition(tree, partitions), params).rowcount for tree in statements]
        attach_partitions(ex, run_id)
        elapsed = time.perf_counter() - t
        whole += elapsed
        total, got = q.sum_co2e(ex, run_id, m.id), (counts[1], counts[2])
        if not b.handwritten_samples:
            b.handwritten_total, b.handwritten_counts = total, got
        else:
            b.repeats_identical = b.repeats_identical and (total, got) == (b.handwritten_total, b.handwritten_counts)
        b.handwritten_samples.append(elapsed)
    report.handwritten_samples.append(whole)
    conn.rollback()


def _row_by_row(conn: psycopg.Connection, ex: Executor, dataset: str, methodologies: list[ir.Methodology],
                report: BenchReport, sample: int) -> None:
    conn.commit()
    run_id = q.bench_run(ex, dataset, "row by row")
    results = open_partitions(ex, run_id)["result_row"]
    loaded = report.rows_loaded
    for b, m in zip(report.methodologies, methodologies):
        k = min(b.rows_loaded, max(1, sample * b.rows_loaded // max(loaded, 1)))
        ids = q.first_activity_ids(ex, m, dataset, k)
        factor_set_id, region, year = q.factor_set(ex, m.factor_set)
        gwp = gwp_values(ex, m.gwp)
        resolver = QueryPerRowResolver(ex, factor_set_id, region, year)
        t = time.perf_counter()
        b.row_by_row_sample_total = evaluate_one_by_one(ex, m, dataset, ids, resolver, gwp, run_id, results)
        b.row_by_row_sample_s = time.perf_counter() - t
        b.row_by_row_sample_rows = len(ids)
        assert report.run_id is not None
        if report.engine == CLICKHOUSE:
            from ccf.engine.bench.clickhouse import sum_co2e
            from ccf.engine.clickhouse.catalogue import opened

            b.ccf_sample_total = sum_co2e(*opened(ex), report.run_id, m.id, ids)
        else:
            b.ccf_sample_total = q.sum_co2e(ex, report.run_id, m.id, ids)
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
    run_id = q.bench_run(ex, dataset, "explain")
    partitions = open_partitions(ex, run_id)  # where a run's statements write (run_partition)
    for m, c in zip(methodologies, compiled):
        ensure_activity_table(ex, m.activity)
        factor_set_id, _, _ = q.factor_set(ex, m.factor_set)
        params = {"run_id": run_id, "dataset": dataset, "loads": dataset_loads(ex, dataset), "factor_set_id": factor_set_id}
        out.extend([f"## {m.ref}", ""])
        query = q.matching_query(c)
        if query is not None:
            block("matching (the evaluate statement's CTEs up to `joined`, counted)", query, params)
        for name, tree in c.statements():
            if name == "cleanup":
                ex.execute(tree, params)
            else:
                block(f"ccf: {name}", into_partition(tree, partitions), params)
        for i, tree in enumerate(q.handwritten_statements(m.ref)):
            block(f"hand-written: {('results', 'excluded', 'unmatched')[i]}", into_partition(tree, partitions), params)
    conn.rollback()
    if report_run is not None:
        out.extend([f"## report of run {report_run} (operational control, entity set {ENTITY_SET})", ""])
        for title, plan in explain_report(conn, [report_run], "operational-control", ENTITY_SET):
            out.extend([f"### {title}", "", "```", *plan, "```", ""])
    return "\n".join(out)
