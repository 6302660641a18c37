"""The report document as one self-contained HTML file: inline CSS, inline SVG charts, no script,
nothing fetched (engine/html_page.py). Every displayed figure (in tables and in chart
labels) carries ``data-figure``: its path in the JSON document (``presentation.figures``), so a
test can read the rendered page and compare each figure with the JSON report.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from fractions import Fraction
from html import escape
from typing import Sequence

from ccf.engine.html_page import page
from ccf.engine.html_table import count_cell as _count, data_figure as _fig, header_row as _head, text_cell as _text
from ccf.engine.inventory.presentation import APPROACH_TITLES, DATA_QUALITY_TITLE, TIERS_TITLE, basis_label
from ccf.engine.inventory.rounding import grouped, round_fraction

PALETTE = ("#2f6f8f", "#d08c2c", "#5b8c3a", "#8c4a6b")
CSS = """h1 { font-size: 1.6rem; } .total .value { font-size: 1.5rem; } td.code { white-space: nowrap; }
tr.rounding td { color: #6b7780; font-style: italic; }
.legend span { display: inline-block; margin-right: 1rem; } .swatch { display: inline-block; width: .8rem; height: .8rem;
  margin-right: .3rem; vertical-align: -1px; }
.mix { display: flex; width: 12rem; height: .9rem; background: #eef1f3; } .mix i { display: block; height: 100%; }
"""
# data-quality scores 1 (best) to 5 (poorest), then not scored: from green to red, then grey
SCORE_COLOURS = ("#2e7d32", "#7cb342", "#f9a825", "#ef6c00", "#c62828", "#9e9e9e")


def _num(path: Sequence[str], text: str | None, suffix: str = "") -> str:
    shown = grouped(text) + (suffix if text is not None else "")
    return f'<td class="num" data-figure="{_fig(path)}">{escape(shown)}</td>'


# --- charts ------------------------------------------------------------------------------

BarValue = tuple[str | None, tuple[str, ...]]  # (displayed text, figure path)
LABEL_CHARS = 100  # about 660 px of 12 px text: well inside the chart's 930 px


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[BarValue]]]) -> str:
    """A horizontal bar chart as inline SVG: one group per label, one bar per series.

    Each label is written above its bars, across the chart's width and wrapped at
    ``LABEL_CHARS`` characters, so a long label (a Scope 3 category's name) is never clipped:
    SVG text has no width known here, and a label column beside the bars would cut it off.
    Bar lengths are proportional to the displayed figures, computed with exact fractions and
    rounded to 0.1 px (no floating point anywhere)."""
    bar_w, value_w, bar_h, line_h, gap = 820, 110, 14, 15, 10
    width = bar_w + value_w
    wrapped = [textwrap.wrap(label, LABEL_CHARS) or [""] for label in labels]
    values = [Decimal(text) for _, bars in series for text, _ in bars if text is not None]
    top = max((abs(v) for v in values), default=Decimal(0)) or Decimal(1)
    body: list[str] = []
    y0 = 8
    for gi, lines in enumerate(wrapped):
        for li, line in enumerate(lines):
            body.append(f'<text x="0" y="{y0 + (li + 1) * line_h - 3}">{escape(line)}</text>')
        y0 += len(lines) * line_h + 2
        for si, (_, bars) in enumerate(series):
            text, path = bars[gi]
            y = y0 + si * bar_h
            if text is None:
                continue
            length = round_fraction(Fraction(abs(Decimal(text))) / Fraction(top) * bar_w, Decimal("0.1"))
            colour = PALETTE[si % len(PALETTE)]
            faded = ' fill-opacity="0.5"' if Decimal(text) < 0 else ""  # a negative amount: same length, faded
            body.append(f'<rect x="0" y="{y}" width="{length}" height="{bar_h - 2}" fill="{colour}"{faded}/>')
            body.append(f'<text x="{length + 4}" y="{y + bar_h - 4}" data-figure="{_fig(path)}">'
                        f"{escape(grouped(text))}</text>")
        y0 += bar_h * len(series) + gap
    height = y0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>', *body]
    parts.append("</svg>")
    legend = "".join(f'<span><i class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></i>{escape(name)}</span>'
                     for i, (name, _) in enumerate(series))
    return f'<figure><figcaption>{escape(title)}</figcaption>{"".join(parts)}<div class="legend">{legend}</div></figure>'


def _section_chart(section: dict, bases: list[str], title: str) -> str:
    sid = section["id"]
    labels = [r["key"] if sid == "entity" else r["label"] for r in section["rows"]]  # entity names are long
    series = [
        (basis_label(b), [(r["values"][b]["co2e_t"], ("sections", sid, "rows", r["key"], "values", b, "co2e_t"))
                          for r in section["rows"]])
        for b in bases
    ]
    return bar_chart(title, labels, series)


def _yoy_chart(by: dict, bases: list[str]) -> str:
    rows = by["comparison"]["rows"]
    series = []
    for b in bases:
        suffix = "" if len(bases) == 1 else f", Scope 2 {b}"
        for which, name in (("base_t", "base year"), ("reporting_t", "reporting year")):
            series.append((name + suffix, [(r["values"][b][which], ("base_year", "comparison", "rows", r["key"], "values", b, which))
                                           for r in rows]))
    return bar_chart("Year over year, t CO2e", [r["label"] for r in rows], series)


# --- tables ------------------------------------------------------------------------------


def _section_table(section: dict, bases: list[str], root: tuple[str, ...]) -> str:
    sid = section["id"]
    entity = sid == "entity"
    pct = any("percent" in v for v in section["total"].values())
    gas = any("gas_t" in v for r in section["rows"] for v in r["values"].values())
    multi = len(bases) > 1
    cols: list[tuple[str, bool]] = [("entity", False), ("name", False), ("parent", False), ("effective share", True),
                                    ("activity rows", True)] if entity else [("", False)]
    for b in bases:
        sfx = f" ({b})" if multi else ""
        if entity:
            cols.append(("gross at 100%, t CO2e" + sfx, True))
        if gas:
            cols.append(("t of the gas" + sfx, True))
        cols.append((basis_label(b), True))
        if pct:
            cols.append(("share" + sfx, True))
    out = [f"<h2>{escape(section['title'])}</h2><table>", _head(*cols)]

    def cells(values: dict, path: tuple[str, ...], full: bool) -> str:
        html = []
        for b in bases:
            v = values[b]
            if entity:
                html.append(_num((*path, b, "gross_t"), v["gross_t"]) if full else "<td></td>")
            if gas:
                html.append(_num((*path, b, "gas_t"), v.get("gas_t")) if full else "<td></td>")
            html.append(_num((*path, b, "co2e_t"), v["co2e_t"]))
            if pct:
                html.append(_num((*path, b, "percent"), v.get("percent"), "%"))
        return "".join(html)

    for r in section["rows"]:
        path = (*root, "rows", r["key"], "values")
        if entity:
            share_path = (*root, "rows", r["key"], "share_percent")
            lead = (f'<td class="code" style="padding-left:{6 + 12 * r["depth"]}px">{escape(r["key"])}</td>'
                    + _text(r["label"]) + _text(r["parent"])
                    + _num(share_path, r["share_percent"], "%")
                    + _count((*root, "rows", r["key"], "activity_rows"), r["activity_rows"]))
        else:
            lead = _text(r["label"])
        out.append(f"<tr>{lead}{cells(r['values'], path, True)}</tr>")
    pad = "<td></td>" * (4 if entity else 0)
    shown = any(v.get("co2e_t") != "0.000" or v.get("percent") not in (None, "0.0") for v in section["rounding"].values())
    if shown:
        out.append(f'<tr class="rounding"><td>Rounding</td>{pad}{cells(section["rounding"], (*root, "rounding"), False)}</tr>')
    out.append(f'<tr class="total"><td>Total</td>{pad}{cells(section["total"], (*root, "total"), False)}</tr>')
    out.append("</table>")
    return "".join(out)


def _coverage(cov: dict) -> str:
    cols = [("run", True), ("dataset", False), ("methodology", False), ("version", False), ("activity rows", True),
            ("results", True), ("excluded", True), ("unmatched", True), ("rejected", True), ("unknown entity", True),
            ("unmatched, %", True), ("rejected, %", True), ("unknown entity, %", True), ("unknown entity, t CO2e", True)]
    out = ["<h2>Coverage: activity rows per methodology</h2>",
           '<p class="note">Activity rows are the rows of the activity files: those loaded plus those rejected at load. '
           "Rows whose entity is not in the entity set are not in any total; they are listed here.</p>"
           '<table class="compact">', _head(*cols)]
    for r in [*cov["methodologies"], {**cov["total"], "key": None}]:
        path = ("coverage", "methodologies", r["key"]) if r["key"] else ("coverage", "total")
        lead = (_text(r["run_id"]) + _text(r["dataset"]) + _text(r["methodology"]) + _text(r["version"])) if r["key"] \
            else '<td>Total</td><td></td><td></td><td></td>'
        nums = "".join(_count((*path, k), r[k]) for k in (
            "activity_rows", "rows_result", "rows_excluded", "rows_unmatched", "rows_rejected", "rows_unknown_entity"))
        pcts = "".join(_num((*path, k), r[k], "%") for k in ("unmatched_percent", "rejected_percent", "unknown_entity_percent"))
        cls = ' class="total"' if not r["key"] else ""
        out.append(f"<tr{cls}>{lead}{nums}{pcts}{_num((*path, 'unknown_entity_t'), r['unknown_entity_t'])}</tr>")
    out.append("</table>")
    if cov["unknown_entities"]:
        out.append("<h2>Unknown entities (not in the entity set; not in any total)</h2><table>")
        out.append(_head(("run", True), ("methodology", False), ("entity", False), ("activity rows", True), ("t CO2e at 100%", True)))
        for r in cov["unknown_entities"]:
            path = ("coverage", "unknown_entities", r["key"])
            out.append(f"<tr>{_text(r['run_id'])}{_text(r['methodology'])}{_text(r['entity'])}"
                       f"{_count((*path, 'activity_rows'), r['activity_rows'])}{_num((*path, 'gross_t'), r['gross_t'])}</tr>")
        out.append("</table>")
    return "".join(out)


def _unallocated(rows: list[dict]) -> str:
    """Market-based Scope 2: contractual instrument volume not allocated (exact, not rounded)."""
    if not rows:
        return ""
    out = ["<h2>Contractual instruments not allocated to consumption (not in any total)</h2><table>",
           _head(("run", True), ("methodology", False), ("instrument", False), ("entity", False), ("quantity", True),
                 ("unallocated", True), ("unit", False), ("reason", False))]
    for r in rows:
        out.append("<tr>" + "".join(_text(r[k]) for k in ("run_id", "methodology", "instrument", "entity", "quantity",
                                                          "unallocated", "unit", "reason")) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _tiers(rows: list[dict]) -> str:
    """Scope 1, 2 and 3 category 3: each methodology's results by rule (the tier) and source (factor set edition or instrument)."""
    if not rows:
        return ""
    out = [f"<h2>{escape(TIERS_TITLE)}</h2>",
           '<p class="note">Consolidated under the approach of this report; \'ccf explain RUN ACTIVITY_ID\' shows a '
           "row's rule and each factor's set and edition.</p><table>",
           _head(("scope", True), ("methodology", False), ("version", False), ("rule = tier", False),
                 ("source", False), ("activity rows", True), ("t CO2e", True))]
    for r in rows:
        path = ("tiers", r["key"])
        out.append("<tr>" + "".join(_text(r[k]) for k in ("scope", "methodology", "version", "rule", "factor_set"))
                   + f"{_count((*path, 'activity_rows'), r['activity_rows'])}{_num((*path, 'co2e_t'), r['co2e_t'])}</tr>")
    out.append("</table>")
    return "".join(out)


def _intensities(rows: list[dict], bases: list[str]) -> str:
    """Emissions per each denominator the organisation gave, total and per scope."""
    out = []
    for d in rows:
        out.append(f"<h2>Intensity: {escape(d['per'])}</h2>"
                   f'<p class="meta">{escape(d["name"])}: {escape(grouped(d["amount"]))} {escape(d["unit"])}</p><table>')
        out.append(_head(("", False), *((d["per"] if len(bases) == 1 else f"{d['per']}, Scope 2 {b}", True) for b in bases)))
        path = ("intensities", d["key"], "values")
        scopes = sorted({s for b in bases for s in d["values"][b]["scopes"]})
        for s in scopes:
            out.append(f"<tr>{_text(s.replace('scope', 'Scope '))}" + "".join(
                _num((*path, b, "scopes", s, "intensity_shown"), d["values"][b]["scopes"].get(s, {}).get("intensity_shown"))
                for b in bases) + "</tr>")
        out.append('<tr class="total"><td>Total</td>' + "".join(
            _num((*path, b, "total", "intensity_shown"), d["values"][b]["total"]["intensity_shown"]) for b in bases) + "</tr>")
        out.append(f'</table><p class="note">{escape(d["rounding"])}</p>')
    return "".join(out)


def _pcaf(pcaf: dict | None) -> str:
    """PCAF's portfolio metrics of category 15."""
    if not pcaf:
        return ""
    out = [f"<h2>{escape(pcaf['title'])}</h2><h3>Financed emissions by asset class and the investee's scope</h3><table>",
           _head(("asset class", False), ("scope", False), ("t CO2e", True))]
    for r in pcaf["financed_emissions"]:
        out.append(f"<tr>{_text(r['asset_class'])}{_text(r['scope'])}"
                   f"{_num(('pcaf', 'financed_emissions', r['key'], 'co2e_t'), r['co2e_t'])}</tr>")
    out.append('<tr class="total"><td>Total</td><td></td>'
               f"{_num(('pcaf', 'financed_emissions_total', 'co2e_t'), pcaf['financed_emissions_total']['co2e_t'])}</tr></table>")
    out.append("<h3>Economic emission intensity (financed emissions / outstanding amount)</h3><table>"
               + _head(("currency", False), ("outstanding", True), ("t CO2e", True), ("intensity", True), ("per", False)))
    for r in pcaf["economic_emission_intensity"]:
        path = ("pcaf", "economic_emission_intensity", r["key"])
        out.append(f"{'<tr>'}{_text(r['currency'])}{_text(grouped(r['outstanding']))}{_num((*path, 'co2e_t'), r['co2e_t'])}"
                   f"{_num((*path, 'intensity_t'), r['intensity_t'])}{_text(r['per'])}</tr>")
    out.append("</table>")
    out.append('<p class="note">Financed emissions without an outstanding amount and currency (not in the intensity): '
               f'<span data-figure="{_fig(("pcaf", "without_outstanding_amount", "co2e_t"))}">'
               f"{escape(grouped(pcaf['without_outstanding_amount']['co2e_t']))}</span> t CO2e</p>")
    out.append("<h3>Weighted average carbon intensity (WACI)</h3><table>"
               + _head(("currency", False), ("holdings", True), ("WACI", True), ("per", False)))
    for r in pcaf["waci"]:
        out.append(f"<tr>{_text(r['currency'])}{_text(r['holdings'])}"
                   f"{_num(('pcaf', 'waci', r['key'], 'waci_t'), r['waci_t'])}{_text(r['per'])}</tr>")
    out.append("</table>")
    dq = pcaf["weighted_data_quality"]
    out.append("<h3>Weighted data-quality score (1 best, 5 poorest)</h3><table>"
               + _head(("weighted by", False), ("score", True), ("outstanding not scored", True)))
    out.append(f"<tr>{_text('financed emissions')}{_num(('pcaf', 'weighted_data_quality', 'by_financed_emissions', 'weighted_score'), dq['by_financed_emissions']['weighted_score'])}"
               f"{_text('')}</tr>")
    for r in dq["by_outstanding_amount"]:
        out.append(f"<tr>{_text('outstanding amount, ' + r['currency'])}"
                   f"{_num(('pcaf', 'weighted_data_quality', 'by_outstanding_amount', r['key'], 'weighted_score'), r['weighted_score'])}"
                   f"{_text(grouped(r['outstanding_not_scored']))}</tr>")
    out.append("</table>")
    return "".join(out)
def _data_quality(dq: dict, bases: list[str]) -> str:
    """Per basis, one table: each scope, Scope 3 category and the total with its t CO2e and share
    by data-quality score and not scored, a stacked bar of those shares, and the weighted score."""
    names = [*(f"score{s}" for s in range(1, 6)), "not_scored"]
    heads = [*(f"score {s}" for s in range(1, 6)), "not scored"]
    legend = "".join(f'<span><i class="swatch" style="background:{c}"></i>{escape(h)}</span>'
                     for c, h in zip(SCORE_COLOURS, heads))
    out = [f"<h2>{escape(DATA_QUALITY_TITLE)}</h2>",
           '<p class="note">Each result\'s score is its activity row\'s data_quality, else its methodology\'s; the weighted '
           "score is Σ(score × CO2e) / Σ(CO2e of the scored results), the CO2e not scored is left out of it and shown "
           "as its own share. For Scope 3 category 15 it is PCAF's weighted data quality score.</p>",
           f'<div class="legend">{legend}</div>']
    for b in bases:
        cols = [("", False), *((f"{h}: t CO2e, share", True) for h in heads), ("mix", False), ("weighted score", True)]
        out.append(f'<table class="compact"><caption>{escape(basis_label(b))}</caption>' + _head(*cols))
        for r in dq["rows"]:
            v, path = r["values"][b], ("data_quality", "rows", r["key"], "values", b)
            cells = "".join(
                f'<td class="num"><span data-figure="{_fig((*path, f"{n}_t"))}">{escape(grouped(v[f"{n}_t"]))}</span><br>'
                f'<span data-figure="{_fig((*path, f"{n}_percent"))}">{escape(_share(v[f"{n}_percent"]))}</span></td>'
                for n in names)
            bar = "".join(f'<i style="width:{_width(v[f"{n}_percent"])}%;background:{c}"></i>'
                          for n, c in zip(names, SCORE_COLOURS))
            cls = ' class="total"' if r["key"] == "total" else ""
            out.append(f'<tr{cls}>{_text(r["label"])}{cells}<td><div class="mix">{bar}</div></td>'
                       f'{_num((*path, "weighted_score"), v["weighted_score"])}</tr>')
        out.append("</table>")
    return "".join(out)


def _share(text: str | None) -> str:
    return "—" if text is None else f"{text}%"


def _width(text: str | None) -> str:
    """A bar segment's width in percent: the displayed share, none for a share below zero or none."""
    return "0" if text is None or Decimal(text) < 0 else text


def _base_year(by: dict, bases: list[str]) -> str:
    out = ["<h2>Base year</h2>",
           f'<p class="meta">Base-year runs {escape(", ".join(map(str, by["runs"])))} '
           f'(dataset {escape(", ".join(by["datasets"]))}; {escape(", ".join(map(str, by["years"])))}); '
           f'methodology versions: {escape(by["methodology_versions"])}.</p>']
    if by["version_changes"]:
        out.append("<ul>" + "".join(f"<li>{escape(c['methodology'])}: {escape(c['base_year'])} in the base year, "
                                    f"{escape(c['reporting'])} in the reporting year</li>" for c in by["version_changes"]) + "</ul>")
    threshold = f'<span data-figure="{_fig(("base_year", "significance_percent"))}">{escape(by["significance_percent"])}</span>%'
    if not by["recalculation"]:
        out.append(f'<p class="meta">Significance threshold for a base-year recalculation: {threshold} '
                   "(not needed: the same methodology versions).</p>")
    else:
        out.append(f'<p class="meta">Base year recomputed with the reporting year\'s versions: runs '
                   f'{escape(", ".join(map(str, by["recomputed_runs"])))}. Significance threshold {threshold}: '
                   + ("significant, the base year is recalculated." if by["significant"] else
                      "below the threshold, the original base year is kept.") + "</p><table>")
        out.append(_head(("", False), ("original, t CO2e", True), ("recomputed, t CO2e", True), ("change, t CO2e", True), ("change", True)))
        for b, r in by["recalculation"].items():
            path = ("base_year", "recalculation", b)
            out.append(f"<tr>{_text(basis_label(b))}{_num((*path, 'original_t'), r['original_t'])}"
                       f"{_num((*path, 'recomputed_t'), r['recomputed_t'])}{_num((*path, 'recalculation_t'), r['recalculation_t'])}"
                       f"{_num((*path, 'recalculation_percent'), r['recalculation_percent'], '%')}</tr>")
        out.append("</table>")
    for name in ("only_in_reporting", "only_in_base_year"):
        if by[name]:
            out.append(f'<p class="meta">Methodologies {escape(name.replace("_", " "))}: {escape(", ".join(by[name]))}</p>')
    out.append(f"<p class=\"meta\">Reporting year against the {escape(by['compared_with'])} base year.</p><table>")
    cols: list[tuple[str, bool]] = [("", False)]
    for b in bases:
        sfx = "" if len(bases) == 1 else f" ({b})"
        cols += [(f"base year, t CO2e{sfx}", True), (f"reporting year, t CO2e{sfx}", True), (f"change, t CO2e{sfx}", True), (f"change{sfx}", True)]
    out.append(_head(*cols))
    for r in by["comparison"]["rows"]:
        path = ("base_year", "comparison", "rows", r["key"], "values")
        cells = "".join(
            _num((*path, b, "base_t"), r["values"][b]["base_t"]) + _num((*path, b, "reporting_t"), r["values"][b]["reporting_t"])
            + _num((*path, b, "change_t"), r["values"][b]["change_t"]) + _num((*path, b, "change_percent"), r["values"][b]["change_percent"], "%")
            for b in bases)
        cls = ' class="total"' if r["key"] == "total" else ""
        out.append(f"<tr{cls}>{_text(r['label'])}{cells}</tr>")
    out.append("</table>")
    out.append(_yoy_chart(by, bases))
    return "".join(out)


def to_html(doc: dict) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    bases = doc["bases"]
    approach = APPROACH_TITLES[doc["consolidation_approach"]]
    title = f"GHG inventory — {approach}"
    sections = {s["id"]: s for s in doc["sections"]}
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Entity set <b>{escape(doc["entity_set"]["name"])}</b> '
        f'(sha256 {escape(doc["entity_set"]["sha256"][:12])}…) · runs {escape(", ".join(map(str, doc["runs"])))} · '
        f'dataset {escape(", ".join(doc["datasets"]))} · period {escape(", ".join(map(str, doc["years"])) or "—")}</p>',
        f'<p class="meta">GHG Protocol Corporate Standard; organisational boundary: {escape(approach)}. '
        f"Generated by ccf {escape(doc['engine_version'])}. Unit: {escape(doc['unit'])}.</p>",
        '<div class="totals">',
    ]
    for b in bases:
        body.append(f'<div class="total"><div class="unit">Total, {escape(basis_label(b))}</div>'
                    f'<div class="value" data-figure="{_fig(("totals", b, "co2e_t"))}">{escape(grouped(doc["totals"][b]["co2e_t"]))}</div></div>')
    body.append("</div>")
    body.append(_section_chart(sections["category"], bases, "By scope and category, t CO2e"))
    for s in doc["sections"]:
        body.append(_section_table(s, bases, ("sections", s["id"])))
        if s["id"] == "entity":
            body.append(_section_chart(s, bases, "By entity (consolidated), t CO2e"))
    body.append(_section_table(doc["outside_scopes"], bases, ("outside_scopes",)))
    if not doc["outside_scopes"]["rows"]:
        body.append('<p class="note">No result row of these runs is labelled biogenic.</p>')
    body.append(_coverage(doc["coverage"]))
    body.append(_unallocated(doc.get("unallocated_instruments") or []))
    body.append(_tiers(doc.get("tiers") or []))
    body.append(_intensities(doc.get("intensities") or [], bases))
    body.append(_pcaf(doc.get("pcaf")))
    body.append(_data_quality(doc["data_quality"], bases))
    if doc["base_year"]:
        body.append(_base_year(doc["base_year"], bases))
    body.append("<h2>Methodologies</h2><table>" + _head(("run", True), ("dataset", False), ("methodology", False), ("version", False),
                ("scope", True), ("category", True), ("method", False), ("factor set", False), ("GWP", False)))
    for m in doc["methodologies"]:
        body.append("<tr>" + "".join(_text(m[k]) for k in ("run_id", "dataset", "methodology", "version", "scope", "category",
                                                            "method", "factor_set", "gwp")) + "</tr>")
    body.append("</table>")
    for m in doc["methodologies"]:  # an edition for another period than the data's (--other-edition)
        if m["factor_edition"]["fallback"]:
            body.append(f'<p class="note">Factor edition fallback, {escape(m["methodology"])}@{escape(m["version"])}: '
                        f'{escape(m["factor_edition"]["fallback"])}</p>')
    body.append(f'<h2>Rounding</h2><p class="note">{escape(doc["rounding_rule"])}</p>')
    return page(title, body, CSS)
