"""The routes of the methodology library and the factor sets: shared by every organisation, or an
organisation's own.

Without a token a request reads what is shared: the shipped library, and the shared factor sets
through a ccf_api connection of no organisation (row-level security shows it no organisation's
set). With one, it reads through its organisation's connection: the shared library and sets and
its own (engine/service/libraries.py, migration 0029), another organisation's being, to it, ones
nobody has (404). An organisation uploads its own methodology versions (``POST /methodologies``)
and factor sets (``POST /factor-sets``), checked with the command line's diagnostics and
messages, and deletes a set of its own no run of it has read (``DELETE /factor-sets/{id}``).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator

import psycopg
from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError, DiagnosticError
from ccf.engine.service import libraries, names
from ccf.engine.service.app import TOKEN_OPTIONAL, Body, Service, body, current_org, optional_org, service
from ccf.engine.service.names import FACTOR_SET, Names
from ccf.engine.service.problems import Problem, not_found
from ccf.engine.sql import Executor, column, eq, param, table, text

router = APIRouter(tags=["library"])
PROBLEM = {"content": {"application/problem+json": {}}}
TEXT = r"^[^\x00-\x1f\x7f]*$"  # words as a terminal takes them: no control character (a NUL cannot be stored)


@contextmanager
def reading(org, svc: Service) -> Iterator[tuple[psycopg.Connection, Any, "libraries.OrgLibrary | None"]]:
    """The request's connection (its organisation's, or of none), its library, and its own part."""
    from ccf.engine.service.scoped import org_connection

    with org_connection(org, svc.url) as conn:
        own = svc.libraries.of(conn, org)
        yield conn, svc.library if own is None else own.library, own


def _summary(m, own: "libraries.OrgLibrary | None" = None) -> dict:
    return {"id": m.id, "version": m.version, "ref": m.ref, "status": m.status, "title": m.title, "scope": m.scope,
            "category": m.category, "method": m.method, "factor_set": m.factor_set, "activity_type": m.activity.id,
            "library": "own" if own is not None and own.is_own(m) else "shared"}


def _version(lib, mid: str, version: str):
    for m in lib.versions():
        if m.id == mid and m.version == version:
            return m
    raise not_found(f"methodology {mid}@{version} (see GET /methodologies)")


def _usable(lib, own, methodologies: list) -> list:
    """The versions, if their files have no problem (else the diagnostics, said with the
    organisation's paths: a 400)."""
    from ccf.engine import api

    try:
        return api.usable(lib, methodologies)
    except DiagnosticError as exc:
        if own is None:
            raise
        detail, errors = libraries.problem_document(own, exc.diagnostics)
        raise Problem(400, detail, errors=errors) from None


@router.get("/methodologies", responses={401: PROBLEM}, openapi_extra=TOKEN_OPTIONAL,
            summary="Every methodology version of the library: shared, and the organisation's own with a token")
def methodologies(org=Depends(optional_org), svc: Service = Depends(service)) -> Body:
    if org is None:
        return body([_summary(m) for m in svc.library.versions()])
    with reading(org, svc) as (_, lib, own):
        return body([_summary(m, own) for m in lib.versions()])


@router.get("/methodologies/{methodology_id}/{version}", responses={404: PROBLEM, 400: PROBLEM, 401: PROBLEM},
            openapi_extra=TOKEN_OPTIONAL,
            summary="One methodology version: its source file and the SQL it compiles to")
def methodology(methodology_id: str, version: str, org=Depends(optional_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.compile import compile_methodology

    with reading(org, svc) as (_, lib, own):
        (m,) = _usable(lib, own, [_version(lib, methodology_id, version)])  # a problem in its files: the CLI's diagnostics (400)
        source = lib.sources.get(m.path)
        return body({**_summary(m, own), "source": source.text if source else None, "sql": compile_methodology(m).sql()})


@router.get("/methodologies/{methodology_id}/{version}/diff/{other}", responses={404: PROBLEM, 400: PROBLEM, 401: PROBLEM},
            openapi_extra=TOKEN_OPTIONAL,
            summary="The semantic changes from one version to another")
def methodology_diff(methodology_id: str, version: str, other: str, org=Depends(optional_org),
                     svc: Service = Depends(service)) -> Body:
    from ccf.dsl.diff import diff_methodologies

    with reading(org, svc) as (_, lib, own):
        a, b = _usable(lib, own, [_version(lib, methodology_id, version), _version(lib, methodology_id, other)])
        out = diff_methodologies(a, b).to_json()
    for change in out["changes"]:  # a file's place in its library, not where the server installed it
        for side in (change["before"], change["after"]):
            if side and side["at"]:
                side["at"]["path"] = own.path_of(side["at"]["path"]) if own is not None else _in_library(svc, side["at"]["path"])
    return body(out)


def _in_library(svc: Service, path: str) -> str:
    """A library file's path from its library folder's parent (``methodologies/<id>/<version>.yaml``)."""
    for root in svc.library.roots:
        if Path(path).is_relative_to(root):
            return str(Path(root.name) / Path(path).relative_to(root))
    return Path(path).name


@router.post("/methodologies", status_code=201, responses={400: PROBLEM, 401: PROBLEM, 409: PROBLEM, 415: PROBLEM, 422: PROBLEM},
             summary="Add methodology versions and factor-set declarations of the organisation's own (a zip of a "
                     "project's methodologies/ and factor_sets/), checked as 'ccf check' checks a project")
def upload_methodologies(file: Annotated[UploadFile, File(description="a zip: methodologies/<id>/<version>.yaml, "
                                                          "factor_sets/<id>.yaml")],
                         org=Depends(current_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.service.org_routes import scoped, upload

    with upload(file, {".zip"}) as (path, _):
        files, left_out = libraries.unpack(path.read_bytes())
    with scoped(org, svc) as conn:
        lib = _stored(conn, svc, org, files)
        conn.commit()
        mine = [_summary(m, lib) for m in lib.library.versions() if lib.is_own(m)]
    return body({"stored": sorted(files), "left_out": left_out, "methodologies": mine}, 201)


def _stored(conn: psycopg.Connection, svc: Service, org, files: dict[str, str]) -> "libraries.OrgLibrary":
    """libraries.store, its refusals as problems: each diagnostic with its file, line and column."""
    try:
        return libraries.store(conn, svc.libraries, org, files)
    except libraries.LibraryProblem as exc:
        raise Problem(exc.status, str(exc)) from None
    except libraries.LibraryDiagnostics as exc:
        detail, errors = libraries.problem_document(exc.library, exc.diagnostics)
        raise Problem(400, detail, errors=errors) from None


# --- factor sets ------------------------------------------------------------------------------


def _own_keys(conn: psycopg.Connection) -> set[str]:
    """The keys of the organisation's own factor sets (row-level security shows it no other's)."""
    return {k for (k,) in Executor(conn).rows(exp.select(column("set_id")).from_(table("factor_set"))
                                             .where(column("org_id").is_(exp.null()).not_()))}


@router.get("/factor-sets", responses={401: PROBLEM}, openapi_extra=TOKEN_OPTIONAL,
            summary="Every installed factor-set edition: shared, and the organisation's own with a token")
def factor_sets(org=Depends(optional_org), svc: Service = Depends(service)) -> Body:
    from ccf.engine.factors.commands import factors_list

    with reading(org, svc) as (conn, _, _):
        own = _own_keys(conn)
        sets = [{**s, "library": "own" if s["id"] in own else "shared"} for s in factors_list(conn)]
        return body(Names.of(conn).shown(sets))


@router.get("/factor-sets/{set_id}", responses={404: PROBLEM, 401: PROBLEM}, openapi_extra=TOKEN_OPTIONAL, summary="One edition: gases, attributes, counts")
def factor_set(set_id: str, org=Depends(optional_org),
               svc: Service = Depends(service)) -> Body:
    from ccf.engine.factors.commands import factors_show, unknown_set

    with reading(org, svc) as (conn, _, _):
        key = names.key_of(conn, FACTOR_SET, set_id)
        if key is None:  # the command line's message, with the sets the request sees
            raise Problem(404, Names.of(conn).shown(str(unknown_set(Executor(conn), set_id))))
        out = factors_show(conn, key)
        return body(Names.of(conn).shown({**out, "library": "own" if key in _own_keys(conn) else "shared"}))


@router.get("/factors", responses={400: PROBLEM, 401: PROBLEM}, openapi_extra=TOKEN_OPTIONAL, summary="Factors by words and filters, best first")
def factors(
    svc: Service = Depends(service),
    org=Depends(optional_org),
    q: Annotated[str, Query(description="words every factor found contains", max_length=500, pattern=TEXT)] = "",
    set: Annotated[str | None, Query(description="a factor set or edition id", max_length=200, pattern=TEXT)] = None,
    region: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    unit: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    gas: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Body:
    from ccf.engine.factors.search import Filters, factors_search

    with reading(org, svc) as (conn, lib, _):
        found = factors_search(conn, q, limit=limit, filters=Filters(set, region, year, unit, gas),
                               factor_sets=lib.factor_sets if set else None)
        return body(Names.of(conn).shown(found))


FACTOR_FILES = {".csv", ".xlsx"}
LINE = re.compile(r"^(line|sheet '.*', row) (\d+)")


@router.post("/factor-sets", status_code=201,
             responses={200: {"description": "installed already, from the same file"}, 400: PROBLEM, 401: PROBLEM,
                        409: PROBLEM, 415: PROBLEM, 422: PROBLEM},
             summary="Install a CSV or XLSX file as an edition of a factor set of the organisation's own, checked "
                     "against its declaration, as 'ccf factors add --org' does")
def add_factor_set(
    file: Annotated[UploadFile, File(description="the factors: factor_id, name, unit, gas, value, [region, year,] "
                                                 "and the declared attributes")],
    id: Annotated[str, Form(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                            description="the edition, as its declaration names it, e.g. my-grid-2025")],
    declaration: Annotated[UploadFile | None, File(description="the set's declaration, factor_sets/<set>.yaml, stored "
                                                               "in the organisation's library (once; not needed again)")] = None,
    edition: Annotated[str | None, Form(max_length=200, pattern=TEXT, description="the edition's name as its publisher gives it")] = None,
    publisher: Annotated[str | None, Form(max_length=200, pattern=TEXT)] = None,
    title: Annotated[str | None, Form(max_length=500, pattern=TEXT)] = None,
    licence: Annotated[str | None, Form(max_length=200, pattern=TEXT)] = None,
    org=Depends(current_org), svc: Service = Depends(service),
) -> Body:
    from ccf.engine.factors.commands import factor_file
    from ccf.engine.factors.custom import FactorFileProblems
    from ccf.engine.factors.model import FactorFileError
    from ccf.engine.factors.store import install_edition, install_units
    from ccf.engine.service.org_routes import scoped, upload

    declared_files = {}
    if declaration is not None:
        with upload(declaration, {".yaml"}) as (path, sent):
            declared_files[f"factor_sets/{sent}"] = path.read_text("utf-8", errors="replace")
        if not libraries.DECLARATION_PATH.fullmatch(next(iter(declared_files))):
            raise Problem(400, f"declaration {sent!r}: name it <set id>.yaml, as in a project's factor_sets folder")
    with upload(file, FACTOR_FILES) as (path, sent), scoped(org, svc) as conn:
        own = _stored(conn, svc, org, declared_files) if declared_files else svc.libraries.of(conn, org)
        lib = svc.library if own is None else own.library
        try:
            declared, meta, records = factor_file(str(path), id, edition, publisher=publisher, title=title,
                                                  licence=licence, factor_sets=lib.factor_sets)
        except FactorFileProblems as exc:
            problems = [p.replace(str(path), sent) for p in exc.problems]
            raise Problem(400, str(exc).replace(str(path), sent),
                          errors=[{"field": "file", **({"line": int(m.group(2))} if (m := LINE.match(p)) else {}), "message": p}
                                  for p in problems]) from None
        except FactorFileError as exc:
            raise Problem(400, str(exc).replace(str(path), sent),
                          errors=[{"field": "file", **({"line": exc.line} if getattr(exc, "line", None) else {}),
                                   "message": str(exc).replace(str(path), sent)}]) from None
        except CcfError as exc:
            raise Problem(400, str(exc).replace(str(path), sent), errors=[{"field": "id", "message": str(exc)}]) from None
        meta = _as_sent(meta, sent)
        with svc.shared() as owner:  # shared reference data: the units (ccf_api reads them only), and a key
            with owner.transaction():
                install_units(Executor(owner), {r.unit for r in records})
            key = names.new_key(owner, FACTOR_SET, org, meta.id)
        new = install_edition(conn, meta, records, org_id=org.id, key=key)
        conn.commit()
        out = {"id": meta.id, "set": declared.id, "edition": meta.edition, "factor_count": len(records),
               "sha256": meta.sha256, "installed": new, "library": "own"}
        return body(out, 201 if new else 200, {"Location": f"/factor-sets/{meta.id}"})


def _as_sent(meta, sent: str):
    """The edition as installed from the file the client sent (not the temporary copy's path)."""
    import dataclasses

    return dataclasses.replace(meta, source_file=sent)


@router.delete("/factor-sets/{set_id}", status_code=204, response_class=Response,
               responses={204: {"description": "deleted, with its factors"}, 401: PROBLEM, 404: PROBLEM, 409: PROBLEM},
               summary="Delete a factor set of the organisation's own that none of its runs has read")
def delete_factor_set(set_id: str, org=Depends(current_org), svc: Service = Depends(service)) -> Response:
    from ccf.engine.service.org_routes import scoped

    with scoped(org, svc) as conn:
        ex = Executor(conn)
        row = ex.one(exp.select(column("factor_set_id"), column("org_id")).from_(table("factor_set"))
                     .where(eq(column("name"), param("name")))
                     .order_by(exp.Ordered(this=column("org_id"), nulls_first=False)).limit(1), {"name": set_id})
        if row is None:
            raise not_found(f"factor set {set_id!r} (see GET /factor-sets)")
        if row[1] is None:
            raise Problem(409, f"factor set {set_id!r} is shared by every organisation; only an organisation's own set is deleted")
        # a run is evidence: the sets it read stay (its organisation's runs only, by row-level security)
        used = sorted({r for (r,) in ex.rows(
            exp.union(
                exp.select(column("run_id")).from_(table("run_methodology")).where(eq(column("factor_set"), param("name"))),
                exp.select(column("run_id")).from_(table("run_factor_set")).where(eq(column("set_id"), param("name"))),
            ), {"name": set_id})})
        if used:
            raise Problem(409, f"factor set {set_id!r} was read by run(s) {', '.join(map(str, used))}: a run is evidence, "
                               "and the sets it read stay; delete the runs first (DELETE /runs/ID)")
        running = ex.one(exp.select(exp.Count(this=exp.Star())).from_(table("run_job"))
                         .where(column("state").isin(text("queued"), text("running"))))
        if running and running[0]:
            raise Problem(409, f"{running[0]} job(s) of the organisation are queued or running, and may read factor set "
                               f"{set_id!r}; delete it when they have finished")
        for t in ("factor", "factor_set"):
            ex.execute(exp.delete(table(t), where=eq(column("factor_set_id"), param("pk"))), {"pk": row[0]})
        conn.commit()
    return Response(status_code=204)
