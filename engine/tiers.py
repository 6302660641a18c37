"""Tier and source per country: a run's Scope 1 and 2 and Scope 3 category 3 results grouped by
the country of each result's entity (from the dataset's entity set), methodology, rule (the tier
of the methodology's hierarchy) and source (the factor set edition, or the instrument of a
certificate part), read from the stored results. ``tiered`` says which results have a tier: the
one predicate this table and the report's tier breakdown (inventory/consolidation.py) share."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg
from sqlglot import exp

from ccf.engine.sql import Executor, column, eq, is_param, number, table

TIERED = "Scope 1, Scope 2 and Scope 3 category 3"  # the results ``tiered`` keeps, for titles


def tiered(scope: exp.Expression, category: exp.Expression) -> exp.Expression:
    """Results whose source follows the site's geography by a hierarchy of tiers: Scope 1 and 2,
    and Scope 3 category 3 (fuel- and energy-related activities, the same rows' upstream and
    losses)."""
    return exp.or_(exp.In(this=scope, expressions=[number(1), number(2)]),
                   exp.and_(eq(scope.copy(), number(3)), eq(category, number(3))))


@dataclass(frozen=True)
class TierRow:
    country: str | None  # None: the entity has no country in its entity set
    methodology_id: str
    rule_id: str
    factor_set: str
    activities: int
    co2e_kg: Decimal

    def to_json(self) -> dict:
        return {"country": self.country, "methodology": self.methodology_id, "rule": self.rule_id,
                "factor_set": self.factor_set, "activities": self.activities, "co2e_kg": format(self.co2e_kg, "f")}


def tiers_by_country(conn: psycopg.Connection, run_id: int) -> list[TierRow]:
    """The run's tiered results (``tiered``) per (country, methodology, rule, source)."""
    keys = [column("country", "e"), column("methodology_id", "p"), column("rule_id", "p"), column("factor_set", "p")]
    tree = (
        exp.select(*keys, exp.Count(this=exp.Distinct(expressions=[column("activity_id", "p")])),
                   exp.Sum(this=column("co2e_kg", "p")))
        .from_(table("result_provenance", alias="p"))
        .join(table("run", alias="r"), on=eq(column("run_id", "r"), column("run_id", "p")))
        .join(table("dataset", alias="d"), on=eq(column("dataset", "d"), column("dataset", "r")))
        # an entity outside any entity set still shows, without a country
        .join(table("entity", alias="e"), join_type="left",
              on=exp.and_(eq(column("entity_set", "e"), column("entity_set", "d")),
                          eq(column("entity", "e"), column("entity", "p"))))
        .where(exp.and_(is_param("run_id", "p"), tiered(column("scope", "p"), column("category", "p"))))
        .group_by(*keys)
        .order_by(exp.Ordered(this=column("country", "e"), nulls_first=False), *keys[1:])
    )
    return [TierRow(*r) for r in Executor(conn).rows(tree, {"run_id": run_id})]
