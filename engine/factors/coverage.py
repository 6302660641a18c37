"""Whether every ``select`` of a methodology finds a factor in the installed editions.

The checker types a lookup against the set's declaration (its attribute names) without any
factor file; a misspelt attribute *value* (``level1: Hotel stays``) passes it and would run to
0 kg with every row unmatched. Where the editions a methodology reads are installed,
``ccf check`` asks this module, which finds for each lookup the factors of each edition whose
attributes equal every ``select`` text, and reports a lookup that finds none (E606) with the
values that exist. An edition that is not installed is listed as not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import Diagnostic, did_you_mean
from ccf.dsl.source import SourceFile
from ccf.dsl.yaml_source import load_yaml
from ccf.engine.factors.store import installed
from ccf.engine.sql import Executor, column, func, is_param, table, text


@dataclass
class Coverage:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)  # editions whose factors were looked at
    not_installed: set[str] = field(default_factory=set)  # editions that could not be


def editions_read(m: ir.Methodology, lk: ir.FactorLookup) -> list[str]:
    """The editions a lookup may read: the one named, or every declared edition of the set named."""
    named = lk.factor_set or m.factor_set
    declared = lk.declared_set if lk.factor_set is not None else m.declared_set
    if declared is None or declared.edition(named) is not None or named not in declared.names():
        return [named]
    return [e.id for e in declared.editions]


class _Editions:
    """The attributes of every factor of each installed edition, read once."""

    def __init__(self, ex: Executor):
        self.ex = ex
        self.cache: dict[str, list[dict[str, str]] | None] = {}

    def factors(self, edition: str) -> list[dict[str, str]] | None:
        if edition not in self.cache:
            fs = installed(self.ex, edition)
            self.cache[edition] = None if fs is None else [
                a for (a,) in self.ex.rows(exp.select(column("attributes")).from_(table("factor"))
                                           .where(is_param("factor_set_id")), {"factor_set_id": fs.factor_set_id})
            ]
        return self.cache[edition]


def check_selects(ex: Executor, methodologies: list[ir.Methodology], sources: dict[str, SourceFile]) -> Coverage:
    """E606 for each lookup whose ``select`` no factor of an installed edition satisfies."""
    out = Coverage()
    store = ex.one(exp.select(func("to_regclass", text("ccf.factor_set"))))
    if store is None or store[0] is None:  # a database ccf never set up: nothing is installed
        out.not_installed = {e for m in methodologies for lk in m.lookups if lk.select for e in editions_read(m, lk)}
        return out
    editions = _Editions(ex)
    for m in methodologies:
        doc = None
        for lk in m.lookups:
            if not lk.select:
                continue
            want = dict(lk.select)
            missing: dict[tuple[str, frozenset[str]], list[str]] = {}  # (attribute, its values) -> editions
            for edition in editions_read(m, lk):
                factors = editions.factors(edition)
                if factors is None:
                    out.not_installed.add(edition)
                    continue
                out.checked.add(edition)
                if not any(all(f.get(k) == v for k, v in want.items()) for f in factors):
                    attr, known = _first_miss(want, factors)
                    missing.setdefault((attr, frozenset(known)), []).append(edition)
            for (attr, known), where in missing.items():
                if doc is None:
                    doc = load_yaml(sources[m.path]) if m.path in sources else None
                span = doc.span(("factors", lk.name, "select", attr)) if doc is not None else lk.span
                others = {k: v for k, v in want.items() if k != attr}
                with_others = " with " + ", ".join(f"{k} = '{v}'" for k, v in others.items()) if others else ""
                out.diagnostics.append(Diagnostic(
                    "E606", f"no factor of {' or '.join(where)} has {attr} '{want[attr]}'{with_others}: "
                    "every row would be unmatched",
                    span,
                    suggestion=did_you_mean(want[attr], known) or (
                        f"{attr} values{with_others}: " + ", ".join(sorted(known)[:8]) + (" …" if len(known) > 8 else "")
                        if known else f"no factor{with_others} has any {attr}; see 'ccf factors search'"),
                ))
    return out


def _first_miss(want: dict[str, str], factors: list[dict[str, str]]) -> tuple[str, set[str]]:
    """The select attribute to blame and the values it could have: the first whose own text is
    the only one wrong (factors have every other text), else the first no factor has given the
    texts before it."""
    for k in want:
        rest = [f for f in factors if all(f.get(a) == v for a, v in want.items() if a != k)]
        if rest:
            return k, {f[k] for f in rest if k in f}
    keep = factors
    for k, v in want.items():
        narrowed = [f for f in keep if f.get(k) == v]
        if not narrowed:
            return k, {f[k] for f in keep if k in f}
        keep = narrowed
    raise AssertionError("some factor satisfies every select")
