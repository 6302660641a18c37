"""Hostile input: odd strings in every place an author can type text, and fuzzing.

Each string either produces a clean diagnostic (positioned, no traceback) or reaches the IR
exactly as written (rule ids, string literals, exclusion reasons, titles, factor selections).
Nothing else may escape the front end: only DiagnosticError.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccf.dsl import ir
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError, render
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile
from ccf.dsl.syntax import ExprOrigin, parse_expression

HOSTILE = [
    "'; DROP TABLE x; --",
    '"; DROP TABLE x; --',
    "Robert'); DROP TABLE students;--",
    "$$; DROP TABLE x; $$",
    "*/ SELECT 1; /*",
    "semi;colon",
    "back\\slash \\\\ \\n \\' \\\"",
    "E'\\x41'",
    "%s %(x)s {0} {} ${x}",
    "Électricité — 电力 — كهرباء — 🇬🇧🏭",
    "right\u202eto-left \u200b zero\u200dwidth e\u0301",
    "NUL \x00 inside",
    "line\nbreak and\r\ncarriage return",
    "tab\there",
    "x" * 100_000,
    "'" * 500 + '"' * 500,
]
IDS = [repr(s[:24]) for s in HOSTILE]


def q(text: str) -> str:
    """text as a YAML double-quoted scalar (escapes NUL, line breaks, astral characters)."""
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=10**9).strip()


def literal(text: str) -> str:
    """text as a string literal of the expression language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def assert_clean(diags: tuple[Diagnostic, ...], src: SourceFile) -> None:
    assert diags
    for d in diags:
        assert d.span.line >= 1 and d.span.column >= 1
        assert d.span.end_line >= d.span.line
        assert d.message and d.code[0] == "E"
    text = render(diags, {src.path: src})
    assert "Traceback" not in text and text.endswith(".")


def run(check, text: str) -> ir.Methodology | None:
    src = SourceFile("hostile.yaml", text)
    try:
        return check(src)
    except DiagnosticError as exc:
        assert_clean(exc.diagnostics, src)
        return None


def text_consts(m: ir.Methodology) -> list[str]:
    out, stack = [], [r.where for r in m.rules] + [e.value for r in m.rules for e in r.emissions]
    while stack:
        n = stack.pop()
        if isinstance(n, ir.TextConst):
            out.append(n.value)
        for value in vars(n).values() if isinstance(n, ir.Node) else ():
            stack.extend(c for c in (value if isinstance(value, tuple) else (value,)) if isinstance(c, ir.Node))
    return out


@pytest.mark.parametrize("s", HOSTILE, ids=IDS)
def test_string_literal_survives_exactly(check, base, s: str) -> None:
    expr = f"country == {literal(s)}"
    m = run(check, base.replace('where: country == "GB"', f"where: {q(expr)}"))
    if "\r" in s:  # '\r' has no escape in the language: the raw character is kept in the literal
        assert m is None or s in text_consts(m)
        return
    if "\x00" in s:  # refused with a diagnostic: PostgreSQL text cannot hold NUL
        assert m is None
        return
    assert m is not None
    assert s in text_consts(m)


@pytest.mark.parametrize("s", HOSTILE, ids=IDS)
def test_exclusion_reason_survives_exactly(check, base, s: str) -> None:
    m = run(check, base + f"  - id: excluded\n    exclude: {q(s)}\n")
    if "\x00" in s:  # refused with a diagnostic: PostgreSQL text cannot hold NUL
        assert m is None
        return
    assert m is not None
    assert m.rules[-1].exclude == s


@pytest.mark.parametrize("s", HOSTILE, ids=IDS)
def test_title_description_and_factor_selection_survive_exactly(check, base, s: str) -> None:
    text = base.replace("title: Test electricity", f"title: {q(s)}\ndescription: {q(s)}")
    text = text.replace('level3: "Electricity: UK"', f"level3: {q(s)}")
    m = run(check, text)
    if "\x00" in s:  # refused with a diagnostic: PostgreSQL text cannot hold NUL
        assert m is None
        return
    assert m is not None
    assert m.title == s
    assert dict(m.lookups[0].select)["level3"] == s


@pytest.mark.parametrize("s", HOSTILE, ids=IDS)
def test_hostile_names_are_diagnostics_or_exact(check, base, s: str) -> None:
    slots = [
        (base.replace("  - id: uk_grid", f"  - id: {q(s)}"), lambda m: m.rules[0].id),
        (base.replace("methodology: test.electricity", f"methodology: {q(s)}"), lambda m: m.id),
        (base.replace("rules:", f"parameters:\n  {q(s)}: 1\nrules:"), lambda m: m.parameters[0].name),
        (base.replace("  uk_grid:\n", f"  {q(s)}:\n"), None),  # the rule then names an unknown factor
        (base.replace("activity: electricity", f"activity: {q(s)}"), None),
        (base.replace("factor_set: desnz-2024", f"factor_set: {q(s)}"), None),
        (base.replace("level1: UK", f"{q(s)}: UK"), None),
        (base.replace("    per: kWh", f"    per: {q(s)}"), None),
        (base.replace("emissions: quantity * uk_grid", f"emissions: quantity * uk_grid.{s[:40]}"), None),
    ]
    for text, name_of in slots:
        m = run(check, text)
        if m is not None:  # accepted only as a proper name, and then kept exactly
            assert name_of is not None and name_of(m) == s


def test_a_valid_but_very_long_rule_id_survives(check, base) -> None:
    long_id = "r" + "x" * 10_000
    m = run(check, base.replace("  - id: uk_grid", f"  - id: {long_id}"))
    assert m is not None and m.rules[0].id == long_id


@pytest.mark.parametrize("s", HOSTILE, ids=IDS)
def test_hostile_activity_field_names_are_diagnostics(s: str) -> None:
    text = f"activity_type: x\ntitle: x\nfields:\n  {q(s)}: energy\n"
    src = SourceFile("at.yaml", text)
    with pytest.raises(DiagnosticError) as info:
        read_activity_type(src)
    assert_clean(info.value.diagnostics, src)


def test_surrounding_whitespace_of_texts_is_trimmed(check, base) -> None:
    m = run(check, base + '  - id: excluded\n    exclude: "  padded reason  "\n')
    assert m is not None and m.rules[-1].exclude == "padded reason"


def test_raw_control_characters_in_the_file(check, base) -> None:
    for ch in ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\ufffe"]:
        src = SourceFile("hostile.yaml", base.replace("Test electricity", f"Test {ch} electricity"))
        with pytest.raises(DiagnosticError) as info:
            check(src)
        (d,) = info.value.diagnostics
        assert (d.span.line, d.span.column) == (4, 13)
        if ch < "\x80":  # C0 controls and DEL are shown as visible symbols (U+2400 block)
            assert ch not in render(info.value.diagnostics, {src.path: src})


@pytest.mark.parametrize(
    "expr",
    [
        " + ".join(["quantity * uk_grid"] * 2000),
        "(" * 5000 + "quantity * uk_grid" + ")" * 5000,
        "-" * 3000 + "quantity * uk_grid",
        "quantity * uk_grid" + " + 0 kgCO2e" * 100 + " + " + " + ".join(["1"] * 300),
        "if " * 500 + "true then 1 else 2",
        "min(" + ", ".join(["quantity"] * 1000) + ") * uk_grid",
    ],
    ids=["long sum", "deep parens", "many minus", "long mixed", "nested if", "wide call"],
)
def test_very_long_expressions(check, base, expr: str) -> None:
    m = run(check, base.replace("emissions: quantity * uk_grid", f"emissions: {q(expr)}"))
    assert m is None or m.rules[0].emissions


def test_many_rules(check, base) -> None:
    rules = "".join(f"  - id: r{i}\n    where: quantity > {i} kWh\n    emissions: quantity * uk_grid\n" for i in range(500))
    m = run(check, base.split("rules:")[0] + "rules:\n" + rules)
    assert m is not None and len(m.rules) == 500


# --- fuzzing ---------------------------------------------------------------------------------

EXPRESSION_ALPHABET = st.sampled_from(
    list("abcxyz019.,()+-*/<>=!?&|%^'\"\\ \n\t_µ²") + ["and", "or", "not", "in", "if", "then", "else", "true",
    "null", "quantity", "uk_grid", "country", " kWh", " kg", "kgCO2e/kWh", ".co2", "min(", "date(", "??", "==", '"GB"']
)
expressions = st.one_of(st.text(max_size=60), st.lists(EXPRESSION_ALPHABET, max_size=25).map("".join))


def assert_only_diagnostics(fn) -> None:
    try:
        fn()
    except DiagnosticError as exc:
        for d in exc.diagnostics:
            assert d.span.line >= 1 and d.span.column >= 1, d


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_fuzz_expression_parser(text: str) -> None:
    assert_only_diagnostics(lambda: parse_expression(text, ExprOrigin("f.yaml", 3, 5)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(expressions, st.sampled_from(["where", "emissions", "param", "match"]))
def test_fuzz_expression_in_a_methodology(check, base, text: str, slot: str) -> None:
    if slot == "where":
        doc = base.replace('where: country == "GB"', f"where: {q(text)}")
    elif slot == "emissions":
        doc = base.replace("emissions: quantity * uk_grid", f"emissions: {q(text)}")
    elif slot == "param":
        doc = base.replace("rules:", f"parameters:\n  p: {q(text)}\nrules:")
    else:
        doc = base.replace("    per: kWh", f"    match: {{level4: {q(text)}}}\n    per: kWh")
    assert doc != base
    src = SourceFile("fuzz.yaml", doc)
    assert_only_diagnostics(lambda: check(src))


YAML_ALPHABET = st.sampled_from(
    list(" \n\t:-#'\"|>[]{},?&*!%@`\\") + ["  ", "\n  ", "\n- ", ": ", "---", "...", "rules", "id", "where", "x",
    "1.5", "true", "~", "&a", "*a", "!!int", "<<"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=200), st.lists(YAML_ALPHABET, max_size=60).map("".join)))
def test_fuzz_whole_file(check, base, text: str) -> None:
    src = SourceFile("fuzz.yaml", text)
    assert_only_diagnostics(lambda: check(src))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 700), st.integers(0, 6), st.one_of(YAML_ALPHABET, EXPRESSION_ALPHABET)),
                min_size=1, max_size=4))
def test_fuzz_mutated_methodology(check, base, edits: list[tuple[int, int, str]]) -> None:
    text = base
    for at, cut, insert in edits:
        at = min(at, len(text))
        text = text[:at] + insert + text[at + cut :]
    src = SourceFile("fuzz.yaml", text)

    def go() -> None:
        try:
            check(src)
        except DiagnosticError as exc:
            render(exc.diagnostics, {src.path: src})
            raise

    assert_only_diagnostics(go)


# well-formed expressions of every shape over the test_shipment activity type: they reach the
# type and unit checker (random text mostly stops at the parser)
SHIPMENT = (Path(__file__).parent / "good" / "functions.yaml").read_text("utf-8")
ATOMS = st.sampled_from(
    ["distance", "mass", "fuel_energy", "mode", "country", "trips", "shipped_on", "refrigerated", "spend", "fuel",
     "fuel.co2e", "fuel.co2", "fuel_intensity", "cap", "0", "1", "2.5", "100 km", "3 t.km", "0.5 kgCO2e/kWh", "1 GJ",
     "5 miles", "10 GBP", '"GB"', "'x'", "true", "false", "null", 'date("2024-01-01")', "1 percent", "2 kgCO2", "3 gCH4"]
)


def _combine(children):
    ops = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or", "??"]
    return st.one_of(
        st.tuples(children, st.sampled_from(ops), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"-({c})"),
        children.map(lambda c: f"not ({c})"),
        st.tuples(children, children, children).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
        st.tuples(st.sampled_from(["min", "max", "abs", "round", "year"]), st.lists(children, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.tuples(children, st.lists(children, min_size=1, max_size=3), st.booleans()).map(
            lambda t: f"({t[0]} {'not in' if t[2] else 'in'} ({', '.join(t[1])}))"
        ),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.recursive(ATOMS, _combine, max_leaves=10), st.sampled_from(["where", "emissions"]))
def test_fuzz_well_formed_expressions_through_the_checker(check, expr: str, slot: str) -> None:
    if slot == "where":
        text = SHIPMENT.replace("    where: (fuel_energy ?? 0) == 0", f"    where: {q(expr)}")
    else:
        text = SHIPMENT.replace("    emissions: round(distance * fuel_intensity) * min(fuel, ceiling_intensity)", f"    emissions: {q(expr)}")
    assert text != SHIPMENT
    src = SourceFile("fuzz.yaml", text)
    try:
        m = check(src)
    except DiagnosticError as exc:
        assert_clean(exc.diagnostics, src)
    else:
        for r in m.rules:  # accepted: every emission is a mass of CO2e at scale 1
            for e in r.emissions:
                assert e.value.scale == 1 and e.value.type.kind == "quantity"
