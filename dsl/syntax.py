"""Parse expression text into the surface tree; syntax errors become diagnostics.

Positions: an expression lives inside a YAML scalar. ``ExprOrigin`` maps a line/column in the
expression text to a line/column in the methodology file, so every node's span is in the
author's file. Lark's own messages never reach the author: they are translated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from ccf.dsl import ast
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.source import Span


@dataclass(frozen=True)
class ExprOrigin:
    """Where expression text starts in its file, and how its lines are indented there."""

    path: str
    line: int
    column: int
    block_indent: int | None = None  # for '|' block scalars: column of every line's text

    def at(self, line: int, column: int) -> tuple[int, int]:
        if line == 1 and self.block_indent is None:
            return self.line, self.column + column - 1
        if self.block_indent is not None:
            return self.line + line - 1, self.block_indent + column - 1
        return self.line + line - 1, column

    def span(self, line: int, column: int, end_line: int, end_column: int) -> Span:
        l1, c1 = self.at(line, column)
        l2, c2 = self.at(end_line, end_column)
        return Span(self.path, l1, c1, l2, c2)


@cache
def _parser() -> Lark:
    grammar = resources.files("ccf.dsl").joinpath("grammar.lark").read_text("utf-8")
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
        args = tuple(c[1].children) if c[1] is not None else ()
        return ast.Call(str(c[0]), args, span=self._span(meta))

    def name(self, c):
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
    "QMARK": "'??'",
    "__ANON_0": "'??'",
}


def _words(expected: set[str]) -> str:
    names = []
    for t in sorted(expected):
        if t.startswith("__ANON") or t in ("WS_INLINE", "NEWLINE"):
            continue
        word = _TERMINAL_WORDS.get(t)
        if word is None:
            word = f"'{t.lower()}'" if t.isupper() and len(t) <= 6 and t.isalpha() else t
        names.append(word)
    names = sorted(set(names))
    if not names:
        return "something else"
    if len(names) > 4:
        return "an operator, ')' or the end of the expression"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _found(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the expression"
    return f"'{tok}'"


def _syntax_error(text: str, origin: ExprOrigin, exc: UnexpectedInput) -> Diagnostic:
    line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, col = len(lines), len(lines[-1]) + 1
        span = origin.span(line, col, line, col + 1)
        return Diagnostic(
            "E302",
            "the expression ends too early",
            span,
            suggestion="complete it (an operand, a closing ')' or the 'else' of an if?)",
        )
    span = origin.span(line, col, line, col + 1)
    if isinstance(exc, UnexpectedCharacters):
        ch = text.splitlines()[line - 1][col - 1] if text else ""
        hints = {
            "=": ("E303", "'=' is not an operator here", "use '==' to compare"),
            "&": ("E303", f"'{ch}' is not an operator", "use 'and'"),
            "|": ("E303", f"'{ch}' is not an operator", "use 'or'"),
            "!": ("E303", "'!' is not an operator", "use 'not', or '!=' for 'is not equal to'"),
            "%": ("E303", "'%' is not an operator", "write a percentage as a number, e.g. 0.05 or 5 percent"),
            "^": ("E303", "'^' is only used inside units (m^2)", "multiply instead"),
        }
        code, msg, help_ = hints.get(ch, ("E301", f"unexpected character '{ch}'", None))
        if ch in ('"', "'"):
            code, msg, help_ = "E304", "this text is missing its closing quote", f"end it with {ch}"
        return Diagnostic(code, msg, span, suggestion=help_)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    end = tok.end_column if tok.end_line == tok.line else col + 1
    span = origin.span(line, col, line, end or col + 1)
    expected = _words(set(exc.expected))
    if tok.type == "NAME" and str(tok) in ("if", "then", "else"):
        return Diagnostic("E301", f"unexpected '{tok}'", span, suggestion="an if needs all three parts: if … then … else …")
    return Diagnostic("E301", f"expected {expected}, found {_found(tok)}", span)


def parse_expression(text: str, origin: ExprOrigin) -> ast.Expr:
    """Parse one expression; raise DiagnosticError with a positioned message on bad syntax."""
    if not text.strip():
        raise DiagnosticError([Diagnostic("E305", "the expression is empty", origin.span(1, 1, 1, 2))])
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise DiagnosticError([_syntax_error(text, origin, exc)]) from None
    try:
        result = _ToAst(origin).transform(tree)
    except VisitError as exc:  # unwrap: the original error is the useful one
        raise exc.orig_exc from None
    if isinstance(result, Tree):  # pragma: no cover - grammar guarantees a node
        raise DiagnosticError([Diagnostic("E301", "not an expression", origin.span(1, 1, 1, 2))])
    return result
