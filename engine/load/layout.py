"""From a file's header and records to the rows a load stages: which columns become which fields
(a mapping file, ignored columns), constants, value maps, and each cell in ccf's own text by the
file's dialect. A cell the dialect cannot read rejects its row here, with its reason, like the
other checks that need no types (field count, NUL)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ccf.dsl import ir
from ccf.engine.load.base import LoadError
from ccf.engine.load.dialect import CellError, Dialect
from ccf.engine.load.formats import Exact
from ccf.engine.load.mapping import Mapping
from ccf.engine.load.source import check_header, clean, stage_record, unknown_columns
from ccf.engine.load.tables import csv_columns


@dataclass(frozen=True)
class Layout:
    """How the records of one file are staged: ``names`` (the staged columns, each a column of
    the activity type) are the header's columns ``take`` (by index), after them the ``constants``;
    ``convert[j]`` is how the dialect reads column j ('number', 'date' or None), ``values[j]`` its
    value map. ``identity``: the records are staged as they are (no mapping, nothing ignored)."""

    header: list[str]
    names: list[str]
    take: list[int]
    constants: list[str]
    convert: list[str | None]
    values: list[dict[str, str] | None]
    dialect: Dialect
    identity: bool
    notices: list[str] = field(default_factory=list)

    @cached_property
    def _work(self) -> list[tuple[int, str | None, dict[str, str] | None]]:
        """(column, how the dialect reads it, value map) of each column that may change."""
        return [(j, kind, values) for j, (kind, values) in enumerate(zip(self.convert, self.values))
                if values is not None or (kind == "number" and not self.dialect.plain_numbers)
                or (kind == "date" and not self.dialect.plain_dates)]

    @cached_property
    def _dates(self) -> dict[str, str]:
        """Dates read so far, by their text: a file repeats few distinct dates."""
        return {}

    def stage(self, line: int, cells: list[str]) -> tuple:
        """The staging row of one record: line, any rejection found here, the record as read
        (when it differs from the staged cells), the staged cells."""
        if self.identity and not self._work:
            return stage_record(line, cells, self.names)
        if len(cells) != len(self.header) or any("\x00" in c for c in cells):
            first = stage_record(line, cells, self.header)
            cut = [first[4 + i] for i in self.take] + self.constants
            return (*first[:3], first[3] or self._record(cells), *cut)
        raw = [cells[i] for i in self.take] + self.constants
        out = list(raw)
        dialect, dates = self.dialect, self._dates
        try:
            for j, kind, values in self._work:
                cell = out[j]
                if values is not None and (mapped := values.get(cell.strip())) is not None:
                    cell = mapped
                elif isinstance(cell, Exact):
                    continue
                if kind == "number":
                    cell = dialect.number(self.names[j], cell)
                elif kind == "date":
                    if (known := dates.get(cell)) is None:
                        known = dates[cell] = dialect.date(self.names[j], cell)
                    cell = known
                out[j] = cell
        except CellError as e:
            return (line, e.category, e.reason, self._record(cells), *raw)
        # (no NUL here: those records were staged above)
        record = None if self.identity and out == raw else json.dumps(dict(zip(self.header, cells)), ensure_ascii=False)
        return (line, None, None, record, *out)

    def _record(self, cells: list[str]) -> str:
        """The record as the file has it, by the file's column names (extra cells kept apart)."""
        record: dict[str, object] = {k: clean(v) for k, v in zip(self.header, cells)}
        if len(cells) > len(self.header):
            record["_extra_fields"] = [clean(c) for c in cells[len(self.header):]]
        return json.dumps(record, ensure_ascii=False)


def layout(header: list[str], header_line: int | None, at: ir.ActivityType, path: Path, dialect: Dialect,
           mapping: Mapping | None = None) -> Layout:
    """The layout of a file with this header, or a LoadError for a header that does not fit the
    activity type (a missing column, a misspelt one, a mapped column the file does not have)."""
    names = [h.strip() for h in header]
    notices: list[str] = []
    if mapping is not None:
        absent = [c for c in mapping.columns if c not in names]
        if absent:
            raise LoadError(f"column(s) {', '.join(absent)} of the mapping {mapping.path} are not in the file's "
                            f"header ({', '.join(names)})", path, header_line)
        renamed = [mapping.columns.get(n, n) for n in names]
        kept = [i for i, n in enumerate(names) if n not in mapping.ignore]
    else:
        renamed, kept = names, list(range(len(names)))
    constants = dict(mapping.constants) if mapping is not None else {}
    fields = check_header([renamed[i] for i in kept] + list(constants), at, path, header_line)
    unknown = set(unknown_columns(fields, at))
    if unknown:
        notices.append(f"column(s) {', '.join(n for n in fields if n in unknown)} are not fields of activity type "
                       f"'{at.id}' and were not loaded (list them under 'ignore:' in a --mapping file to silence this)")
    take = [i for i in kept if renamed[i] not in unknown]
    staged = [renamed[i] for i in take] + list(constants)
    by_column = dict(csv_columns(at))
    kind = {"quantity": "number", "date": "date"}
    convert = [kind.get(by_column[n].type.kind) if n == by_column[n].name else None for n in staged]
    values = [mapping.values.get(n) if mapping is not None else None for n in staged]
    identity = mapping is None and take == list(range(len(names)))
    return Layout(names, staged, take, list(constants.values()), convert, values, dialect, identity, notices)
