"""Data as people have it (issue #18): CSV dialects, column-mapping files, XLSX and Parquet input.
Each loads into the same checks as ccf's own CSV, with rejected rows at their line, sheet row or
Parquet row; numbers stay exact text, and what cannot be read unambiguously is a rejection."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl import ir
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile
from ccf.engine.load import Dialect, LoadError, MappingError, RejectLimit, activity_table, load_csv
from ccf.engine.sql import render

ANY_REJECTS = RejectLimit.parse("100%")
ROOT = Path(__file__).resolve().parents[2]
FIELDS = ["activity_id", "entity", "period_start", "period_end", "quantity", "quantity_unit", "country"]


@pytest.fixture()
def electricity() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(ROOT / "methodologies/activity_types/electricity.yaml"))


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def rejected(db) -> list[tuple]:
    return db.execute("SELECT line_no, reason FROM ccf.rejected ORDER BY line_no").fetchall()


def loaded(db, at: ir.ActivityType, columns: str = "activity_id, quantity") -> list[tuple]:
    table = render(activity_table(at), pretty=False)
    return db.execute(f"SELECT {columns} FROM {table} ORDER BY line_no").fetchall()


# --- CSV dialects ---------------------------------------------------------------------------

EUROPEAN = (
    "activity_id;entity;period_start;period_end;quantity;quantity_unit;country\n"
    "A1;Werk 1;31.01.2024;28.02.2024;1.234,56;kWh;DE\n"
    "A2;Werk 1;01.03.2024;31.03.2024;12,5;kWh;DE\n"
    "A3;Werk 1;01.04.2024;30.04.2024;1.23,4;kWh;DE\n"
    "A4;Werk 1;31.02.2024;30.04.2024;1;kWh;DE\n"
)


@pytest.mark.parametrize("fast", [True, False])
def test_semicolon_decimal_comma_thousands_dot_and_dotted_dates(db, electricity, tmp_path, fast):
    dialect = Dialect.of(decimal=",", thousands=".", date_format="DD.MM.YYYY")
    report = load_csv(db, "d", electricity, write(tmp_path, EUROPEAN), dialect=dialect, max_rejects=ANY_REJECTS, fast=fast)
    assert loaded(db, electricity, "activity_id, quantity, period_start") == [
        ("A1", Decimal("1234.56"), datetime.date(2024, 1, 31)), ("A2", Decimal("12.5"), datetime.date(2024, 3, 1))]
    assert rejected(db) == [
        (4, "quantity '1.23,4' is not a number of this file (--decimal , --thousands '.'): the "
            "thousands separator '.' must separate groups of three digits before the decimal separator"),
        (5, "period_start '31.02.2024' is not a valid date of the form DD.MM.YYYY (--date-format)"),
    ]
    assert report.reasons == (("bad_date", 1), ("not_a_number", 1))
    assert report.notices == ("delimiter ';' found in the header line (give --delimiter to choose another)",)
    # the rejected record is the file's, as written
    record = db.execute("SELECT record FROM ccf.rejected WHERE line_no = 4").fetchone()[0]
    assert record["quantity"] == "1.23,4" and record["period_start"] == "01.04.2024"


def test_a_point_without_thousands_is_refused_not_guessed(db, electricity, tmp_path):
    text = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country\nA1,P,2024-01-01,2024-01-31,1.234,kWh,GB\n"
    report = load_csv(db, "d", electricity, write(tmp_path, text.replace(",", ";")), dialect=Dialect.of(decimal=","),
                      max_rejects=ANY_REJECTS)
    assert report.reasons == (("not_a_number", 1),)
    assert rejected(db) == [(2, "quantity '1.234' is not a number of this file (--decimal ,): '.' is "
                                                "neither its decimal separator nor a thousands separator (give "
                                                "--thousands . if it separates thousands)")]


def test_thousands_comma_with_decimal_point_and_explicit_tab(db, electricity, tmp_path):
    text = "\t".join(FIELDS) + "\n" + "\t".join(["A1", "P", "2024-01-01", "2024-01-31", "1,234,567.125", "kWh", "GB"]) + "\n"
    report = load_csv(db, "d", electricity, write(tmp_path, text), dialect=Dialect.of(delimiter="tab", thousands=","))
    assert loaded(db, electricity) == [("A1", Decimal("1234567.125"))]
    assert report.notices == ()  # a delimiter given is no news


@pytest.mark.parametrize("fmt,day,other", [("DD/MM/YYYY", "05/01/2024", "31/01/2024"),
                                           ("MM/DD/YYYY", "01/05/2024", "01/31/2024"),
                                           ("DD-MM-YYYY", "5-1-2024", "31-01-2024")])
def test_day_month_order_is_the_one_given(db, electricity, tmp_path, fmt, day, other):
    text = ",".join(FIELDS) + f"\nA1,P,{day},{other},1,kWh,GB\n"
    load_csv(db, "d", electricity, write(tmp_path, text), dialect=Dialect.of(date_format=fmt))
    assert loaded(db, electricity, "period_start, period_end") == [(datetime.date(2024, 1, 5), datetime.date(2024, 1, 31))]


def test_without_date_format_a_slashed_date_says_which_option_to_give(db, electricity, tmp_path):
    text = ",".join(FIELDS) + "\nA1,P,01/02/2024,2024-01-31,1,kWh,GB\nA2,P,2024-01-01,2024-01-31,1\u00a0234,kWh,GB\n" \
        "A3,P,2024-01-01,2024-01-31,\"1,5\",kWh,GB\n"
    load_csv(db, "d", electricity, write(tmp_path, text), max_rejects=ANY_REJECTS)
    assert rejected(db) == [
        (2, "period_start '01/02/2024' is not a valid date (expected YYYY-MM-DD; give --date-format "
            "DD/MM/YYYY or MM/DD/YYYY, whichever the file uses)"),
        (3, "quantity '1\u00a0234' is not a number"),
        (4, "quantity '1,5' is not a number; for a decimal comma give --decimal ,"),
    ]


def test_encodings(db, electricity, tmp_path):
    body = ",".join(FIELDS) + "\nA1,Zürich,2024-01-01,2024-01-31,1,kWh,CH\n"
    path = write(tmp_path, body.encode("cp1252"))
    with pytest.raises(LoadError, match="not UTF-8 text .*give --encoding cp1252 or latin-1") as err:
        load_csv(db, "d", electricity, path)
    assert err.value.line == 2
    load_csv(db, "d", electricity, path, dialect=Dialect.of(encoding="cp1252"))
    load_csv(db, "e", electricity, write(tmp_path, b"\xef\xbb\xbf" + body.encode(), "bom.csv"),
             dialect=Dialect.of(encoding="utf-8-sig"))
    assert loaded(db, electricity, "dataset, entity") == [("d", "Zürich"), ("e", "Zürich")]


def test_hostile_bom_mixed_line_endings_and_quoted_decimal_commas(db, electricity, tmp_path):
    raw = ("\ufeff" + ";".join(FIELDS) + "\r\n"
           'A1;"Plant; north";2024-01-01;2024-01-31;"1.000,5";kWh;GB\n'
           'A2;"two\r\nlines";2024-01-01;2024-01-31;2,25;kWh;GB\r\n'
           "\n"
           "A3;P;2024-01-01;2024-01-31;1,000.5;kWh;GB\n")
    report = load_csv(db, "d", electricity, write(tmp_path, raw), dialect=Dialect.of(decimal=",", thousands="."),
                      max_rejects=ANY_REJECTS)
    assert loaded(db, electricity, "activity_id, entity, quantity") == [
        ("A1", "Plant; north", Decimal("1000.5")), ("A2", "two\r\nlines", Decimal("2.25"))]
    assert [line for line, _ in rejected(db)] == [6]  # the physical line
    assert report.reasons == (("not_a_number", 1),)
    assert report.rows_read == 3


def test_a_french_thousands_space_may_be_a_no_break_space(db, electricity, tmp_path):
    rows = [f"A{i};P;2024-01-01;2024-01-31;1{space}234,5;kWh;FR" for i, space in enumerate((" ", "\u00a0", "\u202f"))]
    load_csv(db, "d", electricity, write(tmp_path, "\n".join([";".join(FIELDS), *rows]) + "\n"),
             dialect=Dialect.of(decimal=",", thousands="space"))
    assert loaded(db, electricity) == [(f"A{i}", Decimal("1234.5")) for i in range(3)]


def test_dialect_options_are_checked():
    with pytest.raises(LoadError, match="--decimal ';' is not one ccf reads"):
        Dialect.of(decimal=";")
    with pytest.raises(LoadError, match="also the decimal separator"):
        Dialect.of(decimal=",", thousands=",")
    with pytest.raises(LoadError, match="--date-format 'YYYY/DD/MM' is not one ccf reads"):
        Dialect.of(date_format="YYYY/DD/MM")
    with pytest.raises(LoadError, match="--encoding 'utf-16'"):
        Dialect.of(encoding="utf-16")


def test_an_extra_column_is_left_out_and_kept_in_the_rejected_record(db, electricity, tmp_path):
    text = ",".join(FIELDS) + ",cost_centre\nA1,P,2024-01-01,2024-01-31,1,kWh,GB,4711\nA2,P,2024-01-01,2024-01-31,-1,kWh,GB,4712\n"
    report = load_csv(db, "d", electricity, write(tmp_path, text), max_rejects=ANY_REJECTS)
    assert loaded(db, electricity) == [("A1", Decimal("1"))]
    assert "cost_centre" in report.notices[0]
    assert db.execute("SELECT record->>'cost_centre' FROM ccf.rejected").fetchone() == ("4712",)


def test_a_misspelt_column_still_fails_the_file(db, electricity, tmp_path):
    text = ",".join(FIELDS) + ",suplier\nA1,P,2024-01-01,2024-01-31,1,kWh,GB,x\n"
    with pytest.raises(LoadError, match="did you mean 'supplier'"):
        load_csv(db, "d", electricity, write(tmp_path, text))


# --- column mapping -------------------------------------------------------------------------

ERP = ("Beleg;Werk;Von;Bis;Menge;ME;Land;Kostenstelle;Bemerkung\n"
       "B1;W1;01.01.2024;31.01.2024;1.500,0;KWH;Deutschland;4711;x\n"
       "B2;W1;01.02.2024;29.02.2024;2,5;MWH;Frankreich;4711;y\n"
       "B3;W1;01.03.2024;31.03.2024;3;BTU?;DE;4711;z\n")
MAPPING = """\
columns:
  Beleg: activity_id
  Werk: entity
  Von: period_start
  Bis: period_end
  Menge: quantity
  ME: quantity_unit
  Land: country
constants:
  supplier: Stadtwerke
values:
  quantity_unit: {KWH: kWh, MWH: MWh}
  country: {Deutschland: DE, Frankreich: FR}
ignore: [Kostenstelle]
"""


def test_mapping_file(db, electricity, tmp_path):
    mapping = write(tmp_path, MAPPING, "erp.yaml")
    report = load_csv(db, "d", electricity, write(tmp_path, ERP, "erp.csv"), mapping=mapping,
                      dialect=Dialect.of(decimal=",", thousands=".", date_format="DD.MM.YYYY"), max_rejects=ANY_REJECTS)
    assert loaded(db, electricity, "activity_id, quantity, quantity_unit, country, supplier") == [
        ("B1", Decimal("1500.0"), "kWh", "DE", "Stadtwerke"), ("B2", Decimal("2.5"), "MWh", "FR", "Stadtwerke")]
    (line, reason), = rejected(db)
    assert line == 4 and reason.startswith("quantity_unit 'BTU?' is not an energy unit")
    record = db.execute("SELECT record FROM ccf.rejected").fetchone()[0]
    assert record == {"Beleg": "B3", "Werk": "W1", "Von": "01.03.2024", "Bis": "31.03.2024", "Menge": "3", "ME": "BTU?",
                      "Land": "DE", "Kostenstelle": "4711", "Bemerkung": "z"}
    assert report.notices == ("delimiter ';' found in the header line (give --delimiter to choose another)",
                              "column(s) Bemerkung are not fields of activity type 'electricity' and were not loaded "
                              "(list them under 'ignore:' in a --mapping file to silence this)")


def test_mapping_errors_are_positioned(db, electricity, tmp_path):
    bad = ("columns:\n  Beleg: activity_id\n  Nr: activity_id\n  Menge: quantiy\n"
           "constant:\n  country: DE\nvalues:\n  contry: {Deutschland: DE}\n")
    path = write(tmp_path, bad, "bad.yaml")
    with pytest.raises(MappingError) as err:
        load_csv(db, "d", electricity, write(tmp_path, ERP, "erp.csv"), mapping=path)
    found = [(d.code, d.span.line, d.span.column, d.message) for d in err.value.diagnostics]
    assert found == [
        ("E202", 3, 7, "field 'activity_id' is already the column 'Beleg'"),
        ("E202", 4, 10, "'quantiy' is not a field of activity type 'electricity'"),
        ("E202", 5, 1, "unknown key 'constant'"),
        ("E202", 8, 3, "'contry' is not a field of activity type 'electricity'"),
    ]
    assert err.value.diagnostics[2].suggestion == "did you mean 'constants'?"
    assert str(path) in err.value.sources


def test_a_mappings_sheet_is_for_workbooks_only(db, electricity, tmp_path):
    mapping = write(tmp_path, MAPPING + "sheet: Energie\n", "erp.yaml")
    report = load_csv(db, "d", electricity, write(tmp_path, ERP, "erp.csv"), mapping=mapping, max_rejects=ANY_REJECTS,
                      dialect=Dialect.of(decimal=",", thousands=".", date_format="DD.MM.YYYY"))
    assert report.rows_loaded == 2


def test_a_mapped_column_missing_from_the_file_names_it(db, electricity, tmp_path):
    mapping = write(tmp_path, MAPPING.replace("Land:", "Staat:"), "erp.yaml")
    with pytest.raises(LoadError, match=r"column\(s\) Staat of the mapping .* are not in the file's header") as err:
        load_csv(db, "d", electricity, write(tmp_path, ERP, "erp.csv"), mapping=mapping)
    assert err.value.line == 1


# --- XLSX and Parquet -----------------------------------------------------------------------

def test_xlsx_rows_are_numbered_as_in_the_sheet(db, electricity, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Energy")
    sheet.append(FIELDS)
    sheet.append(["A1", "P", datetime.datetime(2024, 1, 1), datetime.date(2024, 1, 31), 1200.5, "kWh", "GB"])
    sheet.append([])  # a blank row keeps the numbering
    sheet.append(["A2", "P", "2024-01-01", "2024-01-31", -3, "kWh", "GB"])
    sheet.append(["A3", "P", "2024-01-01", "2024-01-31", "1.234,5", "kWh", "GB"])
    sheet.append(["A4", "P", "2024-01-01", "2024-01-31", 7, "kWh", "GB", "extra"])
    path = tmp_path / "data.xlsx"
    book.save(path)
    with pytest.raises(LoadError, match="no sheet 'Energie'; did you mean 'Energy'"):
        load_csv(db, "d", electricity, path, sheet="Energie")
    report = load_csv(db, "d", electricity, path, sheet="Energy", dialect=Dialect.of(decimal=",", thousands="."),
                      max_rejects=ANY_REJECTS)
    assert loaded(db, electricity, "activity_id, quantity, period_start") == [
        ("A1", Decimal("1200.5"), datetime.date(2024, 1, 1)), ("A3", Decimal("1234.5"), datetime.date(2024, 1, 1))]
    assert [line for line, _ in rejected(db)] == [4, 6]
    assert report.reasons == (("field_count", 1), ("negative_quantity", 1))
    assert report.rows_read == 4 and len(report.sha256) == 64
    assert any("XLSX column(s) quantity hold binary floating-point numbers" in n for n in report.notices)


def test_parquet_decimals_are_exact_and_floats_are_said(db, electricity, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "activity_id": ["P1", "P2", "P3"], "entity": ["E", "E", None],
        "period_start": pa.array([datetime.date(2024, 1, 1)] * 3, pa.date32()),
        "period_end": ["2024-01-31"] * 3,
        "quantity": pa.array([Decimal("0.1000000000000000000001"), Decimal("2"), Decimal("3")], pa.decimal128(30, 22)),
        "quantity_unit": ["kWh"] * 3, "country": ["GB"] * 3,
        "supplier_rate": pa.array([0.1, None, None], pa.float64()), "supplier": ["S", None, None],
    })
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=2)
    report = load_csv(db, "d", electricity, path, max_rejects=ANY_REJECTS)
    assert loaded(db, electricity, "activity_id, quantity, supplier_rate") == [
        ("P1", Decimal("0.1000000000000000000001"), Decimal("0.1")), ("P2", Decimal("2.0000000000000000000000"), None)]
    assert rejected(db) == [(3, "entity is required but empty")]  # row 3 of the file
    assert report.reasons == (("missing_value", 1),)
    assert report.notices == (
        "Parquet column(s) supplier_rate hold binary floating-point numbers: each was read as the shortest decimal "
        "that is the same number (e.g. 0.1, not 0.1000000000000000055…); store exact decimals as text or as a "
        "DECIMAL column to avoid this",)


def test_parquet_dictionary_strings_are_text(db, electricity, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    values = {"activity_id": "D1", "entity": "E", "period_start": "2024-01-01", "period_end": "2024-01-31",
              "quantity": "5", "quantity_unit": "kWh"}
    pq.write_table(pa.table({k: [v] for k, v in values.items()}
                            | {"country": pa.array(["GB"]).dictionary_encode()}), path)
    load_csv(db, "d", electricity, path)
    assert loaded(db, electricity, "activity_id, country") == [("D1", "GB")]


def test_parquet_float32_is_refused(db, electricity, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({name: ["x"] for name in FIELDS if name != "quantity"}
                            | {"quantity": pa.array([0.1], pa.float32())}), path)
    with pytest.raises(LoadError, match="column quantity has the Parquet type float, which ccf does not read"):
        load_csv(db, "d", electricity, path)


def test_csv_options_are_refused_for_other_formats(db, electricity, tmp_path):
    with pytest.raises(LoadError, match="--delimiter and --encoding are for CSV files"):
        load_csv(db, "d", electricity, write(tmp_path, b"", "x.parquet"), dialect=Dialect.of(delimiter=";"))
    with pytest.raises(LoadError, match="not an XLSX workbook"):
        load_csv(db, "d", electricity, write(tmp_path, b"not a zip", "x.xlsx"))


# --- the command line -----------------------------------------------------------------------

def test_ccf_load_options_notices_and_exit_codes(db_url, monkeypatch, tmp_path, capsys):
    from ccf.engine.cli import main

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    path = write(tmp_path, ERP, "erp.csv")
    mapping = write(tmp_path, MAPPING, "erp.yaml")
    args = ["load", "--dataset", "erp", "--type", "electricity", "--mapping", str(mapping), "--max-rejects", "1"]
    assert main(args + [str(path)]) == 1  # read as ccf's own dialect: every row rejected, nothing loaded
    err = capsys.readouterr().err
    assert "3 of 3 rows rejected" in err and "give --date-format DD.MM.YYYY" in err
    assert main(args + ["--decimal", ",", "--thousands", ".", "--date-format", "dd.mm.yyyy", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()  # piped: the summary only, no progress bar
    assert out[0].startswith(f"{path}: 3 rows read, 2 loaded, 1 rejected (load ")
    assert out[1:] == [
        "  rejected 1 × unknown_unit",
        "  note: delimiter ';' found in the header line (give --delimiter to choose another)",
        "  note: column(s) Bemerkung are not fields of activity type 'electricity' and were not loaded (list them "
        "under 'ignore:' in a --mapping file to silence this)",
    ]
    assert main(args + ["--decimal", ";", str(path)]) == 1
    assert capsys.readouterr().err.startswith("error: --decimal ';' is not one ccf reads")
    write(tmp_path, "columns:\n  Menge: quantiy\n", "erp.yaml")
    assert main(args + [str(path)]) == 1
    err = capsys.readouterr().err
    assert "error[E202] (1 of 1): 'quantiy' is not a field of activity type 'electricity'" in err
    assert f"--> {mapping}:2:10" in err and "  Menge: quantiy" in err  # the mapping's own line, with a caret


def test_progress_shows_rows_rate_and_time_left(monkeypatch):
    import argparse
    from io import StringIO

    from rich.console import Console

    from ccf.engine import cli

    assert cli._load_progress(argparse.Namespace(json=False)) is None  # piped (pytest captures stdout)
    monkeypatch.setattr(cli, "_interactive", lambda args: True)
    bar = cli._load_progress(argparse.Namespace(json=False))
    clock = iter(range(0, 1000, 10))
    bar.get_time = lambda: float(next(clock))  # a clock of our own: 10 s a tick
    bar.live.console = Console(file=StringIO(), width=120)
    task = bar.add_task("loading x.csv", total=1, rows=0)
    for n in (1, 2, 3):
        bar.update(task, rows=n * 100_000, completed=n / 4)
    line = "".join(str(column(bar.tasks[0]) if callable(column) else "") for column in bar.columns)
    assert "300,000 rows read, " in line and " rows/s" in line
    assert bar.tasks[0].time_remaining is not None
