"""share(): a total allocated across rows by a key, in SQL (window sums) and in the reference.

A vehicle's fuel allocated to its shipments by t·km (GHG Protocol Scope 3 Technical Guidance,
formula 4.4 and example 4.3): every share is the row's quantity over the total of its key,
computed the same by the compiled SQL and by the reference evaluator (dsl/shares.py), and the
allocated parts of a total add up to it, up to the documented rounding of ``ccf.div``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability._support import assert_same, reference, shipped_factors, sql_outcomes, typed_row, unique, write_rows
from ccf.dsl import ir
from ccf.dsl.diagnostics import DiagnosticError
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.source import SourceFile
from ccf.engine.api import factor_signatures
from ccf.engine.database import connect
from ccf.engine.load import load_csv
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent
HEADER = """\
methodology: rel.shares
version: 1.0.0
status: draft
title: Shares
ghg_protocol:
  scope: 3
  category: 4
  method: fuel-based
  references: [reliability tests]
activity: rel_gen
gwp: AR5
factor_set: desnz-2024
"""
# n1: the vehicle's fuel in litres (the same on each of its rows), n2: the shipment's t·km,
# label: the vehicle; 3 kg CO2e per litre, as TG example 4.1's illustrative diesel factor
ALLOCATED = HEADER + """\
rules:
  - id: allocated
    emissions: n1 * 3 kgCO2e * share(n2, label)
"""


@pytest.fixture(scope="module")
def rel_gen() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(HERE / "library" / "activity_types" / "rel_gen.yaml"))


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


def methodology(rel_gen, text: str) -> ir.Methodology:
    return read_methodology(SourceFile("shares.yaml", text), {"rel_gen": rel_gen}, factor_signatures())


def run_rows(conn, tmp: Path, m: ir.Methodology, rows: list[dict[str, str]]):
    """Load the rows, run, hold every outcome against the reference; the reference's evaluation."""
    base = {"entity": "A", "period_start": "2024-01-01", "period_end": "2024-12-31"}
    cells = [{**base, "activity_id": f"S{i}", **r} for i, r in enumerate(rows)]
    dataset = unique()
    loaded = load_csv(conn, dataset, m.activity, write_rows(tmp / f"{dataset}.csv", m.activity, cells))
    assert loaded.rows_rejected == 0, loaded.reasons
    report = run(conn, dataset, [m], other_edition=True)
    typed = {c["activity_id"]: typed_row(m.activity, c) for c in cells}
    sql = sql_outcomes(conn, report.run_id, m.id)
    conn.rollback()
    ref = reference(m, typed.values(), shipped_factors(m.factor_set))
    assert_same(m, report, sql, ref, typed)
    return sql


def test_tg_example_4_3_driven_tkm(conn, tmp_path, rel_gen):
    """TG example 4.3 (p. 63), option I: 31.5 kg CO2 of a delivery run allocated by driven
    t·km, 240 + 150 + 250 = 640 t·km: 11.8125, 7.3828125 and 12.3046875 kg (the TG prints them
    rounded to 11.8, 7.4 and 12.3); a second vehicle's rows are a total of their own."""
    m = methodology(rel_gen, HEADER + """\
rules:
  - id: allocated
    emissions: 31.5 kgCO2e * share(n2, label)
""")
    rows = [{"label": "run 1", "n2": t} for t in ("240", "150", "250")] + [{"label": "run 2", "n2": "10"}]
    sql = run_rows(conn, tmp_path, m, rows)
    got = [sql[f"S{i}"].gases[0].co2e_kg for i in range(4)]  # type: ignore[union-attr]
    assert got[:3] == [Decimal("11.8125"), Decimal("7.3828125"), Decimal("12.3046875")]
    assert sum(got[:3]) == Decimal("31.5") and got[3] == Decimal("31.5")


def test_zero_null_or_negative_total_leaves_the_rows_unmatched_with_a_reason(conn, tmp_path, rel_gen):
    """No division error and no silent 0: a key whose quantities sum to 0, are all empty or
    include a negative has no total, and its rows are unmatched, reason no_total."""
    m = methodology(rel_gen, ALLOCATED)
    rows = [
        {"label": "zero", "n1": "100", "n2": "0"}, {"label": "zero", "n1": "100", "n2": "0"},
        {"label": "empty", "n1": "100"},
        {"label": "negative", "n1": "100", "n2": "5"}, {"label": "negative", "n1": "100", "n2": "-1"},
        {"label": "fine", "n1": "100", "n2": "1"}, {"label": "fine", "n1": "100"},
    ]
    sql = run_rows(conn, tmp_path, m, rows)
    for i in range(5):
        o = sql[f"S{i}"]
        assert o.outcome == "unmatched" and o.reason_code == "no_total", o  # type: ignore[union-attr]
        assert "share(n2, label)" in o.reason  # type: ignore[union-attr,operator]
    assert sql["S5"].gases[0].co2e_kg == Decimal("300")  # type: ignore[union-attr]
    assert sql["S6"].outcome == "unmatched" and sql["S6"].reason_code == "no_value"  # type: ignore[union-attr]


def test_a_share_in_a_condition_and_a_missing_key(conn, tmp_path, rel_gen):
    """Rows without a key are one group (as SQL's PARTITION BY); a share may decide a rule."""
    m = methodology(rel_gen, HEADER + """\
rules:
  - id: small
    where: share(n2, label) <= 0.25
    exclude: a small part
  - id: allocated
    emissions: n1 * 3 kgCO2e * share(n2, label)
""")
    rows = [{"n1": "10", "n2": "1"}, {"n1": "10", "n2": "3"}, {"label": "a", "n1": "10", "n2": "1"}]
    sql = run_rows(conn, tmp_path, m, rows)
    assert sql["S0"].outcome == "excluded"
    assert sql["S1"].gases[0].co2e_kg == Decimal("22.5")  # type: ignore[union-attr]
    assert sql["S2"].gases[0].co2e_kg == Decimal("30")  # type: ignore[union-attr]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    fuel=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1e9"), places=3),
    tkm=st.lists(st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal("1e7"), places=4)), min_size=1, max_size=12),
)
def test_allocated_parts_add_up_to_the_total(conn, tmp_path, rel_gen, fuel, tkm):
    """The documented rounding: each share is rounded once, half away from zero, at the 20th
    decimal (ccf.div), so with n rows of a key the allocated parts of a total T differ from T
    by at most n × ½·10⁻²⁰ × T."""
    m = methodology(rel_gen, ALLOCATED)
    rows = [{"label": "V", "n1": str(fuel), **({"n2": str(t)} if t is not None else {})} for t in tkm]
    sql = run_rows(conn, tmp_path, m, rows)
    parts = [o.gases[0].co2e_kg for o in sql.values() if o.outcome == "result"]  # type: ignore[union-attr]
    present = [t for t in tkm if t is not None]
    if not present or sum(present) == 0:
        assert not parts
        return
    total = fuel * 3
    bound = len(present) * total * Decimal("0.5e-20")
    assert len(parts) == len(present)
    assert abs(sum(parts) - total) <= bound


@pytest.mark.parametrize("expr, message", [
    ("share(n2)", "takes a quantity and one or more keys"),
    ("share(label, label)", "the quantity to divide"),
    ("share(n2, null)", "cannot be null"),
    ("share(energy * grid, label) * 1 kgCO2e", "its arguments read the row's fields"),
    ("share(share(n2, label), label) * 1 kgCO2e", "cannot be used here"),
    ("share(n2, label) * 1 kWh * grid", None),
    # dimensionless: a share of energy does not cancel a per-kWh
    ("share(energy, label) * 1 kgCO2e / 1 kWh", "but this is CO2e per energy"),
])
def test_share_is_typed_and_checked(rel_gen, expr, message):
    """A share is dimensionless; its errors point at the file, line and column of the call."""
    text = HEADER + """\
factors:
  grid:
    select: {level1: UK electricity, level3: "Electricity: UK"}
    per: kWh
rules:
  - id: r
    emissions: """ + expr + "\n"
    if message is None:
        m = methodology(rel_gen, text)
        (share,) = ir.methodology_shares(m)
        assert share.type == ir.NUMBER
        return
    with pytest.raises(DiagnosticError) as info:
        methodology(rel_gen, text)
    d = info.value.diagnostics[0]
    assert message in d.message, d.message
    assert (d.span.path, d.span.line) == ("shares.yaml", text.count("\n")) and d.span.column > 1


def test_share_is_refused_outside_rules(rel_gen):
    with pytest.raises(DiagnosticError) as info:
        methodology(rel_gen, HEADER + """\
parameters:
  part: share(1, "a")
rules:
  - id: r
    emissions: n1 * part * 1 kgCO2e
""")
    assert "share() cannot be used here" in info.value.diagnostics[0].message
