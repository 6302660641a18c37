"""Reading a CSV file and staging its records: PostgreSQL's COPY parses a plain file (one record a
line, well-formed quotes); any other goes record by record through Python's csv module. Only the
checks that need no types happen here (field count, NUL); every record is staged as text."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import stat
import threading
from contextlib import closing
from pathlib import Path
from queue import Empty, Full, Queue
from typing import BinaryIO, Callable, Iterable, Iterator, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import did_you_mean
from ccf.engine.load.base import (
    CELL_PREFIX, LINE, PRE_CATEGORY, PRE_REASON, PRE_RECORD, ROW_OK, STAGING, LoadError, temp,
)
from ccf.engine.load.tables import csv_columns
from ccf.engine.sql import Executor, ident, number


PROGRESS_EVERY = 100_000

# A load's progress: records read so far, and the part of the input read (0 to 1) where known
Progress = Callable[[int, "float | None"], None]

NUL_MARK = "\u2400"  # '␀' stands in for NUL in rejected records: neither text nor JSONB can hold NUL


class Source:
    """One pass over a CSV file: decoded lines, records with their first line, the file's sha256."""

    def __init__(self, path: Path, stream: BinaryIO, delimiter: str = ",", encoding: str = "utf-8"):
        self.path = path
        self.stream = stream
        self.delimiter = delimiter
        self.encoding = encoding
        self.digest = hashlib.sha256()
        self.size = 0

    def lines(self) -> Iterator[str]:
        """Physical lines as text; hashes the bytes as they pass. A UTF-8 byte-order mark is
        dropped whichever the encoding (utf-8 and utf-8-sig read alike)."""
        codec = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        for n, raw in enumerate(self.stream, 1):
            self.digest.update(raw)
            self.size += len(raw)
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode(codec)
            except UnicodeDecodeError as e:
                name = "UTF-8" if codec == "utf-8" else codec
                message = f"not {name} text ({e.reason} at byte {e.start + 1} of the line)"
                if codec == "utf-8":
                    message += "; give --encoding cp1252 or latin-1 if the file was saved in one of them"
                raise LoadError(message, self.path, n) from None

    def fraction(self) -> float | None:
        """How much of the file has been read (0 to 1), for progress."""
        try:
            total = self.path.stat().st_size
            return min(self.stream.tell() / total, 1.0) if total else None
        except (OSError, ValueError):
            return None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line the record starts on, cells); fully blank lines are skipped.

        A file that ends inside a quoted cell (a truncated export) is a whole-file LoadError
        naming the line the cell opened on: the csv module would return the rest of the file
        as that one cell."""
        record: list[str] = []  # the lines of the record being read
        ended = False

        def lines() -> Iterator[str]:
            nonlocal ended
            for line in self.lines():
                record.append(line)
                yield line
            ended = True

        reader = csv.reader(lines(), delimiter=self.delimiter)
        start = 1
        try:
            for row in reader:
                # the csv module returns a record cut off by the end of the file only after it has
                # asked for a line past the last one; a complete last record is read before that
                if ended and (opened := unclosed_quote(record, start, self.delimiter)) is not None:
                    raise LoadError("the file ends inside a quoted cell that opens on this line (a truncated "
                                    "file, or a missing closing '\"'); nothing was loaded", self.path, opened)
                if row:
                    yield start, row
                start = reader.line_num + 1
                record.clear()
        except csv.Error as e:
            opened = unclosed_quote(record, start, self.delimiter)  # e.g. a field past the size limit: quoted text never closed?
            if opened is not None:
                message = f"cannot read CSV: {e}, in a quoted cell that opens on this line"
                raise LoadError(message, self.path, opened) from None
            raise LoadError(f"cannot read CSV: {e}", self.path, reader.line_num) from None


def unclosed_quote(lines: Sequence[str], first_line: int, delimiter: str = ",") -> int | None:
    """The line on which a quoted cell that these lines never close opens (lines numbered from
    ``first_line``), or None: the csv module's default dialect (a quote opens a quoted cell only at
    the start of a cell; inside it, '""' is a quote and a lone '"' closes it)."""
    quoted, at_start, opened = False, True, None
    for n, line in enumerate(lines, first_line):
        i = 0
        while i < len(line):
            c = line[i]
            if quoted:
                if c == '"' and line[i + 1 : i + 2] == '"':
                    i += 1
                elif c == '"':
                    quoted = False
            elif c == '"' and at_start:
                quoted, opened = True, n
            at_start = not quoted and (c == delimiter or c in "\r\n")
            i += 1
    return opened if quoted else None


def check_header(row: Sequence[str], at: ir.ActivityType, path: Path, line: int | None = 1) -> list[str]:
    """The header's column names (at ``line`` of the file), or a LoadError naming every missing
    and unknown column. An unknown column is only an error alongside another problem or when it
    looks like a misspelling of a column the header lacks (did-you-mean); otherwise the caller
    leaves it out of the load with a notice (``unknown_columns``): one extra column of an export
    does not fail its file."""
    names = [h.strip() for h in row]
    if "" in names:
        raise LoadError(f"column {names.index('') + 1} of the header has no name", path, line)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LoadError(f"repeated column(s): {', '.join(repeated)}", path, line)
    columns = csv_columns(at)
    known = [c for c, _ in columns]
    present_fields = {f.name for c, f in columns if c in names}
    missing = [c for c, f in columns if c not in names and (f.required or f.name in present_fields)]
    unknown = unknown_columns(names, at)
    absent = [c for c in known if c not in names]  # only suggest columns the header lacks
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown and (missing or any(did_you_mean(n, absent) for n in unknown)):
        problems.append("unknown column(s): " + ", ".join(_with_hint(n, absent) for n in unknown))
    if problems:
        raise LoadError("; ".join(problems) + f" (activity type '{at.id}')", path, line)
    return names


def unknown_columns(names: Sequence[str], at: ir.ActivityType) -> list[str]:
    """The names that are no column of the activity type, in header order."""
    known = {c for c, _ in csv_columns(at)}
    return [n for n in names if n not in known]


def _with_hint(name: str, candidates: Iterable[str]) -> str:
    hint = did_you_mean(name, candidates)
    return f"{name} ({hint})" if hint else name


def clean(cell: str) -> str:
    return cell.replace("\x00", NUL_MARK)


def stage_record(line: int, cells: list[str], names: list[str]) -> tuple:
    """The staging row of one record: line, any Python-side rejection, then the cells."""
    n = len(names)
    if len(cells) != n:
        record: dict[str, object] = {k: clean(v) for k, v in zip(names, cells)}
        if len(cells) > n:
            record["_extra_fields"] = [clean(c) for c in cells[n:]]
        reason = f"row has {len(cells)} fields but the header has {n}"
        padded = [clean(c) for c in cells[:n]] + [None] * (n - len(cells))
        return (line, "field_count", reason, json.dumps(record, ensure_ascii=False), *padded)
    if any("\x00" in c for c in cells):
        bad = next(k for k, c in zip(names, cells) if "\x00" in c)
        reason = f"{bad} contains a NUL character (shown as {NUL_MARK} in the record)"
        return (line, "bad_text", reason, None, *[clean(c) for c in cells])
    return (line, None, None, None, *cells)


def staged_rows(records: Iterator[tuple[int, list[str]]], stage: Callable[[int, list[str]], tuple],
            progress: Progress | None, fraction: Callable[[], float | None]) -> Iterator[tuple]:
    """The staging row of each record (``stage``: ``stage_record`` or a layout's), reporting progress."""
    count = 0
    for line, cells in records:
        yield stage(line, cells)
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count, fraction())


def create_staging(names: list[str], row_test: exp.Expression, numbered: bool = False,
                   target: exp.Table | None = None, temporary: bool = True, start: int = 2) -> exp.Create:
    """The staging table (default: the temporary STAGING); ``numbered``: its line numbers count up
    from ``start`` by themselves (2: the header is line 1). ``row_test`` (``row_test_of``) is
    computed into ROW_OK as each row comes in. Not ``temporary``: an unlogged table (split.py)."""
    identity = exp.ColumnConstraint(kind=exp.GeneratedAsIdentityColumnConstraint(this=False, start=number(start)))
    cols = [
        exp.ColumnDef(this=ident(LINE), kind=exp.DataType.build("BIGINT"), constraints=[identity] if numbered else []),
        *[exp.ColumnDef(this=ident(n), kind=exp.DataType.build("TEXT"))
          for n in (PRE_CATEGORY, PRE_REASON, PRE_RECORD)],
        *[exp.ColumnDef(this=ident(CELL_PREFIX + n), kind=exp.DataType.build("TEXT")) for n in names],
        exp.ColumnDef(this=ident(ROW_OK), kind=exp.DataType.build("BOOLEAN"),
                      constraints=[exp.ColumnConstraint(kind=exp.ComputedColumnConstraint(this=row_test.copy()))]),
    ]
    kind = exp.TemporaryProperty() if temporary else exp.UnloggedProperty()
    return exp.Create(
        this=exp.Schema(this=target if target is not None else temp(STAGING), expressions=cols),
        kind="TABLE",
        properties=exp.Properties(expressions=[kind]),
    )


def open_source(path: Path) -> BinaryIO:
    """The file for reading; only a regular file. A device such as /dev/zero never ends, a FIFO
    blocks until a writer comes, and the loader reads a file twice (``stage_plain`` first,
    ``Source`` if it is not plain CSV): so those are refused, before opening (opening a FIFO
    already blocks)."""
    if str(path) == "-" and not path.exists():
        raise LoadError("standard input cannot be loaded (a file is read twice): save the data to a CSV file first")
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
            raise LoadError(f"not a regular file ({kind}): ccf loads CSV files saved on disk", path)
        return path.open("rb")
    except OSError as e:
        raise LoadError(f"cannot read file: {e.strerror}", path) from None


_BOM = b"\xef\xbb\xbf"
BLOCK = 1 << 20
# A well-formed quoted cell: it starts a field, doubles its quotes, has no line break and ends
# a field. A line whose every '"' lies in such a cell reads the same in Python's csv module and
# PostgreSQL's CSV COPY; any other quote (e.g. a '"' inside an unquoted cell, which Python keeps
# and PostgreSQL takes as the start of quoting) sends the file through Python.
# The pattern starts with the quote itself (the field start is checked by the look-behind after
# it): a literal first character lets the regex engine skip to each quote (4x faster than
# ``(?<![^,\n])"…``, which it matched the same; tests/engine/test_load_fast.py compares them).
QUOTED_CELL = re.compile(rb'"(?<![^,\n]")(?:[^"\r\n]|"")*"(?=[,\r\n]|\Z)')


class NotPlain(Exception):
    """The file is not plain CSV (``plain_blocks``): it is staged record by record in Python."""


def check_plain(block: bytes) -> None:
    """Raise NotPlain unless PostgreSQL reads these whole lines exactly as ``Source`` would:
    no NUL, CR only in CRLF, every quote in a well-formed quoted cell, no line longer than the
    csv module's field limit (which it refuses and PostgreSQL would not). Each test first asks
    the cheap question (is there a CR, a quote, a stretch without a line end at all) and does
    the costly one only then: this runs over every byte of a plain file."""
    if b"\x00" in block or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")):
        raise NotPlain
    if b'"' in block and b'"' in QUOTED_CELL.sub(b"", block):
        raise NotPlain
    limit = csv.field_size_limit()
    if _may_hold_longer_line(block, limit) and max(map(len, block.split(b"\n"))) > limit:
        raise NotPlain


def _may_hold_longer_line(block: bytes, limit: int) -> bool:
    """False only when no line of ``block`` is longer than ``limit`` bytes. A line of more than
    ``limit`` bytes covers a whole aligned window of ``limit // 2`` bytes, which then holds no
    line end; so a block whose every such window holds one has no longer line (one search per
    window, instead of splitting the block into its lines)."""
    if len(block) <= limit:
        return False
    half = max(limit // 2, 1)
    return any(block.find(b"\n", start, start + half) < 0 for start in range(0, len(block) - half + 1, half))


def plain_blocks(stream: BinaryIO, digest: "hashlib._Hash | None", lines: list[int],
                  progress: Progress | None, size: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The file's bytes in blocks of whole lines (a leading BOM dropped), each checked by
    ``check_plain`` and hashed as it passes; appends the number of physical lines to ``lines``.
    From where ``stream`` stands (a BOM only counts at the file's start) to ``end`` (a line
    start, split.py) or to the end of the file."""
    tail, count, reported, first, last = b"", 0, 0, stream.tell() == 0, b"\n"
    while True:
        raw = stream.read(BLOCK if end is None else max(0, min(BLOCK, end - stream.tell())))
        if digest is not None:
            digest.update(raw)
        if first and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        first = False
        data = tail + raw
        cut = data.rfind(b"\n") + 1 if raw else len(data)
        data, tail = data[:cut], data[cut:]
        if data:
            check_plain(data)
            count += data.count(b"\n")
            last = data[-1:]
            while progress is not None and count - 1 >= reported + PROGRESS_EVERY:  # records read (the header is no record)
                reported += PROGRESS_EVERY
                progress(reported, min(stream.tell() / size, 1.0) if size else None)
            yield data
        if not raw:
            break
    lines.append(count + (0 if last == b"\n" else 1))


def read_ahead(blocks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """``blocks``, produced by a thread of their own up to ``depth`` blocks ahead: while
    PostgreSQL parses one block of a COPY, the next is read, checked and hashed (measured:
    docs/performance.md, sixth pass). An exception of the producer is raised here, at the block
    it stopped at; closing this generator early (a COPY PostgreSQL refused) stops the producer."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        """Hand ``item`` to the consumer; False once it has stopped listening."""
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in blocks:
                if not put(block):
                    return
            put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)

    producer = threading.Thread(target=produce, name="ccf-load-read-ahead", daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while producer.is_alive():  # let a producer blocked on a full queue see the stop
            try:
                queue.get(timeout=0.1)
            except Empty:
                pass
        producer.join()


def stage_plain(ex: Executor, names: list[str], row_test: exp.Expression, path: Path,
                 progress: Progress | None) -> tuple[int, str] | None:
    """Stage the whole file with one COPY … (FORMAT CSV) of its bytes: (records, sha256), or
    None (nothing staged) when it is not plain CSV, so that ``stage_rows`` reads it record by
    record and rejects bad records with their reasons. Plain means every record is one line
    (records + header = physical lines: no blank lines, no line breaks inside cells) and passes
    ``check_plain``; PostgreSQL refuses anything else it reads differently (a wrong field count,
    bad UTF-8), which also sends the file through Python. Lines are numbered by the staging
    table's identity column in COPY order, from 2 (the header is line 1)."""
    if ex.conn.info.encoding != "utf-8":
        return None
    digest, lines = hashlib.sha256(), []
    try:
        with ex.conn.transaction():  # a savepoint: a refused file leaves nothing staged
            ex.execute(create_staging(names, row_test, numbered=True))
            # closed before the file is: the read-ahead thread stops reading it first
            with open_source(path) as stream, closing(
                    read_ahead(plain_blocks(stream, digest, lines, progress, path.stat().st_size))) as blocks:
                n = ex.copy_csv(temp(STAGING), [CELL_PREFIX + c for c in names], blocks)
            if lines != [n + 1]:
                raise NotPlain
    except (NotPlain, psycopg.errors.DataError):
        return None
    return n, digest.hexdigest()


def stage_rows(ex: Executor, names: list[str], row_test: exp.Expression, rows: Iterator[tuple]) -> int:
    """COPY every record into a fresh staging table; the number of records."""
    ex.execute(create_staging(names, row_test))
    columns = [LINE, PRE_CATEGORY, PRE_REASON, PRE_RECORD, *(CELL_PREFIX + n for n in names)]
    return ex.copy_rows(temp(STAGING), columns, rows)
