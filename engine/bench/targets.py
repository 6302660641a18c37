"""The performance targets of issues 3 and 6, read against one invocation's measurements and
its ceilings (bench/ceilings.py): met or not, and whether this machine allows them at all.

Memory ("flat as N grows") needs invocations at several N and is not judged here
(docs/performance.md compares them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    key: str  # a top-level key of the bench JSON
    at_least: bool  # True: measured >= value; False: measured <= value
    value: float
    aim: float | None = None
    ceiling_key: str | None = None  # a key of the JSON's "ceilings": the most this machine allows

    def judge(self, measured: float | None, ceilings: dict | None) -> dict:
        ceiling = (ceilings or {}).get(self.ceiling_key) if self.ceiling_key else None
        met = None if measured is None else measured >= self.value if self.at_least else measured <= self.value
        return {
            "key": self.key, "target": f"{'>=' if self.at_least else '<='} {_number(self.value)}",
            "aim": self.aim, "measured": measured, "met": met, "ceiling": ceiling,
            # None when no ceiling is measured for it (a ratio has none)
            "reachable_here": None if ceiling is None else ceiling >= self.value,
        }


def _number(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


TARGETS = (
    Target("ingest_rows_per_s", True, 1_000_000, ceiling_key="typed_both_cores_rows_per_s"),
    Target("run_rows_per_s", True, 1_000_000, aim=1_500_000, ceiling_key="run_ceiling_rows_per_s"),
    Target("matching_rows_per_s", True, 1_500_000),  # issue 3, over 5M rows
    Target("ratio_vs_handwritten", False, 1.25, aim=1.1),
    Target("speedup_vs_row_by_row", True, 100),
)


def judge(report: dict) -> list[dict]:
    """Each target with the invocation's measurement (None when not measured, e.g. --matching-only)."""
    return [t.judge(report.get(t.key), report.get("ceilings")) for t in TARGETS]
