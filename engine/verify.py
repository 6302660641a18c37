"""Verify a past run: recompute it from its recorded inputs and compare, leaving nothing behind.

The run's manifest (ccf.run, ccf.run_methodology) records each methodology version's content
hash, the factor set's source checksum, the activity type's hash and the loads its snapshot
held. Verification checks those inputs are still the same (in one snapshot), then recomputes in
one of two ways:

- ``verify``: the run's SQL again, over exactly the recorded loads (loads added since are not
  read), in one snapshot inside a transaction that is rolled back, comparing every result,
  exclusion and unmatched record. It finds changed inputs and stored rows changed since, but not
  what the SQL itself gets wrong, since it runs the same SQL on the same server.
- ``verify_reference`` (``ccf verify --reference``): every activity row of the recorded loads (or
  a stated sample of them) through the reference evaluator (dsl/evaluate.py, Python, written from
  the semantics and not from the SQL) and compared with what the run stored for it, row by row.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from sqlglot import exp

from ccf.dsl import evaluate as ev
from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.library import Library
from ccf.dsl.numeric import plain
from ccf.engine.explain import activity_rows, resolver_for
from ccf.engine.factors.editions import as_recorded
from ccf.engine.factors.rates import rate_tables
from ccf.engine.factors.store import gwp_values, installed
from ccf.engine.load import dataset_loads
from ccf.engine.options import CLICKHOUSE
from ccf.engine.run import one_snapshot, run
from ccf.engine.sql import Executor, column, param, table

# what must be identical between the original and the recomputed run, per output table
COMPARED = {
    "result": ("methodology_id", "activity_id", "rule_id", "gas", "gas_kg", "gwp", "co2e_kg", "factor_ids", "match_level",
               "unit_conversion", "instrument_id", "factor_set", "data_quality"),
    "excluded": ("methodology_id", "activity_id", "rule_id", "reason"),
    "unmatched": ("methodology_id", "activity_id", "rule_id", "reason_code", "reason"),
    "instrument_allocation": ("methodology_id", "instrument_id", "quantity", "allocated", "unallocated", "allocated_rows",
                              "reason_code"),
}


@dataclass
class Verification:
    run_id: int
    checked: dict[str, int] = field(default_factory=dict)  # rows compared per table
    problems: list[str] = field(default_factory=list)
    sample: str | None = None  # verify_reference: which activity rows were recomputed
    other_edition: bool = False  # the run read a pinned edition for another period (--other-edition)

    @property
    def identical(self) -> bool:
        return not self.problems


def verify(conn: psycopg.Connection, run_id: int, lib: Library) -> Verification:
    # A verification leaves nothing behind: it ends the connection's open transaction, if any
    # (it always rolled it back), and reads the recorded inputs in one snapshot it rolls back.
    conn.rollback()
    v = Verification(run_id)
    with one_snapshot(conn, rollback=True) as ex:
        dataset, methodologies, loads = _recorded_inputs(ex, run_id, lib, v)
        on_clickhouse = _on_clickhouse(ex, run_id)
    if v.problems or not methodologies:
        return v

    if on_clickhouse:
        return _verify_on_clickhouse(conn, v, dataset, methodologies, loads)

    def compare(rex: Executor, again) -> None:
        """On the recomputation's connection, inside its transaction (its rows are visible only there)."""
        _compare_in_postgresql(rex, v, list(COMPARED), methodologies, again.run_id)

    # a run that read a pinned edition for another period (--other-edition) is recomputed so
    run(conn, dataset, methodologies, loads=loads, inspect=compare, other_edition=v.other_edition)  # rolled back
    return v


def _compare_in_postgresql(rex: Executor, v: Verification, names: list[str], methodologies: list[ir.Methodology],
                           again: int) -> None:
    """Tables ``names`` of PostgreSQL compared between run ``v.run_id`` and its recomputation
    ``again``, on the recomputation's connection inside its transaction (its rows are visible
    only there): the rows of each, and every row only in one of them."""
    for name in names:
        if name == "instrument_allocation" and all(m.instruments is None for m in methodologies):
            continue  # only market-based Scope 2 allocates instruments
        cols = COMPARED[name]
        v.checked[name] = _count(rex, name, v.run_id)
        for label, a, b in (("only in the original run", v.run_id, again), ("only in the recomputation", again, v.run_id)):
            for row in _except(rex, name, cols, a, b):
                v.problems.append(f"{name} {label}: " + ", ".join(f"{c}={x}" for c, x in zip(cols, row)))


def _on_clickhouse(ex: Executor, run_id: int) -> bool:
    """Whether the run's rows are in ClickHouse (ccf.run.engine, docs/scale-out.md)."""
    from ccf.engine.clickhouse.reads import run_engine

    return run_engine(ex, run_id) == CLICKHOUSE


def _verify_on_clickhouse(conn: psycopg.Connection, v: Verification, dataset: str, methodologies: list[ir.Methodology],
                          loads: list[int]) -> Verification:
    """``verify`` of a run computed on ClickHouse: recomputed there over the recorded loads (its
    catalogue rows rolled back, its ClickHouse rows dropped), every row of each result table
    compared there, and its ``instrument_allocation`` rows, which both engines' runs write to
    PostgreSQL's catalogue, compared there as for a PostgreSQL run."""
    from ccf.engine.clickhouse.catalogue import opened
    from ccf.engine.clickhouse.reads import compare_runs
    from ccf.engine.clickhouse.run import run_clickhouse

    with conn.transaction():
        ch, database = opened(Executor(conn))

    def compare(rex: Executor, again) -> None:
        checked, problems = compare_runs(ch, database, v.run_id, again.run_id)
        v.checked.update(checked)
        v.problems += problems
        _compare_in_postgresql(rex, v, ["instrument_allocation"], methodologies, again.run_id)

    run_clickhouse(conn, ch, dataset, methodologies, loads=loads, other_edition=v.other_edition, inspect=compare)
    return v


def _recorded_inputs(ex: Executor, run_id: int, lib: Library, v: Verification) -> tuple[str, list[ir.Methodology], list[int]]:
    """The run's dataset, methodologies and loads; what is no longer as the run read it goes to
    ``v.problems`` (loads added since are not: the run did not read them, nor does its verification)."""
    head = ex.one(exp.select(column("dataset"), column("summary")).from_(table("run")).where(_is_run()), {"run_id": run_id})
    if head is None:
        raise CcfError(f"there is no run {run_id}")
    dataset, summary = head
    recorded = ex.rows(
        exp.select(column("methodology_id"), column("version"), column("content_hash"), column("factor_set"),
                   column("factor_set_sha256"), column("activity_type_hash"))
        .from_(table("run_methodology")).where(_is_run()).order_by(column("methodology_id")),
        {"run_id": run_id},
    )
    methodologies = []
    for mid, version, content_hash, factor_set, fs_sha, at_hash in recorded:
        m = lib.methodologies.get((mid, version))
        if m is None:
            v.problems.append(f"{mid}@{version} is no longer in the methodology library")
            continue
        recorded_editions = as_recorded(ex, run_id, m)
        m = recorded_editions.methodology  # every set as the edition the run read
        v.other_edition = v.other_edition or recorded_editions.fallback is not None
        if m.content_hash != content_hash:
            v.problems.append(f"{mid}@{version} changed since the run (content hash {content_hash[:12]}… now {m.content_hash[:12]}…)")
        if m.activity.content_hash != at_hash:
            v.problems.append(f"activity type {m.activity.id} changed since the run")
        fs = installed(ex, factor_set)
        if fs is None or fs.sha256 != fs_sha:
            v.problems.append(f"factor set {factor_set} is not the edition the run used (sha256 {fs_sha[:12]}…)")
        for set_id, sha in ex.rows(  # sets a lookup read besides the methodology's (ccf.run_factor_set)
            exp.select(column("set_id"), column("sha256")).from_(table("run_factor_set"))
            .where(exp.and_(_is_run(), exp.EQ(this=column("methodology_id"), expression=param("mid")))).order_by(column("set_id")),
            {"run_id": run_id, "mid": mid},
        ):
            now = installed(ex, set_id)
            if (now.sha256 if now is not None else None) != sha:
                then = f"sha256 {sha[:12]}…" if sha else "not installed"
                v.problems.append(f"factor set {set_id} is not what the run read ({then})")
        methodologies.append(m)
    loads = sorted((summary or {}).get("loads", []))
    gone = sorted(set(loads) - set(dataset_loads(ex, dataset)))
    if gone:
        v.problems.append(f"dataset {dataset} no longer holds load(s) {', '.join(map(str, gone))} that the run read")
    return dataset, methodologies, loads


# --- the reference evaluator ------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """Which activity rows ``verify_reference`` recomputes: every row (neither set), ``rows`` of
    them, or ``percent`` of them (rounded up). The rows are the same at every verification of a
    run: those whose SHA-256 of '<run id>:<activity id>' is smallest (its hex digest, then the
    id), so a sample is reproducible by anyone holding the run, and differs from run to run."""

    rows: int | None = None
    percent: Decimal | None = None

    @classmethod
    def parse(cls, text: str) -> "Sample":
        """``N`` (a positive whole number of rows) or ``P%`` (0 < P <= 100); ValueError otherwise."""
        if re.fullmatch(r"[0-9]+", text) and int(text) > 0:
            return cls(rows=int(text))
        if re.fullmatch(r"([0-9]+([.][0-9]*)?|[.][0-9]+)%", text) and 0 < Decimal(text[:-1]) <= 100:
            return cls(percent=Decimal(text[:-1]))
        raise ValueError(f"'{text}' is neither a number of rows (e.g. 500) nor a percentage (e.g. 5%)")

    def pick(self, run_id: int, activity_ids: list[str]) -> list[str]:
        if self.rows is None and self.percent is None:
            return list(activity_ids)
        n = self.rows if self.rows is not None else math.ceil(len(activity_ids) * self.percent / 100)  # type: ignore[operator]
        key = lambda aid: (hashlib.sha256(f"{run_id}:{aid}".encode()).hexdigest(), aid)  # noqa: E731
        return sorted(activity_ids, key=key)[:n]

    def __str__(self) -> str:
        if self.rows is not None:
            return f"a sample of {self.rows} activity rows per methodology"
        if self.percent is not None:
            return f"a sample of {self.percent}% of the activity rows per methodology"
        return "every activity row"


_LOOKUP = re.compile(r"lookup '([^']*)'")


def verify_reference(conn: psycopg.Connection, run_id: int, lib: Library, sample: Sample = Sample()) -> Verification:
    """The run's inputs as recorded, then each sampled activity row of each methodology
    recomputed by the reference evaluator and compared with every row the run stored for it
    (its results gas by gas, its exclusion, or its unmatched reason). Nothing is written."""
    conn.rollback()
    v = Verification(run_id, sample=str(sample))
    with one_snapshot(conn, rollback=True) as ex:
        dataset, methodologies, loads = _recorded_inputs(ex, run_id, lib, v)
        if not v.problems:
            read = {"dataset": dataset, "loads": loads}  # the rows the run read (compile.of_run_loads)
            for m in methodologies:
                _compare_with_reference(ex, run_id, read, m, sample, v)
    return v


def _compare_with_reference(ex: Executor, run_id: int, read: dict[str, Any], m: ir.Methodology, sample: Sample,
                            v: Verification) -> None:
    rows = activity_rows(ex, m.activity.id, read)
    every_id = [str(r["activity_id"]) for r in rows]
    chosen = set(sample.pick(run_id, every_id))
    instruments: list[dict[str, Any]] = []
    if m.instruments is not None:  # allocation pools every row of the dataset: all are evaluated
        instruments = activity_rows(ex, m.instruments.activity.id, read)
    elif not ir.methodology_shares(m):  # a share's total sums every row of the dataset: all are evaluated
        rows = [r for r in rows if str(r["activity_id"]) in chosen]
    try:
        evaluation = ev.evaluate_rows(m, rows, resolver_for(ex, m), gwp_values(ex, m.gwp), rate_tables(ex, m), instruments)
    except ev.EvaluationError as e:  # e.g. a value loaded before ccf's limits on numbers, past PostgreSQL's exact range
        v.problems.append(f"{m.id}: the reference evaluator cannot recompute the run's rows: {e}")
        return
    expected: dict[str, list[tuple]] = {}
    for o in evaluation.outcomes:
        if o.activity_id in chosen:
            expected.setdefault(o.activity_id, []).extend(_reference_rows(o))
    stored = _stored_rows(ex, run_id, m)
    for name in ("result", "excluded", "unmatched"):
        v.checked[name] = v.checked.get(name, 0) + sum(1 for aid, rs in stored.items() if aid in chosen for r in rs if r[0] == name)
    # every row: also what the run stored for an activity the dataset does not hold
    differ = sorted(aid for aid in chosen | (set(stored) if len(chosen) == len(every_id) else set())
                    if sorted(expected.get(aid, []), key=_order) != sorted(stored.get(aid, []), key=_order))
    for aid in differ:
        then = "; ".join(_shown(r) for r in sorted(stored.get(aid, []), key=_order)) or "nothing"
        now = "; ".join(_shown(r) for r in sorted(expected.get(aid, []), key=_order)) or "no such activity row"
        v.problems.append(f"{m.id} activity {aid}: the run stored {then}; the reference evaluator gives {now}")


def _canon(d: Decimal | None) -> str | None:
    """A decimal's value as text, without trailing zeros: 107.8 for NUMERIC 107.80000000000000000000."""
    return None if d is None else plain(d)


def _reference_rows(o: ev.RowOutcome) -> list[tuple]:
    """What the run should have stored for one outcome, in ``_stored_rows``' terms."""
    if isinstance(o, ev.Result):
        return [("result", o.rule_id, g.gas, _canon(g.gas_kg), _canon(g.gwp), _canon(g.co2e_kg), tuple(g.factor_ids),
                 g.match_level, o.instrument_id, o.data_quality) for g in o.gases]
    if isinstance(o, ev.Excluded):
        return [("excluded", o.rule_id, o.reason)]
    detail = o.lookup if o.reason_code in ("no_factor", "ambiguous_factor") else o.reason
    return [("unmatched", o.rule_id, o.reason_code, detail)]


def _stored_rows(ex: Executor, run_id: int, m: ir.Methodology) -> dict[str, list[tuple]]:
    """Every row the run stored for a methodology, by activity id: results gas by gas, exclusions
    and unmatched rows (the reason of those only where the evaluator gives it: the lookup at
    fault, the missing rate, the exactness threshold, the share without a total, a score outside 1-5)."""
    def select(name: str, *cols: str) -> list[tuple]:
        if on_clickhouse:  # the run's rows are there (docs/scale-out.md)
            from ccf.engine.clickhouse.catalogue import opened
            from ccf.engine.clickhouse.reads import stored_rows

            return stored_rows(*opened(ex), run_id, m.id, name, cols)
        q = exp.select(column("activity_id"), *[column(c) for c in cols]).from_(table(name)).where(
            exp.and_(_is_run(), exp.EQ(this=column("methodology_id"), expression=param("mid"))))
        return ex.rows(q, {"run_id": run_id, "mid": m.id})

    on_clickhouse = _on_clickhouse(ex, run_id)

    out: dict[str, list[tuple]] = {}
    for aid, rule, gas, kg, gwp, co2e, ids, level, instrument, score in select(
            "result", "rule_id", "gas", "gas_kg", "gwp", "co2e_kg", "factor_ids", "match_level", "instrument_id", "data_quality"):
        out.setdefault(aid, []).append(
            ("result", rule, gas, _canon(kg), _canon(gwp), _canon(co2e), tuple(ids), level, instrument, score))
    for aid, rule, reason in select("excluded", "rule_id", "reason"):
        out.setdefault(aid, []).append(("excluded", rule, reason))
    for aid, rule, code, reason in select("unmatched", "rule_id", "reason_code", "reason"):
        if code in ("no_factor", "ambiguous_factor"):
            found = _LOOKUP.search(reason)
            detail = found.group(1) if found else reason
        else:
            detail = reason if code in ("no_rate", "inexact", "no_total", "bad_data_quality") else None
        out.setdefault(aid, []).append(("unmatched", rule, code, detail))
    return out


def _order(row: tuple) -> tuple:
    return tuple("" if x is None else str(x) for x in row)


def _shown(row: tuple) -> str:
    if row[0] == "result":
        _, rule, gas, kg, gwp, co2e, ids, level, instrument, score = row
        mass = f" = {kg} kg × GWP {gwp}" if kg is not None else ""
        part = f", instrument {instrument}" if instrument else ""
        scored = f", data quality {score}" if score is not None else ""
        return f"result by rule {rule}: {gas} {co2e} kg CO2e{mass} (factors {', '.join(ids) or 'none'}, {level}{part}{scored})"
    if row[0] == "excluded":
        return f"excluded by rule {row[1]} ({row[2]})"
    _, rule, code, detail = row
    return f"unmatched ({code}{': ' + detail if detail else ''}){' in rule ' + rule if rule else ''}"


def _is_run() -> exp.Expression:
    return exp.EQ(this=column("run_id"), expression=param("run_id"))


def _count(ex: Executor, name: str, run_id: int) -> int:
    return ex.one(exp.select(exp.Count(this=exp.Star())).from_(table(name)).where(_is_run()), {"run_id": run_id})[0]  # type: ignore[index]


def _except(ex: Executor, name: str, cols: tuple[str, ...], a: int, b: int, limit: int = 20) -> list[tuple]:
    side = lambda p: exp.select(*[column(c) for c in cols]).from_(table(name)).where(  # noqa: E731
        exp.EQ(this=column("run_id"), expression=param(p))
    )
    q = exp.select(exp.Star()).from_(exp.Subquery(this=exp.except_(side("a"), side("b"), distinct=False), alias="d")).limit(limit)
    return ex.rows(q, {"a": a, "b": b})
