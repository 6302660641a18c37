"""What ``ccf bench`` prints: the report as one JSON object (the keys docs/performance.md
describes, with the targets judged, bench/targets.py) and as tables for the terminal, drawn from
that same object so the two never disagree."""

from __future__ import annotations

import statistics
from dataclasses import asdict
from decimal import Decimal

from ccf.engine.bench.model import BenchReport
from ccf.engine.bench.targets import judge
from ccf.engine.options import CLICKHOUSE


def report_json(report: BenchReport) -> dict:
    """The measurements, rounded for reading, and the targets judged against them."""
    data = _measurements(report)
    return {**data, "targets": judge(data)}


def _ceilings(report: BenchReport, matching: float | None) -> dict | None:
    """The least a load and a run of these rows can take here (bench/ceilings.py)."""
    if report.load_ceilings is None:
        return None
    out: dict = {}
    for name, c in (("copy", report.load_ceilings.copy), ("copy_both_cores", report.load_ceilings.copy_both_cores),
                    ("typed_both_cores", report.load_ceilings.typed_both_cores),
                    ("output", report.output_ceiling), ("durable_copy", report.durable_copy_ceiling)):
        if name in ("output", "durable_copy") and c is None:
            continue  # no run (--matching-only): neither is measured
        out |= ({f"{name}_s": round(c.seconds, 3), f"{name}_rows": c.rows, f"{name}_rows_per_s": _rate(c.rows, c.seconds)}
                if c is not None else {f"{name}_s": None, f"{name}_rows": None, f"{name}_rows_per_s": None})
    if report.durable_copy_ceiling is not None and (matching is not None or report.engine == CLICKHOUSE):
        # ClickHouse's floor: its own durable copy alone (bench/clickhouse.py)
        floor = (matching if report.engine != CLICKHOUSE else 0) + report.durable_copy_ceiling.seconds
        out |= {"run_floor_s": round(floor, 3), "run_ceiling_rows_per_s": _rate(report.rows_loaded, floor)}
    return out


def _ratio(numerator: float, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def _measurements(report: BenchReport) -> dict:
    r = report
    ingest, row_by_row = r.total("ingest_s"), r.total("row_by_row_s")
    handwritten = statistics.median(r.handwritten_samples) if r.handwritten_samples else 0.0
    matching = [m.matching_s for m in r.methodologies if m.matching_s is not None]
    n = r.rows_loaded
    ceilings = _ceilings(r, sum(matching) if matching else None)
    return {
        "rows": r.rows,
        "seed": r.seed,
        "engine": r.engine,
        "postgresql_run_id": r.postgresql_run_id,
        "postgresql_run_s": None if r.postgresql_run_s is None else round(r.postgresql_run_s, 3),
        "dataset": r.dataset,
        "run_id": r.run_id,
        "kept": r.kept,
        "server_version": r.server_version,
        "rows_loaded": n,
        "rows_rejected": sum(m.rows_rejected for m in r.methodologies),
        "ingest_s": round(ingest, 3),
        "ingest_rows_per_s": _rate(r.rows, ingest),
        # the load's time over one COPY stream of the same files (ceilings.copy_s)
        "ingest_copy_ratio": _ratio(ingest, r.load_ceilings.copy.seconds if r.load_ceilings else None),
        "compile_s": round(r.total("compile_s"), 4),
        "run_s": round(r.run_s, 3),
        "run_rows_per_s": _rate(n, r.run_s),
        # the run's time over matching + a durable copy of its activity rows (ceilings.run_floor_s)
        "run_floor_ratio": _ratio(r.run_s, (ceilings or {}).get("run_floor_s")),
        "run_end_s": round(statistics.median(r.run_end_samples), 3) if r.run_end_samples else None,
        "report_s": round(r.report_s, 3),
        "handwritten_s": round(handwritten, 3),
        "ratio_vs_handwritten": None if r.ratio is None else round(r.ratio, 3),
        "repeat": len(r.run_samples),
        "samples_s": {"run": [round(x, 3) for x in r.run_samples],
                      "handwritten": [round(x, 3) for x in r.handwritten_samples]},
        "row_by_row_s": round(row_by_row, 3),
        "row_by_row": None if r.matching_only else r.row_by_row_label,
        "speedup_vs_row_by_row": round(row_by_row / r.run_s, 1) if r.run_s else None,
        "matching_s": round(sum(matching), 3) if matching else None,
        "matching_rows_per_s": _rate(n, sum(matching)) if matching else None,
        "peak_rss_mb": r.peak_rss_mb,
        "settle_s": r.settle_s,
        "vacuum_s": None if r.vacuum_s is None else round(r.vacuum_s, 3),
        "ceilings": ceilings,
        "total_co2e_kg": str(sum((m.ccf_total for m in r.methodologies), Decimal(0))),
        "totals_identical": r.totals_identical,
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
                    "postgresql_run": None if m.postgresql_total is None else str(m.postgresql_total),
                },
                "excluded_unmatched": {"ccf": list(m.ccf_counts), "handwritten": list(m.handwritten_counts)},
                "identical": None if r.matching_only else m.identical,
            }
            for m in r.methodologies
        ],
    }


def _rate(rows: int, seconds: float | None) -> int | None:
    return int(rows / seconds) if seconds else None


def print_table(d: dict) -> None:
    """The JSON object (``report_json``) as the terminal's tables: per methodology, the targets."""
    from rich.console import Console
    from rich.table import Table

    def rate(v: int | None) -> str:
        return "-" if v is None else f"{v:,}"

    def secs(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    t = Table("methodology", "rows", "ingest s", "compile s", "matching s", "run s", "rows/s", "hand-written s",
              "ratio", "row-by-row s*", "identical", title=f"ccf bench: {d['rows']:,} rows, seed {d['seed']}")
    for m in d["methodologies"]:
        t.add_row(m["ref"], f"{m['rows_loaded']:,}", secs(m["ingest_s"]), secs(m["compile_s"]), secs(m["matching_s"]),
                  secs(m["run_s"]), rate(m["run_rows_per_s"]), secs(m["handwritten_s"]), str(m["ratio_vs_handwritten"]),
                  secs(m["row_by_row_s"]), _yes(m["identical"]))
    t.add_row("total", f"{d['rows_loaded']:,}", secs(d["ingest_s"]), secs(d["compile_s"]), secs(d["matching_s"]),
              secs(d["run_s"]), rate(d["run_rows_per_s"]), secs(d["handwritten_s"]), str(d["ratio_vs_handwritten"]),
              secs(d["row_by_row_s"]), _yes(d["totals_identical"]), style="bold")
    c = Console(width=200)
    c.print(t)
    c.print(f"* row by row: {d['row_by_row'] or 'not run'}")
    c.print(f"ingest {rate(d['ingest_rows_per_s'])} rows/s ({d['rows_rejected']:,} rejected); "
            f"run {rate(d['run_rows_per_s'])} rows/s; matching {rate(d['matching_rows_per_s'])} rows/s; "
            f"report {secs(d['report_s'])} s; the run's end (statistics, summary, commit) {secs(d['run_end_s'])} s")
    if d["repeat"] > 1:
        c.print(f"run and hand-written timed {d['repeat']} times, alternating: medians shown; ratio = median of the "
                f"ratios; run s {d['samples_s']['run']}, hand-written s {d['samples_s']['handwritten']}")
    c.print(f"ccf / hand-written = {d['ratio_vs_handwritten']}; ccf is {d['speedup_vs_row_by_row']}× row by row; "
            f"totals identical: {_yes(d['totals_identical'])} (total {d['total_co2e_kg']} kg CO2e)")
    c.print(f"peak memory of this process: {d['peak_rss_mb']['peak']} MB")
    if (ceil := d["ceilings"]) is not None:
        c.print(f"ceilings on this machine: the files COPYed into text columns in one stream {secs(ceil['copy_s'])} s "
                f"({rate(ceil['copy_rows_per_s'])} rows/s; the load took {d['ingest_copy_ratio']}× that), on both cores "
                f"{rate(ceil['copy_both_cores_rows_per_s'])} rows/s; COPYed and typed on both cores "
                f"{rate(ceil['typed_both_cores_rows_per_s'])} rows/s"
                + (f"; matching + the {ceil['durable_copy_rows']:,} activity rows copied into new logged tables "
                   f"{secs(ceil['run_floor_s'])} s (the run took {d['run_floor_ratio']}× that); the run's "
                   f"{ceil['output_rows']:,} output rows copied {secs(ceil['output_s'])} s" if "run_floor_s" in ceil else ""))
    if d["settle_s"]:
        c.print("waited for autovacuum before timing: " + ", ".join(f"{k} {v} s" for k, v in d["settle_s"].items()))
    targets = Table("target", "measured", "met", title="targets (issue 20)",
                    caption="ratios of times measured in this invocation, stated for --rows 1000000 and more (a small "
                            "run measures fixed costs); memory and 10M rows end to end: ccf bench --end-to-end")
    for g in d["targets"]:
        aim = f" (aim {g['aim']:g})" if g["aim"] is not None else ""
        measured = "-" if g["measured"] is None else _yes(g["measured"]) if isinstance(g["measured"], bool) else f"{g['measured']:,}"
        targets.add_row(f"{g['key']} {g['target']}{aim}", measured, _yes(g["met"]))
    c.print(targets)


def print_end_to_end(d: dict) -> None:
    """``ccf bench --end-to-end``'s JSON object (bench/end_to_end.py) as a table."""
    from rich.console import Console
    from rich.table import Table

    t = Table("phase", "s", "peak memory MB", title=f"ccf bench --end-to-end: {d['rows']:,} rows, seed {d['seed']} "
              f"({d['rows_loaded']:,} loaded, {d['rows_rejected']:,} rejected), run on {d['engine']}")
    for name, peak in d["peak_rss_mb"].items():
        t.add_row(name, f"{d[name + '_s']:.3f}", f"{peak:,}")
    t.add_row("total", f"{d['total_s']:.3f}", f"{max(d['peak_rss_mb'].values()):,}", style="bold")
    c = Console(width=200)
    c.print(t)
    g = d["target"]
    c.print(f"target: load + run + report {g['target']} s (aim {g['aim']:g} s) at {g['stated_for_rows']:,} rows: "
            f"{_yes(g['met'])}; total {d['total_co2e_kg']} kg CO2e; report {d['report_bytes']:,} bytes of JSON")


def _yes(flag: bool | None) -> str:
    return "-" if flag is None else "yes" if flag else "NO"
