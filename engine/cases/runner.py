"""Run test cases on the database: each case's rows through a load and a run, compared exactly.

A case (dsl/cases.py) is run on one version: its rows are written as a CSV file and loaded into
a scratch dataset with the case's reporting period (rejections as any load makes them), the
version runs over it with the run's normal choice of factor-set editions (a period with no
edition is the case's failure, with the run's reason) or, for a set the case gives factors of,
with those (engine/cases/factors.py), and the run's rows are read inside its
own transaction, which is then rolled back (``run(inspect=…)``, as ``ccf verify`` does). The
scratch dataset is deleted afterwards, whatever happened: no dataset, load, run or result of a
case remains. Every value is compared as a Decimal, exactly.
"""

from __future__ import annotations

import csv
import tempfile
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.cases import CO2E, MASS, TOTAL, Case, Expectation, with_parameters
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.library import Library
from ccf.dsl.model import DATA_QUALITY
from ccf.dsl.numeric import exact_sum
from ccf.engine.cases.factors import case_factors
from ccf.engine.lifecycle.datasets import delete_dataset
from ccf.engine.load import LoadError, RejectLimit, ReportingPeriod, dataset_info, load_csv
from ccf.engine.run import RunReport, run
from ccf.engine.sql import Executor, column, param, table

SCRATCH = "ccf test "  # the scratch datasets' names start so (then a random id)
EVERY_ROW = RejectLimit(percent=Decimal(100))  # a case may expect every row rejected


@dataclass(frozen=True)
class Mismatch:
    """One expected value (or outcome) that the run did not give."""

    subject: str  # activity id, or 'total'
    key: str  # co2e, a part, <part>_kg, or the outcome expected
    expected: str
    actual: str
    where: str  # file:line of the expectation


@dataclass(frozen=True)
class CaseOutcome:
    """A case run on one version: passed, or its mismatches, or the error that stopped it."""

    case: Case
    methodology: str  # id@version
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches

    @property
    def where(self) -> str:
        return f"{self.case.span.path}:{self.case.span.line}"

    def to_json(self) -> dict:
        return {
            "methodology": self.methodology, "case": self.case.name, "reference": self.case.reference,
            "file": self.case.span.path, "line": self.case.span.line, "passed": self.passed, "error": self.error,
            "own_factors": {f.set_name: len(f.rows) for f in self.case.factors},
            "mismatches": [{"activity_id": m.subject, "key": m.key, "expected": m.expected, "actual": m.actual,
                            "where": m.where} for m in self.mismatches],
        }


@dataclass
class _Row:
    """What the run (or the load) made of one activity row."""

    outcome: str | None = None  # excluded, unmatched, rejected; None: results (or nothing yet)
    code: str | None = None  # the excluding rule, the unmatched reason code, the rejection category
    reason: str | None = None
    parts: dict[str, tuple[Decimal, Decimal | None]] = field(default_factory=dict)  # part -> (kg CO2e, kg of gas)
    data_quality: int | None = None  # the results' score (the same on each part)


def run_cases(conn: psycopg.Connection, lib: Library, plan: Sequence[tuple[Case, ir.Methodology]]) -> list[CaseOutcome]:
    """Each case on its version, in order, on one connection (the schema owner's)."""
    return [run_case(conn, lib, case, m) for case, m in plan]


def run_case(conn: psycopg.Connection, lib: Library, case: Case, m: ir.Methodology) -> CaseOutcome:
    dataset = SCRATCH + uuid.uuid4().hex[:12]
    try:
        version = with_parameters(lib, m, case.parameters)
        with tempfile.TemporaryDirectory(prefix="ccf-test-") as tmp:
            rows = _load(conn, dataset, version, case, Path(tmp))
            seen: dict[str, _Row] = {}

            def read(ex: Executor, report: RunReport) -> None:
                seen.update(_read_run(ex, report.run_id))

            with case_factors(conn, version, case) as bound:
                run(conn, dataset, [bound], inspect=read)
        rows.update(seen)
        return CaseOutcome(case, m.ref, tuple(_compare(case, rows)))
    except LoadError as exc:  # named by its message: the file is the case's rows, written here
        return CaseOutcome(case, m.ref, error=f"its rows cannot be loaded: {exc.message}")
    except CcfError as exc:  # a period with no edition, a parameter that does not check
        return CaseOutcome(case, m.ref, error=str(exc))
    finally:
        _drop(conn, dataset)


def _load(conn: psycopg.Connection, dataset: str, m: ir.Methodology, case: Case, tmp: Path) -> dict[str, _Row]:
    """Load the case's rows (and instruments) into the scratch dataset; the rows the load rejected."""
    period = ReportingPeriod.parse(case.period)
    rejected: dict[str, _Row] = {}
    files = [(m.activity, case.rows)]
    if case.instruments:
        if m.instruments is None:
            raise CcfError(f"{m.ref} reads no instruments, yet the case gives some")
        files.append((m.instruments.activity, case.instruments))
    for at, rows in files:
        path = tmp / f"{at.id}.csv"
        _write_csv(path, rows)
        report = load_csv(conn, dataset, at, path, period=period, max_rejects=EVERY_ROW)
        if at is m.activity:
            ids = [dict(r).get("activity_id", "") for r in rows]
            for line, reason in _rejected(conn, report.load_id):
                rejected[ids[line - 2]] = _Row("rejected", None, reason)  # line 1 is the header
    return rejected


def _write_csv(path: Path, rows: Sequence[tuple[tuple[str, str], ...]]) -> None:
    """The rows as a CSV file: a column for every key any row has, in the order first given."""
    columns = list(dict.fromkeys(k for r in rows for k, _ in r))
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(columns)
        for r in rows:
            cells = dict(r)
            out.writerow([cells.get(c, "") for c in columns])


def _rejected(conn: psycopg.Connection, load_id: int) -> list[tuple[int, str]]:
    """(line, reason) of each row a load rejected."""
    ex = Executor(conn)
    with conn.transaction():
        return [(line, reason) for line, reason in ex.rows(
            exp.select(column("line_no"), column("reason")).from_(table("rejected"))
            .where(exp.EQ(this=column("load_id"), expression=param("load_id"))), {"load_id": load_id})]


def _read_run(ex: Executor, run_id: int) -> dict[str, _Row]:
    """What the run gave each activity row, read inside its transaction."""
    of_run = exp.EQ(this=column("run_id"), expression=param("run_id"))
    params = {"run_id": run_id}
    out: dict[str, _Row] = defaultdict(_Row)
    for aid, gas, co2e, mass, score in ex.rows(
        exp.select(column("activity_id"), column("gas"), exp.Sum(this=column("co2e_kg")), exp.Sum(this=column("gas_kg")),
                   exp.Max(this=column(DATA_QUALITY)))
        .from_(table("result")).where(of_run).group_by(column("activity_id"), column("gas")), params,
    ):
        out[aid].parts[gas] = (co2e, mass)
        out[aid].data_quality = score
    for aid, rule, reason in ex.rows(
        exp.select(column("activity_id"), column("rule_id"), column("reason")).from_(table("excluded")).where(of_run.copy()),
        params,
    ):
        out[aid] = _Row("excluded", rule, reason)
    for aid, code, reason in ex.rows(
        exp.select(column("activity_id"), column("reason_code"), column("reason")).from_(table("unmatched"))
        .where(of_run.copy()), params,
    ):
        out[aid] = _Row("unmatched", code, reason)
    return dict(out)


def _drop(conn: psycopg.Connection, dataset: str) -> None:
    """Delete the scratch dataset, if a load created it (its runs were rolled back)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()  # what a failed statement left open
    with conn.transaction():
        exists = dataset_info(Executor(conn), dataset) is not None
    if exists:
        delete_dataset(conn, dataset)


# --- comparing ------------------------------------------------------------------------------


def _compare(case: Case, rows: dict[str, _Row]) -> list[Mismatch]:
    out = []
    for e in case.expectations:
        where = f"{e.span.path}:{e.span.line}"
        if e.subject == TOTAL:
            total = _Row(parts=_total([r for r in rows.values() if r.outcome is None]))
            out += _parts(e, total, where)
            continue
        row = rows.get(e.subject, _Row("missing", None, "in no result, exclusion, unmatched or rejected record"))
        if e.outcome is not None:
            if row.outcome != e.outcome or not _same_reason(e.reason or "", row):
                out.append(Mismatch(e.subject, e.outcome, e.reason or "", _describe(row), where))
        elif row.outcome is not None or not row.parts:
            out.append(Mismatch(e.subject, "results", ", ".join(f"{k} {v}" for k, v in e.parts), _describe(row), where))
        else:
            out += _parts(e, row, where)
    return out


def _same_reason(expected: str, row: _Row) -> bool:
    """The expected reason is the row's code (the excluding rule, the unmatched reason code) or
    a part of its reason text (a rejection's reason names the value: "quantity 'x' is not a number")."""
    return expected == row.code or expected in (row.reason or "")


def _total(rows: list[_Row]) -> dict[str, tuple[Decimal, Decimal | None]]:
    parts: dict[str, list[tuple[Decimal, Decimal | None]]] = defaultdict(list)
    for r in rows:
        for part, value in r.parts.items():
            parts[part].append(value)
    return {p: (exact_sum(v[0] for v in vs), None if any(v[1] is None for v in vs) else exact_sum(v[1] for v in vs))
            for p, vs in parts.items()}


def _parts(e: Expectation, row: _Row, where: str) -> list[Mismatch]:
    out = []
    for key, expected in e.parts:
        actual = _value(row, key)
        if actual is None or actual != expected:
            out.append(Mismatch(e.subject, key, _plain(expected), "none" if actual is None else _shown(actual), where))
    return out


def _value(row: _Row, key: str) -> Decimal | None:
    """A row's kg CO2e in the scopes (co2e), a part's kg CO2e, a part's mass of gas (<part>_kg), or
    its results' data-quality score (data_quality)."""
    if key == DATA_QUALITY:
        return None if row.data_quality is None else Decimal(row.data_quality)
    if key.lower() == CO2E:
        return exact_sum(v[0] for p, v in row.parts.items() if p not in ir.OUTSIDE_SCOPES)
    by_name = {p.lower(): v for p, v in row.parts.items()}
    if key.lower() in by_name:
        return by_name[key.lower()][0]
    if key.lower().endswith(MASS) and key.lower()[: -len(MASS)] in by_name:
        return by_name[key.lower()[: -len(MASS)]][1]
    return None


def _describe(row: _Row) -> str:
    if row.outcome is None:
        return "results: " + ", ".join(f"{p} {_shown(v[0])}" for p, v in sorted(row.parts.items())) if row.parts else "no results"
    return f"{row.outcome} ({row.code}): {row.reason}" if row.code else f"{row.outcome}: {row.reason}"


def _shown(d: Decimal) -> str:
    """An actual value without the trailing zeros of NUMERIC arithmetic (177.000…0 is 177)."""
    return _plain(d.normalize()) if d != 0 else "0"


def _plain(d: Decimal) -> str:
    """Decimal text as stored, without an exponent (expected values keep the digits written)."""
    return format(d, "f")
