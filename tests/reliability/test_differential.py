"""Differential tests: the compiled SQL and the reference evaluator (dsl/evaluate.py) agree.

For every shipped methodology (and the factor-matching test library, for region, year and unit
fallback, and tests/engine/totals, for published CO2e totals) hypothesis draws activity rows —
edge values such as 0, 1e15 and 21 decimals, every unit of each quantity's dimension, missing
optional values, keys that do and do not find a factor — writes them as CSV, loads and runs
them on PostgreSQL, and compares every result, exclusion and unmatched row with the reference
evaluator: Decimals must be equal, not close.

Then generated methodologies: random well-typed expressions over every kind of field, parameter,
literal unit and factor are checked, compiled and run, and compared the same way. Finally the
same data gives the same results with parallel query forced on, and with its rows shuffled.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql
import yaml
from helpers import shipped_library
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reliability._support import (
    MATCHING,
    NIGHTLY,
    ROOT,
    DataChooser,
    RandomChooser,
    RowSpec,
    assert_same,
    custom_factors,
    nightly,
    one_edition,
    reference,
    region_codes,
    shipped_factors,
    sql_outcomes,
    typed_row,
    unique,
    write_rows,
)
from ccf.dsl import ir
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.evaluate import evaluate
from ccf.dsl.library import Library, read_activity_type, read_methodology
from ccf.dsl.source import SourceFile
from ccf.dsl.units import is_terminating
from ccf.engine.api import factor_signatures
from ccf.engine.factors.catalog import shipped_editions
from ccf.engine.database import connect
from ccf.engine.factors.store import install_edition
from ccf.engine.load import dataset_loads, load_csv
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent
# A shipped methodology's examples in CI: hypothesis's first is its simplest (one row), the other
# a random dataset of up to SHIPPED_MAX_ROWS rows. Each example is a load and a run, whose fixed
# cost (a connection, statements, partitions) is most of its CPU, not its rows: one random example
# of up to 50 rows draws as many rows as two of up to 25 did (the suite's CPU, README), in 113
# fewer runs.
EXAMPLES = 100 if NIGHTLY else 2
SHIPPED_MAX_ROWS = 60 if NIGHTLY else 50
GENERATED_EXAMPLES = 400 if NIGHTLY else 30
MAX_ROWS = 60 if NIGHTLY else 25
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SHIPPED = sorted(f"{p.parent.name}@{p.stem}" for p in (ROOT / "methodologies").glob("*/*.yaml") if p.parent.name not in ("activity_types", "factor_sets"))
MATCHING_REFS = sorted(f"{p.parent.name}@{p.stem}" for p in (MATCHING / "library").glob("*/*.yaml") if p.parent.name not in ("activity_types", "factor_sets"))
# rules that report published CO2e totals beside their gases (``total:``), on shipped factors
TOTALS = ROOT / "tests" / "engine" / "totals" / "library"
TOTALS_REFS = sorted(f"{p.parent.name}@{p.stem}" for p in TOTALS.glob("*/*.yaml") if p.parent.name != "activity_types")


@dataclass
class Subject:
    """A methodology under test, with the factor data the reference evaluator uses."""

    m: ir.Methodology
    spec: RowSpec
    data: object

    def __repr__(self) -> str:
        return f"Subject({self.m.ref})"


class Subjects(dict):
    def __repr__(self) -> str:  # hypothesis prints fixture arguments of failing examples
        return f"Subjects({', '.join(self)})"


@pytest.fixture(scope="module")
def conn(module_db_url):
    c = connect(module_db_url)
    edition, _ = custom_factors(MATCHING / "grid_test.csv", "grid-test")
    install_edition(c, edition, list(custom_factors(MATCHING / "grid_test.csv", "grid-test")[1].records))
    yield c
    c.close()


@pytest.fixture(scope="module")
def subjects() -> Subjects:
    grid_edition, grid_data = custom_factors(MATCHING / "grid_test.csv", "grid-test")
    shipped = shipped_library()
    matching = Library.load(MATCHING / "library", {**factor_signatures(), "grid-test": grid_edition})
    totals = Library.load(TOTALS, factor_signatures())
    out = Subjects()
    for lib in (shipped, matching, totals):
        for m in lib.versions():
            m = one_edition(m)
            data = grid_data if m.factor_set == "grid-test" else shipped_factors(m.factor_set)
            # keys are drawn from every shipped set a lookup reads (e.g. the EPA Hub's fuel names)
            others = sorted({lk.factor_set for lk in m.lookups if lk.factor_set in shipped_editions()})
            records = data.records + tuple(r for s in others for r in shipped_factors(s).records)
            out[m.ref] = Subject(m, RowSpec.build(m, records, region_codes()), data)
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("differential")


def run_and_compare(conn, folder: Path, subject: Subject, cells: list[dict[str, str]]) -> dict[str, object]:
    """Load the rows, run the methodology, and hold every outcome against the reference; the
    outcomes, by activity id."""
    m = subject.m
    dataset = unique()
    path = write_rows(folder / f"{dataset}.csv", m.activity, cells)
    loaded = load_csv(conn, dataset, m.activity, path)
    assert loaded.rows_rejected == 0, f"generated rows were rejected: {loaded.reasons}"
    # the generated rows span 2019-2025: the SQL and the reference are compared on one edition,
    # whatever the rows' period (the choice of edition is tested in tests/engine/test_editions.py)
    report = run(conn, dataset, [m], other_edition=True)
    typed = {c["activity_id"]: typed_row(m.activity, c) for c in cells}
    sql = sql_outcomes(conn, report.run_id, m.id)
    conn.rollback()
    assert_same(m, report, sql, reference(m, typed.values(), subject.data), typed)
    return sql


# --- shipped methodologies ------------------------------------------------------------------


@pytest.mark.parametrize("ref", SHIPPED + MATCHING_REFS + TOTALS_REFS)
@settings(max_examples=EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_methodology_matches_reference(ref, data, conn, subjects, folder):
    if ref not in subjects:
        pytest.fail(f"{ref} does not check cleanly")
    subject = subjects[ref]
    ch = DataChooser(data)
    cells = [subject.spec.cells(ch, f"R{i}") for i in range(ch.integer(1, SHIPPED_MAX_ROWS))]
    run_and_compare(conn, folder, subject, cells)


def test_every_shipped_methodology_is_covered(subjects):
    assert set(SHIPPED) <= set(subjects) and SHIPPED


# --- generated methodologies ----------------------------------------------------------------

NUMBERS = ["0", "1", "2", "0.5", "3", "7", "1e3", "2.5", "9", "12.75", "0.123456789012345678901",
           "1000000000000000", "5 percent"]
ENERGIES = ["5 kWh", "2.5 GJ", "0.001 MWh", "3 therm", "7 Btu", "0 kWh", "1e15 J", "0.123456789012345678901 kWh",
            "1 mmBtu", "2 therm_US", "1 TJ", "36 MJ"]
MASSES = ["1 t", "2.5 lb", "500 g", "3 kg", "1 short_ton", "1 long_ton", "0 kg"]
TEXTS = ['"GB"', '"Natural gas"', '"Natural Gas"', '"Propane"', '"Diesel (average biofuel blend)"', "\"it's\"", "'say \"hi\"'",
         "\"x'; DROP TABLE ccf.result; --\"", '"/* c */ -- d"', '"back\\\\slash"', '"é 电"', '""']
DATES = ['date("2024-02-29")', 'date("2023-12-31")', 'date("2024-01-01")']
COMPARE = ["==", "!=", "<", "<=", ">", ">="]
ROUND_DIGITS = ["0", "1", "2", "5", "20"]
DEPTH = 4 if NIGHTLY else 3


def _p(*parts: str) -> str:
    return "(" + "".join(parts) + ")"


def _strategies(inner=None):
    """Strategies of expression text by type: num, energy, mass, bool, text, date. With
    ``inner`` (the strategies without shares), numbers may also be ``share(q, key)`` of inner
    expressions: only rules may read a share, and its arguments hold none."""
    memo: dict[tuple[str, int], st.SearchStrategy[str]] = {}

    def e(kind: str, depth: int) -> st.SearchStrategy[str]:
        key = (kind, depth)
        if key not in memo:
            memo[key] = st.deferred(lambda: build(kind, depth))
        return memo[key]

    def leaves(kind: str) -> st.SearchStrategy[str]:
        return {
            "num": st.sampled_from(NUMBERS + ["n1", "n2", "p_num"]),
            "energy": st.sampled_from(ENERGIES + ["energy", "energy", "p_energy"]),
            "mass": st.sampled_from(MASSES + ["mass", "mass"]),
            "bool": st.sampled_from(["flag", "true", "false", "(flag == true)", "(n1 == null)", "(energy != null)"]),
            "text": st.sampled_from(TEXTS + ["label", "label"]),
            "date": st.sampled_from(DATES + ["day", "day", "period_start"]),
        }[kind]

    def maybe_null(s: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(s, s, s, st.just("null"))

    def build(kind: str, depth: int) -> st.SearchStrategy[str]:
        leaf = leaves(kind)
        if depth == 0:
            return leaf
        d = depth - 1
        same = e(kind, d)
        common = [
            st.builds(lambda c, a, b: _p("if ", c, " then ", a, " else ", b), e("bool", d), same, maybe_null(same)),
            st.builds(lambda a, b: _p(a, " ?? ", b), same, maybe_null(same)),
        ]
        if kind in ("num", "energy", "mass"):
            n = e("num", d)
            common += [
                st.builds(lambda a, op, b: _p(a, op, b), same, st.sampled_from([" + ", " - "]), same),
                st.builds(lambda a: _p("-", a), same),
                st.builds(lambda a: f"abs({a})", same),
                st.builds(lambda a, k: f"round({a}, {k})", same, st.sampled_from(ROUND_DIGITS)),
                st.builds(lambda a, b: f"min({a}, {b})", same, same),
                st.builds(lambda a, b, c: f"max({a}, {b}, {c})", same, same, same),
            ]
        if kind == "num":
            common += [
                st.builds(lambda a, op, b: _p(a, op, b), same, st.sampled_from([" * ", " / "]), same),
                st.builds(lambda a, b: _p(a, " / ", b), e("energy", d), e("energy", d)),
                st.builds(lambda a, b: _p(a, " / ", b), e("mass", d), e("mass", d)),
                st.builds(lambda a: f"year({a})", e("date", d)),
            ]
            if inner is not None:
                common += [
                    st.builds(lambda a, k: f"share({a}, {k})", st.one_of(*(inner(q, d) for q in ("num", "energy", "mass"))),
                              inner("text", d)),
                    st.builds(lambda a, k, j: f"share({a}, {k}, {j})", inner("mass", d), inner("text", d), inner("date", d)),
                ]
        if kind in ("energy", "mass"):
            common += [
                st.builds(lambda a, b: _p(a, " * ", b), n, same),
                st.builds(lambda a, b: _p(a, " * ", b), same, n),
                st.builds(lambda a, b: _p(a, " / ", b), same, n),
            ]
        if kind == "bool":
            common = [
                st.builds(lambda a, op, b: _p(a, f" {op} ", b), e(k, d), st.sampled_from(COMPARE), e(k, d))
                for k in ("num", "energy", "mass", "date")
            ] + [
                st.builds(lambda a, op, b: _p(a, f" {op} ", b), e("text", d), st.sampled_from(["==", "!="]), e("text", d)),
                st.builds(lambda a, neg, xs: _p(a, neg, " in (", ", ".join(xs), ")"), e("text", d),
                          st.sampled_from(["", " not"]), st.lists(maybe_null(e("text", d)), min_size=1, max_size=3)),
                st.builds(lambda a, neg, xs: _p(a, neg, " in (", ", ".join(xs), ")"), e("num", d),
                          st.sampled_from(["", " not"]), st.lists(maybe_null(e("num", d)), min_size=1, max_size=3)),
                st.builds(lambda a, op: _p(a, f" {op} null"), st.one_of(*(e(k, d) for k in ("num", "energy", "text", "date"))),
                          st.sampled_from(["==", "!="])),
                st.builds(lambda a, op, b: _p(a, f" {op} ", b), same, st.sampled_from(["and", "or"]), same),
                st.builds(lambda a: _p("not ", a), same),
                st.builds(lambda c, a, b: _p("if ", c, " then ", a, " else ", b), same, same, same),
            ]
        if kind == "date":
            common += [st.builds(lambda a, b: f"min({a}, {b})", same, same), st.builds(lambda a, b: f"max({a}, {b})", same, same)]
        return st.one_of(leaf, leaf, *common)

    return e


EXPR = _strategies()
RULE_EXPR = _strategies(EXPR)  # in rules: with share()
# a parameter is a constant: literals and arithmetic on them
PARAMETER = st.one_of(
    st.sampled_from(NUMBERS),
    st.builds(lambda a, op, b: _p(a, op, b), st.sampled_from(NUMBERS), st.sampled_from([" + ", " - ", " * ", " / "]),
              st.sampled_from(NUMBERS)),
)


# a data-quality score (the methodology's or a rule's): fixed, or computed from the row's fields,
# within 1-5 or not (then the row is unmatched, bad_data_quality)
DATA_QUALITY = st.one_of(
    st.sampled_from(["1", "2", "3", "4", "5"]),
    st.builds(lambda c, k, v: _p("if ", c, " then ", k, " else ", v), EXPR("bool", 1), st.sampled_from(["1", "4"]),
              st.sampled_from(["n1", "n2", "round(n1, 0)", "abs(n2)", "n2 ?? 3", "(n1 + 1)", "(if flag then null else 2)"])),
)


def q(text: str) -> str:
    """text as a YAML double-quoted scalar."""
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=10**9).strip()


HEADER = """\
methodology: rel.generated
version: 1.0.0
status: draft
title: Generated
ghg_protocol:
  scope: 1
  source: generated
  method: fuel-based
  references: [reliability tests]
activity: rel_gen
"""


@st.composite
def generated_methodology(draw) -> str:
    """A methodology over the rel_gen activity type with generated conditions and emissions.

    Two shapes: DESNZ 2024 (gases stated in kg CO2e; a lookup without and one with a match key)
    and EPA Hub 2025 (masses of CO2, CH4 and N2O weighted by GWP; lookups per kWh and per t,
    so factors stated per mmBtu or short ton are converted); some emissions use no factor. Now
    and then a third: rules that only exclude, and a lookup that nothing uses.
    """
    x = lambda kind: draw(EXPR(kind, draw(st.integers(0, DEPTH))))  # noqa: E731
    r = lambda kind: draw(RULE_EXPR(kind, draw(st.integers(0, DEPTH))))  # noqa: E731
    dq = lambda indent: f"{indent}data_quality: {q(draw(DATA_QUALITY))}\n" if draw(st.booleans()) else ""  # noqa: E731
    common = dq("") + f"""\
gwp: {draw(st.sampled_from(["AR5", "AR6", "AR4"]))}
parameters:
  p_num: {q(draw(PARAMETER))}
  p_energy: {q(draw(st.sampled_from(ENERGIES)))}
"""
    exclude = f"""\
  - id: excluded
    where: {q(r("bool"))}
    exclude: {q(draw(st.sampled_from(["excluded: it's ; -- /* */", "plain reason", "é 电 🇬🇧"])))}
"""
    if draw(st.integers(0, 7)) == 0:
        return HEADER + common + f"""\
factor_set: desnz-2024
factors:
  spare:
    select: {{level1: Fuels, cv_basis: Gross CV}}
    match: {{level3: {q(x("text"))}}}
    per: kWh
rules:
{exclude}  - id: rest
    where: {q(r("bool"))}
    exclude: not relevant
"""
    if draw(st.booleans()):
        return HEADER + common + f"""\
factor_set: desnz-2024
factors:
  grid:
    select: {{level1: UK electricity, level3: "Electricity: UK"}}
    per: kWh
  fuel:
    select: {{level1: Fuels, cv_basis: Gross CV}}
    match: {{level3: {q(x("text"))}}}
    per: {draw(st.sampled_from(["kWh", "MJ", "therm"]))}
rules:
{exclude}  - id: total
    where: {q(r("bool"))}
{dq("    ")}    emissions: {q(_p(r("energy"), " * grid + ", r("mass"), " * 0.5 kgCO2e/t + ", r("num"), " * 2 kgCO2e"))}
  - id: per_gas
    where: {q(r("bool"))}
{dq("    ")}    emissions:
      co2: {q(_p(r("energy"), " * grid.co2"))}
      ch4: {q(_p(r("energy"), " * grid.ch4 + ", r("num"), " * 1 gCO2e"))}
      n2o: {q(_p(r("energy"), " * grid.n2o"))}
  - id: by_fuel
    where: {q(r("bool"))}
    emissions: {q(_p(r("energy"), " * fuel"))}
"""
    return HEADER + common + f"""\
factor_set: epa-hub-2025
factors:
  by_energy:
    select: {{table: "1"}}
    match: {{fuel_type: {q(x("text"))}}}
    per: {draw(st.sampled_from(["kWh", "mmBtu", "GJ"]))}
  by_mass:
    select: {{table: "1"}}
    match: {{fuel_type: label}}
    per: {draw(st.sampled_from(["t", "short_ton", "lb"]))}
rules:
{exclude}  - id: per_gas
    where: {q(r("bool"))}
{dq("    ")}    emissions:
      co2: {q(_p(r("energy"), " * by_energy.co2 + ", r("mass"), " * by_mass.co2"))}
      ch4: {q(_p(r("energy"), " * by_energy.ch4 + ", r("num"), " * 1 gCH4"))}
      n2o: {q(draw(st.sampled_from([_p(r("mass"), " * by_mass.n2o"), _p(r("mass"), " * 0.01 gN2O/kg")])))}
"""


@pytest.fixture(scope="module")
def rel_gen() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(HERE / "library" / "activity_types" / "rel_gen.yaml"))


@pytest.fixture(scope="module")
def rel_gen_spec(rel_gen) -> RowSpec:
    desnz, epa = shipped_factors("desnz-2024").records, shipped_factors("epa-hub-2025").records
    fuels = {dict(r.attributes).get("level3", "") for r in desnz if dict(r.attributes).get("level1") == "Fuels"}
    fuels |= {dict(r.attributes).get("fuel_type", "") for r in epa if dict(r.attributes).get("table") == "1"}
    words = [yaml.safe_load(t) if not t.startswith("'") else t[1:-1] for t in TEXTS] + sorted(fuels) + ["", " GB", "\t"]
    return RowSpec(rel_gen, words, pools={"label": words})


# --- known compiler bugs ----------------------------------------------------------------------
# None at present. When a new one is found, reproduce it by a strict xfail test and add a
# predicate to KNOWN_BUGS: the generated-methodology test then steps around methodologies that
# contain it, so that it keeps finding new differences; when the bug is fixed its xfail test
# fails as XPASS, and the xfail and the entry here must go. CCF_KEEP_KNOWN_BUGS=1 turns the
# filter off.


def _nodes(node: object):
    if isinstance(node, ir.Node):
        yield node
        for v in vars(node).values():
            for child in v if isinstance(v, tuple) else (v,):
                yield from _nodes(child)


def _rescale_of_sum(m: ir.Methodology) -> bool:
    """compile.visit_Rescale/scale_sql: ccf.div(x * p, q) does not parenthesise x, so for
    x = a + b it computes a + (b * p)."""
    roots = [r.where for r in m.rules if r.where is not None] + [em.value for r in m.rules for em in r.emissions]
    roots += [node for lk in m.lookups for _, node in lk.match] + [p.value for p in m.parameters]
    return any(
        isinstance(n, ir.Rescale) and not is_terminating(n.ratio) and n.ratio.numerator != 1
        and isinstance(n.operand, ir.Arith) and n.operand.op in "+-"
        for root in roots for n in _nodes(root)
    )


_INT_MAX = {4: 2**31 - 1, 8: 2**63 - 1}


def _int_type(v: Decimal) -> int | None:
    """PostgreSQL's type of a literal without a decimal point: int4, int8, else NUMERIC (None)."""
    return next((t for t, top in _INT_MAX.items() if abs(v) <= top), None)


class _Overflow(Exception):
    pass


def _integers(n: ir.Node) -> tuple[int, set] | None:
    """(int4/int8, possible values) when PostgreSQL types the compiled expression as an
    integer — a literal without a decimal point, or arithmetic on such that compile.py does not
    cast — else None; raises _Overflow where that integer arithmetic leaves its type's range."""

    def combine(op, a, b):
        if a is None or b is None:
            return None
        t = max(a[0], b[0])
        out = set()
        for x in a[1]:
            for y in b[1]:
                r = None if x is None or y is None else op(x, y)
                if r is not None and abs(r) > _INT_MAX[t]:
                    raise _Overflow()
                out.add(r)
        return t, out

    ops = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y}
    if isinstance(n, ir.Const):
        t = _int_type(n.value) if n.value.as_tuple().exponent >= 0 else None  # type: ignore[operator]
        return (t, {n.value}) if t else None
    if isinstance(n, ir.NullConst):
        return 4, {None}
    if isinstance(n, ir.ParamRef):
        return _integers(n.value)
    if isinstance(n, ir.Neg):
        x = _integers(n.operand)
        return None if x is None else (x[0], {None if v is None else -v for v in x[1]})
    if isinstance(n, ir.Arith):
        if n.op == "/" or (isinstance(n.left, ir.Const) and isinstance(n.right, ir.Const)):
            _integers(n.left), _integers(n.right)
            return None
        return combine(ops[n.op], _integers(n.left), _integers(n.right))
    if isinstance(n, ir.Rescale):
        x = _integers(n.operand)
        factor = n.ratio.numerator if not is_terminating(n.ratio) else (n.ratio.numerator if n.ratio.denominator == 1 else None)
        if factor is None or factor == 1 or _int_type(Decimal(factor)) is None:
            return None
        product = combine(ops["*"], x, (_int_type(Decimal(factor)), {Decimal(factor)}))
        return product if is_terminating(n.ratio) else None
    if isinstance(n, (ir.Coalesce, ir.IfThen, ir.Func)):
        if isinstance(n, ir.IfThen):
            _integers(n.cond)
        sides = [n.left, n.right] if isinstance(n, ir.Coalesce) else [n.then, n.otherwise] if isinstance(n, ir.IfThen) else list(n.args)
        if isinstance(n, ir.Func) and n.name not in ("abs", "min", "max"):
            for a in sides:
                _integers(a)
            return None
        parts = [_integers(x) for x in sides]
        if any(p is None for p in parts):
            return None
        return max(p[0] for p in parts), set().union(*(p[1] for p in parts))  # type: ignore[index]
    for child in (c for v in vars(n).values() for c in (v if isinstance(v, tuple) else (v,)) if isinstance(c, ir.Node)):
        _integers(child)
    return None


def _integer_arithmetic(m: ir.Methodology) -> bool:
    """compile.visit_Arith casts only a Const-Const operation to NUMERIC: parameters, negated
    literals and unit ratios otherwise multiply as PostgreSQL integers, and overflow ('integer
    out of range') where NUMERIC would not."""
    roots = [r.where for r in m.rules if r.where is not None] + [em.value for r in m.rules for em in r.emissions]
    roots += [node for lk in m.lookups for _, node in lk.match]
    try:
        for root in roots:
            _integers(root)
    except _Overflow:
        return True
    return False


KNOWN_BUGS: dict = {
    # fixed, each with its test below: "rescale_of_sum" and "integer_arithmetic" (engine/compile.py:
    # scale_sql parenthesises a sum; whole-number constants are NUMERIC in arithmetic); an unused
    # lookup and an exclude-only methodology (compile.py compiles both); arithmetic on null alone
    # and literals too long when written out (dsl/check.py refuses them, E503 and E306)
}


def known_bugs(m: ir.Methodology) -> list[str]:
    if os.environ.get("CCF_KEEP_KNOWN_BUGS") == "1":
        return []
    return [name for name, has in KNOWN_BUGS.items() if has(m)]


@settings(max_examples=GENERATED_EXAMPLES, **SETTINGS)
@given(text=generated_methodology(), data=st.data())
def test_generated_methodology_matches_reference(text, data, conn, rel_gen, rel_gen_spec, folder):
    path = folder / f"{unique('m')}.yaml"
    path.write_text(text, encoding="utf-8")
    m = read_methodology(SourceFile(str(path), text), {"rel_gen": rel_gen}, factor_signatures())
    assume(not known_bugs(m))
    ch = DataChooser(data)
    cells = [rel_gen_spec.cells(ch, f"G{i}") for i in range(ch.integer(1, MAX_ROWS))]
    run_and_compare(conn, folder, Subject(m, rel_gen_spec, shipped_factors(m.factor_set)), cells)


def test_generated_activity_type_covers_every_field_kind(rel_gen):
    kinds = {f.type.kind for f in rel_gen.fields}
    assert kinds == {"quantity", "text", "date", "boolean"}


# --- same data, same results: parallel query and row order ----------------------------------

BULK_ROWS = 20_000 if NIGHTLY else 3_000


def _bulk(subjects, folder: Path, ref: str, seed: int) -> tuple[Subject, list[dict[str, str]]]:
    subject = subjects[ref]
    ch = RandomChooser(seed)
    return subject, [subject.spec.cells(ch, f"B{i}") for i in range(BULK_ROWS)]


PARALLEL_ON = {
    "max_parallel_workers_per_gather": "4",
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "min_parallel_index_scan_size": "0",
    "debug_parallel_query": "on",
}
PARALLEL_OFF = {"max_parallel_workers_per_gather": "0", "debug_parallel_query": "off"}


def _set(conn, settings: dict[str, str]) -> None:
    for name, value in settings.items():
        if name == "debug_parallel_query" and conn.info.server_version < 160000:
            name = "force_parallel_mode"  # its name before PostgreSQL 16
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    conn.commit()


def _reset(conn) -> None:
    """Back to the server's parallel-query settings."""
    conn.rollback()
    for name in PARALLEL_ON:
        if name == "debug_parallel_query" and conn.info.server_version < 160000:
            name = "force_parallel_mode"
        conn.execute(pgsql.SQL("RESET {}").format(pgsql.Identifier(name)))
    conn.commit()


@pytest.mark.parametrize("ref", ["scope1.stationary_combustion@1.0.0", "scope3.cat6.business_travel@1.0.0", "test.grid_fallback@1.0.0"])
def test_parallel_query_and_row_order_do_not_change_results(ref, conn, subjects, folder):
    subject, cells = _bulk(subjects, folder, ref, seed=zlib.crc32(ref.encode()))
    m = subject.m
    in_order, shuffled = unique("ordered"), unique("shuffled")
    load_csv(conn, in_order, m.activity, write_rows(folder / f"{in_order}.csv", m.activity, cells))
    mixed = list(cells)
    RandomChooser(7).rng.shuffle(mixed)
    load_csv(conn, shuffled, m.activity, write_rows(folder / f"{shuffled}.csv", m.activity, mixed))
    # Fresh statistics: with the ones left by the small datasets above, the planner re-runs every
    # factor lookup once per activity row (a known performance problem, see
    # test_lookups_are_resolved_once_whatever_the_statistics) and this test takes minutes.
    conn.execute(f'ANALYZE ccf."activity_{m.activity.id}"')
    conn.commit()

    outcomes = {}
    try:
        for name, dataset, settings in (
            ("serial", in_order, PARALLEL_OFF),
            ("parallel", in_order, PARALLEL_ON),
            ("shuffled", shuffled, PARALLEL_OFF),
            ("shuffled parallel", shuffled, PARALLEL_ON),
        ):
            _set(conn, settings)
            report = run(conn, dataset, [m], other_edition=True)  # rows of any year, one edition
            outcomes[name] = (sql_outcomes(conn, report.run_id, m.id), report.methodologies[0].by_gas)
            conn.rollback()
    finally:
        _reset(conn)
    first = outcomes["serial"]
    for name, got in outcomes.items():
        assert got == first, f"{name} run differs from the serial run"
    typed = [typed_row(m.activity, c) for c in cells]
    ref_eval = reference(m, typed, subject.data)
    assert dict(first[1]) == dict(ref_eval.by_gas)
    assert first[0] == {o.activity_id: o for o in ref_eval.outcomes}


def test_parallel_plan_is_actually_used(conn, subjects, folder):
    """The forced settings do give a parallel plan for the evaluate query (else the test above
    would prove nothing)."""
    from ccf.engine.compile import compile_methodology
    from ccf.engine.factors.store import installed
    from ccf.engine.sql import Executor, render

    m = subjects["scope1.stationary_combustion@1.0.0"].m
    select = compile_methodology(m).evaluate.expression
    fs = installed(Executor(conn), m.factor_set)
    try:
        _set(conn, PARALLEL_ON)
        plan = conn.execute(
            "EXPLAIN " + render(select), {"run_id": 0, "dataset": "none", "loads": [], "factor_set_id": fs.factor_set_id}
        ).fetchall()
    finally:
        _reset(conn)
    assert any("Gather" in line for (line,) in plan), "\n".join(line for (line,) in plan)


# --- the evaluator on its own ---------------------------------------------------------------


@pytest.mark.slow
@nightly
@settings(max_examples=2000, **SETTINGS)
@given(text=generated_methodology())
def test_generated_methodologies_check_and_evaluate_without_rows(text, rel_gen):
    """Nightly: many more generated methodologies through the checker and the evaluator alone."""
    m = read_methodology(SourceFile("gen.yaml", text), {"rel_gen": rel_gen}, factor_signatures())
    for rule in m.rules:
        if rule.where is not None:
            evaluate(rule.where, {})



# --- bugs these tests found, reproduced minimally, now fixed ------------------------------

GRID = """\
gwp: AR5
factor_set: desnz-2024
factors:
  grid:
    select: {level1: UK electricity, level3: "Electricity: UK"}
    per: kWh
"""
ONE_ROW = [{"energy": "10", "energy_unit": "kWh", "n1": "1", "flag": "true"}]


def run_text(conn, folder: Path, rel_gen, body: str, rows: list[dict[str, str]]) -> dict[str, object]:
    """Check a methodology over rel_gen, run it on the rows, compare with the reference."""
    m = read_methodology(SourceFile("known_bug.yaml", HEADER + body), {"rel_gen": rel_gen}, factor_signatures())
    base = {"entity": "A", "period_start": "2024-01-01", "period_end": "2024-01-01"}
    cells = [{**base, "activity_id": f"K{i}", **r} for i, r in enumerate(rows)]
    spec = RowSpec(rel_gen, [])
    try:
        return run_and_compare(conn, folder, Subject(m, spec, shipped_factors(m.factor_set)), cells)
    finally:
        conn.rollback()


def test_fixed_conversion_of_a_sum_is_parenthesised(conn, folder, rel_gen):
    """2 GJ of standby load at the UK grid factor plus a fixed 0.5 kg: 115.5278 kg CO2e.
    The SQL computes ccf.div(2 * grid + 0.5 * 0.0036 * 2500, 9) and reports 0.546 kg."""
    run_text(conn, folder, rel_gen, GRID + """\
parameters:
  standby: 2 GJ
rules:
  - id: r
    emissions: standby * grid + 0.5 kgCO2e
""", ONE_ROW)


def test_fixed_integer_parameters_do_not_overflow(conn, folder, rel_gen):
    run_text(conn, folder, rel_gen, GRID + """\
parameters:
  days: 365
  seconds: days * 86400
  milliseconds: seconds * 1000
rules:
  - id: r
    emissions: energy * grid * milliseconds / 1000000000000
""", ONE_ROW)


def test_fixed_unit_conversion_of_an_integer_function_is_numeric(conn, folder, rel_gen):
    """Found by the generated-methodology test: min(1e3, 1e3) compared with 3 therm / 7 Btu was
    rescaled as LEAST(1000, 1000) * 45359237, an integer product that overflowed."""
    run_text(conn, folder, rel_gen, GRID + """\
rules:
  - id: odd
    where: min(1e3, 1e3) == (3 therm / 7 Btu)
    exclude: never true
  - id: r
    where: max(2, abs(-3)) * 1 GJ > 1000000 kWh
    exclude: never true either
  - id: rest
    emissions: energy * grid
""", ONE_ROW)


def test_fixed_negated_literal_multiplies_as_numeric(conn, folder, rel_gen):
    run_text(conn, folder, rel_gen, GRID + """\
rules:
  - id: r
    where: n1 > -50000 * 50000
    emissions: energy * grid
""", ONE_ROW)


def check_text(rel_gen, body: str) -> ir.Methodology:
    return read_methodology(SourceFile("fixed_bug.yaml", HEADER + body), {"rel_gen": rel_gen}, factor_signatures())


def refused(rel_gen, body: str) -> tuple[Diagnostic, str]:
    """The one diagnostic of a methodology, and the author's text under its span."""
    src = SourceFile("fixed_bug.yaml", HEADER + body)
    with pytest.raises(DiagnosticError) as info:
        read_methodology(src, {"rel_gen": rel_gen}, factor_signatures())
    (d,) = info.value.diagnostics
    assert d.span.line == d.span.end_line
    return d, src.line(d.span.line)[d.span.column - 1 : d.span.end_column - 1]


# Formerly: '-null' passed the checker and the run failed in PostgreSQL ("operator is not
# unique: - unknown"). An operation on nothing but null is now refused where it is written.
@pytest.mark.parametrize("expr, what", [
    ("-null", "'-' of null"),
    ("null + null", "'+' between nulls"),
    ("null - null", "'-' between nulls"),
    ("null * null", "'*' between nulls"),
    ("null / null", "'/' between nulls"),
    ("null ?? null", "'??' between nulls"),
    ("if flag then null else null", "an 'if' whose branches are both null"),
    ("-nothing", "'-' of null"),
    ("nothing + null", "'+' between nulls"),
])
def test_arithmetic_on_null_alone_is_refused_where_it_is_written(rel_gen, expr, what):
    d, written = refused(rel_gen, GRID + f"""\
parameters:
  nothing: "null"
rules:
  - id: r
    where: ({expr}) == null
    emissions: energy * grid
""")
    assert (d.code, d.message) == ("E503", f"{what} is always null: there is no value to compute with")
    assert written == expr
    assert d.suggestion == "write null itself, or use a field or parameter whose value may be missing"


# What PostgreSQL can type — null beside a value, null tested or replaced — still runs and
# agrees with the reference evaluator (each row once with values and once without).
NULL_ROWS = ONE_ROW + [{"energy": "10", "energy_unit": "kWh", "n1": "", "flag": ""}]


@pytest.mark.parametrize("where", [
    "n1 * null == null",
    "null * 2 == null",
    "-n1 + null == null",
    "(n1 ?? null) > 0",
    "(null ?? n1) > 0",
    "(if flag then n1 else null) > 0",
    "(if flag then null else n1) == null",
    "n1 in (null, 1)",
    "null == null",
    "not (null != null)",
    "(null or flag) == null",
    "max(n1, null) > 0",
])
def test_null_beside_a_value_runs_and_matches_the_reference(conn, folder, rel_gen, where):
    run_text(conn, folder, rel_gen, GRID + f"""\
rules:
  - id: r
    where: {where}
    emissions: energy * grid
""", NULL_ROWS)


# Formerly: a lookup no rule used compiled to 'f.gas IN ()', a syntax error. It is valid (a
# draft may declare a factor before using it); the compiler now leaves it out.
def test_unused_factor_lookup_is_left_out_and_the_run_matches_the_reference(conn, folder, rel_gen):
    body = GRID + """\
  spare:
    select: {level1: Fuels}
    per: kWh
rules:
  - id: r
    emissions: energy * grid
"""
    m = check_text(rel_gen, body)
    assert [lk.name for lk in m.lookups] == ["grid", "spare"] and not m.lookups[1].gases
    from ccf.engine.compile import compile_methodology

    sql = compile_methodology(m).sql()
    assert "factor_grid" in sql and "spare" not in sql
    run_text(conn, folder, rel_gen, body, NULL_ROWS)


# Formerly: E306 counted significant digits only, so 1e999999 reached SQL as a million digits.
@pytest.mark.parametrize("literal, digits", [("1e999999", 1000000), ("1e60", 61), ("1e-61", 61), ("0e999", 1000)])
def test_literal_too_long_when_written_out_is_refused(rel_gen, literal, digits):
    d, written = refused(rel_gen, GRID + f"""\
rules:
  - id: r
    where: n1 < {literal}
    emissions: energy * grid
""")
    assert d.code == "E306"
    assert d.message == f"'{literal}' has too many digits ({digits} digits when written out in full; at most 60)"
    assert written == literal


def test_literals_of_up_to_60_digits_written_out_run(conn, folder, rel_gen):
    run_text(conn, folder, rel_gen, GRID + """\
rules:
  - id: r
    where: n1 < 1e59 and n1 > -1e59 and n1 != 1e-60 and n1 != 0.000000000000000000000000000000000000000000000000000000000001
    emissions: energy * grid
""", NULL_ROWS + [{"energy": "1", "energy_unit": "kWh", "n1": "1e-60", "flag": ""}])


# Formerly: with no rule giving emissions, the results statement had an empty VALUES, a
# syntax error. A methodology that only excludes (a category declared not relevant) is valid.
def test_methodology_that_only_excludes_runs_and_reconciles(conn, folder, rel_gen):
    run_text(conn, folder, rel_gen, """\
gwp: AR5
factor_set: desnz-2024
rules:
  - id: none
    where: flag == false
    exclude: not relevant to this company
  - id: everything
    exclude: out of scope
""", NULL_ROWS + [{"energy": "3", "energy_unit": "kWh", "n1": "2", "flag": "false"}])


def test_lookups_are_resolved_once_whatever_the_statistics(db, subjects, folder):
    """compile.py resolves each lookup once per distinct key, and the resolved lookup is a
    MATERIALIZED CTE so PostgreSQL cannot re-run it per activity row (before that, after
    ANALYZE on a small dataset a 3000-row run re-executed it 3000 times)."""
    from ccf.engine.compile import compile_methodology
    from ccf.engine.factors.store import installed
    from ccf.engine.sql import Executor, render

    subject = subjects["scope1.stationary_combustion@1.0.0"]
    m = subject.m
    small, big = unique("small"), unique("big")
    ch = RandomChooser(3)
    load_csv(db, small, m.activity, write_rows(folder / f"{small}.csv", m.activity, [subject.spec.cells(ch, f"S{i}") for i in range(5)]))
    db.execute(f'ANALYZE ccf."activity_{m.activity.id}"')
    db.commit()
    load_csv(db, big, m.activity, write_rows(folder / f"{big}.csv", m.activity, [subject.spec.cells(ch, f"B{i}") for i in range(3000)]))
    fs = installed(Executor(db), m.factor_set)
    # Serial, and bounded: with parallel query each per-row re-run of a lookup also starts
    # parallel workers, and this statement takes many minutes.
    db.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    db.execute("SET LOCAL statement_timeout = '120s'")
    plan = db.execute(
        "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) " + render(compile_methodology(m).evaluate.expression),
        {"run_id": 0, "dataset": big, "loads": dataset_loads(Executor(db), big), "factor_set_id": fs.factor_set_id},
    ).fetchall()
    db.rollback()
    loops = [int(line.split("loops=")[1].rstrip(")")) for (line,) in plan if "_ranked" in line and "loops=" in line]
    assert loops and max(loops) == 1, "\n".join(line for (line,) in plan)


def test_data_quality_is_the_rows_else_the_rules_else_the_methodologys_and_never_clamped(conn, folder, rel_gen):
    """row ?? rule ?? methodology, the same in SQL and the reference; a computed score outside
    1-5 (7, 2.5) leaves the row unmatched with the score in the reason."""
    rows = [
        {"energy": "1", "energy_unit": "kWh", "flag": "true", "n1": "2", "data_quality": "1"},  # the row's
        {"energy": "1", "energy_unit": "kWh", "flag": "true", "n1": "2"},  # the rule's
        {"energy": "1", "energy_unit": "kWh", "flag": "true", "n1": "-1"},  # the rule's is null: the methodology's
        {"energy": "1", "energy_unit": "kWh", "flag": "false", "n1": "2"},  # a rule without one: the methodology's
        {"energy": "1", "energy_unit": "kWh", "flag": "true", "n1": "7"},
        {"energy": "1", "energy_unit": "kWh", "flag": "true", "n1": "2.5"},
        {"energy": "1", "energy_unit": "kWh", "flag": "true", "n1": "7", "data_quality": "5"},  # the row's wins
    ]
    out = run_text(conn, folder, rel_gen, GRID + """\
data_quality: 4
rules:
  - id: measured
    where: flag
    data_quality: if n1 > 0 then n1 else null
    emissions: energy * grid
  - id: rest
    emissions: energy * grid
""", rows)
    assert [getattr(out[f"K{i}"], "data_quality", None) for i in range(7)] == [1, 2, 4, 4, None, None, 5]
    assert [out[f"K{i}"].reason for i in (4, 5)] == [
        "the data-quality score given for this row is 7, not a whole number from 1 to 5",
        "the data-quality score given for this row is 2.5, not a whole number from 1 to 5"]


def test_a_methodology_without_data_quality_leaves_results_not_scored_unless_the_row_has_one(conn, folder, rel_gen):
    out = run_text(conn, folder, rel_gen, GRID + """\
rules:
  - id: r
    emissions: energy * grid
""", [{"energy": "1", "energy_unit": "kWh"}, {"energy": "1", "energy_unit": "kWh", "data_quality": "3"}])
    assert (out["K0"].data_quality, out["K1"].data_quality) == (None, 3)
