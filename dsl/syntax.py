"""Parse expression text into the surface tree; syntax errors become diagnostics.

Positions: an expression lives inside a YAML scalar. ``ExprOrigin`` maps a line/column in the
expression text to a line/column in the methodology file, so every node's span is in the
author's file. Lark's own messages never reach the author: they are translated here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ccf.dsl import ast, resources
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.source import Span
from ccf.dsl.units import UnitError, parse_unit


@dataclass(frozen=True)
class ExprOrigin:
    """Where expression text starts in its file, and how its lines are indented there."""

    path: str
    line: int
    column: int
    block_indent: int | None = None  # for '|' block scalars: column of every line's text
    # exact (line, column) in the file of each character of the text and of its end, when
    # YAML rewrote the text (folded lines, quote escapes); see YamlDocument.char_positions
    positions: tuple[tuple[int, int], ...] | None = None
    text: str | None = None

    def at(self, line: int, column: int) -> tuple[int, int]:
        if self.positions is not None and self.text is not None:
            offset = _offset(self.text, line, column)
            if 0 <= offset < len(self.positions):
                return self.positions[offset]
        if line == 1 and self.block_indent is None:
            return self.line, self.column + column - 1
        if self.block_indent is not None:
            return self.line + line - 1, self.block_indent + column - 1
        return self.line + line - 1, column

    def span(self, line: int, column: int, end_line: int, end_column: int) -> Span:
        l1, c1 = self.at(line, column)
        l2, c2 = self.at(end_line, end_column)
        return Span(self.path, l1, c1, l2, c2)


def _offset(text: str, line: int, column: int) -> int:
    """Character offset of a 1-based line/column in text (lines split at '\\n', as Lark counts)."""
    start = 0
    for _ in range(line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            return -1
        start = nl + 1
    return start + column - 1


@cache
def _parser() -> Lark:
    grammar = resources.dsl_file("grammar.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


_STRING_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


def _unescape(text: str) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(_STRING_ESCAPES.get(body[i + 1], "\\" + body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _ToAst(Transformer):
    """Lark tree -> ast nodes; spans are attached in one place (``_span``)."""

    def __init__(self, origin: ExprOrigin):
        super().__init__()
        self.origin = origin

    def _span(self, meta) -> Span:
        return self.origin.span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return self.origin.span(tok.line, tok.column, tok.end_line, tok.end_column)

    @v_args(meta=True)
    def if_expr(self, meta, c):
        return ast.If(c[0], c[1], c[2], span=self._span(meta))

    @v_args(meta=True)
    def or_op(self, meta, c):
        return ast.Binary("or", c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def and_op(self, meta, c):
        return ast.Binary("and", c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def not_op(self, meta, c):
        return ast.Unary("not", c[0], span=self._span(meta))

    @v_args(meta=True)
    def compare(self, meta, c):
        return ast.Binary(str(c[1]), c[0], c[2], span=self._span(meta))

    @v_args(meta=True)
    def in_op(self, meta, c):
        return ast.In(c[0], tuple(c[1].children), False, span=self._span(meta))

    @v_args(meta=True)
    def not_in_op(self, meta, c):
        return ast.In(c[0], tuple(c[1].children), True, span=self._span(meta))

    @v_args(meta=True)
    def coalesce_op(self, meta, c):
        return ast.Binary("??", c[0], c[1], span=self._span(meta))

    @v_args(meta=True)
    def arith(self, meta, c):
        return ast.Binary(str(c[1]), c[0], c[2], span=self._span(meta))

    @v_args(meta=True)
    def neg(self, meta, c):
        return ast.Unary("-", c[0], span=self._span(meta))

    @v_args(meta=True)
    def attribute(self, meta, c):
        return ast.Attribute(c[0], str(c[1]), span=self._span(meta))

    def quantity(self, c):
        tok = c[0]
        number, unit = str(tok).split(None, 1)
        return ast.Number(number, unit.strip(), span=self._tok_span(tok))

    def number(self, c):
        return ast.Number(str(c[0]), None, span=self._tok_span(c[0]))

    def string(self, c):
        return ast.String(_unescape(str(c[0])), span=self._tok_span(c[0]))

    @v_args(meta=True)
    def true(self, meta, c):
        return ast.Bool(True, span=self._span(meta))

    @v_args(meta=True)
    def false(self, meta, c):
        return ast.Bool(False, span=self._span(meta))

    @v_args(meta=True)
    def null(self, meta, c):
        return ast.Null(span=self._span(meta))

    @v_args(meta=True)
    def call(self, meta, c):
        if str(c[0]) in _KEYWORDS:  # 'a + not (b)': the parser took 'not' for a function name
            raise DiagnosticError([_misplaced_keyword(c[0], self.origin)])
        args = tuple(c[1].children) if c[1] is not None else ()
        return ast.Call(str(c[0]), args, span=self._span(meta))

    def name(self, c):
        if str(c[0]) in _KEYWORDS:  # 'a + in'
            raise DiagnosticError([_misplaced_keyword(c[0], self.origin)])
        return ast.Name(str(c[0]), span=self._tok_span(c[0]))


_TERMINAL_WORDS = {
    "$END": "the end of the expression",
    "NAME": "a name",
    "NUMBER": "a number",
    "QUANTITY": "a number with a unit",
    "STRING": "a text in quotes",
    "COMPARE": "a comparison (==, !=, <, <=, >, >=)",
    "ADD": "'+' or '-'",
    "MUL": "'*' or '/'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "DOT": "'.'",
    "MINUS": "'-'",
    "__ANON_0": "'??'",
}
# tokens that can start a value, and tokens after which a value must follow
_VALUE_START = {"NAME", "NUMBER", "QUANTITY", "STRING", "LPAR", "MINUS", "NOT", "IF", "TRUE", "FALSE", "NULL"}
_NEEDS_VALUE = {"COMPARE", "ADD", "MUL", "MINUS", "AND", "OR", "NOT", "IN", "__ANON_0", "COMMA", "IF", "THEN", "ELSE", "LPAR", "DOT"}
_CLOSERS = (("THEN", "'then'"), ("ELSE", "'else'"), ("COMMA", "','"), ("RPAR", "')'"), ("$END", "the end of the expression"))


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _words(expected: set[str]) -> str:
    """What the parser expected, in the author's words."""
    exp = {t for t in expected if t not in ("WS_INLINE", "NEWLINE")}
    if exp & {"NAME", "NUMBER", "STRING"}:
        return "a value (a name, a number or a text in quotes)"
    closers = [word for t, word in _CLOSERS if t in exp]
    ops = sorted(exp - {t for t, _ in _CLOSERS})
    if len(ops) > 2:
        return _join(["an operator", *closers])
    words = [_TERMINAL_WORDS.get(t) or f"'{t.lower()}'" for t in ops] + closers
    return _join(words) if words else "something else"


def _found(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the expression"
    return f"'{tok}'"


def _tokens(text: str) -> list[Token]:
    try:
        return list(_parser().lex(text))
    except UnexpectedInput:
        return []


def _early_end(text: str, origin: ExprOrigin) -> Diagnostic:
    """The expression stopped before it was complete: say what is missing, and where."""
    toks = _tokens(text)
    tspan = lambda t: origin.span(t.line, t.column, t.end_line, t.end_column)  # noqa: E731
    open_parens: list[Token] = []
    for t in toks:
        if t.type == "LPAR":
            open_parens.append(t)
        elif t.type == "RPAR" and open_parens:
            open_parens.pop()
    if open_parens:
        return Diagnostic("E302", "this '(' is never closed", tspan(open_parens[-1]), suggestion="add the matching ')'")
    if toks and toks[-1].type in _NEEDS_VALUE:
        last = toks[-1]
        hint = "add the gas after '.', e.g. .co2" if last.type == "DOT" else f"add the value that follows '{last}'"
        return Diagnostic("E302", f"'{last}' needs a value after it, but the expression ends here", tspan(last), suggestion=hint)
    open_ifs: list[list] = []  # [if token, has its 'then']
    for t in toks:
        if t.type == "IF":
            open_ifs.append([t, False])
        elif t.type == "THEN":
            for entry in reversed(open_ifs):
                if not entry[1]:
                    entry[1] = True
                    break
        elif t.type == "ELSE":
            for i in range(len(open_ifs) - 1, -1, -1):
                if open_ifs[i][1]:
                    del open_ifs[i]
                    break
    if open_ifs:
        tok, has_then = open_ifs[-1]
        if not has_then:
            return Diagnostic(
                "E302", "this 'if' has no 'then'", tspan(tok), suggestion="write if <condition> then <value> else <value>"
            )
        return Diagnostic(
            "E302",
            "this 'if' has no 'else'",
            tspan(tok),
            suggestion="add 'else' and the value to use when the condition does not hold: if … then … else …",
        )
    lines = text.split("\n")  # as Lark counts lines (str.splitlines would also split at \r, \x85, …)
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    line, col = len(lines), len(lines[-1]) + 1
    return Diagnostic(
        "E302",
        "the expression ends too early",
        origin.span(line, col, line, col + 1),
        suggestion="complete it (an operand, a closing ')' or the 'else' of an if?)",
    )


def _syntax_error(text: str, origin: ExprOrigin, exc: UnexpectedInput) -> Diagnostic:
    line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return _early_end(text, origin)
    span = origin.span(line, col, line, col + 1)
    if isinstance(exc, UnexpectedCharacters):
        row = text.split("\n")[line - 1] if text else ""  # Lark counts lines at '\n'
        ch = row[col - 1 : col]
        op = row[col - 1 : col + 1] if row[col : col + 1] == ch else ch  # '&&', '||'
        if op != ch:
            span = origin.span(line, col, line, col + 2)
        hints = {
            "=": ("E303", "'=' is not an operator here", "use '==' to compare"),
            "&": ("E303", f"'{op}' is not an operator", "use 'and'"),
            "|": ("E303", f"'{op}' is not an operator", "use 'or'"),
            "!": ("E303", "'!' is not an operator", "use 'not', or '!=' for 'is not equal to'"),
            "%": ("E303", "'%' is not an operator", "write a percentage as a number, e.g. 0.05 or 5 percent"),
            "^": ("E303", "'^' is only used inside units (m^2)", "multiply instead"),
        }
        shown = ch if ch.isprintable() else f"U+{ord(ch):04X}" if ch else "?"
        code, msg, help_ = hints.get(ch, ("E301", f"unexpected character '{shown}'", None))
        swapped = {"=>": ">=", "=<": "<="}.get(row[col - 1 : col + 1])
        if swapped:
            code, msg, help_ = "E303", f"'{row[col - 1 : col + 1]}' is not an operator", f"write '{swapped}'"
            span = origin.span(line, col, line, col + 2)
        if ch in ('"', "'"):
            code, msg, help_ = "E304", "this text is missing its closing quote", f"end it with {ch}"
        return Diagnostic(code, msg, span, suggestion=help_)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    end = tok.end_column if tok.end_line == tok.line else col + 1
    span = origin.span(line, col, line, end or col + 1)
    expected = set(exc.expected)
    before = [t for t in _tokens(text) if (t.line, t.column) < (tok.line, tok.column)]
    previous = before[-1] if before else None
    if (
        previous is not None and str(previous) in _KEYWORDS and tok.type in _VALUE_START
        and expected & {"ADD", "MUL", "COMPARE"} and not expected & {"NAME", "NUMBER", "STRING"}
    ):  # the parser took the keyword for a name (it now wants an operator): it stands where it cannot
        if str(previous) == "not" and len(before) > 1 and str(before[-2]) == "==":
            d = _misplaced_keyword(previous, origin)
            return Diagnostic(d.code, d.message, d.span, suggestion="to say 'is not equal to', write '!='")
        return _misplaced_keyword(previous, origin)
    if tok.type in ("THEN", "ELSE") and not any(t.type == "IF" for t in before):
        return Diagnostic("E301", f"'{tok}' without an 'if'", span, suggestion="write if <condition> then <value> else <value>")
    if tok.type in _VALUE_START and not expected & {"NAME", "NUMBER", "STRING"} and tok.type != "LPAR" or (
        tok.type == "LPAR" and "LPAR" not in expected and previous is not None and previous.type != "NAME"
    ):
        kinds = [t.type for t in before]
        missing = "then" if kinds.count("IF") > kinds.count("THEN") else "else" if kinds.count("IF") > kinds.count("ELSE") else None
        last_if = max((i for i, k in enumerate(kinds) if k == "IF"), default=-1)
        nested = sum({"LPAR": 1, "RPAR": -1}.get(k, 0) for k in kinds[last_if + 1 :]) > 0
        if missing and missing.upper() in expected and not nested:
            return Diagnostic(
                "E301", f"expected '{missing}', found {_found(tok)}", span,
                suggestion="an if needs all three parts: if … then … else …",
            )
        if previous is not None and previous.type in ("NUMBER", "QUANTITY", "NAME", "STRING", "RPAR", "TRUE", "FALSE", "NULL"):
            return Diagnostic(
                "E301",
                f"two values in a row: an operator is missing before {_found(tok)}",
                span,
                suggestion=_spaced_unit(text, previous) or "put an operator such as *, +, == or 'and' between them",
            )
    if (
        tok.type == "COMPARE" and previous is not None and previous.type == "COMPARE"
        and (previous.end_line, previous.end_column) == (tok.line, tok.column)
    ):
        return Diagnostic(
            "E301", f"'{previous}{tok}' is not an operator", origin.span(line, previous.column, line, end),
            suggestion="compare with one of ==, !=, <, <=, >, >=",
        )
    depth = sum({"LPAR": 1, "RPAR": -1}.get(t.type, 0) for t in before)
    if tok.type == "RPAR" and depth <= 0 and (previous is None or previous.type not in _NEEDS_VALUE):
        return Diagnostic("E301", "this ')' has no matching '('", span, suggestion="remove it, or add the missing '('")
    if previous is not None and previous.type == "IN" and "LPAR" in expected:
        return Diagnostic(
            "E301", f"expected '(' after 'in', found {_found(tok)}", span,
            suggestion="write the list in brackets, e.g. country in (\"GB\", \"IE\")",
        )
    after = f" after '{previous}'" if previous is not None and previous.type in _NEEDS_VALUE else ""
    in_if = expected & {"THEN", "ELSE"} and any(t.type == "IF" for t in before)
    hint = "an if needs all three parts: if … then … else …" if in_if else None
    return Diagnostic("E301", f"expected {_words(expected)}{after}, found {_found(tok)}", span, suggestion=hint)


_KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else"})


def _misplaced_keyword(tok: Token, origin: ExprOrigin) -> Diagnostic:
    span = origin.span(tok.line, tok.column, tok.end_line, tok.end_column)
    if str(tok) in ("not", "if"):
        hint = f"put brackets around the part that starts with '{tok}', e.g. a + ({tok} …)"
    else:
        hint = f"is a value missing before '{tok}', or is '{tok}' written twice?"
    return Diagnostic("E301", f"'{tok}' cannot be used here", span, suggestion=hint)


def _spaced_unit(text: str, quantity: Token) -> str | None:
    """'0.2 kg CO2e/kWh': a unit written with spaces in it; the literal as it should be written."""
    if quantity.type not in ("NUMBER", "QUANTITY") or quantity.start_pos is None:
        return None
    m = re.match(r"(\S+)\s+([A-Za-z0-9_µ²³^./*· ]+)", text[quantity.start_pos :])
    if not m:
        return None
    unit = m.group(2).replace(" ", "").rstrip("./*·")
    try:
        parse_unit(unit)
    except UnitError:
        return None
    return f"write the unit without spaces: {m.group(1)} {unit}"


MAX_DEPTH = 200


def _depth(node: ast.Expr) -> int:
    """Nesting depth of a tree, without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        for value in vars(n).values():
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, ast.Expr):
                    stack.append((child, d + 1))
    return deepest


def parse_expression(text: str, origin: ExprOrigin) -> ast.Expr:
    """Parse one expression; raise DiagnosticError with a positioned message on bad syntax."""
    if not text.strip():
        raise DiagnosticError([Diagnostic("E305", "the expression is empty", origin.span(1, 1, 1, 2))])
    too_deep = Diagnostic(
        "E307",
        "this expression is too long or too deeply nested",
        origin.span(1, 1, 1, 2),
        suggestion=f"split it up with parameters or several rules (at most {MAX_DEPTH} levels)",
    )
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise DiagnosticError([_syntax_error(text, origin, exc)]) from None
    except RecursionError:
        raise DiagnosticError([too_deep]) from None
    try:
        result = _ToAst(origin).transform(tree)
    except VisitError as exc:  # unwrap: the original error is the useful one
        if isinstance(exc.orig_exc, RecursionError):
            raise DiagnosticError([too_deep]) from None
        raise exc.orig_exc from None
    except RecursionError:
        raise DiagnosticError([too_deep]) from None
    if _depth(result) > MAX_DEPTH:  # later stages recurse over the tree
        raise DiagnosticError([too_deep])
    if isinstance(result, Tree):  # pragma: no cover - grammar guarantees a node
        raise DiagnosticError([Diagnostic("E301", "not an expression", origin.span(1, 1, 1, 2))])
    return result
