"""Least privilege that holds: the statements of a run cannot regain privileges, and cannot
write or read outside what the run needs (docs/reliability.md, "Least privilege that holds").

What a run needs: to read schema ccf (reference data, activity tables, the run tables it
reconciles against), to create temporary tables, and to append a run's rows. Outside it: any
change to the schema or to rows that exist (factors, GWPs, results, finished runs), new objects
in any schema, other schemas' tables, server files and programs, other roles' secrets and
sessions. The hostile statements below are executed inside a real run, on the run's own
connection, in its transaction, right after its first compiled statement — where SQL smuggled
into a methodology would run.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reliability._support import unique, write_rows
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.source import SourceFile
from ccf.engine import api, database
from ccf.engine import run as run_module
from ccf.engine import sql as sql_module
from ccf.engine.api import factor_signatures
from ccf.engine.database import OWNER, RUNNER, connect, runner_conninfo
from ccf.engine.load import load_csv
from ccf.engine.migrate import migrate
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent
EMBEDDED = not os.environ.get("CCF_DATABASE_URL")

METHODOLOGY = """\
methodology: rel.privilege
version: 1.0.0
status: draft
title: t
ghg_protocol: {scope: 2, source: s, method: location-based, references: [r]}
factor_set: desnz-2024
gwp: AR5
activity: rel_gen
factors:
  grid:
    select: {level1: UK electricity, level3: "Electricity: UK"}
    per: kWh
rules:
  - id: by_grid
    emissions: energy * grid
"""


@pytest.fixture(scope="module")
def rel_gen():
    return read_activity_type(SourceFile.read(HERE / "library" / "activity_types" / "rel_gen.yaml"))


@pytest.fixture(scope="module")
def methodology(rel_gen):
    return read_methodology(SourceFile("privilege.yaml", METHODOLOGY), {"rel_gen": rel_gen}, factor_signatures())


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


def _dataset(conn, rel_gen, tmp_path, n: int = 3) -> str:
    dataset = unique("priv")
    load_csv(conn, dataset, rel_gen, write_rows(tmp_path / f"{dataset}.csv", rel_gen, [
        {"activity_id": f"A{i}", "entity": "E", "period_start": "2024-01-01", "period_end": "2024-01-31",
         "energy": "10", "energy_unit": "kWh", "label": "plain"} for i in range(n)
    ]))
    return dataset


def _superuser(pg_admin_url: str) -> str:
    with psycopg.connect(pg_admin_url) as admin:
        return admin.info.user


def _during_a_run(conn, dataset, m, monkeypatch, act):
    """Run ``m`` and call ``act(run_connection, run_id)`` inside the run's transaction, right
    after its first compiled statement (the evaluate statement), on the run's own connection."""
    original = sql_module.Executor.execute
    state = {"done": False}

    def spy(self, tree, params=None):
        cur = original(self, tree, params)
        if not state["done"] and self.statements[-1].startswith("CREATE TEMPORARY TABLE"):
            state["done"] = True
            act(self.conn, params["run_id"])
        return cur

    monkeypatch.setattr(sql_module.Executor, "execute", spy)
    try:
        report = run(conn, dataset, [m])
    finally:
        monkeypatch.undo()
    assert state["done"], "the run executed no compiled statement"
    return report


def _outcome(c: psycopg.Connection, statement: str) -> str:
    """'ok', or the SQLSTATE name the statement failed with; in a savepoint, so the run goes on."""
    try:
        with c.transaction():
            c.execute(statement)
            who = c.execute("SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)").fetchone()
            raise psycopg.Rollback() if who == (RUNNER, False) else AssertionError(f"{statement!r} made the session {who}")
    except psycopg.Error as exc:
        return type(exc).__name__
    return "ok"


def _hostile(owner: str, superuser: str, finished_run: int, running: int, owner_pid: int, extension: str | None) -> dict[str, str]:
    """Statement -> the error PostgreSQL must refuse it with."""
    denied = "InsufficientPrivilege"
    regain = {  # each is followed by a statement that needs the privilege it tries to regain
        "RESET ROLE": denied,
        "SELECT set_config('role', 'none', false)": denied,
        "SELECT set_config('role', 'none', true)": denied,
        "SET ROLE NONE": denied,
        f'SET ROLE "{owner}"': denied,
        f'SET ROLE "{superuser}"': denied,
        f'SET SESSION AUTHORIZATION "{superuser}"': denied,
        "RESET SESSION AUTHORIZATION": denied,
    }
    out = {f"{s}; UPDATE ccf.factor SET value = 0" if e == denied and s.startswith(("RESET", "SELECT", "SET ROLE NONE")) else s: e
           for s, e in regain.items()}
    out.update({
        # write outside the run: reference data, results that exist, finished runs
        "UPDATE ccf.factor SET value = 0": denied,
        "INSERT INTO ccf.factor SELECT * FROM ccf.factor LIMIT 1": denied,
        "DELETE FROM ccf.gwp": denied,
        "UPDATE ccf.rate SET value = 0": denied,
        "DELETE FROM ccf.activity_rel_gen": denied,
        "UPDATE ccf.activity_rel_gen SET energy = 0": denied,
        "UPDATE ccf.activity_load SET rows_loaded = 0": denied,
        "DELETE FROM ccf.result_row": denied,
        "UPDATE ccf.result_row SET total_co2e_kg = 0": denied,
        "TRUNCATE ccf.result_row": denied,
        f"UPDATE ccf.run SET summary = '{{}}' WHERE run_id = {finished_run}": denied,  # the finished-run trigger
        # rows added to another run: a finished one, or one another session is running
        **{f"INSERT INTO ccf.{t} SELECT * FROM ccf.{t} WHERE run_id = {finished_run} LIMIT 1": denied
           for t in ("result_row", "run_methodology")},
        f"INSERT INTO ccf.excluded VALUES ({finished_run}, 'm', 'a', 'r', 'x')": denied,
        f"INSERT INTO ccf.unmatched VALUES ({finished_run}, 'm', 'a', 'r', 'no_rule', 'x')": denied,
        f"INSERT INTO ccf.run_factor_set VALUES ({finished_run}, 'm', 's', '{{}}', NULL)": denied,
        f"INSERT INTO ccf.instrument_allocation VALUES ({finished_run}, 'm', 'i', 'e', 'MWh', 1, 1, 0, 1, 'r', 'x')": denied,
        f"INSERT INTO ccf.excluded VALUES ({running}, 'm', 'a', 'r', 'x')": denied,
        f"INSERT INTO ccf.result_row (run_id, methodology_id, activity_id, entity, period_start, rule_id, total_co2e_kg)"
        f" SELECT {running}, methodology_id, activity_id, entity, period_start, rule_id, total_co2e_kg"
        f" FROM ccf.result_row WHERE run_id = {finished_run} LIMIT 1": denied,
        # the schema: drop, alter, create, replace — in ccf, in public, a schema of its own
        "DROP TABLE ccf.result_row": denied,
        "DROP VIEW ccf.result": denied,
        "DROP TABLE ccf.factor": denied,
        "ALTER TABLE ccf.result_row ADD COLUMN x INT": denied,
        "ALTER TABLE ccf.run DISABLE TRIGGER run_finished_is_final": denied,
        "DROP TRIGGER run_finished_is_final ON ccf.run": denied,
        "CREATE TABLE ccf.intruder (x INT)": denied,
        "CREATE VIEW ccf.intruder AS SELECT 1 AS x": denied,
        "CREATE FUNCTION ccf.intruder() RETURNS INT LANGUAGE sql AS 'SELECT 1'": denied,
        "CREATE OR REPLACE FUNCTION ccf.div(a NUMERIC, b NUMERIC) RETURNS NUMERIC LANGUAGE sql AS 'SELECT 0::numeric'": denied,
        "CREATE TABLE public.intruder (x INT)": denied,
        "CREATE SCHEMA intruder": denied,
        # roles and the server
        f'GRANT "{owner}" TO {RUNNER}': denied,
        f"ALTER ROLE {RUNNER} SUPERUSER": denied,
        f"ALTER ROLE {RUNNER} BYPASSRLS": denied,
        "CREATE ROLE intruder": denied,
        **({f"CREATE EXTENSION {extension}": denied} if extension else {}),
        "SET session_replication_role = replica": denied,  # would switch triggers off
        f"SELECT pg_terminate_backend({owner_pid})": denied,  # the owner's session
        # read outside: another schema, secrets, server files and programs
        "SELECT * FROM ccf_private.secret": denied,
        "SELECT rolpassword FROM pg_authid": denied,
        "SELECT pg_read_file('PG_VERSION')": denied,
        "SELECT pg_ls_dir('.')": denied,
        "SELECT lo_import('PG_VERSION')": denied,
        "COPY ccf.factor TO 'ccf_factor_copy'": denied,
        "COPY ccf_probe FROM 'PG_VERSION'": denied,
        "COPY ccf_probe FROM PROGRAM 'id'": denied,
    })
    return out


def test_a_methodologys_statements_cannot_regain_privileges_or_reach_outside_the_run(
    conn, pg_admin_url, rel_gen, methodology, tmp_path, monkeypatch
):
    dataset = _dataset(conn, rel_gen, tmp_path)
    finished = run(conn, dataset, [methodology])
    with conn.transaction():  # a table outside what runs need, owned by ccf's login
        conn.execute("CREATE SCHEMA IF NOT EXISTS ccf_private")
        conn.execute("CREATE TABLE IF NOT EXISTS ccf_private.secret (x TEXT)")
    other = connect(runner_conninfo(conn))  # another run in progress, not committed
    running = other.execute("INSERT INTO ccf.run (dataset, engine_version, started_at) VALUES ('other', 'x', now()) RETURNING run_id").fetchone()[0]
    hostile = _hostile(conn.info.user, _superuser(pg_admin_url), finished.run_id, running, conn.info.backend_pid, _trusted_extension(conn))
    before = _fingerprint(conn, finished.run_id)
    outcomes: dict[str, str] = {}

    def attack(c: psycopg.Connection, run_id: int) -> None:
        assert c.info.backend_pid != conn.info.backend_pid  # the run's own connection
        c.execute("CREATE TEMPORARY TABLE ccf_probe (x TEXT)")  # the run may make temporary tables
        for statement, _ in hostile.items():
            outcomes[statement] = _outcome(c, statement)

    try:
        report = _during_a_run(conn, dataset, methodology, monkeypatch, attack)
    finally:
        other.close()
    allowed = {s: o for s, o in outcomes.items() if o != hostile[s]}
    assert not allowed, f"a run's SQL could do this (statement: outcome): {allowed}"
    assert report.methodologies[0].reconciliation.balanced  # the run itself went on and committed
    assert _fingerprint(conn, finished.run_id) == before


def _trusted_extension(conn) -> str | None:
    """An extension the server has that a role with CREATE on the database could install
    without being a superuser (PostgreSQL 13+: 'trusted'), if there is one."""
    row = conn.execute(
        "SELECT name FROM pg_available_extension_versions WHERE trusted AND NOT installed ORDER BY name LIMIT 1"
    ).fetchone()
    conn.rollback()
    return row[0] if row else None


def _fingerprint(conn, run_id: int) -> tuple:
    """What a hostile run must leave as it was: the schema's objects and owners, reference data,
    a finished run's row and results."""
    row = conn.execute(
        """SELECT (SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || pg_get_userbyid(c.relowner), ',' ORDER BY c.relname)
                   FROM pg_class c WHERE c.relnamespace IN ('ccf'::regnamespace, 'public'::regnamespace)),
                  (SELECT string_agg(p.oid::regprocedure::text || md5(p.prosrc), ',' ORDER BY 1)
                   FROM pg_proc p WHERE p.pronamespace = 'ccf'::regnamespace),
                  (SELECT md5(string_agg(f::text, ',' ORDER BY f.factor_id)) FROM ccf.factor f),
                  (SELECT md5(string_agg(r::text, ',')) FROM ccf.run r WHERE r.run_id = %(run)s),
                  (SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM ccf.result r WHERE r.run_id = %(run)s),
                  (SELECT count(*) FROM pg_roles),
                  (SELECT rolsuper OR rolinherit OR rolcreaterole FROM pg_roles WHERE rolname = %(runner)s)""",
        {"run": run_id, "runner": RUNNER},
    ).fetchone()
    conn.rollback()
    return row


def test_no_run_is_committed_unfinished(conn):
    """A run that stayed unfinished would stay open to appends (the run tables' policies):
    ccf.run refuses, at commit, a run row without its finished_at."""
    with connect(runner_conninfo(conn)) as runner:
        runner.execute("INSERT INTO ccf.run (dataset, engine_version, started_at) VALUES ('open', 'x', now())")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="would be committed unfinished"):
            runner.commit()


def test_a_run_logs_in_as_the_runner_and_the_caller_stays_the_owner(conn, rel_gen, methodology, tmp_path, monkeypatch):
    """No role is switched: the run's connection is a login of ccf_runner (session_user), which
    has no membership to fall back on."""
    dataset = _dataset(conn, rel_gen, tmp_path)
    seen = {}

    def look(c, run_id):
        seen["run"] = c.execute(
            "SELECT session_user, current_user, (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid),"
            " r.rolinherit, r.rolsuper FROM pg_roles r WHERE r.rolname = session_user"
        ).fetchone()

    _during_a_run(conn, dataset, methodology, monkeypatch, look)
    assert seen["run"] == (RUNNER, RUNNER, 0, False, False)
    assert conn.execute("SELECT session_user = current_user").fetchone() == (True,)
    conn.rollback()


@pytest.mark.skipif(not EMBEDDED, reason="the embedded server's roles; with CCF_DATABASE_URL a DBA makes them")
def test_commands_connect_to_the_embedded_server_as_its_non_superuser_owner(pg_admin_url, tmp_path, monkeypatch):
    """Through the command line: ccf load and ccf run on the embedded server (this test run's
    own) connect as ``ccf``, which is no superuser and owns the database and the ccf schema, and
    the run's statements execute as the ``ccf_runner`` login."""
    from ccf.engine.cli import main

    monkeypatch.delenv("CCF_DATABASE_URL", raising=False)
    logins: list[tuple] = []

    def spy(original):
        def connect_and_record(url=None):
            c = original(url)
            logins.append((c.info.user, c.info.parameter_status("is_superuser"), c.execute(
                "SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()),"
                " (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'ccf')").fetchone()))
            c.rollback()
            return c
        return connect_and_record

    monkeypatch.setattr(api, "connect", spy(api.connect))
    monkeypatch.setattr(run_module, "connect", spy(run_module.connect))
    csv = tmp_path / "e.csv"
    csv.write_text("activity_id,entity,period_start,period_end,quantity,quantity_unit,country\n"
                   "e1,ACME,2024-01-01,2024-12-31,1000,kWh,GB\n", "utf-8")
    dataset = unique("cli")
    assert main(["load", "--dataset", dataset, "--type", "electricity", str(csv)]) == 0
    assert main(["run", "--dataset", dataset, "scope2.electricity.location_based@1.0.0"]) == 0
    owner = (OWNER, "off", (OWNER, OWNER))
    assert logins == [owner, owner, (RUNNER, "off", (OWNER, OWNER))], logins  # load; run: the command's, the run's


@pytest.mark.skipif(not EMBEDDED, reason="the embedded server's roles; with CCF_DATABASE_URL a DBA makes them")
def test_a_schema_made_by_an_older_ccf_as_superuser_is_handed_to_the_owner(pg_admin_url, rel_gen, methodology, tmp_path):
    """An older ccf connected as the superuser: its database, schema, tables, views and
    functions were the superuser's. Making the embedded roles hands all of it to ``ccf``
    (idempotently), and runs then work there as ``ccf`` with ``ccf_runner``, also on an
    activity table the superuser created and on one ``ccf`` creates afterwards."""
    name = unique("older")
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    old_url = make_conninfo(pg_admin_url, dbname=name)
    try:
        with psycopg.connect(old_url) as old:  # as the older ccf did: migrate and load as the superuser
            migrate(old)
            old.commit()
            from ccf.engine.factors.store import install_shipped

            install_shipped(old)
            old.commit()
            dataset = _dataset(old, rel_gen, tmp_path)
        for _ in range(2):
            database.make_embedded_roles(old_url)
        with psycopg.connect(old_url) as admin:
            others = admin.execute(
                """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'ccf'::regnamespace AND c.relowner <> %(o)s::regrole
                   UNION ALL SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'ccf'::regnamespace AND p.proowner <> %(o)s::regrole
                   UNION ALL SELECT 'schema' FROM pg_namespace WHERE nspname = 'ccf' AND nspowner <> %(o)s::regrole
                   UNION ALL SELECT 'database' FROM pg_database WHERE datname = current_database() AND datdba <> %(o)s::regrole""",
                {"o": OWNER},
            ).fetchall()
        assert others == []
        with connect(database.as_user(old_url, OWNER)) as owner:
            report = run(owner, dataset, [methodology])  # the superuser's activity table
            assert report.methodologies[0].reconciliation.rows_result == 3
            other = read_activity_type(SourceFile("rel_other.yaml", (HERE / "library" / "activity_types" / "rel_gen.yaml")
                                                  .read_text("utf-8").replace("rel_gen", "rel_other")))
            m = read_methodology(SourceFile("other.yaml", METHODOLOGY.replace("rel_gen", "rel_other")), {"rel_other": other}, factor_signatures())
            later = _dataset(owner, other, tmp_path)  # a table ccf creates after the handover
            assert run(owner, later, [m]).methodologies[0].reconciliation.rows_result == 3
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))


@pytest.mark.skipif(not EMBEDDED, reason="the embedded server's roles; with CCF_DATABASE_URL a DBA makes them")
def test_an_older_nologin_run_role_becomes_a_noinherit_login(pg_admin_url):
    """Older ccf made ccf_runner NOLOGIN (for SET ROLE); the roles script makes it a login
    without inherited privileges (shown on a role of another name: roles are the cluster's)."""
    from importlib import resources

    fresh = unique("ccf_runner_old")
    script = resources.files("ccf.engine").joinpath("embedded_roles.sql").read_text("utf-8").replace(RUNNER, fresh)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(pgsql.SQL("CREATE ROLE {} NOLOGIN INHERIT").format(pgsql.Identifier(fresh)))
        try:
            admin.execute(script)
            assert admin.execute("SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = %s", (fresh,)).fetchone() == (True, False)
        finally:
            admin.execute(pgsql.SQL("DROP ROLE {}").format(pgsql.Identifier(fresh)))


def test_a_superuser_connection_is_warned_about_once(pg_admin_url, pg_owner_url, monkeypatch, caplog):
    if _superuser_status(pg_admin_url) != "on":
        pytest.skip("the admin login of this server is no superuser")
    monkeypatch.setattr(database, "_warned_superuser", False)
    with caplog.at_level(logging.WARNING, logger="ccf.engine.database"):
        if _superuser_status(pg_owner_url) != "on":
            connect(pg_owner_url).close()
            assert "superuser" not in caplog.text  # ccf's own login: no warning
        connect(pg_admin_url).close()
        connect(pg_admin_url).close()
    warnings = [r for r in caplog.records if "as the superuser" in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    assert conninfo_to_dict(pg_admin_url)["user"] in warnings[0].getMessage()


def test_the_command_line_warns_on_stderr_when_connected_as_a_superuser(pg_admin_url, db_url, tmp_path):
    if _superuser_status(pg_admin_url) != "on":
        pytest.skip("the admin login of this server is no superuser")
    url = make_conninfo(pg_admin_url, dbname=conninfo_to_dict(db_url)["dbname"])
    env = {**os.environ, "CCF_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "ccf.engine.cli", "factors", "list"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("connected to PostgreSQL as the superuser") == 1, done.stderr
    assert "password" not in done.stderr.lower()


def _superuser_status(url: str) -> str:
    with psycopg.connect(url) as c:
        return c.info.parameter_status("is_superuser") or "off"
