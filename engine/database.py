"""Connections: CCF_DATABASE_URL (or a project target's URL), or an embedded PostgreSQL that ccf starts and reuses.

The embedded server (pgserver, PostgreSQL 16) lives in a per-user data directory
(``$CCF_HOME/pgdata``, a project's ``.ccf/pgdata``, default ``~/.ccf/pgdata``; which one is
settled in engine/options.py). The first start initialises it (seconds);
later commands find it running and connect through its Unix socket. After an unclean stop
(a killed process, a reboot) PostgreSQL first replays its write-ahead log, which can take longer
than pgserver's 10-second wait: ccf then waits for the server to say it is ready
(``START_TIMEOUT_S``) instead of failing.

The embedded server's capacity settings (``EMBEDDED_SERVER_SETTINGS``: memory, checkpoint
spacing, WAL) are sized for bulk loads and runs; ccf writes them to ``ccf.conf`` in the data
directory, included from ``postgresql.conf``, so ``ALTER SYSTEM`` still overrides them. They
change how fast, never what a statement means or what a commit guarantees. A
``CCF_DATABASE_URL`` server is left as its DBA configured it (docs/performance.md recommends
settings for it).

Every connection pins the session settings ccf's SQL depends on (``SESSION_SETTINGS``) as
startup options, whatever the server, database, role or environment sets, and is refused when
they did not take: a statement means the same on every server.

Roles (docs/reliability.md, "Least privilege that holds"): the embedded cluster's superuser only
initialises it. At each start ``embedded_roles.sql`` makes, idempotently, the login ``ccf`` that
owns the database and the ccf schema (every command connects as it) and the login
``ccf_runner`` that runs execute as (``runner_conninfo``), and hands an older ccf's schema,
made by the superuser, to ``ccf``. With ``CCF_DATABASE_URL`` a DBA makes the roles; ccf warns
when it connects as a superuser.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import time
import warnings
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ccf.dsl.diagnostics import CcfError
from ccf.engine.options import known_url, settings

MIN_SERVER_VERSION = 150000
OWNER = "ccf"  # the embedded server's login that owns ccf's schema
RUNNER = "ccf_runner"  # the login a run executes as (engine/run.py)
START_TIMEOUT_S = 600.0  # crash recovery of a large embedded database can take minutes
log = logging.getLogger(__name__)


class DatabaseError(CcfError):
    """The database could not be reached or is unsuitable."""


def ccf_home() -> Path:
    """The embedded server's folder (CCF_HOME, a project's embedded target, ~/.ccf: engine/options.py)."""
    return settings().home


def database_url() -> str:
    """The database URL in force (CCF_DATABASE_URL, a project's target: engine/options.py), or the
    embedded server's URL for its owner login ``ccf``."""
    url = settings().database_url
    if url:
        return url
    return as_user(embedded_superuser_url(), OWNER)


def as_user(url: str, user: str, password: str | None = None) -> str:
    """The same server and database, logged in as another user (without the URL's password)."""
    params = {k: v for k, v in conninfo_to_dict(url).items() if k != "password"}
    params["user"] = user
    if password is not None:
        params["password"] = password
    return make_conninfo(**params)


def runner_conninfo(conn: psycopg.Connection, user: str = RUNNER) -> str:
    """Where a run logs in as ``ccf_runner``: the server and database of ``conn`` (and its
    application name), with the password ``CCF_RUNNER_PASSWORD`` if set (else libpq's own
    means: ``~/.pgpass``, or none on the embedded server, whose Unix socket trusts every login)."""
    return as_user(conn.info.dsn, user, os.environ.get("CCF_RUNNER_PASSWORD"))


def embedded_superuser_url() -> str:
    """Start (or find) the embedded server, make its roles, and return its superuser's URL:
    for setting the cluster up (and the test harness's CREATE DATABASE), never for a command."""
    url = _embedded_url()
    make_embedded_roles(url)
    return url


def make_embedded_roles(superuser_url: str) -> None:
    """embedded_roles.sql, as the superuser, in the database of ``superuser_url`` (idempotent;
    concurrent starts serialise on its lock): also hands a database an older ccf made as the
    superuser to the owner."""
    from ccf.dsl import resources
    from ccf.engine.sql import Executor, parse

    script = resources.embedded_roles().read_text("utf-8")
    try:
        with psycopg.connect(superuser_url, autocommit=False) as conn:
            ex = Executor(conn)
            with conn.transaction():
                for tree in parse(script, allow_commands=True):
                    ex.execute(tree)
    except psycopg.Error as exc:
        raise DatabaseError(f"could not set up the embedded PostgreSQL's roles: {str(exc).strip()}") from None


# Capacity settings of the embedded server, sized for bulk loads and runs (measured before and
# after in docs/performance.md, "Server settings"). Why each is safe: none changes the result of
# a statement (what ccf's SQL relies on is pinned per session, SESSION_SETTINGS) or weakens a
# commit: fsync, full_page_writes and synchronous_commit stay on (a committed load or run
# survives a crash of the machine: auditors' numbers are not re-derivable guesses).
EMBEDDED_SERVER_SETTINGS: dict[str, str] = {
    # The buffer cache (default 128MB, a quarter of which a 1M-row run's result rows alone
    # exceed): fewer dirty pages evicted by the writing backend itself mid-statement. Memory
    # only; read at server start (a running server takes it at its next start).
    "shared_buffers": "512MB",
    # WAL between checkpoints (default 1GB, which a 1M-row load and run write several times):
    # a checkpoint forced by WAL volume writes out every dirty page and makes the next change of
    # each page log a full-page image again. Costs disk (pg_wal up to about this much) and the
    # length of crash recovery, which replays at most this WAL (ccf waits START_TIMEOUT_S).
    "max_wal_size": "4GB",
    # The time between checkpoints (default 5min), for the same reason; recovery bound as above.
    "checkpoint_timeout": "15min",
    # Spread a checkpoint's writes over 90% of the interval (PostgreSQL's default since 14,
    # stated so an older template cannot lower it): no write burst in the middle of a run.
    "checkpoint_completion_target": "0.9",
    # Full-page images in the WAL compressed (pglz, the only method this build has): less WAL
    # to write and fsync for the same pages; the images are still complete, decompressed on
    # replay, so recovery restores exactly the same pages.
    "wal_compression": "pglz",
    # Memory of VACUUM and index builds (default 64MB): a vacuum after a million-row load or
    # rolled-back run scans the table once instead of several passes. Memory only.
    "maintenance_work_mem": "256MB",
    # WAL only for crash recovery (default replica): rows written into a table created in the same
    # transaction — a dataset's new partition, filled by its first load (engine/load/tables.py) —
    # write no WAL; the table's file is synced at commit instead, so a committed load survives a
    # crash all the same. The cost: no streaming replica and no point-in-time recovery of the
    # embedded server (a local one; a server that needs them is a CCF_DATABASE_URL one). Both
    # take effect at the server's next start; a server of wal_level minimal requires no WAL senders.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # The shared lock table holds this many locks per connection slot (default 64: about 6,400
    # in all), and one transaction may use them all. Each run has three partitions (migration
    # 0027); deleting a run takes about 23 locks (its partitions, their TOAST tables and indexes,
    # their catalogue entries), so the default let one transaction delete about 400 runs
    # (`ccf datasets delete --cascade` of a dataset's runs; migration 0027's conversion of a
    # database's runs likewise) and failed "out of shared memory" beyond; 3,000 runs take 69,000.
    # 1024 holds about 4,400 runs, for about 40MB of shared memory (590MB against 550MB), read
    # at server start (docs/performance.md, "Thousands of runs").
    "max_locks_per_transaction": "1024",
}
EMBEDDED_CONF = "ccf.conf"  # in the data directory, written by ccf; included from postgresql.conf
_INCLUDE = f"include_if_exists = '{EMBEDDED_CONF}'"


def configure_embedded(data: Path) -> bool:
    """Write ``EMBEDDED_SERVER_SETTINGS`` to ``<data>/ccf.conf`` and include it from the end of
    ``postgresql.conf`` (read before ``postgresql.auto.conf``, so ``ALTER SYSTEM`` wins); True
    when either file changed. Nothing is done before the data directory is initialised."""
    main = data / "postgresql.conf"
    if not main.exists():
        return False
    text = ("# Written by ccf at each start of its embedded server (engine/database.py,\n"
            "# EMBEDDED_SERVER_SETTINGS); ALTER SYSTEM overrides these.\n"
            + "".join(f"{name} = '{value}'\n" for name, value in EMBEDDED_SERVER_SETTINGS.items()))
    conf = data / EMBEDDED_CONF
    changed = False
    if not conf.exists() or conf.read_text() != text:
        conf.write_text(text)
        conf.chmod(0o644)  # readable by the server's own system user (pgserver's under root)
        changed = True
    if _INCLUDE not in main.read_text().splitlines():
        with main.open("a") as f:
            f.write(f"\n{_INCLUDE}\n")
        changed = True
    return changed


def _apply_settings(server, data: Path, fresh: bool) -> None:
    """After ``ccf.conf`` changed under a running server: reload (every setting but
    shared_buffers, wal_level, max_wal_senders and max_locks_per_transaction takes effect). A cluster this process has just
    initialised is then restarted once, so that it starts with those too; a server that was
    already running (other sessions may be connected) takes them at its next start (``ccf db
    stop``, or a reboot)."""
    import pgserver
    from sqlglot import exp

    from ccf.engine.sql import Executor

    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        Executor(admin).execute(exp.select(exp.Anonymous(this="pg_reload_conf")))
    if fresh:
        pgserver.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=data.resolve(), user=server.system_user,
                        timeout=START_TIMEOUT_S)
    else:
        log.info("the embedded PostgreSQL in %s takes its new shared_buffers, wal_level and "
                 "max_locks_per_transaction at its next start", data)


def _embedded_url() -> str:
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise DatabaseError("pgserver is not installed; set CCF_DATABASE_URL") from exc
    data = ccf_home() / "pgdata"
    data.mkdir(parents=True, exist_ok=True)
    fresh = not (data / "PG_VERSION").exists()  # pgserver initialises it at the start below
    changed = configure_embedded(data)  # before the start: a stopped server starts with them

    def start(again: bool = False):
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            if again:  # a new handle: get_server would return the one whose start timed out
                return pgserver.PostgresServer(data.resolve(), cleanup_mode=None)
            return pgserver.get_server(str(data), cleanup_mode=None)

    quiet = logging.getLogger("pgserver")  # it logs the whole server log on a failed start: ccf reports instead
    propagate, quiet.propagate = quiet.propagate, False
    quiet.addHandler(silent := logging.NullHandler())
    try:
        try:
            server = start()
        except subprocess.TimeoutExpired:  # pg_ctl gave up after 10 s; the server may be recovering
            log.warning("the embedded PostgreSQL in %s is still starting (recovery?); waiting up to %d s",
                        data, START_TIMEOUT_S)
            if not wait_until_ready(data, START_TIMEOUT_S):
                raise
            server = start(again=True)  # finds it running now
        if fresh:
            changed = configure_embedded(data)
        if changed:
            _apply_settings(server, data, fresh)
    except Exception as exc:  # pgserver raises plain exceptions (a command line, a time-out)
        raise DatabaseError(f"could not start the embedded PostgreSQL in {data}: {exc}{_log_tail(data)}") from exc
    finally:
        quiet.removeHandler(silent)
        quiet.propagate = propagate
    return server.get_uri()


def _log_tail(data: Path, lines: int = 15) -> str:
    """The end of the embedded server's log, for an error message ('' when there is none)."""
    try:
        tail = (data / "log").read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\nthe end of its log (" + str(data / "log") + "):\n" + "\n".join(tail) if tail else ""


def wait_until_ready(data: Path, timeout_s: float, poll_s: float = 0.5) -> bool:
    """Wait until the server of a data directory is up and accepting connections: its
    ``postmaster.pid`` names a live process and its status line (the 8th) says ``ready``. False
    at once when there is no such process (the start failed), or when ``timeout_s`` runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            lines = (data / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
            os.kill(pid, 0)  # signal 0: does the process exist?
        except (OSError, ValueError, IndexError):
            return False
        if len(lines) > 7 and lines[7].strip() == "ready":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def stop_embedded(data: Path | None = None, timeout_s: float = 60.0) -> bool:
    """Stop the embedded server of a data directory (default ``$CCF_HOME/pgdata``) with a fast
    shutdown (SIGINT: open transactions roll back, nothing committed is lost) and wait until its
    ``postmaster.pid`` is gone. False when no server was running there."""
    data = data or ccf_home() / "pgdata"
    try:
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError, IndexError):
        return False
    deadline = time.monotonic() + timeout_s
    while (data / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


# The session settings ccf's SQL depends on, pinned on every connection it opens: with these
# values a rendered statement means the same whatever the server, the database, the role or the
# client environment (PGOPTIONS, PGCLIENTENCODING, PGTZ, ...) sets. Written as
# ``current_setting`` reports them: ``connect`` checks each after connecting.
SESSION_SETTINGS: dict[str, str] = {
    # String literals are rendered '...' with quotes doubled and backslashes as written; with
    # this off a backslash escapes the next character and a literal can end early, turning
    # methodology text into SQL.
    "standard_conforming_strings": "on",
    # Built-in functions and operators (=, round, coalesce, jsonb ->>) are written unqualified:
    # nothing a user creates may shadow them. ccf's own objects are always schema-qualified;
    # its temporary tables are found first in any search path.
    "search_path": "pg_catalog",
    # Dates cast to text (the loader's reasons) read YYYY-MM-DD, and date text is read as ISO.
    "DateStyle": "ISO, MDY",
    # Intervals cast to text: none are today; pinned so a new one cannot vary by server.
    "IntervalStyle": "postgres",
    # Timestamps (a run's start and end) read in UTC, and a timestamp cast to a date or to
    # text does not depend on where the server or the user is.
    "TimeZone": "UTC",
    # Every text value (methodology literals, CSV cells, reasons) crosses the wire as UTF-8;
    # another encoding fails or mangles text outside its repertoire.
    "client_encoding": "UTF8",
    # Float text, should a statement ever produce one: the shortest exact form.
    "extra_float_digits": "1",
    # `x = NULL` is NULL, as SQL says, never rewritten to `x IS NULL`.
    "transform_null_equals": "off",
    # A run is one transaction of long set-based statements: no server-wide time limit cancels
    # it halfway, or ends its session while it computes between statements.
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
}
# Tuning, not meaning: given before the user's own options, so these can be changed there.
# temp_buffers can only be set before the session first touches a temporary table.
SESSION_TUNING: dict[str, str] = {"temp_buffers": "256MB"}
TRANSACTION_TIMEOUT_SINCE = 170000  # the server version that has transaction_timeout: pinned to 0 by SET


def connect(url: str | None = None) -> psycopg.Connection:
    """A new connection (autocommit off) with ``SESSION_SETTINGS`` pinned; checks the server
    is PostgreSQL 15 or newer."""
    target = url or database_url()
    _check_url(target)
    try:
        # libpq sends client_encoding (the keyword, or PGCLIENTENCODING) as a startup parameter
        # of its own, applied after `options`: it is pinned there too.
        conn = psycopg.connect(target, autocommit=False, options=_options(target),
                               client_encoding=SESSION_SETTINGS["client_encoding"])
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {mask_secrets(str(exc).strip(), target)}") from None
    if conn.info.server_version < MIN_SERVER_VERSION:
        conn.close()
        raise DatabaseError(f"PostgreSQL {conn.info.server_version // 10000} is too old; ccf needs 15 or newer")
    _warn_if_superuser(conn)
    _check_session(conn)
    return conn


def connect_again(conn: psycopg.Connection) -> psycopg.Connection:
    """A second connection to the server and database of ``conn``, as its user (a load's second
    core: engine/load/split.py), with ``SESSION_SETTINGS`` pinned as ``connect`` pins them."""
    params = conninfo_to_dict(conn.info.dsn)
    if conn.info.password:  # (the dsn leaves it out)
        params["password"] = conn.info.password
    return connect(make_conninfo(**params))


def _check_url(url: str) -> None:
    """Refuse a URL libpq cannot parse, with its reason, before connecting."""
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        source = settings().url_source if url == known_url() else "the database URL"
        raise DatabaseError(
            f"{source} is not a valid PostgreSQL connection string: {mask_secrets(str(exc).strip(), url)}. "
            "Expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE (characters such as % @ / : in the "
            "password percent-encoded: % as %25) or key=value pairs (host=… dbname=…)"
        ) from None


# Where a connection string keeps a password: the userinfo of a URI (libpq ends it at the
# first '@' or '/'), a ``password`` query parameter, or a ``password=`` keyword, maybe quoted.
_URI_PASSWORD = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://[^:@/]*:([^@/]*)@")
_PARAM_PASSWORD = re.compile(r"[?&]password=([^&]*)")
_KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def mask_secrets(text: str, url: str) -> str:
    """``text`` (a message that may quote the URL or a libpq error about it) with the URL's
    password replaced by ``***``, as written and as decoded. Every message that quotes a
    connection string or a libpq error goes through here."""
    from urllib.parse import unquote

    secrets = set()
    for pattern in (_URI_PASSWORD, _PARAM_PASSWORD, _KEYWORD_PASSWORD):
        for found in pattern.findall(url):
            secrets |= {found, unquote(found), found.strip("'"), re.sub(r"\\(.)", r"\1", found.strip("'"))}
    try:
        secrets.add(conninfo_to_dict(url).get("password") or "")
    except psycopg.Error:
        pass
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def failure(exc: psycopg.Error, what: str, undone: str) -> DatabaseError:
    """One paragraph for a database failure in the middle of a command — the server stopped or
    was killed, its disk filled, the connection broke: what failed, why (libpq's reason, with
    any password masked), and that the transaction was rolled back (``undone``)."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return DatabaseError(
        f"PostgreSQL failed during {what}: {mask_secrets(reason, known_url())}. "
        f"{undone} Check that the server is running and has disk space, then run the command again."
    )


_warned_superuser = False


def _warn_if_superuser(conn: psycopg.Connection) -> None:
    """Warn once per process (stderr, through logging) when ccf is connected as a superuser:
    then nothing that ccf's roles guarantee holds for what this connection does."""
    global _warned_superuser
    if conn.info.parameter_status("is_superuser") == "on" and not _warned_superuser:
        _warned_superuser = True
        log.warning(
            "ccf is connected to PostgreSQL as the superuser %r; connect as a non-superuser that owns the "
            "ccf schema (docs/reliability.md, 'Least privilege that holds')", conn.info.user,
        )


def _options(target: str) -> str:
    """libpq's ``options`` for a connection: ``SESSION_TUNING``, then the user's own options
    (the URL's, else PGOPTIONS, which libpq ignores once ``options`` is given), then
    ``SESSION_SETTINGS``. The server applies ``-c`` switches in order, so the pinned values win
    over the user's; as startup options they also win over ALTER DATABASE/ROLE ... SET and
    become the session's reset values (RESET ALL keeps them)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        given = conninfo_to_dict(target).get("options")
    except psycopg.ProgrammingError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {exc}") from None
    own = given if given is not None else os.environ.get("PGOPTIONS", "")

    def switches(settings: dict[str, str]) -> str:
        # in `options` a space separates switches and a backslash escapes the next character
        escape = lambda text: text.replace("\\", "\\\\").replace(" ", "\\ ")  # noqa: E731
        return " ".join(f"-c {name}={escape(value)}" for name, value in settings.items())

    return " ".join(part for part in (switches(SESSION_TUNING), own.strip(), switches(SESSION_SETTINGS)) if part)


def _check_session(conn: psycopg.Connection) -> None:
    """Check that the session holds ``SESSION_SETTINGS``: a connection pooler or proxy may drop
    startup options, and then ccf refuses to run rather than mean something else."""
    from sqlglot import exp

    from ccf.engine.sql import Executor

    ex = Executor(conn)
    if conn.info.server_version >= TRANSACTION_TIMEOUT_SINCE:
        # PostgreSQL 17's transaction_timeout would cancel a long run like statement_timeout;
        # not a startup option: on 15 and 16 an unknown setting there refuses the connection.
        ex.execute(exp.Set(expressions=[exp.SetItem(this=exp.EQ(
            this=exp.column("transaction_timeout"), expression=exp.Literal.string("0")))]))
    names = list(SESSION_SETTINGS)
    current = [exp.Anonymous(this="current_setting", expressions=[exp.Literal.string(n)]) for n in names]
    row = ex.one(exp.select(*current))
    conn.commit()
    wrong = [f"{n} is {v!r} (ccf needs {SESSION_SETTINGS[n]!r})"
             for n, v in zip(names, row or ()) if v != SESSION_SETTINGS[n]]
    if wrong:
        conn.close()
        raise DatabaseError("the session did not take ccf's settings (does a connection pooler drop startup "
                            "options?): " + "; ".join(wrong))
