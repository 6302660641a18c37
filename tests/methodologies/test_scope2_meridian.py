"""The multinational sample company (meridian): Scope 2 for a site in any country.

Loads meridian's electricity and certificates, runs location- and market-based 1.2.0, and checks
that every row is matched, the tier (rule) and source (factor set) of each country, and the
published arithmetic of rows of each tier, the expected values derived in the test from the
shipped files (Ember's JSON read here with json; eGRID and DESNZ through their loaders, which
their own tests hold to the published files).
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal as D

import pytest
from helpers import load, results, rows_of, shipped_library

from ccf.dsl import resources
from ccf.engine.api import methodologies_dir
from ccf.engine.factors.catalog import EMBER_CO2JS, shipped_editions, shipped_gwp
from ccf.engine.run import run

LIB = shipped_library()
MERIDIAN = methodologies_dir() / "sample_data" / "meridian"
LOCATION = "scope2.electricity.location_based@1.2.0"
MARKET = "scope2.electricity.market_based@1.2.0"
LB_PER_KG = D("0.45359237")

# tier (rule) and source (factor set) of each country's rows; US by subregion
TIERS = {
    "GB": ("desnz_national", "desnz-2024"),  # the edition of the 2024 data
    "US/CAMX": ("egrid_subregion", "egrid-2023"),
    "US/NYUP": ("egrid_subregion", "egrid-2023"),
    "US/": ("egrid_us_average", "egrid-2023"),
    **{c: ("national_lifecycle_proxy", "ember-2025-08") for c in ("DE", "FR", "NL", "PL", "IN", "CN", "BR", "JP")},
    "MC": ("regional_lifecycle_proxy", "ember-2025-08"),  # Ember has no Monaco: the world average
}


def _rows() -> dict[str, dict]:
    with open(MERIDIAN / "electricity.csv", encoding="utf-8", newline="") as f:
        return {r["activity_id"]: r for r in csv.DictReader(f)}


def _kwh(row: dict) -> D:
    return D(row["quantity"]) * {"kWh": 1, "MWh": 1000}[row["quantity_unit"]]


def _where(row: dict) -> str:
    return f"US/{row['grid_region']}" if row["country"] == "US" else row["country"]


@pytest.fixture(scope="module")
def meridian(module_db_url):
    from ccf.engine.database import connect

    conn = connect(module_db_url)
    load(conn, LIB, "meridian", "electricity", MERIDIAN / "electricity.csv")
    load(conn, LIB, "meridian", "energy_attribute_certificates", MERIDIAN / "energy_attribute_certificates.csv")
    out = {}
    for ref in (LOCATION, MARKET):
        rep = run(conn, "meridian", [LIB.resolve(ref)])
        out[ref] = (rep, results(conn, rep.run_id), rows_of(conn, "unmatched", rep.run_id),
                    rows_of(conn, "excluded", rep.run_id))
    yield out
    conn.close()


@pytest.mark.parametrize("ref", [LOCATION, MARKET])
def test_every_row_matched(meridian, ref) -> None:
    rep, rows, unmatched, excluded = meridian[ref]
    assert unmatched == []
    assert [r["activity_id"] for r in excluded] == ["EL-FR-LYS-STORE-2024"]  # 0 kWh
    assert {r["activity_id"] for r in rows} | {"EL-FR-LYS-STORE-2024"} == set(_rows())


def test_location_based_tier_and_source_per_country(meridian) -> None:
    _, rows, _, _ = meridian[LOCATION]
    csv_rows = _rows()
    seen = {(_where(csv_rows[r["activity_id"]]), r["rule_id"], r["factor_set"]) for r in rows}
    assert seen == {(where, *TIERS[where]) for where, _, _ in seen}
    assert {where for where, _, _ in seen} == set(TIERS)


def _ember() -> dict[str, dict]:
    return json.loads((resources.factors() / EMBER_CO2JS).read_text("utf-8"), parse_float=D, parse_int=D)


def test_published_arithmetic_of_the_ember_tiers(meridian) -> None:
    """activity (kWh) x Ember's published g CO2e/kWh / 1000, exactly."""
    _, rows, _, _ = meridian[LOCATION]
    got = {(r["activity_id"], r["gas"]): r for r in rows}
    ember, rows_in = _ember(), _rows()
    for activity_id, key in (("EL-DE-MUC-2024H1", "DEU"), ("EL-IN-PNQ-2024", "IND"), ("EL-JP-OSA-2024", "JPN"),
                             ("EL-MC-SHOW-2024", "World")):
        r = got[(activity_id, "CO2e")]
        assert r["co2e_kg"] == _kwh(rows_in[activity_id]) * ember[key]["emissions_intensity_gco2_per_kwh"] / 1000
    assert got[("EL-MC-SHOW-2024", "CO2e")]["match_level"] == "region WORLD for MC"
    # 356.2 MWh x 342.06 g/kWh, by hand, so that the derivation above is not the only check
    assert got[("EL-DE-MUC-2024H1", "CO2e")]["co2e_kg"] == D("121841.772")


def test_published_arithmetic_of_egrid_and_desnz(meridian) -> None:
    """eGRID: MWh x lb/MWh x 0.45359237 kg/lb x AR5 GWP per gas; DESNZ: kWh x kg/kWh per gas."""
    _, rows, _, _ = meridian[LOCATION]
    got = {(r["activity_id"], r["gas"]): r["co2e_kg"] for r in rows}
    rows_in = _rows()
    gwp = {g.gas: g.value for g in shipped_gwp() if g.gwp_set == "AR5"}
    _, egrid = shipped_editions()["egrid-2023"]()
    rate = {(r.region, r.gas): r.value for r in egrid if r.attribute("basis") == "total output"}
    for activity_id, region in (("EL-US-SJC-2024H1", "CAMX"), ("EL-US-SYR-2024H2", "NYUP"), ("EL-US-CHI-2024", "US")):
        mwh = _kwh(rows_in[activity_id]) / 1000
        for gas in ("CO2", "CH4", "N2O"):
            assert got[(activity_id, gas)] == mwh * rate[(region, gas)] * LB_PER_KG * gwp[gas]
    _, desnz = shipped_editions()["desnz-2024"]()  # the 2024 data's edition; DESNZ per-gas factors are already kg CO2e per kWh
    uk = {r.gas: r.value for r in desnz if r.attribute("level1") == "UK electricity"
          and r.attribute("level3") == "Electricity: UK" and r.unit == "kWh"}
    kwh = _kwh(rows_in["EL-UK-LON-2024H1"])
    assert {gas: got[("EL-UK-LON-2024H1", gas)] for gas in ("CO2", "CH4", "N2O")} == {
        gas: kwh * uk[gas] for gas in ("CO2", "CH4", "N2O")}


def test_market_based_certificates_then_the_location_tiers(meridian) -> None:
    """Certificates first (NL wholly; 500 MWh of the US entity: Chicago, San Jose H1 and 68.9 MWh
    of Syracuse H1; 120 MWh in India); the uncovered
    consumption takes its country's location-based tier, the same factors as location-based."""
    _, rows, _, _ = meridian[MARKET]
    _, loc_rows, _, _ = meridian[LOCATION]
    rows_in = _rows()
    by_part: dict[tuple[str, str | None], tuple[str, D]] = {}
    for r in rows:
        key = (r["activity_id"], r["instrument_id"])
        rule, kg = by_part.get(key, (r["rule_id"], D(0)))
        by_part[key] = (rule, kg + r["co2e_kg"])
    assert {k: v for k, v in by_part.items() if k[1] is not None} == {
        ("EL-NL-EIN-2024H1", "GO-MER-NL-2024"): ("certificate", D(0)),
        ("EL-NL-EIN-2024H2", "GO-MER-NL-2024"): ("certificate", D(0)),
        ("EL-US-CHI-2024", "REC-MER-US-2024"): ("certificate", D(0)),  # rows by period_start, activity_id
        ("EL-US-SJC-2024H1", "REC-MER-US-2024"): ("certificate", D(0)),
        ("EL-US-SYR-2024H1", "REC-MER-US-2024"): ("certificate", D(0)),
        ("EL-IN-PNQ-2024", "IREC-MER-IN-2024"): ("certificate", D(0)),
    }
    # a row not covered at all: the location-based tier of its country, prefixed, same kg
    loc = {}
    for r in loc_rows:
        loc[r["activity_id"]] = (r["rule_id"], loc.get(r["activity_id"], (None, D(0)))[1] + r["co2e_kg"])
    for activity_id in ("EL-UK-LON-2024H1", "EL-US-SYR-2024H2", "EL-DE-MUC-2024H2", "EL-PL-WRO-2024H1",
                        "EL-CN-SZV-2024H1", "EL-BR-CPQ-2024", "EL-MC-SHOW-2024"):
        rule, kg = loc[activity_id]
        assert by_part[(activity_id, None)] == (f"grid_average_{rule}", kg)
    # India: 236.8 MWh, 120 MWh covered; the rest at Ember's Indian intensity
    india = _ember()["IND"]["emissions_intensity_gco2_per_kwh"]
    assert by_part[("EL-IN-PNQ-2024", None)] == (
        "grid_average_national_lifecycle_proxy", (_kwh(rows_in["EL-IN-PNQ-2024"]) - 120000) * india / 1000)


def test_cat3_electricity_says_where_it_has_no_source(module_db_url, meridian) -> None:
    """Category 3 follows DESNZ's geography: GB sites get results; every other site is unmatched
    by the rule that says so, its country in the reason, never given the UK's factors."""
    from ccf.engine.database import connect

    conn = connect(module_db_url)
    rep = run(conn, "meridian", [LIB.resolve("scope3.cat3.fuel_energy.electricity@1.1.0")])
    rows, unmatched = results(conn, rep.run_id), rows_of(conn, "unmatched", rep.run_id)
    conn.close()
    rows_in = _rows()
    assert {(r["activity_id"], r["rule_id"]) for r in rows} == {
        (a, "gb_upstream_and_losses") for a, r in rows_in.items() if r["country"] == "GB"}
    assert {r["activity_id"] for r in unmatched} == {
        a for a, r in rows_in.items() if r["country"] != "GB" and r["quantity"] != "0"}
    for u in unmatched:
        region = rows_in[u["activity_id"]]["country"]
        assert (u["rule_id"], u["reason_code"]) == ("no_source_outside_gb", "no_factor")
        assert f"'{region}'" in u["reason"], u["reason"]


def test_a_certificate_part_names_its_instrument_as_its_source(meridian) -> None:
    """In ccf.result_provenance a certificate part's source is its instrument (type and id), with
    no factor-set checksum or edition fallback: its rate is the one the instrument conveys, not a
    factor of the methodology's set; every other part names a factor set edition."""
    with open(MERIDIAN / "energy_attribute_certificates.csv", encoding="utf-8", newline="") as f:
        kinds = {r["activity_id"]: r["instrument_type"] for r in csv.DictReader(f)}
    _, rows, _, _ = meridian[MARKET]
    certificate = [r for r in rows if r["rule_id"] == "certificate"]
    assert {r["instrument_id"] for r in certificate} == set(kinds)
    for r in certificate:
        assert (r["factor_set"], r["factor_set_sha256"], r["edition_fallback"]) == (
            f"instrument {kinds[r['instrument_id']]} {r['instrument_id']}", None, None)
    assert all(not r["factor_set"].startswith("instrument ") and r["factor_set_sha256"]
               for r in rows if r["rule_id"] != "certificate")
