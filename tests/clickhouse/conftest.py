"""One chdb session per test process: ClickHouse runs in-process, and every test of
tests/clickhouse/ shares it (each run writes its own run id; tables are created once)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def clickhouse():
    chdb_session = pytest.importorskip("chdb.session", reason="the clickhouse extra (chdb) is not installed")
    from ccf.engine.clickhouse.tables import create_result_tables
    from ccf.engine.sql import ClickHouseExecutor

    session = chdb_session.Session()
    ch = ClickHouseExecutor(session)
    create_result_tables(ch)
    yield ch
    session.close()
