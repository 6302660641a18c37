"""A column-mapping file (``ccf load --mapping FILE``): how an ERP export's columns become the
fields of an activity type. It is read like a methodology file (strict YAML, dsl/yaml_source.py)
and checked against the activity type before any row is read; every problem is a diagnostic at
its file, line and column, with the codes of a methodology file's keys and values (E201 not a
mapping, E202 an unknown key or a wrong value, a field the activity type lacks among them). docs/data.md ("Column mapping") shows a whole file::

    columns:                 # column of the file: field (or <field>_unit)
      Beleg-Nr: activity_id
      Menge: quantity
      ME: quantity_unit
    constants:               # field: the same value on every row
      country: DE
    values:                  # field: {text in the file: text to load}
      quantity_unit: {KWH: kWh, MWH: MWh}
    ignore: [Kostenstelle]   # columns left out without a notice
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccf.dsl import ir
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from ccf.dsl.source import SourceFile
from ccf.dsl.yaml_source import YamlDocument, load_yaml
from ccf.engine.load.base import LoadError
from ccf.engine.load.tables import csv_columns


KEYS = ("columns", "constants", "values", "ignore", "sheet")


class MappingError(DiagnosticError):
    """Positioned problems of a mapping file; carries the file so they are shown with its lines."""

    def __init__(self, diagnostics: list[Diagnostic], source: SourceFile):
        super().__init__(diagnostics)
        self.sources = {source.path: source}


@dataclass(frozen=True)
class Mapping:
    """A checked mapping: ``columns`` file column -> field column; ``constants`` field column ->
    text; ``values`` field column -> {file text: text}; ``ignore`` file columns; ``sheet`` the
    XLSX sheet to read (None: the first)."""

    path: str
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    sheet: str | None = None


def read_mapping(path: Path, at: ir.ActivityType) -> Mapping:
    """The mapping file at ``path``, checked against activity type ``at``; MappingError otherwise."""
    try:
        source = SourceFile.read(path)
    except OSError as e:
        raise LoadError(f"cannot read the mapping file: {e.strerror}", path) from None
    doc = load_yaml(source)
    checker = _Checker(doc, at)
    mapping = checker.mapping()
    if checker.errors:
        raise MappingError(sorted(checker.errors, key=lambda d: (d.span.line, d.span.column)), source)
    return mapping


def _text(value: Any) -> str | None:
    """A scalar as the text a cell would hold (true/false as ccf reads them); None for a list or mapping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (str, int)):
        return str(value)
    return None


class _Checker:
    def __init__(self, doc: YamlDocument, at: ir.ActivityType):
        self.doc, self.at = doc, at
        self.fields = [c for c, _ in csv_columns(at)]
        self.errors: list[Diagnostic] = []

    def error(self, code: str, message: str, path: tuple, key: bool = False, suggestion: str | None = None) -> None:
        span = self.doc.key_span(path) if key else self.doc.span(path)
        self.errors.append(Diagnostic(code, message, span, suggestion=suggestion))

    def section(self, data: dict, name: str, kind: type) -> Any:
        value = data.get(name)
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.error("E202", f"'{name}' must be a {'list' if kind is list else 'mapping'}", (name,))
            return kind()
        return value

    def field_name(self, name: Any, path: tuple, key: bool) -> bool:
        """Whether ``name`` is a column of the activity type (a diagnostic if not)."""
        if isinstance(name, str) and name in self.fields:
            return True
        self.error("E202", f"'{name}' is not a field of activity type '{self.at.id}'", path, key,
                   did_you_mean(str(name), self.fields) or "fields: " + ", ".join(self.fields))
        return False

    def mapping(self) -> Mapping:
        data = self.doc.data
        if not isinstance(data, dict):
            self.error("E201", "a mapping file is a mapping with the keys " + ", ".join(KEYS), ())
            return Mapping(self.doc.source.path)
        for key in data:
            if key not in KEYS:
                self.error("E202", f"unknown key '{key}'", (key,), True,
                           did_you_mean(str(key), KEYS) or "keys: " + ", ".join(KEYS))
        columns: dict[str, str] = {}
        target_of: dict[str, str] = {}
        for source, target in self.section(data, "columns", dict).items():
            path = ("columns", source)
            if not isinstance(target, str):
                self.error("E202", f"column '{source}' must map to a field name", path)
            elif self.field_name(target, path, False):
                if target in target_of:
                    self.error("E202", f"field '{target}' is already the column '{target_of[target]}'", path)
                else:
                    columns[str(source)], target_of[target] = target, str(source)
        constants: dict[str, str] = {}
        for name, value in self.section(data, "constants", dict).items():
            path = ("constants", name)
            if not self.field_name(name, path, True):
                continue
            if name in target_of:
                self.error("E202", f"field '{name}' is both a constant and the column '{target_of[name]}'", path, True)
            elif (text := _text(value)) is None:
                self.error("E202", f"the constant of '{name}' must be one value", path)
            else:
                constants[name] = text
        values: dict[str, dict[str, str]] = {}
        for name, table in self.section(data, "values", dict).items():
            path = ("values", name)
            if not self.field_name(name, path, True):
                continue
            if not isinstance(table, dict):
                self.error("E202", f"the values of '{name}' must be a mapping of texts in the file to texts to load", path)
                continue
            pairs = {}
            for old, new in table.items():
                old_text, new_text = _text(old), _text(new)
                if old_text is None or new_text is None:
                    self.error("E202", "a value map maps one value to one value", path + (old,))
                else:
                    pairs[old_text] = new_text
            values[name] = pairs
        ignore = []
        for i, name in enumerate(self.section(data, "ignore", list)):
            if not isinstance(name, str):
                self.error("E202", "'ignore' lists column names", ("ignore", i))
            elif name in columns:
                self.error("E202", f"column '{name}' is both mapped and ignored", ("ignore", i))
            else:
                ignore.append(name)
        sheet = data.get("sheet")
        if sheet is not None and not isinstance(sheet, str):
            self.error("E202", "'sheet' is the name of a sheet", ("sheet",))
            sheet = None
        return Mapping(self.doc.source.path, columns, constants, values, tuple(ignore), sheet)
