"""The SQL ``ccf bench`` runs of its own, besides ccf's load, run and report: what it reads to
make and check its data, the rows it writes for its baselines, the matching part of a compiled
statement, the hand-written statements, the VACUUMs and the clean-up. Every statement is a
sqlglot tree executed through sql.py."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlglot import exp

from ccf.dsl import ir, resources
from ccf.engine import __version__ as ENGINE_VERSION
from ccf.engine.bench.dataset import SCENARIOS
from ccf.engine.compile import CompiledMethodology
from ccf.engine.compile.statements import RESULT_TABLE
from ccf.engine.lifecycle.runs import delete_runs
from ccf.engine.load import activity_table, activity_table_name
from ccf.engine.load.tables import drop_partition
from ccf.engine.sql import Executor, column, eq, ident, is_param, param, parse, render, table, text

RESULT_TABLES = (RESULT_TABLE, "excluded", "unmatched")  # what a timed phase writes


def naics_codes(ex: Executor) -> list[str]:
    """Every NAICS code the installed USEEIO set has (keys for the spend rows)."""
    naics = exp.JSONExtractScalar(this=column("attributes", "f"), expression=text("naics"))
    rows = ex.rows(
        exp.select(naics).distinct()
        .from_(table("factor", alias="f"))
        .join(table("factor_set", alias="s"), on=exp.EQ(this=column("factor_set_id", "s"), expression=column("factor_set_id", "f")))
        .where(exp.and_(eq(column("set_id", "s"), text("useeio-1.3")), exp.Not(this=exp.Is(this=naics, expression=exp.Null())))),
    )
    return [r[0] for r in rows]


def factor_set(ex: Executor, set_id: str) -> tuple[int, str | None, int | None]:
    """An installed factor set's id, default region and default year."""
    row = ex.one(
        exp.select(column("factor_set_id"), column("region"), column("factor_year"))
        .from_(table("factor_set")).where(is_param("set_id")),
        {"set_id": set_id},
    )
    if row is None:
        raise ValueError(f"factor set {set_id} is not installed")
    return row[0], row[1], row[2]


def bench_run(ex: Executor, dataset: str, what: str) -> int:
    """A run row for a baseline's result rows (its transaction is rolled back afterwards)."""
    return ex.one(
        exp.insert(
            exp.select(param("dataset"), param("engine_version"), param("started_at")),
            exp.Schema(this=table("run"), expressions=[ident("dataset"), ident("engine_version"), ident("started_at")]),
            returning="run_id",
        ),
        {"dataset": dataset, "engine_version": f"{ENGINE_VERSION} bench {what}", "started_at": datetime.now(timezone.utc)},
    )[0]  # type: ignore[index]


def matching_query(c: CompiledMethodology) -> exp.Select | None:
    """The factor-matching part of the evaluate statement: its CTEs up to ``joined`` (unit
    conversion, distinct keys, ranked and best factors, the join), counted. None if the
    statement has no ``joined`` step."""
    query = c.evaluate.expression
    with_ = query.args.get("with_") if isinstance(query, exp.Select) else None
    if with_ is None:
        return None
    ctes = []
    for cte in with_.expressions:
        ctes.append(cte.copy())
        if cte.alias_or_name == "joined":
            select = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table("joined"))
            select.set("with_", exp.With(expressions=ctes))
            return select
    return None


def handwritten_statements(ref: str) -> list[exp.Expression]:
    """The hand-written SQL of a methodology (bench/handwritten/<ref>.sql): three INSERTs."""
    return parse(resources.bench_sql(ref).read_text("utf-8"))


def sum_co2e(ex: Executor, run_id: int, methodology_id: str, ids: list[str] | None = None) -> Decimal:
    """The exact kg CO2e total of a run's result rows of one methodology (of ``ids`` only, if given)."""
    where = exp.and_(is_param("run_id"), is_param("methodology_id"))
    if ids is not None:
        where = exp.and_(where, exp.EQ(this=column("activity_id"), expression=exp.Any(this=exp.Paren(this=param("ids")))))
    row = ex.one(
        exp.select(exp.Coalesce(this=exp.Sum(this=column("co2e_kg")), expressions=[exp.Literal.number(0)]))
        .from_(table("result")).where(where),
        {"run_id": run_id, "methodology_id": methodology_id, "ids": ids},
    )
    return Decimal(row[0]) if row else Decimal(0)  # type: ignore[index]


def first_activity_ids(ex: Executor, m: ir.Methodology, dataset: str, k: int) -> list[str]:
    """The first ``k`` activity ids of the dataset's rows of the methodology's type (the sample)."""
    return [r[0] for r in ex.rows(
        exp.select(column("activity_id")).from_(activity_table(m.activity)).where(is_param("dataset"))
        .order_by(column("activity_id")).limit(k),
        {"dataset": dataset},
    )]


def vacuum(tbl: exp.Table) -> exp.Command:
    return exp.Command(this="VACUUM", expression=exp.Literal.string(render(tbl)))


def autovacuum_workers() -> exp.Select:
    """How many autovacuum workers are busy in this database now."""
    return (
        exp.select(exp.Count(this=exp.Star()))
        .from_(exp.Table(this=ident("pg_stat_activity")))
        .where(exp.and_(
            eq(column("backend_type"), text("autovacuum worker")),
            exp.EQ(this=column("datname"), expression=exp.Anonymous(this="current_database")),
        ))
    )


def cleanup(ex: Executor, dataset: str, run_id: int | None) -> None:
    """Remove the benchmark's dataset and run (they exist only to be measured): the run as
    ``ccf runs delete`` removes one (its partition of ccf.result_row dropped)."""
    if run_id is not None:
        delete_runs(ex, [run_id])
    for scenario in SCENARIOS:
        ex.execute(exp.delete(table(activity_table_name(scenario.activity_type)), where=is_param("dataset")), {"dataset": dataset})
        drop_partition(ex, scenario.activity_type, dataset)
    for name in ("rejected", "activity_load", "dataset"):  # the dataset's own row last: nothing of it is left
        ex.execute(exp.delete(table(name), where=is_param("dataset")), {"dataset": dataset})
