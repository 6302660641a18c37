"""Exact decimal arithmetic in Python, the counterpart of PostgreSQL NUMERIC.

Python's default decimal context rounds to 28 significant digits; NUMERIC does not. Every
Python-side sum or product of reported values runs under ``EXACT``, whose precision is far
beyond any value ccf produces and which traps instead of rounding, so an inexact result is an
error, never a silently different number.
"""

from __future__ import annotations

from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded, localcontext
from typing import Iterable

EXACT = Context(prec=100_000, traps=[Inexact, Rounded, InvalidOperation])


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of decimals (no rounding, whatever their number of digits)."""
    with localcontext(EXACT):
        total = Decimal(0)
        for v in values:
            total += v
        return total
