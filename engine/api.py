"""The Python API: the same operations as the command line, returning data instead of text."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import psycopg

from ccf.dsl import ir, resources
from ccf.dsl.check import FactorSetSignature
from ccf.dsl.diagnostics import CcfError, DiagnosticError
from ccf.dsl.library import Folders, Library
from ccf.engine.compile import CompiledMethodology, compile_methodology
from ccf.engine.database import connect
from ccf.engine.factors.catalog import gwp_signatures, shipped_declarations
from ccf.engine.factors.store import install_shipped
from ccf.engine.load import Dialect, LoadReport, Progress, RejectLimit, ReportingPeriod, load_csv
from ccf.engine.migrate import migrate, setup_lock
from ccf.engine.options import POSTGRESQL, engine_settings, settings
from ccf.engine.run import RunReport, run
from ccf.engine.tiers import TierRow, tiers_by_country

if TYPE_CHECKING:
    from ccf.dsl.cases import Case
    from ccf.engine.cases import CaseOutcome

log = logging.getLogger("ccf")


def methodologies_dir() -> Path:
    """The methodology library: CCF_METHODOLOGIES, or the one shipped with ccf."""
    return settings().library or resources.methodologies()


def project_folders() -> tuple[Folders, ...]:
    """The library folders of the project the command runs in (none outside a project)."""
    project = settings().project
    return () if project is None else (Folders(project.methodologies, project.factor_sets),)


def entity_set_file(given: str) -> Path:
    """The entity-set file a command names: a path, or in a project the name of a file of its
    entity_sets folder (``acme-2024`` for ``entity_sets/acme-2024.csv``)."""
    path, project = Path(given), settings().project
    if not path.exists() and project is not None and (project.entity_sets / f"{given}.csv").is_file():
        return project.entity_sets / f"{given}.csv"
    return path


def factor_signatures() -> dict[str, FactorSetSignature]:
    """The shipped factor-set declarations (methodologies/factor_sets/), by every id a
    methodology may name them by: each set's and each edition's. Read from the declarations
    alone: checking needs no factor file. Besides them, the GWP-100 factor sets per kg of gas
    and refrigerant, one per assessment (built from the shipped GWP table: engine/factors/refrigerants.py)."""
    return {**shipped_declarations(), **gwp_signatures()}


def library(root: Path | None = None) -> Library:
    """Every activity type and methodology version under root; by default the shipped library
    with the project's own methodologies and factor sets."""
    if root is not None:
        return _loaded(Path(root), factor_signatures(), ())
    return _loaded(methodologies_dir(), factor_signatures(), project_folders())


# The libraries this process has checked, by their folders and factor sets, each with the stamp
# of the files under those folders when it was read.
_LOADED: dict[tuple, tuple[tuple, Library]] = {}


def _loaded(root: Path, signatures: dict[str, FactorSetSignature], added: tuple[Folders, ...]) -> Library:
    """``Library.load``, read and checked again only when a file under its folders has changed
    (been written, added or removed: its size, modification and change times, inode), as Python
    does for its byte-code. Checking the library takes over a second; a process that runs many
    commands (the test suite runs the command line in-process) checks it once. The library is
    the caller's own: ``Library.add`` adds to it, never to the one kept here."""
    key = (root, added, frozenset(signatures.items()))
    stamp = _stamp(root, *(f for folders in added for f in (folders.methodologies, folders.factor_sets)))
    kept = _LOADED.get(key)
    if kept is None or kept[0] != stamp:
        kept = _LOADED[key] = (stamp, Library.load(root, signatures, added))
    lib = kept[1]
    return dataclasses.replace(lib, sources=dict(lib.sources), activity_types=dict(lib.activity_types),
                               methodologies=dict(lib.methodologies), diagnostics=list(lib.diagnostics))


def _stamp(*folders: Path) -> tuple:
    """Every file under the folders, with its size, times and inode."""
    out = []
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(out)


def require_clean(lib: Library) -> Library:
    """The library, if no file of it has a problem: for commands that use all of it (``ccf lock``)."""
    if lib.diagnostics:
        raise DiagnosticError(lib.diagnostics)
    return lib


# --- the files a command uses ---------------------------------------------------------------
# A problem in a library file stops the commands that use the file, with its diagnostics, and
# is a warning for every other command: one broken draft must not stop a load of electricity.
# A broken file may be a version a command would pick (the latest published one of its id):
# such a file counts as used unless it declares itself a draft.


def resolve(lib: Library, refs: Sequence[str]) -> list[ir.Methodology]:
    """Methodologies by 'id@version' or 'id' (its latest published version); a problem in one
    of their files, or in a file that could be the version asked for, is a DiagnosticError."""
    out = []
    for ref in refs:
        mid, _, version = ref.partition("@")
        could_be = [p for p in _broken(lib)
                    if _is_version_of(lib, p, mid, version or None) and (version or not _declares_draft(lib, p))]
        if could_be:
            raise DiagnosticError([d for p in could_be for d in _broken(lib)[p]])
        try:
            out.append(lib.resolve(ref))
        except KeyError:
            from ccf.dsl.diagnostics import did_you_mean

            known = [m.ref for m in lib.versions()] + [m.id for m in lib.versions()]
            hint = did_you_mean(ref, known)
            raise CcfError(f"no methodology {ref!r}" + (f"; {hint}" if hint else "; see 'ccf list'")) from None
    return usable(lib, out)


def latest_published(lib: Library) -> list[ir.Methodology]:
    """Every methodology's latest published version, as a run with no methodology named takes
    them; a broken file that may be one of them (it does not declare ``status: draft``) stops it."""
    could_be = [p for p in _broken(lib) if _is_version_of(lib, p, None, None) and not _declares_draft(lib, p)]
    if could_be:
        raise DiagnosticError([d for p in could_be for d in _broken(lib)[p]])
    return usable(lib, lib.latest_published())


def find_activity_type(lib: Library, name: str) -> ir.ActivityType:
    """An activity type by name; a problem in its file is a DiagnosticError, an unknown name a
    CcfError with did-you-mean. Problems in other files are a warning."""
    paths = [str(root / "activity_types" / f"{name}.yaml") for root in lib.roots]
    broken = [d for p in paths for d in _broken(lib).get(p, [])]
    if broken:
        raise DiagnosticError(broken)
    at = lib.activity_types.get(name)
    if at is None:
        from ccf.dsl.diagnostics import did_you_mean

        hint = did_you_mean(name, lib.activity_types)
        raise CcfError(f"unknown activity type {name!r}" + (f"; {hint}" if hint else ""))
    _warn_unused(lib, {at.span.path})
    return at


def usable(lib: Library, methodologies: Sequence[ir.Methodology]) -> list[ir.Methodology]:
    """The methodologies, if their files and their activity types' files have no problem
    (else a DiagnosticError with those problems); problems elsewhere are logged as a warning."""
    used = {m.path for m in methodologies}
    for m in methodologies:
        used |= {at.span.path for at in (m.activity, *([m.instruments.activity] if m.instruments else []))}
    problems = [d for p in sorted(used & _broken(lib).keys()) for d in _broken(lib)[p]]
    if problems:
        raise DiagnosticError(problems)
    _warn_unused(lib, used)
    return list(methodologies)


def _broken(lib: Library) -> dict[str, list]:
    """The library's diagnostics by the file they are in."""
    out: dict[str, list] = {}
    for d in lib.diagnostics:
        out.setdefault(d.span.path, []).append(d)
    return out


def _is_version_of(lib: Library, path: str, mid: str | None, version: str | None) -> bool:
    """True when a methodology file is stored where id ``mid`` (any, if None) at ``version``
    (any, if None) would be: ``<root>/<id>/<version>.yaml``."""
    p = Path(path)
    if p.parent.parent not in lib.roots or p.parent.name == "activity_types" or p.suffix != ".yaml":
        return False
    return (mid is None or p.parent.name == mid) and (version is None or p.stem == version)


def _declares_draft(lib: Library, path: str) -> bool:
    """True when a file that does not check still reads as YAML (ccf's strict reader, which
    bounds the nesting of hostile files) saying ``status: draft``."""
    from ccf.dsl.yaml_source import load_yaml

    try:
        data = load_yaml(lib.sources[path]).data
    except (DiagnosticError, KeyError):
        return False
    return isinstance(data, dict) and data.get("status") == "draft"


def warn_of_problems(lib: Library) -> Library:
    """For a command that finds what it uses itself (explain and verify look up a run's recorded
    versions, and name one that is not in the library): every problem is a warning."""
    _warn_unused(lib, set())
    return lib


_warned: set[tuple[str, ...]] = set()


def _warn_unused(lib: Library, used: set[str]) -> None:
    """Warn (once per process for the same files) of the library's problems outside ``used``."""
    others = tuple(sorted(_broken(lib).keys() - used))
    if others and others not in _warned:
        _warned.add(others)
        log.warning("warning: %d file(s) of the methodology library have problems and were left out (this "
                    "command does not use them; 'ccf check' shows the problems): %s", len(others), ", ".join(others))


def compile_ref(ref: str, lib: Library | None = None) -> CompiledMethodology:
    lib = lib or library()
    (m,) = resolve(lib, [ref])
    return compile_methodology(m)


def open_database(url: str | None = None) -> psycopg.Connection:
    """A connection to a migrated database with the shipped factor sets installed (one process
    at a time sets a database up: migrate.setup_lock)."""
    conn = connect(url)
    try:
        with setup_lock(conn):
            migrate(conn)
            install_shipped(conn)
            conn.commit()
    except BaseException:
        conn.close()  # also releases the setup lock
        raise
    return conn


@dataclass(frozen=True)
class CompanyDemo:
    """One sample company of the demo: what was loaded (nothing on a second demo), its run."""

    dataset: str
    loads: tuple[LoadReport, ...]
    report: RunReport
    tiers: tuple[TierRow, ...]  # Scope 1, 2 and 3 category 3 per country, methodology, rule and source


@dataclass(frozen=True)
class DemoResult:
    loads: tuple[LoadReport, ...]  # Northwind's
    report: RunReport  # Northwind's
    meridian: CompanyDemo | None  # the multinational: Scope 1 and 2 in eleven countries


def run_on(conn: psycopg.Connection, dataset: str, methodologies: Sequence[ir.Methodology],
           progress: Callable[[str], None] | None = None, *, engine: str | None = None, other_edition: bool = False,
           loads: Sequence[int] | None = None) -> RunReport:
    """A run on ``engine`` (default: CCF_ENGINE's, else PostgreSQL): engine/run.py's, or on
    ClickHouse (engine/clickhouse/run.py: the run recorded here, its rows kept in ClickHouse)."""
    if engine_settings(engine).engine == POSTGRESQL:
        return run(conn, dataset, methodologies, progress, loads=loads, other_edition=other_edition)
    from ccf.engine.clickhouse.run import run_clickhouse
    from ccf.engine.clickhouse.session import open_clickhouse

    return run_clickhouse(conn, open_clickhouse(), dataset, methodologies, progress, loads=loads, other_edition=other_edition)


def demo_dir() -> Path:
    return resources.sample_company()


def load_files(
    conn: psycopg.Connection, dataset: str, activity_type: str, files: Sequence[Path], lib: Library,
    progress: Progress | None = None, *, period: str | None = None, entity_set: str | None = None,
    max_rejects: str | None = None, dialect: Dialect = Dialect(), mapping: Path | None = None, sheet: str | None = None,
    source: str | None = None,
) -> list[LoadReport]:
    """Load each file in a transaction of its own; ``max_rejects`` is ``N`` or ``P%`` (default:
    any number of rejected rows short of all of a file's); ``dialect``, ``mapping`` and ``sheet``
    say how the files are written (``load_csv``); ``source`` is the name a load of one file
    records for it (an upload's: the service's)."""
    if source is not None and len(files) != 1:
        raise ValueError("source names one file")
    at = find_activity_type(lib, activity_type)
    reporting = ReportingPeriod.parse(period) if period is not None else None
    limit = RejectLimit.parse(max_rejects) if max_rejects is not None else RejectLimit()
    return [load_csv(conn, dataset, at, Path(f), progress, period=reporting, entity_set=entity_set, max_rejects=limit,
                     dialect=dialect, mapping=mapping, sheet=sheet, source=source)
            for f in files]


def demo(conn: psycopg.Connection, dataset: str = "demo", meridian: bool = True, engine: str | None = None) -> DemoResult:
    """Load the sample companies' structures and activity data (once) and run the latest published
    methodologies over them, each with the factor edition of 2024 where it names a set, else the
    edition it pins: Northwind (into ``dataset``) with every methodology, then, unless
    ``meridian`` is false, Meridian with those of its activity types; each run on ``engine``
    (``run_on``)."""
    from ccf.engine.inventory.entities import load_entity_set

    lib = library()
    methodologies = latest_published(lib)
    if engine_settings(engine).engine != POSTGRESQL:  # every methodology compiles there, before anything is loaded
        from ccf.engine.clickhouse.run import require_supported

        require_supported(methodologies)
    # its structure, so that 'ccf report RUN' finds the set the dataset is bound to
    load_entity_set(conn, NORTHWIND_ENTITIES, demo_dir() / "entities" / f"{NORTHWIND_ENTITIES}.csv")
    # Only the files of activity types the demo's versions read: the sample keeps rows of types
    # only earlier versions read (e.g. category 11's and 12's 1.0.0), for their published
    # snapshots; loaded here they would be rows of the dataset that no result, exclusion or
    # unmatched record of the demo's run accounts for.
    read = {t for m in methodologies
            for t in (m.activity.id, *([m.instruments.activity.id] if m.instruments is not None else []))}
    loads = []
    for csv in sorted(demo_dir().glob("*.csv")):
        activity_type = csv.stem.split(".")[0]
        if activity_type not in read or _already_loaded(conn, dataset, activity_type, csv):
            continue
        # the sample data is the reporting year 2024, of the entities of northwind-2024; a demo
        # dataset created before datasets had periods or entity sets keeps having none (both are
        # fixed when a dataset is created; its reports then choose the set by its entities)
        new = _new_dataset(conn, dataset)
        loads += load_files(conn, dataset, activity_type, [csv], lib, period=DEMO_PERIOD if new else None,
                            entity_set=NORTHWIND_ENTITIES if new else None)
    # The sample data are for 2024. Versions that name a set (factor_set: desnz) read its 2024
    # edition; the latest published versions that pin the 2025 edition are computed with it as
    # a recorded fallback on each of their results, shown by report and explain
    # (engine/factors/editions.py), so that the demo shows every methodology of the library.
    northwind = run_on(conn, dataset, methodologies, engine=engine, other_edition=True)
    return DemoResult(tuple(loads), northwind, _meridian(conn, lib, methodologies, engine) if meridian else None)


NORTHWIND_ENTITIES = "northwind-2024"
MERIDIAN_DATASET = "meridian"
MERIDIAN_ENTITIES = "meridian-2024"


def _meridian(conn: psycopg.Connection, lib: Library, methodologies: list[ir.Methodology], engine: str | None) -> CompanyDemo:
    """The multinational sample: its entity set, then each file of it into dataset ``meridian``
    (period 2024, bound to the entity set), then the methodologies of the activity types it has."""
    from ccf.engine.inventory.entities import load_entity_set

    root = resources.sample_company("meridian")
    load_entity_set(conn, MERIDIAN_ENTITIES, root / "entities" / f"{MERIDIAN_ENTITIES}.csv")
    loads: list[LoadReport] = []
    types = []
    for csv in sorted(root.glob("*.csv")):
        activity_type = csv.stem
        types.append(activity_type)
        if _already_loaded(conn, MERIDIAN_DATASET, activity_type, csv):
            continue
        new = _new_dataset(conn, MERIDIAN_DATASET)
        loads += load_files(conn, MERIDIAN_DATASET, activity_type, [csv], lib,
                            period=DEMO_PERIOD if new else None, entity_set=MERIDIAN_ENTITIES if new else None)
    # certificates are read by the market-based methodology of electricity, never run on their own
    chosen = [m for m in methodologies if m.activity.id in types]
    report = run_on(conn, MERIDIAN_DATASET, chosen, engine=engine, other_edition=True)
    if engine_settings(engine).engine == POSTGRESQL:
        tiers = tiers_by_country(conn, report.run_id)
    else:
        from ccf.engine.clickhouse import reads
        from ccf.engine.clickhouse.catalogue import opened
        from ccf.engine.sql import Executor

        with conn.transaction():
            ch, database = opened(Executor(conn))
        tiers = reads.tiers_by_country(conn, ch, database, report.run_id)
    return CompanyDemo(MERIDIAN_DATASET, tuple(loads), report, tuple(tiers))


DEMO_PERIOD = "2024"


def _new_dataset(conn: psycopg.Connection, dataset: str) -> bool:
    from ccf.engine.load import dataset_info
    from ccf.engine.sql import Executor

    with conn.transaction():
        return dataset_info(Executor(conn), dataset) is None


def _already_loaded(conn: psycopg.Connection, dataset: str, activity_type: str, csv: Path) -> bool:
    import hashlib

    from sqlglot import exp

    from ccf.engine.sql import Executor, column, param, table

    digest = hashlib.sha256(csv.read_bytes()).hexdigest()
    row = Executor(conn).one(
        exp.select(exp.Count(this=exp.Star()))
        .from_(table("activity_load"))
        .where(
            exp.and_(
                exp.EQ(this=column("dataset"), expression=param("dataset")),
                exp.EQ(this=column("activity_type"), expression=param("activity_type")),
                exp.EQ(this=column("sha256"), expression=param("sha256")),
            )
        ),
        {"dataset": dataset, "activity_type": activity_type, "sha256": digest},
    )
    conn.commit()
    return bool(row and row[0])


# --- the lifecycle of datasets and runs (engine/lifecycle/) ---------------------------------


def _read(conn: psycopg.Connection, query: Callable[..., Any], *args: Any) -> Any:
    """A read of the lifecycle modules in a transaction of its own (one snapshot of its statements)."""
    from ccf.engine.run import one_snapshot

    with one_snapshot(conn, rollback=True) as ex:
        return query(ex, *args)


def datasets(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every dataset: period, entity set, loads, rows loaded and rejected, activity types, runs."""
    from ccf.engine.lifecycle.datasets import list_datasets

    return _read(conn, list_datasets)


def dataset(conn: psycopg.Connection, name: str) -> dict[str, Any]:
    """One dataset with its loads and runs; an unknown name is a CcfError with did-you-mean."""
    from ccf.engine.lifecycle.datasets import show_dataset

    return _read(conn, show_dataset, name)


def delete_dataset(conn: psycopg.Connection, name: str, cascade: bool = False):
    """Delete a dataset with its loads and rows in one transaction; the runs over it stop the
    delete (CcfError naming them) unless ``cascade``, which deletes them too."""
    from ccf.engine.lifecycle.datasets import delete_dataset as delete

    return delete(conn, name, cascade)


def runs(conn: psycopg.Connection, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every run (over one dataset, if given; an unknown dataset is a CcfError), oldest first."""
    from ccf.engine.lifecycle.runs import list_runs
    from ccf.engine.load import require_dataset

    def query(ex, name):
        if name is not None:
            require_dataset(ex, name)
        return list_runs(ex, name)

    return _read(conn, query, dataset)


def run_info(conn: psycopg.Connection, run_id: int) -> dict[str, Any]:
    """One run: its totals by scope and each methodology's reconciliation."""
    from ccf.engine.lifecycle.runs import show_run

    return _read(conn, show_run, run_id)


def delete_run(conn: psycopg.Connection, run_id: int):
    """Delete a run and every row it wrote, in one transaction."""
    from ccf.engine.lifecycle.runs import delete_run as delete

    return delete(conn, run_id)


def rejects(conn: psycopg.Connection, load_id: int | None = None, dataset: str | None = None, offset: int = 0,
            limit: int | None = None) -> list[dict[str, Any]]:
    """The rows one load, or every load of a dataset, rejected: file, line, reason, record (from
    the ``offset``-th, at most ``limit``)."""
    from ccf.engine.lifecycle.rows import rejects as query

    return _read(conn, query, load_id, dataset, offset, limit)


def unmatched(conn: psycopg.Connection, run_id: int, methodology: str | None = None) -> list[dict[str, Any]]:
    """The rows a run left unmatched: file, line, reason (naming the keys a lookup tried)."""
    from ccf.engine.lifecycle.rows import unmatched as query

    return _read(conn, query, run_id, methodology)


def with_rows(conn: psycopg.Connection, dataset: str, methodologies: Sequence[ir.Methodology]
              ) -> tuple[list[ir.Methodology], list[ir.Methodology]]:
    """The methodologies whose activity type has rows loaded in the dataset, and the others
    (which a run with no methodology named skips); an unknown dataset is a CcfError."""
    from ccf.engine.lifecycle.datasets import activity_types_with_rows
    from ccf.engine.load import require_dataset

    def query(ex, name):
        require_dataset(ex, name)
        return activity_types_with_rows(ex, name)

    present = _read(conn, query, dataset)
    return [m for m in methodologies if m.activity.id in present], [m for m in methodologies if m.activity.id not in present]


def db_status() -> dict[str, Any]:
    """Where the database is; for the embedded server, whether it runs. Starts nothing."""
    from ccf.engine.lifecycle.server import status

    return status()


def db_stop() -> dict[str, Any]:
    """Stop the embedded server (CcfError with CCF_DATABASE_URL: not ccf's server)."""
    from ccf.engine.lifecycle.server import stop

    return stop()


def db_url() -> str:
    """The URL ccf connects with, any password masked."""
    from ccf.engine.lifecycle.server import url

    return url()


def adopt_clickhouse(conn: psycopg.Connection) -> dict[str, Any]:
    """This database takes its identity where it is now, and with it the ClickHouse database of
    its ClickHouse runs' rows (engine/clickhouse/catalogue.py): for a database moved, restored or
    upgraded whose original is gone. Committed."""
    from ccf.engine.clickhouse.catalogue import catalogue_database
    from ccf.engine.clickhouse.session import open_clickhouse
    from ccf.engine.sql import Executor

    database = catalogue_database(Executor(conn), open_clickhouse(), adopt=True)
    conn.commit()
    return {"clickhouse_database": database}


# --- test cases (engine/cases/) -------------------------------------------------------------


def case_plan(lib: Library, refs: Sequence[str] = ()) -> list[tuple[Case, ir.Methodology]]:
    """Each test case of the library with each version it applies to: of the versions named
    (``ID@VERSION``, or every version of ``ID``), else of every version. A problem in a case
    file is a CaseFileError; no case to run, a CcfError naming the file to write."""
    from ccf.dsl.cases import TESTS, CaseFileError, read_library_cases

    cases, problems = read_library_cases(lib)
    if problems:
        raise CaseFileError(problems, lib.sources)
    versions: list[ir.Methodology] = []
    for ref in refs:
        every = [m for m in lib.versions() if m.id == ref] if "@" not in ref else []
        versions += usable(lib, every) if every else resolve(lib, [ref])
    if not refs:
        versions = usable(lib, [m for m in lib.versions() if any(c.applies_to(m) for c in cases)])
    plan = [(c, m) for m in versions for c in cases if c.applies_to(m)]
    if not plan:
        where = (f"methodologies/{versions[0].id}/{TESTS}/<name>.yaml" if versions
                 else f"methodologies/<methodology id>/{TESTS}/<name>.yaml")
        raise CcfError(f"no test case applies to {', '.join(refs) or 'any methodology of the library'}: write one in "
                       f"{where} (docs/authoring.md, 'Test cases')")
    return plan


def run_test_cases(conn: psycopg.Connection, refs: Sequence[str] = (), lib: Library | None = None) -> list[CaseOutcome]:
    """Run the library's test cases (of the versions named, else all) on the database: one
    ``CaseOutcome`` per case and version. Nothing of them remains in the database."""
    from ccf.engine.cases import run_cases

    lib = lib or library()
    return run_cases(conn, lib, case_plan(lib, refs))
