"""docs/architecture.md's pipeline drawing names exactly the modules of dsl/ and engine/.

Every module (``ls`` of dsl/, engine/ and each sub-package of engine/) is named in the drawing,
a module of a sub-package together with its folder; and every ``name.py`` and ``folder/`` the
drawing names exists. A module added, moved or removed without the drawing following fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dsl", "engine")


def _drawing() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    found = re.search(r"^## The pipeline\n+```\n(.*?)^```", text, re.S | re.M)
    assert found, "docs/architecture.md has no fenced drawing under '## The pipeline'"
    return found.group(1)


def _modules() -> list[Path]:
    """Every module of dsl/ and engine/ and of engine/'s sub-packages, relative to the root."""
    folders = [ROOT / p for p in PACKAGES]
    folders += sorted(d for d in (ROOT / "engine").iterdir() if (d / "__init__.py").is_file())
    return [m.relative_to(ROOT) for f in folders for m in sorted(f.glob("*.py")) if m.name != "__init__.py"]


def _sub_packages() -> set[str]:
    return {d.name for d in (ROOT / "engine").iterdir() if (d / "__init__.py").is_file()}


def test_the_drawing_names_every_module():
    drawing = _drawing()
    missing = []
    for module in _modules():
        folder = module.parent.name
        named = re.search(rf"(?<![\w.]){re.escape(module.name)}\b", drawing)
        if not named or (folder in _sub_packages() and f"{folder}/" not in drawing):
            missing.append(str(module))
    assert missing == [], f"modules the drawing of docs/architecture.md does not name: {missing}"


def test_the_drawing_names_no_module_or_folder_that_does_not_exist():
    drawing = _drawing()
    modules = {m.name for m in _modules()}
    stale = sorted({n for n in re.findall(r"(?<![\w.])(\w+\.py)\b", drawing)} - modules)
    assert stale == [], f"the drawing of docs/architecture.md names modules that do not exist: {stale}"
    folders = set(re.findall(r"(?<![\w.])(?:engine/)?(\w+)/(?!\w)", drawing))
    known = _sub_packages() | set(PACKAGES) | {"methodologies", "activity_types", "migrations", "handwritten", "factors", "factor_sets",
                                                   "project_template"}
    assert folders <= known, f"the drawing of docs/architecture.md names folders that do not exist: {sorted(folders - known)}"
