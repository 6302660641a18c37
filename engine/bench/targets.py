"""The performance targets of issue 20, read against one invocation's measurements: met or not.

Each target is a ratio of two times the same invocation measured (or a comparison of totals),
so that it means the same on a fast machine and a slow one, a quiet one and a busy one: the
run over its floor (matching plus a durable copy of the activity rows), the load over one COPY
stream of the same files, ccf over hand-written SQL, row by row over ccf. The absolute rows/s
figures stay in the JSON as information, without targets.

Memory ("flat as N grows") and the 10M-row end-to-end time need invocations at several N and
are not judged here (docs/performance.md compares them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    key: str  # a top-level key of the bench JSON
    op: str  # "<=", ">=" or "is"
    value: float | bool
    aim: float | None = None

    def judge(self, measured: float | bool | None) -> dict:
        if measured is None:
            met = None
        elif self.op == "is":
            met = measured is self.value
        else:
            met = measured <= self.value if self.op == "<=" else measured >= self.value
        return {"key": self.key, "target": f"{self.op} {_number(self.value)}", "aim": self.aim,
                "measured": measured, "met": met}


def _number(v: float | bool) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


TARGETS = (
    Target("run_floor_ratio", "<=", 2.0, aim=1.5),
    Target("ingest_copy_ratio", "<=", 2.0, aim=1.5),
    Target("ratio_vs_handwritten", "<=", 1.1),
    Target("speedup_vs_row_by_row", ">=", 100),
    Target("totals_identical", "is", True),
)


def judge(report: dict) -> list[dict]:
    """Each target with the invocation's measurement (None when not measured, e.g. --matching-only)."""
    return [t.judge(report.get(t.key)) for t in TARGETS]
