"""Hand-made runs and entity sets for the inventory tests.

``fake_run`` writes a finished run straight into ccf.run, ccf.run_methodology and ccf.result,
so each test states its result rows (kg CO2e, exact) and the expected consolidated figures can
be computed by hand from them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.numeric import exact_sum
from ccf.engine import cli
from ccf.engine.inventory.entities import load_entity_set
from ccf.engine.run_partition import attach_partitions, open_partitions
from ccf.engine.sql import Executor, ident, is_param, param, table

ENTITY_HEADER = "entity,name,parent,equity_share,financial_control,operational_control,joint_financial_control,country"

# The hand-computed example of docs/reporting.md#a-worked-example:
#
#   ROOT  Acme Group (reporting company)
#   ├── A    100 %  financial + operational control
#   │   └── A1    80 %  financial + operational control
#   │       └── A11   50 %  joint financial control, no operational control
#   ├── B     60 %  financial control only
#   ├── C     30 %  operational control only (a joint venture it operates)
#   └── J     50 %  joint financial control + operational control
#       └── J1    70 %  financial + operational control
ACME = [
    "ROOT,Acme Group,,,,,,GB",
    "A,Acme A,ROOT,1,true,true,,GB",
    "A1,Acme A1,A,0.8,true,true,,GB",
    "A11,Acme A11,A1,0.5,false,false,true,FR",
    "B,Acme B,ROOT,0.6,true,false,,DE",
    "C,Acme C,ROOT,0.3,false,true,,US",
    "J,Acme J,ROOT,0.5,false,true,true,NL",
    "J1,Acme J1,J,0.7,yes,YES,no,NL",
]
# effective shares by hand: products along the chain (see the docstring of consolidation.py)
ACME_SHARES = {
    "equity-share": {"ROOT": "1", "A": "1", "A1": "0.8", "A11": "0.4", "B": "0.6", "C": "0.3", "J": "0.5", "J1": "0.35"},
    "financial-control": {"ROOT": "1", "A": "1", "A1": "1", "A11": "0.5", "B": "1", "C": "0", "J": "0.5", "J1": "0.5"},
    "operational-control": {"ROOT": "1", "A": "1", "A1": "1", "A11": "0", "B": "0", "C": "1", "J": "1", "J1": "1"},
}


def write_entities(path: Path, *rows: str, header: str = ENTITY_HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def load_acme(conn: psycopg.Connection, tmp_path: Path, name: str = "acme") -> str:
    load_entity_set(conn, name, write_entities(tmp_path / f"{name}.csv", *ACME))
    return name


@dataclass(frozen=True)
class M:
    """One methodology of a fake run."""

    id: str
    scope: int
    method: str = "fuel-based"
    category: int | None = None
    version: str = "1.0.0"
    rows_in: int = 0
    rows_excluded: int = 0
    rows_unmatched: int = 0
    rows_rejected: int = 0
    activity_type: str = "test"


@dataclass(frozen=True)
class R:
    """One result row: methodology, activity id, entity, kg CO2e (text, exact), gas, year."""

    methodology: str
    activity_id: str
    entity: str
    co2e_kg: str
    gas: str = "CO2e"
    year: int = 2024
    gas_kg: str | None = None
    match_level: str = "exact"
    data_quality: int | None = None
    factor_set: str | None = None  # the gas's factor set, when not the methodology's (NULL)


def fake_run(conn: psycopg.Connection, dataset: str, methodologies: Sequence[M], results: Sequence[R]) -> int:
    """A finished run with exactly these methodologies and result rows; returns its id."""
    ex = Executor(conn)
    now = datetime.datetime(2025, 3, 1, tzinfo=datetime.timezone.utc)
    with conn.transaction():
        run_cols = ("dataset", "engine_version", "started_at", "finished_at")
        run_id = ex.one(
            exp.insert(exp.select(*[param(c) for c in run_cols]),
                       exp.Schema(this=table("run"), expressions=[ident(c) for c in run_cols]), returning="run_id"),
            {"dataset": dataset, "engine_version": "test", "started_at": now, "finished_at": None},
        )[0]  # type: ignore[index]
        partition = open_partitions(ex, run_id)["result_row"]  # finished below, once its rows are in (as a run)
        for m in methodologies:
            mine = [r for r in results if r.methodology == m.id]
            rows_result = len({r.activity_id for r in mine})
            values = {
                "run_id": run_id, "methodology_id": m.id, "version": m.version, "content_hash": f"hash:{m.id}@{m.version}",
                "status": "published", "scope": m.scope, "category": m.category, "method": m.method,
                "activity_type": m.activity_type, "activity_type_hash": "hash:test", "factor_set": "test-factors",
                "factor_set_sha256": "0" * 64, "gwp": "AR5",
                "rows_in": m.rows_in or rows_result + m.rows_excluded + m.rows_unmatched, "rows_result": rows_result,
                "rows_excluded": m.rows_excluded, "rows_unmatched": m.rows_unmatched, "rows_rejected": m.rows_rejected,
                "compiled_sql": "-- test",
            }
            ex.execute(  # VALUES, not SELECT: a NULL category takes the column's type
                exp.insert(exp.Values(expressions=[exp.Tuple(expressions=[param(c) for c in values])]),
                           exp.Schema(this=table("run_methodology"), expressions=[ident(c) for c in values])),
                values,
            )
        # one ccf.result_row per activity row, its gases as columns (migration 0019)
        rows: dict[tuple, dict] = {}
        for r in results:
            row = rows.setdefault((r.methodology, r.activity_id, r.entity, r.year, r.data_quality), {
                "run_id": run_id, "methodology_id": r.methodology, "activity_id": r.activity_id, "entity": r.entity,
                "period_start": datetime.date(r.year, 1, 1), "rule_id": "rule", "data_quality": r.data_quality,
                "total_co2e_kg": Decimal(0),
            })
            g = r.gas.lower()
            assert f"{g}_co2e_kg" not in row, f"{r.activity_id} has {r.gas} twice"
            row.update({f"{g}_kg": Decimal(r.gas_kg) if r.gas_kg is not None else None, f"{g}_co2e_kg": Decimal(r.co2e_kg),
                        f"{g}_factor_ids": ["f1"], f"{g}_match_level": r.match_level, f"{g}_factor_set": r.factor_set})
            if r.gas not in ir.OUTSIDE_SCOPES:
                row["total_co2e_kg"] = exact_sum([row["total_co2e_kg"], Decimal(r.co2e_kg)])
        for row in rows.values():
            ex.copy_rows(partition, tuple(row), [tuple(row.values())])
        attach_partitions(ex, run_id)
        ex.execute(exp.update(table("run"), {"finished_at": param("now")}, where=is_param("run_id")),
                   {"now": now, "run_id": run_id})
    return run_id


def main(argv: Sequence[str]) -> int:
    """``ccf`` in this process (engine/cli.py registers the inventory commands itself)."""
    return cli.main(list(argv))


def rich_report(conn: psycopg.Connection, tmp_path: Path):
    """Reporting and base-year runs that exercise every part of a report: Scope 2 location- and
    market-based, Scope 3, an unknown entity, biogenic CO2, gases with masses, rounding lines,
    a base year whose methodology versions differ (so recomputed). Returns (inventory, base year)."""
    from ccf.engine.inventory.inventory import build_inventory, compare_base_year

    load_acme(conn, tmp_path)
    ms = [M("s1.combustion", 1, version="2.0.0", rows_unmatched=1, rows_rejected=2, activity_type="fuel"),
          M("s2.lb", 2, "location-based", activity_type="electricity"),
          M("s2.mb", 2, "market-based", rows_excluded=1, activity_type="electricity"),
          M("s3.travel", 3, "distance-based", category=6, activity_type="travel")]
    reporting = fake_run(conn, "acme-2024", ms, [
        R("s1.combustion", "F1", "A", "1200.0004", gas="CO2", gas_kg="1200.0004", data_quality=2),
        R("s1.combustion", "F1", "A", "3.0006", gas="CH4", gas_kg="0.1", data_quality=2),
        R("s1.combustion", "F2", "A1", "400.5", gas="CO2", gas_kg="400.5"),
        R("s1.combustion", "F3", "C", "0.5", gas="N2O"),
        R("s1.combustion", "F4", "J1", "0.5", gas="CO2", gas_kg="0.5", match_level="fallback"),
        R("s1.combustion", "F5", "X", "77", gas="CO2"),
        R("s1.combustion", "F6", "B", "12.25", gas="CO2_biogenic", gas_kg="12.25"),
        R("s2.lb", "E1", "A", "300.0005", data_quality=1), R("s2.lb", "E2", "C", "100", data_quality=3),
        R("s2.lb", "E3", "X", "5"),
        R("s2.mb", "E1", "A", "120"), R("s2.mb", "E2", "C", "50.0005"),
        R("s3.travel", "T1", "B", "7.0005", year=2025, data_quality=4), R("s3.travel", "T2", "J", "1.2345", year=2025),
    ])
    base_ms = [M("s1.combustion", 1, version="1.0.0"), M("s2.lb", 2, "location-based"), M("s2.mb", 2, "market-based")]
    base_rows = [R("s1.combustion", "F1", "A", "1500", year=2019), R("s2.lb", "E1", "A", "350", year=2019),
                 R("s2.mb", "E1", "A", "200", year=2019), R("s1.combustion", "F2", "B", "40", year=2019)]
    base = fake_run(conn, "acme-2019", base_ms, base_rows)
    again = [M("s1.combustion", 1, version="2.0.0"), *base_ms[1:]]
    recomputed = fake_run(conn, "acme-2019", again, [
        R(r.methodology, r.activity_id, r.entity, str(Decimal(r.co2e_kg) * Decimal("1.1")), year=2019) for r in base_rows])
    inv = build_inventory(conn, [reporting], "equity-share", "acme")
    return inv, compare_base_year(conn, inv, [base], [recomputed], Decimal(5))


def dom_figures(html: str) -> dict[tuple[str, ...], list[str]]:
    """Every element of an HTML page that carries data-figure: its path -> the texts shown."""
    import json
    from html.parser import HTMLParser

    found: dict[tuple[str, ...], list[str]] = {}

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.stack: list[tuple[str, tuple[str, ...] | None, list[str]]] = []

        def handle_starttag(self, tag, attrs):
            if tag in ("br", "meta", "rect", "img", "input", "link"):
                return
            path = dict(attrs).get("data-figure")
            self.stack.append((tag, tuple(json.loads(path)) if path else None, []))

        def handle_startendtag(self, tag, attrs):
            pass

        def handle_endtag(self, tag):
            if tag in ("br", "meta", "rect", "img", "input", "link"):
                return
            while self.stack:
                t, path, text = self.stack.pop()
                if path is not None:
                    found.setdefault(path, []).append("".join(text).strip())
                if self.stack:
                    self.stack[-1][2].extend(text)
                if t == tag:
                    break

        def handle_data(self, data):
            if self.stack:
                self.stack[-1][2].append(data)

    Collector().feed(html)
    return found


def shown(text: str) -> str | None:
    """A displayed figure back to its JSON text: no separators, no '%'; '—' is None."""
    text = text.replace(",", "").removesuffix("%").strip()
    return None if text == "—" else text


def json_figure(value) -> str | None:
    return None if value is None else str(value)
