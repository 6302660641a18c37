"""Data-quality scores through a real run: stored once per result row (each gas), in the
provenance view, explained with their source, recomputed by ccf verify, reported by the
semantic diff; a methodology without a data_quality: key leaves rows not scored."""

from __future__ import annotations

from pathlib import Path

from helpers import load, results, shipped_library, write_csv

from ccf.dsl.diff import diff_methodologies
from ccf.dsl.library import Library
from ccf.engine.api import factor_signatures
from ccf.engine.explain import explain
from ccf.engine.run import run
from ccf.engine.verify import verify, verify_reference

SCORED = """\
methodology: test.scored_electricity
version: 1.0.0
status: draft
title: Electricity with data-quality scores
ghg_protocol:
  scope: 2
  source: purchased electricity
  method: location-based
  references: [GHG Protocol Scope 2 Guidance (2015), chapter 6.2]
factor_set: desnz-2024
gwp: AR5
activity: electricity
data_quality: 3
factors:
  uk_grid:
    select: {level1: UK electricity, level3: "Electricity: UK"}
    per: kWh
rules:
  - id: metered
    where: supplier != null
    data_quality: if supplier == "Meter Co" then 2 else 9
    emissions: quantity * uk_grid
  - id: estimated
    emissions: quantity * uk_grid
"""
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,supplier,data_quality"
ROWS = ("own,A,2024-01-01,2024-01-31,100,kWh,GB,,1",  # the row's own score
        "meter,A,2024-01-01,2024-01-31,100,kWh,GB,Meter Co,",  # rule metered: 2
        "guess,A,2024-01-01,2024-01-31,100,kWh,GB,,",  # the methodology's: 3
        "bad,A,2024-01-01,2024-01-31,100,kWh,GB,Other,")  # rule metered gives 9: unmatched


def _library(tmp_path: Path, text: str = SCORED) -> Library:
    lib = Library(tmp_path, factor_signatures(), activity_types=dict(shipped_library().activity_types))
    path = tmp_path / "test.scored_electricity" / "1.0.0.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    lib.add(path)
    assert lib.diagnostics == [], lib.diagnostics
    return lib


def _run(db, tmp_path: Path, lib: Library):
    load(db, lib, "dq", "electricity", write_csv(tmp_path / "e.csv", HEADER, *ROWS))
    return run(db, "dq", [lib.resolve("test.scored_electricity@1.0.0")])


def test_scores_are_stored_per_result_row_and_shown_in_the_provenance_view(db, tmp_path):
    report = _run(db, tmp_path, _library(tmp_path))
    got = {(r["activity_id"], r["gas"]): r["data_quality"] for r in results(db, report.run_id)}
    assert got == {("own", "CO2e"): 1, ("meter", "CO2e"): 2, ("guess", "CO2e"): 3}
    (reason,) = db.execute("SELECT reason FROM ccf.unmatched WHERE run_id = %s AND activity_id = 'bad'",
                           (report.run_id,)).fetchone()
    assert reason == "the data-quality score given for this row is 9, not a whole number from 1 to 5"
    assert report.methodologies[0].reconciliation.balanced


def test_explain_says_where_the_score_came_from(db, tmp_path):
    lib = _library(tmp_path)
    report = _run(db, tmp_path, lib)
    db.commit()
    told = {aid: explain(db, report.run_id, aid, lib) for aid in ("own", "meter", "guess", "bad")}
    assert all(p.reproduces_stored for e in told.values() for p in e.parts)
    assert "data quality: 1 (from the row)" in told["own"].render()
    assert 'data quality: 2 (rule metered, default: if supplier == "Meter Co" then 2 else 9)' in told["meter"].render()
    assert "data quality: 3 (methodology default)" in told["guess"].render()
    assert "unmatched (bad_data_quality: the data-quality score given for this row is 9" in told["bad"].render()


def test_verify_recomputes_the_score_and_finds_a_changed_one(db, tmp_path):
    lib = _library(tmp_path)
    report = _run(db, tmp_path, lib)
    db.commit()
    assert verify(db, report.run_id, lib).identical
    assert verify_reference(db, report.run_id, lib).identical
    db.execute("UPDATE ccf.result_row SET data_quality = 5 WHERE activity_id = 'meter' AND run_id = %s", (report.run_id,))
    db.commit()
    v = verify(db, report.run_id, lib)
    assert not v.identical and any("data_quality=5" in p for p in v.problems), v.problems
    r = verify_reference(db, report.run_id, lib)
    assert any("meter" in p and "data quality 5" in p and "data quality 2" in p for p in r.problems), r.problems


def test_a_methodology_without_data_quality_scores_only_the_rows_that_carry_one(db, tmp_path):
    lib = shipped_library()
    load(db, lib, "dq", "electricity", write_csv(tmp_path / "e.csv", HEADER, *ROWS))
    report = run(db, "dq", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    got = {(r["activity_id"], r["gas"]): r["data_quality"] for r in results(db, report.run_id)}
    assert got == {(aid, gas): 1 if aid == "own" else None
                   for aid in ("own", "meter", "guess", "bad") for gas in ("CO2", "CH4", "N2O")}


def test_the_semantic_diff_reports_a_changed_score(tmp_path):
    a = _library(tmp_path / "a").resolve("test.scored_electricity@1.0.0")
    b = _library(tmp_path / "b", SCORED.replace("data_quality: 3", "data_quality: 4")
                 .replace("then 2 else 9", "then 1 else 2")).resolve("test.scored_electricity@1.0.0")
    changes = {(c.kind, c.subject) for c in diff_methodologies(a, b).changes}
    assert changes == {("data quality changed", "data_quality"), ("data quality changed", "rule metered: data_quality")}
