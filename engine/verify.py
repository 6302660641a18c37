"""Verify a past run: recompute it from its recorded inputs and compare, leaving nothing behind.

The run's manifest (ccf.run, ccf.run_methodology) records each methodology version's content
hash, the factor set's source checksum, the activity type's hash and the loads its snapshot
held. Verification checks those inputs are still the same, recomputes the run over exactly the
recorded loads (loads added since are not read) inside a transaction that is rolled back, and
compares every result, exclusion and unmatched record. The checks and the recomputation read one
snapshot (engine/run.py ``one_snapshot``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.library import Library
from ccf.engine.factors.store import installed
from ccf.engine.load import dataset_loads
from ccf.engine.run import one_snapshot, run
from ccf.engine.sql import Executor, column, param, table

# what must be identical between the original and the recomputed run, per output table
COMPARED = {
    "result": ("methodology_id", "activity_id", "rule_id", "gas", "gas_kg", "gwp", "co2e_kg", "factor_ids", "match_level",
               "unit_conversion", "instrument_id", "factor_set"),
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

    @property
    def identical(self) -> bool:
        return not self.problems


def verify(conn: psycopg.Connection, run_id: int, lib: Library) -> Verification:
    # A verification leaves nothing behind: it ends the connection's open transaction, if any
    # (it always rolled it back), and reads one snapshot in a transaction it rolls back.
    conn.rollback()
    with one_snapshot(conn, rollback=True) as ex:
        return _verify(conn, ex, run_id, lib)


def _verify(conn: psycopg.Connection, ex: Executor, run_id: int, lib: Library) -> Verification:
    v = Verification(run_id)
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
    if v.problems or not methodologies:
        return v
    again = run(conn, dataset, methodologies, loads=loads)
    for name, cols in COMPARED.items():
        if name == "instrument_allocation" and all(m.instruments is None for m in methodologies):
            continue  # only market-based Scope 2 allocates instruments
        v.checked[name] = _count(ex, name, run_id)
        for label, a, b in (("only in the original run", run_id, again.run_id), ("only in the recomputation", again.run_id, run_id)):
            for row in _except(ex, name, cols, a, b):
                v.problems.append(f"{name} {label}: " + ", ".join(f"{c}={x}" for c, x in zip(cols, row)))
    return v


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
