"""`ccf test`: its parser, and each case's line (pass or fail, expected against actual) or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from ccf.engine.cases.runner import CaseOutcome
from ccf.engine.options import json_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("test", help="run the methodologies' test cases (methodologies/<id>/tests/*.yaml) on the database")
    s.add_argument("refs", nargs="*", metavar="ID[@VERSION]",
                   help="the versions whose cases to run: ID@VERSION, or ID for every version (default: every case)")
    json_flag(s)
    s.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    """Exit 0 only if every case passed."""
    from ccf.engine import api

    lib = api.library()
    with api.open_database() as conn:
        outcomes = api.run_test_cases(conn, args.refs, lib)
    failed = [o for o in outcomes if not o.passed]
    if args.json:
        sys.stdout.write(json.dumps({"passed": len(outcomes) - len(failed), "failed": len(failed),
                                     "cases": [o.to_json() for o in outcomes]}, indent=2) + "\n")
    else:
        sys.stdout.write("".join(line + "\n" for line in render(outcomes)))
    return 1 if failed else 0


def render(outcomes: Sequence[CaseOutcome]) -> list[str]:
    lines = []
    for o in outcomes:
        lines.append(f"{'pass' if o.passed else 'FAIL'}  {o.methodology}  {o.case.name}  ({_short(o.where)})")
        if o.case.factors:  # the example's numbers, not the shipped set's: say so beside the verdict
            lines.append("      with the case's own factors: " + ", ".join(
                f"{f.set_name} ({len(f.rows)} row{'s' if len(f.rows) != 1 else ''})" for f in o.case.factors))
        if o.error is not None:
            lines.append(f"      error: {o.error}")
        for m in o.mismatches:
            lines.append(f"      {m.subject} {m.key}: expected {m.expected}, actual {m.actual}  ({_short(m.where)})")
    failed = sum(not o.passed for o in outcomes)
    lines.append(f"{len(outcomes)} case{'s' if len(outcomes) != 1 else ''}: {len(outcomes) - failed} passed, {failed} failed")
    return lines


def _short(where: str) -> str:
    """file:line, the file relative to the current folder when it is inside it."""
    path = Path(where.rsplit(":", 1)[0])
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) + ":" + where.rsplit(":", 1)[1]
    except ValueError:
        return where
