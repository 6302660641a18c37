"""The database ccf uses, as the user sees it: where it is, whether the embedded server runs,
stopping that server, and its URL — always with any password masked (``mask_secrets``).

With ``CCF_DATABASE_URL`` (or a project target's URL) the server is someone else's: ccf reports it and never stops it.
Without it, the embedded server of ``$CCF_HOME/pgdata`` keeps running after each command (the
next one starts in milliseconds); ``ccf db stop`` ends it, the next command starts it again.
"""

from __future__ import annotations

import os
from typing import Any

from ccf.dsl.diagnostics import CcfError
from ccf.engine.database import ccf_home, database_url, mask_secrets, stop_embedded, wait_until_ready
from ccf.engine.options import CLICKHOUSE, settings


def _external() -> str | None:
    return settings().database_url


def _data_dir():
    return ccf_home() / "pgdata"


def status() -> dict[str, Any]:
    """Where the database is and, for the embedded server, whether it runs (and its process id);
    starts nothing."""
    url = _external()
    if url is not None:
        return {"kind": "external", "url": mask_secrets(url, url), "source": settings().url_source, **_clickhouse()}
    data = _data_dir()
    running = wait_until_ready(data, 0)
    pid = None
    if running:
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    return {"kind": "embedded", "data_directory": str(data), "initialised": (data / "PG_VERSION").exists(),
            "running": running, "pid": pid, **_clickhouse()}


def _clickhouse() -> dict[str, str]:
    """Where ClickHouse is (its URL's password masked), when the environment names it
    (CCF_CLICKHOUSE_URL, or CCF_ENGINE=clickhouse); nothing otherwise."""
    if not (os.environ.get("CCF_CLICKHOUSE_URL") or os.environ.get("CCF_ENGINE") == CLICKHOUSE):
        return {}
    from ccf.engine.clickhouse.session import where_clickhouse

    return {"clickhouse": where_clickhouse()}


def stop() -> dict[str, Any]:
    """Stop the embedded server (a fast shutdown: open transactions roll back, nothing committed
    is lost). An external database is not ccf's to stop: CcfError."""
    if _external() is not None:
        raise CcfError(f"{settings().url_source} names the database: ccf did not start that server and does not stop it")
    data = _data_dir()
    return {"kind": "embedded", "data_directory": str(data), "stopped": stop_embedded(data)}


def url() -> str:
    """The URL commands connect with (starting the embedded server if it is not running), its
    password masked."""
    target = database_url()
    return mask_secrets(target, target)
