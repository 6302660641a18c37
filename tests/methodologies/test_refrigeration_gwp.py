"""Refrigeration 2.0.0: refrigerant GWP-100 in the methodology's GWP set, blends from their
composition; the screening method's installation, operating and disposal losses.

Expected values are the activity × the method's rates × a GWP derived here from the shipped IPCC
table and the blend's composition (never read from the factor set under test); exact.
"""

from __future__ import annotations

from decimal import Decimal as D

from ccf.dsl.library import read_methodology
from ccf.dsl.source import SourceFile
from ccf.engine.api import factor_signatures
from ccf.engine.factors.catalog import shipped_gwp
from helpers import shipped_library

PERIOD = "EX,2024-01-01,2024-12-31"
SCREENING = "scope1.fugitive.refrigeration.screening@2.0.0"
MASS_BALANCE = "scope1.fugitive.refrigeration.mass_balance@2.0.0"


def gwp(gwp_set: str, **fractions: str) -> D:
    """Σ fraction × GWP-100 of the table, e.g. gwp('AR5', HFC32='0.5', HFC125='0.5')."""
    table = {r.gas: r.value for r in shipped_gwp() if r.gwp_set == gwp_set}
    return sum((D(f) * table[s] for s, f in fractions.items()), D(0))


R410A = {"HFC32": "0.5", "HFC125": "0.5"}
R404A = {"HFC125": "0.44", "HFC143a": "0.52", "HFC134a": "0.04"}

HEADER = ("activity_id,entity,period_start,period_end,equipment_type,refrigerant,charge,charge_unit,units,annual_leak_rate,"
          "years_in_service,units_installed,installation_loss_rate,units_disposed,remaining_charge,recovery_rate")


def test_both_versions_read_the_gwp_set_of_their_gwp():
    lib = shipped_library()
    for ref in (SCREENING, MASS_BALANCE):
        m = lib.resolve(ref)
        assert (m.status, m.gwp, m.factor_set) == ("published", "AR5", "ipcc-gwp100-ar5")
        assert lib.resolve(ref.split("@")[0]) is m  # the latest published version


def test_an_author_picks_ar6_and_the_refrigerant_gwps_follow():
    lib = shipped_library()
    m = lib.resolve(SCREENING)
    text = SourceFile.read(m.path).text.replace("gwp: AR5", "gwp: AR6").replace("status: published", "status: draft")
    ar6 = read_methodology(SourceFile("ar6.yaml", text), lib.activity_types, factor_signatures())
    assert (ar6.gwp, ar6.factor_set) == ("AR6", "ipcc-gwp100-ar6")


def test_screening_installation_operation_and_disposal(calc):
    rows = [  # id, equipment type, refrigerant, charge kg, then the optional fields by name
        ("vrf", "residential_commercial_ac", "R410A", "12.5", dict(units="4")),
        ("new", "residential_commercial_ac", "R410A", "10", dict(units="2", years_in_service="0.5", units_installed="2")),
        ("own", "chillers", "R404A", "100", dict(units="0", units_installed="1", installation_loss_rate="0.4")),
        ("retired", "chillers", "R404A", "100", dict(units="0", units_disposed="1")),
        ("measured", "medium_large_commercial", "R404A", "50",
         dict(units="1", annual_leak_rate="12", units_disposed="2", remaining_charge="60", recovery_rate="90")),
        ("r22", "residential_commercial_ac", "R22", "8", {}),
        ("hfo", "mobile_ac", "R1234yf", "0.55", {}),
        ("desnz_name", "residential_commercial_ac", "HCFC-22/R22 = chlorodifluoromethane", "8", {}),
        ("typo", "chillers", "R-404A", "10", {}),
        ("nothing", "chillers", "R404A", "10", dict(units="0")),
    ]
    optional = HEADER.split(",")[8:]
    out = calc(SCREENING, "refrigeration_equipment", HEADER, *[
        ",".join([aid, PERIOD, kind, refrigerant, charge, "kg"] + [fields.get(f, "") for f in optional])
        for aid, kind, refrigerant, charge, fields in rows
    ])
    r410a, r404a = gwp("AR5", **R410A), gwp("AR5", **R404A)
    assert out.by_activity == {
        "vrf": D("12.5") * 4 * D("0.10") * r410a,  # operating: residential/commercial A/C, 10 %/yr
        # half a year in service, and two units installed at the default 1 % of their charge
        "new": (D(10) * 2 * D("0.10") * D("0.5") + D(10) * 2 * D("0.01")) * r410a,
        "own": D(100) * 1 * D("0.004") * r404a,  # installation at the row's own 0.4 %
        # disposal: chillers keep 100 % of their charge, 95 % of it recovered
        "retired": D(100) * 1 * 1 * (1 - D("0.95")) * r404a,
        # operating at the own 12 %, two units disposed with 60 % remaining, 90 % of that recovered
        "measured": (D(50) * D("0.12") + D(50) * 2 * D("0.6") * (1 - D("0.9"))) * r404a,
    }
    assert out.by_activity["vrf"] == 9617.5  # 12.5 × 4 × 10 % × 1923.5 (DESNZ rounds R410A to 1924)
    assert {k: out.rules[k] for k in ("r22", "hfo", "desnz_name", "nothing")} == {
        "r22": "not_kyoto", "hfo": "not_kyoto", "desnz_name": "not_kyoto", "nothing": "no_charge"}
    assert out.unmatched["typo"][0] == "no_factor" and "ipcc-gwp100-ar5" in out.unmatched["typo"][1]
    assert {r["factor_ids"][0] for r in out.rows if r["activity_id"] == "vrf"} == {"AR5/R410A/kyoto"}
    assert {r["gwp"] for r in out.rows} == {None}  # a kg CO2e per kg factor: no gas mass × GWP step


MB_HEADER = (
    "activity_id,entity,period_start,period_end,refrigerant,inventory_start,inventory_start_unit,inventory_end,"
    "inventory_end_unit,purchased,purchased_unit,disposed,disposed_unit,charge_new,charge_new_unit,charge_retired,"
    "charge_retired_unit,charged_new,charged_new_unit,serviced,serviced_unit,recovered,recovered_unit"
)


def test_mass_balance_on_the_composition(calc):
    out = calc(
        MASS_BALANCE, "refrigerant_mass_balance", MB_HEADER,
        f"company,{PERIOD},R404A,40,kg,25,kg,60,kg,8,kg,30,kg,10,kg,,,,,,",
        f"simplified,{PERIOD},R407C,,,,,,,,,5.5,kg,9,kg,6,kg,14,kg,7.2,kg",
        f"r22,{PERIOD},R22,,,,,,,,,,,,,,,3.5,kg,,",
    )
    assert out.by_activity == {
        "company": D(47) * gwp("AR5", **R404A),  # (40 − 25) + 60 − 8 − (30 − 10) = 47 kg
        "simplified": D("16.3") * gwp("AR5", HFC32="0.23", HFC125="0.25", HFC134a="0.52"),  # R407C
    }
    assert out.rules["r22"] == "not_kyoto"
