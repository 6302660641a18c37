"""The report's one aggregation of the result rows (consolidation.report_groups_statement):
grouped by keys the planner can count, and exact when a group's rows differ in their gases."""

from decimal import Decimal as D

from sqlglot import exp

from ccf.engine.inventory.consolidation import report_groups_statement
from ccf.engine.inventory.inventory import build_inventory
from inventory._support import M, R, fake_run, load_acme


def test_no_key_of_the_report_groups_reads_an_amount():
    # A key over a gas's amount (its presence: <gas>_co2e_kg IS NOT NULL) made PostgreSQL expect
    # one group per result row, from the amounts' distinct values, and sum them in one process
    # (docs/performance.md, tenth pass); presence is counted instead (gas_sums).
    keys = report_groups_statement().expression.args["group"].expressions
    read = {c.name for k in keys for c in k.find_all(exp.Column)}
    assert read and not {c for c in read if c.endswith("_kg")}, sorted(read)


def test_rows_of_one_group_with_different_gases_and_sources(db, tmp_path):
    # one entity, rule, year and score: under the report's keys these rows are one group, whose
    # rows have different gases, from two sources (the methodology's set, and "other-set")
    load_acme(db, tmp_path)
    run_id = fake_run(db, "acme-2024", [M("s1", 1)], [
        R("s1", "F1", "A", "10", gas="CO2", gas_kg="10"), R("s1", "F1", "A", "1", gas="CH4", gas_kg="0.04", factor_set="other-set"),
        R("s1", "F2", "A", "20", gas="CO2", gas_kg="20"),
        R("s1", "F3", "A", "2", gas="CH4", gas_kg="0.08", factor_set="other-set"),
        R("s1", "F4", "A", "3", gas="N2O"),
        R("s1", "F5", "A", "5", gas="CO2_biogenic", gas_kg="5"),
        R("s1", "F6", "A", "4", gas="CO2"), R("s1", "F6", "A", "1", gas="N2O"),
    ])
    inv = build_inventory(db, [run_id], "operational-control", "acme")
    # an activity row counts once under each source its gases (in the scopes) name: the
    # methodology's set F1, F2, F4, F6 (not F5: biogenic CO2 only); other-set F1, F3
    assert {(t.factor_set, t.activity_rows, t.co2e_kg) for t in inv.tiers} == {
        ("test-factors", 4, D("38")), ("other-set", 2, D("3"))}
    gases = {r.key: r for r in inv.section("gas").rows}
    assert gases["CH4"].extra["gas_kg"]["all"] == D("0.12")  # every CH4 row has its mass
    assert gases["CO2"].extra["gas_kg"]["all"] is None  # F6's CO2 has none: not a partial sum
    assert gases["CO2"].co2e_kg["all"] == D("34")
    entity = {r.key: r for r in inv.section("entity").rows}["A"]
    assert entity.extra["activity_rows"] == 6
    assert inv.totals["all"] == D("41")
