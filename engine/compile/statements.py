"""The statements after ``evaluate``: each reads ``ccf_eval`` (evaluate.py) and writes or counts.

``results``    INSERT INTO ccf.result: one row per activity row and gas with a value;
``excluded``   INSERT INTO ccf.excluded;
``unmatched``  INSERT INTO ccf.unmatched, with a reason code and a sentence;
``reconcile``  SELECT the counts that must balance, and the run's kg CO2e per gas;
``cleanup``    DROP TABLE ccf_eval.
"""

from __future__ import annotations

from sqlglot import exp

from ccf.dsl import exactness, ir
from ccf.dsl.evaluate import BAD_DATA_QUALITY
from ccf.dsl.model import DATA_QUALITY
from ccf.dsl.shares import no_total_reason
from ccf.engine.compile import currency
from ccf.engine.compile.activity import activity_table_name, of_run_loads
from ccf.engine.compile.evaluate import (
    EVAL, by_mass_gases, gases, names_sources, one_factor_gases, scores_rows, typed_null,
)
from ccf.engine.compile.expressions import lookup_col, total_col
from ccf.engine.compile.lookups import key_columns
from ccf.engine.sql import column, ident, param, table, text


def results(m: ir.Methodology) -> exp.Expression:
    """One result row per gas with a value, for each row whose outcome is 'result'.

    One SELECT per gas over ``ccf_eval``, joined by UNION ALL: three plain scans of the
    evaluated rows are cheaper than one scan with a per-row ``LATERAL (VALUES …)`` unpivot
    (docs/performance.md). With no gas (every rule excludes) one SELECT of typed NULLs that
    no row passes, so the statement keeps its shape."""
    emitted = gases(m)
    one_factor = one_factor_gases(m)
    by_mass = by_mass_gases(m)
    other_sets = names_sources(m)  # another set, or an instrument, is the source: each row names it
    target_cols = [
        "run_id", "methodology_id", "activity_id", "entity", "period_start", "rule_id",
        "gas", "gas_kg", "gwp", "co2e_kg", "factor_ids", "match_level", "unit_conversion", "data_quality",
    ]
    if m.instruments is not None:  # each part names the instrument it used
        target_cols.append("instrument_id")
    if other_sets:  # NULL: the methodology's own factor set (ccf.result_provenance)
        target_cols.append("factor_set")
    e = lambda name: column(name, "e")  # noqa: E731

    def per_gas(gas: str | None) -> exp.Select:
        """The result rows of one gas; ``None``: typed NULLs and a false filter (no gas)."""

        def value(suffix: str, sql_type: str) -> exp.Expression:
            return e(f"{gas.lower()}_{suffix}") if gas is not None else typed_null(sql_type)

        def weighed(suffix: str) -> exp.Expression:
            """The gas's mass or GWP: NULL for a gas no rule gives by mass (ccf_eval has no column)."""
            return value(suffix, "NUMERIC") if gas in by_mass else typed_null("NUMERIC")

        factor_ids = (
            exp.Array(expressions=[value("factor_id", "TEXT")]) if gas in one_factor else value("factor_ids", "TEXT[]")
        )
        cols: list[exp.Expression] = [
            param("run_id"), text(m.id), e("activity_id"), e("entity"), e("period_start"), e("rule_id"),
            text(gas) if gas is not None else typed_null("TEXT"), weighed("kg"), weighed("gwp"),
            value("co2e_kg", "NUMERIC"), factor_ids, value("match_level", "TEXT"), e("unit_conversion"),
            # a whole number 1-5 by now (the load's check, or the problem bad_data_quality)
            exp.Cast(this=e("data_quality"), to=exp.DataType.build("SMALLINT")),
        ]
        if m.instruments is not None:
            cols.append(e("instrument_id"))
        if other_sets:
            cols.append(value("factor_set", "TEXT"))
        has_value = exp.Not(this=exp.Is(this=value("co2e_kg", "NUMERIC"), expression=exp.Null())) if gas is not None else exp.false()
        return (
            exp.select(*cols)
            .from_(exp.Table(this=ident(EVAL), alias=exp.TableAlias(this=ident("e"))))
            .where(exp.and_(exp.EQ(this=e("outcome"), expression=text("result")), has_value))
        )

    selects = [per_gas(gas) for gas in emitted] or [per_gas(None)]
    q: exp.Query = selects[0]
    for other in selects[1:]:
        q = exp.union(q, other, distinct=False)
    return _insert("result", target_cols, q)


def _insert(target: str, cols: list[str], q: exp.Query) -> exp.Expression:
    return exp.insert(q, exp.Schema(this=table(target), expressions=[ident(c) for c in cols]))


def excluded(m: ir.Methodology) -> exp.Expression:
    q = (
        exp.select(param("run_id"), text(m.id), column("activity_id", "e"), column("rule_id", "e"), column("exclude_reason", "e"))
        .from_(exp.Table(this=ident(EVAL), alias=exp.TableAlias(this=ident("e"))))
        .where(exp.EQ(this=column("outcome", "e"), expression=text("excluded")))
    )
    return _insert("excluded", ["run_id", "methodology_id", "activity_id", "rule_id", "reason"], q)


def unmatched(m: ir.Methodology) -> exp.Expression:
    """Unmatched rows with a reason code and a sentence an auditor can act on."""
    problem = column("problem", "e")
    code = exp.Case(
        ifs=[exp.If(this=exp.EQ(this=column("rule_no", "e"), expression=exp.Literal.number(0)), true=text("no_rule"))],
        default=exp.Anonymous(this="SPLIT_PART", expressions=[problem, text(":"), exp.Literal.number(1)]),
    )
    reasons = {
        "no_factor": "no emission factor found for lookup '{}'",
        "ambiguous_factor": "more than one emission factor matches lookup '{}'",
    }
    lookup_ifs = []
    for lk in m.lookups:
        fixed = ", ".join(f"{a} = '{v}'" for a, v in lk.select)
        for kind, template in reasons.items():
            parts: list[exp.Expression] = [
                text(template.format(lk.name) + f" in {lk.factor_set or m.factor_set} per {lk.per} ({fixed}")
            ]
            for col, _ in key_columns(lk):  # the row's own key values, as the lookup saw them
                name = col[4:]
                key = column(lookup_col(lk.name, "key", f"_{name}"), "e")
                shown = exp.DPipe(this=exp.DPipe(this=text("'"), expression=key), expression=text("'"))
                label = {"region": "region (or a parent region)", "year": "year (or an earlier year)"}.get(name, name)
                parts += [text(f", {label} = "), exp.Coalesce(this=shown, expressions=[text("(empty)")])]
            parts.append(text(")"))
            lookup_ifs.append(
                exp.If(
                    this=exp.EQ(this=problem.copy(), expression=text(f"{kind}:{lk.name}")),
                    true=exp.Concat(expressions=parts),
                )
            )
    reason = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=column("rule_no", "e"), expression=exp.Literal.number(0)),
                true=text("no rule applies to this row"),
            ),
            exp.If(
                this=exp.EQ(this=problem.copy(), expression=text("no_value")),
                true=text("the rule's emissions have no value (an empty field, or a division by zero)"),
            ),
            *lookup_ifs,
            *[
                exp.If(this=exp.EQ(this=problem.copy(), expression=text("inexact")), true=text(exactness.reason(threshold)))
                for threshold in [exactness.plan(m).threshold] if threshold is not None
            ],
            *[
                exp.If(this=exp.EQ(this=problem.copy(), expression=text(f"no_total:{total_col(share)}")),
                       true=text(no_total_reason(share)))
                for share in ir.methodology_shares(m)
            ],
            *[
                exp.If(
                    this=exp.EQ(this=problem.copy(), expression=text("bad_data_quality")),
                    true=exp.Concat(expressions=[
                        text(prefix), exp.Cast(this=column(DATA_QUALITY, "e"), to=exp.DataType.build("TEXT")), text(suffix),
                    ]),
                )
                for prefix, suffix in [BAD_DATA_QUALITY] if scores_rows(m)
            ],
            *[
                exp.If(
                    this=exp.EQ(this=problem.copy(), expression=text(f"no_rate:{cv.name}")),
                    true=column(currency.missing_col(cv.name), "e"),
                )
                for cv in m.conversions
            ],
        ],
        default=problem.copy(),
    )
    q = (
        exp.select(param("run_id"), text(m.id), column("activity_id", "e"), column("rule_id", "e"), code, reason)
        .from_(exp.Table(this=ident(EVAL), alias=exp.TableAlias(this=ident("e"))))
        .where(exp.EQ(this=column("outcome", "e"), expression=text("unmatched")))
    )
    return _insert("unmatched", ["run_id", "methodology_id", "activity_id", "rule_id", "reason_code", "reason"], q)


def reconcile(m: ir.Methodology) -> exp.Expression:
    """Counts that must balance: activity rows in = evaluated rows by outcome, and the number
    of result rows each outcome must have produced (one per gas with a value); then the kg CO2e
    per gas of the result rows (``ir.GAS_ORDER``; NULL for a gas with no result row)."""

    def count(src: exp.Expression, cond: exp.Expression) -> exp.Expression:
        return exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(src).where(cond))

    outcome = lambda o: exp.Where(this=exp.EQ(this=column("outcome"), expression=text(o)))  # noqa: E731
    rows = lambda: (  # noqa: E731
        exp.Count(this=exp.Distinct(expressions=[column("activity_id")])) if m.instruments is not None
        else exp.Count(this=exp.Star())
    )
    gas_rows = exp.Add(
        this=exp.Literal.number(0),
        expression=exp.Paren(
            this=_sum_of(
                [
                    exp.Case(
                        ifs=[exp.If(this=exp.Is(this=column(f"{g.lower()}_co2e_kg"), expression=exp.Null()), true=exp.Literal.number(0))],
                        default=exp.Literal.number(1),
                    )
                    for g in gases(m)
                ]
            )
        ),
    )
    # one pass over the evaluated rows: each scan of the wide ccf_eval costs as much as the next
    # (docs/performance.md: 1.5 s -> 0.6 s per 380k electricity rows)
    by_outcome = exp.select(
        exp.alias_(exp.Filter(this=rows(), expression=outcome("result")), "rows_result"),
        exp.alias_(exp.Filter(this=rows(), expression=outcome("excluded")), "rows_excluded"),
        exp.alias_(exp.Filter(this=rows(), expression=outcome("unmatched")), "rows_unmatched"),
        exp.alias_(
            exp.Coalesce(this=exp.Filter(this=exp.Sum(this=gas_rows), expression=outcome("result")), expressions=[exp.Literal.number(0)]),
            "result_rows",
        ),
    )
    # the run's totals per gas, from the values the results statement wrote (it takes each
    # gas's kg CO2e of the 'result' rows where it is not NULL, exactly as SUM counts them): in
    # this one pass, not by reading the result rows back (docs/performance.md: 13% of a run)
    by_outcome = by_outcome.select(
        *[exp.alias_(exp.Filter(this=exp.Sum(this=column(f"{g.lower()}_co2e_kg")), expression=outcome("result")), f"{g.lower()}_co2e_kg")
          for g in gases(m)]
    ).from_(exp.Table(this=ident(EVAL)))
    return exp.select(
        exp.alias_(count(table(activity_table_name(m.activity.id)), of_run_loads()), "rows_in"),
        column("rows_result", "e"),
        column("rows_excluded", "e"),
        column("rows_unmatched", "e"),
        column("result_rows", "e"),
        exp.alias_(
            count(
                table("rejected"),
                exp.and_(of_run_loads(), exp.EQ(this=column("activity_type"), expression=text(m.activity.id))),
            ),
            "rows_rejected",
        ),
        *[column(f"{g.lower()}_co2e_kg", "e") for g in gases(m)],
    ).from_(exp.Subquery(this=by_outcome, alias=exp.TableAlias(this=ident("e"))))


def _sum_of(terms: list[exp.Expression]) -> exp.Expression:
    out = terms[0] if terms else exp.Literal.number(0)
    for t in terms[1:]:
        out = exp.Add(this=out, expression=t)
    return out


def cleanup() -> exp.Expression:
    """Drop ``ccf_eval``, so that the run's next methodology creates its own."""
    return exp.Drop(tables=[exp.Table(this=ident(EVAL))], kind="TABLE", exists=True)
