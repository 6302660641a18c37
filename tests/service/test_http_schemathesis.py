"""Property tests generated from the API's own OpenAPI document (schemathesis): for every operation,
requests valid and invalid by the schema never get a 5xx, and each response conforms to the
document (status code, content type, body schema). Bounded (a few examples per operation) so that
CI stays fast; the server is uvicorn in a process of its own over a database where the token's
organisation has a dataset (named ``0``, as generated names often are) with a load (id 1) and
a run (id 1), so that generated requests reach past the 404s."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from service.http_server import server

EXAMPLES = 6


@pytest.fixture(scope="module")
def base(module_db_url: str) -> str:
    with server(module_db_url) as url:
        yield url


@pytest.fixture(scope="module")
def token(module_db_url: str, base: str) -> str:
    import httpx

    from ccf.engine.api import demo_dir
    from ccf.engine.database import connect
    from ccf.engine.service.orgs import create_org, create_token
    from ccf.engine.service.worker import run_worker

    with connect(module_db_url) as conn:
        create_org(conn, "acme")
        secret = create_token(conn, "acme")
        conn.commit()
    with httpx.Client(base_url=base, timeout=300, headers={"Authorization": f"Bearer {secret}"}) as http:
        assert http.post("/datasets", json={"name": "0"}).status_code == 201
        path = demo_dir() / "electricity.csv"
        r = http.post("/datasets/0/loads", data={"activity_type": "electricity"}, files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 201 and r.json()["load_id"] == 1
        assert http.post("/runs", json={"dataset": "0", "methodologies": ["scope2.electricity.location_based"]}).status_code == 202
        run_worker(module_db_url, once=True)
        assert http.get("/runs/1").status_code == 200
    return secret


@pytest.fixture(scope="module")
def api_schema(base: str):
    # Without the coverage phase (every boundary of every parameter): on the factor search alone,
    # whose worded searches take 0.3-0.8 s each, it took 90 s of a 150 s test
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    return schemathesis.openapi.from_url(f"{base}/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_no_server_error_and_responses_conform(case, token):
    # Left out: positive_data_acceptance, since a request the schema allows may still be one the
    # command line refuses (an unknown factor set, a period that is not one), and the API then
    # answers 400 with the CLI's message, as it should; negative_data_rejection, since the API
    # ignores query parameters it does not know, as HTTP APIs do, and every request here carries
    # the token (test_http_shared.py tests requests without one)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, timeout=120,
                           excluded_checks=[schemathesis.checks.positive_data_acceptance,
                                            schemathesis.checks.negative_data_rejection])
