"""The one-by-one path: the rows the fast test did not take (SLOW) each get the first failing
check of checks.py, with did-you-mean hints for units and entities; then the statements that
record the load, its rejected rows and its loaded ones."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
from functools import reduce

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import did_you_mean
from ccf.engine.load.base import (
    CATEGORY, CHECK, CHECKED, DATES, FIRST_LINE, KNOWN_ENTITY, LINE, PERIODS, PRE_CATEGORY, PRE_REASON, PRE_RECORD,
    PRIOR_LINE, PRIOR_LOAD, REASON, REPEATED, SLOW, STAGING, blank, cast_to, cell, col, fid, filled, icol, is_not_null,
    is_null, negate, nullif_blank, one_of, temp, trim,
)
from ccf.engine.load.checks import TRUE_TEXTS, all_checks
from ccf.engine.load.datasets import Dataset
from ccf.engine.load.tables import activity_table, csv_columns, has_unit_column
from ccf.engine.sql import Executor, func, ident, number, param, text


_JSON_PAIRS = 50  # jsonb_build_object takes at most 100 arguments


def _unit_columns(at: ir.ActivityType, names: list[str]) -> list[ir.Field]:
    return [f for f in at.fields if has_unit_column(f) and f.name + "_unit" in names]


def _unknown_units(fields: list[ir.Field]) -> exp.Expression:
    """Distinct (field, unit) pairs whose unit is not one the field accepts."""
    selects = []
    for f in fields:
        t = trim(cell(f.name + "_unit"))
        selects.append(
            exp.select(exp.alias_(text(f.name), "field"), exp.alias_(t, "unit"))
            .distinct()
            .from_(temp(SLOW))
            .where(exp.and_(
                is_null(icol(PRE_CATEGORY)),
                exp.NEQ(this=t, expression=text("")),
                negate(one_of(t, [c.unit for c in f.conversions])),
            ))
        )
    return reduce(lambda a, b: exp.union(a, b, distinct=True), selects)


def _unit_hint(unit: str, units: list[str]) -> str | None:
    """'did you mean …?' naming the one closest unit, ignoring case first (KWH -> kWh)."""
    same = [u for u in units if u.lower() == unit.lower()]
    best = same[:1] or difflib.get_close_matches(unit, units, n=1, cutoff=0.6)
    return f"did you mean '{best[0]}'?" if best else None


def hints(ex: Executor, at: ir.ActivityType, names: list[str]) -> str:
    """JSON {field: {unit: hint}} for every unknown unit that resembles a known one."""
    fields = _unit_columns(at, names)
    out: dict[str, dict[str, str]] = {}
    if not fields:
        return "{}"
    for field_name, unit in ex.rows(_unknown_units(fields)):
        f = at.field(field_name)
        hint = _unit_hint(unit, [c.unit for c in f.conversions]) if f else None
        if hint:
            out.setdefault(field_name, {})[unit] = hint
    return json.dumps(out, ensure_ascii=False)


def entity_hints(ex: Executor, entity_set: str) -> str:
    """JSON {entity: "did you mean …?"} for every staged entity the set does not have that
    resembles one it has (one query for the distinct unknown codes, however many rows)."""
    codes = [c for (c,) in ex.rows(
        exp.select(icol("entity")).from_(exp.Table(this=ident("entity"), db=ident("ccf")))
        .where(exp.EQ(this=icol("entity_set"), expression=param("entity_set"))),
        {"entity_set": entity_set},
    )]
    unknown = (
        exp.select(cell("entity")).distinct().from_(temp(SLOW))
        .where(exp.and_(
            is_null(icol(PRE_CATEGORY)),
            filled(cell("entity")),
            negate(exp.In(this=cell("entity"), query=exp.select(icol("entity")).from_(
                exp.Table(this=ident("entity"), db=ident("ccf"))).where(
                exp.EQ(this=icol("entity_set"), expression=param("entity_set"))).subquery())),
        ))
    )
    out = {}
    for (code,) in ex.rows(unknown, {"entity_set": entity_set}):
        # ignoring a stray space and letter case first (' nw-uk' suggests 'NW-UK'), then close codes
        same = [c for c in codes if c.lower() == code.strip().lower()]
        hint = f"did you mean '{same[0]}'?" if len(same) == 1 else did_you_mean(code.strip(), codes)
        if hint:
            out[code] = hint
    return json.dumps(out, ensure_ascii=False)


def _annotated(at: ir.ActivityType, ds: Dataset) -> exp.Select:
    """The slow rows (SLOW) with the first line of their activity_id, any earlier load of it and,
    when the dataset has an entity set, the entity of the set that the row names."""
    first = exp.Window(
        this=exp.Min(this=icol(LINE, "s")),
        partition_by=[cell("activity_id", "s"), exp.Paren(this=is_null(icol(PRE_CATEGORY, "s")))],
    )
    on = exp.and_(
        exp.EQ(this=icol("dataset", "a"), expression=param("dataset")),
        exp.EQ(this=col("activity_id", "a"), expression=cell("activity_id", "s")),
    )
    q = (
        exp.select(
            exp.Column(this=exp.Star(), table=ident("s")),
            exp.alias_(first, FIRST_LINE),
            exp.alias_(icol("load_id", "a"), PRIOR_LOAD),
            exp.alias_(icol("line_no", "a"), PRIOR_LINE),
        )
        .from_(exp.alias_(temp(SLOW), "s", table=True))
        .join(exp.alias_(activity_table(at), "a", table=True), on=on, join_type="LEFT")
    )
    if ds.entity_set is None:
        return q
    known = exp.and_(
        exp.EQ(this=icol("entity_set", "e"), expression=param("entity_set")),
        exp.EQ(this=icol("entity", "e"), expression=cell("entity", "s")),
    )
    entities = exp.Table(this=ident("entity"), db=ident("ccf"), alias=exp.TableAlias(this=ident("e")))
    return q.select(exp.alias_(icol("entity", "e"), KNOWN_ENTITY)).join(entities, on=known, join_type="LEFT")


def create_checked(at: ir.ActivityType, names: list[str], ds: Dataset) -> exp.Create:
    """CREATE TEMP TABLE … AS: each row with the index, category and reason of its first failed check.

    It reads the dataset's name (and its period and entity set) as bound parameters, so it is
    built once per process for each activity type, header and dataset period and entity set:
    the loads of the same kind of file (each test case's, say) share it. The tree is shared:
    nothing may change it (rendering does not: engine/sql.render)."""
    return _checked(at, tuple(names), dataclasses.replace(ds, name=""))


@functools.lru_cache(maxsize=128)
def _checked(at: ir.ActivityType, names: tuple[str, ...], ds: Dataset) -> exp.Create:
    checks = all_checks(at, list(names), ds)
    # The branches are built as lists: Case.when copies the whole CASE made so far at each call,
    # which made building this statement quadratic in the number of checks (most of a small
    # load's time). Each check's condition and reason is copied once, as Case.when did.
    which = exp.Case(ifs=[exp.If(this=is_not_null(icol(PRE_CATEGORY)), true=number(0))]
                     + [exp.If(this=c.when.copy(), true=number(i)) for i, c in enumerate(checks, 1)])
    category = exp.Case(this=icol(CHECK), ifs=[exp.If(this=number(0), true=icol(PRE_CATEGORY))]
                        + [exp.If(this=number(i), true=text(c.category)) for i, c in enumerate(checks, 1)])
    reason = exp.Case(this=icol(CHECK), ifs=[exp.If(this=number(0), true=icol(PRE_REASON))]
                      + [exp.If(this=number(i), true=c.reason.copy()) for i, c in enumerate(checks, 1)])
    # OFFSET 0 keeps the planner from inlining _check into each of its three uses: the
    # checks are the costly part of a load and must run once per row.
    # (copy=False: every part is new here; sqlglot's builders copy their arguments by default)
    numbered = exp.select(exp.Column(this=exp.Star(), table=ident("d")), exp.alias_(which, CHECK, copy=False), copy=False).from_(
        exp.alias_(exp.Subquery(this=_annotated(at, ds)), "d", table=True, copy=False), copy=False
    ).offset(number(0), copy=False)
    query = exp.select(
        exp.Column(this=exp.Star(), table=ident("w")), exp.alias_(category, CATEGORY, copy=False),
        exp.alias_(reason, REASON, copy=False), copy=False,
    ).from_(exp.alias_(exp.Subquery(this=numbered), "w", table=True, copy=False), copy=False)
    return exp.Create(
        this=temp(CHECKED), kind="TABLE", expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def _failed() -> exp.Expression:
    return is_not_null(icol(CATEGORY))


def _passed() -> exp.Expression:
    return is_null(icol(CATEGORY))


def _count_where(cond: exp.Expression) -> exp.Expression:
    return exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=cond))


def next_load_id() -> exp.Select:
    """The next load id, taken before the load's row is written: a load that classifies its rows
    twice (a first load's repeated ids, engine/load/__init__.py) writes its row under the same id
    both times, so a rolled-back attempt leaves no gap in the load ids (migration 0030)."""
    sequence = func("pg_get_serial_sequence", text("ccf.activity_load"), text("load_id"))
    return exp.select(func("nextval", sequence))


def insert_load(load_id: bool = False) -> exp.Insert:
    """One ccf.activity_load row (under the given ``load_id`` parameter, else the next one).
    Every rejected row is in the checked table (the fast path only takes rows that pass every
    check), so the rows loaded are the rest; ``_reconcile`` then holds them to the rows the
    activity INSERTs wrote."""
    cols = ["dataset", "activity_type", "activity_type_hash", "source_file", "sha256",
            "rows_read", "rows_loaded", "rows_rejected"]
    loaded = exp.Sub(this=cast_to(param("rows_read"), "BIGINT"), expression=_count_where(_failed()))
    values = [param(c) for c in cols[:6]] + [loaded, _count_where(_failed())]
    if load_id:
        cols, values = ["load_id", *cols], [param("load_id"), *values]
    select = exp.select(*values).from_(temp(CHECKED))
    insert = exp.insert(select, exp.Schema(this=exp.Table(this=ident("activity_load"), db=ident("ccf")),
                                           expressions=[ident(c) for c in cols]))
    insert.set("returning", exp.Returning(expressions=[icol("load_id"), icol("rows_loaded"), icol("rows_rejected")]))
    return insert


def _record(names: list[str], alias: str | None = None) -> exp.Expression:
    """The raw values as a JSONB object by column name (in chunks: functions take ≤ 100 args)."""
    chunks = []
    for i in range(0, len(names), _JSON_PAIRS):
        args = [a for n in names[i:i + _JSON_PAIRS] for a in (text(n), cell(n, alias))]
        chunks.append(func("jsonb_build_object", *args))
    built = reduce(lambda a, b: exp.DPipe(this=a, expression=b), chunks)
    return exp.Coalesce(this=cast_to(icol(PRE_RECORD, alias), "JSONB"), expressions=[built])


def insert_rejected(names: list[str]) -> exp.Insert:
    """The rejected rows into ccf.rejected, each with the load's id as the load's own row has it:
    joined once by the statement (migration 0030), so a load id that no load has writes no row
    (and the load's reconciliation refuses it), without a check per row."""
    cols = ["load_id", "dataset", "activity_type", "line_no", "activity_id", "record", "reason"]
    load = exp.Table(this=ident("activity_load"), db=ident("ccf"), alias=exp.TableAlias(this=ident("l")))
    select = (
        exp.select(
            icol("load_id", "l"), param("dataset"), param("activity_type"), icol(LINE, "c"),
            _text_or_null(cell("activity_id", "c")),
            _record(names, "c"), icol(REASON, "c"),
        )
        .from_(exp.alias_(temp(CHECKED), "c", table=True))
        .join(load, on=exp.EQ(this=icol("load_id", "l"), expression=param("load_id")))
        .where(is_not_null(icol(CATEGORY, "c")))
        .order_by(icol(LINE, "c"))
    )
    return exp.insert(select, exp.Schema(this=exp.Table(this=ident("rejected"), db=ident("ccf")),
                                         expressions=[ident(c) for c in cols]))


def typed(name: str, f: ir.Field) -> exp.Expression:
    """The stored value of a validated cell: blanks become NULL, the rest cast from text."""
    v = cell(name)
    if name != f.name:  # the unit column: validated against the field's unit list
        return nullif_blank(v)
    kind = f.type.kind
    if kind == "quantity":
        return cast_to(nullif_blank(v), "NUMERIC")
    if kind == "date":
        return cast_to(nullif_blank(v), "DATE")
    if kind == "boolean":
        is_true = one_of(exp.Lower(this=trim(v)), TRUE_TEXTS)
        return exp.Case().when(blank(v), exp.null()).when(is_true, exp.true()).else_(exp.false())
    return _text_or_null(v)


def _text_or_null(v: exp.Expression) -> exp.Expression:
    """Text exactly as written, or NULL when blank."""
    return exp.Case().when(blank(v), exp.null()).else_(v)


def insert_activity(at: ir.ActivityType, names: list[str], target: exp.Table) -> exp.Insert:
    """The checked rows that passed, typed, into the activity table (or the dataset's new
    partition of it: ``target``)."""
    present = [(n, f) for n, f in csv_columns(at) if n in names]
    columns = ["dataset", "load_id", "line_no"] + [n for n, _ in present]
    values = [param("dataset"), param("load_id"), icol(LINE)] + [typed(n, f) for n, f in present]
    select = exp.select(*values).from_(temp(CHECKED)).where(_passed())
    schema = exp.Schema(this=target.copy(), expressions=[fid(c) for c in columns])
    return exp.insert(select, schema)


def reason_counts() -> exp.Select:
    return (
        exp.select(icol(CATEGORY), exp.Count(this=exp.Star()))
        .from_(temp(CHECKED))
        .where(_failed())
        .group_by(icol(CATEGORY))
        .order_by(icol(CATEGORY))
    )


def drop_temps() -> exp.Drop:
    # Dropped explicitly: the caller may hold an outer transaction and load again in it.
    temps = (STAGING, SLOW, PERIODS, DATES, REPEATED, CHECKED)
    return exp.Drop(kind="TABLE", exists=True, tables=[temp(t) for t in temps])
