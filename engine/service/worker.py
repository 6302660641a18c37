"""The worker: executes queued jobs (engine/service/jobs.py): a run with engine.run.run, an impact
with engine.attribution.attribute (whose runs are engine.run.run's too).

Each worker thread has two connections as the schema owner: the run's, naming the job's
organisation (engine.run.run logs in as ccf_runner for the run itself, which is one transaction:
it commits whole or leaves nothing; it reads the shared factor sets and that organisation's own),
and the job's lease, on which it claims a job (``FOR UPDATE SKIP LOCKED``: two workers never
claim one job), holds the job's advisory lock (engine/locks.py) while it runs, and commits the
job's progress: methodology i of n and the activity rows of the methodologies done.

A worker that is killed, or loses its connection, loses the lock with its session. Before each
claim a worker looks for running jobs whose lock is free: such a job is queued again, or failed
with the reason once it has had its ``max_attempts``; no clock or lease time is involved, so a
long run is never taken for a lost one. Cancellation is read at every progress call, i.e.
before each methodology and before the run commits; the run is then rolled back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Callable, Sequence

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.engine import locks
from ccf.engine.database import connect, database_url
from ccf.engine.service.jobs import COLUMNS, IMPACT, RunJob, job_of, returning
from ccf.engine.service.orgs import Org
from ccf.engine.service.scoped import org_conninfo
from ccf.engine.sql import Executor, column, func, is_param, param, table, text

POLL_S = 1.0  # how long an idle worker waits before it looks for queued jobs again
LOST = "the worker running it stopped (killed, or its connection to PostgreSQL broke)"
log = logging.getLogger("ccf.worker")


class Cancelled(Exception):
    """Raised from the run's progress callback when its job was cancelled: the run rolls back."""


def run_worker(url: str | None = None, *, once: bool = False, stop: threading.Event | None = None,
               concurrency: int = 1, poll_s: float = POLL_S, lib=None) -> int:
    """Execute queued jobs, ``concurrency`` at a time, until ``stop`` is set (with ``once``: until
    no job is queued). Returns how many jobs were executed. A job started when ``stop`` is set
    is finished first. ``lib``: the methodology library (default: read once, ``api.library``)."""
    from ccf.engine import api

    if concurrency < 1:
        raise CcfError("--concurrency must be at least 1")
    target = make_conninfo(url or database_url(), application_name=f"ccf worker {os.getpid()}")
    api.open_database(target).close()  # migrated, the shipped factor sets installed
    lib = lib or api.library()
    stop = stop or threading.Event()
    counts = [0] * concurrency
    failures: list[BaseException] = []

    def thread(i: int) -> None:
        try:
            counts[i] = _work(target, lib, f"{socket.gethostname()}:{os.getpid()}:{i}", once, stop, poll_s)
        except BaseException as exc:  # a thread's failure ends the worker, reported by the caller
            failures.append(exc)
            stop.set()

    if concurrency == 1:
        thread(0)
    else:
        threads = [threading.Thread(target=thread, args=(i,), name=f"ccf-worker-{i}") for i in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if failures:
        raise failures[0]
    return sum(counts)


def _work(target: str, lib, name: str, once: bool, stop: threading.Event, poll_s: float) -> int:
    from ccf.engine.service.libraries import Libraries

    done = 0
    own = Libraries(lib)  # the organisations' own libraries, kept while their files are the same
    lease, conn, conn_org = connect(target), None, None
    try:
        while not stop.is_set():
            recover_lost(lease)
            job = claim(lease, name)
            if job is None:
                if once:
                    break
                stop.wait(poll_s)
                continue
            try:
                if conn is None or conn.closed or conn_org != job.org_id:  # a run connection of the job's organisation
                    if conn is not None:
                        conn.close()
                    conn, conn_org = connect(org_conninfo(target, Org(job.org_id, ""))), job.org_id
                execute(lease, conn, lib, job, own)
            finally:
                Executor(lease).execute(locks.session_unlock_of(), {"lock_key": locks.job_lock_key(job.id)})
                lease.commit()
            done += 1
    finally:
        lease.close()
        if conn is not None:
            conn.close()
    return done


def recover_lost(lease: psycopg.Connection) -> list[int]:
    """Queue again (or fail, after max_attempts) every running job whose worker is gone: its
    advisory lock is free. The jobs recovered."""
    ex = Executor(lease)
    running = [r[0] for r in ex.rows(exp.select(column("job_id")).from_(table("run_job"))
                                     .where(exp.EQ(this=column("state"), expression=text("running"))))]
    lease.commit()
    recovered = []
    for job_id in running:
        key = {"lock_key": locks.job_lock_key(job_id)}
        (taken,) = ex.one(locks.try_session_lock_of(), key)  # type: ignore[misc]
        if not taken:
            lease.commit()
            continue
        lost = exp.and_(column("attempts") >= column("max_attempts"), exp.not_(column("cancel_requested")))
        reason = exp.Concat(expressions=[text(LOST + " in each of its "), exp.cast(column("attempts"), "TEXT"), text(" attempt(s)")])
        cur = ex.execute(exp.update(
            table("run_job"),
            {"state": exp.Case(ifs=[exp.If(this=column("cancel_requested"), true=text("cancelled")),
                                    exp.If(this=lost.copy(), true=text("failed"))], default=text("queued")),
             "error": exp.Case(ifs=[exp.If(this=lost.copy(), true=reason)], default=exp.null()),
             "finished_at": exp.Case(ifs=[exp.If(this=exp.or_(column("cancel_requested"), lost.copy()),
                                                 true=exp.CurrentTimestamp())], default=exp.null()),
             "worker": exp.null()},
            where=exp.and_(is_param("job_id"), exp.EQ(this=column("state"), expression=text("running"))),
        ), {"job_id": job_id})
        ex.execute(locks.session_unlock_of(), key)  # before the commit, which holds the row until then
        lease.commit()
        if cur.rowcount:
            log.warning("job %d: %s; recovered", job_id, LOST)
            recovered.append(job_id)
    return recovered


def claim(lease: psycopg.Connection, worker: str) -> RunJob | None:
    """The oldest queued job, now running for this worker, its lock held; None if none is queued."""
    ex = Executor(lease)
    with lease.transaction():
        queued = (exp.select(column("job_id")).from_(table("run_job"))
                  .where(exp.EQ(this=column("state"), expression=text("queued")))
                  .order_by("job_id").limit(exp.Literal.number(1)).lock(update=True, copy=False))
        queued.args["locks"][0].set("wait", False)  # SKIP LOCKED
        row = ex.one(queued)
        if row is None:
            return None
        (taken,) = ex.one(locks.try_session_lock_of(), {"lock_key": locks.job_lock_key(row[0])})  # type: ignore[misc]
        if not taken:  # being recovered by another worker just now: the next poll finds it
            return None
        started = ex.one(returning(exp.update(
            table("run_job"),
            {"state": text("running"), "attempts": column("attempts") + 1, "started_at": exp.CurrentTimestamp(),
             "worker": param("worker"), "methodology_index": exp.Literal.number(0), "rows_done": exp.Literal.number(0),
             "error": exp.null()},
            where=is_param("job_id"),
        ), COLUMNS), {"job_id": row[0], "worker": worker})
    return job_of(started)  # type: ignore[arg-type]


def execute(lease: psycopg.Connection, conn: psycopg.Connection, lib, job: RunJob, own=None) -> RunJob:
    """Run a claimed job on ``conn``, its progress and outcome committed on ``lease``. ``conn``
    names the job's organisation (``scoped.org_conninfo``): the run, which logs in as ccf_runner
    with its options, reads the shared factor sets and that organisation's only (migration
    0029). The job's methodologies are those of its organisation's library (``own``:
    libraries.Libraries over ``lib``, the shipped one), read through its own connection."""
    from ccf.engine import api
    from ccf.engine.attribution import attribute
    from ccf.engine.run import FINISHING, run

    log.info("job %d: %s %s over dataset %s (attempt %d)", job.id, job.kind, ", ".join(job.versions) or "every latest "
             "published version", job.dataset, job.attempts)
    try:
        lib = _library_of(conn, lib, job, own)
        methodologies = api.resolve(lib, job.versions) if job.versions else api.latest_published(lib)
        sizes = _dataset_rows(conn, job)
        total = sum(sizes.get(m.activity.id, 0) for m in methodologies)
        _update(lease, job.id, {"methodology_count": len(methodologies), "rows_total": total})
        progress = _progress(lease, job.id, methodologies, sizes, FINISHING)
        if job.kind == IMPACT:  # each version's run, made or reused, then the attribution (it only reads)
            a, b = methodologies
            impact = attribute(conn, job.dataset, a, b, progress=progress)
            progress(FINISHING)
            log.info("job %d: impact of %s against %s attributed", job.id, a.ref, b.ref)
            return _finish(lease, job, "succeeded", result=impact.to_json())
        report = run(conn, job.dataset, methodologies, progress)
    except Cancelled:
        conn.rollback()  # an impact stops between its runs, with a read of the next one's open
        return _finish(lease, job, "cancelled")
    except CcfError as exc:
        conn.rollback()  # the connection serves the next job
        return _finish(lease, job, "failed", error=str(exc))
    except psycopg.OperationalError as exc:  # the connection broke: the run rolled back
        conn.close()
        retry = job.attempts < job.max_attempts
        log.warning("job %d: the database connection broke (%s); %s", job.id, exc, "queued again" if retry else "failed")
        if retry:
            return _finish(lease, job, "queued")
        return _finish(lease, job, "failed", error=f"{LOST} in each of its {job.attempts} attempt(s)")
    except Exception:
        log.exception("job %d failed", job.id)
        return _finish(lease, job, "failed", error="the run failed unexpectedly; the worker's log has the details")
    log.info("job %d: run %d succeeded", job.id, report.run_id)
    return _finish(lease, job, "succeeded", run_id=report.run_id)


def _library_of(conn: psycopg.Connection, lib, job: RunJob, own) -> object:
    """The library of the job's organisation: the shipped one with its own files, read as ccf_api
    for that organisation (row-level security shows it no other's)."""
    from ccf.engine.service.libraries import Libraries
    from ccf.engine.service.scoped import org_connection

    with org_connection(Org(job.org_id, ""), conn.info.dsn) as as_org:
        mine = (own or Libraries(lib)).of(as_org, Org(job.org_id, ""))
    return lib if mine is None else mine.library


def _dataset_rows(conn: psycopg.Connection, job: RunJob) -> dict[str, int]:
    """The dataset's activity rows by activity type, when it is the job's organisation's (a
    worker is the schema owner: it checks what row-level security checks for ccf_api)."""
    ex = Executor(conn)
    mine = ex.one(exp.select(exp.Literal.number(1)).from_(table("dataset"))
                  .where(exp.and_(is_param("dataset"), is_param("org_id"))), {"dataset": job.dataset, "org_id": job.org_id})
    if mine is None:
        conn.commit()
        raise CcfError(f"no dataset {job.dataset!r}")
    rows = ex.rows(exp.select(column("activity_type"), func("sum", column("rows_loaded"))).from_(table("activity_load"))
                   .where(is_param("dataset")).group_by(column("activity_type")), {"dataset": job.dataset})
    conn.commit()
    return {t: int(n) for t, n in rows}


def _progress(lease: psycopg.Connection, job_id: int, methodologies: Sequence[ir.Methodology], sizes: dict[str, int],
              finishing: str) -> Callable[[str], None]:
    """The run's progress callback: commits methodology i of n and the rows of those done, and
    raises ``Cancelled`` when the job was cancelled."""
    done_before = [0]
    for m in methodologies:
        done_before.append(done_before[-1] + sizes.get(m.activity.id, 0))
    calls = [0]

    def progress(ref: str) -> None:
        i = calls[0] = calls[0] + 1
        at_end = ref == finishing
        values = {"methodology_index": len(methodologies) if at_end else i, "rows_done": done_before[-1 if at_end else i - 1]}
        if not at_end:
            values["methodology"] = ref
        if _update(lease, job_id, values):
            raise Cancelled()

    return progress


def _update(lease: psycopg.Connection, job_id: int, values: dict) -> bool:
    """Set a job's columns (committed); whether it has been asked to cancel."""
    ex = Executor(lease)
    row = ex.one(returning(exp.update(table("run_job"), {k: param(k) for k in values}, where=is_param("job_id")),
                           ["cancel_requested"]), {**values, "job_id": job_id})
    lease.commit()
    return bool(row and row[0])


def _finish(lease: psycopg.Connection, job: RunJob, state: str, *, run_id: int | None = None,
            result: dict | None = None, error: str | None = None) -> RunJob:
    ex = Executor(lease)
    ended = exp.null() if state == "queued" else exp.CurrentTimestamp()
    row = ex.one(returning(exp.update(table("run_job"), {"state": param("state"), "run_id": param("run_id"),
                                                         "result": param("result"), "error": param("error"),
                                                         "finished_at": ended},
                                      where=is_param("job_id")), COLUMNS),
                 {"state": state, "run_id": run_id, "result": None if result is None else Jsonb(result), "error": error,
                  "job_id": job.id})
    lease.commit()
    return job_of(row)  # type: ignore[arg-type]
