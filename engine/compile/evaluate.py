"""The ``evaluate`` statement: every activity row of the run through the rules, in one pass.

``CREATE TEMPORARY TABLE ccf_eval AS WITH <steps> SELECT …``; the steps, in order:

``activity``   the rows of the run's loads in base units (activity.py; with instruments, the
               allocation's steps and an ``activity`` of parts instead, allocation.py; with
               ``share()``, ``activity_rows`` and an ``activity`` with each share's total, shares.py);
lookups        per factor lookup its resolved factors (lookups.py), per currency conversion
               its resolved rates (currency.py), then ``gwp`` when a rule gives a gas by mass;
``joined``     the row with each lookup's factors and each conversion's amount;
``ruled``      the number of the first rule whose condition holds (0: none);
``evaluated``  for the rule chosen: its id or exclusion, the data-quality score, and per gas the
               value, GWP, kg CO2e, factor ids and match level (one CASE on the rule per column);
``checked``    ``problem``: why a row that reached a rule still has no value;

and the final select puts first each row's ``outcome``: ``result``, ``excluded`` or ``unmatched``.
The statements after it (statements.py) read ``ccf_eval`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlglot import exp

from ccf.dsl import exactness, ir
from ccf.dsl.model import DATA_QUALITY, DATA_QUALITY_SCORES
from ccf.engine.compile import allocation, currency, shares
from ccf.engine.compile.activity import activity_cte, once
from ccf.engine.compile.expressions import ExpressionCompiler, lookup_col, total_col
from ccf.engine.compile.lookups import key_columns, lookup_ctes, reads_other_sets, shared_keys_cte
from ccf.engine.compile.rescaled import Key, rescaled_fields
from ccf.engine.sql import column, func, ident, table, text

EVAL = "ccf_eval"


def statement(m: ir.Methodology) -> exp.Expression:
    """The statement that fills ``ccf_eval`` (the steps in this module's docstring)."""
    # quantities in the unit of their factor (rescaled.py) where the rows are the activity rows
    # themselves, not the parts of an allocation or rows with a share's total
    direct = m.instruments is None and not ir.methodology_shares(m)
    rescaled = rescaled_fields(m) if direct else frozenset()
    select = _evaluated_columns(m, rescaled)
    need_gwp = bool(by_mass_gases(m))
    outcome = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=column("rule_no", "c"), expression=exp.Literal.number(0)), true=text("unmatched")),
            exp.If(this=exp.Not(this=exp.Is(this=column("exclude_reason", "c"), expression=exp.Null())), true=text("excluded")),
            exp.If(this=exp.Not(this=exp.Is(this=column("problem", "c"), expression=exp.Null())), true=text("unmatched")),
        ],
        default=text("result"),
    )
    # ccf_eval keeps what the statements after it read, in a table written once and read four
    # times (docs/performance.md, "Ninth pass"): not the candidate counts nor the share totals,
    # which only decide `problem`; not the exclusion reason, a constant of the rule that the
    # excluded statement takes from `rule_no` (``exclude_reason``); and a lookup's keys only on a
    # row with a problem, whose unmatched reason quotes them
    dropped = {lookup_col(lk.name, gas, "_n") for lk in m.lookups for gas in lk.gases}
    dropped |= {total_col(s) for s in ir.methodology_shares(m)} | {"exclude_reason"}
    keys = {lookup_col(lk.name, "key", f"_{col[4:]}") for lk in m.lookups for col, _ in key_columns(lk)}
    kept = [_on_problem(name) if name in keys else column(name, "c")
            for name in (e.alias_or_name for e in select) if name not in dropped]
    # `outcome` first: the statements that filter on it (the excluded, unmatched and reconcile
    # scans) read one column of each row they skip, not the whole row (docs/performance.md, "Tenth pass")
    final = exp.select(exp.alias_(outcome, "outcome"), *kept, column("problem", "c")).from_(
        exp.Table(this=ident("checked"), alias=exp.TableAlias(this=ident("c")))
    )
    # once: the final select reads `problem` twice (the column and the outcome's CASE)
    checked = once(exp.select(exp.Column(this=exp.Star(), table=ident("e")), exp.alias_(_problem(m), "problem")).from_(
        exp.Table(this=ident("evaluated"), alias=exp.TableAlias(this=ident("e")))
    ))
    evaluated = exp.select(*select).from_(exp.Table(this=ident("ruled"), alias=exp.TableAlias(this=ident("r"))))
    evaluated = once(evaluated)
    if need_gwp:
        evaluated = evaluated.join(exp.Table(this=ident("gwp")), join_type="cross")
    ctes: list[tuple[str, exp.Expression]] = (
        allocation.allocation_ctes(m) if m.instruments is not None
        else shares.activity_ctes(m) if ir.methodology_shares(m)
        else [("activity", activity_cte(m, rescaled))]
    )
    shared = shared_keys_cte(m)
    ctes += shared
    ctes += [cte for lk in m.lookups for cte in lookup_ctes(lk, shared=bool(shared))]
    ctes += [cte for cv in m.conversions for cte in currency.conversion_ctes(cv, ExpressionCompiler("a"))]
    if need_gwp:
        ctes.append(("gwp", _gwp_cte(m)))
    ctes += [("joined", _joined_cte(m)), ("ruled", _ruled_cte(m)), ("evaluated", evaluated), ("checked", checked)]
    if m.instruments is not None:  # one outcome per activity row, decided from its parts
        parts, final = allocation.row_outcome_ctes(outcome.copy())
        ctes += parts
    resolved = {f"factor_{lk.name}" for lk in m.lookups} | {f"conversion_{cv.name}" for cv in m.conversions}
    resolved |= {name for name, _ in shared}
    for name, q in ctes:
        # a resolved lookup (one row per distinct key) is computed once and kept, whatever
        # plan the statistics suggest: inlined, it can be re-run per activity row.
        # copy=False: each CTE's tree is built for this statement alone, and copying the
        # growing statement once per CTE was most of a methodology's compile time
        final = final.with_(name, as_=q, materialized=name in resolved, copy=False)
    return exp.Create(
        this=exp.Table(this=ident(EVAL)),
        kind="TABLE",
        expression=final,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


def _on_problem(name: str) -> exp.Expression:
    """Column ``name`` of ``checked`` where the row has a problem, else NULL: kept for the
    unmatched reason, not copied onto every other row."""
    when = exp.If(this=exp.Not(this=exp.Is(this=column("problem", "c"), expression=exp.Null())), true=column(name, "c"))
    return exp.alias_(exp.Case(ifs=[when]), name)


def exclude_reason(m: ir.Methodology, row: str) -> exp.Expression:
    """The exclusion reason of the rule chosen, from ``<row>.rule_no`` (NULL: not an exclusion)."""
    return _by_rule(m, lambda i, rule: text(rule.exclude) if rule.exclude is not None else None, row=row)


def gases(m: ir.Methodology) -> list[str]:
    """The gases the methodology's rules emit, in ``ir.GAS_ORDER``."""
    used = {em.gas for rule in m.rules for em in rule.emissions}
    return [g for g in ir.GAS_ORDER if g in used]


def by_mass_gases(m: ir.Methodology) -> set[str]:
    """The gases some rule gives as a mass of the gas, weighted by its GWP: only these have a
    mass and a GWP column (``<gas>_kg``, ``<gas>_gwp``) and only then is the GWP set read; a
    gas every rule gives in kg CO2e stores NULL for both, written as constants (statements.py)."""
    return {em.gas for rule in m.rules for em in rule.emissions if not em.co2e_basis}


@dataclass(frozen=True)
class _Emitted:
    """A rule's emission of one gas, the factors it reads and those whose match level it
    records (``ir.level_factors``): (lookup, gas), once each, in source order."""

    rule: ir.Rule
    emission: ir.Emission
    factors: tuple[tuple[str, str], ...]
    levels: tuple[tuple[str, str], ...]


def _emissions(m: ir.Methodology) -> dict[tuple[int, str], _Emitted]:
    """(rule number, gas) -> that rule's emission of the gas: the one table every per-gas
    column of ``evaluated`` is read from (a rule emits each gas at most once)."""
    refs = lambda found: tuple(dict.fromkeys((r.lookup, r.gas) for r in found))  # noqa: E731
    return {
        (i, em.gas): _Emitted(rule, em, refs(ir.factor_refs(em.value)), refs(ir.level_factors(rule, em)))
        for i, rule in enumerate(m.rules, 1)
        for em in rule.emissions
    }


def one_factor_gases(m: ir.Methodology) -> set[str]:
    """The gases whose every rule uses exactly one factor: ``ccf_eval`` carries that factor's id
    as text, and the results statement makes the one-element array — ≈ 30 bytes less per gas and
    evaluated row than an array, in a table written once and read four times (docs/performance.md)."""
    emitted = _emissions(m).values()
    return {e.emission.gas for e in emitted} - {e.emission.gas for e in emitted if len(e.factors) != 1}


def names_sources(m: ir.Methodology) -> bool:
    """Whether each result row names its own source (``result.factor_set``): a lookup reads
    another factor set than the methodology's, or a part may take its rate from its instrument
    (NULL where the source is the methodology's own set: ccf.result_provenance)."""
    return reads_other_sets(m) or m.instruments is not None


def typed_null(sql_type: str) -> exp.Expression:
    """NULL of a type: a column no rule fills keeps the type the statements reading it expect."""
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(sql_type, dialect="postgres"))


def _by_rule(
    m: ir.Methodology,
    pick: Callable[[int, ir.Rule], exp.Expression | None],
    default: exp.Expression | None = None,
    row: str = "r",
) -> exp.Expression:
    """CASE <row>.rule_no WHEN i THEN pick(rule i) … END (rules where pick is None are skipped)."""
    ifs = []
    for i, rule in enumerate(m.rules, 1):
        e = pick(i, rule)
        if e is not None:
            ifs.append(exp.If(this=exp.Literal.number(i), true=e))
    if not ifs:
        return default.copy() if default is not None else exp.Null()
    return exp.Case(this=column("rule_no", row), ifs=ifs, default=default.copy() if default is not None else None)


# --- the steps ----------------------------------------------------------------------------


def _gwp_cte(m: ir.Methodology) -> exp.Select:
    """One row: the GWP of each gas some rule gives as a mass of that gas."""
    by_mass = sorted(by_mass_gases(m))
    cols = [
        exp.alias_(
            exp.Filter(
                this=exp.Min(this=column("value", "g")),
                expression=exp.Where(this=exp.EQ(this=column("gas", "g"), expression=text(ir.gwp_gas(gas)))),
            ),
            f"gwp_{gas.lower()}",
        )
        for gas in by_mass
    ]
    return exp.select(*cols).from_(table("gwp", alias="g")).where(exp.EQ(this=column("gwp_set", "g"), expression=text(m.gwp)))


def _joined_cte(m: ir.Methodology) -> exp.Select:
    """The activity row with, per lookup and gas, the factor's value, id, candidate count and
    match level (``expressions.lookup_col``) and the row's keys; per conversion its amount."""
    # q is built here and nowhere else: the builders extend it in place (copy=False) instead of
    # copying the growing SELECT once per column
    q = exp.select(exp.Column(this=exp.Star(), table=ident("a"))).from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a"))))
    row = ExpressionCompiler("a")
    for lk in m.lookups:
        alias = f"f_{lk.name}"
        keys = key_columns(lk)
        for gas in lk.gases:
            for suffix, src in (("", gas.lower()), ("_id", f"{gas.lower()}_id"), ("_n", f"{gas.lower()}_n"), ("_level", f"{gas.lower()}_level")):
                # a lookup without keys resolves to one row (an aggregate without GROUP BY): its
                # values are read once, as scalar subqueries, not joined to every activity row
                # (a nested loop: ≈ 0.15 s per 380k rows, docs/performance.md)
                value = (
                    column(src, alias) if keys
                    else exp.Subquery(this=exp.select(column(src)).from_(exp.Table(this=ident(f"factor_{lk.name}"))))
                )
                q = q.select(exp.alias_(value, lookup_col(lk.name, gas, suffix)), copy=False)
        for col, node in keys:  # the row's keys, kept to explain a missing factor
            q = q.select(exp.alias_(row(node), lookup_col(lk.name, "key", f"_{col[4:]}")), copy=False)
        if keys:
            on = exp.and_(*[exp.EQ(this=row(node), expression=column(col, alias)) for col, node in keys])
            q = q.join(exp.Table(this=ident(f"factor_{lk.name}"), alias=exp.TableAlias(this=ident(alias))), on=on,
                       join_type="left", copy=False)
    for cv in m.conversions:
        q = currency.join_conversion(q, cv, row)
    return q


def _ruled_cte(m: ir.Methodology) -> exp.Select:
    """``rule_no``: the first rule whose condition holds, numbered from 1 (0: no rule applies)."""
    row = ExpressionCompiler("j")
    ifs = []
    for i, rule in enumerate(m.rules, 1):
        cond = row(rule.where) if rule.where is not None else exp.true()
        then = exp.Literal.number(i)
        then.add_comments([f" rule {rule.id} "])
        ifs.append(exp.If(this=cond, true=then))
    rule_no = exp.Case(ifs=ifs, default=exp.Literal.number(0))
    return once(
        exp.select(exp.Column(this=exp.Star(), table=ident("j")), exp.alias_(rule_no, "rule_no")).from_(
            exp.Table(this=ident("joined"), alias=exp.TableAlias(this=ident("j")))
        )
    )


def _evaluated_columns(m: ir.Methodology, rescaled: frozenset[Key]) -> list[exp.Expression]:
    """The columns of the ``evaluated`` step: the row and its rule (id, exclusion reason); what
    ``checked`` reads to say why a value is missing (a conversion's missing rate, whether a
    guarded rule's inputs are exact, the lookups' candidate counts and the row's keys); the
    instrument part; then each emitted gas's columns (``_gas_columns``). ``rescaled``: the
    quantities the rows also hold in their factor's unit (rescaled.py)."""
    row = ExpressionCompiler("r")
    plan = exactness.plan(m)
    select: list[exp.Expression] = [
        column(c, "r") for c in ("activity_id", "entity", "period_start", "unit_conversion", "rule_no")
    ]
    if m.conversions:  # a currency conversion's note joins the row's unit-conversion note
        select = [exp.alias_(_with_conversion_notes(m), "unit_conversion") if c.name == "unit_conversion" else c for c in select]
    select += [exp.alias_(_by_rule(m, lambda i, rule: text(rule.id)), "rule_id"),
               exp.alias_(exclude_reason(m, "r"), "exclude_reason")]
    score = _data_quality(m, row)
    select.append(score if isinstance(score, exp.Column) else exp.alias_(score, DATA_QUALITY))
    for cv in m.conversions:  # why a conversion has no rate, for the unmatched reason
        select.append(column(currency.missing_col(cv.name), "r"))
    if plan.guarded:  # whether a guarded rule's inputs are within the plan (exactness.plan)
        assert plan.threshold is not None
        within = lambda i, rule: _exact_inputs(rule, plan.threshold, row) if plan.guards(rule) else None  # noqa: E731
        select.append(exp.alias_(_by_rule(m, within), "exact_inputs"))
    if m.instruments is not None:  # the part of the activity row and the instrument it used
        select += allocation.part_columns(m, "r")
    select += shares.columns(m, "r")  # each share's total, to say why a share has none
    # carry the lookups' candidate counts so the next step can say why a factor is missing
    for lk in m.lookups:
        for gas in lk.gases:
            select.append(column(lookup_col(lk.name, gas, "_n"), "r"))
        for col, _ in key_columns(lk):
            select.append(column(lookup_col(lk.name, "key", f"_{col[4:]}"), "r"))
    emitted, one_factor = _emissions(m), one_factor_gases(m)
    for gas in gases(m):
        select += _gas_columns(m, gas, emitted, one_factor, row, plan, ExpressionCompiler("r", rescaled))
    return select


def _gas_columns(
    m: ir.Methodology,
    gas: str,
    emitted: dict[tuple[int, str], _Emitted],
    one_factor: set[str],
    row: ExpressionCompiler,
    plan: exactness.Plan,
    in_factor_unit: ExpressionCompiler,
) -> list[exp.Expression]:
    """One gas's columns, each a CASE on the rule chosen (a rule that does not emit the gas, or
    a column that does not apply to its emission, gives the column's typed NULL): the set(s) its
    factors came from when a lookup reads another set; its mass and GWP (only for a gas some rule
    gives by mass, ``by_mass_gases``); its kg CO2e; its factor id(s) and match level."""
    g = gas.lower()
    gwp = lambda: column(f"gwp_{g}", "gwp")  # noqa: E731

    def by_emission(pick: Callable[[_Emitted], exp.Expression | None], sql_type: str) -> exp.Expression:
        def of_rule(i: int, rule: ir.Rule) -> exp.Expression | None:
            e = emitted.get((i, gas))
            return pick(e) if e is not None else None

        return _by_rule(m, of_rule, default=typed_null(sql_type))

    def value(e: _Emitted) -> exp.Expression:
        """The emission's value; for a rule the exactness plan guards, computed only for a row
        whose inputs are within its threshold (else NULL, and the row is unmatched: inexact).
        An unguarded rule reads its quantities in their factor's unit where the row has them
        (``in_factor_unit``, rescaled.py); a guarded one's proof is of the base-unit quantities."""
        if not plan.guards(e.rule):
            return in_factor_unit(e.emission.value)
        v = row(e.emission.value)
        assert plan.threshold is not None
        return exp.Case(ifs=[exp.If(this=_exact_inputs(e.rule, plan.threshold, row), true=v)])

    def co2e(e: _Emitted) -> exp.Expression:
        return value(e) if e.emission.co2e_basis else exp.Mul(this=exp.Paren(this=value(e)), expression=gwp())

    def level(e: _Emitted) -> exp.Expression:
        if not e.levels:
            return text("no factor")
        if len(e.levels) == 1:
            return column(lookup_col(*e.levels[0], "_level"), "r")
        return exp.Anonymous(
            this="CONCAT_WS",
            expressions=[text(" | ")]
            + [exp.Concat(expressions=[text(f"{lk}: "), column(lookup_col(lk, g2, "_level"), "r")]) for lk, g2 in e.levels],
        )

    def ids(e: _Emitted) -> exp.Expression:
        if gas in one_factor:  # the id alone; the results statement makes it an array
            return column(lookup_col(*e.factors[0], "_id"), "r")
        if not e.factors:  # a factor the organisation supplies in its activity data
            return exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("TEXT[]", dialect="postgres"))
        return exp.Array(expressions=[column(lookup_col(lk, g2, "_id"), "r") for lk, g2 in e.factors])

    sets = {lk.name: lk.factor_set or m.factor_set for lk in m.lookups}

    def factor_set(e: _Emitted) -> exp.Expression | None:
        if not e.factors and m.instruments is not None and allocation.reads_instrument(e.emission.value):
            return allocation.instrument_source(m, "r")  # the certificate is the source, not a set
        used = list(dict.fromkeys(sets[lk] for lk, _ in e.factors))
        return text(" | ".join(used)) if used and used != [m.factor_set] else None

    by_mass = lambda pick: lambda e: None if e.emission.co2e_basis else pick(e)  # noqa: E731
    columns: list[exp.Expression] = []
    if names_sources(m):  # provenance: the set of this gas's factors, when not the methodology's
        columns.append(exp.alias_(by_emission(factor_set, "TEXT"), f"{g}_factor_set"))
    if gas in by_mass_gases(m):  # its mass and GWP, for the rules that give it by mass
        columns += [
            exp.alias_(by_emission(by_mass(value), "NUMERIC"), f"{g}_kg"),
            exp.alias_(by_emission(by_mass(lambda e: gwp()), "NUMERIC"), f"{g}_gwp"),
        ]
    return columns + [
        exp.alias_(by_emission(co2e, "NUMERIC"), f"{g}_co2e_kg"),
        exp.alias_(by_emission(ids, "TEXT" if gas in one_factor else "TEXT[]"),
                   f"{g}_factor_id" if gas in one_factor else f"{g}_factor_ids"),
        exp.alias_(by_emission(level, "TEXT"), f"{g}_match_level"),
    ]


def scores_rows(m: ir.Methodology) -> bool:
    """Whether the methodology gives a data-quality score (its own or a rule's ``data_quality:``)
    to rows without one: only then can a score be other than a row's, which the load checked."""
    return m.data_quality is not None or any(rule.data_quality is not None for rule in m.rules)


def _data_quality(m: ir.Methodology, row: ExpressionCompiler) -> exp.Expression:
    """The result's data-quality score: the row's, else its rule's, else the methodology's
    (``dsl.evaluate.data_quality``); NULL: not scored."""
    given = [column(DATA_QUALITY, "r")]
    if any(rule.data_quality is not None for rule in m.rules):
        given.append(_by_rule(m, lambda i, rule: row(rule.data_quality) if rule.data_quality is not None else None))
    if m.data_quality is not None:
        given.append(row(m.data_quality))
    return exp.Coalesce(this=given[0], expressions=given[1:]) if len(given) > 1 else given[0]


def _exact_inputs(rule: ir.Rule, threshold: int, row: ExpressionCompiler) -> exp.Expression:
    """TRUE when every input of a guarded rule's emissions is within the exactness plan's
    threshold (``exactness.within``): NULL, or ``SCALE(x) <= t AND ABS(x) < 1Et``."""
    leaves, by_mass = exactness.inputs(rule)
    values = [row(leaf) for leaf in leaves] + [column(f"gwp_{gas.lower()}", "gwp") for gas in by_mass]
    bound = exp.Literal.number(f"1E{threshold}")  # 10^t, exact: a NUMERIC constant, folded once
    tests = [
        exp.or_(
            exp.Is(this=v, expression=exp.Null()),
            exp.and_(
                exp.LTE(this=func("SCALE", v.copy()), expression=exp.Literal.number(threshold)),
                exp.LT(this=exp.Abs(this=v.copy()), expression=bound.copy()),
            ),
        )
        for v in values
    ]
    return exp.and_(*tests) if tests else exp.true()


def _with_conversion_notes(m: ir.Methodology) -> exp.Expression:
    """The unit-conversion note, then the note of each currency conversion the row's rule used."""

    def notes(i: int, rule: ir.Rule) -> exp.Expression | None:
        used = list(dict.fromkeys(c for em in rule.emissions for c in currency.conversion_refs(em.value)))
        if not used:
            return None
        return exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), *[column(currency.note_col(c), "r") for c in used]])

    joined = exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), column("unit_conversion", "r"), _by_rule(m, notes)])
    return exp.Nullif(this=joined, expression=text(""))


def _problem(m: ir.Methodology) -> exp.Expression:
    """Why a row that reached a rule still has no result: no_rate, no_factor, ambiguous_factor,
    no_total (a share without a total), inexact (a guarded rule's inputs beyond the exactness plan's
    threshold), no_value, bad_data_quality (a computed score outside 1-5)."""
    plan = exactness.plan(m)

    def pick(i: int, rule: ir.Rule) -> exp.Expression | None:
        if rule.exclude is not None:
            return None
        ifs = []
        for cv in dict.fromkeys(c for em in rule.emissions for c in currency.conversion_refs(em.value)):
            missing = exp.Not(this=exp.Is(this=column(currency.missing_col(cv), "e"), expression=exp.Null()))
            ifs.append(exp.If(this=missing, true=text(f"no_rate:{cv}")))
        refs = {(r.lookup, r.gas) for em in rule.emissions for r in ir.factor_refs(em.value)}
        for lookup, gas in sorted(refs):
            n = column(lookup_col(lookup, gas, "_n"), "e")
            none = exp.EQ(this=exp.Coalesce(this=n, expressions=[exp.Literal.number(0)]), expression=exp.Literal.number(0))
            ifs.append(exp.If(this=none, true=text(f"no_factor:{lookup}")))
            ifs.append(exp.If(this=exp.GT(this=n.copy(), expression=exp.Literal.number(1)), true=text(f"ambiguous_factor:{lookup}")))
        ifs += [exp.If(this=cond, true=text(problem)) for cond, problem in shares.missing(rule, "e")]
        if plan.guards(rule):
            ifs.append(exp.If(this=exp.Not(this=column("exact_inputs", "e")), true=text("inexact")))
        nulls = [exp.Is(this=column(f"{em.gas.lower()}_co2e_kg", "e"), expression=exp.Null()) for em in rule.emissions]
        ifs.append(exp.If(this=exp.or_(*nulls), true=text("no_value")))
        if scores_rows(m):  # a score the methodology computed, outside 1-5 (NULL: not scored)
            scores = [exp.Literal.number(s) for s in DATA_QUALITY_SCORES]
            ifs.append(exp.If(this=exp.Not(this=exp.In(this=column(DATA_QUALITY, "e"), expressions=scores)),
                              true=text("bad_data_quality")))
        return exp.Case(ifs=ifs)

    return _by_rule(m, pick, default=None, row="e")
