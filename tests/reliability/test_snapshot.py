"""A run reads one snapshot: loads committed while it runs reach none of its statements.

Another connection commits a load at each step of a run: before a methodology's evaluate
statement, before its later statements (results, reconcile), between methodologies, and while
the run finishes (statistics, summary). The run must commit with every methodology reading the
same activity rows, exactly the rows of the loads it records, and ``ccf verify`` of it must say
identical, also once more loads were added. Two runs interleaved both commit and both verify.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import psycopg
import pytest
from psycopg import sql as pgsql
from sqlglot import exp

from helpers import shipped_library
from reliability._support import unique
from ccf.dsl.diagnostics import CcfError
from ccf.engine import run as run_module
from ccf.engine.api import demo_dir
from ccf.engine.compile import CompiledMethodology, compile_methodology
from ccf.engine.database import connect
from ccf.engine.explain import explain
from ccf.engine.load import dataset_loads, load_csv
from ccf.engine.run import FINISHING, RunError, RunReport, run
from ccf.engine.sql import Executor, column, param, table
from ccf.engine.verify import verify

# three methodologies over one activity type, one of them allocating instruments
REFS = ("scope2.electricity.location_based@1.0.0", "scope2.electricity.market_based@1.1.0",
        "scope3.cat3.fuel_energy.electricity@1.0.0")
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
CERTIFICATES = "activity_id,entity,period_start,period_end,instrument_type,quantity,quantity_unit,country,grid_region,vintage,emission_rate,registry"


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


@pytest.fixture()
def dataset(db, lib) -> str:
    """The sample company's electricity and certificates: the loads every run below reads."""
    name = unique("snap")
    for activity_type in ("electricity", "energy_attribute_certificates"):
        load_csv(db, name, lib.activity_types[activity_type], demo_dir() / f"{activity_type}.csv")
    return name


class Loader:
    """Commits a load into the dataset from another connection, each time with new rows: four
    good electricity rows, one rejected, and a certificate that would serve them."""

    def __init__(self, url: str, lib, dataset: str, folder: Path):
        self.conn = connect(url)
        self.conn.execute("SET lock_timeout = '20s'")  # a load waiting on the run would hang the test
        self.conn.commit()
        self.lib, self.dataset, self.folder, self.done = lib, dataset, folder, 0

    def __call__(self) -> None:
        n = self.done = self.done + 1
        rows = [f"LATE-{n}-{i},NW-UK-MFG,2024-0{i + 1}-01,2024-0{i + 1}-28,{1000 * (i + 1)},kWh,GB,," for i in range(4)]
        rows.append(f"LATE-{n}-bad,NW-UK-MFG,2024-05-01,2024-05-31,lots,kWh,GB,,")
        electricity = self.folder / f"late-{n}.csv"
        electricity.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        certificate = self.folder / f"late-{n}-rego.csv"
        certificate.write_text(f"{CERTIFICATES}\nLATE-REGO-{n},NW-UK-MFG,2024-01-01,2024-12-31,REGO,50,MWh,GB,,2024,0,late\n",
                               encoding="utf-8")
        load_csv(self.conn, self.dataset, self.lib.activity_types["electricity"], electricity)
        load_csv(self.conn, self.dataset, self.lib.activity_types["energy_attribute_certificates"], certificate)

    def close(self) -> None:
        self.conn.close()


def hooked(monkeypatch, before: Callable[[str, str], None]) -> None:
    """Call ``before(methodology ref, statement name)`` before each compiled statement a run
    executes (engine/run.py iterates ``statements()`` to execute them, and once more when it
    records the compiled SQL: a hook acts at its step once)."""

    class Hooked(CompiledMethodology):
        def statements(self):
            for name, tree in super().statements():
                before(self.methodology.ref, name)
                yield name, tree

    def compile_hooked(m):
        c = compile_methodology(m)
        return Hooked(**{f.name: getattr(c, f.name) for f in dataclasses.fields(c)})

    monkeypatch.setattr(run_module, "compiled", compile_hooked)


def _loaded(db, dataset: str, loads: tuple[int, ...], activity_type: str) -> tuple[int, int]:
    """Rows loaded and rejected of an activity type by the given loads, as ccf.activity_load says."""
    row = Executor(db).one(
        exp.select(exp.func("coalesce", exp.Sum(this=column("rows_loaded")), exp.Literal.number(0)),
                   exp.func("coalesce", exp.Sum(this=column("rows_rejected")), exp.Literal.number(0)))
        .from_(table("activity_load"))
        .where(exp.and_(
            exp.EQ(this=column("dataset"), expression=param("dataset")),
            exp.EQ(this=column("activity_type"), expression=param("activity_type")),
            exp.EQ(this=column("load_id"), expression=exp.Any(this=exp.Paren(this=param("loads")))),
        )),
        {"dataset": dataset, "activity_type": activity_type, "loads": list(loads)},
    )
    db.commit()
    return int(row[0]), int(row[1])


def _outcomes(db, run_id: int, methodology_id: str) -> int:
    """Activity rows of the run with a stored outcome: a result, an exclusion or an unmatched record."""
    counted = db.execute(
        """SELECT count(DISTINCT activity_id) FROM (
             SELECT activity_id FROM ccf.result WHERE run_id = %(r)s AND methodology_id = %(m)s
             UNION ALL SELECT activity_id FROM ccf.excluded WHERE run_id = %(r)s AND methodology_id = %(m)s
             UNION ALL SELECT activity_id FROM ccf.unmatched WHERE run_id = %(r)s AND methodology_id = %(m)s) o""",
        {"r": run_id, "m": methodology_id},
    ).fetchone()[0]
    db.commit()
    return counted


def assert_one_snapshot(db, lib, report: RunReport) -> None:
    """Every methodology read the rows of exactly the run's recorded loads, and verify agrees."""
    loaded, rejected = _loaded(db, report.dataset, report.loads, "electricity")
    assert loaded > 0
    for m in report.methodologies:
        r = m.reconciliation
        assert (r.rows_in, r.rows_rejected) == (loaded, rejected), (m.methodology_id, r, report.loads)
        assert r.balanced
        assert _outcomes(db, report.run_id, m.methodology_id) == loaded
    assert list(report.loads) == sorted(report.loads)
    v = verify(db, report.run_id, lib)
    assert v.identical, v.problems
    assert v.checked["result"] > 0


STEPS = [
    (REFS[0], "evaluate"),  # before the first statement that reads activity rows
    (REFS[0], "results"),
    (REFS[0], "reconcile"),
    (REFS[1], "evaluate"),  # between methodologies
    (REFS[1], "instruments"),
    (REFS[2], "reconcile"),
    (FINISHING, ""),  # before the end-of-run ANALYZE and the summary with the run's loads
]


@pytest.mark.parametrize("step", STEPS, ids=[f"{ref.split('@')[0]}-{name}" if name else "finishing" for ref, name in STEPS])
def test_a_load_committed_during_a_run_is_read_by_none_of_its_statements(db, db_url, lib, dataset, tmp_path, monkeypatch, step):
    loader = Loader(db_url, lib, dataset, tmp_path)
    hooked(monkeypatch, lambda ref, name: loader() if (ref, name) == step and not loader.done else None)
    before = _loaded(db, dataset, tuple(dataset_loads(Executor(db), dataset)), "electricity")
    db.commit()
    try:
        report = run(db, dataset, [lib.resolve(r) for r in REFS], other_edition=True,
                     progress=lambda ref: loader() if (ref, "") == step else None)
    finally:
        loader.close()
    assert loader.done == 1  # the load was committed while the run was in progress
    assert _loaded(db, dataset, report.loads, "electricity") == before  # the run recorded the loads it read
    assert_one_snapshot(db, lib, report)
    # a later run reads the new load; the earlier one still verifies identical
    again = run(db, dataset, [lib.resolve(r) for r in REFS], other_edition=True)
    assert len(again.loads) == len(report.loads) + 2
    assert again.methodologies[0].reconciliation.rows_in == before[0] + 4
    assert_one_snapshot(db, lib, again)
    assert verify(db, report.run_id, lib).identical


def test_runs_interleaved_both_commit_and_read_their_own_snapshots(db, db_url, lib, dataset, tmp_path, monkeypatch):
    """A whole run (and a load) commits while another is between its methodologies: REPEATABLE
    READ raises no serialization failure, since a run writes only rows of its own."""
    loader = Loader(db_url, lib, dataset, tmp_path)
    other: list[RunReport] = []

    def meanwhile(ref: str, name: str) -> None:
        if (ref, name) == (REFS[1], "evaluate") and not loader.done:  # once: the other run is hooked too
            loader()
            with connect(db_url) as conn:
                other.append(run(conn, dataset, [lib.resolve(r) for r in REFS], other_edition=True))

    hooked(monkeypatch, meanwhile)
    try:
        first = run(db, dataset, [lib.resolve(r) for r in REFS], other_edition=True)
    finally:
        loader.close()
    monkeypatch.undo()
    assert len(other[0].loads) == len(first.loads) + 2
    assert other[0].run_id > first.run_id
    for report in (first, other[0]):
        assert_one_snapshot(db, lib, report)


def test_explain_reads_only_the_loads_of_the_run(db, db_url, lib, dataset, tmp_path):
    report = run(db, dataset, [lib.resolve(REFS[1])], other_edition=True)
    loader = Loader(db_url, lib, dataset, tmp_path)
    try:
        loader()  # more consumption and a certificate: recomputing the allocation with them would differ
    finally:
        loader.close()
    first = sorted(Executor(db).rows(
        exp.select(column("activity_id")).from_(table("result"))
        .where(exp.EQ(this=column("run_id"), expression=param("run_id"))), {"run_id": report.run_id}))[0][0]
    db.commit()
    assert all(p.reproduces_stored for p in explain(db, report.run_id, first, lib).parts)
    with pytest.raises(CcfError, match="not part of it"):
        explain(db, report.run_id, "LATE-1-0", lib)


def test_a_run_reads_one_snapshot_whatever_the_callers_open_transaction(db, lib, dataset):
    """A READ COMMITTED transaction open on the caller's connection (psycopg opens one at the first
    statement) is committed first; the run reads one snapshot on a connection of its own."""
    db.execute("SELECT 1")
    report = run(db, dataset, [lib.resolve(REFS[0])], other_edition=True)
    assert_one_snapshot(db, lib, report)


def test_one_snapshot_refuses_a_transaction_without_one(db):
    """Inside a transaction already open, ``one_snapshot`` is a savepoint of it, which must read one
    snapshot itself (REPEATABLE READ or SERIALIZABLE)."""
    from ccf.engine.run import one_snapshot

    db.execute("SELECT 1")  # READ COMMITTED: each statement would see its own snapshot
    with pytest.raises(RunError, match="one snapshot"):
        with one_snapshot(db):
            pass
    db.rollback()
    db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    with one_snapshot(db) as ex:
        assert ex.one(exp.select(exp.func("current_setting", exp.Literal.string("transaction_isolation")))) == ("repeatable read",)
    db.rollback()


def test_verify_reports_a_recorded_load_the_dataset_no_longer_holds(db, lib, dataset):
    report = run(db, dataset, [lib.resolve(REFS[0])], other_edition=True)
    with db.transaction():  # not something ccf does: loads are only ever added
        db.execute("DELETE FROM ccf.rejected WHERE load_id = %s", (report.loads[0],))
        db.execute("DELETE FROM ccf.activity_electricity WHERE load_id = %s", (report.loads[0],))
        db.execute("DELETE FROM ccf.activity_load WHERE load_id = %s", (report.loads[0],))
    v = verify(db, report.run_id, lib)
    assert not v.identical
    assert any("no longer holds load" in p for p in v.problems), v.problems


def test_both_versions_of_a_diff_read_the_same_loads(db, db_url, lib, dataset, tmp_path, monkeypatch):
    """``ccf diff`` runs version A, then version B: a load committed between them reaches neither."""
    from ccf.engine.attribution import runs_for

    a, b = lib.resolve("scope2.electricity.location_based@1.0.0"), lib.resolve("scope2.electricity.location_based@1.1.0")
    loader = Loader(db_url, lib, dataset, tmp_path)
    hooked(monkeypatch, lambda ref, name: loader() if (ref, name) == (a.ref, "evaluate") and not loader.done else None)
    try:
        side_a, side_b = runs_for(db, dataset, a, b, reuse=False)
    finally:
        loader.close()
    assert loader.done == 1
    loads = dict(db.execute("SELECT run_id, summary->'loads' FROM ccf.run WHERE run_id IN (%s, %s)",
                            (side_a.run_id, side_b.run_id)).fetchall())
    db.commit()
    assert loads[side_a.run_id] == loads[side_b.run_id]
    assert len(loads[side_a.run_id]) == len(dataset_loads(Executor(db), dataset)) - 2


@pytest.mark.parametrize("default", ["read committed", "serializable"])
def test_a_run_is_repeatable_read_whatever_the_database_default(db, lib, dataset, monkeypatch, default):
    """The run's own connection inherits the database's default isolation: its first statement
    sets REPEATABLE READ whatever that is."""
    db.execute(pgsql.SQL("ALTER DATABASE {} SET default_transaction_isolation = {}").format(
        pgsql.Identifier(db.info.dbname), pgsql.Literal(default)))
    db.commit()
    seen: list[str] = []

    def spy(ex, *args, **kwargs):  # the run's first executor: its connection is the run's
        seen.append(ex.one(exp.select(exp.func("current_setting", exp.Literal.string("transaction_isolation"))))[0])
        return original(ex, *args, **kwargs)

    original = run_module.require_dataset
    monkeypatch.setattr(run_module, "require_dataset", spy)
    report = run(db, dataset, [lib.resolve(REFS[0])], other_edition=True)
    assert seen == ["repeatable read"]
    assert_one_snapshot(db, lib, report)
