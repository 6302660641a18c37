"""The fast path. Most rows pass every check. The fast test decides that cheaply for each staged
row; it is TRUE only for a row the checks of checks.py pass (never the other way round):

- ``row_test_of``, what one row decides alone, computed by the staging table as the rows are
  copied in (a stored generated column, ROW_OK): not refused while staging, required text not
  blank (``<> ''`` and ``NOT LIKE ' %'``: no trimming), numbers matching ``_NUMBER_RE`` as
  written (no '-' for quantities), units and booleans by exact membership;
- ``fast_plan``'s lookups, joined by hash: the period pair among the distinct pairs that pass
  their checks (PERIODS: required, ``valid_date``, period_order, outside_period, each checked
  once per distinct pair, however many rows), other dates among their distinct valid texts
  (DATES), the activity id neither staged twice (REPEATED) nor already in the dataset, the
  entity in the dataset's entity set.

Those rows are inserted straight from the staging table (``insert_fast``); every other row — a
bad one, or a good one the fast test does not recognise (a cell with spaces around it, a
quantity of '-0', 'TRUE' for true) — goes to SLOW and through the one-by-one checks of
``create_checked`` (slow.py), which alone decide rejections and their reasons. A fast row's
activity id is staged once, so the repeated-id window over the slow rows alone sees every row
of their ids, and the reasons are the same as over all rows.

A dataset's first load leaves REPEATED out (``find_repeated``): the primary key its new
partition gets after the insert refuses an id repeated among the rows it holds, and
``repeated_taken_fast`` finds a rejected row whose id a loaded row has; either undoes the load's
classification, which the caller then runs again with REPEATED (engine/load/__init__.py). So the
premise above holds for every load that is kept, and the aggregate over every staged id is paid
only by a file that repeats one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.model import DATA_QUALITY, DATA_QUALITY_SCORES
from ccf.engine.load.base import (
    CATEGORY, CHECKED, DATES, LINE, PERIODS, PRE_CATEGORY, PRE_REASON, PRE_RECORD, REPEATED, ROW_OK, SLOW, STAGING,
    blank, cast_to, cell, col, fid, icol, is_not_null, is_null, negate, one_of, temp,
)
from ccf.engine.load.checks import FALSE_TEXTS, TRUE_TEXTS, Check, field_checks, in_range, row_checks, valid_date
from ccf.engine.load.datasets import Dataset
from ccf.engine.load.slow import typed
from ccf.engine.load.tables import activity_table, csv_columns, is_quantity
from ccf.engine.sql import Executor, func, ident, number, param, text


_OK = "_fast_ok"


@dataclass(frozen=True)
class _FastPlan:
    source: exp.Select  # SELECT … FROM staging s LEFT JOIN …: the joins the test needs
    ok: exp.Expression  # TRUE only for a row that passes every check
    values: list[tuple[str, exp.Expression]]  # activity column -> its stored value, for an ok row (over ``tested``)
    looked_up: list[exp.Expression]  # the values of the lookup tables that ``values`` use

    def tested(self, *columns: exp.Expression) -> exp.Subquery:
        """``columns`` and the test (as _fast_ok) of every staged row. OFFSET 0 keeps the planner
        from reading the test as join conditions: it would turn the LEFT JOINs into inner and
        anti joins with a guessed selectivity of ≈ 0 rows, and nested loops over the staging rows."""
        q = self.source.copy().select(*columns, exp.alias_(self.ok.copy(), _OK)).offset(number(0))
        return exp.alias_(exp.Subquery(this=q), "t", table=True)


def _scol(name: str) -> exp.Column:
    """A staged cell of the fast path's source (alias s)."""
    return cell(name, "s")


def _passes(checks: list[Check]) -> exp.Expression:
    """TRUE when none of ``checks`` (in order: each may rely on the ones before) fires."""
    case = exp.Case()
    for c in checks:
        case = case.when(c.when, exp.false())
    return case.else_(exp.true())


def _unstaged() -> exp.Expression:
    return is_null(icol(PRE_CATEGORY))


def _not_blank_fast(v: exp.Expression) -> exp.Expression:
    """Non-blank, decided without trimming: a blank cell (only spaces) is '' or starts with one."""
    return exp.and_(exp.NEQ(this=v, expression=text("")), negate(exp.Like(this=v.copy(), expression=text(" %"))))


def _text_fast(v: exp.Expression) -> exp.Expression:
    """``_text_or_null`` without trimming the common case: NULL when blank, else the text."""
    return (exp.Case().when(exp.EQ(this=v, expression=text("")), exp.null())
            .when(negate(exp.Like(this=v.copy(), expression=text(" %"))), v.copy())
            .when(blank(v.copy()), exp.null()).else_(v.copy()))


def _number_fast(v: exp.Expression, non_negative: bool) -> exp.Expression:
    """A number ``_valid_number`` and ``in_range`` accept as written (no spaces), not negative when asked."""
    ok = in_range(v)
    return exp.and_(ok, negate(exp.Like(this=v.copy(), expression=text("-%")))) if non_negative else ok


def _or_blank(v: exp.Expression, test: exp.Expression, required: bool) -> exp.Expression:
    return test if required else exp.or_(exp.EQ(this=v.copy(), expression=text("")), test)


def _create_temp(name: str, query: exp.Expression) -> exp.Create:
    return exp.Create(this=temp(name), kind="TABLE", expression=query,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def _create_periods(at: ir.ActivityType, ds: Dataset) -> exp.Create:
    """The distinct (period_start, period_end) pairs that pass every check on them — required,
    valid date, period_order, outside_period, the expressions of ``all_checks`` — with their dates
    as ``typed`` stores them. (Pairs of rows refused while staging are harmless: such a row
    fails ROW_OK, and their NULL cells match no row.)"""
    fields = [f for f in at.fields if f.name in ("period_start", "period_end")]
    checks = [c for f in fields for c in field_checks(f)]
    checks += [c for c in row_checks(ds) if c.category in ("period_order", "outside_period")]
    # OFFSET 0: the checks must run on the distinct pairs, not be pushed down onto every row
    pairs = exp.select(cell("period_start"), cell("period_end")).distinct().from_(temp(STAGING)).offset(number(0))
    query = (exp.select(cell("period_start"), cell("period_end"),
                        *[exp.alias_(typed(f.name, f), "_" + f.name) for f in fields])
             .from_(exp.alias_(exp.Subquery(this=pairs), "p", table=True))
             .where(_passes(checks)))
    return _create_temp(PERIODS, query)


def _create_dates(fields: list[ir.Field]) -> exp.Create:
    """The distinct texts of the other date columns that ``valid_date`` accepts as written
    (without spaces: the regex must match the untrimmed text), with their dates."""
    v = icol("v")
    selects = [exp.select(exp.alias_(cell(f.name), "v")).distinct().from_(temp(STAGING)) for f in fields]
    union = reduce(lambda a, b: exp.union(a, b, distinct=True), selects).offset(number(0))
    query = (exp.select(v, exp.alias_(cast_to(v.copy(), "DATE"), "d"))
             .from_(exp.alias_(exp.Subquery(this=union), "u", table=True))
             .where(valid_date(v.copy())))
    return _create_temp(DATES, query)


def _id_hash(aid: exp.Expression) -> exp.Expression:
    return func("hashtextextended", aid, number(0))


def _create_repeated() -> exp.Create:
    """The 64-bit hashes of the activity ids staged more than once: their rows all go through the
    one-by-one checks. So do, harmlessly, a once-staged id whose hash collides with another's and
    an id shared with a row refused while staging (which the checks count apart). Hashes, not
    ids: the aggregate over every staged id is smaller and faster."""
    h = _id_hash(cell("activity_id"))
    query = (exp.select(exp.alias_(h, "h")).from_(temp(STAGING))
             .group_by(h.copy()).having(exp.GT(this=exp.Count(this=exp.Star()), expression=number(1))))
    return _create_temp(REPEATED, query)


def _has_rows(at: ir.ActivityType) -> exp.Select:
    """Whether the dataset has rows of this activity type already (then ids are checked against them)."""
    rows = (exp.select(number(1)).from_(activity_table(at))
            .where(exp.EQ(this=icol("dataset"), expression=param("dataset"))))
    return exp.select(exp.Exists(this=rows))


def _left_join(q: exp.Select, table: exp.Table, alias: str, on: exp.Expression) -> exp.Select:
    return q.join(exp.alias_(table, alias, table=True), on=on, join_type="LEFT")


def _fast_ready(names: list[str], fast: bool) -> bool:
    """Whether the fast path is taken: asked for (``load_csv(fast=…)``) and the file has the
    columns its lookups join on."""
    return fast and {"activity_id", "period_start", "period_end"} <= set(names)


def row_test_of(at: ir.ActivityType, names: list[str], fast: bool) -> exp.Expression:
    """The part of the fast test that reads one staged row alone (no lookups): not refused while
    staging, required text not blank, numbers, units and booleans as written. The staging table
    computes it while the rows are copied in (``ROW_OK``, a stored generated column), once a row."""
    if not _fast_ready(names, fast):
        return exp.false()
    ok: list[exp.Expression] = [_unstaged()]
    for name, f in csv_columns(at):
        if name not in names or name in ("period_start", "period_end"):
            continue
        v, required = cell(name), f.required
        kind = f.type.kind
        if name != f.name:  # a unit column: one of the field's units as written, or blank with its quantity
            units = [c.unit for c in f.conversions if c.unit and c.unit == c.unit.strip(" ")]
            known = one_of(v, units) if units else exp.false()
            both_blank = exp.and_(exp.EQ(this=v.copy(), expression=text("")),
                                  exp.EQ(this=cell(f.name), expression=text("")))
            ok.append(exp.Paren(this=exp.or_(known, both_blank)))
        elif name == DATA_QUALITY:  # a score as written, 1 to 5; any other spelling is decided slowly
            ok.append(exp.Paren(this=_or_blank(v, one_of(v.copy(), [str(s) for s in DATA_QUALITY_SCORES]), required)))
        elif kind == "quantity":
            ok.append(exp.Paren(this=_or_blank(v, _number_fast(v.copy(), is_quantity(f)), required)))
        elif kind == "boolean":
            ok.append(exp.Paren(this=_or_blank(v, one_of(v.copy(), TRUE_TEXTS + FALSE_TEXTS), required)))
        elif kind == "text" and required:
            ok.append(_not_blank_fast(v))
        # dates: looked up in DATES by ``fast_plan``
    return exp.and_(*ok)


def fast_plan(ex: Executor, at: ir.ActivityType, names: list[str], ds: Dataset, params: dict,
               fast: bool, find_repeated: bool = True) -> _FastPlan:
    """Build the lookup tables of the fast test and return the test; see the module docstring.
    Not ``find_repeated``: no aggregate of the staged ids, the caller proves afterwards that no
    id was repeated among the rows it took fast (``repeated_taken_fast``)."""
    source = exp.select().from_(exp.alias_(temp(STAGING), "s", table=True))
    if not _fast_ready(names, fast):
        return _FastPlan(source, exp.false(), [], [])
    present = [(n, f) for n, f in csv_columns(at) if n in names]
    ex.execute(_create_periods(at, ds), params)
    repeated = ex.execute(_create_repeated()).rowcount if find_repeated else 0
    # small tables, but the planner must know it (temp tables get no autovacuum statistics), or
    # it hashes the staging table instead of them
    ex.execute(exp.Analyze(tables=[temp(PERIODS), *([temp(REPEATED)] if find_repeated else [])]))
    same = lambda table_alias, col: exp.EQ(this=cell(col, table_alias), expression=_scol(col))  # noqa: E731
    q = _left_join(source, temp(PERIODS), "p", exp.and_(same("p", "period_start"), same("p", "period_end")))
    ok: list[exp.Expression] = [icol(ROW_OK, "s"), is_not_null(cell("period_start", "p"))]
    if repeated:  # (none, usually: then the join is left out)
        q = _left_join(q, temp(REPEATED), "r", exp.EQ(this=icol("h", "r"), expression=_id_hash(_scol("activity_id"))))
        ok.append(is_null(icol("h", "r")))
    if ex.one(_has_rows(at), params) == (True,):
        on = exp.and_(exp.EQ(this=icol("dataset", "a"), expression=param("dataset")),
                      exp.EQ(this=col("activity_id", "a"), expression=_scol("activity_id")))
        q = _left_join(q, activity_table(at), "a", on)
        ok.append(is_null(col("activity_id", "a")))
    if ds.entity_set is not None:
        on = exp.and_(exp.EQ(this=icol("entity_set", "e"), expression=param("entity_set")),
                      exp.EQ(this=icol("entity", "e"), expression=_scol("entity")))
        q = _left_join(q, exp.Table(this=ident("entity"), db=ident("ccf")), "e", on)
        ok.append(is_not_null(icol("entity", "e")))
    other_dates = [f for _, f in present if f.type.kind == "date" and f.name not in ("period_start", "period_end")]
    if other_dates:
        ex.execute(_create_dates(other_dates))
        ex.execute(exp.Analyze(tables=[temp(DATES)]))
    values: list[tuple[str, exp.Expression]] = []
    looked_up: list[exp.Expression] = []
    t = lambda name: cell(name, "t")  # noqa: E731  (the staged cell, in ``values``)
    for name, f in present:
        kind = f.type.kind
        if name != f.name:  # a unit column
            values.append((name, exp.Nullif(this=t(name), expression=text(""))))
        elif name in ("period_start", "period_end"):
            looked_up.append(icol("_" + name, "p"))
            values.append((name, icol("_" + name, "t")))
        elif kind == "quantity":
            values.append((name, cast_to(exp.Nullif(this=t(name), expression=text("")), "NUMERIC")))
        elif kind == "date":
            alias, v = f"d{len(looked_up)}", _scol(name)
            q = _left_join(q, temp(DATES), alias, exp.EQ(this=icol("v", alias), expression=v))
            required = f.required
            ok.append(exp.Paren(this=_or_blank(v, is_not_null(icol("v", alias)), required)))
            looked_up.append(exp.alias_(icol("d", alias), f"_{alias}"))
            values.append((name, icol(f"_{alias}", "t")))
        elif kind == "boolean":
            values.append((name, exp.Case().when(exp.EQ(this=t(name), expression=text("")), exp.null())
                           .when(one_of(t(name), TRUE_TEXTS), exp.true()).else_(exp.false())))
        else:  # text: a required one is not blank (``row_test_of``)
            required = f.required
            values.append((name, t(name) if required else _text_fast(t(name))))
    return _FastPlan(q, exp.and_(*ok), values, looked_up)


def is_fast_ready(names: list[str], fast: bool) -> bool:
    """Whether ``fast_plan`` builds a fast test for a file with these columns (else every row is slow)."""
    return _fast_ready(names, fast)


def repeated_taken_fast(target: exp.Table) -> exp.Select:
    """Whether a row the checks rejected (not refused while staging) has the activity id of a row
    in ``target`` (the new partition, keyed: looked up by its key). Without the repeated-id
    aggregate such a row's id may also be a fast row's, and the one-by-one checks, which saw
    only the slow rows, may have given either row another outcome than they give with it."""
    on = exp.and_(exp.EQ(this=icol("dataset", "a"), expression=param("dataset")),
                  exp.EQ(this=col("activity_id", "a"), expression=cell("activity_id", "c")))
    rows = (exp.select(number(1)).from_(exp.alias_(temp(CHECKED), "c", table=True))
            .join(exp.alias_(target.copy(), "a", table=True), on=on)
            .where(exp.and_(is_not_null(icol(CATEGORY, "c")), is_null(icol(PRE_CATEGORY, "c")))))
    return exp.select(exp.Exists(this=rows))


def create_slow(fast: _FastPlan, names: list[str]) -> exp.Create:
    """The staged rows the fast test does not pass (NULL counts as not passed)."""
    staged = [LINE, PRE_CATEGORY, PRE_REASON, PRE_RECORD]
    columns = [icol(c, "s") for c in staged] + [_scol(n) for n in names]
    passed = exp.Is(this=icol(_OK), expression=exp.true())
    query = (exp.select(*[icol(c) for c in staged], *[cell(n) for n in names])
             .from_(fast.tested(*columns)).where(negate(passed)))
    return _create_temp(SLOW, query)


def insert_fast(fast: _FastPlan, target: exp.Table) -> exp.Insert:
    """The rows that pass the fast test, typed, straight into the activity table (or the
    dataset's new partition of it: ``target``)."""
    columns_of = ["dataset", "load_id", "line_no"] + [n for n, _ in fast.values]
    staged = [n for n, _ in fast.values if n not in ("period_start", "period_end")]
    columns = [icol(LINE, "s"), *[_scol(n) for n in staged], *[c.copy() for c in fast.looked_up]]
    select = (exp.select(param("dataset"), param("load_id"), icol(LINE, "t"), *[v.copy() for _, v in fast.values])
              .from_(fast.tested(*columns)).where(icol(_OK, "t")))
    return exp.insert(select, exp.Schema(this=target.copy(), expressions=[fid(c) for c in columns_of]))
