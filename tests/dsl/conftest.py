"""Fixtures for the front-end tests: the repository root, activity types, factor-set signatures.

No database is needed: the front end is pure (files in, IR or diagnostics out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pytest

from ccf.dsl import ir
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _factor_signatures() -> Mapping[str, object]:
    try:
        from ccf.engine.api import factor_signatures
    except ImportError:  # the engine API imports the whole engine; its catalogue is enough here
        from ccf.engine.factors.catalog import shipped_editions

        return {set_id: load()[0] for set_id, load in shipped_editions().items()}
    return factor_signatures()


@pytest.fixture(scope="session")
def factor_sets() -> Mapping[str, object]:
    return _factor_signatures()


@pytest.fixture(scope="session")
def activity_types() -> dict[str, ir.ActivityType]:
    """The shipped activity types plus tests/dsl/activity_types (one field of every kind)."""
    out: dict[str, ir.ActivityType] = {}
    for folder in (ROOT / "methodologies" / "activity_types", HERE / "activity_types"):
        for path in sorted(folder.glob("*.yaml")):
            at = read_activity_type(SourceFile.read(path))
            out[at.id] = at
    return out


@pytest.fixture()
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the repository root so files read by relative path print as tests/dsl/…"""
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.fixture()
def check(activity_types, factor_sets):
    """check(text or SourceFile) -> ir.Methodology; raises DiagnosticError."""

    def run(source: str | SourceFile, path: str = "test.yaml") -> ir.Methodology:
        src = source if isinstance(source, SourceFile) else SourceFile(path, source)
        return read_methodology(src, activity_types, factor_sets)

    return run


# A small valid methodology over the shipped 'electricity' activity type, for tests that
# change one line of it.
BASE = """\
methodology: test.electricity
version: 1.0.0
status: draft
title: Test electricity
ghg_protocol:
  scope: 2
  source: purchased electricity
  method: location-based
  references:
    - GHG Protocol Scope 2 Guidance (2015), chapter 6.2
factor_set: desnz-2024
gwp: AR5
activity: electricity
factors:
  uk_grid:
    select: {level1: UK electricity, level3: "Electricity: UK"}
    per: kWh
rules:
  - id: uk_grid
    where: country == "GB"
    emissions: quantity * uk_grid
"""


@pytest.fixture()
def base() -> str:
    return BASE
