"""engine/compile.compiled: a bound version compiles once per process, told apart from any other
by its whole content (parameters and editions too), never by its name."""

from __future__ import annotations

import dataclasses

from helpers import shipped_library

from ccf.dsl.cases import with_parameters
from ccf.engine import api
from ccf.engine.cases import run_cases
from ccf.engine.compile import _compiled_once, compile_methodology, compiled, evaluate
from ccf.engine.database import connect

TRAVEL = "scope3.cat6.business_travel@2.1.0"


def test_the_same_content_is_compiled_once_and_renders_as_a_fresh_compile():
    lib = shipped_library()
    m = lib.resolve(TRAVEL)
    assert compiled(m) is compiled(dataclasses.replace(m))  # equal content, another object
    assert compiled(m).sql() == compile_methodology(m).sql()


def test_parameters_and_editions_compile_apart_under_one_content_hash():
    lib = shipped_library()
    m = lib.resolve(TRAVEL)
    three = with_parameters(lib, m, (("default_travellers", "3"),))  # a case's parameters
    assert three.content_hash == m.content_hash and three.ref == m.ref
    assert compiled(three) is not compiled(m) and compiled(three).sql() == compile_methodology(three).sql()
    assert compiled(three).sql() != compiled(m).sql()
    other = dataclasses.replace(m, factor_set=m.factor_set + "-other-edition")  # as bound to another edition
    assert compiled(other) is not compiled(m) and m.factor_set + "-other-edition" in compiled(other).sql()


def test_cases_of_one_version_compile_it_once(module_db_url, monkeypatch):
    """The cases of a version twice in one ``ccf test``: one compile per binding (parameters and the
    edition of the case's period), not one per case (each case compiled it before)."""
    lib = shipped_library()
    plan = [(case, m) for case, m in api.case_plan(lib, [TRAVEL])]
    assert plan
    statements = []
    real = evaluate.statement
    monkeypatch.setattr(evaluate, "statement", lambda m: statements.append(m.ref) or real(m))
    _compiled_once.cache_clear()
    with connect(module_db_url) as conn:
        outcomes = run_cases(conn, lib, plan + plan)
    assert [o.passed for o in outcomes] == [True] * 2 * len(plan)
    bindings = {(c.parameters, c.period) for c, _ in plan}
    assert len(plan) > 1 and statements == [TRAVEL] * len(bindings)


def test_a_methodology_that_is_no_value_is_compiled_afresh():
    """An IR node holding a list cannot be a key: such a version compiles each time, the same SQL."""
    m = shipped_library().resolve(TRAVEL)
    listed = dataclasses.replace(m, references=list(m.references))
    assert compiled(listed) is not compiled(listed)
    assert compiled(listed).sql() == compiled(m).sql()
