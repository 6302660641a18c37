"""Terminal table, CSV, JSON and HTML carry the same figures; the command line end to end."""

from __future__ import annotations

import csv
import io
import json

import pytest
from inventory._support import M, R, dom_figures, fake_run, json_figure, load_acme, main, rich_report, shown

from ccf.engine.inventory.formats import render
from ccf.engine.inventory.presentation import figures, report_document
from ccf.engine.inventory.rounding import grouped


@pytest.fixture()
def doc(db, tmp_path) -> dict:
    inv, by = rich_report(db, tmp_path)
    return report_document(inv, by)


def _csv_key(path: tuple[str, ...]) -> tuple[str, str, str, str]:
    """Where a figure of the JSON document is in the CSV: (section, row, basis, measure)."""
    head, rest = path[0], path[1:]
    if head == "totals":
        return "total", "total", rest[0], rest[1]
    if head in ("sections", "outside_scopes"):
        sid, rest = (rest[0], rest[1:]) if head == "sections" else ("outside_scopes", rest)
        if rest[0] == "rows":
            key, rest = rest[1], rest[2:]
            return (sid, key, rest[1], rest[2]) if rest[0] == "values" else (sid, key, "", rest[0])
        return sid, rest[0], rest[1], rest[2]
    if head == "coverage":
        if rest[0] == "total":
            return "coverage", "total", "", rest[1]
        return ("coverage" if rest[0] == "methodologies" else "unknown_entities"), rest[1], "", rest[2]
    if head == "base_year":
        if rest[0] == "comparison":
            return "base_year", rest[2], rest[4], rest[5]
        if rest[0] == "recalculation":
            return "base_year_recalculation", "total", rest[1], rest[2]
        return "base_year", rest[0], "", "value"
    if head == "tiers":
        return "tiers", rest[0], "", rest[1]
    if head == "data_quality":  # rows, key, values, basis, measure
        return "data_quality", rest[1], rest[3], rest[4]
    raise AssertionError(path)


def test_the_document_covers_every_part(doc):
    assert doc["bases"] == ["location-based", "market-based"]
    assert doc["years"] == [2024, 2025]
    assert [r["key"] for r in doc["outside_scopes"]["rows"]] == ["CO2_biogenic"]
    assert {u["entity"] for u in doc["coverage"]["unknown_entities"]} == {"X"}
    assert doc["base_year"]["compared_with"] == "recomputed"
    entity = {r["key"]: r["activity_rows"] for r in next(s for s in doc["sections"] if s["id"] == "entity")["rows"]}
    # A: fuel row F1 (two gases) and electricity row E1 (location- and market-based): two activity rows
    assert entity == {"ROOT": 0, "A": 2, "A1": 1, "A11": 0, "B": 2, "C": 2, "J": 1, "J1": 1}
    assert any(s["rounding"][b]["co2e_t"] != "0.000" for s in doc["sections"] for b in doc["bases"])


def test_json_numbers_are_decimal_strings(doc):
    text = render(doc, "json")
    parsed = json.loads(text)
    assert parsed == doc
    for path, value in figures(parsed):
        assert value is None or isinstance(value, (str, int)) and not isinstance(value, float), path
    # by hand (equity shares A 1, A1 0.8, B 0.6, C 0.3, J 0.5, J1 0.35; X unknown, biogenic CO2 outside):
    # Scope 1  1200.0004 + 3.0006 + 0.8 × 400.5 + 0.3 × 0.5 + 0.35 × 0.5 = 1523.726
    # Scope 2  300.0005 + 0.3 × 100 = 330.0005 (location-based), 120 + 0.3 × 50.0005 = 135.00015 (market-based)
    # Scope 3  0.6 × 7.0005 + 0.5 × 1.2345 = 4.81755
    assert parsed["totals"]["location-based"] == {"co2e_kg": "1858.54405", "co2e_t": "1.859"}
    assert parsed["totals"]["market-based"] == {"co2e_kg": "1663.5437", "co2e_t": "1.664"}


def test_csv_and_json_carry_the_same_figures(doc):
    rows = list(csv.DictReader(io.StringIO(render(doc, "csv"))))
    table = {(r["section"], r["row"], r["basis"], r["measure"]): r["value"] for r in rows}
    assert len(table) == len(rows)  # every value once
    count = 0
    for path, value in figures(doc):
        assert table[_csv_key(path)] == ("" if value is None else str(value)), path
        count += 1
    assert count > 150
    # and the exact values
    assert table[("total", "total", "market-based", "co2e_kg")] == doc["totals"]["market-based"]["co2e_kg"]


def test_html_and_json_carry_the_same_figures(doc):
    html = render(doc, "html")
    found = dom_figures(html)
    expected = dict(figures(doc))
    for path, texts in found.items():
        for text in texts:
            assert shown(text) == json_figure(expected[path]), path
    # every figure is shown, except zero rounding lines (their rows are hidden)
    hidden = {p for p in expected if p not in found}
    assert all("rounding" in p and expected[p] in ("0.000", "0.0") for p in hidden), sorted(hidden)[:5]


def test_html_is_self_contained(doc):
    html = render(doc, "html")
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "src=" not in html and "<link" not in html
    assert html.count("<svg") == 3  # by scope and category, by entity, year over year


def test_the_terminal_table_shows_the_same_figures(doc):
    text = render(doc, "table")
    for b in doc["bases"]:
        assert f"Total (t CO2e, Scope 2 {b}): {grouped(doc['totals'][b]['co2e_t'])}" in text
    assert "Rounding" in text and "Unknown entities" in text and "Outside the scopes: biogenic CO2" in text
    assert "Reporting year against the recomputed base year" in text


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url


def test_cli_report_in_every_format(cli_db, tmp_path, capsys):
    from ccf.engine.database import connect

    with connect(cli_db) as conn:
        load_acme(conn, tmp_path)
        run_id = fake_run(conn, "acme", [M("s1", 1)], [R("s1", "a", "A1", "1000"), R("s1", "b", "C", "10")])
    assert main(["report", str(run_id), "--approach", "equity-share", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["all"] == {"co2e_kg": "803", "co2e_t": "0.803"}  # 0.8 × 1000 + 0.3 × 10
    out = tmp_path / "r.html"
    assert main(["report", str(run_id), "--approach", "operational-control", "--format", "html", "--output", str(out)]) == 0
    assert f"wrote {out} (html)" in capsys.readouterr().err
    assert "1.010" in out.read_text("utf-8")
    assert main(["report", str(run_id), "--approach", "financial-control", "--format", "csv"]) == 0
    assert "total,total,Total,all,co2e_t,1.000" in capsys.readouterr().out
    assert main(["report", str(run_id), "--approach", "financial-control"]) == 0
    assert "Total (t CO2e): 1.000" in capsys.readouterr().out


def test_cli_report_errors(cli_db, capsys):
    assert main(["report", "41", "--approach", "equity-share"]) == 1
    assert "no run 41 in this database" in capsys.readouterr().err  # the runs first: they choose the entity set
    with pytest.raises(SystemExit) as exit_:
        main(["report", "1", "--approach", "equity"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main(["report", "1", "--approach", "equity-share", "--significance", "five"])
    assert "a percentage such as 5 or 2.5" in capsys.readouterr().err
    assert main(["report", "1", "--approach", "equity-share", "--recomputed-base-year-run", "2"]) == 1
    assert "needs --base-year-run" in capsys.readouterr().err
