"""The command line, end to end, in-process against a real PostgreSQL."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import shipped_library

from ccf.engine.cli import COMMAND_MODULES, build_parser, main

ROOT = Path(__file__).resolve().parent.parent
SCOPE2 = ROOT / "methodologies" / "scope2.electricity.location_based" / "1.0.0.yaml"


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url


def _broken(tmp_path: Path) -> Path:
    """The shipped Scope 2 file with a syntax error, an unknown name and a unit mismatch."""
    text = SCOPE2.read_text("utf-8")
    text = text.replace('where: country == "GB"', 'where: contry == "GB"')
    text = text.replace("where: quantity == 0", "where: quantity = 0")
    text = text.replace("co2: quantity * uk_grid.co2", "co2: quantity * uk_grid.co2 + 5 kg")
    path = tmp_path / "broken.yaml"
    path.write_text(text, "utf-8")
    return path


def test_check_reports_positioned_numbered_diagnostics_and_exits_1(tmp_path, capsys):
    path = _broken(tmp_path)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "error[E303] (1 of 3): '=' is not an operator here" in err
    assert f"--> {path}:" in err
    assert "help: use '==' to compare" in err
    assert "error[E401] (2 of 3): unknown name 'contry'" in err
    assert "help: did you mean 'country'?" in err
    assert "error[E505] (3 of 3): cannot add emissions (a mass of CO2e) and mass (kg)" in err
    assert "note: this is mass (kg)" in err
    assert "Traceback" not in err
    # the caret sits under the offending text
    lines = err.splitlines()
    i = lines.index(next(l for l in lines if "where: contry" in l))
    assert lines[i + 1].index("^") == lines[i].index("contry")


def test_check_of_the_shipped_library_is_clean(capsys):
    assert main(["check"]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_check_missing_path_is_a_user_error(capsys):
    assert main(["check", "/no/such/file.yaml"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_compile_prints_readable_sql(capsys):
    assert main(["compile", "scope2.electricity.location_based@1.0.0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- ccf compiled SQL for scope2.electricity.location_based@1.0.0")
    assert "INSERT INTO ccf.result" in out
    assert "/* rule uk_grid */" in out


def test_compile_unknown_reference_suggests(capsys):
    assert main(["compile", "scope2.electricity.location_basd@1.0.0"]) == 1
    assert "did you mean" in capsys.readouterr().err


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in rows}
    assert by_id["scope2.electricity.location_based"]["category"] is None
    assert by_id["scope3.cat6.business_travel"]["category"] == 6
    assert {r["status"] for r in rows} <= {"published", "draft"}  # drafts are listed, never run by default
    assert all(any(o["status"] == "published" for o in rows if o["id"] == r["id"]) for r in rows)
    assert set(rows[0]) >= {"id", "version", "status", "scope", "category", "method"}


def test_schema_matches_the_shipped_copy(capsys):
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    shipped = json.loads((ROOT / "docs" / "schema" / "methodology.schema.json").read_text("utf-8"))
    assert printed == shipped, "docs/schema is stale: ccf schema > docs/schema/methodology.schema.json"
    assert main(["schema", "activity-type"]) == 0
    printed = json.loads(capsys.readouterr().out)
    shipped = json.loads((ROOT / "docs" / "schema" / "activity-type.schema.json").read_text("utf-8"))
    assert printed == shipped
    assert main(["schema", "factor-set"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((ROOT / "docs" / "schema" / "factor-set.schema.json").read_text("utf-8"))
    assert main(["schema", "test-case"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((ROOT / "docs" / "schema" / "test-case.schema.json").read_text("utf-8"))


def test_shipped_methodologies_validate_against_the_json_schema():
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "docs" / "schema" / "methodology.schema.json").read_text("utf-8"))
    for path in sorted((ROOT / "methodologies").glob("*/*.yaml")):
        if path.parent.name in ("activity_types", "factor_sets"):
            continue
        jsonschema.validate(yaml.safe_load(path.read_text("utf-8")), schema)
    declaration = json.loads((ROOT / "docs" / "schema" / "factor-set.schema.json").read_text("utf-8"))
    for path in sorted((ROOT / "methodologies" / "factor_sets").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text("utf-8")), declaration)
    bad = yaml.safe_load(SCOPE2.read_text("utf-8")) | {"factorset": "x"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_usage_errors_exit_2():
    with pytest.raises(SystemExit) as exc:
        main(["run"])  # --dataset is required
    assert exc.value.code == 2


def test_demo_json_on_a_real_database(cli_demo):
    """``ccf demo --json`` on an empty database, and again after ``ccf demo`` (tests/conftest.py)."""
    out = cli_demo.first
    run = out["run"]
    assert {
        "scope1.stationary_combustion", "scope2.electricity.location_based", "scope3.cat6.business_travel",
    } <= {m["methodology"] for m in run["methodologies"]}
    assert all(m["reconciliation"]["balanced"] for m in run["methodologies"])
    assert all(isinstance(m["co2e_kg"], str) for m in run["methodologies"])
    assert sum(l["rows_rejected"] for l in out["loads"]) == 5
    # the demo dataset is created with the Northwind sample's reporting year
    assert {l["period"] for l in out["loads"]} == {"2024-01-01..2024-12-31"}
    # a later demo reuses the loaded data and computes the same numbers
    again = cli_demo.again
    assert again["loads"] == []
    assert again["run"]["total_co2e_kg"] == run["total_co2e_kg"]


def test_load_and_run_commands(cli_db, tmp_path, capsys):
    csv = tmp_path / "e.csv"
    csv.write_text(
        "activity_id,entity,period_start,period_end,quantity,quantity_unit,country\n"
        "e1,ACME,2024-01-01,2024-12-31,1000,kWh,GB\n"
        "e2,ACME,2024-01-01,2024-12-31,ten,kWh,GB\n",
        "utf-8",
    )
    assert main(["load", "--dataset", "acme", "--type", "electricity", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "2 rows read, 1 loaded, 1 rejected" in out
    assert main(["run", "--dataset", "acme", "scope2.electricity.location_based@1.0.0", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["total_co2e_kg"] == "207.05"
    assert summary["by_scope_category"] == {"scope2": "207.05"}
    assert summary["methodologies"][0]["reconciliation"]["rows_rejected"] == 1
    assert main(["load", "--dataset", "acme", "--type", "electrcity", str(csv)]) == 1
    assert "did you mean 'electricity'" in capsys.readouterr().err


def test_run_without_version_takes_the_latest_published(cli_db, tmp_path, capsys):
    csv = tmp_path / "e.csv"
    csv.write_text("activity_id,entity,period_start,period_end,quantity,quantity_unit,country\ne1,A,2025-01-01,2025-12-31,1000,kWh,GB\n", "utf-8")
    assert main(["load", "--dataset", "acme", "--type", "electricity", str(csv)]) == 0
    assert main(["run", "--dataset", "acme", "scope2.electricity.location_based", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    published = [m for m in shipped_library().versions()
                 if m.id == "scope2.electricity.location_based" and m.status == "published"]
    latest = max(published, key=lambda m: tuple(int(p) for p in m.version.split(".")))
    assert summary["methodologies"][0]["version"] == latest.version
    # the latest version reports DESNZ 2025's published total, 0.177 kg CO2e/kWh (its gases
    # sum to 0.17701: tests/methodologies/test_published_totals_shipped.py)
    assert Decimal(summary["total_co2e_kg"]) == 1000 * Decimal("0.177")


def test_version_prints_the_package_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"ccf {version('ccf')}\n"


def test_a_command_line_imports_only_the_module_of_its_command():
    """Each ``ccf`` process used to import every module that registers commands (about 1.2 s of
    CPU); now only its command's (engine/cli.py, COMMAND_MODULES). In a new process, since this
    one has imported them all."""
    probe = ("import sys\nfrom ccf.engine.cli import COMMAND_MODULES, main\n"
             "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write(repr(sorted(m for m in COMMAND_MODULES if m in sys.modules)))\n")

    def imported(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
        return done.stderr.splitlines()[-1]

    assert imported("--version") == imported("schema") == "[]"
    assert imported("test", "--help") == "['ccf.engine.cases.commands']"
    assert imported("--help") == imported("no-such-command") == repr(sorted(COMMAND_MODULES))


def test_the_commands_of_each_module_are_those_the_table_names():
    """COMMAND_MODULES is what each module registers, and the parser of one command is that
    command's parser in the full one (the same options)."""
    full = _commands(build_parser())
    for module, names in COMMAND_MODULES.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).add_parser(sub)
        assert tuple(sub.choices) == names
        for name in names:
            assert _commands(build_parser(name))[name].format_help() == full[name].format_help()
    assert set(full) >= {n for names in COMMAND_MODULES.values() for n in names}


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices
