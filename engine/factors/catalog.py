"""The factor sets shipped in the project's ``factors/`` directory, parsed once and cached: the
publishers' files, and the GWP-100 factor sets built from the IPCC table and ccf's refrigerant
compositions (refrigerants.py).

A shipped edition is declared in ``methodologies/factor_sets/<set>.yaml`` with its file and the
sha256 of its published bytes; loading a file whose bytes differ (edited, re-encoded, line
endings converted) is an error, not a silent change. Shipping a new edition or set takes two
steps: its declaration (file and sha256 under ``editions``), and its reader in ``_READERS``
below (a reader of the publisher's format: engine/factors/desnz.py and its neighbours).
"""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path
from collections.abc import Callable

from ccf.dsl import ir, resources
from ccf.dsl.diagnostics import DiagnosticError
from ccf.dsl.factor_sets import read_declarations
from ccf.engine.factors.desnz import load_desnz
from ccf.engine.factors.egrid import load_egrid, load_egrid_losses
from ccf.engine.factors.ember import load_ember
from ccf.engine.factors.epa_hub import load_epa_hub
from ccf.engine.factors.gwp import load_gwp
from ccf.engine.factors.model import FactorFileError, FactorRecord, FactorSetEdition, GwpRecord, file_sha256, read_file
from ccf.engine.factors.refrigerants import gwp_factor_sets, load_refrigerants
from ccf.engine.factors.useeio import load_useeio

Loaded = tuple[FactorSetEdition, list[FactorRecord]]

IPCC_GWP = "ipcc_gwp100_openclimatedata.csv"
IPCC_GWP_SHA256 = "9b80412cb5aeeb91038ef84145a10cdab0ab202cbb623cb14d2ec35ec2454f36"
REFRIGERANTS = "refrigerants.csv"  # ccf's own data: compositions, each row with its source

# edition id -> the reader of its declared file
_READERS: dict[str, Callable[[Path], Loaded]] = {
    "desnz-2024": partial(load_desnz, id="desnz-2024", edition="2024 v1.1", published=None),
    "desnz-2025": partial(load_desnz, id="desnz-2025", edition="2025 v1", published=None),
    "epa-hub-2025": partial(load_epa_hub, id="epa-hub-2025"),
    "egrid-2023": partial(load_egrid, id="egrid-2023"),  # Hub Table 6
    "egrid-losses-2023": partial(load_egrid_losses, id="egrid-losses-2023"),  # Hub Table 6, grid gross loss
    "useeio-1.3": partial(load_useeio, id="useeio-1.3"),
    "ember-2025-08": partial(load_ember, id="ember-2025-08"),  # life-cycle basis
}


@cache
def shipped_declarations() -> dict[str, ir.FactorSet]:
    """The shipped factor-set declarations, by set id and by edition id (read once)."""
    sets, diags = read_declarations(resources.methodologies() / "factor_sets")
    if diags:
        raise DiagnosticError(diags)
    return sets


def shipped_edition(id: str) -> ir.Edition:
    """The declaration of a shipped edition (its file and sha256)."""
    edition = shipped_declarations()[id].edition(id)
    assert edition is not None and edition.file is not None, id
    return edition


def _verify(file: str, sha256: str, published: str) -> None:
    """Raise unless a shipped file's sha256 is that of its declared published bytes."""
    if sha256 != published:
        raise FactorFileError(f"sha256 {sha256} is not the published file's {published}", resources.factors() / file)


@cache
def _parsed(id: str) -> tuple[FactorSetEdition, tuple[FactorRecord, ...]]:
    """A shipped edition, parsed once and checked against its registered sha256."""
    declared = shipped_edition(id)
    edition, records = _READERS[id](resources.factors() / declared.file)
    _verify(declared.file, edition.sha256, declared.sha256)
    return edition, tuple(records)


def load_shipped(id: str) -> Loaded:
    """A shipped edition and a new list of its (immutable, cached) records."""
    edition, records = _parsed(id) if id in _READERS else _gwp_editions()[id]
    return edition, list(records)


def shipped_editions() -> dict[str, Callable[[], Loaded]]:
    """Loaders of every shipped factor-set edition, by edition id: the published files', then the
    GWP-100 sets per kg of gas and refrigerant (one per assessment of the GWP table)."""
    return {id: partial(load_shipped, id) for id in [*_READERS, *_gwp_editions()]}


@cache
def _gwp_editions() -> dict[str, tuple[FactorSetEdition, tuple[FactorRecord, ...]]]:
    """The GWP-100 factor sets (engine/factors/refrigerants.py), built once from the shipped GWP
    table and the refrigerant compositions."""
    records = _gwp()
    path = resources.factors() / REFRIGERANTS
    refrigerants = load_refrigerants(path, frozenset(r.gas for r in records))
    sets = gwp_factor_sets(list(records), refrigerants, IPCC_GWP, IPCC_GWP_SHA256, REFRIGERANTS, file_sha256(read_file(path)))
    return {id: (edition, tuple(factors)) for id, (edition, factors) in sets.items()}


def gwp_signatures() -> dict[str, FactorSetEdition]:
    """What the checker needs of the GWP-100 factor sets (their gases and attributes), by id."""
    return {id: edition for id, (edition, _) in _gwp_editions().items()}


# the published bytes of every shipped file, from the declarations (and the GWP table)
SHA256 = {
    **{e.file: e.sha256 for fs in shipped_declarations().values() for e in fs.editions if e.file is not None},
    IPCC_GWP: IPCC_GWP_SHA256,
}
DESNZ_2024, DESNZ_2025, EPA_HUB_2025, USEEIO_1_3, EMBER_CO2JS = (
    shipped_edition(id).file for id in ("desnz-2024", "desnz-2025", "epa-hub-2025", "useeio-1.3", "ember-2025-08"))


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
    _verify(IPCC_GWP, file_sha256(read_file(path)), IPCC_GWP_SHA256)
    return tuple(load_gwp(path))


def shipped_gwp() -> list[GwpRecord]:
    """The shipped 100-year GWPs (SAR, TAR, AR4, AR5, AR5CCF, AR6; CO2 = 1 in each)."""
    return list(_gwp())
