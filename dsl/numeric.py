"""Exact decimal arithmetic in Python, the counterpart of PostgreSQL NUMERIC, and the limits on
the size of numbers that keep PostgreSQL's arithmetic exact (docs/numeric-semantics.md#limits).

Python's default decimal context rounds to 28 significant digits; NUMERIC does not. Every
Python-side sum or product of reported values runs under ``EXACT``, whose precision is beyond
any value PostgreSQL can hold and which traps instead of rounding, so an inexact result is an
error, never a silently different number. The reference evaluator's primitives live here too:
``div`` (``ccf.div``), ``scale`` (``compile.scale_sql``), ``round_half_away`` (``ROUND``) and
``multiply``, each giving what PostgreSQL gives to the last digit.

PostgreSQL holds at most 16,383 decimal places and 131,072 digits before the point; a product
that would need more decimal places is *rounded* to 16,383 without an error (``numeric_mul``).
``dsl/exactness.py`` proves from the sizes below that no computation of a methodology gets there.
"""

from __future__ import annotations

from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_UP,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    Subnormal,
    Underflow,
    localcontext,
)
from fractions import Fraction
from typing import Iterable, NamedTuple

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.units import fraction_to_decimal, is_terminating

PG_MAX_SCALE = 16_383  # decimal places of a NUMERIC (NUMERIC_DSCALE_MAX); a product past it is rounded
# digits before the point ccf lets a value have: PostgreSQL's 131,072, less room for the 21 digits
# ccf.div adds inside (2·|a|·10²⁰) and for sums over any number of rows
PG_MAX_DIGITS = 131_000
# Every number ccf reads as input (activity data, factor values, GWPs, rates) has at most this
# many decimal places and digits before the point. Activity data: at most 1000 characters and an
# exponent of at most three digits (engine/load/checks.py), so < 999 + 999 of either; the others are
# checked where they are installed (engine/factors/store.py, rates.py).
MAX_INPUT_DIGITS = 2_000
PRECISION = 150_000  # significant digits: more than any NUMERIC within the limits above (131,000 + 16,383)

DIV_PLACES = 20  # ccf.div rounds to 20 decimal places

# Every operation is exact or fails loudly: Inexact and Rounded are traps, not flags.
EXACT = Context(
    prec=PRECISION, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN,
    traps=[Inexact, Rounded, InvalidOperation, DivisionByZero, Overflow, Underflow, Subnormal, Clamped],
)
# round() is the one operation that rounds on purpose: half away from zero, like PostgreSQL.
ROUNDING = Context(
    prec=PRECISION, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)


class EvaluationError(CcfError):
    """A value or an IR node the reference evaluator cannot evaluate (a bug, never a data problem)."""


class Size(NamedTuple):
    """How big a NUMERIC is: its decimal places (PostgreSQL's display scale, trailing zeros
    included) and its digits before the point (at least 1)."""

    scale: int
    digits: int


def size(d: Decimal) -> Size:
    """The size of a decimal as PostgreSQL holds it (``Decimal('1.50')`` has scale 2, as NUMERIC 1.50)."""
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int), f"not a finite number: {d!r}"
    return Size(max(0, -exponent), max(1, d.adjusted() + 1) if d else 1)


def within_input_limits(d: Decimal) -> bool:
    """Whether an input number is within ``MAX_INPUT_DIGITS`` on both sides of the point."""
    s = size(d)
    return s.scale <= MAX_INPUT_DIGITS and s.digits <= MAX_INPUT_DIGITS


def plain(d: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros ('0' for zero), every digit
    kept (``Decimal.normalize`` would round to the context's 28 digits)."""
    if d == 0:
        return "0"
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def numeric_text(d: Decimal) -> str:
    """PostgreSQL's text of a NUMERIC: plain notation, with its scale (``-0`` is ``0``)."""
    text = format(d, "f")
    return text[1:] if text.startswith("-") and d == 0 else text


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of decimals (no rounding, whatever their number of digits)."""
    with localcontext(EXACT):
        total = Decimal(0)
        for v in values:
            total += v
        return total


# --- the reference evaluator's primitives (dsl/evaluate.py) ----------------------------------


def held(d: Decimal) -> Decimal:
    """``d``, which PostgreSQL must hold exactly as computed: within ``PG_MAX_SCALE`` decimal
    places and ``PG_MAX_DIGITS`` digits. Past them PostgreSQL rounds (or fails) where the
    reference evaluator would not; the exactness plan exists to keep every such row from being
    computed, so reaching one is a bug in the plan, never a data problem."""
    s = size(d)
    if s.scale > PG_MAX_SCALE or s.digits > PG_MAX_DIGITS:
        raise EvaluationError(
            f"a value with {s.scale} decimal places and {s.digits} digit(s) before the point, which PostgreSQL does not hold exactly")
    return d


def multiply(a: Decimal, b: Decimal) -> Decimal:
    """a × b exactly, as PostgreSQL computes it within its range (``held``)."""
    return held(EXACT.multiply(a, b))


def _sign(d: Decimal) -> int:
    return (d > 0) - (d < 0)


def div(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """``ccf.div(a, b)``: a ÷ b rounded half away from zero to 20 decimals; None if b is 0.

    The SQL computes ``SIGN(a)·SIGN(b)·DIV(2|a|·10²⁰ + |b|, 2|b|)·10⁻²⁰`` with exact integer
    division; here the same with Fractions, so no step can round.
    """
    if a is None or b is None or b == 0:
        return None
    sign = _sign(a) * _sign(b)
    if sign == 0:
        return Decimal(0).scaleb(-DIV_PLACES, EXACT)
    fa, fb = Fraction(a.copy_abs()), Fraction(b.copy_abs())  # abs() would round to the default context
    magnitude = (2 * fa * 10**DIV_PLACES + fb) // (2 * fb)  # floor: both operands positive
    return Decimal(sign * magnitude).scaleb(-DIV_PLACES, EXACT)


def scale(x: Decimal | None, ratio: Fraction) -> Decimal | None:
    """x × ratio exactly as ``compile.scale_sql`` writes it: a multiplication by a finite
    decimal, else ``ccf.div(x × numerator, denominator)``."""
    if x is None or ratio == 1:
        return x
    if is_terminating(ratio):
        return multiply(x, fraction_to_decimal(ratio))
    return div(multiply(x, Decimal(ratio.numerator)), Decimal(ratio.denominator))


def round_half_away(x: Decimal | None, digits: int) -> Decimal | None:
    """PostgreSQL ``ROUND(x, digits)`` on NUMERIC: half away from zero."""
    if x is None:
        return None
    return x.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=ROUNDING)
