"""Errors as RFC 9457 problem details: every error a client sees is ``application/problem+json``.

One mapping from what went wrong to a status: a ``Problem`` the routes raise (404 for what the
organisation cannot see, 401 without a valid token), a ``CcfError`` with the command line's own
message (400; a database that cannot be reached, 503), a request that does not validate (422,
each error naming its field), an HTTP error of the framework (its status). Anything else is a
bug: the client gets a 500 with no detail, the log gets the traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ccf.dsl.diagnostics import CcfError, DiagnosticError, render
from ccf.engine.database import DatabaseError

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("ccf.service")

TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
          413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
          500: "Internal Server Error", 503: "Service Unavailable"}


class Problem(Exception):
    """An error a route answers with: its status, its detail (what the client reads) and any
    extension members."""

    def __init__(self, status: int, detail: str | None = None, **extensions: Any):
        super().__init__(detail)
        self.status, self.detail, self.extensions = status, detail, extensions


def not_found(what: str) -> Problem:
    """The answer for something that does not exist, or exists for another organisation: the
    same in both cases, so that a request cannot learn what other organisations have."""
    return Problem(404, f"there is no {what}")


def response(status: int, detail: str | None = None, headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status}
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def message(exc: CcfError) -> str:
    """The command line's message for an engine error (without its ``error:`` prefix):
    diagnostics rendered with their source lines."""
    if isinstance(exc, DiagnosticError):
        return render(exc.diagnostics, dict(getattr(exc, "sources", {})))
    return str(exc)


def _methods(routes: list, path: str) -> list[str]:
    """The methods of every route whose path matches (routers included in the app, too)."""
    found: set[str] = set()
    for r in routes:
        if hasattr(r, "original_router"):  # a router included by FastAPI: its routes, as they are
            found.update(_methods(r.original_router.routes, path))
        elif getattr(r, "path_regex", None) is not None and r.path_regex.match(path):
            found.update(getattr(r, "methods", None) or ())
    return sorted(found)


def install(app: FastAPI) -> None:
    """Register the handlers: every error a route or the framework raises becomes a problem."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return response(exc.status, exc.detail, headers, **exc.extensions)

    @app.exception_handler(CcfError)
    async def _ccf(request: Request, exc: CcfError) -> JSONResponse:
        return response(503 if isinstance(exc, DatabaseError) else 400, message(exc))

    @app.exception_handler(psycopg.OperationalError)
    async def _database(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
        return response(503, "the database is unavailable; what the request had not committed was rolled back")

    @app.exception_handler(psycopg.DataError)
    async def _value(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # a value the request sent that PostgreSQL cannot take (a NUL character, a number out of
        # range): the client's input, not a fault of the service
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return response(400, f"a value of the request cannot be used: {reason}")

    @app.exception_handler(psycopg.IntegrityError)
    async def _conflict(request: Request, exc: psycopg.IntegrityError) -> JSONResponse:
        # a key the request would reuse, of the organisation's own rows (names are per
        # organisation, names.py; another's rows are not seen): nothing of the existing row is said
        log.info("conflict in %s %s: %s", request.method, request.url.path, exc)
        return response(409, "the request conflicts with data that exists (a name that is taken?); choose another name")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return response(422, detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only those of the first route that matched it
            headers["Allow"] = ", ".join(_methods(request.app.routes, request.url.path))
        return response(exc.status_code, exc.detail if isinstance(exc.detail, str) else None, headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
        return response(500)
