"""Quantities in their factor's unit (engine/compile/rescaled.py): a row in MWh, kWh, Wh or GWh
is computed by a multiplication, rounded as ccf.div rounds, and stores ccf.div's number to the
last digit and the same scale; a row in any other unit keeps ccf.div."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from helpers import load, shipped_library, write_csv

from ccf.dsl.units import fraction_to_decimal, parse_unit
from ccf.engine.compile import compile_methodology
from ccf.engine.compile.rescaled import multipliers, rescaled_col, rescaled_fields
from ccf.engine.run import run

LIB = shipped_library()
ELECTRICITY = "scope2.electricity.location_based@1.1.0"
TO_KWH = Fraction(1, 3_600_000)  # joules × kg CO2e per kWh -> kg CO2e


def test_the_units_whose_ratio_to_the_factors_unit_is_a_finite_decimal_multiply():
    m = LIB.resolve(ELECTRICITY)
    assert rescaled_fields(m) == {("quantity", TO_KWH)}
    (quantity,) = [f for f in m.activity.fields if f.name == "quantity"]
    # therm (×29.30710701593) is a finite decimal too, but wider than any energy unit's factor to
    # joules (11 places against Btu's 8): the exactness proof does not cover it, so it divides
    assert multipliers(quantity.conversions, TO_KWH) == {
        "GWh": Decimal(1_000_000), "MWh": Decimal(1000), "Wh": Decimal("0.001"), "kWh": Decimal(1),
    }
    evaluate = compile_methodology(m).sql().split("-- [2] results")[0]
    col = rescaled_col("quantity", TO_KWH)
    for gas in ("co2", "ch4", "n2o"):
        assert f"ROUND(r.{col} * r.uk_grid__{gas}, 20)" in evaluate
        assert f"ccf.div(r.quantity * r.uk_grid__{gas}, 3600000)" in evaluate  # the other units


ROWS = [
    ("kwh", "1234567.891", "kWh"),
    ("mwh", "0.333333333333333333333", "MWh"),  # 21 places: the product rounds at the 20th
    ("wh", "7", "Wh"),
    ("gwh", "0.000000000000001", "GWh"),
    ("tiny", "0.00000000000000000001", "kWh"),  # rounds to zero, with its 20 places
    ("gj", "431.2", "GJ"),  # ×2500/9: ccf.div
    ("therm", "3.14159", "therm"),
]


def test_each_unit_stores_the_digits_and_scale_ccf_div_gives(db, tmp_path):
    header = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"
    path = write_csv(tmp_path / "e.csv", header, *(f"{a},E,2025-01-01,2025-12-31,{q},{u},GB" for a, q, u in ROWS))
    assert load(db, LIB, "u", "electricity", path).rows_rejected == 0
    m = LIB.resolve(ELECTRICITY)
    report = run(db, "u", [m])
    joules = {u: fraction_to_decimal(parse_unit(u).scale) for _, _, u in ROWS}
    stored = db.execute(
        """SELECT p.activity_id, p.gas, p.co2e_kg::text, f.value
           FROM ccf.result_provenance AS p
           JOIN ccf.factor_set AS s ON s.sha256 = p.factor_set_sha256
           JOIN ccf.factor AS f ON f.factor_set_id = s.factor_set_id AND f.factor_id = p.factor_ids[1]
           WHERE p.run_id = %s""",
        (report.run_id,),
    ).fetchall()
    assert len(stored) == 3 * len(ROWS)
    given = {a: (Decimal(q), u) for a, q, u in ROWS}
    for activity_id, gas, text, factor in stored:
        q, unit = given[activity_id]
        # the division of the quantity in joules, every product exact in NUMERIC
        (expected,) = db.execute(
            "SELECT ccf.div(%s::numeric * %s::numeric * %s::numeric, 3600000)::text", (q, joules[unit], factor)
        ).fetchone()
        assert text == expected, (activity_id, gas)
        assert len(text.split(".")[1]) == 20
