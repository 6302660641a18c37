"""Runs on a real PostgreSQL: exact results, provenance, reconciliation, atomicity."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from sqlglot import exp

import ccf.engine.run as run_module
from helpers import load, results, rows_of, shipped_library, total, write_csv
from ccf.engine.compile import compile_methodology
from ccf.engine.run import RunError, run
from ccf.engine.load.tables import partition_name
from ccf.engine.run_partition import partition_name as run_partition

ELEC_HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


def _elec(tmp_path: Path, *rows: str) -> Path:
    return write_csv(tmp_path / "electricity.csv", ELEC_HEADER, *rows)


def test_uk_grid_electricity_uses_published_desnz_2024_factor(db, lib, tmp_path):
    """DESNZ 2024 'Electricity: UK' is 0.20705 kg CO2e/kWh: 1000 kWh is 207.05 kg, per gas."""
    load(db, lib, "t", "electricity", _elec(tmp_path, "E1,ACME,2024-01-01,2024-01-31,1000,kWh,GB,,"))
    report = run(db, "t", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    rows = results(db, report.run_id)
    assert {r["gas"]: r["co2e_kg"] for r in rows} == {
        "CO2": Decimal("204.93"),
        "CH4": Decimal("0.9"),
        "N2O": Decimal("1.22"),
    }
    assert total(rows) == Decimal("207.05")
    assert report.co2e_kg == Decimal("207.05")


def test_result_rows_carry_full_provenance(db, lib, tmp_path):
    load(db, lib, "t", "electricity", _elec(tmp_path, "E1,ACME,2024-01-01,2024-01-31,2.5,MWh,GB,,"))
    m = lib.resolve("scope2.electricity.location_based@1.0.0")
    report = run(db, "t", [m])
    co2 = next(r for r in results(db, report.run_id) if r["gas"] == "CO2")
    assert co2["run_id"] == report.run_id
    assert (co2["methodology_id"], co2["methodology_version"], co2["methodology_hash"]) == (m.id, "1.0.0", m.content_hash)
    assert co2["rule_id"] == "uk_grid"
    assert co2["factor_ids"] == ["7_400_4000_5_2"]  # the DESNZ row id of the CO2 component
    assert co2["factor_set"] == "desnz-2024"
    assert len(co2["factor_set_sha256"]) == 64
    assert co2["gwp_set"] == "AR5"
    assert co2["match_level"] == "exact"
    assert co2["unit_conversion"] == "quantity MWh→kWh ×1000"
    assert co2["co2e_kg"] == Decimal("512.325")  # 2500 kWh × 0.20493
    assert (co2["scope"], co2["category"]) == (2, None)


def test_non_terminating_unit_ratio_is_exact_where_the_result_is(db, lib, tmp_path):
    """431.2 GJ = 119777.7… kWh; × 0.0009 kg CO2e/kWh (CH4) is exactly 107.8."""
    load(db, lib, "t", "electricity", _elec(tmp_path, "E1,ACME,2024-01-01,2024-06-30,431.2,GJ,GB,,"))
    report = run(db, "t", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    ch4 = next(r for r in results(db, report.run_id) if r["gas"] == "CH4")
    assert ch4["co2e_kg"] == Decimal("107.8")
    assert ch4["unit_conversion"] == "quantity GJ→kWh ×2500/9"


def test_every_row_is_accounted_for(db, lib, tmp_path):
    load(
        db, lib, "t", "electricity",
        _elec(
            tmp_path,
            "E1,A,2024-01-01,2024-01-31,100,kWh,GB,,",
            "E2,A,2024-01-01,2024-01-31,0,kWh,GB,,",  # excluded: zero consumption
            "E3,A,2024-01-01,2024-01-31,100,kWh,FR,,",  # unmatched: no rule for FR
            "E4,A,2024-01-01,2024-01-31,-5,kWh,GB,,",  # rejected at load
        ),
    )
    report = run(db, "t", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    (m,) = report.methodologies
    rec = m.reconciliation
    assert (rec.rows_in, rec.rows_result, rec.rows_excluded, rec.rows_unmatched, rec.rows_rejected) == (3, 1, 1, 1, 1)
    assert rec.balanced
    (excl,) = rows_of(db, "excluded", report.run_id)
    assert (excl["activity_id"], excl["rule_id"], excl["reason"]) == ("E2", "zero_consumption", "no electricity consumed in the period")
    (unm,) = rows_of(db, "unmatched", report.run_id)
    assert (unm["activity_id"], unm["reason_code"], unm["reason"]) == ("E3", "no_rule", "no rule applies to this row")
    js = report.to_json()
    assert js["methodologies"][0]["reconciliation"] == {
        "rows_in": 3, "rows_result": 1, "rows_excluded": 1, "rows_unmatched": 1, "rows_rejected": 1, "balanced": True,
    }
    assert js["total_co2e_kg"] == "20.705"


@pytest.mark.parametrize("statement", ["results", "excluded", "unmatched"])
def test_a_row_an_insert_did_not_write_fails_the_run(db, lib, tmp_path, monkeypatch, statement):
    """The reconcile balances the activity rows, counted apart from the evaluation, against
    what each insert wrote: an insert that loses its row (here: writes nothing) fails the run,
    which leaves nothing."""
    load(db, lib, "t", "electricity", _elec(
        tmp_path, "E1,A,2024-01-01,2024-01-31,100,kWh,GB,,", "E2,A,2024-01-01,2024-01-31,0,kWh,GB,,",
        "E3,A,2024-01-01,2024-01-31,100,kWh,FR,,"))

    def losing(m):
        c = compile_methodology(m)
        tree = getattr(c, statement).copy()
        tree.set("expression", tree.expression.where(exp.false(), append=False))
        return dataclasses.replace(c, **{statement: tree})

    monkeypatch.setattr(run_module, "compiled", losing)
    with pytest.raises(RunError, match="does not reconcile"):
        run(db, "t", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    db.rollback()
    assert db.execute("SELECT (SELECT count(*) FROM ccf.run), (SELECT count(*) FROM ccf.excluded)").fetchone() == (0, 0)


@pytest.mark.parametrize("ref", ["scope2.electricity.location_based@1.0.0", "scope2.electricity.market_based@1.0.0"])
def test_outcome_is_the_first_column_of_the_evaluated_rows(lib, ref):
    """The excluded, unmatched and reconcile statements filter ccf_eval on ``outcome``: first, a
    scan deforms one column of each row it skips (docs/performance.md, "Tenth pass")."""
    select = compile_methodology(lib.resolve(ref)).evaluate.expression
    assert select.expressions[0].alias_or_name == "outcome"


def test_missing_factor_is_unmatched_with_the_keys_tried(db, lib, tmp_path):
    header = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit,mass,mass_unit"
    path = write_csv(tmp_path / "fuel.csv", header, "F1,A,2024-01-01,2024-12-31,Unobtainium,,,,,2,t")
    load(db, lib, "t", "stationary_fuel", path)
    report = run(db, "t", [lib.resolve("scope1.stationary_combustion@1.0.0")])
    (unm,) = rows_of(db, "unmatched", report.run_id)
    assert unm["reason_code"] == "no_factor"
    assert unm["rule_id"] == "by_mass"
    assert unm["reason"] == (
        "no emission factor found for lookup 'per_tonne' in desnz-2024 per t (level1 = 'Fuels', level3 = 'Unobtainium')"
    )


def test_stationary_combustion_per_gas_by_volume_mass_and_energy(db, lib, tmp_path):
    header = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit,mass,mass_unit"
    path = write_csv(
        tmp_path / "fuel.csv", header,
        "G1,A,2024-01-01,2024-12-31,Natural gas,1000,kWh,,,,",
        "G2,A,2024-01-01,2024-12-31,Natural gas,,,100,m3,,",
        "D1,A,2024-01-01,2024-12-31,Gas oil,,,1000,L,,",
        "L1,A,2024-01-01,2024-12-31,LPG,,,,,2,t",
    )
    load(db, lib, "t", "stationary_fuel", path)
    report = run(db, "t", [lib.resolve("scope1.stationary_combustion@1.0.0")])
    by_row: dict[str, Decimal] = {}
    for r in results(db, report.run_id):
        by_row[r["activity_id"]] = by_row.get(r["activity_id"], Decimal(0)) + r["co2e_kg"]
        assert r["gas"] in ("CO2", "CH4", "N2O")
    # DESNZ 2024 totals are the sum of the published per-gas rows, so compare per gas sum
    assert by_row["G1"] == Decimal("182.9")  # 1000 kWh (gross CV) × 0.18290
    assert by_row["G2"] == Decimal("204.542")  # 100 m3 × 2.04542
    assert by_row["D1"] == Decimal("2755.41")  # 1000 L × 2.75541
    assert by_row["L1"] == Decimal("5878.7219")  # 2 t × 2939.36095 (per-gas rows sum to 2939.36095)


def test_statement_count_does_not_depend_on_row_count(db, lib, tmp_path):
    m = lib.resolve("scope2.electricity.location_based@1.0.0")
    small = _elec(tmp_path, "E1,A,2024-01-01,2024-01-31,1,kWh,GB,,")
    load(db, lib, "small", "electricity", small)
    many = write_csv(
        tmp_path / "many.csv", ELEC_HEADER, *[f"E{i},A,2024-01-01,2024-01-31,{i},kWh,GB,," for i in range(2000)]
    )
    load(db, lib, "many", "electricity", many)
    assert run(db, "small", [m]).statements == run(db, "many", [m]).statements


def test_rerun_gives_identical_results(db, lib, tmp_path):
    load(db, lib, "t", "electricity", _elec(tmp_path, *[f"E{i},A,2024-01-01,2024-01-31,{i}.{i},MWh,GB,," for i in range(50)]))
    m = lib.resolve("scope2.electricity.location_based@1.0.0")
    first, second = run(db, "t", [m]), run(db, "t", [m])
    strip = lambda rows: [{k: v for k, v in r.items() if k != "run_id"} for r in rows]  # noqa: E731
    assert strip(results(db, first.run_id)) == strip(results(db, second.run_id))
    assert first.co2e_kg == second.co2e_kg


def test_a_failing_run_leaves_nothing(db, lib, tmp_path):
    load(db, lib, "t", "electricity", _elec(tmp_path, "E1,A,2024-01-01,2024-01-31,1,kWh,GB,,"))
    good = lib.resolve("scope2.electricity.location_based@1.0.0")
    broken = type(good)(**{**vars(good), "id": "scope2.broken", "factor_set": "no-such-set"})
    with pytest.raises(RunError, match="not installed"):
        run(db, "t", [good, broken])
    db.rollback()
    counts = db.execute("SELECT (SELECT count(*) FROM ccf.run), (SELECT count(*) FROM ccf.result)").fetchone()
    assert counts == (0, 0)


def test_a_methodology_twice_in_one_run_is_refused(db, lib):
    m = lib.resolve("scope2.electricity.location_based@1.0.0")
    with pytest.raises(RunError, match="given twice"):
        run(db, "t", [m, m])


def test_factor_set_upgrade_changes_numbers_only_by_the_published_factor_changes(db, lib, tmp_path):
    """scope2 location-based 1.0.0 (DESNZ 2024) → 1.1.0 (DESNZ 2025): per row and gas, the
    difference is exactly quantity × (factor 2025 − factor 2024); nothing else moves. (2024 data
    with the edition 1.1.0 pins for 2025: computed only when asked, as a recorded fallback.)"""
    from ccf.engine.factors.catalog import load_shipped

    rows = [f"E{i},A,2024-01-01,2024-01-31,{i * 37}.{i},kWh,GB,," for i in range(1, 30)] + ["Z,A,2024-01-01,2024-01-31,0,kWh,GB,,"]
    load(db, lib, "t", "electricity", _elec(tmp_path, *rows))
    old = run(db, "t", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    new = run(db, "t", [lib.resolve("scope2.electricity.location_based@1.1.0")], other_edition=True)

    def factor(set_id: str) -> dict[str, Decimal]:
        _, records = load_shipped(set_id)
        uk = [r for r in records if r.attribute("level3") == "Electricity: UK" and r.attribute("level1") == "UK electricity" and r.unit == "kWh"]
        return {r.gas: r.value for r in uk}

    f24, f25 = factor("desnz-2024"), factor("desnz-2025")
    assert f24["CO2e"] == Decimal("0.20705") and f25["CO2e"] == Decimal("0.177")
    before = {(r["activity_id"], r["gas"]): r for r in results(db, old.run_id)}
    after = {(r["activity_id"], r["gas"]): r for r in results(db, new.run_id)}
    assert before.keys() == after.keys()
    for (activity, gas), r in after.items():
        kwh = Decimal(next(x.split(",")[4] for x in rows if x.startswith(activity + ",")))
        assert r["co2e_kg"] - before[(activity, gas)]["co2e_kg"] == kwh * (f25[gas] - f24[gas])
        assert r["rule_id"] == before[(activity, gas)]["rule_id"]
    assert [m.reconciliation for m in old.methodologies] == [m.reconciliation for m in new.methodologies]


def test_load_and_run_leave_fresh_statistics_and_the_session_target_as_it_was(db, lib, tmp_path):
    """`ccf load` analyses the activity table and `ccf run` the result rows' run columns, each
    from a small sample (Executor.analyze_sample); the session's statistics target is restored."""
    db.execute("SET default_statistics_target = 77")
    db.commit()  # the setting stays (session); a run needs a connection without an open transaction
    load(db, lib, "stats", "electricity", _elec(tmp_path, "S1,ACME,2024-01-01,2024-01-31,1000,kWh,GB,,",
                                                 "S2,ACME,2024-02-01,2024-02-29,2000,kWh,GB,,"))
    report = run(db, "stats", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    (target,) = db.execute("SELECT current_setting('default_statistics_target')").fetchone()
    assert target == "77"
    partition = partition_name("electricity", "stats")  # the dataset's rows: their partition's statistics
    results = run_partition("result_row", report.run_id)  # the run's result rows: their partition's (migration 0027)
    analysed = dict(db.execute(  # noqa: test reads only
        "SELECT tablename, array_agg(attname::text ORDER BY attname) FROM pg_stats WHERE schemaname IN ('ccf_run', "
        "'ccf_activity') AND tablename IN (%s, %s) GROUP BY tablename", [partition, results]).fetchall())
    assert {"activity_id", "quantity", "country"} <= set(analysed[partition])
    assert {"run_id", "methodology_id"} <= set(analysed[results])
