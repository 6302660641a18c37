"""``ccf bench --end-to-end --engine clickhouse`` (docs/scale-out.md): the generated rows loaded
into PostgreSQL, run on ClickHouse and reported from there, as a user would, each phase timed
with the process's peak memory; the same keys and the same total as on PostgreSQL, and nothing
left behind on either engine. Timings are not asserted."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from decimal import Decimal

import psycopg
import pytest
from sqlglot import exp

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from ccf.engine.cli import main  # noqa: E402
from ccf.engine.clickhouse.catalogue import opened  # noqa: E402
from ccf.engine.clickhouse.tables import RESULT_TABLES, run_tables  # noqa: E402
from ccf.engine.sql import Executor, table  # noqa: E402


def _end_to_end(*args: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["bench", "--end-to-end", "--rows", "400", "--json", *args]) == 0
    return json.loads(out.getvalue())


def test_end_to_end_on_clickhouse_reports_the_same_keys_and_total(db_url, clickhouse, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    monkeypatch.delenv("CCF_ENGINE", raising=False)
    on_postgresql, on_clickhouse = _end_to_end(), _end_to_end("--engine", "clickhouse")
    assert set(on_clickhouse) == set(on_postgresql)
    assert (on_postgresql["engine"], on_clickhouse["engine"]) == ("postgresql", "clickhouse")
    assert Decimal(on_clickhouse["total_co2e_kg"]) == Decimal(on_postgresql["total_co2e_kg"]) > 0
    assert (on_clickhouse["rows_loaded"], on_clickhouse["rows_rejected"]) == (on_postgresql["rows_loaded"], on_postgresql["rows_rejected"])
    assert set(on_clickhouse["peak_rss_mb"]) == {"load", "run", "report"} and all(v > 0 for v in on_clickhouse["peak_rss_mb"].values())
    assert all(on_clickhouse[f"{phase}_s"] > 0 for phase in ("load", "run", "report")) and on_clickhouse["report_bytes"] > 0
    with psycopg.connect(db_url) as conn:  # the run is deleted from both engines, and its inputs were dropped
        assert conn.execute("SELECT COUNT(*) FROM ccf.run").fetchone() == (0,)  # noqa: test reads only
        ch, database = opened(Executor(conn))
    assert not run_tables(ch, database)
    for name in RESULT_TABLES:
        assert ch.rows(exp.select(exp.Count(this=exp.Star())).from_(table(name, database)))[0][0] == 0
