"""Shipped factor sets: files present as published, loaders registered and cached."""

from __future__ import annotations

import hashlib
import time

from ccf.dsl import resources
from ccf.engine.factors.catalog import IPCC_GWP, REFRIGERANTS, SHA256, shipped_editions, shipped_gwp


def test_shipped_files_are_the_published_bytes() -> None:
    readme = (resources.factors() / "README.md").read_text()
    for file, sha in SHA256.items():
        assert hashlib.sha256((resources.factors() / file).read_bytes()).hexdigest() == sha
        assert sha in readme and file in readme


def test_shipped_editions() -> None:
    editions = shipped_editions()
    gwp_sets = {f"ipcc-gwp100-{s}" for s in ("sar", "tar", "ar4", "ar5", "ar5ccf", "ar6")}
    assert set(editions) == {"desnz-2024", "desnz-2025", "epa-hub-2025", "egrid-2023", "egrid-losses-2023", "useeio-1.3",
                             "ember-2025-08"} | gwp_sets
    for id, load in editions.items():
        edition, records = load()
        assert edition.id == id and records
        if id in gwp_sets:  # built from the GWP table and the compositions: both files identify it
            composition = hashlib.sha256((resources.factors() / REFRIGERANTS).read_bytes()).hexdigest()
            assert edition.sha256 == hashlib.sha256(f"{SHA256[IPCC_GWP]} {composition}".encode()).hexdigest()
        else:
            assert edition.source_file in SHA256 and edition.sha256 == SHA256[edition.source_file]


def test_parsed_once_and_callers_cannot_corrupt_the_cache() -> None:
    load = shipped_editions()["desnz-2024"]
    _, first = load()
    first.clear()
    start = time.perf_counter()
    _, again = load()
    assert again and time.perf_counter() - start < 0.1
    assert shipped_gwp() == shipped_gwp() and shipped_gwp() is not shipped_gwp()
