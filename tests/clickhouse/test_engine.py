"""``--engine clickhouse`` on the command line (docs/scale-out.md): the demo prints what it prints
on PostgreSQL; a run is recorded in PostgreSQL's catalogue with its engine and its rows are in
ClickHouse, in a partition of its own that ``ccf runs delete`` drops; a methodology ClickHouse
does not compute is named, exit 1, and nothing of the run is left on either engine.

The database is a copy of the one ``ccf demo`` ran on (tests/conftest.py ``module_cli_demo``);
ClickHouse is the process's chdb session (conftest.py)."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout

import psycopg
import pytest
from sqlglot import exp

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from clickhouse._support import assert_same_rows  # noqa: E402
from ccf.dsl.diagnostics import CcfError  # noqa: E402
from ccf.engine import api  # noqa: E402
from ccf.engine.cli import main  # noqa: E402
from ccf.engine.clickhouse import run as ch_run  # noqa: E402
from ccf.engine.clickhouse.compile import Unsupported  # noqa: E402
from ccf.engine.clickhouse.numeric import ClickHouseInexact  # noqa: E402
from ccf.engine.clickhouse.catalogue import catalogue_database  # noqa: E402
from ccf.engine.clickhouse.tables import RESULT_TABLES  # noqa: E402
from ccf.engine.sql import Executor, column, table  # noqa: E402

LATEST = api.latest_published(api.library())


def ccf(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def demo_db(module_cli_demo, clickhouse, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", module_cli_demo.url)
    monkeypatch.delenv("CCF_ENGINE", raising=False)
    return module_cli_demo.url


def _runs(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT run_id, engine FROM ccf.run ORDER BY run_id").fetchall()


def _database(ch, url: str) -> str:
    """The ClickHouse database of the PostgreSQL database at ``url`` (engine/clickhouse/catalogue.py)."""
    with psycopg.connect(url) as conn:
        return catalogue_database(Executor(conn), ch)


def _ch_rows(ch, run_id: int, url: str) -> dict[str, int]:
    where = exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id))
    database = _database(ch, url)
    return {name: ch.rows(exp.select(exp.Count(this=exp.Star())).from_(table(name, database)).where(where))[0][0]
            for name in RESULT_TABLES}


def _without_run_ids(text: str) -> str:
    """The text with each run id as N (a table's title is padded to its width: spaces as one)."""
    return re.sub(r" +", " ", re.sub(r"(run |ccf explain )\d+", r"\1N", text))


def test_the_whole_demo_prints_the_same_on_clickhouse_and_stores_the_same(module_cli_demo, clickhouse, monkeypatch):
    """``ccf demo --engine clickhouse`` prints what ``ccf demo`` prints, whole: each run's table,
    the totals per scope and the total, the market-based tiers and instrument volumes, the
    editions, the reconciliation, and Meridian's tiers per country; and every methodology of
    both companies stored the same rows on both engines (every result column, exclusion,
    unmatched row and instrument allocation). One demo on each engine: PostgreSQL's is the
    session's (``cli_demo``'s second, which loaded nothing, as this one loads nothing)."""
    monkeypatch.setenv("CCF_DATABASE_URL", module_cli_demo.url)
    monkeypatch.delenv("CCF_ENGINE", raising=False)
    before = _runs(module_cli_demo.url)
    code, on_clickhouse, err = ccf("demo", "--engine", "clickhouse")
    assert code == 0, err
    assert "Meridian" in on_clickhouse and "tier and source per country" in on_clickhouse
    assert _without_run_ids(on_clickhouse) == _without_run_ids(module_cli_demo.text)
    (northwind, a), (meridian, b) = _runs(module_cli_demo.url)[len(before):]
    assert (a, b) == ("clickhouse", "clickhouse")
    # the runs of cli_demo's text: its second demo, after the first (two runs each)
    pg_northwind, pg_meridian = before[2][0], before[3][0]
    database = _database(clickhouse, module_cli_demo.url)
    with psycopg.connect(module_cli_demo.url) as conn:
        for pg_run, ch_run in ((pg_northwind, northwind), (pg_meridian, meridian)):
            ran = [r for (r,) in conn.execute("SELECT methodology_id FROM ccf.run_methodology WHERE run_id = %s", [ch_run])]
            assert sorted(ran) == sorted(r for (r,) in conn.execute(
                "SELECT methodology_id FROM ccf.run_methodology WHERE run_id = %s", [pg_run]))
            for m in LATEST:
                if m.id in ran:
                    assert_same_rows(conn, clickhouse, m, pg_run, ch_run, database)
        # a market-based row allocated certificates: explain names the same instruments on both
        (part,) = conn.execute("SELECT activity_id FROM ccf.result_row WHERE run_id = %s AND instrument_id IS NOT NULL "
                               "ORDER BY activity_id LIMIT 1", [pg_northwind]).fetchone()
    explained = {}
    for run_id in (pg_northwind, northwind):
        code, out, err = ccf("explain", str(run_id), part, "--json")
        assert code == 0, err
        explained[run_id] = re.sub(rf'("run_id": |\brun ){run_id}\b', r"\1N", out)
    assert "instrument" in explained[northwind] and explained[northwind] == explained[pg_northwind]


def test_a_run_is_recorded_with_its_engine_and_deleted_with_its_partition(demo_db, clickhouse):
    refs = ["scope1.stationary_combustion", "scope2.electricity.location_based"]
    code, out, err = ccf("run", "--dataset", "demo", "--engine", "clickhouse", "--json", *refs)
    assert code == 0, err
    doc = json.loads(out)
    run_id = doc["run_id"]
    assert (run_id, "clickhouse") in _runs(demo_db)
    with psycopg.connect(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM ccf.result_row WHERE run_id = %s", [run_id]).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM ccf.run_methodology WHERE run_id = %s", [run_id]).fetchone() == (2,)
    held = _ch_rows(clickhouse, run_id, demo_db)
    recs = [m["reconciliation"] for m in doc["methodologies"]]
    assert held == {"result_row": sum(r["rows_result"] for r in recs), "excluded": sum(r["rows_excluded"] for r in recs),
                    "unmatched": sum(r["rows_unmatched"] for r in recs)}
    code, out, err = ccf("runs", "delete", str(run_id), "--json")
    assert code == 0, err
    deleted = json.loads(out)["rows"]
    assert {k: deleted[f"clickhouse {k}"] for k in RESULT_TABLES} == held
    assert _ch_rows(clickhouse, run_id, demo_db) == dict.fromkeys(RESULT_TABLES, 0)
    assert run_id not in [r for r, _ in _runs(demo_db)]


def test_a_run_refused_midway_leaves_nothing_on_either_engine(demo_db, clickhouse, monkeypatch):
    """The second methodology is refused once its inputs are measured (76 digits): the run's
    catalogue rows roll back, and the first methodology's rows in ClickHouse are dropped. The
    refusal is injected: since a row beyond 76 digits is unmatched one by one, no shipped version
    is refused whole on the demo's data."""
    second = "scope1.mobile_combustion.fuel_based"
    compile_for = ch_run.compile_for_clickhouse

    def refusing(bound, sizes, name):
        if bound.id == second:
            raise ClickHouseInexact(f"{bound.ref}: its emissions could need more than 76 digits for this run's inputs")
        return compile_for(bound, sizes, name)

    monkeypatch.setattr(ch_run, "compile_for_clickhouse", refusing)
    before = _runs(demo_db)
    code, out, err = ccf("run", "--dataset", "demo", "--engine", "clickhouse", "scope1.stationary_combustion", second)
    assert code == 1 and "could need more than 76 digits" in err and "Traceback" not in err
    assert _runs(demo_db) == before
    last = max(r for r, _ in before)
    for run_id in range(last + 1, last + 4):  # the ids the refused run may have drawn
        assert _ch_rows(clickhouse, run_id, demo_db) == dict.fromkeys(RESULT_TABLES, 0)


def test_an_unsupported_methodology_is_named_and_nothing_runs(demo_db, monkeypatch):
    """Every shipped version compiles for ClickHouse; one that did not (a rule PostgreSQL's
    exactness plan guards below 76 digits, refused by ``supported``) is named, exit 1, and
    nothing runs."""
    ref = "scope2.electricity.market_based@1.3.0"
    why = f"{ref}: rules guarded by the exactness plan below 76 digits (rows unmatched 'inexact') are not compiled for ClickHouse"

    def refusing(m):
        if m.ref == ref:
            raise Unsupported(why)

    monkeypatch.setattr(ch_run, "supported", refusing)
    before = _runs(demo_db)
    code, out, err = ccf("run", "--dataset", "demo", "--engine", "clickhouse", "scope1.stationary_combustion", ref)
    assert code == 1 and why in err and "Traceback" not in err
    assert _runs(demo_db) == before


def test_the_engine_from_the_environment(demo_db, monkeypatch):
    monkeypatch.setenv("CCF_ENGINE", "clickhouse")
    code, out, err = ccf("run", "--dataset", "demo", "--json", "scope1.stationary_combustion")
    assert code == 0, err
    assert (json.loads(out)["run_id"], "clickhouse") in _runs(demo_db)
    code, out, err = ccf("run", "--dataset", "demo", "--engine", "postgresql", "--json", "scope1.stationary_combustion")
    assert code == 0 and (json.loads(out)["run_id"], "postgresql") in _runs(demo_db)
    monkeypatch.setenv("CCF_ENGINE", "clickhose")
    code, out, err = ccf("run", "--dataset", "demo", "scope1.stationary_combustion")
    assert code == 1 and "CCF_ENGINE is 'clickhose', which is no engine of ccf" in err and "clickhouse" in err


SCOPES_1_AND_2 = ["scope1.stationary_combustion", "scope1.mobile_combustion.fuel_based", "scope2.electricity.location_based"]


@pytest.fixture(scope="module")
def meridian_runs(module_cli_demo, clickhouse) -> tuple[int, int]:
    """Meridian's Scope 1 and 2 run on each engine once for the module: (PostgreSQL's,
    ClickHouse's). The tests that take them only read them (a verification rolls back what it
    recomputes); a test that changes a run's rows makes its own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCF_DATABASE_URL", module_cli_demo.url)
        mp.delenv("CCF_ENGINE", raising=False)
        ids = []
        for engine in ("postgresql", "clickhouse"):
            code, out, err = ccf("run", "--dataset", "meridian", "--other-edition", "--engine", engine, "--json", *SCOPES_1_AND_2)
            assert code == 0, err
            ids.append(json.loads(out)["run_id"])
    return ids[0], ids[1]


@pytest.fixture()
def both_runs(meridian_runs, demo_db) -> tuple[int, int]:
    """``meridian_runs``, the command line on their database."""
    return meridian_runs


def _same_but_run(text: str, run_id: int) -> object:
    """The output with the run's id as N: in a JSON document, the values of ``run_id``, ``runs``
    and the ``key`` of a run's methodology; in text, after 'run' or 'runs'."""
    def walk(node: object) -> object:
        if isinstance(node, dict):
            return {k: ("N" if k == "run_id" and v == run_id else ["N" if x == run_id else x for x in v] if k == "runs"
                        else v.replace(f"{run_id}:", "N:") if k == "key" else walk(v)) for k, v in node.items()}
        return [walk(x) for x in node] if isinstance(node, list) else node

    if text.startswith(("{", "[")):
        return walk(json.loads(text))
    return re.sub(rf"(\bruns?\b\D{{0,3}}){run_id}\b", r"\1N", text)


def test_report_explain_and_verify_follow_the_run_to_clickhouse(both_runs, clickhouse, demo_db):
    """The report (its groups summed on ClickHouse), an activity row's explanation (its results
    read there) and a verification (recomputed there) say of the ClickHouse run what they say of
    the PostgreSQL run; nothing of the recomputation is left in ClickHouse."""
    pg, ch = both_runs
    for args in (["report", "--approach", "equity-share", "--json"], ["report", "--approach", "operational-control", "--json"]):
        (code_pg, on_pg, _), (code_ch, on_ch, err) = ccf(args[0], str(pg), *args[1:]), ccf(args[0], str(ch), *args[1:])
        assert code_pg == code_ch == 0, err
        assert _same_but_run(on_ch, ch) == _same_but_run(on_pg, pg)
    for activity_id in ("EL-UK-LON-2024H1", "EL-US-SJC-2024H1"):
        (_, on_pg, _), (code, on_ch, err) = ccf("explain", str(pg), activity_id), ccf("explain", str(ch), activity_id)
        assert code == 0, err
        assert "reproduces the stored rows exactly" in on_ch and _same_but_run(on_ch, ch) == _same_but_run(on_pg, pg)
    code, out, err = ccf("verify", str(ch), "--json")
    assert code == 0 and json.loads(out)["identical"], out + err
    assert json.loads(out)["rows_compared"] == _ch_rows(clickhouse, ch, demo_db)
    assert _ch_rows(clickhouse, ch + 1, demo_db) == dict.fromkeys(RESULT_TABLES, 0)  # the recomputation's id: dropped
    code, out, err = ccf("verify", str(ch), "--reference")
    assert code == 0, out + err


def test_verify_finds_a_row_changed_in_clickhouse(clickhouse, demo_db):
    """A row of a ClickHouse run changed there: ``verify`` finds it; the run is this test's own
    (Meridian's location-based Scope 2, whose row it changes), as it changes what it stored."""
    code, out, err = ccf("run", "--dataset", "meridian", "--other-edition", "--engine", "clickhouse", "--json",
                         "scope2.electricity.location_based")
    assert code == 0, err
    ch = json.loads(out)["run_id"]
    clickhouse.client.command(f"ALTER TABLE {_database(clickhouse, demo_db)}.result_row UPDATE total_co2e_kg = total_co2e_kg + 1 "
                              f"WHERE run_id = {ch} AND activity_id = 'EL-UK-LON-2024H1' SETTINGS mutations_sync = 1")
    code, out, err = ccf("verify", str(ch))
    assert code == 1 and "result_row only in the original run" in out and "EL-UK-LON-2024H1" in out
    code, out, err = ccf("verify", str(ch), "--reference")
    assert code == 0  # the reference compares gas by gas: the gases' values are unchanged (the total is their sum)


def test_a_clickhouse_decimal_loses_its_trailing_zeros_and_no_digit():
    """Read from a Decimal(76, 40) column, a sum has 40 places: shown without the zeros of that
    scale, never rounded (``Decimal.normalize`` rounds to the context's 28 digits)."""
    from decimal import Decimal

    from ccf.engine.clickhouse.reads import _plain

    wide = Decimal("100640643120.67053746000000000004" + "0" * 20)  # 32 digits, 40 places
    assert str(_plain(wide)) == "100640643120.67053746000000000004"
    assert [str(_plain(Decimal(v))) for v in ("1000.0000", "0E-40", "-0.50")] == ["1000", "0", "-0.5"]


def test_diff_of_a_dataset_reuses_postgresql_runs_only(both_runs):
    """``ccf diff --dataset`` attributes a change row by row on PostgreSQL (engine/attribution/):
    it reuses a PostgreSQL run of a version, never takes a ClickHouse run's rows for none."""
    pg, ch = both_runs
    code, out, err = ccf("diff", "scope1.stationary_combustion@1.3.0", "scope1.stationary_combustion@1.4.0",
                         "--dataset", "meridian", "--json")
    assert code == 0, err
    to = json.loads(out)["runs"]["to"]  # both runs computed 1.4.0 over the same loads, the ClickHouse run last
    assert (to["run_id"], to["reused"]) == (pg, True)


def test_a_statement_clickhouse_refuses_is_an_error_of_ccf(clickhouse):
    """ClickHouse's own error (clickhouse-connect's) would reach the command line as a traceback: the executor
    tells it as ccf's error, with ClickHouse's message, which the command line reports with exit 1."""
    bad = exp.select(exp.Anonymous(this="no_such_function", expressions=[exp.Literal.number(1)]))
    with pytest.raises(CcfError, match=r"ClickHouse refused a statement of ccf: .*no_such_function.*UNKNOWN_FUNCTION"):
        clickhouse.execute(bad)
    with pytest.raises(CcfError, match="UNKNOWN_FUNCTION"):
        clickhouse.rows(bad)
