"""The data-quality score of a report: per scope and Scope 3 category, the CO2e of its results by
score (the mix) and the emissions-weighted mean score (docs/reporting.md#data-quality-score).

A result's score is 1 (best) to 5 (poorest), PCAF's scale, or none (not scored): the row's own
``data_quality``, else its methodology's (compile/evaluate.py). The weighted score of a part of
the inventory is Σ(score × CO2e) / Σ(CO2e of its scored results), over consolidated kg CO2e;
the CO2e not scored is reported beside it as a share, never counted as any score. For Scope 3
category 15 the weighted score is PCAF's "weighted data quality score" of financed emissions.
The mean is exact (a ``Fraction``); only the report's presentation rounds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Mapping

from ccf.dsl.model import DATA_QUALITY_SCORES
from ccf.dsl.numeric import exact_sum

SCORES = DATA_QUALITY_SCORES
NOT_SCORED = None  # the key of the CO2e of results without a score

Mix = Mapping[int | None, Decimal]  # kg CO2e by score; NOT_SCORED: results without one


def weighted_data_quality(co2e_by_score: Mix) -> Fraction | None:
    """Σ(score × kg CO2e) / Σ(kg CO2e of the scored results), exactly; None when no result is
    scored (or the scored CO2e adds up to 0: there is nothing to weigh by). Results not scored
    are left out, not counted as any score: their share is ``not_scored_share``."""
    scored = {s: Fraction(kg) for s, kg in co2e_by_score.items() if s is not NOT_SCORED}
    weight = sum(scored.values(), Fraction(0))
    if weight == 0:
        return None
    return sum((s * kg for s, kg in scored.items()), Fraction(0)) / weight


def not_scored_share(co2e_by_score: Mix) -> Fraction | None:
    """The share (0 to 1) of the CO2e of results without a score; None when the CO2e is 0."""
    total = sum((Fraction(kg) for kg in co2e_by_score.values()), Fraction(0))
    return None if total == 0 else Fraction(co2e_by_score.get(NOT_SCORED, Decimal(0))) / total


def combined(mixes: list[Mix]) -> dict[int | None, Decimal]:
    """Several mixes added score by score (exact sums)."""
    keys = dict.fromkeys(k for m in mixes for k in m)
    return {k: exact_sum(m.get(k, Decimal(0)) for m in mixes) for k in keys}


@dataclass(frozen=True)
class QualityRow:
    """One scope, Scope 3 category or the total: its kg CO2e by score, per Scope 2 basis."""

    key: str
    label: str
    co2e_kg: Mapping[str, Mix]  # basis -> score -> consolidated kg CO2e

    def weighted(self, basis: str) -> Fraction | None:
        return weighted_data_quality(self.co2e_kg.get(basis, {}))
