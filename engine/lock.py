"""Published methodology versions are immutable: methodologies/published.lock proves it.

For every published version the lock records the sha256 of its file and of its totals
snapshot (the numbers it reports on the sample data). A test compares them with what is on
disk, so changing a published file, or a number it produces, without a new version fails. The
compiled SQL is snapshotted too but not locked: the compiler may change how it writes SQL as
long as every number stays the same. ``record_new`` only adds
entries for versions not yet locked; it never rewrites one.

The shipped factor-set declarations (methodologies/factor_sets/) are locked too, under
``factor_set:<id>``: what in them moves a published version's numbers — the unit of each gas's
values, and each edition's periods (which edition a run reads for a period) and file checksum.
An edition may be added (a new period); a locked one never changes, nor do the gases.

An organisation's project (``ccf.yaml``) has a lock of its own, ``published.lock`` in its
methodology folder, for its own published versions and factor-set declarations
(``record_project``); ccf never writes into its installed package. A project has no totals
snapshots: its entries hold the content checksum, and its test cases pin its numbers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.library import Library
from ccf.engine.project import Project

LOCK_NAME = "published.lock"


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def snapshot_paths(root: Path, m: ir.Methodology) -> tuple[Path, Path]:
    return root / "snapshots" / "sql" / f"{m.ref}.sql", root / "snapshots" / "totals" / f"{m.ref}.json"


def results_in_snapshot(root: Path, m: ir.Methodology) -> int:
    """How many activity rows of the sample data gave results in the version's totals snapshot."""
    return int(json.loads(snapshot_paths(root, m)[1].read_text("utf-8"))["reconciliation"]["results"])


def entry(root: Path, m: ir.Methodology) -> dict[str, str | None]:
    _, totals = snapshot_paths(root, m)
    return {"content_sha256": m.content_hash, "totals_sha256": _sha(totals)}


SET_PREFIX = "factor_set:"


def set_entry(fs: ir.FactorSet) -> dict:
    """What of a declaration the lock holds: its gases' units and its editions."""
    return {
        "gases": dict(fs.gas_units),
        "editions": {e.id: {"periods": [ir.period_text(a, b) for a, b in e.periods], "sha256": e.sha256}
                     for e in fs.editions},
    }


def set_changes(fs: ir.FactorSet, locked: dict) -> list[str]:
    """How a declaration departs from its lock entry (an added edition is no departure)."""
    now = set_entry(fs)
    problems = [] if now["gases"] == locked["gases"] else [f"the gases of {fs.id} changed: {locked['gases']} → {now['gases']}"]
    for eid, then in locked["editions"].items():
        if now["editions"].get(eid) != then:
            problems.append(f"edition {eid} of {fs.id} changed or was removed: {then} → {now['editions'].get(eid)}")
    return problems


def read_lock(methodologies_dir: Path) -> dict[str, dict[str, str | None]]:
    path = methodologies_dir / LOCK_NAME
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def record_new(root: Path, methodologies_dir: Path, published: list[ir.Methodology],
               factor_sets: list[ir.FactorSet] = ()) -> list[str]:
    """Add lock entries for newly published versions, and new declarations or editions of the
    shipped factor sets; refuse versions whose snapshots are missing or hold no result row, and
    a locked declaration that changed."""
    lock = read_lock(methodologies_dir)
    added = []
    for fs in sorted(factor_sets, key=lambda f: f.id):
        key = SET_PREFIX + fs.id
        if key in lock:
            problems = set_changes(fs, lock[key])
            if problems:
                raise CcfError("; ".join(problems) + ": a published factor set's editions and gases never change "
                               "(declare a new edition for a new period)")
            new = sorted(set(fs_e.id for fs_e in fs.editions) - set(lock[key]["editions"]))
            if not new:
                continue
            added += [f"{key} edition {e}" for e in new]
        else:
            added.append(key)
        lock[key] = set_entry(fs)
    for m in sorted(published, key=lambda m: m.ref):
        if m.ref in lock:
            continue
        e = entry(root, m)
        if e["totals_sha256"] is None:
            raise CcfError(f"{m.ref} has no snapshots yet: run the snapshot tests with --snapshot-update first")
        if not results_in_snapshot(root, m):
            raise CcfError(f"{m.ref}'s totals snapshot has no result rows ({snapshot_paths(root, m)[1].name}): a "
                           "snapshot of nothing pins no number. Publish it once the sample data has rows it "
                           "computes (methodologies/sample_data/), with their snapshot")
        lock[m.ref] = e
        added.append(m.ref)
    (methodologies_dir / LOCK_NAME).write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", "utf-8")
    return added


def project_own(project: Project, lib: Library) -> tuple[list[ir.Methodology], list[ir.FactorSet]]:
    """The project's published versions and its declared factor sets, in the library."""
    folder = project.methodologies.resolve()
    published = [m for m in lib.versions() if m.status == "published" and Path(m.path).resolve().is_relative_to(folder)]
    sets = {fs.id: fs for fs in lib.factor_sets.values()
            if isinstance(fs, ir.FactorSet) and Path(fs.path).resolve().parent == project.factor_sets.resolve()}
    return published, list(sets.values())


def project_changes(project: Project, lib: Library) -> list[str]:
    """How the project's published versions and declarations depart from its lock: a locked
    version whose file changed, a locked edition that changed or went."""
    lock = read_lock(project.lock_dir)
    published, sets = project_own(project, lib)
    problems = [f"{m.ref} is published and locked, and its file changed since ({m.path}): publish a new version instead"
                for m in published if m.ref in lock and lock[m.ref]["content_sha256"] != m.content_hash]
    for fs in sets:
        if SET_PREFIX + fs.id in lock:
            problems += set_changes(fs, lock[SET_PREFIX + fs.id])
    return problems


def record_project(project: Project, lib: Library) -> list[str]:
    """Add lock entries for the project's newly published versions and declarations (or new
    editions) to its published.lock; refuse when a locked one changed."""
    problems = project_changes(project, lib)
    if problems:
        raise CcfError("; ".join(problems))
    lock = read_lock(project.lock_dir)
    published, sets = project_own(project, lib)
    added = []
    for fs in sorted(sets, key=lambda f: f.id):
        key = SET_PREFIX + fs.id
        new = sorted({e.id for e in fs.editions} - set(lock.get(key, {}).get("editions", {})))
        if key not in lock or new:
            added += [f"{key} edition {e}" for e in new] if key in lock else [key]
            lock[key] = set_entry(fs)
    for m in sorted(published, key=lambda m: m.ref):
        if m.ref not in lock:
            lock[m.ref] = {"content_sha256": m.content_hash}
            added.append(m.ref)
    if added:
        project.lock_dir.mkdir(parents=True, exist_ok=True)
        (project.lock_dir / LOCK_NAME).write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", "utf-8")
    return added
