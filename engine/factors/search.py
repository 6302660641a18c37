"""``ccf factors search``: the installed factors that fit an author's filters and words, ranked.

Filters (each optional, all combinable with the words): the set (a declared set id, meaning every
installed edition of it, or an edition id), the region, the year, the unit a factor is stated
per (any spelling ``dsl/units`` reads: ``litres`` finds DESNZ's ``L``), the gas. Every word must
occur (case-insensitive, ``%`` and ``_`` literal) in the factor's name, its id or one of its
attribute values.

Ranking is one set-based query (``ORDER BY … LIMIT``): the filters and words leave up to every
factor of the installed sets (≈ 18,000; DESNZ holds 7,029 per edition) and ranking them where they
are costs no more than filtering them, while ranking in Python would first fetch every candidate
(measured in docs/commands.md, "ccf factors search"). The order, deterministic:

1. factors with every word in their name or attribute values before those where a word is found
   only in the factor id;
2. factors with a name or an attribute value equal to the whole text (case-insensitive) before
   those that only contain the words;
3. factors with every word as a whole word (``diesel`` in ``Diesel (100% mineral diesel)``) before
   those where a word is only part of one (``Biodiesel``);
4. the edition of the most recent year first (an edition without a year last);
5. the factor's place in its published file (publishers list a table's main rows first), then
   factor id, then edition id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError, did_you_mean
from ccf.dsl.units import DIMENSIONLESS, UnitError, parse_unit, registry
from ccf.engine.sql import Executor, column, ident, param, table

DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Filters:
    """What ``ccf factors search`` narrows the factors to besides its words (None: any)."""

    set_id: str | None = None
    region: str | None = None
    year: int | None = None
    unit: str | None = None
    gas: str | None = None


def decimal_text(value) -> str:
    """A value's exact decimal text, without an exponent (0.000092, not 9.2E-5)."""
    return format(value, "f")


def like_pattern(term: str) -> str:
    """An ILIKE pattern matching the term anywhere, its own % _ and \\ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def word_pattern(term: str) -> str:
    """A PostgreSQL regular expression finding the term as a whole word (not inside another),
    its own characters taken literally (an ARE reads a backslash before punctuation as that
    character, so ``re.escape`` suffices)."""
    return f"(^|[^[:alnum:]]){re.escape(term)}([^[:alnum:]]|$)"


def _attribute_values(predicate) -> exp.Exists:
    """EXISTS an attribute value ``v`` of the factor ``f`` for which ``predicate(v)`` holds."""
    each = exp.Table(this=exp.Anonymous(this="jsonb_each_text", expressions=[column("attributes", "f")]),
                     alias=exp.TableAlias(this=ident("a"), columns=[ident("k"), ident("v")]))
    return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(each).where(predicate(column("v", "a"))))


def _distinct(ex: Executor, name: str) -> list[str]:
    return [r[0] for r in ex.rows(exp.select(column(name)).distinct().from_(table("factor")).order_by(column(name)))]


def editions_named(ex: Executor, set_id: str, factor_sets: Mapping[str, Any] | None) -> list[str]:
    """The installed editions ``--set`` names (their keys): the edition itself, or every edition
    of a declared set; among the shared ones and the session organisation's own (store.visible_sets)."""
    from ccf.engine.factors.store import visible_sets

    keys = visible_sets(ex)
    installed = sorted(keys)
    if set_id in keys:
        return [keys[set_id]]
    if factor_sets is None:
        from ccf.engine import api

        factor_sets = api.library().factor_sets
    declared = factor_sets.get(set_id)
    if isinstance(declared, ir.FactorSet) and declared.edition(set_id) is None:
        editions = [keys[e.id] for e in declared.editions if e.id in keys]
        if editions:
            return editions
        raise CcfError(f"no edition of factor set {set_id} is installed (declared: "
                       f"{', '.join(e.id for e in declared.editions)}; see 'ccf factors list')")
    families = [n for n, fs in factor_sets.items() if isinstance(fs, ir.FactorSet) and fs.edition(n) is None]
    hint = did_you_mean(set_id, installed + families)
    raise CcfError(f"no factor set {set_id!r} installed; "
                   + (hint or "installed: " + (", ".join(installed) or "none")) + " (see 'ccf factors list')")


def _gas(ex: Executor, gas: str) -> str:
    """The gas as the factors spell it (``co2`` is ``CO2``), or the error naming the closest."""
    known = _distinct(ex, "gas")
    same = [g for g in known if g.lower() == gas.lower()]
    if same:
        return same[0]
    hint = did_you_mean(gas, known)
    raise CcfError(f"no factor is of gas {gas!r}; " + (hint or "gases: " + ", ".join(known)))


def _units(ex: Executor, unit: str) -> list[str]:
    """The stored per-units that mean ``unit``: its own spelling, else every stored spelling of
    the same unit (``litres`` is ``L``, ``tonne.km`` is ``t.km``)."""
    known = _distinct(ex, "unit")
    if unit in known:
        return [unit]
    same = [k for k in known if _same_unit(k, unit)]
    if same:
        return same
    hint = did_you_mean(unit, known)
    raise CcfError(f"no factor is stated per {unit!r}; " + (hint or "units: " + ", ".join(known)))


def _same_unit(a: str, b: str) -> bool:
    """Whether two spellings are one unit. The registry reads a word that counts things
    (``passenger``, ``room``) as 1, so ``km`` and ``passenger.km`` have one scale and dimension:
    they must also count the same things."""
    try:
        ua, ub = parse_unit(a), parse_unit(b)
    except UnitError:
        return False
    return (ua.scale, ua.dimension) == (ub.scale, ub.dimension) and _counted(a) == _counted(b)


def _counted(unit: str) -> list[str]:
    """The words of a unit that count things (registered as dimensionless), sorted."""
    reg = registry().units
    terms = (re.sub(r"(\^-?\d+|[²³])$", "", t.strip()) for t in re.split(r"[./*·]", unit))
    return sorted(t for t in terms if t in reg and reg[t].dimension == DIMENSIONLESS)


def factors_search(conn: psycopg.Connection, text: str, set_id: str | None = None, limit: int = DEFAULT_LIMIT,
                   filters: Filters | None = None, factor_sets: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The factors that pass ``filters`` (``set_id`` is ``filters.set_id``) and contain every word
    of ``text``, ranked (module docstring); at most ``limit`` of them."""
    ex = Executor(conn)
    f = filters or Filters(set_id=set_id)
    words = text.split()
    if not words and f == Filters():
        raise CcfError("nothing to search for: give one or more words, or a filter (--set, --region, --year, --unit, --gas)")
    if limit < 1:
        raise CcfError(f"--limit must be at least 1, not {limit}")
    params: dict[str, Any] = {"limit": limit, "text": " ".join(words).lower()}
    where: list[exp.Expression] = []
    if f.set_id is not None:
        params["sets"] = editions_named(ex, f.set_id, factor_sets)
        where.append(exp.EQ(this=column("set_id", "s"), expression=exp.Any(this=exp.Paren(this=exp.Cast(this=param("sets"), to=exp.DataType.build("TEXT[]"))))))
    if f.gas is not None:
        params["gas"] = _gas(ex, f.gas)
        where.append(exp.EQ(this=column("gas", "f"), expression=param("gas")))
    if f.unit is not None:
        params["units"] = _units(ex, f.unit)
        where.append(exp.EQ(this=column("unit", "f"), expression=exp.Any(this=exp.Paren(this=exp.Cast(this=param("units"), to=exp.DataType.build("TEXT[]"))))))
    region = exp.Coalesce(this=column("region", "f"), expressions=[column("region", "s")])
    year = exp.Coalesce(this=column("factor_year", "f"), expressions=[column("factor_year", "s")])
    if f.region is not None:
        params["region"] = f.region.upper()
        where.append(exp.EQ(this=exp.Upper(this=region.copy()), expression=param("region")))
    if f.year is not None:
        params["year"] = f.year
        where.append(exp.EQ(this=year.copy(), expression=param("year")))
    in_text: list[exp.Expression] = []
    whole: list[exp.Expression] = []
    for i, word in enumerate(words):
        key = f"w{i}"
        params[key] = like_pattern(word)
        params[f"{key}_whole"] = word_pattern(word)
        found = exp.or_(exp.ILike(this=column("name", "f"), expression=param(key)),
                        _attribute_values(lambda v, key=key: exp.ILike(this=v, expression=param(key))))
        in_text.append(found)
        whole.append(exp.RegexpILike(this=column("name", "f"), expression=param(f"{key}_whole")))
        where.append(exp.or_(found.copy(), exp.ILike(this=column("factor_id", "f"), expression=param(key))))
    lower = lambda e: exp.Lower(this=e)  # noqa: E731
    exact = exp.or_(exp.EQ(this=lower(column("name", "f")), expression=param("text")),
                    _attribute_values(lambda v: exp.EQ(this=lower(v), expression=param("text"))))
    first = lambda cond: exp.Ordered(this=exp.Case(ifs=[exp.If(this=cond, true=exp.Literal.number(0))],  # noqa: E731
                                                   default=exp.Literal.number(1)))
    order = ([first(exp.and_(*in_text)), first(exact), first(exp.and_(*whole))] if words else []) + [
        exp.Ordered(this=column("factor_year", "s"), desc=True, nulls_first=False),
        column("source_line", "f"), column("factor_id", "f"), column("set_id", "s")]
    query = (
        exp.select(*[column(c, "s") for c in ("set_id", "edition", "gas_units")],
                   *[column(c, "f") for c in ("factor_id", "name", "unit", "gas", "value", "attributes")],
                   region, year)
        .from_(table("factor", alias="f"))
        .join(table("factor_set", alias="s"),
              on=exp.EQ(this=column("factor_set_id", "f"), expression=column("factor_set_id", "s")))
        .order_by(*order)
        .limit(param("limit"))
    )
    if where:
        query = query.where(exp.and_(*where))
    return [
        {"set": s, "edition": ed, "factor_id": fid, "name": name, "gas": gas, "value": decimal_text(value),
         "value_unit": dict(map(tuple, units["gases"])).get(gas), "per": per, "region": reg, "year": yr,
         "attributes": attrs}
        for s, ed, units, fid, name, per, gas, value, attrs, reg, yr in ex.rows(query, params)
    ]
