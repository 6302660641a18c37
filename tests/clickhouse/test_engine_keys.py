"""One ClickHouse, several PostgreSQL databases (docs/scale-out.md, "Which ClickHouse database"):
run ids are unique in one PostgreSQL database only, so each keeps its ClickHouse runs' rows in a
ClickHouse database of its own, named by the identity it carries (migration 0031). Two databases
drawing the same run id both reconcile and each reader sees its own rows; a copy of a database
with ClickHouse runs (a restored dump, a template's copy) is refused, exit 1, until adopted.

The databases are copies of the one ``ccf demo`` ran on (tests/conftest.py): they draw the same
run ids. ClickHouse is the process's chdb session (conftest.py)."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout

import psycopg
import pytest

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from conftest import _fresh_database  # noqa: E402
from ccf.engine.cli import main  # noqa: E402

STATIONARY = "scope1.stationary_combustion"


def ccf(url: str, monkeypatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("CCF_DATABASE_URL", url)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _run(url: str, monkeypatch, dataset: str, engine: str) -> int:
    code, out, err = ccf(url, monkeypatch, "run", "--dataset", dataset, "--other-edition", "--engine", engine, "--json", STATIONARY)
    assert code == 0, err
    return json.loads(out)["run_id"]


def _report(url: str, monkeypatch, run_id: int) -> object:
    """The run's report as JSON, its run id as N."""
    code, out, err = ccf(url, monkeypatch, "report", str(run_id), "--approach", "operational-control", "--json")
    assert code == 0, err
    return json.loads(re.sub(rf'(?<=[\s\[":]){run_id}(?=[\s,\]:"])', '"N"', out.replace(f'"{run_id}:', '"N:')))


@pytest.fixture()
def environment(monkeypatch, clickhouse):
    monkeypatch.delenv("CCF_ENGINE", raising=False)
    return monkeypatch


def test_two_databases_with_one_run_id_keep_their_own_rows(module_cli_demo, cli_demo, environment):
    """The same run id in two PostgreSQL databases on one chdb: both runs reconcile (the second
    used to count the first's rows and refuse), and each database's report, verification and
    delete of its run read its own rows only, as its PostgreSQL run of the same shows them."""
    a, b = module_cli_demo.url, cli_demo.url
    on_a, on_b = _run(a, environment, "meridian", "clickhouse"), _run(b, environment, "demo", "clickhouse")
    assert on_a == on_b  # copies of one database draw the same ids: the case of the defect
    pg_a, pg_b = _run(a, environment, "meridian", "postgresql"), _run(b, environment, "demo", "postgresql")
    for url, ch, pg in ((a, on_a, pg_a), (b, on_b, pg_b)):
        assert _report(url, environment, ch) == _report(url, environment, pg)
        code, out, err = ccf(url, environment, "verify", str(ch), "--json")
        assert code == 0 and json.loads(out)["identical"], out + err
    code, out, err = ccf(a, environment, "runs", "delete", str(on_a), "--json")
    assert code == 0, err
    assert _report(b, environment, on_b) == _report(b, environment, pg_b)  # b's rows outlive a's delete


def test_a_copy_of_a_database_with_clickhouse_runs_is_refused_until_adopted(module_cli_demo, pg_admin_url, pg_owner_url,
                                                                           environment):
    """A copy (as a dump restored next to its original would be) shares the original's identity,
    hence its ClickHouse database: reading, running or deleting there is refused, exit 1, leaving
    the original's rows; ``ccf db adopt-clickhouse`` (the original gone) gives the copy its rows."""
    original = module_cli_demo.url
    run_id = _run(original, environment, "meridian", "clickhouse")
    expected = _report(original, environment, run_id)
    name = psycopg.conninfo.conninfo_to_dict(original)["dbname"]
    with _fresh_database(pg_admin_url, pg_owner_url, template=name) as copy:
        for args in (["report", str(run_id), "--approach", "operational-control"], ["explain", str(run_id), "SF-UK-LON-GAS-2024H1"],
                     ["runs", "delete", str(run_id)], ["run", "--dataset", "meridian", "--engine", "clickhouse", STATIONARY]):
            code, out, err = ccf(copy, environment, *args)
            assert code == 1 and "is a copy of another" in err and "adopt-clickhouse" in err and "Traceback" not in err, args
        assert _report(original, environment, run_id) == expected  # the refused delete dropped nothing
        code, out, err = ccf(copy, environment, "db", "adopt-clickhouse", "--json")
        assert code == 0, err
        assert _report(copy, environment, run_id) == expected
