"""`ccf diff A B --dataset D` on the command line: text, --json, --html (the waterfall page, checked
in headless chromium when it is installed), reuse of runs, usage errors."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest
from helpers import shipped_library
from inventory._support import dom_figures

from ccf.dsl.numeric import exact_sum
from ccf.engine.api import demo_dir
from ccf.engine.attribution_html import figures, to_html
from ccf.engine.cli import main
from ccf.engine.database import connect
from ccf.engine.load import load_csv

LIB = shipped_library()
A, B = "scope3.cat6.business_travel@1.0.0", "scope3.cat6.business_travel@2.0.0"
CHROMIUM = shutil.which("chromium")


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    with connect(db_url) as conn:
        for name in ("business_travel", "electricity"):
            load_csv(conn, "nw", LIB.activity_types[name], demo_dir() / f"{name}.csv")
    return db_url


def test_text_json_and_reuse(cli_db, capsys):
    assert main(["diff", A, B, "--dataset", "nw"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{A} → {B} on dataset nw")
    assert "a different factor matched" in text and "(new;" in text
    assert "ccf explain" in text  # the way to the next step of the audit
    assert main(["diff", A, B, "--dataset", "nw", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"]["from"]["reused"] and doc["runs"]["to"]["reused"]
    change = Decimal(doc["total_co2e_kg"]["change"])
    assert change == Decimal(doc["total_co2e_kg"]["to"]) - Decimal(doc["total_co2e_kg"]["from"])
    assert exact_sum(Decimal(c["co2e_kg"]) for c in doc["causes"]) == change
    assert main(["diff", A, B, "--dataset", "nw", "--json", "--rerun"]) == 0
    rerun = json.loads(capsys.readouterr().out)
    assert not rerun["runs"]["from"]["reused"] and rerun["runs"]["from"]["run_id"] > doc["runs"]["to"]["run_id"]
    assert rerun["causes"] == doc["causes"]


def test_usage_and_input_errors(cli_db, capsys):
    assert main(["diff", A, B, "--html", "x.html"]) == 2
    assert "--html and --rerun need --dataset" in capsys.readouterr().err
    assert main(["diff", A, "scope2.electricity.location_based@1.0.0", "--dataset", "nw"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cannot be paired row by row" in err and "Traceback" not in err
    assert main(["diff", A, B, "--dataset", "nww"]) == 1
    assert capsys.readouterr().err == "error: dataset 'nww' has no business_travel activity data; did you mean 'nw'?\n"
    assert main(["diff", A, B, "--dataset", "elsewhere"]) == 1
    assert "datasets with business_travel data: nw" in capsys.readouterr().err


def test_the_html_page_is_self_contained_and_shows_the_json_figures(cli_db, tmp_path, capsys):
    page, js = tmp_path / "impact.html", tmp_path / "impact.json"
    assert main(["diff", A, B, "--dataset", "nw", "--html", str(page), "--json"]) == 0
    js.write_text(capsys.readouterr().out, "utf-8")
    doc = json.loads(js.read_text("utf-8"))
    html = page.read_text("utf-8")
    assert html == to_html(doc)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    assert "<script" not in html and html.count("<svg") == 1
    assert html.count("<rect") == 2 + len(doc["causes"])  # A's total, one bar per cause, B's total
    _check_figures(html, doc)


def _check_figures(dom: str, doc: dict) -> None:
    """Every figure on the page is the JSON figure as displayed, and every JSON figure is shown."""
    expected = dict(figures(doc))
    found = dom_figures(dom)
    assert found
    for path, texts in found.items():
        assert path in expected, path
        assert all(t == expected[path] for t in texts), (path, texts, expected[path])
    assert set(expected) == set(found)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install -y chromium)")
def test_the_waterfall_in_a_browser(cli_db, tmp_path, capsys):
    from inventory.test_browser import render_in_browser

    page = tmp_path / "impact.html"
    assert main(["diff", "scope2.electricity.location_based@1.0.0", "scope2.electricity.location_based@1.1.0",
                 "--dataset", "nw", "--html", str(page), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    dom, console = render_in_browser(page, tmp_path / "profile")
    assert console == []
    assert dom.count("<svg") == 1 and dom.count("<rect") == 2 + len(doc["causes"])
    _check_figures(dom, doc)
    wf = dom_figures(dom)
    assert wf[("total_co2e_kg", "from")][0] != wf[("total_co2e_kg", "to")][0]


def test_bar_geometry_is_exact_and_follows_the_running_total():
    doc = {
        "from": "x@1.0.0", "to": "x@2.0.0", "dataset": "d",
        "runs": {s: {"methodology": f"x@{v}", "run_id": i, "reused": False, "content_hash": "0" * 64, "factor_set": "f", "gwp": "AR5"}
                 for i, (s, v) in enumerate((("from", "1.0.0"), ("to", "2.0.0")), 1)},
        "total_co2e_kg": {"from": "100", "to": "50", "change": "-50"},
        "causes": [{"cause": c, "label": c, "co2e_kg": v, "rows": 1} for c, v in (
            ("factor_value_changed", "25"), ("factor_changed", "-75"), ("formula_changed", "0"), ("gwp_set_changed", "0"),
            ("newly_matched", "0"), ("newly_unmatched", "0"), ("newly_included", "0"), ("newly_excluded", "0"), ("other", "0"))],
        "by": {}, "outcomes": [], "largest_changes": [],
    }
    html = to_html(doc)
    rects = [line for line in html.split("<rect ")[1:]]
    heights = [Decimal(r.split('height="')[1].split('"')[0]) for r in rects]
    tops = [Decimal(r.split(' y="')[1].split('"')[0]) for r in rects]
    # plot height 260 px for the range 0..125: 100 → 208 px, +25 → 52 px, −75 → 156 px, 50 → 104 px
    assert heights[:3] == [Decimal("208.0"), Decimal("52.0"), Decimal("156.0")] and heights[-1] == Decimal("104.0")
    assert tops[1] == Decimal("28.0") and tops[0] == Decimal("80.0")  # the +25 bar starts at the top of the range
    assert all(h == Decimal("0.5") for h in heights[3:-1])  # zero causes: a visible hairline
    with pytest.raises(AssertionError, match="do not add up"):
        to_html({**doc, "total_co2e_kg": {"from": "100", "to": "51", "change": "-49"}})
