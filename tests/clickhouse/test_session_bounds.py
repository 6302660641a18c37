"""The process's ClickHouse session pins the bounds on a statement's memory
(engine/clickhouse/session.py ``SESSION_SETTINGS``; docs/scale-out.md, "chdb's memory"): on chdb
ClickHouse runs in ccf's process, whose memory they bound."""

from __future__ import annotations

import pytest
from sqlglot import exp

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from ccf.engine.clickhouse.session import SESSION_SETTINGS  # noqa: E402
from ccf.engine.sql import column, table  # noqa: E402


def test_the_session_holds_the_memory_bounds(clickhouse):
    names = exp.In(this=column("name"), expressions=[exp.Literal.string(n) for n in SESSION_SETTINGS])
    held = dict(clickhouse.rows(exp.select(column("name"), column("value")).from_(table("settings", "system")).where(names)))
    assert held == {name: str(value) for name, value in SESSION_SETTINGS.items()}
