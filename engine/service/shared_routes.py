"""The routes of what every organisation shares: the methodology library and the factor sets.

No token is needed and no organisation is in scope: the library is read once per process
(``Service.library``), factor sets through a read-only connection (``Service.shared``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ccf.dsl.diagnostics import CcfError
from ccf.engine.service.app import Body, Service, body, service
from ccf.engine.service.problems import Problem, not_found

router = APIRouter(tags=["library"])
PROBLEM = {"content": {"application/problem+json": {}}}
TEXT = r"^[^\x00-\x1f\x7f]*$"  # words as a terminal takes them: no control character (a NUL cannot be stored)


def _summary(m) -> dict:
    return {"id": m.id, "version": m.version, "ref": m.ref, "status": m.status, "title": m.title, "scope": m.scope,
            "category": m.category, "method": m.method, "factor_set": m.factor_set, "activity_type": m.activity.id}


def _version(svc: Service, mid: str, version: str):
    for m in svc.library.versions():
        if m.id == mid and m.version == version:
            return m
    raise not_found(f"methodology {mid}@{version} (see GET /methodologies)")


@router.get("/methodologies", summary="Every methodology version of the library")
def methodologies(svc: Service = Depends(service)) -> Body:
    return body([_summary(m) for m in svc.library.versions()])


@router.get("/methodologies/{methodology_id}/{version}", responses={404: PROBLEM, 400: PROBLEM},
            summary="One methodology version: its source file and the SQL it compiles to")
def methodology(methodology_id: str, version: str, svc: Service = Depends(service)) -> Body:
    from ccf.engine import api
    from ccf.engine.compile import compile_methodology

    m = _version(svc, methodology_id, version)
    (m,) = api.usable(svc.library, [m])  # a problem in its files is the CLI's diagnostics (400)
    source = svc.library.sources.get(m.path)
    return body({**_summary(m), "source": source.text if source else None, "sql": compile_methodology(m).sql()})


@router.get("/methodologies/{methodology_id}/{version}/diff/{other}", responses={404: PROBLEM, 400: PROBLEM},
            summary="The semantic changes from one version to another")
def methodology_diff(methodology_id: str, version: str, other: str, svc: Service = Depends(service)) -> Body:
    from ccf.dsl.diff import diff_methodologies
    from ccf.engine import api

    a, b = api.usable(svc.library, [_version(svc, methodology_id, version), _version(svc, methodology_id, other)])
    out = diff_methodologies(a, b).to_json()
    for change in out["changes"]:  # a file's place in its library, not where the server installed it
        for side in (change["before"], change["after"]):
            if side and side["at"]:
                side["at"]["path"] = _in_library(svc, side["at"]["path"])
    return body(out)


def _in_library(svc: Service, path: str) -> str:
    """A library file's path from its library folder's parent (``methodologies/<id>/<version>.yaml``)."""
    from pathlib import Path

    for root in svc.library.roots:
        if Path(path).is_relative_to(root):
            return str(Path(root.name) / Path(path).relative_to(root))
    return Path(path).name


@router.get("/factor-sets", summary="Every installed factor-set edition")
def factor_sets(svc: Service = Depends(service)) -> Body:
    from ccf.engine.factors.commands import factors_list

    with svc.shared() as conn:
        return body(factors_list(conn))


@router.get("/factor-sets/{set_id}", responses={404: PROBLEM}, summary="One edition: gases, attributes, counts")
def factor_set(set_id: str, svc: Service = Depends(service)) -> Body:
    from ccf.engine.factors.commands import factors_show

    with svc.shared() as conn:
        try:
            return body(factors_show(conn, set_id))
        except CcfError as exc:
            raise Problem(404, str(exc)) from None


@router.get("/factors", responses={400: PROBLEM}, summary="Factors by words and filters, best first")
def factors(
    svc: Service = Depends(service),
    q: Annotated[str, Query(description="words every factor found contains", max_length=500, pattern=TEXT)] = "",
    set: Annotated[str | None, Query(description="a factor set or edition id", max_length=200, pattern=TEXT)] = None,
    region: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    unit: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    gas: Annotated[str | None, Query(max_length=200, pattern=TEXT)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Body:
    from ccf.engine.factors.search import Filters, factors_search

    with svc.shared() as conn:
        return body(factors_search(conn, q, limit=limit, filters=Filters(set, region, year, unit, gas),
                                   factor_sets=svc.library.factor_sets if set else None))
