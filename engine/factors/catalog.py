"""The factor sets shipped in the project's ``factors/`` directory, parsed once and cached: the
publishers' files, and the GWP-100 factor sets built from the IPCC table and ccf's refrigerant
compositions (refrigerants.py).

Each shipped publisher's file is registered with the sha256 of its published bytes; loading a
file whose bytes differ (edited, re-encoded, line endings converted) is an error, not a silent change.
"""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path
from collections.abc import Callable

from ccf.dsl import resources
from ccf.engine.factors.desnz import load_desnz
from ccf.engine.factors.egrid import load_egrid
from ccf.engine.factors.ember import load_ember
from ccf.engine.factors.epa_hub import load_epa_hub
from ccf.engine.factors.gwp import load_gwp
from ccf.engine.factors.model import FactorFileError, FactorRecord, FactorSetEdition, GwpRecord, file_sha256, read_file
from ccf.engine.factors.refrigerants import gwp_factor_sets, load_refrigerants
from ccf.engine.factors.useeio import load_useeio

Loaded = tuple[FactorSetEdition, list[FactorRecord]]

DESNZ_2024 = "desnz_ghg_conversion_factors_2024_flat_v1_1.csv"
DESNZ_2025 = "desnz_ghg_conversion_factors_2025_flat_v1.csv"
EPA_HUB_2025 = "epa_ghg_emission_factors_hub_2025.csv"
USEEIO_1_3 = "epa_useeio_supply_chain_factors_v1_3_0_naics_usd2022.csv"
IPCC_GWP = "ipcc_gwp100_openclimatedata.csv"
REFRIGERANTS = "refrigerants.csv"  # ccf's own data: compositions, each row with its source
EMBER_CO2JS = "ember_average_intensities_co2js_2025_08_03.json"

SHA256 = {
    DESNZ_2024: "6a2fe78ed7ff799b961fc1a654efc5aad6482a1c66beaa8985dac6a3754829d2",
    DESNZ_2025: "0e27cbcbd859e9f03cc51d9ff7eac64c7f7095daec1125b3aabf310acabb0cac",
    EPA_HUB_2025: "2a94f6b434030b02fe26d8c1d6b4a3aec5a56ade059c9529ef82c8d5b474e857",
    USEEIO_1_3: "c7f508646ee091cb2218be65dec0e2bdb6143ba8511773d486c9e87f6df84177",
    IPCC_GWP: "9b80412cb5aeeb91038ef84145a10cdab0ab202cbb623cb14d2ec35ec2454f36",
    EMBER_CO2JS: "7f0b09eb3a0b5aa08db0da7bdf7cf9571db3d1b6f163506fe41d70e655196bc0",
}

# edition id -> (file, loader of that file's path)
_EDITIONS: dict[str, tuple[str, Callable[[Path], Loaded]]] = {
    "desnz-2024": (DESNZ_2024, partial(load_desnz, id="desnz-2024", edition="2024 v1.1", published=None)),
    "desnz-2025": (DESNZ_2025, partial(load_desnz, id="desnz-2025", edition="2025 v1", published=None)),
    "epa-hub-2025": (EPA_HUB_2025, partial(load_epa_hub, id="epa-hub-2025")),
    "egrid-2023": (EPA_HUB_2025, partial(load_egrid, id="egrid-2023")),  # Hub Table 6
    "useeio-1.3": (USEEIO_1_3, partial(load_useeio, id="useeio-1.3")),
    "ember-2025-08": (EMBER_CO2JS, partial(load_ember, id="ember-2025-08")),  # life-cycle basis
}


def _verify(file: str, sha256: str) -> None:
    """Raise unless a shipped file's sha256 is that of its registered published bytes."""
    if sha256 != SHA256[file]:
        raise FactorFileError(f"sha256 {sha256} is not the published file's {SHA256[file]}", resources.factors() / file)


@cache
def _parsed(id: str) -> tuple[FactorSetEdition, tuple[FactorRecord, ...]]:
    """A shipped edition, parsed once and checked against its registered sha256."""
    file, load = _EDITIONS[id]
    edition, records = load(resources.factors() / file)
    _verify(file, edition.sha256)
    return edition, tuple(records)


def load_shipped(id: str) -> Loaded:
    """A shipped edition (a publisher's file's, or a GWP-100 set) and a new list of its
    (immutable, cached) records."""
    edition, records = _parsed(id) if id in _EDITIONS else _gwp_editions()[id]
    return edition, list(records)


def shipped_editions() -> dict[str, Callable[[], Loaded]]:
    """Loaders of every shipped factor-set edition, by edition id: the published files', then the
    GWP-100 sets per kg of gas and refrigerant (one per assessment of the GWP table)."""
    return {id: partial(load_shipped, id) for id in [*_EDITIONS, *_gwp_editions()]}


@cache
def _gwp_editions() -> dict[str, tuple[FactorSetEdition, tuple[FactorRecord, ...]]]:
    """The GWP-100 factor sets (engine/factors/refrigerants.py), built once from the shipped GWP
    table and the refrigerant compositions."""
    records = _gwp()
    path = resources.factors() / REFRIGERANTS
    refrigerants = load_refrigerants(path, frozenset(r.gas for r in records))
    sets = gwp_factor_sets(list(records), refrigerants, IPCC_GWP, SHA256[IPCC_GWP], REFRIGERANTS, file_sha256(read_file(path)))
    return {id: (edition, tuple(factors)) for id, (edition, factors) in sets.items()}


def desnz_2024() -> Loaded:
    """UK DESNZ / Defra conversion factors 2024, v1.1."""
    return load_shipped("desnz-2024")


def desnz_2025() -> Loaded:
    """UK DESNZ / Defra conversion factors 2025, v1."""
    return load_shipped("desnz-2025")


@cache
def _gwp() -> tuple[GwpRecord, ...]:
    """The shipped GWP table, parsed once."""
    path = resources.factors() / IPCC_GWP
    _verify(IPCC_GWP, file_sha256(read_file(path)))
    return tuple(load_gwp(path))


def shipped_gwp() -> list[GwpRecord]:
    """The shipped 100-year GWPs (SAR, TAR, AR4, AR5, AR5CCF, AR6; CO2 = 1 in each)."""
    return list(_gwp())
