"""The SQL of an impact attribution: the runs that stand for the two versions (found or made),
the per-pair statement that pairs both runs' outcomes per activity row and gas and gives each
pair's change to its cause (a temporary table), and the aggregates read from it, pivoted into an
``Attribution`` (attribution/model.py). The decomposition is the package's docstring."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Callable

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum
from ccf.engine.attribution.model import CAUSE_LABELS, CAUSES, UNCHANGED, Attribution, AttributionError, Breakdown, ChangedRow, SideRun
from ccf.engine.factors.store import edition_key
from ccf.engine.load import dataset_loads
from ccf.engine.options import POSTGRESQL
from ccf.engine.run import run
from ccf.engine.sql import Executor, column, eq, ident, number, param, table, text

# breakdown dimension -> GROUPING(scope, category, gas, entity, rule_id) of its grouping set
DIMENSIONS: tuple[tuple[str, int], ...] = (("scope", 0b00111), ("gas", 0b11011), ("entity", 0b11101), ("rule", 0b11110))
TOTAL_SET = 0b11111
WORK = "ccf_attribution"  # the per-pair temporary table


# --- the data and the runs ---------------------------------------------------------------


def require_data(ex: Executor, dataset: str, activity_type: str) -> None:
    """A dataset with no rows of the activity type is a mistake (a misspelt name, say), not a
    comparison of two zeros."""
    datasets = [r[0] for r in ex.rows(
        exp.select(column("dataset")).distinct().from_(table("activity_load"))
        .where(eq(column("activity_type"), param("activity_type"))).order_by(column("dataset")),
        {"activity_type": activity_type},
    )]
    if dataset not in datasets:
        from ccf.dsl.diagnostics import did_you_mean

        hint = did_you_mean(dataset, datasets)
        known = f"datasets with {activity_type} data: {', '.join(datasets)}" if datasets else "load some with 'ccf load'"
        raise AttributionError(f"dataset {dataset!r} has no {activity_type} activity data; " + (hint or known))


def find_run(ex: Executor, dataset: str, m: ir.Methodology, loads: list[int] | None = None) -> int | None:
    """The latest completed run, on PostgreSQL, of exactly this methodology content over ``loads``
    (default: the dataset's loads now) with the same activity type, or None."""
    r, rm = "r", "rm"
    q = (
        exp.select(exp.Max(this=column("run_id", r)))
        .from_(table("run", alias=r))
        .join(table("run_methodology", alias=rm), on=exp.EQ(this=column("run_id", rm), expression=column("run_id", r)))
        .where(
            exp.and_(
                exp.EQ(this=column("dataset", r), expression=param("dataset")),
                exp.Not(this=exp.Is(this=column("finished_at", r), expression=exp.Null())),
                # the attribution reads ccf.result: a run whose rows are in ClickHouse is not reused
                exp.EQ(this=column("engine", r), expression=text(POSTGRESQL)),
                exp.EQ(this=column("methodology_id", rm), expression=param("methodology_id")),
                exp.EQ(this=column("content_hash", rm), expression=param("content_hash")),
                exp.EQ(this=column("activity_type_hash", rm), expression=param("activity_type_hash")),
                exp.EQ(
                    this=exp.JSONExtract(this=column("summary", r), expression=text("loads")),
                    expression=exp.Cast(this=param("loads"), to=exp.DataType.build("JSONB")),
                ),
            )
        )
    )
    loads = dataset_loads(ex, dataset) if loads is None else loads
    row = ex.one(q, {"dataset": dataset, "methodology_id": m.id, "content_hash": m.content_hash,
                     "activity_type_hash": m.activity.content_hash, "loads": json.dumps(sorted(loads))})
    return row[0] if row else None


def _side_run(m: ir.Methodology, run_id: int, reused: bool) -> SideRun:
    """A version's side: its run, and the settings of its IR (a reused run has the same content
    hash, so the same settings; they are not read back from ccf.run_methodology)."""
    return SideRun(m.ref, run_id, reused, m.content_hash, m.factor_set, m.gwp, m.scope, m.category)


def runs_for(conn: psycopg.Connection, dataset: str, a: ir.Methodology, b: ir.Methodology, reuse: bool = True,
             progress: Callable[[str], None] | None = None) -> tuple[SideRun, SideRun]:
    """A run of each version on the dataset: reused when one of exactly that content over the
    same loads exists, else run now (each in its own committed transaction). Both read the loads
    the dataset holds at the start, even when another is committed between the two runs.
    ``progress`` is called with each version's ref before its run is looked for or made."""
    ex = Executor(conn)
    loads = dataset_loads(ex, dataset)
    ids: dict[str, tuple[int, bool]] = {}
    for m in (a, b):
        if progress is not None:
            progress(m.ref)
        if m.content_hash in ids:
            continue
        found = find_run(ex, dataset, m, loads) if reuse else None
        conn.commit()
        # a version pinning an edition for another period than the data's is compared as it
        # computes, its fallback recorded on the run (engine/factors/editions.py)
        ids[m.content_hash] = (found, True) if found is not None else (
            run(conn, dataset, [m], loads=loads, other_edition=True).run_id, False)
    return (_side_run(a, *ids[a.content_hash]), _side_run(b, *ids[b.content_hash]))


# --- what the IR says is the same --------------------------------------------------------


def same_formulas(a: ir.Methodology, b: ir.Methodology) -> list[tuple[str, str]]:
    """(rule id, gas) whose emission expression is the same in both versions (IR equality:
    spans ignored; parameters, constants, units and factor references compared)."""
    ra = {r.id: {e.gas: e for e in r.emissions} for r in a.rules}
    out = []
    for rule in b.rules:
        for e in rule.emissions:
            other = ra.get(rule.id, {}).get(e.gas)
            if other is not None and other.value == e.value and other.co2e_basis == e.co2e_basis:
                out.append((rule.id, e.gas))
    return out


# --- SQL ---------------------------------------------------------------------------------


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def _of_run(alias: str, side: str) -> exp.Expression:
    return exp.and_(eq(column("run_id", alias), param(f"run_{side}")), eq(column("methodology_id", alias), param(f"methodology_{side}")))


def _typed_null(sql_type: str) -> exp.Expression:
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(sql_type, dialect="postgres"))


STREAM_COLUMNS = ("side", "activity_id", "gas", "entity", "rule_id", "gas_kg", "gwp", "co2e_kg", "factor_ids", "outcome")


def _stream() -> exp.Expression:
    """Both runs' outcomes as one stream of rows tagged with their side: result rows (one per
    gas), excluded and unmatched rows (no gas). Pairing is then grouping and windowing, which
    PostgreSQL does by sorting or hashing whatever its statistics say: a join of the two runs
    on a freshly written result table was planned as a nested loop, quadratic in the rows."""
    o = "o"
    parts: list[exp.Expression] = []
    for side in ("a", "b"):
        parts.append(
            exp.select(exp.alias_(text(side), "side"), *[column(c, o) for c in STREAM_COLUMNS[1:-1]], exp.alias_(text("result"), "outcome"))
            .from_(table("result", alias=o)).where(_of_run(o, side))
        )
        for name in ("excluded", "unmatched"):
            nulls = {"gas": "TEXT", "entity": "TEXT", "gas_kg": "NUMERIC", "gwp": "NUMERIC", "co2e_kg": "NUMERIC", "factor_ids": "TEXT[]"}
            cols = [exp.alias_(text(side), "side"), column("activity_id", o)]
            cols += [column(c, o) if c not in nulls else exp.alias_(_typed_null(nulls[c]), c) for c in STREAM_COLUMNS[2:-1]]
            parts.append(exp.select(*cols, exp.alias_(text(name), "outcome")).from_(table(name, alias=o)).where(_of_run(o, side)))
    out = parts[0]
    for q in parts[1:]:
        out = exp.union(out, q, distinct=False)
    return out


def _on_side(side: str, e: exp.Expression) -> exp.Expression:
    """e, for the stream rows of one side only (an aggregate's FILTER)."""
    return exp.Filter(this=e, expression=exp.Where(this=eq(column("side"), text(side))))


def _tagged() -> exp.Select:
    """The stream with each activity row's outcome on both sides (a window per activity row)."""
    window = lambda side: exp.Window(  # noqa: E731
        this=exp.Max(this=exp.Case(ifs=[exp.If(this=eq(column("side"), text(side)), true=column("outcome"))])),
        partition_by=[column("activity_id")],
    )
    return exp.select(exp.Star(), exp.alias_(window("a"), "outcome_a"), exp.alias_(window("b"), "outcome_b")).from_(
        exp.Table(this=ident("stream"))
    )


def _paired() -> exp.Select:
    """One row per (activity row, gas) with a result on either side: both sides' stored values."""
    cols: list[exp.Expression] = [column("activity_id"), column("gas"), exp.alias_(exp.Max(this=column("entity")), "entity"),
                                  exp.alias_(exp.Max(this=column("outcome_a")), "outcome_a"),
                                  exp.alias_(exp.Max(this=column("outcome_b")), "outcome_b")]
    for side in ("a", "b"):
        cols.append(exp.alias_(_on_side(side, exp.Count(this=exp.Star())), f"has_{side}"))
        for c in ("rule_id", "gas_kg", "gwp", "co2e_kg", "factor_ids"):
            name = "rule" if c == "rule_id" else c.removesuffix("_kg") if c == "co2e_kg" else c
            cols.append(exp.alias_(_on_side(side, exp.Max(this=column(c))), f"{name}_{side}"))
    return (
        exp.select(*cols).from_(exp.Table(this=ident("tagged")))
        .where(exp.Not(this=_is_null(column("gas"))))
        .group_by(column("activity_id"), column("gas"))
    )


def _changed_factors() -> exp.Expression:
    """Factor ids whose published row (unit, gas, value) differs between the two editions."""

    def edition(p: str) -> exp.Select:
        return (
            exp.select(column("factor_id", "f"), column("unit", "f"), column("gas", "f"), column("value", "f"))
            .from_(table("factor", alias="f"))
            .join(table("factor_set", alias="s"), on=eq(column("factor_set_id", "s"), column("factor_set_id", "f")))
            .where(eq(column("factor_set_id", "s"), edition_key(param(p))))  # the run's organisation's, by name
        )

    one_way = lambda x, y: exp.select(column("factor_id", "d")).from_(  # noqa: E731
        exp.Subquery(this=exp.except_(edition(x), edition(y), distinct=True), alias=exp.TableAlias(this=ident("d")))
    )
    return exp.union(one_way("factor_set_a", "factor_set_b"), one_way("factor_set_b", "factor_set_a"), distinct=True)


def _used_factors() -> exp.Select:
    """The distinct factor ids A's results used (few, however many rows)."""
    return (
        exp.select(column("factor_id", "u")).distinct()
        .from_(table("result", alias="o"))
        .join(exp.Lateral(this=exp.Unnest(expressions=[column("factor_ids", "o")]),
                          alias=exp.TableAlias(this=ident("u"), columns=[ident("factor_id")])), join_type="cross")
        .where(_of_run("o", "a"))
    )


def _changed_used() -> exp.Select:
    """The changed factors that A's results used, as one array: computed once, so each pair
    tests its factor ids against a handful of ids, not against the whole factor set."""
    return exp.select(exp.alias_(exp.ArrayAgg(this=column("factor_id", "c")), "ids")).from_(_cte_table("changed_factor", "c")).where(
        exp.In(this=column("factor_id", "c"), query=exp.Subquery(this=exp.select(column("factor_id")).from_(exp.Table(this=ident("used_factor")))))
    )


def _same_formula(pairs: list[tuple[str, str]]) -> exp.Expression:
    if not pairs:  # typed, empty
        return exp.select(exp.alias_(_typed_null("TEXT"), "rule_id"), exp.alias_(_typed_null("TEXT"), "gas")).where(exp.false())
    return exp.select(column("rule_id", "v"), column("gas", "v")).from_(
        exp.Values(
            expressions=[exp.Tuple(expressions=[text(r), text(g)]) for r, g in pairs],
            alias=exp.TableAlias(this=ident("v"), columns=[ident("rule_id"), ident("gas")]),
        )
    )


def _cte_table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=ident(alias)))


def pairs_statement(same: list[tuple[str, str]]) -> exp.Expression:
    """CREATE TEMPORARY TABLE ccf_attribution: one row per (activity row, gas) with a result on
    either side, both sides' values, the GWP step and the cause of the rest."""
    p = "p"
    a_missing = eq(column("has_a", p), exp.Literal.number(0))
    b_missing = eq(column("has_b", p), exp.Literal.number(0))
    both_gwp = exp.and_(exp.Not(this=_is_null(column("gwp_a", p))), exp.Not(this=_is_null(column("gwp_b", p))))
    gwp_step = exp.Case(
        ifs=[exp.If(this=both_gwp, true=exp.Mul(this=column("gas_kg_a", p), expression=exp.Paren(this=exp.Sub(this=column("gwp_b", p), expression=column("gwp_a", p)))))],
        default=number(0),
    )
    a_value = exp.Coalesce(this=column("co2e_a", p), expressions=[number(0)])
    b_value = exp.Coalesce(this=column("co2e_b", p), expressions=[number(0)])
    rest = exp.Sub(this=exp.Sub(this=b_value, expression=a_value), expression=exp.Paren(this=gwp_step.copy()))

    def by_outcome(o: str, excluded: str, unmatched: str) -> exp.Expression:
        return exp.Case(
            this=column(o, p),
            ifs=[
                exp.If(this=text("excluded"), true=text(excluded)),
                exp.If(this=text("unmatched"), true=text(unmatched)),
                exp.If(this=text("result"), true=text("formula_changed")),  # the rule gives no value for this gas
            ],
            default=text("other"),  # no outcome on that side: the runs did not read the same rows
        )

    formula_same = exp.Exists(
        this=exp.select(exp.Literal.number(1)).from_(_cte_table("same_formula", "s")).where(
            exp.and_(eq(column("rule_id", "s"), column("rule_b", p)), eq(column("gas", "s"), column("gas", p)))
        )
    )
    changed_ids = exp.Subquery(this=exp.select(column("ids")).from_(exp.Table(this=ident("changed_used"))))
    cause = exp.Case(
        ifs=[
            exp.If(this=a_missing, true=by_outcome("outcome_a", "newly_included", "newly_matched")),
            exp.If(this=b_missing, true=by_outcome("outcome_b", "newly_excluded", "newly_unmatched")),
            exp.If(this=exp.NEQ(this=column("rule_a", p), expression=column("rule_b", p)), true=text("formula_changed")),
            exp.If(this=exp.Not(this=formula_same), true=text("formula_changed")),
            exp.If(this=exp.NEQ(this=column("factor_ids_a", p), expression=column("factor_ids_b", p)), true=text("factor_changed")),
            exp.If(this=exp.ArrayOverlaps(this=column("factor_ids_a", p), expression=changed_ids), true=text("factor_value_changed")),
            exp.If(this=eq(rest.copy(), number(0)), true=text(UNCHANGED)),
        ],
        default=text("other"),
    )
    select = exp.select(
        *[column(c, p) for c in ("activity_id", "gas", "entity", "outcome_a", "outcome_b", "rule_a", "rule_b", "co2e_a", "co2e_b")],
        exp.alias_(gwp_step, "gwp_step"), exp.alias_(rest, "rest"), exp.alias_(cause, "cause"),
    ).from_(_cte_table("paired", p))
    ctes = [
        ("changed_factor", _changed_factors(), True), ("used_factor", _used_factors(), True), ("changed_used", _changed_used(), True),
        ("same_formula", _same_formula(same), False),
        ("stream", _stream(), False), ("tagged", _tagged(), False), ("paired", _paired(), False),
    ]
    for name, q, materialized in ctes:
        select = select.with_(name, as_=q, materialized=materialized or None)
    return exp.Create(
        this=exp.Table(this=ident(WORK)), kind="TABLE", expression=select,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def drop_pairs() -> exp.Drop:
    """Drop the per-pair temporary table: before the attribution (one that failed in this session
    may have left it) and after."""
    return exp.Drop(tables=[exp.Table(this=ident(WORK))], kind="TABLE", exists=True)


def legs_query() -> exp.Expression:
    """The aggregates: per cause, and per cause and scope / gas / entity / rule, each pair split
    into A's leg (−a, A's rule) and B's leg (a + rest, B's rule; A's when B has no result) and
    the GWP step (B's rule)."""
    t = "t"
    zero = number(0)
    a = exp.Coalesce(this=column("co2e_a", t), expressions=[number(0)])
    b = exp.Coalesce(this=column("co2e_b", t), expressions=[number(0)])
    b_missing = _is_null(column("co2e_b", t))

    def integer(name: str) -> exp.Expression:
        return exp.Cast(this=param(name), to=exp.DataType.build("INT"))

    def dims(which: str) -> list[exp.Expression]:
        if which == "a":
            return [integer("scope_a"), integer("category_a"), column("rule_a", t)]
        pick = lambda x, y: exp.Case(ifs=[exp.If(this=b_missing.copy(), true=x)], default=y)  # noqa: E731
        return [pick(integer("scope_a"), integer("scope_b")), pick(integer("category_a"), integer("category_b")),
                exp.Coalesce(this=column("rule_b", t), expressions=[column("rule_a", t)])]

    nonzero = lambda e: exp.Case(ifs=[exp.If(this=exp.NEQ(this=e, expression=number(0)), true=exp.Literal.number(1))], default=exp.Literal.number(0))  # noqa: E731
    legs = exp.Values(
        expressions=[
            exp.Tuple(expressions=[column("cause", t), exp.Neg(this=a.copy()), a.copy(), zero.copy(), exp.Literal.number(0), *dims("a")]),
            exp.Tuple(expressions=[column("cause", t), exp.Add(this=a.copy(), expression=column("rest", t)), zero.copy(), b.copy(),
                                   nonzero(column("rest", t)), *dims("b")]),
            exp.Tuple(expressions=[text("gwp_set_changed"), column("gwp_step", t), zero.copy(), zero.copy(), nonzero(column("gwp_step", t)), *dims("b")]),
        ],
    )
    legs_alias = exp.TableAlias(this=ident("l"), columns=[ident(c) for c in ("cause", "amount", "before", "after", "n", "scope", "category", "rule_id")])
    l = "l"  # noqa: E741
    grouped = [column("scope", l), column("category", l), column("gas", t), column("entity", t), column("rule_id", l)]
    sets = exp.GroupingSets(expressions=[
        exp.Paren(this=column("cause", l)),
        exp.Tuple(expressions=[column("cause", l), column("scope", l), column("category", l)]),
        exp.Tuple(expressions=[column("cause", l), column("gas", t)]),
        exp.Tuple(expressions=[column("cause", l), column("entity", t)]),
        exp.Tuple(expressions=[column("cause", l), column("rule_id", l)]),
    ])
    kept = exp.or_(*[exp.NEQ(this=column(c, l), expression=number(0)) for c in ("amount", "before", "after", "n")])
    return (
        exp.select(
            exp.alias_(exp.Grouping(expressions=[g.copy() for g in grouped]), "grouping_set"),
            column("cause", l), *[g.copy() for g in grouped],
            *[exp.alias_(exp.Sum(this=column(c, l)), c) for c in ("amount", "before", "after", "n")],
        )
        .from_(_cte_table(WORK, t))
        .join(exp.Lateral(this=exp.Subquery(this=legs), alias=legs_alias), join_type="cross")
        .where(kept)
        .group_by(sets)
        .order_by(exp.Literal.number(1), *[exp.Literal.number(i) for i in range(2, 8)])
    )


def outcomes_query() -> exp.Expression:
    """Activity rows by (A's outcome, B's outcome); a side without the row is 'absent'."""
    per_row = (
        exp.select(*[exp.alias_(exp.Coalesce(this=_on_side(side, exp.Max(this=column("outcome"))), expressions=[text("absent")]), f"outcome_{side}")
                     for side in ("a", "b")])
        .from_(exp.Table(this=ident("stream")))
        .group_by(column("activity_id"))
    )
    return (
        exp.select(column("outcome_a"), column("outcome_b"), exp.Count(this=exp.Star()))
        .with_("stream", as_=_stream())
        .from_(exp.Subquery(this=per_row, alias=exp.TableAlias(this=ident("o"))))
        .group_by(column("outcome_a"), column("outcome_b"))
        .order_by(exp.Literal.number(1), exp.Literal.number(2))
    )


def largest_query() -> exp.Expression:
    t = "t"
    change = exp.Sub(this=exp.Coalesce(this=column("co2e_b", t), expressions=[number(0)]),
                     expression=exp.Coalesce(this=column("co2e_a", t), expressions=[number(0)]))
    cols = ("activity_id", "gas", "outcome_a", "outcome_b", "rule_a", "rule_b", "co2e_a", "co2e_b", "cause", "rest", "gwp_step")
    return (
        exp.select(*[column(c, t) for c in cols])
        .from_(_cte_table(WORK, t))
        .where(exp.NEQ(this=change, expression=number(0)))
        .order_by(exp.Ordered(this=exp.Abs(this=change.copy()), desc=True), column("activity_id", t), column("gas", t))
        .limit(param("limit"))
    )


# --- from the aggregates to the report ---------------------------------------------------


def assemble(dataset: str, side_a: SideRun, side_b: SideRun, legs: list[tuple], outcomes: tuple, top: list[tuple]) -> Attribution:
    """Pivot the SQL aggregates (one row per grouping set, cause and key) into the report."""
    totals = [r for r in legs if r[0] == TOTAL_SET]
    amount = {r[1]: (r[7], r[10]) for r in totals}
    causes = tuple((c, amount.get(c, (Decimal(0), 0))[0], int(amount.get(c, (Decimal(0), 0))[1])) for c, _ in CAUSES)
    unknown = set(amount) - set(CAUSE_LABELS) - {UNCHANGED}
    assert not unknown, unknown
    total_a = exact_sum(r[8] for r in totals)
    total_b = exact_sum(r[9] for r in totals)
    by: dict[str, tuple[Breakdown, ...]] = {}
    for dim, grouping in DIMENSIONS:
        keyed: dict[str, list[tuple]] = {}
        for r in legs:
            if r[0] != grouping:
                continue
            _, cause, scope, category, gas, entity, rule_id = r[:7]
            key = {
                "scope": f"scope {scope}" + (f", category {category}" if category is not None else ""),
                "gas": gas, "entity": entity, "rule": rule_id if rule_id is not None else "(no rule)",
            }[dim]
            keyed.setdefault(key, []).append(r)
        rows = []
        for key, rs in sorted(keyed.items()):
            parts = tuple((c, exact_sum(r[7] for r in rs if r[1] == c)) for c, _ in CAUSES)
            rows.append(Breakdown(key, exact_sum(r[8] for r in rs), exact_sum(r[9] for r in rs), tuple(p for p in parts if p[1] != 0)))
        by[dim] = tuple(rows)
    largest = tuple(
        ChangedRow(
            activity_id, gas, oa, ob, rule_a, rule_b, before, after, cause,
            tuple((c, v) for c, v in ((cause, rest), ("gwp_set_changed", gwp_step)) if v != 0),
        )
        for activity_id, gas, oa, ob, rule_a, rule_b, before, after, cause, rest, gwp_step in top
    )
    return Attribution(dataset, side_a, side_b, total_a, total_b, causes, by, outcomes, largest)
