"""SQL safety: text is data wherever it comes from, numbers are validated before they become
SQL, and runs execute as a role that cannot change the schema or existing results.

Every place a methodology or a CSV file can put text — exclusion reasons, string literals,
factor selections, text parameters, CSV cells (including activity ids and entities), dataset
names — is given hostile strings (quotes, semicolons, comments, backslashes, dollar quotes,
placeholders, unicode) and must come back byte for byte, with every table intact. Rule ids are
restricted by a pattern: hostile ones are refused.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo

from reliability._support import HOSTILE, typed_row, unique, write_rows
from ccf.dsl import ir
from ccf.dsl.diagnostics import DiagnosticError
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.source import SourceFile
from ccf.engine import run as run_module
from ccf.engine.api import factor_signatures
from ccf.engine.database import connect, runner_conninfo
from ccf.engine.load import load_csv
from ccf.engine.migrate import migrate, migrations
from ccf.engine.run import RunError, run
from ccf.engine.sql import number, parse, render, text

HERE = Path(__file__).resolve().parent
HOSTILE_ALL = HOSTILE + [
    "'", "''", '"', "\\", "\\'", "';", "--", "/*", "*/", "$$", "$tag$", "%s", "%%", "E'\\x41'",
    "'; DROP TABLE ccf.result; --", "\"; DROP TABLE ccf.result; --", "x' OR '1'='1",
    "below 1% of spend", "100%", "line\nbreak", "tab\there", "zero\u200bwidth", "right\u202eto-left", "😀" * 3, "ß" * 50, "x" * 5000,
]


def q(value: str) -> str:
    """A YAML double-quoted scalar."""
    return yaml.safe_dump(value, default_style='"', allow_unicode=True, width=10**9).strip()


def literal(value: str) -> str:
    """A string literal of the expression language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


@pytest.fixture(scope="module")
def rel_gen() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(HERE / "library" / "activity_types" / "rel_gen.yaml"))


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


def _tables(conn) -> set[str]:
    rows = conn.execute(
        "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname = 'ccf'"
    ).fetchall()
    conn.rollback()
    return {r[0] for r in rows}


def methodology(hostile: str, rel_gen) -> ir.Methodology:
    in_list = q("label in (" + literal(hostile) + ', p_text, "plain")')
    text_ = f"""\
methodology: rel.hostile
version: 1.0.0
status: draft
title: {q("title " + hostile)}
description: {q(hostile)}
ghg_protocol:
  scope: 2
  source: {q(hostile)}
  method: location-based
  references: [{q(hostile)}]
factor_set: desnz-2024
gwp: AR5
activity: rel_gen
parameters:
  p_text: {q(literal(hostile))}
factors:
  grid:
    select: {{level1: UK electricity, level3: "Electricity: UK"}}
    per: kWh
  nowhere:
    select: {{level1: {q(hostile)}}}
    per: kWh
rules:
  - id: hostile_label
    where: {q("label == " + literal(hostile))}
    exclude: {q(hostile)}
  - id: hostile_parameter
    where: label != p_text and n1 == 2
    emissions: energy * nowhere
  - id: by_grid
    where: {in_list}
    emissions: energy * grid
"""
    return read_methodology(SourceFile("hostile.yaml", text_), {"rel_gen": rel_gen}, factor_signatures())


PERCENT_BUG = (
    "engine/sql.py Executor.execute: rendered SQL goes to psycopg with bound parameters, so a '%' inside a "
    "string literal is read as a placeholder ('below 1% of spend' fails the run; '%%' silently becomes '%')"
)
HOSTILE_CASES = [
    h for h in HOSTILE_ALL  # '%' included: Executor.execute protects it (was PERCENT_BUG)
]


@pytest.mark.parametrize("hostile", HOSTILE_CASES, ids=[repr(h[:20]) for h in HOSTILE_ALL])
def test_hostile_text_round_trips_as_data(hostile, conn, rel_gen, tmp_path):
    m = methodology(hostile, rel_gen)
    assert m.rules[0].exclude == hostile and m.title == "title " + hostile
    dataset = hostile + unique("")  # a dataset name is text too
    base = {"period_start": "2024-01-01", "period_end": "2024-01-31", "energy": "1", "energy_unit": "kWh", "entity": hostile}
    rows = [
        {**base, "activity_id": hostile + "#excluded", "label": hostile},  # exclude reason = hostile
        {**base, "activity_id": hostile + "#grid", "label": "plain"},  # result, entity hostile
        {**base, "activity_id": hostile + "#nowhere", "label": "other", "n1": "2"},  # no factor: select value in the reason
    ]
    loaded = load_csv(conn, dataset, rel_gen, write_rows(tmp_path / "hostile.csv", rel_gen, rows))
    assert (loaded.rows_loaded, loaded.rows_rejected) == (3, 0)
    before = _tables(conn)
    report = run(conn, dataset, [m])
    rec = report.methodologies[0].reconciliation
    assert rec.balanced and (rec.rows_result, rec.rows_excluded, rec.rows_unmatched) == (1, 1, 1)

    def one(query: str) -> tuple:
        row = conn.execute(query, {"run": report.run_id}).fetchone()
        assert row is not None
        return row

    assert one("SELECT activity_id, reason FROM ccf.excluded WHERE run_id = %(run)s") == (hostile + "#excluded", hostile)
    assert one("SELECT activity_id, entity FROM ccf.result WHERE run_id = %(run)s LIMIT 1") == (hostile + "#grid", hostile)
    aid, code, reason = one("SELECT activity_id, reason_code, reason FROM ccf.unmatched WHERE run_id = %(run)s")
    assert (aid, code) == (hostile + "#nowhere", "no_factor")
    assert f"level1 = '{hostile}'" in reason
    assert one("SELECT dataset, summary->>'dataset' FROM ccf.run WHERE run_id = %(run)s") == (dataset, dataset)
    compiled_sql = one("SELECT compiled_sql FROM ccf.run_methodology WHERE run_id = %(run)s")[0]
    assert "ccf.result" in compiled_sql
    conn.rollback()
    assert _tables(conn) == before


@pytest.mark.parametrize("hostile", HOSTILE_ALL[:12], ids=[repr(h[:20]) for h in HOSTILE_ALL[:12]])
def test_hostile_rule_ids_are_refused(hostile, rel_gen):
    text_ = f"""\
methodology: rel.hostile
version: 1.0.0
status: draft
title: t
ghg_protocol: {{scope: 1, source: s, method: fuel-based, references: [r]}}
factor_set: desnz-2024
gwp: AR5
activity: rel_gen
rules:
  - id: {q(hostile)}
    exclude: x
"""
    with pytest.raises(DiagnosticError) as info:
        read_methodology(SourceFile("ids.yaml", text_), {"rel_gen": rel_gen}, factor_signatures())
    assert {d.code for d in info.value.diagnostics} == {"E202"}


def test_hostile_csv_cells_are_stored_exactly(conn, rel_gen, tmp_path):
    """Every text cell, whatever it holds, is stored as written (the loader sends data by COPY)."""
    dataset = unique("cells")
    rows = [
        {"activity_id": f"C{i}", "entity": h, "period_start": "2024-01-01", "period_end": "2024-01-01", "label": h}
        for i, h in enumerate(HOSTILE_ALL)
    ]
    load_csv(conn, dataset, rel_gen, write_rows(tmp_path / "cells.csv", rel_gen, rows))
    stored = dict(conn.execute(
        'SELECT activity_id, label FROM ccf."activity_rel_gen" WHERE dataset = %s', (dataset,)
    ).fetchall())
    conn.rollback()
    assert stored == {f"C{i}": typed_row(rel_gen, r)["label"] for i, r in enumerate(rows)}


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_non_finite_numbers_never_become_sql(bad):
    with pytest.raises(ValueError):
        number(Decimal(bad))


@pytest.mark.parametrize("bad", ["1; DROP TABLE ccf.result", "1 --", "0x10", "1e5 OR 1=1", ""])
def test_numeric_text_is_not_a_number(bad):
    with pytest.raises(Exception):  # decimal.InvalidOperation: never reaches SQL
        number(bad)  # type: ignore[arg-type]


def test_numbers_render_as_plain_decimals():
    assert render(number(Decimal("1E+3"))) == "1000"
    assert render(number(Decimal("-0.000001"))) == "-0.000001"
    assert render(number(Decimal("1E-25"))) == "0." + "0" * 24 + "1"


def test_text_refuses_nul_and_escapes_quotes():
    with pytest.raises(ValueError):
        text("a\x00b")
    assert render(text("it's")) == "'it''s'"


@pytest.mark.parametrize("expression", ["n1 < NaN", "n1 < Infinity", "n1 < 1e5 OR 1=1", "n1 < 0x10", "n1 < 1_000"])
def test_number_like_words_in_expressions_are_diagnostics(expression, rel_gen):
    text_ = f"""\
methodology: rel.numbers
version: 1.0.0
status: draft
title: t
ghg_protocol: {{scope: 1, source: s, method: fuel-based, references: [r]}}
factor_set: desnz-2024
gwp: AR5
activity: rel_gen
rules:
  - id: r
    where: {q(expression)}
    exclude: x
"""
    with pytest.raises(DiagnosticError):
        read_methodology(SourceFile("numbers.yaml", text_), {"rel_gen": rel_gen}, factor_signatures())


# --- the run role -----------------------------------------------------------------------------


def test_migration_survives_sqlglot_and_is_idempotent(conn):
    (version, name, text_) = next(x for x in migrations() if x[1].startswith("0002_"))
    trees = parse(text_, allow_commands=True)
    assert [type(t).__name__ for t in trees][:2] == ["Command", "Command"]
    assert migrate(conn) == []  # already applied: nothing to do
    conn.commit()
    with conn.transaction():  # applying the file again changes nothing and fails nowhere
        for tree in trees:
            conn.execute(render(tree))
    assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'ccf_runner'").fetchone() == (1,)
    conn.rollback()


PRIVILEGED = [
    ("DROP TABLE ccf.result_row", "drop a result table"),
    ("DROP VIEW ccf.result", "drop the per-gas result view"),
    ("TRUNCATE ccf.result_row", "truncate results"),
    ("DELETE FROM ccf.result_row", "delete results"),
    ("UPDATE ccf.result_row SET total_co2e_kg = 0", "change results"),
    ("UPDATE ccf.excluded SET reason = 'x'", "change exclusions"),
    ("DELETE FROM ccf.unmatched", "delete unmatched rows"),
    ("UPDATE ccf.run SET dataset = 'x'", "change a run's dataset"),
    ("DELETE FROM ccf.run", "delete runs"),
    ("INSERT INTO ccf.factor SELECT * FROM ccf.factor LIMIT 1", "add factors"),
    ("UPDATE ccf.factor SET value = 0", "change factors"),
    ("DELETE FROM ccf.gwp", "delete GWPs"),
    ("CREATE TABLE ccf.intruder (x INT)", "create tables"),
    ("ALTER TABLE ccf.result_row ADD COLUMN x INT", "alter tables"),
    ("CREATE OR REPLACE FUNCTION ccf.div(a NUMERIC, b NUMERIC) RETURNS NUMERIC LANGUAGE sql AS $$ SELECT 0 $$", "replace ccf.div"),
    ("DROP TRIGGER run_finished_is_final ON ccf.run", "drop the finished-run trigger"),
]


@pytest.fixture()
def runner(conn):
    """A connection logged in as ccf_runner, as a run's own (engine/run.py)."""
    c = connect(runner_conninfo(conn))
    yield c
    c.close()


@pytest.mark.parametrize("statement,what", PRIVILEGED, ids=[w for _, w in PRIVILEGED])
def test_run_role_cannot(statement, what, runner):
    with runner.transaction():
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with runner.transaction():
                runner.execute(statement)
        raise psycopg.Rollback()


def test_run_role_can_do_what_a_run_needs(runner):
    with runner.transaction():
        runner.execute("SELECT count(*) FROM ccf.factor").fetchone()
        runner.execute("CREATE TEMPORARY TABLE ccf_role_probe AS SELECT ccf.div(1, 3) AS x")
        run_id = runner.execute(
            "INSERT INTO ccf.run (dataset, engine_version, started_at) VALUES ('probe', 'x', now()) RETURNING run_id"
        ).fetchone()[0]
        runner.execute("UPDATE ccf.run SET finished_at = now(), summary = '{}' WHERE run_id = %s", (run_id,))
        raise psycopg.Rollback()


def test_a_finished_run_cannot_be_changed_even_by_its_owner(conn, runner, rel_gen, tmp_path):
    """The column grant lets the role set finished_at and summary; the trigger makes that a
    once-only write, so no run can rewrite another's summary."""
    dataset = unique("finished")
    load_csv(conn, dataset, rel_gen, write_rows(tmp_path / "f.csv", rel_gen, [
        {"activity_id": "F1", "entity": "E", "period_start": "2024-01-01", "period_end": "2024-01-01", "label": "plain"},
    ]))
    report = run(conn, dataset, [methodology("x", rel_gen)])
    for who in (runner, conn):
        with who.transaction():
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="is finished"):
                with who.transaction():
                    who.execute("UPDATE ccf.run SET summary = '{}' WHERE run_id = %s", (report.run_id,))
            raise psycopg.Rollback()


def test_compiled_statements_run_as_the_run_role(conn, rel_gen, tmp_path, monkeypatch):
    """A spy asks, right after each compiled statement, which role the session is using."""
    from ccf.engine import sql as sql_module

    seen: list[tuple[str, str]] = []
    original = sql_module.Executor.execute

    def spy(self, tree, params=None):
        cur = original(self, tree, params)
        first = self.statements[-1].split(None, 3)[:3]
        if first[:2] in (["CREATE", "TEMPORARY"], ["INSERT", "INTO"], ["CREATE", "TABLE"], ["ALTER", "TABLE"]):
            role = self.conn.execute("SELECT current_user").fetchone()[0]
            seen.append((" ".join(first), role))
        return cur

    dataset = unique("spy")
    load_csv(conn, dataset, rel_gen, write_rows(tmp_path / "s.csv", rel_gen, [
        {"activity_id": "S1", "entity": "E", "period_start": "2024-01-01", "period_end": "2024-01-01", "label": "plain"},
    ]))
    monkeypatch.setattr(sql_module.Executor, "execute", spy)
    run(conn, dataset, [methodology("x", rel_gen)])
    monkeypatch.undo()
    user = conn.execute("SELECT session_user").fetchone()[0]
    conn.rollback()
    by_statement = {}
    for statement, role in seen:
        by_statement.setdefault(statement, set()).add(role)
    assert by_statement["CREATE TEMPORARY TABLE"] == {"ccf_runner"}
    # into the run's partitions (migration 0027): not through the parents, which the runner may not insert into
    for target in ("result_row", "excluded", "unmatched"):
        into = [s for s in by_statement if s.startswith(f"INSERT INTO ccf_run.{target}_")]
        assert len(into) == 1 and by_statement[into[0]] == {"ccf_runner"}, by_statement
        assert f"INSERT INTO ccf.{target}" not in by_statement
    assert by_statement["INSERT INTO ccf.run"] == {"ccf_runner"}  # the whole run is the runner's
    # activity-table DDL needs the owner's rights; it is issued only for a table that is missing
    # (here the load made it: none), so that a load as the service's ccf_api issues none
    assert {role for statement, role in seen if statement.startswith(("CREATE TABLE", "ALTER TABLE"))} <= {user}


def test_a_run_commits_what_is_open_and_refuses_a_transaction_block(conn, rel_gen, tmp_path):
    """The run executes on its own connection, which sees only what is committed: a transaction
    psycopg opened on the caller's connection (here: a load, uncommitted) is committed first,
    so the run sees its rows; the caller's own transaction block is not the run's to end."""
    m = methodology("x", rel_gen)
    row = {"activity_id": "A1", "entity": "E", "period_start": "2024-01-01", "period_end": "2024-01-01", "label": "plain"}
    dataset = unique("open")
    conn.execute("SELECT 1")  # psycopg opens a transaction; the load below is a savepoint in it
    load_csv(conn, dataset, rel_gen, write_rows(tmp_path / "a.csv", rel_gen, [row]))
    assert run(conn, dataset, [m]).methodologies[0].reconciliation.rows_in == 1
    with conn.transaction():  # a caller's own transaction block around the run
        with pytest.raises(RunError, match="inside a transaction block"):
            run(conn, dataset, [m])
        assert conn.execute("SELECT current_user = session_user").fetchone() == (True,)
    conn.rollback()


def test_without_the_role_runs_execute_as_the_connecting_user(conn, rel_gen, tmp_path, monkeypatch, caplog):
    """The documented fallback when the migrating user could not create the role."""
    monkeypatch.setattr(run_module, "RUN_ROLE", "ccf_no_such_role")
    dataset = unique("norole")
    load_csv(conn, dataset, rel_gen, write_rows(tmp_path / "n.csv", rel_gen, [
        {"activity_id": "N1", "entity": "E", "period_start": "2024-01-01", "period_end": "2024-01-01", "label": "plain"},
    ]))
    with caplog.at_level(logging.WARNING, logger="ccf.run"):
        report = run(conn, dataset, [methodology("x", rel_gen)])
    assert report.methodologies[0].reconciliation.balanced
    assert "cannot log in as ccf_no_such_role" in caplog.text  # the fallback says what it loses
    assert "ccf_no_such_role is not available" in caplog.text


def test_migration_without_createrole_privilege_skips_the_role(pg_admin_url, conn):
    """The migration's DO block, run by a user without CREATEROLE for a role that does not
    exist, gives a notice instead of an error (roles are cluster-wide; the real role already
    exists, so the block runs here for a fresh role name)."""
    (_, _, text_) = next(x for x in migrations() if x[1].startswith("0002_"))
    block = parse(text_, allow_commands=True)[0]
    fresh = f"ccf_runner_probe_{uuid.uuid4().hex[:8]}"
    weak = f"ccf_weak_{uuid.uuid4().hex[:8]}"
    statement = render(block).replace("ccf_runner", fresh)
    notices: list[str] = []
    admin = psycopg.connect(make_conninfo(pg_admin_url, dbname=conn.info.dbname))  # roles are the admin's to make
    admin.add_notice_handler(lambda d: notices.append(d.message_primary))
    try:
        admin.execute(pgsql.SQL("CREATE ROLE {} NOLOGIN").format(pgsql.Identifier(weak)))
        admin.commit()
        with admin.transaction():
            admin.execute(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(weak)))
            admin.execute(statement)
            raise psycopg.Rollback()
        assert admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (fresh,)).fetchone() == (0,)
        assert any("no CREATEROLE privilege" in n for n in notices), notices
    finally:
        admin.rollback()
        admin.execute(pgsql.SQL("DROP ROLE IF EXISTS {}").format(pgsql.Identifier(weak)))
        admin.execute(pgsql.SQL("DROP ROLE IF EXISTS {}").format(pgsql.Identifier(fresh)))
        admin.commit()
        admin.close()
