"""ccf's HTML pages at 1280 px in headless chromium (tests/browser.py): the demo's inventory
reports (Northwind and Meridian) and a diff's waterfall page. Every table fits the page, no chart
label is clipped, no box hides content behind a scroll bar, and the browser logs nothing.

Each page's full-page screenshot is kept beside it in the test's temporary folder, to look at.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from browser import WIDTH, browser, chromium, render

from ccf.engine.cli import main

DIFF = ("scope3.cat6.business_travel@1.0.0", "scope3.cat6.business_travel@2.0.0")


@pytest.fixture(scope="module")
def pages(module_cli_demo, tmp_path_factory) -> dict[str, Path]:
    """The HTML pages of the demo's two runs (the test run's ``ccf demo --json``, in a copy of
    its database for this module) and of a diff."""
    chromium()  # skip (or fail in CI) before the pages' seconds are spent
    out = tmp_path_factory.mktemp("pages")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCF_DATABASE_URL", module_cli_demo.url)
        demo = module_cli_demo.first
        northwind, meridian = demo["run"]["run_id"], demo["meridian"]["run"]["run_id"]
        made = {
            "northwind": ["report", str(northwind), "--approach", "equity-share"],
            "meridian": ["report", str(meridian), "--approach", "operational-control"],
        }
        for name, args in made.items():
            assert main([*args, "--format", "html", "--output", str(out / f"{name}.html")]) == 0
        with redirect_stdout(io.StringIO()):
            assert main(["diff", *DIFF, "--dataset", "demo", "--html", str(out / "diff.html")]) == 0
    return {name: out / f"{name}.html" for name in (*made, "diff")}


@pytest.fixture(scope="module")
def chromium_page_maker(pages):
    """One headless chromium for the module's pages (launching one takes seconds)."""
    with browser() as b:
        yield b


@pytest.mark.parametrize("name", ["northwind", "meridian", "diff"])
def test_the_page_fits_1280_px_and_no_label_is_clipped(pages, chromium_page_maker, name):
    seen = render(chromium_page_maker, pages[name], pages[name].with_suffix(".png"))
    assert seen.problems == [], f"{name} at {WIDTH} px (screenshot {pages[name].with_suffix('.png')})"
    assert seen.console == []
    assert seen.tables >= (1 if name == "diff" else 8) and seen.svg_labels >= 6  # the page is the one meant
    assert pages[name].with_suffix(".png").stat().st_size > 10_000
