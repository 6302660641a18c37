"""Strict YAML: no floats, no duplicate keys, no aliases; spans of keys and values."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl.diagnostics import DiagnosticError
from ccf.dsl.source import SourceFile, Span
from ccf.dsl.yaml_source import load_yaml


def load(text: str):
    return load_yaml(SourceFile("f.yaml", text))


def errors(text: str):
    with pytest.raises(DiagnosticError) as info:
        load(text)
    return info.value.diagnostics


def _walk(value):
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


# --- numbers ----------------------------------------------------------------------------------


def test_decimal_scalars_stay_text() -> None:
    doc = load(
        "a: 1.5\nb: -0.000001\nc: 1.0e+3\nd: .5\ne: [0.1, 2.25]\nf: {g: 3.14159265358979323846264338327950288}\n"
        "k: 6.02e+23\nl: 1e3\n"
    )
    assert not any(isinstance(v, float) for v in _walk(doc.data))
    assert doc.data["a"] == "1.5" and doc.data["b"] == "-0.000001" and doc.data["d"] == ".5"
    assert doc.data["e"] == ["0.1", "2.25"]
    assert doc.data["f"]["g"] == "3.14159265358979323846264338327950288"  # every digit kept
    assert doc.data["k"] == "6.02e+23" and doc.data["l"] == "1e3"  # 1e3: a number in YAML 1.2 (text in 1.1)


def test_other_scalars() -> None:
    doc = load("a: 1\nb: true\nc: null\nd: text\ne: '1.5'\nf: \"2.5\"\ng: -0\nh: FALSE\ni: ~\nj: +12\n")
    assert doc.data == {"a": 1, "b": True, "c": None, "d": "text", "e": "1.5", "f": "2.5", "g": 0, "h": False,
                        "i": None, "j": 12}


def test_floats_never_appear_in_a_methodology(check, base) -> None:
    m = check(base.replace("rules:", "parameters:\n  loss: 1.05\n  big: 1.0e+3\nrules:"))
    values = {p.name: p.value.value for p in m.parameters}
    assert values == {"loss": Decimal("1.05"), "big": Decimal("1.0e+3")}
    assert all(isinstance(v, Decimal) for v in values.values())


# --- duplicate keys -------------------------------------------------------------------------------


def test_duplicate_top_level_key() -> None:
    (d,) = errors("a: 1\nb: 2\na: 3\n")
    assert d.code == "E103" and "duplicate key 'a'" in d.message and "line 1" in d.message
    assert d.span == Span("f.yaml", 3, 1, 3, 2)


def test_duplicate_keys_everywhere_are_all_reported() -> None:
    diags = errors("a:\n  x: 1\n  x: 2\nrules:\n  - id: r\n    id: s\n    where: a\n    where: b\na: 2\n")
    assert [(d.span.line, d.span.column) for d in diags] == [(3, 3), (6, 5), (8, 5), (9, 1)]
    assert all(d.code == "E103" for d in diags)


def test_keys_equal_after_yaml_resolution_are_duplicates() -> None:
    # 1 and 01 are both the integer 1 in YAML ('1' in quotes would be the text "1")
    (dup,) = errors("1: a\n01: c\n")
    assert dup.span.line == 2


# --- spans ------------------------------------------------------------------------------------------


def test_spans_of_keys_and_values() -> None:
    text = "title: Test\nrules:\n  - id: r1\n    where: country == \"GB\"\n  - id: r2\n"
    doc = load(text)
    assert doc.key_spans[("title",)] == Span("f.yaml", 1, 1, 1, 6)
    assert doc.value_spans[("title",)] == Span("f.yaml", 1, 8, 1, 12)
    assert doc.key_spans[("rules", 0, "where")] == Span("f.yaml", 4, 5, 4, 10)
    assert doc.value_spans[("rules", 0, "where")] == Span("f.yaml", 4, 12, 4, 27)
    assert doc.value_spans[("rules", 1, "id")] == Span("f.yaml", 5, 9, 5, 11)
    assert doc.span(("rules", 1)).line == 5
    assert doc.span(("rules", 7, "nope")) == doc.value_spans[("rules",)]  # closest enclosing value
    assert doc.key_span(("rules", 0)) == doc.span(("rules", 0))  # list items have no key
    assert doc.scalars[("rules", 0, "where")].style is None


def test_scalar_styles() -> None:
    doc = load("a: 'x'\nb: \"y\"\nc: |\n  z\nd: >\n  w\ne: v\n")
    assert [doc.scalars[(k,)].style for k in "abcde"] == ["'", '"', "|", ">", None]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('w: a == "GB" and zz > 0\n', (1, 18)),
        ('w: a == "GB"\n  and zz > 0\n', (2, 7)),  # plain scalar folded over two lines
        ("w: 'a == ''GB'' and zz > 0'\n", (1, 21)),  # '' is one quote
        ('w: "a == \\"GB\\" and zz > 0"\n', (1, 21)),  # \" is one quote
        ('w: "a == \'GB\'\n  and zz > 0"\n', (2, 7)),
        ('w: |\n  a == "GB"\n    and zz > 0\n', (3, 9)),
        ('w: >\n  a == "GB"\n  and zz > 0\n', (3, 7)),
        ('w: >-\n    a == "GB"\n    and zz > 0\n', (3, 9)),
    ],
)
def test_char_positions_point_back_at_the_authors_text(text: str, where: tuple[int, int]) -> None:
    doc = load(text)
    value = doc.data["w"]
    positions = doc.char_positions(("w",))
    assert positions is not None and len(positions) == len(value) + 1
    assert positions[value.index("zz")] == where
    line, col = where
    assert doc.source.line(line)[col - 1 : col + 1] == "zz"


# --- malformed files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "line", "column", "words"),
    [
        ("", "E104", 1, 1, "empty"),
        ("# only a comment\n", "E104", 1, 1, "empty"),
        ("---\n", "E104", 1, 1, "empty"),
        ("a: 1\n---\nb: 2\n", "E105", 2, 1, "second"),
        ("a:\n\tb: 1\n", "E101", 2, 1, "tab"),
        ('a: "x\nb: 2\n', "E101", 1, 4, "never closed"),
        ("a:\n  b: 1\n   c: 2\n", "E101", 3, 5, "':' is not allowed"),
        ("a:\n  b: 1\n c: 2\n", "E101", 3, 2, "indented"),
        ("a: 1\nb\nc: 2\n", "E101", 2, 1, "key: value"),
        ("a: {b: 1\nc: 2\n", "E101", 1, 4, "'{' is never closed"),
        ("a: [b]]\n", "E101", 1, 7, "no matching"),
        ("a: {b: x ?? y}\n", "E101", 1, 10, "'?'"),
        ("a: - 1\n", "E101", 1, 4, "list item"),
        ("a: @x\n", "E101", 1, 4, "'@'"),
        ("a: !x y\n", "E101", 1, 4, "'!'"),
        ("a: *x\n", "E101", 1, 4, "'*'"),
        ('a: "\\q"\n', "E101", 1, 6, "backslash"),
        ("a: 2024-02-30\n", "E108", 1, 4, "date"),
        ("a: !!int x\n", "E101", 1, 4, "whole number"),
        ("a: \x00\n", "E101", 1, 4, "control character"),
        ("a: &x 1\nb: *x\n", "E106", 2, 4, "references"),
        ("a: &x [*x]\n", "E106", 1, 8, "references"),
        ("? [1]\n: 2\n", "E102", 1, 3, "plain name"),
        ("<<: {a: 1}\n", "E102", 1, 1, "plain name"),
    ],
)
def test_malformed_yaml_is_a_positioned_diagnostic(text: str, code: str, line: int, column: int, words: str) -> None:
    (d,) = errors(text)
    assert d.code == code
    assert (d.span.line, d.span.column) == (line, column)
    assert words in d.message
    assert "MarkedYAMLError" not in d.message and "<unicode string>" not in d.message


def test_invalid_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes("title: Électricité\n".encode("latin-1"))
    with pytest.raises(DiagnosticError) as info:
        load_yaml(SourceFile.read(p))
    assert info.value.diagnostics[0].code == "E100"


@pytest.mark.parametrize("text", ["a: {\n", "a:\n  b: {\n", "a: [\n\n"])
def test_an_error_at_the_end_of_the_file_points_inside_it(text: str) -> None:
    """PyYAML marks '<stream end>' after the final line break, a line the file does not have (found
    by tests/reliability/test_fuzz_frontend.py): the caret goes to the end of the last line."""
    src = SourceFile("f.yaml", text)
    with pytest.raises(DiagnosticError) as err:
        load_yaml(src)
    span = err.value.diagnostics[0].span
    assert 1 <= span.line <= src.line_count
    assert span.column <= len(src.line(span.line)) + 1
