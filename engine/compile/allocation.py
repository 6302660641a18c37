"""Allocate contractual instruments to activity rows, set-based (market-based Scope 2).

A methodology with an ``instruments`` section (``ir.Instruments``) gets extra CTEs at the head
of its ``evaluate`` statement, and one extra statement; every other methodology compiles exactly
as before. GHG Protocol Scope 2 Guidance (2015), chapter 7 (market-based method) and the Scope 2
Quality Criteria (chapter 7.1) it can check from data:

- **pools** — an instrument can only serve consumption with the same ``match`` fields (the market
  boundary: country, grid region; and the entity that holds it), and whose period starts in the
  instrument's vintage year (the Quality Criteria ask for instruments close in time to the
  consumption; ccf's rule is the same calendar year);
- **laying end to end** — within a pool, consumption rows are ordered by (period_start,
  activity_id) and instruments by activity_id, text by code point; running sums (window
  functions) give each one an interval [upto - quantity, upto) on one axis;
- **overlap** — a row receives from an instrument the length of the intersection of their
  intervals. Instrument intervals do not overlap one another, so no instrument quantity is
  counted twice, and a row never receives more than it consumed.

CTEs, in order:

``consumption``       the activity rows in base units (the ``activity`` step, activity.py);
``instrument``        the instruments of the dataset, in base units;
``consumption_laid``, ``instrument_laid``  pool keys, quantity and running sum;
``allocation``        one row per (activity row, instrument) with a positive overlap;
``activity``          the parts the rules see: one per allocation (the allocated quantity,
                      ``instrument__<field>`` columns) and the remainder not covered (instrument
                      columns NULL), when positive or when nothing was allocated.

After the rules, ``parted``/``rowed`` decide each activity row's one outcome from its parts:
unmatched if any part is unmatched, else excluded if any is excluded, else result. Excluded and
unmatched rows are written once (by a representative part); result rows once per part and gas.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.units import parse_unit
from ccf.engine.compile.activity import activity_cte
from ccf.engine.compile.expressions import scale_sql
from ccf.engine.sql import column, ident, param, table, text

STANDARD = ("activity_id", "entity", "period_start", "period_end")
ENERGY = parse_unit("MWh")


def _ref(name: str, alias: str) -> exp.Table:
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=ident(alias)))


def activity_columns(at: ir.ActivityType) -> list[str]:
    """The columns of the ``activity`` step (activity.py) for an activity type, in order."""
    return [*STANDARD, *(f.name for f in at.fields if f.name not in STANDARD), "unit_conversion"]


def _laid(source: str, ins: ir.Instruments, year: exp.Expression, order: list[exp.Expression]) -> exp.Select:
    """Pool keys, quantity and the running sum of quantity within the pool."""
    pool = [column(f, "s") for f in ins.match] + [year]
    upto = exp.Window(
        this=exp.Sum(this=column(ins.allocate, "s")),
        partition_by=pool,
        order=exp.Order(expressions=order),
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
    )
    return exp.select(
        column("activity_id", "s"),
        *[column(f, "s") for f in ins.match],
        exp.alias_(year.copy(), "pool_year"),
        exp.alias_(column(ins.allocate, "s"), "total"),
        exp.alias_(upto, "upto"),
    ).from_(_ref(source, "s"))


def _by_code_point(e: exp.Expression) -> exp.Expression:
    """Text ordered by code point whatever the database's collation (the reference does too)."""
    return exp.Collate(this=e, expression=exp.Identifier(this="C", quoted=True))


def _start(alias: str) -> exp.Expression:
    return exp.Paren(this=exp.Sub(this=column("upto", alias), expression=column("total", alias)))


def allocation_ctes(m: ir.Methodology) -> list[tuple[str, exp.Expression]]:
    """The CTEs that replace the ``activity`` step (activity.py) for a methodology with instruments."""
    ins = m.instruments
    assert ins is not None
    consumption = activity_cte(m)
    instrument = activity_cte(dataclasses.replace(m, activity=ins.activity))
    year = exp.Extract(this=exp.var("YEAR"), expression=column("period_start", "s"))
    c_laid = _laid("consumption", ins, year, [column("period_start", "s"), _by_code_point(column("activity_id", "s"))])
    i_laid = _laid("instrument", ins, column(ins.vintage, "s"), [_by_code_point(column("activity_id", "s"))])
    same_pool = [exp.NullSafeEQ(this=column(f, "c"), expression=column(f, "i")) for f in ins.match]
    same_pool.append(exp.EQ(this=column("pool_year", "c"), expression=column("pool_year", "i")))
    overlap = [
        exp.GT(this=column("total", "c"), expression=exp.Literal.number(0)),
        exp.GT(this=column("total", "i"), expression=exp.Literal.number(0)),
        exp.LT(this=_start("c"), expression=column("upto", "i")),
        exp.LT(this=_start("i"), expression=column("upto", "c")),
    ]
    allocated = exp.Sub(
        this=exp.Least(this=column("upto", "c"), expressions=[column("upto", "i")]),
        expression=exp.Greatest(this=_start("c"), expressions=[_start("i")]),
    )
    part_no = exp.Window(
        this=exp.RowNumber(),
        partition_by=[column("activity_id", "c")],
        order=exp.Order(expressions=[column("upto", "i")]),
    )
    allocation = (
        exp.select(
            exp.alias_(column("activity_id", "c"), "activity_id"),
            exp.alias_(column("activity_id", "i"), "instrument_id"),
            exp.alias_(allocated, "allocated"),
            exp.alias_(part_no, "part_no"),
        )
        .from_(_ref("consumption_laid", "c"))
        .join(_ref("instrument_laid", "i"), on=exp.and_(*same_pool, *overlap))
    )
    ctes: list[tuple[str, exp.Expression]] = [
        ("consumption", consumption),
        ("instrument", instrument),
        ("consumption_laid", c_laid),
        ("instrument_laid", i_laid),
        ("allocation", allocation),
        ("activity", _parts(m, ins)),
    ]
    return ctes


def _parts(m: ir.Methodology, ins: ir.Instruments) -> exp.Expression:
    """Certificate parts, then the remainder of each row (UNION ALL)."""
    own = activity_columns(m.activity)
    inst = [c for c in activity_columns(ins.activity) if c != "unit_conversion"]

    def row_cols(quantity: exp.Expression) -> list[exp.Expression]:
        return [exp.alias_(quantity, c) if c == ins.allocate else column(c, "c") for c in own]

    covered = (
        exp.select(
            *row_cols(column("allocated", "al")),
            *[exp.alias_(column(c, "i"), ir.instrument_column(c)) for c in inst],
            column("part_no", "al"),
        )
        .from_(_ref("consumption", "c"))
        .join(_ref("allocation", "al"), on=exp.EQ(this=column("activity_id", "al"), expression=column("activity_id", "c")))
        .join(_ref("instrument", "i"), on=exp.EQ(this=column("activity_id", "i"), expression=column("instrument_id", "al")))
    )
    per_row = (
        exp.select(
            column("activity_id"),
            exp.alias_(exp.Sum(this=column("allocated")), "allocated"),
            exp.alias_(exp.Count(this=exp.Star()), "parts"),
        )
        .from_(exp.Table(this=ident("allocation")))
        .group_by(column("activity_id"))
    )
    rest = exp.Sub(
        this=column(ins.allocate, "c"),
        expression=exp.Coalesce(this=column("allocated", "s"), expressions=[exp.Literal.number(0)]),
    )
    remainder = (
        exp.select(
            *row_cols(rest),
            *[exp.alias_(exp.Null(), ir.instrument_column(c)) for c in inst],
            exp.alias_(
                exp.Add(
                    this=exp.Coalesce(this=column("parts", "s"), expressions=[exp.Literal.number(0)]),
                    expression=exp.Literal.number(1),
                ),
                "part_no",
            ),
        )
        .from_(_ref("consumption", "c"))
        .join(
            exp.Subquery(this=per_row, alias=exp.TableAlias(this=ident("s"))),
            on=exp.EQ(this=column("activity_id", "s"), expression=column("activity_id", "c")),
            join_type="left",
        )
        .where(
            exp.or_(
                exp.Is(this=column("activity_id", "s"), expression=exp.Null()),
                exp.GT(this=column(ins.allocate, "c"), expression=column("allocated", "s")),
            )
        )
    )
    return exp.union(covered, remainder, distinct=False)


def part_columns(m: ir.Methodology, row: str) -> list[exp.Expression]:
    """Columns the ``evaluated`` step carries for each part: its number, instrument and quantity."""
    ins = m.instruments
    assert ins is not None
    return [
        column("part_no", row),
        exp.alias_(column(ir.instrument_column("activity_id"), row), "instrument_id"),
        exp.alias_(column(ins.allocate, row), "part_quantity"),
    ]


def reads_instrument(value: ir.Node) -> bool:
    """Whether an emission reads a field of the instrument its part was allocated (a rate the
    instrument conveys, as market-based Scope 2's certificate rule does)."""
    prefix = ir.instrument_column("")
    return any(isinstance(leaf, ir.FieldRef) and leaf.name.startswith(prefix) for leaf in ir.leaves(value))


def instrument_source(m: ir.Methodology, row: str) -> exp.Expression:
    """The source a part that takes its rate from its instrument names, in place of a factor
    set: 'instrument <type> <id>' from the instrument's own row (its type where the instruments'
    activity type has one, as energy_attribute_certificates does). The id leads to the
    instrument's row, its registry and the rate it conveys, which ``ccf explain`` shows; a
    registry's serial ranges are too long for a source column."""
    ins = m.instruments
    assert ins is not None
    named = [column(ir.instrument_column(f), row) for f in ("instrument_type",) if ins.activity.field(f) is not None]
    return exp.Anonymous(this="CONCAT_WS", expressions=[
        text(" "), text("instrument"), *named, column(ir.instrument_column("activity_id"), row)])


def row_outcome_ctes(part_outcome: exp.Expression) -> tuple[list[tuple[str, exp.Expression]], exp.Select]:
    """One outcome per activity row from its parts' outcomes; the final select of ccf_eval.

    ``outcome`` is 'result' on every part of a result row, the row's outcome on one
    representative part of an excluded or unmatched row, and 'part' on its other parts (which
    no insert reads); first, as evaluate.py puts it."""
    parted = exp.select(exp.Column(this=exp.Star(), table=ident("c")), exp.alias_(part_outcome, "part_outcome")).from_(
        _ref("checked", "c")
    )
    w = lambda f: exp.Window(this=f, partition_by=[column("activity_id", "p")])  # noqa: E731
    any_is = lambda o: w(exp.Anonymous(this="BOOL_OR", expressions=[  # noqa: E731
        exp.EQ(this=column("part_outcome", "p"), expression=text(o))
    ]))
    row = exp.Case(
        ifs=[exp.If(this=any_is("unmatched"), true=text("unmatched")), exp.If(this=any_is("excluded"), true=text("excluded"))],
        default=text("result"),
    )
    rowed = exp.select(exp.Column(this=exp.Star(), table=ident("p")), exp.alias_(row, "row_outcome")).from_(_ref("parted", "p"))
    first = exp.Window(
        this=exp.RowNumber(),
        partition_by=[column("activity_id", "r")],
        order=exp.Order(
            expressions=[exp.NEQ(this=column("part_outcome", "r"), expression=column("row_outcome", "r")), column("part_no", "r")]
        ),
    )
    outcome = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=column("row_outcome", "r"), expression=text("result")), true=text("result")),
            exp.If(this=exp.EQ(this=first, expression=exp.Literal.number(1)), true=column("row_outcome", "r")),
        ],
        default=text("part"),
    )
    final = exp.select(exp.alias_(outcome, "outcome"), exp.Column(this=exp.Star(), table=ident("r"))).from_(_ref("rowed", "r"))
    return [("parted", parted), ("rowed", rowed)], final


def instrument_unit(ins: ir.Instruments) -> tuple[str, Fraction]:
    """The unit instrument quantities are reported in (MWh for energy) and its scale."""
    f = ins.activity.field(ins.allocate)
    assert f is not None
    if f.type.dimension == ENERGY.dimension:
        return "MWh", ENERGY.scale
    name = f.display_unit or "1"
    return name, parse_unit(name).scale


def allocation_statement(m: ir.Methodology, evaluated: str) -> exp.Expression:
    """INSERT INTO ccf.instrument_allocation: every instrument of the dataset, what it gave and
    what is left, with the reason (``surplus``, ``market_boundary``, ``vintage``)."""
    ins = m.instruments
    assert ins is not None
    unit, scale = instrument_unit(ins)
    to_unit = lambda e: scale_sql(e, 1 / scale)  # noqa: E731
    # only parts of rows with results count as allocated: volume laid against a row that is
    # unmatched or excluded as a whole was applied to no reported emission (reason unreported_row)
    reported = exp.Where(this=exp.EQ(this=column("row_outcome", "e"), expression=text("result")))
    unreported = exp.Where(this=exp.NEQ(this=column("row_outcome", "e"), expression=text("result")))
    used = (
        exp.select(
            column("instrument_id", "e"),
            exp.alias_(exp.Filter(this=exp.Sum(this=column("part_quantity", "e")), expression=reported), "allocated"),
            exp.alias_(exp.Filter(this=exp.Sum(this=column("part_quantity", "e")), expression=unreported), "unreported"),
            exp.alias_(
                exp.Filter(this=exp.Count(this=exp.Distinct(expressions=[column("activity_id", "e")])), expression=reported.copy()),
                "allocated_rows",
            ),
        )
        .from_(_ref(evaluated, "e"))
        .where(exp.Not(this=exp.Is(this=column("instrument_id", "e"), expression=exp.Null())))
        .group_by(column("instrument_id", "e"))
    )
    same = [exp.NullSafeEQ(this=column(f, "c"), expression=column(f, "i")) for f in ins.match]

    def consumption_exists(extra: list[exp.Expression]) -> exp.Expression:
        return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(_ref("consumption", "c")).where(exp.and_(*same, *extra)))

    in_year = exp.EQ(
        this=exp.Extract(this=exp.var("YEAR"), expression=column("period_start", "c")), expression=column(ins.vintage, "i")
    )
    boundary = ", ".join(ins.match)
    left = exp.Sub(this=column(ins.allocate, "i"), expression=exp.Coalesce(this=column("allocated", "u"), expressions=[exp.Literal.number(0)]))
    to_unreported = exp.GT(this=exp.Coalesce(this=column("unreported", "u"), expressions=[exp.Literal.number(0)]), expression=exp.Literal.number(0))
    code = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=left.copy(), expression=exp.Literal.number(0)), true=text("allocated")),
            exp.If(this=to_unreported, true=text("unreported_row")),
            exp.If(this=exp.Not(this=consumption_exists([])), true=text("market_boundary")),
            exp.If(this=exp.Not(this=consumption_exists([in_year])), true=text("vintage")),
        ],
        default=text("surplus"),
    )
    reason = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=left.copy(), expression=exp.Literal.number(0)), true=text("fully allocated")),
            exp.If(
                this=to_unreported.copy(),
                true=text("allocated to consumption rows that are unmatched or excluded as a whole (see ccf.unmatched), "
                          "so applied to no reported emission"),
            ),
            exp.If(
                this=exp.Not(this=consumption_exists([])),
                true=text(f"no consumption in the instrument's market boundary ({boundary})"),
            ),
            exp.If(
                this=exp.Not(this=consumption_exists([in_year.copy()])),
                true=text(f"no consumption in its market boundary ({boundary}) in its vintage year"),
            ),
        ],
        default=text(f"more instrument volume than consumption in its market boundary ({boundary}) and vintage year"),
    )
    q = (
        exp.select(
            param("run_id"), text(m.id), column("activity_id", "i"), column("entity", "i"), text(unit),
            to_unit(column(ins.allocate, "i")),
            to_unit(exp.Coalesce(this=column("allocated", "u"), expressions=[exp.Literal.number(0)])),
            to_unit(left),
            exp.Coalesce(this=column("allocated_rows", "u"), expressions=[exp.Literal.number(0)]),
            code, reason,
        )
        .from_(_ref("instrument", "i"))
        .join(exp.Subquery(this=used, alias=exp.TableAlias(this=ident("u"))),
              on=exp.EQ(this=column("instrument_id", "u"), expression=column("activity_id", "i")), join_type="left")
        .with_("consumption", as_=activity_cte(m))
        .with_("instrument", as_=activity_cte(dataclasses.replace(m, activity=ins.activity)))
    )
    cols = ["run_id", "methodology_id", "instrument_id", "entity", "unit", "quantity", "allocated", "unallocated",
            "allocated_rows", "reason_code", "reason"]
    return exp.insert(q, exp.Schema(this=table("instrument_allocation"), expressions=[ident(c) for c in cols]))


__all__ = ["activity_columns", "allocation_ctes", "allocation_statement", "instrument_source", "instrument_unit", "part_columns",
           "reads_instrument", "row_outcome_ctes"]
