"""Published methodology versions are immutable: methodologies/published.lock proves it.

For every published version the lock records the sha256 of its file and of its totals
snapshot (the numbers it reports on the sample data). A test compares them with what is on
disk, so changing a published file, or a number it produces, without a new version fails. The
compiled SQL is snapshotted too but not locked: the compiler may change how it writes SQL as
long as every number stays the same. ``record_new`` only adds
entries for versions not yet locked; it never rewrites one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError

LOCK_NAME = "published.lock"


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def snapshot_paths(root: Path, m: ir.Methodology) -> tuple[Path, Path]:
    return root / "snapshots" / "sql" / f"{m.ref}.sql", root / "snapshots" / "totals" / f"{m.ref}.json"


def entry(root: Path, m: ir.Methodology) -> dict[str, str | None]:
    _, totals = snapshot_paths(root, m)
    return {"content_sha256": m.content_hash, "totals_sha256": _sha(totals)}


def read_lock(methodologies_dir: Path) -> dict[str, dict[str, str | None]]:
    path = methodologies_dir / LOCK_NAME
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def record_new(root: Path, methodologies_dir: Path, published: list[ir.Methodology]) -> list[str]:
    """Add lock entries for newly published versions; refuse ones whose snapshots are missing."""
    lock = read_lock(methodologies_dir)
    added = []
    for m in sorted(published, key=lambda m: m.ref):
        if m.ref in lock:
            continue
        e = entry(root, m)
        if e["totals_sha256"] is None:
            raise CcfError(f"{m.ref} has no snapshots yet: run the snapshot tests with --snapshot-update first")
        lock[m.ref] = e
        added.append(m.ref)
    (methodologies_dir / LOCK_NAME).write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", "utf-8")
    return added
