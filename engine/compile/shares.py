"""The totals of ``share()`` in SQL: one window sum per share over the run's activity rows.

A methodology whose rules read ``share(quantity, key, …)`` (``ir.Share``) starts its ``evaluate``
statement with ``activity_rows`` (the ``activity`` step, activity.py) and then an ``activity``
step that adds, per share, the total of its quantity over the rows with the same keys:
``SUM(quantity) OVER (PARTITION BY keys)``, kept only where the total is positive and no row of
the key has a negative quantity (``MIN(quantity) OVER … >= 0``), else NULL. A share is then
``ccf.div(quantity, total)`` (expressions.py), and a rule whose emissions read a share without a
total leaves the row unmatched, ``no_total`` (evaluate.py). Every other methodology compiles
exactly as before. The Python reference is dsl/shares.py.
"""

from __future__ import annotations

from sqlglot import exp

from ccf.dsl import ir
from ccf.engine.compile.activity import activity_cte, once
from ccf.engine.compile.expressions import ExpressionCompiler, numeric, total_col
from ccf.engine.sql import column, ident

ROWS = "activity_rows"


def activity_ctes(m: ir.Methodology) -> list[tuple[str, exp.Expression]]:
    """``activity_rows``, then ``activity``: the rows with each share's total."""
    row = ExpressionCompiler("s")
    cols: list[exp.Expression] = [exp.Column(this=exp.Star(), table=ident("s"))]
    for share in ir.methodology_shares(m):
        window = lambda agg: exp.Window(this=agg, partition_by=[row(k) for k in share.keys])  # noqa: E731
        quantity = numeric(share.quantity, row(share.quantity))
        positive = exp.and_(
            exp.GTE(this=window(exp.Min(this=quantity.copy())), expression=exp.Literal.number(0)),
            exp.GT(this=window(exp.Sum(this=quantity.copy())), expression=exp.Literal.number(0)),
        )
        total = exp.Case(ifs=[exp.If(this=positive, true=window(exp.Sum(this=quantity.copy())))])
        cols.append(exp.alias_(total, total_col(share)))
    shared = exp.select(*cols).from_(exp.Table(this=ident(ROWS), alias=exp.TableAlias(this=ident("s"))))
    return [(ROWS, activity_cte(m)), ("activity", once(shared))]


def columns(m: ir.Methodology, alias: str) -> list[exp.Expression]:
    """The share totals, carried from the row into ``evaluated`` (``checked`` reads them)."""
    return [column(total_col(s), alias) for s in ir.methodology_shares(m)]


def missing(rule: ir.Rule, alias: str) -> list[tuple[exp.Expression, str]]:
    """(condition, problem) per share of a rule's emissions, in source order: its total is NULL."""
    shares = dict.fromkeys(s for em in rule.emissions for s in ir.share_refs(em.value))
    return [(exp.Is(this=column(total_col(s), alias), expression=exp.Null()), f"no_total:{total_col(s)}") for s in shares]
