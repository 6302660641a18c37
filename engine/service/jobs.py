"""Background runs as jobs: start one, read its state and progress, cancel it, list them.

A job is a row of ``ccf.run_job`` (migration 0023): a run of methodology versions over a dataset
(kind ``run``), or the impact of one version against another on a dataset (kind ``impact``,
migration 0026: both versions run or earlier runs reused, and the change attributed), executed
by a ``ccf worker``
(engine/service/worker.py). These functions take the request's connection (an
``org_connection``: row-level security shows it its organisation's jobs only) and its
organisation, and name the organisation in every statement as well, so that they mean the same
on the owner's connection. A job's state moves queued → running → succeeded | failed |
cancelled (running → queued again when its worker was lost and attempts remain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.service.orgs import Org
from ccf.engine.service.policies import committed
from ccf.engine.sql import Executor, column, ident, is_param, param, table

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
OPEN = ("queued", "running")
RUN, IMPACT = "run", "impact"  # the kinds of job
COLUMNS = ("job_id", "org_id", "kind", "dataset", "versions", "idempotency_key", "state", "cancel_requested", "attempts",
           "max_attempts", "methodology_index", "methodology_count", "methodology", "rows_done", "rows_total",
           "run_id", "result", "error", "created_at", "started_at", "finished_at")


class JobError(CcfError):
    """A job that cannot be started, or does not exist (for this organisation)."""


@dataclass(frozen=True)
class RunJob:
    id: int
    org_id: int
    kind: str  # RUN or IMPACT
    dataset: str
    versions: tuple[str, ...]  # as asked for: 'id@version' or 'id'; none: every latest published version; an impact's: from, to
    idempotency_key: str | None
    state: str
    cancel_requested: bool
    attempts: int
    max_attempts: int
    methodology_index: int  # the methodology running, 1-based (0: none yet); of methodology_count
    methodology_count: int | None
    methodology: str | None  # its ref ('id@version')
    rows_done: int  # activity rows of the methodologies done
    rows_total: int | None  # of all of them
    run_id: int | None  # a run's, once succeeded
    result: dict | None  # an impact's attribution (its JSON document), once succeeded
    error: str | None  # why it failed
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state not in OPEN

    def to_json(self, with_result: bool = True) -> dict:
        """The job as the service shows it; an impact's attribution only ``with_result`` (a
        document of its own size, left out of lists)."""
        return {
            "id": self.id, "kind": self.kind, "dataset": self.dataset, "versions": list(self.versions), "state": self.state,
            "idempotency_key": self.idempotency_key, "cancel_requested": self.cancel_requested,
            "attempts": self.attempts,
            "progress": {"methodology_index": self.methodology_index, "methodology_count": self.methodology_count,
                         "methodology": self.methodology, "rows_done": self.rows_done, "rows_total": self.rows_total},
            "run_id": self.run_id, "error": self.error,
            **({"impact": self.result} if self.kind == IMPACT and with_result else {}),
            **{k: (v.isoformat() if v else None) for k, v in (
                ("created_at", self.created_at), ("started_at", self.started_at), ("finished_at", self.finished_at))},
        }


def job_of(row: tuple) -> RunJob:
    values = dict(zip(COLUMNS, row))
    values["id"] = values.pop("job_id")
    values["versions"] = tuple(values["versions"])
    return RunJob(**values)


def returning(tree: exp.Update, columns: Sequence[str]) -> exp.Update:
    """The UPDATE, RETURNING these columns (sqlglot's builder takes none)."""
    tree.set("returning", exp.Returning(expressions=[column(c) for c in columns]))
    return tree


def select_jobs() -> exp.Select:
    return exp.select(*(column(c) for c in COLUMNS)).from_(table("run_job"))


def _of_org() -> exp.Expression:
    """The organisation's rows (``%(org_id)s``, bound to ``org.id``): also on a connection without
    row-level security."""
    return is_param("org_id")


def start_run(conn: psycopg.Connection, org: Org, dataset: str, versions: Sequence[str],
              idempotency_key: str | None = None) -> RunJob:
    """Queue a run of methodology versions over one of the organisation's datasets. With an
    idempotency key, a second call with the same key returns the first call's job (whatever its
    state) instead of queueing another; the same key for another dataset or versions is an error."""
    versions = tuple(versions)
    if len(set(versions)) != len(versions):
        raise JobError("a run takes each methodology version once")
    return _start(conn, org, RUN, dataset, versions, idempotency_key)


def start_impact(conn: psycopg.Connection, org: Org, dataset: str, from_version: str, to_version: str,
                 idempotency_key: str | None = None) -> RunJob:
    """Queue the impact of one methodology version against another (``id@version`` each) on one
    of the organisation's datasets; an idempotency key as for ``start_run``."""
    return _start(conn, org, IMPACT, dataset, (from_version, to_version), idempotency_key)


def _start(conn: psycopg.Connection, org: Org, kind: str, dataset: str, versions: tuple[str, ...],
           idempotency_key: str | None) -> RunJob:
    ex = Executor(conn)
    with committed(conn):
        visible = ex.one(exp.select(exp.Literal.number(1)).from_(table("dataset"))
                         .where(exp.and_(is_param("dataset"), _of_org())), {"dataset": dataset, "org_id": org.id})
        if visible is None:
            raise JobError(f"no dataset {dataset!r}")
        insert = exp.insert(
            exp.select(param("org_id"), param("kind"), param("dataset"), exp.cast(param("versions"), "TEXT[]"),
                       param("idempotency_key")),
            exp.Schema(this=table("run_job"),
                       expressions=[ident(c) for c in ("org_id", "kind", "dataset", "versions", "idempotency_key")]),
            returning=", ".join(COLUMNS),
        )
        insert.set("conflict", exp.OnConflict(conflict_keys=[ident("org_id"), ident("idempotency_key")], action=exp.var("DO NOTHING")))
        params = {"org_id": org.id, "kind": kind, "dataset": dataset, "versions": list(versions),
                  "idempotency_key": idempotency_key}
        row = ex.one(insert, params)
        if row is not None:
            return job_of(row)
        # the key was used before: that request's job
        earlier = job_of(ex.one(select_jobs().where(exp.and_(_of_org(), is_param("idempotency_key"))), params))  # type: ignore[arg-type]
    if (earlier.kind, earlier.dataset, earlier.versions) != (kind, dataset, versions):
        raise JobError(f"idempotency key {idempotency_key!r} was used for another {earlier.kind} (job {earlier.id}: "
                       f"dataset {earlier.dataset!r}); use a new key for a new {kind}")
    return earlier


def get_job(conn: psycopg.Connection, org: Org, job_id: int) -> RunJob | None:
    row = Executor(conn).one(select_jobs().where(exp.and_(is_param("job_id"), _of_org())), {"job_id": job_id, "org_id": org.id})
    conn.commit()
    return None if row is None else job_of(row)


def cancel_job(conn: psycopg.Connection, org: Org, job_id: int) -> RunJob:
    """Cancel a job: a queued one at once; a running one is asked to stop, and its worker rolls
    the run back at its next methodology (or before committing it). A finished job is returned
    as it is."""
    ex = Executor(conn)
    with committed(conn):
        ex.execute(exp.update(
            table("run_job"),
            {"cancel_requested": exp.true(),
             "state": exp.Case(ifs=[exp.If(this=exp.EQ(this=column("state"), expression=exp.Literal.string("queued")),
                                           true=exp.Literal.string("cancelled"))], default=column("state")),
             "finished_at": exp.Case(ifs=[exp.If(this=exp.EQ(this=column("state"), expression=exp.Literal.string("queued")),
                                                 true=exp.CurrentTimestamp())], default=column("finished_at"))},
            where=exp.and_(is_param("job_id"), _of_org(), column("state").isin(*(exp.Literal.string(s) for s in OPEN))),
        ), {"job_id": job_id, "org_id": org.id})
    job = get_job(conn, org, job_id)
    if job is None:
        raise JobError(f"no job {job_id}")
    return job


def list_jobs(conn: psycopg.Connection, org: Org, *, dataset: str | None = None, state: str | None = None,
              limit: int = 100, offset: int = 0) -> list[RunJob]:
    """The organisation's jobs, newest first."""
    if state is not None and state not in STATES:
        raise JobError(f"no job state {state!r}; one of {', '.join(STATES)}")
    where = [_of_org()]
    if dataset is not None:
        where.append(is_param("dataset"))
    if state is not None:
        where.append(is_param("state"))
    query = select_jobs().where(exp.and_(*where)).order_by(exp.Ordered(this=column("job_id"), desc=True)) \
        .limit(param("limit")).offset(param("offset"))
    rows = Executor(conn).rows(query, {"org_id": org.id, "dataset": dataset, "state": state, "limit": limit, "offset": offset})
    conn.commit()
    return [job_of(r) for r in rows]
