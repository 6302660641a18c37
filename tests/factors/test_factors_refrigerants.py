"""Refrigerant compositions (factors/refrigerants.csv) and the GWP-100 factor sets built from them.

Expected values are derived from the shipped IPCC table (never from the code under test) and
checked against published figures: the US EPA GHG Emission Factors Hub 2025, Table 12 (AR5
GWP-100 of blends from their HFC and PFC components), read from the shipped EPA file.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from ccf.dsl import resources
from ccf.engine.factors.catalog import EPA_HUB_2025, REFRIGERANTS, shipped_editions, shipped_gwp
from ccf.engine.factors.model import FactorFileError, csv_rows, read_file, read_text
from ccf.engine.factors.refrigerants import KYOTO_BASKET, load_refrigerants

SPECIES = frozenset(r.gas for r in shipped_gwp())


def table(gwp_set: str, species: str) -> Decimal:
    """A GWP-100 as the shipped IPCC table gives it."""
    (value,) = [r.value for r in shipped_gwp() if (r.gwp_set, r.gas) == (gwp_set, species)]
    return value


def factor(gwp_set: str, refrigerant: str, basket: str = "kyoto") -> Decimal:
    _, records = shipped_editions()[f"ipcc-gwp100-{gwp_set.lower()}"]()
    (value,) = [r.value for r in records if r.factor_id == f"{gwp_set}/{refrigerant}/{basket}"]
    return value


@pytest.mark.parametrize("gwp_set,published", [("AR4", "2087.5"), ("AR5", "1923.5"), ("AR6", "2255.5")])
def test_r410a_is_half_hfc32_half_hfc125(gwp_set: str, published: str) -> None:
    from_table = Decimal("0.5") * table(gwp_set, "HFC32") + Decimal("0.5") * table(gwp_set, "HFC125")
    assert from_table == Decimal(published)  # the literature's figure, from the table's components
    assert factor(gwp_set, "R410A") == from_table


def test_blend_is_the_exact_sum_of_its_kyoto_components() -> None:
    # R448A: 26 % HFC-32, 26 % HFC-125, 21 % HFC-134a; the HFOs (27 %) are outside the Kyoto basket
    expected = sum(f * table("AR6", s) for s, f in (("HFC32", Decimal("0.26")), ("HFC125", Decimal("0.26")),
                                                    ("HFC134a", Decimal("0.21"))))
    assert factor("AR6", "R448A") == expected
    # R22 (an HCFC) and R1234yf (an HFO): known, with no Kyoto-basket component
    assert factor("AR6", "R22") == 0 and factor("AR6", "R1234yf") == 0
    assert factor("AR6", "R22", "all") == table("AR6", "HCFC22")
    _, records = shipped_editions()["ipcc-gwp100-ar6"]()
    assert not [r for r in records if r.factor_id == "AR6/R1234yf/all"]  # the table has no GWP for HFOs


def _epa_table_12() -> dict[str, tuple[Decimal, dict[str, Decimal]]]:
    """R-xxx -> (published AR5 GWP-100, composition) from the shipped EPA Hub 2025 file."""
    names = {"propane": "R290", "isobutane": "R600a", "butane": "R600", "propylene": "R1270", "isopentane": "R601a",
             "PFC-218": "C3F8", "PFC-116": "C2F6"}
    path = resources.factors() / EPA_HUB_2025
    out = {}
    for _, cells in csv_rows(read_text(read_file(path), path)):
        if len(cells) > 4 and re.fullmatch(r"R-\d{3}[A-Z]", cells[2].strip()):
            parts = {}
            for part in cells[4].split(","):
                pct, name = part.strip().split("% ")
                parts[names.get(name.strip(), name.strip().replace("-", ""))] = Decimal(pct) / 100
            out[cells[2].strip().replace("-", "")] = (Decimal(cells[3]), parts)
    return out


# EPA Hub 2025 Table 12 prints 3104 for R-424A, which its own composition (50.5 % HFC-125, 47 %
# HFC-134a, hydrocarbons) does not give: 0.505 × 3170 + 0.47 × 1300 = 2211.85 with AR5
EPA_MISPRINTS = {"R424A": Decimal("2211.85")}


def test_compositions_and_ar5_gwps_are_the_epa_published_ones() -> None:
    epa = _epa_table_12()
    assert len(epa) == 30
    ours = {r.name: dict(r.components) for r in load_refrigerants(resources.factors() / REFRIGERANTS, SPECIES)}
    for name, (gwp, composition) in epa.items():
        assert ours[name] == composition, name
        # EPA prints whole numbers, from the HFC and PFC components only: our Kyoto basket
        rounded = factor("AR5", name).quantize(Decimal(1), ROUND_HALF_UP)
        assert (rounded == gwp) != (name in EPA_MISPRINTS), name
    for name, exact in EPA_MISPRINTS.items():
        assert factor("AR5", name) == exact


def test_every_blend_sums_to_one_and_names_known_components() -> None:
    refrigerants = load_refrigerants(resources.factors() / REFRIGERANTS, SPECIES)
    assert all(sum(f for _, f in r.components) == 1 for r in refrigerants)
    assert KYOTO_BASKET <= SPECIES  # every Kyoto gas has a GWP in the table


@pytest.mark.parametrize("body,message,line", [
    ("R410A,HFC32,0.5,x\nR410A,HFC125,0.49,x\n", "R410A: mass fractions sum to 0.99, not exactly 1", 2),
    ("R410A,HFC-32,1,x\n", "R410A: component 'HFC-32' is neither a species of the GWP table nor a known HFO or hydrocarbon", 2),
    ("R410A,HFC32,half,x\n", "R410A: mass fraction 'half' is not a number in (0, 1]", 2),
    ("R410A,HFC32,1,\n", "every row names its refrigerant and its source", 2),
    ("R410A,HFC32,0.5,x\nR32,HFC32,1,x\nR410A,HFC125,0.5,x\n", "R410A: its components are not on consecutive rows (first on line 2)", 4),
    ("R410A,HFC32,0.5,x\nR410A,HFC32,0.5,x\n", "R410A: component 'HFC32' appears twice", 3),
])
def test_malformed_compositions_raise(tmp_path: Path, body: str, message: str, line: int) -> None:
    path = tmp_path / "refrigerants.csv"
    path.write_text("refrigerant,component,mass_fraction,source\n" + body)
    with pytest.raises(FactorFileError) as e:
        load_refrigerants(path, SPECIES)
    assert (e.value.message, e.value.line) == (message, line)
