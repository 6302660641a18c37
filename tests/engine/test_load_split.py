"""A large plain CSV staged over two connections (engine/load/split.py): the same rows, line
numbers, rejections and reasons as one stream; no second-half table left by a load that ends,
fails or is killed (the next load of the type drops it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from ccf.dsl import ir
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile
from ccf.engine import load as load_module
from ccf.engine.load import LoadError, RejectLimit, load_csv
from ccf.engine.load import split
from ccf.engine.load.tables import PARTITIONS, partition_name
from ccf.engine.sql import Executor

ROOT = Path(__file__).resolve().parents[2]
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"
ANY_REJECTS = RejectLimit.parse("100%")


@pytest.fixture()
def electricity() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(ROOT / "methodologies/activity_types/electricity.yaml"))


def _file(path: Path, n: int, bad_every: int = 0) -> Path:
    """n rows; with ``bad_every``, a rejected row (a number, a date, a repeated id) now and then,
    in both halves."""
    rows = []
    for i in range(n):
        quantity, start, aid = f"{i}.5", "2024-01-01", f"E{i}"
        if bad_every and i % bad_every == 1:
            quantity = "1.2.5"
        if bad_every and i % bad_every == 2:
            start = "2024-02-30"
        if bad_every and i % bad_every == 3:
            aid = "E0"
        rows.append(f'{aid},"Plant, {i % 7}",{start},2024-01-31,{quantity},kWh,GB')
    path.write_text("\n".join([HEADER, *rows]) + "\n", "utf-8")
    return path


def _outcome(db, dataset: str) -> tuple[list, list]:
    loaded = db.execute("SELECT line_no, activity_id, entity, period_start, quantity FROM ccf.activity_electricity "
                        "WHERE dataset = %s ORDER BY line_no", [dataset]).fetchall()
    rejected = db.execute("SELECT line_no, activity_id, record, reason FROM ccf.rejected WHERE dataset = %s "
                          "ORDER BY line_no", [dataset]).fetchall()
    return loaded, [(line, aid, record, reason.replace(f"'{dataset}'", "'…'")) for line, aid, record, reason in rejected]


def _second_halves(db) -> list[str]:
    return [n for (n,) in db.execute("SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND "
                                     "relkind = 'r' AND relname LIKE 'load\\_%%' ORDER BY 1", [PARTITIONS]).fetchall()]


def _recording(monkeypatch) -> list[str]:
    ran: list[str] = []

    class Recording(Executor):
        def execute(self, tree, params=None):
            cur = super().execute(tree, params)
            ran.append(" ".join(self.statements[-1].split()))
            return cur

    monkeypatch.setattr(load_module, "Executor", Recording)
    return ran


def test_two_halves_stage_what_one_stream_stages(db, electricity, tmp_path, monkeypatch):
    path = _file(tmp_path / "e.csv", 3000, bad_every=97)
    monkeypatch.setattr(load_module, "SPLIT_MIN", 1 << 40)
    one = load_csv(db, "one", electricity, path, max_rejects=ANY_REJECTS)
    ran = _recording(monkeypatch)
    monkeypatch.setattr(load_module, "SPLIT_MIN", 0)
    two = load_csv(db, "two", electricity, path, max_rejects=ANY_REJECTS)
    assert any(s.startswith("CREATE TEMPORARY VIEW ccf_load_staging") for s in ran)  # it was split
    assert (two.rows_read, two.rows_loaded, two.rows_rejected, two.reasons, two.sha256) == (
        one.rows_read, one.rows_loaded, one.rows_rejected, one.reasons, one.sha256)
    assert one.rows_rejected == 3 * 31 and one.rows_read == 3000
    assert _outcome(db, "two") == _outcome(db, "one")
    assert max(line for line, *_ in _outcome(db, "two")[1]) > 1500  # rejections in the second half too
    assert _second_halves(db) == []


def test_a_file_not_plain_in_its_second_half_is_read_record_by_record(db, electricity, tmp_path, monkeypatch):
    path = _file(tmp_path / "e.csv", 2000)
    text = path.read_text("utf-8").replace('E1900,"Plant, 3"', 'E1900,"Plant,\n3"')  # a line break in a quoted cell
    path.write_text(text, "utf-8")
    monkeypatch.setattr(load_module, "SPLIT_MIN", 0)
    report = load_csv(db, "d", electricity, path, max_rejects=ANY_REJECTS)
    assert (report.rows_read, report.rows_loaded) == (2000, 2000)
    assert db.execute("SELECT entity, line_no FROM ccf.activity_electricity WHERE activity_id = 'E1901'").fetchone() == (
        "Plant, 4", 1904)  # numbered by physical line: the record before took two
    assert _second_halves(db) == []


def test_a_failed_load_leaves_no_second_half(db, electricity, tmp_path, monkeypatch):
    monkeypatch.setattr(load_module, "SPLIT_MIN", 0)
    with pytest.raises(LoadError, match="more than --max-rejects allows"):
        load_csv(db, "d", electricity, _file(tmp_path / "e.csv", 2000, bad_every=50), max_rejects=RejectLimit.parse("0"))
    db.rollback()
    assert _second_halves(db) == []
    assert db.execute("SELECT count(*) FROM ccf.activity_load").fetchone() == (0,)


def test_a_killed_load_s_second_half_is_dropped_by_the_next_load(db_url, db, electricity, tmp_path):
    """The client killed (SIGKILL) after its second connection committed the second half: the
    load itself left nothing; the second half's table is left, and the next load of the type
    drops it."""
    path = _file(tmp_path / "big.csv", 400_000)
    assert path.stat().st_size >= split.SPLIT_MIN
    env = {k: v for k, v in os.environ.items() if k != "CCF_DATABASE_URL"}
    env["CCF_DATABASE_URL"] = make_conninfo(db_url)
    proc = subprocess.Popen([sys.executable, "-m", "ccf.engine.cli", "load", "--dataset", "killed", "--type",
                             "electricity", str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        with psycopg.connect(db_url, autocommit=True) as watcher:
            while not _second_halves(watcher):
                assert proc.poll() is None and time.monotonic() < deadline, "the load ended before its second half was seen"
                time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with psycopg.connect(db_url, autocommit=True) as watcher:  # the load's backend ends when the server sees the socket close
        while watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%ccf_load_%%' "
                              "AND pid <> pg_backend_pid()").fetchone() != (0,):
            assert time.monotonic() < deadline, "the killed client's backend is still there"
            time.sleep(0.05)
    assert len(_second_halves(db)) == 1
    assert db.execute("SELECT count(*) FROM ccf.activity_load").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM pg_class WHERE relname = %s",  # nor its dataset's partition
                      [partition_name("electricity", "killed")]).fetchone() == (0,)
    db.rollback()
    load_csv(db, "next", electricity, _file(tmp_path / "small.csv", 10))
    assert _second_halves(db) == []
