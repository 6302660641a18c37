"""The report document: an Inventory (and base year) as plain data with every figure rounded once.

Every output format renders this one document: JSON prints it, CSV and the terminal table and
HTML lay it out. So the formats carry the same figures by construction; tests check it anyway,
through a real browser for HTML.

Each figure appears twice: exact (``*_kg``, decimal strings as ``ccf run --json`` prints them)
and displayed (``*_t``, ``*percent``, fixed decimals, rounded by ``rounding.py``). ``figures``
walks the document and yields the displayed ones with a stable path; the HTML report tags each
figure's element with that path (``data-figure``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterator

from ccf.engine import __version__ as ENGINE_VERSION
from ccf.engine.inventory.intensities import Denominator, intensities_document
from ccf.engine.inventory.inventory import ALL, BaseYear, Inventory, Section
from ccf.engine.inventory.pcaf import pcaf_document
from ccf.engine.inventory.quality import NOT_SCORED, SCORES, QualityRow, not_scored_share, weighted_data_quality
from ccf.engine.inventory.rounding import (
    PERCENT_PLACES,
    exact_difference,
    fixed,
    percent,
    round_fraction,
    rounding_line,
    tonnes,
)
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import EXACT, exact_sum, plain

UNIT = "t CO2e"
ROUNDING_RULE = (
    "Figures in t CO2e are rounded half away from zero to 0.001 t (the whole kg); percentages to 0.1, "
    "half away from zero, from exact ratios. Each figure is the rounding of its own exact value; where the "
    "displayed rows of a table do not add up to its displayed total, a 'rounding' line shows the difference. "
    "Exact values are given in kg (co2e_kg)."
)
APPROACH_TITLES = {
    "equity-share": "equity share approach",
    "financial-control": "financial control approach",
    "operational-control": "operational control approach",
}


class InvariantError(CcfError, AssertionError):
    """A report whose parts do not add up exactly (a bug, never a user error): a ``CcfError``, so
    the command line reports it with exit code 1 rather than a traceback; still an
    ``AssertionError`` for what it asserts."""


DATA_QUALITY_TITLE = "Data quality score: kg CO2e by score, 1 (best) to 5 (poorest), and the emissions-weighted score"
SCORE_PLACES = Decimal("0.01")
TIERS_TITLE = ("Tier and source: Scope 1, 2 and 3 category 3 results by methodology, rule (the tier) and factor set "
               "edition or instrument (the source)")


def basis_label(basis: str) -> str:
    return "t CO2e" if basis == ALL else f"t CO2e, Scope 2 {basis}"


def _t(kg: Decimal | None) -> str | None:
    return None if kg is None else fixed(tonnes(kg))


def _kg(kg: Decimal | None) -> str | None:
    return None if kg is None else plain(kg)


def _pct(value: Decimal | None) -> str | None:
    return fixed(value)


def _share_percent(share: Decimal) -> str:
    """An effective share (exact, an input product) as an exact percentage: 0.24 -> '24'."""
    return plain(share.scaleb(2))


def section_document(section: Section, bases: tuple[str, ...], totals: dict[str, Decimal] | Any) -> dict:
    """One section as plain data: rows, total and rounding line per basis; checks the rows add
    up exactly (public: the rounding law is tested on it directly)."""
    rows_out = []
    for row in section.rows:
        values: dict[str, dict[str, Any]] = {}
        for b in bases:
            kg = row.co2e_kg.get(b, Decimal(0))
            v: dict[str, Any] = {"co2e_kg": _kg(kg), "co2e_t": _t(kg)}
            if section.percent:
                v["percent"] = _pct(percent(kg, totals[b]))
            if "gas_kg" in row.extra:
                gas_kg = row.extra["gas_kg"].get(b)  # type: ignore[attr-defined]
                v["gas_kg"], v["gas_t"] = _kg(gas_kg), _t(gas_kg)
            if "gross_kg" in row.extra:
                gross = row.extra["gross_kg"].get(b, Decimal(0))  # type: ignore[attr-defined]
                v["gross_kg"], v["gross_t"] = _kg(gross), _t(gross)
            values[b] = v
        out: dict[str, Any] = {"key": row.key, "label": row.label, "values": values}
        if section.id == "entity":
            x = row.extra
            out.update({
                "parent": x["parent"], "country": x["country"], "depth": x["depth"],
                "share_percent": _share_percent(x["share"]),  # type: ignore[arg-type]
                "shares_percent": {a: _share_percent(s) for a, s in x["shares"].items()},  # type: ignore[attr-defined]
                "activity_rows": x["activity_rows"],
            })
        rows_out.append(out)
    total: dict[str, Any] = {}
    rounding: dict[str, Any] = {}
    for b in bases:
        exact = exact_sum(r.co2e_kg.get(b, Decimal(0)) for r in section.rows)
        if exact != totals[b]:
            raise InvariantError(f"section {section.id}: rows add up to {exact} kg, the total is {totals[b]} kg ({b})")
        total[b] = {"co2e_kg": _kg(totals[b]), "co2e_t": _t(totals[b])}
        rounding[b] = {"co2e_t": fixed(rounding_line(tonnes(totals[b]), (tonnes(r.co2e_kg.get(b, Decimal(0))) for r in section.rows)))}
        if section.percent:
            shown = [percent(r.co2e_kg.get(b, Decimal(0)), totals[b]) for r in section.rows]
            whole = Decimal(100).quantize(PERCENT_PLACES) if totals[b] != 0 else None
            total[b]["percent"] = _pct(whole)
            rounding[b]["percent"] = _pct(None if whole is None else rounding_line(whole, (s for s in shown if s is not None)))
    return {"id": section.id, "title": section.title, "rows": rows_out, "total": total, "rounding": rounding}


def _coverage(inv: Inventory) -> dict:
    def shares(activity_rows: int, unmatched: int, rejected: int, unknown: int) -> dict:
        return {
            "unmatched_percent": _pct(percent(Decimal(unmatched), Decimal(activity_rows))),
            "rejected_percent": _pct(percent(Decimal(rejected), Decimal(activity_rows))),
            "unknown_entity_percent": _pct(percent(Decimal(unknown), Decimal(activity_rows))),
        }

    rows = []
    for m in inv.methodologies:
        rows.append({
            "key": f"{m.run_id}:{m.methodology_id}", "run_id": m.run_id, "dataset": m.dataset,
            "methodology": m.methodology_id, "version": m.version, "scope": m.scope, "category": m.category,
            "method": m.method, "factor_set": m.factor_set, "gwp": m.gwp,
            "activity_rows": m.activity_rows, "rows_result": m.rows_result, "rows_excluded": m.rows_excluded,
            "rows_unmatched": m.rows_unmatched, "rows_rejected": m.rows_rejected,
            "rows_unknown_entity": m.rows_unknown_entity,
            **shares(m.activity_rows, m.rows_unmatched, m.rows_rejected, m.rows_unknown_entity),
            "unknown_entity_kg": _kg(m.unknown_entity_kg), "unknown_entity_t": _t(m.unknown_entity_kg),
        })
    n = {k: sum(getattr(m, k) for m in inv.methodologies) for k in (
        "activity_rows", "rows_result", "rows_excluded", "rows_unmatched", "rows_rejected", "rows_unknown_entity")}
    unknown_kg = exact_sum(m.unknown_entity_kg for m in inv.methodologies)
    total = {**n, **shares(n["activity_rows"], n["rows_unmatched"], n["rows_rejected"], n["rows_unknown_entity"]),
             "unknown_entity_kg": _kg(unknown_kg), "unknown_entity_t": _t(unknown_kg)}
    unknown = [
        {"key": f"{u.run_id}:{u.methodology_id}:{u.entity}", "run_id": u.run_id, "methodology": u.methodology_id,
         "entity": u.entity, "activity_rows": u.activity_rows, "gross_kg": _kg(u.gross_kg), "gross_t": _t(u.gross_kg)}
        for u in inv.unknown_entities
    ]
    return {"methodologies": rows, "total": total, "unknown_entities": unknown}


def _quality(rows: tuple[QualityRow, ...], bases: tuple[str, ...], totals: dict[str, Decimal]) -> dict:
    """The data-quality mix of each scope, Scope 3 category and the total, per basis: kg CO2e and
    share by score and not scored, the weighted score (two decimals, from the exact mean) and, to
    recompute it exactly, the scored kg CO2e and Σ score × kg CO2e."""
    out = []
    for r in rows:
        values: dict[str, dict[str, Any]] = {}
        for b in bases:
            mix = r.co2e_kg.get(b, {})
            total = exact_sum(mix.values())
            if r.key == "total" and total != totals[b]:
                raise InvariantError(f"the data-quality mix adds up to {total} kg, the total is {totals[b]} kg ({b})")
            v: dict[str, Any] = {}
            for score in SCORES:
                kg = mix.get(score, Decimal(0))
                v[f"score{score}_kg"], v[f"score{score}_t"] = _kg(kg), _t(kg)
                v[f"score{score}_percent"] = _pct(percent(kg, total))
            kg, share = mix.get(NOT_SCORED, Decimal(0)), not_scored_share(mix)
            v["not_scored_kg"], v["not_scored_t"] = _kg(kg), _t(kg)
            v["not_scored_percent"] = _fraction_pct(None if share is None else share * 100)
            scored = [(s, kg) for s, kg in mix.items() if s is not NOT_SCORED]
            v["scored_kg"] = _kg(exact_sum(kg for _, kg in scored))
            v["score_times_kg"] = _kg(exact_sum(EXACT.multiply(kg, Decimal(s)) for s, kg in scored))
            weighted = weighted_data_quality(mix)
            v["weighted_score"] = None if weighted is None else fixed(round_fraction(weighted, SCORE_PLACES))
            values[b] = v
        out.append({"key": r.key, "label": r.label, "values": values})
    return {"title": DATA_QUALITY_TITLE, "rows": out}


def _fraction_pct(x: Fraction | None) -> str | None:
    return None if x is None else fixed(round_fraction(x, PERCENT_PLACES))


def _scope_kg(inv: Inventory, basis: str) -> dict[str, Decimal]:
    return {r.key: r.co2e_kg.get(basis, Decimal(0)) for r in inv.section("scope").rows}


def _base_year(reporting: Inventory, by: BaseYear) -> dict:
    base = by.compared
    rows = []
    keys = sorted({r.key for r in reporting.section("scope").rows} | {r.key for r in base.section("scope").rows})
    labels = {r.key: r.label for r in (*reporting.section("scope").rows, *base.section("scope").rows)}
    for key in [*keys, "total"]:
        values = {}
        for b in reporting.bases:
            if b not in base.bases:
                values[b] = {"base_kg": None, "base_t": None, "reporting_kg": None, "reporting_t": None,
                             "change_kg": None, "change_t": None, "change_percent": None}
                continue
            if key == "total":
                r_kg, b_kg = reporting.totals[b], base.totals[b]
            else:
                r_kg, b_kg = _scope_kg(reporting, b).get(key, Decimal(0)), _scope_kg(base, b).get(key, Decimal(0))
            change = exact_difference(r_kg, b_kg)
            values[b] = {
                "base_kg": _kg(b_kg), "base_t": _t(b_kg), "reporting_kg": _kg(r_kg), "reporting_t": _t(r_kg),
                "change_kg": _kg(change), "change_t": _t(change), "change_percent": _pct(percent(change, b_kg)),
            }
        rows.append({"key": key, "label": labels.get(key, "Total"), "values": values})
    recalculation = {}
    if by.recomputed is not None:
        for b in by.original.bases:
            diff = by.recalculation_kg.get(b)
            recomputed = by.recomputed.totals.get(b)
            recalculation[b] = {
                "original_kg": _kg(by.original.totals[b]), "original_t": _t(by.original.totals[b]),
                "recomputed_kg": _kg(recomputed), "recomputed_t": _t(recomputed),
                "recalculation_kg": _kg(diff), "recalculation_t": _t(diff),
                "recalculation_percent": _fraction_pct(by.recalculation_percent.get(b)),
            }
    return {
        "runs": list(by.original.runs), "datasets": list(by.original.datasets), "years": list(by.original.years),
        "recomputed_runs": list(by.recomputed.runs) if by.recomputed else [],
        "methodology_versions": "different" if by.version_changes else "same",
        "version_changes": [{"methodology": m, "base_year": b, "reporting": r} for m, b, r in by.version_changes],
        "only_in_reporting": list(by.only_in_reporting), "only_in_base_year": list(by.only_in_base_year),
        "significance_percent": plain(by.significance_percent),
        "recalculation": recalculation,
        "significant": by.significant,
        "compared_with": "recomputed" if by.compared is by.recomputed else "original",
        "comparison": {"rows": rows},
    }


def _scopes_kg(inv: Inventory) -> dict[str, dict[str, Decimal]]:
    """basis -> scope key -> exact kg, from the 'scope' section."""
    return {b: {r.key: r.co2e_kg.get(b, Decimal(0)) for r in inv.section("scope").rows} for b in inv.bases}


def report_document(inv: Inventory, base_year: BaseYear | None = None, denominators: tuple[Denominator, ...] = ()) -> dict:
    """The whole report as plain data (JSON-ready: strings, ints, booleans, None)."""
    totals = dict(inv.totals)
    sections = [section_document(s, inv.bases, totals) for s in inv.sections]
    outside_totals = {b: exact_sum(r.co2e_kg.get(b, Decimal(0)) for r in inv.outside_scopes.rows) for b in inv.bases}
    return {
        "report": "ccf GHG inventory",
        "engine_version": ENGINE_VERSION,
        "consolidation_approach": inv.approach,
        "entity_set": {k: inv.entity_set[k] for k in ("name", "source_file", "sha256")},
        "runs": list(inv.runs),
        "datasets": list(inv.datasets),
        "years": list(inv.years),
        "unit": UNIT,
        "rounding_rule": ROUNDING_RULE,
        "bases": list(inv.bases),
        "methodologies": [
            {"run_id": m.run_id, "dataset": m.dataset, "methodology": m.methodology_id, "version": m.version,
             "content_hash": m.content_hash, "scope": m.scope, "category": m.category, "method": m.method,
             "factor_set": m.factor_set, "gwp": m.gwp,
             "factor_edition": {"set": m.factor_set_named or m.factor_set, "edition": m.factor_set,
                                "period": m.edition_period, "fallback": m.edition_fallback}}
            for m in inv.methodologies
        ],
        "totals": {b: {"co2e_kg": _kg(totals[b]), "co2e_t": _t(totals[b])} for b in inv.bases},
        "sections": sections,
        "outside_scopes": section_document(inv.outside_scopes, inv.bases, outside_totals),
        "coverage": _coverage(inv),
        "unallocated_instruments": [  # exact quantities (not rounded figures): instrument volume, e.g. MWh
            {"key": f"{u.run_id}:{u.methodology_id}:{u.instrument_id}", "run_id": u.run_id, "methodology": u.methodology_id,
             "instrument": u.instrument_id, "entity": u.entity, "unit": u.unit, "quantity": _exact(u.quantity),
             "unallocated": _exact(u.unallocated), "reason_code": u.reason_code, "reason": u.reason}
            for u in inv.unallocated_instruments
        ],
        "tiers": [  # Scope 1, 2, 3.3: the tier (rule) and source (factor set edition, instrument) of each methodology's results
            {"key": f"{t.methodology_id}@{t.version}:{t.rule_id}:{t.factor_set}", "scope": t.scope, "methodology": t.methodology_id, "version": t.version, "rule": t.rule_id,
             "factor_set": t.factor_set, "activity_rows": t.activity_rows, "co2e_kg": _kg(t.co2e_kg), "co2e_t": _t(t.co2e_kg)}
            for t in inv.tiers
        ],
        "data_quality": _quality(inv.data_quality, inv.bases, totals),
        "base_year": _base_year(inv, base_year) if base_year else None,
        "intensities": intensities_document(list(denominators), list(inv.bases), totals, _scopes_kg(inv)),
        "pcaf": pcaf_document(list(inv.financed)),
    }


def _exact(d: Decimal) -> str:
    """An exact amount as plain decimal text, without trailing zeros (not ``normalize()``, which
    rounds to the context's 28 digits)."""
    return plain(d)


def to_json(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


# --- figures: the displayed numbers, each with a stable path ------------------------------


def is_figure(name: str) -> bool:
    """Whether a document key holds a displayed figure (rather than an exact value or a label)."""
    return (name.endswith("_t") or name.endswith("percent") or name.endswith("_shown") or name.startswith("rows_")
            or name == "activity_rows" or name == "weighted_score")


def figures(doc: dict) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of every displayed figure; list items are addressed by their 'key' or 'id'."""

    def walk(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, (dict, list)):
                    yield from walk(v, (*path, k))
                elif is_figure(k) and not isinstance(v, bool):
                    yield (*path, k), v
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, dict) and ("key" in item or "id" in item):
                    yield from walk(item, (*path, str(item.get("key", item.get("id")))))

    # the entity set's share under every approach is context, not a figure of this report
    for path, value in walk(doc, ()):
        if "shares_percent" not in path:
            yield path, value
