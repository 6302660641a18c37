"""Quantities converted straight into the unit of the factor they multiply: per row unit, an
exact multiplication in place of a division.

A rule such as ``quantity * uk_grid.co2`` multiplies joules by kg CO2e per kWh; the product is
brought to kg by a ratio that is no finite decimal (1/3 600 000), so ``scale_sql`` writes
``ccf.div(q × Y, 3600000)``: a long division per row and gas. Yet per unit the row gives ``q``
in, ``q × ratio`` often is a finite multiple of the number as given: 2.5 MWh is 2.5 ×
3 600 000 000 J, and × 1/3 600 000 that is 2.5 × 1000 kWh. So where a rule's emission is such a
product of one converted quantity, the ``activity`` step also gives the quantity in the
factor's unit (``rescaled_col``: ``q_given × 1000`` for a row in MWh, NULL for a row in GJ,
×2500/9), and the emission is ``ROUND(rescaled × Y, 20)`` for the rows that have it. That is the
number ``ccf.div`` gives, to the digit and the scale: the same exact quotient, rounded half away
from zero at the 20th decimal place (PostgreSQL's ``ROUND`` of a NUMERIC, which gives exactly
20 places), by one multiplication per row instead of a division per gas
(docs/numeric-semantics.md, "Scale"). Rows in another unit keep ``ccf.div``.

Only where the exactness proof still holds (``dsl/exactness.py``): the rule is not guarded, and
each unit's multiplier is no wider (decimal places, digits) than the widest of the field's
conversion factors, so the rescaled quantity stays within the size the proof gave the field.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ccf.dsl import exactness, ir
from ccf.dsl.numeric import size
from ccf.dsl.units import fraction_to_decimal, is_terminating

# ccf.div(a, b) rounds a / b half away from zero to this many decimal places (migration 0001)
DIV_PLACES = exactness.DIV_PLACES

Key = tuple[str, Fraction]  # (activity field, the ratio its product is rescaled by)


def rescaled_col(field: str, ratio: Fraction) -> str:
    """The ``activity`` column of a quantity rescaled by ``ratio`` where its row's unit makes that
    a finite decimal multiple of the quantity as given (else NULL)."""
    return f"{field}__{multiplier_col(ratio)}"


def multiplier_col(ratio: Fraction) -> str:
    """The column of a unit's multiplier into the unit ``ratio`` rescales to (activity.unit_table)."""
    return f"x{ratio.numerator}_{ratio.denominator}"


def product_of_field(node: ir.Node) -> tuple[ir.FieldRef, list[ir.Node]] | None:
    """``node`` as a product of exactly one converted quantity and other factors (``q * Y * …``):
    the quantity and the other factors; None for any other node."""
    factors = _factors(node)
    converted = [f for f in factors if isinstance(f, ir.FieldRef) and f.conversions]
    if len(converted) != 1:
        return None
    field = converted[0]
    assert isinstance(field, ir.FieldRef)
    return field, [f for f in factors if f is not field]


def multipliers(conversions: tuple[ir.UnitConversion, ...], ratio: Fraction) -> dict[str, Decimal]:
    """Per unit a field may be given in (its ``conversions``): its factor to base units ×
    ``ratio``, where that is a finite decimal no wider than the field's widest conversion factor
    (the module's doc)."""
    widest = [size(c.factor) for c in conversions]
    places, digits = max(s.scale for s in widest), max(s.digits for s in widest)
    found = {}
    for c in conversions:
        k = Fraction(c.factor) * ratio
        if not is_terminating(k):
            continue
        d = fraction_to_decimal(k)
        if size(d).scale <= places and size(d).digits <= digits:
            found[c.unit] = d
    return found


def rescaled_fields(m: ir.Methodology) -> frozenset[Key]:
    """Each (field, ratio) an emission of an unguarded rule rescales a product of that field by,
    where the ratio is no finite decimal and some unit of the field makes it one: the columns
    the ``activity`` step adds (``rescaled_col``) and the expressions read."""
    plan = exactness.plan(m)
    found: set[Key] = set()

    def walk(node: ir.Node) -> None:
        if isinstance(node, ir.Rescale) and not is_terminating(node.ratio):
            product = product_of_field(node.operand)
            if product is not None and multipliers(product[0].conversions, node.ratio):
                found.add((product[0].name, node.ratio))
        for child in ir.children(node):
            walk(child)

    for rule in m.rules:
        if not plan.guards(rule):
            for em in rule.emissions:
                walk(em.value)
    return frozenset(found)


def _factors(node: ir.Node) -> list[ir.Node]:
    """The factors of a product (``a * b * c``: a, b, c); any other node is one factor."""
    if isinstance(node, ir.Arith) and node.op == "*":
        return _factors(node.left) + _factors(node.right)
    return [node]
