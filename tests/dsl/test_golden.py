"""Golden-file tests of the front end's diagnostics, and checks of good methodologies' IR.

tests/dsl/bad/<case>.yaml holds a methodology with deliberate mistakes; <case>.expected is the
exact text ``render()`` prints for it (paths relative to the repository root). A change in any
message, position, caret or suggestion shows up as a diff here.

To regenerate the .expected files after an intended change to the messages:

    CCF_UPDATE_GOLDEN=1 /tmp/v2/bin/pytest tests/dsl/test_golden.py

then READ every changed .expected file (git diff tests/dsl/bad): each message must be clear to a
sustainability expert who is not a programmer, point at the right line and column, and carry a
useful suggestion where one is possible.

tests/dsl/good/<case>.yaml must check without diagnostics; GOOD_PROPERTIES asserts facts about
the IR each one lowers to, so "checks cleanly" also means "means what it says".
"""

from __future__ import annotations

import dataclasses
import os
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import pytest

from ccf.dsl import ir
from ccf.dsl.diagnostics import DiagnosticError, render
from ccf.dsl.library import read_methodology
from ccf.dsl.source import SourceFile
from ccf.dsl.units import parse_unit

HERE = Path(__file__).resolve().parent
BAD = sorted((HERE / "bad").glob("*.yaml"))
GOOD = sorted((HERE / "good").glob("*.yaml"))
UPDATE = os.environ.get("CCF_UPDATE_GOLDEN") == "1"


def _rel(path: Path) -> str:
    return path.relative_to(HERE.parent.parent).as_posix()


# --- bad files: diagnostics as golden text ------------------------------------------------


@pytest.mark.parametrize("case", BAD, ids=[p.stem for p in BAD])
def test_bad(case: Path, at_root, activity_types, factor_sets) -> None:
    src = SourceFile.read(_rel(case))  # relative: spans print as tests/dsl/bad/<case>.yaml:L:C
    try:
        read_methodology(src, activity_types, factor_sets)
    except DiagnosticError as exc:
        diagnostics = exc.diagnostics
    else:
        pytest.fail(f"{case.name} checked cleanly; a bad case must produce diagnostics")
    actual = render(diagnostics, {src.path: src}) + "\n"
    expected_path = case.with_suffix(".expected")
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"no {expected_path.name}; run with CCF_UPDATE_GOLDEN=1 and review it"
    assert actual == expected_path.read_text(encoding="utf-8")
    for d in diagnostics:  # every diagnostic points into the file, inside its text
        assert d.span.path == src.path
        assert 1 <= d.span.line and 1 <= d.span.column
        assert d.span.line <= max(1, len(src.text.splitlines()))


def test_every_expected_file_has_a_case() -> None:
    orphans = sorted(p.name for p in (HERE / "bad").glob("*.expected") if not p.with_suffix(".yaml").exists())
    assert not orphans


def test_diagnostics_are_numbered_and_sorted(at_root, activity_types, factor_sets) -> None:
    src = SourceFile.read("tests/dsl/bad/several_errors.yaml")
    with pytest.raises(DiagnosticError) as info:
        read_methodology(src, activity_types, factor_sets)
    diags = info.value.diagnostics
    assert len(diags) >= 3
    positions = [(d.span.line, d.span.column) for d in diags]
    assert positions == sorted(positions)
    text = render(diags, {src.path: src})
    for n in range(1, len(diags) + 1):
        assert f"({n} of {len(diags)})" in text
    assert text.endswith(f"{len(diags)} errors.")


# --- good files: check cleanly, and the IR says what the file says -------------------------


def walk(node: object) -> Iterator[object]:
    """Every IR node under node (itself included), depth first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if dataclasses.is_dataclass(n) and not isinstance(n, type):
            for f in dataclasses.fields(n):
                value = getattr(n, f.name)
                for child in value if isinstance(value, tuple) else (value,):
                    if isinstance(child, tuple):
                        stack.extend(c for c in child if dataclasses.is_dataclass(c))
                    elif dataclasses.is_dataclass(child) and not isinstance(child, (ir.ActivityType, ir.Field)):
                        stack.append(child)


def rule(m: ir.Methodology, rule_id: str) -> ir.Rule:
    return next(r for r in m.rules if r.id == rule_id)


def param(m: ir.Methodology, name: str) -> ir.Node:
    return next(p.value for p in m.parameters if p.name == name)


def lookup(m: ir.Methodology, name: str) -> ir.FactorLookup:
    return next(lk for lk in m.lookups if lk.name == name)


def dim(unit: str) -> tuple:
    return parse_unit(unit).dimension


def _arithmetic(m: ir.Methodology) -> None:
    assert (m.id, m.version, m.scope, m.category, m.gwp) == ("test.arithmetic", "1.2.3-rc.1", 3, 4, "AR5")
    assert [r.id for r in m.rules] == ["explicit_factor", "looked_up", "precedence"]
    assert len(m.parameters) == 16
    # decimal literals are exact Decimals, never floats
    assert param(m, "uplift") == ir.Const(Decimal("1.05"))
    assert param(m, "half").value == Decimal("0.5")
    assert param(m, "thousand").value == 1000
    assert param(m, "small").value == Decimal("0.000001")
    # quantities keep their unit as an exact scale to base units
    assert param(m, "default_distance") == ir.Const(Decimal(100), ir.quantity(dim("m")), Fraction(1000))
    assert param(m, "long_haul").scale == Fraction("1609.344")
    assert param(m, "empty_return").type == ir.quantity(dim("kg.m")) and param(m, "empty_return").scale == 10**6
    rf = param(m, "road_factor")
    assert rf.type == ir.quantity(dim("kgCO2e/kg.m")) and rf.scale == Fraction(1, 10**6)
    # a parameter built on earlier parameters refers to them by name
    urf = param(m, "uplifted_road_factor")
    assert isinstance(urf, ir.Arith) and urf.op == "*"
    assert (urf.left.name, urf.right.name) == ("road_factor", "uplift")
    # precedence: 1 + 2 * 3 - 8 / 4  ==  (1 + (2 * 3)) - (8 / 4)
    p = param(m, "precedence")
    assert p.op == "-" and p.left.op == "+" and p.left.right.op == "*" and p.right.op == "/"
    g = param(m, "grouped")
    assert g.op == "*" and (g.left.op, g.right.op) == ("+", "-")
    assert isinstance(param(m, "negative"), ir.Neg)
    dn = param(m, "double_negative")
    assert isinstance(dn, ir.Neg) and isinstance(dn.operand, ir.Neg) and dn.operand.operand.name == "whole"
    # distance (m) + long_haul (miles): the miles are rescaled by the exact ratio 1609.344
    looked_up = rule(m, "looked_up")
    rescales = [n for n in walk(looked_up) if isinstance(n, ir.Rescale)]
    assert any(r.ratio == Fraction(1609344, 1000) and r.operand.name == "long_haul" for r in rescales)
    # GJ > kWh: one side rescaled by an exact ratio whose decimal expansion terminates (9/2500)
    where = rule(m, "precedence").where
    assert isinstance(where, ir.Compare) and where.left.scale == where.right.scale
    assert isinstance(where.right, ir.Rescale) and where.right.ratio == Fraction(9, 2500)
    # every emission is kg CO2e at scale 1
    for r in m.rules:
        (em,) = r.emissions
        assert em.gas == "CO2e" and em.co2e_basis and em.value.scale == 1
        assert em.value.type == ir.quantity(dim("kgCO2e"))
    hgv = lookup(m, "hgv")
    assert hgv.per == "t.km" and hgv.gases == ("CO2e",) and ("level1", "Freighting goods") in hgv.select
    # (mass × distance × 0.1 kgCO2e/t.km) is in units of 1e-6 kg CO2e, brought to kg exactly
    assert any(isinstance(n, ir.Rescale) and n.ratio == Fraction(1, 10**6) for n in walk(rule(m, "explicit_factor")))


def _conditions(m: ir.Methodology) -> None:
    assert (m.status, m.gwp, m.scope, m.category) == ("published", "AR6", 3, 9)
    assert len(m.rules) == 6
    excluded = {r.id: r.exclude for r in m.rules if r.exclude is not None}
    assert excluded == {
        "nothing_shipped": "nothing was moved",
        "not_ours": "outside the reporting boundary",
        "before_period": "outside the reporting year",
    }
    assert all(not r.emissions for r in m.rules if r.exclude) and all(r.emissions for r in m.rules if not r.exclude)
    assert rule(m, "nothing_shipped").description == "rows without mass have no emissions"
    not_ours = rule(m, "not_ours").where
    assert isinstance(not_ours, ir.Logic) and not_ours.op == "and"
    assert isinstance(not_ours.left, ir.Not) and isinstance(not_ours.left.operand, ir.InList)
    assert not not_ours.left.operand.negated
    assert [i.value for i in not_ours.left.operand.items] == ["GB", "IE"]
    assert isinstance(not_ours.right, ir.Compare) and not_ours.right.op == "!="
    before = rule(m, "before_period").where
    assert ir.DateConst("2024-01-01") in list(walk(before))
    assert any(isinstance(n, ir.Func) and n.name == "year" for n in walk(before))
    refrigerated = rule(m, "refrigerated")
    cond = refrigerated.where
    assert cond.left == ir.Compare("==", ir.FieldRef("refrigerated", ir.BOOLEAN), ir.BoolConst(True))
    assert isinstance(cond.right, ir.InList) and cond.right.negated
    assert [i.value for i in cond.right.items] == ["rail", "sea"]
    value = refrigerated.emissions[0].value  # kg × m × kgCO2e/(t.km) is 1e-6 kg CO2e: rescaled exactly
    assert isinstance(value, ir.Rescale) and value.ratio == Fraction(1, 10**6) and isinstance(value.operand, ir.IfThen)
    ops = {n.op for n in walk(m.rules[4].where) if isinstance(n, ir.Compare)}
    assert ops == {"!=", ">=", "<", "=="}
    for n in walk(m):  # both sides of every comparison are at one scale
        if isinstance(n, ir.Compare):
            assert n.left.scale == n.right.scale or ir.NULL in (n.left.type, n.right.type)
    assert rule(m, "fallback").where is None


def _functions(m: ir.Methodology) -> None:
    assert [r.id for r in m.rules] == ["measured", "estimated", "rounded"]
    coalesces = [n for n in walk(rule(m, "measured")) if isinstance(n, ir.Coalesce)]
    (c,) = coalesces
    # `fuel_energy ?? 0`: the bare 0 takes the energy dimension of the other side
    assert c.right == ir.Const(Decimal(0), ir.quantity(dim("kWh")), Fraction(1))
    assert c.type == ir.quantity(dim("kWh"))
    mins = [n for n in walk(rule(m, "measured")) if isinstance(n, ir.Func) and n.name == "min"]
    assert len(mins) == 1 and len({a.scale for a in mins[0].args}) == 1
    funcs = {n.name for r in m.rules for n in walk(r) if isinstance(n, ir.Func)}
    assert funcs == {"min", "max", "abs", "round", "year"}
    rounds = [n for r in m.rules for n in walk(r) if isinstance(n, ir.Func) and n.name == "round"]
    assert sorted(r.digits for r in rounds) == [0, 2]
    assert all(r.scale == parse_unit("kWh").scale for r in rounds)  # rounded in the display unit
    assert ir.DateConst("2024-01-01") in list(walk(rule(m, "measured").where))
    assert lookup(m, "fuel").gases == ("CO2e",)
    ci = param(m, "ceiling_intensity")  # 0.5 kgCO2e/kWh: CO2e per energy, 1/3 600 000 kg per J
    assert ci == ir.Const(Decimal("0.5"), ir.quantity(dim("kgCO2e/J")), Fraction(1, 3_600_000))
    capped = next(n for n in walk(rule(m, "rounded")) if isinstance(n, ir.Func) and n.name == "min")
    assert isinstance(capped.args[0], ir.FactorRef) and capped.args[1].name == "ceiling_intensity"
    fi = param(m, "fuel_intensity")
    assert fi.type == ir.quantity(dim("J/m")) and fi.scale == Fraction(3600, 1)


def _per_gas(m: ir.Methodology) -> None:
    assert (m.scope, m.category, m.source, m.method) == (2, None, "purchased electricity", "location-based")
    assert m.activity.id == "electricity"
    per_gas = rule(m, "per_gas")
    assert [e.gas for e in per_gas.emissions] == ["CO2", "CH4", "N2O"]
    # desnz-2024 states each gas in kg CO2e, so per-gas values are already CO2e-weighted
    assert all(e.co2e_basis for e in per_gas.emissions)
    for e in per_gas.emissions:
        refs = [n for n in walk(e.value) if isinstance(n, ir.FactorRef)]
        assert [(r.lookup, r.gas) for r in refs] == [("grid", e.gas)]
    grid = lookup(m, "grid")
    assert grid.select == (("level1", "UK electricity"),)
    match = dict(grid.match)
    assert match["level3"] == ir.FieldRef("country", ir.TEXT)
    assert isinstance(match["level4"], ir.Coalesce) and match["level4"].right == ir.TextConst("national")
    assert grid.gases == ("CH4", "CO2", "CO2e", "N2O")
    assert lookup(m, "td_losses").gases == ("CO2e",)
    (total,) = rule(m, "total").emissions
    # J × kgCO2e/kWh is kg CO2e / 3 600 000: one exact rescale to kg CO2e
    assert total.gas == "CO2e" and isinstance(total.value, ir.Rescale)
    assert total.value.ratio == Fraction(1, 3_600_000) and total.value.operand.op == "*"
    assert {(r.lookup, r.gas) for r in walk(total.value) if isinstance(r, ir.FactorRef)} == {
        ("grid", "CO2e"),
        ("td_losses", "CO2e"),
    }
    assert rule(m, "zero").exclude == "no electricity consumed"


GOOD_PROPERTIES: dict[str, Callable[[ir.Methodology], None]] = {
    "arithmetic": _arithmetic,
    "conditions": _conditions,
    "functions": _functions,
    "per_gas": _per_gas,
}


@pytest.mark.parametrize("case", GOOD, ids=[p.stem for p in GOOD])
def test_good(case: Path, at_root, activity_types, factor_sets) -> None:
    src = SourceFile.read(_rel(case))
    try:
        m = read_methodology(src, activity_types, factor_sets)
    except DiagnosticError as exc:
        pytest.fail("a good case has diagnostics:\n" + render(exc.diagnostics, {src.path: src}))
    assert case.stem in GOOD_PROPERTIES, f"add IR assertions for {case.name} to GOOD_PROPERTIES"
    GOOD_PROPERTIES[case.stem](m)
    assert m.path == src.path and len(m.content_hash) == 64
    for n in walk(m):  # exact numbers only
        assert not isinstance(n, float)
        if isinstance(n, ir.Const):
            assert isinstance(n.value, Decimal) and isinstance(n.scale, Fraction)


def test_shipped_methodology_checks(activity_types, factor_sets) -> None:
    path = HERE.parent.parent / "methodologies" / "scope2.electricity.location_based" / "1.0.0.yaml"
    m = read_methodology(SourceFile.read(path), activity_types, factor_sets)
    assert m.id == "scope2.electricity.location_based" and m.rules
