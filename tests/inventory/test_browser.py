"""The HTML report in a real headless browser (Debian's chromium): it renders without a console
message, and every figure of the rendered DOM is the JSON report's figure.

Skipped, with the reason, when chromium is not installed, and failed in CI (tests/browser.py);
.ci/run installs it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from browser import CHROMIUM_ARGS, chromium
from inventory._support import dom_figures, json_figure, main, rich_report, shown

from ccf.engine.inventory.presentation import figures



def render_in_browser(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM chromium built from a file, and the console messages it logged."""
    proc = subprocess.run(
        [chromium(), *CHROMIUM_ARGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line or "Refused to" in line]
    return proc.stdout, console


def check_dom_against_json(dom: str, report: dict) -> int:
    """Every figure in the rendered DOM equals the JSON report's; every JSON figure is shown
    (except zero rounding lines, whose rows are hidden). Returns the number of figures seen."""
    expected = dict(figures(report))
    found = dom_figures(dom)
    assert found, "no figure in the rendered page"
    for path, texts in found.items():
        assert path in expected, f"figure {path} is not in the JSON report"
        for text in texts:
            assert shown(text) == json_figure(expected[path]), (path, text, expected[path])
    missing = [p for p in expected if p not in found and not ("rounding" in p and expected[p] in ("0.000", "0.0"))]
    assert missing == []
    return sum(len(t) for t in found.values())


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url


def test_the_html_report_renders_cleanly_and_matches_the_json_report(cli_db, tmp_path, capsys):
    from ccf.engine.database import connect

    with connect(cli_db) as conn:
        inv, by = rich_report(conn, tmp_path)
    args = [*map(str, inv.runs), "--approach", "equity-share", "--base-year-run", *map(str, by.original.runs),
            "--recomputed-base-year-run", *map(str, by.recomputed.runs)]
    html, js = tmp_path / "report.html", tmp_path / "report.json"
    assert main(["report", *args, "--format", "html", "--output", str(html)]) == 0
    assert main(["report", *args, "--format", "json", "--output", str(js)]) == 0
    capsys.readouterr()
    dom, console = render_in_browser(html, tmp_path / "profile")
    assert console == []
    assert dom.count("<svg") == 3 and dom.count("<rect") > 20
    report = json.loads(js.read_text("utf-8"))
    assert check_dom_against_json(dom, report) > 200
    # spot checks, by hand (see test_formats.py): the totals, side by side
    assert dom_figures(dom)[("totals", "location-based", "co2e_t")] == ["1.859"]
    assert dom_figures(dom)[("totals", "market-based", "co2e_t")] == ["1.664"]


def test_the_northwind_report_in_the_browser(sample_company, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CCF_DATABASE_URL", sample_company.url)
    run_id = sample_company.run_id
    for approach in ("equity-share", "financial-control", "operational-control"):
        html, js = tmp_path / f"{approach}.html", tmp_path / f"{approach}.json"
        assert main(["report", str(run_id), "--approach", approach, "--format", "html", "--output", str(html)]) == 0
        assert main(["report", str(run_id), "--approach", approach, "--format", "json", "--output", str(js)]) == 0
        dom, console = render_in_browser(html, tmp_path / f"profile-{approach}")
        assert console == []
        assert check_dom_against_json(dom, json.loads(js.read_text("utf-8"))) > 50
    capsys.readouterr()

