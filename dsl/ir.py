"""The checked intermediate representation: small, typed, immutable and free of SQL.

Every quantity node carries its ``scale``: the node's numeric value times ``scale`` is the
value in base units (m, kg, s, J, kg of a gas). Unit conversions are therefore explicit
``Rescale`` nodes with exact rational ratios, decided at compile time; the SQL generator and
the Python reference evaluator both just follow the tree.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Iterable, Iterator, Literal

from ccf.dsl.source import Spanned
from ccf.dsl.units import DIMENSIONLESS, Dimension, format_dimension


@dataclass(frozen=True)
class Type:
    """A value's type: quantity (with dimension), text, boolean, date, or null."""

    kind: Literal["quantity", "text", "boolean", "date", "null"]
    dimension: Dimension = DIMENSIONLESS

    def __str__(self) -> str:
        if self.kind == "quantity":
            return format_dimension(self.dimension) if self.dimension else "a number"
        return {"text": "text", "boolean": "true/false", "date": "a date", "null": "null"}[self.kind]


NUMBER = Type("quantity")
TEXT = Type("text")
BOOLEAN = Type("boolean")
DATE = Type("date")
NULL = Type("null")


def quantity(dim: Dimension) -> Type:
    return Type("quantity", dim)


class Node(Spanned):
    """Base of IR expression nodes."""

    type: Type
    scale: Fraction


def children(node: Node) -> Iterator[Node]:
    """The operand nodes of an expression node, in field order (the one walk of IR trees)."""
    for f in fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, Node):
                yield child


@dataclass(frozen=True)
class Const(Node):
    """A decimal constant (from a literal or a parameter), in units of ``scale``."""

    value: Decimal
    type: Type = NUMBER
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class TextConst(Node):
    value: str
    type: Type = TEXT
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class BoolConst(Node):
    value: bool
    type: Type = BOOLEAN
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class DateConst(Node):
    value: str  # ISO yyyy-mm-dd
    type: Type = DATE
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class NullConst(Node):
    type: Type = NULL
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class UnitConversion:
    """How one row unit becomes base units: value × factor (exact)."""

    unit: str
    factor: Decimal


@dataclass(frozen=True)
class FieldRef(Node):
    """An activity field. Quantities are brought to base units per row via ``conversions``
    (keyed by the row's ``<field>_unit``), or by ``fixed_factor`` for a field with a fixed unit."""

    name: str
    type: Type
    conversions: tuple[UnitConversion, ...] = ()
    fixed_factor: Decimal | None = None
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class ParamRef(Node):
    """A named methodology parameter (kept by name for explanation and diff)."""

    name: str
    value: Node
    type: Type
    scale: Fraction


@dataclass(frozen=True)
class FactorRef(Node):
    """The value of one gas of a factor lookup, in units of ``scale``."""

    lookup: str
    gas: str
    type: Type
    scale: Fraction


@dataclass(frozen=True)
class Arith(Node):
    op: Literal["+", "-", "*", "/"]
    left: Node
    right: Node
    type: Type
    scale: Fraction


@dataclass(frozen=True)
class Neg(Node):
    operand: Node
    type: Type
    scale: Fraction


@dataclass(frozen=True)
class Rescale(Node):
    """operand × ratio: converts a value to a new scale (scale = operand.scale / ratio)."""

    operand: Node
    ratio: Fraction
    type: Type
    scale: Fraction


@dataclass(frozen=True)
class Compare(Node):
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: Node
    right: Node
    type: Type = BOOLEAN
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class IsNull(Node):
    """``x == null`` / ``x != null``: whether a value is missing (never null itself)."""

    operand: Node
    negated: bool = False
    type: Type = BOOLEAN
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class Logic(Node):
    op: Literal["and", "or"]
    left: Node
    right: Node
    type: Type = BOOLEAN
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class Not(Node):
    operand: Node
    type: Type = BOOLEAN
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class InList(Node):
    operand: Node
    items: tuple[Node, ...]
    negated: bool = False
    type: Type = BOOLEAN
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class IfThen(Node):
    cond: Node
    then: Node
    otherwise: Node
    type: Type
    scale: Fraction


@dataclass(frozen=True)
class Coalesce(Node):
    left: Node
    right: Node
    type: Type
    scale: Fraction


@dataclass(frozen=True)
class Func(Node):
    """min, max (ignore nulls, as SQL LEAST/GREATEST), abs, round (half away from zero), year."""

    name: Literal["min", "max", "abs", "round", "year"]
    args: tuple[Node, ...]
    type: Type
    scale: Fraction
    digits: int = 0  # for round


@dataclass(frozen=True)
class Share(Node):
    """``share(quantity, key, …)``: this row's ``quantity`` divided by the total of ``quantity``
    over the rows of the run's dataset with the same ``keys`` (dimensionless, scale 1). The total
    is defined when it is positive and no row of the key has a negative quantity (nulls count for
    nothing); otherwise the share is NULL and a rule whose emissions read it leaves the row
    unmatched (``no_total``). Computed in SQL as a window sum (engine/compile/shares.py), in
    Python by dsl/shares.py."""

    quantity: Node
    keys: tuple[Node, ...]
    type: Type = NUMBER
    scale: Fraction = Fraction(1)


# --- methodology level ---------------------------------------------------------------


@dataclass(frozen=True)
class Field(Spanned):
    name: str
    type: Type
    required: bool
    conversions: tuple[UnitConversion, ...] = ()
    fixed_factor: Decimal | None = None
    display_unit: str | None = None


@dataclass(frozen=True)
class ActivityType(Spanned):
    id: str
    title: str
    fields: tuple[Field, ...]
    content_hash: str

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class FactorLookup(Spanned):
    """Rows find a factor where every ``select`` attribute equals its text and every
    ``match`` attribute equals the row's key expression; values are converted to per ``per``
    from any unit of its dimension.

    Fallback order when several factors qualify: the row's own ``region``, then its parents up
    to WORLD (nearest first); the row's ``year``, then the latest earlier year; a factor stated
    per ``per`` itself before one stated in another unit. The level that matched is recorded.
    """

    name: str
    select: tuple[tuple[str, str], ...]
    match: tuple[tuple[str, Node], ...]
    per: str
    gases: tuple[str, ...]  # gases referenced by the rules
    region: Node | None = None
    year: Node | None = None
    # another factor set than the methodology's (e.g. the organisation's residual mix); None:
    # the methodology's own ``factor_set``
    factor_set: str | None = None
    declared_set: "FactorSet | None" = None  # the declaration of ``factor_set``


@dataclass(frozen=True)
class CurrencyConversion(Spanned):
    """Spend-based: a row's ``amount`` in its ``currency`` at ``price_year`` prices, converted to
    ``to_currency`` at ``to_year`` prices: first by the exchange rate of the price year
    (``exchange_rates``), then deflated by the ``to_currency`` economy's ``price_index``
    (docs/methodologies.md#currency-and-inflation). Rates are resolved once per distinct
    (currency, year); a row without a rate is unmatched (reason code ``no_rate``)."""

    name: str
    amount: Node
    currency: Node
    price_year: Node
    to_currency: str
    to_year: int
    exchange_rates: str
    price_index: str | None = None


@dataclass(frozen=True)
class ConversionRef(Node):
    """The row's amount after a currency conversion: units of its ``to_currency``."""

    conversion: str
    type: Type
    scale: Fraction = Fraction(1)


@dataclass(frozen=True)
class Emission(Spanned):
    """One part of a rule's emissions: a gas, or ``TOTAL_MINUS_GASES``; ``value`` is in kg of
    ``gas`` (or kg CO2e when ``co2e_basis``), already rescaled to scale 1."""

    gas: str  # 'CO2e' | 'CO2' | 'CH4' | 'N2O' | 'CO2_biogenic' | TOTAL_MINUS_GASES
    value: Node
    co2e_basis: bool  # True: value is kg CO2e (of that gas); False: kg of the gas itself


@dataclass(frozen=True)
class Rule(Spanned):
    """One ordered rule. With a ``total`` (kg CO2e, scale 1: the published CO2e total the rule
    reports), ``emissions`` holds its gases and a ``TOTAL_MINUS_GASES`` part whose value is
    ``total`` minus their kg CO2e, so that the parts add up to the total exactly."""

    id: str
    where: Node | None
    emissions: tuple[Emission, ...] = ()
    exclude: str | None = None
    description: str | None = None
    total: Node | None = None
    data_quality: Node | None = None  # the score of a row without one (a number, scale 1)


@dataclass(frozen=True)
class Parameter(Spanned):
    name: str
    value: Node


@dataclass(frozen=True)
class Instruments(Spanned):
    """Contractual instruments allocated to the activity rows before the rules run.

    Rows and instruments are pooled by the ``match`` fields and by year (the row's
    ``period_start`` year = the instrument's ``vintage``); within a pool both are laid end to
    end in a fixed order (rows by period_start, activity_id; instruments by activity_id) and
    each row receives the overlap of its interval with each instrument's. A row becomes one
    part per instrument it received and a remainder part; in the rules ``allocate`` is the
    part's quantity and ``instrument.<field>`` the instrument's fields (null in the remainder).
    """

    activity: ActivityType
    allocate: str
    match: tuple[str, ...]
    vintage: str


INSTRUMENT = "instrument"  # the name rules use for the allocated instrument: instrument.<field>

# Gases reported outside the scopes (never in a Scope 1-3 total), e.g. biogenic CO2 from burning
# biomass or biofuels (GHG Protocol Corporate Standard ch. 9; DESNZ "outside of scopes" factors),
# with the gas whose GWP and unit they take.
OUTSIDE_SCOPES = {"CO2_biogenic": "CO2"}
# The calculation method whose results are reported apart from the scopes, in no total: projected
# lifetime emissions of projects financed in the period (GHG Protocol Scope 3 Standard 5.4,
# category 15: reported separately from the Scope 3 inventory).
PROJECTED_LIFETIME = "projected-lifetime"
# The result part of a rule with a published total (``total:``): the total minus the kg CO2e of
# its gases. Stored as a part of its own (a ``gas`` of ccf.result), so that a run's kg CO2e is
# the published-total arithmetic while each gas still reads as published
# (docs/numeric-semantics.md#published-totals).
TOTAL_MINUS_GASES = "total_minus_gases"
# The order of a row's parts, wherever several are listed (result rows, reports, explanations):
# the gases, the total's difference to them, then biogenic CO2, outside the scopes.
GAS_ORDER = ("CO2e", "CO2", "CH4", "N2O", TOTAL_MINUS_GASES, "CO2_biogenic")


def gwp_gas(gas: str) -> str:
    """The gas whose GWP weights this one (biogenic CO2 is CO2)."""
    return OUTSIDE_SCOPES.get(gas, gas)


# The GWP-100 tables ccf ships are also factor sets, one per IPCC assessment: ``ipcc-gwp100-ar6``
# gives the kg CO2e per kg of each gas and refrigerant blend in AR6 (engine/factors/refrigerants.py).
# Their assessments are the GWP sets a methodology's ``gwp`` may name; ``factor_set: ipcc-gwp100``
# (of a methodology or a lookup) reads the one of the methodology's ``gwp`` (dsl/check.py).
GWP_FACTOR_SET = "ipcc-gwp100"


def gwp_factor_set(gwp: str) -> str:
    """The factor set of one GWP set's kg CO2e per kg, e.g. 'AR6' -> 'ipcc-gwp100-ar6'."""
    return f"{GWP_FACTOR_SET}-{gwp.lower()}"


def gwp_sets(factor_sets: Iterable[str]) -> dict[str, str]:
    """GWP set -> its factor set, for the GWP-100 factor sets among ``factor_sets`` (ids)."""
    prefix = GWP_FACTOR_SET + "-"
    return {s.removeprefix(prefix).upper(): s for s in factor_sets if s.startswith(prefix)}


def instrument_column(field: str) -> str:
    """The row column holding an instrument field (``__`` is reserved: no activity field has it)."""
    return f"{INSTRUMENT}__{field}"


@dataclass(frozen=True)
class Edition(Spanned):
    """One edition of a declared factor set: the reporting periods it is for (both days
    included; none: any period, its factors carry their own years) and, for a shipped edition,
    the file and the sha256 of its published bytes."""

    id: str
    periods: tuple[tuple[date, date], ...] = ()
    file: str | None = None
    sha256: str | None = None

    def covers(self, start: date, end: date) -> bool:
        """Whether the edition is for the whole of start..end."""
        return not self.periods or any(a <= start and end <= b for a, b in self.periods)

    def describe_periods(self) -> str:
        return ", ".join(period_text(a, b) for a, b in self.periods) or "any period"


def period_text(start: date, end: date) -> str:
    """``2024`` for a calendar year, else ``2024-04-01..2025-03-31``."""
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)
    return f"{start.isoformat()}..{end.isoformat()}"


@dataclass(frozen=True)
class FactorSet(Spanned):
    """A declared factor set (methodologies/factor_sets/<id>.yaml): what a methodology may
    select and match on, the unit of each gas's values, and its editions. A methodology names
    the set (the run takes the edition of the dataset's period) or one edition."""

    id: str
    title: str
    publisher: str
    licence: str
    attributes: tuple[str, ...]
    gas_units: tuple[tuple[str, str], ...]
    regions: tuple[str, ...]
    years: tuple[int, ...]
    editions: tuple[Edition, ...]
    content_hash: str
    path: str

    def edition(self, id: str) -> Edition | None:
        return next((e for e in self.editions if e.id == id), None)

    def names(self) -> tuple[str, ...]:
        """The ids a methodology may name this set by: its own and each edition's."""
        return (self.id, *(e.id for e in self.editions if e.id != self.id))


@dataclass(frozen=True)
class Methodology(Spanned):
    """A checked methodology version, ready to lower to SQL or evaluate in Python."""

    id: str
    version: str
    status: str
    title: str
    scope: int
    category: int | None
    source: str | None
    method: str
    references: tuple[str, ...]
    factor_set: str
    gwp: str
    activity: ActivityType
    parameters: tuple[Parameter, ...]
    lookups: tuple[FactorLookup, ...]
    rules: tuple[Rule, ...]
    content_hash: str
    path: str
    instruments: Instruments | None = None
    conversions: tuple[CurrencyConversion, ...] = ()  # spend-based currency conversions
    # the declaration ``factor_set`` names (its series, or the set of the edition it pins)
    declared_set: FactorSet | None = None
    # the score of a result whose row has none and whose rule gives none (a number, scale 1)
    data_quality: Node | None = None

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


# --- walks ------------------------------------------------------------------------------


def factor_refs(node: Node) -> Iterator[FactorRef]:
    """Every factor reference in an expression, in source order."""
    if isinstance(node, FactorRef):
        yield node
        return
    for child in children(node):
        yield from factor_refs(child)


def share_refs(node: Node) -> Iterator[Share]:
    """Every ``share()`` in an expression, in source order (a share's arguments hold none)."""
    if isinstance(node, Share):
        yield node
        return
    for child in children(node):
        yield from share_refs(child)


def methodology_shares(m: "Methodology") -> tuple[Share, ...]:
    """The distinct shares a methodology's rules read (conditions and emissions), in source order:
    one total per share, however often it is written."""
    found: dict[Share, None] = {}
    for rule in m.rules:
        nodes = [rule.where, rule.total, *(em.value for em in rule.emissions)]
        for node in nodes:
            if node is not None:
                found.update(dict.fromkeys(share_refs(node)))
    return tuple(found)


def level_factors(rule: Rule, emission: Emission) -> Iterator[FactorRef]:
    """The factors whose match level a result part records: its own, but for a total's
    difference to its gases the total's (each gas records its own in its part)."""
    if emission.gas == TOTAL_MINUS_GASES and rule.total is not None:
        return factor_refs(rule.total)
    return factor_refs(emission.value)


def leaves(node: Node) -> list[Node]:
    """The fields, parameters, factors and shares an expression reads, in source order, once
    each (a parameter is one leaf: its value is not walked; a share is one leaf too: its value
    is a quotient over other rows, shown with its own arguments)."""
    if isinstance(node, (FieldRef, ParamRef, FactorRef, Share)):
        return [node]
    out: list[Node] = []
    for child in children(node):
        for leaf in leaves(child):
            if leaf not in out:
                out.append(leaf)
    return out
