"""`ccf compile ID --bind run_id=…,dataset=…`: the script psql runs as is recomputes the run's
rows (tests/engine: the run's own statements, bound to literals in the tree) and leaves nothing."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest
from sqlglot import exp

from ccf.engine.cli import main
from ccf.engine.sql import column, literal, param, render, table, with_values

PSQL = shutil.which("psql")
def _psql(url: str, *args: str) -> list[list[str]]:
    done = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", *args, url],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return list(csv.reader(io.StringIO(done.stdout)))


def _block(rows: list[list[str]], header: list[str]) -> list[list[str]]:
    """The rows psql printed under one header (a statement's RETURNING), up to the next header."""
    start = rows.index(header) + 1
    end = next((i for i in range(start, len(rows)) if len(rows[i]) != len(header) or rows[i] == header), len(rows))
    return rows[start:end]


def _stored(url: str, run_id: int, methodology: str, columns: list[str]) -> list[list[str]]:
    """The run's stored result rows (ccf.result_row), these columns."""
    query = with_values(
        exp.select(*[column(c) for c in columns]).from_(table("result_row"))
        .where(exp.and_(exp.EQ(this=column("run_id"), expression=param("run_id")),
                        exp.EQ(this=column("methodology_id"), expression=param("mid")))),
        {"run_id": run_id, "mid": methodology})
    return _psql(url, "-c", render(query, pretty=False))


@pytest.mark.skipif(PSQL is None, reason="no psql client on this machine")
@pytest.mark.parametrize("methodology", ["scope1.stationary_combustion", "scope2.electricity.market_based"])
def test_bound_sql_run_by_psql_gives_the_runs_rows_and_leaves_nothing(sample_company, methodology, monkeypatch,
                                                                       capsys, tmp_path) -> None:
    monkeypatch.setenv("CCF_DATABASE_URL", sample_company.url)
    run_id = sample_company.run_id
    assert main(["compile", methodology, "--bind", f"run_id={run_id},dataset={sample_company.DEMO}"]) == 0
    script = capsys.readouterr().out
    assert f"as run {run_id} recorded them" in script and "WRITES" in script and script.rstrip().endswith("ROLLBACK;")
    assert "%(" not in script  # every parameter is bound
    path = tmp_path / "bound.sql"
    path.write_text(script, "utf-8")

    printed = _psql(sample_company.url, "-f", str(path))
    assert printed[:2] == [["make_result_partitions"], ["0"]]  # the run has its three partitions
    written = printed[2]  # then the results statement's RETURNING: every column it writes
    stored = _stored(sample_company.url, run_id, methodology, written)
    header, stored_rows = stored[0], stored[1:]
    assert header == written and len(stored_rows) > 5
    assert sorted(_block(printed, written)) == sorted(stored_rows)
    assert printed[-2][:4] == ["rows_in", "rows_result", "result_rows", "rows_rejected"]
    assert _stored(sample_company.url, run_id, methodology, written)[1:] == stored_rows  # rolled back: nothing added


def _partitions_of(url: str, run_id: int) -> list[list[str]]:
    return _psql(url, "-c", f"SELECT relname FROM pg_class WHERE relnamespace = 'ccf_run'::regnamespace"
                            f" AND relname LIKE '%\\_{run_id}' ORDER BY 1")[1:]


@pytest.mark.skipif(PSQL is None, reason="no psql client on this machine")
def test_bound_sql_of_a_run_with_no_partition_makes_them_and_drops_them(sample_company, monkeypatch, capsys,
                                                                         tmp_path) -> None:
    """A run id no run has (nor a partition: a run converted by migration 0027 may lack some):
    the script makes the three partitions in its transaction, computes the rows a run of the
    dataset would, here the demo run's, and its ROLLBACK leaves no table behind."""
    monkeypatch.setenv("CCF_DATABASE_URL", sample_company.url)
    methodology, run_id = "scope1.stationary_combustion", 999_999
    assert _partitions_of(sample_company.url, run_id) == []
    assert main(["compile", methodology, "--bind", f"run_id={run_id},dataset={sample_company.DEMO}"]) == 0
    script = capsys.readouterr().out
    assert "as a run of dataset demo would read them now" in script
    path = tmp_path / "bound.sql"
    path.write_text(script, "utf-8")

    printed = _psql(sample_company.url, "-f", str(path))
    assert printed[:2] == [["make_result_partitions"], ["3"]]
    written = printed[2]
    stored = _stored(sample_company.url, sample_company.run_id, methodology, written)[1:]
    at = written.index("run_id")
    again = [row[:at] + [str(sample_company.run_id)] + row[at + 1:] for row in _block(printed, written)]
    assert len(stored) > 5 and sorted(again) == sorted(stored)
    assert _partitions_of(sample_company.url, run_id) == []  # the ROLLBACK dropped what it made


def test_bind_names_are_checked_and_values_read_from_the_database(sample_company, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CCF_DATABASE_URL", sample_company.url)
    ref = "scope1.stationary_combustion"
    assert main(["compile", ref, "--bind", "dataset=demo,colour=red"]) == 1
    err = capsys.readouterr().err
    assert "unknown bind name(s) colour; missing run_id" in err and "takes run_id, dataset (required)" in err
    assert "factor_set_id__epa_per_mmbtu" in err and "Traceback" not in err
    assert main(["compile", ref, "--bind", "run_id=1"]) == 1
    assert "missing dataset" in capsys.readouterr().err
    assert main(["compile", ref, "--bind", "run_id=x,dataset=demo"]) == 1
    assert "run_id must be a whole number" in capsys.readouterr().err
    assert main(["compile", ref, "--bind", "run_id=1,dataset=dmeo"]) == 1
    assert "did you mean 'demo'" in capsys.readouterr().err
    # another run id: the dataset's loads and the editions a run would read now; a load it lacks is refused
    assert main(["compile", ref, "--bind", "run_id=999999", "--bind", "dataset=demo,loads=1", "--json"]) == 0
    out = capsys.readouterr().out
    assert "as a run of dataset demo would read them now" in out and "loads = {1}" in out
    assert main(["compile", ref, "--bind", "run_id=999999,dataset=demo,loads=987654"]) == 1
    assert "dataset demo holds no load 987654" in capsys.readouterr().err


def test_values_become_literals_that_read_back_as_the_same_values(db) -> None:
    values = {"t": "O'Brien \\ 100% ; DROP TABLE x; --", "n": -12, "z": None, "a": [3, 4]}
    query = exp.select(param("t"), param("n"), param("z"),
                       exp.Cast(this=param("a"), to=exp.DataType.build("BIGINT[]")))
    text = render(with_values(query, values))
    assert "%(" not in text
    assert db.execute(text).fetchone() == (values["t"], -12, None, [3, 4])
    assert render(literal([]), pretty=False) == "ARRAY[]"
    with pytest.raises(ValueError, match="no value for parameter"):
        with_values(query, {"t": "x"})
