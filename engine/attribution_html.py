"""The impact attribution as one self-contained HTML page: a waterfall from version A's total to
version B's with one bar per cause (inline SVG), and the breakdown tables. Nothing is
fetched (engine/html_page.py).

Every displayed figure carries ``data-figure``: its path in the JSON document
(``Attribution.to_json()``), so a test can compare the rendered page with the JSON.
Figures are kg CO2e rounded half away from zero to three decimals (engine/report.py); bar
geometry is computed with exact fractions and rounded to 0.1 px (no floating point).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from html import escape
from typing import Any, Iterator, Sequence

from ccf.engine.attribution.model import CAUSE_LABELS, CAUSES
from ccf.engine.html_page import page
from ccf.engine.html_table import count_cell as _count, data_figure as _fig, header_row as _head, text_cell as _text
from ccf.engine.inventory.rounding import round_fraction
from ccf.engine.report import display_kg

SHORT = {
    "factor_value_changed": "factor value", "factor_changed": "other factor", "formula_changed": "formula",
    "gwp_set_changed": "GWP set", "newly_matched": "newly matched", "newly_unmatched": "newly unmatched",
    "newly_included": "newly included", "newly_excluded": "newly excluded", "other": "other",
}
TOTAL, UP, DOWN = "#2f6f8f", "#b5523b", "#5b8c3a"
CSS = """h1 { font-size: 1.5rem; } .total .value { font-size: 1.4rem; } code { font-size: .9em; }
"""


def _kg(text: str | None) -> str:
    return "" if text is None else display_kg(Decimal(text))


def _num(path: Sequence[Any], text: str | None) -> str:
    return f'<td class="num" data-figure="{_fig(path)}">{escape(_kg(text))}</td>'


def figures(doc: dict) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every figure the page shows, by its JSON path, as the page shows it."""
    for k in ("from", "to", "change"):
        yield ("total_co2e_kg", k), _kg(doc["total_co2e_kg"][k])
    for i, c in enumerate(doc["causes"]):
        yield ("causes", i, "co2e_kg"), _kg(c["co2e_kg"])
        yield ("causes", i, "rows"), str(c["rows"])
    for dim, rows in doc["by"].items():
        for i, r in enumerate(rows):
            for k in ("from", "to", "change"):
                yield ("by", dim, i, k), _kg(r[k])
            for c, v in r["causes"].items():
                yield ("by", dim, i, "causes", c), _kg(v)
    for i, o in enumerate(doc["outcomes"]):
        yield ("outcomes", i, "rows"), str(o["rows"])
    for i, r in enumerate(doc["largest_changes"]):
        for k in ("from", "to", "change"):
            if r[k] is not None:
                yield ("largest_changes", i, k), _kg(r[k])


# --- the waterfall -----------------------------------------------------------------------


def waterfall(doc: dict) -> str:
    """From A's total, one floating bar per cause, to B's total (inline SVG)."""
    steps: list[tuple[str, Decimal, Decimal, tuple[Any, ...], str]] = []  # label, low end, high end, figure, colour
    a, b = Decimal(doc["total_co2e_kg"]["from"]), Decimal(doc["total_co2e_kg"]["to"])
    steps.append((doc["from"].split("@")[1], Decimal(0), a, ("total_co2e_kg", "from"), TOTAL))
    level = a
    for i, c in enumerate(doc["causes"]):
        v = Decimal(c["co2e_kg"])
        steps.append((SHORT[c["cause"]], level, level + v, ("causes", i, "co2e_kg"), UP if v > 0 else DOWN))
        level += v
    assert level == b, "the causes do not add up to the change"
    steps.append((doc["to"].split("@")[1], Decimal(0), b, ("total_co2e_kg", "to"), TOTAL))
    ends = [e for _, lo, hi, _, _ in steps for e in (lo, hi)]
    top, bottom = max(ends + [Decimal(0)]), min(ends + [Decimal(0)])
    span = Fraction(top - bottom) or Fraction(1)
    left, bar_w, gap, plot_h, head, foot = 10, 66, 14, 260, 28, 46
    width = left + len(steps) * (bar_w + gap)
    height = head + plot_h + foot

    def y(v: Decimal) -> Decimal:
        return round_fraction(head + Fraction(top - v) / span * plot_h, Decimal("0.1"))

    title = f"From {doc['from']} to {doc['to']}, kg CO2e"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>']
    zero = y(Decimal(0))
    out.append(f'<line x1="{left}" y1="{zero}" x2="{width}" y2="{zero}" stroke="#9aa5ae"/>')
    for i, (label, lo, hi, path, colour) in enumerate(steps):
        x = left + i * (bar_w + gap)
        y_top, y_low = y(max(lo, hi)), y(min(lo, hi))
        h = max(y_low - y_top, Decimal("0.5"))  # a zero step is still a visible line
        out.append(f'<rect x="{x}" y="{y_top}" width="{bar_w}" height="{h}" fill="{colour}"/>')
        if 0 < i < len(steps) - 1:  # connector from the previous level
            out.append(f'<line x1="{x - gap}" y1="{y(lo)}" x2="{x}" y2="{y(lo)}" stroke="#6b7780" stroke-dasharray="3,2"/>')
        shown = display_kg(hi - lo) if path[0] == "causes" else display_kg(hi)
        out.append(f'<text x="{x + bar_w // 2}" y="{y_top - 6}" text-anchor="middle" data-figure="{_fig(path)}">{escape(shown)}</text>')
        lines = label.split(" ", 1)  # two short lines under the bar, so neighbours never overlap
        out.append(f'<text x="{x + bar_w // 2}" y="{head + plot_h + 18}" text-anchor="middle">'
                   + "".join(f'<tspan x="{x + bar_w // 2}" dy="{0 if n == 0 else 14}">{escape(t)}</tspan>' for n, t in enumerate(lines))
                   + "</text>")
    out.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(out)}</figure>"


# --- the page ----------------------------------------------------------------------------


def _breakdown(dim: str, rows: list[dict]) -> str:
    present = [c for c, _ in CAUSES if any(c in r["causes"] for r in rows)]
    cols = [(dim, False), ("from, kg CO2e", True), ("to, kg CO2e", True), ("change, kg CO2e", True)]
    cols += [(SHORT[c], True) for c in present]
    out = [f"<h2>By {escape(dim)}</h2><table>", _head(*cols)]
    for i, r in enumerate(rows):
        path = ("by", dim, i)
        cells = "".join(_num((*path, k), r[k]) for k in ("from", "to", "change"))
        cells += "".join(_num((*path, "causes", c), r["causes"][c]) if c in r["causes"] else "<td></td>" for c in present)
        out.append(f"<tr>{_text(r['key'])}{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def to_html(doc: dict) -> str:
    """The whole attribution as one HTML document (UTF-8 text)."""
    runs = doc["runs"]
    title = f"Impact of {doc['from']} → {doc['to']}"

    def used(side: dict) -> str:
        return (f"{escape(side['methodology'])}: run {side['run_id']} ({'reused' if side['reused'] else 'run for this report'}), "
                f"factor set {escape(side['factor_set'])}, GWP {escape(side['gwp'])}, sha256 {escape(side['content_hash'][:12])}…")

    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Dataset <b>{escape(doc["dataset"])}</b>. Both versions ran on the same loads.</p>',
        f'<p class="meta">{used(runs["from"])}</p><p class="meta">{used(runs["to"])}</p>',
        '<div class="totals">',
    ]
    for key, label in (("from", doc["from"]), ("to", doc["to"]), ("change", "change")):
        body.append(f'<div class="total"><div class="unit">{escape(label)}, kg CO2e</div><div class="value" '
                    f'data-figure="{_fig(("total_co2e_kg", key))}">{escape(_kg(doc["total_co2e_kg"][key]))}</div></div>')
    body.append("</div>")
    body.append(waterfall(doc))
    body.append("<h2>Change by cause</h2><table>" + _head(("cause", False), ("kg CO2e", True), ("activity row × gas pairs", True)))
    for i, c in enumerate(doc["causes"]):
        body.append(f"<tr>{_text(CAUSE_LABELS[c['cause']])}{_num(('causes', i, 'co2e_kg'), c['co2e_kg'])}"
                    f"{_count(('causes', i, 'rows'), c['rows'])}</tr>")
    body.append(f'<tr class="total"><td>Total change</td>{_num(("total_co2e_kg", "change"), doc["total_co2e_kg"]["change"])}<td></td></tr>')
    body.append("</table>")
    body.append(
        '<p class="note">Each activity row and gas is attributed once: a GWP step (the stored mass of the gas × the '
        "change in its GWP) when both versions give the gas as a mass, and the rest to the first cause that applies — "
        "outcome changed (matched, unmatched, included, excluded), another rule or formula, another factor, a new "
        "value of the same factor; anything else is “other”. The parts sum exactly to the change "
        "(docs/auditing.md).</p>"
    )
    for dim, rows in doc["by"].items():
        body.append(_breakdown(dim, rows))
    body.append("<h2>Activity rows by outcome</h2><table>" + _head((doc["from"], False), (doc["to"], False), ("activity rows", True)))
    for i, o in enumerate(doc["outcomes"]):
        body.append(f"<tr>{_text(o['from'])}{_text(o['to'])}{_count(('outcomes', i, 'rows'), o['rows'])}</tr>")
    body.append("</table>")
    if doc["largest_changes"]:
        body.append("<h2>Largest changes</h2><table>" + _head(
            ("activity", False), ("gas", False), ("rule", False), ("from, kg CO2e", True), ("to, kg CO2e", True),
            ("change, kg CO2e", True), ("cause", False), ("explain", False)))
        for i, r in enumerate(doc["largest_changes"]):
            path = ("largest_changes", i)
            rule = r["rule"]["from"] if r["rule"]["from"] == r["rule"]["to"] else f"{r['rule']['from'] or '—'} → {r['rule']['to'] or '—'}"
            side = runs["to"] if r["to"] is not None else runs["from"]
            cells = "".join(_num((*path, k), r[k]) if r[k] is not None else _text(r["outcome"][k]) for k in ("from", "to"))
            body.append(f"<tr>{_text(r['activity_id'])}{_text(r['gas'])}{_text(rule)}{cells}{_num((*path, 'change'), r['change'])}"
                        f"{_text(', '.join(SHORT[c] for c in r['parts']))}"
                        f"<td><code>ccf explain {side['run_id']} {escape(r['activity_id'])}</code></td></tr>")
        body.append("</table>")
    return page(title, body, CSS)
