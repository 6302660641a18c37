"""IPCC 100-year GWP loader (openclimatedata/globalwarmingpotentials)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.engine.factors.catalog import shipped_gwp
from ccf.engine.factors.gwp import load_gwp
from ccf.engine.factors.model import FactorFileError, GwpRecord


def gwp(gwp_set: str, gas: str) -> Decimal:
    found = [r.value for r in shipped_gwp() if (r.gwp_set, r.gas) == (gwp_set, gas)]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("gwp_set,ch4,n2o", [
    ("SAR", "21", "310"), ("TAR", "23", "296"), ("AR4", "25", "298"),
    ("AR5", "28", "265"), ("AR5CCF", "34", "298"), ("AR6", "27.9", "273"),
])
def test_ch4_n2o(gwp_set: str, ch4: str, n2o: str) -> None:
    assert gwp(gwp_set, "CH4") == Decimal(ch4)
    assert gwp(gwp_set, "N2O") == Decimal(n2o)
    assert gwp(gwp_set, "CO2") == 1


def test_other_species_as_published() -> None:
    assert gwp("AR5", "SF6") == 23500
    assert gwp("AR5", "HFC134a") == 1300
    assert gwp("AR6", "HFC32") == 771


def test_counts_and_sets() -> None:
    records = shipped_gwp()
    assert Counter(r.gwp_set for r in records) == {"SAR": 37, "TAR": 91, "AR4": 59, "AR5": 87, "AR5CCF": 89, "AR6": 87}
    assert len({(r.gwp_set, r.gas) for r in records}) == len(records)
    assert all(isinstance(r.value, Decimal) for r in records)


def test_only_100_year_columns(tmp_path: Path) -> None:
    path = tmp_path / "gwp.csv"
    path.write_text("# comment,,\nSpecies,AR5GWP100,AR6GWP20\nCH4,28,81.2\nNF3,,17400\n")
    assert load_gwp(path) == [GwpRecord("AR5", "CO2", Decimal(1)), GwpRecord("AR5", "CH4", Decimal(28))]


@pytest.mark.parametrize("text,message,line", [
    ("Gas,AR5GWP100\nCH4,28\n", "expected a 'Species' column first", 1),
    ("Species,AR6GWP20\nCH4,81.2\n", "no <set>GWP100 columns", 1),
    ("Species,AR5GWP100\nCH4,about 28\n", "CH4 AR5: 'about 28' is not a number", 2),
    ("Species,AR5GWP100\nCH4,28\nCH4,28\n", "species 'CH4' appears twice", 3),
    ("Species,AR5GWP100\nCO2,1\n", "species 'CO2' appears twice", 2),
])
def test_malformed_files_raise(tmp_path: Path, text: str, message: str, line: int) -> None:
    path = tmp_path / "gwp.csv"
    path.write_text(text)
    with pytest.raises(FactorFileError) as e:
        load_gwp(path)
    assert (e.value.message, e.value.line) == (message, line)
