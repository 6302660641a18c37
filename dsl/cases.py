"""Test cases an expert writes in YAML beside a methodology: their format, read and checked.

    methodologies/<methodology id>/tests/<name>.yaml

A case file holds ``cases:``, each with activity rows written as in a CSV, the reporting period
of the scratch dataset they are loaded into, optional parameters, optional factors of its own
(the published example's, in place of the rows of a set the version reads), and what each row
must give (its gases, or its exclusion, unmatched record or rejection with a reason) and the
totals. The library loader (library.py) globs ``*/*.yaml`` and never sees these files;
``case_files`` finds them. Problems are positioned diagnostics, like a methodology's (E210-E219,
docs/authoring.md). Running the cases is the engine's (engine/cases/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field

from ccf.dsl import ir
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from ccf.dsl.factor_sets import GASES, ROW_COLUMNS
from ccf.dsl.library import Library, version_key
from ccf.dsl.model import DATA_QUALITY, DATA_QUALITY_SCORES, MethodologyFile, Strict, validate_document
from ccf.dsl.source import SourceFile, Span
from ccf.dsl.units import UnitError, parse_unit
from ccf.dsl.yaml_source import YamlDocument, load_yaml

TESTS = "tests"  # the folder of a methodology's case files, beside its version files
TOTAL = "total"  # the key of ``expect`` for the totals over every row
CO2E = "co2e"  # a row's (or the total's) kg CO2e in the scopes
OUTCOMES = ("excluded", "unmatched", "rejected")  # what a row gives instead of results
MASS = "_kg"  # after a part's name: the mass of the gas itself (kg), not its kg CO2e
FACTOR_VALUES = ("unit", "gas", "value")  # what every factor row of a case gives (factor_id, name: optional)

_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CLAUSE = re.compile(r"\s*(>=|<=|==|!=|>|<)?\s*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\s*")

Scalar = str | int | bool | None


# --- the format (pydantic models: validation and `ccf schema test-case`) --------------------


class PeriodSpec(Strict):
    """A reporting period other than a calendar year, both days included."""

    start: str = Field(description="first day, YYYY-MM-DD")
    end: str = Field(description="last day, YYYY-MM-DD")


class CaseSpec(Strict):
    """One test case: rows in, expected outcome out."""

    name: str = Field(min_length=1, description="what the case shows, in a sentence")
    reference: str | None = Field(None, description="the published example, table or section the case reproduces")
    versions: str | None = Field(
        None, description="the methodology versions the case applies to, e.g. '>=1.3.0' or '>=1.0.0, <2.0.0' "
        "(operators >=, >, <=, <, ==, !=, joined by commas); default: every version")
    period: int | PeriodSpec = Field(description="the scratch dataset's reporting period: a year (2025) or {start, end}")
    parameters: dict[str, str | int] = Field(
        default_factory=dict, description="methodology parameters replaced for this case (their value as an expression)")
    rows: list[dict[str, Scalar]] = Field(
        min_length=1, description="activity rows of the methodology's activity type, one mapping of column to value "
        "each, values as in a CSV (quote a value YAML would read otherwise: '007', 'no')")
    instruments: list[dict[str, Scalar]] = Field(
        default_factory=list, description="contractual instrument rows, for a methodology with instruments")
    factors: dict[str, list[dict[str, Scalar]]] = Field(
        default_factory=dict, description="factors of the case's own (a published example's), by the factor set "
        "or edition the version names: they replace, for this case only, that set's rows; each row as the set's "
        "rows are written: unit, gas, value (decimal text), the attributes the version's lookups select and match "
        "on, optionally factor_id, name, region, year")
    expect: dict[str, dict[str, str | int]] = Field(
        min_length=1, description="per activity id: the parts that must equal exactly (co2e, a gas such as CO2, "
        "<gas>_kg for its mass; data_quality: the results' score, 1 to 5) or one of excluded/unmatched/rejected with "
        "the reason; 'total': parts over every row")


class CaseFile(Strict):
    """A file of test cases of one methodology (methodologies/<id>/tests/<name>.yaml)."""

    cases: list[CaseSpec] = Field(min_length=1)


class CaseFileError(DiagnosticError):
    """Positioned problems of case files; carries the files so they are shown with their lines."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]):
        super().__init__(diagnostics)
        self.sources = {d.span.path: sources[d.span.path] for d in self.diagnostics if d.span.path in sources}


# --- the cases as read ----------------------------------------------------------------------


@dataclass(frozen=True)
class VersionSpec:
    """Which versions a case applies to: every clause holds (none: every version)."""

    clauses: tuple[tuple[str, str], ...] = ()

    def __call__(self, version: str) -> bool:
        here = version_key(version)
        tests = {">=": lambda k: here >= k, ">": lambda k: here > k, "<=": lambda k: here <= k,
                 "<": lambda k: here < k, "==": lambda k: here == k, "!=": lambda k: here != k}
        return all(tests[op](version_key(v)) for op, v in self.clauses)

    def __str__(self) -> str:
        return ", ".join(op + v for op, v in self.clauses) or "every version"


@dataclass(frozen=True)
class Expectation:
    """What one activity row (or ``total``) must give: an outcome with its reason, or parts."""

    subject: str  # an activity id, or TOTAL
    outcome: str | None  # one of OUTCOMES, or None: results
    reason: str | None
    parts: tuple[tuple[str, Decimal], ...]  # (co2e | part | part_kg, value)
    span: Span


@dataclass(frozen=True)
class FactorRow:
    """One factor row a case brings: column -> text, with the place of the row and of each cell."""

    cells: tuple[tuple[str, str], ...]
    span: Span
    cell_spans: tuple[tuple[str, Span], ...]
    column_spans: tuple[tuple[str, Span], ...]  # of each column's name

    def cell_span(self, column: str) -> Span:
        return dict(self.cell_spans).get(column, self.span)

    def column_span(self, column: str) -> Span:
        return dict(self.column_spans).get(column, self.span)


@dataclass(frozen=True)
class CaseFactors:
    """The factors a case brings in place of the rows of one set the version reads."""

    set_name: str  # as the version names it: a set (desnz) or an edition (desnz-2024)
    rows: tuple[FactorRow, ...]
    span: Span  # of the set's key


@dataclass(frozen=True)
class Case:
    """One case as read: its rows as CSV text, its expectations with their places in the file."""

    methodology_id: str
    name: str
    reference: str | None
    versions: VersionSpec
    period: str  # as a dataset's reporting period is written: 2025, or 2025-04-01..2026-03-31
    parameters: tuple[tuple[str, str], ...]
    rows: tuple[tuple[tuple[str, str], ...], ...]  # column -> CSV text, per row
    instruments: tuple[tuple[tuple[str, str], ...], ...]
    expectations: tuple[Expectation, ...]
    span: Span
    factors: tuple[CaseFactors, ...] = ()

    def applies_to(self, m: ir.Methodology) -> bool:
        return m.id == self.methodology_id and self.versions(m.version)


def case_files(root: Path) -> list[Path]:
    """The case files of every methodology of a library folder."""
    return sorted(root.glob(f"*/{TESTS}/*.yaml"))


def is_case_file(path: Path) -> bool:
    return path.parent.name == TESTS and path.suffix == ".yaml"


def read_cases(source: SourceFile) -> list[Case]:
    """The cases of a file; any problem of its YAML or its keys is a DiagnosticError."""
    doc = load_yaml(source, dates_as_text=True)
    if not isinstance(doc.data, dict):
        raise DiagnosticError([Diagnostic("E201", "a test-case file is a mapping: 'cases:' with a list of cases",
                                          doc.span(()))])
    spec = validate_document(doc, CaseFile)
    mid = Path(source.path).parent.parent.name
    cases, problems = [], []
    for i, c in enumerate(spec.cases):
        at = ("cases", i)
        try:
            cases.append(_case(doc, at, mid, c))
        except DiagnosticError as exc:
            problems += exc.diagnostics
    if problems:
        raise DiagnosticError(problems)
    return cases


def _case(doc: YamlDocument, at: tuple, mid: str, c: CaseSpec) -> Case:
    problems: list[Diagnostic] = []

    def problem(code: str, message: str, path: tuple, suggestion: str | None = None, key: bool = False) -> None:
        span = doc.key_span(at + path) if key else doc.span(at + path)
        problems.append(Diagnostic(code, message, span, suggestion=suggestion))

    versions = _versions(c.versions, lambda msg, hint: problem("E211", msg, ("versions",), hint))
    period = _period(c.period, lambda msg, path: problem("E212", msg, ("period", *path),
                                                         "write a year (2025) or {start: 2025-04-01, end: 2026-03-31}"))
    rows = _rows(c.rows, "rows", problem)
    instruments = _rows(c.instruments, "instruments", problem)
    factors = tuple(_factors(doc, at, name, given, problem) for name, given in c.factors.items())
    ids = [dict(r).get("activity_id") for r in rows]
    expectations = []
    for subject, wanted in c.expect.items():
        path = ("expect", subject)
        if subject != TOTAL and subject not in ids:
            problem("E214", f"'{subject}' is not the activity_id of a row of this case", path,
                    did_you_mean(subject, [i for i in ids if i]) or "expect the activity_id of one of the rows, or 'total'",
                    key=True)
            continue
        expectations.append(_expectation(doc, at + path, subject, wanted, problem))
    if problems:
        raise DiagnosticError(problems)
    return Case(mid, c.name, c.reference, versions, period,
                tuple((k, str(v)) for k, v in c.parameters.items()), rows, instruments,
                tuple(expectations), doc.span(at), factors)


def _versions(text: str | None, problem) -> VersionSpec:
    if text is None:
        return VersionSpec()
    clauses = []
    for part in text.split(","):
        m = _CLAUSE.fullmatch(part)
        if not m:
            problem(f"'{part.strip()}' is not a version clause", "write an operator and a version, e.g. '>=1.3.0' "
                    "or '>=1.0.0, <2.0.0'")
            return VersionSpec()
        clauses.append((m[1] or "==", m[2]))
    return VersionSpec(tuple(clauses))


def _period(period: int | PeriodSpec, problem) -> str:
    if isinstance(period, int):
        if not 1000 <= period <= 9999:
            problem(f"{period} is not a year", ())
        return str(period)
    for key in ("start", "end"):
        text = getattr(period, key)
        try:
            date.fromisoformat(text if _DATE.fullmatch(text) else "")
        except ValueError:
            problem(f"'{text}' is not a date YYYY-MM-DD", (key,))
    if period.end < period.start:
        problem("the period ends before it starts", ())
    return f"{period.start}..{period.end}"


def _rows(rows: list[dict[str, Scalar]], key: str, problem) -> tuple[tuple[tuple[str, str], ...], ...]:
    out, first = [], {}
    for i, row in enumerate(rows):
        aid = row.get("activity_id")
        if key == "rows" and (aid is None or aid == ""):
            problem("E213", "a row needs an activity_id: the expectations name rows by it", (key, i),
                    "add 'activity_id: …'")
        elif key == "rows" and str(aid) in first:
            problem("E213", f"activity_id '{aid}' is given to row {first[str(aid)] + 1} too", (key, i, "activity_id"),
                    "give each row an activity_id of its own")
        else:
            first[str(aid)] = i
        out.append(tuple((str(k), _csv_text(v)) for k, v in row.items()))
    return tuple(out)


def _factors(doc: YamlDocument, at: tuple, name: str, rows: list[dict[str, Scalar]], problem) -> CaseFactors:
    """A set's factor rows as text, each value checked to be exact decimal text and each unit
    one of the unit table without a gas in it (what the set's file would have to say)."""
    out = []
    if not rows:
        problem("E219", f"no factor rows for '{name}'", ("factors", name), "give at least one row, or leave the set out")
    for i, row in enumerate(rows):
        path = ("factors", name, i)
        cells = tuple((str(k), _csv_text(v)) for k, v in row.items())
        given = dict(cells)
        missing = [c for c in FACTOR_VALUES if not given.get(c)]
        if missing:
            problem("E219", f"a factor row needs {', '.join(missing)}", path,
                    "write e.g. {unit: kg, gas: CO2e, value: \"20\"} beside the attributes its lookup selects on")
        value = given.get("value", "")
        if value and (isinstance(row["value"], bool) or not _DECIMAL.fullmatch(value)):
            problem("E219", f"factor value '{value}' is not a decimal number", (*path, "value"),
                    "write the published value as decimal text in quotes, e.g. \"0.3\" (no exponent)")
        unit = given.get("unit", "")
        if unit:
            try:
                dimension = parse_unit(unit).dimension
            except UnitError as exc:
                problem("E219", f"factor unit '{unit}': {exc}", (*path, "unit"),
                        "the unit a value is per, as in docs/authoring.md#units, e.g. kg, t, USD, t.km")
            else:
                if any(base in GASES and base != "energy" for base, _ in dimension):
                    problem("E219", f"factor unit '{unit}' names a gas: give only what the value is per, e.g. 'kg'",
                            (*path, "unit"))
        year = given.get("year", "")
        if year and not re.fullmatch(r"[0-9]{4}", year):
            problem("E219", f"factor year '{year}' is not a four-digit year", (*path, "year"))
        out.append(FactorRow(cells, doc.span(at + path), tuple((k, doc.span((*at, *path, k))) for k, _ in cells),
                             tuple((k, doc.key_span((*at, *path, k))) for k, _ in cells)))
    return CaseFactors(name, tuple(out), doc.key_span((*at, "factors", name)))


def _csv_text(value: Scalar) -> str:
    """A value as a CSV cell: the text written; true/false in lower case; null an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expectation(doc: YamlDocument, path: tuple, subject: str, wanted: dict[str, str | int], problem) -> Expectation:
    outcomes = [k for k in wanted if k in OUTCOMES]
    where = path[2:]  # under the case
    if outcomes:
        if subject == TOTAL:
            problem("E215", f"'{outcomes[0]}' is what a row gives, not the total", (*where, outcomes[0]),
                    "expect the total's parts, e.g. {co2e: \"177.000\"}", key=True)
        elif len(wanted) > 1:
            problem("E215", f"a row {outcomes[0]} gives no results: '{outcomes[0]}' stands alone", (*where, outcomes[0]),
                    "remove the other keys, or the outcome", key=True)
        reason = wanted[outcomes[0]]
        if not isinstance(reason, str) or not reason:
            problem("E215", f"'{outcomes[0]}' needs the reason as text", (*where, outcomes[0]),
                    "write the reason, its code (e.g. no_factor) or the excluding rule's id")
        return Expectation(subject, outcomes[0], str(reason), (), doc.span(path))
    parts = []
    for key, value in wanted.items():
        text = str(value)
        if key == DATA_QUALITY:  # the result's score, a whole number 1-5 (not a part)
            if subject == TOTAL:
                problem("E215", "a data-quality score is what a row's results have, not the total", (*where, key),
                        "expect data_quality of a row", key=True)
            elif isinstance(value, bool) or value not in DATA_QUALITY_SCORES:
                problem("E215", f"'{text}' is not a data-quality score", (*where, key), "write a whole number from 1 to 5, unquoted, e.g. data_quality: 2")
            else:
                parts.append((key, Decimal(value)))
            continue
        if isinstance(value, bool) or not _DECIMAL.fullmatch(text):
            problem("E215", f"'{text}' is not a decimal number", (*where, key),
                    "write the exact value as decimal text in quotes, e.g. \"177.000\" (no exponent)")
            continue
        parts.append((key, Decimal(text)))
    return Expectation(subject, None, None, tuple(parts), doc.span(path))


# --- against the library --------------------------------------------------------------------


def check_cases(cases: list[Case], source: SourceFile, lib: Library) -> list[Diagnostic]:
    """What of a case file the library contradicts: an unknown methodology, a version clause
    that no version meets, a parameter the versions do not have, factors of a set the versions
    do not read or that none of its lookups could find."""
    if not cases:
        return []
    mid = cases[0].methodology_id
    versions = [m for m in lib.versions() if m.id == mid]
    if not versions:
        hint = did_you_mean(mid, {m.id for m in lib.versions()})
        return [Diagnostic("E210", f"test cases of '{mid}', which is no methodology of the library",
                           Span(source.path, 1, 1, 1, 1),
                           suggestion=hint or f"put the file in methodologies/<methodology id>/{TESTS}/")]
    problems = []
    for case in cases:
        applies = [m for m in versions if case.versions(m.version)]
        if not applies:
            problems.append(Diagnostic("E211", f"no version of {mid} is {case.versions} (it has "
                                       + ", ".join(m.version for m in versions) + ")", case.span))
        for name, _ in case.parameters:
            for m in applies:
                if name not in {p.name for p in m.parameters}:
                    problems.append(Diagnostic(
                        "E216", f"{m.ref} has no parameter '{name}'", case.span,
                        suggestion=did_you_mean(name, [p.name for p in m.parameters]) or "see its 'parameters:'"))
                    break
        for m in applies:
            found = [d for f in case.factors for d in check_factors(f, m)]
            if found:
                problems += found
                break  # one version's words are enough
    return problems


def set_names(m: ir.Methodology) -> dict[str, ir.FactorSet | None]:
    """Every factor set ``m`` reads, by the id it names it by, with its declaration."""
    out: dict[str, ir.FactorSet | None] = {m.factor_set: m.declared_set}
    out.update({lk.factor_set: lk.declared_set for lk in m.lookups if lk.factor_set is not None})
    return out


def set_lookups(m: ir.Methodology, name: str) -> list[ir.FactorLookup]:
    """The lookups of ``m`` that read the set it names ``name``."""
    return [lk for lk in m.lookups if (lk.factor_set or m.factor_set) == name]


def check_factors(f: CaseFactors, m: ir.Methodology) -> list[Diagnostic]:
    """A case's factors against the version: a set it reads (E218), rows whose columns the set
    declares and that carry every attribute one of its lookups selects and matches on, gases the
    set declares (E219)."""
    names = set_names(m)
    if f.set_name not in names:
        reads = ", ".join(sorted(names))
        return [Diagnostic("E218", f"{m.ref} reads no factor set '{f.set_name}' (it reads {reads})", f.span, suggestion=did_you_mean(f.set_name, list(names))
                           or "name the set as the version's 'factor_set:' (or a lookup's) names it")]
    declared = names[f.set_name]
    lookups = set_lookups(m, f.set_name)
    keys = [(lk.name, {a for a, _ in lk.select} | {a for a, _ in lk.match}) for lk in lookups]
    problems = []
    for row in f.rows:
        columns = [c for c, _ in row.cells]
        if declared is not None:
            allowed = [*ROW_COLUMNS, *declared.attributes]
            for c in columns:
                if c not in allowed:
                    problems.append(Diagnostic(
                        "E219", f"'{c}' is neither a factor column nor an attribute of factor set {declared.id}",
                        row.column_span(c),
                        suggestion=did_you_mean(c, allowed) or "its attributes: " + ", ".join(declared.attributes)))
            gas = dict(row.cells).get("gas")
            gases = [g for g, _ in declared.gas_units]
            if gas and gas not in gases:
                problems.append(Diagnostic("E219", f"'{gas}' is not a gas of factor set {declared.id} (declared: "
                                           + ", ".join(gases) + ")", row.cell_span("gas"),
                                           suggestion=did_you_mean(gas, gases)))
        if keys and not any(k <= set(columns) for _, k in keys):
            wanted = " or ".join(f"{', '.join(sorted(k - set(columns)))} (factor '{name}')" for name, k in keys)
            problems.append(Diagnostic("E219", f"no lookup of {m.ref} could find this factor row: it lacks {wanted}",
                                       row.span, suggestion="give the attributes the lookup selects and matches on, "
                                       "with the values it selects and the rows' keys"))
    return problems


def library_case_files(lib: Library) -> list[Path]:
    """The case files of the library's folder and of the folder of each of its methodologies (a
    project's library adds methodologies from folders of its own)."""
    folders = {Path(m.path).parent / TESTS for m in lib.methodologies.values()}
    found = {f.resolve(): f for f in [*case_files(lib.root), *(f for d in folders for f in d.glob("*.yaml"))]}
    return sorted(found.values())


def read_library_cases(lib: Library) -> tuple[list[Case], list[Diagnostic]]:
    """Every case of the library's methodologies, and the problems of their files (their
    sources join ``lib.sources``, for the diagnostics' source lines)."""
    cases, problems = [], []
    for path in library_case_files(lib):
        source = SourceFile.read(path)
        lib.sources[source.path] = source
        try:
            read = read_cases(source)
        except DiagnosticError as exc:
            problems += exc.diagnostics
            continue
        checked = check_cases(read, source, lib)
        problems += checked
        if not checked:
            cases += read
    return cases, problems


def uncovered(lib: Library, versions: list[ir.Methodology], cases: list[Case]) -> list[Diagnostic]:
    """A diagnostic for each version no case applies to (publishing one requires a case)."""
    return [
        Diagnostic("E217", f"{m.ref} has no test case: publishing a version needs at least one", m.span,
                   suggestion=f"write a case in {Path(m.path).parent / TESTS / 'cases.yaml'} "
                   "(docs/authoring.md, 'Test cases'), check it with 'ccf test " + m.ref + "'")
        for m in versions if not any(c.applies_to(m) for c in cases)
    ]


def with_parameters(lib: Library, m: ir.Methodology, parameters: tuple[tuple[str, str], ...]) -> ir.Methodology:
    """The version with some parameters' values replaced (a case's), checked again as written."""
    from ccf.dsl.check import check_methodology

    if not parameters:
        return m
    doc = load_yaml(lib.sources[m.path])
    data: dict[str, Any] = {**doc.data, "parameters": {**doc.data.get("parameters", {}), **dict(parameters)}}
    changed = YamlDocument(doc.source, data, doc.value_spans, doc.key_spans, doc.scalars)
    return check_methodology(changed, validate_document(changed, MethodologyFile), lib.activity_types, lib.factor_sets)
