"""``ccf demo``'s second company, the multinational Meridian, end to end on a real PostgreSQL.

The demo runs twice (loading once); every expectation is derived from the sample files, the
stored results and the rule ids, never pasted: another version of a Scope 1 or 2 methodology
changes the numbers, not what is checked here.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from decimal import Decimal as D

import pytest
from helpers import results, rows_of, shipped_library

from ccf.engine.api import MERIDIAN_DATASET, MERIDIAN_ENTITIES, NORTHWIND_ENTITIES, methodologies_dir
from ccf.engine.cli import main
from ccf.engine.html_table import data_figure

LIB = shipped_library()
MERIDIAN = methodologies_dir() / "sample_data" / "meridian"
FILES = ("electricity", "stationary_fuel", "mobile_fuel")  # the activity types with Scope 1 or 2 methodologies


def _countries(activity_type: str) -> dict[str, str]:
    """activity id -> country, from the sample file."""
    with open(MERIDIAN / f"{activity_type}.csv", encoding="utf-8", newline="") as f:
        return {r["activity_id"]: r["country"] for r in csv.DictReader(f)}


def _ccf(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(cli_demo) -> tuple[dict, str, dict]:
    """Three demos on one database (tests/conftest.py): --json (loads), the text, --json again
    (both load nothing)."""
    return cli_demo.first, cli_demo.text, cli_demo.again


@pytest.fixture(scope="module")
def demo_url(cli_demo) -> str:
    """(A copy of) the database the three demos ran on."""
    return cli_demo.url


def _activity_type(doc: dict) -> str:
    return LIB.resolve(f"{doc['methodology']}@{doc['version']}").activity.id


def _scope12(doc: dict) -> list[dict]:
    return [m for m in doc["meridian"]["run"]["methodologies"] if m["scope"] in (1, 2)]


def test_demo_loads_meridian_once_and_runs_it(demo) -> None:
    first, _, third = demo
    m = first["meridian"]
    assert m["dataset"] == MERIDIAN_DATASET
    assert sorted(l["activity_type"] for l in m["loads"]) == sorted(p.stem for p in MERIDIAN.glob("*.csv"))
    assert all(l["rows_rejected"] == 0 for l in m["loads"])
    assert {l["period"] for l in m["loads"]} == {"2024-01-01..2024-12-31"}
    assert third["meridian"]["loads"] == [] and third["loads"] == []  # the second demo loads nothing
    assert third["meridian"]["run"]["total_co2e_kg"] == m["run"]["total_co2e_kg"]
    assert third["meridian"]["tiers"] == m["tiers"]
    # the methodologies of the activity types Meridian has rows of (certificates are read by
    # market-based Scope 2), and a Scope 1 or 2 methodology for each
    assert {_activity_type(x) for x in m["run"]["methodologies"]} == set(FILES)
    assert {_activity_type(x) for x in _scope12(first)} == set(FILES)


def test_every_scope1_and_2_row_is_matched_and_balanced(demo, demo_url) -> None:
    first, _, _ = demo
    scope12 = _scope12(first)
    assert {x["scope"] for x in scope12} == {1, 2}
    for x in scope12:
        rec = x["reconciliation"]
        assert rec["rows_unmatched"] == 0 and rec["rows_rejected"] == 0 and rec["balanced"], x["methodology"]
    # each methodology's tiers add up to its total, exactly
    tiers = first["meridian"]["tiers"]
    for x in scope12:
        assert sum(D(t["co2e_kg"]) for t in tiers if t["methodology"] == x["methodology"]) == D(x["co2e_kg"])


def test_every_country_appears_with_a_tier_of_its_own_jurisdiction_or_a_labelled_proxy(demo, demo_url) -> None:
    from ccf.engine.database import connect

    first, _, _ = demo
    run_id = first["meridian"]["run"]["run_id"]
    with connect(demo_url) as conn:
        excluded = rows_of(conn, "excluded", run_id)
    tiers = first["meridian"]["tiers"]
    for x in _scope12(first):
        out = {r["activity_id"] for r in excluded if r["methodology_id"] == x["methodology"]}
        expected = {c for a, c in _countries(_activity_type(x)).items() if a not in out}
        shown = {t["country"] for t in tiers if t["methodology"] == x["methodology"]}
        assert shown == expected, x["methodology"]
    # every country of the sample has a Scope 2 tier; outside GB and the US, where the shipped
    # national sources (DESNZ, eGRID, EPA) are, every Scope 1, 2 and category 3 rule says it is a
    # proxy (category 3 also in the US: no US well-to-tank source is shipped)
    assert {t["country"] for t in tiers if t["methodology"].startswith("scope2.")} == set(_countries("electricity").values())
    assert {t["methodology"].split(".")[0] for t in tiers} == {"scope1", "scope2", "scope3"}
    for t in tiers:
        if t["rule"] == "certificate":  # a contractual instrument, named as the source
            assert t["factor_set"].startswith("instrument "), t
            continue
        if t["country"] == "GB":
            assert t["factor_set"].startswith("desnz-"), t
        elif t["country"] == "US":
            assert t["factor_set"].startswith(("egrid-", "epa-")) or t["rule"].startswith("proxy_"), t
        else:
            assert "proxy" in t["rule"], t


def test_certificate_parts_name_their_instrument_as_the_source(demo) -> None:
    """Each certificate tier names its instrument (type and id) from the sample's certificates
    file, never the methodology's factor set."""
    first, _, _ = demo
    with open(MERIDIAN / "energy_attribute_certificates.csv", encoding="utf-8", newline="") as f:
        certificates = list(csv.DictReader(f))
    named = {f"instrument {c['instrument_type']} {c['activity_id']}" for c in certificates}
    shown = {t["factor_set"] for t in first["meridian"]["tiers"] if t["rule"] == "certificate"}
    assert shown == named


def test_the_text_shows_the_meridian_section_with_every_country(demo) -> None:
    first, text, _ = demo
    northwind, meridian = text.split("ccf demo — Meridian", 1)
    assert "Northwind" in northwind
    assert f"entity set {MERIDIAN_ENTITIES}" in meridian
    assert "loaded " not in meridian  # the second demo
    assert f"dataset {MERIDIAN_DATASET}" in meridian
    table = meridian.split("tier and source per country", 1)[1]
    for t in first["meridian"]["tiers"]:
        assert t["rule"] in table and t["factor_set"] in table and f"│ {t['country']} " in table


def _stored(demo_url: str, run_id: int) -> list[dict]:
    from ccf.engine.database import connect

    with connect(demo_url) as conn:
        return results(conn, run_id)


def test_the_report_breaks_scope1_and_2_down_by_tier_and_source(demo, demo_url, monkeypatch) -> None:
    first, _, _ = demo
    run_id = first["meridian"]["run"]["run_id"]
    monkeypatch.setenv("CCF_DATABASE_URL", demo_url)
    args = ["report", str(run_id), "--entities", MERIDIAN_ENTITIES, "--approach", "operational-control"]
    doc = json.loads(_ccf(*args, "--json"))
    # expected from the stored results: every Meridian entity is wholly owned and operated
    expected: dict[tuple, tuple[set, D]] = {}
    for r in _stored(demo_url, run_id):
        tiered = r["scope"] in (1, 2) or (r["scope"], r["category"]) == (3, 3)
        if tiered and "biogenic" not in r["gas"].lower():
            ids, kg = expected.get((r["methodology_id"], r["rule_id"], r["factor_set"]), (set(), D(0)))
            expected[(r["methodology_id"], r["rule_id"], r["factor_set"])] = (ids | {r["activity_id"]}, kg + r["co2e_kg"])
    got = {(t["methodology"], t["rule"], t["factor_set"]): (t["activity_rows"], D(t["co2e_kg"])) for t in doc["tiers"]}
    assert got == {k: (len(ids), kg) for k, (ids, kg) in expected.items()}
    assert {t["scope"] for t in doc["tiers"]} == {1, 2, 3}
    table = _ccf(*args)
    html = _ccf(*args, "--format", "html")
    for t in doc["tiers"]:
        assert t["rule"] in table and t["factor_set"] in table
        assert f">{t['rule']}</td>" in html and data_figure(("tiers", t["key"], "co2e_t")) in html
    assert "Tier and source" in table and "Tier and source" in html


def test_after_the_demo_a_report_needs_no_entities(demo, demo_url, monkeypatch, capsys) -> None:
    """The demo binds each company's dataset to its entity set, so 'ccf report RUN' (the README's)
    reports each run under its own set; both runs in one inventory are refused with the reason."""
    first, _, _ = demo
    northwind, meridian = first["run"]["run_id"], first["meridian"]["run"]["run_id"]
    monkeypatch.setenv("CCF_DATABASE_URL", demo_url)
    for run_id, entity_set, total in ((northwind, NORTHWIND_ENTITIES, first["run"]["total_co2e_kg"]),
                                      (meridian, MERIDIAN_ENTITIES, first["meridian"]["run"]["total_co2e_kg"])):
        doc = json.loads(_ccf("report", str(run_id), "--approach", "operational-control", "--json"))
        assert doc["entity_set"]["name"] == entity_set
        assert doc["coverage"]["total"]["rows_unknown_entity"] == 0
        assert D(doc["totals"]["location-based"]["co2e_kg"]) == D(total)  # every entity wholly operated
    capsys.readouterr()
    assert main(["report", str(northwind), str(meridian), "--approach", "operational-control"]) == 1
    err = capsys.readouterr().err
    assert (f"bound to different entity sets ({MERIDIAN_ENTITIES}: dataset {MERIDIAN_DATASET}; "
            f"{NORTHWIND_ENTITIES}: dataset demo)") in err and "--entities" in err and "Traceback" not in err


@pytest.mark.parametrize("activity_id", ["EL-US-SJC-2024H1", "EL-DE-MUC-2024H1", "EL-UK-LON-2024H1"])
def test_explain_names_the_rule_and_each_factors_set_and_edition(demo, demo_url, monkeypatch, activity_id) -> None:
    """A US row (eGRID subregion), a DE row (Ember, a labelled proxy) and a GB row (DESNZ)."""
    first, _, _ = demo
    run_id = first["meridian"]["run"]["run_id"]
    monkeypatch.setenv("CCF_DATABASE_URL", demo_url)
    told = json.loads(_ccf("explain", str(run_id), activity_id, "--json"))
    by_ref = {m["methodology"]: m for m in told["methodologies"]}
    stored = [r for r in _stored(demo_url, run_id) if r["activity_id"] == activity_id and r["scope"] == 2
              and r["methodology_id"] == "scope2.electricity.location_based"]
    assert stored
    (rule,) = {r["rule_id"] for r in stored}
    (version,) = {r["methodology_version"] for r in stored}
    m = by_ref[f"scope2.electricity.location_based@{version}"]
    assert f"rule {rule}:" in m["outcome"] and m["reproduces_stored"]
    for r in stored:
        for fid in r["factor_ids"]:
            assert any(line.lstrip().startswith("factor ") and f": {r['factor_set']} factor {fid}," in line
                       for line in m["derivation"]), (r["factor_set"], fid)
    assert {"EL-US-SJC-2024H1": "egrid-", "EL-DE-MUC-2024H1": "ember-", "EL-UK-LON-2024H1": "desnz-"}[activity_id] \
        in stored[0]["factor_set"]


@pytest.mark.parametrize("activity_id,ref,told", [
    # category 3 of a US site: T&D losses by its eGRID subregion, both sets named
    ("EL-US-SJC-2024H1", "scope3.cat3.fuel_energy.electricity@1.2.0",
     ["rule egrid_subregion_td_losses:", "egrid-losses-2023 factor CAMX:grid gross loss:energy/MWh",
      "egrid-2023 factor CAMX:total output:CO2/MWh"]),
    # a German site's gas: the labelled DESNZ proxy
    ("SF-DE-MUC-GAS-2024", "scope3.cat3.fuel_energy.stationary_fuel@1.1.0",
     ["rule proxy_by_energy:", "(rule proxy_by_energy: outside the UK: DESNZ UK well-to-tank, used as a proxy outside the UK"]),
    # a certificate part: the instrument is the source
    ("EL-NL-EIN-2024H1", "scope2.electricity.market_based@1.3.0",
     ["source: instrument GO GO-MER-NL-2024 (registry CertiQ (fictional serial range)), emission_rate 0 as the "
      "instrument conveys it, loaded in load"]),
])
def test_explain_names_the_tier_and_source_of_category_3_and_certificates(demo, demo_url, monkeypatch,
                                                                         activity_id, ref, told) -> None:
    first, _, _ = demo
    run_id = first["meridian"]["run"]["run_id"]
    monkeypatch.setenv("CCF_DATABASE_URL", demo_url)
    text = _ccf("explain", str(run_id), activity_id)
    section = text.split(f"{ref}:", 1)[1].split("check:", 1)[0]
    for phrase in told:
        assert phrase in " ".join(section.split()), phrase
