"""Snapshots pin the compiled SQL and the reported numbers of every methodology version.

One readable file per version: snapshots/sql/<id>@<version>.sql and
snapshots/totals/<id>@<version>.json (totals on the Northwind sample dataset). Review changes
to them like code: `pytest --snapshot-update` rewrites them, and test_published_lock then
fails for a published version until it has a new version number.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import shipped_library
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ccf.dsl.numeric import plain
from ccf.engine.api import methodologies_dir
from ccf.engine.compile import compile_methodology
from ccf.engine.database import connect
from ccf.engine.lock import SET_PREFIX, entry, read_lock, set_changes
from ccf.engine.run import run

ROOT = Path(__file__).resolve().parent.parent.parent
LIB = shipped_library()
VERSIONS = [m.ref for m in LIB.versions()]


def _param(test_location) -> str:
    name = test_location.testname
    return name[name.index("[") + 1 : -1]


class _VersionFile(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    folder = ""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(ROOT / "snapshots" / cls.folder)

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0) -> str:
        return _param(test_location)


class SqlFile(_VersionFile):
    file_extension = "sql"
    folder = "sql"


class TotalsFile(_VersionFile):
    file_extension = "json"
    folder = "totals"


@pytest.mark.parametrize("ref", VERSIONS)
def test_compiled_sql(ref, snapshot):
    assert compile_methodology(LIB.resolve(ref)).sql() == snapshot(extension_class=SqlFile)


@pytest.fixture(scope="module")
def northwind(sample_company):
    """The session's sample company; each version runs on its dataset loaded as shipped."""
    conn = connect(sample_company.url)
    yield conn
    conn.close()


def _dec(d: Decimal) -> str:
    return plain(d)  # every digit: Decimal.normalize would round to the context's 28 digits


@pytest.mark.parametrize("ref", VERSIONS)
def test_totals_on_sample_data(ref, northwind, sample_company, snapshot):
    m = LIB.resolve(ref)
    # the sample data are for 2024: a version pinning the 2025 edition is computed with it, as
    # the demo does (a recorded fallback; engine/factors/editions.py), so its numbers stay pinned
    report = run(northwind, sample_company.PLAIN, [m], other_edition=True)
    (outcome,) = report.methodologies
    rows = northwind.execute(
        "SELECT rule_id, gas, sum(co2e_kg) FROM ccf.result WHERE run_id = %s GROUP BY rule_id, gas ORDER BY 1, 2",
        (report.run_id,),
    ).fetchall()
    northwind.commit()  # the next run starts its own transaction, which reads one snapshot
    pinned = {
        "methodology": ref,
        "content_sha256": m.content_hash,
        "co2e_kg": _dec(outcome.co2e_kg),
        "by_gas": {g: _dec(v) for g, v in outcome.by_gas},
        "by_rule_and_gas": {f"{rule}/{gas}": _dec(v) for rule, gas, v in rows},
        "reconciliation": {
            "rows_in": outcome.reconciliation.rows_in,
            "results": outcome.reconciliation.rows_result,
            "excluded": outcome.reconciliation.rows_excluded,
            "unmatched": outcome.reconciliation.rows_unmatched,
            "rejected": outcome.reconciliation.rows_rejected,
        },
    }
    assert json.dumps(pinned, indent=2) + "\n" == snapshot(extension_class=TotalsFile)
    if m.status == "published":  # a snapshot of nothing pins no number (ccf lock refuses it too)
        assert outcome.reconciliation.rows_result > 0, f"{ref} is published, yet no sample row gives it a result"


@pytest.mark.parametrize("ref", [m.ref for m in LIB.versions() if m.status == "published"])
def test_published_lock(ref):
    """A published version's file, SQL and numbers never change: bump the version instead."""
    lock = read_lock(methodologies_dir())
    assert ref in lock, f"{ref} is published but not in methodologies/published.lock (run `ccf lock`)"
    assert entry(ROOT, LIB.resolve(ref)) == lock[ref], (
        f"{ref} is published, yet its file or snapshots changed. Published versions are immutable: "
        "restore them and publish the change as a new version."
    )


SHIPPED_SETS = sorted({fs.id: fs for fs in LIB.factor_sets.values() if hasattr(fs, "editions")}.values(), key=lambda f: f.id)


@pytest.mark.parametrize("fs", SHIPPED_SETS, ids=lambda fs: fs.id)
def test_published_factor_set_lock(fs):
    """A shipped declaration's gases and locked editions never change (a new edition may be added)."""
    lock = read_lock(methodologies_dir())
    key = SET_PREFIX + fs.id
    assert key in lock, f"factor set {fs.id} is shipped but not in methodologies/published.lock (run `ccf lock`)"
    assert set_changes(fs, lock[key]) == []


def test_an_edited_edition_period_is_caught_by_the_lock():
    """Moving the 2025 edition to 2024 would change which factors a published version that
    names the set reads for 2024: the lock refuses it."""
    import dataclasses
    from datetime import date

    desnz = LIB.factor_sets["desnz"]
    moved = tuple(dataclasses.replace(e, periods=((date(2024, 1, 1), date(2024, 12, 31)),)) if e.id == "desnz-2025" else e
                  for e in desnz.editions)
    changes = set_changes(dataclasses.replace(desnz, editions=moved), read_lock(methodologies_dir())["factor_set:desnz"])
    assert changes and "desnz-2025" in changes[0]
