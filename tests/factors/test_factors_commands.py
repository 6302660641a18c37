"""`ccf factors list|show|search`: the query functions on a real database, and the command line."""

from __future__ import annotations

import argparse
import json

import pytest

from ccf.dsl.diagnostics import CcfError
from ccf.engine.factors.commands import add_parser, factors_list, factors_search, factors_show


def test_list(db) -> None:
    sets = {s["id"]: s for s in factors_list(db)}
    assert {"desnz-2024", "desnz-2025", "epa-hub-2025", "egrid-2023", "useeio-1.3"} <= set(sets)
    d = sets["desnz-2024"]
    assert d["factor_count"] == 7029
    assert d["publisher"] == "UK DESNZ / Defra" and d["edition"] == "2024 v1.1"
    assert d["sha256"] == "6a2fe78ed7ff799b961fc1a654efc5aad6482a1c66beaa8985dac6a3754829d2"
    assert d["source_file"] == "desnz_ghg_conversion_factors_2024_flat_v1_1.csv" and d["licence"]
    assert sets["egrid-2023"]["published"] == "2025-01-15" and sets["egrid-2023"]["factor_count"] == 168
    json.dumps(list(sets.values()))  # plain data


def test_search(db) -> None:
    hits = factors_search(db, "Electricity: UK", set_id="desnz-2024")
    by_id = {h["factor_id"]: h for h in hits}
    h = by_id["7_400_4000_5_1"]
    assert h["value"] == "0.20705" and isinstance(h["value"], str)
    assert (h["set"], h["edition"], h["per"], h["gas"], h["value_unit"]) == ("desnz-2024", "2024 v1.1", "kWh", "CO2e", "kgCO2e")
    assert "Electricity: UK" in h["attributes"].values()
    assert {x["set"] for x in hits} == {"desnz-2024"}
    # case-insensitive, every word must match, across sets when none is given
    lower = factors_search(db, "electricity: uk")
    assert "7_400_4000_5_1" in {x["factor_id"] for x in lower}
    assert {x["factor_id"] for x in factors_search(db, "serc south total co2")} == {"SRSO:total output:CO2/MWh"}


def test_search_values_are_exact_and_limited(db) -> None:
    hits = factors_search(db, "Blast Furnace Gas", set_id="epa-hub-2025")
    values = {h["factor_id"]: h["value"] for h in hits}
    assert values["1:Other Fuels - Gaseous/Blast Furnace Gas:CH4/mmBtu"] == "0.022000000000000002"
    assert values["1:Other Fuels - Gaseous/Blast Furnace Gas:energy/scf"] == "0.000092"  # published 9.2e-05
    assert len(factors_search(db, "Electricity", limit=3)) == 3


def test_search_wildcards_are_literal(db) -> None:
    assert [h["factor_id"] for h in factors_search(db, "7_400_4000_5_1", "desnz-2024")] == ["7_400_4000_5_1"]
    assert factors_search(db, "7%400_4000", "desnz-2024") == []  # '%' is a character, not a wildcard
    assert factors_search(db, "7_400x4000", "desnz-2024") == []  # '_' too
    assert factors_search(db, "no_such_thing_anywhere") == []
    with pytest.raises(CcfError):
        factors_search(db, "   ")


def test_show(db) -> None:
    d = factors_show(db, "desnz-2024")
    assert d["id"] == "desnz-2024" and d["factor_count"] == 7029
    assert {g["gas"] for g in d["gases"]} >= {"CO2e", "CO2", "CH4", "N2O"}
    assert {"gas": "CO2e", "unit": "kgCO2e"} in d["gases"]
    assert sum(d["factors_by_gas"].values()) == sum(d["factors_by_unit"].values()) == 7029
    assert d["factors_by_unit"]["kWh"] > 0 and d["attributes"]
    e = factors_show(db, "egrid-2023")
    assert e["gases"] == [{"gas": "CO2", "unit": "lbCO2"}, {"gas": "CH4", "unit": "lbCH4"},
                          {"gas": "N2O", "unit": "lbN2O"}]
    assert e["factors_by_gas"] == {"CH4": 56, "CO2": 56, "N2O": 56} and e["factors_by_unit"] == {"MWh": 168}


def test_unknown_set_suggests(db) -> None:
    with pytest.raises(CcfError, match="did you mean .*'desnz-2024'"):
        factors_show(db, "desnz-2042")
    with pytest.raises(CcfError, match="did you mean 'egrid-2023'"):
        factors_search(db, "SRSO", set_id="egrid-2024")


# --- command line ---


@pytest.fixture()
def cli(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    parser = argparse.ArgumentParser(prog="ccf")
    add_parser(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        return args.func(args)

    return run


def test_cli_json(cli, capsys) -> None:
    assert cli("factors", "list", "--json") == 0
    assert "desnz-2024" in {s["id"] for s in json.loads(capsys.readouterr().out)}
    assert cli("factors", "search", "Electricity:", "UK", "--set", "desnz-2024", "--limit", "2", "--json") == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["factor_id"] for h in hits] == ["7_400_4000_5_1", "7_400_4000_5_2"] and hits[0]["value"] == "0.20705"
    assert cli("factors", "show", "egrid-2023", "--json") == 0
    assert json.loads(capsys.readouterr().out)["factor_count"] == 168


def test_cli_tables(cli, capsys) -> None:
    assert cli("factors", "list") == 0
    out = capsys.readouterr().out
    assert "desnz-2024" in out and "7029" in out
    assert cli("factors", "search", "Blast Furnace Gas", "--set", "epa-hub-2025") == 0
    assert "0.022000000000000002" in capsys.readouterr().out  # exact, never through float
    assert cli("factors", "show", "desnz-2024") == 0
    out = capsys.readouterr().out
    assert "kgCO2e" in out and "CO2e" in out
    assert cli("factors", "search", "zzzz-nothing") == 0
    assert "no factors found" in capsys.readouterr().out


def test_cli_unknown_set(cli) -> None:
    with pytest.raises(CcfError, match="did you mean"):
        cli("factors", "show", "desnz2024")


def test_cli_add_installs_a_residual_mix_once(cli, capsys) -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "methodologies" / "data" / "TEST_ONLY_residual_mix.csv"
    argv = ("factors", "add", str(path), "--id", "org-residual-mix", "--edition", "test", "--publisher", "ccf tests (TEST ONLY)")
    assert cli(*argv, "--json") == 0
    added = json.loads(capsys.readouterr().out)
    assert (added["id"], added["edition"], added["factor_count"], added["installed"]) == ("org-residual-mix", "test", 3, True)
    assert cli(*argv) == 0
    assert "already installed from the same file" in capsys.readouterr().out
    assert cli("factors", "show", "org-residual-mix", "--json") == 0
    assert json.loads(capsys.readouterr().out)["attributes"] == ["energy", "source"]


def test_cli_add_checks_a_residual_mix_against_its_template(cli, tmp_path) -> None:
    bad = tmp_path / "rm.csv"
    bad.write_text("factor_id,name,unit,gas,value,region,year\nx,TEST,kWh,CO2e,0.1,DE,2024\n", encoding="utf-8")
    with pytest.raises(CcfError, match="needs the column"):
        cli("factors", "add", str(bad), "--id", "org-residual-mix", "--edition", "x", "--publisher", "x")
    with pytest.raises(CcfError, match="no file"):
        cli("factors", "add", str(tmp_path / "missing.csv"), "--id", "org-residual-mix", "--edition", "x", "--publisher", "x")
