"""`ccf factors search` for authors (filters, value units, ranking, did-you-mean) and `ccf factors
snippet`: a lookup pasted from it checks (E606 coverage finds its factor) and runs to that factor."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl.diagnostics import CcfError
from ccf.engine.cli import main
from ccf.engine.factors.search import Filters, factors_search
from ccf.engine.factors.snippet import factor_snippet
from helpers import ROOT, shipped_library


def _search(conn, text: str = "", limit: int = 50, **filters) -> list[dict]:
    return factors_search(conn, text, limit=limit, filters=Filters(**filters), factor_sets=shipped_library().factor_sets)


def test_each_result_names_the_unit_of_its_value_and_what_it_is_per(db) -> None:
    hits = _search(db, "Natural Gas", set_id="epa-hub-2025", unit="mmBtu", region="US", limit=500)
    epa = {h["gas"]: h for h in hits if h["factor_id"].startswith("1:Natural Gas/Natural Gas:")}
    assert (epa["CO2"]["value_unit"], epa["CH4"]["value_unit"], epa["N2O"]["value_unit"]) == ("kgCO2", "gCH4", "gN2O")
    assert {h["per"] for h in hits} == {"mmBtu"} and (epa["CO2"]["value"], epa["CH4"]["value"]) == ("53.06", "1")
    (desnz,) = _search(db, "Natural gas", set_id="desnz-2024", unit="kWh", gas="CH4", limit=1)
    assert (desnz["value_unit"], desnz["per"], desnz["region"], desnz["year"]) == ("kgCO2e", "kWh", "GB", 2024)
    assert desnz["edition"] == "2024 v1.1" and desnz["attributes"]["level3"] == "Natural gas"


def test_filters_combine_with_the_words(db) -> None:
    # a declared set: every installed edition of it; an edition: that one
    assert {h["set"] for h in _search(db, "Electricity: UK", set_id="desnz", limit=200)} == {"desnz-2024", "desnz-2025"}
    assert {h["set"] for h in _search(db, "Electricity: UK", set_id="desnz-2025", limit=200)} == {"desnz-2025"}
    # the unit in any spelling the unit registry reads: DESNZ stores litres as L, tonne.km as t.km
    assert {h["per"] for h in _search(db, "diesel", unit="litres", set_id="desnz", limit=500)} == {"L"}
    assert {h["per"] for h in _search(db, "HGV", unit="tonne.km", limit=500)} == {"t.km"}
    # ... but km is not passenger.km (the registry reads the counted word as 1)
    assert {h["per"] for h in _search(db, unit="km", set_id="desnz-2025", limit=1000)} == {"km"}
    # gas case-insensitively, region and year of the factor
    hits = _search(db, gas="co2e", region="de", limit=100)
    assert [(h["set"], h["factor_id"], h["gas"], h["region"]) for h in hits] == [("ember-2025-08", "DE:CO2e/kWh", "CO2e", "DE")]
    assert {h["year"] for h in _search(db, "electricity", year=2025, set_id="desnz", limit=500)} == {2025}
    assert _search(db, "Electricity: UK", set_id="desnz", year=2023) == []
    with pytest.raises(CcfError, match="nothing to search for"):
        _search(db, "  ")


def test_ranking_is_by_relevance_then_recency_and_always_the_same(db) -> None:
    # every word in the name or attributes beats a word found only in the factor id: 'CH4' is
    # in DESNZ's ghg_unit attribute but only in the EPA Hub's ids
    hits = _search(db, "natural gas CH4", limit=200)
    sets = [h["set"].split("-")[0] for h in hits]
    assert sets[0] == "desnz" and "epa" in sets and sets.index("epa") > max(i for i, s in enumerate(sets) if s == "desnz")
    # an attribute value equal to the text beats one containing it, and a whole word beats a part
    # of one ('Biodiesel'): the first hits are the fuels themselves, the newest edition first
    hits = _search(db, "Natural gas", set_id="desnz", unit="kWh", gas="CO2", limit=10)
    assert [h["name"] for h in hits[:4]] == ["Fuels > Gaseous fuels > Natural gas"] * 4
    assert [h["set"] for h in hits[:4]] == ["desnz-2025", "desnz-2025", "desnz-2024", "desnz-2024"]
    diesel = _search(db, "diesel", unit="litres", set_id="desnz-2025", limit=200)
    first_bio = next(i for i, h in enumerate(diesel) if "Biodiesel" in h["name"] and "diesel" not in h["name"].replace("Biodiesel", ""))
    assert all(" diesel" in h["name"].lower() or "> diesel" in h["name"].lower() for h in diesel[:first_bio])
    assert diesel[0]["name"] == "Fuels > Liquid fuels > Diesel (average biofuel blend)"
    # deterministic: the same call gives the same order, and a limit is a prefix of it
    again = _search(db, "diesel", unit="litres", set_id="desnz-2025", limit=200)
    assert [h["factor_id"] for h in again] == [h["factor_id"] for h in diesel]
    assert [h["factor_id"] for h in _search(db, "diesel", unit="litres", set_id="desnz-2025", limit=7)] == \
        [h["factor_id"] for h in diesel[:7]]


def test_unknown_set_gas_or_unit_exits_1_with_did_you_mean(db_url, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    for argv, expected in ((["--set", "desnz2"], "did you mean 'desnz'"), (["--gas", "C02"], "did you mean 'CO2'"),
                           (["--unit", "kwh"], "did you mean 'kWh'"), (["--set", "epa-hub-2042"], "did you mean")):
        assert main(["factors", "search", "gas", *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert main(["factors", "snippet", "1_100_1004_6_2"]) == 1  # in both DESNZ editions
    assert "desnz-2024, desnz-2025: name the edition with --set" in capsys.readouterr().err


def test_json_has_the_fields_of_the_table(db_url, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["factors", "search", "Blast", "Furnace", "Gas", "--set", "epa-hub", "--gas", "CH4", "--json"]) == 0
    (hit,) = [h for h in json.loads(capsys.readouterr().out) if h["per"] == "mmBtu"]
    assert hit == {"set": "epa-hub-2025", "edition": "2025", "factor_id": "1:Other Fuels - Gaseous/Blast Furnace Gas:CH4/mmBtu",
                   "name": hit["name"], "gas": "CH4", "value": "0.022000000000000002", "value_unit": "gCH4",
                   "per": "mmBtu", "region": "US", "year": 2025, "attributes": hit["attributes"]}
    assert main(["factors", "search", "Blast", "Furnace", "Gas", "--set", "epa-hub", "--gas", "CH4"]) == 0
    out = capsys.readouterr().out
    assert "gCH4" in out and "mmBtu" in out and "0.022000000000000002" in out


METHODOLOGY = """\
methodology: test.snippet
version: 1.0.0
status: draft
title: TEST ONLY, a lookup pasted from ccf factors snippet
ghg_protocol:
  scope: 1
  source: stationary combustion
  method: fuel-based
  references: [ccf tests]
factor_set: desnz-2024
gwp: AR5
activity: stationary_fuel
factors:
{snippet}rules:
  - id: burned
    emissions:
      co2: energy * {ref}
"""


def _library(tmp_path: Path, snippet: str, ref: str) -> Path:
    lib = tmp_path / "library"
    (lib / "activity_types").mkdir(parents=True)
    shutil.copy(ROOT / "methodologies" / "activity_types" / "stationary_fuel.yaml", lib / "activity_types")
    (lib / "test.snippet").mkdir()
    (lib / "test.snippet" / "1.0.0.yaml").write_text(METHODOLOGY.format(snippet=snippet, ref=ref), "utf-8")
    return lib


def test_a_pasted_snippet_checks_and_runs_to_exactly_that_factor(db_url, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["factors", "search", "natural gas", "--set", "desnz-2024", "--unit", "kWh", "--gas", "CO2",
                 "--snippet", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    factor_id, snippet, name = got["factor"]["factor_id"], got["snippet"], got["name"]
    assert got["factor"]["name"] == "Fuels > Gaseous fuels > Natural gas" and got["factor_id"] == factor_id
    assert got["other_gases"] == ["CH4", "CO2e", "N2O"]
    # DESNZ states natural gas per kWh of gross and of net calorific value: the uom tells them apart
    assert got["lookup"]["factor_set"] == "desnz-2024" and got["lookup"]["per"] == "kWh"
    assert got["lookup"]["select"]["level3"] == "Natural gas" and got["lookup"]["select"]["uom"].startswith("kWh (")
    assert f"a rule reads this factor as `{name}.co2`" in snippet

    # a select text no factor has is E606: the check below looks the select up in the database
    wrong = _library(tmp_path / "wrong", snippet.replace("Natural gas", "Natural gsa"), f"{name}.co2")
    assert main(["check", str(wrong)]) == 1
    assert "E606" in capsys.readouterr().err
    lib = _library(tmp_path, snippet, f"{name}.co2")
    assert main(["check", str(lib)]) == 0
    assert "not checked" not in capsys.readouterr().err

    monkeypatch.setenv("CCF_METHODOLOGIES", str(lib))
    data = tmp_path / "fuel.csv"
    data.write_text("activity_id,entity,period_start,period_end,fuel,country,energy,energy_unit\n"
                    "A1,ACME,2024-01-01,2024-01-31,Natural gas,GB,1000,kWh\n", "utf-8")
    assert main(["load", "--dataset", "snip", "--type", "stationary_fuel", "--period", "2024", str(data)]) == 0
    capsys.readouterr()
    assert main(["run", "--dataset", "snip", "test.snippet@1.0.0", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["explain", str(run_id), "A1", "--json"]) == 0
    explained = json.dumps(json.loads(capsys.readouterr().out))
    assert factor_id in explained
    from ccf.engine.database import connect
    from helpers import rows_of

    with connect(db_url) as conn:
        (row,) = rows_of(conn, "result", run_id)
    assert row["factor_ids"] == [factor_id] and row["co2e_kg"] == Decimal("1000") * Decimal(got["factor"]["value"])


def test_snippets_of_sets_keyed_by_country_and_by_subregion(db) -> None:
    lib = shipped_library().factor_sets
    ember = factor_snippet(db, "DE:CO2e/kWh", "ember", lib)
    assert ember["lookup"]["select"] == {"country_code": "DEU"} and ember["lookup"]["per"] == "kWh"
    egrid = factor_snippet(db, "SRSO:total output:CO2/MWh", None, lib)
    assert egrid["lookup"]["select"] == {"subregion": "SRSO", "basis": "total output"}
    assert egrid["other_gases"] == ["CH4", "N2O"] and "lbCO2 per MWh" in egrid["snippet"]
    with pytest.raises(CcfError, match="not a declared factor set"):
        factor_snippet(db, "AR5/R401A/all", "ipcc-gwp100-ar5", lib)


def test_a_snippet_names_the_region_where_the_attributes_do_not_tell_factors_apart(db_url, tmp_path, monkeypatch,
                                                                                   capsys) -> None:
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    rm = ROOT / "tests" / "methodologies" / "data" / "TEST_ONLY_residual_mix.csv"
    assert main(["factors", "add", str(rm), "--id", "org-residual-mix", "--edition", "test", "--publisher", "ccf tests"]) == 0
    capsys.readouterr()
    assert main(["factors", "snippet", "test-rm-de-2024", "--name", "de_mix", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    # GB 2023 and DE 2024 have the same attributes and unit: the region tells them apart
    assert got["lookup"] == {"factor_set": "org-residual-mix", "select": {"energy": "electricity"},
                             "region": '"DE"', "per": "kWh"}
    lib = tmp_path / "library"
    (lib / "activity_types").mkdir(parents=True)
    shutil.copy(ROOT / "methodologies" / "activity_types" / "electricity.yaml", lib / "activity_types")
    (lib / "test.snippet").mkdir()
    text = METHODOLOGY.format(snippet=got["snippet"], ref="de_mix").replace("stationary_fuel", "electricity")
    text = text.replace("source: stationary combustion", "source: electricity").replace(
        "      co2: energy * de_mix", "      co2e: quantity * de_mix").replace("scope: 1", "scope: 2")
    (lib / "test.snippet" / "1.0.0.yaml").write_text(text, "utf-8")
    assert main(["check", str(lib)]) == 0, capsys.readouterr().err
