"""The language layer (ccf.dsl) must not depend on the database layer or on SQL."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("ccf.engine", "psycopg", "sqlglot", "pgserver")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_dsl_imports_no_database_or_sql_code():
    offenders = {
        f"{path.name}: {name}"
        for path in sorted((ROOT / "dsl").glob("*.py"))
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert offenders == set()


def test_sql_text_is_rendered_only_in_engine_sql():
    """Only engine/sql.py calls .sql(...) on trees or executes SQL on a connection."""
    offenders = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        if path.name == "sql.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("execute", "executemany", "copy") and isinstance(node.func.value, ast.Name):
                    if node.func.value.id in ("conn", "cur", "cursor", "connection"):
                        offenders.append(f"{path.name}:{node.lineno}")
                # rendering a sqlglot tree: tree.sql(dialect=…) / tree.sql("postgres")
                if node.func.attr == "sql" and (node.args or any(k.arg == "dialect" for k in node.keywords)):
                    offenders.append(f"{path.name}:{node.lineno} .sql()")
    assert offenders == []


def test_no_module_imports_a_private_name_of_another():
    """A name two modules share is public in its one home (issue #16): `from ccf.x import _y`
    couples a module to another's internals."""
    offenders = []
    for path in sorted([*(ROOT / "engine").rglob("*.py"), *(ROOT / "dsl").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ccf."):
                offenders += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}"
                              for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert offenders == []
