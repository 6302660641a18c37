"""Where a command's ClickHouse is: chdb in-process, its data in a folder of its own, kept open
for the life of the process.

chdb runs one embedded ClickHouse server per process, bound to one data folder until every
session on it is closed; two processes cannot open the same folder. So a process keeps one
session (``open_clickhouse``) and every command, report and test in it shares that session;
asking for another folder closes the one held first. The folder is ``CCF_CLICKHOUSE_DIR``, else
``clickhouse`` under the embedded PostgreSQL's folder (``CCF_HOME``): one user's ccf keeps its
ClickHouse rows beside its PostgreSQL catalogue (docs/scale-out.md).

A run's rows are in the ClickHouse database of its PostgreSQL database (catalogue.py), whose
tables are made by whoever first writes or reads there.
"""

from __future__ import annotations

from pathlib import Path

from ccf.dsl.diagnostics import CcfError
from ccf.engine.sql import ClickHouseExecutor

_held: dict[str, object] = {}  # "folder": the folder of the session held, "executor": its executor


class ClickHouseUnavailable(CcfError):
    """ClickHouse asked for where it cannot be had: the extra not installed, a folder in use."""


def open_clickhouse(folder: Path | None = None) -> ClickHouseExecutor:
    """The process's ClickHouse session on ``folder`` (default: the settings'), opened at the
    first call; its result tables exist."""
    from ccf.engine.options import engine_settings

    chosen = engine_settings()
    if chosen.clickhouse_url is not None:
        raise ClickHouseUnavailable(
            "CCF_CLICKHOUSE_URL names a ClickHouse server, which this ccf does not connect to yet (docs/scale-out.md): "
            "unset it to compute on chdb in-process")
    folder = (folder or chosen.chdb_dir).resolve()
    if _held.get("folder") == folder:
        return _held["executor"]  # type: ignore[return-value]
    close_clickhouse()
    try:
        from chdb import session as chdb_session
    except ImportError:
        raise ClickHouseUnavailable("--engine clickhouse needs ClickHouse in-process: pip install 'ccf[clickhouse]' "
                                    "(chdb)") from None
    folder.mkdir(parents=True, exist_ok=True)
    try:
        session = chdb_session.Session(str(folder))
    except RuntimeError as exc:  # another process holds the folder
        raise ClickHouseUnavailable(f"chdb cannot open its data folder {folder} ({str(exc).strip()}); another ccf "
                                    "process may be using it: one process at a time, or set CCF_CLICKHOUSE_DIR") from None
    executor = ClickHouseExecutor(session)
    _held.update(folder=folder, executor=executor)
    return executor


def close_clickhouse() -> None:
    """Close the session held, if any (chdb may then open another folder)."""
    executor = _held.pop("executor", None)
    _held.pop("folder", None)
    if executor is not None:
        executor.session.close()  # type: ignore[attr-defined]


__all__ = ["ClickHouseUnavailable", "close_clickhouse", "open_clickhouse"]
