"""The expression parser: precedence, node spans, literals, and its syntax errors."""

from __future__ import annotations

import pytest

from ccf.dsl import ast
from ccf.dsl.diagnostics import DiagnosticError
from ccf.dsl.source import Span
from ccf.dsl.syntax import MAX_DEPTH, ExprOrigin, parse_expression

ORIGIN = ExprOrigin("f.yaml", 1, 1)


def parse(text: str, origin: ExprOrigin = ORIGIN) -> ast.Expr:
    return parse_expression(text, origin)


def error(text: str, origin: ExprOrigin = ORIGIN):
    with pytest.raises(DiagnosticError) as info:
        parse_expression(text, origin)
    (d,) = info.value.diagnostics
    return d


# nodes compare without their spans (Spanned excludes span from equality)
a, b, c, d = (ast.Name(n) for n in "abcd")


def B(op: str, left: ast.Expr, right: ast.Expr) -> ast.Binary:
    return ast.Binary(op, left, right)


def N(text: str, unit: str | None = None) -> ast.Number:
    return ast.Number(text, unit)


# --- precedence and associativity --------------------------------------------------------

PRECEDENCE = [
    ("a + b * c", B("+", a, B("*", b, c))),
    ("a * b + c", B("+", B("*", a, b), c)),
    ("a - b - c", B("-", B("-", a, b), c)),
    ("a / b / c", B("/", B("/", a, b), c)),
    ("a * b / c", B("/", B("*", a, b), c)),
    ("(a + b) * c", B("*", B("+", a, b), c)),
    ("-a * b", B("*", ast.Unary("-", a), b)),
    ("a * -b", B("*", a, ast.Unary("-", b))),
    ("- -a", ast.Unary("-", ast.Unary("-", a))),
    ("a - -b", B("-", a, ast.Unary("-", b))),
    ("a ?? b + c", B("??", a, B("+", b, c))),
    ("a ?? b ?? c", B("??", B("??", a, b), c)),
    ("a ?? b == c", B("==", B("??", a, b), c)),
    ("a + b < c * d", B("<", B("+", a, b), B("*", c, d))),
    ("a == b and c", B("and", B("==", a, b), c)),
    ("a or b and c", B("or", a, B("and", b, c))),
    ("a and b or c", B("or", B("and", a, b), c)),
    ("not a and b", B("and", ast.Unary("not", a), b)),
    ("not a == b", ast.Unary("not", B("==", a, b))),
    ("not not a", ast.Unary("not", ast.Unary("not", a))),
    ("a in (b, c) and d", B("and", ast.In(a, (b, c)), d)),
    ("a not in (b,)", ast.In(a, (b,), True)),
    ("a + b in (c)", ast.In(B("+", a, b), (c,))),
    ("if a then b else c or d", ast.If(a, b, B("or", c, d))),
    ("if a then if b then c else d else a", ast.If(a, ast.If(b, c, d), a)),
    ("(if a then b else c) * d", B("*", ast.If(a, b, c), d)),
    ("a.co2 * b", B("*", ast.Attribute(a, "co2"), b)),
    ("-a.co2", ast.Unary("-", ast.Attribute(a, "co2"))),
    ("min(a, b + c)", ast.Call("min", (a, B("+", b, c)))),
    ("f()", ast.Call("f", ())),
    ("a >= b", B(">=", a, b)),
    ("a != b", B("!=", a, b)),
    ("a <= b", B("<=", a, b)),
    ("true and false or null", B("or", B("and", ast.Bool(True), ast.Bool(False)), ast.Null())),
]


@pytest.mark.parametrize(("text", "tree"), PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_precedence(text: str, tree: ast.Expr) -> None:
    assert parse(text) == tree


def test_whitespace_and_line_breaks_do_not_matter() -> None:
    assert parse("a\n  + b *\n c") == parse("a + b * c")


# --- literals ------------------------------------------------------------------------------

LITERALS = [
    ("1", N("1")),
    ("1.05", N("1.05")),
    (".5", N(".5")),
    ("1e3", N("1e3")),
    ("2.5E-3", N("2.5E-3")),
    ("100 km", N("100", "km")),
    ("0.5 kgCO2e/kWh", N("0.5", "kgCO2e/kWh")),
    ("3 t.km", N("3", "t.km")),
    ("2 m^2", N("2", "m^2")),
    ("2 m²", N("2", "m²")),
    ("0.1 kgCO2e/passenger.km", N("0.1", "kgCO2e/passenger.km")),
    ('"GB"', ast.String("GB")),
    ("'GB'", ast.String("GB")),
    (r'"say \"hi\""', ast.String('say "hi"')),
    (r"'it\'s'", ast.String("it's")),
    (r'"C:\\data"', ast.String("C:\\data")),
    (r'"tab\there"', ast.String("tab\there")),
    ('"Électricité — 电力 🇬🇧"', ast.String("Électricité — 电力 🇬🇧")),
    ("true", ast.Bool(True)),
    ("null", ast.Null()),
]


@pytest.mark.parametrize(("text", "tree"), LITERALS, ids=[t for t, _ in LITERALS])
def test_literals(text: str, tree: ast.Expr) -> None:
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("2 and x", B("and", N("2"), ast.Name("x"))),
        ("2 or x", B("or", N("2"), ast.Name("x"))),
        ("2 in (x)", ast.In(N("2"), (ast.Name("x"),))),
        ("2 not in (x)", ast.In(N("2"), (ast.Name("x"),), True)),
        ("if x then 2 else 3", ast.If(ast.Name("x"), N("2"), N("3"))),
        ("if x then 2 km else 3", ast.If(ast.Name("x"), N("2", "km"), N("3"))),
        ("2 andx", N("2", "andx")),  # not a keyword: a (unknown) unit, reported by the checker
        ("2 inch", N("2", "inch")),
    ],
)
def test_keywords_are_never_units(text: str, tree: ast.Expr) -> None:
    assert parse(text) == tree


# --- spans -----------------------------------------------------------------------------------


def span(line: int, col: int, end_line: int, end_col: int) -> Span:
    return Span("f.yaml", line, col, end_line, end_col)


def test_spans_of_nodes_are_in_file_coordinates() -> None:
    origin = ExprOrigin("f.yaml", 20, 16)  # e.g. after '    emissions: '
    tree = parse('quantity * uk_grid.co2 + 5 kg + "x"', origin)
    assert tree.span == span(20, 16, 20, 51)
    left = tree.left  # (quantity * uk_grid.co2) + 5 kg
    assert left.span == span(20, 16, 20, 45)
    mul = left.left
    assert mul.span == span(20, 16, 20, 38)
    assert mul.left.span == span(20, 16, 20, 24)  # quantity
    assert mul.right.span == span(20, 27, 20, 38)  # uk_grid.co2
    assert left.right.span == span(20, 41, 20, 45)  # 5 kg (number and unit)
    assert tree.right.span == span(20, 48, 20, 51)  # the string, quotes included


def test_spans_of_calls_ifs_and_lists() -> None:
    tree = parse("if min(a, b) > 0 then c in (1, 2) else d")
    assert tree.span == span(1, 1, 1, 41)
    assert tree.cond.left.span == span(1, 4, 1, 13)
    assert tree.cond.left.args[1].span == span(1, 11, 1, 12)
    assert tree.then.span == span(1, 23, 1, 34)
    assert tree.then.items[1].span == span(1, 32, 1, 33)


def test_spans_in_a_block_scalar() -> None:
    # '|' block: text starts on line 21 at column 7, every line indented to column 7
    origin = ExprOrigin("f.yaml", 21, 7, block_indent=7)
    tree = parse("a == 1\n  and bb > 2", origin)
    assert tree.left.left.span == span(21, 7, 21, 8)
    assert tree.right.left.span == span(22, 13, 22, 15)


def test_spans_with_exact_positions() -> None:
    # positions: YAML rewrote the text; the origin maps each character back to the file
    text = "a and b"
    positions = ((5, 10), (5, 11), (6, 3), (6, 4), (6, 5), (6, 6), (6, 7), (6, 8))
    tree = parse(text, ExprOrigin("f.yaml", 5, 10, positions=positions, text=text))
    assert tree.left.span == span(5, 10, 5, 11)
    assert tree.right.span == span(6, 7, 6, 8)


# --- syntax errors -----------------------------------------------------------------------------

ERRORS = [
    # text, code, message, column, end column, words in the suggestion
    ('country = "GB"', "E303", "'=' is not an operator here", 9, 10, "=="),
    ("quantity *", "E302", "'*' needs a value after it, but the expression ends here", 10, 11, "follows"),
    ("quantity && x", "E303", "'&&' is not an operator", 10, 12, "and"),
    ("a || b", "E303", "'||' is not an operator", 3, 5, "or"),
    ("a => b", "E303", "'=>' is not an operator", 3, 5, ">="),
    ("a >> b", "E301", "'>>' is not an operator", 3, 5, ">="),
    ("a ! b", "E303", "'!' is not an operator", 3, 4, "not"),
    ("5 % 2", "E303", "'%' is not an operator", 3, 4, "percent"),
    ("(a + b", "E302", "this '(' is never closed", 1, 2, ")"),
    ("min(a, (b)", "E302", "this '(' is never closed", 4, 5, ")"),
    ("a + b)", "E301", "this ')' has no matching '('", 6, 7, "remove"),
    ('country == "GB', "E304", "this text is missing its closing quote", 12, 13, '"'),
    ("if a then b", "E302", "this 'if' has no 'else'", 1, 3, "else"),
    ("if a", "E302", "this 'if' has no 'then'", 1, 3, "then"),
    ("if a then if b then c else d", "E302", "this 'if' has no 'else'", 1, 3, "else"),
    ("(if a then b)", "E301", "expected 'else', found ')'", 13, 14, "if … then … else …"),
    ("a then b", "E301", "'then' without an 'if'", 3, 7, "if"),
    ("quantity uk_grid", "E301", "two values in a row: an operator is missing before 'uk_grid'", 10, 17, "operator"),
    ("0.2 kg CO2e/kWh", "E301", "two values in a row: an operator is missing before 'CO2e'", 8, 12, "0.2 kgCO2e/kWh"),
    ("a in 1, 2", "E301", "expected '(' after 'in', found '1'", 6, 7, "brackets"),
    ("a == )", "E301", "expected a value (a name, a number or a text in quotes) after '==', found ')'", 6, 7, None),
    ("a.", "E302", "'.' needs a value after it, but the expression ends here", 2, 3, ".co2"),
    ("not", "E302", "'not' needs a value after it, but the expression ends here", 1, 4, None),
    ("a + not b", "E301", "'not' cannot be used here", 5, 8, "(not …)"),
    ("a + not (b)", "E301", "'not' cannot be used here", 5, 8, "(not …)"),
    ('country == not "GB"', "E301", "'not' cannot be used here", 12, 15, "!="),
    ("a * if b then c else d", "E301", "'if' cannot be used here", 5, 7, "(if …)"),
    ("a and and b", "E301", "'and' cannot be used here", 7, 10, "twice"),
    ("a + in", "E301", "'in' cannot be used here", 5, 7, None),
    ("if a b", "E301", "expected 'then', found 'b'", 6, 7, "if … then … else …"),
    ("if a then b c", "E301", "expected 'else', found 'c'", 13, 14, "if … then … else …"),
    ("a € b", "E301", "unexpected character '€'", 3, 4, None),
    ("a \x00 b", "E301", "unexpected character 'U+0000'", 3, 4, None),
    ("   ", "E305", "the expression is empty", 1, 2, None),
]


@pytest.mark.parametrize(("text", "code", "message", "col", "end", "hint"), ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_errors(text: str, code: str, message: str, col: int, end: int, hint: str | None) -> None:
    d = error(text)
    assert (d.code, d.message) == (code, message)
    assert (d.span.line, d.span.column, d.span.end_column) == (1, col, end)
    if hint is not None:
        assert d.suggestion and hint in d.suggestion


def test_syntax_error_positions_follow_the_origin() -> None:
    d = error("a +\n  * b", ExprOrigin("f.yaml", 30, 7, block_indent=7))
    assert (d.span.line, d.span.column) == (31, 9)


def test_lark_never_reaches_the_author() -> None:
    for text in ["a b c", "((", "a ,", "1 2", "f(,)", "a in ()", "if then else", "a ?? ?? b", ".5.5", "a..b"]:
        d = error(text)
        assert "Token" not in d.message and "__ANON" not in d.message and "$END" not in d.message
        assert d.code.startswith("E3")


def test_too_deep_is_a_diagnostic_not_a_crash() -> None:
    for text in [" + ".join(["1"] * 5000), "-" * 5000 + "1", "not " * 3000 + "a", "(" * 3000 + "a" + ")" * 3000]:
        try:
            tree = parse(text)
        except DiagnosticError as exc:
            assert exc.diagnostics[0].code == "E307"
        else:  # parentheses add no node: a deep nest of them is fine
            assert tree == ast.Name("a")
    assert parse(" + ".join(["1"] * (MAX_DEPTH - 1)))  # long but allowed
