"""``ccf bench --end-to-end``: N generated rows loaded, run and reported as one user would, each
phase timed, with the peak resident memory of this process sampled during it.

The data are the bench's (bench/dataset.py), generated untimed. Then, timed: the load of each
file through ``api.load_files`` (what ``ccf load`` calls), the run of the four methodologies
through ``api.run_on`` (what ``ccf run`` calls; committed), and the inventory report of that run
through ``build_inventory``, ``report_document`` and its JSON rendering (what ``ccf report
--approach operational-control --format json`` calls). With ``--engine clickhouse`` the load is
PostgreSQL's as always, the run ClickHouse's (its rows kept there) and the report sums them
there (docs/scale-out.md); on chdb, ClickHouse runs in this process, so its memory is in the
phases' peaks. Nothing is vacuumed or waited for
between the phases: background work the phases cause (autovacuum, checkpoints) is part of what a
user waits for. Memory is sampled from ``/proc/self/statm`` every ``SAMPLE_S`` during each phase,
so each phase has its own peak (``getrusage`` only gives the process's peak so far); memory is
flat when the peaks at 1M and 10M rows are about the same (docs/performance.md).
"""

from __future__ import annotations

import resource
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import psycopg

from ccf.dsl.library import Library
from ccf.engine.bench import queries as q
from ccf.engine.bench.dataset import SCENARIOS, generate
from ccf.engine.bench.measure import ENTITY_SET
from ccf.engine.options import POSTGRESQL
from ccf.engine.sql import Executor

SAMPLE_S = 0.05
TARGET_S, AIM_S = 90.0, 60.0  # issue 20, at 10M rows on the project's 2-core machine
PHASES = ("load", "run", "report")


@dataclass
class Phase:
    seconds: float
    peak_rss_mb: float


@dataclass
class EndToEnd:
    rows: int
    seed: int
    dataset: str
    kept: bool
    engine: str = POSTGRESQL
    rows_loaded: int = 0
    rows_rejected: int = 0
    run_id: int | None = None
    total_co2e_kg: Decimal = Decimal(0)
    report_bytes: int = 0
    phases: dict[str, Phase] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return sum(p.seconds for p in self.phases.values())

    def to_json(self) -> dict:
        total = round(self.total_s, 3)
        return {
            "end_to_end": True, "engine": self.engine, "rows": self.rows, "seed": self.seed, "dataset": self.dataset, "kept": self.kept,
            "rows_loaded": self.rows_loaded, "rows_rejected": self.rows_rejected, "run_id": self.run_id,
            **{f"{name}_s": round(p.seconds, 3) for name, p in self.phases.items()},
            "total_s": total,
            "peak_rss_mb": {name: p.peak_rss_mb for name, p in self.phases.items()},
            "total_co2e_kg": str(self.total_co2e_kg), "report_bytes": self.report_bytes,
            "target": {"key": "total_s", "target": f"<= {TARGET_S:g}", "aim": AIM_S, "measured": total,
                       "met": total <= TARGET_S, "stated_for_rows": 10_000_000},
        }


def _rss_mb() -> float:
    """This process's resident set now, in MB (Linux); elsewhere its peak so far."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux, bytes on macOS: a fallback


class _Timed:
    """A phase: its wall time, and the largest resident set a sampling thread saw during it."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, _rss_mb())
            self.samples += 1
            if self._stop.wait(SAMPLE_S):
                return

    def __enter__(self) -> "_Timed":
        self.peak = _rss_mb()
        self._thread.start()
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._t
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())

    def phase(self) -> Phase:
        return Phase(self.seconds, round(self.peak, 1))


def run_end_to_end(conn: psycopg.Connection, lib: Library, rows: int, seed: int = 0, keep: bool = False,
                   say: Callable[[str], None] = lambda _: None, engine: str = POSTGRESQL) -> EndToEnd:
    """Generate (untimed), then load, run (on ``engine``) and report, each timed; the dataset and
    the run are deleted at the end unless ``keep``."""
    from ccf.engine import api
    from ccf.engine.inventory.entities import load_entity_set
    from ccf.engine.inventory.formats import render
    from ccf.engine.inventory.inventory import build_inventory
    from ccf.engine.inventory.presentation import report_document
    if rows < len(SCENARIOS):
        raise ValueError(f"--rows must be at least {len(SCENARIOS)}")
    methodologies = api.resolve(lib, [s.ref for s in SCENARIOS])
    out = EndToEnd(rows, seed, f"bench-e2e-{rows}-{seed}-{uuid.uuid4().hex[:8]}", keep, engine)
    # the report consolidates over the sample company's structure (the generated rows keep its
    # entities): loaded once, untimed, like the user's 'ccf entities load' before any of this
    load_entity_set(conn, ENTITY_SET, api.demo_dir() / "entities" / f"{ENTITY_SET}.csv")
    conn.commit()
    with tempfile.TemporaryDirectory(prefix="ccf-bench-e2e-") as folder:
        say(f"generating {rows} rows (seed {seed}; untimed)")
        files = generate(Path(folder), rows, seed, api.demo_dir(), q.naics_codes(Executor(conn)))
        conn.commit()
        say("load")
        with _Timed() as t:
            for scenario, path, _ in files:
                (load,) = api.load_files(conn, out.dataset, scenario.activity_type, [path], lib)
                out.rows_loaded += load.rows_loaded
                out.rows_rejected += load.rows_rejected
        out.phases["load"] = t.phase()
    try:
        say("run")
        with _Timed() as t:
            # the synthetic data are for 2024: versions pinning the 2025 edition run as a recorded
            # fallback, as in the rest of the bench (bench/measure.py)
            outcome = api.run_on(conn, out.dataset, methodologies, engine=engine, other_edition=True)
        out.phases["run"] = t.phase()
        out.run_id = outcome.run_id
        out.total_co2e_kg = sum((m.co2e_kg for m in outcome.methodologies), Decimal(0))
        say("report")
        with _Timed() as t:
            text = render(report_document(build_inventory(conn, [outcome.run_id], "operational-control", ENTITY_SET)), "json")
        conn.rollback()
        out.phases["report"] = t.phase()
        out.report_bytes = len(text.encode("utf-8"))
    finally:
        if not keep:
            say("cleaning up")
            conn.rollback()
            q.cleanup(Executor(conn), out.dataset, out.run_id)
            conn.commit()
    return out
