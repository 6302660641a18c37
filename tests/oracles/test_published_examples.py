"""Published worked examples (../shared/data/oracles), reproduced to the printed precision.

Each test names the example id. Where an example's factors are illustrative (not from a
shipped factor set), they are loaded as the organisation's own factor set from
tests/oracles/factors, with the example's numbers exactly as printed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from helpers import load, results, shipped_library, total, write_csv

from ccf.dsl.library import Library
from ccf.engine.api import factor_signatures
from ccf.engine.factors.custom import load_custom
from ccf.engine.factors.store import install_edition
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent


CUSTOM_SETS = (("s3tg-examples", "s3tg_examples.csv"), ("desnz-phev-example", "desnz_phev_example.csv"))


def _library(*custom: tuple[str, str]) -> tuple[Library, list]:
    """The oracle library, with every example factor set known to the checker; returns the
    editions asked for (to install)."""
    every = [load_custom(HERE / "factors" / f, set_id, "example", publisher="worked example") for set_id, f in CUSTOM_SETS]
    editions = [(e, r) for e, r in every if (e.id, e.source_file) in {(i, f) for i, f in custom}]
    every = dict((e.id, e) for e, _ in every)
    sigs = {**factor_signatures(), **every}
    lib = Library.load(HERE / "library", sigs)
    assert lib.diagnostics == []
    return lib, editions


def _printed(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def test_S3TG_6_1_business_travel_distance_based(db, tmp_path):
    """Scope 3 Technical Guidance example 6.1: 17,583.33 + 8,300,000 = 8,317,583.33 kg CO2e (2 dp)."""
    lib, editions = _library(("s3tg-examples", "s3tg_examples.csv"))
    for edition, records in editions:
        install_edition(db, edition, records)
    header = "activity_id,entity,period_start,period_end,mode,vehicle,distance,distance_unit,employees,employees_per_vehicle"
    csv = write_csv(
        tmp_path / "travel.csv", header,
        "road-car,EX,2013-01-01,2013-12-31,road,car,50,km,10,2",
        "road-bus,EX,2013-01-01,2013-12-31,road,bus,200,km,20,2",
        "road-rail,EX,2013-01-01,2013-12-31,road,rail,100,km,100,3",  # 100/3 vehicles, not rounded
        "air-short,EX,2013-01-01,2013-12-31,air,short-haul,10000,km,10,",
        "air-medium,EX,2013-01-01,2013-12-31,air,medium-haul,15000,km,20,",
        "air-long,EX,2013-01-01,2013-12-31,air,long-haul,12000,km,100,",
    )
    load(db, lib, "s3tg", "travel_example", csv)
    report = run(db, "s3tg", [lib.resolve("oracle.s3tg_6_1_business_travel@1.0.0")])
    rows = results(db, report.run_id)
    road = total([r for r in rows if r["rule_id"] == "road"])
    air = total([r for r in rows if r["rule_id"] == "air"])
    assert _printed(road, "0.01") == Decimal("17583.33")
    assert air == Decimal("8300000")
    assert _printed(road + air, "0.01") == Decimal("8317583.33")
    # 100/3 vehicles is not rounded to whole vehicles: the one division (10,000,000 m·employees / 3)
    # keeps 20 decimal places (ccf.div); the km→m scale is then applied exactly (× 0.001)
    rail = next(r for r in rows if r["activity_id"] == "road-rail")
    assert rail["co2e_kg"] == Decimal("13333.33333333333333333333332")


def test_DESNZ_PHEV_company_car_by_distance(db, tmp_path):
    """DESNZ example: 10,000 miles × 0.11397 kg CO2e/mile = 1,139.7, printed as 1,140."""
    # 0.11397 is the condensed-set value the example cites; the flat files ship other PHEV rows,
    # so the example's factor is loaded as a custom set exactly as printed.
    lib, editions = _library(("desnz-phev-example", "desnz_phev_example.csv"))
    for edition, records in editions:
        install_edition(db, edition, records)
    csv = write_csv(
        tmp_path / "car.csv", "activity_id,entity,period_start,period_end,vehicle,distance,distance_unit",
        "car-1,EX,2025-01-01,2025-12-31,phev-large,10000,mile",
    )
    load(db, lib, "phev", "vehicle_distance", csv)
    report = run(db, "phev", [lib.resolve("oracle.desnz_phev_company_car@1.0.0")])
    assert report.co2e_kg == Decimal("1139.7")
    assert _printed(report.co2e_kg, "1") == Decimal("1140")


def test_DESNZ_PHEV_distance_in_km_converts_exactly(db, tmp_path):
    """The same journey recorded in km (16,093.44 km = 10,000 miles) gives the same 1,139.7."""
    lib, editions = _library(("desnz-phev-example", "desnz_phev_example.csv"))
    for edition, records in editions:
        install_edition(db, edition, records)
    csv = write_csv(
        tmp_path / "car.csv", "activity_id,entity,period_start,period_end,vehicle,distance,distance_unit",
        "car-1,EX,2025-01-01,2025-12-31,phev-large,16093.44,km",
    )
    load(db, lib, "phev", "vehicle_distance", csv)
    report = run(db, "phev", [lib.resolve("oracle.desnz_phev_company_car@1.0.0")])
    assert report.co2e_kg == Decimal("1139.7")


@pytest.mark.parametrize("kwh, expected", [("1", "0.20705"), ("1000", "207.05"), ("123456.789", "25561.72816245")])
def test_DESNZ_2024_electricity_UK_location_based(db, tmp_path, kwh, expected):
    """DESNZ 2024 flat file v1.1: Electricity: UK = 0.20705 kg CO2e/kWh (CO2 + CH4 + N2O rows)."""
    lib = shipped_library()
    csv = write_csv(
        tmp_path / "e.csv", "activity_id,entity,period_start,period_end,quantity,quantity_unit,country",
        f"e1,EX,2024-01-01,2024-12-31,{kwh},kWh,GB",
    )
    load(db, lib, "uk", "electricity", csv)
    report = run(db, "uk", [lib.resolve("scope2.electricity.location_based@1.0.0")])
    assert report.co2e_kg == Decimal(expected)


def test_DESNZ_RF_domestic_flight_radiative_forcing_uplift():
    """DESNZ 2024 flat file: 'with RF' = 1.7 × the CO2 component + CH4 + N2O of 'without RF'.
    Published: without RF CO2 0.15942, CH4 0.00022, N2O 0.00134; with RF CO2 0.27101, total
    0.27257 kg CO2e/pkm. The published values are the rule's result rounded to 5 decimals."""
    from ccf.engine.factors.catalog import desnz_2024

    _, records = desnz_2024()

    def factor(column_text: str, gas: str) -> Decimal:
        (r,) = [
            r for r in records
            if r.attribute("level2") == "Flights" and r.attribute("level3") == "Domestic, to/from UK"
            and r.attribute("level4") == "Average passenger" and r.attribute("column_text") == column_text
            and r.gas == gas and r.unit == "passenger.km"
        ]
        return r.value

    co2, ch4, n2o = (factor("Without RF", g) for g in ("CO2", "CH4", "N2O"))
    assert (co2, ch4, n2o) == (Decimal("0.15942"), Decimal("0.00022"), Decimal("0.00134"))
    assert _printed(Decimal("1.7") * co2, "0.00001") == factor("With RF", "CO2") == Decimal("0.27101")
    assert _printed(Decimal("1.7") * co2 + ch4 + n2o, "0.00001") == factor("With RF", "CO2e") == Decimal("0.27257")


def test_DESNZ_RF_business_travel_2_0_0_applies_the_uplift(db, tmp_path):
    """scope3.cat6.business_travel 2.0.0 uses the with-RF factor: 1000 pkm domestic → 272.57 kg."""
    lib = shipped_library()
    header = "activity_id,entity,period_start,period_end,mode,service,cabin_class,fuel,distance,distance_unit,travellers"
    csv = write_csv(tmp_path / "bt.csv", header, 'f1,EX,2024-03-01,2024-03-01,air,"Domestic, to/from UK",,,500,km,2')
    load(db, lib, "rf", "business_travel", csv)
    without = run(db, "rf", [lib.resolve("scope3.cat6.business_travel@1.0.0")])
    with_rf = run(db, "rf", [lib.resolve("scope3.cat6.business_travel@2.0.0")])
    assert without.co2e_kg == Decimal("160.98")  # 1000 pkm × 0.16098 (without RF)
    assert with_rf.co2e_kg == Decimal("272.57")  # 1000 pkm × 0.27257 (with RF)
