"""``ccf bench``: the command line of the benchmark (engine/bench/__init__.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ccf.dsl.diagnostics import CcfError

DEFAULT_REPEAT = 3  # one pair is not a measurement of the ratio on a shared machine (docs/performance.md)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    s = subparsers.add_parser(
        "bench", help="measure load, compile, match, run and report beside hand-written SQL and a row-by-row baseline",
    )
    s.add_argument("--rows", type=int, default=100_000, help="activity rows to generate (default 100000)")
    s.add_argument("--seed", type=int, default=0, help="seed of the synthetic dataset (same seed, same files)")
    s.add_argument("--sample", type=int, default=2000,
                   help="rows evaluated row by row (the baseline's time is extrapolated to all rows; default 2000)")
    s.add_argument("--keep", action="store_true", help="keep the dataset and the run (for EXPLAIN, ccf explain)")
    s.add_argument("--explain", metavar="FILE", type=Path,
                   help="also write EXPLAIN (ANALYZE, BUFFERS) of every statement to FILE (Markdown)")
    s.add_argument("--matching-only", action="store_true",
                   help="only generate, load, compile and time factor matching (e.g. at 5M rows, issue 3)")
    s.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                   help="time the ccf run and the hand-written SQL this many times, alternating; report the medians "
                        f"and the median ratio (default {DEFAULT_REPEAT})")
    s.add_argument("--json", action="store_true", help="one JSON object")
    s.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.bench import run_bench

    if args.rows < 4 or args.sample < 1 or args.repeat < 1:
        raise CcfError("--rows must be at least 4, --sample and --repeat at least 1")
    lib = api.require_clean(api.library())
    say = (lambda msg: None) if args.json else (lambda msg: sys.stderr.write(f"bench: {msg}\n"))
    with api.open_database() as conn:
        report = run_bench(conn, lib, args.rows, args.seed, args.sample, args.keep, say, args.explain, args.matching_only,
                           args.repeat)
    data = report.to_json()
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _print(data)
    return 1 if data["totals_identical"] is False else 0


def _print(d: dict) -> None:
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
        c.print(f"ceilings on this machine: the files COPYed into text columns {rate(ceil['copy_rows_per_s'])} rows/s, "
                f"on both cores {rate(ceil['copy_both_cores_rows_per_s'])}; COPYed and typed on both cores "
                f"{rate(ceil['typed_both_cores_rows_per_s'])} rows/s (bounds ingest)"
                + (f"; matching + writing the run's {ceil['output_rows']:,} output rows "
                                      f"{secs(ceil['run_floor_s'])} s = {rate(ceil['run_ceiling_rows_per_s'])} rows/s "
                                      f"(bounds the run)" if "run_floor_s" in ceil else ""))
    if d["settle_s"]:
        c.print("waited for autovacuum before timing: " + ", ".join(f"{k} {v} s" for k, v in d["settle_s"].items()))
    targets = Table("target", "measured", "met", "ceiling on this machine", "reachable here",
                    title="targets (issues 3 and 6)",
                    caption="stated for millions of rows (--rows 1000000 and more; a small run measures fixed costs); "
                            "memory: compare invocations at several --rows")
    for g in d["targets"]:
        aim = f" (aim {g['aim']:,})" if g["aim"] is not None else ""
        targets.add_row(f"{g['key']} {g['target']}{aim}", "-" if g["measured"] is None else f"{g['measured']:,}",
                        _yes(g["met"]), "-" if g["ceiling"] is None else f"{g['ceiling']:,}", _yes(g["reachable_here"]))
    c.print(targets)


def _yes(flag: bool | None) -> str:
    return "-" if flag is None else "yes" if flag else "NO"
