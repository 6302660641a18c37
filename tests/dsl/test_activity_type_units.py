"""Activity-type fields declared in a fixed unit: the unit is stored as an exact factor to base
units, so a unit whose factor has no finite decimal expansion is refused with a diagnostic
(formerly a ValueError traceback from the checker)."""

from __future__ import annotations

import pytest

from ccf.dsl import ir
from ccf.dsl.diagnostics import DiagnosticError
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile

HEAD = "activity_type: supplier_rates\ntitle: Supplier rates\nfields:\n"


def test_a_unit_without_an_exact_decimal_factor_is_a_positioned_diagnostic() -> None:
    src = SourceFile("rates.yaml", HEAD + "  rate:\n    unit: kgCO2e/kWh\n")
    with pytest.raises(DiagnosticError) as info:
        read_activity_type(src)
    (d,) = info.value.diagnostics
    assert d.code == "E510"
    assert (d.span.line, d.span.column) == (5, 5)  # at the unit
    assert "kgCO2e/kWh cannot be stored exactly" in d.message and "1/3600000" in d.message
    assert d.suggestion == "declare the field as a plain number and give it its unit in the rule, e.g. 'rate * 1 kgCO2e/kWh' (the rule's arithmetic is exact)"


def test_a_unit_with_an_exact_decimal_factor_is_accepted() -> None:
    at = read_activity_type(SourceFile("rates.yaml", HEAD + "  rate:\n    unit: kgCO2e/MJ\n"))
    (f,) = [f for f in at.fields if f.name == "rate"]
    assert f.type == ir.quantity(f.type.dimension) and str(f.fixed_factor) == "0.000001"
