"""PCAF portfolio metrics of Scope 3 category 15 for the report (PCAF Part A, 2nd ed., chapter 6).

From the category 15 results of the runs, consolidated like every other figure of the report,
and the activity rows they were computed from (outstanding amount, currency, investee revenue
and emissions):

- financed emissions by asset class and by the investee's scope;
- economic emission intensity: financed emissions / outstanding amount, t CO2e per million of
  each currency (amounts in different currencies are never added);
- weighted average carbon intensity (WACI): Σ outstanding_i / Σ outstanding × the investee's
  Scope 1 and 2 emissions_i / its revenue_i, t CO2e per million of revenue, per currency, over
  the holdings whose rows give the investee's revenue;
- the weighted data-quality score, two ways: weighted by financed emissions (the report's
  weighting of every category, quality.py), and weighted by outstanding amount per currency
  (PCAF's weighting: Σ outstanding_i × score_i / Σ outstanding_i over the scored holdings, a
  holding's score being the poorest of its results'; a holding with a result not scored is left
  out and its outstanding amount reported as not scored).

Every sum is exact; each ratio is computed as an exact fraction and rounded once (half away from
zero): to 20 decimals for the exact figure, to 0.001 for display. Projected lifetime emissions
are outside the scopes (``consolidation.PROJECTED_LIFETIME``) and not financed emissions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Sequence

from sqlglot import exp

from ccf.dsl.numeric import EXACT, exact_sum, plain
from ccf.dsl.units import parse_unit
from ccf.engine.inventory import consolidation as q
from ccf.engine.inventory.quality import NOT_SCORED, combined, weighted_data_quality
from ccf.engine.inventory.rounding import fixed, round_fraction, tonnes
from ccf.engine.load.tables import activity_table_name
from ccf.engine.sql import Executor, column, eq, ident, number, param, table

EXACT_PLACES = Decimal("1e-20")
DISPLAY_PLACES = Decimal("0.001")
SCORE_PLACES = Decimal("0.01")  # a weighted score is shown to two decimals, as the report's data-quality table

LISTED = "listed equity and corporate bonds"
LOANS = "business loans and unlisted equity"
# The asset class of a row: its own asset_class field where its activity type has one, else its
# methodology's (one id per class); other category 15 methodologies (equity share, average-data)
# are the GHG Protocol's methods for investments outside PCAF's classes.
ROW_CLASSES = {
    "listed_equity": LISTED, "corporate_bond": LISTED, "business_loan": LOANS, "unlisted_equity": LOANS,
    "project_finance": "project finance", "commercial_real_estate": "commercial real estate", "mortgage": "mortgages",
}
METHODOLOGY_CLASSES = {
    "scope3.cat15.investments.pcaf_listed_equity_bonds": LISTED,
    "scope3.cat15.investments.pcaf_business_loans_unlisted_equity": LOANS,
    "scope3.cat15.investments.pcaf_project_finance": "project finance",
    "scope3.cat15.investments.pcaf_commercial_real_estate": "commercial real estate",
    "scope3.cat15.investments.pcaf_mortgages": "mortgages",
    "scope3.cat15.investments.pcaf_motor_vehicle_loans": "motor vehicle loans",
    "scope3.cat15.investments.pcaf_sovereign_debt": "sovereign debt",
}
# an activity type whose amounts are in one currency by definition (its field descriptions say so)
TYPE_CURRENCY = {"sovereign_debt": "USD"}
HOLDING_FIELDS = ("investee", "project", "property", "vehicle", "country")  # the first the type has names the holding
ROW_FIELDS = ("outstanding_amount", "currency", "asset_class", "investee_revenue", "investee_amount",
              "investee_amount_unit")
_SCOPE = re.compile(r"scope(1_and_2|[123])")


@dataclass(frozen=True)
class FinancedRow:
    """One activity row's consolidated category 15 result with the amounts PCAF's metrics need."""

    run_id: int
    methodology_id: str
    method: str
    activity_id: str
    rule_id: str
    entity: str
    share: Decimal
    co2e_kg: Decimal  # at 100 %, before the entity's share
    holding: str | None
    data_quality: int | None  # the result's score (1-5), None: not scored
    outstanding_amount: Decimal | None
    currency: str | None
    asset_class: str | None
    investee_revenue: Decimal | None
    investee_amount: Decimal | None
    investee_amount_unit: str | None

    @property
    def consolidated_kg(self) -> Decimal:
        return EXACT.multiply(self.co2e_kg, self.share)

    @property
    def asset_class_label(self) -> str:
        return (ROW_CLASSES.get(self.asset_class or "") or METHODOLOGY_CLASSES.get(self.methodology_id)
                or f"other investments ({self.method})")

    @property
    def scope(self) -> str:
        """The investee's scope of the result: 1, 2, 3, 1+2, or 'not split' (a building's or
        vehicle's energy use)."""
        m = _SCOPE.search(self.rule_id)
        return "not split" if m is None else ("1+2" if m.group(1) == "1_and_2" else m.group(1))


def _methodologies_query() -> exp.Select:
    """(run_id, methodology_id, method, activity_type) of the category 15 methodologies of %(runs)s."""
    return (
        exp.select(column("run_id", "m"), column("methodology_id", "m"), column("method", "m"), column("activity_type", "m"))
        .from_(table("run_methodology", alias="m"))
        .where(exp.and_(
            eq(column("run_id", "m"), q.any_run()),
            eq(column("scope", "m"), number(3)),
            eq(column("category", "m"), number(15)),
            exp.NEQ(this=column("method", "m"), expression=exp.Literal.string(q.PROJECTED_LIFETIME)),
        ))
        .order_by(column("run_id", "m"), column("methodology_id", "m"))
    )


def _columns_query() -> exp.Select:
    """The columns of the activity table %(table_name)s."""
    return (
        exp.select(column("column_name", "c"))
        .from_(table("columns", schema="information_schema", alias="c"))
        .where(exp.and_(eq(column("table_schema", "c"), exp.Literal.string("ccf")),
                        eq(column("table_name", "c"), param("table_name"))))
    )


def rows_query(approach: str, activity_type: str, columns: set[str]) -> exp.Select:
    """The result rows of methodology %(methodology_id)s in run %(run_id)s summed per activity
    row and rule, with the entity's share under ``approach`` and the activity row's amounts
    (NULL where its type has no such field). Outside-the-scopes gases are left out."""
    share = column(q.SHARE_COLUMN[approach], "o")

    def field(name: str) -> exp.Expression:
        if name in columns:
            return column(name, "a")
        if name == "currency" and activity_type in TYPE_CURRENCY:
            return exp.Literal.string(TYPE_CURRENCY[activity_type])
        return exp.Null()

    holding = next((f for f in HOLDING_FIELDS if f in columns), None)
    amounts = [field(f) for f in ROW_FIELDS]
    keys = [column("activity_id", "r"), column("rule_id", "r"), column("entity", "r"), share,
            field(holding) if holding else exp.Null(), column("data_quality", "r"), *amounts]
    select = (
        exp.select(*[k.copy() for k in keys], exp.Sum(this=column("co2e_kg", "r")))
        .from_(exp.Table(this=ident(q.REPORT_RESULTS), alias=exp.TableAlias(this=ident("r"))))
        .join(table("run", alias="u"), on=eq(column("run_id", "u"), column("run_id", "r")))
        .join(table(activity_table_name(activity_type), alias="a"), on=exp.and_(
            eq(column("dataset", "a"), column("dataset", "u")), eq(column("activity_id", "a"), column("activity_id", "r"))))
        .join(exp.Table(this=ident("ownership"), alias=exp.TableAlias(this=ident("o"))),
              on=eq(column("entity", "o"), column("entity", "r")))
        .where(exp.and_(
            eq(column("run_id", "r"), param("run_id")), eq(column("methodology_id", "r"), param("methodology_id")),
            eq(exp.Anonymous(this="STRPOS", expressions=[exp.Lower(this=column("gas", "r")), exp.Literal.string(q.BIOGENIC)]),
               number(0)),
        ))
        .group_by(*[k.copy() for k in keys if isinstance(k, exp.Column)])
        .order_by(column("activity_id", "r"), column("rule_id", "r"))
    )
    return q.with_ctes(select, q.ownership_cte())


def financed_rows(ex: Executor, runs: Sequence[int], entity_set: str, approach: str) -> list[FinancedRow]:
    """Every category 15 result of the runs (entities of the set), per activity row and rule."""
    out: list[FinancedRow] = []
    for run_id, methodology_id, method, activity_type in ex.rows(_methodologies_query(), {"runs": list(runs)}):
        columns = {c for (c,) in ex.rows(_columns_query(), {"table_name": activity_table_name(activity_type)})}
        params = {"run_id": run_id, "methodology_id": methodology_id, "entity_set": entity_set}
        for activity_id, rule_id, entity, share, holding, score, *fields, co2e_kg in ex.rows(
                rows_query(approach, activity_type, columns), params):
            out.append(FinancedRow(run_id, methodology_id, method, activity_id, rule_id, entity, share, co2e_kg, holding,
                                   score, *fields))
    return out


def _ratio(x: Fraction) -> dict:
    return {"exact": fixed(round_fraction(x, EXACT_PLACES)), "value": fixed(round_fraction(x, DISPLAY_PLACES))}


def _t_kg(kg: Decimal) -> dict:
    return {"co2e_kg": plain(kg), "co2e_t": fixed(tonnes(kg))}


def pcaf_document(rows: list[FinancedRow]) -> dict | None:
    """The PCAF section of the report; None when the runs have no category 15 result."""
    if not rows:
        return None
    by_class: dict[tuple[str, str], list[Decimal]] = {}
    for r in rows:
        by_class.setdefault((r.asset_class_label, r.scope), []).append(r.consolidated_kg)
    financed = [{"key": f"{c}|{s}", "asset_class": c, "scope": s, **_t_kg(exact_sum(v))}
                for (c, s), v in sorted(by_class.items())]

    # a holding's outstanding amount is on each of its rows (one per scope): counted once
    holdings: dict[tuple, Decimal] = {}
    covered: dict[str, list[Decimal]] = {}
    not_covered: list[Decimal] = []
    for r in rows:
        if r.outstanding_amount is None or not r.currency:
            not_covered.append(r.consolidated_kg)
            continue
        holdings[(r.run_id, r.methodology_id, r.entity, r.holding, r.currency, r.outstanding_amount)] = \
            EXACT.multiply(r.outstanding_amount, r.share)
        covered.setdefault(r.currency, []).append(r.consolidated_kg)
    economic = []
    for cur in sorted(covered):
        outstanding = exact_sum(v for k, v in holdings.items() if k[4] == cur)
        kg = exact_sum(covered[cur])
        ratio = None if outstanding == 0 else _ratio(Fraction(kg) / 1000 / (Fraction(outstanding) / 1_000_000))
        economic.append({"key": cur, "currency": cur, "outstanding": plain(outstanding), **_t_kg(kg),
                         "per": f"t CO2e per million {cur} outstanding",
                         "intensity_exact": ratio and ratio["exact"], "intensity_t": ratio and ratio["value"]})
    return {
        "title": "PCAF portfolio metrics: Scope 3 category 15 investments",
        "financed_emissions": financed,
        "financed_emissions_total": _t_kg(exact_sum(r.consolidated_kg for r in rows)),
        "economic_emission_intensity": economic,
        "without_outstanding_amount": _t_kg(exact_sum(not_covered)),
        "waci": _waci(rows),
        "weighted_data_quality": _weighted_scores(rows),
    }


def _score(x: Fraction | None) -> str | None:
    return None if x is None else fixed(round_fraction(x, SCORE_PLACES))


def _weighted_scores(rows: list[FinancedRow]) -> dict:
    """The weighted data-quality score by financed emissions, and by outstanding amount per currency."""
    by_score: dict[int | None, list[Decimal]] = {}
    for r in rows:
        by_score.setdefault(r.data_quality, []).append(r.consolidated_kg)
    by_emissions = weighted_data_quality(combined([{s: exact_sum(v) for s, v in by_score.items()}]))
    holdings: dict[tuple, tuple[Decimal, list[int | None]]] = {}
    for r in rows:
        if r.outstanding_amount is None or not r.currency:
            continue
        key = (r.run_id, r.methodology_id, r.entity, r.holding, r.currency, r.outstanding_amount)
        amount, scores = holdings.setdefault(key, (EXACT.multiply(r.outstanding_amount, r.share), []))
        scores.append(r.data_quality)
    by_outstanding = []
    for cur in sorted({k[4] for k in holdings}):
        scored = [(amount, max(scores)) for k, (amount, scores) in holdings.items()
                  if k[4] == cur and NOT_SCORED not in scores]
        unscored = exact_sum(amount for k, (amount, scores) in holdings.items() if k[4] == cur and NOT_SCORED in scores)
        weight = sum((Fraction(a) for a, _ in scored), Fraction(0))
        score = None if weight == 0 else sum((Fraction(a) * s for a, s in scored), Fraction(0)) / weight
        by_outstanding.append({"key": cur, "currency": cur, "weighted_score": _score(score),
                               "outstanding_scored": plain(exact_sum(a for a, _ in scored)),
                               "outstanding_not_scored": plain(unscored)})
    return {"by_financed_emissions": {"weighted_score": _score(by_emissions)}, "by_outstanding_amount": by_outstanding}


def _waci(rows: list[FinancedRow]) -> list[dict]:
    """Weighted average carbon intensity per currency over the holdings with the investee's
    revenue: Σ_i outstanding_i / Σ outstanding × (Scope 1 + 2 of investee i) / revenue_i."""
    investees: dict[tuple, dict] = {}
    for r in rows:
        if r.investee_revenue is None or not r.currency or r.outstanding_amount is None or r.scope not in ("1", "2", "1+2"):
            continue
        if r.investee_amount is None or r.investee_amount_unit is None:
            continue
        key = (r.run_id, r.methodology_id, r.entity, r.holding, r.currency, r.outstanding_amount, r.investee_revenue)
        h = investees.setdefault(key, {"weight": Fraction(r.outstanding_amount) * Fraction(r.share), "kg": Fraction(0)})
        h["kg"] += Fraction(r.investee_amount) * parse_unit(r.investee_amount_unit).scale
    out = []
    for cur in sorted({k[4] for k in investees}):
        mine = [(k, h) for k, h in investees.items() if k[4] == cur and k[6] != 0]
        total = sum((h["weight"] for _, h in mine), Fraction(0))
        if total == 0:
            continue
        waci = sum((h["weight"] / total * (h["kg"] / 1000) / (Fraction(k[6]) / 1_000_000) for k, h in mine), Fraction(0))
        ratio = _ratio(waci)
        out.append({"key": cur, "currency": cur, "holdings": len(mine),
                    "per": f"t CO2e (investee Scope 1 and 2) per million {cur} of investee revenue",
                    "waci_exact": ratio["exact"], "waci_t": ratio["value"]})
    return out
