"""Where a command's ClickHouse is, and the one client the process keeps to it: a server named by
``CCF_CLICKHOUSE_URL``, else chdb in-process with its data in a folder of its own.

Both are reached through clickhouse-connect's ``Client``, so every statement, insert and error
takes the same path whatever the transport (docs/scale-out.md, "Where ClickHouse is"):

- ``CCF_CLICKHOUSE_URL`` set: ``http(s)://user:password@host:port/…`` names a server or a
  cluster's node; ``chdb:///folder`` names chdb's folder explicitly. The password is never
  told: every message about the URL or from the server is masked (``where_clickhouse``,
  ``ClickHouseExecutor.mask``).
- unset: chdb on ``CCF_CLICKHOUSE_DIR``, else ``clickhouse`` under the embedded PostgreSQL's
  folder (``CCF_HOME``): one user's ccf keeps its ClickHouse rows beside its PostgreSQL catalogue.

chdb runs one embedded ClickHouse server per process, bound to one data folder until every
connection to it is closed, and two processes cannot open the same folder. So a process keeps
one client (``open_clickhouse``) and every command, report and test in it shares it; asking for
another place closes the one held first.

A run's rows are in the ClickHouse database of its PostgreSQL database (catalogue.py), whose
tables are made by whoever first writes or reads there.

The client pins ``SESSION_SETTINGS`` on its session, either transport: bounds on the memory a
statement takes, which on chdb is ccf's own process's (docs/scale-out.md, "chdb's memory").
They never change what a statement means; the settings a statement's meaning depends on travel
in the statement (compile.py's ``SETTINGS``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ccf.dsl.diagnostics import CcfError
from ccf.engine.sql import ClickHouseExecutor

_held: dict[str, object] = {}  # "place": where the client held connects, "executor": its executor
_SCHEMES = ("http", "https")  # a server; chdb:///folder is chdb in-process


# An insert's rows are squashed into blocks of up to a million rows (and 256 MB) before each is
# written, and a block of the activity rows' copy or of a methodology's result rows (some forty
# Decimal256 columns) held hundreds of MB in ccf's process on chdb, more the more rows: blocks of
# 64K rows (or 16 MB, whichever comes first) bound it, for more and smaller parts, which the
# MergeTree merges in the background.
SESSION_SETTINGS = {"max_insert_block_size": 65536, "min_insert_block_size_rows": 65536,
                    "min_insert_block_size_bytes": 16 * 2**20}


class ClickHouseUnavailable(CcfError):
    """ClickHouse asked for where it cannot be had: the extra not installed, a folder in use, a
    URL that names no ClickHouse ccf connects to, a server that does not answer."""


def where_clickhouse(url: str | None = None, folder: Path | None = None) -> str:
    """Where ClickHouse is, for people: the URL with its password masked, or chdb's folder
    (default: the settings')."""
    from ccf.engine.options import POSTGRESQL, engine_settings

    if url is None and folder is None:
        chosen = engine_settings(POSTGRESQL)  # where ClickHouse is, whichever engine CCF_ENGINE names
        url, folder = chosen.clickhouse_url, chosen.chdb_dir
    if url is not None:
        return _masked(url, url)
    return f"chdb in-process, folder {folder}"


def open_clickhouse(folder: Path | None = None) -> ClickHouseExecutor:
    """The process's ClickHouse client, opened at the first call: on ``CCF_CLICKHOUSE_URL``'s
    server, else chdb on ``folder`` (default: the settings'). A server
    is reached before the client held is closed, so a server that does not answer leaves it open;
    chdb's folder only after (chdb opens one folder per process)."""
    from ccf.engine.options import engine_settings

    chosen = engine_settings()
    url = chosen.clickhouse_url if folder is None else None
    if url is not None and urlsplit(url).scheme == "chdb":
        if not urlsplit(url).path.strip("/"):
            raise ClickHouseUnavailable(f"CCF_CLICKHOUSE_URL is {url!r}: chdb's data need a folder, chdb:///path/to/folder")
        url, folder = None, Path(unquote(urlsplit(url).path))
    folder = (folder or chosen.chdb_dir).resolve() if url is None else None
    place = url if url is not None else f"chdb folder {folder}"
    if _held.get("place") == place:
        return _held["executor"]  # type: ignore[return-value]
    try:
        import clickhouse_connect
    except ImportError:
        raise ClickHouseUnavailable("--engine clickhouse needs clickhouse-connect and chdb: pip install 'ccf[clickhouse]'") from None
    # clickhouse-connect logs a failure as a warning before raising it, which Python's last-resort
    # handler would print above ccf's own message of it: a library's logs go nowhere unless the
    # application configures logging (urllib3 does the same for itself)
    logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())
    if folder is not None:
        close_clickhouse()
        executor = _chdb(clickhouse_connect, folder)
    else:
        executor = _server(clickhouse_connect, place)
        close_clickhouse()
    _held.update(place=place, executor=executor)
    return executor


def _chdb(clickhouse_connect, folder: Path) -> ClickHouseExecutor:
    """A client of chdb in-process on ``folder``."""
    from clickhouse_connect.driver.exceptions import ClickHouseError as ClientError

    folder.mkdir(parents=True, exist_ok=True)
    try:
        return ClickHouseExecutor(clickhouse_connect.get_client(interface="chdb", path=str(folder), settings=SESSION_SETTINGS))
    except ImportError:
        raise ClickHouseUnavailable("--engine clickhouse without CCF_CLICKHOUSE_URL computes on ClickHouse in-process: "
                                    "pip install 'ccf[clickhouse]' (chdb)") from None
    except ClientError as exc:  # another process holds the folder
        raise ClickHouseUnavailable(f"chdb cannot open its data folder {folder} ({' '.join(str(exc).split())}); another "
                                    "ccf process may be using it: one process at a time, or set CCF_CLICKHOUSE_DIR") from None


def _server(clickhouse_connect, url: str) -> ClickHouseExecutor:
    """A client of the ClickHouse server at ``url`` (HTTP or HTTPS)."""
    from clickhouse_connect.driver.exceptions import ClickHouseError as ClientError

    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ClickHouseUnavailable(f"CCF_CLICKHOUSE_URL is {_masked(url, url)!r}, which names no ClickHouse ccf "
                                    "connects to: http(s)://user:password@host:port/ for a server, chdb:///folder for chdb")
    try:
        client = clickhouse_connect.get_client(dsn=url, settings=SESSION_SETTINGS)
    except ClientError as exc:
        raise ClickHouseUnavailable(f"ClickHouse at {_masked(url, url)} cannot be reached: "
                                    f"{_masked(' '.join(str(exc).split()), url)}") from None
    return ClickHouseExecutor(client, mask=lambda text: _masked(text, url))


def _masked(text: str, url: str) -> str:
    """``text`` with ``url``'s password (in its userinfo or a ``password=`` parameter, as
    written and as decoded) replaced by ``***``."""
    from ccf.engine.database import mask_secrets

    return mask_secrets(text, url)


def close_clickhouse() -> None:
    """Close the client held, if any (chdb may then open another folder)."""
    executor = _held.pop("executor", None)
    _held.pop("place", None)
    if executor is not None:
        executor.close()  # type: ignore[attr-defined]


__all__ = ["SESSION_SETTINGS", "ClickHouseUnavailable", "close_clickhouse", "open_clickhouse", "where_clickhouse"]
