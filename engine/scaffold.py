"""``ccf init DIR``: a new organisation's project, written from the shipped template.

The template (``engine/project_template/``, package data) holds ``ccf.yaml``, a sample draft
methodology with a test case, sample activity data and an entity set, a README and a
``gitignore`` (written as ``.gitignore``: a dot-file would not travel as package data). Its
names and texts carry placeholders for the project's name, replaced here. A folder that exists
and is not empty is never written into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ccf.dsl import resources
from ccf.dsl.diagnostics import CcfError
from ccf.engine.project import NAME

RENAMED = {"gitignore": ".gitignore"}


@dataclass(frozen=True)
class Names:
    """What the template's placeholders become for one project."""

    project: str  # __project__: acme-eu
    prefix: str  # __prefix__: acme_eu, the first part of the sample methodology's id
    upper: str  # __ENTITY__: ACME-EU, the sample entities' prefix; __ENV__: ACME_EU

    @classmethod
    def of(cls, project: str) -> "Names":
        if not re.match(NAME, project):
            raise CcfError(f"project name {project!r} must be lower case letters, digits, '_' and '-', "
                           "starting with a letter (e.g. acme); give one with --name")
        prefix = project.replace("-", "_")
        return cls(project, prefix, prefix.upper().replace("_", "-"))

    def fill(self, text: str) -> str:
        for placeholder, value in (("__project__", self.project), ("__prefix__", self.prefix),
                                   ("__ENTITY__", self.upper), ("__ENV__", self.upper.replace("-", "_"))):
            text = text.replace(placeholder, value)
        return text


def default_name(folder: Path) -> str:
    """A project name from a folder's name: ``Acme EU`` → ``acme-eu``."""
    name = re.sub(r"[^a-z0-9_-]+", "-", folder.resolve().name.lower()).strip("-_")
    name = re.sub(r"^[^a-z]+", "", name)
    return name or "project"


def init(folder: Path, name: str | None = None) -> list[Path]:
    """Write a new project into ``folder`` (made if missing, refused if not empty); the files
    written, relative to it."""
    names = Names.of(name or default_name(folder))
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "is not a folder" if not folder.is_dir() else "is not empty"
        raise CcfError(f"{folder} {what}: ccf init writes a new project only into a new or empty folder")
    template = resources.project_template()
    written = []
    for source in sorted(p for p in template.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        relative = source.relative_to(template)
        target = Path(names.fill(relative.parent.as_posix())) / RENAMED.get(relative.name, names.fill(relative.name))
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        (folder / target).write_text(names.fill(source.read_text("utf-8")), "utf-8")
        written.append(target)
    return written
