"""The Python API: the same operations as the command line, returning data instead of text."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import psycopg

from ccf.dsl import ir, resources
from ccf.dsl.check import FactorSetSignature
from ccf.dsl.diagnostics import CcfError, DiagnosticError
from ccf.dsl.library import Library
from ccf.engine.compile import CompiledMethodology, compile_methodology
from ccf.engine.database import connect
from ccf.engine.factors.catalog import shipped_declarations
from ccf.engine.factors.store import install_shipped
from ccf.engine.load import LoadReport, RejectLimit, ReportingPeriod, load_csv
from ccf.engine.migrate import migrate, setup_lock
from ccf.engine.run import RunReport, run


def methodologies_dir() -> Path:
    """The methodology library: CCF_METHODOLOGIES, or the one shipped with ccf."""
    return Path(os.environ.get("CCF_METHODOLOGIES") or resources.methodologies())


def factor_signatures() -> dict[str, FactorSetSignature]:
    """The shipped factor-set declarations (methodologies/factor_sets/), by every id a
    methodology may name them by: each set's and each edition's. Read from the declarations
    alone: checking needs no factor file."""
    return dict(shipped_declarations())


def library(root: Path | None = None) -> Library:
    """Every activity type and methodology version under root (default: the shipped library)."""
    return Library.load(root or methodologies_dir(), factor_signatures())


def require_clean(lib: Library) -> Library:
    if lib.diagnostics:
        raise DiagnosticError(lib.diagnostics)
    return lib


def resolve(lib: Library, refs: Sequence[str]) -> list[ir.Methodology]:
    """Methodologies by 'id@version' or 'id' (its latest published version)."""
    out = []
    for ref in refs:
        try:
            out.append(lib.resolve(ref))
        except KeyError:
            from ccf.dsl.diagnostics import did_you_mean

            known = [m.ref for m in lib.versions()] + [m.id for m in lib.versions()]
            hint = did_you_mean(ref, known)
            raise CcfError(f"no methodology {ref!r}" + (f"; {hint}" if hint else "; see 'ccf list'")) from None
    return out


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
class DemoResult:
    loads: tuple[LoadReport, ...]
    report: RunReport


def demo_dir() -> Path:
    return resources.sample_company()


def load_files(
    conn: psycopg.Connection, dataset: str, activity_type: str, files: Sequence[Path], lib: Library,
    progress: Callable[[int], None] | None = None, *, period: str | None = None, entity_set: str | None = None,
    max_rejects: str | None = None,
) -> list[LoadReport]:
    """Load each file in a transaction of its own; ``max_rejects`` is ``N`` or ``P%`` (default:
    any number of rejected rows short of all of a file's)."""
    at = lib.activity_types.get(activity_type)
    if at is None:
        from ccf.dsl.diagnostics import did_you_mean

        hint = did_you_mean(activity_type, lib.activity_types)
        raise CcfError(f"unknown activity type {activity_type!r}" + (f"; {hint}" if hint else ""))
    reporting = ReportingPeriod.parse(period) if period is not None else None
    limit = RejectLimit.parse(max_rejects) if max_rejects is not None else RejectLimit()
    return [load_csv(conn, dataset, at, Path(f), progress, period=reporting, entity_set=entity_set, max_rejects=limit)
            for f in files]


def demo(conn: psycopg.Connection, dataset: str = "demo") -> DemoResult:
    """Load the sample company's activity data (once) and run every published methodology,
    each with the factor edition of 2024 where it names a set, else the edition it pins."""
    lib = require_clean(library())
    loads = []
    for csv in sorted(demo_dir().glob("*.csv")):
        activity_type = csv.stem.split(".")[0]
        if _already_loaded(conn, dataset, activity_type, csv):
            continue
        # the sample data is the reporting year 2024; a demo dataset created before datasets had
        # periods keeps having none (a dataset's period is fixed when it is created)
        period = DEMO_PERIOD if _new_dataset(conn, dataset) else None
        loads += load_files(conn, dataset, activity_type, [csv], lib, period=period)
    methodologies = [m for m in lib.latest_published()]
    # The sample data are for 2024. Versions that name a set (factor_set: desnz) read its 2024
    # edition; the latest published versions that pin the 2025 edition are computed with it as
    # a recorded fallback on each of their results, shown by report and explain
    # (engine/factors/editions.py), so that the demo shows every methodology of the library.
    return DemoResult(tuple(loads), run(conn, dataset, methodologies, other_edition=True))


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
