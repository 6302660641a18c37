"""Differential test of a lookup that reads another factor set: scope2.electricity.market_based
1.1.0 with the organisation's residual mix installed (the test-only set
tests/methodologies/data/TEST_ONLY_residual_mix.csv) next to DESNZ 2025.

Hypothesis draws electricity rows whose country and year do and do not find a residual mix
(exact, an earlier year, stated per MWh, none), with and without a supplier rate; the compiled
SQL and the reference evaluator (``FactorSetsResolver`` over both sets) must agree exactly. The
same methodology without the set installed is covered by test_differential.py (every shipped
version), where the residual-mix lookup finds nothing on both sides.
"""

from __future__ import annotations

from decimal import Context, Inexact, InvalidOperation, Rounded, localcontext

import pytest
from helpers import shipped_library
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability._support import (
    NIGHTLY,
    ROOT,
    DataChooser,
    FactorData,
    RowSpec,
    assert_same,
    gwp_table,
    region_codes,
    resolver_for,
    shipped_factors,
    shipped_rates,
    sql_outcomes,
    typed_row,
    unique,
    write_rows,
)
from ccf.dsl.evaluate import FactorSetsResolver, evaluate_rows
from ccf.engine.database import connect
from ccf.engine.factors.residual_mix import RESIDUAL_MIX_SET, load_residual_mix
from ccf.engine.factors.store import install_edition
from ccf.engine.load import load_csv
from ccf.engine.run import run

TEST_SET = ROOT / "tests" / "methodologies" / "data" / "TEST_ONLY_residual_mix.csv"
REF = "scope2.electricity.market_based@1.1.0"
EXAMPLES = 60 if NIGHTLY else 12


@pytest.fixture(scope="module")
def residual():
    edition, records = load_residual_mix(TEST_SET, "test", publisher="ccf tests (TEST ONLY)")
    return edition, FactorData(tuple(records), edition.region, edition.year)


@pytest.fixture(scope="module")
def conn(module_db_url, residual):
    c = connect(module_db_url)
    edition, data = residual
    install_edition(c, edition, list(data.records))
    yield c
    c.close()


@pytest.fixture(scope="module")
def subject(residual):
    m = shipped_library().resolve(REF)
    assert any(lk.factor_set == RESIDUAL_MIX_SET for lk in m.lookups)
    main = shipped_factors(m.factor_set)
    spec = RowSpec.build(m, main.records + residual[1].records, region_codes())
    return m, spec, main


def _compare(conn, folder, subject, residual, cells):
    """Load and run the rows, and hold every outcome against the reference over both sets."""
    m, _, main = subject
    dataset = unique("rm")
    path = write_rows(folder / f"{dataset}.csv", m.activity, cells)
    loaded = load_csv(conn, dataset, m.activity, path)
    assert loaded.rows_rejected == 0, loaded.reasons
    report = run(conn, dataset, [m], other_edition=True)  # generated rows of any year, one edition
    sql = sql_outcomes(conn, report.run_id, m.id)
    conn.rollback()
    typed = {c["activity_id"]: typed_row(m.activity, c) for c in cells}
    resolver = FactorSetsResolver(resolver_for(main), {RESIDUAL_MIX_SET: resolver_for(residual[1])})
    with localcontext(Context(prec=1, traps=[Inexact, Rounded, InvalidOperation])):
        ref = evaluate_rows(m, typed.values(), resolver, gwp_table(m.gwp), shipped_rates())
    assert_same(m, report, sql, ref, typed)
    return ref


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                      HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_residual_mix_matches_reference(data, conn, subject, residual, tmp_path_factory):
    ch = DataChooser(data)
    cells = [subject[1].cells(ch, f"R{i}") for i in range(ch.integer(1, 25))]
    _compare(conn, tmp_path_factory.mktemp("rm"), subject, residual, cells)


def test_every_residual_mix_path_matches_reference(conn, subject, residual, tmp_path):
    """Fixed rows through each path: exact, an earlier year, stated per MWh, none (grid
    average or no rule), a country the hierarchy does not list, and a supplier rate that comes first."""
    names = ["activity_id", "entity", "period_start", "period_end", "quantity", "quantity_unit", "country", "supplier_rate"]
    rows = [
        ("a", "E", "2024-02-01", "2024-02-29", "1000", "kWh", "DE", ""),
        ("b", "E", "2025-07-01", "2025-07-31", "2.5", "MWh", "GB", ""),
        ("c", "E", "2024-01-01", "2024-12-31", "0.123456789012345678901", "GJ", "FR", ""),
        ("d", "E", "2022-12-31", "2022-12-31", "7", "kWh", "GB", ""),
        ("e", "E", "2024-01-01", "2024-01-31", "7", "kWh", "US", ""),
        ("f", "E", "2024-01-01", "2024-01-31", "7", "kWh", "XX", ""),
        ("g", "E", "2024-01-01", "2024-01-31", "9", "kWh", "DE", "0.3"),
    ]
    ref = _compare(conn, tmp_path, subject, residual, [dict(zip(names, r, strict=True)) for r in rows])
    rules = {o.activity_id: getattr(o, "rule_id", None) for o in ref.outcomes}
    assert rules == {"a": "residual_mix", "b": "residual_mix", "c": "residual_mix", "d": "grid_average_fallback",
                     "e": None, "f": None, "g": "supplier_specific"}


def test_the_generated_rows_reach_the_residual_mix(subject):
    """The row generator aims at the test set's market boundaries, so the tier is exercised."""
    _, spec, _ = subject
    assert {"GB", "DE", "FR"} <= {t.get("country") for t in spec.targets}

