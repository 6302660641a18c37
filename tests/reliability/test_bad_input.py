"""The bad-input catalogue: one test per kind of bad input, each asserting the clear error (or
the rejected row's reason) AND that a run afterwards still reconciles — bad input never leaves
the database in a state where the numbers stop adding up.

Front-end mistakes reuse the golden files of tests/dsl/bad (their exact rendering is asserted
by tests/dsl/test_golden.py; here only the code and first line). Loader rejections are asserted
in detail by tests/engine/test_load.py; here each is followed by a run.

Dates outside the period: a dataset may have a reporting period (set by its first load); rows
outside it, or straddling one of its ends, are rejected. Unknown entities: a dataset may be bound
to an entity set (by its first load); rows of other entities are rejected. Without either, the
report lists rows of entities not in its entity set and keeps them out of every total.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from helpers import shipped_library
from reliability._support import NIGHTLY, ROOT, nightly, unique
from ccf.dsl.diagnostics import DiagnosticError, render
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.source import SourceFile
from ccf.engine.api import factor_signatures
from ccf.engine.cli import main
from ccf.engine.database import connect
from ccf.engine.inventory.entities import load_entity_set
from ccf.engine.inventory.inventory import build_inventory
from ccf.engine.load import LoadError, RejectLimit, ReportingPeriod, load_csv
from ccf.engine.run import RunError, run

BAD = ROOT / "tests" / "dsl" / "bad"
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
GOOD_ROWS = ["G1,ACME,2024-01-01,2024-01-31,100,kWh,GB,,", "G2,ACME,2024-01-01,2024-01-31,0,kWh,GB,,",
             "G3,ACME,2024-01-01,2024-01-31,5,MWh,FR,,"]
ELECTRICITY = "scope2.electricity.location_based@1.0.0"


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


@pytest.fixture()
def dataset(conn, lib, tmp_path) -> str:
    """A dataset holding three good rows (a result, an exclusion, an unmatched row)."""
    name = unique("bad")
    load_csv(conn, name, lib.activity_types["electricity"], write(tmp_path / "good.csv", HEADER, *GOOD_ROWS))
    return name


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rejected(conn, dataset: str) -> list[tuple[int, str]]:
    rows = conn.execute("SELECT line_no, reason FROM ccf.rejected WHERE dataset = %s ORDER BY line_no", (dataset,)).fetchall()
    conn.rollback()
    return rows


def assert_run_balances(conn, lib, dataset: str, rows_in: int = 3, rows_rejected: int = 0,
                        other_edition: bool = False) -> None:
    """Run the electricity methodology: every loaded row is a result, exclusion or unmatched
    row, and the rejected rows are counted beside them."""
    report = run(conn, dataset, [lib.resolve(ELECTRICITY)], other_edition=other_edition)
    rec = report.methodologies[0].reconciliation
    assert rec.balanced
    assert (rec.rows_in, rec.rows_rejected) == (rows_in, rows_rejected)


# --- methodology files (front end) ---------------------------------------------------------

FRONT_END = [
    ("malformed YAML", "yaml_unclosed_quote", "E101"),
    ("YAML tab indentation", "yaml_tab", "E101"),
    ("duplicate key", "duplicate_key_top", "E103"),
    ("duplicate key in a rule", "duplicate_key_rule", "E103"),
    ("unknown key", "unknown_top_key", "E202"),
    ("unknown key in a rule", "unknown_rule_key", "E202"),
    ("syntax error", "syntax_unclosed_paren", "E302"),
    ("syntax error: single =", "syntax_single_equals", "E303"),
    ("unknown name", "unknown_field", "E401"),
    ("unknown function", "unknown_function", "E402"),
    ("unit mismatch", "dimension_mismatch", "E505"),
    ("emissions are not CO2e", "emissions_not_co2e", "E506"),
    ("unknown unit", "unknown_unit_literal", "E501"),
    ("empty file", "empty_file", "E104"),
]


@pytest.fixture(scope="module")
def activity_types():
    out = {}
    for folder in (ROOT / "methodologies" / "activity_types", ROOT / "tests" / "dsl" / "activity_types"):
        for path in sorted(folder.glob("*.yaml")):
            at = read_activity_type(SourceFile.read(path))
            out[at.id] = at
    return out


@pytest.mark.parametrize("what,case,code", FRONT_END, ids=[w for w, _, _ in FRONT_END])
def test_bad_methodology_file(what, case, code, activity_types, conn, lib, dataset, monkeypatch):
    monkeypatch.chdir(ROOT)  # spans print as tests/dsl/bad/<case>.yaml, as in the golden file
    src = SourceFile.read(f"tests/dsl/bad/{case}.yaml")
    with pytest.raises(DiagnosticError) as info:
        read_methodology(src, activity_types, factor_signatures())
    assert code in {d.code for d in info.value.diagnostics}
    expected = (BAD / f"{case}.expected").read_text("utf-8")
    assert render(info.value.diagnostics, {src.path: src}).splitlines()[0] == expected.splitlines()[0]
    assert_run_balances(conn, lib, dataset)


def test_bad_methodology_in_a_library_does_not_hide_the_good_ones(tmp_path, conn, dataset):
    """A broken file next to good ones: the library reports it and keeps the others usable."""
    root = tmp_path / "lib"
    (root / "activity_types").mkdir(parents=True)
    for p in (ROOT / "methodologies" / "activity_types").glob("*.yaml"):
        (root / "activity_types" / p.name).write_bytes(p.read_bytes())
    good = ROOT / "methodologies" / "scope2.electricity.location_based" / "1.0.0.yaml"
    (root / "scope2.electricity.location_based").mkdir()
    (root / "scope2.electricity.location_based" / "1.0.0.yaml").write_bytes(good.read_bytes())
    (root / "test.broken").mkdir()
    (root / "test.broken" / "1.0.0.yaml").write_bytes((BAD / "syntax_unclosed_paren.yaml").read_bytes())
    from ccf.dsl.library import Library

    lib2 = Library.load(root, factor_signatures())
    assert {d.code for d in lib2.diagnostics} >= {"E302"}
    report = run(conn, dataset, [lib2.resolve(ELECTRICITY)])
    assert report.methodologies[0].reconciliation.balanced


# --- activity files (loader) ----------------------------------------------------------------


def load(conn, lib, dataset, path, activity_type="electricity"):
    """Load a file of rejected rows on purpose (a load rejecting every row fails by default:
    tests/reliability/test_wrong_input.py)."""
    return load_csv(conn, dataset, lib.activity_types[activity_type], path, max_rejects=RejectLimit.parse("100%"))


def test_missing_csv_column(conn, lib, dataset, tmp_path):
    path = write(tmp_path / "x.csv", "activity_id,entity,period_start,period_end,quantity,quantity_unit", "X1,A,2024-01-01,2024-01-31,1,kWh")
    with pytest.raises(LoadError, match=r"missing column\(s\): country"):
        load(conn, lib, dataset, path)
    conn.rollback()
    assert_run_balances(conn, lib, dataset)


def test_extra_csv_column_is_left_out_with_a_notice(conn, lib, dataset, tmp_path):
    """One extra column of an export (issue #18) does not fail its file: its rows load without it."""
    path = write(tmp_path / "x.csv", HEADER + ",colour", "X1,A,2024-01-01,2024-01-31,1,kWh,GB,,,red")
    report = load(conn, lib, dataset, path)
    assert (report.rows_loaded, report.rows_rejected) == (1, 0)
    assert any("colour" in n and "not loaded" in n for n in report.notices)
    assert_run_balances(conn, lib, dataset, rows_in=4)


@pytest.mark.parametrize(
    "row,reason",
    [
        ("X1,A,2024-01-01,2024-01-31,abc,kWh,GB,,", "quantity 'abc' is not a number"),
        ("X1,A,2024-01-01,2024-01-31,\"1,000\",kWh,GB,,", "quantity '1,000' is not a number; for a thousands comma give --thousands ,"),
        ("X1,A,2024-01-01,2024-01-31,Infinity,kWh,GB,,", "quantity 'Infinity' is not a number"),
        ("X1,A,2024-01-01,2024-01-31,0x10,kWh,GB,,", "quantity '0x10' is not a number"),
        ("X1,A,31/01/2024,2024-01-31,1,kWh,GB,,", "period_start '31/01/2024' is not a valid date (expected YYYY-MM-DD; "
         "give --date-format DD/MM/YYYY or MM/DD/YYYY, whichever the file uses)"),
        ("X1,A,2024-01-01,2024-01-31,1,kWh,GB,,,", "row has 10 fields but the header has 9"),
        ("X1,A,2024-01-01,2024-01-31,1,kWh", "row has 6 fields but the header has 9"),
    ],
    ids=["text", "thousands separator", "infinity", "hex", "date format", "extra field", "missing fields"],
)
def test_wrong_types_are_rejected_with_the_reason(row, reason, conn, lib, dataset, tmp_path):
    report = load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER, row))
    assert (report.rows_loaded, report.rows_rejected) == (0, 1)
    assert rejected(conn, dataset) == [(2, reason)]
    assert_run_balances(conn, lib, dataset, rows_rejected=1)


def test_wrong_boolean_is_rejected(conn, tmp_path):
    at = read_activity_type(SourceFile.read(Path(__file__).parent / "library" / "activity_types" / "rel_gen.yaml"))
    name = unique("bool")
    header = "activity_id,entity,period_start,period_end,flag"
    report = load_csv(conn, name, at, write(tmp_path / "b.csv", header, "B1,A,2024-01-01,2024-01-01,maybe", "B2,A,2024-01-01,2024-01-01,yes"))
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    assert rejected(conn, name) == [(2, "flag 'maybe' is not true or false (use true/false, yes/no or 1/0)")]
    m = read_methodology(SourceFile("flags.yaml", FLAGS), {"rel_gen": at}, factor_signatures())
    rec = run(conn, name, [m]).methodologies[0].reconciliation
    assert rec.balanced and (rec.rows_in, rec.rows_excluded, rec.rows_rejected) == (1, 1, 1)


FLAGS = """\
methodology: rel.flags
version: 1.0.0
status: draft
title: Flags
ghg_protocol: {scope: 1, source: s, method: fuel-based, references: [r]}
factor_set: desnz-2024
gwp: AR5
activity: rel_gen
rules:
  - id: flagged
    where: flag
    exclude: flagged
  - id: by_energy
    emissions: energy * 0.2 kgCO2e/kWh
"""


def test_negative_quantity(conn, lib, dataset, tmp_path):
    load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER, "X1,A,2024-01-01,2024-01-31,-0.5,kWh,GB,,"))
    assert rejected(conn, dataset) == [(2, "quantity '-0.5' is negative; a quantity cannot be less than zero")]
    assert_run_balances(conn, lib, dataset, rows_rejected=1)


def test_unknown_unit_with_a_suggestion(conn, lib, dataset, tmp_path):
    load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER, "X1,A,2024-01-01,2024-01-31,1,kwh,GB,,"))
    assert rejected(conn, dataset) == [(2, "quantity_unit 'kwh' is not an energy unit (did you mean 'kWh'?)")]
    assert_run_balances(conn, lib, dataset, rows_rejected=1)


def test_duplicate_activity_ids_in_one_file_and_across_files(conn, lib, dataset, tmp_path):
    load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER,
                                   "D1,A,2024-01-01,2024-01-31,1,kWh,GB,,", "D1,A,2024-01-01,2024-01-31,2,kWh,GB,,",
                                   "G1,A,2024-01-01,2024-01-31,3,kWh,GB,,"))
    reasons = rejected(conn, dataset)
    assert reasons[0] == (3, "activity_id 'D1' appears more than once (also line 2)")
    assert reasons[1][0] == 4 and reasons[1][1].startswith(f"activity_id 'G1' is already in dataset '{dataset}'")
    assert_run_balances(conn, lib, dataset, rows_in=4, rows_rejected=2)


def test_empty_file(conn, lib, dataset, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(LoadError, match="empty file"):
        load(conn, lib, dataset, empty)
    conn.rollback()
    report = load(conn, lib, dataset, write(tmp_path / "header.csv", HEADER))  # a header and no rows
    assert (report.rows_read, report.rows_loaded) == (0, 0)
    assert_run_balances(conn, lib, dataset)


def test_run_of_an_empty_dataset_balances(conn, lib, tmp_path):
    name = unique("nothing")
    load(conn, lib, name, write(tmp_path / "header.csv", HEADER))  # created by a load of no rows
    assert_run_balances(conn, lib, name, rows_in=0)


def test_period_end_before_period_start(conn, lib, dataset, tmp_path):
    load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER, "X1,A,2024-02-01,2024-01-01,1,kWh,GB,,"))
    assert rejected(conn, dataset) == [(2, "period_end 2024-01-01 is before period_start 2024-02-01")]
    assert_run_balances(conn, lib, dataset, rows_rejected=1)


# --- the reporting period of a dataset -------------------------------------------------------

YEAR_2024 = ReportingPeriod.parse("2024")


def test_dates_outside_the_reporting_period_are_rejected_with_the_reason(conn, lib, tmp_path):
    name = unique("period")
    report = load_csv(conn, name, lib.activity_types["electricity"], write(
        tmp_path / "x.csv", HEADER, *GOOD_ROWS,
        "P1,ACME,2024-12-31,2024-12-31,1,kWh,GB,,",   # the last day: inside
        "P2,ACME,1900-01-01,1900-01-31,1,kWh,GB,,",   # long before
        "P3,ACME,2999-01-01,2999-12-31,1,kWh,GB,,",   # long after
        "P4,ACME,2023-12-01,2024-01-31,1,kWh,GB,,",   # straddles the start
        "P5,ACME,2024-12-01,2025-01-31,1,kWh,GB,,",   # straddles the end
        "P6,ACME,2025-02-01,2025-01-01,1,kWh,GB,,",   # ends before it starts: that reason first
    ), period=YEAR_2024)
    assert (report.rows_loaded, report.rows_rejected, report.period) == (4, 5, YEAR_2024)
    assert dict(report.reasons) == {"outside_period": 4, "period_order": 1}
    of = f"the reporting period 2024-01-01..2024-12-31 of dataset '{name}'"
    assert rejected(conn, name) == [
        (6, f"period 1900-01-01..1900-01-31 is outside {of}"),
        (7, f"period 2999-01-01..2999-12-31 is outside {of}"),
        (8, f"period 2023-12-01..2024-01-31 starts before {of}; split the row at 2024-01-01"),
        (9, f"period 2024-12-01..2025-01-31 ends after {of}; split the row after 2024-12-31"),
        (10, "period_end 2025-01-01 is before period_start 2025-02-01"),
    ]
    assert_run_balances(conn, lib, name, rows_in=4, rows_rejected=5)


def test_a_dataset_keeps_the_period_it_was_created_with(conn, lib, tmp_path):
    at = lib.activity_types["electricity"]
    name = unique("period")
    load_csv(conn, name, at, write(tmp_path / "a.csv", HEADER, *GOOD_ROWS), period=YEAR_2024)
    with pytest.raises(LoadError) as err:
        load_csv(conn, name, at, write(tmp_path / "b.csv", HEADER, "B1,ACME,2025-01-01,2025-01-31,1,kWh,GB,,"),
                 period=ReportingPeriod.parse("2025"))
    assert err.value.message == (
        f"dataset '{name}' has the reporting period 2024-01-01..2024-12-31, not 2025-01-01..2025-12-31: a dataset "
        "keeps the period it was created with (leave --period out, or load into a new dataset)")
    conn.rollback()
    # without --period a later load is checked against the stored period
    report = load_csv(conn, name, at, write(tmp_path / "c.csv", HEADER, "C1,ACME,2025-01-01,2025-01-31,1,kWh,GB,,",
                                            "C2,ACME,2024-03-01,2024-03-31,1,kWh,GB,,"))
    assert (report.period, report.rows_loaded, dict(report.reasons)) == (YEAR_2024, 1, {"outside_period": 1})
    assert_run_balances(conn, lib, name, rows_in=4, rows_rejected=1)


def test_a_dataset_created_without_a_period_cannot_get_one_later(conn, lib, dataset, tmp_path):
    with pytest.raises(LoadError) as err:
        load_csv(conn, dataset, lib.activity_types["electricity"], write(tmp_path / "x.csv", HEADER, *GOOD_ROWS[:1]),
                 period=YEAR_2024)
    assert err.value.message == (
        f"dataset '{dataset}' was created without a reporting period, so its rows were not checked against one; "
        "load into a new dataset to use the period 2024-01-01..2024-12-31")
    conn.rollback()
    assert_run_balances(conn, lib, dataset)


def test_datasets_loaded_before_datasets_had_periods_have_none(conn, lib, dataset, tmp_path):
    """Migration 0007 records every dataset already loaded, without a period or entity set, so
    such a dataset cannot be given a period its rows were never checked against."""
    from ccf.engine.migrate import migrations
    from ccf.engine.sql import Executor, parse

    conn.execute("DELETE FROM ccf.dataset WHERE dataset = %s", (dataset,))  # as before 0007
    (sql,) = [sql for version, _, sql in migrations() if version == 7]
    for tree in parse(sql, allow_commands=True):  # idempotent: the table exists, others are kept
        Executor(conn).execute(tree)
    conn.commit()
    assert conn.execute("SELECT period_start, period_end, entity_set FROM ccf.dataset WHERE dataset = %s",
                        (dataset,)).fetchall() == [(None, None, None)]
    conn.rollback()
    with pytest.raises(LoadError, match="was created without a reporting period"):
        load_csv(conn, dataset, lib.activity_types["electricity"], write(tmp_path / "x.csv", HEADER, *GOOD_ROWS[:1]),
                 period=YEAR_2024)
    conn.rollback()
    assert_run_balances(conn, lib, dataset)


@pytest.mark.parametrize("text, message", [
    ("2024-01-01..2023-12-31", "reporting period '2024-01-01..2023-12-31' ends before it starts"),
    ("2024-02-30..2024-12-31", "reporting period '2024-02-30..2024-12-31': day is out of range for month"),
    ("FY2024", "reporting period 'FY2024' is not YYYY (a calendar year) or YYYY-MM-DD..YYYY-MM-DD "
               "(first and last day, e.g. 2024-04-01..2025-03-31)"),
])
def test_a_malformed_reporting_period_is_refused(text, message):
    with pytest.raises(LoadError) as err:
        ReportingPeriod.parse(text)
    assert err.value.message == message


def test_a_dataset_without_a_period_accepts_any_dates(conn, lib, dataset, tmp_path):
    """Datasets loaded without --period (and those loaded before datasets had periods) load a
    1900 or 2999 activity like any other; computing it with the DESNZ 2024 edition, which is for
    2024 only, is refused unless asked for (engine/factors/editions.py), and then balances."""
    load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER, "X1,A,1900-01-01,1900-01-31,1,kWh,GB,,",
                                   "X2,A,2999-01-01,2999-12-31,1,kWh,GB,,"))
    assert rejected(conn, dataset) == []
    with pytest.raises(RunError, match="which is for 2024, but the data are for 1900-01-01..2999-01-01"):
        assert_run_balances(conn, lib, dataset, rows_in=5)
    assert_run_balances(conn, lib, dataset, rows_in=5, other_edition=True)


# --- entities of the organisation ------------------------------------------------------------

ENTITIES = ["entity,name,parent,equity_share,financial_control,operational_control",
            "ROOT,Acme Group,,,,", "ACME,Acme Ltd,ROOT,1,true,true", "ACME-DE,Acme GmbH,ROOT,0.5,false,true"]


@pytest.fixture()
def entity_set(conn, tmp_path) -> str:
    name = unique("ents").replace("_", "-")
    load_entity_set(conn, name, write(tmp_path / "entities.csv", *ENTITIES))
    conn.commit()
    return name


def test_unknown_entities_are_rejected_when_the_dataset_has_an_entity_set(conn, lib, tmp_path, entity_set):
    name = unique("ents")
    report = load_csv(conn, name, lib.activity_types["electricity"], write(
        tmp_path / "x.csv", HEADER, *GOOD_ROWS,
        "E1,ACME-DE,2024-01-01,2024-01-31,1,kWh,GB,,",
        "E2,No Such Entity Ltd,2024-01-01,2024-01-31,1,kWh,GB,,",
        "E3,ACME-D,2024-01-01,2024-01-31,1,kWh,GB,,",
        "E4, ACME,2024-01-01,2024-01-31,1,kWh,GB,,",
        "E5,acme,2024-01-01,2024-01-31,1,kWh,GB,,",
    ), entity_set=entity_set)
    assert (report.rows_loaded, report.rows_rejected, report.entity_set) == (4, 4, entity_set)
    assert dict(report.reasons) == {"unknown_entity": 4}
    of = f"is not an entity of entity set '{entity_set}' bound to dataset '{name}'"
    assert rejected(conn, name) == [
        (6, f"entity 'No Such Entity Ltd' {of} (see 'ccf entities show {entity_set}')"),
        (7, f"entity 'ACME-D' {of} (did you mean 'ACME-DE'?)"),
        (8, f"entity ' ACME' {of} (did you mean 'ACME'?)"),
        (9, f"entity 'acme' {of} (did you mean 'ACME'?)"),
    ]
    assert_run_balances(conn, lib, name, rows_in=4, rows_rejected=4)
    # a later load without --entities is checked against the same set
    again = load(conn, lib, name, write(tmp_path / "y.csv", HEADER, "E6,Elsewhere,2024-01-01,2024-01-31,1,kWh,GB,,"))
    assert (again.entity_set, dict(again.reasons)) == (entity_set, {"unknown_entity": 1})
    assert_run_balances(conn, lib, name, rows_in=4, rows_rejected=5)


def test_an_entity_set_binding_is_checked(conn, lib, tmp_path, entity_set, dataset):
    at = lib.activity_types["electricity"]
    path = write(tmp_path / "x.csv", HEADER, *GOOD_ROWS[:1])
    with pytest.raises(LoadError) as err:
        load_csv(conn, unique("ents"), at, path, entity_set="no-such-set")
    assert err.value.message == ("no entity set 'no-such-set': load it first with "
                                 "'ccf entities load FILE --id no-such-set' (see 'ccf entities list')")
    conn.rollback()
    with pytest.raises(LoadError) as err:
        load_csv(conn, dataset, at, path, entity_set=entity_set)
    assert err.value.message == (
        f"dataset '{dataset}' was created without an entity set, so its rows' entities were not checked; "
        f"load into a new dataset to bind it to entity set '{entity_set}'")
    conn.rollback()
    assert_run_balances(conn, lib, dataset)


def test_load_command_with_a_period_and_an_entity_set(module_db_url, conn, lib, monkeypatch, tmp_path, capsys, entity_set):
    monkeypatch.setenv("CCF_DATABASE_URL", module_db_url)
    name = unique("cli")
    csv = write(tmp_path / "e.csv", HEADER, *GOOD_ROWS, "P1,ACME,2023-01-01,2023-01-31,1,kWh,GB,,",
                "E1,ACME-DEE,2024-01-01,2024-01-31,1,kWh,GB,,")
    command = ["load", "--dataset", name, "--type", "electricity", str(csv)]
    assert main([*command[:5], "--period", "2024", "--entities", entity_set, *command[5:]]) == 0
    out = capsys.readouterr().out.splitlines()
    tail = f", dataset {name}, period 2024-01-01..2024-12-31, entity set {entity_set})"
    assert re.fullmatch(re.escape(f"{csv}: 5 rows read, 3 loaded, 2 rejected (load ") + r"\d+" + re.escape(tail), out[0])
    assert out[1:] == ["  rejected 1 × outside_period", "  rejected 1 × unknown_entity"]
    assert main([*command[:5], "--period", "2025", *command[5:]]) == 1
    assert capsys.readouterr().err.strip().endswith(
        f"dataset '{name}' has the reporting period 2024-01-01..2024-12-31, not 2025-01-01..2025-12-31: a dataset "
        "keeps the period it was created with (leave --period out, or load into a new dataset)")
    assert main([*command[:5], "--period", "FY24", *command[5:]]) == 1
    assert "reporting period 'FY24' is not YYYY" in capsys.readouterr().err
    assert_run_balances(conn, lib, name, rows_in=3, rows_rejected=2)


def test_unknown_entities_of_an_unbound_dataset_are_reported_and_in_no_total(conn, lib, tmp_path, dataset, entity_set):
    """A dataset without an entity set loads any entity; the report (which always has an entity
    set) lists the unknown ones with their emissions and keeps them out of every total: the
    consolidated total plus the unknown-entity emissions is the run's gross total."""
    load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER, "X1,No Such Entity Ltd,2024-01-01,2024-01-31,1000,kWh,GB,,"))
    assert rejected(conn, dataset) == []
    report = run(conn, dataset, [lib.resolve(ELECTRICITY)])
    rec = report.methodologies[0].reconciliation
    assert rec.balanced and rec.rows_in == 4
    conn.commit()
    gross = dict(conn.execute("SELECT entity, SUM(co2e_kg) FROM ccf.result WHERE run_id = %s GROUP BY entity",
                              (report.run_id,)).fetchall())
    conn.rollback()
    assert set(gross) == {"ACME", "No Such Entity Ltd"} and all(v > 0 for v in gross.values())
    inv = build_inventory(conn, [report.run_id], "operational-control", entity_set)
    assert [(u.entity, u.activity_rows, u.gross_kg) for u in inv.unknown_entities] == [
        ("No Such Entity Ltd", 1, gross["No Such Entity Ltd"])]
    (m,) = inv.methodologies
    assert (m.rows_unknown_entity, m.unknown_entity_kg) == (1, gross["No Such Entity Ltd"])
    assert set(inv.totals.values()) == {gross["ACME"]}  # ACME at 100 %; the unknown entity in no total


def test_file_that_is_not_utf8(conn, lib, dataset, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nX1,Soci\xe9t\xe9,2024-01-01,2024-01-31,1,kWh,GB,,\n").encode("latin-1"))
    with pytest.raises(LoadError, match="not UTF-8") as err:
        load(conn, lib, dataset, path)
    assert err.value.line == 2
    conn.rollback()
    assert_run_balances(conn, lib, dataset)


def test_nul_character_in_a_cell(conn, lib, dataset, tmp_path):
    load(conn, lib, dataset, write(tmp_path / "x.csv", HEADER, "X1,A\x00B,2024-01-01,2024-01-31,1,kWh,GB,,"))
    assert rejected(conn, dataset) == [(2, "entity contains a NUL character (shown as \u2400 in the record)")]
    assert_run_balances(conn, lib, dataset, rows_rejected=1)


# --- size ------------------------------------------------------------------------------------

LARGE = 2_000_000 if NIGHTLY else 200_000


def _large(path: Path, n: int) -> Path:
    units = ("kWh", "MWh", "GJ", "therm")
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for i in range(n):
            if i % 50_000 == 7:  # a few bad rows, spread through the file
                f.write(f"L{i},A,2024-01-01,2024-01-31,-1,kWh,GB,,\n")
            else:
                f.write(f"L{i},A,2024-01-01,2024-01-31,{i % 1000}.{i % 89},{units[i % 4]},{'GB' if i % 3 else 'DE'},,\n")
    return path


def _large_file(conn, lib, tmp_path, n: int) -> None:
    name = unique("large")
    started = time.monotonic()
    report = load(conn, lib, name, _large(tmp_path / "large.csv", n))
    bad = len(range(7, n, 50_000))
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (n, n - bad, bad)
    conn.execute('ANALYZE ccf."activity_electricity"')
    conn.commit()
    assert_run_balances(conn, lib, name, rows_in=n - bad, rows_rejected=bad)
    assert time.monotonic() - started < 600


def test_large_file(conn, lib, tmp_path):
    _large_file(conn, lib, tmp_path, 200_000)


@pytest.mark.slow
@nightly
def test_very_large_file(conn, lib, tmp_path):
    _large_file(conn, lib, tmp_path, LARGE)
