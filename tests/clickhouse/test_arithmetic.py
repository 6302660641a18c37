"""Each arithmetic building block of ccf's ClickHouse SQL gives PostgreSQL's number to the last
digit: ``ccf.div`` (half away from zero at 20 places, where ClickHouse's own ``/`` truncates),
products, sums, ``round`` and comparisons, on the same inputs, in chdb and in the suite's real
PostgreSQL. Where the sizes say a block would not be exact in 76 digits, it is refused, and
ClickHouse itself is shown to wrap around there (what the refusal protects against)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from ccf.engine.clickhouse import numeric  # noqa: E402
from ccf.engine.database import connect  # noqa: E402
from ccf.engine.sql import Executor, func, number  # noqa: E402


class Engines(tuple):
    def __repr__(self) -> str:  # hypothesis prints its arguments: not every statement run
        return "Engines(postgres, chdb)"


@pytest.fixture(scope="module")
def engines(module_db_url, clickhouse):
    conn = connect(module_db_url)
    conn.autocommit = True  # each comparison on its own: a failed statement names itself
    yield Engines((Executor(conn), clickhouse))
    conn.close()


def decimals(max_digits: int = 30, max_places: int = 30):
    """Exact decimals of up to ``max_digits`` digits before and ``max_places`` after the point,
    trailing zeros kept (their scale is their type on ClickHouse)."""
    def build(sign: str, whole: int, places: int, frac: int) -> Decimal:
        return Decimal(f"{sign}{whole}.{str(frac % 10**places).zfill(places)}" if places else f"{sign}{whole}")

    return st.builds(
        build,
        st.sampled_from(["", "-"]),
        st.integers(0, 10**max_digits - 1) | st.sampled_from([0, 1, 5]),
        st.integers(0, max_places),
        st.integers(0, 10**max_places) | st.sampled_from([0, 5, 50, 500]),
    )


def _ch(engines, tree: exp.Expression) -> Decimal | None:
    (value,) = engines[1].rows(exp.select(exp.alias_(tree, "v")))[0]
    return value


def _pg(engines, tree: exp.Expression) -> Decimal | None:
    (value,) = engines[0].one(exp.select(tree))
    return value


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(a=decimals(25, 25), b=decimals(12, 25))
def test_div_is_ccf_div(engines, a: Decimal, b: Decimal):
    ea, sa = numeric.literal(a)
    eb, sb = numeric.literal(b)
    tree, _, exact = numeric.div(ea, sa, eb, sb)
    assert exact, (a, b)
    assert _ch(engines, tree) == _pg(engines, func("div", number(a), number(b), schema="ccf"))


@pytest.mark.parametrize("a, b, quotient", [
    ("2", "3", "0.66666666666666666667"),
    ("-2", "3", "-0.66666666666666666667"),
    ("1", "200000000000000000000", "1E-20"),
    ("-1", "200000000000000000000", "-1E-20"),
    ("388080000", "3600000", "107.8"),
    ("1", "0", None),
])
def test_div_the_documented_table(engines, a, b, quotient):
    """docs/numeric-semantics.md's table of ccf.div, on ClickHouse; ClickHouse's own 2/3 truncates."""
    (ea, sa), (eb, sb) = numeric.literal(Decimal(a)), numeric.literal(Decimal(b))
    tree, _, exact = numeric.div(ea, sa, eb, sb)
    assert exact
    assert _ch(engines, tree) == (Decimal(quotient) if quotient is not None else None)
    two_thirds = exp.Div(this=exp.Anonymous(this="toDecimal256", expressions=[exp.Literal.string("2"), exp.Literal.number(20)]),
                         expression=exp.Anonymous(this="toDecimal256", expressions=[exp.Literal.string("3"), exp.Literal.number(20)]))
    assert _ch(engines, two_thirds) == Decimal("0.66666666666666666666")  # truncated: why div() exists


@SETTINGS
@given(a=decimals(18, 18), b=decimals(18, 18), places=st.integers(0, 6))
def test_product_sum_round_compare(engines, a: Decimal, b: Decimal, places: int):
    (ea, sa), (eb, sb) = numeric.literal(a), numeric.literal(b)
    assert numeric.holds(numeric.times(sa, sb)) and numeric.holds(numeric.plus(sa, sb))
    # NUMERIC, as the compiler casts a whole-number literal: PostgreSQL would type it bigint
    pa, pb = (exp.Cast(this=number(x), to=exp.DataType.build("NUMERIC")) for x in (a, b))
    # one statement per engine for the four: each is a statement's cost on chdb, whatever its size
    blocks = {"product": exp.Mul, "difference": exp.Sub,
              "rounded": lambda this, expression: exp.Round(this=this, decimals=exp.Literal.number(places))}
    on_ch = engines[1].rows(exp.select(*[exp.alias_(make(this=ea.copy(), expression=eb.copy()), name) for name, make in blocks.items()],
                                       exp.alias_(exp.LT(this=ea.copy(), expression=eb.copy()), "less")))[0]
    on_pg = engines[0].one(exp.select(*[make(this=pa.copy(), expression=pb.copy()) for make in blocks.values()]))
    for name, ch, pg in zip(blocks, on_ch, on_pg):
        assert ch == pg, (name, ch, pg)
    assert bool(on_ch[-1]) == (a < b)


def test_what_the_sizes_refuse_wraps_around_in_clickhouse(engines):
    """A product past 76 digits is refused by the sizes; ClickHouse alone gives a wrong number."""
    (ea, sa), (eb, sb) = numeric.literal(Decimal("1" + "0" * 60)), numeric.literal(Decimal("1" + "0" * 20))
    assert not numeric.holds(numeric.times(sa, sb))
    assert _ch(engines, exp.Mul(this=ea, expression=eb)) != Decimal(10) ** 80
    (ea, sa), (eb, sb) = numeric.literal(Decimal("1" + "0" * 56)), numeric.literal(Decimal("3"))
    assert not numeric.div(ea, sa, eb, sb)[2]  # 2·|A|·10^20 would need 78 digits
    (ea, sa) = numeric.literal(Decimal("1" + "0" * 54))
    assert numeric.div(ea, sa, eb, sb)[2]  # 76 digits: held
