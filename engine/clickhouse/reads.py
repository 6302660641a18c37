"""What the readers of a run computed on ClickHouse read there: its rows stay in ClickHouse, the
catalogue (the run, its methodologies, the entity sets) in PostgreSQL.

``tiers_by_country``  the demo's tier and source per country (engine/tiers.py's for PostgreSQL);
``report_groups``     the report's groups (inventory/consolidation.py's ``report_groups_statement``):
                      the result rows summed once, on ClickHouse, into PostgreSQL's temporary table;
``copy_result_rows``  the rows the report reads one by one (an activity type several methodologies
                      computed, market-based parts, PCAF's metrics) copied into a PostgreSQL
                      temporary table, ClickHouse's TabSeparated streamed into COPY;
``stored_results``    one activity row's results per gas, as ccf.result gives them (ccf explain);
``stored_rows``       a methodology's result (per gas), excluded or unmatched rows (ccf verify --reference);
``results``           a run's result rows as ccf.result gives them, paged (the service's results);
``compare_runs``      a run's rows against its recomputation's, both in ClickHouse (ccf verify).

The rows are in the ClickHouse database of the run's PostgreSQL database (catalogue.py), which
each reader is given.

Each but the copy sums on ClickHouse and returns a few rows; sums are exact (Decimal256 sums of
the stored Decimal(76, 40) values, within the digits the run's proof keeps: numeric.SUM_DIGITS).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum
from ccf.engine.clickhouse.tables import RESULT_ROW_COLUMNS, RESULT_TABLES
from ccf.engine.inventory.consolidation import REPORT_GROUPS, gas_sums
from ccf.engine.options import CLICKHOUSE
from ccf.engine.sql import ClickHouseExecutor, Executor, column, eq, ident, is_param, param, table, text
from ccf.engine.tiers import TierRow, tiered

_GASES = [g.lower() for g in ir.GAS_ORDER]


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _of_run(run_id: int) -> exp.Expression:
    return eq(column("run_id"), exp.Literal.number(run_id))


def _texts(values: Sequence[str]) -> exp.Expression:
    return exp.Array(expressions=[text(v) for v in values])


def tiers_by_country(conn: psycopg.Connection, ch: ClickHouseExecutor, database: str, run_id: int) -> list[TierRow]:
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
             .from_(table("result_row", database))
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


def clickhouse_runs(ex: Executor, run_ids: Sequence[int]) -> list[int]:
    """The runs among ``run_ids`` whose rows are in ClickHouse (ccf.run.engine)."""
    where = exp.and_(exp.EQ(this=column("run_id"), expression=exp.Any(this=exp.Paren(this=exp.Cast(
        this=param("runs"), to=exp.DataType.build("BIGINT[]"))))), eq(column("engine"), text(CLICKHOUSE)))
    return [r[0] for r in ex.rows(exp.select(column("run_id")).from_(table("run")).where(where).order_by(column("run_id")),
                                  {"runs": list(run_ids)})]


def report_groups(ex: Executor, ch: ClickHouseExecutor, database: str, run_ids: Sequence[int]) -> int:
    """The report's groups of runs ``run_ids`` (on ClickHouse) summed there and added to
    PostgreSQL's ``ccf_report_groups``, made by ``report_groups_statement`` in this transaction
    (which summed the PostgreSQL runs'): the same keys and sums, numbered after its groups; a
    market-based part (a row with its instrument) is ``parted``, as there. The groups added."""
    r = lambda name: column(name, "r")  # noqa: E731  (qualified: ClickHouse's aliases shadow a table's columns everywhere)
    keys: list[tuple[str, exp.Expression]] = [
        ("run_id", r("run_id")), ("methodology_id", r("methodology_id")), ("rule_id", r("rule_id")),
        ("entity", r("entity")), ("data_quality", r("data_quality")), ("period_year", _fn("toYear", r("period_start"))),
        ("parted", _fn("isNotNull", r("instrument_id"))),
    ]
    for g in _GASES:
        keys += [(f"{g}_match_level", r(f"{g}_match_level")), (f"{g}_factor_set", r(f"{g}_factor_set"))]
    sums: list[tuple[str, exp.Expression]] = [("result_rows", _fn("count")), ("total_co2e_kg", exp.Sum(this=r("total_co2e_kg"))),
                                              *gas_sums(r)]
    select = (exp.select(*[exp.alias_(e, n) for n, e in keys + sums]).from_(table("result_row", database, alias="r"))
              .where(exp.In(this=r("run_id"), expressions=[exp.Literal.number(i) for i in run_ids]))
              .group_by(*[e.copy() for _, e in keys]))
    rows = ch.rows(select)
    (numbered,) = ex.one(exp.select(exp.Coalesce(this=exp.Max(this=column("group_no")), expressions=[exp.Literal.number(0)]))
                         .from_(exp.Table(this=ident(REPORT_GROUPS))))  # type: ignore[misc]
    names = [n for n, _ in keys + sums]
    flags = {n for n in names if n == "parted" or n.endswith("_complete")}
    out = []
    for i, row in enumerate(rows, start=numbered + 1):
        values = dict(zip(names, row))
        out.append([*(bool(values[n]) if n in flags else _plain(values[n]) for n in names), i])
    return ex.copy_rows(exp.Table(this=ident(REPORT_GROUPS)), [*names, "group_no"], iter(out))


def _plain(value: Any) -> Any:
    """A ClickHouse Decimal(76, 40) as its digits, without the trailing zeros of the column's
    scale: the same value, through its text (``Decimal.normalize`` would round to the context's
    28 digits); anything else as it is."""
    if not isinstance(value, Decimal):
        return value
    digits = format(value, "f")
    return Decimal(digits.rstrip("0").rstrip(".") if "." in digits else digits)


# What ClickHouse's TabSeparated output means, whatever a server's profile sets: NULL as \N and
# rows ended by \n, as PostgreSQL's COPY text format reads them; decimals without the trailing
# zeros of Decimal(76, 40) (the same values either way).
_TSV_SETTINGS = {"format_tsv_null_representation": "\\N", "output_format_tsv_crlf_end_of_line": "0",
                 "output_format_decimal_trailing_zeros": "0"}


def _pg_array(ids: exp.Expression, co2e: exp.Expression) -> exp.Expression:
    """A gas's factor ids, a ClickHouse ``Array(Nullable(String))`` that is never NULL, as
    PostgreSQL's text of the TEXT[] it stores (``{"a","b"}``, each element quoted with its quotes
    and backslashes escaped, NULL unquoted): an empty array is NULL where the gas has no value
    (``co2e``), as PostgreSQL stores it, and ``{}`` where it has one (a certificate's part)."""
    x = exp.to_identifier("x")
    quoted = _fn("if", _fn("isNull", exp.column(x.copy())), text("NULL"), _fn(
        "concat", text('"'), _fn("replaceRegexpAll", _fn("assumeNotNull", exp.column(x.copy())), text('(["\\\\])'),
                                 text("\\\\\\1")), text('"')))
    joined = _fn("arrayStringConcat", _fn("arrayMap", exp.Lambda(this=quoted, expressions=[x]), ids), text(","))
    return _fn("if", _fn("and", _fn("empty", ids.copy()), _fn("isNull", co2e)), exp.Null(),
               _fn("concat", text("{"), joined, text("}")))


def copy_result_rows(ex: Executor, ch: ClickHouseExecutor, database: str, target: exp.Table,
                     methodologies: Sequence[tuple[int, str]]) -> int:
    """The result rows of ``methodologies`` ((run id, methodology id) of runs on ClickHouse)
    copied into PostgreSQL's ``target`` (a table of ccf.result_row's columns; the report's rows
    it reads one by one, inventory.py) without passing through Python: ClickHouse's
    ``SELECT … FORMAT TabSeparated`` streamed into PostgreSQL's ``COPY … FROM STDIN``, the same
    text format. Decimals go as their digits (Decimal(76, 40) into NUMERIC: exact), arrays as
    PostgreSQL's array text. The rows copied."""
    if not methodologies:
        return 0
    names = [n for n, _ in RESULT_ROW_COLUMNS]
    r = lambda name: column(name, "r")  # noqa: E731  (qualified: each alias is a column's name)
    select = exp.select(*[
        exp.alias_(_pg_array(r(n), r(n.replace("_factor_ids", "_co2e_kg"))) if kind.startswith("Array") else r(n), n)
        for n, kind in RESULT_ROW_COLUMNS
    ]).from_(table("result_row", database, alias="r")).where(exp.In(
        this=exp.Tuple(expressions=[r("run_id"), r("methodology_id")]),
        expressions=[exp.Tuple(expressions=[exp.Literal.number(run_id), text(m)]) for run_id, m in methodologies]))
    select.set("settings", [exp.EQ(this=exp.var(k), expression=text(v)) for k, v in _TSV_SETTINGS.items()])
    return ex.copy_in(target, names, ch.stream(select, "TabSeparated"))


def run_engine(ex: Executor, run_id: int) -> str | None:
    """The engine holding run ``run_id``'s rows (ccf.run.engine); None: no such run."""
    row = ex.one(exp.select(column("engine")).from_(table("run")).where(is_param("run_id")), {"run_id": run_id})
    return row[0] if row is not None else None


_PER_GAS = ("kg", "gwp", "co2e_kg", "factor_ids", "match_level")


def _per_gas(ch: ClickHouseExecutor, database: str, where: exp.Expression) -> list[dict[str, Any]]:
    """The result rows ``where`` holds, one per gas with a value, as ccf.result gives them."""
    cols = ["activity_id", "rule_id", "instrument_id", "data_quality"] + [f"{g}_{c}" for g in _GASES for c in _PER_GAS]
    out = []
    for row in ch.rows(exp.select(*[column(c) for c in cols]).from_(table("result_row", database)).where(where)):
        values = dict(zip(cols, row))
        for gas, g in zip(ir.GAS_ORDER, _GASES):
            if values[f"{g}_co2e_kg"] is None:
                continue
            out.append({"activity_id": values["activity_id"], "gas": gas, "gas_kg": _plain(values[f"{g}_kg"]),
                        "gwp": _plain(values[f"{g}_gwp"]), "co2e_kg": _plain(values[f"{g}_co2e_kg"]),
                        "factor_ids": values[f"{g}_factor_ids"], "match_level": values[f"{g}_match_level"],
                        "rule_id": values["rule_id"], "instrument_id": values["instrument_id"], "data_quality": values["data_quality"]})
    return out


def stored_results(ch: ClickHouseExecutor, database: str, run_id: int, methodology_id: str, activity_id: str) -> list[dict[str, Any]]:
    """An activity row's results in run ``run_id`` of a methodology, one per gas with a value,
    as PostgreSQL's ccf.result view gives them (migration 0019): gas, gas_kg, gwp, co2e_kg,
    factor_ids, match_level, rule_id, instrument_id (a market-based part's), data_quality."""
    where = exp.and_(_of_run(run_id), eq(column("methodology_id"), text(methodology_id)), eq(column("activity_id"), text(activity_id)))
    return sorted(({k: v for k, v in r.items() if k != "activity_id"} for r in _per_gas(ch, database, where)), key=lambda r: r["gas"])


def stored_rows(ch: ClickHouseExecutor, database: str, run_id: int, methodology_id: str, name: str, cols: Sequence[str],
                ids: Sequence[str] | None = None) -> list[tuple]:
    """(activity_id, *cols) of each row of a methodology in run ``run_id`` (of activity rows
    ``ids`` only, if given): of ``excluded`` or ``unmatched``, or of ``result`` as ccf.result
    gives them, one per gas with a value."""
    where = exp.and_(_of_run(run_id), eq(column("methodology_id"), text(methodology_id)))
    if ids is not None:
        where = exp.and_(where, exp.In(this=column("activity_id"), expressions=[text(i) for i in ids]))
    if name != "result":
        return ch.rows(exp.select(column("activity_id"), *[column(c) for c in cols]).from_(table(name, database)).where(where))
    return [(r["activity_id"], *(r[c] for c in cols)) for r in _per_gas(ch, database, where)]


RESULT = ("methodology_id", "activity_id", "entity", "period_start", "rule_id", "gas", "gas_kg", "gwp", "co2e_kg",
          "factor_ids", "factor_set", "match_level", "unit_conversion", "instrument_id", "data_quality")  # ccf.result's


def results(ch: ClickHouseExecutor, database: str, run_id: int, methodology_id: str | None = None, offset: int = 0,
            limit: int | None = None) -> list[tuple]:
    """A run's result rows as PostgreSQL's ccf.result gives them (``RESULT``: one per gas with a
    value; a market-based part with its instrument), of one methodology if given, in the service's order
    (methodology, activity, rule, gas, entity, period), ``limit`` of them from ``offset``: the
    gases of each stored row unfolded on ClickHouse (``arrayJoin``), the page cut there."""
    per_gas = exp.Array(expressions=[exp.Tuple(expressions=[
        text(gas), column(f"{g}_kg"), column(f"{g}_gwp"), column(f"{g}_co2e_kg"), column(f"{g}_factor_ids"),
        column(f"{g}_factor_set"), column(f"{g}_match_level")]) for gas, g in zip(ir.GAS_ORDER, _GASES)])
    kept = ["methodology_id", "activity_id", "entity", "period_start", "rule_id", "unit_conversion", "instrument_id", "data_quality"]
    where = _of_run(run_id)
    if methodology_id is not None:
        where = exp.and_(where, eq(column("methodology_id"), text(methodology_id)))
    inner = exp.select(*[column(c) for c in kept], exp.alias_(_fn("arrayJoin", per_gas), "g")).from_(
        table("result_row", database)).where(where)
    part = lambda i: _fn("tupleElement", column("g"), exp.Literal.number(i))  # noqa: E731
    values = {c: column(c) for c in kept} | {
        "gas": part(1), "gas_kg": part(2), "gwp": part(3), "co2e_kg": part(4), "factor_ids": part(5), "factor_set": part(6),
        "match_level": part(7)}
    select = (exp.select(*[exp.alias_(values[c], c) for c in RESULT])
              .from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("x"))))
              .where(exp.not_(exp.Is(this=part(4), expression=exp.Null())))
              .order_by(*[column(c) for c in ("methodology_id", "activity_id", "rule_id", "gas", "entity", "period_start")]))
    if limit is not None:
        select = select.limit(exp.Literal.number(limit))
    if offset:
        select = select.offset(exp.Literal.number(offset))
    return [tuple(_plain(v) for v in row) for row in ch.rows(select)]


def compare_runs(ch: ClickHouseExecutor, database: str, run_id: int, again: int, limit: int = 20) -> tuple[dict[str, int], list[str]]:
    """The rows of each result table in run ``run_id``, and each row (every column but the run
    id) only in it or only in run ``again``, at most ``limit`` of each kind per table."""
    checked, problems = {}, []
    for name in RESULT_TABLES:
        cols = [c for (c,) in ch.rows(exp.select(column("name")).from_(table("columns", "system")).where(exp.and_(
            eq(column("database"), text(database)), eq(column("table"), text(name))))) if c != "run_id"]
        checked[name] = ch.rows(exp.select(_fn("count")).from_(table(name, database)).where(_of_run(run_id)))[0][0]
        side = lambda i: exp.select(*[column(c) for c in cols]).from_(table(name, database)).where(_of_run(i))  # noqa: E731
        for label, a, b in (("only in the original run", run_id, again), ("only in the recomputation", again, run_id)):
            differ = exp.select(exp.Star()).from_(exp.Subquery(this=exp.except_(side(a), side(b), distinct=False),
                                                               alias=exp.TableAlias(this=exp.to_identifier("d")))).limit(limit)
            differ.set("settings", [exp.EQ(this=exp.var("except_default_mode"), expression=text("ALL"))])  # whatever the server's
            for row in ch.rows(differ):
                problems.append(f"{name} {label}: " + ", ".join(f"{c}={x}" for c, x in zip(cols, row) if x is not None))
    return checked, problems


__all__ = ["RESULT", "clickhouse_runs", "compare_runs", "copy_result_rows", "report_groups", "results", "run_engine", "stored_results", "stored_rows",
           "tiers_by_country"]
