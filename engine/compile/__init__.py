"""Lower a checked methodology (IR) to set-based PostgreSQL statements, as sqlglot trees.

A methodology always compiles to the same six statements, whatever the row count:

1. ``evaluate``  CREATE TEMPORARY TABLE ccf_eval AS … — one pass over the activity rows:
   normalise units, join each factor lookup (resolved once per distinct key), pick the first
   rule whose condition holds, compute every gas, and classify the row
   (result / excluded / unmatched with a reason).
2. ``results``   INSERT INTO ccf.result … — one row per activity row and gas, with provenance.
3. ``excluded``  INSERT INTO ccf.excluded …
4. ``unmatched`` INSERT INTO ccf.unmatched …
5. ``reconcile`` SELECT the counts that must balance.
6. ``cleanup``   DROP TABLE ccf_eval.

Bound parameters: %(run_id)s, %(dataset)s, %(loads)s (the dataset's loads the run reads, an array
of load ids), %(factor_set_id)s, and %(factor_set_id__<lookup>)s for a lookup that reads another
factor set (``lookup_set_params``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Callable, Iterator

from sqlglot import exp

from ccf.dsl import exactness, ir
from ccf.dsl.units import dimension_key, fraction_to_decimal, is_terminating, parse_unit
from ccf.engine import sql
from ccf.engine.compile import allocation, currency
from ccf.engine.database import SESSION_SETTINGS
from ccf.engine.sql import column, comment, func, ident, number, param, render, table, text

EVAL = "ccf_eval"


@dataclass(frozen=True)
class CompiledMethodology:
    """The statements of one methodology, in the order they run."""

    methodology: ir.Methodology
    evaluate: exp.Expression
    results: exp.Expression
    excluded: exp.Expression
    unmatched: exp.Expression
    reconcile: exp.Expression
    cleanup: exp.Expression
    instruments: exp.Expression | None = None  # only for a methodology with instruments

    def statements(self) -> list[tuple[str, exp.Expression]]:
        return [
            ("evaluate", self.evaluate),
            ("results", self.results),
            ("excluded", self.excluded),
            ("unmatched", self.unmatched),
            *([("instruments", self.instruments)] if self.instruments is not None else []),
            ("reconcile", self.reconcile),
            ("cleanup", self.cleanup),
        ]

    def sql(self) -> str:
        m = self.methodology
        head = [
            f"ccf compiled SQL for {m.ref} ({m.status})",
            m.title,
            f"content hash sha256:{m.content_hash}",
            f"activity type {m.activity.id}; factor set {m.factor_set}; GWP {m.gwp}",
            "parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s"
            + "".join(f", %({p})s ({s})" for p, s in lookup_set_params(m).items()),
            # the text below means what the methodology says under these (a literal's backslash, say)
            "assumes the session settings ccf pins on each connection:",
            "  " + " ".join(f"{k}={v}" if " " not in v else f"{k}='{v}'" for k, v in SESSION_SETTINGS.items()),
        ]
        body = [f"\n{comment(f'[{i}] {name}')}\n{render(tree)};" for i, (name, tree) in enumerate(self.statements(), 1)]
        return "\n".join(comment(line) for line in head) + "\n" + "\n".join(body) + "\n"


def activity_table_name(activity_type: str) -> str:
    return f"activity_{activity_type}"


def _lookup_col(lookup: str, gas: str, suffix: str = "") -> str:
    return f"{lookup}__{gas.lower()}{suffix}"


def _set_param(lk: ir.FactorLookup) -> str:
    """The bound parameter holding the ccf.factor_set key of the set a lookup reads."""
    return "factor_set_id" if lk.factor_set is None else f"factor_set_id__{lk.name}"


def lookup_set_params(m: ir.Methodology) -> dict[str, str]:
    """Bound parameter -> factor-set id, for each used lookup that reads another factor set than
    the methodology's (``factor_set:`` on the lookup); the run binds each to the installed
    edition's key, or to NULL when the set is not installed (the lookup then finds nothing)."""
    return {_set_param(lk): lk.factor_set for lk in m.lookups if lk.factor_set is not None and lk.gases}


def _reads_other_sets(m: ir.Methodology) -> bool:
    return any(lk.factor_set is not None and lk.gases for lk in m.lookups)


# --- expressions ------------------------------------------------------------------------


Resolver = Callable[[str], exp.Expression]


class ExpressionCompiler:
    """One visitor per IR node type; a node without a visitor fails loudly."""

    def __init__(self, row: str):
        self.row = row

    def __call__(self, node: ir.Node) -> exp.Expression:
        visit = getattr(self, "visit_" + type(node).__name__, None)
        if visit is None:
            raise NotImplementedError(f"no SQL for IR node {type(node).__name__}")
        return visit(node)

    def operand(self, node: ir.Node) -> exp.Expression:
        e = self(node)
        return exp.Paren(this=e) if isinstance(e, (exp.Binary, exp.Neg, exp.Not)) and not isinstance(e, exp.Dot) else e

    def visit_Const(self, n: ir.Const) -> exp.Expression:
        return number(n.value)

    def visit_TextConst(self, n: ir.TextConst) -> exp.Expression:
        return text(n.value)

    def visit_BoolConst(self, n: ir.BoolConst) -> exp.Expression:
        return exp.true() if n.value else exp.false()

    def visit_DateConst(self, n: ir.DateConst) -> exp.Expression:
        return exp.Cast(this=text(n.value), to=exp.DataType.build("DATE"))

    def visit_NullConst(self, n: ir.NullConst) -> exp.Expression:
        return exp.Null()

    def visit_FieldRef(self, n: ir.FieldRef) -> exp.Expression:
        return column(n.name, self.row)

    def visit_ParamRef(self, n: ir.ParamRef) -> exp.Expression:
        e = self(n.value)
        e = exp.Paren(this=e) if isinstance(e, exp.Binary) else e
        e.add_comments([f" parameter {n.name} "])
        return e

    def visit_FactorRef(self, n: ir.FactorRef) -> exp.Expression:
        return column(_lookup_col(n.lookup, n.gas), self.row)

    def visit_ConversionRef(self, n: ir.ConversionRef) -> exp.Expression:
        return column(currency.value_col(n.conversion), self.row)  # converted in `joined`

    def visit_Arith(self, n: ir.Arith) -> exp.Expression:
        left, right = self.operand(n.left), self.operand(n.right)
        # never integer arithmetic: PostgreSQL types a whole-number literal as integer
        if _integral(n.left):
            left = exp.Cast(this=left, to=exp.DataType.build("NUMERIC"))
        if _integral(n.right):
            right = exp.Cast(this=right, to=exp.DataType.build("NUMERIC"))
        if n.op == "/":
            return func("div", self(n.left), self(n.right), schema="ccf")
        return {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[n.op](this=left, expression=right)

    def visit_Neg(self, n: ir.Neg) -> exp.Expression:
        return exp.Neg(this=self.operand(n.operand))

    def visit_Rescale(self, n: ir.Rescale) -> exp.Expression:
        operand = self.operand(n.operand) if is_terminating(n.ratio) else self(n.operand)
        if _integral(n.operand):  # e.g. min(1e3, 1e3) in a unit: never integer multiplication
            operand = exp.Cast(this=operand, to=exp.DataType.build("NUMERIC"))
        return scale_sql(operand, n.ratio)

    def visit_Compare(self, n: ir.Compare) -> exp.Expression:
        cls = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[n.op]
        return cls(this=self.operand(n.left), expression=self.operand(n.right))

    def visit_IsNull(self, n: ir.IsNull) -> exp.Expression:
        test = exp.Is(this=self.operand(n.operand), expression=exp.Null())
        return exp.Not(this=test) if n.negated else test

    def visit_Logic(self, n: ir.Logic) -> exp.Expression:
        cls = exp.And if n.op == "and" else exp.Or
        return cls(this=self.operand(n.left), expression=self.operand(n.right))

    def visit_Not(self, n: ir.Not) -> exp.Expression:
        return exp.Not(this=self.operand(n.operand))

    def visit_InList(self, n: ir.InList) -> exp.Expression:
        e = exp.In(this=self.operand(n.operand), expressions=[self(i) for i in n.items])
        return exp.Not(this=exp.Paren(this=e)) if n.negated else e

    def visit_IfThen(self, n: ir.IfThen) -> exp.Expression:
        return exp.Case(ifs=[exp.If(this=self(n.cond), true=self(n.then))], default=self(n.otherwise))

    def visit_Coalesce(self, n: ir.Coalesce) -> exp.Expression:
        return exp.Coalesce(this=self(n.left), expressions=[self(n.right)])

    def visit_Func(self, n: ir.Func) -> exp.Expression:
        args = [self(a) for a in n.args]
        if n.name == "min":
            return exp.Least(this=args[0], expressions=args[1:])
        if n.name == "max":
            return exp.Greatest(this=args[0], expressions=args[1:])
        if n.name == "abs":
            return exp.Abs(this=args[0])
        if n.name == "round":
            return exp.Round(this=args[0], decimals=exp.Literal.number(n.digits))
        if n.name == "year":
            return exp.Extract(this=exp.var("YEAR"), expression=args[0])
        raise NotImplementedError(n.name)


def _integral(node: ir.Node) -> bool:
    """A whole-number constant (possibly a parameter or negated), which SQL would type integer."""
    if isinstance(node, ir.ParamRef):
        return _integral(node.value)
    if isinstance(node, ir.Neg):
        return _integral(node.operand)
    if isinstance(node, ir.Func) and node.name in ("min", "max", "abs"):
        return all(_integral(a) for a in node.args)  # LEAST/GREATEST/ABS of integers are integers
    if isinstance(node, ir.Coalesce):
        return _integral(node.left) and _integral(node.right)
    if isinstance(node, ir.IfThen):
        return _integral(node.then) and _integral(node.otherwise)
    return isinstance(node, ir.Const) and "." not in format(node.value, "f")


def scale_sql(e: exp.Expression, ratio: Fraction) -> exp.Expression:
    """e × ratio, exactly: a multiplication when the ratio is a finite decimal, else ccf.div."""
    if ratio == 1:
        return e
    if is_terminating(ratio):
        return exp.Mul(this=e, expression=number(fraction_to_decimal(ratio)))
    inner = exp.Paren(this=e) if isinstance(e, (exp.Binary, exp.Neg)) else e  # a + b, not a + (b × p)
    num = e if ratio.numerator == 1 else exp.Mul(this=inner, expression=number(ratio.numerator))
    return func("div", num, number(ratio.denominator), schema="ccf")


def _exact_inputs(rule: ir.Rule, threshold: int, row: "ExpressionCompiler") -> exp.Expression:
    """TRUE when every input of a guarded rule's emissions is within the exactness plan's
    threshold (``exactness.within``): NULL, or ``SCALE(x) <= t AND ABS(x) < 1Et``."""
    leaves, by_mass = exactness.inputs(rule)
    values = [row(leaf) for leaf in leaves] + [column(f"gwp_{gas.lower()}", "gwp") for gas in by_mass]
    bound = exp.Literal.number(f"1E{threshold}")  # 10^t, exact: a NUMERIC constant, folded once
    tests = [
        exp.or_(
            exp.Is(this=v, expression=exp.Null()),
            exp.and_(
                exp.LTE(this=func("SCALE", v.copy()), expression=exp.Literal.number(threshold)),
                exp.LT(this=exp.Abs(this=v.copy()), expression=bound.copy()),
            ),
        )
        for v in values
    ]
    return exp.and_(*tests) if tests else exp.true()


def factor_refs(node: ir.Node) -> Iterator[ir.FactorRef]:
    """Every factor reference in an expression, in source order."""
    if isinstance(node, ir.FactorRef):
        yield node
        return
    for value in vars(node).values():
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, ir.Node):
                yield from factor_refs(child)


# --- statements -------------------------------------------------------------------------


def of_run_loads(alias: str | None = None) -> exp.Expression:
    """A row of the dataset's loads that the run reads (%(loads)s): the loads its snapshot held,
    or those a verification recomputes with; a load committed later is never read."""
    return exp.and_(
        exp.EQ(this=column("dataset", alias), expression=param("dataset")),
        exp.EQ(this=column("load_id", alias),
               expression=exp.Any(this=exp.Paren(this=exp.Cast(this=param("loads"), to=exp.DataType.build("BIGINT[]"))))),
    )


def _activity_cte(m: ir.Methodology) -> exp.Select:
    """Activity rows of the run's loads, quantities brought to base units, with a conversion note."""
    cols: list[exp.Expression] = [column(c, "a") for c in ("activity_id", "entity", "period_start", "period_end")]
    notes: list[exp.Expression] = []
    for f in m.activity.fields:
        if f.name in ("activity_id", "entity", "period_start", "period_end"):
            continue
        value = column(f.name, "a")
        if f.type.kind == "quantity" and f.conversions:
            unit_col = column(f"{f.name}_unit", "a")
            case = exp.Case(
                this=unit_col,
                ifs=[exp.If(this=text(c.unit), true=number(c.factor)) for c in f.conversions],
            )
            value = exp.Mul(this=value, expression=case)
            display = parse_unit(f.display_unit or "1")
            notes.append(
                exp.Case(
                    this=unit_col,
                    ifs=[
                        exp.If(this=text(c.unit), true=text(_conversion_note(f.name, c.unit, parse_unit(c.unit).scale / display.scale, f.display_unit or "")))
                        for c in f.conversions
                    ],
                )
            )
        elif f.type.kind == "quantity" and f.fixed_factor is not None and f.fixed_factor != 1:
            value = exp.Mul(this=value, expression=number(f.fixed_factor))
        cols.append(exp.alias_(value, f.name) if not isinstance(value, exp.Column) else value)
    note = exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), *notes]) if notes else exp.Null()
    cols.append(exp.alias_(note, "unit_conversion"))
    return _once(
        exp.select(*cols)
        .from_(table(activity_table_name(m.activity.id), alias="a"))
        .where(of_run_loads("a"))
    )


def _once(q: exp.Select) -> exp.Select:
    """Compute this step's columns once per row: OFFSET 0 stops PostgreSQL from inlining the
    subquery into its consumers, which would repeat every expression at each use."""
    return q.offset(0)


def _conversion_note(field: str, unit: str, ratio: Fraction, display: str) -> str:
    if ratio == 1:
        return f"{field} in {unit}"
    shown = str(fraction_to_decimal(ratio)) if is_terminating(ratio) else f"{ratio.numerator}/{ratio.denominator}"
    return f"{field} {unit}→{display} ×{shown}"


def _key_columns(lk: ir.FactorLookup) -> list[tuple[str, ir.Node]]:
    """The row-dependent keys of a lookup: match attributes, then region and year."""
    cols = [(f"key_{name}", node) for name, node in lk.match]
    if lk.region is not None:
        cols.append(("key_region", lk.region))
    if lk.year is not None:
        cols.append(("key_year", lk.year))
    return cols


SHARED_KEYS = "lookup_keys"


def _keys_from_rows(lk: ir.FactorLookup) -> bool:
    """Whether a lookup is resolved per distinct key of the activity rows (True) or per distinct
    key of the factor set (False).

    A lookup whose keys are only match attributes (``attribute = row value``) has one answer per
    attribute value the factor set holds: it is resolved for every such value, from the factor
    rows alone, and the activity rows are joined to it once (a row whose value the set does not
    hold finds no row: unmatched, as before). This saves a scan of the activity rows for their
    distinct keys (docs/performance.md, matching). A region or year key is resolved through a
    fallback chain that depends on the row's own value (its ancestors; the latest year not after
    it), so those lookups are resolved per distinct key of the rows."""
    return lk.region is not None or lk.year is not None


def _shared_keys_cte(m: ir.Methodology) -> list[tuple[str, exp.Expression]]:
    """With several lookups resolved per row key, every such lookup's keys from ONE scan of the
    activity rows (``lookup_keys``, materialised): each ``factor_<name>_keys`` then reads this
    small set instead of scanning the activity rows again (docs/performance.md, matching)."""
    keyed = [lk for lk in m.lookups if _key_columns(lk) and _keys_from_rows(lk)]
    if len(keyed) < 2:
        return []
    row = ExpressionCompiler("a")
    cols = [exp.alias_(row(node), f"{lk.name}__{col}") for lk in keyed for col, node in _key_columns(lk)]
    return [(SHARED_KEYS, exp.select(*cols).distinct().from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a")))))]


def _lookup_ctes(lk: ir.FactorLookup, shared: bool = False) -> list[tuple[str, exp.Expression]]:
    """Resolve a lookup once per distinct key, never per activity row: per key of the dataset
    when the lookup falls back by region or year, else per key of the factor set
    (``_keys_from_rows``).

    ``factor_<name>_keys``    the distinct keys the rows carry (from ``lookup_keys`` if shared;
                              only for a lookup resolved per key of the rows);
    ``factor_<name>_ranked``  every qualifying factor per key and gas, ranked by fallback level
                              (nearest region, latest year not after the row's, own unit first);
    ``factor_<name>``         the best rank per key: value, factor id, level and candidate count
                              (more than one at the best rank is ambiguous).
    """
    f, k = "f", "k"
    per = parse_unit(lk.per)
    keys = _key_columns(lk)
    attr = lambda name: exp.JSONExtractScalar(this=column("attributes", f), expression=text(name))  # noqa: E731
    ctes: list[tuple[str, exp.Expression]] = []
    from_rows = _keys_from_rows(lk)  # else every key the factor set holds (_keys_from_rows)
    if keys and from_rows and shared:
        distinct = exp.select(*[exp.alias_(column(f"{lk.name}__{col}", "s"), col) for col, _ in keys]).distinct()
        ctes.append((f"factor_{lk.name}_keys", distinct.from_(exp.Table(this=ident(SHARED_KEYS), alias=exp.TableAlias(this=ident("s"))))))
    elif keys and from_rows:
        row = ExpressionCompiler("a")
        distinct = exp.select(*[exp.alias_(row(node), col) for col, node in keys]).distinct()
        ctes.append((f"factor_{lk.name}_keys", distinct.from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a"))))))

    conds: list[exp.Expression] = [
        exp.EQ(this=column("factor_set_id", f), expression=param(_set_param(lk))),
        exp.EQ(this=column("dimension", "fu"), expression=text(dimension_key(per.dimension))),
        exp.In(this=column("gas", f), expressions=[text(g) for g in lk.gases]),
    ]
    conds += [exp.EQ(this=attr(name), expression=text(value)) for name, value in lk.select]
    if from_rows:
        conds += [exp.EQ(this=attr(name), expression=column(f"key_{name}", k)) for name, _ in lk.match]
    if lk.region is not None:
        conds.append(
            exp.EQ(
                this=exp.Coalesce(this=column("region", f), expressions=[text(WORLD)]),
                expression=column("ancestor", "ra"),
            )
        )
    if lk.year is not None:
        conds.append(
            exp.Or(
                this=exp.LTE(this=column("factor_year", f), expression=column("key_year", k)),
                expression=exp.Is(this=column("factor_year", f), expression=exp.Null()),
            )
        )
    own_unit = exp.EQ(this=column("unit", f), expression=text(lk.per))
    value = exp.Case(
        ifs=[exp.If(this=own_unit.copy(), true=column("value", f))],
        default=func("div", exp.Mul(this=column("value", f), expression=number(fraction_to_decimal(per.scale))), column("scale", "fu"), schema="ccf"),
    )
    order: list[exp.Expression] = []
    if lk.region is not None:
        order.append(column("depth", "ra"))
    if lk.year is not None:
        order.append(exp.Ordered(this=column("factor_year", f), desc=True, nulls_first=False))
    order.append(exp.NEQ(this=column("unit", f), expression=text(lk.per)))
    # the key columns: the row keys' values, or (resolved from the factor set) the attributes
    key_values = [column(col, k) for col, _ in keys] if from_rows else [attr(name) for name, _ in lk.match]
    rank = exp.Window(
        this=exp.Anonymous(this="RANK"),
        partition_by=[v.copy() for v in key_values] + [column("gas", f)],
        order=exp.Order(expressions=order),
    )
    ranked = exp.select(
        *[v if from_rows else exp.alias_(v, col) for v, (col, _) in zip(key_values, keys)],
        column("gas", f),
        column("factor_id", f),
        exp.alias_(value, "value"),
        exp.alias_(_match_level(lk), "match_level"),
        exp.alias_(rank, "fallback_rank"),
    )
    if keys and from_rows:
        ranked = ranked.from_(exp.Table(this=ident(f"factor_{lk.name}_keys"), alias=exp.TableAlias(this=ident(k))))
        if lk.region is not None:
            ranked = ranked.join(_region_chain(), join_type="cross")
        ranked = ranked.join(table("factor", alias=f), on=exp.true())
    else:
        ranked = ranked.from_(table("factor", alias=f))
    ranked = ranked.join(table("unit", alias="fu"), on=exp.EQ(this=column("name", "fu"), expression=column("unit", f)))
    ranked = ranked.where(exp.and_(*conds))
    ctes.append((f"factor_{lk.name}_ranked", ranked))

    cols: list[exp.Expression] = [column(col) for col, _ in keys]
    for gas in lk.gases:
        is_gas = lambda: exp.Where(this=exp.EQ(this=column("gas"), expression=text(gas)))  # noqa: E731
        cols += [
            exp.alias_(exp.Filter(this=exp.Count(this=exp.Star()), expression=is_gas()), f"{gas.lower()}_n"),
            exp.alias_(exp.Filter(this=exp.Min(this=column("value")), expression=is_gas()), gas.lower()),
            exp.alias_(exp.Filter(this=exp.Min(this=column("factor_id")), expression=is_gas()), f"{gas.lower()}_id"),
            exp.alias_(exp.Filter(this=exp.Min(this=column("match_level")), expression=is_gas()), f"{gas.lower()}_level"),
        ]
    best = (
        exp.select(*cols)
        .from_(exp.Table(this=ident(f"factor_{lk.name}_ranked")))
        .where(exp.EQ(this=column("fallback_rank"), expression=exp.Literal.number(1)))
    )
    if keys:
        best = best.group_by(*[column(col) for col, _ in keys])
    ctes.append((f"factor_{lk.name}", best))
    return ctes


WORLD = "WORLD"


def _region_chain() -> exp.Expression:
    """The row region's ancestors with their distance: from ccf.region_ancestor, or for a region
    the hierarchy does not list, the region itself (0) and WORLD (1)."""
    unknown = exp.Not(
        this=exp.Exists(
            this=exp.select(exp.Literal.number(1))
            .from_(table("region", alias="r"))
            .where(exp.EQ(this=column("code", "r"), expression=column("key_region", "k")))
        )
    )
    listed = (
        exp.select(column("ancestor", "x"), column("depth", "x"))
        .from_(table("region_ancestor", alias="x"))
        .where(exp.EQ(this=column("region", "x"), expression=column("key_region", "k")))
    )
    itself = exp.select(column("key_region", "k"), exp.Literal.number(0)).where(unknown)
    world = exp.select(text(WORLD), exp.Literal.number(1)).where(unknown.copy())
    chain = exp.union(exp.union(listed, itself, distinct=False), world, distinct=False)
    return exp.Lateral(
        this=exp.Subquery(this=chain),
        alias=exp.TableAlias(this=ident("ra"), columns=[ident("ancestor"), ident("depth")]),
    )


def _match_level(lk: ir.FactorLookup) -> exp.Expression:
    """'exact', or the fallbacks taken: 'region US for SRSO; year 2023 for 2024; stated per MWh'."""
    parts: list[exp.Expression] = []
    if lk.region is not None:
        parts.append(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.GT(this=column("depth", "ra"), expression=exp.Literal.number(0)),
                        true=exp.Concat(expressions=[text("region "), column("ancestor", "ra"), text(" for "), column("key_region", "k")]),
                    )
                ]
            )
        )
    if lk.year is not None:
        parts.append(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.LT(this=column("factor_year", "f"), expression=column("key_year", "k")),
                        true=exp.Concat(expressions=[text("year "), column("factor_year", "f"), text(" for "), column("key_year", "k")]),
                    )
                ]
            )
        )
    parts.append(
        exp.Case(
            ifs=[
                exp.If(
                    this=exp.NEQ(this=column("unit", "f"), expression=text(lk.per)),
                    true=exp.Concat(expressions=[text("stated per "), column("unit", "f")]),
                )
            ]
        )
    )
    joined = exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), *parts])
    return exp.Coalesce(this=exp.Nullif(this=joined, expression=text("")), expressions=[text("exact")])


def _joined_cte(m: ir.Methodology) -> exp.Select:
    # q is built here and nowhere else: the builders extend it in place (copy=False) instead of
    # copying the growing SELECT once per column
    q = exp.select(exp.Column(this=exp.Star(), table=ident("a"))).from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a"))))
    row = ExpressionCompiler("a")
    for lk in m.lookups:
        alias = f"f_{lk.name}"
        keys = _key_columns(lk)
        for gas in lk.gases:
            for suffix, src in (("", gas.lower()), ("_id", f"{gas.lower()}_id"), ("_n", f"{gas.lower()}_n"), ("_level", f"{gas.lower()}_level")):
                # a lookup without keys resolves to one row (an aggregate without GROUP BY): its
                # values are read once, as scalar subqueries, not joined to every activity row
                # (a nested loop: ≈ 0.15 s per 380k rows, docs/performance.md)
                value = (
                    column(src, alias) if keys
                    else exp.Subquery(this=exp.select(column(src)).from_(exp.Table(this=ident(f"factor_{lk.name}"))))
                )
                q = q.select(exp.alias_(value, _lookup_col(lk.name, gas, suffix)), copy=False)
        for col, node in keys:  # the row's keys, kept to explain a missing factor
            q = q.select(exp.alias_(row(node), _lookup_col(lk.name, "key", f"_{col[4:]}")), copy=False)
        if keys:
            on = exp.and_(*[exp.EQ(this=row(node), expression=column(col, alias)) for col, node in keys])
            q = q.join(exp.Table(this=ident(f"factor_{lk.name}"), alias=exp.TableAlias(this=ident(alias))), on=on,
                       join_type="left", copy=False)
    for cv in m.conversions:
        q = currency.join_conversion(q, cv, row)
    return q


def _ruled_cte(m: ir.Methodology) -> exp.Select:
    row = ExpressionCompiler("j")
    ifs = []
    for i, rule in enumerate(m.rules, 1):
        cond = row(rule.where) if rule.where is not None else exp.true()
        then = exp.Literal.number(i)
        then.add_comments([f" rule {rule.id} "])
        ifs.append(exp.If(this=cond, true=then))
    rule_no = exp.Case(ifs=ifs, default=exp.Literal.number(0))
    return _once(
        exp.select(exp.Column(this=exp.Star(), table=ident("j")), exp.alias_(rule_no, "rule_no")).from_(
            exp.Table(this=ident("joined"), alias=exp.TableAlias(this=ident("j")))
        )
    )


def _by_rule(
    m: ir.Methodology,
    pick: Callable[[int, ir.Rule], exp.Expression | None],
    default: exp.Expression | None = None,
    row: str = "r",
) -> exp.Expression:
    """CASE <row>.rule_no WHEN i THEN pick(rule i) … END (rules where pick is None are skipped)."""
    ifs = []
    for i, rule in enumerate(m.rules, 1):
        e = pick(i, rule)
        if e is not None:
            ifs.append(exp.If(this=exp.Literal.number(i), true=e))
    if not ifs:
        return default.copy() if default is not None else exp.Null()
    return exp.Case(this=column("rule_no", row), ifs=ifs, default=default.copy() if default is not None else None)


def _typed_null(sql_type: str) -> exp.Expression:
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(sql_type, dialect="postgres"))


def gases(m: ir.Methodology) -> list[str]:
    """The gases the methodology's rules emit, in ``ir.GAS_ORDER``."""
    used = {em.gas for rule in m.rules for em in rule.emissions}
    return [g for g in ir.GAS_ORDER if g in used]


def _problem(m: ir.Methodology) -> exp.Expression:
    """Why a row that reached a rule still has no result: no_rate, no_factor, ambiguous_factor,
    inexact (a guarded rule's inputs beyond the exactness plan's threshold), no_value."""
    plan = exactness.plan(m)

    def pick(i: int, rule: ir.Rule) -> exp.Expression | None:
        if rule.exclude is not None:
            return None
        ifs = []
        for cv in dict.fromkeys(c for em in rule.emissions for c in currency.conversion_refs(em.value)):
            missing = exp.Not(this=exp.Is(this=column(currency.missing_col(cv), "e"), expression=exp.Null()))
            ifs.append(exp.If(this=missing, true=text(f"no_rate:{cv}")))
        refs = {(r.lookup, r.gas) for em in rule.emissions for r in factor_refs(em.value)}
        for lookup, gas in sorted(refs):
            n = column(_lookup_col(lookup, gas, "_n"), "e")
            none = exp.EQ(this=exp.Coalesce(this=n, expressions=[exp.Literal.number(0)]), expression=exp.Literal.number(0))
            ifs.append(exp.If(this=none, true=text(f"no_factor:{lookup}")))
            ifs.append(exp.If(this=exp.GT(this=n.copy(), expression=exp.Literal.number(1)), true=text(f"ambiguous_factor:{lookup}")))
        if plan.guards(rule):
            ifs.append(exp.If(this=exp.Not(this=column("exact_inputs", "e")), true=text("inexact")))
        nulls = [exp.Is(this=column(f"{em.gas.lower()}_co2e_kg", "e"), expression=exp.Null()) for em in rule.emissions]
        ifs.append(exp.If(this=exp.or_(*nulls), true=text("no_value")))
        return exp.Case(ifs=ifs)

    return _by_rule(m, pick, default=None, row="e")


def _one_factor_gases(m: ir.Methodology) -> set[str]:
    """The gases whose every rule uses exactly one factor: ``ccf_eval`` carries that factor's id
    as text, and the results statement makes the one-element array — ≈ 30 bytes less per gas and
    evaluated row than an array, in a table written once and read four times (docs/performance.md)."""
    refs = lambda em: dict.fromkeys((r.lookup, r.gas) for r in factor_refs(em.value))  # noqa: E731
    emitting = [(em.gas, len(refs(em))) for rule in m.rules for em in rule.emissions]
    return {g for g in {g for g, _ in emitting} if all(n == 1 for g2, n in emitting if g2 == g)}


def _evaluate(m: ir.Methodology) -> exp.Expression:
    row = ExpressionCompiler("r")
    plan = exactness.plan(m)

    def emission(rule: ir.Rule, em: ir.Emission) -> exp.Expression:
        """An emission's value; for a rule the exactness plan guards, computed only for a row
        whose inputs are within its threshold (else NULL, and the row is unmatched: inexact)."""
        v = row(em.value)
        if not plan.guards(rule):
            return v
        assert plan.threshold is not None
        return exp.Case(ifs=[exp.If(this=_exact_inputs(rule, plan.threshold, row), true=v)])

    one_factor = _one_factor_gases(m)
    emitted = gases(m)
    need_gwp = any(not em.co2e_basis for rule in m.rules for em in rule.emissions)
    select: list[exp.Expression] = [
        column(c, "r") for c in ("activity_id", "entity", "period_start", "unit_conversion", "rule_no")
    ]
    if m.conversions:  # a currency conversion's note joins the row's unit-conversion note
        select = [exp.alias_(_with_conversion_notes(m), "unit_conversion") if c.name == "unit_conversion" else c for c in select]
    select.append(
        exp.alias_(_by_rule(m, lambda i, rule: text(rule.id)), "rule_id")
    )
    select.append(
        exp.alias_(_by_rule(m, lambda i, rule: text(rule.exclude) if rule.exclude is not None else None), "exclude_reason")
    )
    for cv in m.conversions:  # why a conversion has no rate, for the unmatched reason
        select.append(column(currency.missing_col(cv.name), "r"))
    if plan.guarded:  # whether a guarded rule's inputs are within the plan (exactness.plan)
        assert plan.threshold is not None
        within = lambda i, rule: _exact_inputs(rule, plan.threshold, row) if plan.guards(rule) else None  # noqa: E731
        select.append(exp.alias_(_by_rule(m, within), "exact_inputs"))
    if m.instruments is not None:  # the part of the activity row and the instrument it used
        select += allocation.part_columns(m, "r")
    # carry the lookups' candidate counts so the next step can say why a factor is missing
    for lk in m.lookups:
        for gas in lk.gases:
            select.append(column(_lookup_col(lk.name, gas, "_n"), "r"))
        for col, _ in _key_columns(lk):
            select.append(column(_lookup_col(lk.name, "key", f"_{col[4:]}"), "r"))
    for gas in emitted:
        g = gas.lower()

        def gas_kg(i: int, rule: ir.Rule, gas: str = gas) -> exp.Expression | None:
            em = next((e for e in rule.emissions if e.gas == gas), None)
            return emission(rule, em) if em is not None and not em.co2e_basis else None

        def co2e(i: int, rule: ir.Rule, gas: str = gas) -> exp.Expression | None:
            em = next((e for e in rule.emissions if e.gas == gas), None)
            if em is None:
                return None
            v = emission(rule, em)
            if em.co2e_basis:
                return v
            return exp.Mul(this=exp.Paren(this=v), expression=column(f"gwp_{gas.lower()}", "gwp"))

        def gwp(i: int, rule: ir.Rule, gas: str = gas) -> exp.Expression | None:
            em = next((e for e in rule.emissions if e.gas == gas), None)
            return column(f"gwp_{gas.lower()}", "gwp") if em is not None and not em.co2e_basis else None

        def level(i: int, rule: ir.Rule, gas: str = gas) -> exp.Expression | None:
            em = next((e for e in rule.emissions if e.gas == gas), None)
            if em is None:
                return None
            refs = list(dict.fromkeys((r.lookup, r.gas) for r in factor_refs(em.value)))
            if not refs:
                return text("no factor")
            if len(refs) == 1:
                return column(_lookup_col(refs[0][0], refs[0][1], "_level"), "r")
            return exp.Anonymous(
                this="CONCAT_WS",
                expressions=[text(" | ")]
                + [exp.Concat(expressions=[text(f"{lk}: "), column(_lookup_col(lk, g2, "_level"), "r")]) for lk, g2 in refs],
            )

        def ids(i: int, rule: ir.Rule, gas: str = gas) -> exp.Expression | None:
            em = next((e for e in rule.emissions if e.gas == gas), None)
            if em is None:
                return None
            refs = list(dict.fromkeys((r.lookup, r.gas) for r in factor_refs(em.value)))
            if gas in one_factor:  # the id alone; the results statement makes it an array
                return column(_lookup_col(refs[0][0], refs[0][1], "_id"), "r")
            if not refs:  # a factor the organisation supplies in its activity data
                return exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("TEXT[]", dialect="postgres"))
            return exp.Array(expressions=[column(_lookup_col(lk, g2, "_id"), "r") for lk, g2 in refs])

        def factor_set(i: int, rule: ir.Rule, gas: str = gas) -> exp.Expression | None:
            em = next((e for e in rule.emissions if e.gas == gas), None)
            sets = {lk.name: lk.factor_set or m.factor_set for lk in m.lookups}
            used = list(dict.fromkeys(sets[r.lookup] for r in factor_refs(em.value))) if em is not None else []
            return text(" | ".join(used)) if used and used != [m.factor_set] else None

        if _reads_other_sets(m):  # provenance: the set of this gas's factors, when not the methodology's
            select.append(exp.alias_(_by_rule(m, factor_set, default=_typed_null("TEXT")), f"{g}_factor_set"))
        select += [
            exp.alias_(_by_rule(m, gas_kg, default=_typed_null("NUMERIC")), f"{g}_kg"),
            exp.alias_(_by_rule(m, gwp, default=_typed_null("NUMERIC")), f"{g}_gwp"),
            exp.alias_(_by_rule(m, co2e, default=_typed_null("NUMERIC")), f"{g}_co2e_kg"),
            exp.alias_(_by_rule(m, ids, default=_typed_null("TEXT" if gas in one_factor else "TEXT[]")),
                       f"{g}_factor_id" if gas in one_factor else f"{g}_factor_ids"),
            exp.alias_(_by_rule(m, level, default=_typed_null("TEXT")), f"{g}_match_level"),
        ]
    outcome = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=column("rule_no", "c"), expression=exp.Literal.number(0)), true=text("unmatched")),
            exp.If(this=exp.Not(this=exp.Is(this=column("exclude_reason", "c"), expression=exp.Null())), true=text("excluded")),
            exp.If(this=exp.Not(this=exp.Is(this=column("problem", "c"), expression=exp.Null())), true=text("unmatched")),
        ],
        default=text("result"),
    )
    # ccf_eval keeps what the statements after it read: not the candidate counts, which only
    # decide `problem` (4–12 integers a row that would be written once and read four times)
    counts = {_lookup_col(lk.name, gas, "_n") for lk in m.lookups for gas in lk.gases}
    kept = [column(e.alias_or_name, "c") for e in select if e.alias_or_name not in counts]
    final = exp.select(*kept, column("problem", "c"), exp.alias_(outcome, "outcome")).from_(
        exp.Table(this=ident("checked"), alias=exp.TableAlias(this=ident("c")))
    )
    checked = exp.select(exp.Column(this=exp.Star(), table=ident("e")), exp.alias_(_problem(m), "problem")).from_(
        exp.Table(this=ident("evaluated"), alias=exp.TableAlias(this=ident("e")))
    )
    evaluated = exp.select(*select).from_(exp.Table(this=ident("ruled"), alias=exp.TableAlias(this=ident("r"))))
    evaluated = _once(evaluated)
    if need_gwp:
        evaluated = evaluated.join(exp.Table(this=ident("gwp")), join_type="cross")
    ctes: list[tuple[str, exp.Expression]] = (
        allocation.allocation_ctes(m) if m.instruments is not None else [("activity", _activity_cte(m))]
    )
    shared = _shared_keys_cte(m)
    ctes += shared
    ctes += [cte for lk in m.lookups for cte in _lookup_ctes(lk, shared=bool(shared))]
    ctes += [cte for cv in m.conversions for cte in currency.conversion_ctes(cv, ExpressionCompiler("a"))]
    if need_gwp:
        ctes.append(("gwp", _gwp_cte(m)))
    ctes += [("joined", _joined_cte(m)), ("ruled", _ruled_cte(m)), ("evaluated", evaluated), ("checked", checked)]
    if m.instruments is not None:  # one outcome per activity row, decided from its parts
        parts, final = allocation.row_outcome_ctes(outcome.copy())
        ctes += parts
    resolved = {f"factor_{lk.name}" for lk in m.lookups} | {f"conversion_{cv.name}" for cv in m.conversions}
    resolved |= {name for name, _ in shared}
    for name, q in ctes:
        # a resolved lookup (one row per distinct key) is computed once and kept, whatever
        # plan the statistics suggest: inlined, it can be re-run per activity row.
        # copy=False: each CTE's tree is built for this statement alone, and copying the
        # growing statement once per CTE was most of a methodology's compile time
        final = final.with_(name, as_=q, materialized=name in resolved, copy=False)
    return exp.Create(
        this=exp.Table(this=ident(EVAL)),
        kind="TABLE",
        expression=final,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def _with_conversion_notes(m: ir.Methodology) -> exp.Expression:
    """The unit-conversion note, then the note of each currency conversion the row's rule used."""

    def notes(i: int, rule: ir.Rule) -> exp.Expression | None:
        used = list(dict.fromkeys(c for em in rule.emissions for c in currency.conversion_refs(em.value)))
        if not used:
            return None
        return exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), *[column(currency.note_col(c), "r") for c in used]])

    joined = exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), column("unit_conversion", "r"), _by_rule(m, notes)])
    return exp.Nullif(this=joined, expression=text(""))


def _gwp_cte(m: ir.Methodology) -> exp.Select:
    by_mass = sorted({em.gas for rule in m.rules for em in rule.emissions if not em.co2e_basis})
    cols = [
        exp.alias_(
            exp.Filter(
                this=exp.Min(this=column("value", "g")),
                expression=exp.Where(this=exp.EQ(this=column("gas", "g"), expression=text(ir.gwp_gas(gas)))),
            ),
            f"gwp_{gas.lower()}",
        )
        for gas in by_mass
    ]
    return exp.select(*cols).from_(table("gwp", alias="g")).where(exp.EQ(this=column("gwp_set", "g"), expression=text(m.gwp)))


def _results(m: ir.Methodology) -> exp.Expression:
    """One result row per gas with a value, for each row whose outcome is 'result'.

    One SELECT per gas over ``ccf_eval``, joined by UNION ALL: three plain scans of the
    evaluated rows are cheaper than one scan with a per-row ``LATERAL (VALUES …)`` unpivot
    (docs/performance.md). With no gas (every rule excludes) one SELECT of typed NULLs that
    no row passes, so the statement keeps its shape."""
    emitted = gases(m)
    one_factor = _one_factor_gases(m)
    other_sets = _reads_other_sets(m)  # a lookup reads another factor set: each row names its set
    target_cols = [
        "run_id", "methodology_id", "activity_id", "entity", "period_start", "rule_id",
        "gas", "gas_kg", "gwp", "co2e_kg", "factor_ids", "match_level", "unit_conversion",
    ]
    if m.instruments is not None:  # each part names the instrument it used
        target_cols.append("instrument_id")
    if other_sets:  # NULL: the methodology's own factor set (ccf.result_provenance)
        target_cols.append("factor_set")
    e = lambda name: column(name, "e")  # noqa: E731

    def per_gas(gas: str | None) -> exp.Select:
        """The result rows of one gas; ``None``: typed NULLs and a false filter (no gas)."""

        def value(suffix: str, sql_type: str) -> exp.Expression:
            return e(f"{gas.lower()}_{suffix}") if gas is not None else _typed_null(sql_type)

        factor_ids = (
            exp.Array(expressions=[value("factor_id", "TEXT")]) if gas in one_factor else value("factor_ids", "TEXT[]")
        )
        cols: list[exp.Expression] = [
            param("run_id"), text(m.id), e("activity_id"), e("entity"), e("period_start"), e("rule_id"),
            text(gas) if gas is not None else _typed_null("TEXT"), value("kg", "NUMERIC"), value("gwp", "NUMERIC"),
            value("co2e_kg", "NUMERIC"), factor_ids, value("match_level", "TEXT"), e("unit_conversion"),
        ]
        if m.instruments is not None:
            cols.append(e("instrument_id"))
        if other_sets:
            cols.append(value("factor_set", "TEXT"))
        has_value = exp.Not(this=exp.Is(this=value("co2e_kg", "NUMERIC"), expression=exp.Null())) if gas is not None else exp.false()
        return (
            exp.select(*cols)
            .from_(exp.Table(this=ident(EVAL), alias=exp.TableAlias(this=ident("e"))))
            .where(exp.and_(exp.EQ(this=e("outcome"), expression=text("result")), has_value))
        )

    selects = [per_gas(gas) for gas in emitted] or [per_gas(None)]
    q: exp.Query = selects[0]
    for other in selects[1:]:
        q = exp.union(q, other, distinct=False)
    return _insert("result", target_cols, q)


def _insert(target: str, cols: list[str], q: exp.Query) -> exp.Expression:
    return exp.insert(q, exp.Schema(this=table(target), expressions=[ident(c) for c in cols]))


def _excluded(m: ir.Methodology) -> exp.Expression:
    q = (
        exp.select(param("run_id"), text(m.id), column("activity_id", "e"), column("rule_id", "e"), column("exclude_reason", "e"))
        .from_(exp.Table(this=ident(EVAL), alias=exp.TableAlias(this=ident("e"))))
        .where(exp.EQ(this=column("outcome", "e"), expression=text("excluded")))
    )
    return _insert("excluded", ["run_id", "methodology_id", "activity_id", "rule_id", "reason"], q)


def _unmatched(m: ir.Methodology) -> exp.Expression:
    """Unmatched rows with a reason code and a sentence an auditor can act on."""
    problem = column("problem", "e")
    code = exp.Case(
        ifs=[exp.If(this=exp.EQ(this=column("rule_no", "e"), expression=exp.Literal.number(0)), true=text("no_rule"))],
        default=exp.Anonymous(this="SPLIT_PART", expressions=[problem, text(":"), exp.Literal.number(1)]),
    )
    lookup = exp.Anonymous(this="SPLIT_PART", expressions=[problem.copy(), text(":"), exp.Literal.number(2)])
    reasons = {
        "no_factor": "no emission factor found for lookup '{}'",
        "ambiguous_factor": "more than one emission factor matches lookup '{}'",
    }
    lookup_ifs = []
    for lk in m.lookups:
        fixed = ", ".join(f"{a} = '{v}'" for a, v in lk.select)
        for kind, template in reasons.items():
            parts: list[exp.Expression] = [
                text(template.format(lk.name) + f" in {lk.factor_set or m.factor_set} per {lk.per} ({fixed}")
            ]
            for col, _ in _key_columns(lk):  # the row's own key values, as the lookup saw them
                name = col[4:]
                key = column(_lookup_col(lk.name, "key", f"_{name}"), "e")
                shown = exp.DPipe(this=exp.DPipe(this=text("'"), expression=key), expression=text("'"))
                label = {"region": "region (or a parent region)", "year": "year (or an earlier year)"}.get(name, name)
                parts += [text(f", {label} = "), exp.Coalesce(this=shown, expressions=[text("(empty)")])]
            parts.append(text(")"))
            lookup_ifs.append(
                exp.If(
                    this=exp.EQ(this=problem.copy(), expression=text(f"{kind}:{lk.name}")),
                    true=exp.Concat(expressions=parts),
                )
            )
    reason = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=column("rule_no", "e"), expression=exp.Literal.number(0)),
                true=text("no rule applies to this row"),
            ),
            exp.If(
                this=exp.EQ(this=problem.copy(), expression=text("no_value")),
                true=text("the rule's emissions have no value (an empty field, or a division by zero)"),
            ),
            *lookup_ifs,
            *[
                exp.If(this=exp.EQ(this=problem.copy(), expression=text("inexact")), true=text(exactness.reason(threshold)))
                for threshold in [exactness.plan(m).threshold] if threshold is not None
            ],
            *[
                exp.If(
                    this=exp.EQ(this=problem.copy(), expression=text(f"no_rate:{cv.name}")),
                    true=column(currency.missing_col(cv.name), "e"),
                )
                for cv in m.conversions
            ],
        ],
        default=problem.copy(),
    )
    del lookup
    q = (
        exp.select(param("run_id"), text(m.id), column("activity_id", "e"), column("rule_id", "e"), code, reason)
        .from_(exp.Table(this=ident(EVAL), alias=exp.TableAlias(this=ident("e"))))
        .where(exp.EQ(this=column("outcome", "e"), expression=text("unmatched")))
    )
    return _insert("unmatched", ["run_id", "methodology_id", "activity_id", "rule_id", "reason_code", "reason"], q)


def _reconcile(m: ir.Methodology) -> exp.Expression:
    """Counts that must balance: activity rows in = evaluated rows by outcome, and the number
    of result rows each outcome must have produced (one per gas with a value); then the kg CO2e
    per gas of the result rows (``ir.GAS_ORDER``; NULL for a gas with no result row)."""

    def count(src: exp.Expression, cond: exp.Expression) -> exp.Expression:
        return exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(src).where(cond))

    outcome = lambda o: exp.Where(this=exp.EQ(this=column("outcome"), expression=text(o)))  # noqa: E731
    rows = lambda: (  # noqa: E731
        exp.Count(this=exp.Distinct(expressions=[column("activity_id")])) if m.instruments is not None
        else exp.Count(this=exp.Star())
    )
    gas_rows = exp.Add(
        this=exp.Literal.number(0),
        expression=exp.Paren(
            this=_sum_of(
                [
                    exp.Case(
                        ifs=[exp.If(this=exp.Is(this=column(f"{g.lower()}_co2e_kg"), expression=exp.Null()), true=exp.Literal.number(0))],
                        default=exp.Literal.number(1),
                    )
                    for g in gases(m)
                ]
            )
        ),
    )
    # one pass over the evaluated rows: each scan of the wide ccf_eval costs as much as the next
    # (docs/performance.md: 1.5 s -> 0.6 s per 380k electricity rows)
    by_outcome = exp.select(
        exp.alias_(exp.Filter(this=rows(), expression=outcome("result")), "rows_result"),
        exp.alias_(exp.Filter(this=rows(), expression=outcome("excluded")), "rows_excluded"),
        exp.alias_(exp.Filter(this=rows(), expression=outcome("unmatched")), "rows_unmatched"),
        exp.alias_(
            exp.Coalesce(this=exp.Filter(this=exp.Sum(this=gas_rows), expression=outcome("result")), expressions=[exp.Literal.number(0)]),
            "result_rows",
        ),
    )
    # the run's totals per gas, from the values the results statement wrote (it takes each
    # gas's kg CO2e of the 'result' rows where it is not NULL, exactly as SUM counts them): in
    # this one pass, not by reading the result rows back (docs/performance.md: 13% of a run)
    by_outcome = by_outcome.select(
        *[exp.alias_(exp.Filter(this=exp.Sum(this=column(f"{g.lower()}_co2e_kg")), expression=outcome("result")), f"{g.lower()}_co2e_kg")
          for g in gases(m)]
    ).from_(exp.Table(this=ident(EVAL)))
    return exp.select(
        exp.alias_(count(table(activity_table_name(m.activity.id)), of_run_loads()), "rows_in"),
        column("rows_result", "e"),
        column("rows_excluded", "e"),
        column("rows_unmatched", "e"),
        column("result_rows", "e"),
        exp.alias_(
            count(
                table("rejected"),
                exp.and_(of_run_loads(), exp.EQ(this=column("activity_type"), expression=text(m.activity.id))),
            ),
            "rows_rejected",
        ),
        *[column(f"{g.lower()}_co2e_kg", "e") for g in gases(m)],
    ).from_(exp.Subquery(this=by_outcome, alias=exp.TableAlias(this=ident("e"))))


def _sum_of(terms: list[exp.Expression]) -> exp.Expression:
    out = terms[0] if terms else exp.Literal.number(0)
    for t in terms[1:]:
        out = exp.Add(this=out, expression=t)
    return out


def _without_unused_lookups(m: ir.Methodology) -> ir.Methodology:
    """A factor lookup no expression refers to has no gas to resolve: it is not compiled (its
    candidates would be resolved for nothing, and its gas filter would be empty)."""
    return replace(m, lookups=tuple(lk for lk in m.lookups if lk.gases))


def compile_methodology(m: ir.Methodology) -> CompiledMethodology:
    """The fixed statement list of one methodology."""
    used = _without_unused_lookups(m)
    return CompiledMethodology(
        m,
        evaluate=_evaluate(used),
        results=_results(used),
        excluded=_excluded(used),
        unmatched=_unmatched(used),
        reconcile=_reconcile(used),
        cleanup=exp.Drop(tables=[exp.Table(this=ident(EVAL))], kind="TABLE", exists=True),
        instruments=allocation.allocation_statement(m, EVAL) if m.instruments is not None else None,
    )


__all__ = ["CompiledMethodology", "gases", "compile_methodology", "activity_table_name", "scale_sql", "sql"]
