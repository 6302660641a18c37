"""The activity tables: one ``ccf."activity_<type>"`` per activity type, its name, columns and
DDL; created, or completed with the columns of optional fields, before rows go in. Each is
partitioned by dataset (LIST): a dataset's rows of a type are one table of schema
``ccf_activity``, which the dataset's first load creates, fills without an index, keys and
attaches in its own transaction (``new_partition``, ``attach_partition``; measured in
docs/performance.md, "Ingest, seventh pass"). Every reader names the parent; only the parent
carries privileges and row-level security, and schema ``ccf_activity`` is its owner's alone."""

from __future__ import annotations

import hashlib
from typing import Iterable

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.model import STANDARD_FIELDS
from ccf.engine import locks
from ccf.engine.load.base import LoadError, fid, icol
from ccf.engine.sql import AttachPartition, Executor, func, ident, param, text


BOOKKEEPING = ("dataset", "load_id", "line_no")
PARTITIONS = "ccf_activity"  # the schema of the activity tables' partitions (migration 0025)
KEY = ("dataset", "activity_id")  # the primary key of an activity table and of each partition


def has_unit_column(f: ir.Field) -> bool:
    """True for a quantity whose unit each row names in ``<field>_unit``."""
    return f.type.kind == "quantity" and bool(f.conversions)


def is_quantity(f: ir.Field) -> bool:
    """A measured quantity (never negative), as opposed to a plain number."""
    return f.type.kind == "quantity" and (bool(f.conversions) or f.fixed_factor is not None)


def csv_columns(at: ir.ActivityType) -> list[tuple[str, ir.Field]]:
    """Every column a CSV of this activity type may have, with the field it belongs to."""
    cols: list[tuple[str, ir.Field]] = []
    for f in at.fields:
        cols.append((f.name, f))
        if has_unit_column(f):
            cols.append((f.name + "_unit", f))
    return cols


def _sql_type(f: ir.Field) -> str:
    return {"text": "TEXT", "quantity": "NUMERIC", "date": "DATE", "boolean": "BOOLEAN"}[f.type.kind]


def _table_columns(at: ir.ActivityType) -> list[tuple[str, str, bool]]:
    """(name, SQL type, required) of every activity table column, in table order."""
    cols = [("dataset", "TEXT", True), ("load_id", "BIGINT", True), ("line_no", "BIGINT", True)]
    for name, f in csv_columns(at):
        is_unit = name != f.name
        cols.append((name, "TEXT" if is_unit else _sql_type(f), f.required))
    return cols


def activity_table_name(activity_type: str) -> str:
    """The name of an activity type's table in schema ccf."""
    return f"activity_{activity_type}"


def activity_table(at: ir.ActivityType) -> exp.Table:
    """ccf."activity_<id>": one table per activity type, shared by all datasets."""
    return exp.Table(this=fid(activity_table_name(at.id)), db=ident("ccf"))


def partition_name(activity_type: str, dataset: str) -> str:
    """The name of a dataset's partition of an activity table: the type's id (cut to 30
    characters) and 128 bits of a hash of both names, so any dataset name (any length, any
    characters) gives a distinct name of at most 63. Migration 0025 computes the same."""
    digest = hashlib.sha256(f"{activity_type}/{dataset}".encode("utf-8")).hexdigest()[:32]
    return f"{activity_type[:30]}_{digest}"


def partition_table(at: ir.ActivityType | str, dataset: str) -> exp.Table:
    """ccf_activity."<type>_<hash>": the rows of one dataset of the activity table."""
    type_id = at if isinstance(at, str) else at.id
    return exp.Table(this=fid(partition_name(type_id, dataset)), db=ident(PARTITIONS))


def has_partition(ex: Executor, at: ir.ActivityType, dataset: str) -> bool:
    """Whether the dataset has its partition of the activity table (made by its first load);
    asked of the catalog, which any login may read (the partitions' schema it may not)."""
    pg = lambda name: exp.Table(this=ident(name), db=ident("pg_catalog"))  # noqa: E731
    found = (exp.select(exp.Literal.number(1)).from_(exp.alias_(pg("pg_class"), "c", table=True))
             .join(exp.alias_(pg("pg_namespace"), "n", table=True),
                   on=exp.EQ(this=icol("oid", "n"), expression=icol("relnamespace", "c")))
             .where(exp.and_(exp.EQ(this=icol("nspname", "n"), expression=text(PARTITIONS)),
                             exp.EQ(this=icol("relname", "c"), expression=param("name")))))
    return ex.one(exp.select(exp.Exists(this=found)), {"name": partition_name(at.id, dataset)}) == (True,)


def owns_activity_table(ex: Executor, at: ir.ActivityType) -> bool:
    """Whether this session acts as the activity table's owner (the command line), which alone
    may create, attach, analyze and drop its partitions. The service's login may not; its route
    makes the dataset's partition first (``prepare_activity_tables``)."""
    return _owns(ex, at.id)


def _owns(ex: Executor, activity_type: str) -> bool:
    owner = exp.select(icol("relowner")).from_(exp.Table(this=ident("pg_class"), db=ident("pg_catalog"))).where(
        exp.EQ(this=icol("oid"), expression=func("to_regclass", param("name"))))
    query = exp.select(func("pg_has_role", exp.Subquery(this=owner), text("USAGE")))
    return ex.one(query, {"name": f'ccf."{activity_table_name(activity_type)}"'}) == (True,)


def new_partition(at: ir.ActivityType, dataset: str) -> exp.Create:
    """CREATE TABLE of the dataset's partition, not yet attached: the parent's columns (and NOT
    NULLs), no index, so that the first load's rows go in without one."""
    like = exp.LikeProperty(this=activity_table(at))
    return exp.Create(this=exp.Schema(this=partition_table(at, dataset), expressions=[like]), kind="TABLE")


def attach_partition(ex: Executor, at: ir.ActivityType, dataset: str) -> None:
    """Key the filled partition (one index build, not one insertion per row) and attach it:
    ATTACH takes a SHARE UPDATE EXCLUSIVE lock of the parent, which readers and writers of the
    other datasets do not wait for (CREATE TABLE … PARTITION OF would take an exclusive one, held
    to the load's commit), checks the partition's rows by one scan and adopts its key as the
    parent's key's partition."""
    part = partition_table(at, dataset)
    ex.execute(exp.Alter(this=part, kind="TABLE", actions=[
        exp.AddConstraint(expressions=[exp.PrimaryKey(expressions=[fid(c) for c in KEY])])]))
    bound = exp.PartitionBoundSpec(this=[text(dataset)])
    ex.execute(exp.Alter(this=activity_table(at), kind="TABLE",
                         actions=[AttachPartition(this=part.copy(), expression=bound)]))


def drop_partition(ex: Executor, activity_type: str, dataset: str) -> None:
    """Drop the dataset's partition of an activity table (its rows deleted first), when this
    session owns the table; another login leaves it empty, for a later load of the dataset."""
    if _owns(ex, activity_type):
        ex.execute(exp.Drop(kind="TABLE", exists=True, tables=[partition_table(activity_type, dataset)]))


def _check_names(at: ir.ActivityType) -> None:
    """Refuse activity types whose columns PostgreSQL could not keep apart."""
    clash = [f.name for f in at.fields if f.name in BOOKKEEPING]
    if clash:
        raise LoadError(f"activity type '{at.id}': field name(s) {', '.join(clash)} are reserved for load bookkeeping")
    if len(activity_table_name(at.id)) > 63:
        raise LoadError(f"activity type id '{at.id}' is too long for a table name (at most 54 characters)")


def _column_def(name: str, sql_type: str, not_null: bool) -> exp.ColumnDef:
    constraints = [exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())] if not_null else []
    return exp.ColumnDef(this=fid(name), kind=exp.DataType.build(sql_type), constraints=constraints)


def _create_table(at: ir.ActivityType) -> exp.Create:
    """CREATE TABLE IF NOT EXISTS: bookkeeping and required standard columns NOT NULL, fields nullable.

    Field columns stay nullable so that a field may later become optional; the loader
    enforces required values itself.
    """
    defs: list[exp.Expression] = [
        _column_def(name, sql_type, name in BOOKKEEPING or (name in STANDARD_FIELDS and required))
        for name, sql_type, required in _table_columns(at)
    ]
    defs.append(exp.PrimaryKey(expressions=[fid(c) for c in KEY]))
    by_dataset = exp.PartitionedByProperty(this=exp.List(expressions=[fid("dataset")]))
    return exp.Create(this=exp.Schema(this=activity_table(at), expressions=defs), kind="TABLE", exists=True,
                      properties=exp.Properties(expressions=[by_dataset]))


def _existing_columns(ex: Executor, at: ir.ActivityType) -> dict[str, str]:
    """Column name -> information_schema data_type of the activity table as it is."""
    info = exp.Table(this=ident("columns"), db=ident("information_schema"))
    query = (
        exp.select(icol("column_name"), icol("data_type"))
        .from_(info)
        .where(exp.and_(
            exp.EQ(this=icol("table_schema"), expression=text("ccf")),
            exp.EQ(this=icol("table_name"), expression=param("table")),
        ))
    )
    return {name: dtype for name, dtype in ex.rows(query, {"table": activity_table_name(at.id)})}


def ensure_activity_table(ex: Executor, at: ir.ActivityType) -> None:
    """Create the activity table (under row-level security: engine/service/policies.py), or add
    columns for optional fields it lacks."""
    from ccf.engine.service.policies import activity_table as protected, secure

    _check_names(at)
    existing = _existing_columns(ex, at)
    if not existing:  # DDL only when needed: the service loads as ccf_api, which may create nothing
        ex.execute(_create_table(at))  # (its route makes the table first, as the owner: prepare_activity_tables)
        existing = _existing_columns(ex, at)
    secure(ex.conn, [protected(activity_table_name(at.id))])  # a dataset's rows: its organisation's
    missing = [(n, t, req) for n, t, req in _table_columns(at) if n not in existing]
    _check_types(at, existing)
    required = [n for n, _, req in missing if req]
    if required:
        raise LoadError(
            f"table ccf.activity_{at.id} has no column(s) {', '.join(required)}, which activity type "
            f"'{at.id}' requires; rows loaded earlier have no value for them, so the table must be "
            "migrated by hand (or the field made optional)"
        )
    if missing:
        actions = [_column_def(n, t, False) for n, t, _ in missing]
        ex.execute(exp.Alter(this=activity_table(at), kind="TABLE", actions=actions))


def prepare_activity_tables(conn: psycopg.Connection, types: Iterable[ir.ActivityType],
                            dataset: str | None = None) -> None:
    """Create or complete the activity tables of these types in a committed transaction of their
    own, each under its load lock, and with ``dataset`` the dataset's (empty, keyed) partition of
    each. A run does this before its transaction starts: CREATE TABLE IF NOT EXISTS in a run's
    long transaction and in a load's at once fails in one of them with a duplicate key (pg_type),
    and taking the load lock for the whole run would stall loads. The service does it, as the
    owner, before a load by its login, which may create nothing."""
    ex = Executor(conn)
    with conn.transaction():
        for at in sorted({at.id: at for at in types}.values(), key=lambda at: at.id):  # one lock order
            ex.execute(locks.load_lock(), {"lock_key": locks.load_lock_key(at.id)})
            ensure_activity_table(ex, at)
            if dataset is not None and not has_partition(ex, at, dataset):
                ex.execute(new_partition(at, dataset))
                attach_partition(ex, at, dataset)


def _check_types(at: ir.ActivityType, existing: dict[str, str]) -> None:
    """Refuse a table whose columns have other types than the activity type now says."""
    wrong = [
        f"{n} is {existing[n]}, expected {t.lower()}"
        for n, t, _ in _table_columns(at)
        if n in existing and existing[n] != t.lower()
    ]
    if wrong:
        raise LoadError(f"table ccf.activity_{at.id} does not match activity type '{at.id}': {'; '.join(wrong)}")
