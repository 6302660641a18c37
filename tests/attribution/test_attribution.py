"""Impact attribution (`ccf diff A B --dataset D`): on real runs of the Northwind sample for every
shipped version pair, and on a hand-made pair whose rows exercise every cause.

The property that must hold everywhere: the attributed parts sum exactly (Decimal) to the total
change, and every breakdown row adds up from version A's figure to version B's.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import load, results, shipped_library, write_csv
from sqlglot import exp
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ccf.dsl.library import Library
from ccf.dsl.numeric import exact_sum
from ccf.engine.api import factor_signatures
from ccf.engine.attribution import CAUSES, Attribution, AttributionError, attribute
from ccf.engine.database import connect
from ccf.engine.factors.custom import load_custom
from ccf.engine.factors.store import install_edition
from ccf.engine.sql import Executor, column, param, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LIB = shipped_library()


def _pairs() -> list[str]:
    by_id: dict[str, list] = {}
    for m in LIB.versions():
        by_id.setdefault(m.id, []).append(m)
    return [f"{a.ref}..{b.version}" for ms in by_id.values() for a, b in zip(ms, ms[1:])]


PAIRS = _pairs()
# market-based 1.1.0 adds the residual-mix tier, read from the organisation's org-residual-mix
# set, which the sample does not install (tests/methodologies/test_scope2_residual_mix.py
# attributes the pair with a test-only residual mix)
# and the versions that name the DESNZ set instead of pinning its 2024 edition read that same
# edition for Northwind's 2024 data (engine/factors/editions.py)
SAME_ON_NORTHWIND = {
    "scope2.electricity.market_based@1.0.0..1.1.0",
    "scope3.cat3.fuel_energy.electricity@1.0.0..1.1.0",  # rule ids and wording only
    "scope1.mobile_combustion.distance_based@1.0.0..1.1.0",
    "scope1.mobile_combustion.fuel_based@1.0.0..1.1.0",
    "scope3.cat6.business_travel@2.0.0..2.1.0",
    "scope3.cat7.employee_commuting.distance_based@1.0.0..1.1.0",
    "scope3.cat14.franchises.franchise_specific@1.0.0..1.1.0",  # the GHG Protocol's name of the method only
    "scope3.cat15.investments.pcaf_project_finance@1.0.0..1.1.0",  # removals and credits excluded: Northwind reports none
    # the Scope 1 combustion versions that route rows by country add EPA rules for US rows, which
    # Northwind (GB and DE) has none of; its German rows move to the proxy rules with the same factors
    "scope1.stationary_combustion@1.2.0..1.3.0",
    "scope1.mobile_combustion.fuel_based@1.1.0..1.2.0",
    # the versions that report DESNZ's published totals: every DESNZ 2024 factor Northwind's rows
    # read publishes a total equal to the sum of its gases (its vehicle factors aside, in
    # distance_based 1.2.0), so total_minus_gases is zero on them
    "scope1.stationary_combustion@1.3.0..1.4.0",
    "scope1.mobile_combustion.fuel_based@1.2.0..1.3.0",
    "scope2.electricity.location_based@1.2.0..1.3.0",
    "scope2.electricity.market_based@1.2.0..1.3.0",
    "scope2.heat_steam.location_based@1.0.0..1.1.0",
    # category 3 by geography: Northwind has no US electricity (the eGRID T&D tier); its German
    # fuel rows move to the labelled proxy rules with the same DESNZ factors, its German heat row
    # stays unmatched under the rule that says why
    "scope3.cat3.fuel_energy.electricity@1.1.0..1.2.0",
    "scope3.cat3.fuel_energy.stationary_fuel@1.0.0..1.1.0",
    "scope3.cat3.fuel_energy.mobile_fuel@1.0.0..1.1.0",
    "scope3.cat3.fuel_energy.heat_steam@1.0.0..1.1.0",
}


def _resolve(pair: str):
    a_ref, b_version = pair.split("..")
    a = LIB.resolve(a_ref)
    return a, LIB.resolve(f"{a.id}@{b_version}")


class AttributionFile(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "json"

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(ROOT / "snapshots" / "attribution")

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0) -> str:
        name = test_location.testname
        return name[name.index("[") + 1 : -1]


@pytest.fixture(scope="module")
def northwind(sample_company):
    """The session's sample company; its dataset ``northwind`` holds every sample CSV as shipped."""
    conn = connect(sample_company.url)
    yield conn
    conn.close()


def _stored_total(conn, run_id: int, methodology_id: str) -> Decimal:
    return exact_sum(r["co2e_kg"] for r in results(conn, run_id) if r["methodology_id"] == methodology_id)


def assert_adds_up(conn, att: Attribution) -> None:
    """The exact-sum property, against the totals the runs stored."""
    assert att.total_a == _stored_total(conn, att.a.run_id, att.a.ref.split("@")[0])
    assert att.total_b == _stored_total(conn, att.b.run_id, att.b.ref.split("@")[0])
    assert exact_sum(v for _, v, _ in att.causes) == att.total_b - att.total_a == att.change
    assert [c for c, _, _ in att.causes] == [c for c, _ in CAUSES]
    for dim, rows in att.by.items():
        assert rows, dim
        assert exact_sum(r.before for r in rows) == att.total_a, dim
        assert exact_sum(r.after for r in rows) == att.total_b, dim
        for r in rows:
            assert r.before + exact_sum(v for _, v in r.causes) == r.after, (dim, r)
        for cause, amount, _ in att.causes:
            assert exact_sum(v for r in rows for c, v in r.causes if c == cause) == amount, (dim, cause)
    for row in att.largest:
        assert exact_sum(v for _, v in row.parts) == row.change, row


def _snapshot_json(att: Attribution) -> str:
    body = att.to_json()
    for side in body["runs"].values():  # run ids depend on test order, not on the attribution
        side.pop("run_id")
        side.pop("reused")
    return json.dumps(body, indent=2) + "\n"


@pytest.mark.parametrize("pair", PAIRS)
def test_attribution_of_each_shipped_pair(pair, northwind, snapshot):
    a, b = _resolve(pair)
    if a.activity.id != b.activity.id:  # different data: nothing to pair row by row, said plainly
        with pytest.raises(AttributionError, match=f"{a.ref} reads activity type {a.activity.id} and {b.ref} reads"):
            attribute(northwind, "northwind", a, b)
        return
    att = attribute(northwind, "northwind", a, b)
    assert_adds_up(northwind, att)
    assert att.amount("other") == 0 and dict((c, n) for c, _, n in att.causes)["other"] == 0
    if pair in SAME_ON_NORTHWIND:  # a tier Northwind's data does not reach: the numbers must not move
        assert att.change == 0 and all(v == 0 for _, v, _ in att.causes)
    else:
        assert att.change != 0  # each other shipped upgrade moves the Northwind numbers
    assert _snapshot_json(att) == snapshot(extension_class=AttributionFile)


def test_shipped_pairs_are_found():
    assert {"scope1.stationary_combustion@1.0.0..1.1.0", "scope2.electricity.location_based@1.0.0..1.1.0",
            "scope3.cat6.business_travel@1.0.0..2.0.0"} <= set(PAIRS)


def test_the_causes_of_the_shipped_pairs(northwind):
    """What each shipped upgrade is: a new factor-set edition moves numbers only by factor
    values; business travel 2.0.0 selects the radiative-forcing flight factors."""
    for pair in ("scope1.stationary_combustion@1.0.0..1.1.0", "scope2.electricity.location_based@1.0.0..1.1.0"):
        att = attribute(northwind, "northwind", *_resolve(pair))
        moved = {c for c, v, _ in att.causes if v != 0}
        assert "factor_value_changed" in moved and moved <= {"factor_value_changed", "factor_changed", "newly_matched", "newly_unmatched"}, (pair, moved)
    att = attribute(northwind, "northwind", *_resolve("scope3.cat6.business_travel@1.0.0..2.0.0"))
    assert {c for c, v, _ in att.causes if v != 0} == {"factor_changed"}
    assert {r.key for r in att.by["rule"] if r.change != 0} == {"air"}
    assert att.amount("factor_changed") > 0  # the uplift only adds


def test_a_version_diffed_with_itself_changes_nothing(northwind):
    m = LIB.resolve("scope3.cat6.business_travel@2.0.0")
    att = attribute(northwind, "northwind", m, m)
    assert att.a.run_id == att.b.run_id
    assert att.change == 0 and att.total_a == att.total_b > 0
    assert all(v == 0 and n == 0 for _, v, n in att.causes)
    assert att.largest == ()
    assert all(r.causes == () and r.before == r.after for rows in att.by.values() for r in rows)
    assert all(oa == ob for oa, ob, _ in att.outcomes)
    assert_adds_up(northwind, att)


def test_existing_runs_are_reused_only_for_the_same_content_and_loads(db, tmp_path):
    lib = LIB
    a = lib.resolve("scope2.electricity.location_based@1.0.0")
    b = lib.resolve("scope2.electricity.location_based@1.1.0")
    header = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
    load(db, lib, "d", "electricity", write_csv(tmp_path / "e1.csv", header, "E1,A,2024-01-01,2024-01-31,1000,kWh,GB,,"))
    first = attribute(db, "d", a, b)
    assert (first.a.reused, first.b.reused) == (False, False)
    again = attribute(db, "d", a, b)
    assert (again.a.reused, again.b.reused) == (True, True)
    assert (again.a.run_id, again.b.run_id) == (first.a.run_id, first.b.run_id)
    assert again.to_json()["causes"] == first.to_json()["causes"]
    # new data: the old runs no longer stand for the dataset
    load(db, lib, "d", "electricity", write_csv(tmp_path / "e2.csv", header, "E2,A,2024-02-01,2024-02-29,500,kWh,GB,,"))
    third = attribute(db, "d", a, b)
    assert (third.a.reused, third.b.reused) == (False, False)
    assert third.a.run_id > again.b.run_id
    assert third.total_a > first.total_a
    # not reusing on request
    fourth = attribute(db, "d", a, b, reuse=False)
    assert (fourth.a.reused, fourth.b.reused) == (False, False) and fourth.a.run_id > third.b.run_id


def test_versions_of_different_activity_types_cannot_be_paired(db):
    a = LIB.resolve("scope2.electricity.location_based@1.0.0")
    b = LIB.resolve("scope1.stationary_combustion@1.0.0")
    with pytest.raises(AttributionError, match="cannot be paired row by row"):
        attribute(db, "d", a, b)


# --- the hand-made pair: one row per cause ----------------------------------------------

HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,kind"
ROWS = {
    # activity id: (kind, kWh, expected cause)
    "r_a": ("a", "100", "factor_value_changed"),  # f-a 0.5 → 0.6
    "r_b": ("b", "100", "factor_changed"),  # lookup key b → b2: f-b → f-b2
    "r_f": ("f", "10", "formula_changed"),  # rule main → doubled (× 2)
    "r_m": ("m", "10", "gwp_set_changed"),  # 1 kg CH4, AR5 → AR6
    "r_m2": ("m2", "10", "factor_value_changed"),  # 1 → 2 kg CH4 and AR5 → AR6: both steps
    "r_n": ("n", "10", "newly_matched"),  # f-n only in the second edition
    "r_u": ("u", "10", "newly_unmatched"),  # f-u only in the first edition
    "r_s": ("skip", "10", "newly_included"),  # excluded by A's rule 'skipped' only
    "r_e": ("e", "10", "newly_excluded"),  # excluded by B's rule 'dropped' only
    "r_same": ("b2", "10", None),  # unchanged
    "r_zero": ("a", "0", None),  # excluded in both
}


@pytest.fixture()
def hand_made(db, tmp_path):
    signatures = dict(factor_signatures())
    for set_id, edition, csv in (("attr-one", "1", "factors_one.csv"), ("attr-two", "2", "factors_two.csv")):
        e, records = load_custom(HERE / csv, set_id, edition, publisher="test")
        install_edition(db, e, records)
        signatures[set_id] = e
    lib = Library.load(HERE / "library", signatures)
    assert lib.diagnostics == []
    rows = [f"{aid},E1,2024-01-01,2024-01-31,{kwh},kWh,{kind}" for aid, (kind, kwh, _) in ROWS.items()]
    load(db, lib, "h", "attr_item", write_csv(tmp_path / "items.csv", HEADER, *rows))
    return lib


def _gwp(db, gwp_set: str, gas: str) -> Decimal:
    """A GWP as installed from the shipped IPCC file (never typed from memory)."""
    q = exp.select(column("value")).from_(table("gwp")).where(
        exp.and_(exp.EQ(this=column("gwp_set"), expression=param("s")), exp.EQ(this=column("gas"), expression=param("g")))
    )
    return Executor(db).one(q, {"s": gwp_set, "g": gas})[0]


def test_each_cause_on_a_hand_made_pair(db, hand_made):
    a, b = hand_made.resolve("test.attribution@1.0.0"), hand_made.resolve("test.attribution@2.0.0")
    att = attribute(db, "h", a, b)
    assert_adds_up(db, att)
    g5, g6 = _gwp(db, "AR5", "CH4"), _gwp(db, "AR6", "CH4")
    # by hand, from the two factor files: kWh × factor (× GWP for the methane rows)
    expected = {
        "factor_value_changed": 100 * (Decimal("0.6") - Decimal("0.5")) + (10 * Decimal("0.2") - 10 * Decimal("0.1")) * g6,
        "factor_changed": 100 * (Decimal("0.25") - Decimal("0.2")),
        "formula_changed": 10 * Decimal(1) * 2 - 10 * Decimal(1),
        "gwp_set_changed": 10 * Decimal("0.1") * (g6 - g5) * 2,  # r_m and the first step of r_m2
        "newly_matched": 10 * Decimal("0.9"),
        "newly_unmatched": -10 * Decimal("0.3"),
        "newly_included": 10 * Decimal("0.4"),
        "newly_excluded": -10 * Decimal("0.7"),
        "other": Decimal(0),
    }
    assert {c: v for c, v, _ in att.causes} == expected
    assert {c: n for c, _, n in att.causes} == {
        "factor_value_changed": 2, "factor_changed": 1, "formula_changed": 1, "gwp_set_changed": 2, "newly_matched": 1,
        "newly_unmatched": 1, "newly_included": 1, "newly_excluded": 1, "other": 0,
    }
    rows = {r.activity_id: r for r in att.largest}
    for aid, (_, _, cause) in ROWS.items():
        if cause is None:
            assert aid not in rows
        else:
            assert rows[aid].cause == (cause if aid != "r_m" else "unchanged"), aid
    assert dict(rows["r_m2"].parts) == {
        "gwp_set_changed": 10 * Decimal("0.1") * (g6 - g5), "factor_value_changed": 10 * (Decimal("0.2") - Decimal("0.1")) * g6,
    }
    assert dict(rows["r_m"].parts) == {"gwp_set_changed": 10 * Decimal("0.1") * (g6 - g5)}
    # by rule: r_f moves from 'main' (−10) to 'doubled' (+20), both as a formula change
    by_rule = {r.key: r for r in att.by["rule"]}
    assert dict(by_rule["doubled"].causes) == {"formula_changed": Decimal(20)}
    assert by_rule["doubled"].before == 0 and by_rule["doubled"].after == 20
    assert dict(by_rule["main"].causes)["formula_changed"] == Decimal(-10)
    assert "skipped" not in by_rule and "dropped" not in by_rule  # exclusion rules hold no emissions
    assert {(oa, ob): n for oa, ob, n in att.outcomes} == {
        ("excluded", "excluded"): 1, ("excluded", "result"): 1, ("result", "excluded"): 1, ("result", "result"): 6,
        ("result", "unmatched"): 1, ("unmatched", "result"): 1,
    }


def test_the_hand_made_pair_diffed_with_itself(db, hand_made):
    m = hand_made.resolve("test.attribution@2.0.0")
    att = attribute(db, "h", m, m)
    assert att.change == 0 and all(v == 0 and n == 0 for _, v, n in att.causes)
    assert_adds_up(db, att)


def test_each_run_is_read_once_whatever_the_statistics(db, tmp_path):
    """The pairing is grouping, not a join: on results written a moment ago (no statistics),
    a join of the two runs was planned as a nested loop that re-read one run per row of the
    other (9 minutes for 20 000 rows). The plan's work — rows produced by every node, times its
    loops — must stay linear in the activity rows, and each run's rows be scanned once."""
    from ccf.engine.attribution.queries import pairs_statement, same_formulas
    from ccf.engine.sql import render

    a = LIB.resolve("scope2.electricity.location_based@1.0.0")
    b = LIB.resolve("scope2.electricity.location_based@1.1.0")
    header = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier"
    rows = [f"E{i},A,2024-01-01,2024-01-31,{i % 97},kWh,{'GB' if i % 5 else 'FR'},," for i in range(3000)]
    load(db, LIB, "big", "electricity", write_csv(tmp_path / "e.csv", header, *rows))
    att = attribute(db, "big", a, b)
    assert_adds_up(db, att)
    params = {"run_a": att.a.run_id, "run_b": att.b.run_id, "methodology_a": a.id, "methodology_b": b.id,
              "factor_set_a": att.a.factor_set, "factor_set_b": att.b.factor_set}
    select = pairs_statement(same_formulas(a, b)).expression
    (plan,) = db.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + render(select), params).fetchone()[0]

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    every = list(nodes(plan["Plan"]))
    run_rows = re.compile(r"(result_row|excluded|unmatched)_\d+")  # a run's partition of each (migration 0027)
    # a parallel scan's loops are its processes, each reading its share of the blocks once
    scans = [(n["Relation Name"], n["Actual Loops"] if not n.get("Parallel Aware") else 1)
             for n in every if run_rows.fullmatch(n.get("Relation Name", ""))]
    assert len(scans) >= 6 and all(loops == 1 for _, loops in scans), scans
    work = sum(n["Actual Rows"] * n["Actual Loops"] for n in every)
    # linear: a few rows per node per activity row, plus the two factor sets compared once;
    # a nested loop over the runs would be about len(rows) ** 2 = 9 000 000
    assert work < 200 * len(rows), work
