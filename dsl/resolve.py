"""Factor resolution for the reference evaluator: which factor a lookup finds for one row's keys.

``resolve_factor`` does for one row what ``compile.lookups.lookup_ctes`` does for all rows at once:
the candidates a lookup's ``select`` and ``match`` admit, ranked by region distance, year and
unit, the best rank's count, smallest value and factor id per gas. ``RecordsResolver`` and
``FactorSetsResolver`` answer lookups over in-memory factor records (``FactorResolver``); this
module never touches the database.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Callable, Iterable, Mapping, Protocol, Sequence

from ccf.dsl import ir
from ccf.dsl.numeric import EXACT, div, numeric_text
from ccf.dsl.units import Dimension, fraction_to_decimal, parse_unit

WORLD = "WORLD"  # the root of the region hierarchy; a factor without a region applies here


@dataclass(frozen=True)
class GasFactor:
    """One gas of a resolved lookup: what the compiled SQL's ``factor_<lookup>`` row holds."""

    value: Decimal | None  # MIN(value) at the best fallback rank, per the lookup's own unit
    factor_id: str | None  # MIN(factor_id) at the best rank
    candidates: int  # factors at the best rank; 1 is the only usable count
    match_level: str | None = None  # 'exact', or the fallbacks taken ('region US for SRMW; stated per GJ')


NO_FACTOR = GasFactor(None, None, 0, None)


@dataclass(frozen=True)
class ResolvedFactor:
    """What one factor lookup found for one row, gas by gas."""

    gases: tuple[tuple[str, GasFactor], ...]

    def gas(self, gas: str) -> GasFactor:
        return dict(self.gases).get(gas, NO_FACTOR)


@dataclass(frozen=True)
class LookupKeys:
    """A row's keys for one lookup: each ``match`` attribute's value, and the row's region and
    year when the lookup falls back along them (``compile.lookups.key_columns``)."""

    match: tuple[tuple[str, str | None], ...] = ()
    region: str | None = None
    year: Decimal | None = None


class FactorResolver(Protocol):
    """Finds the factors of a lookup for a row's keys (None: no candidate at all)."""

    def resolve(self, lookup: ir.FactorLookup, keys: LookupKeys) -> ResolvedFactor | None: ...


class FactorRecordLike(Protocol):
    """The fields of a factor record a lookup reads (``engine.factors.model.FactorRecord``)."""

    factor_id: str
    unit: str
    gas: str
    value: Decimal
    attributes: Iterable[tuple[str, str]]
    region: str | None
    year: int | None


@cache
def factor_unit(name: str) -> tuple[Dimension, Decimal]:
    """A factor unit's dimension and exact scale (what ``ccf.unit`` holds for it)."""
    u = parse_unit(name)
    return u.dimension, fraction_to_decimal(u.scale)


def resolve_factor(
    lookup: ir.FactorLookup,
    keys: LookupKeys,
    records: Iterable[FactorRecordLike],
    *,
    default_region: str | None = None,
    default_year: int | None = None,
    ancestors: Callable[[str], Sequence[tuple[str, int]]] | None = None,
) -> ResolvedFactor | None:
    """The lookup as ``compile.lookups.lookup_ctes`` does it, for one row's keys.

    Candidates: factors of a gas the rules use, stated per any unit of ``per``'s dimension,
    whose every ``select`` attribute equals its text and every ``match`` attribute the row's
    key (a missing key matches nothing); with ``region``, the factor's region (its own, else
    the set's, else WORLD) is the row's region or an ancestor of it; with ``year``, the
    factor's year (its own, else the set's) is absent or not after the row's. A factor stated
    in another unit is converted: ``ccf.div(value × scale(per), scale(unit))``.
    Per gas, the best candidates rank first by region distance, then latest year (no year
    last), then own unit before another; the gas gets their count, smallest value, smallest
    factor id and smallest match level (SQL ``RANK() = 1``, then ``MIN``s taken one by one).
    This is the one place resolution happens.
    """
    match = dict(keys.match)
    if any(match.get(name) is None for name, _ in lookup.match):
        return None
    if (lookup.region is not None and keys.region is None) or (lookup.year is not None and keys.year is None):
        return None
    per = parse_unit(lookup.per)
    per_scale = fraction_to_decimal(per.scale)
    wanted = [*lookup.select, *((name, match[name]) for name, _ in lookup.match)]
    chain: dict[str, int] = {}
    if lookup.region is not None:
        assert keys.region is not None
        chain = {a: d for a, d in (ancestors or _itself_and_world)(keys.region)}
    ranked: dict[str, list[tuple[tuple, Decimal | None, str, str]]] = {}
    for r in records:
        if r.gas not in lookup.gases:
            continue
        dimension, unit_scale = factor_unit(r.unit)
        if dimension != per.dimension:
            continue
        attrs = dict(r.attributes)
        if not all(attrs.get(name) == value for name, value in wanted):
            continue
        rank: list[object] = []
        level: list[str] = []
        if lookup.region is not None:
            region = r.region if r.region is not None else default_region
            region = region if region is not None else WORLD
            if region not in chain:
                continue
            rank.append(chain[region])
            if chain[region] > 0:
                level.append(f"region {region} for {keys.region}")
        if lookup.year is not None:
            assert keys.year is not None
            year = r.year if r.year is not None else default_year
            if year is not None and not year <= keys.year:
                continue
            rank.append((1, 0) if year is None else (0, -year))  # DESC NULLS LAST
            if year is not None and year < keys.year:
                level.append(f"year {year} for {numeric_text(keys.year)}")
        own = r.unit == lookup.per
        rank.append(not own)
        if not own:
            level.append(f"stated per {r.unit}")
        value = r.value if own else div(EXACT.multiply(r.value, per_scale), unit_scale)
        ranked.setdefault(r.gas, []).append((tuple(rank), value, r.factor_id, "; ".join(level) or "exact"))
    if not ranked:
        return None
    gases = []
    for gas, candidates in sorted(ranked.items()):
        best = min(c[0] for c in candidates)
        top = [c for c in candidates if c[0] == best]
        values = [c[1] for c in top if c[1] is not None]
        gases.append(
            (gas, GasFactor(min(values) if values else None, min(c[2] for c in top), len(top), min(c[3] for c in top)))
        )
    return ResolvedFactor(tuple(gases))


def _itself_and_world(code: str) -> list[tuple[str, int]]:
    """The ancestors of a region the hierarchy does not list: itself, then WORLD."""
    return [(code, 0)] if code == WORLD else [(code, 0), (WORLD, 1)]


class RecordsResolver:
    """A ``FactorResolver`` over the records of one factor set (duck-typed ``FactorRecord``s).

    ``region`` and ``year`` are the set's defaults for records without their own (as the
    factor store writes them); ``regions`` is the hierarchy as (region, ancestor, depth)
    rows (``engine.factors.regions.closure``); a region it does not list has only itself and
    WORLD above it. It answers the lookups of the methodology's own set; a lookup that names
    another set (``factor_set:``) finds nothing here, as in a database without that set
    (``FactorSetsResolver`` answers several sets).
    """

    def __init__(
        self,
        records: Iterable[FactorRecordLike],
        *,
        region: str | None = None,
        year: int | None = None,
        regions: Iterable[tuple[str, str, int]] = (),
    ):
        self._records = tuple(records)
        self._region, self._year = region, year
        self._memo: dict[tuple[int, LookupKeys], ResolvedFactor | None] = {}
        self._lookups: dict[int, ir.FactorLookup] = {}  # keeps memoised lookups alive
        self._candidates: dict[int, tuple[FactorRecordLike, ...]] = {}
        self._chains: dict[str, list[tuple[str, int]]] = {}
        for code, ancestor, depth in regions:
            self._chains.setdefault(code, []).append((ancestor, depth))

    def ancestors(self, code: str) -> Sequence[tuple[str, int]]:
        return self._chains.get(code) or _itself_and_world(code)

    def resolve(self, lookup: ir.FactorLookup, keys: LookupKeys) -> ResolvedFactor | None:
        if lookup.factor_set is not None:  # another set, which these records are not
            return None
        # resolved once per distinct key, as the SQL does (factor_<lookup>_keys)
        memo = (id(lookup), keys)
        if memo not in self._memo:
            self._lookups[id(lookup)] = lookup
            self._memo[memo] = resolve_factor(
                lookup, keys, self._candidates_of(lookup),
                default_region=self._region, default_year=self._year, ancestors=self.ancestors,
            )
        return self._memo[memo]

    def _candidates_of(self, lookup: ir.FactorLookup) -> tuple[FactorRecordLike, ...]:
        """The records that ``resolve_factor``'s tests independent of the row pass (a gas the
        rules use, a unit of ``per``'s dimension, every ``select`` attribute), found once per
        lookup: a set holds thousands of records and a lookup resolves many keys, and
        ``resolve_factor`` applies the same tests again, so its answer is unchanged."""
        if id(lookup) not in self._candidates:
            dimension = parse_unit(lookup.per).dimension
            self._candidates[id(lookup)] = tuple(
                r for r in self._records
                if r.gas in lookup.gases and factor_unit(r.unit)[0] == dimension
                and all(dict(r.attributes).get(name) == value for name, value in lookup.select))
        return self._candidates[id(lookup)]


class FactorSetsResolver:
    """A ``FactorResolver`` over several factor sets: a lookup's own ``factor_set`` is answered
    by that set's resolver (an absent set finds nothing, as when it is not installed), every
    other lookup by the methodology's set (``default``)."""

    def __init__(self, default: FactorResolver, others: Mapping[str, FactorResolver]):
        self._default, self._others = default, dict(others)
        self._plain: dict[int, tuple[ir.FactorLookup, ir.FactorLookup]] = {}  # the lookup as its own set sees it

    def resolve(self, lookup: ir.FactorLookup, keys: LookupKeys) -> ResolvedFactor | None:
        if lookup.factor_set is None:
            return self._default.resolve(lookup, keys)
        other = self._others.get(lookup.factor_set)
        if other is None:
            return None
        if id(lookup) not in self._plain:  # one object per lookup: resolvers memoise by identity
            self._plain[id(lookup)] = (lookup, dataclasses.replace(lookup, factor_set=None))
        return other.resolve(self._plain[id(lookup)][1], keys)


__all__ = [
    "NO_FACTOR", "WORLD", "FactorRecordLike", "FactorResolver", "FactorSetsResolver", "GasFactor", "LookupKeys",
    "RecordsResolver", "ResolvedFactor", "factor_unit", "resolve_factor",
]
