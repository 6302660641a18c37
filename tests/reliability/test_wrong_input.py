"""Wrong input is an error, never a silent change (issue 15): a CSV file cut off inside a quoted
cell, methodology values that YAML 1.1 and YAML 1.2 read differently, a file nested too deep, a
run over a dataset that does not exist, and a load whose rows are all (or more than allowed)
rejected. Each is refused with a message that says where, and nothing of it is committed.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helpers import shipped_library
from reliability._support import ROOT, unique
from ccf.dsl.diagnostics import CcfError, DiagnosticError
from ccf.dsl.library import Library, read_methodology
from ccf.dsl.source import SourceFile
from ccf.dsl.yaml_source import MAX_DEPTH, load_yaml
from ccf.engine.api import factor_signatures
from ccf.engine.cli import main
from ccf.engine.database import connect
from ccf.engine.load import LoadError, RejectLimit, load_csv, unclosed_quote
from ccf.engine.load.source import NotPlain, check_plain
from ccf.engine.run import run

HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
GOOD = ["G1,ACME,2024-01-01,2024-01-31,100,kWh,GB,,", "G2,ACME,2024-01-01,2024-01-31,0,kWh,GB,,",
        "G3,ACME,2024-01-01,2024-01-31,5,MWh,FR,,"]
BAD = ["B1,ACME,2024-01-01,2024-01-31,lots,kWh,GB,,", "B2,ACME,2024-01-01,2024-01-31,-5,kWh,GB,,",
       "B3,ACME,2024-01-01,2024-01-31,1,kWh,GB,,,extra"]
ELECTRICITY = "scope2.electricity.location_based@1.0.0"
SCOPE2 = ROOT / "methodologies" / "scope2.electricity.location_based" / "1.0.0.yaml"


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


@pytest.fixture()
def cli_db(module_db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", module_db_url)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def committed(conn, dataset: str) -> dict[str, int]:
    """What the database holds of a dataset: it must all be zero after a refused load."""
    tables = ["dataset", "activity_load", "rejected", "run"]
    if conn.execute("SELECT to_regclass('ccf.activity_electricity')").fetchone()[0] is not None:
        tables.append("activity_electricity")  # (created by the first load that is committed)
    counts = {t: conn.execute(f"SELECT count(*) FROM ccf.{t} WHERE dataset = %s", (dataset,)).fetchone()[0]
              for t in tables}
    counts.setdefault("activity_electricity", 0)
    conn.rollback()
    return counts


NOTHING = {"dataset": 0, "activity_load": 0, "rejected": 0, "activity_electricity": 0, "run": 0}


# --- a CSV file that ends inside a quoted cell ---------------------------------------------------

# (file text, line the unclosed quote opens on). 'plain': every other record is one line, so the
# file would be staged by PostgreSQL's COPY (the fast path) but for the open quote; 'python': a
# blank line and a quoted line break already send it through Python's csv module. In both, the
# cut-off record would otherwise swallow the rest of the file into one cell.
TRUNCATED = {
    "plain, cut off in the last cell": ("\n".join([HEADER, *GOOD, 'T1,ACME,2024-01-01,2024-01-31,1,kWh,"G']), 5),
    "plain, open quote early": ("\n".join([HEADER, GOOD[0], 'T1,ACME,2024-01-01,2024-01-31,1,kWh,"GB,,', *GOOD[1:]]) + "\n", 3),
    "python, cut off in the last cell": ("\n".join([HEADER, GOOD[0], "", 'Q1,ACME,2024-01-01,2024-01-31,1,kWh,GB,,"a',
                                                    'b"', GOOD[1], 'T1,ACME,2024-01-01,2024-01-31,1,kWh,GB,,"Sup']), 7),
    "python, open quote early": ("\n".join([HEADER, "", 'T1,ACME,2024-01-01,2024-01-31,1,kWh,GB,"x"y,"z', *GOOD]) + "\n", 3),
}


@pytest.mark.parametrize("case", list(TRUNCATED))
def test_a_file_ending_inside_a_quoted_cell_is_refused_naming_the_line_the_quote_opens(case, conn, lib, tmp_path):
    text, line = TRUNCATED[case]
    if case.startswith("plain"):  # but for its open quote, PostgreSQL's COPY would stage this file
        check_plain(text.replace('"', "").encode())
    with pytest.raises(NotPlain):  # the open quote sends every file through the csv module
        check_plain(text.encode())
    name = unique("cut")
    with pytest.raises(LoadError) as info:
        load_csv(conn, name, lib.activity_types["electricity"], write(tmp_path / "cut.csv", text))
    assert info.value.line == line
    assert "ends inside a quoted cell that opens on this line" in info.value.message
    conn.rollback()
    assert committed(conn, name) == NOTHING


def test_the_load_command_names_the_file_and_line_of_the_open_quote(conn, cli_db, tmp_path, capsys):
    text, line = TRUNCATED["plain, open quote early"]
    path = write(tmp_path / "cut.csv", text)
    name = unique("cut")
    assert main(["load", "--dataset", name, "--type", "electricity", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:{line}: the file ends inside a quoted cell") and "Traceback" not in err
    assert committed(conn, name) == NOTHING


def test_an_open_quote_past_the_csv_field_limit_names_the_line_it_opens(conn, lib, tmp_path):
    rows = [f"R{i},ACME,2024-01-01,2024-01-31,{i},kWh,GB,,supplier number {i:06d} of a long export" for i in range(3000)]
    text = "\n".join([HEADER, *rows[:10], 'T1,ACME,2024-01-01,2024-01-31,1,kWh,GB,,"Sup', *rows[10:]]) + "\n"
    assert len(text) > csv.field_size_limit()
    name = unique("cut")
    with pytest.raises(LoadError) as info:
        load_csv(conn, name, lib.activity_types["electricity"], write(tmp_path / "cut.csv", text))
    assert info.value.line == 12 and "in a quoted cell that opens on this line" in info.value.message
    conn.rollback()
    assert committed(conn, name) == NOTHING


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='a,"\n', max_size=14))
def test_the_open_quote_is_found_where_the_csv_module_finds_the_file_cut_off(text):
    """``unclosed_quote`` against the csv module itself: strict mode raises 'unexpected end of
    data' exactly when the text ends inside a quoted cell (texts on which strict mode refuses
    something else first are skipped)."""
    lines = text.splitlines(keepends=True)
    try:
        list(csv.reader(io.StringIO(text, newline=""), strict=True))
        cut = False
    except csv.Error as e:
        assume("unexpected end of data" in str(e))
        cut = True
    assert (unclosed_quote(lines, 1) is not None) == cut


# --- YAML values that YAML 1.1 and 1.2 read differently ------------------------------------------

# (value as written, words of the diagnostic): each was silently converted before (YAML 1.1)
REFUSED = [
    ("010", "YAML 1.1 reads it as the number 8, YAML 1.2 as 10"),
    ("007", "a whole number written with a leading zero"),
    ("0o10", "a whole number in octal (8)"),
    ("0x10", "a whole number in hexadecimal (16)"),
    ("0b101", "'0b101' is the number 5 in YAML 1.1 but the text '0b101' in YAML 1.2"),
    ("1:30", "'1:30' is the number 90 in YAML 1.1 but the text '1:30' in YAML 1.2"),
    ("1_000", "'1_000' is the number 1000 in YAML 1.1"),
    ("1_000.5", "'1_000.5' is the number 1000.5 in YAML 1.1"),
    ("yes", "'yes' is true in YAML 1.1 but the text 'yes' in YAML 1.2"),
    ("On", "'On' is true in YAML 1.1"),
    ("NO", "'NO' is false in YAML 1.1 but the text 'NO' in YAML 1.2"),
    (".inf", "'.inf' is infinity in YAML"),
    ("-.Inf", "'-.Inf' is infinity in YAML"),
    (".nan", "'.nan' is not-a-number in YAML"),
    ("2024-01-01", "'2024-01-01' is a date in YAML 1.1 but the text '2024-01-01' in YAML 1.2"),
]


@pytest.mark.parametrize("value,words", REFUSED, ids=[v for v, _ in REFUSED])
def test_a_value_yaml_1_1_reads_otherwise_is_refused_at_its_position(value, words):
    with pytest.raises(DiagnosticError) as info:
        load_yaml(SourceFile("f.yaml", f"a: 1\nb:\n  c: [2, {value}]\n"))
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E108", 3, 10, 10 + len(value))
    assert words in d.message and d.suggestion and f"('{value}')" in d.suggestion
    # in quotes, it is the text as written
    assert load_yaml(SourceFile("f.yaml", f"a: '{value}'\n")).data == {"a": value}


def _methodology(parameters: str, activity_types) -> object:
    text = SCOPE2.read_text("utf-8").replace("\nfactors:", f"\nparameters:\n{parameters}\nfactors:", 1)
    return read_methodology(SourceFile("m.yaml", text), activity_types, factor_signatures())


def test_numbers_in_a_methodology_are_read_exactly_as_written_by_yaml_1_2(lib):
    m = _methodology("  a: 10\n  b: -0\n  c: 1e3\n  d: 6.02e23\n  e: 0.1\n  f: '010'", lib.activity_types)
    values = {p.name: p.value.value for p in m.parameters}
    assert {k: str(v) for k, v in values.items()} == {"a": "10", "b": "0", "c": "1E+3", "d": "6.02E+23", "e": "0.1",
                                                      "f": "10"}


@pytest.mark.parametrize("old,new", [
    ("\nfactors:", "\nparameters:\n  loss: true\nfactors:"),
    ("  scope: 2\n", "  scope: true\n"),
    ("  scope: 2\n", "  scope: 3\n  category: true\n"),
], ids=["parameter", "scope", "category"])
def test_true_is_not_a_number(old, new, lib):
    """YAML's true was taken for the number 1 (pydantic's lax reading): the model reads strictly."""
    source = SCOPE2.read_text("utf-8").replace(old, new, 1)
    with pytest.raises(DiagnosticError) as info:
        read_methodology(SourceFile("m.yaml", source), lib.activity_types, factor_signatures())
    (d,) = info.value.diagnostics
    assert d.code == "E202" and d.message.endswith("not true")
    assert d.span.line == 1 + source[: source.index("true")].count("\n")


# --- files nested too deep ------------------------------------------------------------------------

DEEP = {
    "block mappings": "".join(f"{'  ' * i}k{i}:\n" for i in range(500)) + "  " * 500 + "x\n",
    "flow lists": "a: " + "[" * 500 + "]" * 500 + "\n",
    "flow mappings": "a: " + "{b: " * 500 + "1" + "}" * 500 + "\n",
}


@pytest.mark.parametrize("shape", list(DEEP))
def test_a_file_nested_500_levels_deep_is_a_positioned_diagnostic(shape):
    with pytest.raises(DiagnosticError) as info:
        load_yaml(SourceFile("deep.yaml", DEEP[shape]))
    (d,) = info.value.diagnostics
    assert d.code == "E109" and f"more than {MAX_DEPTH} levels deep" in d.message
    assert d.span.line == (MAX_DEPTH + 1 if shape == "block mappings" else 1)


def test_check_reports_a_deep_file_and_list_and_run_of_its_library_fail_cleanly(tmp_path, monkeypatch, capsys, cli_db):
    """The deep file is one diagnostic of 'ccf check'; 'ccf list' of a library holding it lists
    the other methodologies and notes the problem; 'ccf run' refuses with the diagnostic, as for
    any broken file in the library. None of them ends in a traceback."""
    deep = write(tmp_path / "deep.yaml", DEEP["block mappings"])
    assert main(["check", str(deep)]) == 1
    err = capsys.readouterr().err
    assert "error[E109]" in err and f"--> {deep}:{MAX_DEPTH + 1}:" in err and "Traceback" not in err

    root = tmp_path / "library"
    shutil.copytree(ROOT / "methodologies" / "activity_types", root / "activity_types")
    (root / "scope2.electricity.location_based").mkdir()
    shutil.copy(SCOPE2, root / "scope2.electricity.location_based" / "1.0.0.yaml")
    (root / "test.deep").mkdir()
    shutil.copy(deep, root / "test.deep" / "1.0.0.yaml")
    monkeypatch.setenv("CCF_METHODOLOGIES", str(root))
    assert main(["list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "scope2.electricity.location_based" in out and "note: 1 problem(s) in methodology files" in err
    assert main(["run", "--dataset", "any"]) == 1
    err = capsys.readouterr().err
    assert "error[E109]" in err and "Traceback" not in err


# --- a run over a dataset that does not exist -----------------------------------------------------


def test_a_run_over_an_unknown_dataset_is_an_error_with_did_you_mean(conn, lib, cli_db, tmp_path, capsys):
    name = unique("acme")
    load_csv(conn, name, lib.activity_types["electricity"], write(tmp_path / "e.csv", "\n".join([HEADER, *GOOD]) + "\n"))
    runs = conn.execute("SELECT count(*) FROM ccf.run").fetchone()[0]
    conn.rollback()
    misspelt = name[:-1]
    assert main(["run", "--dataset", misspelt]) == 1
    err = capsys.readouterr().err
    assert err == f"error: no dataset '{misspelt}'; did you mean '{name}'?\n"
    with pytest.raises(CcfError, match=f"no dataset 'nowhere_at_all'; the datasets are: .*{name}"):
        run(conn, "nowhere_at_all", [lib.resolve(ELECTRICITY)])
    assert conn.execute("SELECT count(*) FROM ccf.run").fetchone()[0] == runs  # nothing written
    conn.rollback()
    assert run(conn, name, [lib.resolve(ELECTRICITY)]).methodologies[0].reconciliation.balanced


def test_a_run_before_anything_was_loaded_says_so(db, lib):
    with pytest.raises(CcfError, match="no dataset 'demo': nothing has been loaded yet"):
        run(db, "demo", [lib.resolve(ELECTRICITY)])


# --- loads with too many rejected rows ------------------------------------------------------------


def test_a_load_whose_every_row_is_rejected_is_an_error_and_commits_nothing(conn, lib, cli_db, tmp_path, capsys):
    path = write(tmp_path / "bad.csv", "\n".join([HEADER, *BAD]) + "\n")
    name = unique("allbad")
    assert main(["load", "--dataset", name, "--type", "electricity", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: 3 of 3 rows rejected, more than --max-rejects allows (fewer than all "
                          "rows (the default)); nothing was loaded.")
    assert "1 × field_count, 1 × negative_quantity, 1 × not_a_number" in err
    assert "first: line 2: quantity 'lots' is not a number" in err and "Traceback" not in err
    assert committed(conn, name) == NOTHING
    # a header without rows rejects nothing: it loads (an empty dataset)
    assert main(["load", "--dataset", name, "--type", "electricity", str(write(tmp_path / "h.csv", HEADER + "\n"))]) == 0
    assert committed(conn, name)["activity_load"] == 1


# (option, rejected rows of 3 + 3 = 6 read, refused?)
LIMITS = [
    (None, 2, False), (None, 6, True), ("100%", 6, False),
    ("0", 1, True), ("1", 1, False), ("1", 2, True),
    ("33.4%", 2, False), ("33.4%", 3, True), ("50%", 3, False), ("49.99%", 3, True), ("0%", 0, False),
]


@pytest.mark.parametrize("option,bad,refused", LIMITS, ids=[f"{o}-{b}" for o, b, _ in LIMITS])
def test_max_rejects_counts_rows_or_a_share_of_the_rows_read(option, bad, refused, conn, cli_db, tmp_path, capsys):
    rows = [r.replace("B", f"B{i}", 1) for i in range(2) for r in BAD][:bad]
    rows += [g.replace("G", f"G{i}", 1) for i in range(2) for g in GOOD][: 6 - bad]
    path = write(tmp_path / "mixed.csv", "\n".join([HEADER, *rows]) + "\n")
    name = unique("limit")
    args = ["load", "--dataset", name, "--type", "electricity", str(path)]
    args += ["--max-rejects", option] if option else []
    assert main(args) == (1 if refused else 0)
    out, err = capsys.readouterr()
    if refused:
        assert f"{bad} of 6 rows rejected, more than --max-rejects allows" in err
        assert committed(conn, name) == NOTHING
    else:
        assert f"6 rows read, {6 - bad} loaded, {bad} rejected" in out
        assert committed(conn, name)["rejected"] == bad


@pytest.mark.parametrize("text", ["abc", "-1", "101%", "1.5", "%", "5 rows"])
def test_a_malformed_max_rejects_is_refused(text, cli_db, tmp_path, capsys):
    path = write(tmp_path / "e.csv", "\n".join([HEADER, *GOOD]) + "\n")
    assert main(["load", "--dataset", "x", "--type", "electricity", str(path), "--max-rejects", text]) == 1
    assert "is neither a number of rows (e.g. 10) nor a percentage of the rows read" in capsys.readouterr().err


def test_a_percentage_limit_is_compared_exactly():
    limit = RejectLimit.parse("0.1%")
    assert not limit.exceeded(10**30, 10**27) and limit.exceeded(10**30, 10**27 + 1)
