"""Organisations apart at the database level (engine/service/policies.py, migration 0022).

Two organisations, A and B, each with a dataset of its own (loads, rejected rows, activity rows,
an entity set), a run over it (results, exclusions, unmatched rows, instrument allocations,
lookup factor sets), a queued job and a token. Logged in as ccf_api with A's organisation, every
protected table shows none of B's rows, and no INSERT, UPDATE or DELETE reaches them; without an
organisation it shows nothing. Every table of schema ccf is classified (organisation data or
shared), so a table added later cannot be left out of the policies.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from helpers import shipped_library
from ccf.engine import api
from ccf.dsl.diagnostics import CcfError
from ccf.engine.database import connect
from ccf.engine.lifecycle.runs import RUN_TABLES
from ccf.engine.inventory.entities import load_entity_set
from ccf.engine.factors.commands import factors_add
from ccf.engine.run import run
from ccf.engine.service import jobs, orgs, policies, scoped

SAMPLE = api.demo_dir()
TYPES = ("stationary_fuel", "electricity", "energy_attribute_certificates", "energy_supplier_data")
VERSIONS = ("scope1.stationary_combustion", "scope2.electricity.location_based", "scope2.electricity.market_based")


def _org_data(conn: psycopg.Connection, org: orgs.Org, tmp: Path, lib) -> None:
    """An organisation's dataset, entity set, run, job and token, written as the owner with the
    organisation set (as a request's load would be): its rows belong to it."""
    conn.execute("SELECT set_config('ccf.org_id', %s, false)", [str(org.id)])
    conn.commit()
    load_entity_set(conn, f"ents-{org.name}", SAMPLE / "entities" / "northwind-2024.csv")
    dataset = f"data-{org.name}"
    for t in TYPES:
        api.load_files(conn, dataset, t, [SAMPLE / f"{t}.csv"], lib)
    bad = tmp / f"stationary_fuel-{org.name}.csv"  # one row rejected: a negative quantity
    lines = (SAMPLE / "stationary_fuel.csv").read_text().splitlines()
    bad.write_text("\n".join([lines[0], lines[1].replace("96410", "-5").replace("SF-HOLD-GAS-2024Q1", "BAD-1"),
                              lines[2].replace("SF-HOLD-GAS-2024Q2", "EXTRA-1")]) + "\n")
    api.load_files(conn, dataset, "stationary_fuel", [bad], lib)
    run(conn, dataset, api.resolve(lib, VERSIONS))
    conn.execute("SELECT set_config('ccf.org_id', '', false)")
    conn.commit()
    with scoped.org_connection(org, conn.info.dsn) as c:
        jobs.start_run(c, org, dataset, list(VERSIONS), f"key-{org.name}")
        c.execute("INSERT INTO ccf.library_file (path, text, sha256) VALUES ('factor_sets/my-grid.yaml', %s, %s)",
                  [GRID_DECLARATION, "0" * 64])
        c.commit()
    # a factor set of its own, named as the other organisation's is (migration 0029)
    factors = tmp / f"my-grid-{org.name}.csv"
    factors.write_text(GRID_FACTORS.replace("0.2", "0.3" if org.name.endswith("b") else "0.2"))
    factors_add(conn, str(factors), "my-grid-2024", factor_sets=grid_signatures(), org=org.name)
    orgs.create_token(conn, org.name)


GRID_DECLARATION = """\
factor_set: my-grid
title: Our own grid factors
publisher: The organisation
licence: proprietary
attributes: []
gases:
  CO2e: kgCO2e
regions: [GB, DE]
years: [2024]
editions:
  my-grid-2024:
    periods: ["2024"]
"""
GRID_FACTORS = "factor_id,name,unit,gas,value,region,year\nGB-24,Grid GB,kWh,CO2e,0.2,GB,2024\nDE-24,Grid DE,kWh,CO2e,0.4,DE,2024\n"


def grid_signatures() -> dict:
    """The factor-set declarations of the shipped library and the organisation's my-grid."""
    import tempfile

    from ccf.dsl.factor_sets import read_declarations

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "my-grid.yaml").write_text(GRID_DECLARATION)
        declared, problems = read_declarations(Path(folder), {})
    assert not problems, problems
    return {**shipped_library().factor_sets, **declared}


@pytest.fixture(scope="module")
def two_orgs(module_db_url: str, tmp_path_factory) -> tuple[str, orgs.Org, orgs.Org]:
    tmp = tmp_path_factory.mktemp("orgs")
    lib = shipped_library()
    with connect(module_db_url) as conn:
        a, b = orgs.create_org(conn, "org-a"), orgs.create_org(conn, "org-b")
        _org_data(conn, a, tmp, lib)
        _org_data(conn, b, tmp, lib)
    return module_db_url, a, b


def _tables(url: str) -> list[policies.Protected]:
    with connect(url) as conn:
        return policies.protected_tables(conn)


# A row's place: its table (a partition of an activity table: migration 0025) and its ctid there
ROW = "(tableoid::oid::text || '/' || ctid::text)"


def _ctids(conn: psycopg.Connection, t: str) -> set[str]:
    return {r[0] for r in conn.execute(f"SELECT {ROW} FROM ccf.{t}").fetchall()}  # noqa: S608 (a table name of ours)


def _as_owner_of(conn: psycopg.Connection, org: orgs.Org, t: str) -> set[str]:
    """The ctids of an organisation's rows, found as the owner (no row-level security) by the
    table's own way to its organisation."""
    rule = {
        policies.ORG: "org_id = %(org)s",
        policies.DATASET: "dataset IN (SELECT dataset FROM ccf.dataset WHERE org_id = %(org)s)",
        policies.RUN: "run_id IN (SELECT run_id FROM ccf.run WHERE org_id = %(org)s)",
        policies.ENTITY_SET: "entity_set IN (SELECT entity_set FROM ccf.entity_set WHERE org_id = %(org)s)",
        policies.SHARED_OR_ORG: "org_id = %(org)s",  # its own; the shared rows are everyone's (_shared)
        policies.FACTOR_SET: "factor_set_id IN (SELECT factor_set_id FROM ccf.factor_set WHERE org_id = %(org)s)",
    }[next(p.reach for p in policies.protected_tables(conn) if p.table == t)]
    return {r[0] for r in conn.execute(f"SELECT {ROW} FROM ccf.{t} WHERE {rule}", {"org": org.id}).fetchall()}


def _shared(conn: psycopg.Connection, t: str) -> set[str]:
    """The ctids of a table's rows shared by every organisation (factor sets: migration 0029)."""
    rule = {
        policies.SHARED_OR_ORG: "org_id IS NULL",
        policies.FACTOR_SET: "factor_set_id IN (SELECT factor_set_id FROM ccf.factor_set WHERE org_id IS NULL)",
    }.get(next(p.reach for p in policies.protected_tables(conn) if p.table == t))
    return set() if rule is None else {r[0] for r in conn.execute(f"SELECT {ROW} FROM ccf.{t} WHERE {rule}").fetchall()}


def test_every_table_of_the_schema_is_organisation_data_or_shared(db) -> None:
    assert unclassified(db) == []


def test_a_new_table_left_out_of_the_lists_is_caught(db) -> None:
    """What the layout engineer's new result table would meet: named until it is listed."""
    db.execute("CREATE TABLE ccf.result_by_entity (run_id BIGINT, co2e_kg NUMERIC)")
    db.execute("CREATE TABLE ccf.lookup_cache (k TEXT)")
    assert unclassified(db) == ["lookup_cache: neither organisation data nor shared",
                                "result_by_entity: holds organisation data (run_id) and is not protected"]


def unclassified(conn: psycopg.Connection) -> list[str]:
    """Tables of schema ccf that policies.py does not classify: shared reference data may hold no
    column that ties a row to an organisation."""
    protected = {p.table for p in policies.protected_tables(conn)}
    ties = {"org_id", "dataset", "run_id", "load_id", "entity_set"}
    out = []
    for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'ccf' ORDER BY 1").fetchall():
        cols = {c for (c,) in conn.execute("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_schema = 'ccf' AND table_name = %s", [t]).fetchall()}
        if t in protected:
            continue
        if cols & ties:
            out.append(f"{t}: holds organisation data ({', '.join(sorted(cols & ties))}) and is not protected")
        elif t not in policies.SHARED:
            out.append(f"{t}: neither organisation data nor shared")
    return out


def test_every_protected_table_and_view_is_under_row_level_security(two_orgs) -> None:
    url, _, _ = two_orgs
    with connect(url) as conn:
        secured = {t for (t,) in conn.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'ccf'::regnamespace AND c.relrowsecurity "
            "AND EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = 'ccf' AND p.tablename = c.relname "
            "AND p.policyname = 'organisation_only' AND p.permissive = 'RESTRICTIVE')").fetchall()}
        assert {p.table for p in policies.protected_tables(conn)} - secured == set()
        assert any(p.table.startswith("activity_") and p.table != "activity_load" for p in policies.protected_tables(conn))
        views = conn.execute("SELECT relname, reloptions FROM pg_class WHERE relnamespace = 'ccf'::regnamespace "
                             "AND relkind = 'v'").fetchall()
        assert views and all("security_invoker=true" in (o or []) for _, o in views), views
        role = conn.execute("SELECT rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = 'ccf_api'").fetchone()
        assert role == (False, False, False)
        owned = conn.execute("SELECT count(*) FROM pg_class WHERE relowner = 'ccf_api'::regrole").fetchone()
        assert owned == (0,)


def test_an_organisation_sees_none_of_another_s_rows(two_orgs) -> None:
    url, a, b = two_orgs
    with connect(url) as owner, scoped.org_connection(a, url) as as_a, scoped.org_connection(b, url) as as_b:
        for p in policies.protected_tables(owner):
            if "SELECT" not in p.api_privileges:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    as_a.execute(f"SELECT count(*) FROM ccf.{p.table}")
                as_a.rollback()
                continue
            a_rows, b_rows = _as_owner_of(owner, a, p.table), _as_owner_of(owner, b, p.table)
            assert a_rows and b_rows, f"{p.table}: the test needs rows of both organisations"
            shared = _shared(owner, p.table)
            assert _ctids(as_a, p.table) == a_rows | shared, p.table
            assert _ctids(as_b, p.table) == b_rows | shared, p.table
        # a view reads with its caller's rights
        assert {r for (r,) in as_a.execute("SELECT DISTINCT run_id FROM ccf.result_provenance")} == \
            {r for (r,) in owner.execute("SELECT run_id FROM ccf.run WHERE org_id = %s", [a.id])}


def test_without_an_organisation_the_api_login_sees_nothing(two_orgs) -> None:
    """... of any organisation's: the shared factor sets only."""
    url, _, _ = two_orgs
    with connect(url) as owner, connect(scoped.api_conninfo(url)) as api_conn:
        for p in policies.protected_tables(owner):
            if "SELECT" in p.api_privileges:
                assert _ctids(api_conn, p.table) == _shared(owner, p.table), p.table
        assert _shared(owner, "factor_set") and _shared(owner, "factor")


def test_an_organisation_cannot_change_another_s_rows(two_orgs) -> None:
    """INSERT of a copy of one of B's rows, UPDATE and DELETE of B's rows, and moving an own
    row to B: refused (a policy violation or no privilege), or touching no row."""
    url, a, b = two_orgs
    with connect(url) as owner, scoped.org_connection(a, url) as as_a:
        for p in policies.protected_tables(owner):
            t = p.table
            b_rows = sorted(_as_owner_of(owner, b, t))
            assert b_rows, t
            (record,) = owner.execute(f"SELECT row_to_json(x)::text FROM ccf.{t} AS x WHERE {ROW} = %s",
                                      [b_rows[0]]).fetchone()
            owner.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                as_a.execute(f"INSERT INTO ccf.{t} OVERRIDING SYSTEM VALUE "
                             f"SELECT * FROM json_populate_record(NULL::ccf.{t}, %s::json)", [record])
            as_a.rollback()
            first = owner.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                                  "AND attidentity = '' AND NOT attisdropped ORDER BY attnum LIMIT 1",
                                  [f"ccf.{t}"]).fetchone()[0]
            owner.rollback()
            for statement in (f'UPDATE ccf.{t} SET "{first}" = "{first}" WHERE {ROW} = ANY(%s::text[])',
                              f"DELETE FROM ccf.{t} WHERE {ROW} = ANY(%s::text[])"):
                try:  # nor the rows every organisation shares (factor sets)
                    assert as_a.execute(statement, [b_rows + sorted(_shared(owner, t))]).rowcount == 0, (t, statement)
                except psycopg.errors.InsufficientPrivilege:
                    pass
                as_a.rollback()
            if p.reach == policies.ORG and "UPDATE" in p.api_privileges:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    as_a.execute(f"UPDATE ccf.{t} SET org_id = %s", [b.id])
                as_a.rollback()
        # and B's rows are all there
        assert all(_as_owner_of(owner, b, p.table) for p in policies.protected_tables(owner))


def test_a_run_is_deleted_by_its_organisation_only(two_orgs) -> None:
    """ccf_api deletes a run of its organisation with every row it wrote (its least privilege is
    enough: no UPDATE, no row lock); another organisation's run is, to it, no run."""
    url, a, b = two_orgs
    lib = shipped_library()
    with connect(url) as owner:
        owner.execute("SELECT set_config('ccf.org_id', %s, false)", [str(a.id)])
        extra = run(owner, f"data-{a.name}", api.resolve(lib, VERSIONS[:1])).run_id
        owner.execute("SELECT set_config('ccf.org_id', '', false)")
        owner.commit()
        (b_run,) = owner.execute("SELECT max(run_id) FROM ccf.run WHERE org_id = %s", [b.id]).fetchone()
        b_rows = {t: owner.execute(f"SELECT count(*) FROM ccf.{t} WHERE run_id = %s", [b_run]).fetchone()[0]  # noqa: S608
                  for t in RUN_TABLES}
        owner.rollback()
        with scoped.org_connection(a, url) as as_a:
            with pytest.raises(CcfError, match=f"there is no run {b_run}"):
                api.delete_run(as_a, b_run)
            deleted = api.delete_run(as_a, extra)
        assert deleted.rows["run"] == 1 and deleted.rows["result_row"] > 0, deleted.rows
        for t in RUN_TABLES:
            assert owner.execute(f"SELECT count(*) FROM ccf.{t} WHERE run_id = %s", [extra]).fetchone() == (0,), t  # noqa: S608
            assert owner.execute(f"SELECT count(*) FROM ccf.{t} WHERE run_id = %s", [b_run]).fetchone() == (b_rows[t],), t  # noqa: S608


def test_the_command_line_s_rows_belong_to_the_default_organisation(db_url: str) -> None:
    with connect(db_url) as conn:
        lib = shipped_library()
        api.load_files(conn, "cli", "stationary_fuel", [SAMPLE / "stationary_fuel.csv"], lib)
        report = run(conn, "cli", api.resolve(lib, ["scope1.stationary_combustion"]))
        default = orgs.find_org(conn, "default")
        assert conn.execute("SELECT org_id FROM ccf.dataset WHERE dataset = 'cli'").fetchone() == (default.id,)
        assert conn.execute("SELECT org_id FROM ccf.run WHERE run_id = %s", [report.run_id]).fetchone() == (default.id,)


def test_a_run_reads_the_factor_sets_of_its_organisation_only(two_orgs) -> None:
    """ccf_runner, logged in for a run of A (its connection names A, as a worker's does: worker.py),
    sees the shared factor sets and A's own, with their factors, never B's; for the command line's
    runs (no organisation named: 'default'), neither. A set is found by the name its methodology gives."""
    from ccf.engine.database import RUNNER, as_user
    from ccf.engine.factors.store import installed
    from ccf.engine.sql import Executor

    url, a, b = two_orgs
    with connect(url) as owner:
        own = {o: owner.execute("SELECT set_id, factor_set_id FROM ccf.factor_set WHERE org_id = %s", [o.id]).fetchone()
               for o in (a, b)}
        shared = {k for (k,) in owner.execute("SELECT set_id FROM ccf.factor_set WHERE org_id IS NULL")}
    assert own[a][0] != own[b][0] and shared
    for org in (a, b, None):
        with connect(as_user(scoped.org_conninfo(url, org), RUNNER)) as runner:
            mine = {own[org][0]} if org is not None else set()
            assert {k for (k,) in runner.execute("SELECT set_id FROM ccf.factor_set")} == shared | mine
            sets_of_factors = {i for (i,) in runner.execute("SELECT DISTINCT factor_set_id FROM ccf.factor")}
            assert (own[a][1] in sets_of_factors, own[b][1] in sets_of_factors) == (org == a, org == b)
            found = installed(Executor(runner), "my-grid-2024")
            assert (found.set_id if found else None) == (own[org][0] if org is not None else None)


def test_the_command_line_installs_an_organisation_s_own_set(two_orgs, tmp_path, monkeypatch, capsys) -> None:
    """'ccf factors add --org': under a key of its own, known to the organisation by its name; the
    same file again changes nothing; an organisation that does not exist is the user's error."""
    from ccf.engine.cli import main

    url, a, _ = two_orgs
    library = tmp_path / "library"
    (library / "factor_sets").mkdir(parents=True)
    (library / "factor_sets" / "my-grid.yaml").write_text(GRID_DECLARATION)
    monkeypatch.setenv("CCF_DATABASE_URL", url)
    monkeypatch.setenv("CCF_METHODOLOGIES", str(library))
    same = tmp_path / "my-grid-org-a.csv"  # the bytes org-a's set was installed from
    same.write_text(GRID_FACTORS)
    assert main(["factors", "add", str(same), "--id", "my-grid-2024", "--org", "nobody"]) == 1
    assert "no organisation 'nobody'" in capsys.readouterr().err
    assert main(["factors", "add", str(same), "--id", "my-grid-2024", "--org", a.name]) == 0
    assert "organisation org-a's own): already installed from the same file" in capsys.readouterr().out
    with connect(url) as owner:
        assert owner.execute("SELECT set_id, name FROM ccf.factor_set WHERE org_id = %s", [a.id]).fetchall() == \
            [("org-a.my-grid-2024", "my-grid-2024")]
