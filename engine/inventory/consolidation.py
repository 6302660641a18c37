"""Consolidation as sqlglot trees: the ownership hierarchy and every breakdown, set-based.

GHG Protocol Corporate Standard, chapter 3 (docs/reporting.md#consolidation). The share of an
entity's emissions the reporting company accounts for is a product along the chain of links
from the root down to the entity, one factor per link:

=====================  ====================================================================
approach               factor of one link (parent -> entity)
=====================  ====================================================================
equity share           the parent's equity share in the entity
financial control      1 under financial control; the equity share under joint financial
                       control; 0 otherwise
operational control    1 under operational control; 0 otherwise
=====================  ====================================================================

One recursive CTE (``ownership``) walks the hierarchy once and carries all three products; the
approach only chooses which column multiplies the kg CO2e of the result rows (summed once
into the report's groups: ``report_groups_statement``). Nothing here loops over
entities or rows in Python, and nothing is rounded: NUMERIC products of exact decimals.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from ccf.dsl import ir
from ccf.engine.compile.statements import RESULT_TABLE
from ccf.engine.sql import column, eq, ident, number, param, table
from ccf.engine.tiers import tiered

_GAS_COLUMNS = [g.lower() for g in ir.GAS_ORDER]  # each gas's columns in ccf.result_row: <gas>_co2e_kg, …
APPROACHES = ("equity-share", "financial-control", "operational-control")
SHARE_COLUMN = {
    "equity-share": "equity_share",
    "financial-control": "financial_share",
    "operational-control": "operational_share",
}
OWNERSHIP_COLUMNS = (
    "entity", "name", "parent", "country", "depth", "path", "equity_share", "financial_share", "operational_share",
)
# Groupings of the consolidated facts, one per breakdown of the report; () is the total.
GROUPINGS = {
    "total": (),
    "scope": ("scope",),
    "category": ("scope", "category"),
    "gas": ("gas",),
    "period_year": ("period_year",),
    "method": ("method",),
    "match_level": ("match_level",),
    "data_quality": ("scope", "category", "data_quality"),  # the mix of scores per category (quality.py)
}
_DIMENSIONS = ("scope", "category", "gas", "period_year", "method", "match_level", "data_quality")
BIOGENIC = "biogenic"  # a gas label containing it (any letter case) is reported outside the scopes
# Projected lifetime emissions of projects financed (ir.PROJECTED_LIFETIME) are reported apart
# from Scope 3: outside the scopes too, as one line of their own in place of their gases.
PROJECTED_LIFETIME = ir.PROJECTED_LIFETIME
PROJECTED_LIFETIME_LINE = "projected_lifetime"
REPORT_GROUPS = "ccf_report_groups"  # the report's one aggregation of the runs' result rows (a temporary table)
# The runs' result rows where the report reads them one by one (temporary views, made by
# report_rows_statements): ccf.result_row's, and those of the runs computed on ClickHouse that
# these queries read, copied into CLICKHOUSE_ROWS (engine/clickhouse/reads.py); per gas as ccf.result.
REPORT_ROWS = "ccf_report_rows"
REPORT_RESULTS = "ccf_report_result"
CLICKHOUSE_ROWS = "ccf_clickhouse_rows"
# Per gas, what ccf.result_row says of where its value came from: the report's groupings need them
# (the match-level breakdown, the tiers' source). One home, so that a layout storing them elsewhere
# changes this list and _result_rows only.
_GAS_SOURCE = ("match_level", "factor_set")


def _numeric(value: int) -> exp.Cast:
    return exp.Cast(this=number(value), to=exp.DataType.build("NUMERIC"))


def _case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in whens], default=default)


def ownership_cte() -> exp.CTE:
    """WITH RECURSIVE ownership: every entity of %(entity_set)s reachable from the root, with
    its depth, its path from the root (as file line numbers, so ORDER BY path lists the tree
    depth first in the author's order), and its effective share under each approach."""
    anchor = (
        exp.select(
            column("entity", "e"), column("name", "e"), column("parent", "e"), column("country", "e"),
            exp.alias_(number(0), "depth"),
            exp.alias_(exp.Array(expressions=[column("line_no", "e")]), "path"),
            exp.alias_(_numeric(1), "equity_share"),
            exp.alias_(_numeric(1), "financial_share"),
            exp.alias_(_numeric(1), "operational_share"),
        )
        .from_(table("entity", alias="e"))
        .where(exp.and_(eq(column("entity_set", "e"), param("entity_set")), exp.Is(this=column("parent", "e"), expression=exp.Null())))
    )
    link_financial = _case(
        (column("financial_control", "c"), number(1)),
        (column("joint_financial_control", "c"), column("equity_share", "c")),
        default=number(0),
    )
    link_operational = _case((column("operational_control", "c"), number(1)), default=number(0))
    step = (
        exp.select(
            column("entity", "c"), column("name", "c"), column("parent", "c"), column("country", "c"),
            exp.Add(this=column("depth", "o"), expression=number(1)),
            exp.DPipe(this=column("path", "o"), expression=column("line_no", "c")),
            exp.Mul(this=column("equity_share", "o"), expression=column("equity_share", "c")),
            exp.Mul(this=column("financial_share", "o"), expression=exp.Paren(this=link_financial)),
            exp.Mul(this=column("operational_share", "o"), expression=exp.Paren(this=link_operational)),
        )
        .from_(table("entity", alias="c"))
        .join(exp.Table(this=ident("ownership"), alias=exp.TableAlias(this=ident("o"))),
              on=eq(column("parent", "c"), column("entity", "o")))
        .where(eq(column("entity_set", "c"), param("entity_set")))
    )
    return exp.CTE(
        this=exp.union(anchor, step, distinct=False),
        alias=exp.TableAlias(this=ident("ownership"), columns=[ident(c) for c in OWNERSHIP_COLUMNS]),
    )


def bases_cte() -> exp.CTE:
    """bases(basis): the Scope 2 methods reported side by side, from %(bases)s."""
    unnest = exp.Unnest(
        expressions=[exp.Cast(this=param("bases"), to=exp.DataType.build("TEXT[]", dialect="postgres"))],
        alias=exp.TableAlias(this=ident("b"), columns=[ident("basis")]),
    )
    return exp.CTE(this=exp.select(column("basis", "b")).from_(unnest), alias=exp.TableAlias(this=ident("bases")))


def _result_rows() -> exp.Table:
    """The runs' result rows as a run writes them: ccf.result_row (migration 0019), one per activity
    row and rule (per part with instruments), the gases as columns."""
    return table(RESULT_TABLE, alias="r")


def report_groups_statement() -> exp.Create:
    """CREATE TEMPORARY TABLE ccf_report_groups: the result rows of the runs %(runs)s summed once,
    per run, methodology, rule, entity, data-quality score, year, whether the row is a part (of
    a row split among instruments), and per gas its source (match level, factor set). Every
    breakdown of the report, its entities and its tiers read these groups (a few hundred), never
    the result rows again, except where an activity row must be told apart from another
    (``methodology_kinds``).

    The number of result rows (``result_rows``), the sum of their kg CO2e in the scopes, and per
    gas its sums (:func:`gas_sums`). Whether a row has a value of a gas is counted, not grouped
    by: with ``<gas>_co2e_kg IS NOT NULL`` among the keys, PostgreSQL estimates their groups from
    the amounts' distinct values (one group per result row) and sums the rows in one process;
    with only the keys above it expects few groups and sums them on every core (a parallel
    partial aggregate; docs/performance.md, tenth pass). So a group may hold rows with and
    without a gas. ``group_no`` numbers the groups. Exact: NUMERIC sums do not round, and a sum
    of sums is the sum, scale included (docs/numeric-semantics.md)."""
    r = lambda name: column(name, "r")  # noqa: E731
    keys: list[tuple[str, exp.Expression]] = [
        ("run_id", r("run_id")), ("methodology_id", r("methodology_id")), ("rule_id", r("rule_id")),
        ("entity", r("entity")), ("data_quality", r("data_quality")),
        ("period_year", exp.Cast(this=exp.Extract(this=exp.var("YEAR"), expression=r("period_start")),
                                 to=exp.DataType.build("INT"))),
        ("parted", exp.not_(exp.Is(this=r("instrument_id"), expression=exp.Null()))),
    ]
    keys += [(f"{g}_{a}", r(f"{g}_{a}")) for g in _GAS_COLUMNS for a in _GAS_SOURCE]
    sums = [("result_rows", exp.Count(this=exp.Star())), ("total_co2e_kg", exp.Sum(this=r("total_co2e_kg"))), *gas_sums(r)]
    select = (
        exp.select(*[exp.alias_(e, n) for n, e in keys + sums],
                   exp.alias_(exp.Window(this=exp.Anonymous(this="ROW_NUMBER")), "group_no"))
        .from_(_result_rows())
        .where(eq(r("run_id"), any_run()))
        .group_by(*[e.copy() for _, e in keys])
    )
    return exp.Create(this=exp.Table(this=ident(REPORT_GROUPS)), kind="TABLE", expression=select,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def _in_scopes(gas: str) -> bool:
    """A gas the scopes' totals and tiers count: not biogenic (``BIOGENIC``, any letter case)."""
    return BIOGENIC not in gas.lower()


def gas_sums(r: Callable[[str], exp.Expression]) -> list[tuple[str, exp.Expression]]:
    """Per gas of the result rows ``r`` (a column of ccf.result_row by name), the aggregates of
    the report's groups, on PostgreSQL and on ClickHouse alike (engine/clickhouse/reads.py):

    - ``<gas>_co2e_kg``, ``<gas>_kg``: the sums of its kg CO2e and mass (NULL: no row has it);
    - ``<gas>_complete``: every row with the gas's value also has its mass;
    - ``<gas>_source_rows``: the rows that name the gas's source, the tiers' activity rows: those
      in which it, or another gas of the same factor set (NULL: the methodology's own, which no
      other name equals), has a value — gases outside the scopes, which the tiers leave out,
      only by their own rows. The gases of one source in a group have the same count.

    A group's rows differ only in which gases have a value (:func:`report_groups_statement`), so
    these are what the group's rows of each gas add up to, as if grouped by that too."""
    has = lambda g: exp.not_(exp.Is(this=r(f"{g}_co2e_kg"), expression=exp.Null()))  # noqa: E731
    count_if = lambda c: exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=c))  # noqa: E731
    scoped = [g.lower() for g in ir.GAS_ORDER if _in_scopes(g)]
    out: list[tuple[str, exp.Expression]] = []
    for g in _GAS_COLUMNS:
        same_source = [has(g)] + ([exp.and_(has(h), exp.NullSafeEQ(this=r(f"{h}_factor_set"), expression=r(f"{g}_factor_set")))
                                   for h in scoped if h != g] if g in scoped else [])
        out += [
            (f"{g}_co2e_kg", exp.Sum(this=r(f"{g}_co2e_kg"))),
            (f"{g}_kg", exp.Sum(this=r(f"{g}_kg"))),
            (f"{g}_complete", eq(count_if(exp.and_(has(g), exp.Is(this=r(f"{g}_kg"), expression=exp.Null()))), number(0))),
            (f"{g}_source_rows", count_if(exp.or_(*same_source))),
        ]
    return out


def drop_report_groups() -> exp.Drop:
    """DROP TABLE ccf_report_groups, at the end of the report (also inside a caller's transaction)."""
    return exp.Drop(tables=[exp.Table(this=ident(REPORT_GROUPS))], kind="TABLE")


_RESULT_VIEW = ("run_id", "methodology_id", "activity_id", "entity", "period_start", "rule_id", "gas", "gas_kg", "gwp",
                "co2e_kg", "factor_ids", "match_level", "unit_conversion", "instrument_id", "factor_set", "data_quality")
_PER_GAS = ("kg", "gwp", "co2e_kg", "factor_ids", "match_level", "factor_set")  # ccf.result_row's columns of a gas


def read_one_by_one_query() -> exp.Select:
    """(run_id, methodology_id) of the methodologies of the runs %(clickhouse)s (among %(runs)s,
    whose groups are made) whose result rows the report reads one by one: those not ``alone``
    (:func:`methodology_kinds_cte`: the entities' activity rows, the coverage and the tiers of
    parts) and category 15's but projected lifetime emissions (PCAF's metrics, pcaf.py)."""
    cat15 = exp.and_(eq(column("scope", "m"), number(3)), eq(column("category", "m"), number(15)),
                     exp.NEQ(this=column("method", "m"), expression=exp.Literal.string(PROJECTED_LIFETIME)))
    select = (
        exp.select(column("run_id", "k"), column("methodology_id", "k"))
        .from_(_ref("methodology_kinds", "k"))
        .join(table("run_methodology", alias="m"), on=exp.and_(
            eq(column("run_id", "m"), column("run_id", "k")), eq(column("methodology_id", "m"), column("methodology_id", "k"))))
        .where(exp.and_(eq(column("run_id", "k"), exp.Any(this=exp.Paren(this=param("clickhouse")))),
                        exp.or_(exp.not_(column("alone", "k")), cat15)))
        .order_by(column("run_id", "k"), column("methodology_id", "k"))
    )
    return with_ctes(select, methodology_kinds_cte())


def clickhouse_rows_statement() -> exp.Create:
    """CREATE TEMPORARY TABLE ccf_clickhouse_rows (LIKE ccf.result_row): the rows of ClickHouse
    runs the report reads one by one, copied there (``read_one_by_one_query``)."""
    return exp.Create(this=exp.Schema(this=exp.Table(this=ident(CLICKHOUSE_ROWS)), expressions=[
        exp.LikeProperty(this=table(RESULT_TABLE))]), kind="TABLE", properties=exp.Properties(expressions=[exp.TemporaryProperty()]))


def report_rows_statements(copied: bool) -> list[exp.Create]:
    """CREATE TEMPORARY VIEW ccf_report_rows and ccf_report_result: ccf.result_row and ccf.result,
    and if ``copied`` the rows of ccf_clickhouse_rows beside them (per gas as ccf.result gives
    them, migration 0027), so that a ClickHouse run's rows are read as a PostgreSQL run's are."""
    rows: exp.Query = exp.select(exp.Star()).from_(table(RESULT_TABLE))
    results: exp.Query = exp.select(*[column(c) for c in _RESULT_VIEW]).from_(table("result"))
    if copied:
        rows = exp.union(rows, exp.select(exp.Star()).from_(exp.Table(this=ident(CLICKHOUSE_ROWS))), distinct=False)
        unpivot = exp.Values(
            expressions=[exp.Tuple(expressions=[exp.Literal.string(gas), *[column(f"{gas.lower()}_{c}", "r") for c in _PER_GAS]])
                         for gas in ir.GAS_ORDER],
            alias=exp.TableAlias(this=ident("g"), columns=[ident(c) for c in ("gas", "gas_kg", *_PER_GAS[1:])]),
        )
        per_gas = (
            exp.select(*[column(c, "g" if c in ("gas", "gas_kg", *_PER_GAS[1:]) else "r") for c in _RESULT_VIEW])
            .from_(_ref(CLICKHOUSE_ROWS, "r"))
            .join(exp.Lateral(this=unpivot), join_type="cross")
            .where(exp.not_(exp.Is(this=column("co2e_kg", "g"), expression=exp.Null())))
        )
        results = exp.union(results, per_gas, distinct=False)
    temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
    return [exp.Create(this=exp.Table(this=ident(name)), kind="VIEW", expression=q, properties=temporary.copy())
            for name, q in ((REPORT_ROWS, rows), (REPORT_RESULTS, results))]


def drop_report_rows() -> list[exp.Drop]:
    """DROP the views of ``report_rows_statements`` and the rows copied from ClickHouse."""
    return [exp.Drop(tables=[exp.Table(this=ident(REPORT_RESULTS)), exp.Table(this=ident(REPORT_ROWS))], kind="VIEW"),
            exp.Drop(tables=[exp.Table(this=ident(CLICKHOUSE_ROWS))], kind="TABLE", exists=True)]


def _report_rows() -> exp.Table:
    """The result rows the report reads one by one (``REPORT_ROWS``)."""
    return _ref(REPORT_ROWS, "r")


def _ref(name: str, alias: str) -> exp.Table:
    """A CTE or temporary table of the statement, by name, under an alias."""
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=ident(alias)))


def _groups(alias: str = "t") -> exp.Table:
    return _ref(REPORT_GROUPS, alias)


def gas_groups_cte() -> exp.CTE:
    """gas_groups: the report's groups (:func:`report_groups_statement`) one row per gas with a
    value: its name, source, sums (:func:`gas_sums`) and the group's keys; a few hundred rows
    unpivoted, not every result row."""
    per_gas = ("co2e_kg", "kg", "complete", "source_rows")
    unpivot = exp.Values(
        expressions=[
            exp.Tuple(expressions=[exp.Literal.string(gas), *[column(f"{gas.lower()}_{c}", "t") for c in (
                *_GAS_SOURCE, *per_gas)]])
            for gas in ir.GAS_ORDER
        ],
        alias=exp.TableAlias(this=ident("g"), columns=[ident(c) for c in (
            "gas", *_GAS_SOURCE, "co2e_kg", "gas_kg", "complete", "source_rows")]),
    )
    keys = ("run_id", "methodology_id", "rule_id", "entity", "data_quality", "period_year", "parted", "group_no")
    select = (
        exp.select(*[column(k, "t") for k in keys], *[column(c, "g") for c in (
            "gas", *_GAS_SOURCE, "co2e_kg", "gas_kg", "complete", "source_rows")])
        .from_(_groups())
        .join(exp.Lateral(this=unpivot), join_type="cross")
        .where(exp.not_(exp.Is(this=column("co2e_kg", "g"), expression=exp.Null())))
    )
    return exp.CTE(this=select, alias=exp.TableAlias(this=ident("gas_groups")))


def result_groups_cte() -> exp.CTE:
    """result_groups: the result rows of the runs summed per run, methodology, entity, gas, match
    level, data-quality score and year — every attribute a report groups or consolidates by —
    from the report's groups (:func:`gas_groups_cte`), which summed each result row once.

    A report never needs a single result row's amount, only sums: the joins that follow (Scope 2
    bases, ownership shares) and the report's groupings work on these groups. Exact: NUMERIC
    addition and multiplication do not round, so share × Σ amount = Σ (share × amount), scale
    included (docs/numeric-semantics.md)."""
    keys = [column(k, "g") for k in ("run_id", "methodology_id", "entity", "gas", "match_level", "data_quality", "period_year")]
    select = (
        exp.select(
            *[k.copy() for k in keys],
            exp.alias_(exp.Sum(this=column("co2e_kg", "g")), "co2e_kg"),
            exp.alias_(exp.Sum(this=column("gas_kg", "g")), "gas_kg"),
            exp.alias_(exp.Anonymous(this="BOOL_AND", expressions=[column("complete", "g")]), "gas_kg_complete"),
        )
        .from_(_ref("gas_groups", "g"))
        .group_by(*[k.copy() for k in keys])
    )
    return exp.CTE(this=select, alias=exp.TableAlias(this=ident("result_groups")), materialized=True)


def methodology_kinds_cte() -> exp.CTE:
    """methodology_kinds: each methodology of the runs with its dataset and activity type, whether
    some of its result rows are parts of an activity row split among instruments (``parted``), and
    whether its result rows are its activity rows one to one (``alone``): it has no parts and no other methodology of the runs computed the same dataset's
    rows of its activity type (location- and market-based electricity). Only the rows of the
    others are counted one by one (``DISTINCT``); the groups count the rest."""
    others = (
        exp.select(exp.Count(this=exp.Star())).from_(table("run_methodology", alias="m2"))
        .join(table("run", alias="u2"), on=eq(column("run_id", "u2"), column("run_id", "m2")))
        .where(exp.and_(
            eq(column("run_id", "m2"), any_run()),
            eq(column("dataset", "u2"), column("dataset", "u")),
            eq(column("activity_type", "m2"), column("activity_type", "m")),
        ))
    )
    parted = exp.Exists(this=exp.select(number(1)).from_(_groups("t")).where(exp.and_(
        eq(column("run_id", "t"), column("run_id", "m")),
        eq(column("methodology_id", "t"), column("methodology_id", "m")),
        column("parted", "t"),
    )))
    select = (
        exp.select(
            column("run_id", "m"), column("methodology_id", "m"), column("dataset", "u"), column("activity_type", "m"),
            exp.alias_(parted, "parted"),
            exp.alias_(exp.and_(eq(exp.Subquery(this=others), number(1)), exp.not_(parted.copy())), "alone"),
        )
        .from_(table("run_methodology", alias="m"))
        .join(table("run", alias="u"), on=eq(column("run_id", "u"), column("run_id", "m")))
        .where(eq(column("run_id", "m"), any_run()))
    )
    return exp.CTE(this=select, alias=exp.TableAlias(this=ident("methodology_kinds")), materialized=True)


def _some_methodology(condition: str, negated: bool = False) -> exp.Exists:
    """Some methodology of the runs is (or is not) ``condition`` (methodology_kinds): an
    uncorrelated condition, which PostgreSQL evaluates once before the plan under it (a one-time
    filter), so that the result rows are not scanned at all when no methodology needs them read
    row by row (the common case)."""
    flag: exp.Expression = column(condition, "x")
    return exp.Exists(this=exp.select(number(1)).from_(_ref("methodology_kinds", "x")).where(
        exp.not_(flag) if negated else flag))


def _kind_of(alias: str) -> exp.Expression:
    return exp.and_(eq(column("run_id", "k"), column("run_id", alias)),
                    eq(column("methodology_id", "k"), column("methodology_id", alias)))



def facts_cte(approach: str) -> exp.CTE:
    """facts: one row per result group (:func:`result_groups_cte`) and Scope 2 basis, consolidated.

    Scope 1 and 3 rows belong to every basis; a Scope 2 row to the basis of its method. An
    entity outside the entity set keeps its gross amount and has no consolidated one (NULL).
    Biogenic CO2 and projected lifetime emissions (one line, ``PROJECTED_LIFETIME_LINE``, in
    place of their gases) are outside the scopes.
    """
    share = column(SHARE_COLUMN[approach], "o")
    projected = eq(column("method", "m"), exp.Literal.string(PROJECTED_LIFETIME))
    select = (
        exp.select(
            column("basis", "b"), column("run_id", "r"), column("methodology_id", "r"),
            column("dataset", "u"), column("activity_type", "m"),
            column("scope", "m"), column("category", "m"), column("method", "m"),
            exp.alias_(_case((projected.copy(), exp.Literal.string(PROJECTED_LIFETIME_LINE)), default=column("gas", "r")), "gas"),
            column("match_level", "r"), column("data_quality", "r"), column("entity", "r"), column("period_year", "r"),
            exp.alias_(exp.not_(exp.Is(this=column("entity", "o"), expression=exp.Null())), "known"),
            exp.alias_(exp.or_(exp.GT(this=exp.Anonymous(this="STRPOS", expressions=[
                exp.Lower(this=column("gas", "r")), exp.Literal.string(BIOGENIC)]), expression=number(0)),
                projected.copy()), "outside_scopes"),
            exp.alias_(column("co2e_kg", "r"), "gross_kg"),
            exp.alias_(exp.Mul(this=column("co2e_kg", "r"), expression=share.copy()), "co2e_kg"),
            exp.alias_(exp.Mul(this=column("gas_kg", "r"), expression=share.copy()), "gas_kg"),
            column("gas_kg_complete", "r"),
        )
        .from_(exp.Table(this=ident("result_groups"), alias=exp.TableAlias(this=ident("r"))))
        .join(table("run_methodology", alias="m"), on=exp.and_(
            eq(column("run_id", "m"), column("run_id", "r")),
            eq(column("methodology_id", "m"), column("methodology_id", "r")),
        ))
        .join(table("run", alias="u"), on=eq(column("run_id", "u"), column("run_id", "r")))
        .join(exp.Table(this=ident("bases"), alias=exp.TableAlias(this=ident("b"))), on=exp.or_(
            exp.NEQ(this=column("scope", "m"), expression=number(2)),
            eq(column("method", "m"), column("basis", "b")),
            _location_fallback(),
        ))
        .join(exp.Table(this=ident("ownership"), alias=exp.TableAlias(this=ident("o"))),
              on=eq(column("entity", "o"), column("entity", "r")), join_type="left")
    )
    return exp.CTE(this=select, alias=exp.TableAlias(this=ident("facts")))


def _location_fallback() -> exp.Expression:
    """A location-based Scope 2 row also counts under the market-based basis when no
    market-based methodology of the runs covers its activity type (heat and steam without
    contractual instruments): the Scope 2 Guidance reports such operations' location-based
    emissions in the market-based total too."""
    market = exp.Literal.string("market-based")
    covered = exp.Exists(this=exp.select(number(1)).from_(table("run_methodology", alias="mm")).where(exp.and_(
        eq(column("run_id", "mm"), any_run()),
        eq(column("method", "mm"), market.copy()),
        eq(column("activity_type", "mm"), column("activity_type", "m")),
    )))
    return exp.and_(
        eq(column("basis", "b"), market),
        eq(column("method", "m"), exp.Literal.string("location-based")),
        exp.not_(covered),
    )


def any_run() -> exp.Expression:
    """= ANY(%(runs)s): one of the report's runs."""
    return exp.Any(this=exp.Paren(this=param("runs")))


def with_ctes(select: exp.Select, *ctes: exp.CTE) -> exp.Select:
    """select WITH RECURSIVE ctes (the ownership CTE is recursive; the others do not mind)."""
    select.set("with_", exp.With(expressions=list(ctes), recursive=True))
    return select


def sections_query(approach: str) -> exp.Select:
    """Every breakdown at once: GROUP BY basis, outside_scopes, GROUPING SETS (one per breakdown).

    ``grouping`` (GROUPING() of the dimensions) tells which breakdown a row belongs to; see
    :func:`grouping_id`. Only entities of the set count; unknown entities are coverage.

    The facts are first summed per combination of all dimensions (one pass, one hash table);
    the grouping sets then add up those few partial sums, exactly (NUMERIC), instead of
    aggregating every result row once per grouping set (docs/performance.md).
    """
    dims = [column(d, "f") for d in _DIMENSIONS]
    sets = exp.GroupingSets(expressions=[
        exp.Tuple(expressions=[column(d, "f") for d in g]) for g in GROUPINGS.values()
    ])
    keys = [column("basis", "f"), column("outside_scopes", "f"), *[d.copy() for d in dims]]
    partial = (
        exp.select(
            *[k.copy() for k in keys],
            exp.alias_(exp.Sum(this=column("co2e_kg", "f")), "co2e_kg"),
            exp.alias_(exp.Sum(this=column("gas_kg", "f")), "gas_kg"),
            exp.alias_(exp.Anonymous(this="BOOL_AND", expressions=[column("gas_kg_complete", "f")]), "gas_kg_complete"),
        )
        .from_(exp.Table(this=ident("facts"), alias=exp.TableAlias(this=ident("f"))))
        .where(column("known", "f"))
        .group_by(*[k.copy() for k in keys])
    )
    select = (
        exp.select(
            column("basis", "f"), column("outside_scopes", "f"),
            exp.alias_(exp.Anonymous(this="GROUPING", expressions=[d.copy() for d in dims]), "grouping"),
            *[d.copy() for d in dims],
            exp.alias_(exp.Sum(this=column("co2e_kg", "f")), "co2e_kg"),
            exp.alias_(exp.Sum(this=column("gas_kg", "f")), "gas_kg"),
            exp.alias_(exp.Anonymous(this="BOOL_AND", expressions=[column("gas_kg_complete", "f")]), "gas_kg_complete"),
        )
        .from_(exp.Subquery(this=partial, alias=exp.TableAlias(this=ident("f"))))
        .group_by(column("basis", "f"), column("outside_scopes", "f"), sets)
        .order_by(exp.column("grouping"), column("basis", "f"), *[d.copy() for d in dims])
    )
    return with_ctes(select, ownership_cte(), bases_cte(), gas_groups_cte(), result_groups_cte(), facts_cte(approach))


def grouping_id(names: tuple[str, ...]) -> int:
    """The value of GROUPING(scope, …, match_level) for the rows of one grouping set."""
    return sum(1 << (len(_DIMENSIONS) - 1 - i) for i, d in enumerate(_DIMENSIONS) if d not in names)


def entities_query(approach: str) -> exp.Select:
    """Every entity of the set (also those without activity rows) per basis: shares, sums, and
    the number of its activity rows with results (dataset, activity type and id: each counted
    once, whatever the basis and however many methodologies computed it).

    The sums come from the result groups (:func:`facts_cte`). The activity rows are counted
    without the bases (every result row belongs to at least one basis:
    :func:`ccf.engine.inventory.inventory._bases` takes them from the methodologies of the
    runs): from the report's groups, whose ``result_rows`` are activity rows one to one for a
    methodology ``alone`` (:func:`methodology_kinds_cte`), and one by one (a hashed DISTINCT of
    the result rows of the others only) otherwise."""
    facts = exp.Table(this=ident("facts"), alias=exp.TableAlias(this=ident("f")))
    sums = (
        exp.select(
            column("entity", "f"), column("basis", "f"),
            exp.alias_(exp.Sum(this=column("co2e_kg", "f")), "co2e_kg"),
            exp.alias_(exp.Sum(this=column("gross_kg", "f")), "gross_kg"),
        )
        .from_(facts.copy())
        .where(exp.not_(column("outside_scopes", "f")))
        .group_by(column("entity", "f"), column("basis", "f"))
    )
    # one activity row may have results under several methodologies (location- and market-based
    # electricity) or parts: those methodologies' rows are counted one by one, each once; the
    # others' result rows are their activity rows, counted by the groups
    by_groups = (
        exp.select(column("entity", "t"), exp.alias_(column("result_rows", "t"), "n"))
        .from_(_groups())
        .join(_ref("methodology_kinds", "k"), on=_kind_of("t"))
        .where(column("alone", "k"))
    )
    activity_rows_of = (
        exp.select(column("entity", "r"), column("dataset", "k"), column("activity_type", "k"), column("activity_id", "r"))
        .distinct()
        .from_(_report_rows())
        .join(_ref("methodology_kinds", "k"), on=_kind_of("r"))
        .where(exp.and_(eq(column("run_id", "r"), any_run()), exp.not_(column("alone", "k")),
                        _some_methodology("alone", negated=True)))
    )
    one_by_one = (
        exp.select(column("entity", "d"), exp.alias_(number(1), "n"))
        .from_(exp.Subquery(this=activity_rows_of, alias=exp.TableAlias(this=ident("d"))))
    )
    counts = (
        exp.select(column("entity", "c"), exp.alias_(exp.Cast(this=exp.Sum(this=column("n", "c")),
                                                              to=exp.DataType.build("BIGINT")), "activity_rows"))
        .from_(exp.Subquery(this=exp.union(by_groups, one_by_one, distinct=False), alias=exp.TableAlias(this=ident("c"))))
        .group_by(column("entity", "c"))
    )
    s_on = exp.and_(eq(column("entity", "s"), column("entity", "o")), eq(column("basis", "s"), column("basis", "b")))
    select = (
        exp.select(
            column("basis", "b"),
            *[column(c, "o") for c in OWNERSHIP_COLUMNS],
            exp.alias_(exp.Coalesce(this=column("co2e_kg", "s"), expressions=[number(0)]), "co2e_kg"),
            exp.alias_(exp.Coalesce(this=column("gross_kg", "s"), expressions=[number(0)]), "gross_kg"),
            exp.alias_(exp.Coalesce(this=column("activity_rows", "n"), expressions=[number(0)]), "activity_rows"),
        )
        .from_(exp.Table(this=ident("ownership"), alias=exp.TableAlias(this=ident("o"))))
        .join(exp.Table(this=ident("bases"), alias=exp.TableAlias(this=ident("b"))), join_type="cross")
        .join(exp.Subquery(this=sums, alias=exp.TableAlias(this=ident("s"))), on=s_on, join_type="left")
        .join(exp.Subquery(this=counts, alias=exp.TableAlias(this=ident("n"))),
              on=eq(column("entity", "n"), column("entity", "o")), join_type="left")
        .order_by(column("path", "o"), column("basis", "b"))
    )
    return with_ctes(select, ownership_cte(), bases_cte(), gas_groups_cte(), result_groups_cte(), facts_cte(approach),
                     methodology_kinds_cte())


def unknown_entities_query() -> exp.Select:
    """Result rows of %(runs)s whose entity is not in the set: activity rows and gross kg (every
    gas's kg CO2e, biogenic CO2 too), per run, methodology and entity (they are reported as
    coverage, never silently dropped).

    From the report's groups: a methodology's result rows are its activity rows unless it has
    parts (``methodology_kinds``), whose activity rows are counted one by one (only when there
    are such methodologies). The gross kg is the sum of the groups' sums, as exact as the sum of
    the rows (the scale of a NUMERIC sum is the largest of its terms', either way)."""
    outside = exp.Is(this=column("entity", "o"), expression=exp.Null())
    by_groups = (
        exp.select(
            column("run_id", "t"), column("methodology_id", "t"), column("entity", "t"),
            exp.alias_(_case((column("parted", "k"), number(0)), default=column("result_rows", "t")), "activity_rows"),
            exp.alias_(exp.Add(this=column("total_co2e_kg", "t"), expression=exp.Coalesce(
                this=column("co2_biogenic_co2e_kg", "t"), expressions=[number(0)])), "gross_kg"),
        )
        .from_(_groups())
        .join(_ref("methodology_kinds", "k"), on=_kind_of("t"))
        .join(_ref("ownership", "o"), on=eq(column("entity", "o"), column("entity", "t")), join_type="left")
        .where(outside.copy())
    )
    one_by_one = (
        exp.select(
            column("run_id", "r"), column("methodology_id", "r"), column("entity", "r"),
            exp.Count(this=exp.Distinct(expressions=[column("activity_id", "r")])),
            exp.alias_(exp.Cast(this=exp.Null(), to=exp.DataType.build("NUMERIC")), "gross_kg"),
        )
        .from_(_report_rows())
        .join(_ref("methodology_kinds", "k"), on=_kind_of("r"))
        .join(_ref("ownership", "o"), on=eq(column("entity", "o"), column("entity", "r")), join_type="left")
        .where(exp.and_(eq(column("run_id", "r"), any_run()), column("parted", "k"), outside.copy(),
                        _some_methodology("parted")))
        .group_by(column("run_id", "r"), column("methodology_id", "r"), column("entity", "r"))
    )
    keys = [column(c, "u") for c in ("run_id", "methodology_id", "entity")]
    select = (
        exp.select(
            *keys,
            exp.alias_(exp.Cast(this=exp.Sum(this=column("activity_rows", "u")), to=exp.DataType.build("BIGINT")), "activity_rows"),
            exp.alias_(exp.Sum(this=column("gross_kg", "u")), "gross_kg"),
        )
        .from_(exp.Subquery(this=exp.union(by_groups, one_by_one, distinct=False), alias=exp.TableAlias(this=ident("u"))))
        .group_by(*[k.copy() for k in keys])
        .order_by(*[k.copy() for k in keys])
    )
    return with_ctes(select, ownership_cte(), methodology_kinds_cte())


def ownership_query() -> exp.Select:
    """The entity set as a tree (depth-first by path) with the link's own columns and the
    effective share under every approach (``ccf entities show``)."""
    link_cols = ("equity_share", "financial_control", "joint_financial_control", "operational_control", "line_no")
    select = (
        exp.select(
            *[column(c, "o") for c in OWNERSHIP_COLUMNS if c != "path"],
            *[exp.alias_(column(c, "e"), f"link_{c}") for c in link_cols],
        )
        .from_(exp.Table(this=ident("ownership"), alias=exp.TableAlias(this=ident("o"))))
        .join(table("entity", alias="e"), on=exp.and_(
            eq(column("entity_set", "e"), param("entity_set")), eq(column("entity", "e"), column("entity", "o"))))
        .order_by(column("path", "o"))
    )
    return with_ctes(select, ownership_cte())


def runs_query() -> exp.Select:
    """The methodologies of the runs %(runs)s with their reconciliation counts."""
    cols = ("methodology_id", "version", "content_hash", "scope", "category", "method", "factor_set", "gwp",
            "rows_in", "rows_result", "rows_excluded", "rows_unmatched", "rows_rejected",
            "factor_set_named", "edition_period", "edition_fallback")
    return (
        exp.select(column("run_id", "r"), column("dataset", "r"), *[column(c, "m") for c in cols])
        .from_(table("run", alias="r"))
        .join(table("run_methodology", alias="m"), on=eq(column("run_id", "m"), column("run_id", "r")))
        .where(eq(column("run_id", "r"), any_run()))
        .order_by(column("run_id", "r"), column("scope", "m"), column("category", "m"), column("methodology_id", "m"))
    )


def unallocated_instruments_query() -> exp.Select:
    """Contractual instrument volume the runs %(runs)s could not allocate (market-based Scope 2)."""
    cols = ("run_id", "methodology_id", "instrument_id", "entity", "unit", "quantity", "unallocated", "reason_code", "reason")
    return (
        exp.select(*[column(c, "u") for c in cols])
        .from_(table("unallocated_instrument", alias="u"))
        .where(eq(column("run_id", "u"), any_run()))
        .order_by(column("run_id", "u"), column("methodology_id", "u"), column("instrument_id", "u"))
    )


# Planner settings for the report's queries, for the length of its transaction:
# - work_mem: with the server default (4MB) the distinct activity rows of the entity breakdown
#   (1.7M result rows at 1M activity rows) spilled to disk;
# - enable_sort off: the planner misjudges how many result rows a run has after the joins and
#   picks sort-based DISTINCT and grouping; sorting text under the database's collation is the
#   slow part (the entity breakdown's 1.7M distinct keys: 6.6 s sorted, 2.0 s hashed at 1M
#   activity rows, docs/performance.md). A sort the query needs (ORDER BY) still happens.
REPORT_SETTINGS = {"work_mem": "64MB", "enable_sort": "off"}


def set_settings_query(names: tuple[str, ...]) -> exp.Select:
    """Each setting as it was, and set to %(<name>)s until the end of the transaction (like SET
    LOCAL; a rolled-back savepoint undoes it too)."""
    return exp.select(*[
        e for n in names for e in (
            exp.Anonymous(this="current_setting", expressions=[exp.Literal.string(n)]),
            exp.Anonymous(this="set_config", expressions=[exp.Literal.string(n), param(n), exp.true()]),
        )
    ])


def known_runs_query() -> exp.Select:
    """Which of the run ids %(runs)s exist."""
    return (
        exp.select(column("run_id")).from_(table("run"))
        .where(eq(column("run_id"), any_run()))
    )


def run_datasets_query() -> exp.Select:
    """The dataset of each run of %(runs)s and the entity set it is bound to (or NULL)."""
    return (
        exp.select(column("dataset", "r"), column("entity_set", "d")).distinct()
        .from_(table("run", alias="r"))
        .join(table("dataset", alias="d"), on=eq(column("dataset", "d"), column("dataset", "r")), join_type="left")
        .where(eq(column("run_id", "r"), any_run()))
        .order_by(column("dataset", "r"))
    )


def entities_outside_sets_query() -> exp.Select:
    """Each loaded entity set with each entity of %(runs)s's results that it lacks (a set with
    no row here holds every one of them): the entities of the report's groups, which hold those
    of the runs on either engine."""
    ran = exp.CTE(
        this=exp.select(column("entity")).distinct().from_(exp.Table(this=ident(REPORT_GROUPS))).where(
            eq(column("run_id"), any_run())),
        alias=exp.TableAlias(this=ident("ran")),
    )
    member = (
        exp.select(number(1)).from_(table("entity", alias="e"))
        .where(exp.and_(eq(column("entity_set", "e"), column("entity_set", "s")), eq(column("entity", "e"), column("entity", "x"))))
    )
    select = (
        exp.select(column("entity_set", "s"), column("entity", "x"))
        .from_(table("entity_set", alias="s"))
        .join(exp.Table(this=ident("ran"), alias=exp.TableAlias(this=ident("x"))), join_type="cross")
        .where(exp.Not(this=exp.Exists(this=member)))
        .order_by(column("entity_set", "s"), column("entity", "x"))
    )
    select.set("with_", exp.With(expressions=[ran]))
    return select


def tiers_query(approach: str) -> exp.Select:
    """Scope 1 and 2 and Scope 3 category 3 (``tiers.tiered``) per methodology, rule and source:
    the tier of each result (its rule in the methodology's hierarchy) and its source (the factor
    set edition its factors were read from, or a certificate part's instrument), consolidated
    under ``approach`` over the entities of the set, with the number of activity rows.
    Outside-the-scopes gases are left out, as from every total.

    From the report's groups (:func:`gas_groups_cte`): a group's result rows are activity rows
    (one rule per row), each counted once under each source its gases name (``source_rows``). The
    rows of a methodology with parts (``methodology_kinds``), which may name one source in
    several parts, are summed per activity row first (read through ``ccf.result``, only when
    there are such methodologies), then counted. Exact either way: a NUMERIC sum of sums is the
    sum, scale included; share × Σ amount = Σ (share × amount)."""
    share = column(SHARE_COLUMN[approach], "o")
    names = ("scope", "methodology_id", "version", "rule_id", "factor_set")

    def keys(alias: str) -> list[exp.Expression]:
        return [column("scope", "m"), column("methodology_id", alias), column("version", "m"), column("rule_id", alias),
                exp.Coalesce(this=column("factor_set", alias), expressions=[column("factor_set", "m")])]

    def tiered_of(alias: str, source: exp.Table, parted: bool) -> exp.Select:
        return (
            exp.select()
            .from_(source)
            .join(table("run_methodology", alias="m"), on=exp.and_(
                eq(column("run_id", "m"), column("run_id", alias)),
                eq(column("methodology_id", "m"), column("methodology_id", alias)),
            ))
            .join(_ref("methodology_kinds", "k"), on=_kind_of(alias))
            .join(_ref("ownership", "o"), on=eq(column("entity", "o"), column("entity", alias)))
            .where(exp.and_(
                tiered(column("scope", "m"), column("category", "m")),
                column("parted", "k") if parted else exp.not_(column("parted", "k")),
                # = STRPOS(…) = 0 (no biogenic in the label), written so that the planner expects
                # most rows to pass: its default guess for a function's result (0.5%) made it
                # loop over the ownership rows once per row
                exp.Not(this=exp.Like(this=exp.Lower(this=column("gas", alias)), expression=exp.Literal.string(f"%{BIOGENIC}%"))),
            ))
        )

    weighted = lambda alias: exp.alias_(  # noqa: E731
        exp.Sum(this=exp.Mul(this=column("co2e_kg", alias), expression=share.copy())), "co2e_kg")
    # per group and source: the rows naming it (once, whatever the number of its gases) and kg CO2e
    per_group = tiered_of("g", _ref("gas_groups", "g"), parted=False)
    per_group = per_group.select(
        *[exp.alias_(k, n) for k, n in zip(keys("g"), names)], exp.alias_(column("source_rows", "g"), "activity_rows"),
        weighted("g"),
    ).group_by(*keys("g"), column("group_no", "g"), column("source_rows", "g"))
    # per activity row and source, for methodologies with parts
    per_row = tiered_of("r", _ref(REPORT_RESULTS, "r"), parted=True)
    per_row = per_row.select(
        *[exp.alias_(k, n) for k, n in zip(keys("r"), names)], exp.alias_(number(1), "activity_rows"), weighted("r"),
    ).where(exp.and_(eq(column("run_id", "r"), any_run()), _some_methodology("parted")), append=True).group_by(
        *keys("r"), column("run_id", "r"), column("activity_id", "r"))
    outer = [column(n, "a") for n in names]
    select = (
        exp.select(*[k.copy() for k in outer],
                   exp.Cast(this=exp.Sum(this=column("activity_rows", "a")), to=exp.DataType.build("BIGINT")),
                   exp.Sum(this=column("co2e_kg", "a")))
        .from_(exp.Subquery(this=exp.union(per_group, per_row, distinct=False), alias=exp.TableAlias(this=ident("a"))))
        .group_by(*[k.copy() for k in outer])
        .order_by(*[k.copy() for k in outer])
    )
    return with_ctes(select, ownership_cte(), gas_groups_cte(), methodology_kinds_cte())
