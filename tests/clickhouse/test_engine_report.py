"""The report of ClickHouse runs where it reads result rows one by one, and the verification of
their instrument allocations (docs/scale-out.md): the same report of the same data run on
PostgreSQL and on ClickHouse, in every format, for an activity type several methodologies
computed (electricity: location- and market-based with certificate parts, category 3), PCAF's
metrics of category 15, and an unbound dataset's entity set chosen by its results' entities; the
rows copied from ClickHouse into PostgreSQL exactly as PostgreSQL holds them; ``ccf verify`` of a
ClickHouse run with instruments finds a tampered ``instrument_allocation`` row.

The database is a copy of the one ``ccf demo`` ran on (tests/conftest.py ``module_cli_demo``);
ClickHouse is the process's chdb session (conftest.py)."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from sqlglot import exp

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from ccf.engine.cli import main  # noqa: E402
from ccf.engine.clickhouse.catalogue import opened  # noqa: E402
from ccf.engine.clickhouse.reads import copy_result_rows  # noqa: E402
from ccf.engine.clickhouse.tables import RESULT_ROW_COLUMNS  # noqa: E402
from ccf.engine.inventory.consolidation import CLICKHOUSE_ROWS, clickhouse_rows_statement  # noqa: E402
from ccf.engine.sql import Executor, ident  # noqa: E402
from ccf.dsl.resources import sample_company  # noqa: E402

ELECTRICITY = ["scope2.electricity.location_based", "scope2.electricity.market_based", "scope3.cat3.fuel_energy.electricity"]
PCAF = ["scope3.cat15.investments.pcaf", "scope3.cat15.investments.pcaf_mortgages",
        "scope3.cat15.investments.pcaf_listed_equity_bonds", "scope3.cat15.investments.pcaf_sovereign_debt",
        "scope3.cat15.investments.projected_lifetime"]
# a methodology alone on its activity type: its rows are summed on ClickHouse, never copied
REFS = ["scope1.stationary_combustion", *ELECTRICITY, *PCAF]
FORMATS = ("table", "csv", "json", "html")
FIRST_RUN = 7_340_001  # the runs of this module draw ids from here (``_without_run``)
FAKE_RUN = 999_999_999_999  # a run id no database draws: a row written to ClickHouse by the test


def ccf(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(module_cli_demo, clickhouse) -> dict:
    """The demo dataset (Northwind) run with ``REFS`` on each engine: {"postgresql": run id,
    "clickhouse": run id, "url": the database}."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CCF_DATABASE_URL", module_cli_demo.url)
    mp.delenv("CCF_ENGINE", raising=False)
    out = {"url": module_cli_demo.url}
    with psycopg.connect(module_cli_demo.url) as conn:
        conn.execute(f"ALTER TABLE ccf.run ALTER COLUMN run_id RESTART WITH {FIRST_RUN}")
    try:
        for engine in ("postgresql", "clickhouse"):
            code, text, err = ccf("run", "--dataset", "demo", "--other-edition", "--engine", engine, "--json", *REFS)
            assert code == 0, err
            out[engine] = json.loads(text)["run_id"]
        yield out
    finally:
        mp.undo()


@pytest.fixture()
def on_demo(runs, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", runs["url"])
    monkeypatch.delenv("CCF_ENGINE", raising=False)
    return runs


def _report(run_id: int, *args: str) -> str:
    code, out, err = ccf("report", str(run_id), *args)
    assert code == 0 and "Traceback" not in err, err
    return out


def _without_run(text: str, run_id: int) -> str:
    """A report with its run's id as N (the runs' ids are drawn from ``FIRST_RUN``, digits no
    amount of the demo's reports has) and runs of spaces as one (a table's column is padded to
    its widest cell)."""
    return re.sub(r" +", " ", text.replace(str(run_id), "N"))


def test_the_report_of_a_clickhouse_run_is_the_postgresql_runs(on_demo):
    """Every format of the report, under two approaches, says of the ClickHouse run what it says
    of the PostgreSQL run: the electricity rows counted once each whatever the number of
    methodologies and parts that computed them (the entities' activity rows, the tiers of the
    market-based parts, the coverage), and PCAF's metrics of category 15. Before the rows were
    copied this report was refused, exit 1."""
    pg, ch = on_demo["postgresql"], on_demo["clickhouse"]
    for approach in ("equity-share", "operational-control"):
        for fmt in FORMATS:
            args = ("--approach", approach, "--format", fmt)
            on_pg, on_ch = _report(pg, *args), _report(ch, *args)
            assert _without_run(on_ch, ch) == _without_run(on_pg, pg), (approach, fmt)
    doc = json.loads(_report(ch, "--approach", "equity-share", "--json"))
    assert doc["pcaf"]["financed_emissions"] and doc["pcaf"]["waci"]  # the metrics read the copied rows
    assert {t["methodology"] for t in doc["tiers"]} >= set(ELECTRICITY)


def test_a_market_based_run_alone_counts_each_activity_row_once(on_demo):
    """Market-based electricity alone on its activity type: its certificate parts are ``parted``
    in the groups summed on ClickHouse, as on PostgreSQL, so its rows are copied and each
    activity row split among instruments is counted once (per entity, in the tiers), not once
    per part as a methodology ``alone`` would be."""
    ids = {}
    for engine in ("postgresql", "clickhouse"):
        code, out, err = ccf("run", "--dataset", "demo", "--other-edition", "--engine", engine, "--json",
                             "scope2.electricity.market_based")
        assert code == 0, err
        ids[engine] = json.loads(out)["run_id"]
    with psycopg.connect(on_demo["url"]) as conn:
        assert conn.execute("SELECT count(*) > count(DISTINCT activity_id) FROM ccf.result_row WHERE run_id = %s",
                            [ids["postgresql"]]).fetchone() == (True,)  # some activity row is in several parts
    for fmt in ("json", "table"):
        on = {engine: _report(run_id, "--approach", "equity-share", "--format", fmt) for engine, run_id in ids.items()}
        assert _without_run(on["clickhouse"], ids["clickhouse"]) == _without_run(on["postgresql"], ids["postgresql"]), fmt


def test_an_unbound_dataset_is_reported_under_the_set_holding_its_results_entities(on_demo):
    """A dataset bound to no entity set, with two sets loaded (the demo's northwind-2024 and
    meridian-2024): its report is under the one set holding every entity of its results, on
    either engine (a ClickHouse run's entities were not seen: both sets looked complete, and
    the report was refused as ambiguous)."""
    code, out, err = ccf("load", "--dataset", "unbound-meridian", "--type", "electricity", "--json",
                         str(sample_company("meridian") / "electricity.csv"))
    assert code == 0, err
    ids = {}
    for engine in ("postgresql", "clickhouse"):
        code, out, err = ccf("run", "--dataset", "unbound-meridian", "--other-edition", "--engine", engine, "--json",
                             "scope2.electricity.location_based")
        assert code == 0, err
        ids[engine] = json.loads(out)["run_id"]
    docs = {engine: json.loads(_report(run_id, "--approach", "equity-share", "--json")) for engine, run_id in ids.items()}
    assert docs["clickhouse"]["entity_set"]["name"] == docs["postgresql"]["entity_set"]["name"] == "meridian-2024"
    assert _without_run(json.dumps(docs["clickhouse"]), ids["clickhouse"]) == \
        _without_run(json.dumps(docs["postgresql"]), ids["postgresql"])


def _rows(conn, table: exp.Table, where: str, params: list) -> dict[tuple, dict]:
    names = [n for n, _ in RESULT_ROW_COLUMNS]
    cur = conn.execute(f"SELECT {', '.join(names)} FROM {table.sql('postgres')} WHERE {where}", params)
    return {(r[1], r[2], r[names.index("instrument_id")]): dict(zip(names[1:], r[1:])) for r in cur.fetchall()}


def test_the_rows_copied_from_clickhouse_are_those_postgresql_holds(on_demo):
    """Every column of every result row of the run's market-based and PCAF methodologies, copied
    from ClickHouse by TabSeparated into COPY, equals the PostgreSQL run's row: the decimals
    (Decimal(76, 40) into NUMERIC) equal, the arrays of factor ids the same texts, NULLs NULL."""
    pg, ch = on_demo["postgresql"], on_demo["clickhouse"]
    copied = ["scope2.electricity.market_based", *PCAF]
    with psycopg.connect(on_demo["url"]) as conn:
        ex = Executor(conn)
        ex.execute(clickhouse_rows_statement())
        n = copy_result_rows(ex, *opened(ex), exp.Table(this=ident(CLICKHOUSE_ROWS)), [(ch, m) for m in copied])
        got = _rows(conn, exp.Table(this=ident(CLICKHOUSE_ROWS)), "true", [])
        want = _rows(conn, exp.table_("result_row", db="ccf"), "run_id = %s AND methodology_id = ANY(%s)", [pg, copied])
        conn.rollback()
    assert n == len(got) == len(want) > 0
    assert any(k[2] is not None for k in got)  # market-based parts
    assert set(got) == set(want)
    differ = {k: {c: (v, want[k][c]) for c, v in row.items() if v != want[k][c]} for k, row in got.items() if row != want[k]}
    assert not differ


def test_a_copied_text_keeps_every_character(on_demo, clickhouse):
    """Text with tabs, line breaks, backslashes, quotes, a literal \\N and non-ASCII letters, an
    array of ids holding quotes, commas, braces and a NULL, a 40-place decimal: copied into
    PostgreSQL as ClickHouse holds them."""
    odd = 'a\tb\nc\\d\'e"f\\Ng ä€ {x}'
    ids = ['x"y', "p,q", "{z}", None, "back\\slash"]
    kg = Decimal("123456789012345678901234567890.1234567890123456789012345678901234567891")
    with psycopg.connect(on_demo["url"]) as conn:
        ex = Executor(conn)
        ch, database = opened(ex)
        conn.rollback()
        clickhouse.client.command(
            f"INSERT INTO {database}.result_row (run_id, methodology_id, activity_id, entity, period_start, rule_id, "
            "total_co2e_kg, co2_co2e_kg, co2_factor_ids, co2_match_level) VALUES (%(run)s, %(m)s, %(a)s, %(e)s, '2024-02-29', "
            f"%(r)s, toDecimal256('{kg}', 40), toDecimal256('{kg}', 40), %(ids)s, %(level)s)",
            parameters={"run": FAKE_RUN, "m": odd, "a": odd, "e": "E1", "r": odd, "ids": ids, "level": odd})
        try:
            ex.execute(clickhouse_rows_statement())
            assert copy_result_rows(ex, ch, database, exp.Table(this=ident(CLICKHOUSE_ROWS)), [(FAKE_RUN, odd)]) == 1
            row = conn.execute(f"SELECT period_start, methodology_id, activity_id, rule_id, co2_co2e_kg, co2_factor_ids, co2_match_level, "
                               f"co2_kg, ch4_factor_ids FROM {CLICKHOUSE_ROWS}").fetchone()
            conn.rollback()
        finally:
            clickhouse.client.command(f"ALTER TABLE {database}.result_row DROP PARTITION {FAKE_RUN}")
    assert row == (date(2024, 2, 29), odd, odd, odd, kg, ids, odd, None, None)


def test_verify_compares_a_clickhouse_runs_instrument_allocations(on_demo):
    """``ccf verify`` of a ClickHouse run with certificates compares its instrument_allocation
    rows with the recomputation's, as for a PostgreSQL run: identical, then one tampered row
    found and named."""
    code, out, err = ccf("run", "--dataset", "demo", "--other-edition", "--engine", "clickhouse", "--json",
                         "scope2.electricity.market_based")
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    with psycopg.connect(on_demo["url"]) as conn:
        (held,) = conn.execute("SELECT count(*) FROM ccf.instrument_allocation WHERE run_id = %s", [run_id]).fetchone()
    code, out, err = ccf("verify", str(run_id), "--json")
    assert code == 0 and json.loads(out)["identical"], out + err
    assert json.loads(out)["rows_compared"]["instrument_allocation"] == held > 0
    with psycopg.connect(on_demo["url"]) as conn:
        (instrument,) = conn.execute("UPDATE ccf.instrument_allocation SET allocated = allocated + 1 WHERE run_id = %s AND "
                                     "instrument_id = (SELECT min(instrument_id) FROM ccf.instrument_allocation "
                                     "WHERE run_id = %s AND allocated > 0) RETURNING instrument_id", [run_id, run_id]).fetchone()
    code, out, err = ccf("verify", str(run_id))
    assert code == 1 and "Traceback" not in err
    assert re.search(rf"instrument_allocation only in the original run: methodology_id=scope2.electricity.market_based, "
                     rf"instrument_id={re.escape(instrument)}, ", out), out
    assert f"instrument_allocation only in the recomputation: methodology_id=scope2.electricity.market_based, " \
           f"instrument_id={instrument}, " in out
