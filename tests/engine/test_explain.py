"""ccf explain: each activity row's derivation, re-computed, reproduces the stored rows exactly."""

from __future__ import annotations

import pytest
from helpers import shipped_library

from ccf.engine.database import connect
from ccf.engine.explain import explain


@pytest.fixture(scope="module")
def sample(sample_company):
    conn = connect(sample_company.url)
    yield conn, sample_company.run_id, shipped_library()
    conn.close()


def test_every_row_of_the_sample_run_is_explained_exactly(sample):
    db, run_id, lib = sample
    ids = [
        r[0] for r in db.execute(
            "SELECT activity_id FROM ccf.result WHERE run_id = %(r)s UNION SELECT activity_id FROM ccf.unmatched "
            "WHERE run_id = %(r)s UNION SELECT activity_id FROM ccf.excluded WHERE run_id = %(r)s",
            {"r": run_id},
        )
    ]
    assert len(ids) > 40
    for activity_id in ids:
        e = explain(db, run_id, activity_id, lib)
        assert e.parts and all(p.reproduces_stored for p in e.parts), (activity_id, e.render())


def test_derivation_names_rule_factor_conversion_and_result(sample):
    db, run_id, lib = sample
    text = explain(db, run_id, "EL-LOG-2024H1", lib).render()
    assert "desnz_national: country == \"GB\" → true" in text
    assert "factor uk_grid.ch4: desnz-2024 factor 7_400_4000_5_3, match level exact" in text  # the 2024 data's edition
    assert "quantity = 431.2 GJ × 2500/9 = 119777.77777777777777777778 kWh" in text
    assert "uk_grid.ch4 = 0.0009 kgCO2e/kWh" in text
    assert "= 107.8 kg CO2e" in text
    unmatched = explain(db, run_id, "SF-DE-H2-PILOT-2024", lib).render()
    assert "unmatched (no_factor: per_tonne)" in unmatched
    # category 3 of a German row: the labelled proxy rule, its condition and what it is
    assert 'proxy_by_mass: country != null and country != "GB" and mass != null → true' in unmatched
    assert "(rule proxy_by_mass: outside the UK, DESNZ UK well-to-tank as a proxy" in unmatched


def test_a_factor_of_another_set_is_shown_in_that_sets_unit(sample):
    """Location-based 1.2.0 reads Ember (g CO2e per kWh) beside its DESNZ set (kg CO2e): each
    factor is shown in its own set's unit, never in the methodology set's."""
    db, run_id, lib = sample
    text = explain(db, run_id, "EL-DE-2024Q1", lib).render()
    assert "national_lifecycle_proxy.co2e = 342.06 gCO2e/kWh" in text
    assert "= 20934.072 kg CO2e" in text  # 61200 kWh x 342.06 g/kWh


def test_unknown_activity_is_a_clear_error(sample):
    from ccf.dsl.diagnostics import CcfError

    db, run_id, lib = sample
    with pytest.raises(CcfError, match="is not in dataset"):
        explain(db, run_id, "NO-SUCH-ROW", lib)


def test_the_rows_table_is_found_with_one_query(sample, monkeypatch):
    """The run's methodologies name its activity types: one statement probes their tables for the
    row (each by its key), then only the table that holds it is read — not one query per type."""
    from ccf.engine.sql import Executor, render

    db, run_id, lib = sample
    sent: list[str] = []
    execute = Executor.execute
    monkeypatch.setattr(Executor, "execute", lambda self, tree, params=None: sent.append(render(tree)) or execute(self, tree, params))
    explain(db, run_id, "SF-DE-H2-PILOT-2024", lib)
    reads = [s for s in sent if "FROM ccf.activity_" in s]
    assert len(reads) == 2, reads  # the probe, naming every type's table, and the row's own table
