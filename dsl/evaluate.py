"""The reference evaluator: a checked methodology (IR) evaluated in Python, one row at a time.

It follows the same tree as ``engine/compile/`` and gives exactly what the compiled SQL gives —
the same rule, the same outcome, the same ``Decimal`` to the last digit — but computed
independently, so that property tests can hold the two against each other
(``tests/reliability/test_differential.py``). It is written from the SQL's semantics, not from
Python's defaults:

- ``+ - *`` are exact (``numeric.EXACT``): nothing ever rounds silently (an operation that
  would is an error); a product or sum PostgreSQL could not hold exactly (more than 16,383
  decimal places, or too many digits) is an error too (``numeric.held``): ``dsl/exactness.py``
  must have kept such a row from being computed;
- a rule that ``exactness.plan`` guards is computed only for a row whose inputs are within its
  threshold; any other row is unmatched, ``inexact``, as in the SQL;
- ``/`` is ``ccf.div`` (``numeric.div``), a ``Rescale`` is ``compile.scale_sql``
  (``numeric.scale``) and ``round`` rounds half away from zero (``numeric.round_half_away``);
  ``min``/``max`` ignore nulls (``LEAST``/``GREATEST``);
- conditions use SQL's three-valued logic; ``None`` is NULL.

Factors come through a ``FactorResolver`` (``dsl/resolve.py``: which factor a lookup finds for
a row); this module never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable, Iterable, Iterator, Literal, Mapping, Sequence

from ccf.dsl import exactness, ir
from ccf.dsl.currency import RateTableValues, conversion_refs, convert
from ccf.dsl.model import DATA_QUALITY, DATA_QUALITY_SCORES
from ccf.dsl.numeric import EXACT, EvaluationError, div, held, multiply, numeric_text, round_half_away, scale
from ccf.dsl.resolve import (
    NO_FACTOR,
    FactorRecordLike,
    FactorResolver,
    FactorSetsResolver,
    GasFactor,
    LookupKeys,
    RecordsResolver,
    ResolvedFactor,
    resolve_factor,
)

Value = Decimal | str | bool | date | None


# --- three-valued logic -----------------------------------------------------------------


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _not(a: bool | None) -> bool | None:
    return None if a is None else not a


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


# --- expressions ------------------------------------------------------------------------


class Evaluator:
    """One ``visit_<Node>`` per IR node type; a node without one fails loudly.

    ``row`` maps field names (and ``<field>_unit``) to the values as loaded: ``Decimal`` for
    numbers and quantities (in the row's own unit), ``str``, ``bool``, ``datetime.date`` or None.
    ``factors`` maps (lookup, gas) to what the lookup found for this row; ``totals`` each
    ``share()`` to the row's total by its keys (dsl/shares.py).
    """

    def __init__(self, row: Mapping[str, object], factors: Mapping[tuple[str, str], GasFactor] | None = None,
                 conversions: Mapping[str, Decimal | None] | None = None,
                 totals: Mapping[ir.Share, Decimal | None] | None = None):
        self.row = row
        self.factors = factors or {}
        self.conversions = conversions or {}  # currency conversion -> the row's converted amount
        self.totals = totals or {}

    def __call__(self, node: ir.Node) -> Value:
        visit = getattr(self, "visit_" + type(node).__name__, None)
        if visit is None:
            raise NotImplementedError(f"no reference evaluation for IR node {type(node).__name__}")
        return visit(node)

    def number(self, node: ir.Node) -> Decimal | None:
        v = self(node)
        if v is not None and not isinstance(v, Decimal):
            raise EvaluationError(f"{type(node).__name__} gave {v!r} where a number was expected")
        return v

    def visit_Const(self, n: ir.Const) -> Value:
        return n.value

    def visit_TextConst(self, n: ir.TextConst) -> Value:
        return n.value

    def visit_BoolConst(self, n: ir.BoolConst) -> Value:
        return n.value

    def visit_DateConst(self, n: ir.DateConst) -> Value:
        return date.fromisoformat(n.value)

    def visit_NullConst(self, n: ir.NullConst) -> Value:
        return None

    def visit_FieldRef(self, n: ir.FieldRef) -> Value:
        v = _typed(n.name, n.type, self.row.get(n.name))
        if v is None or n.type.kind != "quantity":
            return v
        assert isinstance(v, Decimal)
        if n.conversions:  # CASE <field>_unit WHEN 'kWh' THEN 3600000 … END, NULL for any other
            factor = {c.unit: c.factor for c in n.conversions}.get(self.row.get(n.name + "_unit"))  # type: ignore[arg-type]
            return None if factor is None else multiply(v, factor)
        if n.fixed_factor is not None and n.fixed_factor != 1:
            return multiply(v, n.fixed_factor)
        return v

    def visit_ParamRef(self, n: ir.ParamRef) -> Value:
        return self(n.value)

    def visit_FactorRef(self, n: ir.FactorRef) -> Value:
        return self.factors.get((n.lookup, n.gas), NO_FACTOR).value

    def visit_ConversionRef(self, n: ir.ConversionRef) -> Value:
        return self.conversions.get(n.conversion)

    def visit_Share(self, n: ir.Share) -> Value:
        return div(self.number(n.quantity), self.totals.get(n))  # ccf.div(quantity, total)

    def visit_Arith(self, n: ir.Arith) -> Value:
        a, b = self.number(n.left), self.number(n.right)
        if n.op == "/":
            return div(a, b)
        if a is None or b is None:
            return None
        return held({"+": EXACT.add, "-": EXACT.subtract, "*": EXACT.multiply}[n.op](a, b))

    def visit_Neg(self, n: ir.Neg) -> Value:
        x = self.number(n.operand)
        return None if x is None else EXACT.minus(x)

    def visit_Rescale(self, n: ir.Rescale) -> Value:
        return scale(self.number(n.operand), n.ratio)

    def visit_Compare(self, n: ir.Compare) -> Value:
        a, b = self(n.left), self(n.right)
        if a is None or b is None:
            return None
        return _COMPARE[n.op](a, b)

    def visit_IsNull(self, n: ir.IsNull) -> Value:
        missing = self(n.operand) is None
        return not missing if n.negated else missing

    def visit_Logic(self, n: ir.Logic) -> Value:
        a, b = self(n.left), self(n.right)
        return _and(a, b) if n.op == "and" else _or(a, b)  # type: ignore[arg-type]

    def visit_Not(self, n: ir.Not) -> Value:
        return _not(self(n.operand))  # type: ignore[arg-type]

    def visit_InList(self, n: ir.InList) -> Value:
        x = self(n.operand)
        items = [self(i) for i in n.items]
        if x is None:
            found: bool | None = None
        elif any(i is not None and i == x for i in items):
            found = True
        elif any(i is None for i in items):
            found = None
        else:
            found = False
        return _not(found) if n.negated else found

    def visit_IfThen(self, n: ir.IfThen) -> Value:
        return self(n.then) if self(n.cond) is True else self(n.otherwise)

    def visit_Coalesce(self, n: ir.Coalesce) -> Value:
        left = self(n.left)
        return left if left is not None else self(n.right)

    def visit_Func(self, n: ir.Func) -> Value:
        if n.name in ("min", "max"):
            present = [v for v in (self(a) for a in n.args) if v is not None]
            if not present:
                return None
            return min(present) if n.name == "min" else max(present)  # type: ignore[type-var]
        x = self(n.args[0])
        if x is None:
            return None
        if n.name == "abs":
            assert isinstance(x, Decimal)
            return EXACT.abs(x)
        if n.name == "round":
            assert isinstance(x, Decimal)
            return round_half_away(x, n.digits)
        if n.name == "year":
            assert isinstance(x, date)
            return Decimal(x.year)
        raise NotImplementedError(f"no reference evaluation for function {n.name}()")


def _typed(name: str, t: ir.Type, v: object) -> Value:
    """A row value checked against its field's type (the loader's types: NUMERIC, TEXT, …)."""
    if v is None:
        return None
    kind = t.kind
    if kind == "quantity" and isinstance(v, int) and not isinstance(v, bool):
        return Decimal(v)
    ok = {"quantity": Decimal, "text": str, "boolean": bool, "date": date}.get(kind)
    if ok is None or not isinstance(v, ok) or (kind == "quantity" and not v.is_finite()):  # type: ignore[union-attr]
        raise EvaluationError(f"field {name} holds {v!r}, which is not {t}")
    return v  # type: ignore[return-value]


def evaluate(node: ir.Node, row: Mapping[str, object] | None = None,
             factors: Mapping[tuple[str, str], GasFactor] | None = None) -> Value:
    """The value of one expression for one row."""
    return Evaluator(row or {}, factors)(node)


# --- the methodology --------------------------------------------------------------------


@dataclass(frozen=True)
class GasResult:
    """One gas of a result row (one ``ccf.result`` row)."""

    gas: str
    gas_kg: Decimal | None  # kg of the gas itself; None when the rule gives kg CO2e directly
    gwp: Decimal | None  # the GWP applied; None when the rule gives kg CO2e directly
    co2e_kg: Decimal
    factor_ids: tuple[str, ...]
    match_level: str


@dataclass(frozen=True)
class Result:
    """The row has emissions: one entry per gas, in the order ir.GAS_ORDER."""

    activity_id: str
    rule_id: str
    gases: tuple[GasResult, ...]
    outcome: Literal["result"] = "result"
    instrument_id: str | None = None  # the contractual instrument of this part of the row, if any
    data_quality: int | None = None  # 1 (best) to 5 (poorest); None: not scored (``data_quality``)


@dataclass(frozen=True)
class Excluded:
    activity_id: str
    rule_id: str
    reason: str
    outcome: Literal["excluded"] = "excluded"


@dataclass(frozen=True)
class Unmatched:
    """No result: no rule applied (rule_id None), or the rule's factor or value is missing."""

    activity_id: str
    rule_id: str | None
    reason_code: Literal["no_rule", "no_factor", "ambiguous_factor", "no_total", "inexact", "no_value", "no_rate",
                         "bad_data_quality"]
    lookup: str | None = None  # the lookup at fault, for no_factor and ambiguous_factor
    # for no_rate: which currency, year and rate table; for inexact: the threshold; for no_total: the
    # share; for bad_data_quality: the score (as ccf.unmatched.reason)
    reason: str | None = None
    outcome: Literal["unmatched"] = "unmatched"


RowOutcome = Result | Excluded | Unmatched


def lookup_keys(lookup: ir.FactorLookup, ev: "Evaluator") -> LookupKeys:
    """A row's keys for one lookup (the key columns of ``compile.lookups.key_columns``)."""
    match = []
    for name, node in lookup.match:
        k = ev(node)
        if k is not None and not isinstance(k, str):
            raise EvaluationError(f"match key {lookup.name}.{name} gave {k!r}, not text")
        match.append((name, k))
    region = ev(lookup.region) if lookup.region is not None else None
    year = ev(lookup.year) if lookup.year is not None else None
    if region is not None and not isinstance(region, str):
        raise EvaluationError(f"region key of {lookup.name} gave {region!r}, not text")
    if year is not None and not isinstance(year, Decimal):
        raise EvaluationError(f"year key of {lookup.name} gave {year!r}, not a number")
    return LookupKeys(tuple(match), region, year)


def row_factors(m: ir.Methodology, row: Mapping[str, object], resolver: FactorResolver) -> dict[tuple[str, str], GasFactor]:
    """Each lookup's gases for this row (the ``joined`` CTE)."""
    keyer = Evaluator(row)
    found: dict[tuple[str, str], GasFactor] = {}
    for lk in m.lookups:
        if not lk.gases:  # no expression refers to it; the compiler leaves it out too
            continue
        resolved = resolver.resolve(lk, lookup_keys(lk, keyer))
        for gas in lk.gases:
            found[(lk.name, gas)] = resolved.gas(gas) if resolved is not None else NO_FACTOR
    return found


def _match_level(refs: Sequence[tuple[str, str]], values: Mapping[tuple[str, str], GasFactor]) -> str:
    """A result's match level: 'no factor', the one factor's level, or 'lookup: level | …'."""
    if not refs:
        return "no factor"
    if len(refs) == 1:
        return values[refs[0]].match_level or ""
    return " | ".join(f"{lk}: {values[(lk, gas)].match_level or ''}" for lk, gas in refs)


def evaluate_row(
    m: ir.Methodology,
    row: Mapping[str, object],
    factors: FactorResolver,
    gwp: Mapping[str, Decimal] | None = None,
    rates: Mapping[str, "RateTableValues"] | None = None,
    totals: Mapping[ir.Share, Decimal | None] | None = None,
) -> RowOutcome:
    """The outcome of one activity row, as the compiled SQL decides it.

    ``row`` holds ``activity_id`` and the activity fields as loaded; ``gwp`` maps each gas to
    its GWP in the methodology's GWP set (needed when a rule gives a mass of a gas).
    Order of decisions (``compile.evaluate.statement``): the first rule whose ``where`` is true (none:
    ``no_rule``); an ``exclude`` rule excludes; then, over the factor references of the rule's
    emissions sorted by (lookup, gas), no candidate is ``no_factor`` and several are
    ``ambiguous_factor``; then a ``share()`` of its emissions whose total is not defined
    (``totals``: the row's, dsl/shares.py) is ``no_total``; then, for a rule the exactness plan guards, an input beyond its
    threshold is ``inexact`` (its emissions are not computed); then any gas whose kg CO2e is null
    is ``no_value``; then a data-quality score outside 1-5 is ``bad_data_quality``.
    """
    activity_id = str(row.get("activity_id"))
    values = row_factors(m, row, factors)
    keyer, converted, no_rate = Evaluator(row), {}, {}
    for cv in m.conversions:  # spend-based: amounts in the factor's currency and price year
        amount = keyer.number(cv.amount)
        converted[cv.name], no_rate[cv.name] = convert(cv, amount, keyer(cv.currency), keyer(cv.price_year), rates or {})
    ev = Evaluator(row, values, converted, totals)
    rule = next((r for r in m.rules if r.where is None or ev(r.where) is True), None)
    if rule is None:
        return Unmatched(activity_id, None, "no_rule")
    if rule.exclude is not None:
        return Excluded(activity_id, rule.id, rule.exclude)
    plan = exactness.plan(m)
    inexact = plan.guards(rule) and not _within_plan(rule, ev, gwp or {}, plan.threshold)  # type: ignore[arg-type]
    gases: list[GasResult] = []
    missing_value = False
    for em in sorted(rule.emissions, key=lambda e: ir.GAS_ORDER.index(e.gas)) if not inexact else ():
        v = ev.number(em.value)
        g = None if em.co2e_basis else (gwp or {}).get(ir.gwp_gas(em.gas))
        co2e = v if em.co2e_basis else (None if v is None or g is None else multiply(v, g))
        refs = list(dict.fromkeys((r.lookup, r.gas) for r in ir.factor_refs(em.value)))
        if co2e is None:
            missing_value = True
            continue
        ids = tuple(values[ref].factor_id for ref in refs)
        levels = list(dict.fromkeys((r.lookup, r.gas) for r in ir.level_factors(rule, em)))
        gases.append(
            GasResult(em.gas, None if em.co2e_basis else v, g, co2e, ids, _match_level(levels, values))  # type: ignore[arg-type]
        )
    for cv in dict.fromkeys(c for em in rule.emissions for c in conversion_refs(em.value)):
        if no_rate[cv] is not None:
            return Unmatched(activity_id, rule.id, "no_rate", None, no_rate[cv])
    for lookup, gas in sorted({(r.lookup, r.gas) for em in rule.emissions for r in ir.factor_refs(em.value)}):
        n = values.get((lookup, gas), NO_FACTOR).candidates
        if n == 0:
            return Unmatched(activity_id, rule.id, "no_factor", lookup)
        if n > 1:
            return Unmatched(activity_id, rule.id, "ambiguous_factor", lookup)
    for share in dict.fromkeys(s for em in rule.emissions for s in ir.share_refs(em.value)):
        if (totals or {}).get(share) is None:
            from ccf.dsl.shares import no_total_reason

            return Unmatched(activity_id, rule.id, "no_total", None, no_total_reason(share))
    if inexact:
        return Unmatched(activity_id, rule.id, "inexact", None, exactness.reason(plan.threshold))  # type: ignore[arg-type]
    if missing_value:
        return Unmatched(activity_id, rule.id, "no_value")
    score, _ = data_quality(m, rule, ev)
    if score is not None and score not in DATA_QUALITY_SCORES:
        return Unmatched(activity_id, rule.id, "bad_data_quality", None, bad_data_quality_reason(score))
    return Result(activity_id, rule.id, tuple(gases), data_quality=None if score is None else int(score))


DataQualitySource = Literal["row", "rule", "methodology"]


def data_quality(m: ir.Methodology, rule: ir.Rule, ev: "Evaluator") -> tuple[Decimal | None, DataQualitySource | None]:
    """A result's data-quality score and where it came from: the row's own ``data_quality``, else
    its rule's ``data_quality:``, else the methodology's; (None, None) when none gives one."""
    for source, node in (("row", ir.FieldRef(DATA_QUALITY, ir.NUMBER)), ("rule", rule.data_quality),
                         ("methodology", m.data_quality)):
        score = ev.number(node) if node is not None else None
        if score is not None:
            return score, source  # type: ignore[return-value]
    return None, None


# the reason of a row whose computed score is not one, around the score's text (the compiled SQL
# writes it from the same two parts)
BAD_DATA_QUALITY = ("the data-quality score given for this row is ", ", not a whole number from 1 to 5")


def bad_data_quality_reason(score: Decimal) -> str:
    return BAD_DATA_QUALITY[0] + numeric_text(score) + BAD_DATA_QUALITY[1]


def _within_plan(rule: ir.Rule, ev: "Evaluator", gwp: Mapping[str, Decimal], threshold: int) -> bool:
    """Whether every input of a guarded rule's emissions is within the plan's threshold."""
    leaves, by_mass = exactness.inputs(rule)
    values = [ev.number(leaf) for leaf in leaves] + [gwp.get(ir.gwp_gas(gas)) for gas in by_mass]
    return all(exactness.within(v, threshold) for v in values)


@dataclass(frozen=True)
class Evaluation:
    """Every row's outcome and the totals a run reports."""

    outcomes: tuple[RowOutcome, ...]
    by_gas: tuple[tuple[str, Decimal], ...]  # kg CO2e per gas, sorted by gas (as run.py's by_gas)
    instruments: tuple["InstrumentUse", ...] = ()  # with instruments: what each gave (dsl/allocate.py)

    @property
    def co2e_kg(self) -> Decimal:
        """The total in the scopes (biogenic CO2 is reported beside it, outside the scopes)."""
        total = Decimal(0)
        for gas, v in self.by_gas:
            if gas not in ir.OUTSIDE_SCOPES:
                total = EXACT.add(total, v)
        return total

    def count(self, outcome: str) -> int:
        """Activity rows with this outcome (a row allocated to instruments has a result per part)."""
        return len({o.activity_id for o in self.outcomes if o.outcome == outcome})


def evaluate_rows(
    m: ir.Methodology,
    rows: Iterable[Mapping[str, object]],
    factors: FactorResolver,
    gwp: Mapping[str, Decimal] | None = None,
    rates: Mapping[str, "RateTableValues"] | None = None,
    instruments: Iterable[Mapping[str, object]] = (),
) -> Evaluation:
    """Every row's outcome, and the kg CO2e per gas summed exactly; with ``m.instruments``, the
    instruments' rows are allocated first (dsl/allocate.py); with shares, ``rows`` are the whole
    dataset, each share's totals summed over them first (dsl/shares.py)."""
    uses: tuple = ()
    if ir.methodology_shares(m):
        from ccf.dsl.shares import share_totals

        rows = list(rows)
        outcomes = tuple(evaluate_row(m, row, factors, gwp, rates, totals)
                         for row, totals in zip(rows, share_totals(m, rows)))
    elif m.instruments is not None:
        from ccf.dsl.allocate import evaluate_allocated

        parts, used = evaluate_allocated(m, rows, instruments, lambda row: evaluate_row(m, row, factors, gwp, rates))
        outcomes, uses = tuple(parts), tuple(used)
    else:
        outcomes = tuple(evaluate_row(m, row, factors, gwp, rates) for row in rows)
    sums: dict[str, Decimal] = {}
    for o in outcomes:
        if isinstance(o, Result):
            for g in o.gases:
                sums[g.gas] = EXACT.add(sums.get(g.gas, Decimal(0)), g.co2e_kg)
    return Evaluation(outcomes, tuple(sorted(sums.items())), uses)


__all__ = [  # the primitives and factor resolution are re-exported: engine/ imports them from here
    "BAD_DATA_QUALITY", "EXACT", "NO_FACTOR", "Evaluation", "EvaluationError", "Evaluator", "Excluded", "FactorRecordLike",
    "FactorResolver", "FactorSetsResolver", "GasFactor", "GasResult", "LookupKeys", "RecordsResolver", "ResolvedFactor",
    "Result", "RowOutcome", "Unmatched", "bad_data_quality_reason", "data_quality", "div", "evaluate", "evaluate_row",
    "evaluate_rows", "lookup_keys", "row_factors", "multiply", "numeric_text", "resolve_factor", "round_half_away", "scale",
]
