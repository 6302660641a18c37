"""The ClickHouse tables of a run: its inputs' and its rows'.

Built (docs/scale-out.md): a run's inputs (the activity rows of its loads, the factor rows of
the editions it binds, the unit table, the GWP set; copied by inputs.py) go to MergeTree tables
ordered by dataset (activity) or factor set, named by the run and the methodology
(``RunInputs``: ``input_<run>_<methodology's crc>_<name>``, as the evaluation tables are
``eval_<run>_<crc>``) in the ClickHouse database of the run's PostgreSQL database
(catalogue.py), and dropped when the methodology is done: two runs at once on one ClickHouse
never read each other's inputs. The results go to ``result_row``, ``excluded`` and
``unmatched``, ordered by run and methodology, a partition per run, in the same database, where
they outlive the run.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from sqlglot import exp

from ccf.dsl import ir
from ccf.engine.clickhouse.compile import RESULT_SCALE
from ccf.engine.sql import ClickHouseExecutor, column, ident, table

DATABASE = "ccf"


def create_table(ch: ClickHouseExecutor, name: str, columns: list[tuple[str, str]], order_by: list[str],
                 partition_by: str | None = None, database: str = DATABASE) -> None:
    """A MergeTree table made anew (a run's inputs), or made if missing where ``partition_by``
    (the result tables, a partition per run, which outlive the run); its database made if missing."""
    ch.execute(exp.Command(this="CREATE", expression=f"DATABASE IF NOT EXISTS {database}"))
    if partition_by is None:
        ch.execute(exp.Drop(tables=[table(name, database)], kind="TABLE", exists=True))
    partition = [exp.PartitionedByProperty(this=column(partition_by))] if partition_by else []
    create = exp.Create(
        this=exp.Schema(this=table(name, database), expressions=[
            exp.ColumnDef(this=ident(c), kind=exp.DataType.build(t, dialect="clickhouse")) for c, t in columns]),
        kind="TABLE",
        exists=partition_by is not None,
        properties=exp.Properties(expressions=[
            exp.EngineProperty(this=exp.var("MergeTree")),
            *partition,
            exp.Order(expressions=[exp.Ordered(this=exp.Tuple(expressions=[ident(c) for c in order_by]))]),
        ]),
    )
    ch.execute(create)


@dataclass(frozen=True)
class RunInputs:
    """Where one methodology's inputs of one run are: tables ``input_<run>_<crc>_<name>`` of
    ``database``, the evaluation tables beside them ``eval_<run>_<crc>`` (the crc of the
    methodology's id: a run computes each methodology once)."""

    database: str
    run_id: int
    methodology_id: str

    @property
    def key(self) -> str:
        return f"{self.run_id}_{zlib.crc32(self.methodology_id.encode())}"

    @property
    def eval_table(self) -> str:
        return f"eval_{self.key}"

    def name(self, input_name: str) -> str:
        return f"input_{self.key}_{input_name}"

    def table(self, input_name: str) -> exp.Table:
        return table(self.name(input_name), self.database)

    def drop(self, ch: ClickHouseExecutor) -> None:
        """Drop every table of this methodology's run in ``database``: its inputs, however many
        the copy made before it ended, and its evaluation tables."""
        drop_tables(ch, self.database, [f"input_{self.key}_", f"{self.eval_table}_"])
        ch.execute(exp.Drop(tables=[table(self.eval_table, self.database)], kind="TABLE", exists=True))


_RUN_TABLE = re.compile(r"^(?:input|eval)_(\d+)_")  # a run's tables in its catalogue's database, by its id


def run_tables(ch: ClickHouseExecutor, database: str) -> dict[int, list[str]]:
    """The runs that have input or evaluation tables in ``database``, with their tables' names."""
    found: dict[int, list[str]] = {}
    for (name,) in ch.rows(exp.select(column("name")).from_(table("tables", "system")).where(
            exp.EQ(this=column("database"), expression=exp.Literal.string(database)))):
        if (m := _RUN_TABLE.match(name)) is not None:
            found.setdefault(int(m.group(1)), []).append(name)
    return found


def drop_tables(ch: ClickHouseExecutor, database: str, prefixes: list[str]) -> None:
    """Drop the tables of ``database`` whose names start with one of ``prefixes``."""
    starts = exp.or_(*[exp.Anonymous(this="startsWith", expressions=[column("name"), exp.Literal.string(p)]) for p in prefixes])
    names = ch.rows(exp.select(column("name")).from_(table("tables", "system")).where(
        exp.and_(exp.EQ(this=column("database"), expression=exp.Literal.string(database)), starts)))
    for (name,) in names:
        ch.execute(exp.Drop(tables=[table(name, database)], kind="TABLE", exists=True))


RESULT_TABLES = ("result_row", "excluded", "unmatched")  # a run's rows on ClickHouse, a partition per run


def _result_row_columns() -> list[tuple[str, str]]:
    num = f"Nullable(Decimal(76, {RESULT_SCALE}))"
    cols = [("run_id", "Int64"), ("methodology_id", "String"), ("activity_id", "String"), ("entity", "String"),
            ("period_start", "Nullable(Date)"), ("rule_id", "String"), ("unit_conversion", "Nullable(String)"),
            ("data_quality", "Nullable(Int16)"), ("total_co2e_kg", num), ("instrument_id", "Nullable(String)")]
    for gas in ir.GAS_ORDER:
        g = gas.lower()
        cols += [(f"{g}_kg", num), (f"{g}_gwp", num), (f"{g}_co2e_kg", num), (f"{g}_factor_ids", "Array(Nullable(String))"),
                 (f"{g}_match_level", "Nullable(String)"), (f"{g}_factor_set", "Nullable(String)")]
    return cols


# (name, ClickHouse type) of each column of result_row: migration 0019's columns, every number a
# Decimal(76, 40), the factor ids an array that is never NULL
RESULT_ROW_COLUMNS = tuple(_result_row_columns())


def ensure_result_tables(ch: ClickHouseExecutor, database: str) -> None:
    """A catalogue's ClickHouse database (catalogue.py) and its ``result_row`` (migration 0019's
    layout: ``RESULT_ROW_COLUMNS``), ``excluded`` and ``unmatched``, made if missing:
    MergeTree ordered by (run_id, methodology_id, activity_id), a partition per run, so a run's
    rows are read together and deleted whole (``drop_run``)."""
    keys = ["run_id", "methodology_id", "activity_id"]
    create_table(ch, "result_row", list(RESULT_ROW_COLUMNS), keys, "run_id", database)
    create_table(ch, "excluded", [("run_id", "Int64"), ("methodology_id", "String"), ("activity_id", "String"),
                                  ("rule_id", "String"), ("reason", "String")], keys, "run_id", database)
    create_table(ch, "unmatched", [("run_id", "Int64"), ("methodology_id", "String"), ("activity_id", "String"),
                                   ("rule_id", "Nullable(String)"), ("reason_code", "String"), ("reason", "String")], keys,
                 "run_id", database)


def drop_run(ch: ClickHouseExecutor, database: str, run_id: int) -> dict[str, int]:
    """Delete a run's rows from its catalogue's ClickHouse database: its partition of each result
    table (none there: nothing to do); the rows each held."""
    out = {}
    for name in RESULT_TABLES:
        count = exp.select(exp.Count(this=exp.Star())).from_(table(name, database)).where(
            exp.EQ(this=column("run_id"), expression=exp.Literal.number(run_id)))
        out[name] = ch.rows(count)[0][0]
        ch.execute(exp.Alter(this=table(name, database), kind="TABLE", actions=[
            exp.DropPartition(expressions=[exp.Partition(expressions=[exp.Literal.number(run_id)])])]))
    return out


__all__ = ["DATABASE", "RESULT_ROW_COLUMNS", "RESULT_TABLES", "RunInputs", "create_table", "drop_run", "drop_tables", "ensure_result_tables",
           "run_tables"]
