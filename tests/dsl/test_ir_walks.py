"""The IR's walks (dsl/ir.py): what the compiler, the evaluator and `ccf explain` read of an
expression, found one way for all of them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ccf.dsl import ir

ENERGY = ir.FieldRef("energy", ir.NUMBER)
GRID = ir.FactorRef("grid", "CO2e", ir.NUMBER, Fraction(1))
FUEL = ir.FactorRef("fuel", "CH4", ir.NUMBER, Fraction(1))
SHARE = ir.ParamRef("share", ir.Const(Decimal("0.5")), ir.NUMBER, Fraction(1))


def times(left: ir.Node, right: ir.Node) -> ir.Node:
    return ir.Arith("*", left, right, ir.NUMBER, Fraction(1))


def plus(left: ir.Node, right: ir.Node) -> ir.Node:
    return ir.Arith("+", left, right, ir.NUMBER, Fraction(1))


# energy * grid + (fuel * energy) * share + grid
EXPR = plus(plus(times(ENERGY, GRID), times(times(FUEL, ENERGY), SHARE)), GRID)


def test_factor_refs_are_every_reference_in_source_order():
    assert list(ir.factor_refs(EXPR)) == [GRID, FUEL, GRID]
    assert list(ir.factor_refs(ir.Neg(FUEL, ir.NUMBER, Fraction(1)))) == [FUEL]
    assert list(ir.factor_refs(ENERGY)) == []


def test_leaves_are_fields_parameters_and_factors_once_each_in_source_order():
    assert ir.leaves(EXPR) == [ENERGY, GRID, FUEL, SHARE]  # a parameter's value is not walked
    assert ir.leaves(ir.Const(Decimal(1))) == []
    assert ir.leaves(SHARE) == [SHARE]
