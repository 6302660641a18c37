"""Tier and source per country: a run's Scope 1 and 2 results grouped by the country of each
result's entity (from the dataset's entity set), methodology, rule (the tier of the methodology's
hierarchy) and factor set edition (the source), read from the stored results."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg
from sqlglot import exp

from ccf.engine.sql import Executor, column, eq, is_param, table


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
    """The run's Scope 1 and 2 results per (country, methodology, rule, factor set edition)."""
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
        .where(exp.and_(is_param("run_id", "p"),
                        exp.In(this=column("scope", "p"), expressions=[exp.Literal.number(1), exp.Literal.number(2)])))
        .group_by(*keys)
        .order_by(exp.Ordered(this=column("country", "e"), nulls_first=False), *keys[1:])
    )
    return [TierRow(*r) for r in Executor(conn).rows(tree, {"run_id": run_id})]
