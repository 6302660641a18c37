"""What ``ccf bench`` measured: one invocation's measurements per methodology and as a whole,
and what follows from them (medians, ratios, the row-by-row extrapolation, whether the totals
agree). Filled in by bench/measure.py, read by bench/presentation.py; no database, no output."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from ccf.engine.bench.ceilings import Ceiling, LoadCeilings


@dataclass
class MethodologyBench:
    ref: str
    activity_type: str
    rows_generated: int
    rows_loaded: int = 0
    rows_rejected: int = 0
    ingest_s: float = 0.0
    compile_s: float = 0.0
    matching_s: float | None = None
    run_s: float = 0.0
    handwritten_s: float = 0.0
    row_by_row_sample_s: float = 0.0
    row_by_row_sample_rows: int = 0
    ccf_total: Decimal = Decimal(0)
    handwritten_total: Decimal = Decimal(0)
    ccf_sample_total: Decimal = Decimal(0)
    row_by_row_sample_total: Decimal = Decimal(0)
    ccf_counts: tuple[int, int] = (0, 0)  # excluded, unmatched activity rows
    handwritten_counts: tuple[int, int] = (0, 0)
    run_samples: list[float] = field(default_factory=list)  # one per repetition (--repeat)
    handwritten_samples: list[float] = field(default_factory=list)
    repeats_identical: bool = True  # every repetition's totals and counts equal the first's
    # --engine clickhouse: the PostgreSQL run's total and counts in the same invocation, which ccf's must equal
    postgresql_total: Decimal | None = None
    postgresql_counts: tuple[int, int] | None = None

    def settle_medians(self) -> None:
        """run_s and handwritten_s: the medians of the repetitions."""
        self.run_s = statistics.median(self.run_samples)
        self.handwritten_s = statistics.median(self.handwritten_samples) if self.handwritten_samples else 0.0

    @property
    def ratio(self) -> float | None:
        return median_ratio(self.run_samples, self.handwritten_samples)

    @property
    def row_by_row_s(self) -> float:
        """Row-by-row time for all loaded rows (extrapolated when a sample was timed)."""
        if not self.row_by_row_sample_rows:
            return 0.0
        return self.row_by_row_sample_s * self.rows_loaded / self.row_by_row_sample_rows

    @property
    def identical(self) -> bool:
        return (
            self.ccf_total == self.handwritten_total
            and self.ccf_sample_total == self.row_by_row_sample_total
            and self.ccf_counts == self.handwritten_counts
            and self.repeats_identical
            and (self.postgresql_total is None or (self.ccf_total, self.ccf_counts) == (self.postgresql_total, self.postgresql_counts))
        )


@dataclass
class BenchReport:
    rows: int
    seed: int
    dataset: str
    run_id: int | None
    kept: bool
    methodologies: list[MethodologyBench]
    report_s: float = 0.0
    run_s: float = 0.0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    server_version: str = ""
    matching_only: bool = False  # --matching-only: no run, report or baselines, nothing compared
    settle_s: dict[str, float] = field(default_factory=dict)  # waits for autovacuum before run / hand-written
    vacuum_s: float | None = None  # VACUUM of the loaded activity tables, after the load, before any timed query
    run_samples: list[float] = field(default_factory=list)  # the whole run, one per repetition
    handwritten_samples: list[float] = field(default_factory=list)
    run_end_samples: list[float] = field(default_factory=list)  # the run's end: statistics, summary, commit
    load_ceilings: LoadCeilings | None = None  # bench/ceilings.py
    output_ceiling: Ceiling | None = None
    durable_copy_ceiling: Ceiling | None = None  # the activity rows copied into new logged tables
    engine: str = "postgresql"  # where ccf's run was computed and timed (--engine; docs/scale-out.md)
    postgresql_run_id: int | None = None  # --engine clickhouse: the PostgreSQL run its totals are compared with
    postgresql_run_s: float | None = None  # and that run's time, once

    @property
    def ratio(self) -> float | None:
        return median_ratio(self.run_samples, self.handwritten_samples)

    def total(self, name: str) -> float:
        """A measurement summed over the methodologies (None counts as 0)."""
        return sum(getattr(m, name) or 0.0 for m in self.methodologies)

    @property
    def rows_loaded(self) -> int:
        return sum(m.rows_loaded for m in self.methodologies)

    @property
    def sampled(self) -> bool:
        return any(m.row_by_row_sample_rows < m.rows_loaded for m in self.methodologies)

    @property
    def row_by_row_label(self) -> str:
        k = sum(m.row_by_row_sample_rows for m in self.methodologies)
        return f"extrapolated from a sample of {k} rows" if self.sampled else f"measured on all {k} rows"

    @property
    def totals_identical(self) -> bool | None:
        return None if self.matching_only else all(m.identical for m in self.methodologies)


def median_ratio(runs: list[float], handwritten: list[float]) -> float | None:
    """ccf / hand-written: the median of the repetitions' ratios, each pair timed back to back."""
    pairs = list(zip(runs, handwritten))
    return statistics.median(r / h for r, h in pairs) if pairs and all(h for _, h in pairs) else None
