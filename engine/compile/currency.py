"""Spend-based currency conversion lowered to SQL: the conversion steps of the evaluate statement.

A conversion is resolved once per distinct (currency, price year) key of the dataset, never per
activity row, like a factor lookup:

``conversion_<name>_keys``  the distinct (currency, year) keys the rows carry;
``conversion_<name>``       per key: the exchange rates and price indices found, the exact
                            multiplier as a numerator and a denominator, a provenance note, and
                            why it is missing (which currency, which year, which table).

The row's converted amount is ``ccf.div(amount × numerator, denominator)``: one exact division
per row (docs/numeric-semantics.md#division). Order of operations: convert at the exchange rate
of the price year, then deflate with the target currency's price index
(docs/methodologies.md#currency-and-inflation):

    amount_T = amount × (R per C)[y] / (R per T)[y] × index_T[to_year] / index_T[y]

where R is the exchange-rate table's reference currency (its own rate is 1), and a row already
in T (or priced in ``to_year``) needs no rate (or no index).
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.currency import conversion_refs
from ccf.engine.sql import column, func, ident, number, table, text

Compile = Callable[[ir.Node], exp.Expression]


def value_col(cv: str) -> str:
    return f"{cv}__value"


def missing_col(cv: str) -> str:
    return f"{cv}__missing"


def note_col(cv: str) -> str:
    return f"{cv}__note"


def _rate(alias: str, table_alias: str, currency: exp.Expression, year: exp.Expression) -> exp.Expression:
    """ON condition of a LEFT JOIN to ccf.rate for one currency and year of one table."""
    return exp.and_(
        exp.EQ(this=column("rate_table_id", alias), expression=column("rate_table_id", table_alias)),
        exp.EQ(this=column("currency", alias), expression=currency),
        exp.EQ(this=column("year", alias), expression=year),
    )


def _text(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("TEXT"))


def conversion_ctes(cv: ir.CurrencyConversion, row: Compile) -> list[tuple[str, exp.Expression]]:
    """The two CTEs of one conversion; ``row`` compiles an expression over ``activity a``."""
    keys = (
        exp.select(exp.alias_(row(cv.currency), "key_currency"), exp.alias_(row(cv.price_year), "key_year"))
        .distinct()
        .from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a"))))
    )
    c, y = column("key_currency", "k"), column("key_year", "k")
    target, to_year = text(cv.to_currency), exp.Literal.number(cv.to_year)
    ref = column("reference_currency", "xt")
    same = exp.EQ(this=c.copy(), expression=target.copy())
    # rates: reference units per unit; the reference currency is 1, and so is any row already in T
    from_rate = exp.Case(
        ifs=[exp.If(this=exp.or_(same.copy(), exp.EQ(this=c.copy(), expression=ref.copy())), true=number(1))],
        default=column("value", "xc"),
    )
    to_rate = exp.Case(
        ifs=[exp.If(this=exp.or_(same.copy(), exp.EQ(this=target.copy(), expression=ref.copy())), true=number(1))],
        default=column("value", "xtgt"),
    )
    same_year = exp.EQ(this=y.copy(), expression=to_year.copy())
    index_y = exp.Case(ifs=[exp.If(this=same_year.copy(), true=number(1))], default=column("value", "py") if cv.price_index else None)
    index_t = exp.Case(ifs=[exp.If(this=same_year.copy(), true=number(1))], default=column("value", "pt") if cv.price_index else None)
    numerator = exp.Mul(this=from_rate, expression=index_t)
    denominator = exp.Mul(this=to_rate, expression=index_y)

    def why(what: str, currency: exp.Expression, year: exp.Expression, table_id: str | None) -> exp.Expression:
        where = f" in rate table {table_id}" if table_id else f": '{cv.name}' declares no price index"
        return exp.Concat(expressions=[text(f"no {what} for "), currency, text(" in "), _text(year), text(where)])

    missing = exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=c.copy(), expression=exp.Null()), true=text(f"the row has no currency for '{cv.name}'")),
            exp.If(this=exp.Is(this=y.copy(), expression=exp.Null()), true=text(f"the row has no price year for '{cv.name}'")),
            exp.If(this=exp.Is(this=from_rate.copy(), expression=exp.Null()), true=why("exchange rate", c.copy(), y.copy(), cv.exchange_rates)),
            exp.If(this=exp.Is(this=to_rate.copy(), expression=exp.Null()), true=why("exchange rate", target.copy(), y.copy(), cv.exchange_rates)),
            exp.If(this=exp.Is(this=index_y.copy(), expression=exp.Null()), true=why("price index", target.copy(), y.copy(), cv.price_index)),
            exp.If(this=exp.Is(this=index_t.copy(), expression=exp.Null()), true=why("price index", target.copy(), to_year.copy(), cv.price_index)),
        ]
    )
    exchange_note = exp.Case(
        ifs=[exp.If(this=same.copy(), true=exp.Null())],
        default=exp.Concat(
            expressions=[
                text("exchange rate "), _text(from_rate.copy()), text(" "), ref.copy(), text(" per "), c.copy(),
                exp.Case(
                    ifs=[exp.If(
                        this=exp.NEQ(this=target.copy(), expression=ref.copy()),
                        true=exp.Concat(expressions=[text(", ÷ "), _text(to_rate.copy()), text(" "), ref.copy(), text(f" per {cv.to_currency}")]),
                    )],
                    default=text(""),
                ),
                text(f" ({cv.exchange_rates}, "), _text(y.copy()), text(")"),
            ]
        ),
    )
    index_note = exp.Case(
        ifs=[exp.If(this=same_year.copy(), true=exp.Null())],
        default=exp.Concat(
            expressions=[
                text(f"price index {cv.to_currency} {cv.to_year} "), _text(index_t.copy()), text(" ÷ "), _text(y.copy()),
                text(" "), _text(index_y.copy()), text(f" ({cv.price_index})"),
            ]
        ),
    )
    note = exp.Concat(
        expressions=[
            text(f"{cv.name}: "), c.copy(), text(" "), _text(y.copy()), text(f" → {cv.to_currency} {cv.to_year}"),
            exp.Coalesce(
                this=exp.Concat(
                    expressions=[text(": "), exp.Nullif(this=exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), exchange_note, index_note]), expression=text(""))]
                ),
                expressions=[text(" (no conversion needed)")],
            ),
        ]
    )
    q = exp.select(
        c.copy(), y.copy(),
        exp.alias_(numerator, "numerator"),
        exp.alias_(denominator, "denominator"),
        exp.alias_(missing, "missing"),
        exp.alias_(note, "note"),
    ).from_(exp.Table(this=ident(f"conversion_{cv.name}_keys"), alias=exp.TableAlias(this=ident("k"))))
    on_table = lambda alias, table_id, kind: exp.and_(  # noqa: E731
        exp.EQ(this=column("table_id", alias), expression=text(table_id)),
        exp.EQ(this=column("kind", alias), expression=text(kind)),
    )
    q = q.join(table("rate_table", alias="xt"), on=on_table("xt", cv.exchange_rates, "exchange_rate"), join_type="left")
    q = q.join(table("rate", alias="xc"), on=_rate("xc", "xt", c.copy(), y.copy()), join_type="left")
    q = q.join(table("rate", alias="xtgt"), on=_rate("xtgt", "xt", target.copy(), y.copy()), join_type="left")
    if cv.price_index:
        q = q.join(table("rate_table", alias="pit"), on=on_table("pit", cv.price_index, "price_index"), join_type="left")
        q = q.join(table("rate", alias="py"), on=_rate("py", "pit", target.copy(), y.copy()), join_type="left")
        q = q.join(table("rate", alias="pt"), on=_rate("pt", "pit", target.copy(), to_year.copy()), join_type="left")
    return [(f"conversion_{cv.name}_keys", keys), (f"conversion_{cv.name}", q)]


def join_conversion(q: exp.Select, cv: ir.CurrencyConversion, row: Compile) -> exp.Select:
    """The ``joined`` CTE with one conversion: the converted amount, its note and what is missing."""
    alias = f"cv_{cv.name}"
    converted = func(
        "div",
        exp.Mul(this=exp.Paren(this=row(cv.amount)), expression=column("numerator", alias)),
        column("denominator", alias),
        schema="ccf",
    )
    missing = exp.Case(
        ifs=[
            exp.If(
                this=exp.Is(this=column("key_currency", alias), expression=exp.Null()),
                true=text(f"the row has no currency or no price year for '{cv.name}'"),
            )
        ],
        default=column("missing", alias),
    )
    q = q.select(
        exp.alias_(converted, value_col(cv.name)),
        exp.alias_(missing, missing_col(cv.name)),
        exp.alias_(column("note", alias), note_col(cv.name)),
    )
    on = exp.and_(
        exp.EQ(this=row(cv.currency), expression=column("key_currency", alias)),
        exp.EQ(this=row(cv.price_year), expression=column("key_year", alias)),
    )
    return q.join(exp.Table(this=ident(f"conversion_{cv.name}"), alias=exp.TableAlias(this=ident(alias))), on=on, join_type="left")


__all__ = ["conversion_ctes", "conversion_refs", "join_conversion", "missing_col", "note_col", "value_col"]
