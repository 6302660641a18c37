"""``ccf entities`` and ``ccf report``: the command-line front end of the inventory package.

:func:`add_parser` registers both commands; ``engine/cli.py`` calls it from ``build_parser``.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ccf.dsl.diagnostics import CcfError
from ccf.engine.options import DeprecatedAlias

DEFAULT_SIGNIFICANCE = Decimal(5)


def _run_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a run id is a whole number, not {text!r}")
    return int(text)


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"a percentage such as 5 or 2.5, not {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"a percentage of 0 or more, not {text!r}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``ccf entities load|list|show`` and ``ccf report``."""
    from ccf.engine.inventory.consolidation import APPROACHES
    from ccf.engine.inventory.formats import FORMATS

    p = subparsers.add_parser("entities", help="load and inspect entity sets (the organisational structure)")
    sub = p.add_subparsers(dest="entities_command", required=True, metavar="SUBCOMMAND")
    s = sub.add_parser("load", help="check an entity CSV and store it as a named, immutable entity set")
    s.add_argument("file", metavar="FILE", help="entity CSV: entity,name,parent,equity_share,financial_control,operational_control,…; "
                   "in a project, NAME for the file NAME.csv of its entity_sets folder")
    s.add_argument("--id", dest="set_name", metavar="NAME", help="name of the entity set (default: the file name without .csv)")
    s.add_argument("--set", dest="set_name", action=DeprecatedAlias, new="--id", help=argparse.SUPPRESS)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s = sub.add_parser("list", help="list the loaded entity sets")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s = sub.add_parser("show", help="an entity set as a tree, with the effective share under each approach")
    s.add_argument("set_name", nargs="?", metavar="SET", help="entity set (default: the only one loaded)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_entities)

    r = subparsers.add_parser("report", help="consolidated GHG inventory of finished runs (table, CSV, JSON, HTML)")
    r.add_argument("runs", nargs="+", type=_run_id, metavar="RUN", help="run ids of the reporting year")
    r.add_argument("--approach", required=True, choices=APPROACHES, help="consolidation approach (GHG Protocol ch. 3)")
    r.add_argument("--entities", metavar="SET", help="entity set (default: the only one loaded)")
    r.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    r.add_argument("--json", dest="format", action="store_const", const="json", help="the same as --format json")
    r.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    r.add_argument("--base-year-run", type=_run_id, nargs="+", action="extend", default=[], metavar="RUN",
                   help="run ids of the base year, to compare with")
    r.add_argument("--recomputed-base-year-run", type=_run_id, nargs="+", action="extend", default=[], metavar="RUN",
                   help="the base year recomputed with the reporting year's methodology versions "
                        "(required when they differ)")
    r.add_argument("--significance", type=_percent, default=DEFAULT_SIGNIFICANCE, metavar="PERCENT",
                   help="significance threshold for base-year recalculation, in percent (default: 5)")
    r.add_argument("--denominator", action="append", default=[], metavar="NAME=AMOUNT[:UNIT]",
                   help="an amount to state emissions per, for the reporting period: revenue=1200000000:USD, "
                        "fte=5400:FTE, units_produced=2400000 (repeat for several)")
    r.set_defaults(func=run_report)


def run_entities(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.inventory.entities import entity_sets, entity_tree, load_entity_set, resolve_entity_set

    with api.open_database() as conn:
        if args.entities_command == "load":
            path = api.entity_set_file(args.file)
            name = args.set_name or path.stem
            done = load_entity_set(conn, name, path)
            data = {"entity_set": done.entity_set, "source_file": done.source_file, "sha256": done.sha256,
                    "entities": done.entities, "loaded": done.loaded}
            text = (f"{args.file}: entity set {done.entity_set} loaded, {done.entities} entities" if done.loaded else
                    f"{args.file}: entity set {done.entity_set} is already loaded from the same file; nothing changed")
        elif args.entities_command == "list":
            data = entity_sets(conn)
            text = "\n".join(f"{s['name']}: {s['entities']} entities from {s['source_file']} (sha256 {s['sha256'][:12]}…)"
                             for s in data) or "no entity set loaded (see 'ccf entities load')"
        else:
            name = resolve_entity_set(conn, args.set_name, "'ccf entities show NAME'")["name"]
            data = {"entity_set": name, "entities": entity_tree(conn, name)}
            text = _tree_text(data)
    sys.stdout.write((json.dumps(data, indent=2, ensure_ascii=False) if args.json else text) + "\n")
    return 0


def _tree_text(data: dict) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"entity set {data['entity_set']}: effective share of each entity's emissions", title_justify="left")
    for col in ("entity", "name", "country", "equity (link)", "control (link)", "equity share", "financial control",
                "operational control"):
        t.add_column(col, justify="right" if col in ("equity (link)", "equity share", "financial control", "operational control") else "left")
    for e in data["entities"]:
        control = "root" if e["parent"] is None else ", ".join(
            c for c, on in (("financial", e["link_financial_control"]), ("joint financial", e["link_joint_financial_control"]),
                            ("operational", e["link_operational_control"])) if on) or "none"
        t.add_row("  " * e["depth"] + e["entity"], e["name"], e["country"] or "", f"{e['link_equity_share_percent']}%", control,
                  *(f"{e['shares_percent'][a]}%" for a in ("equity-share", "financial-control", "operational-control")))
    console = Console(width=160, file=StringIO(), highlight=False, color_system=None)
    console.print(t)
    return console.file.getvalue().rstrip()  # type: ignore[attr-defined]


def _with_the_projects(given: tuple, years: tuple[int, ...]) -> tuple:
    """The denominators of the command line, then those of the project's ccf.yaml for the
    report's one year that the command line does not name (``report: denominators:``)."""
    from ccf.engine.inventory.intensities import parse_denominator
    from ccf.engine.options import settings

    project = settings().project
    if project is None or len(years) != 1:
        return given
    named = {d.name for d in given}
    from_file = project.denominators.get(str(years[0]), {})
    return given + tuple(parse_denominator(f"{name}={amount}") for name, amount in from_file.items() if name not in named)


def run_report(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.inventory.formats import print_table, render
    from ccf.engine.inventory.intensities import check_denominators, parse_denominator
    from ccf.engine.inventory.inventory import build_inventory, compare_base_year
    from ccf.engine.inventory.presentation import report_document

    if args.recomputed_base_year_run and not args.base_year_run:
        raise CcfError("--recomputed-base-year-run needs --base-year-run (the original base year)")
    denominators = tuple(parse_denominator(text) for text in args.denominator)  # checked before the database is opened
    check_denominators(list(denominators))
    with api.open_database() as conn:
        inventory = build_inventory(conn, args.runs, args.approach, args.entities)
        base_year = None
        if args.base_year_run:
            base_year = compare_base_year(conn, inventory, args.base_year_run, args.recomputed_base_year_run, args.significance)
    denominators = _with_the_projects(denominators, inventory.years)
    if denominators and len(inventory.years) > 1:
        raise CcfError(f"a denominator is an amount for one reporting period, and runs {', '.join(map(str, inventory.runs))} "
                       f"have results in {', '.join(map(str, inventory.years))}: report one year at a time")
    doc = report_document(inventory, base_year, denominators)
    if args.output:
        Path(args.output).write_text(render(doc, args.format), encoding="utf-8")
        sys.stderr.write(f"wrote {args.output} ({args.format})\n")
    elif args.format == "table":
        print_table(doc)
    else:
        sys.stdout.write(render(doc, args.format))
    return 0
