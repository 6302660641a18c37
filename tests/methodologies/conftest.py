"""Fixtures for the methodology tests: load a few activity rows, run one shipped methodology."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest
from helpers import load, results, rows_of, shipped_library, write_csv
from ccf.engine.run import run

LIB = shipped_library()
_names = itertools.count()


@dataclass
class Outcome:
    """One methodology run over a handful of rows."""

    total: Decimal
    by_activity: dict[str, Decimal]  # kg CO2e per activity row with results
    by_gas: dict[tuple[str, str], Decimal]  # (activity_id, gas) -> kg CO2e
    gas_kg: dict[tuple[str, str], Decimal | None]  # (activity_id, gas) -> kg of the gas itself
    rules: dict[str, str]  # activity_id -> rule that decided it (results and exclusions)
    excluded: dict[str, str]  # activity_id -> reason
    unmatched: dict[str, tuple[str, str]]  # activity_id -> (reason code, reason)
    rows: list[dict]


@pytest.fixture
def calc(db, tmp_path):
    """calc(ref, activity_type, header, *rows) runs one methodology version over the rows."""

    def _calc(ref: str, activity_type: str, header: str, *lines: str) -> Outcome:
        dataset = f"t{next(_names)}"
        csv = write_csv(tmp_path / f"{dataset}.csv", header, *lines)
        report = load(db, LIB, dataset, activity_type, csv)
        assert report.rows_rejected == 0, report
        # the sample data are for 2024; versions pinning DESNZ 2025 run as a recorded fallback (as the demo)
        rep = run(db, dataset, [LIB.resolve(ref)], other_edition=True)
        rows = results(db, rep.run_id)
        by_activity: dict[str, Decimal] = {}
        for r in rows:
            by_activity[r["activity_id"]] = by_activity.get(r["activity_id"], Decimal(0)) + r["co2e_kg"]
        excluded = {r["activity_id"]: r["reason"] for r in rows_of(db, "excluded", rep.run_id)}
        unmatched = {r["activity_id"]: (r["reason_code"], r["reason"]) for r in rows_of(db, "unmatched", rep.run_id)}
        rules = {r["activity_id"]: r["rule_id"] for r in rows}
        rules.update({r["activity_id"]: r["rule_id"] for r in rows_of(db, "excluded", rep.run_id)})
        return Outcome(
            total=rep.co2e_kg,
            by_activity=by_activity,
            by_gas={(r["activity_id"], r["gas"]): r["co2e_kg"] for r in rows},
            gas_kg={(r["activity_id"], r["gas"]): r["gas_kg"] for r in rows},
            rules=rules,
            excluded=excluded,
            unmatched=unmatched,
            rows=rows,
        )

    return _calc


