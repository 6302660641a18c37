"""The HTTP API's shared resources (methodology library, factor sets), health and readiness, and
its errors as problem documents, against uvicorn in a process of its own (http_server.py)."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from service.http_server import server

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def base(module_db_url: str) -> str:
    with server(module_db_url) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str):
    with httpx.Client(base_url=base, timeout=120) as client:
        yield client


def test_health_and_ready(http):
    assert http.get("/health").json() == {"status": "ok"}
    ready = http.get("/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_not_ready_until_every_migration_is_applied(db_url):
    """/ready is 503 with the migrations missing (one unrecorded), 200 once they are."""
    from ccf.engine.api import open_database

    with server(db_url) as url:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("DELETE FROM ccf.schema_migration WHERE version = (SELECT max(version) FROM ccf.schema_migration)")
        r = httpx.get(f"{url}/ready")
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
        assert len(r.json()["pending"]) == 1
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("DELETE FROM ccf.schema_migration")  # nothing recorded: every migration pending
        assert httpx.get(f"{url}/ready").status_code == 503


def test_openapi_document(http):
    doc = http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for path in ("/methodologies", "/factor-sets", "/datasets", "/datasets/{name}/loads", "/runs", "/jobs/{job_id}",
                 "/runs/{run_id}/results.csv", "/runs/{run_id}/explain/{activity_id}", "/runs/{run_id}/report"):
        assert path in doc["paths"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert http.get("/docs").status_code == 200


def test_methodologies_list_show_and_diff(http):
    from helpers import shipped_library

    lib = shipped_library()
    listed = http.get("/methodologies").json()
    assert {m["ref"] for m in listed} == {m.ref for m in lib.versions()}
    m = lib.resolve("scope3.cat6.business_travel@2.0.0")
    one = http.get("/methodologies/scope3.cat6.business_travel/2.0.0").json()
    assert one["source"] == lib.sources[m.path].text
    from ccf.engine.compile import compile_methodology

    assert one["sql"] == compile_methodology(m).sql()
    diff = http.get("/methodologies/scope3.cat6.business_travel/1.0.0/diff/2.0.0").json()
    assert diff["from"] == "scope3.cat6.business_travel@1.0.0" and diff["to"] == "scope3.cat6.business_travel@2.0.0"
    assert diff["changes"]
    at = [c[side]["at"]["path"] for c in diff["changes"] for side in ("before", "after") if c[side] and c[side]["at"]]
    assert at and all(p.startswith("methodologies/scope3.cat6.business_travel/") for p in at), at  # not the server's folders


def test_factor_sets_and_search_keep_numbers_exact(http):
    sets = http.get("/factor-sets").json()
    assert "desnz-2025" in {s["id"] for s in sets}
    one = http.get("/factor-sets/desnz-2025").json()
    assert one["id"] == "desnz-2025" and one["factor_count"] > 0
    found = http.get("/factors", params={"q": "Electricity: UK", "set": "desnz-2025", "limit": 3}).json()
    assert found and len(found) <= 3
    value = found[0]["value"]
    assert isinstance(value, str) and value == "0.177"  # a decimal string, as published


def test_errors_are_problem_documents(http):
    r = http.get("/methodologies/no.such/1.0.0")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json() == {"type": "about:blank", "title": "Not Found", "status": 404,
                        "detail": "there is no methodology no.such@1.0.0 (see GET /methodologies)"}
    r = http.get("/factor-sets/desnz-2052")
    assert r.status_code == 404 and "did you mean" in r.json()["detail"]  # the CLI's message
    r = http.get("/factors", params={"limit": 0})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "query.limit"
    r = http.get("/factors")  # nothing to search for: the CLI's message
    assert r.status_code == 400 and r.json()["detail"].startswith("nothing to search for")
    r = http.get("/nowhere")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


def test_organisation_data_needs_a_token(http):
    for method, path in (("GET", "/datasets"), ("GET", "/runs/1"), ("POST", "/runs"), ("DELETE", "/datasets/demo")):
        r = http.request(method, path)
        assert r.status_code == 401, path
        assert r.headers["content-type"] == PROBLEM and r.headers["www-authenticate"] == "Bearer"
    r = http.get("/datasets", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["detail"] == "the API token is not valid"
