"""ccf verify: recompute a past run from its recorded inputs and compare, leaving nothing."""

from __future__ import annotations

from helpers import load, shipped_library, write_csv
from ccf.engine.run import run
from ccf.engine.verify import verify

HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"


def _setup(db, tmp_path):
    lib = shipped_library()
    load(db, lib, "v", "electricity", write_csv(
        tmp_path / "e.csv", HEADER,
        "e1,A,2024-01-01,2024-01-31,1000,kWh,GB", "e2,A,2024-01-01,2024-01-31,0,kWh,GB", "e3,A,2024-01-01,2024-01-31,5,MWh,FR",
    ))
    report = run(db, "v", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    return lib, report


def _runs(db) -> int:
    (n,) = db.execute("SELECT count(*) FROM ccf.run").fetchone()
    db.commit()
    return n


def test_an_untouched_run_verifies_identical_and_leaves_nothing(db, tmp_path):
    lib, report = _setup(db, tmp_path)
    before = _runs(db)
    v = verify(db, report.run_id, lib)
    assert v.identical, v.problems
    assert v.checked == {"result": 3, "excluded": 1, "unmatched": 1}
    assert _runs(db) == before


def test_a_tampered_result_is_found(db, tmp_path):
    lib, report = _setup(db, tmp_path)
    db.execute("UPDATE ccf.result_row SET co2_co2e_kg = co2_co2e_kg + 1")  # the run's rows (ccf.result is their view)
    db.commit()
    v = verify(db, report.run_id, lib)
    assert not v.identical
    assert any(p.startswith("result only in the original run: methodology_id=scope2.electricity.location_based, activity_id=e1") for p in v.problems)
    assert any(p.startswith("result only in the recomputation") for p in v.problems)


def test_data_loaded_after_the_run_is_not_read_by_its_verification(db, tmp_path):
    """The recomputation reads the run's recorded loads only (tests/reliability/test_snapshot.py)."""
    lib, report = _setup(db, tmp_path)
    load(db, lib, "v", "electricity", write_csv(tmp_path / "more.csv", HEADER, "e9,A,2024-02-01,2024-02-28,1,kWh,GB"))
    v = verify(db, report.run_id, lib)
    assert v.identical, v.problems
    assert v.checked == {"result": 3, "excluded": 1, "unmatched": 1}
