"""Shared fixtures: a real PostgreSQL (embedded, or CCF_DATABASE_URL) and the sample company.

Which fixture to ask for (cheapest first; take the cheapest that keeps the test independent):

- ``sample_company`` (session): one database with the sample company (northwind) loaded and run:
  ``api.demo`` (dataset ``demo``, every latest published version run), the same CSVs loaded as
  shipped into dataset ``northwind`` (no reporting period), and the entity set
  ``northwind-2024``. Tests read it and may add runs of their own to it; a test that changes or
  deletes anything there takes its own ``db`` instead.
- ``cli_demo`` (session): ``ccf demo`` run three times on an empty database (both sample
  companies), with what each printed; for tests of the demo's output and results.
  ``module_cli_demo`` (module) and ``cli_demo_url`` (function): a fresh copy of its database,
  for the tests of a module, or one test, that go on from there.
- ``module_db_url`` (module): a fresh database shared by the tests of one module.
- ``db`` / ``db_url`` (function): a fresh database for one test, for tests that change what
  others would read, or that test databases, roles or snapshots themselves.
- ``shipped_library()`` (tests/helpers.py): the shipped library, checked once per session.

The suite runs on pytest-xdist (``-n auto``, pyproject.toml): each worker is a session of its
own. What is expensive to make is made once per test run and shared by the workers, under a file
lock in the run's own temporary directory (made by the controlling process, ``pytest_configure``,
and removed by it at the end): the embedded server, the template database (the migrations
applied, the shipped factor sets installed), the sample company's and the demo's databases. Nothing is shared
that a test could change: each fresh database, and each worker's ``sample_company``, is ``CREATE
DATABASE … TEMPLATE`` of one of those two, dropped afterwards. ``pytest -n 0`` runs everything in
one process, the same way.

The run's server never outlives it: the controller holds a lock that a watchdog waits on, and
a killed run's server is stopped and its directory removed as soon as the controller is gone; a
new run does the same for any run directory left behind (tests/server_reaper.py).

The run's own embedded server runs without durability (no fsync, no waiting for the WAL at
commit): it is removed at the end, and none of that changes what a statement means.

Databases are made by an admin login (the embedded server's superuser, or CCF_DATABASE_URL),
owned by the login ccf uses (``ccf`` on the embedded server), and tests connect as that login, as
every ccf command does; runs log in as ``ccf_runner``.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import cpu_times
import server_reaper

ROOT = Path(__file__).resolve().parent.parent
# The test run's shared directory and id, set by the controlling process before the workers
# start (they inherit its environment): test runs on one machine, or one server, may overlap.
SHARED, RUN = "CCF_TESTS_SHARED", "CCF_TESTS_RUN"
SHARED_KEY = pytest.StashKey[Path]()
OWNER_KEY = pytest.StashKey[IO]()  # the run's owner lock, held while the controller lives (server_reaper.py)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cpu-files", type=int, default=0, metavar="N",
                     help="list the N test files that spent most CPU, and the run's CPU (tests/cpu_times.py)")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the controller made them
        cpu_times.configure(config, None)
        return
    _bytecode_once()
    server_reaper.sweep()  # servers of earlier runs killed with their watchdog (a reboot does that too)
    shared = Path(tempfile.mkdtemp(prefix=server_reaper.PREFIX))
    config.stash[SHARED_KEY] = shared
    config.stash[OWNER_KEY] = server_reaper.owned(shared)
    server_reaper.watch(shared)  # a killed run's server is stopped at once, its directory removed
    os.environ[SHARED] = str(shared)
    os.environ[RUN] = uuid.uuid4().hex[:12]
    cpu_times.configure(config, None if os.environ.get("CCF_DATABASE_URL") else shared / "pgdata")


def _bytecode_once() -> None:
    """Where PYTHONDONTWRITEBYTECODE is set (it is in the project's development machine's
    environment), every process of a run compiled ccf and rewrote the test modules' asserts anew:
    each worker spent about 4.5 s of its collection's 9 s on that, and every ``ccf`` subprocess
    compiled what it imports. The run's processes (the workers inherit this environment, as do
    the subprocesses of tests) write their byte-code instead into a cache of this user's own
    outside the checkout, so the checkout stays as free of it as the setting asks."""
    if not sys.flags.dont_write_bytecode or sys.pycache_prefix:
        return
    cache = Path(tempfile.gettempdir()) / f"ccf-pycache-{os.getuid()}"
    cache.mkdir(mode=0o700, exist_ok=True)
    mode = cache.lstat()
    if mode.st_uid != os.getuid() or mode.st_mode & 0o077 or not cache.is_dir() or cache.is_symlink():
        return  # not ours alone: another user could put byte-code there that we would run
    os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix = str(cache)
    os.environ.pop("PYTHONDONTWRITEBYTECODE")
    sys.dont_write_bytecode = False


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller, after every worker has ended: the run's embedded server is stopped (with
    CCF_DATABASE_URL, the databases the workers shared are dropped) and its directory removed."""
    shared = config.stash.get(SHARED_KEY, None)
    if shared is None:
        return
    try:
        if os.environ.get("CCF_DATABASE_URL"):
            with psycopg.connect(os.environ["CCF_DATABASE_URL"], autocommit=True) as admin:
                for name in (_template(), _sample(), _cli_demo()):
                    admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name))
        elif (shared / "pgdata").exists():
            from ccf.engine.database import stop_embedded

            stop_embedded(shared / "pgdata")
    finally:
        shutil.rmtree(shared, ignore_errors=True)
        config.stash[OWNER_KEY].close()  # after the removal: the watchdog then finds nothing to do
        os.environ.pop(SHARED, None)
        os.environ.pop(RUN, None)


# The modules that take longest, longest first (pytest --durations, summed per file), which the
# workers start with: --dist loadfile hands out whole files in collection order
# (--no-loadscope-reorder, pyproject.toml), and one of these started last would leave the other
# worker idle at the end (the README tour, left out here, once ran alone for its last minutes).
# The rest follow in their usual order.
FIRST = (
    "cases/test_cases.py", "reliability/test_differential.py", "test_readme.py", "engine/test_render.py",
    "engine/test_explain.py", "service/test_jobs.py", "service/test_http.py", "service/test_http_schemathesis.py",
    "test_wheel.py", "cli/test_project.py", "test_cli.py", "bench/test_bench.py",
    "reliability/test_wrong_input.py", "factors/test_factors_search.py", "reliability/test_session_settings.py",
    "attribution/test_attribution.py", "reliability/test_never_a_traceback.py", "test_html_in_browser.py",
    "reliability/test_bad_input.py", "cli/test_lifecycle.py", "reliability/test_snapshot.py",
    "engine/test_load_dialects.py", "dsl/test_hostile.py", "reliability/test_sql_safety.py",
    "cli/test_demo_meridian.py", "engine/test_compile_bind.py", "engine/test_compiled_once.py",
    "methodologies/test_published_totals_shipped.py", "engine/test_load_fast.py", "reliability/test_faults.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(FIRST)}
    tests = Path(__file__).parent
    items.sort(key=lambda item: rank.get(item.path.relative_to(tests).as_posix(), len(FIRST)))


def _template() -> str:
    return f"ccf_test_template_{os.environ[RUN]}"


def _sample() -> str:
    return f"ccf_test_sample_{os.environ[RUN]}"


@contextmanager
def _once(name: str):
    """Exclusive among the run's processes (the workers): the body makes something shared once;
    the other workers wait here, then find it made."""
    with open(Path(os.environ[SHARED]) / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _admin_url() -> str:
    if os.environ.get("CCF_DATABASE_URL"):
        return os.environ["CCF_DATABASE_URL"]
    from ccf.engine.database import embedded_superuser_url

    return embedded_superuser_url()


def _admin(template: str, *names: str) -> sql.Composed:
    """Test-harness database administration (sqlglot has no grammar for CREATE DATABASE …
    TEMPLATE); identifiers are quoted by psycopg, never formatted into the text."""
    return sql.SQL(template).format(*[sql.Identifier(n) for n in names])


def _with_db(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The server the tests use: CCF_DATABASE_URL, or an embedded server of this test run's own.

    The embedded one lives in the run's shared temporary directory (so two test runs on one
    machine never share a server), started by the first worker that asks, and stopped and
    removed by the controlling process at the end (``pytest_unconfigure``). Not under pytest's
    basetemp: pytest resets that folder to mode 0700 at each session start, which locks out the
    embedded server (it runs as its own system user under root)."""
    if os.environ.get("CCF_DATABASE_URL"):
        yield os.environ["CCF_DATABASE_URL"]
        return
    home = Path(os.environ[SHARED])
    previous = os.environ.get("CCF_HOME")
    os.environ["CCF_HOME"] = str(home)
    try:
        with _once("server"):
            url = _admin_url()
            if not (home / "no-durability").exists():
                _without_durability(url)
                (home / "no-durability").touch()
        yield url
    finally:
        if previous is None:
            os.environ.pop("CCF_HOME", None)
        else:
            os.environ["CCF_HOME"] = previous


def _without_durability(admin_url: str) -> None:
    """The test run's own server is thrown away at the end, so flushing to disk buys it nothing:
    no fsync, no wait for the WAL at commit, no full-page images. None of these changes what a
    statement means or what a transaction sees (a crash of PostgreSQL alone still loses nothing
    committed); only a crash of the machine would, and the directory is discarded anyway. Tests
    that crash a server start one of their own (tests/reliability/test_faults.py).

    Nor does it vacuum in the background: a run makes a few hundred short-lived databases, and
    the launcher would visit each of them in turn (every ``autovacuum_naptime`` divided by their
    number), spending the CPU the tests share. Statistics change plans, never results; a test
    about statistics makes its own (ANALYZE)."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET fsync = off")
        admin.execute("ALTER SYSTEM SET synchronous_commit = off")
        admin.execute("ALTER SYSTEM SET full_page_writes = off")
        admin.execute("ALTER SYSTEM SET autovacuum = off")
        admin.execute("SELECT pg_reload_conf()")


@pytest.fixture(scope="session")
def pg_owner_url(pg_admin_url: str) -> str:
    """The login ccf connects as: CCF_DATABASE_URL's user, or the embedded server's owner ``ccf``."""
    if os.environ.get("CCF_DATABASE_URL"):
        return pg_admin_url
    from ccf.engine.database import OWNER, as_user

    return as_user(pg_admin_url, OWNER)


def _owner(url: str) -> str:
    return conninfo_to_dict(url)["user"]


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str, pg_owner_url: str) -> str:
    """The run's template database, made once by the first worker that asks."""
    from ccf.engine.database import connect
    from ccf.engine.migrate import migrate

    url = _with_db(pg_owner_url, _template())
    made = Path(os.environ[SHARED]) / "template.made"
    with _once("template"):
        _runner_login(pg_admin_url)
        if not made.exists():
            with psycopg.connect(pg_admin_url, autocommit=True) as admin:  # (again, after a worker failed here)
                admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", _template()))
                admin.execute(_admin("CREATE DATABASE {} OWNER {}", _template(), _owner(pg_owner_url)))
            with connect(url) as conn:
                migrate(conn)
                _seed(conn)
                conn.commit()
            made.touch()
    return url


def _seed(conn: psycopg.Connection) -> None:
    """Load the shipped factor sets and GWPs once into the template."""
    try:
        from ccf.engine.factors.store import install_shipped
    except ImportError:  # factor store not present yet
        return
    install_shipped(conn)


def _runner_login(pg_admin_url: str) -> None:
    """On a server given by CCF_DATABASE_URL, do what docs/reliability.md asks of its DBA: make
    ccf_runner and ccf_api logins (with a password of this test run's, for servers that ask for one). The
    embedded server's roles are made by ccf itself (engine/embedded_roles.sql). The workers of
    one test run share that server, so they set the same password: the run's id."""
    if not os.environ.get("CCF_DATABASE_URL") or os.environ.get("CCF_RUNNER_PASSWORD"):
        return
    password = os.environ[RUN]
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        if admin.info.parameter_status("is_superuser") != "on":
            return  # a DBA's setup, not ours to change
        admin.execute(sql.SQL("ALTER ROLE ccf_runner LOGIN NOINHERIT PASSWORD {}").format(sql.Literal(password)))
        # the HTTP service's login (docs/service.md, "Deploying"), made by migration 0022
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'ccf_api'").fetchone()
        admin.execute(sql.SQL("{} ROLE ccf_api LOGIN NOINHERIT NOBYPASSRLS PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"), sql.Literal(password)))
    os.environ["CCF_RUNNER_PASSWORD"] = password
    os.environ["CCF_API_PASSWORD"] = password


@contextmanager
def _fresh_database(pg_admin_url: str, owner_url: str, template: str | None = None):
    """A new database, a copy of ``template`` (default: the run's template database)."""
    name = f"ccf_test_{uuid.uuid4().hex[:12]}"
    # On the run's own server (no fsync) copying the files is quicker than WAL_LOG, PostgreSQL's
    # default, which writes every page of the copy into the WAL (16 MB per database, ≈ 250
    # databases per run); FILE_COPY's checkpoint is what costs on a durable server.
    strategy = "WAL_LOG" if os.environ.get("CCF_DATABASE_URL") else "FILE_COPY"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(_admin(f"CREATE DATABASE {{}} TEMPLATE {{}} OWNER {{}} STRATEGY {strategy}",
                             name, template or _template(), _owner(owner_url)))
    try:
        yield _with_db(owner_url, name)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name))


@pytest.fixture()
def db_url(pg_admin_url: str, pg_owner_url: str, template_url: str) -> str:
    """A fresh migrated database with the shipped factor sets, for one test."""
    with _fresh_database(pg_admin_url, pg_owner_url) as url:
        yield url


@pytest.fixture(scope="module")
def module_empty_db_url(pg_admin_url: str, pg_owner_url: str, template_url: str) -> str:
    """A new database with no migration applied (a copy of template0), for the tests of an upgrade."""
    with _fresh_database(pg_admin_url, pg_owner_url, template="template0") as url:
        yield url


@pytest.fixture(scope="module")
def module_db_url(pg_admin_url: str, pg_owner_url: str, template_url: str) -> str:
    """A fresh migrated database shared by the tests of one module."""
    with _fresh_database(pg_admin_url, pg_owner_url) as url:
        yield url


@pytest.fixture()
def db(db_url: str):
    from ccf.engine.database import connect

    conn = connect(db_url)
    yield conn
    conn.close()


@dataclass(frozen=True)
class SampleCompany:
    """The sample company, loaded and run once per session (see the ``sample_company`` fixture)."""

    url: str  # its database
    demo: object  # ccf.engine.api.DemoResult of dataset DEMO: its loads and its run
    DEMO = "demo"  # api.demo's dataset: reporting period 2024, every latest published version run
    PLAIN = "northwind"  # every sample CSV loaded as shipped (load_csv, no period), for tests' own runs
    ENTITY_SET = "northwind-2024"

    @property
    def run_id(self) -> int:
        """The demo run's id."""
        return self.demo.report.run_id


@pytest.fixture(scope="session")
def sample_company(pg_admin_url: str, pg_owner_url: str, template_url: str) -> SampleCompany:
    """A database holding the sample company, shared by every test of a worker that only reads
    it or adds runs to it. Loading and running it takes seconds, so it is done once per test
    run, in a database of the run's (with the demo's result beside it, pickled); each worker
    reads a copy of its own."""
    demo = _made_once("sample_company", lambda: _make_sample_company(pg_admin_url, pg_owner_url))
    with _fresh_database(pg_admin_url, pg_owner_url, template=_sample()) as url:
        yield SampleCompany(url, demo)


def _made_once(name: str, make):
    """``make()``'s result, made by the first worker that asks and pickled for the others."""
    made = Path(os.environ[SHARED]) / f"{name}.pickle"
    with _once(name):
        if not made.exists():
            made.write_bytes(pickle.dumps(make()))
    return pickle.loads(made.read_bytes())


def _make_sample_company(pg_admin_url: str, pg_owner_url: str):
    """The run's sample-company database (every connection to it closed, so that it can be
    copied); returns ``api.demo``'s result."""
    from ccf.engine.api import demo, demo_dir
    from ccf.engine.database import connect
    from ccf.engine.inventory.entities import load_entity_set
    from ccf.engine.load import load_csv
    from helpers import shipped_library

    with psycopg.connect(pg_admin_url, autocommit=True) as admin:  # (again, after a worker failed here)
        admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", _sample()))
        admin.execute(_admin("CREATE DATABASE {} TEMPLATE {} OWNER {}", _sample(), _template(), _owner(pg_owner_url)))
    with connect(_with_db(pg_owner_url, _sample())) as conn:
        # Northwind only: a second entity set here would make --entities necessary in every report
        result = demo(conn, dataset=SampleCompany.DEMO, meridian=False)
        lib = shipped_library()
        for csv in sorted(demo_dir().glob("*.csv")):
            load_csv(conn, SampleCompany.PLAIN, lib.activity_types[csv.stem], csv)
        load_entity_set(conn, SampleCompany.ENTITY_SET, demo_dir() / "entities" / f"{SampleCompany.ENTITY_SET}.csv")
        conn.commit()
    return result


@dataclass(frozen=True)
class CliDemo:
    """``ccf demo`` three times on an empty database: what each printed, and a copy of the database."""

    url: str
    first: dict  # ccf demo --json: both sample companies loaded and run
    text: str  # ccf demo: loads nothing, runs again
    again: dict  # ccf demo --json once more: loads nothing, the same numbers


@pytest.fixture(scope="session")
def cli_demo(pg_admin_url: str, pg_owner_url: str, template_url: str) -> CliDemo:
    """The command line's demo, made once per test run like ``sample_company``; each worker
    reads a copy of its database."""
    with _cli_demo_copy(pg_admin_url, pg_owner_url) as demo:
        yield demo


@pytest.fixture(scope="module")
def module_cli_demo(pg_admin_url: str, pg_owner_url: str, template_url: str) -> CliDemo:
    """``cli_demo`` in a copy of its database shared by the tests of one module, which may add
    to it (reports, diffs): the demo's runs without running the demo again."""
    with _cli_demo_copy(pg_admin_url, pg_owner_url) as demo:
        yield demo


@pytest.fixture()
def cli_demo_url(pg_admin_url: str, pg_owner_url: str, template_url: str) -> str:
    """A fresh copy of ``cli_demo``'s database for one test that changes it (runs more commands
    there): a database in which ``ccf demo`` has run, without running it again."""
    with _cli_demo_copy(pg_admin_url, pg_owner_url) as demo:
        yield demo.url


@contextmanager
def _cli_demo_copy(pg_admin_url: str, pg_owner_url: str):
    """The run's ``ccf demo`` (made by the first worker that asks) in a new copy of its database."""
    first, text, again = _made_once("cli_demo", lambda: _make_cli_demo(pg_admin_url, pg_owner_url))
    with _fresh_database(pg_admin_url, pg_owner_url, template=_cli_demo()) as url:
        yield CliDemo(url, first, text, again)


def _cli_demo() -> str:
    return f"ccf_test_demo_{os.environ[RUN]}"


def _make_cli_demo(pg_admin_url: str, pg_owner_url: str) -> tuple[dict, str, dict]:
    import io
    import json
    from contextlib import redirect_stdout

    from ccf.engine.cli import main

    def ccf(*args: str) -> str:
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(list(args)) == 0
        return out.getvalue()

    with psycopg.connect(pg_admin_url, autocommit=True) as admin:  # (again, after a worker failed here)
        admin.execute(_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", _cli_demo()))
        admin.execute(_admin("CREATE DATABASE {} TEMPLATE {} OWNER {}", _cli_demo(), _template(), _owner(pg_owner_url)))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCF_DATABASE_URL", _with_db(pg_owner_url, _cli_demo()))
        return json.loads(ccf("demo", "--json")), ccf("demo"), json.loads(ccf("demo", "--json"))
