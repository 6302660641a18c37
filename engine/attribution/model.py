"""What an impact attribution says: the two runs that stand for versions A and B, the change in
the dataset's totals from A to B by cause, the breakdowns, the activity rows by outcome and the
largest single changes. Built by attribution/queries.py, shown by attribution/presentation.py
(text, JSON) and engine/attribution_html.py (the waterfall page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import exact_sum

# (cause, label), in the order reports list them
CAUSES: tuple[tuple[str, str], ...] = (
    ("factor_value_changed", "factor value changed (same factor, new value)"),
    ("factor_changed", "a different factor matched"),
    ("formula_changed", "formula changed (rule expression or rule choice)"),
    ("gwp_set_changed", "GWP set changed"),
    ("newly_matched", "newly matched"),
    ("newly_unmatched", "newly unmatched"),
    ("newly_included", "newly included (no longer excluded)"),
    ("newly_excluded", "newly excluded"),
    ("other", "other (not explained by the above)"),
)
CAUSE_LABELS = dict(CAUSES)
UNCHANGED = "unchanged"


class AttributionError(CcfError):
    """Two versions whose results cannot be paired row by row."""


@dataclass(frozen=True)
class SideRun:
    """The run that stands for one version: its id, whether it existed before, its manifest."""

    ref: str
    run_id: int
    reused: bool
    content_hash: str
    factor_set: str
    gwp: str
    scope: int
    category: int | None


@dataclass(frozen=True)
class Breakdown:
    """One row of a breakdown: A's figure, B's figure and the change by cause (non-zero only)."""

    key: str
    before: Decimal
    after: Decimal
    causes: tuple[tuple[str, Decimal], ...]

    @property
    def change(self) -> Decimal:
        return exact_sum([self.after, -self.before])


@dataclass(frozen=True)
class ChangedRow:
    activity_id: str
    gas: str
    outcome_a: str
    outcome_b: str
    rule_a: str | None
    rule_b: str | None
    before: Decimal | None
    after: Decimal | None
    cause: str
    parts: tuple[tuple[str, Decimal], ...]

    @property
    def change(self) -> Decimal:
        return exact_sum([self.after or Decimal(0), -(self.before or Decimal(0))])


@dataclass(frozen=True)
class Attribution:
    """The change in a dataset's totals from version A to version B, attributed to causes."""

    dataset: str
    a: SideRun
    b: SideRun
    total_a: Decimal
    total_b: Decimal
    causes: tuple[tuple[str, Decimal, int], ...]  # cause, kg CO2e, (activity row, gas) pairs
    by: dict[str, tuple[Breakdown, ...]] = field(default_factory=dict)
    outcomes: tuple[tuple[str, str, int], ...] = ()  # A's outcome, B's outcome, activity rows
    largest: tuple[ChangedRow, ...] = ()

    @property
    def change(self) -> Decimal:
        return exact_sum([self.total_b, -self.total_a])

    def amount(self, cause: str) -> Decimal:
        return next((v for c, v, _ in self.causes if c == cause), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        """The JSON document (attribution/presentation.py)."""
        from ccf.engine.attribution.presentation import to_json

        return to_json(self)

    def render(self) -> str:
        """The terminal text (attribution/presentation.py)."""
        from ccf.engine.attribution.presentation import render

        return render(self)
