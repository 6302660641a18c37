"""The rows that did not become results, each with where it came from and why: the rows a load
rejected (``ccf.rejected``: file, line, reason, the record as read) and the rows a run left
unmatched (``ccf.unmatched``, or ClickHouse's for a run computed there: the reason names the
lookup and the keys it tried; the file and line are those of the activity row, among the loads
the run read, which PostgreSQL holds whatever the engine)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.compile import activity_table_name, of_run_loads
from ccf.engine.lifecycle.runs import no_run
from ccf.engine.load import require_dataset
from ccf.engine.options import CLICKHOUSE
from ccf.engine.sql import Executor, column, eq, param, table

_REJECTED = ("load_id", "source_file", "line_no", "activity_id", "reason", "record")


def _rejected(ex: Executor, where: exp.Expression, params: dict[str, Any], offset: int = 0,
              limit: int | None = None) -> list[dict[str, Any]]:
    q = (
        exp.select(column("load_id", "r"), column("source_file", "l"), column("line_no", "r"), column("activity_id", "r"),
                   column("reason", "r"), column("record", "r"))
        .from_(table("rejected", alias="r"))
        .join(table("activity_load", alias="l"), on=eq(column("load_id", "l"), column("load_id", "r")))
        .where(where).order_by(column("load_id", "r"), column("line_no", "r"))
    )
    if offset:
        q = q.offset(exp.Literal.number(offset))
    if limit is not None:
        q = q.limit(exp.Literal.number(limit))
    return [dict(zip(_REJECTED, r)) for r in ex.rows(q, params)]


def rejects(ex: Executor, load_id: int | None = None, dataset: str | None = None, offset: int = 0,
            limit: int | None = None) -> list[dict[str, Any]]:
    """The rows one load (or every load of a dataset) rejected, in file and line order; from
    the ``offset``-th, at most ``limit`` of them (a page of the service's)."""
    if (load_id is None) == (dataset is None):
        raise CcfError("name one load (its id) or one dataset (--dataset)")
    if dataset is not None:
        require_dataset(ex, dataset)
        return _rejected(ex, eq(column("dataset", "r"), param("dataset")), {"dataset": dataset}, offset, limit)
    found = ex.one(exp.select(column("load_id")).from_(table("activity_load")).where(eq(column("load_id"), param("load_id"))),
                   {"load_id": load_id})
    if found is None:
        raise CcfError(f"there is no load {load_id} (a dataset's loads: 'ccf datasets show DATASET')")
    return _rejected(ex, eq(column("load_id", "r"), param("load_id")), {"load_id": load_id}, offset, limit)


def rejections_of(ex: Executor, dataset: str, loads: list[int], activity_id: str) -> list[dict[str, Any]]:
    """The rejected rows with this activity id among the given loads of a dataset (a run's)."""
    return _rejected(ex, exp.and_(of_run_loads("r"), eq(column("activity_id", "r"), param("activity_id"))),
                     {"dataset": dataset, "loads": loads, "activity_id": activity_id})


def record_text(record: dict[str, str]) -> str:
    """A rejected record as read, one ``column='value'`` per cell."""
    return ", ".join(f"{k}={v!r}" for k, v in record.items())


_UNMATCHED = ("methodology", "activity_id", "rule_id", "reason_code", "reason", "load_id", "source_file", "line_no")


def unmatched(ex: Executor, run_id: int, methodology: str | None = None) -> list[dict[str, Any]]:
    """The rows a run left unmatched (of one methodology, if given), in file and line order."""
    head = ex.one(exp.select(column("dataset"), column("summary"), column("engine")).from_(table("run"))
                  .where(eq(column("run_id"), param("run_id"))), {"run_id": run_id})
    if head is None:
        raise no_run(ex, run_id)
    dataset, summary, engine = head
    recorded = ex.rows(exp.select(column("methodology_id"), column("activity_type")).from_(table("run_methodology"))
                       .where(eq(column("run_id"), param("run_id"))).order_by(column("methodology_id")), {"run_id": run_id})
    if methodology is not None:
        if methodology not in {m for m, _ in recorded}:
            raise CcfError(f"run {run_id} has no methodology {methodology!r}; it ran: "
                           + ", ".join(m for m, _ in recorded))
        recorded = [(m, t) for m, t in recorded if m == methodology]
    params = {"run_id": run_id, "dataset": dataset, "loads": (summary or {}).get("loads", [])}
    out: list[dict[str, Any]] = []
    if engine == CLICKHOUSE:  # the rows are there; their files and lines here (docs/scale-out.md)
        from ccf.engine.clickhouse.catalogue import opened
        from ccf.engine.clickhouse.reads import stored_rows

        ch, database = opened(ex)
        for mid, activity_type in recorded:
            held = stored_rows(ch, database, run_id, mid, "unmatched", ["rule_id", "reason_code", "reason"])
            out += _located(ex, activity_type, params, mid, held)
        return out
    for mid, activity_type in recorded:
        q = (
            exp.select(column("methodology_id", "u"), column("activity_id", "u"), column("rule_id", "u"),
                       column("reason_code", "u"), column("reason", "u"), column("load_id", "a"),
                       column("source_file", "l"), column("line_no", "a"))
            .from_(table("unmatched", alias="u"))
            .join(table(activity_table_name(activity_type), alias="a"), join_type="left",
                  on=exp.and_(eq(column("activity_id", "a"), column("activity_id", "u")), of_run_loads("a")))
            .join(table("activity_load", alias="l"), join_type="left", on=eq(column("load_id", "l"), column("load_id", "a")))
            .where(exp.and_(eq(column("run_id", "u"), param("run_id")), eq(column("methodology_id", "u"), param("methodology_id"))))
            .order_by(column("load_id", "a"), column("line_no", "a"), column("activity_id", "u"))
        )
        out += [dict(zip(_UNMATCHED, r)) for r in ex.rows(q, {**params, "methodology_id": mid})]
    return out


def _located(ex: Executor, activity_type: str, params: dict[str, Any], methodology_id: str,
             held: list[tuple]) -> list[dict[str, Any]]:
    """Unmatched rows read from ClickHouse, (activity_id, rule_id, reason_code, reason), with
    their load, file and line among the run's loads, in the order PostgreSQL's query gives: load,
    line (a row of no load last), activity id."""
    ids = exp.Any(this=exp.Paren(this=exp.Cast(this=param("ids"), to=exp.DataType.build("TEXT[]"))))
    q = (exp.select(column("activity_id", "a"), column("load_id", "a"), column("source_file", "l"), column("line_no", "a"))
         .from_(table(activity_table_name(activity_type), alias="a"))
         .join(table("activity_load", alias="l"), join_type="left", on=eq(column("load_id", "l"), column("load_id", "a")))
         .where(exp.and_(of_run_loads("a"), exp.EQ(this=column("activity_id", "a"), expression=ids))))
    where = {r[0]: r[1:] for r in ex.rows(q, {**params, "ids": [r[0] for r in held]})} if held else {}
    rows = [dict(zip(_UNMATCHED, (methodology_id, *r, *where.get(r[0], (None, None, None))))) for r in held]
    return sorted(rows, key=lambda r: (r["load_id"] is None, r["load_id"] or 0, r["line_no"] is None, r["line_no"] or 0,
                                       r["activity_id"]))
