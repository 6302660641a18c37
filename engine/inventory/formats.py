"""Terminal table, CSV and JSON renderings of the report document (HTML: ``html.py``).

None of these computes or rounds anything: they lay out the figures of
``presentation.report_document``.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator

from rich.console import Console
from rich.table import Table

from ccf.engine.inventory.presentation import APPROACH_TITLES, DATA_QUALITY_TITLE, TIERS_TITLE, basis_label, to_json
from ccf.engine.inventory.rounding import grouped

FORMATS = ("table", "csv", "json", "html")
CSV_COLUMNS = ("section", "row", "label", "basis", "measure", "value")


def render(doc: dict, fmt: str) -> str:
    """The document in one of FORMATS, as text."""
    if fmt == "json":
        return to_json(doc) + "\n"
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "html":
        from ccf.engine.inventory.html import to_html

        return to_html(doc)
    if fmt == "table":
        console = Console(width=160, file=io.StringIO(), highlight=False, color_system=None)
        print_table(doc, console)
        return console.file.getvalue()  # type: ignore[attr-defined]
    raise ValueError(f"unknown format {fmt!r}")


# --- CSV: one line per value, long format -----------------------------------------------


def csv_rows(doc: dict) -> Iterator[tuple[str, str, str, str, str, Any]]:
    """(section, row, label, basis, measure, value) for every value of the document."""
    for name in ("report", "consolidation_approach", "engine_version", "unit", "rounding_rule"):
        yield "report", name, "", "", "value", doc[name]
    yield "report", "entity_set", doc["entity_set"]["name"], "", "sha256", doc["entity_set"]["sha256"]
    for name in ("runs", "datasets", "years", "bases"):
        yield "report", name, "", "", "value", " ".join(map(str, doc[name]))
    for basis, values in doc["totals"].items():
        for measure, v in values.items():
            yield "total", "total", "Total", basis, measure, v
    for section in [*doc["sections"], doc["outside_scopes"]]:
        sid = section["id"]
        for row in section["rows"]:
            for attr in ("parent", "country", "share_percent", "activity_rows"):
                if attr in row:
                    yield sid, row["key"], row["label"], "", attr, row[attr]
            for basis, values in row["values"].items():
                for measure, v in values.items():
                    yield sid, row["key"], row["label"], basis, measure, v
        for which, label in (("total", "Total"), ("rounding", "Rounding difference")):
            for basis, values in section[which].items():
                for measure, v in values.items():
                    yield sid, which, label, basis, measure, v
    cov = doc["coverage"]
    for row in [*cov["methodologies"], {**cov["total"], "key": "total", "methodology": "Total"}]:
        for measure, v in row.items():
            if measure not in ("key", "methodology"):
                yield "coverage", row["key"], row["methodology"], "", measure, v
    for row in cov["unknown_entities"]:
        for measure, v in row.items():
            if measure not in ("key", "entity"):
                yield "unknown_entities", row["key"], row["entity"], "", measure, v
    for row in doc.get("tiers") or []:
        for measure, v in row.items():
            if measure not in ("key", "methodology"):
                yield "tiers", row["key"], row["methodology"], "", measure, v
    for d in doc.get("intensities") or []:
        yield "intensities", d["key"], d["per"], "", "denominator", f"{d['amount']} {d['unit']}".strip()
        for basis, values in d["values"].items():
            for scope, v in [("total", values["total"]), *values["scopes"].items()]:
                for measure, x in v.items():
                    yield "intensities", f"{d['key']}:{scope}", d["per"], basis, measure, x
    pcaf = doc.get("pcaf")
    if pcaf:
        for row in pcaf["financed_emissions"]:
            for measure in ("co2e_kg", "co2e_t"):
                yield "pcaf_financed_emissions", row["key"], f"{row['asset_class']}, Scope {row['scope']}", "", measure, row[measure]
        for name in ("financed_emissions_total", "without_outstanding_amount"):
            for measure, v in pcaf[name].items():
                yield "pcaf_financed_emissions", name, name.replace("_", " "), "", measure, v
        for row in pcaf["economic_emission_intensity"]:
            for measure in ("outstanding", "co2e_kg", "co2e_t", "intensity_exact", "intensity_t"):
                yield "pcaf_economic_emission_intensity", row["key"], row["per"], "", measure, row[measure]
        for row in pcaf["waci"]:
            for measure in ("holdings", "waci_exact", "waci_t"):
                yield "pcaf_waci", row["key"], row["per"], "", measure, row[measure]
        dq = pcaf["weighted_data_quality"]
        yield "pcaf", "weighted_data_quality", "by financed emissions", "", "weighted_score", \
            dq["by_financed_emissions"]["weighted_score"]
        for row in dq["by_outstanding_amount"]:
            for measure in ("weighted_score", "outstanding_scored", "outstanding_not_scored"):
                yield "pcaf_weighted_data_quality", row["key"], f"by outstanding amount, {row['currency']}", "", measure, row[measure]
    for row in doc["data_quality"]["rows"]:
        for basis, values in row["values"].items():
            for measure, v in values.items():
                yield "data_quality", row["key"], row["label"], basis, measure, v
    by = doc["base_year"]
    if by:
        for name in ("runs", "recomputed_runs", "datasets", "years"):
            yield "base_year", name, "", "", "value", " ".join(map(str, by[name]))
        for name in ("methodology_versions", "significance_percent", "significant", "compared_with"):
            yield "base_year", name, "", "", "value", by[name]
        for basis, values in by["recalculation"].items():
            for measure, v in values.items():
                yield "base_year_recalculation", "total", "Total", basis, measure, v
        for row in by["comparison"]["rows"]:
            for basis, values in row["values"].items():
                for measure, v in values.items():
                    yield "base_year", row["key"], row["label"], basis, measure, v


def to_csv(doc: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for row in csv_rows(doc):
        value = row[-1]
        w.writerow([*row[:-1], "" if value is None else (str(value).lower() if isinstance(value, bool) else value)])
    return out.getvalue()


# --- terminal --------------------------------------------------------------------------


def _t(text: str | None) -> str:
    return grouped(text)


def _pct(text: str | None) -> str:
    return "—" if text is None else f"{text}%"


def print_table(doc: dict, console: Console | None = None) -> None:
    """The report as rich tables (the same figures as the JSON and HTML)."""
    console = console or Console(width=160, highlight=False)
    bases = doc["bases"]
    console.print(f"GHG inventory — {APPROACH_TITLES[doc['consolidation_approach']]}, entity set "
                  f"{doc['entity_set']['name']}, runs {', '.join(map(str, doc['runs']))} "
                  f"(dataset {', '.join(doc['datasets'])}; {', '.join(map(str, doc['years'])) or 'no results'})")
    for b in bases:
        console.print(f"Total ({basis_label(b)}): {_t(doc['totals'][b]['co2e_t'])}")
    for section in doc["sections"]:
        _print_section(console, section, bases)
    _print_section(console, doc["outside_scopes"], bases)
    _print_coverage(console, doc["coverage"])
    _print_unallocated(console, doc.get("unallocated_instruments") or [])
    _print_tiers(console, doc.get("tiers") or [])
    _print_intensities(console, doc.get("intensities") or [], bases)
    if doc.get("pcaf"):
        _print_pcaf(console, doc["pcaf"])
    _print_data_quality(console, doc["data_quality"], bases)
    if doc["base_year"]:
        _print_base_year(console, doc["base_year"], bases)
    _print_editions(console, doc["methodologies"])
    console.print(f"Rounding: {doc['rounding_rule']}")


def _print_data_quality(console: Console, dq: dict, bases: list[str]) -> None:
    """Per scope and category: the weighted score, the share not scored, and the share of each score."""
    t = Table(title=DATA_QUALITY_TITLE, title_justify="left")
    t.add_column("")
    sfx = lambda b: "" if len(bases) == 1 else f" ({b})"  # noqa: E731
    for b in bases:
        t.add_column("weighted score" + sfx(b), justify="right")
        t.add_column("not scored" + sfx(b), justify="right")
        t.add_column("share by score 1 / 2 / 3 / 4 / 5" + sfx(b), justify="right")
    for r in dq["rows"]:
        cells = [r["label"]]
        for b in bases:
            v = r["values"][b]
            cells += [v["weighted_score"] or "—", _pct(v["not_scored_percent"]),
                      " / ".join(_pct(v[f"score{s}_percent"]) for s in range(1, 6))]
        t.add_row(*cells)
    console.print(t)


def _print_editions(console: Console, methodologies: list[dict]) -> None:
    """Each methodology's factor edition, and every fallback to an edition for another period."""
    console.print("Factor editions: " + "; ".join(
        f"{m['methodology']}@{m['version']} {m['factor_edition']['edition']}"
        + (f" ({m['factor_edition']['set']}, {m['factor_edition']['period']})"
           if m["factor_edition"]["set"] != m["factor_edition"]["edition"] else "")
        for m in methodologies))
    for m in methodologies:
        if m["factor_edition"]["fallback"]:
            console.print(f"  FALLBACK {m['methodology']}@{m['version']}: {m['factor_edition']['fallback']}")


def _print_section(console: Console, section: dict, bases: list[str]) -> None:
    t = Table(title=section["title"], title_justify="left")
    entity = section["id"] == "entity"
    has_gas = any("gas_t" in v for r in section["rows"] for v in r["values"].values())
    has_pct = any("percent" in v for v in section["total"].values())
    if entity:
        for col in ("entity", "name", "share", "activity rows"):
            t.add_column(col, justify="right" if col in ("share", "activity rows") else "left")
    else:
        t.add_column("")
    for b in bases:
        if entity:
            t.add_column(f"gross at 100% ({b})" if len(bases) > 1 else "gross at 100%", justify="right")
        if has_gas:
            t.add_column(f"t gas ({b})" if len(bases) > 1 else "t gas", justify="right")
        t.add_column(basis_label(b), justify="right")
        if has_pct:
            t.add_column("%" if len(bases) == 1 else f"% ({b})", justify="right")

    def cells(values: dict[str, dict], row: dict | None) -> list[str]:
        out = []
        for b in bases:
            v = values[b]
            if entity:
                out.append(_t(v.get("gross_t")) if row is not None else "")
            if has_gas:
                out.append(_t(v.get("gas_t")) if row is not None else "")
            out.append(_t(v.get("co2e_t")) if "co2e_t" in v else "")
            if has_pct:
                out.append(_pct(v.get("percent")))
        return out

    for row in section["rows"]:
        lead = (["  " * row["depth"] + row["key"], row["label"], f"{row['share_percent']}%", str(row["activity_rows"])]
                if entity else [row["label"]])
        t.add_row(*lead, *cells(row["values"], row))
    pad = ["", "", ""] if entity else []
    if any(v.get("co2e_t") not in (None, "0.000") or (v.get("percent") not in (None, "0.0")) for v in section["rounding"].values()):
        t.add_row("Rounding", *pad, *cells(section["rounding"], None))
    t.add_row("Total", *pad, *cells(section["total"], None), style="bold")
    console.print(t)


def _print_coverage(console: Console, cov: dict) -> None:
    t = Table(title="Coverage: activity rows per methodology (unknown = entity not in the entity set)", title_justify="left")
    t.add_column("run", justify="right")
    t.add_column("methodology", overflow="fold", min_width=24)  # ids are long; never cut them
    for col in ("rows", "results", "excluded", "unmatched", "rejected", "unknown", "unmatched %", "rejected %",
                "unknown %", "unknown t CO2e"):
        t.add_column(col, justify="right")
    for r in [*cov["methodologies"], {**cov["total"], "run_id": "", "methodology": "Total", "version": None}]:
        name = r["methodology"] + (f"@{r['version']}" if r["version"] else "")
        t.add_row(str(r["run_id"]), name, str(r["activity_rows"]), str(r["rows_result"]),
                  str(r["rows_excluded"]), str(r["rows_unmatched"]), str(r["rows_rejected"]),
                  str(r["rows_unknown_entity"]), _pct(r["unmatched_percent"]), _pct(r["rejected_percent"]),
                  _pct(r["unknown_entity_percent"]), _t(r["unknown_entity_t"]))
    console.print(t)
    if cov["unknown_entities"]:
        u = Table(title="Unknown entities: result rows whose entity is not in the entity set (not in any total)",
                  title_justify="left")
        for col in ("run", "methodology", "entity", "activity rows", "t CO2e at 100%"):
            u.add_column(col, justify="right" if col in ("activity rows", "t CO2e at 100%") else "left")
        for r in cov["unknown_entities"]:
            u.add_row(str(r["run_id"]), r["methodology"], r["entity"], str(r["activity_rows"]), _t(r["gross_t"]))
        console.print(u)


def _print_tiers(console: Console, rows: list[dict]) -> None:
    """Scope 1, 2 and 3 category 3: each methodology's results by rule (the tier) and source (factor set edition or instrument)."""
    if not rows:
        return
    t = Table(title=TIERS_TITLE, title_justify="left")
    t.add_column("scope", justify="right")
    t.add_column("methodology", overflow="fold", min_width=24)
    for col in ("rule = tier", "source"):  # read whole, never wrapped
        t.add_column(col, no_wrap=True)
    for col in ("activity rows", "t CO2e"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(str(r["scope"]), f"{r['methodology']}@{r['version']}", r["rule"], r["factor_set"],
                  str(r["activity_rows"]), _t(r["co2e_t"]))
    console.print(t)


def _print_intensities(console: Console, rows: list[dict], bases: list[str]) -> None:
    """Emissions per each denominator the organisation gave, total and per scope."""
    for d in rows:
        amount = f"{grouped(d['amount'])} {d['unit']}".rstrip()
        t = Table(title=f"Intensity: {d['per']} ({d['name']} {amount})", title_justify="left")
        t.add_column("")
        for b in bases:
            t.add_column(d["per"] if len(bases) == 1 else f"{d['per']}, Scope 2 {b}", justify="right")
        scopes = sorted({s for b in bases for s in d["values"][b]["scopes"]})
        for s in scopes:
            t.add_row(s.replace("scope", "Scope "), *(_t(d["values"][b]["scopes"].get(s, {}).get("intensity_shown")) for b in bases))
        t.add_row("Total", *(_t(d["values"][b]["total"]["intensity_shown"]) for b in bases), style="bold")
        console.print(t)
        console.print(f"  {d['rounding']}")


def _print_pcaf(console: Console, pcaf: dict) -> None:
    """PCAF's portfolio metrics of category 15."""
    t = Table(title=f"{pcaf['title']}: financed emissions by asset class and the investee's scope", title_justify="left")
    for col in ("asset class", "scope", "t CO2e"):
        t.add_column(col, justify="right" if col == "t CO2e" else "left")
    for r in pcaf["financed_emissions"]:
        t.add_row(r["asset_class"], r["scope"], _t(r["co2e_t"]))
    t.add_row("Total", "", _t(pcaf["financed_emissions_total"]["co2e_t"]), style="bold")
    console.print(t)
    e = Table(title="Economic emission intensity (financed emissions / outstanding amount)", title_justify="left")
    for col in ("currency", "outstanding", "t CO2e", "intensity", "per"):
        e.add_column(col, justify="left" if col in ("currency", "per") else "right")
    for r in pcaf["economic_emission_intensity"]:
        e.add_row(r["currency"], grouped(r["outstanding"]), _t(r["co2e_t"]), _t(r["intensity_t"]), r["per"])
    console.print(e)
    console.print(f"  financed emissions without an outstanding amount and currency (not in the intensity): "
                  f"{_t(pcaf['without_outstanding_amount']['co2e_t'])} t CO2e")
    w = Table(title="Weighted average carbon intensity (WACI)", title_justify="left")
    for col in ("currency", "holdings", "WACI", "per"):
        w.add_column(col, justify="left" if col in ("currency", "per") else "right")
    for r in pcaf["waci"]:
        w.add_row(r["currency"], str(r["holdings"]), _t(r["waci_t"]), r["per"])
    console.print(w)
    dq = pcaf["weighted_data_quality"]
    console.print(f"  weighted data-quality score by financed emissions: {_or_none(dq['by_financed_emissions']['weighted_score'])}")
    for row in dq["by_outstanding_amount"]:
        console.print(f"  weighted data-quality score by outstanding amount ({row['currency']}): {_or_none(row['weighted_score'])}"
                      f" (outstanding not scored: {row['outstanding_not_scored']})")


def _or_none(score: str | None) -> str:
    return "not scored" if score is None else score


def _print_unallocated(console: Console, rows: list[dict]) -> None:
    """Market-based Scope 2: contractual instrument volume not allocated to consumption."""
    if not rows:
        return
    t = Table(title="Contractual instruments not allocated to consumption (not in any total)", title_justify="left")
    for col in ("run", "methodology", "instrument", "entity", "quantity", "unallocated", "unit", "reason"):
        t.add_column(col, justify="right" if col in ("run", "quantity", "unallocated") else "left")
    for r in rows:
        t.add_row(str(r["run_id"]), r["methodology"], r["instrument"], r["entity"], r["quantity"], r["unallocated"],
                  r["unit"], r["reason"])
    console.print(t)


def _print_base_year(console: Console, by: dict, bases: list[str]) -> None:
    years = ", ".join(map(str, by["years"]))
    console.print(f"Base year: runs {', '.join(map(str, by['runs']))} ({years}); methodology versions {by['methodology_versions']}")
    for c in by["version_changes"]:
        console.print(f"  {c['methodology']}: {c['base_year']} in the base year, {c['reporting']} in the reporting year")
    if by["recalculation"]:
        for b, r in by["recalculation"].items():
            console.print(
                f"  recalculation ({b}): original {_t(r['original_t'])} t, recomputed with the reporting versions "
                f"{_t(r['recomputed_t'])} t, change {_t(r['recalculation_t'])} t ({_pct(r['recalculation_percent'])}); "
                f"threshold {by['significance_percent']}%")
        console.print("  significant: the base year is recalculated" if by["significant"]
                      else "  below the threshold: the original base year is kept")
    for name in ("only_in_reporting", "only_in_base_year"):
        if by[name]:
            console.print(f"  methodologies {name.replace('_', ' ')}: {', '.join(by[name])}")
    t = Table(title=f"Reporting year against the {by['compared_with']} base year", title_justify="left")
    t.add_column("")
    for b in bases:
        suffix = "" if len(bases) == 1 else f" ({b})"
        for col in ("base year t", "reporting t", "change t", "change %"):
            t.add_column(col + suffix, justify="right")
    for row in by["comparison"]["rows"]:
        cells = []
        for b in bases:
            v = row["values"][b]
            cells += [_t(v["base_t"]), _t(v["reporting_t"]), _t(v["change_t"]), _pct(v["change_percent"])]
        t.add_row(row["label"], *cells, style="bold" if row["key"] == "total" else None)
    console.print(t)
