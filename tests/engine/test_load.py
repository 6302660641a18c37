"""engine/load/ against a real PostgreSQL: every row is loaded or rejected with its reason."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl import ir
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile
from ccf.engine import load as load_module
from ccf.engine.load import REASONS, LoadError, RejectLimit, activity_table, ensure_activity_table, load_csv
from ccf.engine.load import source as staging
from ccf.engine.sql import Executor, render

ANY_REJECTS = RejectLimit.parse("100%")  # these tests load files of rejected rows on purpose

ROOT = Path(__file__).resolve().parents[2]
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"
GOOD = "A1,Plant 1,2024-01-01,2024-01-31,1200.5,kWh,GB"


@pytest.fixture()
def electricity() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(ROOT / "methodologies/activity_types/electricity.yaml"))


def _activity_type(tmp_path: Path, body: str, name: str = "survey") -> ir.ActivityType:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"activity_type: {name}\ntitle: Test type\nfields:\n{body}", encoding="utf-8")
    return read_activity_type(SourceFile.read(path))


@pytest.fixture()
def survey(tmp_path: Path) -> ir.ActivityType:
    """An activity type with a boolean, a plain number, a date and a fixed-unit quantity."""
    return _activity_type(
        tmp_path,
        "  flag: boolean\n  count: number\n  delivered: date\n"
        "  mass:\n    type: quantity\n    unit: t\n  note:\n    type: text\n    required: false\n",
    )


def csv_file(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_bytes(text.encode("utf-8"))
    else:
        path.write_bytes(text)
    return path


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def rejected(db) -> list[tuple]:
    return db.execute("SELECT line_no, activity_id, reason FROM ccf.rejected ORDER BY line_no").fetchall()


def records(db) -> list[dict]:
    return [r[0] for r in db.execute("SELECT record FROM ccf.rejected ORDER BY line_no").fetchall()]


def loaded(db, at: ir.ActivityType, columns: str = "activity_id") -> list[tuple]:
    # Test-only read; the table name comes from the engine's own tree.
    table = render(activity_table(at), pretty=False)
    return db.execute(f"SELECT {columns} FROM {table} ORDER BY line_no").fetchall()


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- good data ----------------------------------------------------------------------------


def test_good_rows_are_loaded_typed(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER, GOOD, "A2,Plant 2,2024-02-01,2024-02-29,0,MWh,FR"))
    report = load_csv(db, "acme-2024", electricity, path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected, report.reasons) == (2, 2, 0, ())
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (report.dataset, report.activity_type, report.source_file) == ("acme-2024", "electricity", str(path))
    rows = loaded(db, electricity, "dataset, load_id, line_no, activity_id, entity, period_start, period_end, "
                                   "quantity, quantity_unit, country, grid_region, supplier")
    assert rows == [
        ("acme-2024", report.load_id, 2, "A1", "Plant 1", datetime.date(2024, 1, 1), datetime.date(2024, 1, 31),
         Decimal("1200.5"), "kWh", "GB", None, None),
        ("acme-2024", report.load_id, 3, "A2", "Plant 2", datetime.date(2024, 2, 1), datetime.date(2024, 2, 29),
         Decimal("0"), "MWh", "FR", None, None),
    ]
    load_row = db.execute(
        "SELECT dataset, activity_type, activity_type_hash, sha256, rows_read, rows_loaded, rows_rejected "
        "FROM ccf.activity_load WHERE load_id = %s", (report.load_id,)
    ).fetchone()
    assert load_row == ("acme-2024", "electricity", electricity.content_hash, report.sha256, 2, 2, 0)


def test_column_order_is_free_and_bom_crlf_and_padding_are_accepted(db, electricity, tmp_path):
    text = "\ufeffcountry, quantity_unit ,quantity,period_end,period_start,entity,activity_id,supplier\r\n" \
           "GB, kWh , 12 ,2024-01-31, 2024-01-01 ,E,A1,\r\n"
    report = load_csv(db, "d", electricity, csv_file(tmp_path, text))
    assert report.rows_loaded == 1, rejected(db)
    assert loaded(db, electricity, "activity_id, entity, quantity, quantity_unit, period_start, supplier") == [
        ("A1", "E", Decimal("12"), "kWh", datetime.date(2024, 1, 1), None)
    ]


def test_header_only_loads_zero_rows(db, electricity, tmp_path):
    report = load_csv(db, "d", electricity, csv_file(tmp_path, HEADER + "\n"))
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (0, 0, 0)
    assert count(db, "ccf.activity_load") == 1


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER, "", GOOD, "", "A2,E,2024-01-01,2024-01-31,x,kWh,GB", ""))
    report = load_csv(db, "d", electricity, path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 1, 1)
    assert loaded(db, electricity, "line_no") == [(3,)]
    assert rejected(db) == [(5, "A2", "quantity 'x' is not a number")]


def test_exact_decimals(db, electricity, tmp_path):
    values = ["0.123456789012345678901234567890", "1e-3", "+.5", "12345678901234567890123456789.000000001", "7.",
              "1.50", "2E+3"]
    rows = [f"A{i},E,2024-01-01,2024-01-31,{v},kWh,GB" for i, v in enumerate(values)]
    report = load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, *rows)))
    assert report.rows_loaded == len(values), rejected(db)
    stored = [r[0] for r in loaded(db, electricity, "quantity")]
    assert stored == [Decimal(v) for v in values]
    assert str(stored[0]) == "0.123456789012345678901234567890"
    assert str(stored[5]) == "1.50"  # scale kept: the text is the value


def test_other_field_kinds_are_typed(db, survey, tmp_path):
    head = "activity_id,entity,period_start,period_end,flag,count,delivered,mass"
    rows = ["S1,E,2024-01-01,2024-12-31,yes,-3.5,2024-06-30,2", "S2,E,2024-01-01,2024-12-31,FALSE,0,2024-07-01,0.25",
            "S3,E,2024-01-01,2024-12-31,1,1e2,2024-07-02,0"]
    report = load_csv(db, "d", survey, csv_file(tmp_path, lines(head, *rows)))
    assert report.rows_loaded == 3, rejected(db)
    assert loaded(db, survey, "flag, count, delivered, mass, note") == [
        (True, Decimal("-3.5"), datetime.date(2024, 6, 30), Decimal("2"), None),  # plain numbers may be negative
        (False, Decimal("0"), datetime.date(2024, 7, 1), Decimal("0.25"), None),
        (True, Decimal("100"), datetime.date(2024, 7, 2), Decimal("0"), None),
    ]
    columns = {r[0] for r in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'activity_survey'").fetchall()}
    assert "mass_unit" not in columns  # a fixed unit needs no unit column


# --- one test per rejection reason -------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "category", "reason"),
    [
        ("A9,E,2024-01-01,2024-01-31,1,kWh", "field_count", "row has 6 fields but the header has 7"),
        ("A9,E,2024-01-01,2024-01-31,1,kWh,GB,extra", "field_count", "row has 8 fields but the header has 7"),
        ("A9,E,2024-01-01,2024-01-31,1,kWh,", "missing_value", "country is required but empty"),
        (",E,2024-01-01,2024-01-31,1,kWh,GB", "missing_value", "activity_id is required but empty"),
        ("A9,E,2024-01-01,2024-01-31,  ,kWh,GB", "missing_value", "quantity is required but empty"),
        ("A9,E,2024-01-01,2024-01-31,1,,GB", "missing_value", "quantity_unit is required but empty"),
        ("A9,E,2024-01-01,2024-01-31,abc,kWh,GB", "not_a_number", "quantity 'abc' is not a number"),
        ("A9,E,2024-01-01,2024-01-31,1.2.3,kWh,GB", "not_a_number", "quantity '1.2.3' is not a number"),
        ("A9,E,2024-01-01,2024-01-31,NaN,kWh,GB", "not_a_number", "quantity 'NaN' is not a number"),
        ("A9,E,2024-01-01,2024-01-31,\"1,000\",kWh,GB", "not_a_number", "quantity '1,000' is not a number; for a thousands comma give --thousands ,"),
        ("A9,E,2024-01-01,2024-01-31,1e99999,kWh,GB", "number_out_of_range",
         "quantity '1e99999' is out of range (at most 1000 characters and an exponent of at most 3 digits, which keeps the arithmetic on it exact)"),
        ("A9,E,2024-01-01,2024-01-31,-5,kWh,GB", "negative_quantity",
         "quantity '-5' is negative; a quantity cannot be less than zero"),
        ("A9,E,2024-01-01,2024-01-31,5,kWhh,GB", "unknown_unit",
         "quantity_unit 'kWhh' is not an energy unit (did you mean 'kWh'?)"),
        ("A9,E,2024-01-01,2024-01-31,5,KWH,GB", "unknown_unit",
         "quantity_unit 'KWH' is not an energy unit (did you mean 'kWh'?)"),
        ("A9,E,2024-01-01,2024-01-31,5,litre,GB", "unknown_unit",
         "quantity_unit 'litre' is not an energy unit "
         "(use one of Btu, GJ, GWh, J, MJ, MWh, TJ, Wh, kJ, kWh, mmBtu, therm, therm_US)"),
        ("A9,E,01/02/2024,2024-01-31,5,kWh,GB", "bad_date",
         "period_start '01/02/2024' is not a valid date (expected YYYY-MM-DD; give --date-format DD/MM/YYYY or "
         "MM/DD/YYYY, whichever the file uses)"),
        ("A9,E,2023-01-01,2023-02-29,5,kWh,GB", "bad_date",
         "period_end '2023-02-29' is not a valid date (expected YYYY-MM-DD)"),
        ("A9,E,2024-13-01,2024-12-31,5,kWh,GB", "bad_date",
         "period_start '2024-13-01' is not a valid date (expected YYYY-MM-DD)"),
        ("A9,E,0000-01-01,2024-12-31,5,kWh,GB", "bad_date",
         "period_start '0000-01-01' is not a valid date (expected YYYY-MM-DD)"),
        ("A9,E,2024-04-31,2024-12-31,5,kWh,GB", "bad_date",
         "period_start '2024-04-31' is not a valid date (expected YYYY-MM-DD)"),
        ("A9,E,2024-02-01,2024-01-01,5,kWh,GB", "period_order",
         "period_end 2024-01-01 is before period_start 2024-02-01"),
        ("A9,E\x00vil,2024-01-01,2024-01-31,5,kWh,GB", "bad_text",
         "entity contains a NUL character (shown as \u2400 in the record)"),
    ],
)
def test_rejection_reason(db, electricity, tmp_path, row, category, reason):
    path = csv_file(tmp_path, lines(HEADER, GOOD, row))
    report = load_csv(db, "d", electricity, path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 1, 1)
    assert report.reasons == ((category, 1),)
    (line_no, _, got), = rejected(db)
    assert (line_no, got) == (3, reason)


def test_valid_leap_day_and_extreme_dates_load(db, electricity, tmp_path):
    rows = ["L1,E,2024-02-29,2024-02-29,1,kWh,GB", "L2,E,2000-02-29,9999-12-31,1,kWh,GB",
            "L3,E,0001-01-01,1900-02-28,1,kWh,GB"]
    report = load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, *rows)))
    assert report.rows_loaded == 3, rejected(db)
    bad = "L4,E,1900-02-29,1900-03-01,1,kWh,GB"  # 1900 is not a leap year
    load_csv(db, "d2", electricity, csv_file(tmp_path, lines(HEADER, bad), "b.csv"), max_rejects=ANY_REJECTS)
    assert rejected(db) == [(2, "L4", "period_start '1900-02-29' is not a valid date (expected YYYY-MM-DD)")]


def test_bad_boolean(db, survey, tmp_path):
    head = "activity_id,entity,period_start,period_end,flag,count,delivered,mass"
    path = csv_file(tmp_path, lines(head, "S1,E,2024-01-01,2024-12-31,maybe,1,2024-06-30,2"))
    report = load_csv(db, "d", survey, path, max_rejects=ANY_REJECTS)
    assert report.reasons == (("bad_boolean", 1),)
    assert rejected(db) == [(2, "S1", "flag 'maybe' is not true or false (use true/false, yes/no or 1/0)")]


def test_fixed_unit_quantity_is_never_negative_but_numbers_may_be(db, survey, tmp_path):
    head = "activity_id,entity,period_start,period_end,flag,count,delivered,mass"
    path = csv_file(tmp_path, lines(head, "S1,E,2024-01-01,2024-12-31,no,-1,2024-06-30,-2"))
    load_csv(db, "d", survey, path, max_rejects=ANY_REJECTS)
    assert rejected(db) == [(2, "S1", "mass '-2' is negative; a quantity cannot be less than zero")]


def test_duplicate_within_file_keeps_first(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER, GOOD, "A2,E,2024-01-01,2024-01-31,1,kWh,GB",
                                    "A1,Other,2024-01-01,2024-01-31,2,kWh,GB",
                                    "A1,Third,2024-01-01,2024-01-31,3,kWh,GB"))
    report = load_csv(db, "d", electricity, path)
    assert (report.rows_loaded, report.rows_rejected, report.reasons) == (2, 2, (("duplicate_activity_id", 2),))
    assert loaded(db, electricity, "activity_id, entity") == [("A1", "Plant 1"), ("A2", "E")]
    assert rejected(db) == [
        (4, "A1", "activity_id 'A1' appears more than once (also line 2)"),
        (5, "A1", "activity_id 'A1' appears more than once (also line 2)"),
    ]


def test_second_file_rejects_ids_already_in_dataset(db, electricity, tmp_path):
    first = load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, GOOD), "one.csv"))
    path = csv_file(tmp_path, lines(HEADER, "A0,E,2024-01-01,2024-01-31,1,kWh,GB", GOOD), "two.csv")
    second = load_csv(db, "d", electricity, path)
    assert (second.rows_loaded, second.rows_rejected) == (1, 1)
    assert second.load_id != first.load_id
    assert rejected(db) == [(3, "A1", f"activity_id 'A1' is already in dataset 'd' (load {first.load_id}, line 2)")]
    other = load_csv(db, "other", electricity, csv_file(tmp_path, lines(HEADER, GOOD), "three.csv"))
    assert other.rows_loaded == 1  # datasets are independent


def test_first_failing_check_is_reported_once(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER, ",,bad,2024-01-01,-1,xx,"))
    report = load_csv(db, "d", electricity, path, max_rejects=ANY_REJECTS)
    assert report.reasons == (("missing_value", 1),)
    assert rejected(db) == [(2, None, "activity_id is required but empty")]


def test_rejected_record_holds_raw_values(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER + ",supplier", "A1,E,2024-01-01,2024-01-31, 1x ,kWh,GB,"))
    load_csv(db, "d", electricity, path, max_rejects=ANY_REJECTS)
    assert records(db) == [{"activity_id": "A1", "entity": "E", "period_start": "2024-01-01",
                            "period_end": "2024-01-31", "quantity": " 1x ", "quantity_unit": "kWh",
                            "country": "GB", "supplier": ""}]


def test_field_count_record_keeps_every_cell(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER, "A1,E,2024-01-01,2024-01-31,1,kWh,GB,x,y", "A2,E"))
    load_csv(db, "d", electricity, path, max_rejects=ANY_REJECTS)
    assert records(db) == [
        {"activity_id": "A1", "entity": "E", "period_start": "2024-01-01", "period_end": "2024-01-31",
         "quantity": "1", "quantity_unit": "kWh", "country": "GB", "_extra_fields": ["x", "y"]},
        {"activity_id": "A2", "entity": "E"},
    ]
    assert [r[:2] for r in rejected(db)] == [(2, "A1"), (3, "A2")]


def test_nul_is_rejected_and_shown(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER, "A1,E,2024-01-01,2024-01-31,1,kWh,G\x00B"))
    load_csv(db, "d", electricity, path, max_rejects=ANY_REJECTS)
    assert records(db)[0]["country"] == "G\u2400B"


# --- reconciliation ----------------------------------------------------------------------


def test_mixed_file_reconciles(db, electricity, tmp_path):
    rows = [
        GOOD,
        "A2,E,2024-01-01,2024-01-31,abc,kWh,GB",
        "A3,E,2024-01-01,2024-01-31,5,kWh,FR",
        "A4,E,2024-01-01,2024-01-31,5,gallon,GB",
        "A5,E,2024-01-01",
        "A3,E,2024-01-01,2024-01-31,5,kWh,FR",
        "A6,E,2024-03-01,2024-02-01,5,kWh,GB",
        "A7,E,2024-01-01,2024-01-31,7,GJ,DE",
    ]
    report = load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, *rows)))
    assert report.rows_read == len(rows) == report.rows_loaded + report.rows_rejected
    assert (report.rows_loaded, report.rows_rejected) == (3, 5)
    assert report.reasons == (("duplicate_activity_id", 1), ("field_count", 1), ("not_a_number", 1),
                              ("period_order", 1), ("unknown_unit", 1))
    assert count(db, 'ccf."activity_electricity"') == 3
    assert count(db, "ccf.rejected") == 5
    assert db.execute("SELECT DISTINCT load_id FROM ccf.rejected").fetchall() == [(report.load_id,)]
    assert loaded(db, electricity) == [("A1",), ("A3",), ("A7",)]


def test_rejection_reasons_are_the_ones_data_md_lists_in_its_order():
    """checks.REASONS and the table of docs/data.md ("Rejected rows") name the same reasons, in
    the same order: the table says what each means, the loader gives no other."""
    text = (ROOT / "docs/data.md").read_text(encoding="utf-8")
    table = text[text.index("| reason code | when |"):].split("\n\n")[0]
    documented = [row.split("|")[1].strip().strip("`") for row in table.splitlines()[2:]]
    assert documented == list(REASONS)


def test_progress_is_reported(db, electricity, tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "PROGRESS_EVERY", 2)
    rows = [f"A{i},E,2024-01-01,2024-01-31,1,kWh,GB" for i in range(5)]
    seen: list[tuple[int, float | None]] = []
    load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, *rows)), progress=lambda n, f: seen.append((n, f)))
    assert [n for n, _ in seen] == [2, 4]
    assert all(0 < f <= 1 for _, f in seen)  # the part of the file read (in blocks of 1 MB), for the ETA


def test_statement_count_does_not_depend_on_rows(db, electricity, tmp_path, monkeypatch):
    ran: list[list[str]] = []

    class Recording(Executor):
        def __init__(self, conn) -> None:
            super().__init__(conn)
            ran.append(self.statements)

    monkeypatch.setattr(load_module, "Executor", Recording)
    # the first load also creates the activity table (its DDL is issued only when it is missing)
    load_csv(db, "d0", electricity, csv_file(tmp_path, lines(HEADER, "N0-0,E,2024-01-01,2024-01-31,1,kWh,GB"), "0.csv"))
    for n in (1, 50):
        rows = [f"N{n}-{i},E,2024-01-01,2024-01-31,{i},kWh,GB" for i in range(n)]
        load_csv(db, f"d{n}", electricity, csv_file(tmp_path, lines(HEADER, *rows), f"{n}.csv"))
    assert len(ran[1]) == len(ran[2])
    assert all("N50-" not in s for s in ran[2])  # values travel as data (COPY), never as SQL


# --- data survives exactly ---------------------------------------------------------------


HOSTILE = [
    "comma, inside",
    'double "quotes" here',
    "multi\nline\nvalue",
    "'; DROP TABLE ccf.rejected; --",
    "semi;colon",
    "back\\slash \\N \\t \\\\",
    "tab\there",
    "unicode: £ € 漢字 🚀 e\u0301",
    "%(dataset)s %s {0}",
    "\\.",
    "  leading and trailing  ",
    "$$ dollar $$",
]


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def test_hostile_text_round_trips_exactly(db, electricity, tmp_path):
    rows = [f"{_quote('id ' + v)},{_quote(v)},2024-01-01,2024-01-31,1,kWh,{_quote(v)}" for v in HOSTILE]
    report = load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, *rows)))
    assert report.rows_loaded == len(HOSTILE), rejected(db)
    assert loaded(db, electricity, "activity_id, entity, country") == [("id " + v, v, v) for v in HOSTILE]
    assert count(db, "ccf.rejected") == 0  # still there


def test_hostile_text_round_trips_in_rejected_records_and_line_numbers_follow_newlines(db, electricity, tmp_path):
    rows = [f"{_quote(v)},{_quote(v)},2024-01-01,2024-01-31,bad,kWh,GB" for v in HOSTILE]
    load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, *rows)), max_rejects=ANY_REJECTS)
    got = db.execute("SELECT line_no, activity_id, record->>'entity' FROM ccf.rejected ORDER BY line_no").fetchall()
    expected_lines = []
    line = 2
    for v in HOSTILE:
        expected_lines.append(line)
        line += 2 * v.count("\n") + 1  # the value appears twice in its record
    assert got == [(n, v, v) for n, v in zip(expected_lines, HOSTILE)]


def test_hostile_dataset_name_is_data(db, electricity, tmp_path):
    name = "x'; DROP TABLE ccf.activity_load; --"
    load_csv(db, name, electricity, csv_file(tmp_path, lines(HEADER, GOOD), "a.csv"))
    load_csv(db, name, electricity, csv_file(tmp_path, lines(HEADER, GOOD), "b.csv"), max_rejects=ANY_REJECTS)
    assert rejected(db)[0][2].startswith(f"activity_id 'A1' is already in dataset '{name}'")


# --- whole-file errors ---------------------------------------------------------------------


def _nothing_loaded(db) -> None:
    db.rollback()
    assert count(db, "ccf.activity_load") == 0
    assert count(db, "ccf.rejected") == 0
    assert db.execute("SELECT to_regclass('ccf.activity_electricity')").fetchone()[0] is None


def test_missing_column(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines("activity_id,entity,period_start,period_end,quantity,country", GOOD))
    with pytest.raises(LoadError, match=r"missing column\(s\): quantity_unit") as err:
        load_csv(db, "d", electricity, path)
    assert err.value.line == 1 and err.value.path == str(path)
    _nothing_loaded(db)


def test_unknown_column_with_suggestion(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER.replace("country", "contry") + ",remarks", GOOD + ",red"))
    with pytest.raises(LoadError) as err:
        load_csv(db, "d", electricity, path)
    assert err.value.message == (
        "missing column(s): country; unknown column(s): contry (did you mean 'country'?), remarks "
        "(activity type 'electricity')"
    )
    _nothing_loaded(db)


def test_suggestions_skip_columns_already_present(db, electricity, tmp_path):
    path = csv_file(tmp_path, lines(HEADER + ",suplier,countri", GOOD + ",x,y"))
    with pytest.raises(LoadError) as err:
        load_csv(db, "d", electricity, path)
    assert err.value.message == (
        "unknown column(s): suplier (did you mean 'supplier'?), countri (activity type 'electricity')"
    )


def test_optional_field_needs_its_pair_and_repeats_are_refused(db, survey, electricity, tmp_path):
    with pytest.raises(LoadError, match=r"repeated column\(s\): country"):
        load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER + ",country", GOOD + ",GB")))
    with pytest.raises(LoadError, match="has no name"):
        load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER + ",", GOOD + ",")))


def test_empty_file(db, electricity, tmp_path):
    with pytest.raises(LoadError, match="empty file"):
        load_csv(db, "d", electricity, csv_file(tmp_path, b""))
    with pytest.raises(LoadError, match="empty file"):
        load_csv(db, "d", electricity, csv_file(tmp_path, "\n\n", "blank.csv"))
    _nothing_loaded(db)


def test_missing_file(db, electricity, tmp_path):
    with pytest.raises(LoadError, match="cannot read file"):
        load_csv(db, "d", electricity, tmp_path / "nope.csv")


def test_non_utf8_names_the_line_and_loads_nothing(db, electricity, tmp_path):
    data = lines(HEADER, GOOD, "A2,E,2024-01-01,2024-01-31,1,kWh,GB").encode()
    data += b"A3,Caf\xe9,2024-01-01,2024-01-31,1,kWh,GB\n"  # Latin-1 e-acute on line 4
    with pytest.raises(LoadError, match="not UTF-8") as err:
        load_csv(db, "d", electricity, csv_file(tmp_path, data))
    assert err.value.line == 4
    _nothing_loaded(db)


def test_failed_load_leaves_earlier_loads_alone(db, electricity, tmp_path):
    load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, GOOD), "ok.csv"))
    db.commit()
    data = lines(HEADER, "A2,E,2024-01-01,2024-01-31,1,kWh,GB").encode() + b"\xff\n"
    with pytest.raises(LoadError):
        load_csv(db, "d", electricity, csv_file(tmp_path, data, "bad.csv"))
    assert count(db, "ccf.activity_load") == 1
    assert loaded(db, electricity) == [("A1",)]


def test_csv_error_is_a_load_error(db, electricity, tmp_path):
    text = HEADER + "\n" + "A1,E,2024-01-01,2024-01-31,1,kWh,GB\rA2,E\n"
    with pytest.raises(LoadError, match="cannot read CSV") as err:
        load_csv(db, "d", electricity, csv_file(tmp_path, text))
    assert err.value.line == 2


# --- the activity table ----------------------------------------------------------------------


def test_table_gains_optional_columns(db, tmp_path):
    v1 = _activity_type(tmp_path, "  quantity: energy\n", "growing")
    v2 = _activity_type(tmp_path, "  quantity: energy\n  site:\n    type: text\n    required: false\n"
                                  "  fuel:\n    type: quantity\n    dimension: mass\n    required: false\n", "growing")
    head = "activity_id,entity,period_start,period_end,quantity,quantity_unit"
    load_csv(db, "d", v1, csv_file(tmp_path, lines(head, "G1,E,2024-01-01,2024-01-31,1,kWh"), "a.csv"))
    report = load_csv(db, "d", v2, csv_file(tmp_path, lines(head + ",site,fuel,fuel_unit",
                                                             "G2,E,2024-01-01,2024-01-31,1,kWh,S,2,kg"), "b.csv"))
    assert report.rows_loaded == 1, rejected(db)
    assert loaded(db, v2, "activity_id, site, fuel, fuel_unit") == [("G1", None, None, None),
                                                                     ("G2", "S", Decimal("2"), "kg")]


def test_table_missing_a_required_column_is_refused(db, tmp_path):
    v1 = _activity_type(tmp_path, "  quantity: energy\n", "strict")
    v2 = _activity_type(tmp_path, "  quantity: energy\n  site: text\n", "strict")
    with db.transaction():
        ensure_activity_table(Executor(db), v1)
    with pytest.raises(LoadError, match=r"has no column\(s\) site"):
        ensure_activity_table(Executor(db), v2)


def test_table_with_a_changed_column_type_is_refused(db, tmp_path):
    v1 = _activity_type(tmp_path, "  quantity: energy\n  site: text\n", "changing")
    v2 = _activity_type(tmp_path, "  quantity: energy\n  site: number\n", "changing")
    ensure_activity_table(Executor(db), v1)
    with pytest.raises(LoadError, match="site is text, expected numeric"):
        ensure_activity_table(Executor(db), v2)


def test_reserved_field_names_are_refused(tmp_path):
    """Bookkeeping column names are refused where the author writes them: in the activity type."""
    from ccf.dsl.diagnostics import DiagnosticError

    with pytest.raises(DiagnosticError, match="'dataset' is a reserved column name"):
        _activity_type(tmp_path, "  dataset: text\n", "clash")


def test_field_named_like_a_keyword(db, tmp_path):
    at = _activity_type(tmp_path, "  end: text\n  order: number\n", "keywords")
    head = "activity_id,entity,period_start,period_end,end,order"
    rows = ["K1,E,2024-01-01,2024-01-31,x,1", "K2,E,2024-01-01,2024-01-31,y,z"]
    report = load_csv(db, "d", at, csv_file(tmp_path, lines(head, *rows)))
    assert (report.rows_loaded, report.rows_rejected) == (1, 1)
    assert loaded(db, at, '"end", "order"') == [("x", Decimal("1"))]
    assert records(db)[0]["order"] == "z"


def test_invalid_dataset_name(db, electricity, tmp_path):
    with pytest.raises(LoadError, match="invalid dataset name"):
        load_csv(db, " ", electricity, csv_file(tmp_path, lines(HEADER, GOOD)))


def test_two_loads_in_one_outer_transaction(db, electricity, tmp_path):
    with db.transaction():
        load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, GOOD), "a.csv"))
        report = load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, GOOD), "b.csv"), max_rejects=ANY_REJECTS)
    assert report.reasons == (("duplicate_activity_id", 1),)
    assert db.execute("SELECT to_regclass('pg_temp.ccf_load_staging')").fetchone()[0] is None


def test_random_text_round_trips(db, electricity, tmp_path):
    import random

    rnd = random.Random(20240601)
    alphabet = ['"', ",", "\n", "\r", "\r\n", "\t", "\\", "'", ";", " ", "a", "Z", "0", "é", "漢", "🚀", "\u200b", "%", "$"]
    values = ["v" + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))) for _ in range(300)]
    rows = [f"R{i},{_quote(v)},2024-01-01,2024-01-31,1,kWh,GB" for i, v in enumerate(values)]
    path = csv_file(tmp_path, "\r\n".join([HEADER, *rows]) + "\r\n")
    report = load_csv(db, "d", electricity, path)
    assert report.rows_loaded == len(values), rejected(db)
    assert [r[0] for r in loaded(db, electricity, "entity")] == values


def test_the_checked_table_is_built_once_for_loads_of_the_same_shape(electricity):
    """Its statement reads the dataset's name as a parameter: two datasets' loads of the same file
    shape share one tree, the text of a fresh build; another period or header builds its own."""
    from ccf.engine.load.datasets import Dataset, ReportingPeriod
    from ccf.engine.load.slow import _checked, create_checked

    names = ["activity_id", "entity", "country", "quantity", "quantity_unit", "period_start", "period_end"]
    p2025 = ReportingPeriod.parse("2025")
    one = create_checked(electricity, names, Dataset("one", p2025))
    assert create_checked(electricity, names, Dataset("two", p2025)) is one
    assert render(one) == render(_checked.__wrapped__(electricity, tuple(names), Dataset("", p2025)))
    assert create_checked(electricity, names, Dataset("one", ReportingPeriod.parse("2024"))) is not one
    assert create_checked(electricity, names, Dataset("one")) is not one
    assert create_checked(electricity, names[:-1], Dataset("one", p2025)) is not one
# --- data quality ---------------------------------------------------------------------------

DQ_HEADER = HEADER + ",data_quality"


@pytest.mark.parametrize("fast", [True, False])
def test_data_quality_scores_load_and_others_are_rejected_in_the_experts_words(db, electricity, tmp_path, fast):
    rows = [GOOD + ",1", "A2,E,2024-01-01,2024-01-31,5,kWh,GB,5", "A3,E,2024-01-01,2024-01-31,5,kWh,GB,",
            "A4,E,2024-01-01,2024-01-31,5,kWh,GB,2.0", "A5,E,2024-01-01,2024-01-31,5,kWh,GB, 3 ",
            "B1,E,2024-01-01,2024-01-31,5,kWh,GB,6", "B2,E,2024-01-01,2024-01-31,5,kWh,GB,0",
            "B3,E,2024-01-01,2024-01-31,5,kWh,GB,2.5", "B4,E,2024-01-01,2024-01-31,5,kWh,GB,-1",
            "B5,E,2024-01-01,2024-01-31,5,kWh,GB,good"]
    report = load_csv(db, "d", electricity, csv_file(tmp_path, lines(DQ_HEADER, *rows)), max_rejects=ANY_REJECTS, fast=fast)
    assert loaded(db, electricity, "activity_id, data_quality") == [
        ("A1", Decimal(1)), ("A2", Decimal(5)), ("A3", None), ("A4", Decimal("2.0")), ("A5", Decimal(3))]
    assert report.reasons == (("bad_data_quality", 4), ("not_a_number", 1))
    score = ("' is not a data-quality score: a whole number from 1 (best data, e.g. verified emissions reported by "
             "the source) to 5 (poorest, e.g. spend-based estimates)")
    assert rejected(db) == [(7, "B1", "data_quality '6" + score), (8, "B2", "data_quality '0" + score),
                            (9, "B3", "data_quality '2.5" + score), (10, "B4", "data_quality '-1" + score),
                            (11, "B5", "data_quality 'good' is not a number")]


def test_a_csv_without_data_quality_loads_as_before_into_a_table_that_has_the_column(db, electricity, tmp_path):
    load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, GOOD)))
    assert loaded(db, electricity, "activity_id, data_quality") == [("A1", None)]


def test_an_activity_table_made_before_data_quality_gains_the_column(db, electricity, tmp_path):
    """A table created by an earlier ccf has no data_quality: the next load adds it, nullable."""
    load_csv(db, "d", electricity, csv_file(tmp_path, lines(HEADER, GOOD)))
    db.execute('ALTER TABLE ccf."activity_electricity" DROP COLUMN data_quality')
    load_csv(db, "d", electricity, csv_file(tmp_path, lines(DQ_HEADER, "A2,E,2024-01-01,2024-01-31,5,kWh,GB,4"), "b.csv"))
    assert loaded(db, electricity, "activity_id, data_quality") == [("A1", None), ("A2", Decimal(4))]


def test_no_activity_type_may_name_a_field_data_quality(tmp_path):
    from ccf.dsl.diagnostics import DiagnosticError

    with pytest.raises(DiagnosticError, match="'data_quality' is a reserved column name"):
        _activity_type(tmp_path, "  data_quality: number\n")
