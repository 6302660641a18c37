"""Biogenic CO2 reported outside the scopes: scope1.stationary_combustion.bioenergy.

Expected values are the DESNZ 2025 flat-file figures (factor ids in the comments) multiplied by
hand; every comparison is exact.
"""

from __future__ import annotations

from decimal import Decimal as D

from helpers import shipped_library

REF = "scope1.stationary_combustion.bioenergy@1.0.0"
HEADER = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit,mass,mass_unit"
PERIOD = "EX,2024-01-01,2024-12-31"


def test_scope1_ch4_n2o_in_the_total_biogenic_co2_beside_it(calc):
    out = calc(REF, "bioenergy_fuel", HEADER,
               f"pellets,{PERIOD},Wood pellets,,,,,42.5,t",
               f"biodiesel,{PERIOD},Biodiesel ME,,,3200,L,,",
               f"biogas,{PERIOD},Biogas,18500,kWh,,,,",
               f"spare,{PERIOD},Wood pellets,,,,,0,t",
               f"grass,{PERIOD},Miscanthus,,,,,8,t")
    # Scope 1 (kg CO2e): 2_104_1045_15_1 55.19389/t, 2_103_1032_8_1 0.16751/L, 2_105_1047_5_1 0.00022/kWh
    assert out.by_gas[("pellets", "CO2e")] == D("2345.740325")
    assert out.by_gas[("biodiesel", "CO2e")] == D("536.032")
    assert out.by_gas[("biogas", "CO2e")] == D("4.07")
    # outside of scopes (kg CO2 = kg CO2e): 99_104_1045_15_2 1677.18/t, 99_103_1032_8_2 2.39/L,
    # 99_105_1047_5_2 0.19902/kWh
    assert out.by_gas[("pellets", "CO2_biogenic")] == D("71280.15")
    assert out.by_gas[("biodiesel", "CO2_biogenic")] == D("7648")
    assert out.by_gas[("biogas", "CO2_biogenic")] == D("3681.87")
    # the run's total is Scope 1 only: biogenic CO2 is never added
    assert out.total == D("2885.842325")
    assert out.excluded == {"spare": "zero fuel use in the period"}
    assert out.unmatched["grass"][0] == "no_factor"


def test_biogenic_emissions_key_is_checked():
    m = shipped_library().resolve(REF)
    rule = next(r for r in m.rules if r.id == "by_mass")
    assert [(e.gas, e.co2e_basis) for e in rule.emissions] == [("CO2e", True), ("CO2_biogenic", True)]
