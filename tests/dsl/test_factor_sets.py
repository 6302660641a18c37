"""Factor-set declarations (dsl/factor_sets.py): the shipped ones, positioned errors in a bad one,
and a library folder's own set that its methodologies may name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ccf.dsl.diagnostics import DiagnosticError
from ccf.dsl.factor_sets import read_factor_set
from ccf.dsl.library import Library
from ccf.dsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "methodologies" / "factor_sets"

GOOD = """\
factor_set: acme-freight
title: Acme carrier factors
publisher: Acme Logistics
licence: proprietary
attributes: [mode]
gases: {CO2e: kgCO2e}
editions:
  acme-freight-fy2024: {periods: ["2024-04-01..2025-03-31"]}
"""


def _errors(text: str) -> list:
    with pytest.raises(DiagnosticError) as info:
        read_factor_set(SourceFile("acme-freight.yaml", text))
    return info.value.diagnostics


def test_every_shipped_set_is_declared_with_its_editions():
    sets = {p.stem: read_factor_set(SourceFile.read(p)) for p in sorted(SHIPPED.glob("*.yaml"))}
    assert set(sets) == {"desnz", "epa-hub", "egrid", "egrid-losses", "ember", "useeio", "org-residual-mix"}
    desnz = sets["desnz"]
    assert [(e.id, e.periods) for e in desnz.editions] == [
        ("desnz-2024", ((date(2024, 1, 1), date(2024, 12, 31)),)),
        ("desnz-2025", ((date(2025, 1, 1), date(2025, 12, 31)),)),
    ]
    assert "level1" in desnz.attributes and dict(desnz.gas_units)["CH4"] == "kgCO2e"


def test_a_declaration_reads_a_fiscal_year():
    fs = read_factor_set(SourceFile("acme-freight.yaml", GOOD))
    (e,) = fs.editions
    assert e.covers(date(2024, 4, 1), date(2025, 3, 31)) and not e.covers(date(2024, 1, 1), date(2024, 12, 31))


def test_overlapping_editions_a_bad_period_and_a_bad_gas_unit_are_positioned():
    text = GOOD.replace("gases: {CO2e: kgCO2e}", "gases: {CO2e: kWh}") + \
        '  acme-freight-2025: {periods: ["2025"]}\n  acme-freight-x: {periods: ["FY24"]}\n'
    found = {(d.code, d.span.line, d.message) for d in _errors(text)}
    assert found == {
        ("E604", 6, "'kWh' is not a unit of CO2e"),
        ("E605", 10, "'FY24' is not a reporting period"),
        ("E605", 9, "editions 'acme-freight-fy2024' and 'acme-freight-2025' are both for a part of the same period"),
    }


def test_an_unknown_key_is_positioned_with_a_suggestion():
    (d,) = _errors(GOOD.replace("attributes:", "atributes:"))
    assert d.span.line == 5 and "attributes" in (d.suggestion or "")


def test_a_folders_own_set_is_known_to_its_methodologies_and_a_shipped_id_is_refused(tmp_path, factor_sets):
    (tmp_path / "factor_sets").mkdir()
    (tmp_path / "factor_sets" / "acme-freight.yaml").write_text(GOOD, "utf-8")
    lib = Library.load(tmp_path, factor_sets)
    assert not lib.diagnostics
    assert lib.factor_sets["acme-freight-fy2024"].id == "acme-freight"
    (tmp_path / "factor_sets" / "desnz.yaml").write_text(GOOD.replace("acme-freight", "desnz"), "utf-8")
    lib = Library.load(tmp_path, factor_sets)
    assert [d.code for d in lib.diagnostics] == ["E603"]
