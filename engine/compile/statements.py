"""The statements after ``evaluate``: each reads ``ccf_eval`` (evaluate.py) and writes or counts.

``results``    INSERT INTO ccf.result_row: one row per activity row (or part), the gases as columns;
``excluded``   INSERT INTO ccf.excluded;
``unmatched``  INSERT INTO ccf.unmatched, with a reason code and a sentence;
``reconcile``  SELECT the counts that must balance with what the inserts wrote, and the run's kg CO2e per gas;
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
    EVAL, by_mass_gases, exclude_reason, gases, names_sources, one_factor_gases, scores_rows,
)
from ccf.engine.compile.expressions import lookup_col, total_col
from ccf.engine.compile.lookups import key_columns
from ccf.engine.sql import column, ident, param, table, text

RESULT_TABLE = "result_row"  # what a run writes; ccf.result is the per-gas view over it (migration 0019)


def results(m: ir.Methodology) -> exp.Expression:
    """One result row per evaluated row whose outcome is 'result' (an activity row, or a part of
    one with instruments), with each gas of ``ir.GAS_ORDER`` as columns (ccf.result_row,
    migration 0019): one plain scan of ``ccf_eval`` writing one row where ccf.result had one per
    gas, and the gases the methodology never emits left to their NULL default. A row whose gases
    all lack a value (none passes the evaluation with outcome 'result': every rule that is no
    exclusion emits a gas) is not written, and then the run does not reconcile."""
    emitted = gases(m)
    one_factor = one_factor_gases(m)
    by_mass = by_mass_gases(m)
    other_sets = names_sources(m)  # another set, or an instrument, is the source: each row names it
    e = lambda name: column(name, "e")  # noqa: E731
    cols: dict[str, exp.Expression] = {
        "run_id": param("run_id"), "methodology_id": text(m.id), "activity_id": e("activity_id"),
        "entity": e("entity"), "period_start": e("period_start"), "rule_id": e("rule_id"),
        "unit_conversion": e("unit_conversion"),
        # a whole number 1-5 by now (the load's check, or the problem bad_data_quality)
        "data_quality": exp.Cast(this=e("data_quality"), to=exp.DataType.build("SMALLINT")),
        "total_co2e_kg": _sum_of([
            exp.Coalesce(this=e(f"{g.lower()}_co2e_kg"), expressions=[exp.Literal.number(0)])
            for g in emitted if g not in ir.OUTSIDE_SCOPES
        ]),
    }
    if m.instruments is not None:  # each part names the instrument it used
        cols["instrument_id"] = e("instrument_id")
    for gas in emitted:
        g = gas.lower()
        if gas in by_mass:  # a gas no rule gives by mass has no mass nor GWP: NULL, the default
            cols[f"{g}_kg"], cols[f"{g}_gwp"] = e(f"{g}_kg"), e(f"{g}_gwp")
        cols[f"{g}_co2e_kg"] = e(f"{g}_co2e_kg")
        if gas in one_factor:  # ccf_eval carries the one id as text
            ids: exp.Expression = exp.Case(
                ifs=[exp.If(this=exp.Not(this=exp.Is(this=e(f"{g}_co2e_kg"), expression=exp.Null())),
                            true=exp.Array(expressions=[e(f"{g}_factor_id")]))])
        else:
            ids = e(f"{g}_factor_ids")
        cols[f"{g}_factor_ids"] = ids
        cols[f"{g}_match_level"] = e(f"{g}_match_level")
        if other_sets:  # NULL: the methodology's own factor set (ccf.result_provenance)
            cols[f"{g}_factor_set"] = e(f"{g}_factor_set")
    has_value = exp.or_(*[exp.Not(this=exp.Is(this=e(f"{g.lower()}_co2e_kg"), expression=exp.Null())) for g in emitted]) \
        if emitted else exp.false()
    q = (
        exp.select(*cols.values())
        .from_(exp.Table(this=ident(EVAL), alias=exp.TableAlias(this=ident("e"))))
        .where(exp.and_(exp.EQ(this=e("outcome"), expression=text("result")), has_value))
    )
    return _insert(RESULT_TABLE, list(cols), q)


def _insert(target: str, cols: list[str], q: exp.Query) -> exp.Expression:
    return exp.insert(q, exp.Schema(this=table(target), expressions=[ident(c) for c in cols]))


def excluded(m: ir.Methodology) -> exp.Expression:
    q = (
        exp.select(param("run_id"), text(m.id), column("activity_id", "e"), column("rule_id", "e"), exclude_reason(m, "e"))
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
    """The counts that must balance, beside the rows the three inserts wrote (engine/run.py): the
    activity rows of the run's loads, counted apart from the evaluation; the evaluated rows with
    results (activity rows: one however many parts it has) and their count (parts: each a result
    row the results statement must have written, as every row with results has a value); the
    rejected rows; then the kg CO2e per gas of the result rows (``gases``; NULL for a gas with no
    result row). One pass over the evaluated rows with results: ``outcome``, the first column
    of ``ccf_eval``, is all a scan reads of the others (docs/performance.md, "Tenth pass")."""

    def count(src: exp.Expression, cond: exp.Expression) -> exp.Expression:
        return exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(src).where(cond))

    rows_result = (
        exp.Count(this=exp.Distinct(expressions=[column("activity_id")])) if m.instruments is not None
        else exp.Count(this=exp.Star())
    )
    # the run's totals per gas, from the values the results statement wrote (it takes each
    # gas's kg CO2e of the 'result' rows where it is not NULL, exactly as SUM counts them): in
    # this one pass, not by reading the result rows back (docs/performance.md: 13% of a run)
    by_result = exp.select(
        exp.alias_(rows_result, "rows_result"),
        exp.alias_(exp.Count(this=exp.Star()), "result_rows"),
        *[exp.alias_(exp.Sum(this=column(f"{g.lower()}_co2e_kg")), f"{g.lower()}_co2e_kg") for g in gases(m)],
    ).from_(exp.Table(this=ident(EVAL))).where(exp.EQ(this=column("outcome"), expression=text("result")))
    return exp.select(
        exp.alias_(count(table(activity_table_name(m.activity.id)), of_run_loads()), "rows_in"),
        column("rows_result", "e"),
        column("result_rows", "e"),
        exp.alias_(
            count(
                table("rejected"),
                exp.and_(of_run_loads(), exp.EQ(this=column("activity_type"), expression=text(m.activity.id))),
            ),
            "rows_rejected",
        ),
        *[column(f"{g.lower()}_co2e_kg", "e") for g in gases(m)],
    ).from_(exp.Subquery(this=by_result, alias=exp.TableAlias(this=ident("e"))))


def _sum_of(terms: list[exp.Expression]) -> exp.Expression:
    out = terms[0] if terms else exp.Literal.number(0)
    for t in terms[1:]:
        out = exp.Add(this=out, expression=t)
    return out


def cleanup() -> exp.Expression:
    """Drop ``ccf_eval``, so that the run's next methodology creates its own."""
    return exp.Drop(tables=[exp.Table(this=ident(EVAL))], kind="TABLE", exists=True)
