"""Display rounding: half away from zero, each figure from its own exact value, and every table
adding up as displayed thanks to an explicit rounding line."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st
from inventory._support import M, R, fake_run, write_entities

from ccf.dsl.numeric import exact_sum
from ccf.engine.inventory.entities import load_entity_set
from ccf.engine.inventory.inventory import Row, Section, build_inventory
from ccf.engine.inventory.presentation import report_document, section_document
from ccf.engine.inventory.rounding import percent, round_fraction, rounding_line, tonnes

D = Decimal


def test_tonnes_round_half_away_from_zero_to_the_kg():
    assert tonnes(D("1234.5")) == D("1.235")
    assert tonnes(D("-1234.5")) == D("-1.235")
    assert tonnes(D("1234.4999999999999999999999999999")) == D("1.234")
    assert tonnes(D("0.5")) == D("0.001")
    assert str(tonnes(D("-0.4"))) == "0.000"  # never '-0.000'
    # more digits than Python's default 28-digit context: still exact before the one rounding
    assert tonnes(D("123456789012345678901234567890.5")) == D("123456789012345678901234567.891")


def test_percent_from_exact_ratios():
    assert percent(D(1), D(3)) == D("33.3")
    assert percent(D(1), D(2000)) == D("0.1")  # 0.05 % -> 0.1 (half away from zero)
    assert percent(D(-1), D(2000)) == D("-0.1")
    assert percent(D(1), D(0)) is None
    assert round_fraction(Fraction(-5, 100), D("0.1")) == D("-0.1")
    assert str(round_fraction(Fraction(-1, 100), D("0.1"))) == "0.0"


def _doc_with_half_kgs(db, tmp_path) -> dict:
    rows = ["R,Root,,,,,,", "P,P,R,1,true,true,,", "Q,Q,R,1,true,true,,", "S,S,R,1,true,true,,"]
    load_entity_set(db, "halves", write_entities(tmp_path / "halves.csv", *rows))
    run_id = fake_run(db, "halves", [M("s1", 1), M("s2", 2, "location-based"), M("s3", 3, "spend-based", category=1)], [
        R("s1", "a", "P", "0.5"), R("s2", "b", "Q", "0.5"), R("s3", "c", "S", "0.5"),
    ])
    return report_document(build_inventory(db, [run_id], "equity-share", "halves"))


def test_a_rounding_line_makes_the_displayed_rows_add_up(db, tmp_path):
    doc = _doc_with_half_kgs(db, tmp_path)
    b = "location-based"
    assert doc["totals"][b]["co2e_t"] == "0.002"  # 1.5 kg -> 0.0015 t -> 0.002
    scope = doc["sections"][0]
    assert [r["values"][b]["co2e_t"] for r in scope["rows"]] == ["0.001", "0.001", "0.001"]  # 0.5 kg each
    assert scope["rounding"][b]["co2e_t"] == "-0.001"
    method = next(s for s in doc["sections"] if s["id"] == "method")
    assert [r["values"][b]["percent"] for r in method["rows"]] == ["33.3", "33.3", "33.3"]
    assert (method["total"][b]["percent"], method["rounding"][b]["percent"]) == ("100.0", "0.1")


def test_every_table_of_a_report_adds_up_as_displayed(db, tmp_path):
    doc = _doc_with_half_kgs(db, tmp_path)
    for section in [*doc["sections"], doc["outside_scopes"]]:
        for b in doc["bases"]:
            shown = [D(r["values"][b]["co2e_t"]) for r in section["rows"]]
            assert sum(shown) + D(section["rounding"][b]["co2e_t"]) == D(section["total"][b]["co2e_t"]), section["id"]
            if "percent" in section["total"][b]:
                pcts = [D(r["values"][b]["percent"]) for r in section["rows"]]
                assert sum(pcts) + D(section["rounding"][b]["percent"]) == D(section["total"][b]["percent"])


amounts = st.lists(
    st.decimals(min_value=D("-1e9"), max_value=D("1e12"), places=20, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(amounts)
def test_rounding_law_on_any_amounts(values):
    rows = tuple(Row(f"r{i}", f"r{i}", MappingProxyType({"all": v})) for i, v in enumerate(values))
    total = exact_sum(values)
    out = section_document(Section("scope", "t", rows, percent=True), ("all",), {"all": total})
    shown = [D(r["values"]["all"]["co2e_t"]) for r in out["rows"]]
    # each figure is the rounding of its own exact value …
    assert shown == [tonnes(v) for v in values]
    assert D(out["total"]["all"]["co2e_t"]) == tonnes(total)
    # … and the rounding line is exactly what the displayed rows miss, at most half a kg per row
    line = D(out["rounding"]["all"]["co2e_t"])
    assert exact_sum(shown) + line == tonnes(total)
    assert abs(line) <= D("0.0005") * (len(values) + 1)
    if total != 0:
        pcts = [D(r["values"]["all"]["percent"]) for r in out["rows"]]
        assert exact_sum(pcts) + D(out["rounding"]["all"]["percent"]) == D("100.0")
        assert rounding_line(D("100.0"), pcts) == D(out["rounding"]["all"]["percent"])
