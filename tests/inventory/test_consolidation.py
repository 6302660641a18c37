"""Consolidation on hand-computed examples: each approach, chains of ownership, unknown entities,
Scope 2 location- and market-based side by side, biogenic CO2 outside the scopes. Exact Decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from inventory._support import ACME_SHARES, M, R, fake_run, load_acme, write_entities
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.inventory.entities import load_entity_set
from ccf.engine.inventory.inventory import ReportError, build_inventory
from ccf.engine.inventory.presentation import report_document
from ccf.engine.sql import Executor, ident, param, table

D = Decimal

# Scope 1 results of the Acme group, kg CO2e (one activity row each); X is not in the entity set.
ACME_KG = {
    "ROOT": "10", "A": "100", "A1": "1000.123456789012345678901", "A11": "200", "B": "50", "C": "400", "J": "80",
    "J1": "30", "X": "999",
}
# by hand, with the shares of _support.ACME_SHARES:
#   equity:      10 + 100 + 0.8 × 1000.123456789012345678901 + 0.4 × 200 + 0.6 × 50 + 0.3 × 400 + 0.5 × 80 + 0.35 × 30
#              = 10 + 100 + 800.0987654312098765431208 + 80 + 30 + 120 + 40 + 10.5 = 1190.5987654312098765431208
#   financial:   10 + 100 + 1000.123456789012345678901 + 0.5 × 200 + 50 + 0 + 0.5 × 80 + 0.5 × 30
#              = 1315.123456789012345678901
#   operational: 10 + 100 + 1000.123456789012345678901 + 0 + 0 + 400 + 80 + 30 = 1620.123456789012345678901
EXPECTED_TOTAL = {
    "equity-share": D("1190.5987654312098765431208"),
    "financial-control": D("1315.123456789012345678901"),
    "operational-control": D("1620.123456789012345678901"),
}


@pytest.fixture()
def acme(db, tmp_path):
    load_acme(db, tmp_path)
    run_id = fake_run(db, "acme-2024", [M("s1.combustion", 1)],
                      [R("s1.combustion", f"SC-{e}", e, kg) for e, kg in ACME_KG.items()])
    return db, run_id


@pytest.mark.parametrize("approach", list(EXPECTED_TOTAL))
def test_each_approach_on_the_hand_computed_example(acme, approach):
    db, run_id = acme
    inv = build_inventory(db, [run_id], approach, "acme")
    assert inv.bases == ("all",)
    assert inv.totals["all"] == EXPECTED_TOTAL[approach]
    entities = {r.key: r for r in inv.section("entity").rows}
    assert list(entities) == ["ROOT", "A", "A1", "A11", "B", "C", "J", "J1"]
    for code, row in entities.items():
        share = D(ACME_SHARES[approach][code])
        assert row.extra["share"] == share
        assert row.extra["gross_kg"]["all"] == D(ACME_KG[code])
        assert row.co2e_kg["all"] == D(ACME_KG[code]) * share  # exact: a product of two decimals


def test_the_approaches_differ_only_by_the_shares(acme):
    db, run_id = acme
    totals = {a: build_inventory(db, [run_id], a, "acme").totals["all"] for a in EXPECTED_TOTAL}
    assert len(set(totals.values())) == 3


def test_unknown_entities_are_coverage_never_silently_dropped(acme):
    db, run_id = acme
    inv = build_inventory(db, [run_id], "operational-control", "acme")
    (m,) = inv.methodologies
    assert (m.rows_result, m.rows_unknown_entity, m.unknown_entity_kg) == (9, 1, D(999))
    (u,) = inv.unknown_entities
    assert (u.entity, u.activity_rows, u.gross_kg) == ("X", 1, D(999))
    assert "X" not in {r.key for r in inv.section("entity").rows}
    doc = report_document(inv)
    cov = doc["coverage"]["methodologies"][0]
    assert (cov["activity_rows"], cov["rows_unknown_entity"], cov["unknown_entity_percent"], cov["unknown_entity_t"]) == (
        9, 1, "11.1", "0.999")
    assert doc["coverage"]["unknown_entities"][0]["entity"] == "X"
    # every result row is either in the total (at its share) or in the unknown-entity coverage
    gross_known = sum(D(v) for k, v in ACME_KG.items() if k != "X")
    assert sum(r.extra["gross_kg"]["all"] for r in inv.section("entity").rows) + m.unknown_entity_kg == gross_known + D(999)


def test_every_section_adds_up_exactly_to_the_total(acme):
    db, run_id = acme
    inv = build_inventory(db, [run_id], "equity-share", "acme")
    for section in inv.sections:
        assert sum(r.co2e_kg["all"] for r in section.rows) == inv.totals["all"], section.id


def test_a_long_chain_multiplies_every_link(db, tmp_path):
    rows = ["E0,Root,,,,,,"] + [f"E{i},Level {i},E{i - 1},0.9,true,true,," for i in range(1, 13)]
    load_entity_set(db, "chain", write_entities(tmp_path / "chain.csv", *rows))
    run_id = fake_run(db, "chain", [M("s1", 1)], [R("s1", "x", "E12", "1000")])
    inv = build_inventory(db, [run_id], "equity-share", "chain")
    assert inv.totals["all"] == D("0.9") ** 12 * 1000 == D("282.4295364810000000000000")
    assert build_inventory(db, [run_id], "financial-control", "chain").totals["all"] == D(1000)
    # one link without control breaks the chain below it under the control approaches
    rows[6] = "E6,Level 6,E5,0.9,false,false,,"
    load_entity_set(db, "chain2", write_entities(tmp_path / "chain2.csv", *rows))
    assert build_inventory(db, [run_id], "financial-control", "chain2").totals["all"] == 0
    assert build_inventory(db, [run_id], "operational-control", "chain2").totals["all"] == 0
    assert build_inventory(db, [run_id], "equity-share", "chain2").totals["all"] == D("282.4295364810000000000000")


def test_scope2_location_and_market_based_side_by_side(db, tmp_path):
    load_acme(db, tmp_path)
    run_id = fake_run(db, "acme-2024", [
        M("s1", 1), M("s2.lb", 2, "location-based"), M("s2.mb", 2, "market-based"),
        M("s3.travel", 3, "distance-based", category=6),
    ], [
        R("s1", "F1", "A", "100"),
        R("s2.lb", "E1", "A", "300"), R("s2.lb", "E2", "C", "100"),
        R("s2.mb", "E1", "A", "120"), R("s2.mb", "E2", "C", "50"),
        R("s3.travel", "T1", "B", "7"),
    ])
    inv = build_inventory(db, [run_id], "operational-control", "acme")  # A: 100 %, B: 0 %, C: 100 %
    assert inv.bases == ("location-based", "market-based")
    assert dict(inv.totals) == {"location-based": D(500), "market-based": D(270)}
    scope = {r.key: dict(r.co2e_kg) for r in inv.section("scope").rows}
    assert scope == {
        "scope1": {"location-based": D(100), "market-based": D(100)},
        "scope2": {"location-based": D(400), "market-based": D(170)},
        "scope3": {"location-based": D(0), "market-based": D(0)},
    }
    method = {r.key: dict(r.co2e_kg) for r in inv.section("method").rows}
    assert method["location-based"] == {"location-based": D(400), "market-based": D(0)}
    assert method["market-based"] == {"location-based": D(0), "market-based": D(170)}
    category = [r.label for r in inv.section("category").rows]
    assert category == ["Scope 1", "Scope 2", "Scope 3, category 6: Business travel"]
    doc = report_document(inv)
    assert doc["totals"] == {"location-based": {"co2e_kg": "500", "co2e_t": "0.500"},
                             "market-based": {"co2e_kg": "270", "co2e_t": "0.270"}}
    shares = {r["key"]: r["values"]["market-based"]["percent"] for r in doc["sections"][5]["rows"]}
    assert shares == {"distance-based": "0.0", "fuel-based": "37.0", "location-based": "0.0", "market-based": "63.0"}


def test_gases_years_and_biogenic_co2_outside_the_scopes(db, tmp_path):
    load_acme(db, tmp_path)
    run_id = fake_run(db, "acme", [M("s1", 1)], [
        R("s1", "G1", "A", "120", gas="CO2", gas_kg="120", year=2023),
        R("s1", "G1", "A", "25", gas="CH4", gas_kg="1", year=2023),
        R("s1", "G2", "B", "10", gas="CO2", gas_kg="10"),
        R("s1", "G2", "B", "2.5", gas="N2O", year=2024),
        R("s1", "G3", "A", "40", gas="CO2_biogenic", gas_kg="40"),
    ])
    inv = build_inventory(db, [run_id], "equity-share", "acme")  # A 100 %, B 60 %
    assert inv.totals["all"] == D(120) + D(25) + D("0.6") * D(10) + D("0.6") * D("2.5") == D("152.5")
    gases = {r.key: (r.co2e_kg["all"], r.extra["gas_kg"]["all"]) for r in inv.section("gas").rows}
    assert list(gases) == ["CO2", "CH4", "N2O"]  # Kyoto order
    assert gases == {"CO2": (D(126), D(126)), "CH4": (D(25), D(1)), "N2O": (D("1.5"), None)}  # no mass of N2O given
    years = {r.key: r.co2e_kg["all"] for r in inv.section("period_year").rows}
    assert years == {"2023": D(145), "2024": D("7.5")} and inv.years == (2023, 2024)
    (bio,) = inv.outside_scopes.rows
    assert (bio.key, bio.co2e_kg["all"]) == ("CO2_biogenic", D(40))
    entities = {r.key: r.co2e_kg["all"] for r in inv.section("entity").rows}
    assert entities["A"] == D(145)  # biogenic CO2 is not in the entity's scoped emissions either


def test_runs_that_would_double_count_are_refused(db, tmp_path):
    load_acme(db, tmp_path)
    r1 = fake_run(db, "acme", [M("s1", 1)], [R("s1", "a", "A", "1")])
    r2 = fake_run(db, "acme", [M("s1", 1, version="1.1.0")], [R("s1", "a", "A", "2")])
    r3 = fake_run(db, "other", [M("s1", 1)], [R("s1", "a", "A", "4")])
    with pytest.raises(ReportError, match=f"runs {r1} and {r2} both computed s1 over dataset 'acme'"):
        build_inventory(db, [r1, r2], "equity-share", "acme")
    assert build_inventory(db, [r1, r3], "equity-share", "acme").totals["all"] == 5  # two datasets
    with pytest.raises(ReportError, match="no run 999"):
        build_inventory(db, [r1, 999], "equity-share", "acme")
    with pytest.raises(ReportError, match="given more than once"):
        build_inventory(db, [r1, r1], "equity-share", "acme")
    with pytest.raises(ReportError, match="unknown consolidation approach"):
        build_inventory(db, [r1], "equity", "acme")


def test_the_entity_set_must_be_named_when_there_are_several(db, tmp_path):
    run_id = fake_run(db, "acme", [M("s1", 1)], [R("s1", "a", "A", "1")])
    with pytest.raises(CcfError, match="no entity set is loaded"):
        build_inventory(db, [run_id], "equity-share")
    load_acme(db, tmp_path, "acme")
    assert build_inventory(db, [run_id], "equity-share").entity_set["name"] == "acme"
    load_acme(db, tmp_path, "acme-b")
    with pytest.raises(CcfError, match=r"entity sets acme, acme-b each hold every entity of the runs' results: "
                                       r"choose one with --entities SET"):
        build_inventory(db, [run_id], "equity-share")
    with pytest.raises(CcfError, match="did you mean 'acme'"):
        build_inventory(db, [run_id], "equity-share", "acm")


def test_a_run_without_results_is_an_empty_inventory_with_its_coverage(db, tmp_path):
    load_acme(db, tmp_path)
    run_id = fake_run(db, "acme", [M("s1", 1, rows_unmatched=3, rows_rejected=1)], [])
    inv = build_inventory(db, [run_id], "equity-share", "acme")
    assert dict(inv.totals) == {"all": 0} and inv.years == ()
    assert all(r.co2e_kg["all"] == 0 for r in inv.section("entity").rows)
    doc = report_document(inv)
    assert doc["totals"]["all"] == {"co2e_kg": "0", "co2e_t": "0.000"}
    method = next(s for s in doc["sections"] if s["id"] == "method")
    assert method["rows"] == [] and method["total"]["all"]["percent"] is None
    cov = doc["coverage"]["total"]
    assert (cov["activity_rows"], cov["rows_unmatched"], cov["unmatched_percent"], cov["rejected_percent"]) == (4, 3, "75.0", "25.0")


def _bind(conn, dataset: str, entity_set: str) -> None:
    """A dataset bound to an entity set, as 'ccf load --entities' creates it (no rows needed here)."""
    cols = ("dataset", "entity_set")
    with conn.transaction():
        Executor(conn).execute(
            exp.insert(exp.select(*[param(c) for c in cols]), exp.Schema(this=table("dataset"), expressions=[ident(c) for c in cols])),
            {"dataset": dataset, "entity_set": entity_set},
        )


def test_without_entities_the_set_that_holds_the_runs_entities_is_chosen(db, tmp_path):
    """docs/reporting.md#which-entity-set, rule 3: of several sets, the one that holds every entity
    of the runs' results; none or two of them is a refusal naming what each lacks."""
    load_acme(db, tmp_path, "acme")
    load_entity_set(db, "other", write_entities(tmp_path / "other.csv", "O,Other Group,,,,,,GB", "O1,O1,O,1,true,true,,GB"))
    acme = fake_run(db, "acme", [M("s1", 1)], [R("s1", "a", "A", "1"), R("s1", "b", "J1", "2")])
    other = fake_run(db, "other", [M("s1", 1)], [R("s1", "a", "O1", "4")])
    assert build_inventory(db, [acme], "equity-share").entity_set["name"] == "acme"
    assert build_inventory(db, [other], "equity-share").entity_set["name"] == "other"
    with pytest.raises(CcfError, match=r"no loaded entity set holds every entity of the runs' results "
                                       r"\(acme lacks O1; other lacks A, J1\): choose one with --entities SET"):
        build_inventory(db, [acme, other], "equity-share")
    assert build_inventory(db, [acme, other], "equity-share", "acme").unknown_entities[0].entity == "O1"


def test_without_entities_the_set_the_datasets_are_bound_to_is_chosen(db, tmp_path):
    """Rule 2: the set a run's dataset is bound to, even where another set holds its entities too;
    datasets bound to different sets are refused, and so is an unbound dataset whose entities the
    bound set lacks."""
    load_acme(db, tmp_path, "acme")
    load_acme(db, tmp_path, "acme-2025")
    load_entity_set(db, "other", write_entities(tmp_path / "other.csv", "O,Other Group,,,,,,GB"))
    _bind(db, "acme-2025", "acme-2025")
    _bind(db, "other", "other")
    bound = fake_run(db, "acme-2025", [M("s1", 1)], [R("s1", "a", "A", "1")])
    other = fake_run(db, "other", [M("s1", 1)], [R("s1", "a", "O", "2")])
    unbound = fake_run(db, "acme-loose", [M("s1", 1)], [R("s1", "a", "A", "4")])
    assert build_inventory(db, [bound], "equity-share").entity_set["name"] == "acme-2025"
    assert build_inventory(db, [bound, unbound], "equity-share").entity_set["name"] == "acme-2025"
    with pytest.raises(CcfError, match=r"the runs' datasets are bound to different entity sets "
                                       r"\(acme-2025: dataset acme-2025; other: dataset other\): report them separately"):
        build_inventory(db, [bound, other], "equity-share")
    with pytest.raises(CcfError, match=r"dataset other is bound to entity set other, dataset acme-loose to none, "
                                       r"and other lacks A of the runs' results"):
        build_inventory(db, [other, unbound], "equity-share")
    assert build_inventory(db, [bound, other], "equity-share", "other").totals["all"] == 2
