"""A project folder (``ccf init``, docs/projects.md), end to end through the command line on a real
PostgreSQL: the scaffold's whole path (check, load, run, report, explain), finding the project
from a subfolder, the precedence of --target, the environment and ccf.yaml, ids that collide with
the shipped library, ``ccf lock`` into the project, and the refusal to overwrite a folder."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml

from ccf.dsl import resources
from ccf.engine.cli import main
from ccf.engine.options import DEFAULT_HOME, resolve

SAMPLE = "acme.scope2.electricity.uk_grid"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture()
def project(tmp_path, monkeypatch, capsys) -> Path:
    """``ccf init acme`` in an empty folder, and the current folder the project's: no CCF_*
    variable of the test run's environment in the way."""
    for name in ("CCF_DATABASE_URL", "CCF_TARGET", "CCF_METHODOLOGIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "init", "acme")
    assert (code, err) == (0, ""), err
    assert "ccf.yaml" in out
    monkeypatch.chdir(tmp_path / "acme")
    return tmp_path / "acme"


def _add_target(project: Path, name: str, variable: str) -> None:
    text = (project / "ccf.yaml").read_text("utf-8")
    (project / "ccf.yaml").write_text(text.replace("targets:\n", f"targets:\n  {name}:\n    url_env: {variable}\n", 1), "utf-8")


def _sample_case(project: Path) -> dict:
    (case,) = yaml.safe_load((project / "methodologies" / SAMPLE / "tests" / "uk_sites.yaml").read_text("utf-8"))["cases"]
    return case


def test_init_writes_a_project_that_checks_runs_and_reports(project, db_url, monkeypatch, capsys):
    files = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert files == {"ccf.yaml", "README.md", ".gitignore", "data/electricity-2024.csv", "entity_sets/acme-2024.csv",
                     "factor_sets/README.md", f"methodologies/{SAMPLE}/1.0.0.yaml", f"methodologies/{SAMPLE}/tests/uk_sites.yaml"}
    assert ".ccf/" in (project / ".gitignore").read_text("utf-8").splitlines()
    code, out, _ = _run(capsys, "schema", "project")
    jsonschema.validate(yaml.safe_load((project / "ccf.yaml").read_text("utf-8")), json.loads(out))

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)  # the environment overrides the project's embedded target
    code, out, err = _run(capsys, "check")
    assert code == 0, err
    code, out, _ = _run(capsys, "list", "--json")
    (mine,) = [m for m in json.loads(out) if m["id"] == SAMPLE]
    assert (mine["version"], mine["status"], mine["activity_type"]) == ("1.0.0", "draft", "electricity")
    assert len(json.loads(out)) > 30  # beside the shipped library, not instead of it

    assert _run(capsys, "entities", "load", "acme-2024")[0] == 0  # a name from the entity_sets folder
    code, out, err = _run(capsys, "load", "--dataset", "acme-2024", "--type", "electricity", "--period", "2024",
                          "--entities", "acme-2024", "data/electricity-2024.csv", "--json")
    assert code == 0, err
    assert (json.loads(out)[0]["rows_loaded"], json.loads(out)[0]["rows_rejected"]) == (4, 0)
    code, out, err = _run(capsys, "run", "--dataset", "acme-2024", f"{SAMPLE}@1.0.0", "--json")
    assert code == 0, err
    run = json.loads(out)
    (m,) = run["methodologies"]
    # the scaffold's test case was worked by hand from the DESNZ file: the engine agrees
    assert Decimal(m["co2e_kg"]) == Decimal(_sample_case(project)["expect"]["total"]["co2e"]) == Decimal("19928.5625")
    r = m["reconciliation"]
    assert (r["rows_result"], r["rows_excluded"], r["rows_unmatched"], r["balanced"]) == (2, 1, 1, True)

    code, out, err = _run(capsys, "report", str(run["run_id"]), "--approach", "operational-control",
                          "--entities", "acme-2024", "--json")
    assert code == 0, err
    assert json.loads(out)["totals"]["location-based"]["co2e_kg"] == "19928.5625"
    code, out, err = _run(capsys, "explain", str(run["run_id"]), "EL-PLANT-2024", "--json")
    assert code == 0, err
    assert "17443.9625" in out  # 84.25 MWh × 0.20705 kg CO2e per kWh


def test_commands_find_the_project_from_a_subfolder_and_not_outside_it(project, capsys, monkeypatch):
    monkeypatch.chdir(project / "methodologies" / SAMPLE / "tests")
    code, out, _ = _run(capsys, "list", "--json")
    assert code == 0 and SAMPLE in {m["id"] for m in json.loads(out)}
    code, out, _ = _run(capsys, "compile", f"{SAMPLE}@1.0.0")
    assert code == 0 and "uk_grid" in out
    monkeypatch.chdir(project.parent)
    code, out, _ = _run(capsys, "list", "--json")
    assert code == 0 and SAMPLE not in {m["id"] for m in json.loads(out)}
    code, _, err = _run(capsys, "compile", f"{SAMPLE}@1.0.0")
    assert code == 1 and "no methodology" in err


def test_a_target_named_by_flag_or_environment_and_the_environments_override(project, db_url, monkeypatch, capsys):
    _add_target(project, "other", "ACME_OTHER_URL")
    monkeypatch.setenv("ACME_OTHER_URL", db_url)
    monkeypatch.setenv("CCF_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # a server that is not there
    assert _run(capsys, "entities", "load", "entity_sets/acme-2024.csv", "--target", "other")[0] == 0
    # the flag beats CCF_DATABASE_URL: the entity set is in the other target's database
    code, out, err = _run(capsys, "entities", "list", "--json", "--target", "other")
    assert code == 0, err
    assert [s["name"] for s in json.loads(out)] == ["acme-2024"]
    code, out, _ = _run(capsys, "db", "status", "--json", "--target", "other")
    assert (code, json.loads(out)["source"]) == (0, "ACME_OTHER_URL (target other)")
    # CCF_DATABASE_URL beats ccf.yaml's default target (local, embedded)
    code, out, _ = _run(capsys, "db", "status", "--json")
    assert (code, json.loads(out)["kind"], json.loads(out)["source"]) == (0, "external", "CCF_DATABASE_URL")
    # CCF_TARGET names the target when no flag does; with CCF_DATABASE_URL as well it is ambiguous
    monkeypatch.setenv("CCF_TARGET", "other")
    code, _, err = _run(capsys, "entities", "list")
    assert code == 1 and "CCF_TARGET and CCF_DATABASE_URL" in err
    monkeypatch.delenv("CCF_DATABASE_URL")
    code, out, err = _run(capsys, "entities", "list", "--json")
    assert (code, [s["name"] for s in json.loads(out)]) == (0, ["acme-2024"]), err
    # an unknown target, and a target whose variable is not set
    code, _, err = _run(capsys, "entities", "list", "--target", "othr")
    assert code == 1 and "no target 'othr'" in err and "did you mean 'other'" in err
    monkeypatch.delenv("ACME_OTHER_URL")
    code, _, err = _run(capsys, "entities", "list")
    assert code == 1 and "ACME_OTHER_URL, which is not set" in err


def test_settings_precedence(tmp_path):
    """flag > environment > ccf.yaml > default, one setting at a time (no database needed)."""
    assert main(["init", str(tmp_path / "p")]) == 0
    _add_target(tmp_path / "p", "shared", "P_URL")
    inside, outside = tmp_path / "p" / "data", tmp_path
    local = (tmp_path / "p").resolve() / ".ccf"

    s = resolve(None, {}, outside)
    assert (s.project, s.target, s.database_url, s.home) == (None, None, None, DEFAULT_HOME)
    assert resolve(None, {"CCF_HOME": "/h", "CCF_DATABASE_URL": "u"}, outside).home == Path("/h")

    s = resolve(None, {}, inside)
    assert (s.project.name, s.target, s.database_url, s.home) == ("p", "local", None, local)
    s = resolve(None, {"CCF_HOME": "/h"}, inside)
    assert (s.target, s.home) == ("local", Path("/h"))  # the environment over ccf.yaml
    assert resolve("local", {"CCF_HOME": "/h"}, inside).home == local  # the flag over the environment
    s = resolve(None, {"CCF_DATABASE_URL": "u", "P_URL": "p"}, inside)
    assert (s.database_url, s.url_source) == ("u", "CCF_DATABASE_URL")
    s = resolve("shared", {"CCF_DATABASE_URL": "u", "P_URL": "p"}, inside)
    assert (s.target, s.database_url, s.url_source) == ("shared", "p", "P_URL (target shared)")
    s = resolve(None, {"CCF_TARGET": "shared", "P_URL": "p"}, inside)
    assert (s.target, s.database_url) == ("shared", "p")
    with pytest.raises(Exception, match="names a target of a project"):
        resolve("local", {}, outside)


def test_a_project_id_that_a_shipped_file_has_is_an_error_naming_both(project, capsys):
    shipped = resources.methodologies()
    mine = project / "methodologies" / "scope2.electricity.location_based" / "1.3.0.yaml"
    mine.parent.mkdir()
    shutil.copy(shipped / "scope2.electricity.location_based" / "1.3.0.yaml", mine)
    (project / "factor_sets" / "desnz.yaml").write_text((shipped / "factor_sets" / "desnz.yaml").read_text("utf-8"), "utf-8")
    code, _, err = _run(capsys, "check", "--offline")
    assert code == 1
    assert "E207" in err and "already the id of a shipped methodology" in err
    assert str(mine) in err and str(shipped / "scope2.electricity.location_based") in err
    assert "E603" in err and str(project / "factor_sets" / "desnz.yaml") in err and str(shipped / "factor_sets" / "desnz.yaml") in err
    # the shipped version is still the one the library has
    code, out, _ = _run(capsys, "list", "--json")
    assert code == 0 and {m["id"] for m in json.loads(out)} >= {"scope2.electricity.location_based", SAMPLE}


def test_lock_writes_the_projects_lock_and_never_the_shipped_one(project, capsys):
    shipped_lock = (resources.methodologies() / "published.lock").read_bytes()
    version = project / "methodologies" / SAMPLE / "1.0.0.yaml"
    version.write_text(version.read_text("utf-8").replace("status: draft", "status: published"), "utf-8")
    code, out, err = _run(capsys, "lock", "--json")
    assert code == 0, err
    assert json.loads(out) == {"locked": [f"{SAMPLE}@1.0.0"]}
    lock = json.loads((project / "methodologies" / "published.lock").read_text("utf-8"))
    assert list(lock) == [f"{SAMPLE}@1.0.0"] and len(lock[f"{SAMPLE}@1.0.0"]["content_sha256"]) == 64
    assert (resources.methodologies() / "published.lock").read_bytes() == shipped_lock
    assert _run(capsys, "lock")[1] == "nothing new to lock\n"

    version.write_text(version.read_text("utf-8").replace("(sample)", "(sample, edited)"), "utf-8")
    code, _, err = _run(capsys, "check", "--offline")
    assert code == 1 and f"{SAMPLE}@1.0.0 is published and locked, and its file changed" in err
    code, _, err = _run(capsys, "lock")
    assert code == 1 and "publish a new version instead" in err


def test_a_project_declares_its_own_factor_set_and_adds_an_edition(project, db_url, monkeypatch, capsys):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    (project / "factor_sets" / "acme-hotels.yaml").write_text(
        "factor_set: acme-hotels\ntitle: Acme hotel nights\npublisher: Acme Travel Ltd\nlicence: proprietary\n"
        "attributes: [hotel_class]\ngases: {CO2e: kgCO2e}\nregions: [GB]\nyears: [2024]\n"
        "editions:\n  acme-hotels-2024: {periods: [\"2024\"]}\n", "utf-8")
    (project / "hotels.csv").write_text("factor_id,name,unit,gas,value,region,year,hotel_class\n"
                                        "H1,Hotel night GB,room.night,CO2e,10.4,GB,2024,Standard\n", "utf-8")
    code, out, err = _run(capsys, "factors", "add", "hotels.csv", "--id", "acme-hotels-2024", "--json")
    assert code == 0, err
    assert (json.loads(out)["set"], json.loads(out)["factor_count"]) == ("acme-hotels", 1)


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine", "utf-8")
    code, out, err = _run(capsys, "init", "full")
    assert (code, out) == (1, "") and "full is not empty" in err
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert _run(capsys, "init", "empty", "--name", "acme-eu")[0] == 0
    assert "project: acme-eu" in (tmp_path / "empty" / "ccf.yaml").read_text("utf-8")
    assert (tmp_path / "empty" / "methodologies" / "acme_eu.scope2.electricity.uk_grid" / "1.0.0.yaml").is_file()
    code, _, err = _run(capsys, "init", "other", "--name", "Acme EU")
    assert code == 1 and "project name 'Acme EU'" in err


def test_a_broken_project_file_is_reported_in_place(project, capsys):
    (project / "ccf.yaml").write_text("project: acme\ndefault_target: prod\ntargets:\n  local: {embedded: .ccf}\n", "utf-8")
    code, _, err = _run(capsys, "list")
    assert code == 1 and "ccf.yaml" in err and "default_target 'prod' is not one of the targets" in err
