"""`ccf test`: the test-case format (positioned errors), the runner on a real database, CI's run
of every shipped case, and publishing requiring a case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import shipped_case_plan, shipped_library, shipped_library_copy
from psycopg import sql

from ccf.dsl.cases import check_cases, read_cases
from ccf.dsl.diagnostics import CcfError, DiagnosticError
from ccf.dsl.source import SourceFile
from ccf.engine import api
from ccf.engine.cli import main
from ccf.engine.database import connect

LOCATION = "scope2.electricity.location_based"
GB_ROW = ("{activity_id: e1, entity: hq, country: GB, quantity: 1000, quantity_unit: kWh, "
          "period_start: 2025-01-01, period_end: 2025-12-31}")


def _case_file(root: Path, text: str, mid: str = LOCATION) -> Path:
    path = root / mid / "tests" / "t.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


@pytest.fixture()
def library_copy(tmp_path, monkeypatch) -> Path:
    """The shipped library's methods the tests write cases for (location-based electricity,
    waste by type, and refrigeration screening: the first published one with parameters),
    without their cases, as CCF_METHODOLOGIES: a test adds its own."""
    methods = (LOCATION, WASTE, "scope1.fugitive.refrigeration.screening")
    root = shipped_library_copy(tmp_path / "methodologies", methods, "tests", "*.py")
    monkeypatch.setenv("CCF_METHODOLOGIES", str(root))
    return root


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url


def test_every_shipped_case_passes(module_db_url):
    """CI runs every case of the shipped library; a failing one fails here with its report."""
    from ccf.engine.cases.commands import render

    with connect(module_db_url) as conn:
        outcomes = api.run_test_cases(conn)
    assert outcomes, "the shipped library has no test case"
    assert all(o.passed for o in outcomes), "\n".join(render(outcomes))


def test_every_latest_published_version_has_a_case():
    """The shipped library's latest published versions each have a case (ccf lock requires one
    for a version published from now on)."""
    covered = {m.ref for _, m in shipped_case_plan()}
    assert [m.ref for m in shipped_library().latest_published() if m.ref not in covered] == []


def _counts(conn) -> dict[str, int]:
    """Rows of every table of schema ccf."""
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ccf' AND table_type = 'BASE TABLE'")]
    out = {t: conn.execute(sql.SQL("SELECT count(*) FROM ccf.{}").format(sql.Identifier(t))).fetchone()[0] for t in tables}
    conn.rollback()
    return out


def test_a_failing_case_reports_expected_and_actual_and_nothing_remains(library_copy, cli_db, capsys):
    _case_file(library_copy, f"""cases:
  - name: the gas sum is not the published total
    versions: ">=1.3.0"
    period: 2025
    rows:
      - {GB_ROW}
      - {{activity_id: bad, entity: hq, country: GB, quantity: x, quantity_unit: kWh, period_start: 2025-01-01, period_end: 2025-12-31}}
    expect:
      e1: {{co2e: "177.01", CO2: "174.89"}}
      bad: {{rejected: is not a number}}
      total: {{co2e: "177.000"}}
  - name: a period with no edition of the set
    versions: ">=1.3.0"
    period: 2019
    rows:
      - {GB_ROW.replace("2025", "2019")}
    expect:
      e1: {{co2e: "1"}}
  - name: passes
    versions: ">=1.3.0"
    period: 2025
    rows:
      - {GB_ROW}
    expect:
      e1: {{co2e: "177"}}
""")
    with connect(cli_db) as conn:
        before = _counts(conn)
    assert main(["test", LOCATION]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"FAIL  {LOCATION}@1.3.0  the gas sum is not the published total") and "t.yaml:2)" in lines[0]
    assert lines[1].strip().startswith("e1 co2e: expected 177.01, actual 177 ") and "t.yaml:9)" in lines[1]
    assert len([line for line in lines if "expected" in line]) == 1, out  # CO2, the rejection and the total hold
    assert lines[2].startswith("FAIL") and "no edition of it is for the whole of 2019" in lines[3]
    assert lines[4].startswith("pass")
    assert lines[-1] == "3 cases: 1 passed, 2 failed"
    with connect(cli_db) as conn:
        after = _counts(conn)
        names = [r[0] for r in conn.execute("SELECT dataset FROM ccf.dataset")]
    # the scratch dataset's activity table stays (schema, empty): no row of any table remains
    assert {t: n for t, n in after.items() if n or t in before} == before
    assert not any(n.startswith("ccf test") for n in names)


def test_json_output_and_exit_0_when_every_case_passes(library_copy, cli_db, capsys):
    _case_file(library_copy, f"""cases:
  - name: zero is excluded
    versions: ">=1.3.0"
    period: 2025
    rows:
      - {GB_ROW.replace("quantity: 1000", "quantity: 0")}
    expect:
      e1: {{excluded: zero_consumption}}
""")
    assert main(["test", "--json", f"{LOCATION}@1.3.0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["passed"], out["failed"]) == (1, 0)
    assert out["cases"][0]["methodology"] == f"{LOCATION}@1.3.0" and out["cases"][0]["line"] == 2


def test_a_bad_case_file_is_exit_1_with_positioned_errors(library_copy, capsys):
    _case_file(library_copy, """cases:
  - name: typo
    period: 2025
    versoins: ">=1.3.0"
    rows:
      - {activity_id: a}
    expect:
      b: {co2e: "1"}
""")
    assert main(["test"]) == 1
    err = capsys.readouterr().err
    assert "error[E202]" in err and "unknown key 'versoins'" in err and "t.yaml:4:5" in err
    assert "Traceback" not in err
    assert main(["check", "--offline", str(library_copy)]) == 1  # ccf check reads case files too
    assert "versoins" in capsys.readouterr().err


def test_no_case_for_a_version_names_the_file_to_write(library_copy, capsys):
    assert main(["test", f"{LOCATION}@1.3.0"]) == 1
    assert f"methodologies/{LOCATION}/tests/<name>.yaml" in capsys.readouterr().err


def _positions(text: str, path: str = f"m/{LOCATION}/tests/t.yaml") -> list[tuple[str, int, int, str]]:
    with pytest.raises(DiagnosticError) as exc:
        read_cases(SourceFile(path, text))
    return [(d.code, d.span.line, d.span.column, d.message) for d in exc.value.diagnostics]


def test_case_file_errors_are_positioned_in_the_authors_words():
    found = _positions("""cases:
  - name: n
    period: 20255
    versions: ">=1"
    rows:
      - {activity_id: a, quantity: 1}
      - {activity_id: a}
    expect:
      a: {co2e: "1e3"}
      b: {excluded: x, co2e: "1"}
      total: {unmatched: x}
""")
    codes = [(c, line, col) for c, line, col, _ in found]
    assert ("E212", 3, 13) in codes  # not a year
    assert ("E211", 4, 15) in codes  # not a version clause
    assert ("E213", 7, 23) in codes  # activity id twice
    assert ("E215", 9, 17) in codes  # 1e3: no exponent
    assert ("E214", 10, 7) in codes  # b: no such row
    assert ("E215", 11, 15) in codes  # an outcome of the total


def test_plain_dates_are_text_in_case_files_but_other_ambiguous_values_are_not():
    (case,) = read_cases(SourceFile(f"m/{LOCATION}/tests/t.yaml", f"""cases:
  - name: n
    period: {{start: 2025-04-01, end: 2026-03-31}}
    rows:
      - {GB_ROW}
    expect:
      e1: {{co2e: "177"}}
"""))
    assert case.period == "2025-04-01..2026-03-31"
    assert dict(case.rows[0])["period_start"] == "2025-01-01" and dict(case.rows[0])["quantity"] == "1000"
    assert _positions("cases:\n  - {name: n, period: 2025, rows: [{activity_id: a, x: yes}], expect: {a: {co2e: '1'}}}\n")[0][0] == "E108"


def test_version_clauses():
    (case,) = read_cases(SourceFile(f"m/{LOCATION}/tests/t.yaml", """cases:
  - {name: n, period: 2025, versions: ">=1.2.0, <1.10.0, != 1.3.0", rows: [{activity_id: a}], expect: {a: {co2e: "1"}}}
"""))
    assert [v for v in ("1.1.0", "1.2.0", "1.3.0", "1.9.0", "1.10.0") if case.versions(v)] == ["1.2.0", "1.9.0"]


def test_lock_refuses_a_new_published_version_without_a_case(library_copy, capsys):
    new = library_copy / LOCATION / "9.0.0.yaml"
    new.write_text((library_copy / LOCATION / "1.3.0.yaml").read_text("utf-8").replace("version: 1.3.0", "version: 9.0.0"))
    assert main(["lock"]) == 1
    err = capsys.readouterr().err
    assert "error[E217]" in err and f"{LOCATION}@9.0.0 has no test case" in err
    assert f"{LOCATION}/tests/cases.yaml" in err and "9.0.0.yaml" in err
    assert "Traceback" not in err
    assert f"{LOCATION}@9.0.0" not in (library_copy / "published.lock").read_text("utf-8")


def test_lock_refuses_a_snapshot_with_no_result_row(tmp_path):
    from ccf.engine.lock import record_new

    m = shipped_library().resolve(f"{LOCATION}@1.3.0")
    totals = tmp_path / "snapshots" / "totals" / f"{m.ref}.json"
    totals.parent.mkdir(parents=True)
    totals.write_text(json.dumps({"reconciliation": {"rows_in": 3, "results": 0, "excluded": 3}}), "utf-8")
    (tmp_path / "m").mkdir()
    with pytest.raises(CcfError, match="no result rows"):
        record_new(tmp_path, tmp_path / "m", [m])
    assert not (tmp_path / "m" / "published.lock").exists()


def test_parameters_of_a_case_replace_the_methodologys(library_copy, cli_db, capsys):
    lib = api.library()
    with_params = [m for m in lib.versions() if m.parameters and m.status == "published"]
    assert with_params
    m = with_params[0]
    p = m.parameters[0].name
    _case_file(library_copy, f"""cases:
  - name: an unknown parameter
    versions: "=={m.version}"
    period: 2025
    parameters: {{{p}x: "1"}}
    rows: [{{activity_id: a}}]
    expect:
      a: {{co2e: "1"}}
""", m.id)
    assert main(["test", m.ref]) == 1
    err = capsys.readouterr().err
    assert "error[E216]" in err and f"has no parameter '{p}x'" in err


def test_a_case_can_expect_a_rows_data_quality_score(library_copy, cli_db, capsys):
    """A row's own score reaches its results (the shipped versions give none of their own)."""
    _case_file(library_copy, f"""cases:
  - name: the row's score is its results' score
    versions: ">=1.3.0"
    period: 2025
    rows:
      - {GB_ROW.replace("kWh,", "kWh, data_quality: 2,")}
      - {GB_ROW.replace("e1", "e2")}
    expect:
      e1: {{co2e: "177", data_quality: 2}}
      e2: {{data_quality: 3}}
""")
    assert main(["test", f"{LOCATION}@1.3.0"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0].strip() for line in lines if "expected" in line] == ["e2 data_quality: expected 3, actual none"]


def test_a_data_quality_expectation_must_be_a_score_of_a_row():
    with pytest.raises(DiagnosticError) as e:
        read_cases(SourceFile("t.yaml", f"""cases:
  - name: bad scores
    period: 2025
    rows:
      - {GB_ROW}
    expect:
      e1: {{data_quality: 6}}
      total: {{data_quality: 1}}
"""))
    assert [d.message for d in e.value.diagnostics] == [
        "'6' is not a data-quality score", "a data-quality score is what a row's results have, not the total"]
# --- a case's own factors (factors:) ---------------------------------------------------------

WASTE = "scope3.cat5.waste.waste_type_specific"
ROW = "{{activity_id: {id}, entity: EX, period_start: 2024-01-01, period_end: 2024-12-31, waste_type: {waste}, treatment: Landfill, mass: {mass}, mass_unit: {unit}}}"
PLASTIC = "{level1: Waste disposal, level3: Plastic, column_text: Landfill, unit: t, gas: CO2e, value: \"%s\"}"


def _case(name: str, value: str, expect: str, rows: list[str]) -> str:
    return f"""  - name: {name}
    period: 2024
    factors:
      desnz-2024:
        - {PLASTIC % value}
    rows:
""" + "".join(f"      - {r}\n" for r in rows) + f"""    expect:
{expect}"""


def test_a_case_reads_its_own_factors_instead_of_the_sets_and_nothing_remains(library_copy, cli_db, capsys):
    plastic = ROW.format(id="p", waste="Plastic", mass="2", unit="t")
    in_kg = ROW.format(id="kg", waste="Plastic", mass="500", unit="kg")
    paper = ROW.format(id="paper", waste="\"Paper and board: mixed\"", mass="1", unit="t")  # a DESNZ row
    _case_file(library_copy, "cases:\n" + _case(
        "the example's 40 kg CO2e/t", "40",
        "      p: {co2e: \"80\"}\n"
        "      kg: {co2e: \"20\"}\n"  # 0.5 t x 40: the version's per-tonne lookup converts
        "      paper: {unmatched: no_factor}\n"  # the set's own rows are not read beside the case's
        "      total: {co2e: \"100\"}\n",
        [plastic, in_kg, paper]) + _case(
        "a factor of 41 is not 40", "41", "      p: {co2e: \"80\"}\n", [plastic]), mid=WASTE)
    with connect(cli_db) as conn:
        before = _counts(conn)
    assert main(["test", WASTE]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"pass  {WASTE}@1.0.0  the example's 40 kg CO2e/t")
    assert lines[1] == "      with the case's own factors: desnz-2024 (1 row)"
    assert lines[2].startswith("FAIL") and lines[4].strip().startswith("p co2e: expected 80, actual 82 ")
    with connect(cli_db) as conn:
        after = _counts(conn)
        sets = [r[0] for r in conn.execute("SELECT set_id FROM ccf.factor_set")]
    assert {t: n for t, n in after.items() if n or t in before} == before  # no factor, set, unit or run row left
    assert not any(s.startswith("ccf-test-") for s in sets) and "desnz-2024" in sets
    assert main(["test", "--json", f"{WASTE}@1.0.0"]) == 1
    assert json.loads(capsys.readouterr().out)["cases"][0]["own_factors"] == {"desnz-2024": 1}


def _diagnostics(text: str) -> list[tuple[str, int, int, str]]:
    source = SourceFile(f"m/{WASTE}/tests/t.yaml", text)
    try:
        found = check_cases(read_cases(source), source, shipped_library())
    except DiagnosticError as exc:
        found = exc.diagnostics
    return [(d.code, d.span.line, d.span.column, d.message) for d in found]


def test_the_factors_of_a_case_are_checked_in_the_authors_words():
    head = "cases:\n  - name: n\n    period: 2024\n    rows: [{activity_id: a}]\n    expect: {a: {co2e: \"1\"}}\n"
    found = _diagnostics(head + """    factors:
      desnz-2024:
        - {level1: Waste disposal, level3: Plastic, column_text: Landfill, unit: t, gas: CO2e, value: "4e1"}
        - {level1: Waste disposal, level3: Plastic, column_text: Landfill, unit: tonnez, gas: CO2e, value: "40"}
        - {level1: Waste disposal, level3: Plastic, column_text: Landfill, unit: kgCO2e, gas: CO2e, value: "40"}
        - {level1: Waste disposal, level3: Plastic, column_text: Landfill, unit: t, value: "40"}
""")
    assert [(c, line, col) for c, line, col, _ in found] == [
        ("E219", 8, 103), ("E219", 9, 82), ("E219", 10, 82), ("E219", 11, 11)]
    assert "'4e1' is not a decimal number" in found[0][3] and "tonnez" in found[1][3]
    assert "names a gas" in found[2][3] and "needs gas" in found[3][3]
    found = _diagnostics(head + """    factors:
      desnz:
        - {level1: Waste disposal, unit: t, gas: CO2e, value: "40"}
""")
    assert [(c, line, col) for c, line, col, _ in found] == [("E218", 7, 7)]
    assert "reads no factor set 'desnz'" in found[0][3] and "desnz-2024" in found[0][3]
    found = _diagnostics(head + """    factors:
      desnz-2024:
        - {level1: Waste disposal, level3: Plastic, column_txt: Landfill, unit: t, gas: CO2e, value: "40"}
        - {level1: Waste disposal, level3: Plastic, column_text: Landfill, unit: t, gas: CH5, value: "40"}
""")
    assert [(c, line, col) for c, line, col, _ in found] == [("E219", 8, 53), ("E219", 8, 11), ("E219", 9, 90)]
    assert "'column_txt' is neither a factor column nor an attribute of factor set desnz" in found[0][3]
    assert "column_text" in found[1][3] and "factor 'disposal'" in found[1][3]  # no lookup could find the row
    assert "'CH5' is not a gas of factor set desnz" in found[2][3]


@pytest.mark.parametrize("mid", [
    "scope3.cat1.purchased_goods.average_data", "scope3.cat1.purchased_goods.spend_based",
    "scope3.cat4.upstream_transport.distance_based", "scope3.cat4.upstream_transport.spend_based",
    "scope3.cat5.waste.waste_type_specific", "scope3.cat7.employee_commuting.distance_based",
    "scope3.cat9.downstream_transport.distance_based", "scope3.cat12.end_of_life.waste_type_specific",
])
def test_the_shipped_examples_bring_their_own_factors(mid):
    """The guidance's examples are cases of the shipped methodologies, not pytest oracles only."""
    cases = [c for c, _ in shipped_case_plan() if c.methodology_id == mid and c.factors]
    assert cases and all(c.reference and "example" in c.reference for c in cases)
