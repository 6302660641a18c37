"""Semantic diff of two methodology versions, on the checked IR (not on text).

Two versions that differ only in formatting, comments or key order have equal IR (spans are
excluded from node equality), so they diff to "no semantic change". Changes are reported in the
terms auditors use: metadata (factor set, GWP set, activity type, method), parameters, factor
lookups (selection, keys, unit, fallback), and rules (added, removed, reordered, changed), each
with the source text and position of both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccf.dsl import ir
from ccf.dsl.source import SourceFile, Span

META_FIELDS = (
    ("status", "status"),
    ("title", "title"),
    ("scope", "GHG Protocol scope"),
    ("category", "Scope 3 category"),
    ("source", "source category"),
    ("method", "calculation method"),
    ("references", "guidance references"),
    ("factor_set", "factor set"),
    ("gwp", "GWP set"),
)


@dataclass(frozen=True)
class Side:
    """One side of a change: the text as written and where."""

    text: str | None
    span: Span | None

    def to_json(self) -> dict[str, Any] | None:
        if self.text is None:
            return None
        where = None if self.span is None else {"path": self.span.path, "line": self.span.line, "column": self.span.column}
        return {"text": self.text, "at": where}


@dataclass(frozen=True)
class Change:
    """One semantic change: what (kind, subject), and both sides."""

    kind: str  # e.g. 'factor set changed', 'rule added', 'expression changed'
    subject: str  # e.g. 'rule uk_grid, co2', 'factor uk_grid: per'
    before: Side = Side(None, None)
    after: Side = Side(None, None)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "before": self.before.to_json(), "after": self.after.to_json()}


@dataclass(frozen=True)
class MethodologyDiff:
    a: str
    b: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def semantic(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.a, "to": self.b, "semantic_change": self.semantic, "changes": [c.to_json() for c in self.changes]}

    def render(self) -> str:
        if not self.changes:
            return f"{self.a} → {self.b}: no semantic change"
        lines = [f"{self.a} → {self.b}: {len(self.changes)} semantic change{'s' if len(self.changes) != 1 else ''}"]
        for n, c in enumerate(self.changes, 1):
            lines.append(f"{n}. {c.kind}: {c.subject}")
            for label, side in (("-", c.before), ("+", c.after)):
                if side.text is not None:
                    where = f"  ({side.span})" if side.span else ""
                    lines.append(f"   {label} {side.text}{where}")
        return "\n".join(lines)


def source_text(span: Span | None) -> str | None:
    """The author's text under a span (for showing expressions as written)."""
    if span is None:
        return None
    path = Path(span.path)
    if not path.exists():
        return None
    src = SourceFile.read(path)
    lines = [src.line(n) for n in range(1, src.line_count + 1)]  # counted as spans count them
    if span.line == span.end_line and 1 <= span.line <= len(lines):
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    if 1 <= span.line <= len(lines):
        chunk = [lines[span.line - 1][span.column - 1 :]] + lines[span.line : span.end_line - 1]
        if span.end_line <= len(lines):
            chunk.append(lines[span.end_line - 1][: span.end_column - 1])
        return " ".join(part.strip() for part in chunk if part.strip())
    return None


def _expr(node: ir.Node | None) -> Side:
    if node is None:
        return Side(None, None)
    return Side(source_text(node.span) or "(expression)", node.span)


def _value(value: Any, span: Span | None = None) -> Side:
    return Side(", ".join(map(str, value)) if isinstance(value, tuple) else str(value), span)


def diff_methodologies(a: ir.Methodology, b: ir.Methodology) -> MethodologyDiff:
    """Every semantic change from a to b, in a stable order."""
    changes: list[Change] = []
    for attr, label in META_FIELDS:
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            changes.append(Change(f"{label} changed", label, _value(va, a.span), _value(vb, b.span)))
    changes += _activity(a.activity, b.activity)
    changes += _named(
        "parameter", {p.name: p for p in a.parameters}, {p.name: p for p in b.parameters},
        lambda p: [("value", p.value)],
    )
    changes += _lookups(a, b)
    changes += _conversions(a, b)
    if a.data_quality != b.data_quality:  # the score of results whose row has none: no CO2e changes
        changes.append(Change("data quality changed", "data_quality", _expr(a.data_quality), _expr(b.data_quality)))
    changes += _rules(a, b)
    return MethodologyDiff(a.ref, b.ref, tuple(changes))


def _conversions(a: ir.Methodology, b: ir.Methodology) -> list[Change]:
    """Spend-based currency conversions: added, removed, their expressions, target and rate tables."""
    ca, cb = {c.name: c for c in a.conversions}, {c.name: c for c in b.conversions}
    out = _named("currency conversion", ca, cb, lambda c: [("amount", c.amount), ("currency", c.currency), ("price year", c.price_year)])
    for name in [n for n in ca if n in cb]:
        x, y = ca[name], cb[name]
        tx, ty = (f"{x.to_currency} {x.to_year}", x.exchange_rates, x.price_index or "no price index"), (
            f"{y.to_currency} {y.to_year}", y.exchange_rates, y.price_index or "no price index")
        if tx != ty:
            out.append(Change("currency conversion changed", f"currency conversion {name}: target and rate tables",
                              _value(tx, x.span), _value(ty, y.span)))
    return out


def _activity(a: ir.ActivityType, b: ir.ActivityType) -> list[Change]:
    if a.id != b.id:
        return [Change("activity type changed", "activity", _value(a.id), _value(b.id))]
    out = []
    fa, fb = {f.name: f for f in a.fields}, {f.name: f for f in b.fields}
    for name in sorted(fa.keys() | fb.keys()):
        if fa.get(name) != fb.get(name):
            kind = "field added" if name not in fa else "field removed" if name not in fb else "field changed"
            out.append(
                Change(kind, f"activity field {name}",
                       _value(fa[name].type) if name in fa else Side(None, None),
                       _value(fb[name].type) if name in fb else Side(None, None))
            )
    return out


def _named(kind: str, a: dict[str, Any], b: dict[str, Any], parts) -> list[Change]:
    out = []
    for name in list(a) + [n for n in b if n not in a]:
        if name not in b:
            out.append(Change(f"{kind} removed", f"{kind} {name}", Side(name, a[name].span)))
        elif name not in a:
            out.append(Change(f"{kind} added", f"{kind} {name}", Side(None, None), Side(name, b[name].span)))
        else:
            for part, node_a in parts(a[name]):
                node_b = dict(parts(b[name]))[part]
                if node_a != node_b:
                    out.append(Change(f"{kind} changed", f"{kind} {name}: {part}", _expr(node_a), _expr(node_b)))
    return out


def _lookups(a: ir.Methodology, b: ir.Methodology) -> list[Change]:
    la, lb = {lk.name: lk for lk in a.lookups}, {lk.name: lk for lk in b.lookups}
    out = []
    for name in list(la) + [n for n in lb if n not in la]:
        subject = f"factor lookup {name}"
        if name not in lb:
            out.append(Change("factor lookup removed", subject, Side(name, la[name].span)))
            continue
        if name not in la:
            out.append(Change("factor lookup added", subject, Side(None, None), Side(name, lb[name].span)))
            continue
        x, y = la[name], lb[name]
        for attr, label in (("select", "selection"), ("per", "unit")):
            if getattr(x, attr) != getattr(y, attr):
                fmt = (lambda v: ", ".join(f"{k} = {t!r}" for k, t in v)) if attr == "select" else str
                out.append(Change(f"factor {label} changed", subject, Side(fmt(getattr(x, attr)), x.span), Side(fmt(getattr(y, attr)), y.span)))
        mx, my = dict(x.match), dict(y.match)
        for key in list(mx) + [k for k in my if k not in mx]:
            if mx.get(key) != my.get(key):
                out.append(Change("factor key changed", f"{subject}: match {key}", _expr(mx.get(key)), _expr(my.get(key))))
        for attr in ("region", "year"):
            if getattr(x, attr) != getattr(y, attr):
                out.append(Change("fallback changed", f"{subject}: {attr}", _expr(getattr(x, attr)), _expr(getattr(y, attr))))
        if x.factor_set != y.factor_set:  # None: the methodology's own factor set
            out.append(Change("factor set of lookup changed", f"{subject}: factor set",
                              Side(x.factor_set or f"{a.factor_set} (the methodology's)", x.span),
                              Side(y.factor_set or f"{b.factor_set} (the methodology's)", y.span)))
    return out


def _rules(a: ir.Methodology, b: ir.Methodology) -> list[Change]:
    ra, rb = {r.id: r for r in a.rules}, {r.id: r for r in b.rules}
    out = []
    common_a = [r.id for r in a.rules if r.id in rb]
    common_b = [r.id for r in b.rules if r.id in ra]
    if common_a != common_b:  # first-match-wins: order is semantics
        out.append(Change("rules reordered", "rule order", _value(tuple(common_a)), _value(tuple(common_b))))
    for rid in [r.id for r in a.rules] + [r.id for r in b.rules if r.id not in ra]:
        if rid not in rb:
            out.append(Change("rule removed", f"rule {rid}", Side(rid, ra[rid].span)))
            continue
        if rid not in ra:
            out.append(Change("rule added", f"rule {rid}", Side(None, None), Side(rid, rb[rid].span)))
            continue
        x, y = ra[rid], rb[rid]
        if x.where != y.where:
            out.append(Change("condition changed", f"rule {rid}: where", _expr(x.where), _expr(y.where)))
        if x.exclude != y.exclude:
            out.append(Change("exclusion changed", f"rule {rid}: exclude", _value(x.exclude), _value(y.exclude)))
        if x.data_quality != y.data_quality:
            out.append(Change("data quality changed", f"rule {rid}: data_quality", _expr(x.data_quality), _expr(y.data_quality)))
        # a published total and its gases, as written; total_minus_gases follows from them
        ex = {e.gas: e.value for e in x.emissions if e.gas != ir.TOTAL_MINUS_GASES}
        ey = {e.gas: e.value for e in y.emissions if e.gas != ir.TOTAL_MINUS_GASES}
        ex.update({"total": x.total} if x.total is not None else {})
        ey.update({"total": y.total} if y.total is not None else {})
        for gas in list(ex) + [g for g in ey if g not in ex]:
            if ex.get(gas) != ey.get(gas):
                before, after = _expr(ex.get(gas)), _expr(ey.get(gas))
                # same text, different meaning: a lookup's unit, a parameter or a field changed
                kind = "formula inputs changed" if before.text == after.text else "formula changed"
                out.append(Change(kind, f"rule {rid}: emissions {gas}", before, after))
    return out
