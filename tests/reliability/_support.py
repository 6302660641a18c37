"""Shared by the reliability tests: activity rows generated from a methodology, the loader's
contract in Python, SQL outcomes read back as reference-evaluator outcomes, and the nightly switch.

Rows are drawn through a ``Chooser`` so one generator serves hypothesis (``DataChooser``, which
shrinks) and plain seeded randomness for bulk data (``RandomChooser``).
"""

from __future__ import annotations

import csv
import os
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded, localcontext
from functools import cache
from pathlib import Path
from typing import Iterable, Mapping, Protocol, Sequence, TypeVar

import psycopg
import pytest
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.currency import RateTableValues
from ccf.dsl.model import DATA_QUALITY
from ccf.dsl.evaluate import (
    Evaluation,
    Excluded,
    FactorSetsResolver,
    GasResult,
    RecordsResolver,
    Result,
    RowOutcome,
    Unmatched,
    evaluate_rows,
)
from ccf.engine.load import csv_columns, has_unit_column
from ccf.engine.run import RunReport
from ccf.engine.sql import Executor, column, param, table

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
MATCHING = ROOT / "tests" / "engine" / "matching"

# Large sizes and long runs only when asked for: CCF_NIGHTLY=1 (pyproject marker 'slow').
NIGHTLY = os.environ.get("CCF_NIGHTLY") == "1"
nightly = pytest.mark.skipif(not NIGHTLY, reason="nightly size; set CCF_NIGHTLY=1")

HOSTILE = [
    "'; DROP TABLE ccf.result; --",
    "Robert'); DELETE FROM ccf.run;--",
    "/* comment */ -- line comment",
    "back\\slash \\' \\\"",
    "semi;colon",
    "$$ dollar $$",
    "%(run_id)s %s {0}",
    "Électricité — 电力 — 🇬🇧",
]


def unique(prefix: str = "d") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# --- drawing values ---------------------------------------------------------------------


class Chooser(Protocol):
    def pick(self, options: Sequence[T]) -> T: ...
    def integer(self, lo: int, hi: int) -> int: ...
    def chance(self, percent: int) -> bool: ...


class RandomChooser:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def chance(self, percent: int) -> bool:
        return self.rng.randrange(100) < percent


class DataChooser:
    """Draws from hypothesis' ``st.data()`` so failures shrink to small rows."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def pick(self, options: Sequence[T]) -> T:
        return self.data.draw(self.st.sampled_from(list(options)))

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(self.st.integers(lo, hi))

    def chance(self, percent: int) -> bool:
        return self.data.draw(self.st.integers(0, 99)) < percent


EDGE_NUMBERS = [
    "0", "1", "2.5", "1e15", "1000000000000000", "0.123456789012345678901", "1E+3", "12.", ".25", "+4",
    " 42 ", "0.0", "00012.3400", "999999999999999.999999999999999999999", "0.000000000000000000001", "3",
    "7", "1.05", "2e-7",
]


def number_text(ch: Chooser, negative: bool = False) -> str:
    """A number as a CSV cell: edge values, or up to 1e15 with up to 25 decimals."""
    if ch.chance(50):
        text = ch.pick(EDGE_NUMBERS)
    else:
        whole = ch.pick([0, 1, 9, 10**15]) if ch.chance(30) else ch.integer(0, 10**15)
        places = ch.integer(0, 25)
        text = f"{whole}.{str(ch.integer(0, 10**places - 1)).zfill(places)}" if places else str(whole)
    if negative and ch.chance(30):
        text = "-" + text.strip().lstrip("+")
    return text


# --- the loader's contract, in Python ---------------------------------------------------

_TRUE = ("true", "yes", "1")


def _trim(cell: str) -> str:
    return cell.strip(" ")  # PostgreSQL TRIM() removes spaces only


def typed_row(at: ir.ActivityType, cells: Mapping[str, str]) -> dict[str, object]:
    """The values a loaded row holds (engine/load.py): text exactly as written, numbers and
    dates read from the trimmed cell, units trimmed; a blank cell (spaces only) is None."""
    out: dict[str, object] = {}
    for name, f in csv_columns(at):
        cell = cells.get(name, "")
        if _trim(cell) == "":
            out[name] = None
        elif name != f.name:  # <field>_unit
            out[name] = _trim(cell)
        elif f.type.kind == "quantity":
            out[name] = Decimal(_trim(cell))
        elif f.type.kind == "date":
            out[name] = date.fromisoformat(_trim(cell))
        elif f.type.kind == "boolean":
            out[name] = _trim(cell).lower() in _TRUE
        else:
            out[name] = cell
    return out


def write_rows(path: Path, at: ir.ActivityType, rows: Iterable[Mapping[str, str]]) -> Path:
    names = [n for n, _ in csv_columns(at)]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for r in rows:
            w.writerow([r.get(n, "") for n in names])
    return path


# --- rows generated from a methodology --------------------------------------------------


def _text_consts(node: object) -> Iterable[str]:
    if isinstance(node, ir.TextConst):
        yield node.value
    if isinstance(node, ir.Node):
        for v in vars(node).values():
            for child in v if isinstance(v, tuple) else (v,):
                yield from _text_consts(child)


def _field_of(node: ir.Node) -> str | None:
    """The field a key expression passes through: ``f`` or ``f ?? "default"``."""
    if isinstance(node, ir.FieldRef):
        return node.name
    if isinstance(node, ir.Coalesce) and isinstance(node.left, ir.FieldRef):
        return node.left.name
    return None


@dataclass
class RowSpec:
    """How to draw plausible activity rows for one methodology: text pools per field, and
    factor records whose attributes can be copied into a row so its lookup finds them."""

    activity: ir.ActivityType
    words: list[str]
    pools: dict[str, list[str]] = field(default_factory=dict)
    targets: list[dict[str, str]] = field(default_factory=list)  # field -> value that hits a factor
    dates: list[str] = field(default_factory=lambda: ["2019-06-30", "2021-03-01", "2022-12-31", "2023-03-01", "2024-01-01", "2024-02-29", "2025-07-01"])

    @classmethod
    def build(cls, m: ir.Methodology, records: Sequence[object], region_codes: Sequence[str] = ()) -> "RowSpec":
        from ccf.dsl.resolve import factor_unit
        from ccf.dsl.units import parse_unit

        words: list[str] = []
        for rule in m.rules:
            if rule.where is not None:
                words += _text_consts(rule.where)
            for em in rule.emissions:
                words += _text_consts(em.value)
        junk = ["", "zz unknown", "gb", " GB", "\t"] + HOSTILE[:3]
        spec = cls(m.activity, sorted(set(words)) + junk)
        regions = list(region_codes) + ["XX", "WORLD"]
        for lk in m.lookups:
            per = parse_unit(lk.per).dimension
            wanted = dict(lk.select)
            cands = [
                dict(r.attributes) | {"@region": r.region or ""}  # type: ignore[attr-defined]
                for r in records
                if r.gas in lk.gases and factor_unit(r.unit)[0] == per  # type: ignore[attr-defined]
                and all(dict(r.attributes).get(k) == v for k, v in wanted.items())  # type: ignore[attr-defined]
            ]
            fields = {name: _field_of(node) for name, node in lk.match}
            for name, node in lk.match:
                f = fields[name]
                if f is not None:
                    spec.pools.setdefault(f, []).extend(sorted({c[name] for c in cands if name in c}))
            if lk.region is not None:
                for f in {n.name for n in _field_refs(lk.region)}:
                    spec.pools.setdefault(f, []).extend(regions)
            for c in cands[:400]:
                target = {f: c[name] for name, f in fields.items() if f is not None and name in c}
                if lk.region is not None and c["@region"]:
                    for f in {n.name for n in _field_refs(lk.region)}:
                        target.setdefault(f, c["@region"])
                if target:
                    spec.targets.append(target)
        for cv in m.conversions:  # currencies with and without rates in the shipped tables
            for f in {n.name for n in _field_refs(cv.currency)}:
                spec.pools.setdefault(f, []).extend(["EUR", "GBP", "USD", "AUD", "NZD", "JPY"])
        for f, pool in spec.pools.items():
            spec.pools[f] = sorted(set(pool)) + junk
        return spec

    def __repr__(self) -> str:  # hypothesis prints fixture arguments of failing examples
        return f"RowSpec({self.activity.id})"

    def cells(self, ch: Chooser, activity_id: str) -> dict[str, str]:
        """One activity row as CSV cells."""
        at = self.activity
        start = ch.pick(self.dates)
        row = {"activity_id": activity_id, "entity": ch.pick(["ACME", "Ünïcode Ltd", HOSTILE[0]]),
               "period_start": start, "period_end": start}
        target = ch.pick(self.targets) if self.targets and ch.chance(70) else {}
        for f in at.fields:
            if f.name in row:
                continue
            if f.name == DATA_QUALITY:  # a score as the load accepts it, or none
                row[f.name] = ch.pick(["", "", "1", "2", "3", "4", "5", " 3", "2.0"])
                continue
            optional = not f.required
            if optional and ch.chance(20):
                row[f.name] = ""
                if has_unit_column(f):
                    row[f.name + "_unit"] = ch.pick(["", ch.pick([c.unit for c in f.conversions])])
                continue
            kind = f.type.kind
            if kind == "text":
                row[f.name] = target[f.name] if f.name in target and ch.chance(85) else ch.pick(self.pools.get(f.name) or self.words)
            elif kind == "quantity":
                measured = bool(f.conversions) or f.fixed_factor is not None
                row[f.name] = number_text(ch, negative=not measured)
                if has_unit_column(f):
                    row[f.name + "_unit"] = ch.pick([c.unit for c in f.conversions])
            elif kind == "date":
                row[f.name] = ch.pick(self.dates)
            elif kind == "boolean":
                row[f.name] = ch.pick(["true", "false", "yes", "no", "1", "0", "TRUE"])
            if f.required and _trim(row[f.name]) == "":
                row[f.name] = "x" if kind == "text" else row[f.name] or "1"
        return row


def _field_refs(node: ir.Node) -> Iterable[ir.FieldRef]:
    if isinstance(node, ir.FieldRef):
        yield node
    for v in vars(node).values():
        for child in v if isinstance(v, tuple) else (v,):
            if isinstance(child, ir.Node):
                yield from _field_refs(child)


# --- factor data for the reference evaluator ---------------------------------------------


@dataclass(frozen=True)
class FactorData:
    records: tuple = field(repr=False)
    region: str | None
    year: int | None


def one_edition(m):
    """``m`` pinned to one edition: a version that names a set (``factor_set: desnz``) is read as
    pinning its first edition, which a run given ``other_edition`` computes for any period."""
    import dataclasses

    declared = m.declared_set
    if declared is None or declared.edition(m.factor_set) is not None or m.factor_set not in declared.names():
        return m
    return dataclasses.replace(m, factor_set=declared.editions[0].id)


@cache
def shipped_factors(set_id: str) -> FactorData:
    from ccf.engine.factors.catalog import load_shipped

    edition, records = load_shipped(set_id)
    return FactorData(tuple(records), edition.region, edition.year)


@cache
def custom_factors(path: Path, set_id: str) -> tuple[object, FactorData]:
    from ccf.engine.factors.custom import load_custom

    edition, records = load_custom(path, set_id, "test", publisher="test")
    return edition, FactorData(tuple(records), edition.region, edition.year)


@cache
def region_closure() -> tuple[tuple[str, str, int], ...]:
    from ccf.engine.factors.regions import closure, shipped_regions

    return tuple(closure(shipped_regions()))


def region_codes() -> list[str]:
    return sorted({r for r, _, _ in region_closure()})


@cache
def gwp_table(gwp_set: str) -> dict[str, Decimal]:
    from ccf.engine.factors.catalog import shipped_gwp

    return {g.gas: g.value for g in shipped_gwp() if g.gwp_set == gwp_set}


_RESOLVERS: dict[int, tuple[FactorData, RecordsResolver]] = {}


def resolver_for(data: FactorData) -> RecordsResolver:
    """One resolver per factor data, kept for the session: it resolves each lookup's key once
    (as the SQL does per run), so examples that repeat a key, or a methodology, reuse it."""
    if id(data) not in _RESOLVERS:  # the data kept beside it: its id is never reused
        _RESOLVERS[id(data)] = (data, RecordsResolver(data.records, region=data.region, year=data.year,
                                                      regions=region_closure()))
    return _RESOLVERS[id(data)][1]


def shipped_resolver(m: ir.Methodology, data: FactorData) -> FactorSetsResolver:
    """The methodology's own set, and each shipped set a lookup names (``factor_set:``), as the
    test database has them all installed; a set that is not shipped finds nothing."""
    from ccf.engine.factors.catalog import shipped_editions

    others = {lk.factor_set for lk in m.lookups if lk.factor_set in shipped_editions()}
    return FactorSetsResolver(resolver_for(data), {s: resolver_for(shipped_factors(s)) for s in sorted(others)})


def reference(m: ir.Methodology, rows: Iterable[Mapping[str, object]], data: FactorData) -> Evaluation:
    """The reference evaluation, under a default decimal context that traps any rounding: the
    evaluator must never fall back on Python's 28-digit default context."""
    with localcontext(Context(prec=1, traps=[Inexact, Rounded, InvalidOperation])):
        return evaluate_rows(m, rows, shipped_resolver(m, data), gwp_table(m.gwp), shipped_rates())


@cache
def shipped_rates() -> dict[str, RateTableValues]:
    """The shipped exchange-rate and price-index tables, as the reference evaluator reads them."""
    from ccf.engine.factors.rates import shipped_rate_tables

    return {
        id: RateTableValues({(r.currency, r.year): r.value for r in records}, rt.reference_currency)
        for id, (rt, records) in shipped_rate_tables().items()
    }


# --- SQL outcomes in the evaluator's terms ------------------------------------------------

_LOOKUP = re.compile(r"lookup '([^']*)'")


def _select(conn: psycopg.Connection, name: str, run_id: int, methodology_id: str) -> list[dict]:
    cur = Executor(conn).execute(
        exp.select(exp.Star())
        .from_(table(name))
        .where(exp.and_(
            exp.EQ(this=column("run_id"), expression=param("run_id")),
            exp.EQ(this=column("methodology_id"), expression=param("methodology_id")),
        )),
        {"run_id": run_id, "methodology_id": methodology_id},
    )
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def sql_outcomes(conn: psycopg.Connection, run_id: int, methodology_id: str) -> dict[str, RowOutcome]:
    """Every row's outcome as the run stored it, built as the evaluator's outcome types."""
    out: dict[str, RowOutcome] = {}
    gases: dict[str, list[dict]] = {}
    for r in _select(conn, "result", run_id, methodology_id):
        gases.setdefault(r["activity_id"], []).append(r)
    for aid, rs in gases.items():
        assert len({r["rule_id"] for r in rs}) == 1, rs
        results = tuple(
            GasResult(r["gas"], r["gas_kg"], r["gwp"], r["co2e_kg"], tuple(r["factor_ids"]), r["match_level"])
            for r in sorted(rs, key=lambda r: ir.GAS_ORDER.index(r["gas"]))
        )
        assert len({r["data_quality"] for r in rs}) == 1, rs  # one score per activity row
        out[aid] = Result(aid, rs[0]["rule_id"], results, data_quality=rs[0]["data_quality"])
    for r in _select(conn, "excluded", run_id, methodology_id):
        assert r["activity_id"] not in out
        out[r["activity_id"]] = Excluded(r["activity_id"], r["rule_id"], r["reason"])
    for r in _select(conn, "unmatched", run_id, methodology_id):
        assert r["activity_id"] not in out
        lookup = None
        if r["reason_code"] in ("no_factor", "ambiguous_factor"):
            found = _LOOKUP.search(r["reason"])
            lookup = found.group(1) if found else "?"
        # which currency, year and rate table; the exactness threshold; the share without a total; the score
        reason = r["reason"] if r["reason_code"] in ("no_rate", "inexact", "no_total", "bad_data_quality") else None
        out[r["activity_id"]] = Unmatched(r["activity_id"], r["rule_id"], r["reason_code"], lookup, reason)
    return out


def assert_same(m: ir.Methodology, report: RunReport, sql: Mapping[str, RowOutcome], ref: Evaluation,
                rows: Mapping[str, Mapping[str, object]] | None = None) -> None:
    """Every row's outcome, and the totals, equal between SQL and the reference evaluator."""
    expected = {o.activity_id: o for o in ref.outcomes}
    assert set(sql) == set(expected), f"rows differ: sql {sorted(set(sql) - set(expected))}, ref {sorted(set(expected) - set(sql))}"
    diffs = [aid for aid in sorted(expected) if sql[aid] != expected[aid]]
    if diffs:
        aid = diffs[0]
        raise AssertionError(
            f"{m.ref}: {len(diffs)} row(s) differ between SQL and the reference evaluator; first {aid!r}\n"
            f"  row: {dict(rows[aid]) if rows else '?'}\n  sql: {sql[aid]}\n  ref: {expected[aid]}"
        )
    (mo,) = [o for o in report.methodologies if o.methodology_id == m.id]
    rec = mo.reconciliation
    assert rec.balanced
    assert (rec.rows_result, rec.rows_excluded, rec.rows_unmatched) == (
        ref.count("result"), ref.count("excluded"), ref.count("unmatched"),
    )
    assert dict(mo.by_gas) == dict(ref.by_gas)
    assert mo.co2e_kg == ref.co2e_kg


__all__ = [
    "Chooser", "DataChooser", "FactorData", "HOSTILE", "MATCHING", "NIGHTLY", "ROOT", "RandomChooser", "RowSpec",
    "assert_same", "custom_factors", "gwp_table", "nightly", "number_text", "reference", "region_closure",
    "region_codes", "resolver_for", "shipped_factors", "shipped_resolver", "sql_outcomes", "typed_row", "unique", "write_rows",
]
