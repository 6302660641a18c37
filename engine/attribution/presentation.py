"""An impact attribution as the terminal shows it (``ccf diff A B --dataset D``) and as its JSON
document (``--json``; the HTML page, engine/attribution_html.py, is drawn from that document).
Amounts in JSON are exact decimal text; on the terminal, kg CO2e as engine/report.py displays them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ccf.dsl.numeric import plain
from ccf.engine.attribution.model import CAUSE_LABELS, CAUSES, Attribution, SideRun
from ccf.engine.report import display_kg


def to_json(att: Attribution) -> dict[str, Any]:
    """The JSON document: every amount an exact decimal string (docs/auditing.md)."""
    return {
        "from": att.a.ref, "to": att.b.ref, "dataset": att.dataset,
        "runs": {"from": _side(att.a), "to": _side(att.b)},
        "total_co2e_kg": {"from": plain(att.total_a), "to": plain(att.total_b), "change": plain(att.change)},
        "causes": [{"cause": c, "label": CAUSE_LABELS[c], "co2e_kg": plain(v), "rows": n} for c, v, n in att.causes],
        "by": {
            dim: [
                {"key": r.key, "from": plain(r.before), "to": plain(r.after), "change": plain(r.change),
                 "causes": {c: plain(v) for c, v in r.causes}}
                for r in rows
            ]
            for dim, rows in att.by.items()
        },
        "outcomes": [{"from": oa, "to": ob, "rows": n} for oa, ob, n in att.outcomes],
        "largest_changes": [
            {"activity_id": r.activity_id, "gas": r.gas, "outcome": {"from": r.outcome_a, "to": r.outcome_b},
             "rule": {"from": r.rule_a, "to": r.rule_b}, "from": _opt(r.before), "to": _opt(r.after),
             "change": plain(r.change), "cause": r.cause, "parts": {c: plain(v) for c, v in r.parts}}
            for r in att.largest
        ],
    }


def _side(s: SideRun) -> dict[str, Any]:
    return {"methodology": s.ref, "run_id": s.run_id, "reused": s.reused, "content_hash": s.content_hash,
            "factor_set": s.factor_set, "gwp": s.gwp}


def render(att: Attribution) -> str:
    """The terminal text: totals, causes, breakdowns, outcomes, the largest changes and how to explain them."""
    from ccf.engine.report import display_kg

    def used(s: SideRun) -> str:
        return f"run {s.run_id} ({'reused' if s.reused else 'new'}; factor set {s.factor_set}, GWP {s.gwp})"

    lines = [
        f"{att.a.ref} → {att.b.ref} on dataset {att.dataset}",
        f"  {att.a.ref}: {used(att.a)}",
        f"  {att.b.ref}: {used(att.b)}",
        "",
        f"total: {display_kg(att.total_a)} → {display_kg(att.total_b)} kg CO2e, change {display_kg(att.change)}"
        f" (unrounded {plain(att.change)})",
        "",
        "change by cause (kg CO2e; activity row × gas pairs):",
    ]
    width = max(len(label) for _, label in CAUSES)
    for c, v, n in att.causes:
        lines.append(f"  {CAUSE_LABELS[c]:<{width}}  {display_kg(v):>18}  {n:>7}")
    lines.append(f"  {'total':<{width}}  {display_kg(att.change):>18}")
    for dim, rows in att.by.items():
        lines += ["", f"by {dim}:"]
        for r in rows:
            parts = ", ".join(f"{c} {display_kg(v)}" for c, v in r.causes) or "no change"
            lines.append(f"  {r.key}: {display_kg(r.before)} → {display_kg(r.after)} ({display_kg(r.change)}: {parts})")
    lines += ["", "activity rows by outcome (from → to):"]
    lines += [f"  {oa} → {ob}: {n}" for oa, ob, n in att.outcomes]
    if att.largest:
        lines += ["", f"largest changes (why a row is what it is: ccf explain {att.b.run_id} ACTIVITY_ID for {att.b.ref}, "
                      f"ccf explain {att.a.run_id} ACTIVITY_ID for {att.a.ref}):"]
        for r in att.largest:
            parts = ", ".join(f"{c} {display_kg(v)}" for c, v in r.parts)
            lines.append(
                f"  {r.activity_id} {r.gas}: {_shown(r.before, r.outcome_a)} → {_shown(r.after, r.outcome_b)}"
                f" ({display_kg(r.change)}: {parts})"
            )
    return "\n".join(lines)


def _opt(d: Decimal | None) -> str | None:
    return None if d is None else plain(d)


def _shown(d: Decimal | None, outcome: str) -> str:
    return display_kg(d) if d is not None else outcome
