"""Factor sets and methodology libraries per organisation through the HTTP API (migration 0029,
engine/service/libraries.py, shared_routes.py), against uvicorn in a process of its own over a
real database, runs executed by a worker.

Organisations A and B each upload a factor set named ``my-grid-2024`` (A's grid factors 0.2 and
0.4 kg/kWh, B's 0.3 and 0.5) and a methodology ``own.scope2.grid`` naming it: each sees, runs,
explains and verifies with its own, never the other's; without a token neither is seen.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import httpx
import pytest

from service.http_server import server

PROBLEM = "application/problem+json"
DECLARATION = """\
factor_set: my-grid
title: Our own grid factors
publisher: The organisation
licence: proprietary
attributes: [supply]
gases:
  CO2e: kgCO2e
regions: [GB, DE]
years: [2024, 2025]
editions:
  my-grid-2024:
    periods: ["2024"]
  my-grid-2025:
    periods: ["2025"]
"""
METHODOLOGY = """\
methodology: own.scope2.grid
version: 1.0.0
status: published
title: Scope 2 electricity with our own grid factors
ghg_protocol:
  scope: 2
  source: purchased electricity
  method: location-based
  references:
    - GHG Protocol Scope 2 Guidance (2015), chapter 6.2 location-based method
factor_set: my-grid
gwp: AR5
activity: electricity
factors:
  grid:
    select: {supply: grid}
    region: country
    per: kWh
rules:
  - id: grid
    emissions: quantity * grid
"""
VALUES = {"org-a": ("0.2", "0.4"), "org-b": ("0.3", "0.5")}


def _factors(gb: str, de: str) -> bytes:
    return (f"factor_id,name,unit,gas,value,region,year,supply\nGB-24,Grid GB,kWh,CO2e,{gb},GB,2024,grid\n"
            f"DE-24,Grid DE,kWh,CO2e,{de},DE,2024,grid\n").encode()


def _zip(files: dict[str, str], folder: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for path, text in files.items():
            z.writestr(folder + path, text)
    return out.getvalue()


def _run(url: str, client: httpx.Client, request: dict) -> dict:
    from ccf.engine.service.worker import run_worker

    r = client.post("/runs", json=request)
    assert r.status_code == 202, r.text
    run_worker(url, once=True)
    job = client.get(r.headers["location"]).json()
    assert job["state"] == "succeeded", job["error"]
    return job


@pytest.fixture(scope="module")
def site(module_db_url: str):
    """The server; organisations A and B, each with a token, its own my-grid factor set and
    methodology, and a dataset of the sample company's electricity (2024) run with it."""
    from ccf.engine.api import demo_dir
    from ccf.engine.database import connect
    from ccf.engine.service.orgs import create_org, create_token

    with connect(module_db_url) as conn:
        tokens = {org: (create_org(conn, org), create_token(conn, org))[1] for org in VALUES}
    with server(module_db_url) as base:
        clients = {org: httpx.Client(base_url=base, timeout=300, headers={"Authorization": f"Bearer {t}"})
                   for org, t in tokens.items()}
        anonymous = httpx.Client(base_url=base, timeout=300)
        added, runs = {}, {}
        for org, c in clients.items():
            r = c.post("/factor-sets", data={"id": "my-grid-2024"},
                       files={"file": ("grid.csv", _factors(*VALUES[org])), "declaration": ("my-grid.yaml", DECLARATION)})
            assert r.status_code == 201, r.text
            added[org] = r.json()
            r = c.post("/methodologies", files={"file": ("lib.zip", _zip({"methodologies/own.scope2.grid/1.0.0.yaml": METHODOLOGY}))})
            assert r.status_code == 201, r.text
            assert c.post("/datasets", json={"name": "plants", "period": "2024"}).status_code == 201
            electricity = demo_dir() / "electricity.csv"
            r = c.post("/datasets/plants/loads", data={"activity_type": "electricity"},
                       files={"file": (electricity.name, electricity.read_bytes())})
            assert r.status_code == 201, r.text
            runs[org] = _run(module_db_url, c, {"dataset": "plants", "methodologies": ["own.scope2.grid@1.0.0"]})["run_id"]
        yield {"a": clients["org-a"], "b": clients["org-b"], "none": anonymous, "added": added, "runs": runs,
               "url": module_db_url}
        for c in (*clients.values(), anonymous):
            c.close()


def test_each_organisation_runs_with_its_own_factor_set_of_one_name(site):
    """Same name, same methodology id: each run read its organisation's set (the worker's run
    connection names the organisation; ccf_runner's policy shows it that organisation's sets)."""
    kwh = {}
    for org, c in (("org-a", site["a"]), ("org-b", site["b"])):
        run = c.get(f"/runs/{site['runs'][org]}").json()
        (m,) = run["methodologies"]
        assert m["factor_set"] == "my-grid-2024" and m["rows_unmatched"] == 0 and m["rows_result"] > 20, m
        rows = c.get(f"/runs/{site['runs'][org]}/results", params={"limit": 1000}).json()["items"]
        assert sum(Decimal(r["co2e_kg"]) for r in rows) == Decimal(run["total_co2e_kg"])
        factor = dict(zip(("GB-24", "DE-24"), map(Decimal, VALUES[org])))
        # each row's kWh, by the factor of this organisation's own set: the same data, so the same kWh
        kwh[org] = {r["activity_id"]: (Decimal(r["co2e_kg"]) / factor[r["factor_ids"][0]]).quantize(Decimal("1e-12"))
                    for r in rows}  # (a row's kWh from GJ has no end: its kg CO2e are rounded at the 20th place)
    assert kwh["org-a"] == kwh["org-b"]
    assert site["added"]["org-a"]["sha256"] != site["added"]["org-b"]["sha256"]


def test_explain_and_verify_read_the_organisation_s_own_set(site):
    a, run_id = site["a"], site["runs"]["org-a"]
    e = a.get(f"/runs/{run_id}/explain/EL-DE-2024Q1").json()
    assert "0.4" in str(e) and "my-grid-2024" in str(e) and "org-a." not in str(e)  # its name, never the key
    v = a.post(f"/runs/{run_id}/verify").json()
    assert v["identical"] is True and sum(v["rows_compared"].values()) > 0, v


def test_factor_sets_listed_shown_and_searched_per_organisation(site):
    a, b, none = site["a"], site["b"], site["none"]
    own = [s for s in a.get("/factor-sets").json() if s["library"] == "own"]
    assert [s["id"] for s in own] == ["my-grid-2024"]
    assert all(s["library"] == "shared" for s in none.get("/factor-sets").json())
    assert "my-grid-2024" not in {s["id"] for s in none.get("/factor-sets").json()}
    assert a.get("/factor-sets/my-grid-2024").json()["sha256"] == site["added"]["org-a"]["sha256"]
    assert b.get("/factor-sets/my-grid-2024").json()["sha256"] == site["added"]["org-b"]["sha256"]
    assert none.get("/factor-sets/my-grid-2024").status_code == 404
    for client, (gb, _) in ((a, VALUES["org-a"]), (b, VALUES["org-b"])):
        found = client.get("/factors", params={"q": "Grid GB", "set": "my-grid"}).json()  # the set, by its editions
        assert [(f["set"], f["value"]) for f in found] == [("my-grid-2024", gb)]
    assert none.get("/factors", params={"q": "Grid GB", "set": "my-grid-2024"}).status_code == 400
    assert a.get("/factors", params={"q": "Electricity: UK", "set": "desnz-2025", "limit": 1}).json()  # shared ones too


def test_a_factor_file_with_problems_is_refused_with_the_command_line_s_messages(site, tmp_path):
    """Every problem, with its line and column, as 'ccf factors add' says it; nothing installed."""
    from ccf.dsl.diagnostics import CcfError
    from ccf.engine.factors.commands import factor_file
    from ccf.engine.service.libraries import Libraries
    from helpers import shipped_library

    bad = (b"factor_id,name,unit,gas,value,region,year,supply\nGB-25,Grid GB,kWh,CO2e,zero,GB,2025,grid\n"
           b"DE-25,Grid DE,kWhh,CO2,0.1,FR,2025,grid\n")
    r = site["a"].post("/factor-sets", data={"id": "my-grid-2025"}, files={"file": ("grid-2025.csv", bad)})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    problem = r.json()
    (tmp_path / "grid-2025.csv").write_bytes(bad)
    from ccf.engine.service.orgs import Org

    lib = Libraries(shipped_library()).build(Org(0, "x"), {"factor_sets/my-grid.yaml": DECLARATION}).library
    with pytest.raises(CcfError) as cli:
        factor_file(str(tmp_path / "grid-2025.csv"), "my-grid-2025", factor_sets=lib.factor_sets)
    assert problem["detail"] == str(cli.value).replace(str(tmp_path / "grid-2025.csv"), "grid-2025.csv")
    assert [(e["field"], e["line"]) for e in problem["errors"]] == [("file", 2), ("file", 3), ("file", 3), ("file", 3)]
    assert "column 'value'" in problem["errors"][0]["message"]
    assert "my-grid-2025" not in {s["id"] for s in site["a"].get("/factor-sets").json()}


def test_an_unknown_edition_and_a_shared_set_s_name_are_refused(site):
    a = site["a"]
    r = a.post("/factor-sets", data={"id": "my-grid-2026"}, files={"file": ("g.csv", _factors("1", "2"))})
    assert r.status_code == 400 and "did you mean 'my-grid-2025' or 'my-grid-2024'" in r.json()["detail"], r.text
    shared = DECLARATION.replace("my-grid", "desnz")
    r = a.post("/factor-sets", data={"id": "desnz-2024"}, files={"file": ("g.csv", _factors("1", "2")),
                                                                 "declaration": ("desnz.yaml", shared)})
    assert r.status_code == 400 and "E603" in r.json()["detail"] and r.json()["errors"][0]["file"] == "factor_sets/desnz.yaml"


def test_methodologies_listed_shown_and_diffed_per_organisation(site):
    a, b, none = site["a"], site["b"], site["none"]
    mine = [m for m in a.get("/methodologies").json() if m["library"] == "own"]
    assert [m["ref"] for m in mine] == ["own.scope2.grid@1.0.0"]
    assert "own.scope2.grid" not in {m["id"] for m in none.get("/methodologies").json()}
    shown = a.get("/methodologies/own.scope2.grid/1.0.0").json()
    assert shown["source"] == METHODOLOGY and "factor_set_id" in shown["sql"]
    assert none.get("/methodologies/own.scope2.grid/1.0.0").status_code == 404
    # A's 1.1.0, a draft: B cannot read or diff it, nor run it
    draft = METHODOLOGY.replace("1.0.0", "1.1.0").replace("status: published", "status: draft")
    r = a.post("/methodologies", files={"file": ("lib.zip", _zip({"methodologies/own.scope2.grid/1.1.0.yaml": draft}, "acme/"))})
    assert r.status_code == 201 and r.json()["stored"] == ["methodologies/own.scope2.grid/1.1.0.yaml"], r.text
    assert a.get("/methodologies/own.scope2.grid/1.0.0/diff/1.1.0").json()["changes"]
    assert b.get("/methodologies/own.scope2.grid/1.1.0").status_code == 404
    assert b.get("/methodologies/own.scope2.grid/1.0.0/diff/1.1.0").status_code == 404
    r = b.post("/runs", json={"dataset": "plants", "methodologies": ["own.scope2.grid@1.1.0"]})
    assert r.status_code == 400 and "no methodology 'own.scope2.grid@1.1.0'" in r.json()["detail"]
    r = b.post("/datasets/plants/impact", json={"from": "own.scope2.grid@1.0.0", "to": "own.scope2.grid@1.1.0"})
    assert r.status_code == 400


def test_a_methodology_with_problems_is_refused_with_file_line_and_column(site):
    broken = METHODOLOGY.replace("1.0.0", "2.0.0").replace("quantity * grid", "quantity * gird")
    r = site["a"].post("/methodologies", files={"file": ("lib.zip", _zip({"methodologies/own.scope2.grid/2.0.0.yaml": broken}))})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM, r.text
    (error,) = r.json()["errors"]
    assert error["file"] == "methodologies/own.scope2.grid/2.0.0.yaml" and error["line"] == 21 and error["column"] > 1
    assert "gird" in error["message"] and "--> methodologies/own.scope2.grid/2.0.0.yaml:21:" in r.json()["detail"]
    assert "own.scope2.grid@2.0.0" not in {m["ref"] for m in site["a"].get("/methodologies").json()}


def test_a_published_version_is_not_changed(site):
    changed = METHODOLOGY.replace("Scope 2 electricity with", "Scope 2 electricity, with")
    r = site["a"].post("/methodologies", files={"file": ("lib.zip", _zip({"methodologies/own.scope2.grid/1.0.0.yaml": changed}))})
    assert r.status_code == 409 and "published" in r.json()["detail"]
    assert site["a"].get("/methodologies/own.scope2.grid/1.0.0").json()["source"] == METHODOLOGY


def test_deleting_a_factor_set(site):
    """Refused while a run of the organisation read it (a run is evidence), and for a shared set;
    another organisation's set is no set; once its runs are gone, the set goes, the other's stays."""
    a, b = site["a"], site["b"]
    r = a.delete("/factor-sets/my-grid-2024")
    assert r.status_code == 409 and f"run(s) {site['runs']['org-a']}" in r.json()["detail"]
    assert a.delete("/factor-sets/desnz-2024").status_code == 409
    r = a.post("/factor-sets", data={"id": "my-grid-2025"}, files={"file": ("g.csv", _factors("1", "2").replace(b"2024", b"2025"))})
    assert r.status_code == 201, r.text
    assert b.delete("/factor-sets/my-grid-2025").status_code == 404
    assert b.get("/factor-sets/my-grid-2025").status_code == 404
    assert a.delete("/factor-sets/my-grid-2025").status_code == 204
    assert a.get("/factor-sets/my-grid-2025").status_code == 404
    assert b.delete(f"/runs/{site['runs']['org-b']}").status_code == 204
    assert b.delete("/factor-sets/my-grid-2024").status_code == 204
    assert b.get("/factor-sets/my-grid-2024").status_code == 404
    assert a.get("/factor-sets/my-grid-2024").status_code == 200
