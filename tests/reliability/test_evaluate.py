"""The reference evaluator's primitives: ccf.div, rounding, conversions, nulls and three-valued
logic — each against the documented table (docs/numeric-semantics.md) and, on generated values,
against PostgreSQL itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccf.dsl import ir, numeric
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.evaluate import (
    EXACT,
    Evaluator,
    LookupKeys,
    RecordsResolver,
    div,
    evaluate,
    resolve_factor,
    round_half_away,
    scale,
)
from ccf.engine.compile import ExpressionCompiler
from ccf.engine.database import connect

D = Decimal


def test_every_ir_node_has_a_visitor_in_both_the_compiler_and_the_evaluator():
    nodes = [c for c in vars(ir).values() if isinstance(c, type) and issubclass(c, ir.Node) and c is not ir.Node]
    assert len(nodes) >= 19
    for node in nodes:
        assert hasattr(Evaluator, "visit_" + node.__name__), node.__name__
        assert hasattr(ExpressionCompiler, "visit_" + node.__name__), node.__name__


def test_a_node_without_a_visitor_fails_loudly():
    class Unknown(ir.Node):
        type = ir.NUMBER
        scale = Fraction(1)

    with pytest.raises(NotImplementedError, match="Unknown"):
        evaluate(Unknown())


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ("2", "3", "0.66666666666666666667"),
        ("-2", "3", "-0.66666666666666666667"),
        ("1", "200000000000000000000", "1E-20"),
        ("-1", "200000000000000000000", "-1E-20"),
        ("388080000", "3600000", "107.80000000000000000000"),
        ("0", "7", "0"),
        ("1", "0", None),
    ],
)
def test_div_follows_the_documented_table(a, b, expected):
    got = div(D(a), D(b))
    assert got == (None if expected is None else D(expected))


def test_div_of_null_is_null():
    assert div(None, D(1)) is None and div(D(1), None) is None


@pytest.mark.parametrize("x,digits,expected", [("2.5", 0, "3"), ("-2.5", 0, "-3"), ("0.125", 2, "0.13"), ("-0.125", 2, "-0.13"), ("1.5", 0, "2")])
def test_round_is_half_away_from_zero(x, digits, expected):
    assert round_half_away(D(x), digits) == D(expected)


def test_scale_is_a_multiplication_or_one_division():
    assert scale(D("431.2"), Fraction(10**9)) == D("431200000000")
    assert scale(D("388080000"), Fraction(1, 3600000)) == D("107.8")
    assert scale(D("3"), Fraction(2500, 9)) == div(D(7500), D(9))


def test_exact_context_never_rounds():
    with pytest.raises(Exception):
        EXACT.divide(D(1), D(3))
    big = D("1" * 200)
    assert EXACT.multiply(big, big) == Decimal(int("1" * 200) ** 2)


def test_one_exact_context_for_the_evaluator_and_every_python_side_sum():
    # a second context could differ from the evaluator's in its traps or exponent range
    assert EXACT is numeric.EXACT
    assert numeric.exact_sum([D("1E-16383"), D("1" * 200)]) == EXACT.add(D("1E-16383"), D("1" * 200))


def test_a_row_the_evaluator_cannot_evaluate_is_a_ccf_error():
    # what ccf reports as a user-facing error (exit 1 and its message), never a traceback
    with pytest.raises(CcfError, match="field q holds 'ten', which is not a number"):
        Evaluator({"q": "ten"})(ir.FieldRef("q", ir.NUMBER))


def n(v: str | None) -> ir.Node:
    return ir.NullConst() if v is None else ir.Const(D(v))


def b(v: bool | None) -> ir.Node:
    return ir.NullConst() if v is None else ir.BoolConst(v)


@pytest.mark.parametrize(
    "x,y,and_,or_",
    [(True, None, None, True), (False, None, False, None), (None, None, None, None), (True, False, False, True)],
)
def test_three_valued_logic(x, y, and_, or_):
    assert evaluate(ir.Logic("and", b(x), b(y))) is and_
    assert evaluate(ir.Logic("or", b(x), b(y))) is or_
    assert evaluate(ir.Not(b(x))) is (None if x is None else not x)


def test_in_has_sql_null_semantics():
    one, two = n("1"), n("2")
    assert evaluate(ir.InList(one, (two, ir.NullConst()))) is None
    assert evaluate(ir.InList(one, (one, ir.NullConst()))) is True
    assert evaluate(ir.InList(ir.NullConst(), (one,))) is None
    assert evaluate(ir.InList(one, (two,), negated=True)) is True
    assert evaluate(ir.InList(one, (two, ir.NullConst()), negated=True)) is None


def test_min_max_ignore_nulls_and_if_treats_null_as_false():
    f = lambda name, *xs: ir.Func(name, tuple(xs), ir.NUMBER, Fraction(1))  # noqa: E731
    assert evaluate(f("min", ir.NullConst(), n("3"), n("2"))) == 2
    assert evaluate(f("max", ir.NullConst(), ir.NullConst())) is None
    assert evaluate(ir.IfThen(ir.NullConst(), n("1"), n("2"), ir.NUMBER, Fraction(1))) == 2
    assert evaluate(ir.Coalesce(ir.NullConst(), n("5"), ir.NUMBER, Fraction(1))) == 5
    assert evaluate(ir.IsNull(ir.NullConst())) is True


def test_fields_are_converted_per_row_unit():
    field = ir.FieldRef("q", ir.quantity((("J", 1),)), (ir.UnitConversion("kWh", D(3600000)), ir.UnitConversion("J", D(1))))
    assert Evaluator({"q": D("2.5"), "q_unit": "kWh"})(field) == D(9000000)
    assert Evaluator({"q": D("2.5"), "q_unit": "furlong"})(field) is None
    assert Evaluator({"q": None, "q_unit": "kWh"})(field) is None
    assert evaluate(ir.Func("year", (ir.DateConst("2024-02-29"),), ir.NUMBER, Fraction(1))) == 2024
    assert Evaluator({"d": date(2023, 1, 1)})(ir.FieldRef("d", ir.DATE)) == date(2023, 1, 1)


class R:
    """A duck-typed factor record."""

    def __init__(self, factor_id, unit, value, region=None, year=None, gas="CO2e", **attributes):
        self.factor_id, self.unit, self.gas, self.value = factor_id, unit, gas, D(value)
        self.region, self.year, self.attributes = region, year, tuple(sorted(attributes.items()))


def lookup(**kw) -> ir.FactorLookup:
    defaults = dict(name="grid", select=(("key", "grid"),), match=(), per="kWh", gases=("CO2e",))
    return ir.FactorLookup(**{**defaults, **kw})


def test_resolution_ranks_region_then_year_then_unit():
    records = [
        R("us-2023", "kWh", "0.3", "US", 2023, key="grid"),
        R("srso-2022", "kWh", "0.41", "SRSO", 2022, key="grid"),
        R("world-mwh", "MWh", "500", "WORLD", 2023, key="grid"),
        R("camx-gj", "GJ", "60", "CAMX", 2023, key="grid"),
    ]
    regions = [("SRSO", "SRSO", 0), ("SRSO", "US", 1), ("SRSO", "WORLD", 2), ("US", "US", 0), ("US", "WORLD", 1),
               ("CAMX", "CAMX", 0), ("CAMX", "US", 1), ("CAMX", "WORLD", 2), ("WORLD", "WORLD", 0)]
    lk = lookup(region=ir.NullConst(), year=ir.NullConst())
    resolver = RecordsResolver(records, regions=regions)
    got = resolver.resolve(lk, LookupKeys((), "SRSO", D(2024))).gas("CO2e")
    assert (got.factor_id, got.value, got.match_level) == ("srso-2022", D("0.41"), "year 2022 for 2024")
    got = resolver.resolve(lk, LookupKeys((), "CAMX", D(2023))).gas("CO2e")
    assert (got.factor_id, got.value, got.match_level) == ("camx-gj", D("0.216"), "stated per GJ")
    got = resolver.resolve(lk, LookupKeys((), "FR", D(2023))).gas("CO2e")
    assert (got.factor_id, got.value, got.match_level) == ("world-mwh", D("0.5"), "region WORLD for FR; stated per MWh")
    assert resolver.resolve(lk, LookupKeys((), "SRSO", D(2021))) is None
    assert resolver.resolve(lk, LookupKeys((), None, D(2021))) is None


def test_resolution_counts_ties_and_takes_minimums():
    records = [R("b", "kWh", "0.11", key="grid"), R("a", "kWh", "0.10", key="grid")]
    got = resolve_factor(lookup(), LookupKeys(), records).gas("CO2e")  # type: ignore[union-attr]
    assert (got.candidates, got.value, got.factor_id) == (2, D("0.10"), "a")


def test_a_missing_match_key_matches_nothing():
    lk = lookup(match=(("fuel", ir.FieldRef("fuel", ir.TEXT)),))
    records = [R("x", "kWh", "1", key="grid", fuel="Coal")]
    assert resolve_factor(lk, LookupKeys((("fuel", None),)), records) is None
    assert resolve_factor(lk, LookupKeys((("fuel", "Coal"),)), records) is not None


# --- against PostgreSQL ------------------------------------------------------------------------

decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=D("-1e30"), max_value=D("1e30")),
    st.builds(lambda i, f, e: D(f"{i}.{f}e{e}"), st.integers(-10**20, 10**20), st.integers(0, 10**12), st.integers(-40, 20)),
    st.sampled_from([D(0), D(1), D(-1), D("0.5"), D("-0.5"), D("5E-21"), D("-5E-21"), D("1E15"), D("3600000")]),
)


@pytest.fixture(scope="module")
def pg(module_db_url):
    c = connect(module_db_url)
    yield c
    c.close()


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(decimals, decimals), min_size=1, max_size=40), digits=st.integers(0, 20))
def test_primitives_agree_with_postgresql(pairs, digits, pg):
    rows = pg.execute(
        "SELECT ccf.div(a, b), ROUND(a, %s), a * b, a + b FROM unnest(%s::numeric[], %s::numeric[]) AS t(a, b)",
        (digits, [a for a, _ in pairs], [b_ for _, b_ in pairs]),
    ).fetchall()
    pg.rollback()
    for (a, b_), (q, r, p, s) in zip(pairs, rows):
        assert div(a, b_) == q, (a, b_)
        assert round_half_away(a, digits) == r, (a, digits)
        assert EXACT.multiply(a, b_) == p and EXACT.add(a, b_) == s
