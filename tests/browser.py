"""ccf's HTML pages in a real headless browser: Debian's chromium, driven by Playwright.

Playwright is used only as a driver of the system's chromium (``executable_path``): it never
downloads a browser. Where chromium is missing the browser tests are skipped with the reason,
except in CI (``CI=true``), where ``.ci/run`` installs it and its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

WIDTH = 1280  # the page width every report must fit (issue 18, item 7)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str:
    """The system's chromium; a skip with the reason where it is missing, a failure in CI."""
    found = shutil.which("chromium")
    if found is None:
        reason = "chromium is not installed (Debian: apt-get install -y chromium), so ccf's HTML pages are not checked in a browser"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; in CI, .ci/run installs it")
        pytest.skip(reason)
    return found


# Measured in the page, after layout: what a reader at WIDTH px would not see. Overflow that
# scrolls or clips (any value but 'visible') hides what lies past the box; text of an SVG that
# lies outside the SVG's box or viewBox is clipped (an inline SVG does not overflow).
_LAYOUT = """
(width) => {
  const problems = [];
  const heading = (el) => {  // the nearest h2 before the element, in document order
    for (let at = el; at && at !== document.body; at = at.parentElement)
      for (let s = at.previousElementSibling; s; s = s.previousElementSibling)
        if (s.tagName === 'H2') return s.textContent;
    return '';
  };
  const name = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className : ''}`
    + (heading(el) ? ` under "${heading(el)}"` : ' at the top');
  const doc = document.documentElement;
  if (doc.scrollWidth > width) problems.push(`the page is ${doc.scrollWidth} px wide`);
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    if (r.right > width + 0.5) problems.push(`${name(t)}: right edge at ${Math.round(r.right)} px`);
  }
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    const vb = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width ? svg.viewBox.baseVal : null;
    if (box.right > width + 0.5) problems.push(`${name(svg)}: right edge at ${Math.round(box.right)} px`);
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      const b = t.getBBox();
      const outside = r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5
        || (vb && (b.x < vb.x - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y < vb.y - 0.5 || b.y + b.height > vb.y + vb.height + 0.5));
      if (outside) problems.push(`${name(svg)}: label "${t.textContent}" is clipped (${Math.round(r.left)}..${Math.round(r.right)} px in ${Math.round(box.left)}..${Math.round(box.right)})`);
    }
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg')) continue;
    const s = getComputedStyle(el);
    if (s.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
      problems.push(`${name(el)}: ${el.scrollWidth} px of content in ${el.clientWidth} px (overflow-x ${s.overflowX})`);
    if (s.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 1)
      problems.push(`${name(el)}: ${el.scrollHeight} px of content in ${el.clientHeight} px (overflow-y ${s.overflowY})`);
  }
  return problems;
}
"""


@dataclass(frozen=True)
class Rendered:
    """What the browser made of one page."""

    problems: list[str]  # layout problems at WIDTH px (see _LAYOUT); none is the goal
    console: list[str]  # console messages and page errors (a Content-Security-Policy refusal is one)
    tables: int
    svg_labels: int


@contextmanager
def browser() -> Iterator[object]:
    """One headless chromium for a test's pages."""
    from playwright.sync_api import sync_playwright

    path = chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def render(browser, page_file: Path, screenshot: Path) -> Rendered:
    """Open a local HTML file at WIDTH px, measure its layout and save a full-page screenshot."""
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"error: {e}"))
    try:
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        problems = page.evaluate(_LAYOUT, WIDTH)
        tables = page.evaluate("document.querySelectorAll('table').length")
        labels = page.evaluate("document.querySelectorAll('svg text').length")
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    return Rendered(problems, console, tables, labels)
