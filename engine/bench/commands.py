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
    s.add_argument("--end-to-end", action="store_true",
                   help="only load, run and report the generated rows as one user would, each timed with the peak "
                        "memory of this process (the 10M-row target: --rows 10000000)")
    s.add_argument("--json", action="store_true", help="one JSON object")
    from ccf.engine.options import engine_flag

    engine_flag(s)
    s.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.bench import run_bench
    from ccf.engine.bench.presentation import print_table, report_json

    if args.rows < 4 or args.sample < 1 or args.repeat < 1:
        raise CcfError("--rows must be at least 4, --sample and --repeat at least 1")
    if args.end_to_end and (args.matching_only or args.explain):
        raise CcfError("--end-to-end times load, run and report only: without --matching-only and --explain")
    from ccf.engine.options import POSTGRESQL, engine_settings

    engine = engine_settings(args.engine).engine
    if engine != POSTGRESQL and args.explain:
        raise CcfError(f"--engine {engine} measures the bench's run, report and ceilings on {engine}: "
                       "--explain measures PostgreSQL's only")
    lib = api.require_clean(api.library())
    say = (lambda msg: None) if args.json else (lambda msg: sys.stderr.write(f"bench: {msg}\n"))
    if args.end_to_end:
        return _end_to_end(args, lib, say, engine)
    with api.open_database() as conn:
        report = run_bench(conn, lib, args.rows, args.seed, args.sample, args.keep, say, args.explain, args.matching_only,
                           args.repeat, engine=engine)
    data = report_json(report)
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        print_table(data)
    return 1 if data["totals_identical"] is False else 0


def _end_to_end(args: argparse.Namespace, lib, say, engine: str) -> int:
    from ccf.engine import api
    from ccf.engine.bench.end_to_end import run_end_to_end
    from ccf.engine.bench.presentation import print_end_to_end

    with api.open_database() as conn:
        data = run_end_to_end(conn, lib, args.rows, args.seed, args.keep, say, engine).to_json()
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        print_end_to_end(data)
    return 0
