"""An organisation's project folder: its file ``ccf.yaml``, read and checked, found from a folder upwards.

    project: acme
    default_target: local
    targets:
      local: {embedded: .ccf}                # the embedded PostgreSQL, its data in this folder
      shared: {url_env: ACME_DATABASE_URL}   # a server whose URL is in this environment variable
    methodologies: methodologies             # the project's methodology versions (and their tests)
    factor_sets: factor_sets                 # the project's factor-set declarations
    entity_sets: entity_sets                 # the project's entity-set files

Folders are relative to the file. A project's methodologies and factor sets are added to the
shipped library, never instead of it (``dsl/library.py``); a database URL is never written in the
file, only the name of the variable holding it, so the file can be committed. Which target a
command uses, and what overrides it, is settled in ``engine/options.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.model import Problem, Strict, validate_document
from ccf.dsl.source import SourceFile
from ccf.dsl.yaml_source import load_yaml

PROJECT_FILE = "ccf.yaml"
LOCAL_TARGET = "local"
NAME = r"^[a-z][a-z0-9_-]*$"  # a project's and a target's name
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class TargetSpec(Strict):
    """One database a command can use: the embedded server in a folder, or a URL from the environment."""

    embedded: str | None = Field(
        None, description="the embedded PostgreSQL, its data in this folder (relative to ccf.yaml), e.g. .ccf")
    url_env: str | None = Field(
        None, pattern=ENV_NAME,
        description="the environment variable holding the server's URL (postgresql://…): no secret in this file")

    @model_validator(mode="after")
    def _one_kind(self) -> "TargetSpec":
        if (self.embedded is None) == (self.url_env is None):
            raise Problem("a target is either 'embedded: FOLDER' or 'url_env: VARIABLE'",
                          suggestion="e.g. {embedded: .ccf} or {url_env: ACME_DATABASE_URL}")
        return self


class ReportSpec(Strict):
    """What ``ccf report`` reads from the project: the organisation's denominators per period."""

    denominators: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="reporting year (quoted, e.g. '2024'): {name: 'AMOUNT' or 'AMOUNT:UNIT'}, e.g. "
                    "{revenue: '1200000000:USD', fte: '5400:FTE'}: the report states emissions per each")

    @field_validator("denominators")
    @classmethod
    def _checked(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from ccf.engine.inventory.intensities import DenominatorError, parse_denominator

        for year, named in v.items():
            if not re.fullmatch(r"\d{4}", year):
                raise ValueError(f"'{year}' is not a reporting year; write the year in quotes, e.g. '2024'")
            for name, amount in named.items():
                try:
                    parse_denominator(f"{name}={amount}", f"report: denominators: '{year}':")
                except DenominatorError as exc:
                    raise ValueError(str(exc)) from None
        return v


class ProjectFile(Strict):
    """An organisation's ccf project (ccf.yaml): its databases and its own library folders."""

    model_config = Strict.model_config | {"title": "ccf project"}

    project: str = Field(pattern=NAME, description="the project's name, e.g. acme")
    description: str | None = None
    targets: dict[str, TargetSpec] = Field(min_length=1, description="target name: the database it uses")
    default_target: str = Field(description="the target of a command given no --target (and no CCF_TARGET)")
    methodologies: str = Field("methodologies", description="folder of the project's methodologies: <id>/<version>.yaml")
    factor_sets: str = Field("factor_sets", description="folder of the project's factor-set declarations: <id>.yaml")
    entity_sets: str = Field("entity_sets", description="folder of the project's entity-set files: <name>.csv")
    report: ReportSpec | None = Field(None, description="settings of ccf report (docs/reporting.md#intensities)")

    @field_validator("targets")
    @classmethod
    def _target_names(cls, v: dict[str, TargetSpec]) -> dict[str, TargetSpec]:
        for name in v:
            if not re.match(NAME, name):
                raise ValueError(f"target name '{name}' must be lower case letters, digits, '_' and '-', e.g. local")
        return v

    @model_validator(mode="after")
    def _default_is_a_target(self) -> "ProjectFile":
        if self.default_target not in self.targets:
            raise Problem(f"default_target '{self.default_target}' is not one of the targets",
                          suggestion="targets: " + ", ".join(self.targets), at="default_target")
        return self


class ProjectError(DiagnosticError):
    """Positioned problems of a project file; carries the file so they are shown with its lines."""

    def __init__(self, diagnostics: list[Diagnostic], source: SourceFile):
        super().__init__(diagnostics)
        self.sources = {source.path: source}


@dataclass(frozen=True)
class Target:
    """A checked target: the embedded server's data folder (absolute), or the variable with a URL."""

    name: str
    embedded: Path | None
    url_env: str | None


@dataclass(frozen=True)
class Project:
    """A checked project file, its folders made absolute."""

    root: Path
    name: str
    targets: dict[str, Target]
    default_target: str
    methodologies: Path
    factor_sets: Path
    entity_sets: Path
    denominators: dict[str, dict[str, str]] = field(default_factory=dict)  # year -> name -> 'AMOUNT[:UNIT]'

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def lock_dir(self) -> Path:
        """Where ``ccf lock`` keeps the project's published.lock: its methodology folder."""
        return self.methodologies


def read(path: Path) -> Project:
    """The project of a ``ccf.yaml``; its problems are a ProjectError, positioned in the file."""
    source = SourceFile.read(path)
    try:
        spec = validate_document(load_yaml(source), ProjectFile)
    except DiagnosticError as exc:
        raise ProjectError(exc.diagnostics, source) from None
    root = path.parent.resolve()
    targets = {
        name: Target(name, root / t.embedded if t.embedded is not None else None, t.url_env)
        for name, t in spec.targets.items()
    }
    return Project(root, spec.project, targets, spec.default_target, root / spec.methodologies,
                   root / spec.factor_sets, root / spec.entity_sets, spec.report.denominators if spec.report else {})


def find(start: Path) -> Project | None:
    """The project of the nearest ``ccf.yaml`` in ``start`` or a folder above it (as git and dbt
    find theirs); None outside any project."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return read(folder / PROJECT_FILE)
    return None


def project_schema() -> dict:
    """The JSON Schema of ccf.yaml (``ccf schema project``), as dsl/schema.py exports the others."""
    from ccf.dsl.schema import schema_of

    return schema_of(ProjectFile, "project.schema.json")
