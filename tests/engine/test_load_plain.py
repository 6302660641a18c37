"""The plain-CSV staging path of engine/load.py (one COPY … FORMAT CSV of the file's bytes) must
stage exactly what the record-by-record Python path stages: the same rows loaded, the same rows
rejected with the same line numbers, records and reasons, the same counts and checksum. Every file
below is loaded twice on the real database, once each way, and the outcomes compared; files that
PostgreSQL would read differently must fall back to Python."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from ccf.dsl import ir
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile
from ccf.engine.load import source as staging
from ccf.engine.load import LoadError, activity_table, load_csv
from ccf.engine.sql import render

ROOT = Path(__file__).resolve().parents[2]
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"

# name -> (file bytes, staged by PostgreSQL's CSV COPY?)
CASES: dict[str, tuple[bytes, bool]] = {
    "good and bad rows": (
        "\n".join([HEADER, "A1,Plant 1,2024-01-01,2024-01-31,1200.5,kWh,GB", "A2,Plant 1,2024-01-01,2024-01-31,n/a,kWh,GB",
                   "A3,Plant 1,2024-01-01,2024-01-31,5,KWH,GB", "A1,Plant 1,2024-01-01,2024-01-31,5,kWh,GB",
                   "A4,Plant 1,2024-02-01,2024-01-31,5,kWh,GB", "A5,Plant 1,2024-02-30,2024-03-31,5,kWh,GB",
                   "A6,Plant 1,2024-01-01,2024-01-31,-1,kWh,GB", "A7,Plant 1,2024-01-01,2024-01-31,1e3,MWh,"]).encode() + b"\n",
        True,
    ),
    "quoted cells": (
        (HEADER + '\nA1,"Plant, 1",2024-01-01,2024-01-31,1,kWh,GB\nA2,"Say ""hi""",2024-01-01,2024-01-31,"2",kWh,"GB"\n'
         'A3,"",2024-01-01,2024-01-31,3,kWh,""\n"A4",Plant,2024-01-01,2024-01-31,"4,5",kWh,GB\n').encode(),
        True,
    ),
    "blank and spaced cells": (
        (HEADER + "\nA1,,2024-01-01,2024-01-31,1,kWh,GB\nA2, Plant ,2024-01-01 , 2024-01-31, 2 ,kWh ,\n"
         "A3,Plant,2024-01-01,2024-01-31,,,GB\nA4,Plant,2024-01-01,2024-01-31,4,,GB\n").encode(),
        True,
    ),
    "CRLF line ends": ((HEADER + "\r\nA1,Plant,2024-01-01,2024-01-31,1,kWh,GB\r\nA2,\"P, 2\",2024-01-01,2024-01-31,2,kWh,FR\r\n").encode(), True),
    "BOM, no final line end": (b"\xef\xbb\xbf" + (HEADER + "\nA1,Plant,2024-01-01,2024-01-31,1,kWh,GB").encode(), True),
    "header only": ((HEADER + "\n").encode(), True),
    "non-ASCII text": ((HEADER + "\nA1,Usine Düsseldorf — Nord,2024-01-01,2024-01-31,1,kWh,DE\n").encode(), True),
    "quote inside an unquoted cell": ((HEADER + '\nA1,Pl"ant,2024-01-01,2024-01-31,1,kWh,GB\nA2,x"y,z"w,2024-01-01,2024-01-31,2,kWh\n').encode(), False),
    "text after a closing quote": ((HEADER + '\nA1,"Pl"ant,2024-01-01,2024-01-31,1,kWh,GB\n').encode(), False),
    "space before a quote": ((HEADER + '\nA1, "Plant, 1",2024-01-01,2024-01-31,1,kWh,GB\n').encode(), False),
    "blank line": ((HEADER + "\nA1,Plant,2024-01-01,2024-01-31,1,kWh,GB\n\nA2,Plant,2024-01-01,2024-01-31,2,kWh,GB\n").encode(), False),
    "line break in a quoted cell": ((HEADER + '\nA1,"Plant\n1",2024-01-01,2024-01-31,1,kWh,GB\nA2,P,2024-01-01,2024-01-31,2,kWh,GB\n').encode(), False),
    "too few and too many fields": ((HEADER + "\nA1,Plant,2024-01-01,2024-01-31,1,kWh\nA2,Plant,2024-01-01,2024-01-31,1,kWh,GB,extra\n"
                                     "A3,Plant,2024-01-01,2024-01-31,1,kWh,GB\n").encode(), False),
    "NUL character": ((HEADER + "\nA1,Pla\x00nt,2024-01-01,2024-01-31,1,kWh,GB\n").encode(), False),
    "lone CR": ((HEADER + "\nA1,Pla\rnt,2024-01-01,2024-01-31,1,kWh,GB\n").encode(), False),
    "COPY end marker": ((HEADER + "\nA1,Plant,2024-01-01,2024-01-31,1,kWh,GB\n\\.\nA2,Plant,2024-01-01,2024-01-31,2,kWh,GB\n").encode(), False),
}


@pytest.fixture()
def electricity() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(ROOT / "methodologies/activity_types/electricity.yaml"))


def _outcome(db, at: ir.ActivityType, dataset: str, path: Path) -> tuple:
    try:
        report = load_csv(db, dataset, at, path)
    except LoadError as e:  # a whole file refused (nothing loaded) must be refused both ways
        return ("refused", e.line, e.message), [], []
    table = render(activity_table(at), pretty=False)  # test-only read of the engine's own table name
    rows = db.execute(
        f"SELECT line_no, activity_id, entity, period_start, period_end, quantity, quantity_unit, country "
        f"FROM {table} WHERE dataset = %s ORDER BY line_no", (dataset,)).fetchall()
    rejects = db.execute(
        "SELECT line_no, activity_id, record, reason FROM ccf.rejected WHERE dataset = %s ORDER BY line_no",
        (dataset,)).fetchall()
    counts = (report.rows_read, report.rows_loaded, report.rows_rejected, report.reasons, report.sha256)
    return counts, rows, rejects


@pytest.mark.parametrize("name", list(CASES))
def test_plain_staging_matches_python(db, electricity, tmp_path, monkeypatch, name):
    data, plain = CASES[name]
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    taken: list[bool] = []
    stage_plain = staging.stage_plain

    def spy(*args):
        staged = stage_plain(*args)
        taken.append(staged is not None)
        return staged

    monkeypatch.setattr(staging, "stage_plain", spy)
    fast = _outcome(db, electricity, "fast", path)
    assert taken == [plain]
    monkeypatch.setattr(staging, "stage_plain", lambda *args: None)
    slow = _outcome(db, electricity, "slow", path)
    assert fast == slow
    if fast[0][0] != "refused":
        assert fast[0][0] == fast[0][1] + fast[0][2]  # every record read is loaded or rejected


def test_bad_utf8_is_refused_the_same_way(db, electricity, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes((HEADER + "\nA1,Plant,2024-01-01,2024-01-31,1,kWh,GB\nA2,Pl").encode() + b"\xff" + b"ant,2024-01-01,2024-01-31,1,kWh,GB\n")
    with pytest.raises(LoadError) as e:
        load_csv(db, "d", electricity, path)
    assert e.value.line == 3 and "not UTF-8" in e.value.message
    assert db.execute("SELECT count(*) FROM ccf.activity_load").fetchone()[0] == 0


def test_plain_staging_spans_blocks(db, electricity, tmp_path, monkeypatch):
    """Blocks end at line ends: a small block size cuts the file in many places, quoted cells too."""
    monkeypatch.setattr(staging, "BLOCK", 37)
    rows = [f'A{i},"Plant, {i}",2024-01-01,2024-01-31,{i}.5,kWh,GB' for i in range(200)]
    path = tmp_path / "data.csv"
    path.write_text("\n".join([HEADER, *rows, "A3,Plant,2024-01-01,2024-01-31,x,kWh,GB"]) + "\n", encoding="utf-8")
    seen: list[int] = []
    monkeypatch.setattr(staging, "PROGRESS_EVERY", 50)
    report = load_csv(db, "d", electricity, path, progress=lambda n, _: seen.append(n))
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (201, 200, 1)
    assert seen == [50, 100, 150, 200]
    line, reason = db.execute("SELECT line_no, reason FROM ccf.rejected").fetchone()
    assert line == 202 and "is not a number" in reason
    assert db.execute("SELECT entity FROM ccf.activity_electricity WHERE line_no = 101").fetchone() == ("Plant, 99",)


def _longest_line(block: bytes) -> int:
    return max(map(len, block.split(b"\n")))


def test_long_line_prefilter_never_misses_a_longer_line():
    """``check_plain`` splits a block into lines only when ``_may_hold_longer_line`` says a line
    may be longer than the limit: it must say so for every block that has one (here: random
    blocks of short and long lines, at limits of every parity, and lines just at the limit)."""
    rnd = random.Random(11)
    for _ in range(3_000):
        limit = rnd.randint(1, 60)
        lines = [b"x" * rnd.choice([0, 1, limit - 1, limit, limit + 1, rnd.randint(0, 3 * limit)]) for _ in range(rnd.randint(1, 12))]
        block = b"\n".join(lines) + rnd.choice([b"", b"\n"])
        if _longest_line(block) > limit:
            assert staging._may_hold_longer_line(block, limit), (limit, block)
    # and it spares the split of an ordinary block: lines far below the limit
    assert not staging._may_hold_longer_line(b"a,b,c\n" * 100_000, 131_072)


def test_a_line_past_the_csv_limit_is_not_plain():
    limit = staging.csv.field_size_limit()
    with pytest.raises(staging.NotPlain):
        staging.check_plain(b"a,b\n" * 50_000 + b"x" * (limit + 1) + b"\n" + b"a,b\n" * 10)
    staging.check_plain(b"a,b\n" * 50_000 + b"x" * limit + b"\n" + b"a,b\n" * 10)  # at the limit: plain


def test_read_ahead_yields_every_block_in_order_and_raises_where_the_producer_failed():
    assert list(staging.read_ahead(iter([b"a", b"b", b"c"]), depth=1)) == [b"a", b"b", b"c"]

    def failing():
        yield b"a"
        raise staging.NotPlain

    got = []
    with pytest.raises(staging.NotPlain):
        for block in staging.read_ahead(failing()):
            got.append(block)
    assert got == [b"a"]


def test_read_ahead_closed_early_stops_its_producer():
    """A COPY PostgreSQL refuses stops consuming; the producer must stop reading the file then
    (``stage_plain`` closes the read-ahead before the file)."""
    produced = []

    def endless():
        while True:
            produced.append(1)
            yield b"x"

    blocks = staging.read_ahead(endless(), depth=2)
    assert next(blocks) == b"x"
    blocks.close()
    assert not [t for t in threading.enumerate() if t.name == "ccf-load-read-ahead"]
    assert len(produced) <= 5  # one taken, at most two queued, one being handed over
