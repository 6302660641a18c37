"""IR expressions lowered to SQL over one row alias: one visitor per IR node type.

An expression reads the columns of its row: an activity field by its name, a factor by its
lookup's column ``<lookup>__<gas>`` (``lookup_col``; the ``joined`` step puts it there), a
converted amount by its conversion's column (``currency.value_col``). The arithmetic stays
exact: a whole-number constant is cast to NUMERIC (PostgreSQL would type it integer), and a
division or a non-terminating unit conversion goes through ``ccf.div``
(docs/numeric-semantics.md).
"""

from __future__ import annotations

import hashlib
from fractions import Fraction

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.units import fraction_to_decimal, is_terminating
from ccf.engine.compile import currency
from ccf.engine.compile.rescaled import DIV_PLACES, Key, product_of_field, rescaled_col
from ccf.engine.sql import column, func, number, text


def lookup_col(lookup: str, gas: str, suffix: str = "") -> str:
    """The row column of a lookup's value for one gas (and, by suffix, its factor id ``_id``,
    candidate count ``_n`` and match level ``_level``; gas ``key``: the row's keys)."""
    return f"{lookup}__{gas.lower()}{suffix}"


def total_col(share: ir.Share) -> str:
    """The row column of a share's total (shares.py puts it there): named by the share's
    structure, spans aside, so that the same share written twice is one column."""
    return "share__" + hashlib.sha256(repr(share).encode()).hexdigest()[:10]


class ExpressionCompiler:
    """One visitor per IR node type; a node without a visitor fails loudly. ``rescaled``: the
    quantities the row also holds in the unit of the factor they multiply (rescaled.py)."""

    def __init__(self, row: str, rescaled: frozenset[Key] = frozenset()):
        self.row = row
        self.rescaled = rescaled

    def __call__(self, node: ir.Node) -> exp.Expression:
        visit = getattr(self, "visit_" + type(node).__name__, None)
        if visit is None:
            raise NotImplementedError(f"no SQL for IR node {type(node).__name__}")
        return visit(node)

    def operand(self, node: ir.Node) -> exp.Expression:
        e = self(node)
        return exp.Paren(this=e) if isinstance(e, (exp.Binary, exp.Neg, exp.Not)) and not isinstance(e, exp.Dot) else e

    def visit_Const(self, n: ir.Const) -> exp.Expression:
        return number(n.value)

    def visit_TextConst(self, n: ir.TextConst) -> exp.Expression:
        return text(n.value)

    def visit_BoolConst(self, n: ir.BoolConst) -> exp.Expression:
        return exp.true() if n.value else exp.false()

    def visit_DateConst(self, n: ir.DateConst) -> exp.Expression:
        return exp.Cast(this=text(n.value), to=exp.DataType.build("DATE"))

    def visit_NullConst(self, n: ir.NullConst) -> exp.Expression:
        return exp.Null()

    def visit_FieldRef(self, n: ir.FieldRef) -> exp.Expression:
        return column(n.name, self.row)

    def visit_ParamRef(self, n: ir.ParamRef) -> exp.Expression:
        e = self(n.value)
        e = exp.Paren(this=e) if isinstance(e, exp.Binary) else e
        e.add_comments([f" parameter {n.name} "])
        return e

    def visit_FactorRef(self, n: ir.FactorRef) -> exp.Expression:
        return column(lookup_col(n.lookup, n.gas), self.row)

    def visit_ConversionRef(self, n: ir.ConversionRef) -> exp.Expression:
        return column(currency.value_col(n.conversion), self.row)  # converted in `joined`

    def visit_Share(self, n: ir.Share) -> exp.Expression:
        return func("div", self(n.quantity), column(total_col(n), self.row), schema="ccf")

    def visit_Arith(self, n: ir.Arith) -> exp.Expression:
        left, right = self.operand(n.left), self.operand(n.right)
        # never integer arithmetic: PostgreSQL types a whole-number literal as integer
        if _integral(n.left):
            left = exp.Cast(this=left, to=exp.DataType.build("NUMERIC"))
        if _integral(n.right):
            right = exp.Cast(this=right, to=exp.DataType.build("NUMERIC"))
        if n.op == "/":
            return func("div", self(n.left), self(n.right), schema="ccf")
        return {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[n.op](this=left, expression=right)

    def visit_Neg(self, n: ir.Neg) -> exp.Expression:
        return exp.Neg(this=self.operand(n.operand))

    def visit_Rescale(self, n: ir.Rescale) -> exp.Expression:
        operand = self.operand(n.operand) if is_terminating(n.ratio) else self(n.operand)
        if _integral(n.operand):  # e.g. min(1e3, 1e3) in a unit: never integer multiplication
            operand = exp.Cast(this=operand, to=exp.DataType.build("NUMERIC"))
        divided = scale_sql(operand, n.ratio)
        product = product_of_field(n.operand) if not is_terminating(n.ratio) else None
        if product is None or (product[0].name, n.ratio) not in self.rescaled:
            return divided
        # the quantity in the factor's unit times the other factors, rounded as ccf.div rounds:
        # the same number by a multiplication, for the rows whose unit allows it (rescaled.py)
        field, others = product
        rescaled = column(rescaled_col(field.name, n.ratio), self.row)
        times: exp.Expression = rescaled.copy()
        for f in others:
            times = exp.Mul(this=times, expression=numeric(f, self.operand(f)))
        return exp.Case(
            ifs=[exp.If(this=exp.Is(this=rescaled, expression=exp.Null()), true=divided)],
            # ROUND by name: sqlglot's Round annotates its operand's types when rendered, and
            # rendering must leave a tree as it is (engine/sql.render)
            default=func("ROUND", times, exp.Literal.number(DIV_PLACES)),
        )

    def visit_Compare(self, n: ir.Compare) -> exp.Expression:
        cls = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[n.op]
        return cls(this=self.operand(n.left), expression=self.operand(n.right))

    def visit_IsNull(self, n: ir.IsNull) -> exp.Expression:
        test = exp.Is(this=self.operand(n.operand), expression=exp.Null())
        return exp.Not(this=test) if n.negated else test

    def visit_Logic(self, n: ir.Logic) -> exp.Expression:
        cls = exp.And if n.op == "and" else exp.Or
        return cls(this=self.operand(n.left), expression=self.operand(n.right))

    def visit_Not(self, n: ir.Not) -> exp.Expression:
        return exp.Not(this=self.operand(n.operand))

    def visit_InList(self, n: ir.InList) -> exp.Expression:
        e = exp.In(this=self.operand(n.operand), expressions=[self(i) for i in n.items])
        return exp.Not(this=exp.Paren(this=e)) if n.negated else e

    def visit_IfThen(self, n: ir.IfThen) -> exp.Expression:
        return exp.Case(ifs=[exp.If(this=self(n.cond), true=self(n.then))], default=self(n.otherwise))

    def visit_Coalesce(self, n: ir.Coalesce) -> exp.Expression:
        return exp.Coalesce(this=self(n.left), expressions=[self(n.right)])

    def visit_Func(self, n: ir.Func) -> exp.Expression:
        args = [self(a) for a in n.args]
        if n.name == "min":
            return exp.Least(this=args[0], expressions=args[1:])
        if n.name == "max":
            return exp.Greatest(this=args[0], expressions=args[1:])
        if n.name == "abs":
            return exp.Abs(this=args[0])
        if n.name == "round":
            return exp.Round(this=args[0], decimals=exp.Literal.number(n.digits))
        if n.name == "year":
            return exp.Extract(this=exp.var("YEAR"), expression=args[0])
        raise NotImplementedError(n.name)


def numeric(node: ir.Node, e: exp.Expression) -> exp.Expression:
    """``e`` (the SQL of ``node``) cast to NUMERIC where SQL would type it integer."""
    return exp.Cast(this=e, to=exp.DataType.build("NUMERIC")) if _integral(node) else e


def _integral(node: ir.Node) -> bool:
    """A whole-number constant (possibly a parameter or negated), which SQL would type integer."""
    if isinstance(node, ir.ParamRef):
        return _integral(node.value)
    if isinstance(node, ir.Neg):
        return _integral(node.operand)
    if isinstance(node, ir.Func) and node.name in ("min", "max", "abs"):
        return all(_integral(a) for a in node.args)  # LEAST/GREATEST/ABS of integers are integers
    if isinstance(node, ir.Coalesce):
        return _integral(node.left) and _integral(node.right)
    if isinstance(node, ir.IfThen):
        return _integral(node.then) and _integral(node.otherwise)
    return isinstance(node, ir.Const) and "." not in format(node.value, "f")


def scale_sql(e: exp.Expression, ratio: Fraction) -> exp.Expression:
    """e × ratio, exactly: a multiplication when the ratio is a finite decimal, else ccf.div."""
    if ratio == 1:
        return e
    if is_terminating(ratio):
        return exp.Mul(this=e, expression=number(fraction_to_decimal(ratio)))
    inner = exp.Paren(this=e) if isinstance(e, (exp.Binary, exp.Neg)) else e  # a + b, not a + (b × p)
    num = e if ratio.numerator == 1 else exp.Mul(this=inner, expression=number(ratio.numerator))
    return func("div", num, number(ratio.denominator), schema="ccf")
