"""Intensities: denominators checked in the user's words, and each intensity exact and rounded once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ccf.engine.inventory.intensities import (
    DenominatorError,
    check_denominators,
    intensities_document,
    parse_denominator,
)


def test_a_currency_is_per_million_in_tonnes_and_a_count_per_unit_in_kg():
    revenue, fte, units = (parse_denominator(t) for t in ("revenue=1200000000:GBP", "fte=5400:FTE", "units_produced=2400000"))
    assert (revenue.currency, revenue.per) == (True, "t CO2e per million GBP")
    assert (fte.currency, fte.per) == (False, "kg CO2e per FTE")  # FTE is a unit of ccf's, not a currency
    assert (units.currency, units.per) == (False, "kg CO2e per units produced")
    assert parse_denominator("sales=900000.50:CHF").currency  # a code ccf has no unit for is still a currency


def test_intensity_is_the_exact_quotient_at_20_decimals_and_its_rounding():
    totals = {"all": Decimal("8161279.000")}
    scopes = {"all": {"scope1": Decimal("1000.5"), "scope3": Decimal("8160278.5")}}
    doc = intensities_document([parse_denominator("revenue=1200000000:GBP"), parse_denominator("fte=5400:FTE")],
                               ["all"], totals, scopes)
    revenue, fte = doc
    # 8,161,279 kg x 1000 / 1,200,000,000 = 6.80106583333... t per million GBP
    assert revenue["values"]["all"]["total"] == {"intensity_exact": "6.80106583333333333333", "intensity_shown": "6.801"}
    # 1,000.5 kg x 1000 / 1,200,000,000 = 0.00083375 (exact): shown 0.001
    assert revenue["values"]["all"]["scopes"]["scope1"] == {"intensity_exact": "0.00083375", "intensity_shown": "0.001"}
    # 8,161,279 kg / 5,400 FTE = 1,511.3479629629... kg per FTE
    assert fte["values"]["all"]["total"] == {"intensity_exact": "1511.34796296296296296296", "intensity_shown": "1511.348"}
    assert "half away from zero at the 20th decimal" in fte["rounding"]


@pytest.mark.parametrize(("text", "words"), [
    ("revenue", "write NAME=AMOUNT"),
    ("revenue=1,200,000:USD", "no thousands separators"),
    ("revenue=1.2e9:USD", "or exponent"),
    ("revenue=-5:USD", "must be written as digits"),
    ("Revenue=5", "small letters"),
    ("fte=0", "the amount is 0"),
    ("x=5:US D", "must be a currency code"),
])
def test_a_denominator_that_is_not_one_is_refused_in_the_users_words(text, words):
    with pytest.raises(DenominatorError, match=words):
        parse_denominator(text)


def test_a_denominator_given_twice_is_refused():
    with pytest.raises(DenominatorError, match="given twice"):
        check_denominators([parse_denominator("fte=5400"), parse_denominator("fte=5500")])
