"""What the readers of a run computed on ClickHouse read there: its rows stay in ClickHouse, the
catalogue (the run, its methodologies, the entity sets) in PostgreSQL.

``tiers_by_country``  the demo's tier and source per country (engine/tiers.py's for PostgreSQL);
``report_groups``     the report's groups (inventory/consolidation.py's ``report_groups_statement``):
                      the result rows summed once, on ClickHouse, into PostgreSQL's temporary table;
``activity_results``  one activity row's result, excluded and unmatched rows (ccf explain).

Each sums on ClickHouse and returns a few rows; sums are exact (Decimal256 sums of the stored
Decimal(76, 40) values, within the digits the run's proof keeps: numeric.SUM_DIGITS).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum
from ccf.engine.clickhouse.tables import DATABASE
from ccf.engine.sql import ClickHouseExecutor, Executor, column, eq, is_param, table, text
from ccf.engine.tiers import TierRow, tiered

_GASES = [g.lower() for g in ir.GAS_ORDER]


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _of_run(run_id: int) -> exp.Expression:
    return eq(column("run_id"), exp.Literal.number(run_id))


def _texts(values: Sequence[str]) -> exp.Expression:
    return exp.Array(expressions=[text(v) for v in values])


def tiers_by_country(conn: psycopg.Connection, ch: ClickHouseExecutor, run_id: int) -> list[TierRow]:
    """engine/tiers.py's ``tiers_by_country`` for a run whose rows are in ClickHouse: per entity,
    methodology, rule and source (the gas's factor set, else the methodology's) the activity rows
    and kg CO2e summed there; the entities' countries and the methodologies' scopes from
    PostgreSQL. An activity row has one entity, so its distinct rows per entity add up to those
    per country."""
    ex = Executor(conn)
    with conn.transaction():
        sets = dict(ex.rows(
            exp.select(column("methodology_id"), column("factor_set")).from_(table("run_methodology"))
            .where(exp.and_(is_param("run_id"), tiered(column("scope"), column("category")))), {"run_id": run_id}))
        countries = dict(ex.rows(
            exp.select(column("entity", "e"), column("country", "e")).from_(table("run", alias="r"))
            .join(table("dataset", alias="d"), on=eq(column("dataset", "d"), column("dataset", "r")))
            .join(table("entity", alias="e"), on=eq(column("entity_set", "e"), column("entity_set", "d")))
            .where(is_param("run_id", "r")), {"run_id": run_id}))
    if not sets:
        return []
    ids = sorted(sets)
    per_gas = exp.Array(expressions=[
        exp.Tuple(expressions=[column(f"{g}_factor_set"), column(f"{g}_co2e_kg")]) for g in _GASES])
    gas = exp.alias_(_fn("arrayJoin", per_gas), "g")
    source = _fn("coalesce", _fn("tupleElement", column("g"), exp.Literal.number(1)),
                 _fn("transform", column("methodology_id"), _texts(ids), _texts([sets[i] for i in ids]), text("")))
    co2e = _fn("tupleElement", column("g"), exp.Literal.number(2))
    inner = (exp.select(column("entity"), column("methodology_id"), column("rule_id"), column("activity_id"), gas)
             .from_(table("result_row", DATABASE))
             .where(exp.and_(_of_run(run_id), exp.In(this=column("methodology_id"), expressions=[text(i) for i in ids]))))
    keys = [column("entity"), column("methodology_id"), column("rule_id"), exp.alias_(source, "source")]
    select = (
        exp.select(*keys, _fn("uniqExact", column("activity_id")), exp.Sum(this=co2e))
        .from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("x"))))
        .where(exp.not_(exp.Is(this=co2e.copy(), expression=exp.Null())))
        .group_by(column("entity"), column("methodology_id"), column("rule_id"), column("source"))
    )
    activities: dict[tuple, int] = defaultdict(int)
    sums: dict[tuple, list[Decimal]] = defaultdict(list)
    for entity, methodology_id, rule_id, factor_set, n, kg in ch.rows(select):
        key = (countries.get(entity), methodology_id, rule_id, factor_set)
        activities[key] += n
        sums[key].append(kg)
    order = sorted(activities, key=lambda k: (k[0] is None, k[0] or "", *k[1:]))  # countries first, as PostgreSQL's NULLS LAST
    return [TierRow(*key, activities[key], exact_sum(sums[key])) for key in order]


__all__ = ["tiers_by_country"]
