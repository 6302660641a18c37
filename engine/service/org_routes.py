"""The routes of an organisation's data: datasets, loads, rejected rows, run jobs, runs and what is
read of them (results, explain, verify, impact, the inventory report).

Every route takes the token's organisation (``current_org``) and works through
``scoped.org_connection``: row-level security shows it only that organisation's rows. So what
belongs to another organisation is, to a route, what does not exist: 404, the same answer as for
a name or id nobody has (``problems.not_found``). Dataset and entity-set names are the
organisation's own (names.py): a route maps them to their keys, and its response, errors
included, says names again. Each route is the command line's operation (engine/api.py and the
modules it names), with its messages.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal

import psycopg
from fastapi import APIRouter, Depends, File, Form, Header, Path as PathParam, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine import api
from ccf.engine.database import DatabaseError
from ccf.engine.service import names
from ccf.engine.service.app import Body, Service, body, current_org, service
from ccf.engine.service.names import DATASET, ENTITY_SET, Names
from ccf.engine.service.problems import Problem, message, not_found
from ccf.engine.sql import Executor, column, eq, param, table

router = APIRouter()
PROBLEM = {"content": {"application/problem+json": {}}}
ERRORS = {400: PROBLEM, 401: PROBLEM, 404: PROBLEM, 422: PROBLEM}
# a name as the command line takes it: printable, no control character (a NUL cannot be stored)
NAME = r"^[^\x00-\x1f\x7f]+$"
Name = Annotated[str, PathParam(min_length=1, max_length=200, pattern=NAME)]
Id = Annotated[int, PathParam(ge=1, le=2**62)]
Offset = Annotated[int, Query(ge=0, le=2**62, description="the first row of the page (0: the first)")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="rows per page")]


@contextmanager
def scoped(org, svc: Service) -> Iterator[psycopg.Connection]:
    """The organisation's connection for one request (``scoped.org_connection``); what the
    route did not commit is rolled back. An error's message says the organisation's names for
    its datasets and entity sets, not their keys (the command line's messages name keys)."""
    from ccf.engine.service.scoped import org_connection

    with org_connection(org, svc.url) as conn:
        try:
            yield conn
        except (CcfError, Problem) as exc:
            if isinstance(exc, DatabaseError) or conn.closed or conn.broken:
                raise
            conn.rollback()
            status, detail = (exc.status, exc.detail) if isinstance(exc, Problem) else (400, message(exc))
            said = Names.of(conn).shown(detail)
            if said == detail:
                raise
            raise Problem(status, said, **(exc.extensions if isinstance(exc, Problem) else {})) from None
        finally:
            if not conn.closed:
                conn.rollback()


def named(conn: psycopg.Connection, content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Body:
    """A response of the organisation's data, its keys said as the organisation's names."""
    shown = Names.of(conn).shown(content)
    conn.rollback()
    return body(shown, status, headers)


def _exists(conn: psycopg.Connection, name: str, key: str, value: Any) -> bool:
    """Whether the organisation sees a row of ``ccf.<name>`` with ``key = value``."""
    found = Executor(conn).one(exp.select(exp.Literal.number(1)).from_(table(name)).where(eq(column(key), param("v"))).limit(1),
                               {"v": value})
    conn.rollback()
    return found is not None


def _dataset(conn: psycopg.Connection, name: str) -> str:
    """The key of the organisation's dataset of this name; 404 if it has none."""
    key = names.key_of(conn, DATASET, name)
    conn.rollback()
    if key is None:
        raise not_found(f"dataset {name!r} (see GET /datasets)")
    return key


def _run(conn: psycopg.Connection, run_id: int) -> int:
    if not _exists(conn, "run", "run_id", run_id):
        raise not_found(f"run {run_id} (see GET /runs)")
    return run_id


def _load(conn: psycopg.Connection, load_id: int) -> int:
    if not _exists(conn, "activity_load", "load_id", load_id):
        raise not_found(f"load {load_id} (a dataset's loads: GET /datasets/NAME)")
    return load_id


def page(rows: list, offset: int, limit: int) -> dict[str, Any]:
    return {"offset": offset, "limit": limit, "items": rows}


# --- datasets and loads ----------------------------------------------------------------------


class NewDataset(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NAME, description="the dataset's name")
    period: str | None = Field(None, max_length=50, pattern=NAME,
                               description="its reporting period: a year (2024), or FROM..TO (2024-04-01..2025-03-31)")
    entity_set: str | None = Field(None, max_length=200, pattern=NAME, description="the entity set its rows belong to")


@router.post("/datasets", tags=["datasets"], status_code=201,
             responses={**ERRORS, 200: {"description": "it exists, as asked"}, 409: PROBLEM},
             summary="Create a dataset (a name, a reporting period, an entity set)")
def create_dataset(new: NewDataset, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.load import Dataset, ReportingPeriod, bind_dataset

    period = ReportingPeriod.parse(new.period) if new.period is not None else None
    with scoped(org, svc) as conn:
        key = names.key_of(conn, DATASET, new.name)
        entity_set = new.entity_set and (names.key_of(conn, ENTITY_SET, new.entity_set) or new.entity_set)
        conn.rollback()
        existed = key is not None
        if not existed:  # a key no organisation holds: another's dataset of this name is no conflict
            with svc.shared() as owner:
                key = names.new_key(owner, DATASET, org, new.name)
        with conn.transaction():
            bind_dataset(Executor(conn), Dataset(key, period, entity_set))
            if not existed:
                names.rename(conn, DATASET, key, new.name)
        conn.commit()
        return named(conn, api.dataset(conn, key), 200 if existed else 201, {"Location": f"/datasets/{new.name}"})


@router.get("/datasets", tags=["datasets"], responses=ERRORS, summary="The organisation's datasets")
def list_datasets(org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        return named(conn, api.datasets(conn))


@router.get("/datasets/{name}", tags=["datasets"], responses=ERRORS, summary="One dataset with its loads and runs")
def show_dataset(name: Name, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        return named(conn, api.dataset(conn, _dataset(conn, name)))


@router.delete("/datasets/{name}", tags=["datasets"], responses={**ERRORS, 409: PROBLEM},
               summary="Delete a dataset with its loads and rows (and its runs, with cascade=true)")
def delete_dataset(name: Name, cascade: bool = False, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        key = _dataset(conn, name)
        names_before = Names.of(conn)  # the dataset's name, which goes with it
        conn.rollback()
        try:
            deleted = api.delete_dataset(conn, key, cascade)
        except CcfError as exc:  # runs over it: the CLI's message names them
            raise Problem(409, str(exc)) from None
        conn.commit()
    return body(names_before.shown(deleted.to_json()))


FORMATS = {".csv", ".xlsx", ".parquet"}
CHUNK = 1 << 20


@router.post("/datasets/{name}/loads", tags=["datasets"], status_code=201, responses={**ERRORS, 409: PROBLEM, 415: PROBLEM},
             summary="Load a file (CSV, XLSX or Parquet) of one activity type into the dataset, as 'ccf load' does")
def load(
    name: Name,
    file: Annotated[UploadFile, File(description="the file; its name's suffix says its format")],
    activity_type: Annotated[str, Form(min_length=1, max_length=200, pattern=NAME)],
    max_rejects: Annotated[str | None, Form(max_length=20, pattern=NAME,
                                            description="N or P%: fail (load nothing) past it; default: fail when all rows are rejected")] = None,
    sheet: Annotated[str | None, Form(max_length=200, pattern=NAME, description="the XLSX sheet to read")] = None,
    org=Depends(current_org), svc: Service = Depends(service),
) -> Body:
    from ccf.engine.load.tables import prepare_activity_tables

    with scoped(org, svc) as conn:  # created first (POST /datasets): a load names one of the organisation's
        key = _dataset(conn, name)
    at = api.find_activity_type(svc.library, activity_type)
    with svc.shared() as owner:  # the activity table made (or completed) by the owner: ccf_api may create nothing
        prepare_activity_tables(owner, [at], dataset=key)  # and the dataset's partition of it
    with upload(file, FORMATS) as (path, sent):
        with scoped(org, svc) as conn:
            try:
                (report,) = api.load_files(conn, key, activity_type, [path], svc.library, max_rejects=max_rejects,
                                           sheet=sheet, source=sent)
            except CcfError as exc:  # its message names the temporary file: the client knows it by its own name
                raise Problem(400, str(exc).replace(str(path), sent)) from None
            conn.commit()
            return named(conn, _load_json(report), 201, {"Location": f"/loads/{report.load_id}"})


@contextmanager
def upload(file: UploadFile, suffixes: set[str]) -> Iterator[tuple[Path, str]]:
    """The uploaded file copied chunk by chunk (never whole in memory) into a temporary folder
    of its own, under its own name (its suffix says its format); removed afterwards. Yields its
    path and the name it was sent under."""
    sent = Path(file.filename or "").name
    if Path(sent).suffix.lower() not in suffixes:
        raise Problem(415, f"the file's name must end in {', '.join(sorted(suffixes))} (its format); got {sent or 'no name'!r}")
    with tempfile.TemporaryDirectory(prefix="ccf-upload-") as folder:
        path = Path(folder) / sent
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, CHUNK)
        yield path, sent


def _load_json(r) -> dict[str, Any]:
    return {
        "load_id": r.load_id, "dataset": r.dataset, "activity_type": r.activity_type, "file": r.source_file,
        "sha256": r.sha256, "rows_read": r.rows_read, "rows_loaded": r.rows_loaded, "rows_rejected": r.rows_rejected,
        "rejected_by_reason": dict(r.reasons), "period": str(r.period) if r.period else None,
        "entity_set": r.entity_set, "notices": list(r.notices),
    }


@router.post("/entity-sets", tags=["datasets"], status_code=201, responses={**ERRORS, 409: PROBLEM, 415: PROBLEM},
             summary="Load an organisational structure (an entity set's CSV file), as 'ccf entities load' does")
def load_entity_set(
    file: Annotated[UploadFile, File(description="the entity file (CSV)")],
    name: Annotated[str, Form(min_length=1, max_length=200, pattern=NAME, description="the entity set's name, e.g. acme-2024")],
    org=Depends(current_org), svc: Service = Depends(service),
) -> Body:
    from dataclasses import asdict

    from ccf.engine.inventory.entities import load_entity_set as load

    with upload(file, {".csv"}) as (path, sent):
        with scoped(org, svc) as conn:
            key = names.key_of(conn, ENTITY_SET, name)  # the transaction stays open: the load is a part of it
            new = key is None
            if new:  # a key no organisation holds: another's entity set of this name is no conflict
                with svc.shared() as owner:
                    key = names.new_key(owner, ENTITY_SET, org, name)
            try:
                done = load(conn, key, path, source=sent)
            except CcfError as exc:
                raise Problem(400, str(exc).replace(str(path), sent)) from None
            if new:
                names.rename(conn, ENTITY_SET, key, name)
            conn.commit()
            return named(conn, asdict(done), 201 if done.loaded else 200)


@router.get("/entity-sets", tags=["datasets"], responses=ERRORS, summary="The organisation's entity sets")
def list_entity_sets(org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.inventory.entities import entity_sets

    with scoped(org, svc) as conn:
        return named(conn, entity_sets(conn))


_LOAD = ("load_id", "dataset", "activity_type", "source_file", "sha256", "rows_read", "rows_loaded", "rows_rejected", "loaded_at")


@router.get("/loads/{load_id}", tags=["datasets"], responses=ERRORS, summary="A load's counts")
def show_load(load_id: Id, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        row = Executor(conn).one(exp.select(*[column(c) for c in _LOAD]).from_(table("activity_load"))
                                 .where(eq(column("load_id"), param("load_id"))), {"load_id": load_id})
        if row is None:
            raise not_found(f"load {load_id}")
        return named(conn, dict(zip(_LOAD, row)))


@router.get("/loads/{load_id}/rejects", tags=["datasets"], responses=ERRORS, summary="The rows a load rejected, paged")
def load_rejects(load_id: Id, offset: Offset = 0, limit: Limit = 100,
                 org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        return named(conn, page(api.rejects(conn, load_id=_load(conn, load_id), offset=offset, limit=limit), offset, limit))


@router.get("/datasets/{name}/rejects", tags=["datasets"], responses=ERRORS,
            summary="The rows every load of a dataset rejected, paged")
def dataset_rejects(name: Name, offset: Offset = 0, limit: Limit = 100,
                    org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        return named(conn, page(api.rejects(conn, dataset=_dataset(conn, name), offset=offset, limit=limit), offset, limit))


# --- run jobs ---------------------------------------------------------------------------------


class NewRun(BaseModel):
    dataset: str = Field(min_length=1, max_length=200, pattern=NAME)
    methodologies: list[Annotated[str, Field(min_length=1, max_length=300, pattern=NAME)]] = Field(
        default_factory=list, max_length=500,
        description="ID@VERSION or ID (its latest published version); none: every latest published "
                    "version with rows of its activity type in the dataset")


def _job_json(job, with_result: bool = True) -> dict[str, Any]:
    out = {**job.to_json(with_result), "url": f"/jobs/{job.id}"}
    if job.run_id is not None:
        out["run_url"] = f"/runs/{job.run_id}"
    return out


@router.post("/runs", tags=["runs"], status_code=202, responses={**ERRORS, 202: {"description": "queued: its job's URL in Location"}},
             summary="Start a run in the background (a job for 'ccf worker'); a retried request with the same "
                     "Idempotency-Key starts no second one")
def start_run(
    new: NewRun,
    idempotency_key: Annotated[str | None, Header(max_length=200, pattern=NAME)] = None,
    org=Depends(current_org), svc: Service = Depends(service),
) -> Body:
    from ccf.engine.service.jobs import start_run as start

    with scoped(org, svc) as conn:
        key = _dataset(conn, new.dataset)
        lib = svc.library_of(conn, org)  # its own versions and the shared ones; a worker resolves them the same way
        if new.methodologies:
            chosen = api.resolve(lib, new.methodologies)
        else:
            chosen, _ = api.with_rows(conn, key, api.latest_published(lib))
            if not chosen:
                raise CcfError(f"dataset {new.dataset!r} has no rows of any published methodology's activity type")
        job = start(conn, org, key, [m.ref for m in chosen], idempotency_key)
        conn.commit()
        return named(conn, _job_json(job), 202, {"Location": f"/jobs/{job.id}"})


@router.get("/jobs", tags=["runs"], responses=ERRORS, summary="The organisation's run jobs")
def list_jobs(org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.service.jobs import list_jobs as jobs

    with scoped(org, svc) as conn:
        return named(conn, [_job_json(j, with_result=False) for j in jobs(conn, org)])


@router.get("/jobs/{job_id}", tags=["runs"], responses=ERRORS,
            summary="A run job: its state (queued, running, succeeded, failed, cancelled) and progress")
def show_job(job_id: Id, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.service.jobs import get_job

    with scoped(org, svc) as conn:
        job = get_job(conn, org, job_id)
        if job is None:
            raise not_found(f"job {job_id}")
        return named(conn, _job_json(job))


@router.post("/jobs/{job_id}/cancel", tags=["runs"], responses=ERRORS, summary="Cancel a queued or running job")
def cancel_job(job_id: Id, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.service.jobs import cancel_job as cancel, get_job

    with scoped(org, svc) as conn:
        if get_job(conn, org, job_id) is None:
            raise not_found(f"job {job_id}")
        job = cancel(conn, org, job_id)
        conn.commit()
        return named(conn, _job_json(job))


# --- runs -------------------------------------------------------------------------------------


@router.get("/runs", tags=["runs"], responses=ERRORS, summary="The organisation's runs (of one dataset, if named)")
def list_runs(dataset: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NAME)] = None,
              org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        key = None if dataset is None else _dataset(conn, dataset)
        return named(conn, api.runs(conn, key))


@router.get("/runs/{run_id}", tags=["runs"], responses=ERRORS,
            summary="A run's summary: totals by scope and category, and each methodology's reconciliation of its rows")
def show_run(run_id: Id, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        return named(conn, api.run_info(conn, _run(conn, run_id)))


@router.delete("/runs/{run_id}", tags=["runs"], status_code=204, response_class=Response,
               responses={**ERRORS, 204: {"description": "deleted, with every row it wrote"}, 409: PROBLEM},
               summary="Delete a run and every row it wrote, as 'ccf runs delete' does")
def delete_run(run_id: Id, org=Depends(current_org), svc: Service = Depends(service)) -> Response:
    with scoped(org, svc) as conn:
        _run(conn, run_id)
        try:
            api.delete_run(conn, run_id)
        except CcfError as exc:  # gone meanwhile (another delete), or other records depend on it
            if not _exists(conn, "run", "run_id", run_id):
                raise not_found(f"run {run_id} (see GET /runs)") from None
            raise Problem(409, str(exc)) from None
        conn.commit()
    return Response(status_code=204)


RESULT = ("methodology_id", "activity_id", "entity", "period_start", "rule_id", "gas", "gas_kg", "gwp", "co2e_kg",
          "factor_ids", "factor_set", "match_level", "unit_conversion", "instrument_id", "data_quality")


def _results(methodology: str | None) -> exp.Select:
    """A run's result rows in a stable order (of one methodology, if named)."""
    where = eq(column("run_id"), param("run_id"))
    if methodology is not None:
        where = exp.and_(where, eq(column("methodology_id"), param("methodology")))
    return (exp.select(*[column(c) for c in RESULT]).from_(table("result")).where(where)
            .order_by(*[column(c) for c in ("methodology_id", "activity_id", "rule_id", "gas", "entity", "period_start")]))


MethodologyFilter = Annotated[str | None, Query(min_length=1, max_length=300, pattern=NAME, description="a methodology id")]


@router.get("/runs/{run_id}/results", tags=["runs"], responses=ERRORS, summary="A run's result rows, paged")
def results(run_id: Id, offset: Offset = 0, limit: Limit = 100, methodology: MethodologyFilter = None,
            org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        _run(conn, run_id)
        if (held := _on_clickhouse(conn, run_id)) is not None:
            rows = _clickhouse_results(held, run_id, methodology, offset, limit)
        else:
            q = _results(methodology).offset(exp.Literal.number(offset)).limit(exp.Literal.number(limit))
            rows = Executor(conn).rows(q, {"run_id": run_id, "methodology": methodology})
    return body(page([dict(zip(RESULT, r)) for r in rows], offset, limit))


def _on_clickhouse(conn: psycopg.Connection, run_id: int) -> tuple | None:
    """The ClickHouse session and database holding the run's rows (docs/scale-out.md), or None:
    a PostgreSQL run's are ccf.result's."""
    from ccf.engine.clickhouse.reads import run_engine
    from ccf.engine.options import CLICKHOUSE

    if run_engine(Executor(conn), run_id) != CLICKHOUSE:
        return None
    from ccf.engine.clickhouse.catalogue import opened

    return opened(Executor(conn))


def _clickhouse_results(held: tuple, run_id: int, methodology: str | None, offset: int, limit: int) -> list[tuple]:
    from ccf.engine.clickhouse.reads import results as read

    return read(*held, run_id, methodology, offset, limit)


_CSV_PAGE = 10_000  # a ClickHouse run's rows streamed a page at a time (a finished run's rows do not change)


@router.get("/runs/{run_id}/results.csv", tags=["runs"], responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
            response_class=StreamingResponse, summary="Every result row of a run as CSV, streamed")
def results_csv(run_id: Id, methodology: MethodologyFilter = None,
                org=Depends(current_org), svc: Service = Depends(service)) -> StreamingResponse:
    with scoped(org, svc) as conn:
        _run(conn, run_id)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        out = csv.writer(buffer, lineterminator="\n")
        out.writerow(RESULT)
        with scoped(org, svc) as conn:  # one snapshot: the rows of one transaction's cursor
            held = _on_clickhouse(conn, run_id)
            if held is not None:
                stream: Iterator[tuple] = _clickhouse_stream(held, run_id, methodology)
            else:
                stream = Executor(conn).stream(_results(methodology), {"run_id": run_id, "methodology": methodology})
            for n, row in enumerate(stream, 1):
                out.writerow([_cell(v) for v in row])
                if n % 1000 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(rows(), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="run-{run_id}-results.csv"'})


def _clickhouse_stream(held: tuple, run_id: int, methodology: str | None) -> Iterator[tuple]:
    offset = 0
    while rows := _clickhouse_results(held, run_id, methodology, offset, _CSV_PAGE):
        yield from rows
        offset += len(rows)


def _cell(value: Any) -> str:
    from decimal import Decimal

    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list):
        return " ".join(value)
    return str(value)


@router.get("/runs/{run_id}/unmatched", tags=["runs"], responses=ERRORS,
            summary="The rows a run left unmatched: file, line, reason")
def unmatched(run_id: Id, methodology: MethodologyFilter = None,
              org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    with scoped(org, svc) as conn:
        return named(conn, api.unmatched(conn, _run(conn, run_id), methodology))


@router.get("/runs/{run_id}/explain/{activity_id}", tags=["runs"], responses=ERRORS,
            summary="Why one activity row's result is what it is, step by step")
def explain(run_id: Id, activity_id: Annotated[str, PathParam(min_length=1, max_length=300, pattern=NAME)],
            org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.explain import explain as derive

    with scoped(org, svc) as conn:
        _run(conn, run_id)
        try:
            e = derive(conn, run_id, activity_id, svc.library_of(conn, org))
        except CcfError as exc:
            if re.match(r"activity .* is not in dataset", str(exc)):
                raise not_found(f"activity {activity_id!r} in run {run_id}") from None
            raise
        return named(conn, e.to_json())


@router.post("/runs/{run_id}/verify", tags=["runs"], responses=ERRORS,
             summary="Recompute a run from its recorded inputs and compare (nothing is stored)")
def verify(run_id: Id, org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.verify import verify as recompute

    with scoped(org, svc) as conn:
        v = recompute(conn, _run(conn, run_id), svc.library_of(conn, org))
    return body({"run_id": v.run_id, "identical": v.identical, "rows_compared": v.checked, "differences": v.problems})


class NewImpact(BaseModel):
    from_: str = Field(alias="from", min_length=1, max_length=300, pattern=NAME, description="ID@VERSION")
    to: str = Field(min_length=1, max_length=300, pattern=NAME, description="ID@VERSION")


@router.post("/datasets/{name}/impact", tags=["runs"], status_code=202,
             responses={**ERRORS, 202: {"description": "queued: its job's URL in Location; the job shows the impact when done"}},
             summary="The change in a dataset's totals from one methodology version to another, attributed to causes: "
                     "a background job, as a run is ('ccf diff A B --dataset')")
def impact(name: Name, new: NewImpact,
           idempotency_key: Annotated[str | None, Header(max_length=200, pattern=NAME)] = None,
           org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.attribution import require_pairable
    from ccf.engine.service.jobs import start_impact

    with scoped(org, svc) as conn:
        a, b = api.resolve(svc.library_of(conn, org), [new.from_, new.to])
        require_pairable(a, b)  # refused now, with the command line's message, not by a failed job
        job = start_impact(conn, org, _dataset(conn, name), a.ref, b.ref, idempotency_key)
        conn.commit()
        return named(conn, _job_json(job), 202, {"Location": f"/jobs/{job.id}"})


@router.get("/runs/{run_id}/report", tags=["runs"], responses={**ERRORS, 200: {"content": {"application/json": {}, "text/html": {}}}},
            response_class=Response, summary="The consolidated GHG inventory of a run, as JSON or an HTML page")
def report(run_id: Id,
           approach: Literal["operational-control", "financial-control", "equity-share"] = "operational-control",
           entity_set: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NAME)] = None,
           format: Literal["json", "html"] = "json",
           org=Depends(current_org), svc: Service = Depends(service)) -> Response:
    from ccf.engine.inventory.formats import render
    from ccf.engine.inventory.inventory import build_inventory
    from ccf.engine.inventory.presentation import report_document

    with scoped(org, svc) as conn:
        key = entity_set and (names.key_of(conn, ENTITY_SET, entity_set) or entity_set)
        inventory = build_inventory(conn, [_run(conn, run_id)], approach, key)
        text = render(Names.of(conn).shown(report_document(inventory)), format)  # names first: HTML escapes them
    return Response(text, media_type="application/json" if format == "json" else "text/html; charset=utf-8")
