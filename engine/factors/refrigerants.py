"""Refrigerant compositions (``factors/refrigerants.csv``) and the GWP-100 factor sets built from
them: per IPCC assessment, the kg CO2e per kg of every gas and refrigerant blend.

A blend's kg CO2e per kg is the sum over its components of mass fraction × the component's GWP
in that assessment, computed exactly (Decimal); the fractions of a blend sum to exactly 1, checked
on load. Each set publishes, per refrigerant, up to two factors (attribute ``basket``):

``kyoto``  only the components in the Kyoto basket (``KYOTO_BASKET``: CO2, CH4, N2O, HFCs, PFCs,
           SF6, NF3), the GHG Protocol's Scope 1 figure; 0 for a refrigerant with none of them
           (R22, R1234yf), so that a methodology can tell it apart from an unknown one;
``all``    every component; only where every component has a GWP in that assessment.

A Kyoto component without a GWP in an assessment leaves the refrigerant without a ``kyoto``
factor there (unmatched, never a figure that silently drops the component). The sets are named
``ir.gwp_factor_set(<assessment>)``, e.g. ``ipcc-gwp100-ar6``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ccf.dsl import ir
from ccf.engine.factors.model import (
    FactorFileError, FactorRecord, FactorSetEdition, GwpRecord, csv_rows, file_sha256, parse_decimal, read_file, read_text,
)

COLUMNS = ("refrigerant", "component", "mass_fraction", "source")

# The Kyoto basket as IPCC species of the GWP table: the gases of Annex A to the Kyoto Protocol as
# amended at Doha (2012), which the GHG Protocol's scopes count (Corporate Standard ch. 4; NF3
# since the 2013 amendment). Every other component (CFCs, HCFCs, HFOs, hydrocarbons) is outside it.
KYOTO_BASKET = frozenset({
    "CO2", "CH4", "N2O", "SF6", "NF3",
    "HFC23", "HFC32", "HFC41", "HFC125", "HFC134", "HFC134a", "HFC143", "HFC143a", "HFC152", "HFC152a", "HFC161",
    "HFC227ea", "HFC236cb", "HFC236ea", "HFC236fa", "HFC245ca", "HFC245fa", "HFC365mfc", "HFC4310mee",
    "CF4", "C2F6", "C3F8", "C4F10", "cC4F8", "C5F12", "C6F14", "C10F18", "cC3F6",
})
# Components that are not species of the IPCC table (it gives them no GWP-100): HFOs and
# hydrocarbons, all outside the Kyoto basket. Named here so that a misspelt component is an error
# on load, not a component silently outside the basket.
NOT_IN_GWP_TABLE = frozenset({"HFO1234yf", "HFO1234zeE", "R290", "R600", "R600a", "R601a", "R1270"})
BASKETS = ("kyoto", "all")


@dataclass(frozen=True)
class Refrigerant:
    name: str
    components: tuple[tuple[str, Decimal], ...]  # (IPCC species, mass fraction), in file order
    line: int  # the line of its first component


def load_refrigerants(path: str | Path, species: frozenset[str]) -> list[Refrigerant]:
    """The refrigerants of a composition file, in file order; each component a species of the GWP
    table (``species``) or of ``NOT_IN_GWP_TABLE``, each blend's fractions summing to exactly 1."""
    path = Path(path)
    rows = list(csv_rows(read_text(read_file(path), path)))
    if not rows or tuple(c.strip() for c in rows[0][1]) != COLUMNS:
        raise FactorFileError(f"expected the header {','.join(COLUMNS)}", path, rows[0][0] if rows else None)
    parts: dict[str, list[tuple[str, Decimal]]] = {}
    first: dict[str, int] = {}
    previous = None
    for line, cells in rows[1:]:
        if len(cells) != len(COLUMNS):
            raise FactorFileError(f"{len(cells)} cells; expected {len(COLUMNS)}", path, line)
        name, component, text, source = (c.strip() for c in cells)
        fraction = parse_decimal(text)
        if not name or not source:
            raise FactorFileError("every row names its refrigerant and its source", path, line)
        if component not in species and component not in NOT_IN_GWP_TABLE:
            raise FactorFileError(f"{name}: component '{component}' is neither a species of the GWP table nor a "
                                  "known HFO or hydrocarbon", path, line)
        if fraction is None or not 0 < fraction <= 1:
            raise FactorFileError(f"{name}: mass fraction '{text}' is not a number in (0, 1]", path, line)
        if name in first and previous != name:
            raise FactorFileError(f"{name}: its components are not on consecutive rows (first on line {first[name]})", path, line)
        if any(c == component for c, _ in parts.get(name, [])):
            raise FactorFileError(f"{name}: component '{component}' appears twice", path, line)
        first.setdefault(name, line)
        previous = name
        parts.setdefault(name, []).append((component, fraction))
    out = []
    for name, components in parts.items():
        total = sum((f for _, f in components), Decimal(0))
        if total != 1:
            raise FactorFileError(f"{name}: mass fractions sum to {total}, not exactly 1", path, first[name])
        out.append(Refrigerant(name, tuple(components), first[name]))
    return out


def _value(r: Refrigerant, gwp: dict[str, Decimal], basket: str) -> Decimal | None:
    """Σ fraction × GWP over the basket's components, exactly; None when a component counted has
    no GWP in this assessment."""
    counted = [(c, f) for c, f in r.components if basket == "all" or c in KYOTO_BASKET]
    if any(c not in gwp for c, _ in counted):
        return None
    return sum((f * gwp[c] for c, f in counted), Decimal(0))


def gwp_factor_sets(
    records: list[GwpRecord], refrigerants: list[Refrigerant], gwp_file: str, gwp_sha256: str,
    composition_file: str, composition_sha256: str,
) -> dict[str, tuple[FactorSetEdition, list[FactorRecord]]]:
    """One factor-set edition per assessment of the GWP table, by edition id: kg CO2e per kg of
    each refrigerant of the composition file, by basket. Its sha256 is that of both source files'
    checksums, so a change to either is a new edition."""
    by_set: dict[str, dict[str, Decimal]] = {}
    for rec in records:
        by_set.setdefault(rec.gwp_set, {})[rec.gas] = rec.value
    sha256 = file_sha256(f"{gwp_sha256} {composition_sha256}".encode())
    out = {}
    for gwp_set, gwp in by_set.items():
        set_id = ir.gwp_factor_set(gwp_set)
        edition = FactorSetEdition(
            id=set_id, publisher="IPCC (GWP-100, via openclimatedata); compositions: US EPA, ASHRAE",
            title=f"GWP-100 ({gwp_set}) per kg of gas and refrigerant blend", edition=gwp_set, published=None,
            licence="CC0 (GWP table); US Government work (EPA compositions)",
            source_file=f"{gwp_file} + {composition_file}", sha256=sha256, region=None, year=None,
            gas_units=(("CO2e", "kgCO2e"),), attributes=("basket", "refrigerant"),
        )
        factors = [
            FactorRecord(f"{gwp_set}/{r.name}/{basket}", r.name, "kg", "CO2e", value,
                         (("basket", basket), ("refrigerant", r.name)), None, None, r.line)
            for r in refrigerants for basket in BASKETS
            if (value := _value(r, gwp, basket)) is not None
        ]
        out[set_id] = (edition, factors)
    return out
