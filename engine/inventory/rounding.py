"""Display rounding for inventory reports: the only place their figures are rounded.

The rule (docs/reporting.md#rounding):

- Emissions are shown in tonnes CO2e with three decimals (to the whole kg), rounded half away
  from zero: 1.2345 t -> 1.235 t, -1.2345 t -> -1.235 t.
- Shares are shown in percent with one decimal, rounded half away from zero, from the exact
  ratio (a ``Fraction``), never from rounded figures.
- Every figure is the rounding of its own exact value. A table's total is the rounding of the
  exact total, so the displayed rows may not add up to it; the difference is shown as an
  explicit "rounding" line (total minus the sum of the displayed rows), so every column adds up
  as printed.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Iterable

from ccf.dsl.numeric import EXACT

T_PLACES = Decimal("0.001")  # tonnes to three decimals: the whole kg
PERCENT_PLACES = Decimal("0.1")
# Decimal's ROUND_HALF_UP rounds ties away from zero (-0.0005 -> -0.001). Unbounded precision
# and exponent range: a NUMERIC figure can have 131,072 digits, and a context of any fixed
# precision would refuse to quantize one beyond it (Python's default, 28 digits, fails from
# 1e25 kg at three decimals). Only invalid operations trap: rounding here is intended.
_DISPLAY = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, rounding=ROUND_HALF_UP, traps=[InvalidOperation])


def tonnes(kg: Decimal) -> Decimal:
    """kg CO2e as displayed tonnes: exact kg / 1000, half away from zero to 0.001 t."""
    with localcontext(_DISPLAY):
        t = kg.scaleb(-3)
    t = round_half_away(t, T_PLACES)
    return t.copy_abs() if t == 0 else t  # never '-0.000'


def round_half_away(d: Decimal, places: Decimal) -> Decimal:
    """d rounded half away from zero to a decimal quantum such as 0.001, at any magnitude."""
    with localcontext(_DISPLAY):
        return d.quantize(places)


def percent(part: Decimal | Fraction, whole: Decimal | Fraction) -> Decimal | None:
    """part / whole in percent to one decimal, half away from zero; None when whole is 0."""
    if whole == 0:
        return None
    return round_fraction(Fraction(part) / Fraction(whole) * 100, PERCENT_PLACES)


def round_fraction(x: Fraction, places: Decimal) -> Decimal:
    """An exact rational rounded half away from zero to a decimal quantum such as 0.1."""
    exponent = places.as_tuple().exponent
    assert isinstance(exponent, int)
    scaled = abs(x) * Fraction(10) ** -exponent
    units = int(scaled + Fraction(1, 2))  # floor(|x|·10^k + ½): half away from zero
    with localcontext(_DISPLAY):  # scaleb under the default context would round to 28 digits
        value = Decimal(units).scaleb(exponent)
        return (-value if x < 0 and units else value).quantize(places)


def rounding_line(total: Decimal, parts: Iterable[Decimal]) -> Decimal:
    """Displayed total minus the sum of the displayed parts (0 when they add up)."""
    with localcontext(EXACT):
        out = total
        for p in parts:
            out -= p
        return out


def exact_difference(a: Decimal, b: Decimal) -> Decimal:
    """a - b, exactly (Python's default context would round at 28 digits)."""
    with localcontext(EXACT):
        return a - b


def fixed(d: Decimal | None) -> str | None:
    """A displayed figure as JSON/CSV text: fixed decimals, no separators; None stays None."""
    return None if d is None else format(d, "f")


def grouped(text: str | None) -> str:
    """A figure's text with thousands separators for people: '1118346.119' -> '1,118,346.119'.
    Grouped as text: int() refuses more than 4,300 digits, and a figure may have more."""
    if text is None:
        return "—"
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    head = len(whole) % 3 or 3
    whole = ",".join([whole[:head], *(whole[i:i + 3] for i in range(head, len(whole), 3))])
    return sign + whole + (f".{frac}" if frac else "")
