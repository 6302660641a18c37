"""Physical units and dimensions, exact: every unit is a Fraction times a product of bases.

The registry is read from ``units.toml``. A dimension is a sorted tuple of (base, exponent);
a unit is a dimension plus an exact scale relative to its bases. Converting between two units
of one dimension is the ratio of their scales, an exact rational resolved at compile time.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from types import MappingProxyType
from typing import Mapping

from ccf.dsl import resources
from ccf.dsl.diagnostics import CcfError

Dimension = tuple[tuple[str, int], ...]
DIMENSIONLESS: Dimension = ()

# Gas bases: a mass of each gas is a distinct dimension.
GASES = ("CO2e", "CO2", "CH4", "N2O")


class UnitError(CcfError, ValueError):
    """A unit string that does not parse or names an unknown unit. A ``CcfError`` like every error
    ccf reports; still a ``ValueError`` for callers that handle bad values as one."""

    def __init__(self, message: str, name: str | None = None):
        super().__init__(message)
        self.name = name


def dim_mul(a: Dimension, b: Dimension, sign: int = 1) -> Dimension:
    acc: dict[str, int] = dict(a)
    for base, exp in b:
        acc[base] = acc.get(base, 0) + sign * exp
    return tuple(sorted((k, v) for k, v in acc.items() if v != 0))


def dim_pow(a: Dimension, n: int) -> Dimension:
    return tuple(sorted((k, v * n) for k, v in a if v * n != 0))


def format_dimension(d: Dimension) -> str:
    """Human form of a dimension, in the words authors use where one exists."""
    for name, dim in named_dimensions().items():
        if dim == d and name != "length":
            return "emissions (a mass of CO2e)" if name == "emissions" else name
    if not d:
        return "a plain number"
    # in words: 'CO2e per energy' (an emission factor), 'mass × distance' (t.km)
    num = [_base_words(b, e) for b, e in d if e > 0]
    den = [_base_words(b, -e) for b, e in d if e < 0]
    text = " × ".join(num) or "1"
    if den:
        text += " per " + " × ".join(den)
    return text


_BASE_WORDS = {("m", 1): "distance", ("m", 2): "area", ("m", 3): "volume", ("kg", 1): "mass", ("s", 1): "time",
               ("J", 1): "energy"}


def _base_words(base: str, exp: int) -> str:
    return _BASE_WORDS.get((base, exp)) or (base if exp == 1 else f"{base}^{exp}")


@dataclass(frozen=True)
class Unit:
    """An exact unit: value_in_bases = value * scale."""

    name: str
    scale: Fraction
    dimension: Dimension

    def __mul__(self, other: "Unit") -> "Unit":
        return Unit(f"{self.name}·{other.name}", self.scale * other.scale, dim_mul(self.dimension, other.dimension))

    def __truediv__(self, other: "Unit") -> "Unit":
        return Unit(f"{self.name}/{other.name}", self.scale / other.scale, dim_mul(self.dimension, other.dimension, -1))

    def ratio_to(self, other: "Unit") -> Fraction:
        """Factor that converts a value in this unit to the other unit (same dimension)."""
        if self.dimension != other.dimension:
            raise UnitError(f"cannot convert {self.name} to {other.name}")
        return self.scale / other.scale


def _parse_base(text: str) -> tuple[Fraction, Dimension]:
    if text == "1":
        return Fraction(1), DIMENSIONLESS
    dim: Dimension = ()
    for part in text.split("·"):
        base, _, exp = part.partition("^")
        dim = dim_mul(dim, ((base, int(exp or 1)),))
    return Fraction(1), dim


@dataclass(frozen=True)
class Registry:
    """Read-only unit and dimension tables."""

    units: Mapping[str, Unit]
    dimensions: Mapping[str, tuple[Dimension, str]]  # name -> (dimension, display unit)


@cache
def registry() -> Registry:
    path = resources.dsl_file("units.toml")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as e:  # a damaged installation: said so, not a traceback
        raise CcfError(f"{path}: ccf's unit registry cannot be read ({e.strerror or e}); reinstall ccf") from None
    units: dict[str, Unit] = {}
    for name, (factor, base) in data["units"].items():
        _, dim = _parse_base(base.replace("^3", "^3"))
        if base.startswith("m^"):
            dim = (("m", int(base[2:])),)
        units[name] = Unit(name, Fraction(Decimal(factor)), dim)
    dims: dict[str, tuple[Dimension, str]] = {}
    for name, spec in data["dimensions"].items():
        base = spec["base"]
        if base == "kgCO2e":
            dim = units["kgCO2e"].dimension
        elif base.startswith("m^"):
            dim = (("m", int(base[2:])),)
        else:
            dim = _parse_base(base)[1]
        dims[name] = (dim, spec["display"])
    return Registry(MappingProxyType(units), MappingProxyType(dims))


def named_dimensions() -> dict[str, Dimension]:
    return {name: dim for name, (dim, _) in registry().dimensions.items()}


def unit_names() -> list[str]:
    return sorted(registry().units)


def units_of(dimension: Dimension) -> dict[str, Unit]:
    """Every registered unit of a dimension, by name (for per-row unit columns)."""
    return {n: u for n, u in registry().units.items() if u.dimension == dimension}


_TERM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*?|1)(\^-?\d+|[²³])?$")
_SUPERSCRIPT = {"²": 2, "³": 3}


def parse_unit(text: str) -> Unit:
    """Parse 'kgCO2e/kWh', 't.km', 'kgCO2e/passenger.km', 'm^2', 'm3'.

    Terms are joined by '.', '*' or '·'; everything after the first '/' is in the denominator.
    """
    reg = registry().units
    text = text.strip()
    if not text:
        raise UnitError("empty unit")
    if text in reg:
        return reg[text]
    num_text, slash, den_text = text.partition("/")
    if slash and ("/" in den_text or not den_text.strip() or not num_text.strip()):
        raise UnitError(f"'{text}' is not a unit expression (use one '/', e.g. kgCO2e/kWh)")
    result = Unit("1", Fraction(1), DIMENSIONLESS)
    for side, chunk in ((1, num_text), (-1, den_text)):
        if not chunk:
            continue
        for term in re.split(r"[.*·]", chunk):
            term = term.strip()
            m = _TERM.match(term)
            if not m:
                raise UnitError(f"'{term}' in '{text}' is not a unit", term)
            name, power = m.group(1), m.group(2)
            if name not in reg:
                raise UnitError(f"unknown unit '{name}'", name)
            exp = _SUPERSCRIPT.get(power or "", None) or (int(power[1:]) if power else 1)
            u = reg[name]
            scaled = Unit(name, u.scale**exp, dim_pow(u.dimension, exp))
            result = result * scaled if side == 1 else result / scaled
    return Unit(text, result.scale, result.dimension)


def dimension_key(dimension: Dimension) -> str:
    """Stable text form of a dimension, as stored with units in the database ('' = number)."""
    return "·".join(f"{base}^{exp}" for base, exp in dimension)


def gas_of(dimension: Dimension) -> str | None:
    """The gas whose mass this dimension is, or None."""
    if len(dimension) == 1 and dimension[0][1] == 1 and dimension[0][0] in GASES:
        return dimension[0][0]
    return None


def is_terminating(f: Fraction) -> bool:
    """True when f has a finite decimal expansion (denominator only 2s and 5s)."""
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def fraction_to_decimal(f: Fraction) -> Decimal:
    """Exact Decimal of a terminating fraction."""
    if not is_terminating(f):
        raise ValueError(f"{f} has no finite decimal expansion")
    n, d = f.numerator, f.denominator
    k = 0
    while d != 1:
        if d % 10 == 0:
            d //= 10
        elif d % 2 == 0:
            n, d = n * 5, d // 2
        else:
            n, d = n * 2, d // 5
        k += 1
    sign, digits, exponent = Decimal(n).as_tuple()
    return Decimal((sign, digits, exponent - k))  # exact: scaleb() would round to 28 digits
