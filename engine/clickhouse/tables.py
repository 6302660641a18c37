"""The ClickHouse tables of a run and its inputs copied into them from PostgreSQL.

Built (docs/scale-out.md): the activity rows of the run's loads, the factor rows of the editions
the run binds, the unit table and the GWP set, read in the run's PostgreSQL snapshot (loads,
rejections and factor installs stay ccf's PostgreSQL ones) and written to MergeTree tables
ordered by dataset (activity) or factor set; the results to ``result_row``, ``excluded`` and
``unmatched``, ordered by run and methodology.

A decimal column's scale is the widest scale of the values copied into it, and the copy
measures their sizes (``InputSizes``) for the compile's proof: Arrow refuses to store a value in
fewer places than it has, so nothing is rounded on the way in.
"""

from __future__ import annotations

import json
from decimal import Decimal, localcontext
from typing import Any, Iterable

import pyarrow as pa
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import DIV_PLACES, EXACT, Size, size
from fractions import Fraction

from ccf.dsl.units import dimension_key, parse_unit
from ccf.engine.clickhouse import numeric
from ccf.engine.clickhouse.compile import RESULT_SCALE, InputSizes
from ccf.engine.compile.activity import of_run_loads
from ccf.engine.compile.lookups import set_param
from ccf.engine.load.tables import activity_table, csv_columns
from ccf.engine.sql import ClickHouseExecutor, Executor, column, ident, param, table, text

DATABASE = "ccf"
_TYPES = {"text": ("Nullable(String)", pa.string()), "date": ("Nullable(Date)", pa.date32()), "boolean": ("Nullable(Bool)", pa.bool_())}


def _decimal(scale: int) -> tuple[str, pa.DataType]:
    return f"Nullable(Decimal(76, {scale}))", pa.decimal256(76, scale)


def _widest(values: Iterable[Decimal | None]) -> Size:
    return numeric.widest(Size(0, 1), *(size(v) for v in values if v is not None))  # type: ignore[return-value]


def _create(ch: ClickHouseExecutor, name: str, columns: list[tuple[str, str]], order_by: list[str],
            partition_by: str | None = None) -> None:
    """A MergeTree table made anew (a run's inputs), or made if missing where ``partition_by``
    (the result tables, a partition per run, which outlive the run)."""
    if partition_by is None:
        ch.execute(exp.Drop(tables=[table(name, DATABASE)], kind="TABLE", exists=True))
    partition = [exp.PartitionedByProperty(this=column(partition_by))] if partition_by else []
    create = exp.Create(
        this=exp.Schema(this=table(name, DATABASE), expressions=[
            exp.ColumnDef(this=ident(c), kind=exp.DataType.build(t, dialect="clickhouse")) for c, t in columns]),
        kind="TABLE",
        exists=partition_by is not None,
        properties=exp.Properties(expressions=[
            exp.EngineProperty(this=exp.var("MergeTree")),
            *partition,
            exp.Order(expressions=[exp.Ordered(this=exp.Tuple(expressions=[ident(c) for c in order_by]))]),
        ]),
    )
    ch.execute(create)


def _copy(ch: ClickHouseExecutor, name: str, columns: list[tuple[str, str, pa.DataType]], rows: list[tuple],
          order_by: list[str]) -> None:
    _create(ch, name, [(c, t) for c, t, _ in columns], order_by)
    if rows:
        arrays = [pa.array([r[i] for r in rows], type=a) for i, (_, _, a) in enumerate(columns)]
        ch.insert_arrow(table(name, DATABASE), pa.Table.from_arrays(arrays, names=[c for c, _, _ in columns]))


def copy_inputs(pg: Executor, ch: ClickHouseExecutor, m: ir.Methodology, params: dict[str, Any]) -> InputSizes:
    """The run's activity rows, factors, units and GWPs into ClickHouse, and their sizes."""
    ch.execute(exp.Command(this="CREATE", expression=f"DATABASE IF NOT EXISTS {DATABASE}"))
    field_sizes: dict[str, Size] = {}
    base_digits: dict[str, int] = {}
    # the rows, and with instruments (market-based allocation) the instruments' rows too: their
    # sizes keyed by the column the rules read them from (``instrument__<field>``)
    for at, key in [(m.activity, str), *([(m.instruments.activity, ir.instrument_column)] if m.instruments is not None else [])]:
        names = [name for name, _ in csv_columns(at)]
        rows = pg.rows(exp.select(*[column(c) for c in ("dataset", "load_id", *names)]).from_(activity_table(at)).where(of_run_loads()), params)
        kinds = {name: ("text" if name != f.name else f.type.kind) for name, f in csv_columns(at)}
        sizes = {n: _widest(r[i + 2] for r in rows) for i, n in enumerate(names) if kinds[n] == "quantity"}
        field_sizes |= {key(n): s for n, s in sizes.items()}
        base_digits |= {key(f.name): _base_digits(f, rows, names) for f in at.fields if f.type.kind == "quantity"}
        cols = [("dataset", "String", pa.string()), ("load_id", "Int64", pa.int64())] + [
            (n, *(_decimal(sizes[n].scale) if kinds[n] == "quantity" else _TYPES[kinds[n]])) for n in names
        ]
        cols = [(n, t.replace("Nullable(String)", "String") if n in ("activity_id", "entity") else t, a) for n, t, a in cols]
        _copy(ch, f"activity_{at.id}", cols, rows, ["dataset", "load_id", "activity_id"])

    set_ids = sorted({v for k, v in params.items() if k.startswith("factor_set_id") and v is not None})
    factors = pg.rows(
        exp.select(*[column(c) for c in ("factor_set_id", "factor_id", "unit", "gas", "value")],
                   exp.Cast(this=column("attributes"), to=exp.DataType.build("TEXT")), column("region"), column("factor_year"))
        .from_(table("factor")).where(exp.In(this=column("factor_set_id"), expressions=[exp.Literal.number(i) for i in set_ids]))
    ) if set_ids else []
    factor_size = _widest(r[4] for r in factors)
    factors = [(*r[:5], list(_attributes(r[5]).items()), *r[6:]) for r in factors]
    _copy(ch, "factor", [
        ("factor_set_id", "Int64", pa.int64()), ("factor_id", "String", pa.string()), ("unit", "String", pa.string()),
        ("gas", "String", pa.string()), ("value", f"Decimal(76, {factor_size.scale})", pa.decimal256(76, factor_size.scale)),
        ("attributes", "Map(String, String)", pa.map_(pa.string(), pa.string())),
        ("region", "Nullable(String)", pa.string()), ("factor_year", "Nullable(Int32)", pa.int32()),
    ], factors, ["factor_set_id", "factor_id"])

    units = pg.rows(exp.select(column("name"), column("scale"), column("dimension")).from_(table("unit")))
    unit_size = _widest(r[1] for r in units)
    _copy(ch, "unit", [("name", "String", pa.string()), ("scale", f"Decimal(76, {unit_size.scale})", pa.decimal256(76, unit_size.scale)),
                       ("dimension", "String", pa.string())], units, ["name"])

    regions = pg.rows(exp.select(column("code")).from_(table("region")))
    _copy(ch, "region", [("code", "String", pa.string())], regions, ["code"])
    ancestors = pg.rows(exp.select(column("region"), column("ancestor"), column("depth")).from_(table("region_ancestor")))
    _copy(ch, "region_ancestor", [("region", "String", pa.string()), ("ancestor", "String", pa.string()), ("depth", "Int32", pa.int32())],
          ancestors, ["region", "ancestor"])

    lookup_sizes = _lookup_sizes(m, params, factors, {r[0]: (r[1], r[2]) for r in units})

    gwps = pg.rows(exp.select(column("gwp_set"), column("gas"), column("value")).from_(table("gwp"))
                   .where(exp.EQ(this=column("gwp_set"), expression=param("gwp_set"))), {"gwp_set": m.gwp})
    gwp_size = _widest(r[2] for r in gwps)
    gwp_sizes = {r[1]: size(r[2]) for r in gwps}
    _copy(ch, "gwp", [("gwp_set", "String", pa.string()), ("gas", "String", pa.string()),
                      ("value", f"Decimal(76, {gwp_size.scale})", pa.decimal256(76, gwp_size.scale))], gwps, ["gwp_set", "gas"])
    return InputSizes(field_sizes, base_digits, factor_size, lookup_sizes, unit_size, gwp_sizes, _copy_rates(pg, ch, m))


def _copy_rates(pg: Executor, ch: ClickHouseExecutor, m: ir.Methodology) -> Size:
    """The rate tables the methodology's currency conversions name, their rates with each value's
    text as PostgreSQL prints it (for the conversion notes), and the rates' size."""
    names = sorted({t for cv in m.conversions for t in (cv.exchange_rates, cv.price_index) if t})
    where = exp.In(this=column("table_id", "t"), expressions=[text(n) for n in names]) if names else exp.false()
    tables = pg.rows(exp.select(*[column(c, "t") for c in ("table_id", "kind", "reference_currency")]).from_(table("rate_table", alias="t")).where(where))
    rates = pg.rows(
        exp.select(column("table_id", "t"), column("kind", "t"), column("currency", "r"), column("year", "r"), column("value", "r"),
                   exp.Cast(this=column("value", "r"), to=exp.DataType.build("TEXT")))
        .from_(table("rate", alias="r")).join(table("rate_table", alias="t"), on=exp.EQ(
            this=column("rate_table_id", "r"), expression=column("rate_table_id", "t")), join_type="inner").where(where.copy()))
    rate_size = _widest(r[4] for r in rates)
    _copy(ch, "rate_table", [("table_id", "String", pa.string()), ("kind", "String", pa.string()),
                             ("reference_currency", "Nullable(String)", pa.string())], tables, ["table_id"])
    _copy(ch, "rate", [("table_id", "String", pa.string()), ("kind", "String", pa.string()), ("currency", "String", pa.string()),
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


def _base_digits(f: ir.Field, rows: list[tuple], names: list[str]) -> int:
    """The most digits before the point of a quantity field's values in base units (value ×
    its unit's factor, exactly), over the rows copied."""
    factors = {c.unit: Decimal(c.factor) for c in f.conversions}
    value_at, unit_at = names.index(f.name) + 2, (names.index(f"{f.name}_unit") + 2 if factors else None)
    widest = 1
    with localcontext(EXACT):
        for r in rows:
            if r[value_at] is None:
                continue
            factor = factors.get(r[unit_at], Decimal(0)) if unit_at is not None else Decimal(f.fixed_factor or 1)
            widest = max(widest, size(r[value_at] * factor).digits)
    return widest


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


RESULT_TABLES = ("result_row", "excluded", "unmatched")  # a run's rows on ClickHouse, a partition per run


def ensure_result_tables(ch: ClickHouseExecutor) -> None:
    """ccf.result_row (migration 0019's layout, every number a Decimal(76, 40)), excluded and
    unmatched, made if missing: MergeTree ordered by (run_id, methodology_id, activity_id), a
    partition per run, so a run's rows are read together and deleted whole (``drop_run``)."""
    ch.execute(exp.Command(this="CREATE", expression=f"DATABASE IF NOT EXISTS {DATABASE}"))
    num = f"Nullable(Decimal(76, {RESULT_SCALE}))"
    cols = [("run_id", "Int64"), ("methodology_id", "String"), ("activity_id", "String"), ("entity", "String"),
            ("period_start", "Nullable(Date)"), ("rule_id", "String"), ("unit_conversion", "Nullable(String)"),
            ("data_quality", "Nullable(Int16)"), ("total_co2e_kg", num), ("instrument_id", "Nullable(String)")]
    for gas in ir.GAS_ORDER:
        g = gas.lower()
        cols += [(f"{g}_kg", num), (f"{g}_gwp", num), (f"{g}_co2e_kg", num), (f"{g}_factor_ids", "Array(Nullable(String))"),
                 (f"{g}_match_level", "Nullable(String)"), (f"{g}_factor_set", "Nullable(String)")]
    keys = ["run_id", "methodology_id", "activity_id"]
    _create(ch, "result_row", cols, keys, "run_id")
    # a folder made before instruments were compiled (each part names its instrument)
    ch.execute(exp.Command(this="ALTER", expression=f"TABLE {DATABASE}.result_row ADD COLUMN IF NOT EXISTS instrument_id Nullable(String)"))
    _create(ch, "excluded", [("run_id", "Int64"), ("methodology_id", "String"), ("activity_id", "String"),
                             ("rule_id", "String"), ("reason", "String")], keys, "run_id")
    _create(ch, "unmatched", [("run_id", "Int64"), ("methodology_id", "String"), ("activity_id", "String"),
                              ("rule_id", "Nullable(String)"), ("reason_code", "String"), ("reason", "String")], keys, "run_id")


def drop_run(ch: ClickHouseExecutor, run_id: int) -> dict[str, int]:
    """Delete a run's rows: its partition of each result table (none there: nothing to do); the
    rows each held."""
    out = {}
    for name in RESULT_TABLES:
        count = exp.select(exp.Count(this=exp.Star())).from_(table(name, DATABASE)).where(
            exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id)))
        out[name] = ch.rows(count)[0][0]
        ch.execute(exp.Alter(this=table(name, DATABASE), kind="TABLE", actions=[
            exp.DropPartition(expressions=[exp.Partition(expressions=[exp.Literal.number(run_id)])])]))
    return out


__all__ = ["DATABASE", "RESULT_TABLES", "copy_inputs", "drop_run", "ensure_result_tables"]
