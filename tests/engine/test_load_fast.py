"""The fast path of engine/load.py (a cheap test per row, dates checked once per distinct value,
repeated ids by one aggregate, good rows inserted straight from staging) must load and reject
exactly what the one-by-one checks do: the same rows loaded with the same typed values, the same
rows rejected with the same lines, records and reasons, the same counts. Every file below is
loaded twice on the real database — with the fast path, and with ``load_csv(fast=False)`` (every row
through the one-by-one checks, the reference) — each time in a transaction that is rolled back,
and the outcomes compared."""

from __future__ import annotations

import random
import re
from pathlib import Path

import psycopg
import pytest

from ccf.dsl import ir
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile
from ccf.engine import load as load_module
from ccf.engine.load import source as staging
from ccf.engine.inventory.entities import load_entity_set
from ccf.engine.load import ReportingPeriod, activity_table, load_csv
from ccf.engine.load.base import REPEATED
from ccf.engine.load.tables import partition_name
from ccf.engine.sql import Executor, render

ROOT = Path(__file__).resolve().parents[2]
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier,supplier_rate"

DATES = ["2024-01-01", "2024-01-31", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-01-01",
         "2024-13-01", "2024-04-31", "2024-06-31", "2024-01-32", " 2024-01-01", "2024-01-01 ", "", "   ",
         "2024-1-01", "20240101", "9999-12-31", "2023-12-31", "2025-01-01", "2024-12-31", "2024-06-30",
         "2024-00-10", "2024-01-01T00:00", "２０２４-01-01", "2024-02-30"]
NUMBERS = ["1", "0", "-0", "+5", "1.5", ".5", "5.", ".", "", " ", " 12 ", "12 ", "1e3", "1E+3", "1e-4", "1e12345",
           "1e0001", "NaN", "nan", "Infinity", "-Infinity", "inf", "1_000", "0x1F", "0b101", "1,5", "-1", "-0.0",
           "12abc", "1.2.3", "+-1", "1" * 1000, "1" * 1001, "0." + "0" * 999, "1e", "e3", "١٢", "3534.761"]
UNITS = ["kWh", "MWh", "kwh", "KWH", "", " ", " kWh", "kWh ", "Wh", "therm", "xyz", "k Wh"]
IDS = [f"A{i}" for i in range(40)] + ["", " ", " A1", "A1 ", "a1", "A1\u200b"]
ENTITIES = ["Plant", "NW-HOLD", "NW-UK-MFG", "", " ", " NW-HOLD", "nw-hold", "NW-HOLD "]
TEXTS = ["GB", "", " ", " GB", "x", "'; DROP TABLE ccf.rejected; --", "%(dataset)s %s", "\\N", "tab\there", "漢字 🚀"]


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value


def _electricity_rows(seed: int, n: int) -> list[str]:
    """Rows whose every cell is good 94% of the time, else any of the hostile values above."""
    rnd = random.Random(seed)
    pick = lambda good, values: rnd.choice(values) if rnd.random() < 0.06 else good  # noqa: E731
    rows = []
    for i in range(n):
        cells = [pick(f"R{i}", IDS), pick("NW-HOLD", ENTITIES), pick("2024-01-01", DATES), pick("2024-12-31", DATES),
                 pick(rnd.choice(["12", "3534.761", "0"]), NUMBERS), pick(rnd.choice(["kWh", "MWh"]), UNITS),
                 pick("GB", TEXTS), pick("", TEXTS), pick(rnd.choice(["", "EDF"]), TEXTS),
                 pick(rnd.choice(["", "0.12", "-0.5"]), NUMBERS)]
        rows.append(",".join(_quote(c) for c in cells))
    return rows


@pytest.fixture()
def electricity() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(ROOT / "methodologies/activity_types/electricity.yaml"))


@pytest.fixture()
def survey(tmp_path: Path) -> ir.ActivityType:
    """A boolean, a plain number (may be negative), a date besides the period, a fixed-unit quantity
    (never negative) and optional text."""
    path = tmp_path / "survey.yaml"
    path.write_text(
        "activity_type: survey\ntitle: Test type\nfields:\n  flag: boolean\n  count: number\n  delivered: date\n"
        "  mass:\n    type: quantity\n    unit: t\n  note:\n    type: text\n    required: false\n"
        "  checked:\n    type: boolean\n    required: false\n  due:\n    type: date\n    required: false\n",
        encoding="utf-8")
    return read_activity_type(SourceFile.read(path))


@pytest.fixture()
def entity_set(db, tmp_path) -> str:
    path = tmp_path / "entities.csv"
    path.write_text("entity,name,parent,equity_share,financial_control,operational_control\n"
                    "NW-GROUP,Group,,,,\nNW-HOLD,Head office,NW-GROUP,1,true,true\n"
                    "NW-UK-MFG,Plant,NW-GROUP,1,true,true\n", encoding="utf-8")
    load_entity_set(db, "fast-path-set", path)
    db.commit()
    return "fast-path-set"


def _write(tmp_path: Path, name: str, header: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode("utf-8"))
    return path


def _outcome(db, at: ir.ActivityType, files: list[Path], *, period: str | None = None,
             entity_set: str | None = None, fast: bool = True) -> list[tuple]:
    """Load ``files`` one after the other into one dataset and return everything observable of
    each load (load ids numbered from 1: the identity does not roll back), then roll back."""
    table = render(activity_table(at), pretty=False)  # test-only read of the engine's own table name
    out: list[tuple] = []
    with db.transaction():
        reports = [load_csv(db, "d", at, f, period=ReportingPeriod.parse(period) if period else None,
                            entity_set=entity_set, fast=fast) for f in files]
        ids = {r.load_id: n for n, r in enumerate(reports, 1)}
        number = lambda text: re.sub(r"\(load (\d+),", lambda m: f"(load #{ids[int(m[1])]},", text)  # noqa: E731
        for r in reports:
            out.append(("report", ids[r.load_id], r.rows_read, r.rows_loaded, r.rows_rejected, r.reasons, r.sha256))
        cur = db.execute(f"SELECT * FROM {table} WHERE dataset = 'd' ORDER BY load_id, line_no")
        names = [c.name for c in cur.description]
        for row in cur.fetchall():
            out.append(("loaded", *[ids[v] if n == "load_id" else v for n, v in zip(names, row)]))
        for load_id, line, aid, record, reason in db.execute(
                "SELECT load_id, line_no, activity_id, record, reason FROM ccf.rejected WHERE dataset = 'd' "
                "ORDER BY load_id, line_no").fetchall():
            out.append(("rejected", ids[load_id], line, aid, record, number(reason)))
        raise psycopg.Rollback
    return out


def _both(db, monkeypatch, at, files, **kw) -> list[tuple]:
    fast = _outcome(db, at, files, **kw)
    reference = _outcome(db, at, files, fast=False, **kw)
    assert fast == reference
    return fast


def _count(outcome: list[tuple], kind: str) -> int:
    return sum(1 for o in outcome if o[0] == kind)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hostile_electricity_rows_same_as_one_by_one(db, electricity, tmp_path, monkeypatch, seed):
    path = _write(tmp_path, "e.csv", HEADER, _electricity_rows(seed, 400))
    outcome = _both(db, monkeypatch, electricity, [path])
    assert _count(outcome, "loaded") > 50 and _count(outcome, "rejected") > 50  # both paths exercised


def test_with_period_and_entity_set(db, electricity, tmp_path, monkeypatch, entity_set):
    path = _write(tmp_path, "e.csv", HEADER, _electricity_rows(4, 400))
    outcome = _both(db, monkeypatch, electricity, [path], period="2024", entity_set=entity_set)
    reasons = " ".join(str(o[-1]) for o in outcome if o[0] == "rejected")
    assert "the reporting period 2024-01-01..2024-12-31" in reasons and "is not an entity of entity set" in reasons
    assert _count(outcome, "loaded") > 20


def test_second_load_into_a_dataset_with_rows(db, electricity, tmp_path, monkeypatch):
    first = _write(tmp_path, "a.csv", HEADER, _electricity_rows(5, 200))
    second = _write(tmp_path, "b.csv", HEADER, _electricity_rows(6, 200)
                    + [f"N{i},Plant,2024-01-01,2024-01-31,{i},kWh,GB,,," for i in range(30)])
    outcome = _both(db, monkeypatch, electricity, [first, second])
    assert any(o[0] == "rejected" and o[1] == 2 and "is already in dataset" in o[-1] for o in outcome)
    assert any(o[0] == "loaded" and o[4] == "N3" for o in outcome)


def test_python_staged_file_same_as_one_by_one(db, electricity, tmp_path, monkeypatch):
    """A file PostgreSQL does not parse (a quote inside a cell, wrong field counts, NUL, a line
    break in a quoted cell): staged record by record, rows refused while staging included."""
    rows = _electricity_rows(7, 200) + [
        'Q1,Pl"ant,2024-01-01,2024-01-31,1,kWh,GB,,,', "F1,Plant,2024-01-01", "F2,Plant,2024-01-01,2024-01-31,1,kWh,GB,,,,extra",
        "A3,Plant,2024-01-01", "Z1,Pla\x00nt,2024-01-01,2024-01-31,1,kWh,GB,,,", '"M1",Plant,2024-01-01,2024-01-31,1,kWh,"G\nB",,,',
        "A5,Plant,2024-01-01,2024-01-31,7,kWh,GB,,,"]
    path = _write(tmp_path, "e.csv", HEADER, rows)
    staged: list[bool] = []
    stage_plain = staging.stage_plain
    monkeypatch.setattr(staging, "stage_plain", lambda *a: staged.append(True) or stage_plain(*a))
    outcome = _both(db, monkeypatch, electricity, [path])
    reasons = " ".join(str(o[-1]) for o in outcome if o[0] == "rejected")
    assert "fields but the header has" in reasons and "NUL character" in reasons
    assert staged


def test_other_field_kinds_same_as_one_by_one(db, survey, tmp_path, monkeypatch):
    rnd = random.Random(8)
    header = "activity_id,entity,period_start,period_end,flag,count,delivered,mass,note,checked,due"
    booleans = ["true", "false", "yes", "no", "1", "0", "TRUE", "Yes", " true", "true ", "", " ", "maybe", "t"]
    rows = []
    for i in range(400):
        pick = lambda good, values: rnd.choice(values) if rnd.random() < 0.06 else good  # noqa: E731
        cells = [pick(f"S{i}", IDS), "Plant", pick("2024-01-01", DATES), "2024-12-31",
                 pick(rnd.choice(booleans[:6]), booleans), pick(rnd.choice(["-3", "4", "0"]), NUMBERS),
                 pick(rnd.choice(DATES[:3]), DATES), pick(rnd.choice(["2", "0"]), NUMBERS), pick("", TEXTS),
                 pick(rnd.choice(["", "yes"]), booleans), pick(rnd.choice(["", "2024-05-01"]), DATES)]
        rows.append(",".join(_quote(c) for c in cells))
    outcome = _both(db, monkeypatch, survey, [_write(tmp_path, "s.csv", header, rows)])
    assert _count(outcome, "loaded") > 20 and _count(outcome, "rejected") > 50


def test_one_date_besides_the_period(db, tmp_path, monkeypatch):
    """Its distinct values alone (no UNION to make them distinct) are looked up once a row."""
    path = tmp_path / "one.yaml"
    path.write_text("activity_type: one_date\ntitle: Test type\nfields:\n  day:\n    type: date\n    required: false\n",
                    encoding="utf-8")
    at = read_activity_type(SourceFile.read(path))
    rows = [f"D{i},Plant,2024-01-01,2024-12-31,{d}" for i, d in enumerate(["2024-05-01"] * 5 + DATES)]
    outcome = _both(db, monkeypatch, at, [_write(tmp_path, "d.csv", "activity_id,entity,period_start,period_end,day", rows)])
    assert _count(outcome, "loaded") > 8


def test_reported_cases(db, electricity, tmp_path, monkeypatch):
    """The cases named in the issue, one row each, with the reasons the loader gives."""
    rows = ["B1,Plant,2023-02-29,2023-03-31,1,kWh,GB,,,", "B2,Plant,2024-02-29,2024-03-31,NaN,kWh,GB,,,",
            "B3,Plant,2024-01-01,2024-01-31,Infinity,kWh,GB,,,", "B4,Plant,2024-01-01,2024-01-31,1_000,kWh,GB,,,",
            "B5,Plant,2024-01-01,2024-01-31,,kWh,GB,,,", "B6,,2024-01-01,2024-01-31,1,kWh,GB,,,",
            "B7,Plant,2024-01-01,2024-01-31, 5 ,kWh,GB,,,", "B8,Plant,2024-01-01,2024-01-31,-0,kWh,GB,,,",
            "B9,Plant, 2024-01-01,2024-01-31,1e3,MWh,GB,,,", "B1,Plant,2024-01-01,2024-01-31,1,kWh,GB,,,"]
    outcome = _both(db, monkeypatch, electricity, [_write(tmp_path, "e.csv", HEADER, rows)])
    assert [(o[2], o[-1]) for o in outcome if o[0] == "rejected"] == [
        (2, "period_start '2023-02-29' is not a valid date (expected YYYY-MM-DD)"),
        (3, "quantity 'NaN' is not a number"),
        (4, "quantity 'Infinity' is not a number"),
        (5, "quantity '1_000' is not a number"),
        (6, "quantity is required but empty"),
        (7, "entity is required but empty"),
        (11, "activity_id 'B1' appears more than once (also line 2)"),
    ]
    # B7, B8, B9 are good rows the fast test leaves to the one-by-one checks: loaded all the same
    assert sorted(o[4] for o in outcome if o[0] == "loaded") == ["B7", "B8", "B9"]


def test_clean_rows_take_the_fast_path(db, electricity, tmp_path, monkeypatch):
    ran: list[tuple[str, int]] = []

    class Recording(Executor):
        def execute(self, tree, params=None):
            cur = super().execute(tree, params)
            ran.append((self.statements[-1], cur.rowcount))
            return cur

    monkeypatch.setattr(load_module, "Executor", Recording)
    rows = [f"C{i},Plant,2024-01-01,2024-01-31,{i}.5,kWh,GB,,," for i in range(100)] + ["X1,Plant,2024-01-01,2024-01-31,x,kWh,GB,,,"]
    report = load_csv(db, "d", electricity, _write(tmp_path, "e.csv", HEADER, rows))
    assert (report.rows_loaded, report.rows_rejected) == (100, 1)
    slow = [n for sql, n in ran if sql.startswith(f"CREATE TEMPORARY TABLE {load_module.SLOW}")]
    # the dataset's first load: into its new partition, before the partition has its key
    partition = f'INSERT INTO ccf_activity."{partition_name("electricity", "d")}"'
    fast = [n for sql, n in ran if sql.startswith(partition)]
    assert slow == [1] and fast == [100, 0]
    assert db.execute("SELECT current_setting('work_mem')").fetchone()[0] != load_module.LOAD_WORK_MEM


def test_a_first_load_finds_repeated_ids_by_its_key(db, electricity, tmp_path, monkeypatch):
    """A dataset's first load leaves out the aggregate of the staged ids: the key of its new
    partition finds an id repeated among the fast rows, a lookup an id of a rejected row that a
    loaded row also has; either rolls the classification back, which runs again with the
    aggregate, and the outcome is the one-by-one checks' (compared by ``_both``)."""
    ran: list[str] = []

    class Recording(Executor):
        def execute(self, tree, params=None):
            cur = super().execute(tree, params)
            ran.append(self.statements[-1])
            return cur

    monkeypatch.setattr(load_module, "Executor", Recording)
    aggregates = lambda: sum(sql.startswith(f"CREATE TEMPORARY TABLE {REPEATED}") for sql in ran)  # noqa: E731
    good = [f"C{i},Plant,2024-01-01,2024-01-31,{i}.5,kWh,GB,,," for i in range(30)]
    cases = {
        "no id repeated": (good + ["X1,Plant,2024-01-01,2024-01-31,x,kWh,GB,,,"], 0,
                           [(32, "quantity 'x' is not a number")]),
        "repeated among fast rows": (good + ["C3,Plant,2024-02-01,2024-02-29,1,kWh,GB,,,"], 1,
                                     [(32, "activity_id 'C3' appears more than once (also line 5)")]),
        # the rejected row comes first: the fast row after it is the repeat, rejected too
        "a rejected row's id loaded fast": (["C0,Plant,2024-01-01,2024-01-31,x,kWh,GB,,,"] + good, 1,
                                            [(2, "quantity 'x' is not a number"),
                                             (3, "activity_id 'C0' appears more than once (also line 2)")]),
    }
    for name, (rows, aggregated, rejected) in cases.items():
        ran.clear()
        outcome = _outcome(db, electricity, [_write(tmp_path, "e.csv", HEADER, rows)])
        assert aggregates() == aggregated, name
        assert [(o[2], o[-1]) for o in outcome if o[0] == "rejected"] == rejected, name
        assert outcome == _outcome(db, electricity, [_write(tmp_path, "e.csv", HEADER, rows)], fast=False), name
    # the load id is taken once: the attempt rolled back leaves no gap before the next load's
    with db.transaction():
        repeated = load_csv(db, "d1", electricity, _write(tmp_path, "r.csv", HEADER, cases["repeated among fast rows"][0]))
        after = load_csv(db, "d2", electricity, _write(tmp_path, "e.csv", HEADER, good))
        assert after.load_id == repeated.load_id + 1
        raise psycopg.Rollback


def test_rejected_rows_name_only_a_load_that_exists(db, electricity, tmp_path, monkeypatch):
    """ccf.rejected has no foreign key to ccf.activity_load (migration 0030): the statement that
    writes a load's rejected rows joins the load's row by its id. Told an id that no load has, it
    writes no row, and the load refuses to commit (its rejected rows do not reconcile); a per-row
    key would have refused each row instead."""
    assert db.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = 'ccf.rejected'::regclass "
                      "AND contype = 'f'").fetchone() == (0,)

    class OtherLoad(Executor):
        def one(self, tree, params=None):
            row = super().one(tree, params)
            if self.statements[-1].startswith("INSERT INTO ccf.activity_load"):
                return (row[0] + 1_000_000, *row[1:])  # an id no load has
            return row

    monkeypatch.setattr(load_module, "Executor", OtherLoad)
    rows = ["C1,Plant,2024-01-01,2024-01-31,1,kWh,GB,,,", "X1,Plant,2024-01-01,2024-01-31,x,kWh,GB,,,"]
    with pytest.raises(load_module.LoadError, match=r"rows do not reconcile \(read 2, loaded 1 of 1, rejected 0 of 1\)"):
        load_csv(db, "d", electricity, _write(tmp_path, "e.csv", HEADER, rows))
    db.rollback()
    assert db.execute("SELECT count(*) FROM ccf.rejected WHERE dataset = 'd'").fetchone() == (0,)


def test_without_the_fast_path_every_row_is_checked_one_by_one(db, electricity, tmp_path, monkeypatch):
    """``load_csv(fast=False)``, the reference the tests above compare with, takes no row fast."""
    ran: list[tuple[str, int]] = []

    class Recording(Executor):
        def execute(self, tree, params=None):
            cur = super().execute(tree, params)
            ran.append((self.statements[-1], cur.rowcount))
            return cur

    monkeypatch.setattr(load_module, "Executor", Recording)
    rows = [f"C{i},Plant,2024-01-01,2024-01-31,{i}.5,kWh,GB,,," for i in range(20)]
    report = load_csv(db, "d", electricity, _write(tmp_path, "e.csv", HEADER, rows), fast=False)
    assert (report.rows_loaded, report.rows_rejected) == (20, 0)
    assert [n for sql, n in ran if sql.startswith(f"CREATE TEMPORARY TABLE {load_module.SLOW}")] == [20]


def test_quoted_cell_pattern_matches_the_former_one():
    """``QUOTED_CELL`` starts with the quote (fast); it must remove what the former pattern did."""
    former = re.compile(rb'(?<![^,\n])"(?:[^"\r\n]|"")*"(?=[,\r\n]|\Z)')
    rnd = random.Random(9)
    alphabet = [b",", b"\n", b"\r", b'"', b"a", b" ", b'""', b"\r\n"]
    for _ in range(50_000):
        s = b"".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 16)))
        assert staging.QUOTED_CELL.sub(b"", s) == former.sub(b"", s), s
