"""Exact decimal arithmetic in Python, the counterpart of PostgreSQL NUMERIC, and the limits on
the size of numbers that keep PostgreSQL's arithmetic exact (docs/numeric-semantics.md#limits).

Python's default decimal context rounds to 28 significant digits; NUMERIC does not. Every
Python-side sum or product of reported values runs under ``EXACT``, whose precision is beyond
any value PostgreSQL can hold and which traps instead of rounding, so an inexact result is an
error, never a silently different number.

PostgreSQL holds at most 16,383 decimal places and 131,072 digits before the point; a product
that would need more decimal places is *rounded* to 16,383 without an error (``numeric_mul``).
``dsl/exactness.py`` proves from the sizes below that no computation of a methodology gets there.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded, localcontext
from typing import Iterable, NamedTuple

PG_MAX_SCALE = 16_383  # decimal places of a NUMERIC (NUMERIC_DSCALE_MAX); a product past it is rounded
# digits before the point ccf lets a value have: PostgreSQL's 131,072, less room for the 21 digits
# ccf.div adds inside (2·|a|·10²⁰) and for sums over any number of rows
PG_MAX_DIGITS = 131_000
# Every number ccf reads as input (activity data, factor values, GWPs, rates) has at most this
# many decimal places and digits before the point. Activity data: at most 1000 characters and an
# exponent of at most three digits (engine/load.py), so < 999 + 999 of either; the others are
# checked where they are installed (engine/factors/store.py, rates.py).
MAX_INPUT_DIGITS = 2_000
PRECISION = 150_000  # significant digits: more than any NUMERIC within the limits above (131,000 + 16,383)

EXACT = Context(prec=PRECISION, traps=[Inexact, Rounded, InvalidOperation])


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


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of decimals (no rounding, whatever their number of digits)."""
    with localcontext(EXACT):
        total = Decimal(0)
        for v in values:
            total += v
        return total
