"""Terminal presentation of runs. Rounding happens only here, at the reporting boundary."""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from rich.console import Console
from rich.table import Table

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum, plain
from ccf.engine.inventory.rounding import grouped, round_half_away
from ccf.engine.run import RunReport
from ccf.engine.tiers import TierRow

DISPLAY_PLACES = Decimal("0.001")


def display_kg(d: Decimal) -> str:
    """kg CO2e for display: half away from zero to 3 decimals, thousands separated, at any
    magnitude (it runs after a run has committed, so it must not fail)."""
    return grouped(format(round_half_away(d, DISPLAY_PLACES), "f"))


def print_run(report: RunReport, console: Console | None = None) -> None:
    console = console or Console(width=140, highlight=False)
    t = Table(title=f"run {report.run_id} · dataset {report.dataset}", title_justify="left")
    for col in ("scope", "category", "methodology", "version", "kg CO2e", "rows", "results", "excluded", "unmatched", "rejected"):
        t.add_column(col, justify="right" if col not in ("methodology", "version") else "left")
    for m in sorted(report.methodologies, key=lambda m: (m.scope, m.category or 0, m.methodology_id)):
        r = m.reconciliation
        t.add_row(
            str(m.scope), str(m.category or "-"), m.methodology_id, m.version, display_kg(m.co2e_kg),
            str(r.rows_in), str(r.rows_result), str(r.rows_excluded), str(r.rows_unmatched), str(r.rows_rejected),
        )
    console.print(t)
    bases = report.scope2_by_basis()  # dual reporting: side by side, never added
    counted = [m for m in report.methodologies if m.method != ir.PROJECTED_LIFETIME]  # reported apart, below
    by_scope = {s: exact_sum(m.co2e_kg for m in counted if m.scope == s) for s in {m.scope for m in counted}}
    for scope, total in sorted(by_scope.items()):
        if scope == 2 and bases:
            for basis, kg in bases.items():
                console.print(f"Scope 2 ({basis}): {display_kg(kg)} kg CO2e")
            continue
        console.print(f"Scope {scope}: {display_kg(total)} kg CO2e")
    console.print(f"Total: {display_kg(report.co2e_kg)} kg CO2e  (unrounded: {plain(report.co2e_kg)})"
                  + ("  — Scope 2 location-based; the market-based figure is shown beside it" if bases else ""))
    if report.outside_scopes_kg:
        console.print(f"Outside the scopes (biogenic CO2, not in any total): {display_kg(report.outside_scopes_kg)} kg CO2e")
    if report.projected_lifetime_kg:
        console.print("Projected lifetime emissions of projects financed (reported apart from Scope 3, not in any total): "
                      f"{display_kg(report.projected_lifetime_kg)} kg CO2e")
    for m in report.methodologies:
        if m.by_rule:  # market-based Scope 2: which tier of the hierarchy gave how much
            console.print(f"{m.methodology_id} by tier: " + ", ".join(f"{r} {display_kg(v)}" for r, v in m.by_rule) + " kg CO2e")
        if m.instruments is not None and m.instruments.unallocated:
            i = m.instruments
            reasons = ", ".join(f"{r.replace('_', ' ')} {plain(v)}" for r, v in i.unallocated_by_reason)
            console.print(f"{m.methodology_id}: {plain(i.allocated)} of {plain(i.quantity)} {i.unit} of "
                          f"contractual instruments allocated; unallocated {plain(i.unallocated)} {i.unit} ({reasons})")
    chosen = [f"{m.methodology_id} {m.factor_set}" for m in report.methodologies if m.factor_set_named]
    if chosen:  # the edition of the data's period, for methodologies that name a set
        console.print("Factor editions of the data's period: " + ", ".join(chosen))
    for m in report.methodologies:
        if m.edition_fallback:
            console.print(f"FALLBACK {m.methodology_id}@{m.version}: {m.edition_fallback}")
    balanced = all(m.reconciliation.balanced for m in report.methodologies)
    console.print(
        "Reconciliation: every activity row is a result, an exclusion or an unmatched record"
        + (" — balanced." if balanced else " — NOT BALANCED.")
    )


def print_tiers(rows: Sequence[TierRow], title: str, console: Console | None = None) -> None:
    """Tiered results (engine/tiers.py) per country: each methodology's rule (the tier) and source
    (the factor set edition, or a certificate part's instrument)."""
    console = console or Console(width=160, highlight=False)
    t = Table(title=title, title_justify="left")
    t.add_column("country")
    t.add_column("methodology", overflow="fold", min_width=24)
    for col in ("rule = tier", "source: factor set edition or instrument"):  # read whole, never wrapped
        t.add_column(col, no_wrap=True)
    for col in ("activities", "kg CO2e"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(r.country or "(none)", r.methodology_id, r.rule_id, r.factor_set, str(r.activities), display_kg(r.co2e_kg))
    console.print(t)
