"""`ccf bench` smoke test: a small size against the test database. Timings are not asserted
(benchmarks are not timed tests); the three computations must agree to the last digit."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from ccf.engine.bench.ceilings import TYPED_SINCE
from ccf.engine.bench.dataset import SCENARIOS, generate, split_rows
from ccf.engine.cli import main

KEYS = ("run_floor_ratio", "ingest_copy_ratio", "ratio_vs_handwritten", "speedup_vs_row_by_row", "totals_identical",
        "ingest_rows_per_s", "run_rows_per_s", "matching_rows_per_s")


def test_generated_dataset_is_deterministic(tmp_path):
    from ccf.engine.api import demo_dir

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    codes = ["111110", "111120", "325510"]
    first = generate(a, 1000, 7, demo_dir(), codes)
    second = generate(b, 1000, 7, demo_dir(), codes)
    assert [n for _, _, n in first] == split_rows(1000) and sum(split_rows(1000)) == 1000
    for (_, p, _), (_, q, _) in zip(first, second):
        assert p.read_bytes() == q.read_bytes()
    other = generate(tmp_path, 1000, 8, demo_dir(), codes)
    assert any(p.read_bytes() != q.read_bytes() for (_, p, _), (_, q, _) in zip(first, other))


# The smoke test's size: small, as the other bench tests' (at 2,000 rows its row-by-row
# reference over every row took two thirds of this file's time); below the default sample, so
# that the default measures row by row on every row.
SMOKE_ROWS = 400


def test_bench_smoke(db_url, monkeypatch, capsys):
    import psycopg

    from ccf.engine.bench import DEFAULT_SAMPLE

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert SMOKE_ROWS < DEFAULT_SAMPLE
    assert main(["bench", "--rows", str(SMOKE_ROWS), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in KEYS:
        assert key in out, key
    assert out["totals_identical"] is True
    assert out["row_by_row"] == f"measured on all {out['rows_loaded']} rows"  # the default sample covers them
    assert out["rows_loaded"] + out["rows_rejected"] == SMOKE_ROWS
    assert out["rows_rejected"] > 0  # the generator makes some rows the loader rejects
    per = {m["ref"]: m for m in out["methodologies"]}
    assert set(per) == {s.ref for s in SCENARIOS}
    for m in per.values():
        assert m["identical"] is True
        totals = m["co2e_kg"]
        assert Decimal(totals["ccf"]) == Decimal(totals["handwritten"]) > 0
        assert Decimal(totals["ccf_on_sample"]) == Decimal(totals["row_by_row_on_sample"]) == Decimal(totals["ccf"])
        excluded, unmatched = m["excluded_unmatched"]["ccf"]
        assert m["excluded_unmatched"]["handwritten"] == [excluded, unmatched]
        assert unmatched > 0  # some rows match no factor or rule
    assert Decimal(out["total_co2e_kg"]) == sum(Decimal(m["co2e_kg"]["ccf"]) for m in per.values())
    # both timed phases waited for background vacuum (bounded: bench.SETTLE_TIMEOUT_S)
    assert set(out["settle_s"]) == {"run", "handwritten"}
    assert all(0 <= v <= 61 for v in out["settle_s"].values())
    assert out["vacuum_s"] >= 0  # the loaded tables were vacuumed before any timed query
    assert out["repeat"] == 3 and len(out["samples_s"]["run"]) == len(out["samples_s"]["handwritten"]) == 3  # the default
    # ceilings: every generated line COPYed once, every output row of the committed run copied once
    ceil = out["ceilings"]
    assert ceil["copy_rows"] == ceil["copy_both_cores_rows"] == SMOKE_ROWS
    assert ceil["copy_rows_per_s"] > 0 and ceil["copy_both_cores_rows_per_s"] > 0
    # the load's time over one COPY stream of the same files (rounded to 2 places from the unrounded times)
    assert out["ingest_copy_ratio"] == pytest.approx(out["ingest_s"] / ceil["copy_s"], rel=0.05, abs=0.01)
    typed = int(out["server_version"]) >= TYPED_SINCE  # pg_input_is_valid
    assert ceil["typed_both_cores_rows"] == (SMOKE_ROWS if typed else None)
    assert (ceil["typed_both_cores_rows_per_s"] > 0) if typed else ceil["typed_both_cores_rows_per_s"] is None
    written = sum(sum(m["excluded_unmatched"]["ccf"]) for m in per.values())
    assert ceil["output_rows"] > written  # excluded + unmatched rows, and at least one result row per other row
    assert ceil["output_rows"] >= out["rows_loaded"]
    # the durable copy: every loaded activity row once, into new logged tables, which are gone again
    assert ceil["durable_copy_rows"] == out["rows_loaded"] and ceil["durable_copy_s"] > 0
    assert ceil["run_floor_s"] == pytest.approx(out["matching_s"] + ceil["durable_copy_s"], abs=0.002)
    assert ceil["run_ceiling_rows_per_s"] == pytest.approx(out["rows_loaded"] / ceil["run_floor_s"], rel=0.05)
    # the ratios, from these very times (each rounded to the millisecond before the division here)
    assert out["run_floor_ratio"] == pytest.approx(out["run_s"] / ceil["run_floor_s"], rel=0.05)
    assert out["ingest_copy_ratio"] == pytest.approx(out["ingest_s"] / ceil["copy_s"], rel=0.05)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'ccf_bench_%'").fetchone() == (0,)  # noqa: test reads only
    # the targets, judged from these very numbers, whether they are met or not
    targets = {t["key"]: t for t in out["targets"]}
    assert set(targets) == {"run_floor_ratio", "ingest_copy_ratio", "ratio_vs_handwritten", "speedup_vs_row_by_row",
                            "totals_identical"}
    for key, t in targets.items():
        assert t["measured"] == out[key]
    assert targets["run_floor_ratio"]["met"] == (out["run_floor_ratio"] <= 2.0)
    assert targets["ingest_copy_ratio"]["met"] == (out["ingest_copy_ratio"] <= 2.0)
    assert targets["ratio_vs_handwritten"]["met"] == (out["ratio_vs_handwritten"] <= 1.1)
    assert targets["totals_identical"]["met"] is True


def test_bench_samples_row_by_row_and_cleans_up(db_url, monkeypatch, capsys):
    import psycopg

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["bench", "--rows", "400", "--sample", "40", "--repeat", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["totals_identical"] is True and out["repeat"] == 1
    assert out["samples_s"]["run"] == [out["run_s"]] and out["samples_s"]["handwritten"] == [out["handwritten_s"]]
    # one repetition: the methodologies and the run's end are disjoint parts of the run's time
    parts = sum(m["run_s"] for m in out["methodologies"]) + out["run_end_s"]
    assert 0 < out["run_end_s"] < parts <= out["run_s"] + 0.002
    sampled = sum(m["row_by_row_sample_rows"] for m in out["methodologies"])
    assert out["row_by_row"] == f"extrapolated from a sample of {sampled} rows" and 0 < sampled < out["rows_loaded"]
    for m in out["methodologies"]:
        assert Decimal(m["co2e_kg"]["ccf_on_sample"]) == Decimal(m["co2e_kg"]["row_by_row_on_sample"])
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM ccf.activity_load").fetchone() == (0,)  # noqa: test reads only
        assert conn.execute("SELECT COUNT(*) FROM ccf.dataset").fetchone() == (0,)  # noqa: test reads only
        assert conn.execute("SELECT COUNT(*) FROM ccf.result").fetchone() == (0,)


def test_bench_repeat_reports_medians_of_alternating_runs(db_url, monkeypatch, capsys):
    import statistics

    import psycopg

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["bench", "--rows", "400", "--sample", "40", "--repeat", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["repeat"] == 3 and out["totals_identical"] is True
    run, hand = out["samples_s"]["run"], out["samples_s"]["handwritten"]
    assert len(run) == len(hand) == 3 and all(x > 0 for x in run + hand)
    assert out["run_s"] == round(statistics.median(run), 3) or abs(out["run_s"] - statistics.median(run)) < 0.002
    ratios = sorted(r / h for r, h in zip(run, hand))
    assert ratios[0] - 0.01 <= out["ratio_vs_handwritten"] <= ratios[-1] + 0.01
    for m in out["methodologies"]:
        assert len(m["samples_s"]["run"]) == len(m["samples_s"]["handwritten"]) == 3
        assert m["identical"] is True
    with psycopg.connect(db_url) as conn:  # the repetitions were rolled back, the kept run cleaned up
        assert conn.execute("SELECT COUNT(*) FROM ccf.result").fetchone() == (0,)  # noqa: test reads only
        assert conn.execute("SELECT COUNT(*) FROM ccf.run").fetchone() == (0,)  # noqa: test reads only


def test_bench_explain_writes_the_plan_of_every_hot_statement(db_url, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    plans = tmp_path / "plans.md"
    assert main(["bench", "--rows", "400", "--sample", "20", "--repeat", "1", "--explain", str(plans), "--json"]) == 0
    text = plans.read_text("utf-8")
    for s in SCENARIOS:
        section = text.split(f"## {s.ref}", 1)[1].split("\n## ", 1)[0]
        for title in ("ccf: evaluate", "ccf: results", "ccf: reconcile", "hand-written: results"):
            assert f"### {title}" in section, (s.ref, title)
    report = text.split("## report of run", 1)[1]
    for title in ("the result rows summed once", "coverage", "breakdowns", "entities", "tiers"):
        assert f"### {title}" in report
    assert report.count("Execution Time:") == 5  # executed under EXPLAIN ANALYZE, not just planned


def test_a_repetition_with_other_totals_is_not_identical():
    from ccf.engine.bench import MethodologyBench

    b = MethodologyBench("x@1.0.0", "x", 10, ccf_total=Decimal(5), handwritten_total=Decimal(5))
    assert b.identical
    b.repeats_identical = False
    assert not b.identical


def test_bench_rejects_a_repeat_below_one(capsys):
    assert main(["bench", "--rows", "400", "--repeat", "0"]) != 0


@pytest.mark.parametrize("ref", [s.ref for s in SCENARIOS])
def test_handwritten_sql_parses_to_three_inserts(ref):
    from sqlglot import exp

    from ccf.engine.bench import handwritten_statements

    statements = handwritten_statements(ref)
    assert [type(s) for s in statements] == [exp.Insert] * 3
    assert [s.this.this.name for s in statements] == ["result_row", "excluded", "unmatched"]


def test_bench_matching_only(db_url, monkeypatch, capsys):
    import psycopg

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["bench", "--rows", "400", "--matching-only", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["totals_identical"] is None and out["run_s"] == 0 and out["row_by_row"] is None
    assert out["rows_loaded"] > 0 and out["matching_s"] > 0
    assert all(m["matching_s"] is not None for m in out["methodologies"])
    assert out["ceilings"]["copy_both_cores_rows"] == 400 and "run_floor_s" not in out["ceilings"]  # no run: no run floor
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM ccf.activity_load").fetchone() == (0,)  # noqa: test reads only
        assert conn.execute("SELECT COUNT(*) FROM ccf.run").fetchone() == (0,)


def test_targets_are_judged_against_measurements():
    from ccf.engine.bench.targets import judge

    report = {"run_floor_ratio": 2.0, "ingest_copy_ratio": 2.5, "ratio_vs_handwritten": None,
              "speedup_vs_row_by_row": 99.9, "totals_identical": False}
    got = {t["key"]: t for t in judge(report)}
    assert got["run_floor_ratio"]["met"] is True and got["run_floor_ratio"]["aim"] == 1.5  # at most 2: the bound meets it
    assert got["ingest_copy_ratio"]["met"] is False
    assert got["ratio_vs_handwritten"]["met"] is None  # not measured
    assert got["speedup_vs_row_by_row"]["met"] is False  # at least 100
    assert got["totals_identical"]["met"] is False and got["totals_identical"]["target"] == "is true"
    assert judge({})[0]["met"] is None


def test_the_typed_ceiling_types_what_passes_and_nulls_the_rest(db_url):
    """The typed ceiling's casts (ceilings.typed_cell) never raise: a cell PostgreSQL does not
    accept is NULL, so one bad row cannot abort the measurement, and a good one has its type."""
    import datetime

    import psycopg
    from helpers import shipped_library
    from sqlglot import exp

    from ccf.engine.bench.ceilings import TYPED_SINCE, typed_cell
    from ccf.engine.load import CELL_PREFIX, csv_columns
    from ccf.engine.sql import Executor, ident

    fields = dict(csv_columns(shipped_library().activity_types["electricity"]))
    cells = ["2024-02-29", "2023-02-29", "12.5e3", "12,5", "", "kWh"]
    names = ["period_start", "period_end", "quantity", "supplier_rate", "country", "quantity_unit"]
    # OFFSET 0: cells read from a subquery, as from a table (a literal pulled up into the CASE
    # would be cast while planning)
    values = exp.select(*[exp.alias_(exp.Literal.string(c), ident(CELL_PREFIX + n)) for c, n in zip(cells, names)]).offset(0)
    query = exp.select(*[typed_cell(n, fields[n]) for n in names]).from_(exp.alias_(exp.Subquery(this=values), "s"))
    with psycopg.connect(db_url) as conn:
        if conn.info.server_version < TYPED_SINCE:
            pytest.skip("pg_input_is_valid: PostgreSQL 16 and newer")
        row = Executor(conn).one(query)
    assert row == (datetime.date(2024, 2, 29), None, Decimal("12.5e3"), None, "", "kWh")


def test_bench_end_to_end_times_load_run_and_report(db_url, monkeypatch, capsys):
    import psycopg

    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["bench", "--end-to-end", "--rows", "400", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows_loaded"] + out["rows_rejected"] == 400 and out["rows_rejected"] > 0
    assert all(out[f"{phase}_s"] > 0 for phase in ("load", "run", "report"))
    assert out["total_s"] == pytest.approx(out["load_s"] + out["run_s"] + out["report_s"], abs=0.002)
    assert set(out["peak_rss_mb"]) == {"load", "run", "report"} and all(v > 0 for v in out["peak_rss_mb"].values())
    assert Decimal(out["total_co2e_kg"]) > 0 and out["report_bytes"] > 0
    target = out["target"]
    assert target["measured"] == out["total_s"] and target["met"] == (out["total_s"] <= 90)
    with psycopg.connect(db_url) as conn:  # the dataset and the committed run are deleted again
        assert conn.execute("SELECT COUNT(*) FROM ccf.activity_load").fetchone() == (0,)  # noqa: test reads only
        assert conn.execute("SELECT COUNT(*) FROM ccf.dataset").fetchone() == (0,)  # noqa: test reads only
        assert conn.execute("SELECT COUNT(*) FROM ccf.run").fetchone() == (0,)  # noqa: test reads only


def test_each_phase_has_its_own_peak_memory():
    """The sampler sees a phase's transient memory, which the process's peak so far
    (getrusage) would carry into every later phase."""
    from ccf.engine.bench.end_to_end import _Timed

    with _Timed() as big:
        block = bytearray(200 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # touch every page: resident
        seen = big.samples
        while big.samples < seen + 2:  # a whole sample taken while it is held
            time.sleep(0.01)
        del block
    with _Timed() as small:
        pass
    assert big.phase().peak_rss_mb >= small.phase().peak_rss_mb + 150


def test_end_to_end_refuses_the_other_modes(capsys):
    assert main(["bench", "--end-to-end", "--matching-only", "--rows", "400"]) == 1
    assert "--end-to-end" in capsys.readouterr().err
