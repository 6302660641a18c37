"""Contractual instruments allocated to activity rows on ClickHouse (market-based Scope 2), as
engine/compile/allocation.py allocates them on PostgreSQL: the same pools, the same order, the
same parts, the same outcome per activity row and the same ``instrument_allocation`` rows.

The allocation is one ordering of a pool's rows and instruments by running sums, so it is
computed where the run's rows are together (docs/scale-out.md: on one node). Written in
ClickHouse's terms, each step the same as PostgreSQL's:

- running sums: ``sum(q) OVER (PARTITION BY pool ORDER BY … ROWS BETWEEN UNBOUNDED PRECEDING AND
  CURRENT ROW)``, text ordered by its bytes (UTF-8: code point order, PostgreSQL's ``COLLATE "C"``);
- the pool's keys compared NULL-safe (``isNotDistinctFrom``, PostgreSQL's ``IS NOT DISTINCT
  FROM``) in the join, the overlap of two intervals in its WHERE (an inner join: the same rows);
- the year of a row and the vintage of an instrument both as decimals of the vintage column's
  scale (ClickHouse joins no two key types);
- a part's quantity at one scale in both branches of the UNION (``part_size``), every sum proven
  within 76 digits with room for 10^12 rows (``require``), or the run is refused;
- ``BOOL_OR`` over a row's parts as ``max(part_outcome = …)``; ``FILTER`` as ``sumIf``/``uniqExactIf``;
  PostgreSQL's correlated ``EXISTS`` (is there consumption in the instrument's boundary, in its
  vintage year) as LEFT JOINs to the distinct boundaries and boundary-years of the rows.

The ``instrument_allocation`` rows (one per instrument) are returned by a SELECT: the run writes
them to PostgreSQL's ``ccf.instrument_allocation`` with its catalogue (engine/clickhouse/run.py),
where reports, ``ccf runs delete`` and the run's instrument totals read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import Size
from ccf.engine.clickhouse import numeric
from ccf.engine.compile.allocation import activity_columns, instrument_unit
from ccf.engine.sql import column, ident, table, text

if TYPE_CHECKING:
    from ccf.engine.clickhouse.compile import Compiler


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _ref(name: str, alias: str) -> exp.Table:
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=ident(alias)))


def _at(e: exp.Expression, scale: int) -> exp.Expression:
    return _fn("toDecimal256", e, exp.Literal.number(scale))


def _pool_year(c: "Compiler") -> int:
    """The scale pool years are compared at: the vintage column's."""
    ins = c.m.instruments
    assert ins is not None
    return c.quantity_size(ir.instrument_column(ins.vintage)).scale


def _row_year(alias: str, scale: int) -> exp.Expression:
    return _at(_fn("toYear", column("period_start", alias)), scale)


def _same_boundary(ins: ir.Instruments, left: str, right: str) -> list[exp.Expression]:
    return [_fn("isNotDistinctFrom", column(f, left), column(f, right)) for f in ins.match]


def _laid(ins: ir.Instruments, source: str, year: exp.Expression, order: list[exp.Expression]) -> exp.Select:
    """Pool keys, quantity and the running sum of quantity within the pool."""
    upto = exp.Window(
        this=_fn("sum", column(ins.allocate, "s")),
        partition_by=[column(f, "s") for f in ins.match] + [year.copy()],
        order=exp.Order(expressions=order),
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
    )
    return exp.select(
        exp.alias_(column("activity_id", "s"), "activity_id"), *[exp.alias_(column(f, "s"), f) for f in ins.match],
        exp.alias_(year, "pool_year"),
        exp.alias_(column(ins.allocate, "s"), "total"), exp.alias_(upto, "upto"),
    ).from_(_ref(source, "s"))


def _start(alias: str) -> exp.Expression:
    return exp.Paren(this=exp.Sub(this=column("upto", alias), expression=column("total", alias)))


def allocation_ctes(c: "Compiler") -> list[tuple[str, exp.Expression]]:
    """The CTEs that replace the ``activity`` step for a methodology with instruments:
    ``consumption``, ``instrument``, ``consumption_laid``, ``instrument_laid``, ``allocation``
    (one row per activity row and instrument with a positive overlap) and ``activity`` (the parts)."""
    ins = c.m.instruments
    assert ins is not None
    own, held = c.allocated_sizes()
    running = Size(max(own.scale, held.scale), max(own.digits, held.digits) + numeric.SUM_DIGITS)
    c.require(numeric.holds(running), "the running sums of the allocation of instruments")
    years = _pool_year(c)
    c_laid = _laid(ins, "consumption", _row_year("s", years), [column("period_start", "s"), column("activity_id", "s")])
    i_laid = _laid(ins, "instrument", _at(column(ins.vintage, "s"), years), [column("activity_id", "s")])
    same_pool = exp.and_(*_same_boundary(ins, "c", "i"), exp.EQ(this=column("pool_year", "c"), expression=column("pool_year", "i")))
    overlap = exp.and_(
        exp.GT(this=column("total", "c"), expression=exp.Literal.number(0)),
        exp.GT(this=column("total", "i"), expression=exp.Literal.number(0)),
        exp.LT(this=_start("c"), expression=column("upto", "i")),
        exp.LT(this=_start("i"), expression=column("upto", "c")),
    )
    allocated = exp.Sub(this=exp.Least(this=column("upto", "c"), expressions=[column("upto", "i")]),
                        expression=exp.Greatest(this=_start("c"), expressions=[_start("i")]))
    part_no = exp.Window(this=exp.RowNumber(), partition_by=[column("activity_id", "c")],
                         order=exp.Order(expressions=[column("upto", "i")]))
    allocation = (
        exp.select(exp.alias_(column("activity_id", "c"), "activity_id"), exp.alias_(column("activity_id", "i"), "instrument_id"),
                   exp.alias_(allocated, "allocated"), exp.alias_(part_no, "part_no"))
        .from_(_ref("consumption_laid", "c"))
        .join(_ref("instrument_laid", "i"), on=same_pool, join_type="inner")
        .where(overlap)
    )
    return [
        ("consumption", c.activity()),
        ("instrument", c.activity(ins.activity, ir.instrument_column)),
        ("consumption_laid", c_laid),
        ("instrument_laid", i_laid),
        ("allocation", allocation),
        ("activity", _parts(c, ins)),
    ]


def _parts(c: "Compiler", ins: ir.Instruments) -> exp.Expression:
    """Certificate parts, then the remainder of each row (UNION ALL), each part's quantity at
    ``part_size``'s scale in both branches."""
    own = activity_columns(c.m.activity)
    inst = [x for x in activity_columns(ins.activity) if x != "unit_conversion"]
    scale = c.part_size().scale

    def row_cols(quantity: exp.Expression) -> list[exp.Expression]:
        # each named: a UNION's columns are named by its first SELECT, 'c.entity' there
        return [exp.alias_(_at(quantity, scale) if x == ins.allocate else column(x, "c"), x) for x in own]

    covered = (
        exp.select(*row_cols(column("allocated", "al")),
                   *[exp.alias_(column(x, "i"), ir.instrument_column(x)) for x in inst], exp.alias_(column("part_no", "al"), "part_no"))
        .from_(_ref("consumption", "c"))
        .join(_ref("allocation", "al"), on=exp.EQ(this=column("activity_id", "al"), expression=column("activity_id", "c")), join_type="inner")
        .join(_ref("instrument", "i"), on=exp.EQ(this=column("activity_id", "i"), expression=column("instrument_id", "al")), join_type="inner")
    )
    # 'received', not 'allocated': a ClickHouse alias naming the column it sums would be read inside its own sum
    per_row = (exp.select(column("activity_id"), exp.alias_(_fn("sum", column("allocated")), "received"), exp.alias_(_fn("count"), "parts"))
               .from_(exp.Table(this=ident("allocation"))).group_by(column("activity_id")))
    rest = exp.Sub(this=column(ins.allocate, "c"),
                   expression=exp.Coalesce(this=column("received", "s"), expressions=[_at(text("0"), scale)]))
    remainder = (
        exp.select(*row_cols(rest), *[exp.alias_(exp.Null(), ir.instrument_column(x)) for x in inst],
                   exp.alias_(exp.Add(this=exp.Coalesce(this=column("parts", "s"), expressions=[exp.Literal.number(0)]),
                                      expression=exp.Literal.number(1)), "part_no"))
        .from_(_ref("consumption", "c"))
        .join(exp.Subquery(this=per_row, alias=exp.TableAlias(this=ident("s"))),
              on=exp.EQ(this=column("activity_id", "s"), expression=column("activity_id", "c")), join_type="left")
        .where(exp.or_(exp.Is(this=column("activity_id", "s"), expression=exp.Null()),
                       exp.GT(this=column(ins.allocate, "c"), expression=column("received", "s"))))
    )
    return exp.union(covered, remainder, distinct=False)


def part_columns(m: ir.Methodology, row: str) -> list[exp.Expression]:
    """Columns the ``evaluated`` step carries for each part: its number, instrument and quantity."""
    ins = m.instruments
    assert ins is not None
    return [column("part_no", row), exp.alias_(column(ir.instrument_column("activity_id"), row), "instrument_id"),
            exp.alias_(column(ins.allocate, row), "part_quantity")]


def row_outcome_ctes(part_outcome: exp.Expression) -> tuple[list[tuple[str, exp.Expression]], exp.Select]:
    """One outcome per activity row from its parts' outcomes (unmatched if any part is, else
    excluded if any is, else result); the final select of the evaluation table. ``outcome`` is
    'result' on every part of a result row, the row's outcome on one representative part of an
    excluded or unmatched row (the first part not of the row's outcome, by part number, as on
    PostgreSQL), and 'part' on its other parts."""
    parted = exp.select(exp.Column(this=exp.Star(), table=ident("c")), exp.alias_(part_outcome, "part_outcome")).from_(_ref("checked", "c"))
    any_is = lambda o: exp.EQ(this=exp.Window(  # noqa: E731
        this=_fn("max", exp.EQ(this=column("part_outcome", "p"), expression=text(o))), partition_by=[column("activity_id", "p")]),
        expression=exp.Literal.number(1))
    row = exp.Case(ifs=[exp.If(this=any_is("unmatched"), true=text("unmatched")), exp.If(this=any_is("excluded"), true=text("excluded"))],
                   default=text("result"))
    rowed = exp.select(exp.Column(this=exp.Star(), table=ident("p")), exp.alias_(row, "row_outcome")).from_(_ref("parted", "p"))
    first = exp.Window(this=exp.RowNumber(), partition_by=[column("activity_id", "r")], order=exp.Order(expressions=[
        exp.NEQ(this=column("part_outcome", "r"), expression=column("row_outcome", "r")), column("part_no", "r")]))
    outcome = exp.Case(ifs=[
        exp.If(this=exp.EQ(this=column("row_outcome", "r"), expression=text("result")), true=text("result")),
        exp.If(this=exp.EQ(this=first, expression=exp.Literal.number(1)), true=column("row_outcome", "r")),
    ], default=text("part"))
    final = exp.select(exp.Column(this=exp.Star(), table=ident("r")), exp.alias_(outcome, "outcome")).from_(_ref("rowed", "r"))
    return [("parted", parted), ("rowed", rowed)], final


ALLOCATION_COLUMNS = ("instrument_id", "entity", "unit", "quantity", "allocated", "unallocated", "allocated_rows", "reason_code", "reason")


def allocation_statement(c: "Compiler", eval_table: str) -> exp.Expression:
    """A SELECT of the ``instrument_allocation`` rows (``ALLOCATION_COLUMNS``): every instrument of
    the dataset, what it gave to reported rows and what is left, with PostgreSQL's reason
    (``allocated``, ``unreported_row``, ``market_boundary``, ``vintage``, ``surplus``)."""
    ins = c.m.instruments
    assert ins is not None
    unit, scale = instrument_unit(ins)
    held = c.quantity_size(ir.instrument_column(ins.allocate))
    part = c.part_size()

    def to_unit(e: exp.Expression, s: Size) -> exp.Expression:
        out, _ = c.rescaled(e, s, 1 / scale, f"the instruments' {ins.allocate} in {unit}")
        return out

    e = lambda name: column(name, "e")  # noqa: E731
    reported = exp.EQ(this=e("row_outcome"), expression=text("result"))
    used = (
        exp.select(e("instrument_id"),
                   exp.alias_(_fn("sumIf", e("part_quantity"), reported), "given"),
                   exp.alias_(_fn("sumIf", e("part_quantity"), exp.not_(reported.copy())), "unreported"),
                   exp.alias_(_fn("uniqExactIf", e("activity_id"), reported.copy()), "given_rows"))
        .from_(table(eval_table, alias="e")).where(exp.Not(this=exp.Is(this=e("instrument_id"), expression=exp.Null())))
        .group_by(e("instrument_id"))
    )
    years = _pool_year(c)
    boundaries = exp.select(*[column(f, "c") for f in ins.match], exp.alias_(exp.Literal.number(1), "found")).distinct().from_(
        _ref("consumption", "c"))
    in_year = exp.select(*[column(f, "c") for f in ins.match], exp.alias_(_row_year("c", years), "pool_year"),
                         exp.alias_(exp.Literal.number(1), "found")).distinct().from_(_ref("consumption", "c"))
    given = exp.Coalesce(this=column("given", "u"), expressions=[_at(text("0"), part.scale)])
    left = exp.Sub(this=column(ins.allocate, "i"), expression=given.copy())
    left_size = Size(max(held.scale, part.scale), max(held.digits, part.digits) + 1)
    c.require(numeric.holds(left_size), "the instruments' unallocated volume")
    no_boundary = exp.Is(this=column("found", "b"), expression=exp.Null())
    no_year = exp.Is(this=column("found", "y"), expression=exp.Null())
    to_unreported = exp.GT(this=exp.Coalesce(this=column("unreported", "u"), expressions=[_at(text("0"), part.scale)]),
                           expression=exp.Literal.number(0))
    none_left = exp.EQ(this=left.copy(), expression=exp.Literal.number(0))
    boundary = ", ".join(ins.match)
    code = exp.Case(ifs=[
        exp.If(this=none_left.copy(), true=text("allocated")), exp.If(this=to_unreported.copy(), true=text("unreported_row")),
        exp.If(this=no_boundary.copy(), true=text("market_boundary")), exp.If(this=no_year.copy(), true=text("vintage")),
    ], default=text("surplus"))
    reason = exp.Case(ifs=[
        exp.If(this=none_left, true=text("fully allocated")),
        exp.If(this=to_unreported, true=text("allocated to consumption rows that are unmatched or excluded as a whole (see ccf.unmatched), "
                                              "so applied to no reported emission")),
        exp.If(this=no_boundary, true=text(f"no consumption in the instrument's market boundary ({boundary})")),
        exp.If(this=no_year, true=text(f"no consumption in its market boundary ({boundary}) in its vintage year")),
    ], default=text(f"more instrument volume than consumption in its market boundary ({boundary}) and vintage year"))
    q = (
        exp.select(column("activity_id", "i"), column("entity", "i"), text(unit), to_unit(column(ins.allocate, "i"), held),
                   to_unit(given, part), to_unit(left, left_size),
                   exp.Coalesce(this=column("given_rows", "u"), expressions=[exp.Literal.number(0)]), code, reason)
        .from_(_ref("instrument", "i"))
        .join(exp.Subquery(this=used, alias=exp.TableAlias(this=ident("u"))),
              on=exp.EQ(this=column("instrument_id", "u"), expression=column("activity_id", "i")), join_type="left")
        .join(exp.Subquery(this=boundaries, alias=exp.TableAlias(this=ident("b"))), on=exp.and_(*_same_boundary(ins, "b", "i")),
              join_type="left")
        .join(exp.Subquery(this=in_year, alias=exp.TableAlias(this=ident("y"))), on=exp.and_(
            *_same_boundary(ins, "y", "i"), exp.EQ(this=column("pool_year", "y"), expression=_at(column(ins.vintage, "i"), years))),
              join_type="left")
        .with_("consumption", as_=c.activity())
        .with_("instrument", as_=c.activity(ins.activity, ir.instrument_column))
    )
    return q


__all__ = ["ALLOCATION_COLUMNS", "allocation_ctes", "allocation_statement", "part_columns", "row_outcome_ctes"]
