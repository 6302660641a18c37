"""Front-end driver: read files, validate, check; find every methodology version in a folder.

    methodologies/
      activity_types/<activity_type>.yaml
      factor_sets/<factor set id>.yaml
      <methodology id>/<version>.yaml

A folder's own factor-set declarations join those it is given (the shipped ones); a methodology
in it may name either. An organisation's project adds its own folders (``Folders``: methodology
versions, factor-set declarations) to the shipped library, never in place of it: an id of the
project that the shipped library already has is an error naming both files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ccf.dsl import ir
from ccf.dsl.check import FactorSetSignature, check_activity_type, check_methodology
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.factor_sets import read_declarations
from ccf.dsl.model import ActivityTypeFile, MethodologyFile, validate_document
from ccf.dsl.source import SourceFile, Span
from ccf.dsl.yaml_source import load_yaml


def read_activity_type(source: SourceFile) -> ir.ActivityType:
    doc = load_yaml(source)
    spec = validate_document(doc, ActivityTypeFile)
    return check_activity_type(doc, spec)


def read_methodology(
    source: SourceFile,
    activity_types: Mapping[str, ir.ActivityType],
    factor_sets: Mapping[str, FactorSetSignature],
) -> ir.Methodology:
    doc = load_yaml(source)
    spec = validate_document(doc, MethodologyFile)
    return check_methodology(doc, spec, activity_types, factor_sets)


FACTOR_SETS = "factor_sets"  # the folder of factor-set declarations


@dataclass(frozen=True)
class Folders:
    """A project's own library folders: ``methodologies/<id>/<version>.yaml`` (with its own
    activity types in ``methodologies/activity_types/``) and ``factor_sets/<id>.yaml``."""

    methodologies: Path
    factor_sets: Path


def version_key(version: str) -> tuple:
    """The order of versions: numeric (1.10.0 after 1.9.0), a pre-release before its release."""
    core, _, pre = version.partition("-")
    nums = tuple(int(p) if p.isdigit() else 0 for p in core.split("."))
    return nums + ((1,) if not pre else (0, pre))


@dataclass
class Library:
    """Every activity type and methodology version under a folder, checked."""

    root: Path
    factor_sets: Mapping[str, FactorSetSignature]
    added: tuple[Folders, ...] = ()
    sources: dict[str, SourceFile] = field(default_factory=dict)
    activity_types: dict[str, ir.ActivityType] = field(default_factory=dict)
    methodologies: dict[tuple[str, str], ir.Methodology] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path, factor_sets: Mapping[str, FactorSetSignature],
             added: Sequence[Folders] = ()) -> "Library":
        """The library under ``root`` (the shipped one), with the folders ``added`` (a project's)."""
        lib = cls(Path(root), dict(factor_sets), tuple(added))
        lib.declare(lib.root / "factor_sets")
        for folders in lib.added:
            lib.declare_own(folders.factor_sets)
        lib._activity_types(lib.root / "activity_types", {})
        shipped_types = {name: at.span.path for name, at in lib.activity_types.items()}
        for folders in lib.added:
            lib._activity_types(folders.methodologies / "activity_types", shipped_types)
        for path in sorted(lib.root.glob("*/*.yaml")):
            if path.parent.name in ("activity_types", FACTOR_SETS):
                continue
            lib.add(path)
        shipped = {m.id: m.path for m in lib.methodologies.values()}
        for folders in lib.added:
            for path in sorted(folders.methodologies.glob("*/*.yaml")):
                if path.parent.name not in ("activity_types", FACTOR_SETS) and path.parent != folders.factor_sets:
                    lib.add(path, reserved=shipped)
        return lib

    @property
    def roots(self) -> tuple[Path, ...]:
        """Every folder holding methodology versions as ``<id>/<version>.yaml``."""
        return (self.root, *(f.methodologies for f in self.added))

    def _activity_types(self, folder: Path, reserved: Mapping[str, str]) -> None:
        """Read the activity types of a folder; a name in ``reserved`` (name: the file that has
        it, the shipped library's) is refused with E207."""
        for path in sorted(folder.glob("*.yaml")):
            src = self._read(path)
            try:
                at = read_activity_type(src)
            except DiagnosticError as exc:
                self.diagnostics.extend(exc.diagnostics)
                continue
            if at.id != path.stem:
                self.diagnostics.append(
                    Diagnostic("E206", f"activity type '{at.id}' must be in a file named {at.id}.yaml", at.span)
                )
            if at.id in reserved:
                self.diagnostics.append(Diagnostic(
                    "E207", f"'{at.id}' is already the name of a shipped activity type, in {reserved[at.id]}", at.span,
                    suggestion="give your own activity type a name of its own, e.g. prefixed with your organisation",
                ))
                continue
            self.activity_types[at.id] = at

    def declare(self, folder: Path) -> None:
        """Add the factor sets declared in ``folder``; one already known from the same text
        (the shipped library's own declarations) is not declared twice."""
        declared, diags = read_declarations(folder, self.sources)
        self.diagnostics.extend(diags)
        sets = dict(self.factor_sets)
        for name, fs in declared.items():
            have = sets.get(name)
            if have is not None and getattr(have, "content_hash", None) != fs.content_hash:
                self.diagnostics.append(Diagnostic(
                    "E603", f"'{name}' is already the id of a shipped factor set", fs.span,
                    suggestion="give your own factor set and its editions ids of their own, e.g. prefixed with your organisation",
                ))
                continue
            if have is None:
                sets[name] = fs
        self.factor_sets = sets

    def declare_own(self, folder: Path) -> None:
        """Add a project's factor-set declarations: an id (of a set or an edition) that is
        already known is an error naming both files, even for the same text."""
        declared, diags = read_declarations(folder, self.sources)
        self.diagnostics.extend(diags)
        sets = dict(self.factor_sets)
        for fs in {id(fs): fs for fs in declared.values()}.values():
            taken = next((n for n in fs.names() if n in sets), None)
            if taken is not None:
                where = getattr(sets[taken], "path", None) or "ccf's built-in GWP sets"
                self.diagnostics.append(Diagnostic(
                    "E603", f"'{taken}' is already the id of the shipped factor set in {where}", fs.span,
                    suggestion="give your own factor set and its editions ids of their own, e.g. prefixed with your organisation",
                ))
                continue
            sets.update({n: fs for n in fs.names()})
        self.factor_sets = sets

    def _read(self, path: Path) -> SourceFile:
        src = SourceFile.read(path)
        self.sources[src.path] = src
        return src

    def add(self, path: Path, enforce_layout: bool = True,
            reserved: Mapping[str, str] | None = None) -> ir.Methodology | None:
        """Read and check one methodology version; an id in ``reserved`` (id: the file that has
        it, the shipped library's) is refused with E207."""
        src = self._read(path)
        try:
            m = read_methodology(src, self.activity_types, self.factor_sets)
        except DiagnosticError as exc:
            self.diagnostics.extend(exc.diagnostics)
            return None
        if reserved and m.id in reserved:
            self.diagnostics.append(Diagnostic(
                "E207", f"'{m.id}' is already the id of a shipped methodology, in {reserved[m.id]}", Span(src.path, 1, 1, 1, 1),
                suggestion="give your own methodology an id of its own, e.g. prefixed with your organisation",
            ))
            return None
        if enforce_layout and (m.id, m.version) != (path.parent.name, path.stem):
            self.diagnostics.append(
                Diagnostic(
                    "E205",
                    f"{m.ref} must be stored as {m.id}/{m.version}.yaml",
                    Span(src.path, 1, 1, 1, 1),
                    suggestion="rename the file or fix 'methodology'/'version'",
                )
            )
        self.methodologies[(m.id, m.version)] = m
        return m

    def versions(self) -> list[ir.Methodology]:
        return sorted(self.methodologies.values(), key=lambda m: (m.id, version_key(m.version)))

    def resolve(self, ref: str) -> ir.Methodology:
        """'id@version', or 'id' for its latest published version."""
        mid, _, version = ref.partition("@")
        if version:
            m = self.methodologies.get((mid, version))
            if m is None:
                raise KeyError(ref)
            return m
        published = [m for m in self.versions() if m.id == mid and m.status == "published"]
        if not published:
            raise KeyError(ref)
        return published[-1]

    def latest_published(self) -> list[ir.Methodology]:
        latest: dict[str, ir.Methodology] = {}
        for m in self.versions():
            if m.status == "published":
                latest[m.id] = m
        return list(latest.values())
