"""Spend-based methods: checking currency conversions (part of stage [4], called by check.py),
and converting one row's amount as the compiled SQL does (for the reference evaluator).

A methodology's ``currency_conversions`` name amounts in any currency and price year brought
to the factor's currency and price year (e.g. EUR at 2024 prices → USD at 2022 prices). Rules
use the conversion's name like a field: a quantity of the target currency. Without one, an
amount in one currency multiplied by a factor per another currency is error E509.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Mapping

from ccf.dsl import ir
from ccf.dsl.diagnostics import did_you_mean
from ccf.dsl.expressions import Checker, Failed, Scope
from ccf.dsl.model import MethodologyFile
from ccf.dsl.numeric import EXACT, div
from ccf.dsl.units import UnitError, parse_unit, unit_names
from ccf.dsl.yaml_source import YamlDocument

_CURRENCY_BASE = re.compile(r"[A-Z]{3}")  # units.toml: one base per currency (USD, EUR, GBP)


def currencies(t: ir.Type) -> list[tuple[str, int]]:
    """The currency bases left in a type's dimension, with their exponents."""
    return [(b, e) for b, e in t.dimension if _CURRENCY_BASE.fullmatch(b) and e != 0]


def check_conversions(ck: Checker, doc: YamlDocument, spec: MethodologyFile, scope: Scope) -> tuple[ir.CurrencyConversion, ...]:
    """Check each currency conversion and make its name usable in rules."""
    out: list[ir.CurrencyConversion] = []
    for name, cv in spec.currency_conversions.items():
        path = ("currency_conversions", name)
        if name in scope.fields or name in scope.params or name in scope.lookups:
            ck.error(
                "E407", f"currency conversion '{name}' has the name of a field, parameter or factor",
                doc.key_span(path), suggestion="give the conversion another name, e.g. spend_usd",
            )
            ck.failed.add(name)
            continue
        try:
            target = parse_unit(cv.to_currency)
            if not currencies(ir.quantity(target.dimension)):
                raise UnitError(f"'{cv.to_currency}' is not a currency")
        except UnitError:
            known = [u for u in unit_names() if _CURRENCY_BASE.fullmatch(u) and currencies(ir.quantity(parse_unit(u).dimension))]
            ck.error(
                "E501", f"'{cv.to_currency}' is not a currency ccf knows (units.toml)", doc.span(path + ("to_currency",)),
                suggestion=did_you_mean(cv.to_currency, known) or "currencies: " + ", ".join(sorted(known)),
            )
            ck.failed.add(name)
            continue
        row_scope = Scope(scope.fields, dict(scope.params), {}, allow_lookups=False)
        nodes: dict[str, ir.Node] = {}
        wants = {
            "amount": ("quantity", "the amount must be a plain number (the row's currency is given by 'currency')"),
            "currency": ("text", "the currency must be text (an ISO 4217 code such as EUR)"),
            "price_year": ("quantity", "the price year must be a plain number (a year)"),
        }
        for key, (kind, words) in wants.items():
            text = getattr(cv, key)
            if text is None:  # price_year defaults to the year the activity period starts
                start = scope.fields["period_start"]
                nodes[key] = ir.Func(
                    "year", (ir.FieldRef("period_start", start.type, span=doc.key_span(path)),), ir.NUMBER, Fraction(1),
                    span=doc.key_span(path),
                )
                continue
            tree = ck.parse(str(text), path + (key,))
            if tree is None:
                continue
            try:
                node = ck.expr(tree, row_scope)
            except Failed:
                continue
            if node.type.kind not in (kind, "null") or (kind == "quantity" and node.type.dimension):
                ck.error("E503", f"{words}, but this is {node.type}", node.span)
                continue
            nodes[key] = node
        if len(nodes) < 3:
            ck.failed.add(name)
            continue
        out.append(
            ir.CurrencyConversion(
                name, nodes["amount"], nodes["currency"], nodes["price_year"], cv.to_currency, cv.to_year,
                cv.exchange_rates, cv.price_index, span=doc.key_span(path),
            )
        )
        scope.conversions[name] = ir.quantity(target.dimension)
    return tuple(out)


def conversion_refs(node: ir.Node) -> list[str]:
    """The conversions an expression uses, in source order, once each."""
    out: list[str] = []

    def walk(n: ir.Node) -> None:
        if isinstance(n, ir.ConversionRef):
            if n.conversion not in out:
                out.append(n.conversion)
            return
        for value in vars(n).values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, ir.Node):
                    walk(child)

    walk(node)
    return out


def mismatch_hint(node: ir.Node) -> tuple[str, str] | None:
    """E509's message and suggestion when emissions are left in currency units: an amount in
    one currency times a factor per another, with no conversion declared."""
    left = currencies(node.type)
    if not left:
        return None
    have = next((b for b, e in left if e > 0), None)
    per = next((b for b, e in left if e < 0), None)
    if have and per:
        message = f"an amount in {have} is multiplied by a factor per {per}: the currencies differ and no conversion is declared"
    elif per:
        message = f"a factor per {per} is multiplied by an amount without a currency: no currency conversion is declared"
    else:
        message = f"these emissions are still in {have} units: an amount in {have} needs a factor per {have}"
    target = per or have
    return message, (
        f"declare a currency conversion to {target} under 'currency_conversions' (exchange rates and a price index, "
        f"see docs/authoring.md#spend-in-any-currency) and multiply the converted amount by the factor"
    )


# --- reference evaluation (dsl/evaluate.py) ------------------------------------------------------


class RateTableValues:
    """An installed rate table as the reference evaluator sees it: values by (currency, year)."""

    def __init__(self, values: Mapping[tuple[str, int], Decimal], reference_currency: str | None = None):
        self.values = dict(values)
        self.reference_currency = reference_currency


def convert(
    cv: ir.CurrencyConversion, amount: Decimal | None, currency: object, year: object,
    tables: Mapping[str, RateTableValues],
) -> tuple[Decimal | None, str | None]:
    """(converted amount, None) or (None, why no rate): what engine/compile/currency.py's SQL gives.

    amount × (R per C)[y] × index[to_year] ÷ ((R per T)[y] × index[y]), one ``ccf.div``.
    """
    if currency is None or year is None:
        return None, f"the row has no currency or no price year for '{cv.name}'"
    assert isinstance(currency, str) and isinstance(year, Decimal)
    whole = year == year.to_integral_value()  # SQL compares the INT year column with the numeric key
    rates = tables.get(cv.exchange_rates)
    ref = rates.reference_currency if rates is not None else None

    def rate(c: str) -> Decimal | None:
        return rates.values.get((c, int(year))) if rates is not None and whole else None

    def idx(at: Decimal | int) -> Decimal | None:
        index = tables.get(cv.price_index) if cv.price_index else None
        return index.values.get((cv.to_currency, int(at))) if index is not None and at == int(at) else None

    same = currency == cv.to_currency
    from_rate = Decimal(1) if same or currency == ref else rate(currency)
    to_rate = Decimal(1) if same or cv.to_currency == ref else rate(cv.to_currency)
    same_year = year == cv.to_year
    index_y = Decimal(1) if same_year else idx(year)
    index_t = Decimal(1) if same_year else idx(cv.to_year)
    where = f" in rate table {cv.exchange_rates}"
    no_index = f" in rate table {cv.price_index}" if cv.price_index else f": '{cv.name}' declares no price index"
    if from_rate is None:
        return None, f"no exchange rate for {currency} in {_year_text(year)}{where}"
    if to_rate is None:
        return None, f"no exchange rate for {cv.to_currency} in {_year_text(year)}{where}"
    if index_y is None:
        return None, f"no price index for {cv.to_currency} in {_year_text(year)}{no_index}"
    if index_t is None:
        return None, f"no price index for {cv.to_currency} in {cv.to_year}{no_index}"
    if amount is None:
        return None, None
    numerator = EXACT.multiply(from_rate, index_t)
    denominator = EXACT.multiply(to_rate, index_y)
    return div(EXACT.multiply(amount, numerator), denominator), None


def _year_text(year: Decimal) -> str:
    """A year as PostgreSQL's CAST(numeric AS TEXT) shows it: NUMERIC has no negative zero, so
    -0.0 shows as 0.0."""
    return format(year.copy_abs() if year.is_zero() else year, "f")
