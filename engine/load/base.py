"""What every part of the loader shares: its error, the names of the temporary tables a load
creates and of their internal columns, and the SQL building blocks over staged text.

Names with a leading underscore here and in the other modules of engine/load/ are the package's
own: its modules share them; nothing outside the package uses them (its __init__ exports the rest)."""

from __future__ import annotations

from functools import reduce
from pathlib import Path
from typing import Iterable

from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.sql import ident, number, text


STAGING = "ccf_load_staging"
SLOW = "ccf_load_slow"  # the staged rows the fast path did not take: checked one by one (``create_checked``)
PERIODS = "ccf_load_periods"  # distinct (period_start, period_end) pairs that pass every check on them
DATES = "ccf_load_dates"  # distinct valid texts of the other date columns, with their dates
REPEATED = "ccf_load_repeated"  # hashes of the activity ids staged more than once
CHECKED = "ccf_load_checked"
CELL_PREFIX = "csv_"  # staging column of CSV column <name>: csv_<name>

# Internal staging columns start with '_' so they can never clash with a field (lower_snake_case).
LINE, PRE_CATEGORY, PRE_REASON, PRE_RECORD = "_line_no", "_pre_category", "_pre_reason", "_pre_record"
CHECK, CATEGORY, REASON = "_check", "_category", "_reason"
FIRST_LINE, PRIOR_LOAD, PRIOR_LINE = "_first_line", "_prior_load", "_prior_line"
KNOWN_ENTITY = "_known_entity"
ROW_OK = "_row_ok"  # staging column: ``row_test_of`` of the row


class LoadError(CcfError):
    """A whole file cannot be loaded (nothing was); located by file and line where known."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


def fid(name: str) -> exp.Identifier:
    """A field-derived identifier, always quoted: a field may be called e.g. 'end' or 'limit'."""
    return exp.to_identifier(name, quoted=True)


def col(name: str, alias: str | None = None) -> exp.Column:
    return exp.Column(this=fid(name), table=ident(alias) if alias else None)


def cell(name: str, alias: str | None = None) -> exp.Column:
    """The staging column holding a CSV column's raw text.

    Prefixed so it can never be an SQL keyword: ``Executor.copy_rows`` names COPY columns
    through ``sql.ident``, which quotes only a few reserved words (a field may be called 'end').
    """
    return exp.Column(this=ident(CELL_PREFIX + name), table=ident(alias) if alias else None)


def icol(name: str, alias: str | None = None) -> exp.Column:
    """An internal (bookkeeping or staging) column."""
    return exp.Column(this=ident(name), table=ident(alias) if alias else None)


def temp(name: str) -> exp.Table:
    return exp.Table(this=ident(name))


def negate(e: exp.Expression) -> exp.Expression:
    """NOT (e): sqlglot does not parenthesise a compound operand by itself."""
    return exp.Not(this=exp.Paren(this=e))


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.null())


def is_not_null(e: exp.Expression) -> exp.Expression:
    return negate(is_null(e))


def concat(*parts: str | exp.Expression) -> exp.Expression:
    """a || b || …; plain strings become literals."""
    nodes = [text(p) if isinstance(p, str) else p for p in parts]
    return reduce(lambda a, b: exp.DPipe(this=a, expression=b), nodes)


def cast_to(e: exp.Expression, sql_type: str) -> exp.Cast:
    return exp.Cast(this=e, to=exp.DataType.build(sql_type))


def trim(e: exp.Expression) -> exp.Expression:
    return exp.Trim(this=e)


def blank(e: exp.Expression) -> exp.Expression:
    return exp.EQ(this=trim(e), expression=text(""))


def filled(e: exp.Expression) -> exp.Expression:
    return exp.NEQ(this=trim(e), expression=text(""))


def nullif_blank(e: exp.Expression) -> exp.Expression:
    return exp.Nullif(this=trim(e), expression=text(""))


def one_of(e: exp.Expression, values: Iterable[str]) -> exp.Expression:
    return exp.In(this=e, expressions=[text(v) for v in values])


def substring(t: exp.Expression, start: int, length: int) -> exp.Expression:
    return exp.Substring(this=t, start=number(start), length=number(length))
