"""One ClickHouse client (clickhouse-connect on chdb in-process) per test process: every test
of tests/clickhouse/ shares it, the command line's too (engine/clickhouse/session.py keeps one per
process). Its folder is the process's own (CCF_CLICKHOUSE_DIR): chdb refuses a folder another
process holds, and the pytest-xdist workers are processes. Each run writes its own run id."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory):
    pytest.importorskip("clickhouse_connect", reason="the clickhouse extra (clickhouse-connect, chdb) is not installed")
    pytest.importorskip("chdb", reason="the clickhouse extra (clickhouse-connect, chdb) is not installed")
    from ccf.engine.clickhouse.session import close_clickhouse, open_clickhouse

    previous = os.environ.get("CCF_CLICKHOUSE_DIR")
    os.environ["CCF_CLICKHOUSE_DIR"] = str(tmp_path_factory.mktemp("clickhouse"))
    try:
        yield open_clickhouse()
    finally:
        close_clickhouse()
        if previous is None:
            os.environ.pop("CCF_CLICKHOUSE_DIR", None)
        else:
            os.environ["CCF_CLICKHOUSE_DIR"] = previous
