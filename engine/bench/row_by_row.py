"""The row-by-row baseline of ``ccf bench``: how an ORM-style application would compute the same
numbers. For each activity row: one query fetches the row, one query per factor lookup fetches
its candidate factors, the reference evaluator (dsl/evaluate.py) computes the outcome in Python,
and one INSERT writes its result row (its gases as columns, as a run writes them). Exact (Decimal) like everything else; slow by
construction, which is the point of measuring it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Sequence

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.evaluate import EXACT, LookupKeys, ResolvedFactor, Result, evaluate_row, resolve_factor
from ccf.engine.factors.store import FACTOR_ROW_COLUMNS, stored_factor
from ccf.engine.load import activity_table
from ccf.engine.sql import Executor, column, ident, param, table, text


class QueryPerRowResolver:
    """A ``FactorResolver`` that asks the database for a lookup's candidates on every call
    (no memo: one query per row and lookup, as an ORM would), then resolves them exactly as
    the compiled SQL does (``evaluate.resolve_factor``)."""

    def __init__(self, ex: Executor, factor_set_id: int, region: str | None, year: int | None):
        self.ex, self.factor_set_id, self.region, self.year = ex, factor_set_id, region, year
        self.queries = 0

    def resolve(self, lookup: ir.FactorLookup, keys: LookupKeys) -> ResolvedFactor | None:
        match = dict(keys.match)
        if any(match.get(name) is None for name, _ in lookup.match):
            return None
        wanted = dict(lookup.select) | {name: match[name] for name, _ in lookup.match}
        query = (
            exp.select(*(column(c) for c in FACTOR_ROW_COLUMNS))
            .from_(table("factor"))
            .where(exp.and_(
                exp.EQ(this=column("factor_set_id"), expression=param("factor_set_id")),
                exp.In(this=column("gas"), expressions=[text(g) for g in lookup.gases]),
                exp.ArrayContainsAll(this=column("attributes"), expression=exp.Cast(this=param("wanted"), to=exp.DataType.build("JSONB"))),
            ))
        )
        self.queries += 1
        rows = self.ex.rows(query, {"factor_set_id": self.factor_set_id, "wanted": json.dumps(wanted)})
        records = [stored_factor(r) for r in rows]
        return resolve_factor(lookup, keys, records, default_region=self.region, default_year=self.year)


def evaluate_one_by_one(
    ex: Executor, m: ir.Methodology, dataset: str, activity_ids: Sequence[str], resolver: QueryPerRowResolver,
    gwp: dict[str, Decimal], run_id: int, results: exp.Table,
) -> Decimal:
    """Fetch, evaluate and write each row in turn into ``results`` (the run's partition of
    ccf.result_row, engine/run_partition.py); the exact kg CO2e total of the rows."""
    fetch = (
        exp.select(exp.Star()).from_(activity_table(m.activity))
        .where(exp.and_(
            exp.EQ(this=column("dataset"), expression=param("dataset")),
            exp.EQ(this=column("activity_id"), expression=param("activity_id")),
        ))
    )
    inserts: dict[tuple[str, ...], exp.Expression] = {}  # one statement per set of gases a row has

    def insert(gases: tuple[str, ...]) -> exp.Expression:
        """INSERT of a row with these gases (the run's layout, migrations 0019 and 0027)."""
        if gases not in inserts:
            names = ["run_id", "methodology_id", "activity_id", "entity", "period_start", "rule_id", "data_quality",
                     "total_co2e_kg"]
            names += [f"{g.lower()}_{c}" for g in gases for c in ("kg", "gwp", "co2e_kg", "factor_ids", "match_level")]
            inserts[gases] = exp.insert(
                exp.select(*(param(n) for n in names)),
                exp.Schema(this=results.copy(), expressions=[ident(n) for n in names]),
            )
        return inserts[gases]

    total = Decimal(0)
    for activity_id in activity_ids:
        cur = ex.execute(fetch, {"dataset": dataset, "activity_id": activity_id})
        cols = [d.name for d in cur.description or ()]
        values = cur.fetchone()
        assert values is not None, activity_id
        row = dict(zip(cols, values))
        outcome = evaluate_row(m, row, resolver, gwp)
        if not isinstance(outcome, Result):
            continue
        in_scopes = Decimal(0)
        params = {
            "run_id": run_id, "methodology_id": m.id, "activity_id": activity_id, "entity": row["entity"],
            "period_start": row["period_start"], "rule_id": outcome.rule_id, "data_quality": outcome.data_quality,
        }
        for g in outcome.gases:
            total = EXACT.add(total, g.co2e_kg)
            if g.gas not in ir.OUTSIDE_SCOPES:
                in_scopes = EXACT.add(in_scopes, g.co2e_kg)
            p = g.gas.lower()
            params.update({f"{p}_kg": g.gas_kg, f"{p}_gwp": g.gwp, f"{p}_co2e_kg": g.co2e_kg,
                           f"{p}_factor_ids": list(g.factor_ids), f"{p}_match_level": g.match_level})
        ex.execute(insert(tuple(g.gas for g in outcome.gases)), {**params, "total_co2e_kg": in_scopes})
    return total
