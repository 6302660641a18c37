"""The HTTP API (``ccf serve``): a FastAPI application over the same operations as the command line.

``create_app`` builds it for one database: the shared routes (methodology library, factor sets:
shared_routes.py), the routes of an organisation's data (datasets, loads, runs: org_routes.py),
``/health`` and ``/ready``. A request for organisation data carries a bearer token
(``orgs.authenticate``) and reads and writes through ``scoped.org_connection``, as a role that
row-level security confines to the token's organisation. Numbers in bodies are decimal strings
(``body``); every error is a problem document (problems.py).
"""

from __future__ import annotations

import datetime
import json
import logging
import queue
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any, Iterator

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ccf.engine import __version__
from ccf.engine.database import connect, database_url
from ccf.engine.service import problems
from ccf.engine.service.problems import Problem

log = logging.getLogger("ccf.service")


def _plain(value: Any) -> Any:
    """JSON for what ``json`` does not know: a Decimal as its exact decimal string (never a
    float), a date or time in ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class Body(JSONResponse):
    """A JSON response whose numbers of NUMERIC columns stay exact (FastAPI's own encoder would
    turn a Decimal into a float): routes return one of these, never a bare dict."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_plain, ensure_ascii=False, allow_nan=False).encode("utf-8")


def body(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Body:
    return Body(content, status_code=status, headers=headers)


class Service:
    """What the routes share: the database URL (the owner's: authentication and the shared
    data; organisation data goes through ``scoped.org_connection``) and the methodology library,
    read once per process."""

    IDLE = 8  # owner connections kept open between requests (authentication and shared reads)

    def __init__(self, url: str):
        self.url = url
        self._library = None
        self._libraries = None
        self._idle: queue.SimpleQueue[psycopg.Connection] = queue.SimpleQueue()

    @property
    def library(self):
        """The shipped library (with the project's folders, where the server runs in one)."""
        from ccf.engine import api

        if self._library is None:
            self._library = api.library()
        return self._library

    @property
    def libraries(self):
        """The organisations' own libraries (engine/service/libraries.py), beside the shipped one."""
        from ccf.engine.service.libraries import Libraries

        if self._libraries is None:
            self._libraries = Libraries(self.library)
        return self._libraries

    def library_of(self, conn: psycopg.Connection, org) -> Any:
        """The library of an organisation's requests (``conn``: its connection): the shipped one
        with its own files, if it has uploaded any; the shipped one for no organisation."""
        own = self.libraries.of(conn, org)
        return self.library if own is None else own.library

    @contextmanager
    def shared(self) -> Iterator[psycopg.Connection]:
        """An owner's connection, for authentication and shared data; what the caller did not
        commit is rolled back. Kept open for the next request (connecting costs more than most
        reads); an organisation's connection never is (scoped.org_connection: one per request)."""
        conn = None
        while conn is None:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = connect(self.url)
            if conn.closed or conn.broken:  # the server restarted, or the session was ended
                conn = None
        try:
            yield conn
            conn.rollback()
        except BaseException:
            conn.close()
            raise
        if self._idle.qsize() < self.IDLE:
            self._idle.put(conn)
        else:
            conn.close()


def service(request: Request) -> Service:
    return request.app.state.service


_bearer = HTTPBearer(auto_error=False, description="an API token: `ccf tokens create --org ORG`")


def current_org(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)):
    """The organisation of the request's bearer token; 401 without a valid one."""
    from ccf.engine.service.orgs import authenticate

    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "this request needs an API token: 'Authorization: Bearer TOKEN' (ccf tokens create --org ORG)")
    svc: Service = request.app.state.service
    with svc.shared() as conn:
        org = authenticate(conn, credentials.credentials)
        conn.commit()  # authenticate may record the token's use
    if org is None:
        raise Problem(401, "the API token is not valid")
    return org


# A route whose token is optional says so in its OpenAPI operation (``openapi_extra``): its
# security requirements then also list the empty one (anonymous), as OpenAPI writes optional auth.
TOKEN_OPTIONAL = {"x-ccf-token": "optional"}


def optional_org(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)):
    """The organisation of the request's token, if it sends one (401 for one that is not
    valid); None without: what is shared is read then, and nothing of any organisation."""
    if credentials is None:
        return None
    return current_org(request, credentials)


def create_app(url: str | None = None) -> FastAPI:
    """The API for the database at ``url`` (default: the one ccf connects to, CCF_DATABASE_URL or
    the embedded server), which ``ccf serve`` migrates before it serves."""
    from ccf.engine.service import org_routes, shared_routes

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.service.libraries  # the shipped library read before the first request, not during it (seconds)
        yield

    app = FastAPI(
        title="ccf", version=__version__, lifespan=lifespan,
        summary="Corporate carbon footprint engine: GHG Protocol methodologies over an organisation's activity data",
        description="Numbers are exact decimal strings. Errors are RFC 9457 problem documents. "
                    "Organisation data needs a bearer token (`ccf tokens create --org ORG`).",
        openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
    )
    app.state.service = Service(url or database_url())
    problems.install(app)

    @app.get("/health", tags=["service"], summary="The process answers")
    async def health() -> Body:  # on the event loop: it answers while every request thread is busy
        return body({"status": "ok"})

    @app.get("/ready", tags=["service"], summary="The database is reachable and every migration is applied",
             responses={503: {"description": "not ready", "content": {problems.MEDIA_TYPE: {}}}})
    def ready(request: Request) -> JSONResponse:
        from ccf.engine.migrate import migrations
        from ccf.engine.sql import Executor, column, table
        from sqlglot import exp

        try:
            with request.app.state.service.shared() as conn:
                applied = {r[0] for r in Executor(conn).rows(exp.select(column("version")).from_(table("schema_migration")))}
        except (psycopg.Error, problems.CcfError) as exc:
            log.warning("not ready: %s", exc)
            return problems.response(503, "the database cannot be reached")
        pending = [name for version, name, _ in migrations() if version not in applied]
        if pending:
            return problems.response(503, f"{len(pending)} migration(s) not applied: run any ccf command, or restart 'ccf serve'",
                                     pending=pending)
        return body({"status": "ready", "migrations": len(applied)})

    app.include_router(shared_routes.router)
    app.include_router(org_routes.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


def _openapi(app: FastAPI) -> dict:
    """FastAPI's document, with every error response a problem document (RFC 9457), as
    problems.py answers them: FastAPI itself declares its 422 as plain JSON of its own shape."""
    from fastapi.openapi.utils import get_openapi

    if app.openapi_schema is None:
        doc = get_openapi(title=app.title, version=app.version, summary=app.summary, description=app.description,
                          routes=app.routes)
        for operations in doc.get("paths", {}).values():
            for operation in operations.values():
                if operation.pop("x-ccf-token", None) == "optional":
                    operation["security"] = [*operation.get("security", []), {}]
                for code, answer in operation.get("responses", {}).items():
                    if code[0] in "45":
                        answer["content"] = {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = doc
    return app.openapi_schema
