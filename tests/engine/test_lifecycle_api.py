"""The lifecycle operations of the Python API (engine/api.py, engine/lifecycle/) return data,
and a delete is one transaction: refused whole when another record depends on what it deletes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import shipped_library

from ccf.dsl.diagnostics import CcfError
from ccf.engine import api

HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country\n"


def _dataset_with_run(db, tmp_path: Path, name: str = "acme") -> int:
    csv = tmp_path / f"{name}.csv"
    csv.write_text(HEADER + "e1,ACME,2024-01-01,2024-12-31,1000,kWh,GB\ne2,ACME,2024-01-01,2024-12-31,x,kWh,GB\n", "utf-8")
    lib = shipped_library()
    api.load_files(db, name, "electricity", [csv], lib)
    return api.run(db, name, api.resolve(lib, ["scope2.electricity.location_based@1.0.0"])).run_id


def _count(db, table: str) -> int:
    (n,) = db.execute(f"SELECT count(*) FROM ccf.{table}").fetchone()
    db.rollback()
    return n


def test_the_api_returns_datasets_runs_and_rows_as_data(db, tmp_path):
    run_id = _dataset_with_run(db, tmp_path)
    (d,) = api.datasets(db)
    assert (d["dataset"], d["loads"], d["rows_loaded"], d["rows_rejected"], d["runs"]) == ("acme", 1, 1, 1, 1)
    shown = api.dataset(db, "acme")
    assert [x["load_id"] for x in shown["loads"]] == [1] and [r["run_id"] for r in shown["runs"]] == [run_id]
    assert api.run_info(db, run_id)["methodologies"][0]["rows_result"] == 1
    assert [(r["line_no"], r["activity_id"]) for r in api.rejects(db, load_id=1)] == [(3, "e2")]
    assert api.unmatched(db, run_id) == []
    ran, skipped = api.with_rows(db, "acme", api.latest_published(shipped_library()))
    assert {m.activity.id for m in ran} == {"electricity"} and "business_travel" in {m.activity.id for m in skipped}
    with pytest.raises(CcfError, match="did you mean 'acme'"):
        api.dataset(db, "acm")


def test_a_run_another_record_refers_to_is_not_deleted_and_the_delete_says_what_refers_to_it(db, tmp_path):
    run_id = _dataset_with_run(db, tmp_path)
    # a record a later part of ccf may add (a published inventory, say) with a key to the run
    db.execute("CREATE TABLE ccf.test_published_total (run_id BIGINT REFERENCES ccf.run (run_id))")
    db.execute("INSERT INTO ccf.test_published_total VALUES (%s)", (run_id,))
    db.commit()
    before = {t: _count(db, t) for t in ("result", "unmatched", "run_methodology", "run")}
    with pytest.raises(CcfError, match=f"other records depend on run\\(s\\) {run_id}: .*test_published_total.*Nothing was deleted"):
        api.delete_run(db, run_id)
    with pytest.raises(CcfError, match="Nothing was deleted"):
        api.delete_dataset(db, "acme", cascade=True)
    assert {t: _count(db, t) for t in before} == before  # the rows deleted before the refusal came back
    assert _count(db, "activity_electricity") == 1 and _count(db, "rejected") == 1


def test_deleting_one_dataset_leaves_the_others(db, tmp_path):
    _dataset_with_run(db, tmp_path, "one")
    other = _dataset_with_run(db, tmp_path, "two")
    deleted = api.delete_dataset(db, "one", cascade=True)
    assert deleted.rows["activity_electricity"] == 1 and deleted.rows["run"] == 1
    assert [d["dataset"] for d in api.datasets(db)] == ["two"]
    assert [r["run_id"] for r in api.runs(db)] == [other] and _count(db, "activity_electricity") == 1
