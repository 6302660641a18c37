"""The ccf command line. Exit codes: 0 ok, 1 user error (a message, never a traceback), 2 usage."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError, DiagnosticError, render
from ccf.engine.options import engine_flag, json_flag, target_flag


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _interactive(args: argparse.Namespace) -> bool:
    return sys.stdout.isatty() and not getattr(args, "json", False)


def _fmt_kg(d: Decimal) -> str:
    """Report display: kg CO2e rounded half away from zero to 3 decimals (docs/numeric-semantics.md)."""
    from ccf.engine.report import display_kg

    return display_kg(d)


# --- commands ---------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from ccf.dsl.cases import case_files, is_case_file, library_case_files
    from ccf.dsl.library import Library
    from ccf.engine import api

    lib = api.library()
    paths = [Path(p) for p in args.paths]
    checked = 0 if paths else len(lib.sources)
    extra = Library(lib.root, lib.factor_sets, activity_types=dict(lib.activity_types)) if paths else lib
    # test-case files, checked once every methodology is read
    cases: list[Path] = [] if paths else library_case_files(lib)
    for p in paths:
        if not p.exists():
            raise CcfError(f"{p}: no such file or folder")
        if p.is_dir():
            sub = Library.load(p, lib.factor_sets) if (p / "activity_types").exists() else None
            if sub is not None:
                extra.diagnostics += sub.diagnostics
                extra.sources.update(sub.sources)
                extra.methodologies.update(sub.methodologies)
                checked += len(sub.sources)
                cases += case_files(p)
                continue
            files = sorted(p.rglob("*.yaml"))
        else:
            files = [p]
        for f in files:
            if f.parent.name == "activity_types":
                continue
            if is_case_file(f):
                cases.append(f)
                continue
            extra.add(f, enforce_layout=p.is_dir())
            checked += 1
    checked += _check_cases(cases, lib, extra)
    if not extra.diagnostics and not args.offline:
        extra.diagnostics += _check_factor_values(extra)
    if extra.diagnostics:
        sys.stderr.write(render(extra.diagnostics, extra.sources) + "\n")
        return 1
    changed = _project_lock_changes(lib)
    if changed:
        sys.stderr.write("".join(f"error: {p}\n" for p in changed))
        return 1
    _out(f"ok: {checked} file{'s' if checked != 1 else ''} checked, no problems found")
    return 0


def _project_lock_changes(lib) -> list[str]:
    """The project's published versions and declarations that changed since ``ccf lock``."""
    from ccf.engine.lock import project_changes
    from ccf.engine.options import settings

    project = settings().project
    return [] if project is None else project_changes(project, lib)


def _check_cases(paths: list[Path], lib, extra) -> int:
    """Check test-case files against the methodologies checked and the shipped library (the
    files' diagnostics join ``extra``'s); how many were checked."""
    from ccf.dsl.cases import check_cases, read_cases
    from ccf.dsl.library import Library
    from ccf.dsl.source import SourceFile

    known = Library(lib.root, extra.factor_sets, activity_types=dict(extra.activity_types),
                    methodologies={**lib.methodologies, **extra.methodologies})
    for path in dict.fromkeys(paths):
        source = SourceFile.read(path)
        extra.sources[source.path] = source
        try:
            extra.diagnostics += check_cases(read_cases(source), source, known)
        except DiagnosticError as exc:
            extra.diagnostics += exc.diagnostics
    return len(dict.fromkeys(paths))


def _check_factor_values(lib) -> list:
    """E606: a lookup's ``select`` that no factor of an installed edition satisfies
    (engine/factors/coverage.py). Editions not installed, or no database, are said to be skipped."""
    import psycopg

    from ccf.engine.database import DatabaseError, connect, mask_secrets
    from ccf.engine.factors.coverage import check_selects
    from ccf.engine.options import known_url
    from ccf.engine.sql import Executor

    methodologies = list(lib.methodologies.values())
    if not any(lk.select for m in methodologies for lk in m.lookups):
        return []
    try:
        conn = connect()
    except DatabaseError as exc:
        sys.stderr.write(f"note: select texts not checked against factor values: {exc}\n")
        return []
    try:
        coverage = check_selects(Executor(conn), methodologies, lib.sources)
        conn.rollback()  # it only read
    except psycopg.Error as exc:  # the database went away or refused the read: the files are still checked
        shown = mask_secrets(str(exc).strip(), known_url())
        sys.stderr.write(f"note: select texts not checked against factor values: {shown}\n")
        return []
    finally:
        conn.close()
    if coverage.not_installed:
        sys.stderr.write("note: select texts not checked against " + ", ".join(sorted(coverage.not_installed))
                         + " (not installed; see 'ccf factors list')\n")
    return coverage.diagnostics


def cmd_compile(args: argparse.Namespace) -> int:
    from ccf.engine import api

    if args.bind:
        from ccf.engine.psql_script import bound_script, parse_binds

        (m,) = api.resolve(api.library(), [args.ref])
        binds = parse_binds(args.bind)
        with api.open_database() as conn:
            sql = bound_script(conn, m, binds, args.other_edition)
        _out(json.dumps({"methodology": m.ref, "sql": sql}, indent=2) if args.json else sql.rstrip())
        return 0
    compiled = api.compile_ref(args.ref, api.library())
    _out(json.dumps({"methodology": compiled.methodology.ref, "sql": compiled.sql()}, indent=2) if args.json
         else compiled.sql().rstrip())
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from ccf.dsl.schema import activity_type_schema, factor_set_schema, methodology_schema, test_case_schema
    from ccf.engine.project import project_schema

    schema = {"activity-type": activity_type_schema, "factor-set": factor_set_schema,
              "project": project_schema, "test-case": test_case_schema}.get(args.kind, methodology_schema)()
    _out(json.dumps(schema, indent=2, sort_keys=False))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ccf.engine import api

    lib = api.library()
    rows = [
        {
            "id": m.id, "version": m.version, "status": m.status, "scope": m.scope, "category": m.category,
            "method": m.method, "factor_set": m.factor_set, "activity_type": m.activity.id, "title": m.title,
        }
        for m in lib.versions()
    ]
    if args.json:
        _out(json.dumps(rows, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table("methodology", "version", "status", "scope", "category", "method", "factor set")
        for r in rows:
            t.add_row(r["id"], r["version"], r["status"], str(r["scope"]), str(r["category"] or "-"), r["method"], r["factor_set"])
        Console(width=160).print(t)
    if lib.diagnostics:
        sys.stderr.write(f"note: {len(lib.diagnostics)} problem(s) in methodology files; run 'ccf check'\n")
    return 0


def _progress_bar(args: argparse.Namespace):
    if not _interactive(args):
        return None
    from rich.progress import Progress

    return Progress(transient=True)


def cmd_load(args: argparse.Namespace) -> int:
    import psycopg

    from ccf.engine import api
    from ccf.engine.database import failure
    from ccf.engine.load import Dialect

    lib = api.library()
    dialect = Dialect.of(args.delimiter, args.decimal, args.thousands, args.date_format, args.encoding)
    bound = {"period": args.period, "entity_set": args.entities, "max_rejects": args.max_rejects,
             "dialect": dialect, "mapping": args.mapping, "sheet": args.sheet}
    with api.open_database() as conn:
        reports = []
        for f in args.files:
            bar = _load_progress(args)
            try:
                if bar is None:
                    reports += api.load_files(conn, args.dataset, args.type, [Path(f)], lib, **bound)
                    continue
                with bar:
                    task = bar.add_task(f"loading {Path(f).name}", total=1, rows=0)
                    reports += api.load_files(conn, args.dataset, args.type, [Path(f)], lib,
                                              lambda n, part: bar.update(task, rows=n, completed=part), **bound)
            except psycopg.OperationalError as exc:
                done = f" ({len(reports)} earlier file(s) were loaded and stay loaded)" if reports else ""
                raise failure(exc, f"the load of {f}", f"The load of that file was rolled back: none of its rows were loaded{done}.") from None
    if args.json:
        _out(json.dumps([_load_json(r) for r in reports], indent=2))
        return 0
    for r in reports:
        bound_to = "".join([f", period {r.period}" if r.period else "", f", entity set {r.entity_set}" if r.entity_set else ""])
        _out(f"{r.source_file}: {r.rows_read} rows read, {r.rows_loaded} loaded, {r.rows_rejected} rejected (load {r.load_id}, dataset {r.dataset}{bound_to})")
        for reason, n in r.reasons:
            _out(f"  rejected {n} × {reason}")
        for notice in r.notices:
            _out(f"  note: {notice}")
    return 0


def _load_progress(args: argparse.Namespace):
    """A load's progress on a terminal: rows read, rows/s and the time left (from the part of
    the file read); None when output is piped or --json."""
    if not _interactive(args):
        return None
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            rows, elapsed = task.fields.get("rows", 0), task.elapsed or 0
            return Text(f"{rows:,} rows read" + (f", {rows / elapsed:,.0f} rows/s" if elapsed and rows else ""))

    return Progress(TextColumn("{task.description}"), BarColumn(), Rate(), TimeRemainingColumn(), transient=True)


def _load_json(r) -> dict:
    return {
        "load_id": r.load_id, "dataset": r.dataset, "activity_type": r.activity_type, "file": r.source_file,
        "sha256": r.sha256, "rows_read": r.rows_read, "rows_loaded": r.rows_loaded, "rows_rejected": r.rows_rejected,
        "rejected_by_reason": dict(r.reasons),
        "period": str(r.period) if r.period else None, "entity_set": r.entity_set, "notices": list(r.notices),
    }


def cmd_run(args: argparse.Namespace) -> int:
    import psycopg

    from ccf.engine import api
    from ccf.engine.database import failure

    lib = api.library()
    skipped = []
    with api.open_database() as conn:
        if args.methodologies:
            methodologies = api.resolve(lib, args.methodologies)
        else:
            methodologies, skipped = api.with_rows(conn, args.dataset, api.latest_published(lib))
            if not methodologies:
                raise CcfError(f"dataset {args.dataset!r} has no rows of any published methodology's activity type "
                               "(see 'ccf datasets show')")
            if skipped and not args.json:
                _out(f"skipped {len(skipped)} methodologies with no rows of their activity type in dataset "
                     f"{args.dataset}: " + ", ".join(f"{m.ref} ({m.activity.id})" for m in skipped))
        bar = _progress_bar(args)
        try:
            if bar is None:
                report = api.run_on(conn, args.dataset, methodologies, engine=args.engine, other_edition=args.other_edition)
            else:
                with bar:
                    task = bar.add_task("running", total=len(methodologies))
                    report = api.run_on(conn, args.dataset, methodologies, lambda ref: bar.update(task, advance=1, description=ref),
                                        engine=args.engine, other_edition=args.other_edition)
        except psycopg.OperationalError as exc:
            # the server rolls back the transaction of a connection it loses; only a break in the
            # very moment of COMMIT leaves the outcome open (docs/reliability.md#never-a-traceback)
            raise failure(exc, "the run", "A run commits whole or not at all: this one was rolled back and "
                          "nothing of it was written.") from None
    _print_run(report, args.json, skipped)
    return 0


def _print_run(report, as_json: bool, skipped=()) -> None:
    """Print a committed run's summary. The formatting cannot fail (exact at any magnitude);
    writing can (a closed pipe, a full disk), and is then reported with the run id."""
    from ccf.engine.report import print_run

    try:
        if as_json:
            extra = {"skipped": [{"methodology": m.ref, "activity_type": m.activity.id} for m in skipped]} if skipped else {}
            _out(json.dumps({**report.to_json(), **extra}, indent=2))
        else:
            print_run(report)
        sys.stdout.flush()
    except OSError as exc:
        raise CcfError(f"run {report.run_id} is committed, but its summary could not be written to standard "
                       f"output ({exc.strerror or exc}); 'ccf report {report.run_id} --approach …' reads it "
                       "from the database") from None


def cmd_diff(args: argparse.Namespace) -> int:
    from ccf.dsl.diff import diff_methodologies
    from ccf.engine import api

    if args.dataset is None and (args.html or args.rerun):
        sys.stderr.write("ccf diff: error: --html and --rerun need --dataset\n")
        return 2
    a, b = api.resolve(api.library(), [args.a, args.b])
    if args.dataset is not None:
        return _diff_dataset(args, a, b)
    d = diff_methodologies(a, b)
    _out(json.dumps(d.to_json(), indent=2) if args.json else d.render())
    return 0


def _diff_dataset(args: argparse.Namespace, a, b) -> int:
    """ccf diff A B --dataset D: the change in the dataset's totals, attributed to causes."""
    from ccf.engine import api
    from ccf.engine.attribution import attribute
    from ccf.engine.attribution_html import to_html

    with api.open_database() as conn:
        att = attribute(conn, args.dataset, a, b, reuse=not args.rerun)
    if args.html:
        Path(args.html).write_text(to_html(att.to_json()), "utf-8")
    _out(json.dumps(att.to_json(), indent=2) if args.json else att.render())
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.explain import explain

    lib = api.library()
    api.warn_of_problems(lib)
    with api.open_database() as conn:
        e = explain(conn, args.run, args.activity_id, lib)
    _out(json.dumps(e.to_json(), indent=2) if args.json else e.render())
    return 0 if all(p.reproduces_stored for p in e.parts) else 1  # a rejected row has no parts: 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.verify import Sample, verify, verify_reference

    if args.sample is not None and not args.reference:
        sys.stderr.write("ccf verify: error: --sample needs --reference\n")
        return 2
    lib = api.library()
    api.warn_of_problems(lib)
    with api.open_database() as conn:
        if args.reference:
            v = verify_reference(conn, args.run, lib, args.sample or Sample())
        else:
            v = verify(conn, args.run, lib)
    how = " by the reference evaluator" if args.reference else ""
    if args.json:
        out = {"run_id": v.run_id, "identical": v.identical, "recomputed_by": "reference" if args.reference else "sql",
               "rows_compared": v.checked, "differences": v.problems}
        if args.reference:
            out["sample"] = v.sample
        _out(json.dumps(out, indent=2))
    elif v.identical:
        counts = ", ".join(f"{n} {name} rows" for name, n in v.checked.items())
        sampled = f"; {v.sample}" if v.sample else ""
        _out(f"run {v.run_id} verified: recomputed{how} from its recorded inputs, identical ({counts}{sampled})")
    else:
        _out(f"run {v.run_id} could not be verified:")
        for p in v.problems:
            _out(f"  - {p}")
    return 0 if v.identical else 1


def cmd_lock(args: argparse.Namespace) -> int:
    from ccf.dsl import resources
    from ccf.engine import api
    from ccf.engine.lock import project_own, read_lock, record_new, record_project
    from ccf.engine.options import settings

    project = settings().project
    root = resources.checkout()
    if project is None and root is None:
        raise CcfError("ccf lock records published versions in a project's methodologies/published.lock: run it in "
                       "a project (see 'ccf init'); this ccf is an installed package, whose files it never writes")
    lib = api.require_clean(api.library())
    if project is not None:
        own, _ = project_own(project, lib)
        _require_cases(lib, [m for m in own if m.ref not in read_lock(project.lock_dir)])
        added = record_project(project, lib)
    else:
        published = [m for m in lib.versions() if m.status == "published"]
        _require_cases(lib, [m for m in published if m.ref not in read_lock(api.methodologies_dir())])
        shipped = {fs.id: fs for fs in api.factor_signatures().values() if isinstance(fs, ir.FactorSet)}  # declared sets
        added = record_new(root, api.methodologies_dir(), published, list(shipped.values()))
    if args.json:
        _out(json.dumps({"locked": list(added)}, indent=2))
        return 0
    _out("\n".join(f"locked {ref}" for ref in added) or "nothing new to lock")
    return 0


def _require_cases(lib, new: list) -> None:
    """Publishing a version needs a test case that applies to it (the versions already locked
    are not checked again: CI runs every case); a case file with a problem stops the lock too."""
    from ccf.dsl.cases import CaseFileError, read_library_cases, uncovered

    cases, problems = read_library_cases(lib)
    problems += uncovered(lib, new, cases)
    if problems:
        raise CaseFileError(problems, lib.sources)


def cmd_demo(args: argparse.Namespace) -> int:
    from ccf.engine import api
    from ccf.engine.report import print_tiers
    from ccf.engine.tiers import TIERED

    with api.open_database() as conn:
        result = api.demo(conn, engine=args.engine)
    m = result.meridian
    assert m is not None  # the command always runs both companies
    if args.json:
        _out(json.dumps({
            "loads": [_load_json(r) for r in result.loads], "run": result.report.to_json(),
            "meridian": {"dataset": m.dataset, "loads": [_load_json(r) for r in m.loads], "run": m.report.to_json(),
                         "tiers": [t.to_json() for t in m.tiers]},
        }, indent=2))
        return 0
    _out("ccf demo — Northwind Group, fictional company group, reporting year 2024")
    sets = sorted({(m.factor_set, m.gwp) for m in result.report.methodologies})
    _out("factor sets: " + ", ".join(f"{s} (GWP {g})" for s, g in sets) + " — published values, see factors/README.md")
    for r in result.loads:
        _out(f"loaded {Path(r.source_file).name}: {r.rows_loaded} rows, {r.rows_rejected} rejected")
    _print_run(result.report, False)
    _out("")
    _out("ccf demo — Meridian Instruments Group, fictional multinational, reporting year 2024 (entity set "
         f"{api.MERIDIAN_ENTITIES}): Scope 1, 2 and 3 category 3 with a factor of each site's own country, or a "
         "labelled proxy, or unmatched with the reason")
    for r in m.loads:
        _out(f"loaded {Path(r.source_file).name}: {r.rows_loaded} rows, {r.rows_rejected} rejected")
    _print_run(m.report, False)
    print_tiers(m.tiers, f"tier and source per country · run {m.report.run_id} · {TIERED} "
                         f"(rule = tier; 'ccf explain {m.report.run_id} ACTIVITY_ID' shows a row's factors)")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from ccf.engine.scaffold import init

    written = init(args.dir, args.name)
    if args.json:
        _out(json.dumps({"project": str(args.dir), "files": [p.as_posix() for p in written]}, indent=2))
        return 0
    _out(f"made the ccf project {args.dir}:")
    for p in written:
        _out(f"  {p.as_posix()}")
    _out(f"next: cd {args.dir} && ccf check && ccf demo (its README.md lists the next commands)")
    return 0


# --- parser -----------------------------------------------------------------------------


def _sample(text: str):
    from ccf.engine.verify import Sample

    try:
        return Sample.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None



# The commands other modules register (each module's ``add_parser``), in the order help lists them.
# Most of these modules import much of ccf at their top: importing all of them cost every ``ccf``
# process about 1.2 s of CPU, whatever its command. A command line imports only the module of the
# command it runs; help, and a command name that is no command, import them all.
COMMAND_MODULES = {
    "ccf.engine.factors.commands": ("factors",),
    "ccf.engine.factors.rate_commands": ("rates",),
    "ccf.engine.inventory.commands": ("entities", "report"),
    "ccf.engine.lifecycle.commands": ("datasets", "runs", "rejects", "unmatched", "db"),
    "ccf.engine.service.commands": ("tokens", "worker"),
    "ccf.engine.cases.commands": ("test",),
    "ccf.engine.bench.commands": ("bench",),
    "ccf.engine.service.serve": ("serve",),
}


def _command_name(argv: Sequence[str]) -> str | None:
    """The command an argument list runs (its first argument not an option); "" for ``--version``
    before any command (none of the modules is needed), None for help or no command at all."""
    for arg in argv:
        if arg == "--version":
            return ""
        if not arg.startswith("-"):
            return arg
        if arg in ("-h", "--help"):
            return None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command, or, given ``command``, the built-in commands
    and, of those other modules register, only ``command`` (COMMAND_MODULES; "" for none)."""
    from ccf.engine import __version__

    p = argparse.ArgumentParser(prog="ccf", description="Corporate carbon footprint engine (GHG Protocol).")
    p.add_argument("--version", action="version", version=f"ccf {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("check", help="check methodology files; print positioned errors")
    s.add_argument("paths", nargs="*", help="files or folders (default: the shipped methodologies)")
    s.add_argument("--offline", action="store_true",
                   help="do not check select texts against the factors installed in the database")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("compile", help="print the SQL a methodology version compiles to")
    s.add_argument("ref", help="ID@VERSION, or ID for its latest published version")
    s.add_argument("--bind", action="append", metavar="NAME=VALUE,...",
                   help="bind the parameters (run_id and dataset; loads, factor_set_id: default from the database) "
                        "and print a script psql runs as is, in a transaction that is rolled back")
    s.add_argument("--other-edition", action="store_true",
                   help="with --bind: as 'ccf run --other-edition', for a pinned edition of another period")
    s.add_argument("--json", action="store_true", help="machine-readable output: the version and its SQL")
    s.set_defaults(func=cmd_compile)

    s = sub.add_parser("schema", help="print the JSON Schema of methodology (or activity-type, factor-set, project, test-case) files")
    s.add_argument("kind", nargs="?", choices=["methodology", "activity-type", "factor-set", "project", "test-case"], default="methodology")
    s.set_defaults(func=cmd_schema)

    s = sub.add_parser("list", help="list every methodology version")
    json_flag(s)
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("load", help="load activity data files (CSV, XLSX, Parquet) into a dataset")
    s.add_argument("--dataset", required=True, help="dataset name (created on first load)")
    s.add_argument("--type", required=True, help="activity type of the files (see methodologies/activity_types)")
    s.add_argument("--period", metavar="YYYY|START..END",
                   help="the dataset's reporting period, set by its first load: rows outside it are rejected")
    s.add_argument("--entities", metavar="SET",
                   help="bind the dataset to an entity set on its first load: rows of other entities are rejected")
    s.add_argument("--max-rejects", metavar="N|P%",
                   help="fail a file (nothing of it loaded) with more rejected rows than N, or than P%% of its "
                        "rows (default: fail a file every row of which is rejected)")
    s.add_argument("files", nargs="+", help="CSV, XLSX (.xlsx) or Parquet (.parquet) files")
    json_flag(s)
    f = s.add_argument_group("how the files are written (docs/data.md, 'Input formats')")
    f.add_argument("--delimiter", help="CSV delimiter: , ; tab | (default: found in the header line)")
    f.add_argument("--decimal", help="decimal separator of numbers: . (default) or ,")
    f.add_argument("--thousands", help="thousands separator of numbers: . , ' space _ (default: none)")
    f.add_argument("--date-format", help="YYYY-MM-DD (default), DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY or DD-MM-YYYY")
    f.add_argument("--encoding", help="CSV text encoding: utf-8 (default), utf-8-sig, cp1252, latin-1")
    f.add_argument("--mapping", type=Path, metavar="FILE", help="a column-mapping YAML file for an ERP export")
    f.add_argument("--sheet", help="the XLSX sheet to read (default: the first)")
    s.set_defaults(func=cmd_load)

    s = sub.add_parser("run", help="run methodologies over a dataset in one transaction")
    s.add_argument("--dataset", required=True)
    s.add_argument("methodologies", nargs="*", help="ID@VERSION or ID (default: every latest published version)")
    s.add_argument("--other-edition", action="store_true",
                   help="compute a methodology that pins a factor edition for another period than the data's with "
                   "that edition, recording the reason on every result (default: refuse)")
    s.add_argument("--json", action="store_true", help="machine-readable summary")
    engine_flag(s)
    s.set_defaults(func=cmd_run)

    for module, names in COMMAND_MODULES.items():
        if command is None or command in names:
            importlib.import_module(module).add_parser(sub)

    s = sub.add_parser("diff", help="semantic diff of two methodology versions")
    s.add_argument("a", help="ID@VERSION")
    s.add_argument("b", help="ID@VERSION")
    json_flag(s)
    s.add_argument("--dataset", help="also run both versions on this dataset and attribute the change in totals to causes")
    s.add_argument("--html", metavar="FILE", help="with --dataset: write a self-contained HTML page with a waterfall chart")
    s.add_argument("--rerun", action="store_true", help="with --dataset: run both versions even if runs of them exist")
    s.set_defaults(func=cmd_diff)

    s = sub.add_parser("explain", help="the derivation of one activity row's result in a run")
    s.add_argument("run", type=int, help="run id")
    s.add_argument("activity_id", help="activity id")
    json_flag(s)
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("verify", help="recompute a past run from its recorded inputs and compare")
    s.add_argument("run", type=int, help="run id")
    s.add_argument("--reference", action="store_true",
                   help="recompute with the reference evaluator (Python) instead of the run's SQL, row by row")
    s.add_argument("--sample", type=_sample, metavar="N|P%",
                   help="with --reference: only N activity rows, or P percent of them, per methodology "
                        "(the same rows each time: smallest SHA-256 of '<run id>:<activity id>')")
    json_flag(s)
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("lock", help="record newly published versions in the project's (or the checkout's) published.lock")
    json_flag(s)
    s.set_defaults(func=cmd_lock)

    s = sub.add_parser("demo", help="load the sample company group and compute its inventory")
    s.add_argument("--json", action="store_true", help="machine-readable summary")
    engine_flag(s)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("init", help="make a new project folder: ccf.yaml, a sample methodology with a test, sample data")
    s.add_argument("dir", type=Path, metavar="DIR", help="the new project's folder (new, or empty)")
    s.add_argument("--name", help="the project's name (default: the folder's name, lower case)")
    json_flag(s)
    s.set_defaults(func=cmd_init)

    if command and command not in sub.choices:
        return build_parser()  # a name that is no command: the error lists every command
    for name, parser in sub.choices.items():
        if name not in WITHOUT_DATABASE:
            _add_target(parser)
    return p


# the commands that never connect to the database: no --target
WITHOUT_DATABASE = frozenset({"init", "schema", "list", "lock"})  # compile --bind reads a run


def _add_target(parser: argparse.ArgumentParser) -> None:
    """``--target`` on a command and on each of its subcommands (``ccf factors add --target …``)."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands and "--target" not in parser._option_string_actions:  # an alias shares its parser
        target_flag(parser)
    for action in subcommands:
        for command in action.choices.values():
            _add_target(command)


def _command(args: argparse.Namespace) -> int:
    """Run the command. A failure of the database environment (server gone, disk full, connection
    broken) that the command did not name itself becomes the ``CcfError`` that says so: a last
    resort, each command names its own failures."""
    import psycopg

    try:
        return args.func(args)
    except psycopg.OperationalError as exc:
        from ccf.engine.database import failure

        raise failure(exc, f"ccf {args.command}", "What it had not committed was rolled back.") from None


def _message(exc: CcfError) -> str:
    """What the user reads of an error: diagnostics rendered with their source lines, else the message."""
    if not isinstance(exc, DiagnosticError):
        return f"error: {exc}"
    from ccf.engine import api

    sources = dict(getattr(exc, "sources", {}))  # a file outside the library (a --mapping file) brings its own
    try:
        sources.update(api.library().sources)
    except CcfError:
        pass
    return render(exc.diagnostics, sources)


def main(argv: Sequence[str] | None = None) -> int:
    from ccf.engine.options import command

    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_name(argv)).parse_args(argv)
    try:
        with command(getattr(args, "target", None)):
            return _command(args)
    except CcfError as exc:  # the one root of every error ccf reports
        sys.stderr.write(_message(exc) + "\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
