"""The base-year rule: compare directly under the same methodology versions; otherwise require the
base year recomputed with the reporting year's versions and apply the significance threshold."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from inventory._support import M, R, fake_run, load_acme

from ccf.engine.inventory.inventory import ReportError, build_inventory, compare_base_year
from ccf.engine.inventory.presentation import report_document

D = Decimal


@pytest.fixture()
def years(db, tmp_path):
    """Base year 2019 (original, v1), reporting year 2024 (v2), the base year recomputed with v2."""
    load_acme(db, tmp_path)
    base = fake_run(db, "acme-2019", [M("s1", 1, version="1.0.0"), M("s2", 2, "location-based")], [
        R("s1", "a", "A", "800", year=2019), R("s2", "e", "A", "200", year=2019), R("s1", "b", "B", "100", year=2019),
    ])
    reporting = fake_run(db, "acme-2024", [M("s1", 1, version="2.0.0"), M("s2", 2, "location-based")], [
        R("s1", "a", "A", "700"), R("s2", "e", "A", "150"),
    ])
    recomputed = fake_run(db, "acme-2019", [M("s1", 1, version="2.0.0"), M("s2", 2, "location-based")], [
        R("s1", "a", "A", "830", year=2019), R("s2", "e", "A", "200", year=2019), R("s1", "b", "B", "100", year=2019),
    ])
    return db, base, reporting, recomputed


def test_different_versions_require_a_recomputed_base_year(years):
    db, base, reporting, _ = years
    inv = build_inventory(db, [reporting], "operational-control", "acme")  # A 100 %, B 0 %
    with pytest.raises(ReportError) as info:
        compare_base_year(db, inv, [base])
    text = str(info.value)
    assert "the base year used other methodology versions (s1 1.0.0 -> 2.0.0)" in text
    assert "'ccf run --dataset acme-2019 s1@2.0.0 s2@1.0.0'" in text


def test_a_recalculation_below_the_threshold_keeps_the_original_base_year(years):
    db, base, reporting, recomputed = years
    inv = build_inventory(db, [reporting], "operational-control", "acme")
    by = compare_base_year(db, inv, [base], [recomputed], D(5))
    # original 800 + 200 = 1000 kg; recomputed 830 + 200 = 1030 kg: +30 kg = +3 %
    assert by.original.totals["location-based"] == D(1000)
    assert by.recalculation_kg["location-based"] == D(30)
    assert by.recalculation_percent["location-based"] == Fraction(3)
    assert not by.significant and by.compared is by.original
    doc = report_document(inv, by)["base_year"]
    assert doc["methodology_versions"] == "different"
    assert doc["version_changes"] == [{"methodology": "s1", "base_year": "1.0.0", "reporting": "2.0.0"}]
    assert doc["recalculation"]["location-based"]["recalculation_percent"] == "3.0"
    assert doc["compared_with"] == "original"
    total = doc["comparison"]["rows"][-1]["values"]["location-based"]
    # reporting 850 kg against 1000 kg: -150 kg, -15 %
    assert (total["base_t"], total["reporting_t"], total["change_t"], total["change_percent"]) == (
        "1.000", "0.850", "-0.150", "-15.0")


def test_a_significant_recalculation_replaces_the_base_year(years):
    db, base, reporting, recomputed = years
    inv = build_inventory(db, [reporting], "operational-control", "acme")
    by = compare_base_year(db, inv, [base], [recomputed], D("2.5"))
    assert by.significant and by.compared is by.recomputed
    doc = report_document(inv, by)["base_year"]
    assert doc["compared_with"] == "recomputed" and doc["significance_percent"] == "2.5"
    rows = {r["key"]: r["values"]["location-based"] for r in doc["comparison"]["rows"]}
    assert rows["scope1"]["base_t"] == "0.830" and rows["scope1"]["change_t"] == "-0.130"
    assert rows["total"]["change_percent"] == "-17.5"  # (850 - 1030) / 1030 = -17.48 %
    # the threshold is applied to the exact ratio, at the boundary too
    assert compare_base_year(db, inv, [base], [recomputed], D(3)).significant


def test_same_versions_compare_directly(db, tmp_path):
    load_acme(db, tmp_path)
    base = fake_run(db, "acme-2019", [M("s1", 1)], [R("s1", "a", "A", "800", year=2019), R("s1", "b", "C", "100", year=2019)])
    reporting = fake_run(db, "acme-2024", [M("s1", 1), M("s3", 3, "spend-based", category=1)], [
        R("s1", "a", "A", "1000"), R("s3", "p", "A", "5")])
    inv = build_inventory(db, [reporting], "equity-share", "acme")  # C 30 %
    by = compare_base_year(db, inv, [base])
    assert not by.version_changes and by.recomputed is None and by.compared is by.original
    assert by.only_in_reporting == ("s3",)
    doc = report_document(inv, by)["base_year"]
    total = doc["comparison"]["rows"][-1]["values"]["all"]
    assert (total["base_kg"], total["reporting_kg"], total["change_kg"], total["change_percent"]) == ("830", "1005", "175", "21.1")
    assert [r["key"] for r in doc["comparison"]["rows"]] == ["scope1", "scope3", "total"]
    with pytest.raises(ReportError, match="only needed when they differ"):
        compare_base_year(db, inv, [base], [base])


def test_the_recomputed_base_year_must_be_the_same_data_with_the_new_versions(years):
    db, base, reporting, recomputed = years
    inv = build_inventory(db, [reporting], "operational-control", "acme")
    with pytest.raises(ReportError, match="both in the reporting year and in the base year"):
        compare_base_year(db, inv, [reporting])
    other = fake_run(db, "acme-2018", [M("s1", 1, version="2.0.0"), M("s2", 2, "location-based")], [R("s1", "a", "A", "1")])
    with pytest.raises(ReportError, match="covers dataset\\(s\\) acme-2018, the base year acme-2019"):
        compare_base_year(db, inv, [base], [other])
    stale = fake_run(db, "acme-2019", [M("s1", 1, version="1.5.0"), M("s2", 2, "location-based")], [R("s1", "a", "A", "1")])
    with pytest.raises(ReportError, match="does not use the reporting year's versions of s1 \\(1.5.0, expected 2.0.0\\)"):
        compare_base_year(db, inv, [base], [stale])
