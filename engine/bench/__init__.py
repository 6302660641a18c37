"""``ccf bench``: a run measured side by side with hand-written SQL and a row-by-row baseline.

One invocation, one database, one synthetic dataset (bench/dataset.py):

1. ingest   the generated CSV files through the real load path (``api.load_files``: COPY);
2. compile  each methodology (IR -> sqlglot trees);
3. matching the factor-matching part of each compiled evaluate statement alone (distinct keys,
            resolution, join; rolled back), for the matching-speed target of issue 3;
4. run      ``engine.run.run``: every methodology in one transaction, results with provenance;
5. report   the inventory report of that run (``build_inventory`` + ``report_document``);
   ceilings the least work a load (the files COPYed into text columns, and typed, on both
            cores) and a run (matching, and the run's own output rows copied) can do here
            (bench/ceilings.py);
6. hand-written SQL (bench/handwritten/<ref>.sql, parsed with sqlglot, run through sql.py)
            writing the same result rows into ccf.result_row under a run that is rolled back;
7. row by row: fetch a row, one query per factor lookup, the reference evaluator, one INSERT
            per result row (rolled back); on a sample when N is large, extrapolated and labelled.

With ``--repeat R`` (R > 1), steps 4 and 6 are timed R times, alternating (ccf, hand-written,
ccf, …; the repetitions rolled back): the times reported are the medians, the ratio is the
median of the R ratios measured side by side, and every repetition's totals must equal the
first's.

The totals of 4 and 6 must be identical to the last digit, and the row-by-row total of the
sample identical to ccf's total over the same activity ids (Decimal, never float). Timings are
wall-clock (``time.perf_counter``); memory is this process's peak resident set size.

``--end-to-end`` instead loads, runs and reports the generated rows as one user would, each
phase timed with this process's peak memory during it (bench/end_to_end.py).

The modules: dataset.py (the data), measure.py (the steps above, timed), queries.py (the SQL the
bench runs of its own), ceilings.py, row_by_row.py, model.py (what was measured), targets.py and
presentation.py (the JSON object and the terminal's tables), end_to_end.py, commands.py (the
command line).
"""

from __future__ import annotations

from ccf.engine.bench.dataset import SCENARIOS, Scenario
from ccf.engine.bench.measure import DEFAULT_SAMPLE, ENTITY_SET, explain_plans, run_bench
from ccf.engine.bench.model import BenchReport, MethodologyBench
from ccf.engine.bench.queries import handwritten_statements, matching_query

__all__ = ["BenchReport", "DEFAULT_SAMPLE", "ENTITY_SET", "MethodologyBench", "Scenario", "SCENARIOS", "explain_plans",
           "handwritten_statements", "matching_query", "run_bench"]
