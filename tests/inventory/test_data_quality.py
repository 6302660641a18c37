"""The report's data-quality score: per scope and category, Σ(score × CO2e) / Σ(CO2e of the
scored results) and the share not scored, computed by hand on small runs; every format shows it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from inventory._support import M, R, dom_figures, fake_run, load_acme

from ccf.engine.inventory.formats import render
from ccf.engine.inventory.inventory import build_inventory
from ccf.engine.inventory.presentation import report_document
from ccf.engine.inventory.quality import not_scored_share, weighted_data_quality


def test_weighted_data_quality_is_exact_and_leaves_the_unscored_out():
    assert weighted_data_quality({1: Decimal(100), 3: Decimal(300)}) == Fraction(5, 2)
    assert weighted_data_quality({1: Decimal(100), 3: Decimal(300), None: Decimal(600)}) == Fraction(5, 2)
    assert weighted_data_quality({2: Decimal(1), 3: Decimal(2)}) == Fraction(8, 3)  # 2.666…, never a float
    assert weighted_data_quality({None: Decimal(5)}) is None and weighted_data_quality({}) is None
    assert not_scored_share({1: Decimal(100), None: Decimal(300)}) == Fraction(3, 4)
    assert not_scored_share({}) is None


def _doc(db, tmp_path) -> dict:
    """Franchises (category 14: category 15's results also need their activity rows, for PCAF's
    metrics: test_pcaf.py), consolidated at 100 % (entity A): 100 kg at score 1 and 300 kg at
    score 3 (two gases of one row), 600 kg not scored; Scope 1: 50 kg at score 2 and 0.5 kg of
    entity C (30 %) at score 5."""
    load_acme(db, tmp_path)
    run_id = fake_run(db, "acme", [M("s3.investments", 3, "franchise-specific", category=14), M("s1.fuel", 1)], [
        R("s3.investments", "I1", "A", "100", data_quality=1),
        R("s3.investments", "I2", "A", "200", gas="CO2", data_quality=3),
        R("s3.investments", "I2", "A", "100", gas="CH4", data_quality=3),
        R("s3.investments", "I3", "A", "600"),
        R("s1.fuel", "F1", "A", "50", data_quality=2),
        R("s1.fuel", "F2", "C", "0.5", data_quality=5),
    ])
    return report_document(build_inventory(db, [run_id], "equity-share", "acme"))


def test_the_weighted_score_per_scope_and_category_by_hand(db, tmp_path):
    doc = _doc(db, tmp_path)
    rows = {r["key"]: r["values"]["all"] for r in doc["data_quality"]["rows"]}
    assert list(rows) == ["scope1", "scope3", "scope3.category14", "total"]
    cat15 = rows["scope3.category14"]
    # (1 × 100 + 3 × 300) / 400 = 2.5; 600 of 1000 kg not scored
    assert (cat15["weighted_score"], cat15["not_scored_percent"]) == ("2.50", "60.0")
    assert (cat15["scored_kg"], cat15["score_times_kg"]) == ("400", "1000")
    assert (cat15["score1_t"], cat15["score3_t"], cat15["not_scored_t"], cat15["score2_t"]) == ("0.100", "0.300", "0.600", "0.000")
    # Scope 1: (2 × 50 + 5 × 0.3 × 0.5) / (50 + 0.15) = 100.75 / 50.15 = 2.00897… → 2.01
    assert (rows["scope1"]["weighted_score"], rows["scope1"]["score_times_kg"]) == ("2.01", "100.75")
    # the whole inventory: (100 + 900 + 100 + 0.75) / (400 + 50.15) = 1100.75 / 450.15 = 2.4453… → 2.45
    assert rows["total"]["weighted_score"] == "2.45"
    assert rows["total"]["not_scored_percent"] == "57.1"  # 600 / 1050.15


def test_every_format_shows_the_mix(db, tmp_path):
    doc = _doc(db, tmp_path)
    html = render(doc, "html")
    found = dom_figures(html)
    path = ("data_quality", "rows", "scope3.category14", "values", "all")
    assert found[(*path, "weighted_score")] == ["2.50"]
    assert found[(*path, "score3_t")] == ["0.300"] and found[(*path, "not_scored_percent")] == ["60.0%"]
    assert '<div class="mix"><i style="width:10.0%;background:#2e7d32"></i>' in html  # the stacked bar: score 1 first
    assert "data_quality,scope3.category14,\"Scope 3, category 14: Franchises\",all,weighted_score,2.50" in render(doc, "csv")
    table = render(doc, "table")
    assert "Data quality score" in table and "2.50" in table
