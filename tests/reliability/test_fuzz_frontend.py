"""Fuzzing the front end (YAML + expressions) with files derived from the shipped ones.

Whatever the bytes, ``read_methodology`` either returns a checked methodology or raises
``DiagnosticError``; no other exception escapes, and every diagnostic points inside the file
(line and column at least 1, the line one of the file's, the column at most one past its end),
so the rendered message can always show the author's text.

tests/dsl/test_hostile.py fuzzes one small methodology; this module mutates every shipped
methodology and the front-end test files, line by line and token by token.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability._support import NIGHTLY, ROOT
from ccf.dsl import ir
from ccf.dsl.diagnostics import DiagnosticError, render
from ccf.dsl.library import read_activity_type, read_methodology
from ccf.dsl.source import SourceFile
from ccf.engine.api import factor_signatures

EXAMPLES = 3000 if NIGHTLY else 250
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FILES = sorted(
    [p for p in (ROOT / "methodologies").glob("*/*.yaml") if p.parent.name not in ("activity_types", "factor_sets")]
    + list((ROOT / "tests" / "dsl" / "good").glob("*.yaml"))
)
TEXTS = {p.relative_to(ROOT).as_posix(): p.read_text("utf-8") for p in FILES}
TOKENS = sorted({t for text in TEXTS.values() for t in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*|\d+(?:\.\d+)?|\S", text)})
NOISE = [
    "\t", " ", "  ", "\n", "\r\n", ":", "- ", "#", "'", '"', "{", "}", "[", "]", "&a", "*a", "!!str", "---", "...",
    "?", "|", ">", "%", "@", "`", "\\", "\x00", "\x1b", "\u00a0", "\u2028", "\ufeff", "é", "电", "🇬🇧", "\ud800",
    "1e999999", "(", ")", "??", "==", "null", "if", "then", "else", "not", "in", "and", "or", ".co2", "kWh", "/",
    "'; DROP TABLE ccf.result; --", "/* */", "--", "$$",
]


@pytest.fixture(scope="module")
def activity_types() -> dict[str, ir.ActivityType]:
    out = {}
    for folder in (ROOT / "methodologies" / "activity_types", ROOT / "tests" / "dsl" / "activity_types"):
        for path in sorted(folder.glob("*.yaml")):
            at = read_activity_type(SourceFile.read(path))
            out[at.id] = at
    return out


@pytest.fixture(scope="module")
def factor_sets():
    return factor_signatures()


def check_clean(src: SourceFile, activity_types, factor_sets) -> None:
    """The file checks, or every diagnostic is a DiagnosticError positioned inside it."""
    try:
        read_methodology(src, activity_types, factor_sets)
    except DiagnosticError as exc:
        # lines as the caret renderer reads them (SourceFile: YAML's line breaks, also lone \r)
        count = max(src.line_count, 1)
        assert exc.diagnostics, "a DiagnosticError without diagnostics"
        for d in exc.diagnostics:
            for span in (d.span, *(r.span for r in d.related)):
                if span.path != src.path:
                    continue
                where = f"{d.code} {d.message!r} at {span.line}:{span.column}"
                assert span.line >= 1 and span.column >= 1, where
                assert span.line <= count, f"{where}: the file has {count} lines"
                assert span.column <= len(src.line(span.line)) + 1, f"{where}: line is {src.line(span.line)!r}"
                assert span.end_line >= span.line, where
        text = render(exc.diagnostics, {src.path: src})
        assert "Traceback" not in text


def test_every_source_file_checks(activity_types, factor_sets):
    """The unmutated files check cleanly (else the mutations below prove little)."""
    for path, text in TEXTS.items():
        read_methodology(SourceFile(path, text), activity_types, factor_sets)


# --- mutations ----------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return text.split("\n")


def mutate(text: str, op: str, i: int, j: int, piece: str) -> str:
    lines = _lines(text)
    n = len(lines)
    a, b = i % max(n, 1), j % max(n, 1)
    if op == "delete_line":
        del lines[a]
    elif op == "duplicate_line":
        lines.insert(a, lines[a])
    elif op == "swap_lines":
        lines[a], lines[b] = lines[b], lines[a]
    elif op == "indent":
        lines[a] = " " * (j % 5) + lines[a]
    elif op == "dedent":
        lines[a] = lines[a].lstrip(" ")
    elif op == "insert_text":
        line = lines[a]
        k = j % (len(line) + 1)
        lines[a] = line[:k] + piece + line[k:]
    elif op == "delete_chars":
        line = lines[a]
        k = j % (len(line) + 1)
        lines[a] = line[:k] + line[k + 1 + j % 7 :]
    elif op == "replace_token":
        tokens = list(re.finditer(r"[A-Za-z_][A-Za-z0-9_.]*|\d+(?:\.\d+)?", lines[a]))
        if tokens:
            t = tokens[j % len(tokens)]
            lines[a] = lines[a][: t.start()] + piece + lines[a][t.end() :]
    elif op == "truncate":
        return text[: (i * 7919) % (len(text) + 1)]
    elif op == "replace_line":
        lines[a] = piece
    return "\n".join(lines)


OPS = ["delete_line", "duplicate_line", "swap_lines", "indent", "dedent", "insert_text", "delete_chars",
       "replace_token", "truncate", "replace_line"]
edits = st.lists(
    st.tuples(
        st.sampled_from(OPS),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.one_of(st.sampled_from(TOKENS), st.sampled_from(NOISE), st.text(max_size=12)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(path=st.sampled_from(sorted(TEXTS)), changes=edits)
def test_mutated_methodologies_give_only_positioned_diagnostics(path, changes, activity_types, factor_sets):
    text = TEXTS[path]
    for op, i, j, piece in changes:
        text = mutate(text, op, i, j, piece)
    check_clean(SourceFile(path, text), activity_types, factor_sets)


@settings(max_examples=EXAMPLES // 2, **SETTINGS)
@given(path=st.sampled_from(sorted(TEXTS)), cut=st.integers(0, 10_000), tail=st.binary(max_size=40))
def test_arbitrary_bytes_after_a_valid_prefix(path, cut, tail, activity_types, factor_sets, tmp_path_factory):
    """Bytes (invalid UTF-8, NUL, control characters) read from disk as a user's file would be."""
    data = TEXTS[path].encode("utf-8")
    data = data[: cut % (len(data) + 1)] + tail
    file = tmp_path_factory.getbasetemp() / "fuzz.yaml"
    file.write_bytes(data)
    check_clean(SourceFile.read(file), activity_types, factor_sets)


@settings(max_examples=EXAMPLES // 2, **SETTINGS)
@given(path=st.sampled_from(sorted(TEXTS)), data=st.data())
def test_expressions_replaced_by_other_files_expressions(path, data, activity_types, factor_sets):
    """Every expression slot (where, emissions, match, parameters) given an expression taken
    from another file: wrong names, wrong units and wrong types must all be diagnostics."""
    pattern = re.compile(r"^(\s*(?:-\s+)?(?:where|emissions|co2e?|ch4|n2o|level\d|[a-z_]+)\s*:\s+)(.+)$", re.M)
    text = TEXTS[path]
    slots = list(pattern.finditer(text))
    donors = [m.group(2) for t in TEXTS.values() for m in pattern.finditer(t)]
    if not slots:
        return
    for _ in range(data.draw(st.integers(1, 3))):
        slot = slots[data.draw(st.integers(0, len(slots) - 1))]
        donor = data.draw(st.sampled_from(donors))
        text = text[: slot.start(2)] + donor + text[slot.end(2) :]
        slots = list(pattern.finditer(text))
    check_clean(SourceFile(path, text), activity_types, factor_sets)


def test_empty_and_whitespace_files(activity_types, factor_sets):
    for text in ("", "\n", "   ", "\t", "\ufeff", "---\n", "...\n", "# only a comment\n", "\x00"):
        check_clean(SourceFile("empty.yaml", text), activity_types, factor_sets)


def test_lone_carriage_return_is_a_line_break_for_every_position(activity_types, factor_sets):
    """Formerly the diagnostic said 1:2 (yaml_source counted only '\\n') while the caret
    renderer's line 1 was empty. Now every stage counts lines as YAML does."""
    src = SourceFile("cr.yaml", "\r\x1fstatus: published\n")
    with pytest.raises(DiagnosticError) as info:
        read_methodology(src, activity_types, factor_sets)
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("E101", 2, 1)
    assert src.line(2) == "\x1fstatus: published"
    assert " 2 | \u241fstatus: published" in render([d], {src.path: src})


GOOD = "tests/dsl/good/arithmetic.yaml"


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\x85", "\u2028", "\u2029"], ids=repr)
@pytest.mark.parametrize("old, new, code, at", [
    ("mass * distance * uplifted_road_factor", "mass * distance * uplifted_road_fator", "E401", "uplifted_road_fator"),
    ("  whole: 2\n", "  whole: 2\n  extra:\n    key: 1\n", "E202", "key"),
    ("  half: .5\n", "  half: .5\n  half: 1\n", "E103", "half"),
])
def test_every_yaml_line_break_gives_the_same_positions(activity_types, factor_sets, brk, old, new, code, at):
    """An error in a file whose lines end in any of YAML's line breaks: the span has the line
    and column it has with '\\n', and the renderer's line shows the author's text there."""
    text = TEXTS[GOOD]
    assert old in text
    broken = text.replace(old, new, 1)
    src = SourceFile("breaks.yaml", broken.replace("\n", brk))
    with pytest.raises(DiagnosticError) as info:
        read_methodology(src, activity_types, factor_sets)
    (d,) = [d for d in info.value.diagnostics if d.code == code]
    line_with_at = next(i for i, line in enumerate(broken.split("\n"), 1) if at in line and (code != "E103" or i > 16))
    assert d.span.line == line_with_at
    assert src.line(d.span.line)[d.span.column - 1 :].startswith(at)
