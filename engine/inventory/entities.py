"""Entity sets: the reporting company's organisational structure, read from a CSV file.

Format (UTF-8, header row first, one entity per row, columns in any order)::

    entity,name,parent,equity_share,financial_control,operational_control[,joint_financial_control][,country]
    NW-GROUP,Northwind Group,,,,,,GB
    NW-UK-LOG,Northwind Logistics Ltd,NW-HOLD,0.6,true,true,,GB

- ``entity``: the code activity rows use in their ``entity`` column (matched exactly).
- ``parent``: empty for exactly one row, the root (the reporting company); otherwise another
  entity of the file. The hierarchy must not loop.
- ``equity_share``: the share of the entity's equity its parent holds, a plain decimal from 0
  to 1 (``0.6``, not ``60%``).
- ``financial_control``, ``operational_control``, ``joint_financial_control`` (optional,
  default false): whether the parent controls the entity; ``true``/``false``, ``yes``/``no`` or
  ``1``/``0`` in any letter case. Joint financial control (a joint venture whose partners
  share financial control) and financial control exclude each other.
- The root's ``equity_share`` and control cells may be left empty; they mean 1 and true.
- ``country`` (optional): informative.

The whole file is checked before anything is stored; every problem is reported with its line.
A set is stored once under its name and never modified (like a factor-set edition): loading the
same bytes again is a no-op, other bytes under a loaded name are an error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Sequence

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError, did_you_mean
from ccf.engine import locks
from ccf.engine.sql import Executor, column, ident, param, table

REQUIRED_COLUMNS = ("entity", "name", "parent", "equity_share", "financial_control", "operational_control")
OPTIONAL_COLUMNS = ("joint_financial_control", "country")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DECIMAL_RE = re.compile(r"[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)")
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")
_ENTITY_COLS = (
    "entity_set", "entity", "name", "parent", "equity_share", "financial_control", "joint_financial_control",
    "operational_control", "country", "line_no",
)
_ENTITY_TYPES = ("TEXT", "TEXT", "TEXT", "TEXT", "NUMERIC", "BOOLEAN", "BOOLEAN", "BOOLEAN", "TEXT", "INT")


class EntitySetError(CcfError):
    """An entity file that cannot be loaded; every problem is listed with its line."""

    def __init__(self, path: str | Path, problems: list[tuple[int | None, str]]):
        self.path = str(path)
        self.problems = problems
        lines = [f"{self.path}:{line}: {msg}" if line else f"{self.path}: {msg}" for line, msg in problems]
        head = f"{len(problems)} problems in the entity file:\n  " if len(problems) > 1 else ""
        super().__init__(head + "\n  ".join(lines))


class EntitySetConflict(CcfError):
    """A different file claims the name of an entity set that is already loaded."""


@dataclass(frozen=True)
class EntityRecord:
    """One validated row of an entity file."""

    entity: str
    name: str
    parent: str | None
    equity_share: Decimal
    financial_control: bool
    joint_financial_control: bool
    operational_control: bool
    country: str | None
    line_no: int


@dataclass(frozen=True)
class EntitySetLoad:
    """What ``load_entity_set`` did."""

    entity_set: str
    source_file: str
    sha256: str
    entities: int
    loaded: bool  # False when the same file was already loaded under this name


# --- reading and checking the file -------------------------------------------------------


def parse_entities(data: bytes, path: str | Path) -> list[EntityRecord]:
    """The validated records of an entity file's bytes, or an EntitySetError listing every problem."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise EntitySetError(path, [(line, f"not UTF-8 text ({e.reason})")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise EntitySetError(path, [(reader.line_num, f"cannot read CSV: {e}")]) from None
    if not rows:
        raise EntitySetError(path, [(None, "empty file: expected a header row and one row per entity")])
    names = _header(rows[0][1], path)
    problems: list[tuple[int | None, str]] = []
    cells_by_line = []
    for line, row in rows[1:]:
        if len(row) != len(names):
            problems.append((line, f"row has {len(row)} cells but the header has {len(names)}"))
            continue
        cells_by_line.append((line, {n: c.strip() for n, c in zip(names, row, strict=True)}))
    if not cells_by_line and not problems:
        problems.append((None, "no entities: the file has a header but no rows"))
    records = [r for line, cells in cells_by_line if (r := _record(line, cells, problems)) is not None]
    _check_structure([(line, cells["entity"], cells["parent"]) for line, cells in cells_by_line], records, problems)
    if problems:
        raise EntitySetError(path, sorted(problems, key=lambda p: (p[0] or 0)))
    return records


def _header(row: list[str], path: str | Path) -> list[str]:
    names = [h.strip() for h in row]
    problems: list[tuple[int | None, str]] = []
    if "" in names:
        problems.append((1, f"column {names.index('') + 1} of the header has no name"))
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    if repeated:
        problems.append((1, f"repeated column(s): {', '.join(repeated)}"))
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        problems.append((1, f"missing column(s): {', '.join(missing)}"))
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    unknown = [n for n in names if n and n not in known]
    if unknown:
        absent = [c for c in known if c not in names]
        described = []
        for n in unknown:
            hint = did_you_mean(n, absent)
            described.append(f"{n} ({hint})" if hint else n)
        problems.append((1, "unknown column(s): " + ", ".join(described)))
    if problems:
        raise EntitySetError(path, problems)
    return names


def _boolean(cells: dict[str, str], column_name: str, default: bool | None, line: int,
             problems: list[tuple[int | None, str]]) -> bool | None:
    value = cells.get(column_name, "")
    if not value:
        if default is None:
            problems.append((line, f"{column_name} is required: true or false"))
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    problems.append((line, f"{column_name} '{value}' is not true or false (also accepted: yes/no, 1/0)"))
    return None


def _share(value: str, line: int, problems: list[tuple[int | None, str]]) -> Decimal | None:
    if _DECIMAL_RE.fullmatch(value):
        share = Decimal(value)
        if Decimal(0) <= share <= Decimal(1):
            return share
    hint = ""
    if value.endswith("%") and _DECIMAL_RE.fullmatch(value[:-1].strip()):
        hint = f" (write {value} as {(Decimal(value[:-1].strip()) / 100).normalize():f})"
    problems.append((line, f"equity_share '{value}' is not a decimal from 0 to 1{hint}"))
    return None


def _record(line: int, cells: dict[str, str], problems: list[tuple[int | None, str]]) -> EntityRecord | None:
    """One row as a record; its problems are appended (None when it has any)."""
    before = len(problems)
    entity, name, parent = cells["entity"], cells["name"], cells["parent"] or None
    if not entity:
        problems.append((line, "entity is required but empty"))
    if not name:
        problems.append((line, "name is required but empty"))
    is_root = parent is None
    if is_root:
        # The root is the reporting company itself: nothing holds it, it holds all of itself.
        share = Decimal(1)
        given = _share(cells["equity_share"], line, problems) if cells["equity_share"] else Decimal(1)
        if given is not None and given != Decimal(1):
            problems.append((line, f"the root entity (no parent) must have an empty equity_share or 1, not '{cells['equity_share']}'"))
        flags = [(c, _boolean(cells, c, True, line, problems)) for c in ("financial_control", "operational_control")]
        for c, v in flags:
            if v is False:
                problems.append((line, f"the root entity (no parent) controls itself: {c} must be empty or true"))
        joint = _boolean(cells, "joint_financial_control", False, line, problems)
        if joint:
            problems.append((line, "the root entity (no parent) cannot be under joint financial control"))
        financial, operational, joint = True, True, False
    else:
        share = _share(cells["equity_share"], line, problems) if cells["equity_share"] else None
        if not cells["equity_share"]:
            problems.append((line, "equity_share is required: the share of this entity its parent holds, from 0 to 1"))
        financial = _boolean(cells, "financial_control", None, line, problems)
        operational = _boolean(cells, "operational_control", None, line, problems)
        joint = _boolean(cells, "joint_financial_control", False, line, problems)
        if financial and joint:
            problems.append((line, "financial_control and joint_financial_control exclude each other: "
                                   "a parent either controls the entity alone or shares control with partners"))
        if parent is not None and parent == entity:
            problems.append((line, f"entity '{entity}' cannot be its own parent"))
    if len(problems) > before:
        return None
    return EntityRecord(
        entity=entity, name=name, parent=parent, equity_share=share,  # type: ignore[arg-type]
        financial_control=bool(financial), joint_financial_control=bool(joint),
        operational_control=bool(operational), country=cells.get("country") or None, line_no=line,
    )


def _check_structure(rows: list[tuple[int, str, str]], records: list[EntityRecord],
                     problems: list[tuple[int | None, str]]) -> None:
    """Unique codes, known parents, one root (over every row, also rows with other problems);
    then no loops (a walk up from each valid entity)."""
    first: dict[str, int] = {}
    for line, entity, _ in rows:
        if not entity:
            continue
        if entity in first:
            problems.append((line, f"entity '{entity}' appears more than once (first on line {first[entity]})"))
        else:
            first[entity] = line
    for line, entity, parent in rows:
        if parent and parent != entity and parent not in first:
            hint = did_you_mean(parent, first)
            problems.append((line, f"parent '{parent}' is not an entity of this file" + (f"; {hint}" if hint else "")))
    roots = [line for line, _, parent in rows if not parent]
    if len(roots) > 1:
        problems.append((roots[1], "more than one root entity (empty parent): lines "
                         + ", ".join(map(str, roots)) + "; exactly one row, the reporting company, has no parent"))
    elif not roots and rows:
        problems.append((None, "no root entity: exactly one row, the reporting company, must have an empty parent"))
    by_code = {r.entity: r for r in records}
    reported: set[str] = set()
    for r in records:
        seen = [r.entity]
        node = r
        while node.parent is not None and node.parent in by_code and node.parent != node.entity:
            if node.parent in seen:
                loop = seen[seen.index(node.parent):]
                if not reported & set(loop):
                    reported |= set(loop)
                    lines = ", ".join(str(by_code[e].line_no) for e in loop)
                    problems.append((by_code[loop[0]].line_no, "the hierarchy loops: " + " -> ".join([*loop, loop[0]])
                                     + f" (lines {lines}); each entity must lead up to the root"))
                break
            seen.append(node.parent)
            node = by_code[node.parent]


# --- storing -----------------------------------------------------------------------------


def load_entity_set(conn: psycopg.Connection, name: str, path: Path, source: str | None = None) -> EntitySetLoad:
    """Validate an entity file and store it as entity set ``name`` (once; never modified).
    ``source``: the file's name as the set records it (default: ``path``; the service's upload
    is a temporary file, recorded under the name it was sent with)."""
    if not NAME_RE.fullmatch(name):
        raise CcfError(f"entity set name {name!r} must be letters, digits, '.', '_' or '-' (e.g. northwind-2024)")
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CcfError(f"{path}: cannot read the file ({e.strerror})") from None
    records = parse_entities(data, path)
    digest = hashlib.sha256(data).hexdigest()
    ex = Executor(conn)
    with conn.transaction():
        ex.execute(locks.xact_lock(locks.ENTITY_SETS))
        have = ex.one(
            exp.select(column("sha256"), column("source_file")).from_(table("entity_set"))
            .where(exp.EQ(this=column("entity_set"), expression=param("name"))),
            {"name": name},
        )
        if have is not None:
            if have[0] != digest:
                raise EntitySetConflict(
                    f"entity set {name!r} is already loaded (from {have[1]}, sha256 {have[0][:12]}…); {path} has "
                    f"sha256 {digest[:12]}…. Entity sets are never modified: load the changed structure under a new name."
                )
            return EntitySetLoad(name, have[1], digest, len(records), loaded=False)
        cols = ("entity_set", "source_file", "sha256", "entity_count")
        ex.execute(
            exp.insert(exp.select(*[param(c) for c in cols]), exp.Schema(this=table("entity_set"), expressions=[ident(c) for c in cols])),
            {"entity_set": name, "source_file": source or str(path), "sha256": digest, "entity_count": len(records)},
        )
        # One INSERT of arrays, not COPY: COPY FROM is refused on a table with row-level
        # security, which ccf.entity has for the HTTP service's organisations (engine/service/)
        rows = [(name, r.entity, r.name, r.parent, r.equity_share, r.financial_control, r.joint_financial_control,
                 r.operational_control, r.country, r.line_no) for r in records]
        arrays = [exp.Cast(this=param(c), to=exp.DataType.build(f"{t}[]")) for c, t in zip(_ENTITY_COLS, _ENTITY_TYPES)]
        ex.execute(
            exp.insert(exp.select(exp.Star()).from_(exp.Unnest(expressions=arrays)),
                       exp.Schema(this=table("entity"), expressions=[ident(c) for c in _ENTITY_COLS])),
            {c: [row[i] for row in rows] for i, c in enumerate(_ENTITY_COLS)},
        )
    return EntitySetLoad(name, source or str(path), digest, len(records), loaded=True)


def entity_sets(conn: psycopg.Connection) -> list[dict]:
    """Every loaded entity set, by name."""
    ex = Executor(conn)
    cols = ("entity_set", "source_file", "sha256", "entity_count", "loaded_at")
    rows = ex.rows(exp.select(*[column(c) for c in cols]).from_(table("entity_set")).order_by(column("entity_set")))
    return [
        {"name": r[0], "source_file": r[1], "sha256": r[2], "entities": r[3], "loaded_at": r[4].isoformat()}
        for r in rows
    ]


def resolve_entity_set(conn: psycopg.Connection, name: str | None, choose: str = "--entities NAME") -> dict:
    """The entity set named, or the only one loaded; a clear error otherwise (``choose`` says
    how the command names one)."""
    sets = entity_sets(conn)
    names = [s["name"] for s in sets]
    if name is None:
        if len(sets) == 1:
            return sets[0]
        if not sets:
            raise CcfError("no entity set is loaded: load the organisational structure first "
                           "('ccf entities load FILE --id NAME'; see docs/reporting.md)")
        raise CcfError(f"{len(sets)} entity sets are loaded ({', '.join(names)}): choose one with {choose}")
    for s in sets:
        if s["name"] == name:
            return s
    hint = did_you_mean(name, names)
    raise CcfError(f"no entity set {name!r}; " + (hint or "loaded: " + (", ".join(names) or "none"))
                   + " (see 'ccf entities list')")


def entity_set_of_runs(conn: psycopg.Connection, runs: Sequence[int], name: str | None) -> dict:
    """The entity set to report ``runs`` under (docs/reporting.md#which-entity-set):

    1. the set named (``--entities``);
    2. else the set the runs' datasets are bound to (``ccf load --entities``, and ``ccf demo``):
       datasets bound to different sets are refused, since one inventory has one structure; a
       dataset bound to none beside them is accepted only if that set holds its results' entities;
    3. else the one loaded set that holds every entity of the runs' results;
    4. else the only set loaded (the report lists the entities outside it as coverage).

    Anything else is ambiguous and refused, naming the sets and what they lack."""
    from ccf.engine.inventory.consolidation import entities_outside_sets_query, run_datasets_query

    if name is not None:
        return resolve_entity_set(conn, name)
    sets = {s["name"]: s for s in entity_sets(conn)}
    if not sets:
        return resolve_entity_set(conn, None)  # its error: no set loaded
    ex = Executor(conn)
    params = {"runs": list(runs)}
    bound: dict[str, list[str]] = {}
    unbound = []
    for dataset, entity_set in ex.rows(run_datasets_query(), params):
        if entity_set is None:
            unbound.append(dataset)
        else:
            bound.setdefault(entity_set, []).append(dataset)
    if len(bound) > 1:
        raise CcfError("the runs' datasets are bound to different entity sets ("
                       + "; ".join(f"{s}: dataset {', '.join(d)}" for s, d in sorted(bound.items()))
                       + "): report them separately, or choose one with --entities SET")
    if bound and not unbound:
        return sets[next(iter(bound))]
    lacking: dict[str, list[str]] = {}
    for entity_set, entity in ex.rows(entities_outside_sets_query(), params):
        lacking.setdefault(entity_set, []).append(entity)
    if bound:
        only, datasets = next(iter(bound.items()))
        if only not in lacking:
            return sets[only]
        raise CcfError(f"dataset {', '.join(datasets)} is bound to entity set {only}, dataset {', '.join(unbound)} to "
                       f"none, and {only} lacks {_some(lacking[only])} of the runs' results: report them separately, "
                       "or choose one with --entities SET")
    covering = [s for s in sets if s not in lacking]
    if len(covering) == 1:
        return sets[covering[0]]
    if len(sets) == 1:
        return next(iter(sets.values()))
    if covering:
        raise CcfError(f"entity sets {', '.join(covering)} each hold every entity of the runs' results: "
                       "choose one with --entities SET")
    raise CcfError("no loaded entity set holds every entity of the runs' results ("
                   + "; ".join(f"{s} lacks {_some(e)}" for s, e in sorted(lacking.items()))
                   + "): choose one with --entities SET (the entities outside it are reported as coverage)")


def _some(entities: list[str], shown: int = 3) -> str:
    more = len(entities) - shown
    return ", ".join(entities[:shown]) + (f" and {more} more" if more > 0 else "")


def entity_tree(conn: psycopg.Connection, name: str) -> list[dict]:
    """The entities of a set in tree order (depth first), each with its link to its parent and
    its effective share under every consolidation approach (exact, as percentages)."""
    from ccf.engine.inventory.consolidation import APPROACHES, SHARE_COLUMN, ownership_query

    with conn.transaction():
        cur = Executor(conn).execute(ownership_query(), {"entity_set": name})
        names = [d.name for d in cur.description]
        fetched = cur.fetchall()
    out = []
    for values in fetched:
        r = dict(zip(names, values, strict=True))
        out.append({
            "entity": r["entity"], "name": r["name"], "parent": r["parent"], "country": r["country"], "depth": r["depth"],
            "line_no": r["link_line_no"],
            "link_equity_share_percent": _percent_text(r["link_equity_share"]),
            "link_financial_control": r["link_financial_control"],
            "link_joint_financial_control": r["link_joint_financial_control"],
            "link_operational_control": r["link_operational_control"],
            "shares_percent": {a: _percent_text(r[SHARE_COLUMN[a]]) for a in APPROACHES},
        })
    return out


def _percent_text(share: Decimal) -> str:
    """An exact share as an exact percentage without trailing zeros: 0.600 -> '60'."""
    value = share.scaleb(2)
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
