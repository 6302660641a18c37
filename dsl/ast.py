"""Surface syntax tree of expressions, exactly as written, each node with its span."""

from __future__ import annotations

from dataclasses import dataclass

from ccf.dsl.source import Spanned


class Expr(Spanned):
    """Base of surface expression nodes."""


@dataclass(frozen=True)
class Number(Expr):
    """A decimal literal, optionally with a unit: 1.7, 100 km, 0.5 kgCO2e/kWh."""

    text: str
    unit: str | None = None


@dataclass(frozen=True)
class String(Expr):
    value: str


@dataclass(frozen=True)
class Bool(Expr):
    value: bool


@dataclass(frozen=True)
class Null(Expr):
    pass


@dataclass(frozen=True)
class Name(Expr):
    """A field, parameter or factor-lookup name."""

    name: str


@dataclass(frozen=True)
class Attribute(Expr):
    """obj.name, e.g. a factor lookup's gas: fuel.ch4."""

    obj: Expr
    name: str


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # '-' | 'not'
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str  # + - * / == != < <= > >= and or ??
    left: Expr
    right: Expr


@dataclass(frozen=True)
class In(Expr):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True)
class If(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr
