"""Staging a plain CSV file on both cores: the load's connection COPYs the file's first half of
lines into its temporary staging table while a second connection COPYs the second half into an
unlogged table of its own in schema ccf_activity and commits it; a temporary view then shows both
as the staging table the load's statements read, the second half's lines numbered on. Only raw
text goes there (the activity rows are still written by the load's transaction alone, so nothing
of a load is seen before it commits). The second half's table is dropped by the load's own
transaction, and, after a killed load, by the next load of the activity type (``drop_leftovers``,
under the load lock, which no other load of the type then holds). Measured in
docs/performance.md, "Ingest, seventh pass"."""

from __future__ import annotations

import hashlib
import threading
import uuid
from contextlib import closing
from pathlib import Path
from typing import Callable

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.load.base import CELL_PREFIX, LINE, PRE_CATEGORY, PRE_REASON, PRE_RECORD, ROW_OK, STAGING, icol, temp
from ccf.engine.load.source import (
    BLOCK, NotPlain, Progress, create_staging, plain_blocks, open_source, read_ahead,
)
from ccf.engine.load.base import fid
from ccf.engine.load.tables import PARTITIONS
from ccf.engine.sql import Executor, ident, number, param, text

# A file smaller than this is staged by one COPY: a second connection (its start, its table,
# its commit) costs more than half of such a file's COPY saves
SPLIT_MIN = 8 << 20
FIRST = "ccf_load_staging_first"  # the first half's temporary table, under the view STAGING


def _prefix(activity_type: str) -> str:
    """The names of an activity type's second-half tables start with this (at most 63 in all)."""
    return f"load_{hashlib.sha256(activity_type.encode('utf-8')).hexdigest()[:16]}_"


def _second_table(name: str) -> exp.Table:
    return exp.Table(this=fid(name), db=ident(PARTITIONS))


def drop_leftovers(ex: Executor, activity_type: str) -> int:
    """Drop the second-half tables of earlier loads of the type that never ended (killed): the
    caller holds the type's load lock, so no load of the type that is still running has one."""
    pg = lambda name: exp.Table(this=ident(name), db=ident("pg_catalog"))  # noqa: E731
    names = ex.rows(
        exp.select(icol("relname", "c")).from_(exp.alias_(pg("pg_class"), "c", table=True))
        .join(exp.alias_(pg("pg_namespace"), "n", table=True),
              on=exp.EQ(this=icol("oid", "n"), expression=icol("relnamespace", "c")))
        .where(exp.and_(exp.EQ(this=icol("nspname", "n"), expression=text(PARTITIONS)),
                        exp.EQ(this=icol("relkind", "c"), expression=text("r")),
                        exp.func("starts_with", icol("relname", "c"), param("prefix")))),
        {"prefix": _prefix(activity_type)})
    for (name,) in names:
        ex.execute(exp.Drop(kind="TABLE", exists=True, tables=[_second_table(name)]))
    return len(names)


def _middle_line(path: Path, size: int) -> int | None:
    """The offset of the first line that starts at or after the middle of the file, or None when
    the second half would hold no line."""
    with open_source(path) as stream:
        stream.seek(size // 2)
        while block := stream.read(BLOCK):
            at = block.find(b"\n")
            if at >= 0:
                cut = stream.tell() - len(block) + at + 1
                return cut if cut < size else None
    return None


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open_source(path) as stream:
        while block := stream.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


class _Worker(threading.Thread):
    """``work`` in a thread of its own; its result, or the exception it raised."""

    def __init__(self, name: str, work: Callable[[], object]):
        super().__init__(name=name, daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by ``value``
            self.error = exc

    def value(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.result


def stage_split(ex: Executor, second: Callable[[], psycopg.Connection], activity_type: str, names: list[str],
                row_test: exp.Expression, path: Path, progress: Progress | None) -> tuple[int, str, exp.Table] | None:
    """Stage a plain file over two connections: (records, sha256, the second half's table, which
    the caller drops in its transaction). None (nothing staged) when the file has no second half
    or the load's transaction would read a snapshot taken before the second half's commit (not
    READ COMMITTED): the caller stages it as one stream. NotPlain (nothing staged, nothing left)
    when it is not plain CSV: the caller stages it record by record."""
    size = path.stat().st_size
    isolation = ex.one(exp.select(exp.func("current_setting", text("transaction_isolation"))))
    cut = _middle_line(path, size) if isolation == ("read committed",) else None
    if cut is None:
        return None
    columns = [CELL_PREFIX + c for c in names]
    part = _second_table(_prefix(activity_type) + uuid.uuid4().hex[:16])

    def second_half() -> tuple[int, list[int]]:
        lines: list[int] = []
        with closing(second()) as conn:
            other = Executor(conn)
            with conn.transaction():
                other.execute(create_staging(names, row_test, numbered=True, target=part, temporary=False, start=1))
                with open_source(path) as stream:
                    stream.seek(cut)
                    with closing(read_ahead(plain_blocks(stream, None, lines, None))) as blocks:
                        n = other.copy_csv(part, columns, blocks, header=False)
        return n, lines

    worker = _Worker("ccf-load-second-half", second_half)
    hashing = _Worker("ccf-load-sha256", lambda: _file_digest(path))
    worker.start()
    hashing.start()
    first_lines: list[int] = []
    try:
        with ex.conn.transaction():  # a savepoint: a refused file leaves nothing staged here
            ex.execute(create_staging(names, row_test, numbered=True, target=temp(FIRST)))
            # progress: the first half's records, and its part read, which the second half keeps pace with
            with open_source(path) as stream, closing(
                    read_ahead(plain_blocks(stream, None, first_lines, progress, cut, end=cut))) as blocks:
                n1 = ex.copy_csv(temp(FIRST), columns, blocks)
            n2, second_lines = worker.value()
            if first_lines != [n1 + 1] or second_lines != [n2]:
                raise NotPlain
            ex.execute(_staging_view(temp(FIRST), part, names, n1 + 1))
    except (NotPlain, psycopg.errors.DataError):
        worker.join()
        hashing.join()
        if worker.error is None:  # the second half was committed: dropped now
            drop_second_half(second, part)
        raise NotPlain from None
    except BaseException:
        worker.join()
        hashing.join()
        if worker.error is None:
            drop_second_half(second, part)
        raise
    return n1 + n2, hashing.value(), part


def drop_second_half(second: Callable[[], psycopg.Connection], part: exp.Table) -> None:
    """Drop a second half's table on a connection of its own (the load's transaction is failing);
    should that fail too, the next load of the type drops it (``drop_leftovers``)."""
    try:
        with closing(second()) as conn:
            Executor(conn).execute(exp.Drop(kind="TABLE", exists=True, tables=[part]))
            conn.commit()
    except (psycopg.Error, CcfError):
        pass


def _staging_view(first: exp.Table, part: exp.Table, names: list[str], offset: int) -> exp.Create:
    """The temporary view STAGING: the first half's rows, then the second half's, each second-half
    line number moved on by the first half's physical lines (the header's included)."""
    rest = [icol(c) for c in (PRE_CATEGORY, PRE_REASON, PRE_RECORD, *(CELL_PREFIX + n for n in names), ROW_OK)]
    union = exp.union(
        exp.select(icol(LINE), *[c.copy() for c in rest]).from_(first),
        exp.select(exp.alias_(exp.Add(this=icol(LINE), expression=number(offset)), LINE),
                   *[c.copy() for c in rest]).from_(part),
        distinct=False,
    )
    return exp.Create(this=temp(STAGING), kind="VIEW", expression=union,
                      properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
