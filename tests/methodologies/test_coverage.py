"""The shipped library covers the GHG Protocol inventory, the sample company exercises every
published methodology, categories that share activity data never count a row twice, and the
methodology catalogue (docs/methodologies.md) lists every version."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

import pytest
from helpers import ROOT, shipped_library

from ccf.dsl.numeric import exact_sum

LIB = shipped_library()
LATEST = {m.id: m for m in LIB.latest_published()}


def test_library_is_clean():
    assert LIB.diagnostics == []


def test_scope1_scope2_location_based_and_all_15_categories_are_published():
    published = list(LATEST.values())
    assert any(m.scope == 1 for m in published)
    assert any(m.scope == 2 and m.method == "location-based" for m in published)
    assert {m.category for m in published if m.scope == 3} == set(range(1, 16))


def test_every_published_methodology_cites_guidance_and_states_its_boundary():
    for m in LATEST.values():
        assert m.references, m.ref
        if m.scope == 3 and m.category != 6:  # category 6 was published before this check
            text = LIB.sources[m.path].text
            assert re.search(r"[Bb]oundary|double\s+counting|[Ee]xcluded", text), m.ref


@pytest.fixture(scope="module")
def northwind(sample_company):
    """The session's sample company and its demo run (every latest published version)."""
    from ccf.engine.database import connect

    conn = connect(sample_company.url)
    yield conn, sample_company.demo
    conn.close()


def test_northwind_exercises_every_published_methodology(northwind):
    _, result = northwind
    outcomes = {o.methodology_id: o for o in result.report.methodologies}
    assert set(outcomes) == set(LATEST)
    for mid, o in outcomes.items():
        rec = o.reconciliation
        assert rec.balanced, mid
        assert rec.rows_result > 0, f"{mid}: no sample row gives a result"
        assert rec.rows_excluded + rec.rows_unmatched > 0, f"{mid}: no sample row is excluded or unmatched"


def test_scope3_categories_sharing_activity_data_never_count_a_row_twice(northwind):
    # methodologies of one category may share a row: category 3's activities (b) upstream and
    # (c) T&D losses are two parts of the same kWh
    conn, result = northwind
    by_type: dict[str, list[str]] = defaultdict(list)
    for m in LATEST.values():
        if m.scope == 3:
            by_type[m.activity.id].append(m.id)
    shared = {t: ids for t, ids in by_type.items() if len({LATEST[i].category for i in ids}) > 1}
    assert {"purchased_spend", "freight", "leased_asset_energy", "supplier_product_footprints", "purchased_materials",
            "hybrid_purchases", "transport_fuel", "storage"} <= set(shared)
    for activity_type, ids in shared.items():
        rows = conn.execute(
            "SELECT activity_id, array_agg(DISTINCT methodology_id) FROM ccf.result "
            "WHERE run_id = %s AND methodology_id = ANY(%s) GROUP BY activity_id HAVING count(DISTINCT methodology_id) > 1",
            (result.report.run_id, ids),
        ).fetchall()
        twice = [(a, mids) for a, mids in rows if len({LATEST[i].category for i in mids}) > 1]
        assert twice == [], f"{activity_type}: rows counted by more than one category: {twice}"


def test_methodology_catalogue_lists_every_version():
    text = (ROOT / "docs" / "methodologies.md").read_text("utf-8")
    for m in LIB.versions():
        assert re.search(rf"\|\s*`{re.escape(m.id)}`\s*\|\s*{re.escape(m.version)}\s*\|\s*{m.status}\s*\|", text), m.ref


def test_run_totals_are_the_sums_of_the_result_rows_written(northwind):
    """The run's per-gas and per-methodology totals come from the reconcile pass over the
    evaluated rows, not from reading ccf.result back: they must equal SUM(co2e_kg) of the rows
    actually written, for every published methodology (market-based, biogenic CO2 included)."""
    conn, result = northwind
    report = result.report
    stored = {}
    for mid, gas, kg in conn.execute(
        "SELECT methodology_id, gas, SUM(co2e_kg) FROM ccf.result WHERE run_id = %s GROUP BY 1, 2", (report.run_id,)
    ).fetchall():
        stored.setdefault(mid, {})[gas] = kg
    assert {o.methodology_id: dict(o.by_gas) for o in report.methodologies if o.by_gas} == stored
    for o in report.methodologies:
        in_scopes = [kg for gas, kg in stored.get(o.methodology_id, {}).items() if gas != "CO2_biogenic"]
        assert o.co2e_kg == exact_sum(in_scopes), o.methodology_id  # sum() would round at 28 digits
        if o.by_rule is not None:
            assert exact_sum(kg for _, kg in o.by_rule) == o.co2e_kg, o.methodology_id
