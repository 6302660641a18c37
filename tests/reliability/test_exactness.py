"""No silently inexact result: PostgreSQL rounds a NUMERIC product past 16,383 decimal places
without an error, and cannot hold 131,072 digits before the point. ccf bounds its inputs at load
and install, proves each methodology exact from those bounds (dsl/exactness.py), and computes a
rule it cannot prove only for rows whose inputs are within a threshold: any other row is
unmatched with reason ``inexact``, in the SQL and in the reference evaluator alike."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import shipped_library
from reliability._support import RowSpec, assert_same, reference, shipped_factors, sql_outcomes, typed_row, unique, write_rows
from ccf.dsl.diagnostics import CcfError, DiagnosticError
from ccf.dsl.evaluate import EvaluationError, Result, Unmatched, multiply
from ccf.dsl import exactness
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.numeric import PG_MAX_SCALE, size
from ccf.dsl.source import SourceFile
from ccf.engine.api import factor_signatures
from ccf.engine.database import connect
from ccf.engine.factors.model import FactorRecord, FactorSetEdition, GwpRecord
from ccf.engine.factors.store import install_edition, install_gwp
from ccf.engine.load import load_csv
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent

HEADER = """\
methodology: rel.exactness
version: 1.0.0
status: draft
title: Exactness
ghg_protocol:
  scope: 1
  source: generated
  method: fuel-based
  references: [reliability tests]
activity: rel_gen
factor_set: desnz-2024
gwp: AR5
"""


def power(n: int) -> str:
    """n1 multiplied by itself n times, in kg CO2e."""
    return " * ".join(["n1"] * n) + " * 1 kgCO2e"


@pytest.fixture(scope="module")
def rel_gen():
    return read_activity_type(SourceFile.read(HERE / "library" / "activity_types" / "rel_gen.yaml"))


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


def methodology(rel_gen, rules: str):
    return read_methodology(SourceFile("exactness.yaml", HEADER + rules), {"rel_gen": rel_gen}, factor_signatures())


def run_both(conn, tmp_path, m, n1_values: list[str]) -> dict:
    """Load rows with these n1 values, run the methodology, hold SQL and reference together;
    the SQL's outcomes by activity id."""
    base = {"entity": "A", "period_start": "2024-01-01", "period_end": "2024-01-01"}
    cells = [{**base, "activity_id": f"X{i}", "n1": v} for i, v in enumerate(n1_values)]
    dataset = unique()
    loaded = load_csv(conn, dataset, m.activity, write_rows(tmp_path / f"{dataset}.csv", m.activity, cells))
    assert loaded.rows_rejected == 0, loaded.reasons
    report = run(conn, dataset, [m])
    typed = {c["activity_id"]: typed_row(m.activity, c) for c in cells}
    sql = sql_outcomes(conn, report.run_id, m.id)
    conn.rollback()
    assert_same(m, report, sql, reference(m, typed.values(), shipped_factors(m.factor_set)), typed)
    return sql


def test_every_shipped_methodology_is_proven_exact_without_a_per_row_check():
    for m in shipped_library().versions():
        assert exactness.plan(m) == exactness.Plan(), m.ref


def test_a_product_past_postgresql_scale_is_unmatched_inexact(conn, tmp_path, rel_gen):
    """n1^17 with n1 = 1e-999 needs 16,983 decimal places: PostgreSQL would store 0. The rule
    cannot be proven for inputs of 2000 places, so it is guarded: 17·t ≤ 16,383 gives t = 963.
    A row at the threshold is computed exactly (1e-16371 has 16,371 places)."""
    m = methodology(rel_gen, f"rules:\n  - id: power\n    emissions: \"{power(17)}\"\n")
    plan = exactness.plan(m)
    assert plan == exactness.Plan(frozenset({"power"}), 963)
    sql = run_both(conn, tmp_path, m, ["1e-999", "1e-963", "2", ""])
    assert sql["X0"] == Unmatched("X0", "power", "inexact", None, exactness.reason(963))
    assert isinstance(sql["X1"], Result) and sql["X1"].gases[0].co2e_kg == Decimal("1e-16371")
    assert isinstance(sql["X2"], Result) and sql["X2"].gases[0].co2e_kg == 2**17
    assert sql["X3"].reason_code == "no_value"  # an empty field is within any threshold


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.builds(lambda mantissa, point, exponent: f"{mantissa[:point]}.{mantissa[point:]}e{exponent}",
                                 st.from_regex(r"[1-9][0-9]{0,6}", fullmatch=True), st.integers(1, 7),
                                 st.integers(-999, -930) | st.integers(930, 999)), min_size=1, max_size=6))
def test_around_the_threshold_sql_and_reference_agree(conn, tmp_path, rel_gen, values):
    """Values on both sides of the threshold (963 places or digits for n^17): the SQL and the
    reference evaluator agree row by row, and the reference's own check (``_held``) never finds
    a computed value PostgreSQL would not hold exactly: the proof is sound where it is tight."""
    m = methodology(rel_gen, f"rules:\n  - id: power\n    emissions: \"{power(17)}\"\n")
    sql = run_both(conn, tmp_path, m, values)
    for i, v in enumerate(values):
        s = size(Decimal(v))
        assert (sql[f"X{i}"].outcome == "unmatched") == (s.scale > 963 or Decimal(v) >= Decimal("1e963")), v


def test_a_product_past_postgresql_digits_is_unmatched_inexact(conn, tmp_path, rel_gen):
    """n1^132 with n1 = 9e999 has 131,868 digits before the point: PostgreSQL would fail the
    whole run ('value overflows numeric format'). Guarded: 132·t ≤ 16,383 gives t = 124."""
    m = methodology(rel_gen, f"rules:\n  - id: power\n    emissions: \"{power(132)}\"\n")
    assert exactness.plan(m).threshold == 124
    sql = run_both(conn, tmp_path, m, ["9e999", "1.5"])
    assert sql["X0"].reason_code == "inexact"
    assert isinstance(sql["X1"], Result)


def test_the_process_emissions_case_is_refused_at_load(db, tmp_path):
    """The issue's case: 1e-9999 t × 3.4e-9999 kgCO2e/t = 3.4e-19998 kg (20,001 decimal places),
    which was loaded and stored as 0. Both numbers are out of ccf's range now (an exponent of
    more than three digits), and so is a huge magnitude (9e9999): the rows are rejected with the
    reason, never computed."""
    lib = shipped_library()
    at = lib.activity_types["process_emissions"]
    path = tmp_path / "p.csv"
    path.write_text(
        "activity_id,entity,period_start,period_end,process,amount,amount_unit,co2e_factor,factor_source\n"
        "P1,A,2024-01-01,2024-12-31,kiln,1e-9999,t,3.4e-9999,own\n"
        "P2,A,2024-01-01,2024-12-31,kiln,9e9999,t,1,own\n"
        "P3,A,2024-01-01,2024-12-31,kiln,1e-999,t,3.4e-999,own\n",
        encoding="utf-8",
    )
    report = load_csv(db, "p", at, path)
    assert report.reasons == (("number_out_of_range", 2),)
    reasons = [r for (r,) in db.execute("SELECT reason FROM ccf.rejected ORDER BY line_no")]
    assert reasons[0].startswith("amount '1e-9999' is out of range (at most 1000 characters and an exponent of at most 3 digits")
    assert reasons[1].startswith("amount '9e9999' is out of range")
    run_report = run(db, "p", [lib.resolve("scope1.process_emissions.user_supplied_factor@1.0.0")])
    (value,) = db.execute("SELECT co2e_kg FROM ccf.result WHERE run_id = %s", (run_report.run_id,)).fetchone()
    assert value == Decimal("3.4e-1998")  # in range: exact


def test_a_condition_that_cannot_be_proven_does_not_check(rel_gen):
    with pytest.raises(DiagnosticError) as error:
        methodology(rel_gen, f"rules:\n  - id: r\n    where: \"{power(17)} > 0 kgCO2e\"\n    emissions: n1 * 1 kgCO2e\n")
    (d,) = error.value.diagnostics
    assert d.code == "E511" and (d.span.line, d.span.column) == (15, 13)  # the condition
    assert d.message.startswith("the condition of rule r could need more than 16383 decimal places")


def test_emissions_past_postgresql_whatever_the_data_do_not_check(rel_gen):
    tiny = "0." + "0" * 58 + "1"  # 60 digits: a literal's limit (E306)
    with pytest.raises(DiagnosticError, match="the emissions of rule r need more than 16383 decimal places"):
        methodology(rel_gen, f"""\
parameters:
  p1: {" * ".join([tiny] * 8)}
  p2: {" * ".join(["p1"] * 8)}
  p3: {" * ".join(["p2"] * 5)}
rules:
  - id: r
    emissions: n1 * p3 * 1 kgCO2e
""")


def test_the_reference_evaluator_refuses_what_postgresql_would_round():
    with pytest.raises(EvaluationError):
        multiply(Decimal("1e-9999"), Decimal("3.4e-10000"))
    assert multiply(Decimal("1e-8000"), Decimal("1e-8383")).as_tuple().exponent == -PG_MAX_SCALE


def _edition(set_id: str) -> FactorSetEdition:
    return FactorSetEdition(set_id, "test", "test", "1", None, "test", "t.csv", "0" * 64, None, None, (("CO2e", "kgCO2e"),), ())


@pytest.mark.parametrize("value", ["1e-2001", "1e2000"])
def test_factor_values_and_gwps_out_of_range_are_refused_at_install(db, value):
    record = FactorRecord("F1", "f", "kWh", "CO2e", Decimal(value), (), None, None, 2)
    with pytest.raises(CcfError, match=re.escape(f"factor set huge: factor F1 (CO2e) has the value {Decimal(value)}, out of range")):
        install_edition(db, _edition("huge"), [record])
    with pytest.raises(CcfError, match="GWP table: CH4 in AR9 has the value .*, out of range"):
        install_gwp(db, [GwpRecord("AR9", "CH4", Decimal(value))])
    assert install_edition(db, _edition("fine"), [FactorRecord("F1", "f", "kWh", "CO2e", Decimal("1e-2000"), (), None, None, 2)])


def test_the_reports_unrounded_total_keeps_every_digit(db, tmp_path):
    """The terminal report's 'unrounded' total was Decimal.normalize()d, which rounds to 28
    significant digits: 123,456,789,012 kWh in the UK gives a total of 32 digits."""
    from io import StringIO

    from rich.console import Console

    from ccf.engine.report import print_run

    lib = shipped_library()
    path = tmp_path / "e.csv"
    path.write_text("activity_id,entity,period_start,period_end,quantity,quantity_unit,country\n"
                    "e1,A,2024-01-01,2024-01-31,123456789012.3,GJ,GB\n", encoding="utf-8")
    load_csv(db, "big", lib.activity_types["electricity"], path)
    report = run(db, "big", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    (stored,) = db.execute("SELECT SUM(co2e_kg) FROM ccf.result WHERE run_id = %s", (report.run_id,)).fetchone()
    assert report.co2e_kg == stored and len(stored.as_tuple().digits) > 28
    out = StringIO()
    print_run(report, Console(file=out, width=200))
    shown = out.getvalue().split("(unrounded: ")[1].split(")")[0]
    assert Decimal(shown) == stored
