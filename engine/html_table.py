"""Table cells shared by ccf's self-contained HTML pages (the inventory report and the diff
waterfall; the page around them: engine/html_page.py). Every figure a page shows carries
``data-figure``: its path in the JSON document the page was made from, so tests can check the
page against the JSON figure by figure."""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any, Sequence


def data_figure(path: Sequence[Any]) -> str:
    """The ``data-figure`` attribute value of a figure at ``path`` in the JSON document."""
    return escape(json.dumps(list(path), ensure_ascii=False), quote=True)


def count_cell(path: Sequence[Any], n: int) -> str:
    return f'<td class="num" data-figure="{data_figure(path)}">{n}</td>'


def text_cell(value: Any) -> str:
    """A text cell; a dotted identifier (a methodology id) may break after a dot or underscore
    that a letter follows (``<wbr>``), so that a table of long ids fits the page instead of
    widening it; other text (a rule id), numbers and versions never break."""
    text = escape("" if value is None else str(value))
    if _DOTTED.search(text):
        text = _BREAKABLE.sub(r"\1<wbr>", text)
    return "<td>" + text + "</td>"


_DOTTED = re.compile(r"\.(?=[A-Za-z])")
_BREAKABLE = re.compile(r"([._])(?=[A-Za-z])")


def header_row(*cols: tuple[str, bool]) -> str:
    """A header row; each column is (title, is_numeric)."""
    return "<tr>" + "".join(f'<th class="num">{escape(c)}</th>' if num else f"<th>{escape(c)}</th>" for c, num in cols) + "</tr>"
