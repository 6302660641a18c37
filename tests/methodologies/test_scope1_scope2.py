"""Scope 1 and 2 methodologies added for issue 5, run over a few rows against published factors.

Expected values are the published DESNZ figures (flat files, per gas in kg CO2e) multiplied by
hand; every comparison is exact.
"""

from __future__ import annotations

from decimal import Decimal as D

from helpers import shipped_library

PERIOD = "EX,2024-01-01,2024-12-31"


# --- stationary combustion 1.1.0 ------------------------------------------------------------


def test_stationary_combustion_1_1_0_is_1_0_0_on_desnz_2025():
    lib = shipped_library()
    old, new = lib.resolve("scope1.stationary_combustion@1.0.0"), lib.resolve("scope1.stationary_combustion@1.1.0")
    assert (old.factor_set, new.factor_set) == ("desnz-2024", "desnz-2025")
    assert new.status == "published"
    assert (new.activity, new.parameters, new.lookups, new.rules) == (old.activity, old.parameters, old.lookups, old.rules)


def test_stationary_combustion_1_1_0_uses_2025_gas_factors(calc):
    header = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit"
    out = calc("scope1.stationary_combustion@1.1.0", "stationary_fuel", header,
               f"gas,{PERIOD},Natural gas,1000,kWh,,", f"oil,{PERIOD},Gas oil,,,100,L")
    # DESNZ 2025 natural gas, kWh gross CV: CO2 0.18259, CH4 0.00028, N2O 0.00009
    assert out.by_gas[("gas", "CO2")] == D("182.59")
    assert out.by_gas[("gas", "CH4")] == D("0.28")
    assert out.by_gas[("gas", "N2O")] == D("0.09")
    assert out.by_activity["oil"] == D("275.541")  # 100 L × 2.75541 (unchanged from 2024)


# --- mobile combustion --------------------------------------------------------------------------

FUEL_HEADER = "activity_id,entity,period_start,period_end,fuel,vehicle,volume,volume_unit,mass,mass_unit,energy,energy_unit"


def test_mobile_fuel_based_per_gas(calc):
    out = calc(
        "scope1.mobile_combustion.fuel_based@1.0.0", "mobile_fuel", FUEL_HEADER,
        f"diesel,{PERIOD},Diesel (average biofuel blend),van,1000,L,,,,",
        f"gallons,{PERIOD},Diesel (average biofuel blend),car,100,gal_UK,,,,",
        f"lpg,{PERIOD},LPG,forklift,,,1.85,t,,",
        f"hvo,{PERIOD},HVO,truck,500,L,,,,",
        f"none,{PERIOD},Gas oil,shunter,0,L,,,,",
    )
    # DESNZ 2024 diesel (average biofuel blend) per litre: CO2 2.4796, CH4 0.00029, N2O 0.0329
    assert [out.by_gas[("diesel", g)] for g in ("CO2", "CH4", "N2O")] == [D("2479.6"), D("0.29"), D("32.9")]
    assert out.by_activity["gallons"] == D("454.609") * D("2.51279")  # 1 UK gallon = 4.54609 L exactly
    assert out.by_activity["lpg"] == D("1.85") * (D("2935.18") + D("2.5536") + D("1.62735"))
    assert out.unmatched["hvo"][0] == "no_factor"  # pure biofuels: biogenic CO2 outside the scopes
    assert out.rules["none"] == "nothing_used"


DIST_HEADER = "activity_id,entity,period_start,period_end,vehicle,vehicle_class,fuel,laden,distance,distance_unit"


def test_mobile_distance_based_per_gas(calc):
    out = calc(
        "scope1.mobile_combustion.distance_based@1.0.0", "fleet_distance", DIST_HEADER,
        f"hybrid,{PERIOD},car,Medium car,Hybrid,,100,km",
        f"miles,{PERIOD},car,Medium car,Hybrid,,100,mile",
        f"bev,{PERIOD},car,Supermini,Battery Electric Vehicle,,500,km",
        f"hgv,{PERIOD},hgv,,,,100,km",
        f"reefer,{PERIOD},hgv_refrigerated,Rigid (>7.5 tonnes-17 tonnes),,50% Laden,100,km",
        f"bike,{PERIOD},motorbike,,,,100,km",
        f"scooter,{PERIOD},e-scooter,,,,10,km",
        f"parked,{PERIOD},car,Small car,Petrol,,0,km",
    )
    # DESNZ 2024 Passenger vehicles, Cars (by size), Medium car, Hybrid, per km: CO2 0.11369, CH4 0.00017, N2O 0.00104
    assert [out.by_gas[("hybrid", g)] for g in ("CO2", "CH4", "N2O")] == [D("11.369"), D("0.017"), D("0.104")]
    assert out.by_activity["miles"] == D("160.9344") * D("0.1149")  # miles converted exactly, per-km factor
    assert out.by_activity["bev"] == 0  # no tailpipe emissions
    assert out.by_activity["hgv"] == D("87.296")  # All HGVs, average laden (defaults)
    assert [out.by_gas[("reefer", g)] for g in ("CO2", "CH4", "N2O")] == [D("73.304"), D("0.013"), D("0.648")]
    assert out.by_activity["bike"] == D("100") * (D("0.11138") + D("0.00177") + D("0.00052"))
    assert out.unmatched["scooter"][0] == "no_rule"
    assert out.rules["parked"] == "no_distance"


# --- fugitive emissions ---------------------------------------------------------------------------

SCREEN_HEADER = "activity_id,entity,period_start,period_end,equipment_type,refrigerant,charge,charge_unit,units,annual_leak_rate,years_in_service"


def test_refrigeration_screening(calc):
    out = calc(
        "scope1.fugitive.refrigeration.screening@1.0.0", "refrigeration_equipment", SCREEN_HEADER,
        f"vrf,{PERIOD},residential_commercial_ac,R410A,12.5,kg,4,,",
        f"chiller,{PERIOD},chillers,HFC-134a,85,kg,1,4.5,",
        f"split,{PERIOD},residential_commercial_ac,HFC-32,2.1,kg,3,,0.5",
        f"reefer,{PERIOD},transport_refrigeration,R404A,6500,g,12,,",
        f"fridge,{PERIOD},domestic_refrigeration,HFC-134a,0.12,kg,6,,",
        f"r22,{PERIOD},residential_commercial_ac,HCFC-22/R22 = chlorodifluoromethane,8,kg,1,,",
        f"hfo,{PERIOD},mobile_ac,R1234yf*,0.55,kg,1,,",
        f"ice,{PERIOD},ice_machine,R404A,0.9,kg,2,,",
        f"typo,{PERIOD},chillers,R-404A,10,kg,1,,",
        f"spare,{PERIOD},chillers,R407C,40,kg,0,,",
    )
    # DESNZ 2024 Refrigerant & other, Kyoto products, kg CO2e per kg: R410A 1924, HFC-134a 1300, HFC-32 677, R404A 3943
    assert out.by_activity == {
        "vrf": D("9620"),  # 12.5 kg × 4 units × 10 %/yr × 1924
        "chiller": D("4972.5"),  # own measured rate 4.5 %
        "split": D("213.255"),  # 2.1 × 3 × 10 % × half a year × 677
        "reefer": D("153777"),  # 6.5 kg × 12 × 50 % × 3943
        "fridge": D("4.68"),  # 0.12 × 6 × 0.5 % × 1300
    }
    assert out.rules["vrf"] == "residential_commercial_ac" and out.rules["chiller"] == "own_leak_rate"
    assert {k: out.rules[k] for k in ("r22", "hfo", "spare")} == {"r22": "not_kyoto", "hfo": "not_kyoto", "spare": "no_charge"}
    assert out.unmatched["ice"][0] == "no_rule"
    assert out.unmatched["typo"][0] == "no_factor" and "R-404A" in out.unmatched["typo"][1]
    assert {g for _, g in out.by_gas} == {"CO2e"}


MB_HEADER = (
    "activity_id,entity,period_start,period_end,refrigerant,inventory_start,inventory_start_unit,inventory_end,"
    "inventory_end_unit,purchased,purchased_unit,disposed,disposed_unit,charge_new,charge_new_unit,charge_retired,"
    "charge_retired_unit,charged_new,charged_new_unit,serviced,serviced_unit,recovered,recovered_unit"
)


def test_refrigeration_mass_balance(calc):
    out = calc(
        "scope1.fugitive.refrigeration.mass_balance@1.0.0", "refrigerant_mass_balance", MB_HEADER,
        f"company,{PERIOD},R404A,40,kg,25,kg,60,kg,8,kg,30,kg,10,kg,,,,,,",
        f"simplified,{PERIOD},R407C,,,,,,,,,5.5,kg,9,kg,6,kg,14,kg,7.2,kg",
        f"precharged,{PERIOD},HFC-134a,,,,,,,,,5,kg,3,kg,,,2,kg,2.5,kg",
        f"negative,{PERIOD},R410A,5,kg,12,kg,4,kg,,,,,,,,,,,,",
        f"over_recovered,{PERIOD},R410A,,,,,,,,,,,3,kg,,,,,4,kg",
        f"r22,{PERIOD},HCFC-22/R22 = chlorodifluoromethane,,,,,,,,,,,,,,,3.5,kg,,",
        f"empty,{PERIOD},HFC-134a,,,,,,,,,,,,,,,,,,",
    )
    assert out.by_activity == {
        "company": D("47") * 3943,  # (40 − 25) + 60 − 8 − (30 − 10) = 47 kg of R404A
        "simplified": D("16.3") * 1624,  # (6 − 5.5) + 14 + (9 − 7.2) = 16.3 kg of R407C
        "precharged": D("2.5") * 1300,  # no installation term: 2 + (3 − 2.5) = 2.5 kg of HFC-134a
    }
    assert out.rules["company"] == "company_wide" and out.rules["simplified"] == "simplified"
    assert out.rules["negative"] == "company_wide_negative"  # 5 − 12 + 4 = −3 kg
    assert out.rules["over_recovered"] == "simplified_negative"
    assert out.rules["r22"] == "not_kyoto"
    assert out.unmatched["empty"][0] == "no_rule"


# --- process emissions ------------------------------------------------------------------------------

PROC_HEADER = "activity_id,entity,period_start,period_end,process,amount,amount_unit,co2_factor,ch4_factor,n2o_factor,co2e_factor,factor_source"


def test_process_emissions_with_factors_from_the_activity_data(calc):
    out = calc(
        "scope1.process_emissions.user_supplied_factor@1.0.0", "process_emissions", PROC_HEADER,
        f"glass,{PERIOD},glass melting,4200,t,182.5,,,,plant mass balance",
        f"nitric,{PERIOD},nitric acid,10,t,,,2,,plant measurement",
        f"foam,{PERIOD},foam blowing,120000,kg,,,,1716,data sheet",
        f"both,{PERIOD},kiln,100,t,20,,,20,lab",
        f"none,{PERIOD},pilot,2,t,,,,,to be measured",
        f"idle,{PERIOD},idle line,0,t,182.5,,,,plant mass balance",
    )
    assert out.gas_kg[("glass", "CO2")] == D("766500")  # kg of CO2, weighted by GWP 1
    assert out.by_gas[("glass", "CO2")] == D("766500")
    assert out.gas_kg[("nitric", "N2O")] == D("20")  # kg of N2O …
    assert out.by_gas[("nitric", "N2O")] == D("5300")  # … × AR5 GWP 265
    assert out.by_activity["foam"] == D("205920")  # 120 t × 1716 kg CO2e/t
    assert all(r["factor_ids"] == [] for r in out.rows)  # no factor set: the factor is activity data
    assert out.rules["both"] == "both_kinds_of_factor" and out.rules["idle"] == "nothing_produced"
    assert out.unmatched["none"][0] == "no_rule"


# --- scope 2 heat and steam --------------------------------------------------------------------------


def test_heat_and_steam_location_based(calc):
    header = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,supply"
    out = calc(
        "scope2.heat_steam.location_based@1.0.0", "purchased_heat", header,
        f"district,{PERIOD},1000,kWh,GB,District heat and steam",
        f"onsite,{PERIOD},1,MWh,GB,Onsite heat and steam",
        f"default,{PERIOD},3.6,GJ,GB,",
        f"berlin,{PERIOD},1000,kWh,DE,District heat and steam",
    )
    # DESNZ 2024 Heat and steam, per kWh: CO2 0.17791, CH4 0.00122, N2O 0.00052
    assert [out.by_gas[("district", g)] for g in ("CO2", "CH4", "N2O")] == [D("177.91"), D("1.22"), D("0.52")]
    assert out.by_activity["onsite"] == out.by_activity["default"] == D("179.65")
    assert out.unmatched["berlin"][0] == "no_factor" and "DE" in out.unmatched["berlin"][1]
