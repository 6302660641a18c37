"""Units: compound units parse, conversions are exact rationals, and dimensions obey algebra."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from fractions import Fraction
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccf.dsl.units import (
    DIMENSIONLESS,
    Unit,
    UnitError,
    dim_mul,
    dim_pow,
    format_dimension,
    fraction_to_decimal,
    gas_of,
    is_terminating,
    named_dimensions,
    parse_unit,
    registry,
    unit_names,
    units_of,
)


def test_compound_units() -> None:
    u = parse_unit("kgCO2e/kWh")
    assert u.dimension == (("CO2e", 1), ("J", -1))
    assert u.scale == Fraction(1, 3_600_000)
    tkm = parse_unit("t.km")
    assert tkm.dimension == (("kg", 1), ("m", 1)) and tkm.scale == 1_000_000
    assert parse_unit("t*km") == Unit("t*km", tkm.scale, tkm.dimension)
    assert parse_unit("t·km").scale == tkm.scale
    pkm = parse_unit("kgCO2e/passenger.km")  # passenger is a dimensionless count
    assert pkm.dimension == (("CO2e", 1), ("m", -1)) and pkm.scale == Fraction(1, 1000)
    assert parse_unit("m^2").dimension == parse_unit("m2").dimension == parse_unit("m²").dimension == (("m", 2),)
    assert parse_unit("km^2").scale == 1_000_000
    assert parse_unit("m^3").dimension == parse_unit("m3").dimension == parse_unit("L").dimension == (("m", 3),)
    assert parse_unit("cm³").scale == Fraction(1, 1_000_000)
    assert parse_unit("kWh/m^2").dimension == (("J", 1), ("m", -2))
    assert parse_unit("gCO2e/t.km").scale == Fraction(1, 10**9)  # everything after '/' divides
    assert parse_unit("1/h").dimension == (("s", -1),)
    assert parse_unit(" kWh ").scale == 3_600_000


def test_exact_ratios() -> None:
    assert parse_unit("GJ").ratio_to(parse_unit("kWh")) == Fraction(2500, 9)
    assert parse_unit("kWh").ratio_to(parse_unit("GJ")) == Fraction(9, 2500)
    assert parse_unit("mile").ratio_to(parse_unit("km")) == Fraction("1.609344")
    assert parse_unit("lb").ratio_to(parse_unit("kg")) == Fraction("0.45359237")
    assert parse_unit("therm").ratio_to(parse_unit("kWh")) == Fraction("105505585.257348") / 3_600_000
    assert parse_unit("tCO2e").ratio_to(parse_unit("kgCO2e")) == 1000
    with pytest.raises(UnitError):
        parse_unit("kWh").ratio_to(parse_unit("kg"))


def test_is_terminating() -> None:
    assert is_terminating(Fraction(1, 8)) and is_terminating(Fraction(9, 2500)) and is_terminating(Fraction(7))
    assert is_terminating(Fraction("1.609344")) and is_terminating(Fraction(3, 1_000_000))
    assert not is_terminating(Fraction(1, 3)) and not is_terminating(Fraction(2500, 9))
    assert not is_terminating(Fraction(1, 3_600_000) * 7 / 3)


@given(st.integers(-10**12, 10**12), st.integers(0, 30), st.integers(0, 30))
def test_fraction_to_decimal_is_exact(n: int, twos: int, fives: int) -> None:
    f = Fraction(n, 2**twos * 5**fives)
    d = fraction_to_decimal(f)
    assert isinstance(d, Decimal) and Fraction(d) == f


def test_fraction_to_decimal_refuses_repeating() -> None:
    with pytest.raises(ValueError):
        fraction_to_decimal(Fraction(1, 3))


def test_every_unit_in_units_toml_parses() -> None:
    data = tomllib.loads(resources.files("ccf.dsl").joinpath("units.toml").read_text("utf-8"))
    assert set(data["units"]) == set(registry().units) == set(unit_names())
    for name, (factor, _base) in data["units"].items():
        u = parse_unit(name)
        assert u.scale == Fraction(Decimal(factor)), name  # exactly the decimal written in the file
        assert is_terminating(u.scale), name  # a unit's scale never needs rounding
    for name, (dim, display) in registry().dimensions.items():
        assert parse_unit(display).dimension == dim, name
        assert display in units_of(dim) or display == "m^2", name
    assert named_dimensions()["energy"] == (("J", 1),)


def test_units_of_a_dimension() -> None:
    energy = units_of((("J", 1),))
    assert {"kWh", "MWh", "GJ", "therm", "Btu"} <= set(energy)
    assert "kg" not in energy


def test_gases_are_distinct_dimensions() -> None:
    assert parse_unit("kgCO2e").dimension != parse_unit("kgCO2").dimension != parse_unit("kg").dimension
    assert gas_of(parse_unit("tCO2e").dimension) == "CO2e" and gas_of(parse_unit("gCH4").dimension) == "CH4"
    assert gas_of(parse_unit("kg").dimension) is None and gas_of(parse_unit("kgCO2e/kWh").dimension) is None


def test_format_dimension_in_words() -> None:
    assert format_dimension(parse_unit("kWh").dimension) == "energy"
    assert format_dimension(parse_unit("km").dimension) == "distance"
    assert format_dimension(DIMENSIONLESS) in ("number", "a plain number")
    assert "CO2e" in format_dimension(parse_unit("kgCO2e").dimension)
    assert format_dimension(parse_unit("kgCO2e/kWh").dimension) == "CO2e per energy"  # an emission factor
    assert format_dimension(parse_unit("t.km").dimension) == "mass × distance"
    assert format_dimension(parse_unit("kWh/km").dimension) == "energy per distance"


@pytest.mark.parametrize(
    ("text", "bad"),
    [("kwh", "kwh"), ("kg/kwh", "kwh"), ("furlong", "furlong"), ("kWh/", None), ("/kWh", None),
     ("a/b/c", None), ("", None), ("kg..m", ""), ("m^x", "m^x"), ("kg-m", "kg-m")],
)
def test_unit_errors(text: str, bad: str | None) -> None:
    with pytest.raises(UnitError) as info:
        parse_unit(text)
    assert info.value.name == bad
    assert str(info.value)


# --- dimension algebra as properties --------------------------------------------------------

SIMPLE = sorted(n for n in registry().units if n != "1")
units = st.sampled_from(SIMPLE).map(parse_unit)
powers = st.integers(-3, 3)
dimensions = st.lists(st.tuples(st.sampled_from(["m", "kg", "s", "J", "CO2e", "USD"]), st.integers(-3, 3)), max_size=4).map(
    lambda pairs: dim_mul((), tuple(pairs))
)


@given(units, units)
def test_multiply_then_divide_is_identity(a: Unit, b: Unit) -> None:
    back = (a * b) / b
    assert back.dimension == a.dimension and back.scale == a.scale


@given(units, units)
def test_compound_text_parses_as_the_product_and_quotient(a: Unit, b: Unit) -> None:
    prod, quot = parse_unit(f"{a.name}.{b.name}"), parse_unit(f"{a.name}/{b.name}")
    assert (prod.dimension, prod.scale) == ((a * b).dimension, (a * b).scale)
    assert (quot.dimension, quot.scale) == ((a / b).dimension, (a / b).scale)


@given(units, units)
def test_conversion_ratios_are_inverse(a: Unit, b: Unit) -> None:
    if a.dimension == b.dimension:
        assert a.ratio_to(b) * b.ratio_to(a) == 1
    else:
        with pytest.raises(UnitError):
            a.ratio_to(b)


@given(dimensions, dimensions, dimensions)
def test_dimension_multiplication_is_an_abelian_group(a, b, c) -> None:
    assert dim_mul(a, b) == dim_mul(b, a)
    assert dim_mul(dim_mul(a, b), c) == dim_mul(a, dim_mul(b, c))
    assert dim_mul(a, DIMENSIONLESS) == a
    assert dim_mul(a, a, -1) == DIMENSIONLESS
    assert dim_mul(dim_mul(a, b), b, -1) == a
    assert list(dim_mul(a, b)) == sorted(dim_mul(a, b)) and all(e != 0 for _, e in dim_mul(a, b))


@given(dimensions, powers, powers)
def test_dimension_powers(a, m: int, n: int) -> None:
    assert dim_mul(dim_pow(a, m), dim_pow(a, n)) == dim_pow(a, m + n)
    assert dim_pow(a, 1) == a and dim_pow(a, 0) == DIMENSIONLESS


@given(units, st.integers(1, 3))
def test_powers_of_units(a: Unit, n: int) -> None:
    if a.name.isidentifier() and not a.name[-1].isdigit():
        p = parse_unit(f"{a.name}^{n}")
        assert p.dimension == dim_pow(a.dimension, n) and p.scale == a.scale**n
