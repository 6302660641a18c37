"""engine/sql.render renders a tree without copying it first: every tree ccf renders is left
unchanged by rendering, and renders as its copy does (sqlglot's default, which copies)."""

from __future__ import annotations

import pytest
from helpers import shipped_case_plan, shipped_library
from sqlglot import exp

from ccf.engine import sql
from ccf.engine.compile import compile_methodology
from ccf.engine.database import connect
from ccf.engine.migrate import migrations


def _as_copied(copy: exp.Expression, pretty: bool = True) -> str:
    """The text sqlglot gives a copy of the tree (what render did before), of a copy the caller
    made and gives up here: the generator may rewrite it in place, so sqlglot's own copy of it
    (its default) would only be a second one."""
    return copy.sql(dialect=sql.DIALECT, copy=False, pretty=pretty, identify=False)


def _check(tree: exp.Expression, pretty: bool = True) -> str:
    before, shown = tree.copy(), repr(tree)
    text = sql.render(tree, pretty)
    assert repr(tree) == shown and tree == before, f"rendering changed the tree of:\n{text}"
    assert text == _as_copied(before, pretty)
    return text


def test_every_compiled_statement_of_the_library_renders_unchanged():
    lib = shipped_library()
    checked = 0
    for m in lib.versions():
        for _, tree in compile_methodology(m).statements():
            _check(tree)
            checked += 1
    assert checked >= 6 * len(lib.versions())  # six statements each, seven with instruments


def test_every_migration_renders_unchanged():
    trees = [t for _, _, text in migrations() for t in sql.parse(text, allow_commands=True)]
    assert trees
    for tree in trees:
        _check(tree)


def test_a_tree_inside_another_renders_as_a_statement_of_its_own():
    inner = exp.select(sql.column("a")).from_(sql.table("t")).subquery("s")
    outer = exp.select(exp.Star()).from_(inner)
    sub = outer.find(exp.Subquery)
    assert sub is not None and sub.parent is not None
    assert sql.render(sub) == _as_copied(sub.copy())


def _checking_render(monkeypatch) -> list[str]:
    """engine/sql.render, for the rest of the test, checking each tree it renders as ``_check``
    does; the texts rendered, in order."""
    rendered: list[str] = []
    original = sql.render

    def checking(tree: exp.Expression, pretty: bool = True) -> str:
        before, shown = tree.copy(), repr(tree)
        text = original(tree, pretty)
        assert repr(tree) == shown and tree == before, f"rendering changed the tree of:\n{text}"
        assert text == _as_copied(before, pretty)
        rendered.append(text)
        return text

    monkeypatch.setattr(sql, "render", checking)
    return rendered


def test_every_statement_of_a_load_run_and_case_renders_unchanged(module_db_url, monkeypatch):
    """One case of each activity type (instruments too): its load, run, reading and deletion."""
    lib = shipped_library()
    plan, types = [], set()
    for case, m in shipped_case_plan():
        if (kind := (m.activity.id, m.instruments is not None)) not in types:
            types.add(kind)
            plan.append((case, m))
    assert any(m.instruments is not None for _, m in plan)
    rendered = _checking_render(monkeypatch)
    from ccf.engine.cases import run_cases

    with connect(module_db_url) as conn:
        outcomes = run_cases(conn, lib, plan)
    assert all(o.passed for o in outcomes)
    # a run inserts into its partitions of ccf.result_row, … (migration 0027, engine/run_partition.py)
    assert any(t.startswith("COPY") for t in rendered) and any(t.startswith("INSERT INTO ccf_run.result_row_") for t in rendered)


def test_every_statement_of_an_explanation_renders_unchanged(sample_company, monkeypatch):
    """Two rows of one run explained: explain keeps its probe of the run's tables for the next row
    (engine/explain.py), which rendering must therefore leave as it was, like every other tree."""
    from ccf.engine.explain import explain

    rendered = _checking_render(monkeypatch)
    with connect(sample_company.url) as conn:
        for activity_id in ("EL-LOG-2024H1", "SF-DE-H2-PILOT-2024"):
            assert explain(conn, sample_company.run_id, activity_id, shipped_library()).parts
    assert sum(t.count("FROM ccf.activity_") > 1 and "UNION ALL" in t for t in rendered) == 2, rendered


@pytest.mark.parametrize("pretty", [True, False])
def test_render_leaves_a_tree_as_it_was(pretty):
    tree = exp.select(sql.column("a"), exp.Literal.string("50%")).from_(sql.table("t")).where(sql.is_param("a"))
    assert _check(tree, pretty)


def test_the_check_sees_a_tree_that_rendering_changes():
    """QUALIFY, which ccf never builds, is rewritten in place for PostgreSQL: the check above
    would name such a tree."""
    tree = exp.select("a").from_("t").qualify("ROW_NUMBER() OVER (PARTITION BY a) = 1")
    with pytest.raises(AssertionError, match="rendering changed the tree"):
        _check(tree)
