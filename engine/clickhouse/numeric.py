"""Exact decimal arithmetic on ClickHouse: the types of ccf's numbers there, the building blocks
its SQL is made of, and the sizes that prove, before anything runs, that none of them overflows.

ClickHouse's ``Decimal(P, S)`` has a fixed scale per column and at most 76 digits (Decimal256);
unlike PostgreSQL's NUMERIC it does not fail when a product or a sum needs more: an integer
overflow wraps around silently, a product keeps the sum of its operands' scales (an error past
76), and decimal division truncates. So (docs/numeric-semantics.md#clickhouse):

- every number is a ``Decimal(76, S)``; ``S`` is exactly what ClickHouse gives the expression
  (``*`` adds scales, ``+``/``-``, ``if``, ``coalesce``, ``least``/``greatest`` take the larger,
  ``round``, ``abs`` and ``-`` keep it), and a literal is ``toDecimal256('<text>', <its places>)``;
- ``div`` is ``ccf.div`` on the raw integers (``reinterpret`` as Int256/UInt256): half away from
  zero at 20 places, the quotient of two exact integers, never ClickHouse's truncating ``/``;
- a ``Size`` (``dsl.numeric.Size``: scale and digits before the point) goes with every
  expression: a number is held exactly when its scale plus its digits is at most 76, and
  ``Sizes.fits`` turns False as soon as one intermediate value (a ``div``'s integers included)
  could need more. A run's input sizes are those of its data (the widest activity value, factor
  and GWP it reads), so a run is proven before it starts, or refused (``ClickHouseInexact``).
"""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import DIV_PLACES, Size, size
from ccf.engine.sql import text

PRECISION = 76  # digits of a Decimal256, and of the Int256 a division works on
SUM_DIGITS = 12  # a sum over at most 10^12 rows carries at most 12 more digits than its terms


class ClickHouseInexact(CcfError):
    """A computation that ClickHouse's 76-digit decimals would not hold exactly for this run's
    inputs: the run is refused rather than given a wrapped-around or truncated number."""


def literal(value: Decimal) -> tuple[exp.Expression, Size]:
    """A number as ClickHouse's exact decimal of its own scale (never a Float64 literal)."""
    s = size(value)
    return exp.Anonymous(this="toDecimal256", expressions=[text(format(value, "f")), exp.Literal.number(s.scale)]), s


def holds(s: Size, headroom: int = 0) -> bool:
    """Whether a value of this size (plus ``headroom`` digits) is exact in a Decimal256 or Int256."""
    return s.scale <= PRECISION and s.scale + s.digits + headroom <= PRECISION


def times(a: Size, b: Size) -> Size:
    return Size(a.scale + b.scale, a.digits + b.digits)


def plus(a: Size, b: Size) -> Size:
    return Size(max(a.scale, b.scale), max(a.digits, b.digits) + 1)


def widest(*sizes: Size | None) -> Size | None:
    present = [s for s in sizes if s is not None]
    return Size(max(s.scale for s in present), max(s.digits for s in present)) if present else None


def _ten(power: int) -> exp.Expression:
    return exp.Anonymous(this="toUInt256", expressions=[text("1" + "0" * power)])


def _raw(e: exp.Expression) -> exp.Expression:
    """The integer a decimal holds (x · 10^scale), as Int256: nothing rounded, nothing converted."""
    return exp.Anonymous(this="reinterpret", expressions=[e, text("Int256")])


def div(a: exp.Expression, sa: Size, b: exp.Expression, sb: Size,
        divisor_at_least: Decimal | None = None, known: Decimal | None = None) -> tuple[exp.Expression, Size, bool]:
    """``ccf.div(a, b)``: a ÷ b rounded half away from zero to 20 places (NULL for b = 0), the
    size of the quotient, and whether every integer it computes with is held exactly.

    With A, B the raw integers of a (scale sa) and b (scale sb), the quotient times 10^20 is
    A·10^k / B for k = sb − sa + 20; half away from zero it is
    sign(A)·sign(B)·⌊(2|A|·10^k + |B|) / (2|B|)⌋ (for k < 0 both sides are multiplied by 10^−k),
    computed in UInt256 and read back as a Decimal(76, 20).

    ``known``: b's value where b is a literal (a unit conversion's denominator): its integer, sign
    and non-zero test are written as constants, which makes the statement smaller for ClickHouse
    to analyse (each ``reinterpret`` of b and the ``if`` go); the same value."""
    k = sb.scale - sa.scale + DIV_PLACES
    out, exact = div_size(sa, sb, divisor_at_least)
    folded = known is not None and known != 0
    abs_a = exp.Anonymous(this="abs", expressions=[_raw(a)])
    if folded:
        assert known is not None
        raw_b = int(known.scaleb(sb.scale))  # the integer b holds at its scale, exactly
        assert raw_b == known.scaleb(sb.scale)
        abs_b = exp.Anonymous(this="toUInt256", expressions=[text(str(abs(raw_b)))])
    else:
        abs_b = exp.Anonymous(this="abs", expressions=[_raw(b)])
    two = lambda e: exp.Mul(this=exp.Anonymous(this="toUInt256", expressions=[exp.Literal.number(2)]), expression=e)  # noqa: E731
    if folded:
        den: exp.Expression = exp.Anonymous(this="toUInt256", expressions=[text(str(2 * abs(raw_b) * 10 ** max(-k, 0)))])
        num = exp.Add(this=two(exp.Mul(this=abs_a, expression=_ten(k))), expression=abs_b) if k >= 0 else \
            exp.Add(this=two(abs_a), expression=exp.Anonymous(this="toUInt256", expressions=[text(str(abs(raw_b) * 10 ** -k))]))
    elif k >= 0:
        num = exp.Add(this=two(exp.Mul(this=abs_a, expression=_ten(k))), expression=abs_b)
        den = two(abs_b.copy())
    else:
        num = exp.Add(this=two(abs_a), expression=exp.Mul(this=abs_b, expression=_ten(-k)))
        den = two(exp.Mul(this=abs_b.copy(), expression=_ten(-k)))
    # a zero divisor gives NULL; ClickHouse evaluates both branches of if(), so it never divides by 0
    quotient = exp.Anonymous(this="intDiv", expressions=[num, den if folded else exp.Anonymous(this="greatest", expressions=[den, _ten(0)])])
    sign_a = exp.Anonymous(this="sign", expressions=[_raw(a.copy())])
    if folded:
        signs: exp.Expression = sign_a if raw_b > 0 else exp.Neg(this=sign_a)
    else:
        signs = exp.Mul(this=sign_a, expression=exp.Anonymous(this="sign", expressions=[_raw(b.copy())]))
    signed = exp.Mul(this=exp.Anonymous(this="toInt256", expressions=[quotient]), expression=exp.Paren(this=signs))
    value = exp.Anonymous(this="reinterpret", expressions=[signed, text(f"Decimal(76, {DIV_PLACES})")])
    if folded:
        return value, out, exact
    zero = exp.EQ(this=b.copy(), expression=exp.Literal.number(0))
    result = exp.Anonymous(this="if", expressions=[zero, exp.Null(), value])
    return result, out, exact


def div_size(sa: Size, sb: Size, divisor_at_least: Decimal | None = None) -> tuple[Size, bool]:
    """The size of ``div(a, b)``'s quotient, and whether the integers it computes with (the
    numerator 2|A|·10^k + |B| or 2|A| + |B|·10^−k, and the denominator) hold in 76 digits.
    A non-zero b is at least 10^−sb, so |a/b| ≤ |a|·10^sb; a divisor known to be at least
    ``divisor_at_least`` (a literal, a unit's scale) bounds the quotient more tightly."""
    k = sb.scale - sa.scale + DIV_PLACES
    widest_int = max(sa.digits + sa.scale + max(k, 0), sb.digits + sb.scale + max(-k, 0))
    shift = sb.scale if divisor_at_least is None else -divisor_at_least.adjusted()  # 10^adjusted ≤ divisor
    out = Size(DIV_PLACES, max(sa.digits + shift + 1, 1))
    return out, widest_int + 1 <= PRECISION and holds(out)


__all__ = ["ClickHouseInexact", "PRECISION", "SUM_DIGITS", "div", "div_size", "holds", "literal", "plus", "times", "widest"]
