"""The checked IR of a methodology compiled to ClickHouse statements (sqlglot trees, ClickHouse dialect).

Not a transformation of the PostgreSQL trees (engine/compile/): ClickHouse's decimals have a
fixed scale per expression, so a division or a conversion can only be written knowing the
scales of its operands, which the IR has (its nodes and the run's input sizes) and a rendered
PostgreSQL tree no longer has (``ccf.div``, NUMERIC casts, FILTER, LATERAL, temporary tables).
What does not depend on the engine is shared: the IR walks, the names of the columns
(``lookup_col``), the rule tables (``gases``, ``by_mass_gases``, ``one_factor_gases``) and the
reasons' sentences, so both engines write the same rows.

The statements mirror PostgreSQL's six (engine/compile/__init__.py), after one of their own:
``rows`` fills the table of the rows the rules read (``rows_table``: ``activity``, with shares
``activity_rows`` -> ``activity`` with each share's total, with instruments the parts of
allocation.py), which ClickHouse would otherwise analyse once per reference to a CTE; then
``evaluate`` fills an evaluation table (``activity``, those rows -> per lookup ``factor_<name>_ranked`` and ``factor_<name>`` -> per currency conversion
``conversion_<name>_keys`` and ``conversion_<name>`` -> ``gwp`` -> ``joined`` -> ``ruled`` ->
``evaluated`` -> ``checked`` -> outcome), then ``results`` (the ccf.result_row layout of
migration 0019), ``excluded``, ``unmatched``, ``reconcile`` and ``cleanup``.

Every expression carries its size (numeric.py). A rule whose emissions could need more than 76
digits for the run's inputs is guarded row by row (``Compiler.guard``): a row whose inputs are
beyond its threshold, or whose stored value has more than 40 places, is unmatched
``inexact_on_clickhouse``; what no row could hold (a condition, a key, a share, a literal's places)
refuses the run (``ClickHouseInexact``). A construct not compiled (a rule PostgreSQL's exactness
plan guards below 76 digits: no shipped version has one) raises ``Unsupported``, naming it, and
nothing runs. With instruments, ``instruments`` selects the ``instrument_allocation`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Callable

from sqlglot import exp

from ccf.dsl import exactness, ir
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.evaluate import BAD_DATA_QUALITY
from ccf.dsl.model import DATA_QUALITY, DATA_QUALITY_SCORES
from ccf.dsl.numeric import DIV_PLACES, Size
from ccf.dsl.passes import without_unused_lookups
from ccf.dsl.shares import no_total_reason
from ccf.dsl.units import dimension_key, fraction_to_decimal, is_terminating, parse_unit
from ccf.engine.clickhouse import allocation, numeric
from ccf.engine.clickhouse.numeric import ClickHouseInexact
from ccf.engine.compile import allocation as pg_allocation, currency
from ccf.engine.compile.activity import conversion_note
from ccf.engine.compile.evaluate import by_mass_gases, gases, names_sources, one_factor_gases, scores_rows
from ccf.engine.compile.expressions import ExpressionCompiler, lookup_col, total_col
from ccf.engine.compile.lookups import WORLD, key_columns, set_param
from ccf.engine.sql import column, ident, param, table, text

RESULT_SCALE = 40  # the decimal places of every number ccf.result_row holds on ClickHouse
INEXACT = "inexact_on_clickhouse"  # the reason code of a row whose inputs are beyond its rule's guard


def inexact_reason(digits: int | None) -> str:
    """The ``unmatched.reason`` of a row beyond its rule's guard (``Compiler.guard``), or (None)
    of a row whose value has more places than ClickHouse's result table holds."""
    if digits is None:
        return (f"a value the rule computes has more than {RESULT_SCALE} decimal places; ClickHouse's result table holds "
                f"{RESULT_SCALE}, so no result is given on ClickHouse (PostgreSQL stores it exactly)")
    return (f"a value the rule reads has more than {digits} digits before the point or {digits} decimal places; for such values the rule's "
            f"arithmetic could exceed ClickHouse's {numeric.PRECISION} digits, so no result is given on ClickHouse "
            f"(PostgreSQL computes it exactly)")


class Unsupported(CcfError):
    """A construct of a methodology that the ClickHouse backend does not compile (yet)."""


@dataclass(frozen=True)
class InputSizes:
    """The sizes of a run's inputs as ClickHouse holds them (tables.py copies them): each
    quantity field's column, the factor values, the unit scales and the GWPs."""

    fields: dict[str, Size]
    base_digits: dict[str, int]  # a quantity field's digits before the point, in base units
    factor: Size  # the factor values' column
    lookups: dict[str, Size]  # per lookup, the size of the values it may read, in its per unit
    unit: Size
    gwp: dict[str, Size]  # per gas of the methodology's GWP set
    rate: Size = Size(0, 1)  # the exchange rates and price indices of the currency conversions' tables


@dataclass(frozen=True)
class ClickHouseStatements:
    methodology: ir.Methodology
    eval_table: str
    rows: exp.Expression  # the ``activity`` step into a table of its own (``rows_table``)
    evaluate: exp.Expression
    results: exp.Expression
    excluded: exp.Expression
    unmatched: exp.Expression
    reconcile: exp.Expression
    cleanup: exp.Expression
    instruments: exp.Expression | None = None  # with instruments: a SELECT of the instrument_allocation rows (allocation.py)

    @property
    def rows_table(self) -> str:
        return rows_table(self.eval_table)

    def statements(self) -> list[tuple[str, exp.Expression]]:
        return [("rows", self.rows), ("evaluate", self.evaluate), ("results", self.results), ("excluded", self.excluded),
                ("unmatched", self.unmatched), *([("instruments", self.instruments)] if self.instruments is not None else []),
                ("reconcile", self.reconcile), ("cleanup", self.cleanup)]


def supported(m: ir.Methodology) -> None:
    """Unsupported, naming the first construct of ``m`` this backend does not compile."""
    plan = exactness.plan(m)
    if plan.guarded and plan.threshold is not None and plan.threshold < numeric.PRECISION:
        # PostgreSQL's check would refuse values ClickHouse holds: its 'inexact' rows are not compiled
        raise Unsupported(f"{m.ref}: rules guarded by the exactness plan below {numeric.PRECISION} digits "
                          f"(rows unmatched 'inexact') are not compiled for ClickHouse")


def compile_for_clickhouse(m: ir.Methodology, sizes: InputSizes, eval_table: str) -> ClickHouseStatements:
    """The statements of one methodology (bound to its editions) for a run's inputs."""
    supported(m)
    m = without_unused_lookups(m)
    c = Compiler(m, sizes)
    memory = lambda name, q: exp.Create(  # noqa: E731
        this=table(name), kind="TABLE", expression=q, properties=exp.Properties(expressions=[exp.EngineProperty(this=exp.var("Memory"))]))
    rows = rows_table(eval_table)
    return ClickHouseStatements(
        m, eval_table, memory(rows, c.rows()), memory(eval_table, c.evaluate(rows)), c.results(eval_table), c.excluded(eval_table),
        c.unmatched(eval_table), c.reconcile(eval_table), exp.Drop(tables=[table(eval_table), table(rows)], kind="TABLE", exists=True),
        with_settings(allocation.allocation_statement(c, eval_table)) if m.instruments is not None else None,  # type: ignore[arg-type]
    )


def rows_table(eval_table: str) -> str:
    """The table of the rows the rules read (the ``activity`` step: with shares, each share's
    total; with instruments, the parts), beside the evaluation table. Its own statement, not a CTE:
    ClickHouse inlines a CTE at each of its references (each lookup's keys and the join read the
    rows), so a CTE's whole plan was analysed once per reference (the parts of an allocation,
    seven times in market-based Scope 2)."""
    return f"{eval_table}_rows"


# the settings each statement carries, so that it means the same on any server: an outer
# join's missing side is NULL (not 0 or ''), and NULL IN (…) is NULL, as in PostgreSQL
SETTINGS = {"join_use_nulls": 1, "transform_null_in": 0}


def with_settings(q: exp.Query) -> exp.Query:
    """The query with ``SETTINGS`` (its own, whatever the server's or the session's)."""
    q.set("settings", [exp.EQ(this=exp.var(k), expression=exp.Literal.number(v)) for k, v in SETTINGS.items()])
    return q


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def concat_ws(sep: str, parts: list[exp.Expression]) -> exp.Expression:
    """PostgreSQL's CONCAT_WS, which skips NULLs (ClickHouse's concatWithSeparator gives NULL)."""
    x = exp.to_identifier("x")
    kept = _fn("arrayFilter", exp.Lambda(this=exp.Not(this=exp.Is(this=exp.column("x"), expression=exp.Null())), expressions=[x]),
               exp.Array(expressions=parts))
    return _fn("arrayStringConcat", kept, text(sep))


def nullable(e: exp.Expression) -> exp.Expression:
    return _fn("toNullable", e)


@dataclass
class Compiler:
    """One methodology's statements for one run's input sizes; ``require`` refuses what the sizes do not prove."""

    m: ir.Methodology
    sizes: InputSizes
    row: "_Expressions" = field(init=False)
    gas_sizes: dict[str, Size | None] = field(default_factory=dict)  # each gas's kg CO2e column, as ``evaluated`` types it
    mass_sizes: dict[str, Size | None] = field(default_factory=dict)  # each gas's kg column (given by mass)
    guards: dict[str, int | None] = field(default_factory=dict)  # per rule: ``guard``'s threshold (None: not guarded)
    guarded_rows: dict[str, "_Expressions"] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.row = _Expressions("r", self)

    # --- sizes -----------------------------------------------------------------------

    def field_size(self, f: ir.Field, key: str | None = None) -> Size:
        """A quantity field in base units: its column times its unit's factor (``activity``);
        ``key``: the name its sizes are measured under (an instrument's: ``instrument__<field>``)."""
        key = key or f.name
        raw = self.sizes.fields[key]
        factors = [c.factor for c in f.conversions] or ([f.fixed_factor] if f.fixed_factor not in (None, 1) else [])
        if not factors:
            return raw
        # the scale is the column's times the CASE's (ClickHouse's type); the digits are those
        # the copy measured of the values in base units
        case = numeric.widest(*(numeric.literal(Decimal(x))[1] for x in factors))
        assert case is not None
        return Size(raw.scale + case.scale, self.sizes.base_digits[key])

    def quantity_size(self, name: str) -> Size:
        """A quantity column of the rows the rules read: an activity field, or with instruments a
        part's quantity (``part_size``) or a field of its instrument (``instrument__<field>``)."""
        ins = self.m.instruments
        if ins is not None and name == ins.allocate:
            return self.part_size()
        prefix = ir.instrument_column("")
        if ins is not None and name.startswith(prefix):
            f = ins.activity.field(name[len(prefix):])
            assert f is not None
            return self.field_size(f, name)
        f = self.m.activity.field(name)
        assert f is not None
        return self.field_size(f)

    def part_size(self) -> Size:
        """A part's quantity (``allocation_ctes``): the overlap of two intervals of running sums,
        or a row's quantity less what it received, at the larger of the rows' and the
        instruments' scales; never more digits than the row's quantity."""
        ins = self.m.instruments
        assert ins is not None
        own, held = self.allocated_sizes()
        return Size(max(own.scale, held.scale), own.digits)

    def allocated_sizes(self) -> tuple[Size, Size]:
        """The allocated quantity of the rows and of the instruments, in base units."""
        ins = self.m.instruments
        assert ins is not None
        own, held = self.m.activity.field(ins.allocate), ins.activity.field(ins.allocate)
        assert own is not None and held is not None
        return self.field_size(own), self.field_size(held, ir.instrument_column(ins.allocate))

    def factor_size(self, lk: ir.FactorLookup) -> Size:
        """A lookup's value: as published, or converted to its ``per`` unit by ``div``."""
        per = parse_unit(lk.per)
        product = numeric.times(self.sizes.factor, numeric.literal(fraction_to_decimal(per.scale))[1])
        converted, ok = numeric.div_size(product, self.sizes.unit)
        self.require(ok, f"the value of factor lookup {lk.name!r} converted to per {lk.per}")
        # the size the copy measured of the values it may read (tables.py): ``lookup_ctes`` gives
        # its values that scale, dropping only zeros (the column's scale is the widest factor's)
        return self.sizes.lookups[lk.name]

    def require(self, ok: bool, what: str) -> None:
        if not ok:
            s = self.sizes
            raise ClickHouseInexact(
                f"{self.m.ref}: {what} could need more than {numeric.PRECISION} digits on ClickHouse for this run's inputs "
                f"(activity values up to {', '.join(f'{k}: {v.digits} digits and {v.scale} places' for k, v in s.fields.items()) or 'none'}; "
                f"factor values up to {s.factor.digits} digits and {s.factor.scale} places); PostgreSQL computes it exactly, "
                f"ClickHouse would not, so the run is refused"
            )

    def emission_size(self, em: ir.Emission, rule: ir.Rule, row: "_Expressions") -> Size | None:
        """The size of an emission's kg CO2e (its value, times the gas's GWP for a mass), which
        ``ccf.result_row`` stores at 40 places (a row whose value has more is unmatched: ``places``)
        and the reconcile pass sums over up to 10^12 rows."""
        s = row.size(em.value)
        if s is not None and not em.co2e_basis:
            s = numeric.times(s, self.gwp_size(em.gas))
        if s is not None:  # itself; then as stored (at most 40 places) and summed
            stored = Size(min(s.scale, RESULT_SCALE), s.digits)
            self.require(numeric.holds(s) and numeric.holds(stored, numeric.SUM_DIGITS) and s.digits <= numeric.PRECISION - RESULT_SCALE,
                         f"the {em.gas} of rule {rule.id}")
        return s

    def gwp_size(self, gas: str) -> Size:
        """A gas's GWP as the ``gwp`` step types it: the GWP column's scale (the widest of the
        set: a product takes its operand's type, not its value's places), the gas's own digits."""
        scale = max((g.scale for g in self.sizes.gwp.values()), default=0)
        return Size(scale, self.sizes.gwp.get(ir.gwp_gas(gas), Size(0, 1)).digits)

    def stored_columns(self) -> list[tuple[str, str, Size]]:
        """The numbers ``evaluated`` types with more places than ``ccf.result_row`` holds (40):
        gas, column and size."""
        out = []
        for gas in gases(self.m):
            for name, s in ((f"{gas.lower()}_kg", self.mass_sizes.get(gas)), (f"{gas.lower()}_co2e_kg", self.gas_sizes.get(gas))):
                if s is not None and s.scale > RESULT_SCALE:
                    out.append((gas, name, s))
        return out

    def places(self, e: exp.Expression, s: Size | None) -> exp.Expression:
        """A number of ``evaluated`` as ``ccf.result_row`` stores it: at 40 places, which for a
        value the ``places`` check passed drops only zeros."""
        return _fn("toDecimal256", e, exp.Literal.number(RESULT_SCALE)) if s is not None and s.scale > RESULT_SCALE else e

    def _emissions_hold(self, rule: ir.Rule, digits: int | None) -> bool:
        """Whether the rule's emissions hold in 76 digits when each of their inputs has at most
        ``digits`` digits before the point and as many places (None: the run's inputs as measured)."""
        trial = _Expressions("r", self, digits)
        try:
            for em in rule.emissions:
                self.emission_size(em, rule, trial)
        except ClickHouseInexact:
            return False
        return True

    def guard(self, rule: ir.Rule) -> int | None:
        """Row by row where the run's inputs do not prove a rule's emissions: None when they do;
        else the threshold t, as PostgreSQL's exactness plan has one: the most digits before the
        point and decimal places that each input of its emissions (a quantity in base units, a
        factor value, a converted amount: ``exactness.inputs``) may have for them to hold in 76
        digits. A row with a wider input is unmatched ``inexact_on_clickhouse``, and its inputs
        read as 0, so nothing wraps around; the others' inputs are read at t places (dropping
        zeros only). Where even t = 1 does not hold (a literal's places, say), the run is refused
        (``ClickHouseInexact``, naming the computation)."""
        if rule.id not in self.guards:
            digits: int | None = None
            if not self._emissions_hold(rule, None):
                sizes = [self.row.size(leaf) or Size(0, 1) for leaf in exactness.inputs(rule)[0]]
                low, high = 0, max((max(sz.digits, sz.scale) for sz in sizes), default=0)
                while low < high:  # the largest threshold that holds (0: none, a size has at least 1 digit)
                    mid = (low + high + 1) // 2
                    low, high = (mid, high) if self._emissions_hold(rule, mid) else (low, mid - 1)
                if low == 0:
                    for em in rule.emissions:  # raises, naming the computation
                        self.emission_size(em, rule, self.row)
                digits = low
            self.guards[rule.id] = digits
        return self.guards[rule.id]

    def rescaled(self, e: exp.Expression, s: Size, ratio: Fraction, what: str) -> tuple[exp.Expression, Size]:
        """e × ratio exactly (engine/compile/expressions.py's ``scale_sql``): a product by a
        literal where the ratio is a finite decimal, else ``div`` (20 places); and its size."""
        if ratio == 1:
            return e, s
        inner = exp.Paren(this=e) if isinstance(e, (exp.Binary, exp.Neg)) else e
        if is_terminating(ratio):
            lit, ls = numeric.literal(fraction_to_decimal(ratio))
            out = numeric.times(s, ls)
            self.require(numeric.holds(out), what)
            return exp.Mul(this=inner, expression=lit), out
        if ratio.numerator != 1:
            lit, ls = numeric.literal(Decimal(ratio.numerator))
            inner, s = exp.Mul(this=inner, expression=lit), numeric.times(s, ls)
        den, ds = numeric.literal(Decimal(ratio.denominator))
        quotient, size, ok = numeric.div(inner, s, den, ds, Decimal(ratio.denominator), known=Decimal(ratio.denominator))
        self.require(ok, what)
        return quotient, size

    def rule_row(self, rule: ir.Rule) -> "_Expressions":
        """The expressions of a rule's emissions: over the row's inputs, or, for a guarded rule,
        over its inputs within the guard (``guard``)."""
        digits = self.guard(rule)
        if digits is None:
            return self.row
        if rule.id not in self.guarded_rows:
            self.guarded_rows[rule.id] = _Expressions("r", self, digits)
        return self.guarded_rows[rule.id]

    def within_guard(self, rule: ir.Rule) -> exp.Expression | None:
        """TRUE for a row whose inputs of a guarded rule's emissions are within its guard."""
        digits = self.guard(rule)
        if digits is None:
            return None
        row = self.rule_row(rule)
        tests = [row.within(self.row(leaf), self.row.size(leaf)) for leaf in exactness.inputs(rule)[0]]  # at their full size
        return exp.and_(*tests) if tests else exp.true()

    # --- evaluate --------------------------------------------------------------------

    def activity(self, at: ir.ActivityType | None = None, key: Callable[[str], str] = str) -> exp.Select:
        """The rows of the run's loads of ``at`` (the methodology's activity type, or its
        instruments'), each quantity in base units, with the unit conversions' note; ``key``: the
        name a field's sizes are measured under."""
        at = at or self.m.activity
        cols: list[exp.Expression] = [column(c, "a") for c in ("activity_id", "entity", "period_start", "period_end")]
        notes: list[exp.Expression] = []
        for f in at.fields:
            if f.name in ("activity_id", "entity", "period_start", "period_end"):
                continue
            value: exp.Expression = column(f.name, "a")
            if f.type.kind == "quantity" and f.conversions:
                unit_col = column(f"{f.name}_unit", "a")
                case = exp.Case(this=unit_col, ifs=[exp.If(this=text(c.unit), true=numeric.literal(Decimal(c.factor))[0]) for c in f.conversions])
                value = exp.Mul(this=value, expression=case)
                display = parse_unit(f.display_unit or "1")
                notes.append(exp.Case(this=unit_col.copy(), ifs=[
                    exp.If(this=text(c.unit), true=text(conversion_note(f.name, c.unit, parse_unit(c.unit).scale / display.scale, f.display_unit or "")))
                    for c in f.conversions
                ]))
            elif f.type.kind == "quantity" and f.fixed_factor is not None and f.fixed_factor != 1:
                value = exp.Mul(this=value, expression=numeric.literal(Decimal(f.fixed_factor))[0])
            if f.type.kind == "quantity":
                self.require(numeric.holds(self.field_size(f, key(f.name))), f"field {f.name} in base units")
            cols.append(exp.alias_(value, f.name) if not isinstance(value, exp.Column) else value)
        no_note = exp.Cast(this=exp.Null(), to=exp.DataType.build("Nullable(String)", dialect="clickhouse"))
        cols.append(exp.alias_(concat_ws("; ", notes) if notes else no_note, "unit_conversion"))
        return exp.select(*cols).from_(table(f"activity_{at.id}", alias="a")).where(of_run_loads("a"))

    def conversion_size(self, cv: ir.CurrencyConversion) -> Size:
        """A converted amount: ``div(amount × numerator, denominator)``, each a product of two rates."""
        amount = _Expressions("a", self).size(cv.amount) or Size(0, 1)
        rates = numeric.times(self.sizes.rate, self.sizes.rate)
        product = numeric.times(amount, rates)
        self.require(numeric.holds(product), f"the amount of currency conversion {cv.name!r} times its rates")
        out, ok = numeric.div_size(product, rates)
        self.require(ok, f"currency conversion {cv.name!r}")
        return out

    def conversion_ctes(self, cv: ir.CurrencyConversion) -> list[tuple[str, exp.Expression]]:
        """A conversion resolved once per distinct (currency, price year) key of the rows, as
        engine/compile/currency.py resolves it: the rates found, the exact multiplier as a
        numerator and a denominator, a note and what is missing (the same sentences); each rate's
        text is PostgreSQL's (copied beside it), so the notes read the same."""
        row = _Expressions("a", self)
        keys = (exp.select(exp.alias_(row(cv.currency), "key_currency"), exp.alias_(row(cv.price_year), "key_year")).distinct()
                .from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a")))))
        c, y = column("key_currency", "k"), column("key_year", "k")
        target, to_year = text(cv.to_currency), exp.Literal.number(cv.to_year)
        ref = exp.Subquery(this=exp.select(_fn("any", column("reference_currency"))).from_(table("rate_table")).where(exp.and_(
            exp.EQ(this=column("table_id"), expression=text(cv.exchange_rates)), exp.EQ(this=column("kind"), expression=text("exchange_rate")))))
        one = _fn("toDecimal256", text("1"), exp.Literal.number(self.sizes.rate.scale))  # at the rates' scale: if() takes no two
        same = exp.EQ(this=c.copy(), expression=target.copy())
        same_year = exp.EQ(this=y.copy(), expression=to_year.copy())

        def rate(alias: str, when: exp.Expression, of: str = "value") -> exp.Expression:
            """The rate, or 1 (its text '1') where none is needed; NULL where none is found."""
            return exp.Case(ifs=[exp.If(this=when, true=one.copy() if of == "value" else text("1"))],
                            default=column(of, alias) if alias else None)

        from_when = exp.or_(same.copy(), exp.EQ(this=c.copy(), expression=ref.copy()))
        to_when = exp.or_(same.copy(), exp.EQ(this=target.copy(), expression=ref.copy()))
        pi = "py" if cv.price_index else ""
        pt = "pt" if cv.price_index else ""
        from_rate, to_rate = rate("xc", from_when), rate("xtgt", to_when)
        index_y, index_t = rate(pi, same_year.copy()), rate(pt, same_year.copy())
        as_text = lambda alias, when: rate(alias, when, "value_text")  # noqa: E731
        year_text = _fn("toString", y.copy())

        def why(what: str, currency: exp.Expression, year: exp.Expression, table_id: str | None) -> exp.Expression:
            where = f" in rate table {table_id}" if table_id else f": '{cv.name}' declares no price index"
            return _fn("concat", text(f"no {what} for "), currency, text(" in "), year, text(where))

        missing = exp.Case(ifs=[
            exp.If(this=exp.Is(this=c.copy(), expression=exp.Null()), true=text(f"the row has no currency for '{cv.name}'")),
            exp.If(this=exp.Is(this=y.copy(), expression=exp.Null()), true=text(f"the row has no price year for '{cv.name}'")),
            exp.If(this=exp.Is(this=from_rate.copy(), expression=exp.Null()), true=why("exchange rate", c.copy(), year_text.copy(), cv.exchange_rates)),
            exp.If(this=exp.Is(this=to_rate.copy(), expression=exp.Null()), true=why("exchange rate", target.copy(), year_text.copy(), cv.exchange_rates)),
            exp.If(this=exp.Is(this=index_y.copy(), expression=exp.Null()), true=why("price index", target.copy(), year_text.copy(), cv.price_index)),
            exp.If(this=exp.Is(this=index_t.copy(), expression=exp.Null()), true=why("price index", target.copy(), text(str(cv.to_year)), cv.price_index)),
        ])
        to_note = exp.Case(ifs=[exp.If(this=exp.NEQ(this=target.copy(), expression=ref.copy()), true=_fn(
            "concat", text(", ÷ "), as_text("xtgt", to_when.copy()), text(" "), ref.copy(), text(f" per {cv.to_currency}")))], default=text(""))
        exchange_note = exp.Case(ifs=[exp.If(this=same.copy(), true=exp.Null())], default=_fn(
            "concat", text("exchange rate "), as_text("xc", from_when.copy()), text(" "), ref.copy(), text(" per "), c.copy(),
            to_note, text(f" ({cv.exchange_rates}, "), year_text.copy(), text(")")))
        index_note = exp.Case(ifs=[exp.If(this=same_year.copy(), true=exp.Null())], default=_fn(
            "concat", text(f"price index {cv.to_currency} {cv.to_year} "), as_text(pt, same_year.copy()), text(" ÷ "), year_text.copy(),
            text(" "), as_text(pi, same_year.copy()), text(f" ({cv.price_index})")))
        note = _fn("concat", text(f"{cv.name}: "), c.copy(), text(" "), year_text.copy(), text(f" → {cv.to_currency} {cv.to_year}"),
                   exp.Coalesce(this=_fn("concat", text(": "), exp.Nullif(this=concat_ws("; ", [exchange_note, index_note]), expression=text(""))),
                                expressions=[text(" (no conversion needed)")]))
        q = exp.select(c.copy(), y.copy(), exp.alias_(exp.Mul(this=from_rate, expression=index_t), "numerator"),
                       exp.alias_(exp.Mul(this=to_rate, expression=index_y), "denominator"),
                       exp.alias_(missing, "missing"), exp.alias_(note, "note")
                       ).from_(exp.Table(this=ident(f"conversion_{cv.name}_keys"), alias=exp.TableAlias(this=ident("k"))))

        def rates(alias: str, table_id: str, kind: str, currency: exp.Expression, year: exp.Expression) -> None:
            nonlocal q
            of_table = exp.select(exp.Star()).from_(table("rate")).where(exp.and_(
                exp.EQ(this=column("table_id"), expression=text(table_id)), exp.EQ(this=column("kind"), expression=text(kind))))
            q = q.join(exp.Subquery(this=of_table, alias=exp.TableAlias(this=ident(alias))), join_type="left", on=exp.and_(
                exp.EQ(this=column("currency", alias), expression=currency), exp.EQ(this=column("year", alias), expression=year)))

        rates("xc", cv.exchange_rates, "exchange_rate", c.copy(), y.copy())
        rates("xtgt", cv.exchange_rates, "exchange_rate", target.copy(), y.copy())
        if cv.price_index:
            rates("py", cv.price_index, "price_index", target.copy(), y.copy())
            rates("pt", cv.price_index, "price_index", target.copy(), to_year.copy())
        return [(f"conversion_{cv.name}_keys", keys), (f"conversion_{cv.name}", q)]

    def join_conversion(self, q: exp.Select, cv: ir.CurrencyConversion) -> exp.Select:
        """``joined`` with one conversion: the converted amount, its note and what is missing."""
        row, alias = _Expressions("a", self), f"cv_{cv.name}"
        amount, sa = row.typed(cv.amount)
        rates = numeric.times(self.sizes.rate, self.sizes.rate)
        converted, _, _ = numeric.div(exp.Mul(this=exp.Paren(this=amount), expression=column("numerator", alias)),
                                      numeric.times(sa or Size(0, 1), rates), column("denominator", alias), rates)
        self.conversion_size(cv)  # proven, or refused
        missing = exp.Case(ifs=[exp.If(this=exp.Is(this=column("key_currency", alias), expression=exp.Null()),
                                       true=text(f"the row has no currency or no price year for '{cv.name}'"))],
                           default=column("missing", alias))
        q = q.select(exp.alias_(converted, currency.value_col(cv.name)), exp.alias_(missing, currency.missing_col(cv.name)),
                     exp.alias_(column("note", alias), currency.note_col(cv.name)), copy=False)
        on = exp.and_(exp.EQ(this=row(cv.currency), expression=column("key_currency", alias)),
                      exp.EQ(this=row(cv.price_year), expression=column("key_year", alias)))
        return q.join(exp.Table(this=ident(f"conversion_{cv.name}"), alias=exp.TableAlias(this=ident(alias))), on=on, join_type="left", copy=False)

    def share_total_size(self, share: ir.Share) -> Size | None:
        """A share's total: a sum of its quantity over up to 10^12 rows."""
        q = _Expressions("s", self).size(share.quantity)
        return None if q is None else Size(q.scale, q.digits + numeric.SUM_DIGITS)

    def shares(self) -> exp.Select:
        """The ``activity`` rows (``activity_rows``) with each share's total over the rows of its
        keys, where it is positive and no row of them is negative (else NULL: ``no_total``), as
        engine/compile/shares.py's window sums."""
        row = _Expressions("s", self)
        cols: list[exp.Expression] = [exp.Column(this=exp.Star(), table=ident("s"))]
        for share in ir.methodology_shares(self.m):
            quantity = row(share.quantity)
            total = self.share_total_size(share)
            self.require(total is None or numeric.holds(total), f"the total of the share at {share.span}")
            window = lambda agg: exp.Window(this=agg, partition_by=[row(k) for k in share.keys])  # noqa: E731
            positive = exp.and_(
                exp.GTE(this=window(_fn("min", quantity.copy())), expression=exp.Literal.number(0)),
                exp.GT(this=window(_fn("sum", quantity.copy())), expression=exp.Literal.number(0)),
            )
            cols.append(exp.alias_(exp.Case(ifs=[exp.If(this=positive, true=window(_fn("sum", quantity.copy())))]), total_col(share)))
        return exp.select(*cols).from_(exp.Table(this=ident("activity_rows"), alias=exp.TableAlias(this=ident("s"))))

    def lookup_ctes(self, lk: ir.FactorLookup) -> list[tuple[str, exp.Expression]]:
        """A lookup resolved once per distinct key, as engine/compile/lookups.py resolves it:

        ``factor_<name>_keys``    the distinct keys of the rows (a lookup with a region or year key,
                                  whose fallback depends on the row's value); else the factor
                                  set's own keys;
        ``factor_<name>_chain``   with a region key: each key with its region's ancestors and
                                  their distance (a region the hierarchy does not list: itself, then WORLD);
        ``factor_<name>_ranked``  every qualifying factor per key and gas, ranked by nearest
                                  region, latest year not after the row's, own unit first;
        ``factor_<name>``         per key: candidates, value, id and level of each gas at the best rank."""
        per = parse_unit(lk.per)
        f, k = "f", "k"
        attr = lambda name: _fn(  # noqa: E731  a factor without the attribute has NULL, as ->> gives
            "if", _fn("mapContains", column("attributes", f), text(name)),
            exp.Bracket(this=column("attributes", f), expressions=[text(name)]), exp.Null(),
        )
        keys = key_columns(lk)
        from_rows = lk.region is not None or lk.year is not None
        ctes: list[tuple[str, exp.Expression]] = []
        conds: list[exp.Expression] = [
            exp.EQ(this=column("factor_set_id", f), expression=param(set_param(lk))),
            exp.EQ(this=column("dimension", "fu"), expression=text(dimension_key(per.dimension))),
            exp.In(this=column("gas", f), expressions=[text(g) for g in lk.gases]),
        ]
        conds += [exp.EQ(this=attr(name), expression=text(value)) for name, value in lk.select]
        if from_rows:
            row = _Expressions("a", self)
            distinct = exp.select(*[exp.alias_(row(node), col) for col, node in keys]).distinct()
            ctes.append((f"factor_{lk.name}_keys", distinct.from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a"))))))
            conds += [exp.EQ(this=attr(name), expression=column(f"key_{name}", k)) for name, _ in lk.match]
            source = f"factor_{lk.name}_keys"
            if lk.region is not None:
                ctes.append((f"factor_{lk.name}_chain", self.region_chain(source, [col for col, _ in keys])))
                source = f"factor_{lk.name}_chain"
                conds.append(exp.EQ(this=exp.Coalesce(this=column("region", f), expressions=[text(WORLD)]), expression=column("ancestor", k)))
            if lk.year is not None:
                conds.append(exp.or_(exp.LTE(this=column("factor_year", f), expression=column("key_year", k)),
                                     exp.Is(this=column("factor_year", f), expression=exp.Null())))
            key_values = [column(col, k) for col, _ in keys]
        else:
            key_values = [attr(name) for name, _ in lk.match]
        own_unit = exp.EQ(this=column("unit", f), expression=text(lk.per))
        per_scale, per_size = numeric.literal(fraction_to_decimal(per.scale))
        converted, _, _ = numeric.div(exp.Mul(this=column("value", f), expression=per_scale),
                                      numeric.times(self.sizes.factor, per_size), column("scale", "fu"), self.sizes.unit)
        common = max(self.sizes.factor.scale, DIV_PLACES)  # if() takes no two scales: both at the larger
        value = _fn("if", own_unit, _fn("toDecimal256", column("value", f), exp.Literal.number(common)),
                    _fn("toDecimal256", converted, exp.Literal.number(common)))
        # then at the lookup's own scale: no value it may read has more places (measured by the
        # copy over a superset of its candidates), so only zeros go, and the products keep 76 digits
        value = _fn("toDecimal256", value, exp.Literal.number(self.factor_size(lk).scale))
        order: list[exp.Expression] = []
        if lk.region is not None:
            order.append(column("depth", k))
        if lk.year is not None:
            order.append(exp.Ordered(this=column("factor_year", f), desc=True, nulls_first=False))
        order.append(exp.NEQ(this=column("unit", f), expression=text(lk.per)))
        rank = exp.Window(
            this=exp.Anonymous(this="rank"),
            partition_by=[v.copy() for v in key_values] + [column("gas", f)],
            order=exp.Order(expressions=order),
        )
        ranked = exp.select(
            *[v if from_rows else exp.alias_(v, col) for v, (col, _) in zip(key_values, keys)],
            column("gas", f), exp.alias_(nullable(column("factor_id", f)), "factor_id"),
            exp.alias_(nullable(value), "value"), exp.alias_(nullable(self.match_level(lk)), "match_level"),
            exp.alias_(rank, "fallback_rank"),
        )
        if from_rows:  # every key with every factor, the conditions in WHERE (a hash join on the keys)
            ranked = ranked.from_(exp.Table(this=ident(source), alias=exp.TableAlias(this=ident(k)))).join(
                table("factor", alias=f), join_type="cross")
        else:
            ranked = ranked.from_(table("factor", alias=f))
        ranked = ranked.join(table("unit", alias="fu"), on=exp.EQ(this=column("name", "fu"), expression=column("unit", f)),
                             join_type="inner").where(exp.and_(*conds))
        cols: list[exp.Expression] = [column(col) for col, _ in keys]
        for gas in lk.gases:
            is_gas = lambda: exp.EQ(this=column("gas"), expression=text(gas))  # noqa: E731
            g = gas.lower()
            cols += [
                exp.alias_(_fn("countIf", is_gas()), f"{g}_n"),
                exp.alias_(_fn("minIf", column("value"), is_gas()), g),
                exp.alias_(_fn("minIf", column("factor_id"), is_gas()), f"{g}_id"),
                exp.alias_(_fn("minIf", column("match_level"), is_gas()), f"{g}_level"),
            ]
        best = exp.select(*cols).from_(exp.Table(this=ident(f"factor_{lk.name}_ranked"))).where(
            exp.EQ(this=column("fallback_rank"), expression=exp.Literal.number(1)))
        if keys:
            best = best.group_by(*[column(col) for col, _ in keys])
        return ctes + [(f"factor_{lk.name}_ranked", ranked), (f"factor_{lk.name}", best)]

    def region_chain(self, keys_cte: str, key_cols: list[str]) -> exp.Expression:
        """Each key with the ancestors of its region and their distance (ccf.region_ancestor);
        a region the hierarchy does not list, NULL included, is itself (0) and WORLD (1), as
        engine/compile/lookups.py's chain is."""
        k = lambda: exp.Table(this=ident(keys_cte), alias=exp.TableAlias(this=ident("k")))  # noqa: E731
        own = [column(c, "k") for c in key_cols]
        listed = (exp.select(*own, exp.alias_(column("ancestor", "x"), "ancestor"), exp.alias_(column("depth", "x"), "depth"))
                  .from_(k()).join(table("region_ancestor", alias="x"),
                                   on=exp.EQ(this=column("region", "x"), expression=column("key_region", "k")), join_type="inner"))
        unknown = exp.or_(exp.Is(this=column("key_region", "k"), expression=exp.Null()),
                          exp.Not(this=exp.In(this=column("key_region", "k"), query=exp.Subquery(this=exp.select(column("code")).from_(table("region"))))))
        itself = exp.select(*[c.copy() for c in own], exp.alias_(column("key_region", "k"), "ancestor"),
                            exp.alias_(_fn("toInt32", exp.Literal.number(0)), "depth")).from_(k()).where(unknown)
        world = exp.select(*[c.copy() for c in own], exp.alias_(_fn("toNullable", text(WORLD)), "ancestor"),
                           exp.alias_(_fn("toInt32", exp.Literal.number(1)), "depth")).from_(k()).where(unknown.copy())
        return exp.union(exp.union(listed, itself, distinct=False), world, distinct=False)

    def match_level(self, lk: ir.FactorLookup) -> exp.Expression:
        """'exact', or the fallbacks taken: 'region US for SRSO; year 2023 for 2024; stated per MWh'."""
        f, k = "f", "k"
        parts: list[exp.Expression] = []
        if lk.region is not None:
            parts.append(exp.Case(ifs=[exp.If(this=exp.GT(this=column("depth", k), expression=exp.Literal.number(0)),
                                              true=_fn("concat", text("region "), column("ancestor", k), text(" for "), column("key_region", k)))]))
        if lk.year is not None:
            parts.append(exp.Case(ifs=[exp.If(this=exp.LT(this=column("factor_year", f), expression=column("key_year", k)),
                                              true=_fn("concat", text("year "), _fn("toString", column("factor_year", f)), text(" for "),
                                                       _fn("toString", column("key_year", k))))]))
        parts.append(exp.Case(ifs=[exp.If(this=exp.NEQ(this=column("unit", f), expression=text(lk.per)),
                                          true=_fn("concat", text("stated per "), column("unit", f)))]))
        return exp.Coalesce(this=exp.Nullif(this=concat_ws("; ", parts), expression=text("")), expressions=[text("exact")])

    def gwp(self) -> exp.Select:
        cols = [
            exp.alias_(_fn("minIf", nullable(column("value", "g")), exp.EQ(this=column("gas", "g"), expression=text(ir.gwp_gas(gas)))),
                       f"gwp_{gas.lower()}")
            for gas in sorted(by_mass_gases(self.m))
        ]
        return exp.select(*cols).from_(table("gwp", alias="g")).where(exp.EQ(this=column("gwp_set", "g"), expression=text(self.m.gwp)))

    def joined(self) -> exp.Select:
        q = exp.select(exp.Column(this=exp.Star(), table=ident("a"))).from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a"))))
        row = _Expressions("a", self)
        for lk in self.m.lookups:
            alias = f"f_{lk.name}"
            for gas in lk.gases:
                g = gas.lower()
                for suffix, src in (("", g), ("_id", f"{g}_id"), ("_n", f"{g}_n"), ("_level", f"{g}_level")):
                    q = q.select(exp.alias_(column(src, alias), lookup_col(lk.name, gas, suffix)), copy=False)
            keys = key_columns(lk)
            for col, node in keys:
                q = q.select(exp.alias_(row(node), lookup_col(lk.name, "key", f"_{col[4:]}")), copy=False)
            target = exp.Table(this=ident(f"factor_{lk.name}"), alias=exp.TableAlias(this=ident(alias)))
            if keys:
                on = exp.and_(*[exp.EQ(this=row(node), expression=column(col, alias)) for col, node in keys])
                q = q.join(target, on=on, join_type="left", copy=False)
            else:  # one row: the aggregate of a lookup without keys
                q = q.join(target, join_type="cross", copy=False)
        for cv in self.m.conversions:
            q = self.join_conversion(q, cv)
        return q

    def ruled(self) -> exp.Select:
        row = _Expressions("j", self)
        ifs = [exp.If(this=row(rule.where) if rule.where is not None else exp.true(), true=exp.Literal.number(i))
               for i, rule in enumerate(self.m.rules, 1)]
        return exp.select(exp.Column(this=exp.Star(), table=ident("j")),
                          exp.alias_(exp.Case(ifs=ifs, default=exp.Literal.number(0)), "rule_no")).from_(
            exp.Table(this=ident("joined"), alias=exp.TableAlias(this=ident("j"))))

    def by_rule(self, pick: Callable[[int, ir.Rule], exp.Expression | None], row: str = "r") -> exp.Expression:
        ifs = [exp.If(this=exp.Literal.number(i), true=e) for i, rule in enumerate(self.m.rules, 1) if (e := pick(i, rule)) is not None]
        # no rule gives a value: a text NULL (ClickHouse stores no column of NULL's own type)
        return exp.Case(this=column("rule_no", row), ifs=ifs) if ifs else \
            exp.Cast(this=exp.Null(), to=exp.DataType.build("Nullable(String)", dialect="clickhouse"))

    def emitted(self, gas: str) -> dict[int, ir.Emission]:
        return {i: em for i, rule in enumerate(self.m.rules, 1) for em in rule.emissions if em.gas == gas}

    def gas_columns(self, gas: str) -> list[exp.Expression]:
        m, g, row = self.m, gas.lower(), self.row
        by_rule = self.emitted(gas)
        rules = dict(enumerate(m.rules, 1))
        gwp = lambda: column(f"gwp_{g}", "gwp")  # noqa: E731
        stored: list[Size] = []
        masses: list[Size] = []

        def co2e(em: ir.Emission, rule: ir.Rule) -> exp.Expression:
            value = self.rule_row(rule)(em.value)
            if not em.co2e_basis:
                value = exp.Mul(this=exp.Paren(this=value), expression=gwp())
            s = self.emission_size(em, rule, self.rule_row(rule))
            if s is not None:
                stored.append(s)
            return value

        def factor_refs(em: ir.Emission) -> list[tuple[str, str]]:
            return list(dict.fromkeys((r.lookup, r.gas) for r in ir.factor_refs(em.value)))

        def ids(em: ir.Emission) -> exp.Expression:
            refs = factor_refs(em)
            if gas in one_factor_gases(m):
                return column(lookup_col(*refs[0], "_id"), "r")
            if not refs:
                return exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("Array(String)", dialect="clickhouse"))
            return exp.Array(expressions=[column(lookup_col(lk, g2, "_id"), "r") for lk, g2 in refs])

        def level(em: ir.Emission, rule: ir.Rule) -> exp.Expression:
            levels = list(dict.fromkeys((r.lookup, r.gas) for r in ir.level_factors(rule, em)))
            if not levels:
                return text("no factor")
            if len(levels) == 1:
                return column(lookup_col(*levels[0], "_level"), "r")
            return concat_ws(" | ", [exp.Concat(expressions=[text(f"{lk}: "), column(lookup_col(lk, g2, "_level"), "r")]) for lk, g2 in levels])

        sets = {lk.name: lk.factor_set or m.factor_set for lk in m.lookups}

        def factor_set(em: ir.Emission) -> exp.Expression | None:
            if not factor_refs(em) and m.instruments is not None and pg_allocation.reads_instrument(em.value):
                return self.instrument_source()  # the certificate is the source, not a set
            used = list(dict.fromkeys(sets[lk] for lk, _ in factor_refs(em)))
            return text(" | ".join(used)) if used and used != [m.factor_set] else None

        out: list[exp.Expression] = []
        if names_sources(m):
            out.append(exp.alias_(self.by_rule(lambda i, r: factor_set(by_rule[i]) if i in by_rule else None), f"{g}_factor_set"))
        def mass(em: ir.Emission, rule: ir.Rule) -> exp.Expression:
            value, s = self.rule_row(rule).typed(em.value)
            if s is not None:
                masses.append(s)
            return value

        if gas in by_mass_gases(m):
            out += [
                exp.alias_(self.by_rule(lambda i, r: mass(by_rule[i], r) if i in by_rule and not by_rule[i].co2e_basis else None), f"{g}_kg"),
                exp.alias_(self.by_rule(lambda i, r: gwp() if i in by_rule and not by_rule[i].co2e_basis else None), f"{g}_gwp"),
            ]
        out.append(exp.alias_(self.by_rule(lambda i, r: co2e(by_rule[i], r) if i in by_rule else None), f"{g}_co2e_kg"))
        one = gas in one_factor_gases(m)
        factor_ids = self.by_rule(lambda i, r: ids(by_rule[i]) if i in by_rule else None)
        if not one and isinstance(factor_ids, exp.Case):  # an array is never NULL in ClickHouse: [] where the gas has no value
            factor_ids.set("default", exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("Array(Nullable(String))", dialect="clickhouse")))
        out.append(exp.alias_(factor_ids, f"{g}_factor_id" if one else f"{g}_factor_ids"))
        out.append(exp.alias_(self.by_rule(lambda i, r: level(by_rule[i], rules[i]) if i in by_rule else None), f"{g}_match_level"))
        self.gas_sizes[gas] = numeric.widest(*stored)
        self.mass_sizes[gas] = numeric.widest(*masses)
        return out

    def instrument_source(self) -> exp.Expression:
        """'instrument <type> <id>', as engine/compile/allocation.py's ``instrument_source`` names it."""
        ins = self.m.instruments
        assert ins is not None
        named = [column(ir.instrument_column(f), "r") for f in ("instrument_type",) if ins.activity.field(f) is not None]
        return concat_ws(" ", [text("instrument"), *named, column(ir.instrument_column("activity_id"), "r")])

    def evaluated(self) -> exp.Select:
        m, row = self.m, self.row
        select: list[exp.Expression] = [column(c, "r") for c in ("activity_id", "entity", "period_start", "unit_conversion", "rule_no")]
        if m.conversions:  # a currency conversion's note joins the row's unit-conversion note
            def notes(i: int, rule: ir.Rule) -> exp.Expression | None:
                used = list(dict.fromkeys(c for em in rule.emissions for c in currency.conversion_refs(em.value)))
                return concat_ws("; ", [column(currency.note_col(c), "r") for c in used]) if used else None

            joined = concat_ws("; ", [column("unit_conversion", "r"), self.by_rule(notes)])
            select[3] = exp.alias_(exp.Nullif(this=joined, expression=text("")), "unit_conversion")
            select += [column(currency.missing_col(cv.name), "r") for cv in m.conversions]
        select.append(exp.alias_(self.by_rule(lambda i, rule: text(rule.id)), "rule_id"))
        select.append(exp.alias_(self.by_rule(lambda i, rule: text(rule.exclude) if rule.exclude is not None else None), "exclude_reason"))
        given: list[tuple[exp.Expression, Size | None]] = [(column(DATA_QUALITY, "r"), self.sizes.fields.get(DATA_QUALITY))]
        if any(rule.data_quality is not None for rule in m.rules):
            scored = [rule.data_quality for rule in m.rules if rule.data_quality is not None]
            given.append((self.by_rule(lambda i, rule: row(rule.data_quality) if rule.data_quality is not None else None),
                          numeric.widest(*(row.size(n) for n in scored))))
        if m.data_quality is not None:
            given.append(row.typed(m.data_quality))
        # coalesce() takes no two scales: each at the widest (exact, a score has one digit)
        common = numeric.widest(*(sz for _, sz in given))
        at = [_fn("toDecimal256", e, exp.Literal.number(common.scale)) if common is not None and sz is not None and sz.scale != common.scale
              else e for e, sz in given]
        select.append(exp.alias_(exp.Coalesce(this=at[0], expressions=at[1:]) if len(at) > 1 else at[0], DATA_QUALITY))
        if any(self.guard(rule) is not None for rule in m.rules if rule.exclude is None):
            select.append(exp.alias_(self.by_rule(lambda i, rule: self.within_guard(rule) if rule.exclude is None else None), "within_guard"))
        select += [column(total_col(share), "r") for share in ir.methodology_shares(m)]  # for no_total
        if m.instruments is not None:  # the part of the activity row and the instrument it used
            select += allocation.part_columns(m, "r")
        for lk in m.lookups:
            for gas in lk.gases:
                select.append(column(lookup_col(lk.name, gas, "_n"), "r"))
            for col, _ in key_columns(lk):
                select.append(column(lookup_col(lk.name, "key", f"_{col[4:]}"), "r"))
        for gas in gases(m):
            select += self.gas_columns(gas)
        q = exp.select(*select).from_(exp.Table(this=ident("ruled"), alias=exp.TableAlias(this=ident("r"))))
        if by_mass_gases(m):
            q = q.join(exp.Table(this=ident("gwp")), join_type="cross")
        return q

    def problem(self) -> exp.Expression:
        def pick(i: int, rule: ir.Rule) -> exp.Expression | None:
            if rule.exclude is not None:
                return None
            ifs = []
            for cv in dict.fromkeys(c for em in rule.emissions for c in currency.conversion_refs(em.value)):
                missing = exp.Not(this=exp.Is(this=column(currency.missing_col(cv), "e"), expression=exp.Null()))
                ifs.append(exp.If(this=missing, true=text(f"no_rate:{cv}")))
            refs = {(r.lookup, r.gas) for em in rule.emissions for r in ir.factor_refs(em.value)}
            for lookup, gas in sorted(refs):
                n = column(lookup_col(lookup, gas, "_n"), "e")
                none = exp.EQ(this=exp.Coalesce(this=n, expressions=[exp.Literal.number(0)]), expression=exp.Literal.number(0))
                ifs.append(exp.If(this=none, true=text(f"no_factor:{lookup}")))
                ifs.append(exp.If(this=exp.GT(this=n.copy(), expression=exp.Literal.number(1)), true=text(f"ambiguous_factor:{lookup}")))
            for share in dict.fromkeys(x for em in rule.emissions for x in ir.share_refs(em.value)):
                ifs.append(exp.If(this=exp.Is(this=column(total_col(share), "e"), expression=exp.Null()),
                                  true=text(f"no_total:{total_col(share)}")))
            digits = self.guard(rule)
            if digits is not None:  # where PostgreSQL's guard would say 'inexact'
                ifs.append(exp.If(this=exp.Not(this=column("within_guard", "e")), true=text(f"{INEXACT}:{digits}")))
            wide = [(name, s) for gas, name, s in self.stored_columns() if gas in {em.gas for em in rule.emissions}]
            if wide:  # a value with more than 40 places (its column's type has more)
                fits = [exp.or_(exp.Is(this=column(name, "e"), expression=exp.Null()),
                                exp.EQ(this=column(name, "e"), expression=self.places(column(name, "e"), s))) for name, s in wide]
                # exp.not_ parenthesizes: exp.Not over an OR renders as 'NOT a IS NULL OR …', NOT binding the
                # first operand only, which made every value of such a column unmatched (the demo's 0 kg)
                ifs.append(exp.If(this=exp.not_(exp.and_(*fits)), true=text(f"{INEXACT}:places")))
            nulls = [exp.Is(this=column(f"{em.gas.lower()}_co2e_kg", "e"), expression=exp.Null()) for em in rule.emissions]
            ifs.append(exp.If(this=exp.or_(*nulls), true=text("no_value")))
            if scores_rows(self.m):
                scores = [exp.Literal.number(s) for s in DATA_QUALITY_SCORES]
                ifs.append(exp.If(this=exp.Not(this=exp.In(this=column(DATA_QUALITY, "e"), expressions=scores)), true=text("bad_data_quality")))
            return exp.Case(ifs=ifs)

        return self.by_rule(pick, row="e")

    def rows(self) -> exp.Query:
        """The rows the rules read, into ``rows_table``."""
        m = self.m
        if m.instruments is not None:
            ctes = allocation.allocation_ctes(self)
        elif ir.methodology_shares(m):
            ctes = [("activity_rows", self.activity()), ("activity", self.shares())]
        else:
            return with_settings(self.activity())
        final = exp.select(exp.Star()).from_(exp.Table(this=ident("activity")))
        for name, q in ctes:
            final = final.with_(name, as_=q, copy=False)
        return with_settings(final)

    def evaluate(self, rows: str) -> exp.Query:
        m = self.m
        outcome = exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=column("rule_no", "c"), expression=exp.Literal.number(0)), true=text("unmatched")),
                exp.If(this=exp.Not(this=exp.Is(this=column("exclude_reason", "c"), expression=exp.Null())), true=text("excluded")),
                exp.If(this=exp.Not(this=exp.Is(this=column("problem", "c"), expression=exp.Null())), true=text("unmatched")),
            ],
            default=text("result"),
        )
        evaluated = self.evaluated()
        checked = exp.select(exp.Column(this=exp.Star(), table=ident("e")), exp.alias_(self.problem(), "problem")).from_(
            exp.Table(this=ident("evaluated"), alias=exp.TableAlias(this=ident("e"))))
        final = exp.select(exp.Column(this=exp.Star(), table=ident("c")), exp.alias_(outcome, "outcome")).from_(
            exp.Table(this=ident("checked"), alias=exp.TableAlias(this=ident("c"))))
        ctes: list[tuple[str, exp.Expression]] = [("activity", exp.select(exp.Star()).from_(table(rows)))]
        for lk in m.lookups:
            ctes += self.lookup_ctes(lk)
        for cv in m.conversions:
            ctes += self.conversion_ctes(cv)
        if by_mass_gases(m):
            ctes.append(("gwp", self.gwp()))
        ctes += [("joined", self.joined()), ("ruled", self.ruled()), ("evaluated", evaluated), ("checked", checked)]
        if m.instruments is not None:  # one outcome per activity row, decided from its parts
            parts, final = allocation.row_outcome_ctes(outcome.copy())
            ctes += parts
        for name, q in ctes:
            final = final.with_(name, as_=q, copy=False)
        return with_settings(final)

    # --- the statements that read the evaluation table ---------------------------------------

    def results(self, eval_table: str) -> exp.Expression:
        m = self.m
        emitted = gases(m)
        e = lambda name: column(name, "e")  # noqa: E731
        zero = numeric.literal(Decimal(0))[0]
        total: exp.Expression | None = None
        for g in emitted:
            if g in ir.OUTSIDE_SCOPES:
                continue
            scale = self.gas_sizes[g].scale if self.gas_sizes.get(g) is not None else 0  # type: ignore[union-attr]
            term = exp.Coalesce(this=e(f"{g.lower()}_co2e_kg"), expressions=[numeric.literal(Decimal(0).scaleb(-scale))[0]])
            total = term if total is None else exp.Add(this=total, expression=term)
        cols: dict[str, exp.Expression] = {
            "run_id": param("run_id"), "methodology_id": text(m.id), "activity_id": e("activity_id"),
            "entity": e("entity"), "period_start": e("period_start"), "rule_id": e("rule_id"),
            "unit_conversion": e("unit_conversion"),
            "data_quality": exp.Cast(this=e(DATA_QUALITY), to=exp.DataType.build("Nullable(Int16)", dialect="clickhouse")),
            "total_co2e_kg": self.places(total, numeric.widest(*self.gas_sizes.values())) if total is not None else zero,
        }
        if m.instruments is not None:  # each part names the instrument it used
            cols["instrument_id"] = e("instrument_id")
        for gas in emitted:
            g = gas.lower()
            if gas in by_mass_gases(m):
                cols[f"{g}_kg"], cols[f"{g}_gwp"] = self.places(e(f"{g}_kg"), self.mass_sizes.get(gas)), e(f"{g}_gwp")
            cols[f"{g}_co2e_kg"] = self.places(e(f"{g}_co2e_kg"), self.gas_sizes.get(gas))
            if gas in one_factor_gases(m):
                cols[f"{g}_factor_ids"] = _fn("if", exp.Is(this=e(f"{g}_co2e_kg"), expression=exp.Null()),
                                              exp.Array(expressions=[]), exp.Array(expressions=[e(f"{g}_factor_id")]))
            else:
                cols[f"{g}_factor_ids"] = e(f"{g}_factor_ids")
            cols[f"{g}_match_level"] = e(f"{g}_match_level")
            if names_sources(m):
                cols[f"{g}_factor_set"] = e(f"{g}_factor_set")
        has_value = exp.or_(*[exp.Not(this=exp.Is(this=e(f"{g.lower()}_co2e_kg"), expression=exp.Null())) for g in emitted]) \
            if emitted else exp.false()
        q = exp.select(*cols.values()).from_(table(eval_table, alias="e")).where(
            exp.and_(exp.EQ(this=e("outcome"), expression=text("result")), has_value))
        return exp.insert(q, exp.Schema(this=table("result_row"), expressions=[ident(c) for c in cols]))

    def excluded(self, eval_table: str) -> exp.Expression:
        q = (exp.select(param("run_id"), text(self.m.id), column("activity_id", "e"), column("rule_id", "e"), column("exclude_reason", "e"))
             .from_(table(eval_table, alias="e")).where(exp.EQ(this=column("outcome", "e"), expression=text("excluded"))))
        return exp.insert(q, exp.Schema(this=table("excluded"), expressions=[ident(c) for c in
                                                                            ("run_id", "methodology_id", "activity_id", "rule_id", "reason")]))

    def unmatched(self, eval_table: str) -> exp.Expression:
        m = self.m
        problem = column("problem", "e")
        no_rule = exp.EQ(this=column("rule_no", "e"), expression=exp.Literal.number(0))
        code = exp.Case(ifs=[exp.If(this=no_rule, true=text("no_rule"))],
                        default=_fn("arrayElement", _fn("splitByChar", text(":"), problem), exp.Literal.number(1)))
        templates = {"no_factor": "no emission factor found for lookup '{}'", "ambiguous_factor": "more than one emission factor matches lookup '{}'"}
        ifs = [
            exp.If(this=no_rule.copy(), true=text("no rule applies to this row")),
            exp.If(this=exp.EQ(this=problem.copy(), expression=text("no_value")),
                   true=text("the rule's emissions have no value (an empty field, or a division by zero)")),
        ]
        for lk in m.lookups:
            fixed = ", ".join(f"{a} = '{v}'" for a, v in lk.select)
            for kind, template in templates.items():
                parts: list[exp.Expression] = [text(template.format(lk.name) + f" in {lk.factor_set or m.factor_set} per {lk.per} ({fixed}")]
                for col, _ in key_columns(lk):
                    name = col[4:]
                    key = column(lookup_col(lk.name, "key", f"_{name}"), "e")
                    shown = _fn("concat", text("'"), _fn("toString", key), text("'"))  # NULL for a NULL key, as PostgreSQL's ||
                    label = {"region": "region (or a parent region)", "year": "year (or an earlier year)"}.get(name, name)
                    parts += [text(f", {label} = "), exp.Coalesce(this=shown, expressions=[text("(empty)")])]
                parts.append(text(")"))
                ifs.append(exp.If(this=exp.EQ(this=problem.copy(), expression=text(f"{kind}:{lk.name}")), true=_fn("concat", *parts)))
        for cv in m.conversions:
            ifs.append(exp.If(this=exp.EQ(this=problem.copy(), expression=text(f"no_rate:{cv.name}")),
                              true=column(currency.missing_col(cv.name), "e")))
        for share in ir.methodology_shares(m):
            ifs.append(exp.If(this=exp.EQ(this=problem.copy(), expression=text(f"no_total:{total_col(share)}")),
                              true=text(no_total_reason(share))))
        for digits in sorted({d for d in self.guards.values() if d is not None}):
            ifs.append(exp.If(this=exp.EQ(this=problem.copy(), expression=text(f"{INEXACT}:{digits}")), true=text(inexact_reason(digits))))
        if self.stored_columns():
            ifs.append(exp.If(this=exp.EQ(this=problem.copy(), expression=text(f"{INEXACT}:places")), true=text(inexact_reason(None))))
        if scores_rows(m):
            prefix, suffix = BAD_DATA_QUALITY
            ifs.append(exp.If(this=exp.EQ(this=problem.copy(), expression=text("bad_data_quality")),
                              true=_fn("concat", text(prefix), _fn("toString", column(DATA_QUALITY, "e")), text(suffix))))
        reason = exp.Case(ifs=ifs, default=problem.copy())
        q = (exp.select(param("run_id"), text(m.id), column("activity_id", "e"), column("rule_id", "e"), code, reason)
             .from_(table(eval_table, alias="e")).where(exp.EQ(this=column("outcome", "e"), expression=text("unmatched"))))
        return exp.insert(q, exp.Schema(this=table("unmatched"), expressions=[ident(c) for c in
                                                                             ("run_id", "methodology_id", "activity_id", "rule_id", "reason_code", "reason")]))

    def reconcile(self, eval_table: str) -> exp.Expression:
        """rows_in, rows by outcome, result rows, rows_rejected (from PostgreSQL, bound) and the
        kg CO2e per gas of the result rows, each summed at its own scale (proven with room for 10^12 rows)."""
        m = self.m
        outcome = lambda o: exp.EQ(this=column("outcome"), expression=text(o))  # noqa: E731
        has_value = exp.or_(*[exp.Not(this=exp.Is(this=column(f"{g.lower()}_co2e_kg"), expression=exp.Null())) for g in gases(m)]) \
            if gases(m) else exp.false()
        rows_in = exp.Subquery(this=exp.select(_fn("count")).from_(table(f"activity_{m.activity.id}", alias="a")).where(of_run_loads("a")))
        # with instruments an evaluated row is a part: the activity rows are counted
        rows = (lambda o: _fn("uniqExactIf", column("activity_id"), outcome(o))) if m.instruments is not None \
            else (lambda o: _fn("countIf", outcome(o)))
        return exp.select(
            exp.alias_(rows_in, "rows_in"),
            exp.alias_(rows("result"), "rows_result"),
            exp.alias_(rows("excluded"), "rows_excluded"),
            exp.alias_(rows("unmatched"), "rows_unmatched"),
            exp.alias_(_fn("countIf", exp.and_(outcome("result"), has_value)), "result_rows"),
            exp.alias_(param("rows_rejected"), "rows_rejected"),
            *[exp.alias_(self.gas_total(g, outcome("result")), f"total_{g.lower()}") for g in gases(m)],  # not the column's name: an alias is visible in its SELECT
        ).from_(table(eval_table))

    def gas_total(self, gas: str, result: exp.Expression) -> exp.Expression:
        """SUM of a gas's kg CO2e over the result rows; NULL, as in PostgreSQL, when none has one
        (ClickHouse's sum of no rows is 0)."""
        value = column(f"{gas.lower()}_co2e_kg")
        has = exp.and_(result, exp.Not(this=exp.Is(this=value, expression=exp.Null())))
        stored = self.places(value.copy(), self.gas_sizes.get(gas))  # as result_row holds it: a result's value has at most 40 places
        return _fn("if", exp.EQ(this=_fn("countIf", has), expression=exp.Literal.number(0)), exp.Null(), _fn("sumIf", stored, has.copy()))


def of_run_loads(alias: str) -> exp.Expression:
    """A row of the dataset's loads that the run reads (its snapshot's, as on PostgreSQL)."""
    return exp.and_(
        exp.EQ(this=column("dataset", alias), expression=param("dataset")),
        _fn("has", param("loads"), column("load_id", alias)),
    )


def _guarded_input(node: ir.Node) -> bool:
    """An input a guard bounds (``exactness.inputs``' leaves): a quantity field, a factor value, a
    converted amount."""
    return isinstance(node, (ir.FactorRef, ir.ConversionRef)) or (isinstance(node, ir.FieldRef) and node.type.kind == "quantity")


class _Expressions(ExpressionCompiler):
    """IR expressions over one row, ClickHouse's way: the visitors that build numbers are
    replaced (every number an exact Decimal256 of known scale, ``div`` for ``/``, ``year`` a
    decimal); conditions, text and NULL tests are PostgreSQL's and render as ClickHouse SQL.
    ``typed`` gives an expression with its size; a size ClickHouse would not hold refuses the run."""

    def __init__(self, row: str, owner: Compiler, digits: int | None = None):
        super().__init__(row)
        self.owner = owner
        self.digits = digits  # a guarded rule's (Compiler.guard): its inputs have at most this many digits
        self._sizes: dict[int, Size | None] = {}

    def typed(self, node: ir.Node) -> tuple[exp.Expression, Size | None]:
        e = self(node)
        return e, self.size(node)

    def size(self, node: ir.Node) -> Size | None:
        if id(node) not in self._sizes:
            self(node)
        return self._sizes.get(id(node))

    def __call__(self, node: ir.Node) -> exp.Expression:
        e = super().__call__(node)
        if id(node) not in self._sizes:
            self._sizes[id(node)] = self._derived(node)
        s = self._sizes[id(node)]
        if self.digits is not None and s is not None and _guarded_input(node):
            # beyond the guard the row is unmatched; its input reads as 0 so that nothing wraps
            # around; within it, at the guard's places (only zeros dropped)
            full = self.owner.row.size(node)
            assert full is not None
            zero = _fn("toDecimal256", text("0"), exp.Literal.number(s.scale))
            within = _fn("toDecimal256", e.copy(), exp.Literal.number(s.scale)) if s.scale < full.scale else e.copy()
            e = _fn("if", self.within(e, full), within, zero)
        if s is not None:
            self.owner.require(numeric.holds(s), f"the expression at {node.span}")
        return e

    def within(self, e: exp.Expression, s: Size | None) -> exp.Expression:
        """TRUE where an input (of size ``s`` for the run) is NULL or has at most ``digits``
        digits before the point and as many places, exactly: its integer ``|x|·10^scale`` below
        10^(digits + scale) (always, past 76 digits), and x equal to x at ``digits`` places
        (compared at its own scale)."""
        assert self.digits is not None and s is not None
        tests: list[exp.Expression] = []
        if s.scale + self.digits < numeric.PRECISION:
            bound = _fn("toInt256", text("1" + "0" * (s.scale + self.digits)))
            tests.append(exp.LT(this=_fn("abs", _fn("reinterpret", e.copy(), text("Int256"))), expression=bound))
        if s.scale > self.digits:
            tests.append(exp.EQ(this=e.copy(), expression=_fn("toDecimal256", e.copy(), exp.Literal.number(self.digits))))
        return exp.or_(exp.Is(this=e, expression=exp.Null()), exp.and_(*tests)) if tests else exp.true()

    def _derived(self, node: ir.Node) -> Size | None:
        """The size of a node whose visitor is PostgreSQL's (it does not change a number's type);
        an input of a guarded rule has at most the guard's digits and places."""
        s = self._input_size(node)
        if s is not None and self.digits is not None and _guarded_input(node):
            return Size(min(s.scale, self.digits), min(s.digits, self.digits))
        return s

    def _input_size(self, node: ir.Node) -> Size | None:
        if isinstance(node, ir.ParamRef):
            return self.size(node.value)
        if isinstance(node, ir.Neg):
            return self.size(node.operand)
        if isinstance(node, ir.FieldRef) and node.type.kind == "quantity":
            return self.owner.quantity_size(node.name)
        if isinstance(node, ir.FactorRef):
            return self.owner.factor_size(next(lk for lk in self.owner.m.lookups if lk.name == node.lookup))
        for child in ir.children(node):  # a condition: its operands at a common scale
            self.size(child)
        self._common(list(ir.children(node)))
        return None

    def _common(self, nodes: list[ir.Node]) -> Size | None:
        """ClickHouse brings decimals compared or chosen between to the larger scale: each must hold there."""
        sizes = [s for s in (self._sizes.get(id(n)) for n in nodes) if s is not None]
        common = numeric.widest(*sizes)
        for s in sizes:
            assert common is not None
            self.owner.require(numeric.holds(Size(common.scale, s.digits)), "values compared or chosen between")
        return common

    def visit_Const(self, n: ir.Const) -> exp.Expression:
        e, s = numeric.literal(n.value)
        self._sizes[id(n)] = s
        return e

    def visit_Share(self, n: ir.Share) -> exp.Expression:
        """``div(quantity, total)``: between 0 and 1 where the total is defined (``shares``). The
        quantity is the row's own, never a guard's (a share is proven for the run, as in
        PostgreSQL's exactness plan)."""
        plain = self if self.digits is None else _Expressions(self.row, self.owner)
        quantity, qs = plain.typed(n.quantity)
        total = self.owner.share_total_size(n)
        if qs is None or total is None:
            self._sizes[id(n)] = None
            return exp.Null()
        e, _, ok = numeric.div(quantity, qs, column(total_col(n), self.row), total)
        self.owner.require(ok, f"the share at {n.span}")
        self._sizes[id(n)] = Size(DIV_PLACES, 1)
        return e

    def visit_ConversionRef(self, n: ir.ConversionRef) -> exp.Expression:
        self._sizes[id(n)] = self.owner.conversion_size(next(cv for cv in self.owner.m.conversions if cv.name == n.conversion))
        if self.digits is not None:
            s = self._sizes[id(n)]
            assert s is not None
            self._sizes[id(n)] = Size(min(s.scale, self.digits), min(s.digits, self.digits))
        return column(currency.value_col(n.conversion), self.row)

    def visit_Arith(self, n: ir.Arith) -> exp.Expression:
        (left, sl), (right, sr) = self.typed(n.left), self.typed(n.right)
        if sl is None or sr is None:  # NULL arithmetic is NULL
            self._sizes[id(n)] = None
            return exp.Null()
        if n.op == "/":
            e, s, ok = numeric.div(left, sl, right, sr, known=n.right.value if isinstance(n.right, ir.Const) else None)
            self.owner.require(ok, f"the division at {n.span}")
            self._sizes[id(n)] = s
            return e
        wrap = lambda x: exp.Paren(this=x) if isinstance(x, (exp.Binary, exp.Neg)) else x  # noqa: E731
        self._sizes[id(n)] = numeric.times(sl, sr) if n.op == "*" else numeric.plus(sl, sr)
        return {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[n.op](this=wrap(left), expression=wrap(right))

    def visit_Rescale(self, n: ir.Rescale) -> exp.Expression:
        e, s = self.typed(n.operand)
        if s is None or n.ratio == 1:
            self._sizes[id(n)] = s
            return e
        out, self._sizes[id(n)] = self.owner.rescaled(e, s, n.ratio, f"the unit conversion at {n.span}")
        return out

    def at(self, node: ir.Node, common: Size | None) -> exp.Expression:
        """A number at the common scale of the values it is chosen between: ClickHouse's if(),
        coalesce(), least() and IN take no two decimal scales (a larger scale is exact: proven by ``_common``)."""
        e = self(node)
        s = self.size(node)
        if s is None or common is None or s.scale == common.scale:
            return e
        return _fn("toDecimal256", e, exp.Literal.number(common.scale))

    def visit_IfThen(self, n: ir.IfThen) -> exp.Expression:
        common = self._sized_common([n.then, n.otherwise])
        self._sizes[id(n)] = common
        return exp.Case(ifs=[exp.If(this=self(n.cond), true=self.at(n.then, common))], default=self.at(n.otherwise, common))

    def visit_Coalesce(self, n: ir.Coalesce) -> exp.Expression:
        common = self._sized_common([n.left, n.right])
        self._sizes[id(n)] = common
        return exp.Coalesce(this=self.at(n.left, common), expressions=[self.at(n.right, common)])

    def visit_InList(self, n: ir.InList) -> exp.Expression:
        """PostgreSQL's IN: an OR of equalities, so a NULL item makes a non-matching operand NULL
        (ClickHouse's IN leaves NULL items out of its set, and NOT IN would be TRUE)."""
        common = self._sized_common([n.operand, *n.items])
        e = exp.Paren(this=exp.or_(*[exp.EQ(this=self.at(n.operand, common), expression=self.at(i, common)) for i in n.items]))
        return exp.Not(this=e) if n.negated else e

    def _sized_common(self, nodes: list[ir.Node]) -> Size | None:
        for node in nodes:
            self.size(node)
        return self._common(nodes)

    def visit_Func(self, n: ir.Func) -> exp.Expression:
        if n.name == "year":
            arg = self(n.args[0])
            self._sizes[id(n)] = Size(0, 5)
            return _fn("toDecimal256", _fn("toYear", arg), exp.Literal.number(0))
        common = self._sized_common(list(n.args))
        if n.name in ("min", "max"):
            args = [self.at(a, common) for a in n.args]
            self._sizes[id(n)] = common
            cls = exp.Least if n.name == "min" else exp.Greatest
            return cls(this=args[0], expressions=args[1:])
        e = super().visit_Func(n)
        self._sizes[id(n)] = Size(common.scale, common.digits + 1) if n.name == "round" and common is not None else common
        return e


__all__ = ["INEXACT", "ClickHouseStatements", "InputSizes", "RESULT_SCALE", "SETTINGS", "Unsupported", "compile_for_clickhouse", "inexact_reason", "supported"]
