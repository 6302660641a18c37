"""One error root: every error ccf reports to a user is a ``CcfError``, and the command line
catches that one class (exit code 1, a message, never a traceback)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ccf.dsl import resources, units
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.units import UnitError, parse_unit
from ccf.engine import cli
from ccf.engine.factors.desnz import load_desnz
from ccf.engine.factors.gwp import load_gwp
from ccf.engine.factors.model import FactorFileError
from ccf.engine.factors.regions import load_regions
from ccf.engine.inventory.presentation import InvariantError


def test_unit_errors_are_ccf_errors_and_still_value_errors() -> None:
    with pytest.raises(CcfError, match="unknown unit 'furlong'") as info:
        parse_unit("furlong")
    assert isinstance(info.value, UnitError) and isinstance(info.value, ValueError)


def test_invariant_errors_are_ccf_errors_and_still_assertion_errors() -> None:
    assert issubclass(InvariantError, CcfError) and issubclass(InvariantError, AssertionError)


@pytest.mark.parametrize("read", [lambda p: load_desnz(p, "desnz-x", "x", None), load_gwp, load_regions])
def test_a_missing_factor_file_is_a_factor_file_error_naming_it(tmp_path: Path, read) -> None:
    missing = tmp_path / "gone.csv"
    with pytest.raises(FactorFileError, match=r"gone\.csv: cannot be read: No such file or directory"):
        read(missing)


def test_a_missing_unit_registry_is_a_ccf_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(resources, "dsl_file", lambda name: tmp_path / name)
    with pytest.raises(CcfError, match=r"units\.toml: ccf's unit registry cannot be read .*reinstall ccf"):
        units.registry.__wrapped__()


@pytest.mark.parametrize("error, message", [
    (UnitError("unknown unit 'furlong'"), "error: unknown unit 'furlong'"),
    (InvariantError("section s1: rows add up to 1 kg, the total is 2 kg"), "error: section s1: rows add up"),
    (psycopg.OperationalError("server closed the connection unexpectedly"),
     "error: PostgreSQL failed during ccf check: server closed the connection unexpectedly. What it had not "
     "committed was rolled back."),
])
def test_the_command_line_reports_every_ccf_error_with_exit_code_1(monkeypatch, capsys, error, message) -> None:
    def command(args):
        raise error

    monkeypatch.setattr(cli, "cmd_check", command)
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err


@pytest.mark.parametrize("locate, missing", [
    (lambda: resources.dsl_file("grammar.lark"), "grammar.lark"),
    (resources.migrations, "migrations"),
    (resources.embedded_roles, "embedded_roles.sql"),
    (lambda: resources.bench_sql("scope2.electricity.location_based@1.1.0"), "location_based@1.1.0.sql"),
])
def test_a_shipped_file_missing_from_the_installation_is_a_ccf_error(tmp_path: Path, monkeypatch, locate, missing) -> None:
    """The grammar, the migrations, the embedded roles script and the bench's SQL: a damaged
    installation is said so, not a FileNotFoundError's traceback."""
    for package in ("ccf.dsl", "ccf.engine"):
        assert resources.directory(package).is_dir()
    monkeypatch.setattr(resources, "directory", lambda package: tmp_path)
    with pytest.raises(CcfError, match=rf"{missing} is missing from ccf's installation; reinstall ccf"):
        locate()


def test_the_shipped_files_are_found() -> None:
    assert resources.dsl_file("grammar.lark").is_file()
    assert any(resources.migrations().glob("0001_*.sql"))
    assert resources.embedded_roles().is_file()
