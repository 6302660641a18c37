"""How ccf reaches ClickHouse and copies a run's inputs there (engine/clickhouse/session.py,
inputs.py, sql.py's ``ClickHouseExecutor``).

The client is clickhouse-connect's, on chdb in-process: the code path a server URL takes too,
but for the transport (no ClickHouse server runs here; docs/scale-out.md says so). Decimals
come back exact, never through a float; a run's activity rows go from PostgreSQL's COPY to
ClickHouse's insert as bytes, every digit and character kept; a URL's password is never told.
"""

from __future__ import annotations

import io
import json
import logging
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal
from pathlib import Path

import pytest
from sqlglot import exp

pytest.importorskip("clickhouse_connect", reason="the clickhouse extra (clickhouse-connect, chdb) is not installed")

from helpers import shipped_library  # noqa: E402
from reliability._support import unique, write_rows  # noqa: E402
from ccf.dsl.numeric import size  # noqa: E402
from ccf.engine.cli import main  # noqa: E402
from ccf.engine.clickhouse import session  # noqa: E402
from ccf.engine.clickhouse.inputs import copy_activity  # noqa: E402
from ccf.engine.clickhouse.tables import DATABASE, RunInputs  # noqa: E402
from ccf.engine.database import connect  # noqa: E402
from ccf.engine.load import csv_columns, dataset_loads, load_csv  # noqa: E402
from ccf.engine.load.tables import activity_table  # noqa: E402
from ccf.engine.run import one_snapshot  # noqa: E402
from ccf.engine.sql import ClickHouseError, column  # noqa: E402

# an activity type with text, dates, a boolean and quantities converted by their unit column
LEASED = shipped_library().resolve("scope3.cat13.downstream_leased_assets.asset_specific@1.0.0").activity
WIDE = "123456789012345678901234567890.12345678901234567891"  # 30 digits before the point, 20 after


def ccf(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


def test_the_client_is_clickhouse_connects_and_decimals_come_back_exact(clickhouse):
    """Decimal256 values of 30 digits and 20 places, negative, zero with its places, and NULL:
    read back as the same ``Decimal``s (Arrow's decimal256, never a float)."""
    from clickhouse_connect.driver.client import Client

    assert isinstance(clickhouse.client, Client)
    values = [WIDE, "-" + WIDE, "0.00000000000000000000", "-0.00000000000000000001"]
    select = exp.select(*[exp.Anonymous(this="toDecimal256", expressions=[exp.Literal.string(v), exp.Literal.number(20)])
                          for v in values], exp.Cast(this=exp.Null(), to=exp.DataType.build("Nullable(Decimal(76, 20))",
                                                                                            dialect="clickhouse")))
    (row,) = clickhouse.rows(select)
    assert all(type(v) is Decimal for v in row[:-1]) and row[-1] is None
    assert [format(v, "f") for v in row[:-1]] == values  # every digit, the scale kept


def _leased_rows(tmp_path: Path, dataset: str, conn, cells: list[dict]) -> int:
    load_csv(conn, dataset, LEASED, write_rows(tmp_path / "leased.csv", LEASED, cells))
    return len(cells)


def _base(i: int, **cells: str) -> dict:
    return {"activity_id": f"A{i}", "entity": "ACME", "period_start": "2024-01-01", "period_end": "2024-12-31",
            "relationship": "lessor", "asset": "office", "carrier": "electricity", "country": "GB", **cells}


def test_the_input_copy_keeps_every_digit_and_every_character(conn, clickhouse, tmp_path: Path):
    """A run's activity rows go from PostgreSQL's COPY to ClickHouse's insert as bytes: values of
    30 digits and 20 places, text with backslashes, quotes, a literal \\N, tabs, line breaks and
    non-ASCII letters, empty cells (NULL), booleans and dates arrive as PostgreSQL holds them,
    and the sizes the compile's proof reads are those of the values (``dsl.numeric.size``)."""
    dataset = unique()
    texts = ["back\\slash", "\\N", "tab\there", "line\nbreak", "quote'\"", "Zürich €", "\\", ""]
    cells = [_base(i, asset=t or "office", energy=(WIDE if i % 2 else "0.00000000000000000001"),
                   energy_unit=("MWh" if i % 3 else "kWh"), in_scope1_2=("true", "false", "")[i % 3],
                   volume=("" if i % 2 else "1.5"), volume_unit=("" if i % 2 else "m3"), period_start=f"2024-01-{i + 1:02d}")
             for i, t in enumerate(texts)]
    _leased_rows(tmp_path, dataset, conn, cells)
    names = ["dataset", "load_id", *[n for n, _ in csv_columns(LEASED)]]
    with one_snapshot(conn, rollback=True) as pg:
        params = {"dataset": dataset, "loads": dataset_loads(pg, dataset)}
        field_sizes, base_digits = copy_activity(pg, clickhouse, LEASED, params, RunInputs(DATABASE, 0, dataset))
        assert any(s.startswith("COPY (SELECT") and s.endswith("TO STDOUT") for s in pg.statements)
        stored = pg.rows(exp.select(*[column(n) for n in names]).from_(activity_table(LEASED))
                         .where(exp.EQ(this=column("dataset"), expression=exp.Literal.string(dataset))))
    assert clickhouse.statements[-1].endswith("FORMAT TabSeparated")
    copied = clickhouse.rows(exp.select(*[column(n) for n in names]).from_(RunInputs(DATABASE, 0, dataset).table(f"activity_{LEASED.id}")))
    assert len(stored) == len(texts) and sorted(copied) == sorted(stored)
    assert {r[names.index("asset")] for r in copied} == {t or "office" for t in texts}
    for name in ("energy", "volume", "mass", "data_quality"):
        values = [r[names.index(name)] for r in stored if r[names.index(name)] is not None]
        expected = (max((size(v).scale for v in values), default=0), max((size(v).digits for v in values), default=1))
        assert tuple(field_sizes[name]) == expected, name
    to_base = {c.unit: c.factor for c in next(f for f in LEASED.fields if f.name == "energy").conversions}
    assert base_digits["energy"] == size(Decimal(WIDE) * to_base["MWh"]).digits  # the widest in base units (J)


def test_a_date_clickhouse_cannot_hold_refuses_the_run(conn, clickhouse, tmp_path: Path):
    """ClickHouse's Date holds 1970-01-01 to 2149-06-06 and its text parser clamps a date beyond
    them without a word: such a row refuses the copy, naming the date, rather than move it."""
    dataset = unique()
    _leased_rows(tmp_path, dataset, conn, [_base(1, energy="1", energy_unit="kWh", period_start="1969-12-31")])
    with one_snapshot(conn, rollback=True) as pg:
        params = {"dataset": dataset, "loads": dataset_loads(pg, dataset)}
        with pytest.raises(ClickHouseError, match="period_start has the date 1969-12-31, which ClickHouse's Date cannot hold"):
            copy_activity(pg, clickhouse, LEASED, params, RunInputs(DATABASE, 0, dataset))


SECRET = "s3cr%40t-pw"  # as written in the URL; decoded: s3cr@t-pw


def test_a_server_that_does_not_answer_is_named_without_its_password(clickhouse, monkeypatch, caplog):
    """CCF_CLICKHOUSE_URL names a server that is not there: refused with the URL, its password
    masked (as written and decoded), in the message and the logs; the client held stays open."""
    monkeypatch.setenv("CCF_CLICKHOUSE_URL", f"http://ccf:{SECRET}@127.0.0.1:1/")
    with caplog.at_level(logging.DEBUG), pytest.raises(session.ClickHouseUnavailable) as refused:
        session.open_clickhouse()
    message = str(refused.value)
    assert message.startswith("ClickHouse at http://ccf:***@127.0.0.1:1/ cannot be reached")
    assert "s3cr" not in message + caplog.text
    monkeypatch.setenv("CCF_CLICKHOUSE_URL", f"ftp://ccf:{SECRET}@example.org/")
    with pytest.raises(session.ClickHouseUnavailable, match=r"'ftp://ccf:\*\*\*@example.org/', which names no ClickHouse"):
        session.open_clickhouse()
    assert clickhouse.rows(exp.select(exp.Literal.number(1))) == [(1,)]  # the held client was not closed


def test_db_status_names_clickhouse_with_the_password_masked(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("CCF_DATABASE_URL", raising=False)
    monkeypatch.setenv("CCF_HOME", str(tmp_path))
    monkeypatch.setenv("CCF_CLICKHOUSE_URL", f"https://ccf:{SECRET}@ch.example:8443/")
    code, out, _ = ccf("db", "status", "--json")
    assert code == 0 and json.loads(out)["clickhouse"] == "https://ccf:***@ch.example:8443/"
    code, text, _ = ccf("db", "status")
    assert code == 0 and "clickhouse: https://ccf:***@ch.example:8443/" in text and "s3cr" not in out + text
    monkeypatch.delenv("CCF_CLICKHOUSE_URL")
    monkeypatch.setenv("CCF_ENGINE", "clickhouse")
    monkeypatch.delenv("CCF_CLICKHOUSE_DIR", raising=False)
    assert json.loads(ccf("db", "status", "--json")[1])["clickhouse"] == f"chdb in-process, folder {tmp_path / 'clickhouse'}"


def test_a_chdb_url_names_the_folder_of_chdb(clickhouse, monkeypatch):
    """``chdb:///folder`` is chdb in-process on that folder: the client held on it is the one."""
    import os

    monkeypatch.setenv("CCF_CLICKHOUSE_URL", "chdb://" + os.environ["CCF_CLICKHOUSE_DIR"])
    assert session.open_clickhouse() is clickhouse
    monkeypatch.setenv("CCF_CLICKHOUSE_URL", "chdb://memory")
    with pytest.raises(session.ClickHouseUnavailable, match="chdb's data need a folder"):
        session.open_clickhouse()


def test_the_command_line_tells_an_unreachable_server_in_one_line(db_url, tmp_path: Path):
    """``ccf run --engine clickhouse`` with a server that does not answer: exit 1, one line of
    ccf's, the password masked; nothing of clickhouse-connect's own logging, no traceback."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CCF_DATABASE_URL": db_url, "CCF_CLICKHOUSE_URL": f"http://ccf:{SECRET}@127.0.0.1:1/",
           "CCF_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", "import sys; from ccf.engine.cli import main; sys.exit(main(sys.argv[1:]))",
                           "run", "--engine", "clickhouse", "--dataset", "none", "scope1.stationary_combustion"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ClickHouse at http://ccf:***@127.0.0.1:1/ cannot be reached") and "s3cr" not in line
