"""Check names, types and units of one expression and lower it to a typed IR node (stage [4]).

``Checker`` has one ``visit_<Node>`` per surface node (``ast.py``); each returns an ``ir`` node
with its type and scale, or records a diagnostic and raises ``Failed``. What a name may refer
to is a ``Scope``: the fields, parameters, factor lookups and currency conversions visible
where the expression is written. ``check.py`` and ``currency.py`` drive it over a methodology.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Callable, Mapping

from ccf.dsl import ast, ir
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError, Related, did_you_mean
from ccf.dsl.source import Span
from ccf.dsl.syntax import ExprOrigin, parse_expression
from ccf.dsl.units import (
    DIMENSIONLESS,
    UnitError,
    dim_mul,
    fraction_to_decimal,
    is_terminating,
    parse_unit,
    registry,
    unit_names,
)
from ccf.dsl.yaml_source import Path, YamlDocument

FUNCTIONS = ("min", "max", "abs", "round", "year", "share", "date")
INSTRUMENT, instrument_column = ir.INSTRUMENT, ir.instrument_column
GAS_KEYS = {"co2e": "CO2e", "co2": "CO2", "ch4": "CH4", "n2o": "N2O"}
# what a lookup's `.name` may read: its gases, and a set's energy values (a heat content, a grid
# loss in MWh per MWh), which enter expressions but are never an emission of their own
LOOKUP_KEYS = {**GAS_KEYS, "energy": "energy"}
MAX_LITERAL_DIGITS = 60


class Failed(Exception):
    """An expression could not be typed; its diagnostic is already recorded."""


def unit_hint(exc: UnitError) -> str | None:
    """A did-you-mean for an unknown unit."""
    return did_you_mean(exc.name, unit_names()) if exc.name else None


@dataclass
class Scope:
    """What the names of an expression may refer to where it is written."""

    fields: Mapping[str, ir.Field]
    params: dict[str, ir.Node] = field(default_factory=dict)
    lookups: dict[str, "Lookup"] = field(default_factory=dict)
    allow_lookups: bool = True
    hidden: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # name -> (why not here, what to do)
    instrument: Mapping[str, ir.Field] = field(default_factory=dict)  # instrument.<field> in rules
    conversions: dict[str, ir.Type] = field(default_factory=dict)  # currency conversions (dsl/currency.py)


@dataclass
class Lookup:
    """A factor lookup as expressions see it: its per-unit, its gases' units, the gases used."""

    name: str
    per: ir.Type
    per_scale: Fraction
    gas_units: dict[str, str]
    used: set[str] = field(default_factory=set)


class Checker:
    """Collects diagnostics while lowering one methodology file."""

    def __init__(self, doc: YamlDocument):
        self.doc = doc
        self.diags: list[Diagnostic] = []
        self.failed: set[str] = set()  # names whose definition already has a diagnostic

    def text(self, span: Span) -> str | None:
        """The author's text at a one-line span."""
        if span.line != span.end_line:
            return None
        return self.doc.source.line(span.line)[span.column - 1 : span.end_column - 1] or None

    # -- positions
    def origin(self, path: Path, text: str | None = None) -> ExprOrigin:
        scalar = self.doc.scalars.get(path)
        if scalar is None:
            span = self.doc.span(path)
            return ExprOrigin(span.path, span.line, span.column)
        s = scalar.span
        positions = self.doc.char_positions(path)
        raw = _value_at(self.doc.data, path)
        if positions is not None and text is not None and isinstance(raw, str):
            lead = len(raw) - len(raw.lstrip())  # the model strips surrounding whitespace
            if raw.strip() == text:
                return ExprOrigin(s.path, s.line, s.column, positions=tuple(positions[lead:]), text=text)
        if scalar.style in ("'", '"'):
            return ExprOrigin(s.path, s.line, s.column + 1)
        if scalar.style in ("|", ">"):
            first = self.doc.source.line(s.line + 1)
            indent = len(first) - len(first.lstrip(" ")) + 1
            return ExprOrigin(s.path, s.line + 1, indent, block_indent=indent)
        return ExprOrigin(s.path, s.line, s.column)

    def error(self, code: str, message: str, span: Span, *, related=(), suggestion=None) -> Failed:
        self.diags.append(Diagnostic(code, message, span, tuple(related), suggestion))
        return Failed()

    def parse(self, text: str, path: Path) -> ast.Expr | None:
        try:
            return parse_expression(str(text), self.origin(path, str(text)))
        except DiagnosticError as exc:
            self.diags.extend(exc.diagnostics)
            return None

    # -- expressions
    def expr(self, e: ast.Expr, scope: Scope) -> ir.Node:
        method: Callable[[ast.Expr, Scope], ir.Node] = getattr(self, "visit_" + type(e).__name__)
        return method(e, scope)

    def visit_Number(self, e: ast.Number, scope: Scope) -> ir.Node:
        try:
            value = Decimal(e.text)
        except InvalidOperation:
            raise self.error("E306", f"'{e.text}' is not a number", e.span) from None
        if not value.is_finite():
            raise self.error("E306", f"'{e.text}' is not a number", e.span)
        written = _digits_written_out(value)
        if written > MAX_LITERAL_DIGITS:
            how = f"{written} digits when written out in full" if "e" in e.text.lower() else f"{written} digits"
            raise self.error(
                "E306", f"'{e.text}' has too many digits ({how}; at most {MAX_LITERAL_DIGITS})", e.span,
                suggestion="write the number in a larger or smaller unit (2.5 GJ rather than 2500000000 J)",
            )
        if e.unit is None:
            return ir.Const(value, ir.NUMBER, Fraction(1), span=e.span)
        try:
            unit = parse_unit(e.unit)
        except UnitError as exc:
            raise self.error("E501", f"{exc}", e.span, suggestion=unit_hint(exc)) from None
        return ir.Const(value, ir.quantity(unit.dimension), unit.scale, span=e.span)

    def visit_String(self, e: ast.String, scope: Scope) -> ir.Node:
        if "\x00" in e.value:
            raise self.error("E309", "a text cannot contain the NUL character (\\0)", e.span)
        return ir.TextConst(e.value, span=e.span)

    def visit_Bool(self, e: ast.Bool, scope: Scope) -> ir.Node:
        return ir.BoolConst(e.value, span=e.span)

    def visit_Null(self, e: ast.Null, scope: Scope) -> ir.Node:
        return ir.NullConst(span=e.span)

    def visit_Name(self, e: ast.Name, scope: Scope) -> ir.Node:
        if e.name in scope.fields:
            f = scope.fields[e.name]
            return ir.FieldRef(e.name, f.type, f.conversions, f.fixed_factor, span=e.span)
        if e.name in scope.params:
            p = scope.params[e.name]
            return ir.ParamRef(e.name, p, p.type, p.scale, span=e.span)
        if e.name in scope.lookups and scope.allow_lookups:
            return self._factor(scope.lookups[e.name], "co2e", e.span, e.span)
        if e.name in scope.conversions and scope.allow_lookups:
            return ir.ConversionRef(e.name, scope.conversions[e.name], span=e.span)
        if e.name in self.failed:  # its definition is wrong and already reported
            raise Failed()
        if e.name in scope.hidden:
            why, hint = scope.hidden[e.name]
            raise self.error("E401", why, e.span, suggestion=hint)
        candidates = [*scope.fields, *scope.params, *(scope.lookups if scope.allow_lookups else ())]
        what = "field, parameter or factor" if scope.allow_lookups else ("field or parameter" if scope.fields else "parameter")
        hint = did_you_mean(e.name, candidates)
        raise self.error("E401", f"unknown name '{e.name}': no {what} has this name", e.span, suggestion=hint)

    def _factor(self, lookup: Lookup, gas_key: str, span: Span, name_span: Span) -> ir.Node:
        gas = LOOKUP_KEYS.get(gas_key)
        if gas is None or gas not in lookup.gas_units:
            raise self.error(
                "E403",
                f"factor '{lookup.name}' has no gas '{gas_key}'",
                name_span,
                suggestion=did_you_mean(gas_key, [k for k, g in LOOKUP_KEYS.items() if g in lookup.gas_units])
                or "use co2e, co2, ch4 or n2o",
            )
        num = parse_unit(lookup.gas_units[gas])
        lookup.used.add(gas)
        dim = ir.quantity(tuple(sorted(dict(num.dimension).items())))
        t = ir.quantity(dim_mul(dim.dimension, lookup.per.dimension, -1))
        return ir.FactorRef(lookup.name, gas, t, num.scale / lookup.per_scale, span=span)

    def visit_Attribute(self, e: ast.Attribute, scope: Scope) -> ir.Node:
        if isinstance(e.obj, ast.Name) and e.obj.name in scope.lookups and scope.allow_lookups:
            return self._factor(scope.lookups[e.obj.name], e.name, e.span, e.span)
        if isinstance(e.obj, ast.Name) and e.obj.name == INSTRUMENT and scope.instrument and INSTRUMENT not in scope.fields:
            f = scope.instrument.get(e.name)
            if f is None:
                raise self.error(
                    "E401", f"the instruments have no field '{e.name}'", e.span,
                    suggestion=did_you_mean(e.name, scope.instrument) or "fields: " + ", ".join(scope.instrument),
                )
            return ir.FieldRef(instrument_column(e.name), f.type, f.conversions, f.fixed_factor, span=e.span)
        if (isinstance(e.obj, ast.Name) and e.obj.name == INSTRUMENT and INSTRUMENT not in scope.fields
                and INSTRUMENT not in self.failed and scope.allow_lookups):
            raise self.error(
                "E401", f"'instrument.{e.name}' needs an 'instruments' section: no instruments are allocated to the rows",
                e.span, suggestion="add 'instruments:' naming the instruments' activity type, or use a field of the row",
            )
        base = self.expr(e.obj, scope)
        raise self.error("E404", f"'.{e.name}' applies to factor lookups only; this is {base.type}", e.span)

    def visit_Unary(self, e: ast.Unary, scope: Scope) -> ir.Node:
        operand = self.expr(e.operand, scope)
        if e.op == "not":
            self.want_bool(operand, "'not'")
            return ir.Not(operand, span=e.span)
        if operand.type.kind not in ("quantity", "null"):
            hint = "to turn a condition around, use 'not'" if operand.type.kind == "boolean" else None
            raise self.error("E503", f"cannot negate {operand.type}", e.span, suggestion=hint)
        self.refuse_null_only(e, "'-' of null", operand)
        return ir.Neg(operand, operand.type, operand.scale, span=e.span)

    def refuse_null_only(self, e: ast.Expr, what: str, *operands: ir.Node) -> None:
        """An operation on nothing but null is null whatever the row: almost certainly a slip,
        and PostgreSQL cannot even type it (it has no number to resolve '-', '+' or CASE by)."""
        if all(o.type.kind == "null" for o in operands):
            raise self.error(
                "E503", f"{what} is always null: there is no value to compute with", e.span,
                suggestion="write null itself, or use a field or parameter whose value may be missing",
            )

    def want_bool(self, node: ir.Node, where: str) -> None:
        if node.type.kind not in ("boolean", "null"):
            text = self.text(node.span)
            example = {"quantity": f"{text} > 0", "text": f'{text} == "…"'}.get(node.type.kind) if text else None
            hint = f"compare it with a value, e.g. {example}" if example else "write a comparison, e.g. quantity > 0"
            raise self.error(
                "E504", f"{where} needs a condition (true/false), but this is {node.type}", node.span, suggestion=hint
            )

    def visit_Binary(self, e: ast.Binary, scope: Scope) -> ir.Node:
        left = self.expr(e.left, scope)
        right = self.expr(e.right, scope)
        if e.op in ("and", "or"):
            self.want_bool(left, f"'{e.op}'")
            self.want_bool(right, f"'{e.op}'")
            return ir.Logic(e.op, left, right, span=e.span)
        if e.op in ("*", "/"):
            for side in (left, right):
                if side.type.kind not in ("quantity", "null"):
                    raise self.error("E503", f"cannot {'multiply' if e.op == '*' else 'divide'} {side.type}", side.span)
            self.refuse_null_only(e, f"'{e.op}' between nulls", left, right)
            sign = 1 if e.op == "*" else -1
            dim = dim_mul(left.type.dimension, right.type.dimension, sign)
            scale = left.scale * right.scale if e.op == "*" else left.scale / right.scale
            return ir.Arith(e.op, left, right, ir.quantity(dim), scale, span=e.span)
        if e.op in ("+", "-"):
            left, right, t, scale = self.unify(left, right, e, "add" if e.op == "+" else "subtract")
            self.refuse_null_only(e, f"'{e.op}' between nulls", left, right)
            if t.kind not in ("quantity", "null"):
                raise self.error("E503", f"cannot {'add' if e.op == '+' else 'subtract'} {t}", e.span)
            return ir.Arith(e.op, left, right, t, scale, span=e.span)
        if e.op == "??":
            left, right, t, scale = self.unify(left, right, e, "use '??' with")
            self.refuse_null_only(e, "'??' between nulls", left, right)
            return ir.Coalesce(left, right, t, scale, span=e.span)
        # comparisons; '== null' asks whether a value is missing
        if isinstance(right, ir.NullConst) or isinstance(left, ir.NullConst):
            if e.op not in ("==", "!="):
                raise self.error("E503", f"'{e.op}' cannot compare with null; use '== null' or '!= null'", e.span)
            operand = left if isinstance(right, ir.NullConst) else right
            return ir.IsNull(operand, e.op == "!=", span=e.span)
        left, right, t, _ = self.unify(left, right, e, "compare")
        if e.op not in ("==", "!=") and t.kind in ("text", "boolean"):
            raise self.error("E503", f"'{e.op}' needs numbers, quantities or dates, not {t}", e.span)
        return ir.Compare(e.op, left, right, span=e.span)

    def unify(self, left: ir.Node, right: ir.Node, e: ast.Expr, verb: str) -> tuple[ir.Node, ir.Node, ir.Type, Fraction]:
        """Make two operands comparable: same type, same dimension, one scale."""
        if left.type.kind == "null":
            return left, right, right.type, right.scale
        if right.type.kind == "null":
            return left, right, left.type, left.scale
        left, right = _zero_adapts(left, right), _zero_adapts(right, left)
        if left.type.kind != right.type.kind or left.type.dimension != right.type.dimension:
            code = "E505" if left.type.kind == right.type.kind == "quantity" else "E503"
            raise self.error(
                code,
                f"cannot {verb} {describe(left)} and {describe(right)}",
                e.span,
                related=(
                    Related(left.span, f"this is {describe(left)}"),
                    Related(right.span, f"this is {describe(right)}"),
                ),
                suggestion=_dimension_hint(left, right, verb),
            )
        if left.type.kind != "quantity" or left.scale == right.scale:
            return left, right, left.type, left.scale
        # bring both to one scale with the exact ratio, preferring a multiplication
        if is_terminating(left.scale / right.scale):
            return rescale(left, right.scale), right, left.type, right.scale
        if is_terminating(right.scale / left.scale):
            return left, rescale(right, left.scale), left.type, left.scale
        return rescale(left, right.scale), right, left.type, right.scale

    def visit_In(self, e: ast.In, scope: Scope) -> ir.Node:
        operand = self.expr(e.operand, scope)
        items = []
        for item in e.items:
            node = self.expr(item, scope)
            _, node, _, _ = self.unify(operand, node, item, "compare")
            items.append(node)
        return ir.InList(operand, tuple(items), e.negated, span=e.span)

    def visit_If(self, e: ast.If, scope: Scope) -> ir.Node:
        cond = self.expr(e.cond, scope)
        self.want_bool(cond, "'if'")
        then, otherwise, t, scale = self.unify(self.expr(e.then, scope), self.expr(e.otherwise, scope), e, "choose between")
        self.refuse_null_only(e, "an 'if' whose branches are both null", then, otherwise)
        return ir.IfThen(cond, then, otherwise, t, scale, span=e.span)

    def visit_Call(self, e: ast.Call, scope: Scope) -> ir.Node:
        if e.func not in FUNCTIONS:
            hint = did_you_mean(e.func, FUNCTIONS)
            if e.func == "factor":
                hint = "declare the factor under 'factors:' and use its name"
                if e.args and isinstance(e.args[0], ast.String) and e.args[0].value in scope.lookups:
                    hint = f"write the factor's name on its own: {e.args[0].value}"
            raise self.error(
                "E402", f"unknown function '{e.func}'", e.span,
                suggestion=hint or "the functions are " + ", ".join(FUNCTIONS[:-1]) + " and " + FUNCTIONS[-1],
            )
        if e.func == "share":
            return self.share(e, scope)
        n = {"min": None, "max": None, "abs": 1, "round": 2, "year": 1, "date": 1}[e.func]
        if (n is not None and len(e.args) != n and not (e.func == "round" and len(e.args) == 1)) or (n is None and len(e.args) < 2):
            want = "two or more values" if n is None else f"{n} value{'s' if n != 1 else ''}"
            raise self.error("E406", f"{e.func}() takes {want}, given {len(e.args)}", e.span)
        if e.func == "date":
            arg = e.args[0]
            if not isinstance(arg, ast.String):
                raise self.error("E503", "date() takes a text such as \"2024-01-01\"", arg.span)
            try:
                date.fromisoformat(arg.value)
            except ValueError:
                raise self.error("E507", f"'{arg.value}' is not a date (use YYYY-MM-DD)", arg.span) from None
            return ir.DateConst(arg.value, span=e.span)
        args = [self.expr(a, scope) for a in e.args]
        if e.func == "year":
            if args[0].type.kind not in ("date", "null"):
                raise self.error("E503", f"year() needs a date, but this is {args[0].type}", args[0].span)
            return ir.Func("year", (args[0],), ir.NUMBER, Fraction(1), span=e.span)
        if e.func == "round":
            digits = 0
            if len(e.args) == 2:
                d = e.args[1]
                if not (isinstance(d, ast.Number) and d.unit is None and d.text.isdigit() and int(d.text) <= 20):
                    raise self.error("E503", "round()'s second value is a whole number of decimal places (0-20)", d.span)
                digits = int(d.text)
            x = args[0]
            if x.type.kind != "quantity":
                raise self.error("E503", f"round() needs a number or quantity, but this is {x.type}", x.span)
            target = _display_scale(x.type)
            x = rescale(x, target)
            return ir.Func("round", (x,), x.type, target, digits, span=e.span)
        if e.func == "abs":
            x = args[0]
            if x.type.kind != "quantity":
                raise self.error("E503", f"abs() needs a number or quantity, but this is {x.type}", x.span)
            return ir.Func("abs", (x,), x.type, x.scale, span=e.span)
        acc = args[0]
        out = [acc]
        for a in args[1:]:
            acc_u, a_u, t, scale = self.unify(acc, a, e, f"take the {e.func} of")
            out = [rescale(o, scale) if o.type.kind == "quantity" else o for o in out] + [a_u]
            acc = acc_u
        if out[0].type.kind not in ("quantity", "date"):
            raise self.error("E503", f"{e.func}() needs numbers, quantities or dates", e.span)
        scale = out[-1].scale
        return ir.Func(e.func, tuple(rescale(o, scale) for o in out), out[-1].type, scale, span=e.span)


    def share(self, e: ast.Call, scope: Scope) -> ir.Node:
        """``share(quantity, key, …)``: the row's part of the total of ``quantity`` over the rows
        with the same keys (``ir.Share``). Only in rules: the total is a sum over the dataset's
        rows, computed before any rule, so its arguments read the row's own fields and parameters
        only (no factor, no converted amount, no other share)."""
        if not (scope.allow_lookups and scope.fields) or scope.instrument:
            where = "with instruments (the rows are split into parts)" if scope.instrument else "here"
            raise self.error(
                "E406", f"share() cannot be used {where}: it divides a row's quantity by a total over the rows",
                e.span, suggestion="use share() in a rule's 'where' or emissions",
            )
        if len(e.args) < 2:
            raise self.error(
                "E406", f"share() takes a quantity and one or more keys, given {len(e.args)} value{'s' if len(e.args) != 1 else ''}",
                e.span, suggestion="e.g. share(tkm, vehicle_id): this row's tkm over the tkm of the rows of its vehicle",
            )
        hidden = {n: ("share() totals the rows before any factor is looked up: its arguments read the row's fields",
                      "multiply the share by the factor outside share()") for n in (*scope.lookups, *scope.conversions)}
        inner = Scope(scope.fields, scope.params, {}, allow_lookups=False, hidden=hidden)
        quantity, *keys = [self.expr(a, inner) for a in e.args]
        if quantity.type.kind != "quantity":
            raise self.error("E503", f"share()'s first value is the quantity to divide, a number or quantity; this is {quantity.type}",
                             quantity.span, suggestion="e.g. share(tkm, vehicle_id)")
        for key in keys:
            if key.type.kind == "null":
                raise self.error("E503", "a key of share() cannot be null: rows are grouped by its value", key.span)
        return ir.Share(quantity, tuple(keys), span=e.span)


def _digits_written_out(value: Decimal) -> int:
    """Digits of a literal as SQL receives it, a plain decimal: 1e5 is 100000 (6), 1e-5 is
    0.00001 (5 after the point). An exponent must not turn a short literal into a huge one."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    return len(digits) + exponent if exponent >= 0 else max(len(digits), -exponent)


def _value_at(data: object, path: Path) -> object:
    for part in path:
        try:
            data = data[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def rescale(node: ir.Node, target: Fraction) -> ir.Node:
    """The node converted to ``target`` scale (exact ratio); unchanged if already there."""
    if node.type.kind != "quantity" or node.scale == target:
        return node
    if isinstance(node, ir.Const) and is_terminating(node.scale / target):
        exact = fraction_to_decimal(Fraction(node.value) * (node.scale / target))  # Decimal '*' rounds
        return ir.Const(exact, node.type, target, span=node.span)
    return ir.Rescale(node, node.scale / target, node.type, target, span=node.span)


def _display_scale(t: ir.Type) -> Fraction:
    for _, (dim, display) in registry().dimensions.items():
        if dim == t.dimension:
            return parse_unit(display).scale
    return Fraction(1)


def _zero_adapts(node: ir.Node, other: ir.Node) -> ir.Node:
    """A bare literal 0 takes the other side's dimension: `energy ?? 0` reads naturally."""
    if (
        isinstance(node, ir.Const)
        and node.value == 0
        and node.type == ir.NUMBER
        and other.type.kind == "quantity"
        and other.type.dimension != DIMENSIONLESS
    ):
        return ir.Const(node.value, other.type, other.scale, span=node.span)
    return node


def describe(node: ir.Node) -> str:
    """The type in words, with the unit where it is meaningful to the author (not a field's base unit)."""
    if node.type.kind != "quantity" or not node.type.dimension:
        return str(node.type)
    # a written unit is worth repeating; a field's base-unit scale is an internal detail
    unit = _unit_name(node) if isinstance(node, (ir.Const, ir.FactorRef, ir.Rescale)) else None
    return f"{node.type} ({unit})" if unit and unit != str(node.type) else str(node.type)


def _unit_name(node: ir.Node) -> str | None:
    for n, u in registry().units.items():
        if u.dimension == node.type.dimension and u.scale == node.scale:
            return n
    return None


def _dimension_hint(left: ir.Node, right: ir.Node, verb: str = "compare") -> str | None:
    if left.type.kind == right.type.kind == "quantity":
        return "both sides must have the same dimension; a conversion factor (e.g. a calorific value) is missing?"
    kinds = {left.type.kind, right.type.kind}
    if kinds == {"text", "quantity"}:
        number = left if left.type.kind == "quantity" else right
        if isinstance(number, ir.Const) and number.type == ir.NUMBER:
            return f'to {verb} with text, write the value in quotes: "{number.value}"'
        return f"text can only be used with text: {verb} it with a text in quotes"
    if "date" in kinds and kinds <= {"date", "text"}:
        return 'write a date as date("2024-01-31")'
    return None


__all__ = ["FUNCTIONS", "GAS_KEYS", "Checker", "Failed", "Lookup", "Scope", "describe", "rescale", "unit_hint"]
