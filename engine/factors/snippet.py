"""A ready-to-paste factor lookup (``factors:`` entry) that finds exactly one installed factor.

Built from the set's declaration (``methodologies/factor_sets/<set>.yaml``: the attributes a
``select`` may name) and the factors of the edition: the lookup selects, in the declared order,
the fewest of the factor's attribute values that leave it the only factor of its gas stated per
its unit — the factors a lookup compares for one gas (engine/compile/lookups.py). Where its
attributes are shared with factors of other regions or years, the lookup names the factor's
region and year as fixed keys (a lookup takes a factor of the row's region and year first).
The same ``select`` gives the factor's siblings of the other gases, which the snippet names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

import psycopg
import yaml
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.engine.factors.search import decimal_text, editions_named
from ccf.engine.sql import Executor, column, param, table


@dataclass(frozen=True)
class _Factor:
    factor_id: str
    name: str
    gas: str
    value: Any
    attributes: dict[str, str]
    region: str | None
    year: int | None


def _declared(factor_sets: Mapping[str, Any], edition: str) -> ir.FactorSet:
    declared = factor_sets.get(edition)
    if not isinstance(declared, ir.FactorSet):
        raise CcfError(f"{edition} is not a declared factor set (methodologies/factor_sets/): a lookup cannot read it")
    return declared


def _factors(ex: Executor, edition: str, unit: str) -> list[_Factor]:
    """Every factor of one edition stated per ``unit``, in file order."""
    cols = ("factor_id", "name", "gas", "value", "attributes", "region", "factor_year")
    rows = ex.rows(
        exp.select(*[column(c, "f") for c in cols])
        .from_(table("factor", alias="f"))
        .join(table("factor_set", alias="s"),
              on=exp.EQ(this=column("factor_set_id", "f"), expression=column("factor_set_id", "s")))
        .where(exp.and_(exp.EQ(this=column("set_id", "s"), expression=param("set")),
                        exp.EQ(this=column("unit", "f"), expression=param("unit"))))
        .order_by(column("source_line", "f"), column("factor_id", "f")),
        {"set": edition, "unit": unit},
    )
    return [_Factor(*r) for r in rows]


def _locate(ex: Executor, factor_id: str, set_id: str | None, factor_sets: Mapping[str, Any]) -> tuple[str, str]:
    """The edition holding ``factor_id`` (within ``set_id`` when given) and the factor's unit."""
    where = exp.EQ(this=column("factor_id", "f"), expression=param("factor_id"))
    params: dict[str, Any] = {"factor_id": factor_id}
    if set_id is not None:
        params["sets"] = editions_named(ex, set_id, factor_sets)
        where = exp.and_(where, exp.EQ(this=column("set_id", "s"), expression=exp.Any(this=exp.Paren(this=exp.Cast(this=param("sets"), to=exp.DataType.build("TEXT[]"))))))
    rows = ex.rows(
        exp.select(column("set_id", "s"), column("unit", "f"))
        .from_(table("factor", alias="f"))
        .join(table("factor_set", alias="s"),
              on=exp.EQ(this=column("factor_set_id", "f"), expression=column("factor_set_id", "s")))
        .where(where).order_by(column("set_id", "s")),
        params,
    )
    if not rows:
        raise CcfError(f"no factor {factor_id!r}" + (f" in {set_id}" if set_id else " in any installed set")
                       + " (see 'ccf factors search')")
    if len(rows) > 1:
        raise CcfError(f"factor {factor_id} is in {', '.join(r[0] for r in rows)}: name the edition with --set")
    return rows[0]


def _narrowest(factor: _Factor, others: list[_Factor], attributes: list[str]) -> tuple[dict[str, str], list[_Factor]]:
    """The fewest of the factor's attribute values, in declared order, that leave the fewest of
    ``others``: add each value that rules any out, then drop each one not needed."""
    def left(chosen: list[str]) -> list[_Factor]:
        return [o for o in others if all(o.attributes.get(a) == factor.attributes[a] for a in chosen)]

    chosen: list[str] = []
    for a in attributes:
        if a in factor.attributes and len(left(chosen + [a])) < len(left(chosen)):
            chosen.append(a)
    best = len(left(chosen))
    for a in list(chosen):
        if len(left([c for c in chosen if c != a])) == best:
            chosen.remove(a)
    return {a: factor.attributes[a] for a in attributes if a in chosen}, left(chosen)


def _lookup_name(factor: _Factor) -> str:
    """A lookup name from the last part of the factor's name (``Fuels > … > Natural gas``)."""
    name = re.sub(r"[^a-z0-9]+", "_", factor.name.split(" > ")[-1].lower()).strip("_")
    return ("f_" + name if name[:1].isdigit() else name)[:40].rstrip("_") or "factor"


def factor_snippet(conn: psycopg.Connection, factor_id: str, set_id: str | None = None,
                   factor_sets: Mapping[str, Any] | None = None, name: str | None = None) -> dict[str, Any]:
    """The lookup that finds exactly ``factor_id``: its parts and its YAML text (``snippet``)."""
    if factor_sets is None:
        from ccf.engine import api

        factor_sets = api.library().factor_sets
    ex = Executor(conn)
    edition, unit = _locate(ex, factor_id, set_id, factor_sets)
    declared = _declared(factor_sets, edition)
    per_unit = _factors(ex, edition, unit)
    factor = next(f for f in per_unit if f.factor_id == factor_id)
    same_gas = [f for f in per_unit if f.gas == factor.gas]
    select, left = _narrowest(factor, same_gas, list(declared.attributes))
    if not select:  # a lookup needs a select (or a match): the first value, which every factor shares
        first = next((a for a in declared.attributes if a in factor.attributes), None)
        select = {first: factor.attributes[first]} if first is not None else {}
    keys: dict[str, str] = {}
    for key, value in (("region", factor.region), ("year", factor.year)):
        if len(left) > 1 and value is not None and any(getattr(o, key) != value for o in left):
            keys[key] = f'"{value}"' if key == "region" else str(value)
            left = [o for o in left if getattr(o, key) == value]
    if left != [factor]:
        raise CcfError(f"no lookup finds only factor {factor_id} of {edition}: "
                       f"{', '.join(o.factor_id for o in left)} have the same attributes, region and year")
    lookup: dict[str, Any] = {"factor_set": edition}
    if select:
        lookup["select"] = select
    lookup.update(keys)
    lookup["per"] = unit
    shared = [f for f in per_unit if all(f.attributes.get(a) == v for a, v in select.items())
              and ("region" not in keys or f.region == factor.region) and ("year" not in keys or f.year == factor.year)]
    siblings = sorted({f.gas for f in shared} - {factor.gas})
    name = name or _lookup_name(factor)
    ref = name if factor.gas == "CO2e" else f"{name}.{factor.gas.lower()}"  # authoring.md, Factor references
    value_unit = dict(declared.gas_units).get(factor.gas, "")
    head = [
        f"{edition} factor {factor_id}: {factor.name}, {factor.gas} {decimal_text(factor.value)} {value_unit} per {unit}",
        "paste under `factors:`; a rule reads this factor as `" + ref + "`"
        + (f" (the same select gives {', '.join(siblings)})" if siblings else ""),
    ]
    if edition != declared.id:
        head.append(f"`factor_set: {declared.id}` instead reads the edition of the data's period")
    specific = [a for a, v in select.items() if v == factor.name.split(" > ")[-1]]
    if specific:  # the factor's own level: the attribute a row usually names
        head.append(f"to take {specific[0]} from each row instead, move it to `match: {{{specific[0]}: <row field>}}`")
    body = yaml.safe_dump({name: lookup}, sort_keys=False, default_flow_style=None, allow_unicode=True, width=1000)
    text = "\n".join(f"  # {line}" for line in head) + "\n" + "".join(f"  {line}\n" for line in body.splitlines())
    return {"set": edition, "factor_id": factor_id, "gas": factor.gas, "name": name, "lookup": lookup,
            "other_gases": siblings, "snippet": text}
