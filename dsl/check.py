"""Check names, types and units of a parsed methodology and lower it to the IR.

Pure: (validated file, activity types, factor catalogue) -> ``ir.Methodology`` or a
``DiagnosticError`` listing every problem found, each with its span and a suggestion.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Callable, Mapping, Protocol

from ccf.dsl import ast, exactness, ir
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError, Related, did_you_mean
from ccf.dsl.model import STANDARD_FIELDS, ActivityTypeFile, FieldSpec, MethodologyFile
from ccf.dsl.source import Span
from ccf.dsl.syntax import ExprOrigin, parse_expression
from ccf.dsl.units import (
    DIMENSIONLESS,
    GASES,
    UnitError,
    format_dimension,
    is_terminating,
    named_dimensions,
    parse_unit,
    registry,
    unit_names,
    units_of,
)
from ccf.dsl.yaml_source import Path, YamlDocument

FUNCTIONS = ("min", "max", "abs", "round", "year", "date")
INSTRUMENT, instrument_column = ir.INSTRUMENT, ir.instrument_column
GAS_KEYS = {"co2e": "CO2e", "co2": "CO2", "ch4": "CH4", "n2o": "N2O"}
EMISSION_KEYS = {**GAS_KEYS, "co2_biogenic": "CO2_biogenic"}  # biogenic CO2: reported outside the scopes
MAX_LITERAL_DIGITS = 60


class FactorSetSignature(Protocol):
    """What the checker needs to know of a factor set: its gases' units and attributes."""

    id: str
    gas_units: tuple[tuple[str, str], ...]
    attributes: tuple[str, ...]


class _Failed(Exception):
    """An expression could not be typed; its diagnostic is already recorded."""


# --- activity types ---------------------------------------------------------------------


def check_activity_type(doc: YamlDocument, spec: ActivityTypeFile) -> ir.ActivityType:
    """Resolve field kinds and the per-row unit conversions of quantity fields."""
    diags: list[Diagnostic] = []
    fields: list[ir.Field] = [
        ir.Field(name, {"text": ir.TEXT, "date": ir.DATE}[kind], True, span=doc.span(()))
        for name, kind in STANDARD_FIELDS.items()
    ]
    dims = named_dimensions()
    for name, raw in spec.fields.items():
        span = doc.span(("fields", name))
        fs = _field_spec(raw)
        if fs is None:
            diags.append(
                Diagnostic(
                    "E203",
                    f"'{raw}' is neither a field type nor a dimension",
                    span,
                    suggestion=did_you_mean(str(raw), [*dims, "text", "number", "date", "boolean"]),
                )
            )
            continue
        if fs.type != "quantity":
            kind = {"text": ir.TEXT, "number": ir.NUMBER, "date": ir.DATE, "boolean": ir.BOOLEAN}[fs.type]
            fields.append(ir.Field(name, kind, fs.required, span=span))
            continue
        if fs.unit:
            try:
                unit = parse_unit(fs.unit)
            except UnitError as exc:
                diags.append(Diagnostic("E501", str(exc), span, suggestion=_unit_hint(exc)))
                continue
            if not is_terminating(unit.scale):
                diags.append(Diagnostic(
                    "E510",
                    f"a field in {fs.unit} cannot be stored exactly: 1 {fs.unit} is {unit.scale} in base units,"
                    " which has no finite decimal expansion",
                    span,
                    suggestion=f"declare the field as a plain number and give it its unit in the rule,"
                    f" e.g. '{name} * 1 {fs.unit}' (the rule's arithmetic is exact)",
                ))
                continue
            fields.append(
                ir.Field(
                    name, ir.quantity(unit.dimension), fs.required,
                    fixed_factor=_exact(unit.scale), display_unit=fs.unit, span=span,
                )
            )
            continue
        if fs.dimension not in dims:
            diags.append(
                Diagnostic(
                    "E502", f"unknown dimension '{fs.dimension}'", span, suggestion=did_you_mean(fs.dimension or "", dims)
                )
            )
            continue
        dim = dims[fs.dimension]
        conversions = tuple(
            ir.UnitConversion(n, _exact(u.scale)) for n, u in sorted(units_of(dim).items())
        )
        fields.append(
            ir.Field(
                name, ir.quantity(dim), fs.required, conversions=conversions,
                display_unit=registry().dimensions[fs.dimension][1], span=span,
            )
        )
    if diags:
        raise DiagnosticError(diags)
    digest = hashlib.sha256(doc.source.text.encode("utf-8")).hexdigest()
    return ir.ActivityType(spec.activity_type, spec.title, tuple(fields), digest, span=doc.span(()))


def _field_spec(raw: FieldSpec | str) -> FieldSpec | None:
    if isinstance(raw, FieldSpec):
        return raw
    if raw in ("text", "number", "date", "boolean"):
        return FieldSpec(type=raw)
    if raw in named_dimensions():
        return FieldSpec(type="quantity", dimension=raw)
    return None


def _exact(f: Fraction) -> Decimal:
    from ccf.dsl.units import fraction_to_decimal

    return fraction_to_decimal(f)


def _unit_hint(exc: UnitError) -> str | None:
    return did_you_mean(exc.name, unit_names()) if exc.name else None


# --- methodologies ----------------------------------------------------------------------


@dataclass
class _Scope:
    fields: Mapping[str, ir.Field]
    params: dict[str, ir.Node] = field(default_factory=dict)
    lookups: dict[str, "_Lookup"] = field(default_factory=dict)
    allow_lookups: bool = True
    hidden: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # name -> (why not here, what to do)
    instrument: Mapping[str, ir.Field] = field(default_factory=dict)  # instrument.<field> in rules
    conversions: dict[str, ir.Type] = field(default_factory=dict)  # currency conversions (dsl/currency.py)


@dataclass
class _Lookup:
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

    def error(self, code: str, message: str, span: Span, *, related=(), suggestion=None) -> _Failed:
        self.diags.append(Diagnostic(code, message, span, tuple(related), suggestion))
        return _Failed()

    def parse(self, text: str, path: Path) -> ast.Expr | None:
        try:
            return parse_expression(str(text), self.origin(path, str(text)))
        except DiagnosticError as exc:
            self.diags.extend(exc.diagnostics)
            return None

    # -- expressions
    def expr(self, e: ast.Expr, scope: _Scope) -> ir.Node:
        method: Callable[[ast.Expr, _Scope], ir.Node] = getattr(self, "visit_" + type(e).__name__)
        return method(e, scope)

    def visit_Number(self, e: ast.Number, scope: _Scope) -> ir.Node:
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
            raise self.error("E501", f"{exc}", e.span, suggestion=_unit_hint(exc)) from None
        return ir.Const(value, ir.quantity(unit.dimension), unit.scale, span=e.span)

    def visit_String(self, e: ast.String, scope: _Scope) -> ir.Node:
        if "\x00" in e.value:
            raise self.error("E309", "a text cannot contain the NUL character (\\0)", e.span)
        return ir.TextConst(e.value, span=e.span)

    def visit_Bool(self, e: ast.Bool, scope: _Scope) -> ir.Node:
        return ir.BoolConst(e.value, span=e.span)

    def visit_Null(self, e: ast.Null, scope: _Scope) -> ir.Node:
        return ir.NullConst(span=e.span)

    def visit_Name(self, e: ast.Name, scope: _Scope) -> ir.Node:
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
            raise _Failed()
        if e.name in scope.hidden:
            why, hint = scope.hidden[e.name]
            raise self.error("E401", why, e.span, suggestion=hint)
        candidates = [*scope.fields, *scope.params, *(scope.lookups if scope.allow_lookups else ())]
        what = "field, parameter or factor" if scope.allow_lookups else ("field or parameter" if scope.fields else "parameter")
        hint = did_you_mean(e.name, candidates)
        raise self.error("E401", f"unknown name '{e.name}': no {what} has this name", e.span, suggestion=hint)

    def _factor(self, lookup: _Lookup, gas_key: str, span: Span, name_span: Span) -> ir.Node:
        gas = GAS_KEYS.get(gas_key)
        if gas is None or gas not in lookup.gas_units:
            raise self.error(
                "E403",
                f"factor '{lookup.name}' has no gas '{gas_key}'",
                name_span,
                suggestion=did_you_mean(gas_key, [k for k, g in GAS_KEYS.items() if g in lookup.gas_units])
                or "use co2e, co2, ch4 or n2o",
            )
        num = parse_unit(lookup.gas_units[gas])
        lookup.used.add(gas)
        dim = ir.quantity(tuple(sorted(dict(num.dimension).items())))
        from ccf.dsl.units import dim_mul

        t = ir.quantity(dim_mul(dim.dimension, lookup.per.dimension, -1))
        return ir.FactorRef(lookup.name, gas, t, num.scale / lookup.per_scale, span=span)

    def visit_Attribute(self, e: ast.Attribute, scope: _Scope) -> ir.Node:
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

    def visit_Unary(self, e: ast.Unary, scope: _Scope) -> ir.Node:
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

    def visit_Binary(self, e: ast.Binary, scope: _Scope) -> ir.Node:
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
            from ccf.dsl.units import dim_mul

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
                f"cannot {verb} {_describe(left)} and {_describe(right)}",
                e.span,
                related=(
                    Related(left.span, f"this is {_describe(left)}"),
                    Related(right.span, f"this is {_describe(right)}"),
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

    def visit_In(self, e: ast.In, scope: _Scope) -> ir.Node:
        operand = self.expr(e.operand, scope)
        items = []
        for item in e.items:
            node = self.expr(item, scope)
            _, node, _, _ = self.unify(operand, node, item, "compare")
            items.append(node)
        return ir.InList(operand, tuple(items), e.negated, span=e.span)

    def visit_If(self, e: ast.If, scope: _Scope) -> ir.Node:
        cond = self.expr(e.cond, scope)
        self.want_bool(cond, "'if'")
        then, otherwise, t, scale = self.unify(self.expr(e.then, scope), self.expr(e.otherwise, scope), e, "choose between")
        self.refuse_null_only(e, "an 'if' whose branches are both null", then, otherwise)
        return ir.IfThen(cond, then, otherwise, t, scale, span=e.span)

    def visit_Call(self, e: ast.Call, scope: _Scope) -> ir.Node:
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
        from ccf.dsl.units import fraction_to_decimal

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


def _describe(node: ir.Node) -> str:
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


# --- the methodology -------------------------------------------------------------------


def check_methodology(
    doc: YamlDocument,
    spec: MethodologyFile,
    activity_types: Mapping[str, ir.ActivityType],
    factor_sets: Mapping[str, FactorSetSignature],
) -> ir.Methodology:
    """Check one validated methodology file and lower it to the IR."""
    ck = Checker(doc)
    span = doc.span(())
    activity = activity_types.get(spec.activity)
    if activity is None:
        ck.error(
            "E405", f"unknown activity type '{spec.activity}'", doc.span(("activity",)),
            suggestion=did_you_mean(spec.activity, activity_types) or "activity types: " + ", ".join(sorted(activity_types)),
        )
        raise DiagnosticError(ck.diags)
    fset = factor_sets.get(spec.factor_set)
    if fset is None:
        ck.error(
            "E601", f"unknown factor set '{spec.factor_set}'", doc.span(("factor_set",)),
            suggestion=did_you_mean(spec.factor_set, factor_sets) or "factor sets: " + ", ".join(sorted(factor_sets)),
        )
    scope = _Scope({f.name: f for f in activity.fields})

    # parameters: constants, may use earlier parameters
    params: list[ir.Parameter] = []
    not_in_parameters = {
        **{n: (f"a parameter cannot use the factor '{n}': parameters are fixed values",
               "use the factor in a rule's 'emissions' instead") for n in spec.factors},
        **{n: (f"a parameter cannot use the activity field '{n}': parameters are fixed values",
               "use the field in a rule's 'where' or 'emissions' instead") for n in scope.fields},
    }
    for index, (name, text) in enumerate(spec.parameters.items()):
        path = ("parameters", name)
        if name in scope.fields:
            ck.error(
                "E407", f"parameter '{name}' has the name of an activity field", doc.key_span(path),
                suggestion="give the parameter another name",
            )
            continue
        later = {
            n: (f"parameter '{n}' is defined further down; a parameter can only use the parameters above it",
                f"move '{n}' above '{name}'")
            for n in list(spec.parameters)[index:]
        }
        tree = ck.parse(str(text), path)
        if tree is None:
            ck.failed.add(name)
            continue
        try:
            node = ck.expr(tree, _Scope({}, dict(scope.params), {}, allow_lookups=False, hidden={**not_in_parameters, **later}))
        except _Failed:
            ck.failed.add(name)
            continue
        scope.params[name] = node
        params.append(ir.Parameter(name, node, span=doc.key_span(path)))

    # factor lookups
    lookups: list[tuple[str, tuple, tuple, str, Span, dict]] = []
    not_in_match = {
        n: (f"a factor's 'match' cannot use the factor '{n}'", "match keys are built from activity fields, e.g. country")
        for n in spec.factors
    }
    for name, lk in spec.factors.items():
        path = ("factors", name)
        if name in scope.fields or name in scope.params:
            ck.error(
                "E407", f"factor '{name}' has the name of a field or parameter", doc.key_span(path),
                suggestion="give the factor another name",
            )
            continue
        try:
            per = parse_unit(lk.per)
        except UnitError as exc:
            ck.error("E501", str(exc), doc.span(path + ("per",)), suggestion=_unit_hint(exc))
            ck.failed.add(name)
            continue
        lset = fset
        if lk.factor_set is not None:  # this lookup reads another set (e.g. the organisation's residual mix)
            lset = factor_sets.get(lk.factor_set)
            if lset is None:
                ck.error(
                    "E601", f"unknown factor set '{lk.factor_set}' in factor '{name}'", doc.span(path + ("factor_set",)),
                    suggestion=did_you_mean(lk.factor_set, factor_sets) or "factor sets: " + ", ".join(sorted(factor_sets)),
                )
                ck.failed.add(name)
                continue
        if lset is not None:
            known = set(lset.attributes)
            for attr in [*lk.select, *lk.match]:
                if attr not in known:
                    sub = "select" if attr in lk.select else "match"
                    ck.error(
                        "E602", f"factor set '{lset.id}' has no attribute '{attr}'", doc.key_span(path + (sub, attr)),
                        suggestion=did_you_mean(attr, known) or "attributes: " + ", ".join(sorted(known)),
                    )
        match_nodes = []
        for attr, text in lk.match.items():
            tree = ck.parse(text, path + ("match", attr))
            if tree is None:
                continue
            try:
                node = ck.expr(tree, _Scope(scope.fields, dict(scope.params), {}, allow_lookups=False, hidden=not_in_match))
            except _Failed:
                continue
            if node.type.kind not in ("text", "null"):
                ck.error("E503", f"a match key is compared with factor text, but this is {node.type}", node.span)
                continue
            match_nodes.append((attr, node))
        fallback: dict[str, ir.Node | str | None] = {"region": None, "year": None}
        for key, want in (("region", "text"), ("year", "quantity")):
            text = getattr(lk, key)
            tree = ck.parse(text, path + (key,)) if text is not None else None
            if tree is None:
                continue
            try:
                node = ck.expr(tree, _Scope(scope.fields, dict(scope.params), {}, allow_lookups=False))
            except _Failed:
                continue
            if node.type.kind not in (want, "null") or (want == "quantity" and node.type.dimension):
                wanted = "text (a region code)" if key == "region" else "a plain number (a year)"
                ck.error("E503", f"a lookup's {key} must be {wanted}, but this is {node.type}", node.span)
                continue
            fallback[key] = node
        gas_units = dict(lset.gas_units) if lset is not None else {g: "kgCO2e" for g in GASES}
        scope.lookups[name] = _Lookup(name, ir.quantity(per.dimension), per.scale, gas_units)
        fallback["factor_set"] = lk.factor_set
        lookups.append(
            (name, tuple(sorted(lk.select.items())), tuple(match_nodes), lk.per, doc.key_span(path), fallback)
        )

    instruments = _instruments(ck, doc, spec, activity, activity_types)
    if instruments is not None:
        scope.instrument = {f.name: f for f in instruments.activity.fields}
    elif spec.instruments is not None:  # already reported: say nothing of instrument.<field>
        ck.failed.add(INSTRUMENT)
    from ccf.dsl.currency import check_conversions  # spend in any currency (lazy: it uses Checker)

    conversions = check_conversions(ck, doc, spec, scope)

    # rules
    rules: list[ir.Rule] = []
    seen_ids: dict[str, Span] = {}
    for i, rule in enumerate(spec.rules):
        path = ("rules", i)
        rspan = doc.span(path + ("id",))
        if rule.id in seen_ids:
            ck.error(
                "E408", f"rule id '{rule.id}' is used twice (first on line {seen_ids[rule.id].line})", rspan,
                related=(Related(seen_ids[rule.id], "first used here"),), suggestion="give each rule its own id",
            )
        seen_ids.setdefault(rule.id, rspan)
        where = None
        if rule.where is not None:
            tree = ck.parse(rule.where, path + ("where",))
            if tree is not None:
                try:
                    where = ck.expr(tree, scope)
                    ck.want_bool(where, "'where'")
                except _Failed:
                    pass
        emissions: list[ir.Emission] = []
        if rule.emissions is not None:
            items = rule.emissions.items() if isinstance(rule.emissions, dict) else [("co2e", rule.emissions)]
            in_scopes = [k for k in (rule.emissions if isinstance(rule.emissions, dict) else ())
                         if EMISSION_KEYS[k] not in ir.OUTSIDE_SCOPES]
            if "co2e" in in_scopes and len(in_scopes) > 1:
                ck.error(
                    "E508",
                    "a rule gives either co2e or the separate gases, not both: the total would count them twice",
                    doc.key_span(path + ("emissions", "co2e")),
                    suggestion="remove 'co2e' (it is the sum of the gases) or remove the gases",
                )
            epath = path + ("emissions",)
            for key, text in items:
                gpath = epath + (key,) if isinstance(rule.emissions, dict) else epath
                tree = ck.parse(text, gpath)
                if tree is None:
                    continue
                try:
                    node = ck.expr(tree, scope)
                except _Failed:
                    continue
                em = _emission(ck, EMISSION_KEYS[key], node, next(iter(scope.lookups), None))
                if em is not None:
                    emissions.append(em)
        rules.append(ir.Rule(rule.id, where, tuple(emissions), rule.exclude, rule.description, span=rspan))

    if ck.diags:
        raise DiagnosticError(ck.diags)
    ir_lookups = tuple(
        ir.FactorLookup(
            name, select, match, per, tuple(sorted(scope.lookups[name].used)),
            region=fb["region"], year=fb["year"], factor_set=fb["factor_set"], span=lspan,
        )
        for name, select, match, per, lspan, fb in lookups
    )
    g = spec.ghg_protocol
    m = ir.Methodology(
        spec.methodology, spec.version, spec.status, spec.title, g.scope, g.category, g.source, g.method,
        tuple(g.references), spec.factor_set, spec.gwp, activity, tuple(params), ir_lookups, tuple(rules),
        hashlib.sha256(doc.source.text.encode("utf-8")).hexdigest(), doc.source.path, span=span,
        instruments=instruments,
        conversions=conversions,
    )
    try:  # its arithmetic within PostgreSQL's exact range, or guarded (docs/numeric-semantics.md)
        exactness.plan(m)
    except exactness.InexactMethodology as e:
        raise DiagnosticError([Diagnostic("E511", str(e).split(": ", 1)[1], e.span)]) from None
    return m


def _instruments(
    ck: Checker, doc: YamlDocument, spec: MethodologyFile, activity: ir.ActivityType,
    activity_types: Mapping[str, ir.ActivityType],
) -> ir.Instruments | None:
    """The 'instruments' section: its activity type and the fields allocation pairs up."""
    it = spec.instruments
    if it is None:
        return None
    path = ("instruments",)
    instruments = activity_types.get(it.activity)
    if instruments is None:
        ck.error(
            "E405", f"unknown activity type '{it.activity}'", doc.span(path + ("activity",)),
            suggestion=did_you_mean(it.activity, activity_types) or "activity types: " + ", ".join(sorted(activity_types)),
        )
        return None
    ok = True

    def both(name: str, at: tuple, want: str) -> None:
        nonlocal ok
        for side in (activity, instruments):
            f = side.field(name)
            if f is None:
                ck.error(
                    "E401", f"activity type '{side.id}' has no field '{name}'", doc.span(at),
                    suggestion=did_you_mean(name, [x.name for x in side.fields]),
                )
                ok = False
                return
        a, b = activity.field(name).type, instruments.field(name).type  # type: ignore[union-attr]
        if a != b or (want == "quantity") != (a.kind == "quantity"):
            what = "a quantity of the same dimension" if want == "quantity" else "a value of the same type (not a quantity)"
            ck.error(
                "E503", f"'{name}' must be {what} in '{activity.id}' and '{instruments.id}', but it is {a} and {b}",
                doc.span(at),
            )
            ok = False

    both(it.allocate, path + ("allocate",), "quantity")
    for i, name in enumerate(it.match):
        both(name, path + ("match", i), "value")
    vintage = instruments.field(it.vintage)
    if vintage is None:
        ck.error(
            "E401", f"activity type '{instruments.id}' has no field '{it.vintage}'", doc.span(path + ("vintage",)),
            suggestion=did_you_mean(it.vintage, [x.name for x in instruments.fields]),
        )
        ok = False
    elif vintage.type != ir.NUMBER:
        ck.error("E503", f"the vintage must be a plain number (a year), but '{it.vintage}' is {vintage.type}",
                 doc.span(path + ("vintage",)))
        ok = False
    if not ok:
        return None
    return ir.Instruments(instruments, it.allocate, tuple(it.match), it.vintage, span=doc.key_span(path))


def _emission(ck: Checker, gas: str, node: ir.Node, a_factor: str | None = None) -> ir.Emission | None:
    """An emissions expression must be a mass of CO2e, or for a gas key, a mass of that gas."""
    co2e = parse_unit("kgCO2e").dimension
    own = parse_unit(f"kg{ir.gwp_gas(gas)}").dimension
    if node.type.kind == "quantity" and node.type.dimension == co2e:
        return ir.Emission(gas, rescale(node, Fraction(1)), True, span=node.span)
    if gas != "CO2e" and node.type.kind == "quantity" and node.type.dimension == own:
        return ir.Emission(gas, rescale(node, Fraction(1)), False, span=node.span)
    from ccf.dsl.currency import mismatch_hint

    if node.type.kind == "quantity" and (currency := mismatch_hint(node)) is not None:
        ck.error("E509", currency[0], node.span, suggestion=currency[1])
        return None
    wanted = "a mass of CO2e (e.g. kgCO2e)" if gas == "CO2e" else f"a mass of {gas} or of CO2e"
    text = ck.text(node.span)
    example = f"{text} * {a_factor}" if text and a_factor and " " not in text else "quantity * factor"
    ck.error(
        "E506",
        f"emissions must be {wanted}, but this is {_describe(node)}",
        node.span,
        suggestion=f"multiply the activity by an emission factor, e.g. {example}" if node.type.kind == "quantity" else None,
    )
    return None
