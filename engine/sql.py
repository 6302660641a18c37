"""The one place SQL is rendered and executed.

SQL exists only as sqlglot trees. ``render`` turns a tree into pretty, deterministic PostgreSQL
text; ``Executor`` runs trees with bound parameters (never string-formatted values), keeps the
text of every statement it ran (for logs and statement counts). ``ccf compile`` renders the
same trees with ``render`` without executing them.
Static SQL (migrations) is parsed into trees with ``parse`` before it may run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping, Sequence

import psycopg
import sqlglot
from sqlglot.dialects.postgres import Postgres
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError

log = logging.getLogger("ccf.sql")
DIALECT = "postgres"


def render(tree: exp.Expression, pretty: bool = True) -> str:
    """PostgreSQL text of a tree (identifiers quoted only where needed; stable output).

    The tree is rendered as it is, not copied first: sqlglot's generator copies by default
    because it rewrites a few constructs for some dialects while rendering (QUALIFY, SELECT …
    INTO, semi joins, …), none of which ccf builds, and the copy was about a third of rendering
    (an eighth of a ``ccf test``). tests/engine/test_render.py proves every tree ccf renders —
    each compiled statement of the library, each migration, each statement of a load, run and
    case — is unchanged by it and renders as its copy does. A tree inside another is copied:
    the generator reads a node's parent, and a copy renders it as a statement of its own."""
    return tree.sql(dialect=DIALECT, copy=tree.parent is not None, pretty=pretty, identify=False)


def parse(text: str, allow_commands: bool = False) -> list[exp.Expression]:
    """Static SQL (no values interpolated) into trees.

    sqlglot keeps statements it has no grammar for (e.g. ``CREATE FUNCTION … PARALLEL SAFE``)
    as opaque ``Command`` nodes; only migrations, which are reviewed static files, may hold them.
    """
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its "falling back to Command" warning is expected here
    try:
        trees = [t for t in sqlglot.parse(text, dialect=DIALECT, error_level=sqlglot.ErrorLevel.RAISE) if t]
    finally:
        quiet.setLevel(level)
    for t in trees:
        if isinstance(t, exp.Command) and not allow_commands:
            raise ValueError(f"unparsed SQL command in static SQL: {t.sql()[:80]}")
    return trees


def number(value: Decimal | int) -> exp.Expression:
    """A numeric literal from a validated Decimal (``Literal.number`` emits its text raw)."""
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    text = format(d, "f")
    lit = exp.Literal.number(text.lstrip("-"))
    return exp.Neg(this=lit) if d < 0 else lit


def text(value: str) -> exp.Expression:
    """A string literal; sqlglot escapes quotes, so any text round-trips as data."""
    if "\x00" in value:
        raise ValueError("text containing a NUL character cannot be stored in PostgreSQL")
    return exp.Literal.string(value)


def literal(value: Any) -> exp.Expression:
    """A bound parameter's value as a literal of the tree: NULL, a number, a text, or an ARRAY of
    them (a psycopg parameter of the same Python value means the same to the server)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, Decimal)):
        return number(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[literal(v) for v in value])
    raise ValueError(f"no SQL literal for a {type(value).__name__}")


def placeholders(tree: exp.Expression) -> set[str]:
    """The names of a tree's bound parameters."""
    return {p.this for p in tree.find_all(exp.Placeholder)}


def with_values(tree: exp.Expression, values: Mapping[str, Any]) -> exp.Expression:
    """The tree with each bound parameter replaced by its value as a literal (``literal``): SQL
    that runs as it is, in psql say, the values quoted by the renderer, never formatted in."""
    missing = placeholders(tree) - set(values)
    if missing:
        raise ValueError(f"no value for parameter(s) {', '.join(sorted(missing))}")
    return tree.transform(lambda n: literal(values[n.this]) if isinstance(n, exp.Placeholder) else n)


def comment(text: str) -> str:
    """A ``--`` comment holding any text: one comment line per line of it. PostgreSQL ends a
    ``--`` comment at a newline or carriage return, so a line break in the text (a title's, say)
    would otherwise leave the rest of the text as SQL; the other line breaks an editor shows
    (``str.splitlines``) start a comment line of their own too, so what a reader sees as a line
    is one. sqlglot's own ``/* */`` comments are safe: it breaks up ``*/`` and ``/*``."""
    return "\n".join("-- " + line for line in text.splitlines() or [""])


def eq(left: exp.Expression, right: exp.Expression) -> exp.EQ:
    """left = right."""
    return exp.EQ(this=left, expression=right)


def is_param(name: str, alias: str | None = None) -> exp.EQ:
    """The column ``name`` equals the bound parameter of the same name: ``name = %(name)s``."""
    return eq(column(name, alias), param(name))


def param(name: str) -> exp.Placeholder:
    """A bound parameter %(name)s."""
    return exp.Placeholder(this=name)


def ident(name: str) -> exp.Identifier:
    """An identifier, quoted when PostgreSQL would not read it back unquoted as the same name."""
    plain = _PLAIN.fullmatch(name) is not None and name not in _RESERVED
    return exp.to_identifier(name, quoted=not plain)


_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")
# PostgreSQL's reserved key words (Appendix C), plus names sqlglot reads as functions or types.
_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast check
    collate collation column concurrently constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default deferrable desc
    distinct do else end except false fetch for foreign freeze from full grant group having ilike in
    initially inner intersect into is isnull join lateral leading left like limit localtime
    localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
    references returning right select session_user similar some symmetric system_user table
    tablesample then to trailing true union unique user using variadic verbose when where window with
    year unit value date time timestamp interval""".split()
)


class AttachPartition(exp.Expression):
    """``ATTACH PARTITION <this> FOR VALUES <expression>`` (a PartitionBoundSpec), an action of
    ``ALTER TABLE``: sqlglot has the bound (as in ``CREATE TABLE … PARTITION OF``) but no tree
    for attaching a table that exists, which takes a lighter lock on the parent than creating it
    as a partition does (engine/load/tables.py)."""

    arg_types = {"this": True, "expression": True}


Postgres.Generator.TRANSFORMS[AttachPartition] = (
    lambda g, e: f"ATTACH PARTITION {g.sql(e, 'this')} FOR VALUES {g.sql(e, 'expression')}")


def table(name: str, schema: str = "ccf", alias: str | None = None) -> exp.Table:
    t = exp.Table(this=ident(name), db=ident(schema))
    return t.as_(alias) if alias else t  # type: ignore[return-value]


def column(name: str, table_alias: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table_alias) if table_alias else None)


def func(name: str, *args: exp.Expression, schema: str | None = None) -> exp.Expression:
    call = exp.Anonymous(this=name, expressions=list(args))
    return exp.Dot(this=exp.to_identifier(schema), expression=call) if schema else call


def _escape_percent(tree: exp.Expression) -> exp.Expression:
    def esc(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Literal) and node.is_string and "%" in node.this:
            return exp.Literal.string(node.this.replace("%", "%%"))
        return node

    return tree.transform(esc) if any(
        isinstance(n, exp.Literal) and n.is_string and "%" in n.this for n in tree.walk()
    ) else tree


@dataclass
class Executor:
    """Runs trees on one connection; records what ran."""

    conn: psycopg.Connection
    statements: list[str] = field(default_factory=list)

    def execute(self, tree: exp.Expression, params: Mapping[str, Any] | None = None) -> psycopg.Cursor:
        sql = render(tree)
        self.statements.append(sql)
        log.debug("%s", sql)
        # psycopg reads '%' as the start of a placeholder: a '%' inside a string literal is
        # doubled in the tree (never in the recorded text), and a parameter mapping is then
        # always given, so psycopg turns '%%' back into '%'.
        escaped = _escape_percent(tree)
        if params is None and escaped is tree:  # no placeholders, no '%' to protect: sent as is
            return self.conn.execute(sql, None, prepare=False)  # type: ignore[arg-type]
        text = sql if escaped is tree else render(escaped)  # rendered once when nothing needed escaping
        return self.conn.execute(text, dict(params or {}), prepare=False)  # type: ignore[arg-type]

    def rows(self, tree: exp.Expression, params: Mapping[str, Any] | None = None) -> list[tuple]:
        return self.execute(tree, params).fetchall()

    def one(self, tree: exp.Expression, params: Mapping[str, Any] | None = None) -> tuple | None:
        return self.execute(tree, params).fetchone()

    def stream(self, tree: exp.Expression, params: Mapping[str, Any] | None = None, batch: int = 5000) -> Iterator[tuple]:
        """The rows of a query ``batch`` at a time through a server-side cursor (inside the
        caller's transaction): a result of millions of rows is never held in memory whole."""
        sql = render(tree)
        self.statements.append(sql)
        log.debug("%s", sql)
        with self.conn.cursor(name="ccf_stream") as cur:
            cur.itersize = batch
            cur.execute(render(_escape_percent(tree)), dict(params or {}))  # type: ignore[arg-type]
            yield from cur

    def analyze_sample(self, target: exp.Table, columns: Sequence[str] = (), statistics_target: int = 10) -> None:
        """ANALYZE a table (or some of its columns) from a small sample: 300 × statistics_target
        rows (10: 3,000, against 30,000 at the server's default of 100), for the statement that
        follows a bulk write in the same transaction. The session's target is restored afterwards
        (autovacuum's later ANALYZE uses the server's own). Measured in docs/performance.md."""
        setting = lambda value: exp.Anonymous(  # noqa: E731
            this="set_config", expressions=[exp.Literal.string("default_statistics_target"), value, exp.true()])
        current = exp.Anonymous(this="current_setting", expressions=[exp.Literal.string("default_statistics_target")])
        (before, _) = self.one(exp.select(current, setting(exp.Literal.string(str(statistics_target)))))  # type: ignore[misc]
        tree = exp.Schema(this=target, expressions=[ident(c) for c in columns]) if columns else target
        self.execute(exp.Analyze(tables=[tree]))
        self.execute(exp.select(setting(param("before"))), {"before": before})

    def explain_analyze(self, tree: exp.Expression, params: Mapping[str, Any] | None = None) -> list[str]:
        """The plan of a tree as PostgreSQL ran it: ``EXPLAIN (ANALYZE, BUFFERS)`` (the statement
        executes; callers roll back). sqlglot has no tree for EXPLAIN, so the prefix is added to
        the rendered statement here, the one place SQL becomes text."""
        sql = "EXPLAIN (ANALYZE, BUFFERS) " + render(tree)
        self.statements.append(sql)
        text = "EXPLAIN (ANALYZE, BUFFERS) " + render(_escape_percent(tree))
        return [r[0] for r in self.conn.execute(text, dict(params or {}), prepare=False).fetchall()]  # type: ignore[arg-type]

    def copy_rows(self, target: exp.Table, columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
        """COPY rows into a table (text format, values sent as data, never as SQL)."""
        stmt = exp.Copy(
            this=exp.Schema(this=target, expressions=[ident(c) for c in columns]),
            kind=True,
            files=[exp.Var(this="STDIN")],
        )
        sql = render(stmt, pretty=False)
        self.statements.append(sql)
        n = 0
        with self.conn.cursor().copy(sql) as cp:  # type: ignore[arg-type]
            for row in rows:
                cp.write_row(row)
                n += 1
        return n

    def copy_out(self, tree: exp.Expression, params: Mapping[str, Any] | None = None,
                 chunk_bytes: int = 1 << 20) -> Iterator[bytes]:
        """The rows of a query in PostgreSQL's COPY text format (tab-separated, ``\\N`` for NULL,
        backslash escapes), as chunks of about ``chunk_bytes``, read inside the caller's
        transaction: ``COPY (query) TO STDOUT``. COPY takes no bound parameters, so each value
        is a literal of the tree (``with_values``), quoted by the renderer. libpq hands over one
        row at a time; they are joined here so a consumer sees few, large chunks."""
        stmt = exp.Copy(this=exp.Subquery(this=with_values(tree, params or {})), kind=False, files=[exp.Var(this="STDOUT")])
        sql = render(stmt, pretty=False)
        self.statements.append(sql)
        log.debug("%s", sql)
        buffer = bytearray()
        with self.conn.cursor().copy(sql) as cp:  # type: ignore[arg-type]
            for row in cp:
                buffer += row
                if len(buffer) >= chunk_bytes:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)

    def copy_in(self, target: exp.Table, columns: Sequence[str], chunks: Iterator[bytes]) -> int:
        """COPY … FROM STDIN in PostgreSQL's text format (tab-separated, ``\\N`` for NULL,
        backslash escapes): the bytes of ``chunks`` parsed by PostgreSQL as they come, never in
        Python (ClickHouse's TabSeparated output: engine/clickhouse/reads.py). The rows copied."""
        stmt = exp.Copy(this=exp.Schema(this=target, expressions=[ident(c) for c in columns]), kind=True,
                        files=[exp.Var(this="STDIN")])
        sql = render(stmt, pretty=False)
        self.statements.append(sql)
        log.debug("%s", sql)
        cur = self.conn.cursor()
        with cur.copy(sql) as cp:  # type: ignore[arg-type]
            for chunk in chunks:
                cp.write(chunk)
        return cur.rowcount

    def copy_csv(self, target: exp.Table, columns: Sequence[str], chunks: Iterator[bytes],
                 force_not_null: bool = True, header: bool = True) -> int:
        """COPY … FROM STDIN (FORMAT CSV, HEADER): PostgreSQL parses the CSV bytes of ``chunks``
        (a header line first, unless not ``header``); empty cells are '' (FORCE_NOT_NULL), never
        NULL. The rows copied."""
        cols = [ident(c) for c in columns]
        params = [
            exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("CSV")),
            exp.CopyParameter(this=exp.var("HEADER"), expression=exp.true() if header else exp.false()),
        ]
        if force_not_null:
            params.append(exp.CopyParameter(this=exp.var("FORCE_NOT_NULL"),
                                            expression=exp.Tuple(expressions=[c.copy() for c in cols])))
        stmt = exp.Copy(this=exp.Schema(this=target, expressions=cols), kind=True,
                        files=[exp.Var(this="STDIN")], params=params)
        sql = render(stmt, pretty=False)
        self.statements.append(sql)
        cur = self.conn.cursor()
        with cur.copy(sql) as cp:  # type: ignore[arg-type]
            for chunk in chunks:
                cp.write(chunk)
        return cur.rowcount


# --- ClickHouse (engine/clickhouse/, docs/scale-out.md) ----------------------------------

CLICKHOUSE = "clickhouse"


def render_clickhouse(tree: exp.Expression, pretty: bool = True) -> str:
    """ClickHouse text of a tree built for ClickHouse (engine/clickhouse/compile.py)."""
    return tree.sql(dialect=CLICKHOUSE, copy=tree.parent is not None, pretty=pretty, identify=False)


class ClickHouseError(CcfError):
    """ClickHouse refused a statement ccf sent, or could not be reached (the statement is in the
    executor's record and the debug log): reported as an error of ccf, exit 1, never a traceback."""


@dataclass
class ClickHouseExecutor:
    """Runs trees on ClickHouse through a clickhouse-connect ``Client`` — chdb in-process or a
    server over HTTP(S), the same calls either way (engine/clickhouse/session.py); records what
    ran. ClickHouse has no bound parameters of psycopg's kind: each value becomes a literal of the
    tree (``with_values``), quoted by the renderer, never formatted into the text. A query's rows
    come back in ClickHouse's Arrow format, so a Decimal256 arrives as an exact ``Decimal`` (never
    a float) and text as text. Every message is told through ``mask`` (the URL's password masked)."""

    client: Any
    mask: Callable[[str], str] = lambda text: text  # a message with the server URL's password masked
    statements: list[str] = field(default_factory=list)

    def execute(self, tree: exp.Expression, params: Mapping[str, Any] | None = None) -> Any:
        """Run a statement: a query's rows as an Arrow table; None for any other statement."""
        bound = with_values(tree, params or {}) if placeholders(tree) else tree
        sql = self._record(render_clickhouse(bound))
        if isinstance(bound, exp.Query):
            return self._call(self.client.query_arrow, sql, use_strings=True)
        self._call(self.client.command, sql)
        return None

    def rows(self, tree: exp.Expression, params: Mapping[str, Any] | None = None) -> list[tuple]:
        table_ = self.execute(tree, params)
        return [tuple(r.values()) for r in table_.to_pylist()]

    def stream(self, tree: exp.Query, fmt: str, chunk_bytes: int = 1 << 20) -> Iterator[bytes]:
        """The rows of a query as bytes of ClickHouse's output format ``fmt`` (TabSeparated:
        PostgreSQL's COPY text format, engine/clickhouse/reads.py), about ``chunk_bytes`` at a
        time as ClickHouse writes them, never parsed in Python."""
        sql = render_clickhouse(tree)
        self._record(f"{sql}\nFORMAT {fmt}")  # the client appends the FORMAT clause
        body = self._call(self.client.raw_stream, sql, fmt=fmt)
        try:
            while chunk := self._call(body.read, chunk_bytes):
                yield chunk
        finally:
            body.close()

    def insert_arrow(self, target: exp.Table, rows: Any) -> None:
        """INSERT the rows of an Arrow table (typed columns, exact decimals), sent in Arrow's
        format: a server reads the body of the insert, chdb a file the client writes."""
        self._insert(target, rows.column_names, "Arrow", self.client.insert_arrow, render_clickhouse(target), rows)

    def insert_stream(self, target: exp.Table, columns: Sequence[str], chunks: Iterator[bytes], fmt: str) -> None:
        """INSERT the rows of ``chunks``, bytes in ClickHouse's input format ``fmt`` (TabSeparated:
        PostgreSQL's COPY text format, engine/clickhouse/inputs.py), streamed as they come, never
        parsed in Python."""
        self._insert(target, columns, fmt, self.client.raw_insert, render_clickhouse(target), list(columns),
                     insert_block=chunks, fmt=fmt)

    def _insert(self, target: exp.Table, columns: Sequence[str], form: str, call: Any, *args: Any, **kwargs: Any) -> None:
        stmt = exp.insert(exp.Var(this=f"FORMAT {form}"), exp.Schema(this=target, expressions=[ident(c) for c in columns]))
        self._record(render_clickhouse(stmt, pretty=False))
        self._call(call, *args, **kwargs)

    def _record(self, sql: str) -> str:
        self.statements.append(sql)
        log.debug("%s", sql)
        return sql

    def _call(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        from clickhouse_connect.driver.exceptions import ClickHouseError as ClientError

        try:
            return call(*args, **kwargs)
        except ClientError as exc:  # ClickHouse's own message (or the transport's), told as ccf's error
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise ClickHouseError(f"ClickHouse refused a statement of ccf: {self.mask(reason)}") from None

    def close(self) -> None:
        self.client.close()
