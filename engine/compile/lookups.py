"""Factor lookups lowered to SQL: each resolved once per distinct key, never per activity row.

Per lookup up to three CTEs of the ``evaluate`` statement (``lookup_ctes``): the distinct keys,
every qualifying factor ranked by fallback level, and the best rank per key and gas. With two
or more lookups keyed by the rows, one ``lookup_keys`` CTE finds all their keys in a single scan
(``shared_keys_cte``). The ``joined`` step (evaluate.py) then joins each resolved lookup to the
rows on their keys (``key_columns``).

A lookup may read another factor set than the methodology's (``factor_set:`` on the lookup):
it is then bound to its own parameter (``lookup_set_params``).
"""

from __future__ import annotations

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.units import dimension_key, fraction_to_decimal, parse_unit
from ccf.engine.compile.expressions import ExpressionCompiler
from ccf.engine.sql import column, func, ident, number, param, table, text


def set_param(lk: ir.FactorLookup) -> str:
    """The bound parameter holding the ccf.factor_set key of the set a lookup reads."""
    return "factor_set_id" if lk.factor_set is None else f"factor_set_id__{lk.name}"


def lookup_set_params(m: ir.Methodology) -> dict[str, str]:
    """Bound parameter -> factor-set id, for each used lookup that reads another factor set than
    the methodology's (``factor_set:`` on the lookup); the run binds each to the installed
    edition's key, or to NULL when the set is not installed (the lookup then finds nothing)."""
    return {set_param(lk): lk.factor_set for lk in m.lookups if lk.factor_set is not None and lk.gases}


def reads_other_sets(m: ir.Methodology) -> bool:
    """Whether a used lookup reads another factor set than the methodology's: its result rows
    then name the set of their factors."""
    return any(lk.factor_set is not None and lk.gases for lk in m.lookups)


def key_columns(lk: ir.FactorLookup) -> list[tuple[str, ir.Node]]:
    """The row-dependent keys of a lookup: match attributes, then region and year."""
    cols = [(f"key_{name}", node) for name, node in lk.match]
    if lk.region is not None:
        cols.append(("key_region", lk.region))
    if lk.year is not None:
        cols.append(("key_year", lk.year))
    return cols


SHARED_KEYS = "lookup_keys"


def _keys_from_rows(lk: ir.FactorLookup) -> bool:
    """Whether a lookup is resolved per distinct key of the activity rows (True) or per distinct
    key of the factor set (False).

    A lookup whose keys are only match attributes (``attribute = row value``) has one answer per
    attribute value the factor set holds: it is resolved for every such value, from the factor
    rows alone, and the activity rows are joined to it once (a row whose value the set does not
    hold finds no row: unmatched, as before). This saves a scan of the activity rows for their
    distinct keys (docs/performance.md, matching). A region or year key is resolved through a
    fallback chain that depends on the row's own value (its ancestors; the latest year not after
    it), so those lookups are resolved per distinct key of the rows."""
    return lk.region is not None or lk.year is not None


def shared_keys_cte(m: ir.Methodology) -> list[tuple[str, exp.Expression]]:
    """With several lookups resolved per row key, every such lookup's keys from ONE scan of the
    activity rows (``lookup_keys``, materialised): each ``factor_<name>_keys`` then reads this
    small set instead of scanning the activity rows again (docs/performance.md, matching)."""
    keyed = [lk for lk in m.lookups if key_columns(lk) and _keys_from_rows(lk)]
    if len(keyed) < 2:
        return []
    row = ExpressionCompiler("a")
    cols = [exp.alias_(row(node), f"{lk.name}__{col}") for lk in keyed for col, node in key_columns(lk)]
    return [(SHARED_KEYS, exp.select(*cols).distinct().from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a")))))]


def lookup_ctes(lk: ir.FactorLookup, shared: bool = False) -> list[tuple[str, exp.Expression]]:
    """Resolve a lookup once per distinct key, never per activity row: per key of the dataset
    when the lookup falls back by region or year, else per key of the factor set
    (``_keys_from_rows``).

    ``factor_<name>_keys``    the distinct keys the rows carry (from ``lookup_keys`` if shared;
                              only for a lookup resolved per key of the rows);
    ``factor_<name>_ranked``  every qualifying factor per key and gas, ranked by fallback level
                              (nearest region, latest year not after the row's, own unit first);
    ``factor_<name>``         the best rank per key: value, factor id, level and candidate count
                              (more than one at the best rank is ambiguous).
    """
    f, k = "f", "k"
    per = parse_unit(lk.per)
    keys = key_columns(lk)
    attr = lambda name: exp.JSONExtractScalar(this=column("attributes", f), expression=text(name))  # noqa: E731
    ctes: list[tuple[str, exp.Expression]] = []
    from_rows = _keys_from_rows(lk)  # else every key the factor set holds (_keys_from_rows)
    if keys and from_rows and shared:
        distinct = exp.select(*[exp.alias_(column(f"{lk.name}__{col}", "s"), col) for col, _ in keys]).distinct()
        ctes.append((f"factor_{lk.name}_keys", distinct.from_(exp.Table(this=ident(SHARED_KEYS), alias=exp.TableAlias(this=ident("s"))))))
    elif keys and from_rows:
        row = ExpressionCompiler("a")
        distinct = exp.select(*[exp.alias_(row(node), col) for col, node in keys]).distinct()
        ctes.append((f"factor_{lk.name}_keys", distinct.from_(exp.Table(this=ident("activity"), alias=exp.TableAlias(this=ident("a"))))))

    conds: list[exp.Expression] = [
        exp.EQ(this=column("factor_set_id", f), expression=param(set_param(lk))),
        exp.EQ(this=column("dimension", "fu"), expression=text(dimension_key(per.dimension))),
        exp.In(this=column("gas", f), expressions=[text(g) for g in lk.gases]),
    ]
    conds += [exp.EQ(this=attr(name), expression=text(value)) for name, value in lk.select]
    if from_rows:
        conds += [exp.EQ(this=attr(name), expression=column(f"key_{name}", k)) for name, _ in lk.match]
    if lk.region is not None:
        conds.append(
            exp.EQ(
                this=exp.Coalesce(this=column("region", f), expressions=[text(WORLD)]),
                expression=column("ancestor", "ra"),
            )
        )
    if lk.year is not None:
        conds.append(
            exp.Or(
                this=exp.LTE(this=column("factor_year", f), expression=column("key_year", k)),
                expression=exp.Is(this=column("factor_year", f), expression=exp.Null()),
            )
        )
    own_unit = exp.EQ(this=column("unit", f), expression=text(lk.per))
    value = exp.Case(
        ifs=[exp.If(this=own_unit.copy(), true=column("value", f))],
        default=func("div", exp.Mul(this=column("value", f), expression=number(fraction_to_decimal(per.scale))), column("scale", "fu"), schema="ccf"),
    )
    order: list[exp.Expression] = []
    if lk.region is not None:
        order.append(column("depth", "ra"))
    if lk.year is not None:
        order.append(exp.Ordered(this=column("factor_year", f), desc=True, nulls_first=False))
    order.append(exp.NEQ(this=column("unit", f), expression=text(lk.per)))
    # the key columns: the row keys' values, or (resolved from the factor set) the attributes
    key_values = [column(col, k) for col, _ in keys] if from_rows else [attr(name) for name, _ in lk.match]
    rank = exp.Window(
        this=exp.Anonymous(this="RANK"),
        partition_by=[v.copy() for v in key_values] + [column("gas", f)],
        order=exp.Order(expressions=order),
    )
    ranked = exp.select(
        *[v if from_rows else exp.alias_(v, col) for v, (col, _) in zip(key_values, keys)],
        column("gas", f),
        column("factor_id", f),
        exp.alias_(value, "value"),
        exp.alias_(_match_level(lk), "match_level"),
        exp.alias_(rank, "fallback_rank"),
    )
    if keys and from_rows:
        ranked = ranked.from_(exp.Table(this=ident(f"factor_{lk.name}_keys"), alias=exp.TableAlias(this=ident(k))))
        if lk.region is not None:
            ranked = ranked.join(_region_chain(), join_type="cross")
        ranked = ranked.join(table("factor", alias=f), on=exp.true())
    else:
        ranked = ranked.from_(table("factor", alias=f))
    ranked = ranked.join(table("unit", alias="fu"), on=exp.EQ(this=column("name", "fu"), expression=column("unit", f)))
    ranked = ranked.where(exp.and_(*conds))
    ctes.append((f"factor_{lk.name}_ranked", ranked))

    cols: list[exp.Expression] = [column(col) for col, _ in keys]
    for gas in lk.gases:
        is_gas = lambda: exp.Where(this=exp.EQ(this=column("gas"), expression=text(gas)))  # noqa: E731
        cols += [
            exp.alias_(exp.Filter(this=exp.Count(this=exp.Star()), expression=is_gas()), f"{gas.lower()}_n"),
            exp.alias_(exp.Filter(this=exp.Min(this=column("value")), expression=is_gas()), gas.lower()),
            exp.alias_(exp.Filter(this=exp.Min(this=column("factor_id")), expression=is_gas()), f"{gas.lower()}_id"),
            exp.alias_(exp.Filter(this=exp.Min(this=column("match_level")), expression=is_gas()), f"{gas.lower()}_level"),
        ]
    best = (
        exp.select(*cols)
        .from_(exp.Table(this=ident(f"factor_{lk.name}_ranked")))
        .where(exp.EQ(this=column("fallback_rank"), expression=exp.Literal.number(1)))
    )
    if keys:
        best = best.group_by(*[column(col) for col, _ in keys])
    ctes.append((f"factor_{lk.name}", best))
    return ctes


WORLD = "WORLD"


def _region_chain() -> exp.Expression:
    """The row region's ancestors with their distance: from ccf.region_ancestor, or for a region
    the hierarchy does not list, the region itself (0) and WORLD (1)."""
    unknown = exp.Not(
        this=exp.Exists(
            this=exp.select(exp.Literal.number(1))
            .from_(table("region", alias="r"))
            .where(exp.EQ(this=column("code", "r"), expression=column("key_region", "k")))
        )
    )
    listed = (
        exp.select(column("ancestor", "x"), column("depth", "x"))
        .from_(table("region_ancestor", alias="x"))
        .where(exp.EQ(this=column("region", "x"), expression=column("key_region", "k")))
    )
    itself = exp.select(column("key_region", "k"), exp.Literal.number(0)).where(unknown)
    world = exp.select(text(WORLD), exp.Literal.number(1)).where(unknown.copy())
    chain = exp.union(exp.union(listed, itself, distinct=False), world, distinct=False)
    return exp.Lateral(
        this=exp.Subquery(this=chain),
        alias=exp.TableAlias(this=ident("ra"), columns=[ident("ancestor"), ident("depth")]),
    )


def _match_level(lk: ir.FactorLookup) -> exp.Expression:
    """'exact', or the fallbacks taken: 'region US for SRSO; year 2023 for 2024; stated per MWh'."""
    parts: list[exp.Expression] = []
    if lk.region is not None:
        parts.append(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.GT(this=column("depth", "ra"), expression=exp.Literal.number(0)),
                        true=exp.Concat(expressions=[text("region "), column("ancestor", "ra"), text(" for "), column("key_region", "k")]),
                    )
                ]
            )
        )
    if lk.year is not None:
        parts.append(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.LT(this=column("factor_year", "f"), expression=column("key_year", "k")),
                        true=exp.Concat(expressions=[text("year "), column("factor_year", "f"), text(" for "), column("key_year", "k")]),
                    )
                ]
            )
        )
    parts.append(
        exp.Case(
            ifs=[
                exp.If(
                    this=exp.NEQ(this=column("unit", "f"), expression=text(lk.per)),
                    true=exp.Concat(expressions=[text("stated per "), column("unit", "f")]),
                )
            ]
        )
    )
    joined = exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), *parts])
    return exp.Coalesce(this=exp.Nullif(this=joined, expression=text("")), expressions=[text("exact")])
