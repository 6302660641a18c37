"""A run's inputs copied from its PostgreSQL snapshot into ClickHouse, with their sizes.

The activity rows of the run's loads go without passing through Python: PostgreSQL's
``COPY (SELECT …) TO STDOUT`` in its text format is streamed, as it comes, into ClickHouse's
``INSERT … FORMAT TabSeparated`` — the same format (tab-separated, ``\\N`` for NULL, the same
backslash escapes; dates ISO, the session pins DateStyle), parsed by ClickHouse. A server reads
it as the body of the insert; chdb from a file clickhouse-connect writes. Each quantity column
is ``Decimal(76, s)``, ``s`` the widest scale of its values, and the sizes the compile's proof
needs (``InputSizes``: each column's widest scale and digits, each field's digits in base units)
are measured by one aggregate over the same rows in the same snapshot, in PostgreSQL's exact
NUMERIC: a value is never read into fewer places than it has, so nothing is rounded on the way
in. A date ClickHouse's ``Date`` cannot hold (before 1970 or after 2149-06-06), which its text
parser would silently clamp, refuses the run instead.

The factor rows of the editions the run binds, the unit table, the GWP set, the region
hierarchy and the rate tables are small (thousands of rows) and go as Arrow tables: a factor's
JSONB attributes become a ``Map(String, String)`` as PostgreSQL's ``->>`` prints them.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable

import pyarrow as pa
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import DIV_PLACES, Size, size
from ccf.dsl.units import dimension_key, parse_unit
from ccf.engine.clickhouse import numeric
from ccf.engine.clickhouse.compile import InputSizes
from ccf.engine.clickhouse.tables import RunInputs, create_table
from ccf.engine.compile.activity import of_run_loads
from ccf.engine.compile.lookups import set_param
from ccf.engine.load.tables import activity_table, csv_columns
from ccf.engine.sql import ClickHouseError, ClickHouseExecutor, Executor, column, number, param, table, text

_TYPES = {"text": "Nullable(String)", "date": "Nullable(Date)", "boolean": "Nullable(Bool)"}
DATE_RANGE = (date(1970, 1, 1), date(2149, 6, 6))  # what ClickHouse's Date holds


def _widest(values: Iterable[Decimal | None]) -> Size:
    return numeric.widest(Size(0, 1), *(size(v) for v in values if v is not None))  # type: ignore[return-value]


def _copy(ch: ClickHouseExecutor, where: RunInputs, name: str, columns: list[tuple[str, str, pa.DataType]], rows: list[tuple],
          order_by: list[str]) -> None:
    create_table(ch, where.name(name), [(c, t) for c, t, _ in columns], order_by, database=where.database)
    if rows:
        arrays = [pa.array([r[i] for r in rows], type=a) for i, (_, _, a) in enumerate(columns)]
        ch.insert_arrow(where.table(name), pa.Table.from_arrays(arrays, names=[c for c, _, _ in columns]))


def copy_inputs(pg: Executor, ch: ClickHouseExecutor, m: ir.Methodology, params: dict[str, Any], where: RunInputs) -> InputSizes:
    """The run's activity rows, factors, units and GWPs into ClickHouse (``where``: the tables of
    this run's methodology, tables.py), and their sizes."""
    field_sizes: dict[str, Size] = {}
    base_digits: dict[str, int] = {}
    # the rows, and with instruments (market-based allocation) the instruments' rows too: their
    # sizes keyed by the column the rules read them from (``instrument__<field>``)
    for at, key in [(m.activity, str), *([(m.instruments.activity, ir.instrument_column)] if m.instruments is not None else [])]:
        sizes, digits = copy_activity(pg, ch, at, params, where)
        field_sizes |= {key(n): s for n, s in sizes.items()}
        base_digits |= {key(n): d for n, d in digits.items()}

    set_ids = sorted({v for k, v in params.items() if k.startswith("factor_set_id") and v is not None})
    factors = pg.rows(
        exp.select(*[column(c) for c in ("factor_set_id", "factor_id", "unit", "gas", "value")],
                   exp.Cast(this=column("attributes"), to=exp.DataType.build("TEXT")), column("region"), column("factor_year"))
        .from_(table("factor")).where(exp.In(this=column("factor_set_id"), expressions=[exp.Literal.number(i) for i in set_ids]))
    ) if set_ids else []
    factor_size = _widest(r[4] for r in factors)
    factors = [(*r[:5], list(_attributes(r[5]).items()), *r[6:]) for r in factors]
    _copy(ch, where, "factor", [
        ("factor_set_id", "Int64", pa.int64()), ("factor_id", "String", pa.string()), ("unit", "String", pa.string()),
        ("gas", "String", pa.string()), ("value", f"Decimal(76, {factor_size.scale})", pa.decimal256(76, factor_size.scale)),
        ("attributes", "Map(String, String)", pa.map_(pa.string(), pa.string())),
        ("region", "Nullable(String)", pa.string()), ("factor_year", "Nullable(Int32)", pa.int32()),
    ], factors, ["factor_set_id", "factor_id"])

    units = pg.rows(exp.select(column("name"), column("scale"), column("dimension")).from_(table("unit")))
    unit_size = _widest(r[1] for r in units)
    _copy(ch, where, "unit", [("name", "String", pa.string()), ("scale", f"Decimal(76, {unit_size.scale})", pa.decimal256(76, unit_size.scale)),
                       ("dimension", "String", pa.string())], units, ["name"])

    regions = pg.rows(exp.select(column("code")).from_(table("region")))
    _copy(ch, where, "region", [("code", "String", pa.string())], regions, ["code"])
    ancestors = pg.rows(exp.select(column("region"), column("ancestor"), column("depth")).from_(table("region_ancestor")))
    _copy(ch, where, "region_ancestor", [("region", "String", pa.string()), ("ancestor", "String", pa.string()), ("depth", "Int32", pa.int32())],
          ancestors, ["region", "ancestor"])

    lookup_sizes = _lookup_sizes(m, params, factors, {r[0]: (r[1], r[2]) for r in units})

    gwps = pg.rows(exp.select(column("gwp_set"), column("gas"), column("value")).from_(table("gwp"))
                   .where(exp.EQ(this=column("gwp_set"), expression=param("gwp_set"))), {"gwp_set": m.gwp})
    gwp_size = _widest(r[2] for r in gwps)
    gwp_sizes = {r[1]: size(r[2]) for r in gwps}
    _copy(ch, where, "gwp", [("gwp_set", "String", pa.string()), ("gas", "String", pa.string()),
                      ("value", f"Decimal(76, {gwp_size.scale})", pa.decimal256(76, gwp_size.scale))], gwps, ["gwp_set", "gas"])
    return InputSizes(field_sizes, base_digits, factor_size, lookup_sizes, unit_size, gwp_sizes, _copy_rates(pg, ch, m, where))


def copy_activity(pg: Executor, ch: ClickHouseExecutor, at: ir.ActivityType, params: dict[str, Any],
                  where: RunInputs) -> tuple[dict[str, Size], dict[str, int]]:
    """The activity rows of the run's loads into ``where``'s ``activity_<type>``, streamed from
    PostgreSQL's COPY into ClickHouse's insert; each quantity column's size and each quantity
    field's digits before the point in base units, over the rows copied."""
    names = [name for name, _ in csv_columns(at)]
    kinds = {name: ("text" if name != f.name else f.type.kind) for name, f in csv_columns(at)}
    field_sizes, base_digits = _measure(pg, at, names, kinds, params)
    columns = [("dataset", "String"), ("load_id", "Int64")] + [
        (n, f"Nullable(Decimal(76, {field_sizes[n].scale}))" if kinds[n] == "quantity" else _TYPES[kinds[n]]) for n in names]
    columns = [(n, "String" if n in ("activity_id", "entity") else t) for n, t in columns]
    name = f"activity_{at.id}"
    create_table(ch, where.name(name), columns, ["dataset", "load_id", "activity_id"], database=where.database)
    rows = exp.select(*[column(c) for c, _ in columns]).from_(activity_table(at)).where(of_run_loads())
    ch.insert_stream(where.table(name), [c for c, _ in columns], pg.copy_out(rows, params), "TabSeparated")
    return field_sizes, base_digits


def _measure(pg: Executor, at: ir.ActivityType, names: list[str], kinds: dict[str, str],
             params: dict[str, Any]) -> tuple[dict[str, Size], dict[str, int]]:
    """One aggregate over the run's activity rows in PostgreSQL: per quantity column its widest
    scale and digits (``dsl.numeric.size``: the display scale, trailing zeros included, and at
    least one digit before the point), per quantity field the most digits before the point of
    its values in base units (value × its unit's factor, exactly; 0 for a unit it does not
    convert), and the earliest and latest date of each date column."""
    def digits(e: exp.Expression) -> exp.Expression:  # the digits before the point of |e|: "0" has one
        return exp.Length(this=exp.Cast(this=exp.func("trunc", exp.Abs(this=e)), to=exp.DataType.build("TEXT")))

    def widest(e: exp.Expression) -> exp.Expression:
        return exp.Coalesce(this=exp.Max(this=e), expressions=[exp.Literal.number(0)])

    quantities = [n for n in names if kinds[n] == "quantity"]
    dates = [n for n in names if kinds[n] == "date"]
    measures: list[exp.Expression] = []
    for n in quantities:
        measures += [widest(exp.func("scale", column(n))), widest(digits(column(n)))]
    fields = [f for f in at.fields if f.type.kind == "quantity"]
    for f in fields:
        measures.append(widest(digits(exp.Mul(this=column(f.name), expression=_base_factor(f)))))
    for n in dates:
        measures += [exp.Min(this=column(n)), exp.Max(this=column(n))]
    if not measures:
        return {}, {}
    found = list(pg.one(exp.select(*measures).from_(activity_table(at)).where(of_run_loads()), params))  # type: ignore[arg-type]
    field_sizes = {n: Size(found.pop(0), max(1, found.pop(0))) for n in quantities}
    base_digits = {f.name: max(1, found.pop(0)) for f in fields}
    for n in dates:
        earliest, latest = found.pop(0), found.pop(0)
        outside = [d for d in (earliest, latest) if d is not None and not DATE_RANGE[0] <= d <= DATE_RANGE[1]]
        if outside:
            raise ClickHouseError(
                f"{at.id}'s {n} has the date {outside[0].isoformat()}, which ClickHouse's Date cannot hold (it holds "
                f"{DATE_RANGE[0].isoformat()} to {DATE_RANGE[1].isoformat()}): this run cannot be computed on ClickHouse")
    return field_sizes, base_digits


def _base_factor(f: ir.Field) -> exp.Expression:
    """A quantity field's factor to its base unit, per row: by its unit column (0 for a unit it
    does not convert, as the compile's proof counts it), else its fixed factor."""
    if not f.conversions:
        return number(Decimal(f.fixed_factor or 1))
    return exp.Case(this=column(f"{f.name}_unit"), ifs=[
        exp.If(this=text(c.unit), true=number(Decimal(c.factor))) for c in f.conversions], default=exp.Literal.number(0))


def _copy_rates(pg: Executor, ch: ClickHouseExecutor, m: ir.Methodology, where: RunInputs) -> Size:
    """The rate tables the methodology's currency conversions name, their rates with each value's
    text as PostgreSQL prints it (for the conversion notes), and the rates' size."""
    names = sorted({t for cv in m.conversions for t in (cv.exchange_rates, cv.price_index) if t})
    named = exp.In(this=column("table_id", "t"), expressions=[text(n) for n in names]) if names else exp.false()
    tables = pg.rows(exp.select(*[column(c, "t") for c in ("table_id", "kind", "reference_currency")]).from_(table("rate_table", alias="t")).where(named))
    rates = pg.rows(
        exp.select(column("table_id", "t"), column("kind", "t"), column("currency", "r"), column("year", "r"), column("value", "r"),
                   exp.Cast(this=column("value", "r"), to=exp.DataType.build("TEXT")))
        .from_(table("rate", alias="r")).join(table("rate_table", alias="t"), on=exp.EQ(
            this=column("rate_table_id", "r"), expression=column("rate_table_id", "t")), join_type="inner").where(named.copy()))
    rate_size = _widest(r[4] for r in rates)
    _copy(ch, where, "rate_table", [("table_id", "String", pa.string()), ("kind", "String", pa.string()),
                             ("reference_currency", "Nullable(String)", pa.string())], tables, ["table_id"])
    _copy(ch, where, "rate", [("table_id", "String", pa.string()), ("kind", "String", pa.string()), ("currency", "String", pa.string()),
                       ("year", "Int32", pa.int32()), ("value", f"Decimal(76, {rate_size.scale})", pa.decimal256(76, rate_size.scale)),
                       ("value_text", "String", pa.string())], rates, ["table_id", "currency", "year"])
    return rate_size


def _lookup_sizes(m: ir.Methodology, params: dict[str, Any], factors: list[tuple],
                  units: dict[str, tuple[Decimal, str]]) -> dict[str, Size]:
    """Per lookup, the size of every value it may read, in its ``per`` unit: every factor of its
    set whose unit has per's dimension and whose gas it reads. A factor stated per ``per`` is
    read as published (its own places); one stated per another unit is converted by ``div``
    (20 places, its digits those of value × scale(per) ÷ scale(unit), exactly, plus one for the
    rounding)."""
    out = {}
    for lk in m.lookups:
        per = parse_unit(lk.per)
        dimension, set_id = dimension_key(per.dimension), params[set_param(lk)]
        scale, digits = 0, 1
        for set_, _, unit, gas, value, *_ in factors:
            if set_ == set_id and gas in lk.gases and unit in units and units[unit][1] == dimension:
                if unit == lk.per:
                    scale, digits = max(scale, size(value).scale), max(digits, size(value).digits)
                else:
                    converted = Fraction(value) * per.scale / Fraction(units[unit][0])
                    scale, digits = max(scale, DIV_PLACES), max(digits, len(str(int(abs(converted)))) + 1)
        out[lk.name] = Size(scale, digits)
    return out


def _attributes(text_: str) -> dict[str, str]:
    """A factor's JSONB attributes as PostgreSQL's ``->>`` gives them: text as is, numbers as
    written (never through a float), true/false in lower case; a JSON null is no attribute."""
    def as_text(v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return str(v)

    parsed = json.loads(text_, parse_float=Decimal, parse_int=Decimal)
    return {k: t for k, v in parsed.items() if (t := as_text(v)) is not None}


__all__ = ["DATE_RANGE", "copy_activity", "copy_inputs"]
