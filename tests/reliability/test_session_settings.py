"""The SQL means the same under any server setting.

Every connection ccf opens pins the session settings its SQL depends on
(``database.SESSION_SETTINGS``). Each of them is given its non-default values the ways a server
can impose them: ALTER DATABASE ... SET on the test database for the in-process path, and
PGOPTIONS (with PGCLIENTENCODING) in the environment of the ccf command line. Under each, a
methodology whose string literals, text parameter, exclusion reasons and factor selection hold
the differential suite's hostile strings gives exactly the reference evaluator's outcomes, and
the loader's reasons read as they do under the defaults.

Text written into SQL comments (a title in ``ccf compile``'s header, stored as
``run_methodology.compiled_sql``) stays inside the comment, whatever line breaks it holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reliability._support import (
    HOSTILE,
    NIGHTLY,
    assert_same,
    reference,
    shipped_factors,
    sql_outcomes,
    typed_row,
    unique,
    write_rows,
)
from ccf.dsl import ir
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.source import SourceFile
from ccf.engine.api import factor_signatures
from ccf.engine.compile import compile_methodology
from ccf.engine.database import SESSION_SETTINGS, DatabaseError, connect
from ccf.engine.load import ReportingPeriod, load_csv
from ccf.engine.run import run
from ccf.engine.sql import comment, parse

HERE = Path(__file__).resolve().parent
REL_GEN = HERE / "library" / "activity_types" / "rel_gen.yaml"
SHADOW = "ccf_shadow"  # a schema whose '=' on text means '<>', put first in a hostile search_path
STRINGS = HOSTILE + ["'", "\\", "\\'", "E'\\x41'", "line\nbreak"]

# Each pinned setting with values a server, a database, a role or a client may set instead.
# lc_numeric is not pinned (no ccf statement formats numbers with to_char); the statement and
# idle timeouts are tiny, so that without the pin a run fails.
HOSTILE_SETTINGS: dict[str, list[str]] = {
    "standard_conforming_strings": ["off"],
    "search_path": [f"{SHADOW}, pg_catalog", "public"],
    "DateStyle": ["SQL, DMY", "Postgres, MDY", "German", "ISO, YMD"],
    "IntervalStyle": ["sql_standard", "postgres_verbose", "iso_8601"],
    "TimeZone": ["Pacific/Kiritimati", "America/St_Johns"],
    "client_encoding": ["LATIN1", "SQL_ASCII"],
    "extra_float_digits": ["3", "-15"],
    "transform_null_equals": ["on"],
    "statement_timeout": ["1ms"],
    "lock_timeout": ["1ms"],
    "idle_in_transaction_session_timeout": ["1ms"],
}
CASES = [(name, value) for name, values in HOSTILE_SETTINGS.items() for value in values]


def test_every_pinned_setting_is_tried():
    assert set(HOSTILE_SETTINGS) == set(SESSION_SETTINGS)


def _literal(value: str) -> str:
    """A string literal of the expression language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _q(value: str) -> str:
    """A YAML double-quoted scalar."""
    return yaml.safe_dump(value, default_style='"', allow_unicode=True, width=10**9).strip()


def methodology_text(title: str = "Session settings") -> str:
    rules = "".join(
        f"  - id: r{i}\n    where: {_q('label == ' + _literal(h))}\n    emissions: energy * grid\n"
        f"  - id: x{i}\n    where: {_q('label == ' + _literal(h + '#x'))}\n    exclude: {_q(h)}\n"
        for i, h in enumerate(STRINGS)
    )
    return f"""\
methodology: rel.settings
version: 1.0.0
status: draft
title: {_q(title)}
ghg_protocol: {{scope: 2, source: s, method: location-based, references: [r]}}
factor_set: desnz-2024
gwp: AR5
activity: rel_gen
parameters:
  p_text: {_q(_literal(STRINGS[3] + "#p"))}
factors:
  grid:
    select: {{level1: UK electricity, level3: "Electricity: UK"}}
    per: kWh
  nowhere:
    select: {{level1: {_q(STRINGS[3])}}}
    per: kWh
rules:
  - id: parameter
    where: label == p_text
    emissions: energy * grid
  - id: leap_day
    where: day == date("2024-02-29")
    emissions: energy * grid
  - id: no_number
    where: n1 == null and label == "no number"
    emissions: energy * grid
  - id: nowhere
    where: label == "nowhere"
    emissions: energy * nowhere
{rules}  - id: rest
    exclude: no rule applies
"""


@pytest.fixture(scope="module")
def rel_gen() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(REL_GEN))


@pytest.fixture(scope="module")
def hostile_m(rel_gen) -> ir.Methodology:
    return read_methodology(SourceFile("settings.yaml", methodology_text()), {"rel_gen": rel_gen}, factor_signatures())


def rows() -> list[dict[str, str]]:
    base = {"period_start": "2024-03-01", "period_end": "2024-03-31", "energy": "204.93", "energy_unit": "kWh"}
    out = [{**base, "activity_id": f"H{i}", "entity": h, "label": h} for i, h in enumerate(STRINGS)]
    out += [{**base, "activity_id": f"X{i}", "entity": "E", "label": h + "#x"} for i, h in enumerate(STRINGS)]
    out += [
        {**base, "activity_id": "P", "entity": "E", "label": STRINGS[3] + "#p"},
        {**base, "activity_id": "L", "entity": "E", "label": "plain", "day": "2024-02-29"},
        {**base, "activity_id": "N", "entity": "E", "label": "no number"},
        {**base, "activity_id": "U", "entity": "E", "label": "nowhere"},
        {**base, "activity_id": "O", "entity": "E", "label": "other", "n1": "1"},
    ]
    return out


OUTSIDE = {"activity_id": "LATE", "entity": "E", "period_start": "2025-01-01", "period_end": "2025-01-31", "label": "x"}


@pytest.fixture(scope="module")
def admin_db(module_db_url):
    """The module's database, with the shadowing operator a hostile search_path would find."""
    with psycopg.connect(module_db_url, autocommit=True) as admin:
        admin.execute(pgsql.SQL("""
            CREATE SCHEMA {s};
            GRANT USAGE ON SCHEMA {s} TO PUBLIC;
            CREATE FUNCTION {s}.differ(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE
              AS 'SELECT pg_catalog.texteq($1, $2) IS NOT TRUE';
            CREATE OPERATOR {s}.= (LEFTARG = text, RIGHTARG = text, FUNCTION = {s}.differ);
        """).format(s=pgsql.Identifier(SHADOW)))
    return module_db_url


def _reasons(conn, load_id: int, dataset: str) -> list[str]:
    """The loader's reasons of a load, the dataset's name written <dataset>."""
    found = conn.execute("SELECT reason FROM ccf.rejected WHERE load_id = %s ORDER BY line_no", (load_id,)).fetchall()
    conn.rollback()
    return [r.replace(dataset, "<dataset>") for (r,) in found]


def load_and_run(conn, m: ir.Methodology, folder: Path) -> tuple[int, list[str]]:
    """Load the hostile rows (and one outside the reporting period), run the methodology: the
    run's id and the loader's reasons."""
    dataset = unique("settings")
    path = write_rows(folder / f"{dataset}.csv", m.activity, rows() + [OUTSIDE])
    loaded = load_csv(conn, dataset, m.activity, path, period=ReportingPeriod.parse("2024"))
    assert (loaded.rows_loaded, loaded.rows_rejected) == (len(rows()), 1)
    report = run(conn, dataset, [m])
    return report.run_id, _reasons(conn, loaded.load_id, dataset)


def assert_as_reference(conn, run_id: int, m: ir.Methodology) -> None:
    typed = {c["activity_id"]: typed_row(m.activity, c) for c in rows()}
    ref = reference(m, typed.values(), shipped_factors(m.factor_set))
    sql = sql_outcomes(conn, run_id, m.id)
    conn.rollback()
    expected = {o.activity_id: o for o in ref.outcomes}
    assert sql == expected
    assert {o.__class__.__name__ for o in expected.values()} == {"Result", "Excluded", "Unmatched"}


@pytest.fixture(scope="module")
def defaults(admin_db, hostile_m, tmp_path_factory) -> list[str]:
    """The loader's reasons under the server's defaults (the run checked against the reference)."""
    conn = connect(admin_db)
    try:
        run_id, reasons = load_and_run(conn, hostile_m, tmp_path_factory.mktemp("defaults"))
        assert_as_reference(conn, run_id, hostile_m)
    finally:
        conn.close()
    assert len(reasons) == 1 and "2024-01-01..2024-12-31" in reasons[0]
    return reasons


@pytest.mark.parametrize("name,value", CASES, ids=[f"{n}={v}" for n, v in CASES])
def test_database_settings_do_not_change_a_run(name, value, admin_db, hostile_m, defaults, tmp_path):
    dbname = conninfo_to_dict(admin_db)["dbname"]
    values = pgsql.SQL(", ").join(pgsql.Literal(v.strip()) for v in value.split(","))  # a list setting: each item
    alter = pgsql.SQL("ALTER DATABASE {} SET {} = {}").format(pgsql.Identifier(dbname), pgsql.Identifier(name.lower()), values)
    with psycopg.connect(admin_db, autocommit=True) as admin:
        admin.execute(alter)
    try:
        conn = connect(admin_db)
        try:
            assert conn.execute("SELECT current_setting(%s)", (name,)).fetchone() == (SESSION_SETTINGS[name],)
            conn.rollback()
            run_id, reasons = load_and_run(conn, hostile_m, tmp_path)
            assert_as_reference(conn, run_id, hostile_m)
            assert reasons == defaults
        finally:
            conn.close()
    finally:
        with psycopg.connect(admin_db, autocommit=True) as admin:
            admin.execute(pgsql.SQL("ALTER DATABASE {} RESET {}").format(pgsql.Identifier(dbname), pgsql.Identifier(name.lower())))


def _switch(name: str, value: str) -> str:
    """A PGOPTIONS switch (a space in the value escaped by a backslash)."""
    return "-c " + f"{name}={value}".replace(" ", "\\ ")


ALL_AT_ONCE = [[(n, vs[0]) for n, vs in HOSTILE_SETTINGS.items()]]
ONE_BY_ONE = [[case] for case in CASES] if NIGHTLY else []


@pytest.mark.parametrize("settings", ALL_AT_ONCE + ONE_BY_ONE,
                         ids=["all"] + [f"{s[0][0]}={s[0][1]}" for s in ONE_BY_ONE])
def test_client_settings_do_not_change_a_command_line_run(settings, admin_db, hostile_m, defaults, tmp_path):
    """ccf load, ccf run and ccf verify with every hostile value in PGOPTIONS (a new process
    each, as a user runs them; each setting on its own as well in the nightly run), and
    PGCLIENTENCODING."""
    lib = tmp_path / "lib"
    (lib / "activity_types").mkdir(parents=True)
    (lib / "activity_types" / "rel_gen.yaml").write_text(REL_GEN.read_text("utf-8"), "utf-8")
    (lib / "rel.settings").mkdir()
    (lib / "rel.settings" / "1.0.0.yaml").write_text(methodology_text(), "utf-8")
    data = write_rows(tmp_path / "rows.csv", hostile_m.activity, rows() + [OUTSIDE])
    dataset = unique("cli")
    env = {**os.environ, "CCF_DATABASE_URL": admin_db, "CCF_METHODOLOGIES": str(lib),
           "PGOPTIONS": " ".join(_switch(n, v) for n, v in settings), "PGCLIENTENCODING": "LATIN1"}

    def ccf(*args: str) -> dict:
        code = "import sys; from ccf.engine.cli import main; sys.exit(main(sys.argv[1:]))"
        done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    loaded = ccf("load", "--dataset", dataset, "--type", "rel_gen", "--period", "2024", "--json", str(data))
    ran = ccf("run", "--dataset", dataset, "rel.settings@1.0.0", "--json")
    assert ccf("verify", str(ran["run_id"]), "--json")["identical"] is True
    conn = connect(admin_db)
    try:
        assert_as_reference(conn, ran["run_id"], hostile_m)
        (load_id,) = [f["load_id"] for f in loaded]
        assert _reasons(conn, load_id, dataset) == defaults
    finally:
        conn.close()


def test_user_options_are_kept_and_pinned_ones_win(admin_db, monkeypatch):
    """A URL's own options (or PGOPTIONS) still apply where ccf pins nothing; where it does,
    ccf's value wins. Tuning stays the user's."""
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=7MB -c standard_conforming_strings=off")
    conn = connect(admin_db)
    try:
        got = conn.execute("SELECT current_setting('work_mem'), current_setting('standard_conforming_strings'), "
                           "current_setting('temp_buffers')").fetchone()
        assert got == ("7MB", "on", "256MB")
    finally:
        conn.close()
    monkeypatch.delenv("PGOPTIONS")
    conn = connect(make_conninfo(admin_db, options="-c temp_buffers=32MB -c DateStyle=German"))
    try:
        assert conn.execute("SELECT current_setting('temp_buffers'), current_setting('DateStyle')").fetchone() == ("32MB", "ISO, MDY")
    finally:
        conn.close()


def test_a_session_without_the_pinned_settings_is_refused(admin_db, monkeypatch):
    """What a pooler that drops startup options would give: the check after connecting refuses."""
    from ccf.engine import database

    monkeypatch.setattr(database, "_options", lambda target: "-c TimeZone=Asia/Tokyo")
    with pytest.raises(DatabaseError, match="TimeZone is 'Asia/Tokyo'"):
        connect(admin_db)


# --- text in SQL comments ---------------------------------------------------------------------

TITLES = [
    "title\nDROP TABLE ccf.result;",
    "title\r\nDROP TABLE ccf.result;",
    "title\rDROP TABLE ccf.result;",
    "title\u2028DROP TABLE ccf.result;",
    "title */ DROP TABLE ccf.result; /*",
    "title /* DROP TABLE ccf.result;",
    "title\vDROP TABLE ccf.result;\x85DROP TABLE ccf.run;",
]


@pytest.mark.parametrize("title", TITLES, ids=[repr(t) for t in TITLES])
def test_a_title_stays_inside_its_comment(title, rel_gen, admin_db):
    """The compiled SQL re-parses, in sqlglot and in PostgreSQL, into exactly the statements
    the methodology compiles to, with the title's every line in the header's comments."""
    m = read_methodology(SourceFile("t.yaml", methodology_text(title)), {"rel_gen": rel_gen}, factor_signatures())
    assert m.title == title
    compiled = compile_methodology(m)
    text_ = compiled.sql()
    head = text_[: text_.index("\n\n")]
    assert all(line.startswith("-- ") for line in head.splitlines())
    assert comment(title) in head
    trees = parse(text_)
    plain = lambda t: t.sql(dialect="postgres", comments=False)  # noqa: E731
    assert [plain(t) for t in trees] == [plain(t) for _, t in compiled.statements()]
    said = "\n".join(trees[0].comments or [])  # the header: comments before the first statement
    assert all(line.strip() in said for line in title.splitlines())
    # PostgreSQL's own reading: the header alone is nothing but comments
    conn = connect(admin_db)
    try:
        conn.execute(head + "\nSELECT 1")  # a bare DROP TABLE would fail here (or drop the table)
        assert conn.execute("SELECT to_regclass('ccf.result') IS NOT NULL").fetchone() == (True,)
    finally:
        conn.rollback()
        conn.close()
