"""Prove that a methodology's arithmetic is exact in PostgreSQL, or say which rows must be checked.

PostgreSQL NUMERIC multiplies exactly only while the product needs at most 16,383 decimal
places; past that it rounds the product without an error (``numeric_mul``), so 1e-9999 ×
3.4e-10000 would be stored as 0. And no NUMERIC may have more than 131,072 digits before the
point (an error, which would abort a run). Both are properties of sizes, not of values: a
product's decimal places are the sum of its operands', a sum's the larger of its operands'.

So every numeric node of a methodology's IR gets a ``Size`` bound — decimal places and digits
before the point — computed from the sizes of its inputs exactly as PostgreSQL sizes each
operation (``*`` adds scales and digits, ``+``/``-`` keep the larger scale and may carry one
digit, ``ccf.div`` gives 20 places, ``round`` n places, ``if``/``??``/``min``/``max`` either
operand), and every bound must stay within ``numeric.PG_MAX_SCALE`` and ``PG_MAX_DIGITS``.

``plan`` does this twice:

1. with the sizes ccf guarantees for its inputs (``numeric.MAX_INPUT_DIGITS``: activity data is
   bounded at load, factor values, GWPs and rates where they are installed; literals by E306).
   Every shipped methodology is proven this way: no per-row work at all.
2. for the rules whose emissions are not proven, with every input of the rule bounded by one
   threshold ``t``: the largest ``t`` that proves them. Those rules compute their emissions only
   for a row whose inputs (fields after unit conversion, factor values, converted amounts, GWPs)
   have at most ``t`` decimal places and ``t`` digits before the point; any other row is
   unmatched with reason ``inexact`` (``compile.evaluate.statement``, ``evaluate.evaluate_row``).

A ``share()``'s value lies between 0 and 1 with 20 places; its quantity and total are sums over
other rows than the one computed, so they cannot be guarded per row and must be proven in step 1.
Expressions outside emissions (conditions, lookup keys, currency amounts) decide which rule and
factor a row gets; they are not guarded, so they must be proven in step 1 or the methodology does
not compile (``InexactMethodology``; ``ccf check`` reports it as E511).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Callable, Iterator

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import MAX_INPUT_DIGITS, PG_MAX_DIGITS, PG_MAX_SCALE, Size, size
from ccf.dsl.source import Span
from ccf.dsl.units import fraction_to_decimal, is_terminating, registry

DIV_PLACES = 20  # ccf.div's quotient has 20 decimal places
DIV_HEADROOM = 21  # digits ccf.div adds to its dividend inside (2·|a|·10²⁰)
YEAR_DIGITS = 7  # EXTRACT(YEAR …) of a PostgreSQL date: up to 5874897
ALLOCATION_DIGITS = 20  # an allocated part's quantity is built from running sums over the rows
SUM_DIGITS = 19  # a share's total: a sum of at most 2^63 rows' quantities carries at most 19 digits


class InexactMethodology(CcfError):
    """A methodology whose conditions or keys could exceed PostgreSQL's exact range, or whose
    emissions exceed it whatever the data; ``span`` is where (the checker reports it as E511)."""

    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.span = span


@dataclass(frozen=True)
class Plan:
    """Which rules compute their emissions only for rows within ``threshold`` (None: none)."""

    guarded: frozenset[str] = frozenset()
    threshold: int | None = None

    def guards(self, rule: ir.Rule) -> bool:
        return rule.id in self.guarded


def reason(threshold: int) -> str:
    """The ``ccf.unmatched.reason`` of a row the plan's check refuses (``reason_code`` inexact)."""
    return (
        f"a value the rule reads has more than {threshold} decimal places or {threshold} digits before the point; "
        f"for such values the rule's arithmetic could exceed what PostgreSQL computes exactly "
        f"({PG_MAX_SCALE} decimal places), so no result is given"
    )


def within(value: Decimal | None, threshold: int) -> bool:
    """Whether a row's input passes the check: NULL, or at most ``threshold`` decimal places and
    digits before the point (SQL: ``x IS NULL OR (SCALE(x) <= t AND ABS(x) < 1Et)``)."""
    if value is None:
        return True
    return size(value).scale <= threshold and value.copy_abs() < Decimal(f"1E{threshold}")


def inputs(rule: ir.Rule) -> tuple[list[ir.Node], list[str]]:
    """What the check of a guarded rule reads: each field, factor and converted amount of its
    emissions once, in source order, and the gases given by mass (whose GWP weights them)."""
    found: list[ir.Node] = []
    for em in rule.emissions:
        for leaf in _leaves(em.value):
            if leaf not in found:
                found.append(leaf)
    return found, [em.gas for em in rule.emissions if not em.co2e_basis]


def _leaves(node: ir.Node) -> Iterator[ir.Node]:
    if isinstance(node, ir.Share):  # proven in step 1, whatever the row: never guarded
        return
    if isinstance(node, (ir.FactorRef, ir.ConversionRef)) or (isinstance(node, ir.FieldRef) and node.type.kind == "quantity"):
        yield node
        return
    for child in ir.children(node):
        yield from _leaves(child)


# --- sizes ------------------------------------------------------------------------------


def _widest(*sizes: Size | None) -> Size | None:
    present = [s for s in sizes if s is not None]
    if not present:
        return None
    return Size(max(s.scale for s in present), max(s.digits for s in present))


def _times(a: Size, b: Size) -> Size:
    return Size(a.scale + b.scale, a.digits + b.digits)


def _divided(a: Size, b: Size) -> Size:
    """ccf.div(a, b): 20 places; |a/b| ≤ |a|·10^scale(b), as a non-zero b is at least 10^-scale(b)."""
    return Size(DIV_PLACES, a.digits + b.scale + 1)


@cache
def _unit_scale_size() -> Size:
    """The widest exact scale of any unit (what a factor stated in another unit is converted by)."""
    return _widest(*(size(fraction_to_decimal(u.scale)) for u in registry().units.values() if is_terminating(u.scale)))  # type: ignore[return-value]


class _Sizer:
    """The size bound of each numeric node; ``fits`` turns False when any node exceeds
    PostgreSQL's exact range. ``leaf`` gives the size of a field, factor or converted amount."""

    def __init__(self, leaf: Callable[[ir.Node], Size]):
        self.leaf = leaf
        self.fits = True

    def check(self, s: Size | None, headroom: int = 0) -> Size | None:
        if s is not None and (s.scale > PG_MAX_SCALE or s.digits + headroom > PG_MAX_DIGITS):
            self.fits = False
        return s

    def __call__(self, node: ir.Node) -> Size | None:
        return self.check(getattr(self, "visit_" + type(node).__name__, self.generic)(node))

    def generic(self, node: ir.Node) -> Size | None:
        """A node that is not a number (a condition, text, a date): its operands still count."""
        for child in ir.children(node):
            self(child)
        return None

    def visit_Const(self, n: ir.Const) -> Size:
        return size(n.value)

    def visit_NullConst(self, n: ir.NullConst) -> Size | None:
        return None

    def visit_FieldRef(self, n: ir.FieldRef) -> Size | None:
        return self.leaf(n) if n.type.kind == "quantity" else None

    def visit_FactorRef(self, n: ir.FactorRef) -> Size:
        return self.leaf(n)

    def visit_ConversionRef(self, n: ir.ConversionRef) -> Size:
        return self.leaf(n)

    def visit_ParamRef(self, n: ir.ParamRef) -> Size | None:
        return self(n.value)

    def visit_Arith(self, n: ir.Arith) -> Size | None:
        a, b = self(n.left), self(n.right)
        if a is None or b is None:  # null arithmetic is NULL
            return None
        if n.op == "*":
            return _times(a, b)
        if n.op == "/":
            self.check(a, DIV_HEADROOM)
            return _divided(a, b)
        return Size(max(a.scale, b.scale), max(a.digits, b.digits) + 1)

    def visit_Share(self, n: ir.Share) -> Size:
        """ccf.div(quantity, total) of a total that is positive, with no negative part: between
        0 and 1, 20 places. Its quantity and total are proven in step 1 (``_decisions_fit``)."""
        return Size(DIV_PLACES, 1)

    def visit_Neg(self, n: ir.Neg) -> Size | None:
        return self(n.operand)

    def visit_Rescale(self, n: ir.Rescale) -> Size | None:
        x = self(n.operand)
        if x is None or n.ratio == 1:
            return x
        if is_terminating(n.ratio):
            return _times(x, size(fraction_to_decimal(n.ratio)))
        product = self.check(_times(x, size(Decimal(n.ratio.numerator))), DIV_HEADROOM)
        return _divided(product, size(Decimal(n.ratio.denominator)))  # type: ignore[arg-type]

    def visit_IfThen(self, n: ir.IfThen) -> Size | None:
        self(n.cond)
        return _widest(self(n.then), self(n.otherwise))

    def visit_Coalesce(self, n: ir.Coalesce) -> Size | None:
        return _widest(self(n.left), self(n.right))

    def visit_Func(self, n: ir.Func) -> Size | None:
        args = [self(a) for a in n.args]
        if n.name == "year":
            return Size(0, YEAR_DIGITS)
        if n.name == "round":
            return None if args[0] is None else Size(max(n.digits, 0), args[0].digits + 1)
        return _widest(*args)  # min, max, abs


def _guaranteed(m: ir.Methodology) -> Callable[[ir.Node], Size]:
    """Input sizes within ccf's limits (step 1 of ``plan``)."""
    limit = Size(MAX_INPUT_DIGITS, MAX_INPUT_DIGITS)
    conversions = {cv.name: cv for cv in m.conversions}

    def leaf(n: ir.Node) -> Size:
        if isinstance(n, ir.FieldRef):
            factors = [c.factor for c in n.conversions] + ([n.fixed_factor] if n.fixed_factor is not None else [])
            raw = Size(limit.scale, limit.digits + ALLOCATION_DIGITS)
            return _widest(raw, *(_times(raw, size(f)) for f in factors))  # type: ignore[return-value]
        if isinstance(n, ir.FactorRef):  # as published, or ccf.div(value × scale(per), scale(unit))
            per = _unit_scale_size()
            return _widest(limit, _divided(_times(limit, per), per))  # type: ignore[return-value]
        if isinstance(n, ir.ConversionRef):  # ccf.div(amount × rate × index, rate × index)
            amount = _Sizer(leaf)(conversions[n.conversion].amount) or Size(0, 1)
            rates = _times(limit, limit)
            return _divided(_times(amount, rates), rates)
        raise TypeError(f"no input size for {type(n).__name__}")

    return leaf


def _emissions_fit(rule: ir.Rule, leaf: Callable[[ir.Node], Size], gwp: Size) -> bool:
    sizer = _Sizer(leaf)
    for em in rule.emissions:
        value = sizer(em.value)
        if not em.co2e_basis and value is not None:
            sizer.check(_times(value, gwp))  # kg of the gas × its GWP
    return sizer.fits


def _decisions_fit(m: ir.Methodology, leaf: Callable[[ir.Node], Size]) -> list[tuple[str, ir.Node]]:
    """What decides a row's rule, factor and converted amount, where it cannot be proven exact."""
    failed: list[tuple[str, ir.Node]] = []
    named: list[tuple[str, ir.Node | None]] = [(f"the condition of rule {r.id}", r.where) for r in m.rules]
    for lk in m.lookups:
        named += [(f"the keys of factor lookup {lk.name}", node) for node in (*(n for _, n in lk.match), lk.region, lk.year)]
    for cv in m.conversions:
        named += [(f"the amount of currency conversion {cv.name}", node) for node in (cv.amount, cv.currency, cv.price_year)]
    for share in ir.methodology_shares(m):
        named += [("the total of a share()", share)]
    for what, node in named:
        if node is None:
            continue
        sizer = _Sizer(leaf)
        if isinstance(node, ir.Share):  # its total sums the quantity over rows, then divides
            q = sizer(node.quantity)
            if q is not None:
                sizer.check(Size(q.scale, q.digits + SUM_DIGITS), DIV_HEADROOM)
            for key in node.keys:
                sizer(key)
        sizer(node)
        if not sizer.fits and what not in (w for w, _ in failed):
            failed.append((what, node))
    return failed


_PLANS: dict[int, tuple[ir.Methodology, Plan]] = {}  # by id, with the methodology kept alive


def plan(m: ir.Methodology) -> Plan:
    """The exactness plan of a methodology (see the module's doc); InexactMethodology when a
    condition, key or currency amount could exceed PostgreSQL's exact range."""
    known = _PLANS.get(id(m))
    if known is not None and known[0] is m:
        return known[1]
    guaranteed = _guaranteed(m)
    failed = _decisions_fit(m, guaranteed)
    if failed:
        raise InexactMethodology(
            f"{m.ref}: {', '.join(w for w, _ in failed)} could need more than {PG_MAX_SCALE} decimal places or "
            f"{PG_MAX_DIGITS} digits for inputs within ccf's limits ({MAX_INPUT_DIGITS} digits), which PostgreSQL "
            f"does not compute exactly",
            failed[0][1].span,
        )
    limit = Size(MAX_INPUT_DIGITS, MAX_INPUT_DIGITS)
    unproven = [r for r in m.rules if r.emissions and not _emissions_fit(r, guaranteed, limit)]
    result = Plan()
    if unproven:
        def fits(t: int) -> bool:
            bound = Size(t, max(t, 1))
            return all(_emissions_fit(r, lambda n: bound, bound) for r in unproven)

        if not fits(0):
            raise InexactMethodology(
                f"{m.ref}: the emissions of rule {unproven[0].id} need more than {PG_MAX_SCALE} decimal places "
                f"or {PG_MAX_DIGITS} digits whatever the data, which PostgreSQL does not compute exactly",
                unproven[0].span,
            )
        low, high = 0, MAX_INPUT_DIGITS  # fits(low) holds; find the largest t that fits
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if fits(mid) else (low, mid - 1)
        result = Plan(frozenset(r.id for r in unproven), low)
    _PLANS[id(m)] = (m, result)
    return result


__all__ = ["InexactMethodology", "Plan", "inputs", "plan", "reason", "within"]
