"""The lifecycle commands, end to end on a real PostgreSQL: datasets, runs, rejected and
unmatched rows, explain of a rejected row, the database commands and the convention's aliases.
Each asserts the output and the exit code (0 done, 1 the user's input, with a message)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from ccf.engine.cli import main

HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country\n"
ROWS = ("e1,ACME,2024-01-01,2024-12-31,1000,kWh,GB\n"   # line 2: a result
        "e2,ACME,2024-01-01,2024-12-31,ten,kWh,GB\n"    # line 3: rejected (not a number)
        "e3,ACME,2024-01-01,2024-12-31,500,kWh,FR\n")   # line 4: unmatched (no rule for FR)
LOCATION = "scope2.electricity.location_based@1.0.0"


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url


def _csv(tmp_path: Path, text: str = HEADER + ROWS, name: str = "e.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _loaded_and_run(tmp_path, capsys) -> int:
    """Dataset acme with one load (1 result, 1 rejected, 1 unmatched row) and one run: its id."""
    assert _run(capsys, "load", "--dataset", "acme", "--type", "electricity", str(_csv(tmp_path)))[0] == 0
    code, out, _ = _run(capsys, "run", "--dataset", "acme", LOCATION, "--json")
    assert code == 0
    return json.loads(out)["run_id"]


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def test_datasets_list_and_show(cli_db, tmp_path, capsys):
    run_id = _loaded_and_run(tmp_path, capsys)
    code, out, _ = _run(capsys, "datasets", "list", "--json")
    assert code == 0
    (d,) = json.loads(out)
    assert (d["dataset"], d["loads"], d["rows_loaded"], d["rows_rejected"], d["runs"]) == ("acme", 1, 2, 1, 1)
    assert d["activity_types"] == ["electricity"]
    code, out, _ = _run(capsys, "datasets", "show", "acme")
    assert code == 0
    assert "acme: 1 load(s), 2 rows loaded, 1 rejected, 1 run(s)" in out
    assert "e.csv: 3 read, 2 loaded, 1 rejected" in out
    assert f"run {run_id}: dataset acme" in out
    code, _, err = _run(capsys, "datasets", "show", "acmee")
    assert code == 1 and "no dataset 'acmee'; did you mean 'acme'?" in err


def test_dataset_delete_names_the_runs_over_it_and_deletes_them_only_with_cascade(cli_db, tmp_path, capsys):
    run_id = _loaded_and_run(tmp_path, capsys)
    code, _, err = _run(capsys, "datasets", "delete", "acme")
    assert code == 1
    assert f"dataset 'acme' has 1 run(s) over it, which read its loads: run(s) {run_id}. Nothing was deleted." in err
    assert _count(cli_db, "SELECT count(*) FROM ccf.activity_electricity") == 2
    assert _count(cli_db, "SELECT count(*) FROM ccf.run") == 1
    code, out, _ = _run(capsys, "datasets", "delete", "acme", "--cascade", "--json")
    assert code == 0
    deleted = json.loads(out)
    assert deleted["deleted"] == "dataset acme and its 1 run(s)"
    assert deleted["rows"]["activity_electricity"] == 2 and deleted["rows"]["rejected"] == 1
    for table in ("activity_electricity", "rejected", "activity_load", "dataset", "run", "run_methodology", "result", "unmatched"):
        assert _count(cli_db, f"SELECT count(*) FROM ccf.{table}") == 0, table
    assert _run(capsys, "datasets", "delete", "acme")[0] == 1  # gone: an unknown dataset


def test_dataset_without_runs_is_deleted_without_a_flag(cli_db, tmp_path, capsys):
    assert _run(capsys, "load", "--dataset", "acme", "--type", "electricity", str(_csv(tmp_path)))[0] == 0
    code, out, _ = _run(capsys, "datasets", "delete", "acme")
    assert code == 0 and out.startswith("deleted dataset acme: 2 from activity_electricity, 1 from rejected")
    code, out, _ = _run(capsys, "datasets", "list")
    assert "no dataset yet" in out


def test_runs_list_show_delete(cli_db, tmp_path, capsys):
    run_id = _loaded_and_run(tmp_path, capsys)
    code, out, _ = _run(capsys, "runs", "list", "--dataset", "acme", "--json")
    (r,) = json.loads(out)
    assert code == 0 and r["run_id"] == run_id and r["methodologies"] == [LOCATION] and r["total_co2e_kg"] == "207.05"
    code, out, _ = _run(capsys, "runs", "show", str(run_id))
    assert code == 0
    assert f"{LOCATION} (electricity, desnz-2024, GWP AR5): 207.05 kg CO2e; 2 rows = 1 results + 0 excluded + 1 unmatched; 1 rejected at load" in out
    code, out, _ = _run(capsys, "runs", "delete", str(run_id))
    assert code == 0 and f"deleted run {run_id}: 1 from result_row, 1 from unmatched, 1 from run_methodology, 1 from run" in out  # one row, its gases as columns
    assert _count(cli_db, "SELECT count(*) FROM ccf.result") == 0
    code, _, err = _run(capsys, "runs", "show", str(run_id))
    assert code == 1 and f"there is no run {run_id}: no run has been made yet" in err
    assert _count(cli_db, "SELECT count(*) FROM ccf.activity_electricity") == 2  # the dataset stays


def test_rejects_and_unmatched_rows_with_their_line_and_reason(cli_db, tmp_path, capsys):
    run_id = _loaded_and_run(tmp_path, capsys)
    code, out, _ = _run(capsys, "rejects", "--dataset", "acme")
    assert code == 0
    assert "e.csv:3 (load 1, activity e2): quantity 'ten' is not a number" in out
    assert "quantity='ten'" in out
    code, out, _ = _run(capsys, "rejects", "1", "--json")
    (row,) = json.loads(out)
    assert (row["line_no"], row["activity_id"], row["record"]["quantity"]) == (3, "e2", "ten")
    code, out, _ = _run(capsys, "unmatched", str(run_id), "--json")
    (row,) = json.loads(out)
    assert code == 0
    assert (row["activity_id"], row["line_no"], row["load_id"], row["reason_code"]) == ("e3", 4, 1, "no_rule")
    assert row["source_file"].endswith("e.csv")
    code, _, err = _run(capsys, "rejects", "7")
    assert code == 1 and "there is no load 7" in err
    code, _, err = _run(capsys, "unmatched", str(run_id), "--methodology", "nope")
    assert code == 1 and f"run {run_id} has no methodology 'nope'" in err


def test_unmatched_reason_names_the_keys_a_lookup_tried(cli_db, capsys):
    from ccf.dsl import resources

    fuels = resources.sample_company() / "stationary_fuel.csv"  # line 13: hydrogen, which DESNZ 2025 has no factor for
    assert _run(capsys, "load", "--dataset", "fuel", "--type", "stationary_fuel", str(fuels))[0] == 0
    # 1.1.0 pins DESNZ 2025; the sample data are for 2024: computed with it as a recorded fallback
    code, out, _ = _run(capsys, "run", "--dataset", "fuel", "scope1.stationary_combustion@1.1.0", "--other-edition", "--json")
    assert code == 0
    code, out, _ = _run(capsys, "unmatched", str(json.loads(out)["run_id"]))
    assert code == 0
    assert ("stationary_fuel.csv:13 (load 1) scope1.stationary_combustion activity SF-DE-H2-PILOT-2024, rule by_mass: "
            "[no_factor] no emission factor found for lookup 'per_tonne' in desnz-2025 per t (level1 = 'Fuels', "
            "level3 = 'Hydrogen')") in out


def test_explain_of_a_rejected_row_shows_its_rejection(cli_db, tmp_path, capsys):
    run_id = _loaded_and_run(tmp_path, capsys)
    code, out, _ = _run(capsys, "explain", str(run_id), "e2")
    assert code == 0
    assert "rejected when loaded (load 1, " in out and "e.csv line 3): quantity 'ten' is not a number" in out
    code, out, _ = _run(capsys, "explain", str(run_id), "e2", "--json")
    assert json.loads(out)["rejected"][0]["line_no"] == 3
    code, _, err = _run(capsys, "explain", str(run_id), "e9")
    assert code == 1 and "activity 'e9' is not in dataset 'acme'" in err


def test_db_commands_with_an_external_database_mask_its_password(monkeypatch, capsys):
    secret = "s3cr%2Fet"
    monkeypatch.setenv("CCF_DATABASE_URL", f"postgresql://alice:{secret}@db.example:5432/ghg")
    code, out, _ = _run(capsys, "db", "url")
    assert code == 0 and out.strip() == "postgresql://alice:***@db.example:5432/ghg"
    code, out, _ = _run(capsys, "db", "status", "--json")
    assert code == 0 and json.loads(out) == {"kind": "external", "url": "postgresql://alice:***@db.example:5432/ghg",
                                             "source": "CCF_DATABASE_URL"}
    code, _, err = _run(capsys, "db", "stop")
    assert code == 1 and "ccf did not start that server and does not stop it" in err
    assert secret not in out + err and "s3cr/et" not in out + err


def test_db_status_and_stop_of_an_embedded_server_that_is_not_running(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CCF_DATABASE_URL", raising=False)
    monkeypatch.setenv("CCF_HOME", str(tmp_path))
    code, out, _ = _run(capsys, "db", "status")
    assert code == 0 and f"embedded PostgreSQL in {tmp_path / 'pgdata'}: not created yet" in out
    code, out, _ = _run(capsys, "db", "stop")
    assert code == 0 and "was not running" in out
    assert not (tmp_path / "pgdata").exists()  # status and stop start nothing


def test_run_without_methodology_runs_those_with_rows_and_names_the_skipped(cli_db, tmp_path, capsys):
    assert _run(capsys, "load", "--dataset", "acme", "--type", "electricity", str(_csv(tmp_path)))[0] == 0
    code, out, _ = _run(capsys, "run", "--dataset", "acme", "--json")
    assert code == 0
    summary = json.loads(out)
    ran = {m["methodology"] for m in summary["methodologies"]}
    assert "scope2.electricity.location_based" in ran and "scope3.cat6.business_travel" not in ran
    skipped = {s["methodology"]: s["activity_type"] for s in summary["skipped"]}
    (travel,) = [ref for ref in skipped if ref.startswith("scope3.cat6.business_travel@")]  # its latest published version
    assert skipped[travel] == "business_travel"
    assert not ran & {s.split("@")[0] for s in skipped}
    code, out, _ = _run(capsys, "run", "--dataset", "acme")
    assert code == 0 and out.startswith("skipped ") and f"{travel} (business_travel)" in out


def test_unknown_dataset_and_all_rejected_load_exit_1(cli_db, tmp_path, capsys):
    assert _run(capsys, "load", "--dataset", "acme", "--type", "electricity", str(_csv(tmp_path)))[0] == 0
    for argv in (["run", "--dataset", "acne"], ["run", "--dataset", "acne", LOCATION], ["runs", "list", "--dataset", "acne"],
                 ["rejects", "--dataset", "acne"]):
        code, _, err = _run(capsys, *argv)
        assert code == 1 and "no dataset 'acne'; did you mean 'acme'?" in err, argv
    bad = _csv(tmp_path, HEADER + "b1,ACME,2024-01-01,2024-12-31,x,kWh,GB\n", "bad.csv")
    code, _, err = _run(capsys, "load", "--dataset", "fresh", "--type", "electricity", str(bad))
    assert code == 1 and "rejected" in err
    code, out, _ = _run(capsys, "datasets", "list", "--json")
    assert [d["dataset"] for d in json.loads(out)] == ["acme"]  # nothing of the failed load was committed


# YAML that reads (so its status can be), and a methodology that does not check
BROKEN = "methodology: {id}\nversion: {version}\nstatus: {status}\ntitle: broken\nscope: nine\n"


def _library_with(tmp_path: Path, monkeypatch, mid: str, version: str, status: str) -> Path:
    """A copy of the shipped library with one broken file added, as CCF_METHODOLOGIES: of its
    methodologies the electricity ones (what the tests load and run) and the broken file's own."""
    from helpers import shipped_library_copy

    root = shipped_library_copy(tmp_path / "library", ("scope2.electricity.", mid))
    broken = root / mid / f"{version}.yaml"
    broken.write_text(BROKEN.format(id=mid, version=version, status=status), "utf-8")
    monkeypatch.setenv("CCF_METHODOLOGIES", str(root))
    return broken


def test_a_broken_draft_warns_commands_that_do_not_use_it_and_stops_those_that_do(cli_db, tmp_path, monkeypatch, capsys, caplog):
    broken = _library_with(tmp_path, monkeypatch, "scope3.cat6.business_travel", "9.0.0", "draft")
    code, out, err = _run(capsys, "load", "--dataset", "acme", "--type", "electricity", str(_csv(tmp_path)))
    assert code == 0 and "2 loaded" in out and err == ""
    assert f"1 file(s) of the methodology library have problems and were left out" in caplog.text
    assert str(broken) in caplog.text
    assert _run(capsys, "run", "--dataset", "acme")[0] == 0  # a draft is not what a run takes by default
    assert _run(capsys, "compile", LOCATION)[0] == 0
    code, _, err = _run(capsys, "run", "--dataset", "acme", "scope3.cat6.business_travel@9.0.0")
    assert code == 1 and str(broken) in err and "error[" in err


def test_a_broken_file_that_may_be_the_latest_published_stops_a_run_of_every_methodology(cli_db, tmp_path, monkeypatch, capsys):
    broken = _library_with(tmp_path, monkeypatch, "scope3.cat6.business_travel", "9.0.0", "published")
    assert _run(capsys, "load", "--dataset", "acme", "--type", "electricity", str(_csv(tmp_path)))[0] == 0
    code, _, err = _run(capsys, "run", "--dataset", "acme")
    assert code == 1 and str(broken) in err
    assert _run(capsys, "run", "--dataset", "acme", LOCATION)[0] == 0  # a run that does not use it


def test_old_spellings_are_deprecated_aliases(cli_db, capsys):
    from ccf.dsl import resources

    entities = resources.sample_company() / "entities" / "northwind-2024.csv"
    code, out, err = _run(capsys, "entities", "load", str(entities), "--set", "nw")
    assert code == 0 and "entity set nw loaded" in out
    assert "warning: '--set' is deprecated and will be removed; use '--id'" in err
    code, out, err = _run(capsys, "entities", "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["nw"] and err == ""
    electricity = resources.sample_company() / "electricity.csv"
    assert _run(capsys, "load", "--dataset", "nw", "--type", "electricity", str(electricity))[0] == 0
    code, out, _ = _run(capsys, "run", "--dataset", "nw", LOCATION, "--json")
    run_id = str(json.loads(out)["run_id"])
    argv = ["report", run_id, "--approach", "operational-control", "--entities", "nw"]
    code, as_json, _ = _run(capsys, *argv, "--json")
    assert code == 0 and json.loads(as_json) == json.loads(_run(capsys, *argv, "--format", "json")[1])
