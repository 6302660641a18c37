"""The readers of a run's rows give for a ClickHouse run what they give for the same run on
PostgreSQL (docs/scale-out.md, "Readers"): ``ccf unmatched`` (its rows read in ClickHouse, their
files and lines in PostgreSQL) and the service's results of a run, paged JSON and streamed CSV,
explain and verify. One dataset (the demo's: 2 of its stationary fuel rows are excluded or
unmatched) is run once on each engine for the module."""

from __future__ import annotations

import csv
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal

import pytest

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from ccf.engine.cli import main  # noqa: E402

REFS = ["scope1.stationary_combustion", "scope2.electricity.location_based"]


def ccf(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(module_cli_demo, clickhouse) -> dict:
    """The demo dataset's Scope 1 stationary and Scope 2 location-based run on each engine:
    {"postgresql": run id, "clickhouse": run id, "url": the database}."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CCF_DATABASE_URL", module_cli_demo.url)
    mp.delenv("CCF_ENGINE", raising=False)
    out = {"url": module_cli_demo.url}
    try:
        for engine in ("postgresql", "clickhouse"):
            code, text, err = ccf("run", "--dataset", "demo", "--engine", engine, "--json", *REFS)
            assert code == 0, err
            out[engine] = json.loads(text)["run_id"]
        yield out
    finally:
        mp.undo()


@pytest.fixture()
def on_demo(runs, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", runs["url"])
    return runs


def test_unmatched_of_a_clickhouse_run_as_of_the_postgresql_run(on_demo):
    """Every unmatched row with its methodology, rule, reason, load, file and line, in file and
    line order; the text the same; one methodology's alone."""
    pg, ch = on_demo["postgresql"], on_demo["clickhouse"]
    for args in ([], ["--json"], ["--methodology", "scope1.stationary_combustion", "--json"]):
        (code_pg, on_pg, _), (code, on_ch, err) = ccf("unmatched", str(pg), *args), ccf("unmatched", str(ch), *args)
        assert code_pg == code == 0, err
        assert on_ch == on_pg
    assert json.loads(ccf("unmatched", str(ch), "--json")[1])  # the demo's data leave some unmatched


@pytest.fixture()
def client(on_demo):
    """The service in this process (it shares the test's chdb session), with a token of the
    organisation the command line's runs belong to."""
    from starlette.testclient import TestClient

    from ccf.engine.database import connect
    from ccf.engine.service.app import create_app
    from ccf.engine.service.orgs import create_token

    with connect(on_demo["url"]) as conn:
        token = create_token(conn, "default")
        conn.commit()
    with TestClient(create_app(on_demo["url"]), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def _numbers(row: dict) -> dict:
    """A result row with its decimal strings as numbers: ClickHouse's Decimal(76, 40) keeps no
    trailing zeros of PostgreSQL's NUMERIC scale (the same value, docs/numeric-semantics.md)."""
    def number(v):
        try:
            return Decimal(v) if isinstance(v, str) and v and v[0] in "-0123456789" and "-" not in v[1:] else v
        except ArithmeticError:
            return v
    return {k: number(v) for k, v in row.items()}


def test_the_service_reads_a_clickhouse_run_as_a_postgresql_run(on_demo, client):
    """Paged JSON (every page) and streamed CSV: the same rows in the same order; explain and
    verify of an activity row the same."""
    pg, ch = on_demo["postgresql"], on_demo["clickhouse"]

    def paged(run_id: int) -> list[dict]:
        rows, offset = [], 0
        while page := client.get(f"/runs/{run_id}/results", params={"offset": offset, "limit": 7}).json()["items"]:
            rows += page
            offset += 7
        return rows

    on_pg, on_ch = paged(pg), paged(ch)
    assert len(on_pg) > 7 and [_numbers(r) for r in on_ch] == [_numbers(r) for r in on_pg]
    one = {"methodology": "scope1.stationary_combustion"}
    assert ([_numbers(r) for r in client.get(f"/runs/{ch}/results", params=one).json()["items"]]
            == [_numbers(r) for r in client.get(f"/runs/{pg}/results", params=one).json()["items"]])
    streamed = {run_id: list(csv.DictReader(io.StringIO(client.get(f"/runs/{run_id}/results.csv").text))) for run_id in (pg, ch)}
    assert [_numbers(r) for r in streamed[ch]] == [_numbers(r) for r in streamed[pg]] and len(streamed[ch]) == len(on_ch)
    for run_id in (pg, ch):
        v = client.post(f"/runs/{run_id}/verify").json()
        assert v["identical"] is True, v
    explained = {run_id: client.get(f"/runs/{run_id}/explain/{on_pg[0]['activity_id']}").json() for run_id in (pg, ch)}
    assert _without_run(explained[ch], ch) == _without_run(explained[pg], pg)


def _without_run(document: dict, run_id: int) -> str:
    return re.sub(rf'("run_id": |\brun ){run_id}\b', r"\1N", json.dumps(document))
