"""Emission intensities: the report's totals per a denominator the organisation supplies.

A denominator is a name, an amount and a unit: ``revenue=1200000000:USD``, ``fte=5400:FTE``,
``units_produced=2400000`` (``ccf report --denominator``, docs/reporting.md#intensities). It is
checked once, here, with messages in the user's words. An intensity is an exact total divided
by the amount as every ``/`` of ccf divides (``dsl.numeric.div``: half away from zero at the
20th decimal, docs/numeric-semantics.md#division), and displayed rounded once from the exact
ratio: per million of a currency in t CO2e, per any other unit in kg CO2e.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import EXACT, div, plain
from ccf.dsl.units import UnitError, parse_unit
from ccf.engine.inventory.rounding import fixed, round_fraction

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CURRENCY = re.compile(r"[A-Z]{3}")  # an ISO 4217 code: USD, EUR, GBP
_UNIT = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_AMOUNT = re.compile(r"\d+(\.\d+)?")  # digits, no sign, exponent or separators: what a ledger shows
DISPLAY_PLACES = Decimal("0.001")


class DenominatorError(CcfError):
    """A denominator the report cannot use, in the user's words."""


@dataclass(frozen=True)
class Denominator:
    """An amount the organisation reports per period: revenue in a currency, units, FTE."""

    name: str
    amount: Decimal
    unit: str  # an ISO 4217 currency code, another unit word, or "" for a plain count

    @property
    def currency(self) -> bool:
        """An ISO 4217 code: a currency of ccf's units (USD, GBP) or three capital letters that
        are no other unit of ccf's (FTE is a count)."""
        return bool(_CURRENCY.fullmatch(self.unit)) and _dimension(self.unit) in (None, ((self.unit, 1),))

    @property
    def per(self) -> str:
        """What the intensity is stated per, in words."""
        if self.currency:
            return f"t CO2e per million {self.unit}"
        return f"kg CO2e per {self.unit or self.name.replace('_', ' ')}"


def _dimension(word: str) -> tuple | None:
    """The dimension of a unit of ccf's (a currency is its own dimension); None for another word."""
    try:
        return parse_unit(word).dimension
    except UnitError:
        return None


def parse_denominator(text: str, where: str = "--denominator") -> Denominator:
    """``NAME=AMOUNT[:UNIT]`` as the command line gives it, checked; ``where`` names its place
    in the user's words (the option, or the key of ccf.yaml)."""
    example = "e.g. revenue=1200000000:USD, fte=5400:FTE or units_produced=2400000"
    name, eq, rest = text.partition("=")
    name = name.strip()
    if not eq or not name:
        raise DenominatorError(f"{where} {text!r}: write NAME=AMOUNT or NAME=AMOUNT:UNIT, {example}")
    if not _NAME.fullmatch(name):
        raise DenominatorError(f"{where} {text!r}: the name {name!r} must be small letters, digits and _ "
                               f"(starting with a letter), {example}")
    amount_text, _, unit = (s.strip() for s in rest.partition(":"))
    if not _AMOUNT.fullmatch(amount_text):
        raise DenominatorError(f"{where} {text!r}: the amount {amount_text!r} must be written as digits, "
                               f"with a decimal point if needed and no thousands separators or exponent, {example}")
    amount = Decimal(amount_text)
    if amount == 0:
        raise DenominatorError(f"{where} {text!r}: the amount is 0; an intensity per nothing has no value")
    if unit and not _UNIT.fullmatch(unit):
        raise DenominatorError(f"{where} {text!r}: the unit {unit!r} must be a currency code (USD, EUR) or a word "
                               f"such as FTE or tonne, {example}")
    return Denominator(name, amount, unit)


def check_denominators(denominators: list[Denominator]) -> None:
    """Each name once."""
    seen: set[str] = set()
    for d in denominators:
        if d.name in seen:
            raise DenominatorError(f"--denominator {d.name} is given twice; give each denominator once")
        seen.add(d.name)


def intensity(kg: Decimal, d: Denominator) -> dict:
    """kg CO2e per the denominator: the exact quotient at 20 decimals and its displayed rounding."""
    # per million of a currency, in t: kg / 1000 / (amount / 10^6) = kg × 1000 / amount
    # (EXACT: Python's default context would round the product to 28 digits)
    numerator = EXACT.multiply(kg, Decimal(1000)) if d.currency else kg
    exact = div(numerator, d.amount)
    shown = round_fraction(Fraction(numerator) / Fraction(d.amount), DISPLAY_PLACES)
    return {"intensity_exact": plain(exact) if exact is not None else None, "intensity_shown": fixed(shown)}


def intensities_document(denominators: list[Denominator], bases: list[str], totals: dict[str, Decimal],
                         scopes: dict[str, dict[str, Decimal]]) -> list[dict]:
    """One entry per denominator: the total and each scope per its unit, per Scope 2 basis.

    ``totals``: basis -> exact kg; ``scopes``: basis -> scope key (``scope1``…) -> exact kg."""
    out = []
    for d in denominators:
        values = {}
        for b in bases:
            values[b] = {"total": intensity(totals[b], d),
                         "scopes": {s: intensity(kg, d) for s, kg in sorted(scopes.get(b, {}).items())}}
        out.append({"key": d.name, "name": d.name, "amount": plain(d.amount), "unit": d.unit, "per": d.per,
                    "values": values,
                    "rounding": (f"exact: the total in kg{' × 1000' if d.currency else ''} ÷ {plain(d.amount)}, "
                                 f"half away from zero at the 20th decimal; shown: the exact ratio rounded half away "
                                 f"from zero to {DISPLAY_PLACES} {d.per}")})
    return out
