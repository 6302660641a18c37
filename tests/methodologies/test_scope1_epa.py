"""Scope 1 combustion routed by country: US rows on the EPA GHG Emission Factors Hub 2025, GB rows
on DESNZ, other countries on DESNZ as a labelled proxy.

Expected values are computed here from the shipped files themselves (the Hub's Tables 1-5 and
its printed AR5 GWPs, the IPCC GWP table): activity × the Hub's printed factor, each gas
mass × its GWP, every comparison exact. The same rows are run through the CLI on PostgreSQL and
through the reference evaluator (dsl/evaluate.py).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D

import pytest
from helpers import load, shipped_library, write_csv
from reliability._support import assert_same, reference, shipped_factors, sql_outcomes, typed_row

from ccf.dsl import resources
from ccf.engine.cli import main
from ccf.engine.factors.catalog import load_shipped, shipped_gwp
from ccf.engine.run import run

STATIONARY = "scope1.stationary_combustion@1.3.0"
MOBILE = "scope1.mobile_combustion.fuel_based@1.2.0"
PERIOD = "EX,2024-01-01,2024-12-31"
HEADER = "activity_id,entity,period_start,period_end,fuel,country,energy,energy_unit,volume,volume_unit,mass,mass_unit"
EPA, DESNZ = "epa-hub-2025", "desnz-2024"  # the DESNZ edition of the rows' period (2024)


def hub(fuel: str | None, gas: str, per: str, table: str = "1", **keys: str) -> D:
    """The value the Hub prints for a row of a table, a gas and a per-unit (as the shipped loader
    reads it); ``keys`` name further attributes of the row (vehicle_type, model_year)."""
    _, records = load_shipped(EPA)
    want = {"table": table, **({"fuel_type": fuel} if fuel else {}), **keys}
    (value,) = [r.value for r in records if r.gas == gas and r.unit == per
                and all(dict(r.attributes).get(k) == v for k, v in want.items())
                and (fuel or "fuel_type" not in dict(r.attributes))]
    return value


def ar5(gas: str) -> D:
    (value,) = [g.value for g in shipped_gwp() if g.gwp_set == "AR5" and g.gas == gas]
    return value


def test_the_hub_prescribes_the_ar5_gwps_of_the_shipped_table():
    """The Hub's sheet opens with the GWPs to weight its gases by; they are the IPCC AR5 values."""
    sheet = (resources.factors() / "epa_ghg_emission_factors_hub_2025.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(sheet)))
    printed = {r[2]: D(r[3]) for r in rows[:12] if len(r) > 3 and r[2] in ("CH4", "N2O")}
    assert printed == {"CH4": ar5("CH4"), "N2O": ar5("N2O")}
    assert shipped_library().resolve(STATIONARY).gwp == "AR5"


def expected(quantity: str, fuel: str, per: str) -> dict[str, D]:
    """kg CO2e per gas: quantity × the Hub's kg CO2, g CH4, g N2O per unit, × the AR5 GWPs."""
    q = D(quantity)
    return {
        "CO2": q * hub(fuel, "CO2", per),
        "CH4": q * hub(fuel, "CH4", per) / 1000 * ar5("CH4"),
        "N2O": q * hub(fuel, "N2O", per) / 1000 * ar5("N2O"),
    }


US_ROWS = (
    f"gas,{PERIOD},Natural Gas,US,1000,mmBtu,,,,",
    f"scf,{PERIOD},Natural Gas,US,,,2184000,scf,,",
    f"oil,{PERIOD},Distillate Fuel Oil No. 2,US,,,1450,gal_US,,",
    f"coal,{PERIOD},Bituminous,US,,,,,12.5,short_ton",
)


def gases(out, aid: str) -> dict[str, D]:
    return {g: v for (a, g), v in out.by_gas.items() if a == aid}


def test_us_rows_reproduce_the_hub_per_gas_with_ar5(calc):
    out = calc(STATIONARY, "stationary_fuel", HEADER, *US_ROWS)
    assert gases(out, "gas") == expected("1000", "Natural Gas", "mmBtu")
    # 1,000 mmBtu of natural gas: 53.06 kg CO2, 1 g CH4, 0.1 g N2O per mmBtu, AR5 28 and 265
    assert out.by_activity["gas"] == D("53114.5")
    assert gases(out, "scf") == expected("2184000", "Natural Gas", "scf")  # the Hub's per-scf column
    assert gases(out, "oil") == expected("1450", "Distillate Fuel Oil No. 2", "gal_US")
    assert gases(out, "coal") == expected("12.5", "Bituminous", "short_ton")
    assert {r["gas"]: r["gas_kg"] for r in out.rows if r["activity_id"] == "gas"} == {
        "CO2": D("53060"), "CH4": D("1"), "N2O": D("0.1")}
    assert out.rules == {"gas": "us_by_energy", "scf": "us_gas_by_volume", "oil": "us_liquid_by_volume",
                         "coal": "us_by_mass"}
    assert {r["factor_set"] for r in out.rows} == {EPA}


def test_a_us_row_never_takes_a_desnz_factor(calc):
    out = calc(
        STATIONARY, "stationary_fuel", HEADER,
        *US_ROWS,
        f"desnz_name,{PERIOD},Natural gas,US,5000,kWh,,,,",  # DESNZ's spelling: the Hub has none
        f"gas_oil,{PERIOD},Gas oil,US,,,100,L,,",
        f"litres_of_lpg,{PERIOD},LPG,US,,,,,2,t",
        f"nothing,{PERIOD},Natural Gas,US,,,,,,",
        f"wood,{PERIOD},Wood and Wood Residuals,US,,,,,3,short_ton",
    )
    for aid in ("desnz_name", "gas_oil", "litres_of_lpg"):
        code, reason = out.unmatched[aid]
        assert code == "no_factor" and "in epa-hub-2025" in reason and "desnz" not in reason, reason
    assert out.unmatched["nothing"][0] == "no_rule"  # no quantity: no rule, and never a DESNZ one
    assert out.rules["wood"] == "us_biomass" and "bioenergy_fuel" in out.excluded["wood"]
    assert out.rows and all(r["factor_set"] == EPA and r["rule_id"].startswith("us_") for r in out.rows)


def test_gb_rows_are_those_of_1_1_0_and_other_countries_a_labelled_proxy(calc):
    lib = shipped_library()
    rows = (f"gb,{PERIOD},Natural gas,GB,1000,kWh,,,,", f"gb_oil,{PERIOD},Gas oil,GB,,,100,L,,",
            f"de,{PERIOD},Natural gas,DE,1000,kWh,,,,", f"cn,{PERIOD},Natural gas,CN,,,250,m3,,",
            f"in,{PERIOD},Gas oil,IN,,,100,L,,", f"nowhere,{PERIOD},Natural gas,,1000,kWh,,,,")
    new = calc(STATIONARY, "stationary_fuel", HEADER, *rows)
    old = calc("scope1.stationary_combustion@1.2.0", "stationary_fuel", HEADER, *rows)
    for aid in ("gb", "gb_oil"):
        assert gases(new, aid) == gases(old, aid)
    assert gases(new, "de") == gases(old, "de") and gases(new, "in") == gases(old, "in")
    assert {new.rules[a] for a in ("de", "cn", "in")} == {"proxy_by_energy", "proxy_gas_by_volume",
                                                         "proxy_liquid_by_volume"}
    proxy = [r for r in lib.resolve(STATIONARY).rules if r.id.startswith("proxy_")]
    assert proxy and all("proxy" in (r.description or "") for r in proxy)
    assert {r["factor_set"] for r in new.rows} == {DESNZ}
    assert new.unmatched["nowhere"][0] == "no_rule"  # no country: no factor set can be chosen


def test_rows_of_every_country_match_the_reference_evaluator(db, tmp_path):
    """SQL and the reference evaluator, the latter reading EPA lookups from the Hub's records."""
    m = shipped_library().resolve(STATIONARY)
    rows = (*US_ROWS, f"kwh,{PERIOD},Natural Gas,US,2500,kWh,,,,", f"gb,{PERIOD},Natural gas,GB,1000,kWh,,,,",
            f"de,{PERIOD},Gas oil,DE,,,100,L,,", f"typo,{PERIOD},Natural gas,US,5,mmBtu,,,,",
            f"wood,{PERIOD},Wood and Wood Residuals,US,,,,,3,short_ton", f"nowhere,{PERIOD},LPG,,,,,,1,t")
    path = write_csv(tmp_path / "ref.csv", HEADER, *rows)
    assert load(db, shipped_library(), "epa_ref", "stationary_fuel", path).rows_rejected == 0
    report = run(db, "epa_ref", [m])
    names = HEADER.split(",")
    typed = {c["activity_id"]: typed_row(m.activity, c) for c in (dict(zip(names, r.split(","))) for r in rows)}
    sql = sql_outcomes(db, report.run_id, m.id)
    m = report.methodologies[0].methodology  # bound to the editions the run read (desnz: its 2024 edition)
    ref = reference(m, typed.values(), shipped_factors(m.factor_set))
    assert_same(m, report, sql, ref, typed)
    assert sql["typo"].reason_code == "no_factor" and sql["typo"].lookup == "epa_per_mmbtu"
    assert {a for a, o in sql.items() if o.outcome == "result"} == {"gas", "scf", "oil", "coal", "kwh", "gb", "de"}


def test_meridian_vehicles_match_the_reference_evaluator(db):
    m = shipped_library().resolve(MOBILE)
    path = resources.sample_company("meridian") / "mobile_fuel.csv"
    assert load(db, shipped_library(), "epa_ref_mobile", "mobile_fuel", path).rows_rejected == 0
    report = run(db, "epa_ref_mobile", [m])
    with path.open(encoding="utf-8", newline="") as f:
        typed = {c["activity_id"]: typed_row(m.activity, c) for c in csv.DictReader(f)}
    sql = sql_outcomes(db, report.run_id, m.id)
    m = report.methodologies[0].methodology  # bound to the editions the run read (desnz: its 2024 edition)
    assert_same(m, report, sql, reference(m, typed.values(), shipped_factors(m.factor_set)), typed)
    assert sum(o.outcome == "result" for o in sql.values()) == len(typed) - 1  # one row of zero fuel


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url


def test_cli_runs_the_meridian_fuel_on_the_hub(cli_db, capsys):
    sample = resources.sample_company("meridian") / "stationary_fuel.csv"
    assert main(["load", "--dataset", "meridian_sf", "--type", "stationary_fuel", str(sample)]) == 0
    capsys.readouterr()
    assert main(["run", "--dataset", "meridian_sf", STATIONARY, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (m,) = summary["methodologies"]
    assert m["reconciliation"]["rows_unmatched"] == 0 and m["reconciliation"]["rows_excluded"] == 1
    # the Syracuse plant's first half: 3,120.5 mmBtu of natural gas on the Hub, through explain
    assert main(["explain", str(summary["run_id"]), "SF-US-SYR-GAS-2024H1"]) == 0
    text = capsys.readouterr().out
    assert "epa-hub-2025" in text and "us_by_energy" in text
    # each factor is shown in its own set's units (the Hub's kg CO2, g CH4), not the methodology's
    assert f"epa_per_mmbtu.co2 = {hub('Natural Gas', 'CO2', 'mmBtu')} kgCO2/mmBtu" in text
    assert f"epa_per_mmbtu.ch4 = {hub('Natural Gas', 'CH4', 'mmBtu')} gCH4/mmBtu" in text
    assert str(sum(expected("3120.5", "Natural Gas", "mmBtu").values())) in text.replace(",", "")


# --- mobile combustion, fuel-based ---------------------------------------------------------------

MOBILE_HEADER = ("activity_id,entity,period_start,period_end,fuel,country,vehicle_type,vehicle_fuel,model_year,"
                 "distance,distance_unit,volume,volume_unit,mass,mass_unit")


def by_hub(co2: D, ch4_g: D, n2o_g: D) -> dict[str, D]:
    """kg CO2e per gas from kg CO2 and g CH4, g N2O, weighted with AR5."""
    return {"CO2": co2, "CH4": ch4_g / 1000 * ar5("CH4"), "N2O": n2o_g / 1000 * ar5("N2O")}


def test_us_vehicles_follow_the_hub_co2_per_fuel_ch4_n2o_per_mile_or_per_gallon(calc):
    out = calc(
        MOBILE, "mobile_fuel", MOBILE_HEADER,
        f"car,{PERIOD},Motor Gasoline,US,Gasoline Passenger Cars,,2021,1000,mile,40,gal_US,,",
        f"pickup,{PERIOD},Diesel Fuel,US,Light-Duty Trucks,Diesel,2007-2022,1000,mile,45,gal_US,,",
        f"cng_bus,{PERIOD},Compressed Natural Gas (CNG),US,Buses,CNG,,2000,mile,90000,scf,,",
        f"loader,{PERIOD},Diesel Fuel,US,Construction/Mining Equipment,Diesel Equipment,,,,100,gal_US,,",
        f"no_basis,{PERIOD},Diesel Fuel,US,,,,,,100,gal_US,,",
        f"desnz_name,{PERIOD},Diesel (average biofuel blend),US,Construction/Mining Equipment,Diesel Equipment,,,,100,L,,",
        f"too_new,{PERIOD},Motor Gasoline,US,Gasoline Passenger Cars,,2024,1000,mile,40,gal_US,,",
    )
    miles, car_gal = D(1000), D(40)
    assert gases(out, "car") == by_hub(
        car_gal * hub("Motor Gasoline", "CO2", "gal_US", "2"),
        miles * hub(None, "CH4", "vehicle.mile", "3", vehicle_type="Gasoline Passenger Cars", model_year="2021"),
        miles * hub(None, "N2O", "vehicle.mile", "3", vehicle_type="Gasoline Passenger Cars", model_year="2021"))
    ldt = {"vehicle_type": "Light-Duty Trucks", "model_year": "2007-2022"}
    assert gases(out, "pickup") == by_hub(D(45) * hub("Diesel Fuel", "CO2", "gal_US", "2"),
                                          miles * hub("Diesel", "CH4", "vehicle.mile", "4", **ldt),
                                          miles * hub("Diesel", "N2O", "vehicle.mile", "4", **ldt))
    assert gases(out, "cng_bus") == by_hub(
        D(90000) * hub("Compressed Natural Gas (CNG)", "CO2", "scf", "2"),
        2 * miles * hub("CNG", "CH4", "vehicle.mile", "4", vehicle_type="Buses"),
        2 * miles * hub("CNG", "N2O", "vehicle.mile", "4", vehicle_type="Buses"))
    equipment = {"vehicle_type": "Construction/Mining Equipment"}
    assert gases(out, "loader") == by_hub(D(100) * hub("Diesel Fuel", "CO2", "gal_US", "2"),
                                          D(100) * hub("Diesel Equipment", "CH4", "gal_US", "5", **equipment),
                                          D(100) * hub("Diesel Equipment", "N2O", "gal_US", "5", **equipment))
    assert out.rules == {"car": "us_on_road_gasoline", "pickup": "us_on_road_by_model_year",
                         "cng_bus": "us_on_road_cng", "loader": "us_non_road"}
    assert {r["factor_set"] for r in out.rows} == {EPA}
    assert out.unmatched["no_basis"][0] == "no_rule"  # no miles, no equipment type: CH4/N2O unknown
    code, reason = out.unmatched["desnz_name"]
    assert code == "no_factor" and "in epa-hub-2025" in reason
    code, reason = out.unmatched["too_new"]  # the Hub's Table 3 ends at model year 2022
    assert code == "no_factor" and "epa_gasoline_on_road" in reason


def test_gb_vehicles_are_those_of_1_0_0_and_other_countries_a_labelled_proxy(calc):
    rows = (f"gb,{PERIOD},Diesel (average biofuel blend),GB,,,,,,1000,L,,",
            f"gb_lpg,{PERIOD},LPG,GB,,,,,,,,1.85,t", f"pl,{PERIOD},LPG,PL,,,,,,,,1.85,t",
            f"jp,{PERIOD},Petrol (average biofuel blend),JP,,,,,,500,L,,", f"nowhere,{PERIOD},LPG,,,,,,,,,1,t")
    new = calc(MOBILE, "mobile_fuel", MOBILE_HEADER, *rows)
    old = calc("scope1.mobile_combustion.fuel_based@1.1.0", "mobile_fuel", MOBILE_HEADER, *rows)
    for aid in ("gb", "gb_lpg", "pl", "jp"):
        assert gases(new, aid) == gases(old, aid)
    assert (new.rules["pl"], new.rules["jp"]) == ("proxy_by_mass", "proxy_by_volume")
    assert new.unmatched["nowhere"][0] == "no_rule"
