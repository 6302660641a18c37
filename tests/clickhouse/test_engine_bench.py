"""``ccf bench --engine clickhouse`` (docs/scale-out.md): the same keys as on PostgreSQL, the
run, report and run's ceilings measured on ClickHouse, its totals identical to the PostgreSQL
run of the same invocation. Timings are not asserted."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from decimal import Decimal

import pytest

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from ccf.engine.cli import main  # noqa: E402


def _bench(*args: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["bench", "--rows", "400", "--repeat", "1", "--sample", "50", "--json", *args]) == 0
    return json.loads(out.getvalue())


def _keys(d: object, path: str = "") -> set[str]:
    if isinstance(d, dict):
        return {f"{path}.{k}" for k in d} | {p for k, v in d.items() for p in _keys(v, f"{path}.{k}")}
    if isinstance(d, list):
        return {p for v in d for p in _keys(v, f"{path}[]")}
    return set()


def test_bench_on_clickhouse_reports_the_same_keys(db_url, clickhouse, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    on_postgresql, on_clickhouse = _bench(), _bench("--engine", "clickhouse")
    assert _keys(on_clickhouse) == _keys(on_postgresql)
    assert (on_postgresql["engine"], on_clickhouse["engine"]) == ("postgresql", "clickhouse")
    assert on_clickhouse["totals_identical"] is True and on_clickhouse["postgresql_run_id"] is not None
    for m in on_clickhouse["methodologies"]:
        totals = m["co2e_kg"]
        assert totals["ccf"] != "0" and m["identical"] is True
        assert Decimal(totals["ccf"]) == Decimal(totals["postgresql_run"]) == Decimal(totals["handwritten"])
    ceilings = on_clickhouse["ceilings"]
    assert ceilings["durable_copy_rows"] == on_clickhouse["rows_loaded"]  # ClickHouse's own copy of the activity rows
    assert ceilings["run_floor_s"] == ceilings["durable_copy_s"]
    assert on_clickhouse["run_floor_ratio"] == pytest.approx(on_clickhouse["run_s"] / ceilings["run_floor_s"], rel=0.05)
    assert on_clickhouse["total_co2e_kg"] and on_clickhouse["report_s"] > 0
