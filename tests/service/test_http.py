"""Every endpoint of an organisation's data through the HTTP API, against uvicorn in a process of
its own (http_server.py) over a real database: datasets, uploads (CSV, XLSX, Parquet), rejected
rows, run jobs executed by a worker, runs and what is read of them; and organisation B's token,
through every endpoint, never reaching organisation A's data."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from service.http_server import server

PROBLEM = "application/problem+json"
A_DATASET = "northwind"
TYPES = ("electricity", "stationary_fuel", "business_travel")  # electricity.csv rejects a row (line 25)


@pytest.fixture(scope="module")
def site(module_db_url: str, tmp_path_factory):
    """The server, two organisations' tokens, and organisation A's dataset: loaded through the
    API (one file as CSV, one as XLSX, one as Parquet), with its entity set, run by a worker."""
    from ccf.engine.api import demo_dir
    from ccf.engine.database import connect
    from ccf.engine.service.orgs import create_org, create_token

    with connect(module_db_url) as conn:
        tokens = {}
        for org in ("org-a", "org-b"):
            create_org(conn, org)
            tokens[org] = create_token(conn, org)
        conn.commit()
    folder = tmp_path_factory.mktemp("uploads")
    files = {"electricity": demo_dir() / "electricity.csv",
             "stationary_fuel": _as_xlsx(demo_dir() / "stationary_fuel.csv", folder),
             "business_travel": _as_parquet(demo_dir() / "business_travel.csv", folder)}
    with server(module_db_url) as base:
        a = httpx.Client(base_url=base, timeout=300, headers={"Authorization": f"Bearer {tokens['org-a']}"})
        b = httpx.Client(base_url=base, timeout=300, headers={"Authorization": f"Bearer {tokens['org-b']}"})
        entities = demo_dir() / "entities" / "northwind-2024.csv"
        r = a.post("/entity-sets", data={"name": "northwind-2024"}, files={"file": (entities.name, entities.read_bytes())})
        assert r.status_code == 201, r.text
        r = a.post("/datasets", json={"name": A_DATASET, "period": "2024", "entity_set": "northwind-2024"})
        assert r.status_code == 201, r.text
        loads = {}
        for activity_type, path in files.items():
            with path.open("rb") as f:
                r = a.post(f"/datasets/{A_DATASET}/loads", data={"activity_type": activity_type}, files={"file": (path.name, f)})
            assert r.status_code == 201, r.text
            loads[activity_type] = r.json()
        job = _run(module_db_url, a, {"dataset": A_DATASET})
        yield {"a": a, "b": b, "loads": loads, "job": job, "run_id": job["run_id"], "url": module_db_url}
        a.close()
        b.close()


def _as_xlsx(csv_path: Path, folder: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    with csv_path.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            ws.append(row)
    out = folder / (csv_path.stem + ".xlsx")
    wb.save(out)
    return out


def _as_parquet(csv_path: Path, folder: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with csv_path.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    table = pa.table({h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(header)})
    out = folder / (csv_path.stem + ".parquet")
    pq.write_table(table, out)
    return out


def _run(url: str, client: httpx.Client, request: dict, key: str | None = None) -> dict:
    """Start a run job, let a worker execute the queue, and return the job as the API shows it."""
    from ccf.engine.service.worker import run_worker

    r = client.post("/runs", json=request, headers={"Idempotency-Key": key} if key else {})
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    run_worker(url, once=True)
    job = client.get(location).json()
    assert job["state"] == "succeeded", job["error"]
    return job


def _key(owner, org: str, name: str) -> str:
    """The key of an organisation's dataset (the engine's name for it), read as the owner."""
    (key,) = owner.execute("SELECT d.dataset FROM ccf.dataset AS d JOIN ccf.organisation AS o USING (org_id) "
                           "WHERE o.name = %s AND d.name = %s", [org, name]).fetchone()
    return key


def test_datasets_and_loads(site):
    a, loads = site["a"], site["loads"]
    listed = a.get("/datasets").json()
    assert [d["dataset"] for d in listed] == [A_DATASET]
    shown = a.get(f"/datasets/{A_DATASET}").json()
    assert shown["period"] == "2024-01-01..2024-12-31" and shown["entity_set"] == "northwind-2024"
    assert {load["activity_type"] for load in shown["loads"]} == set(TYPES)
    electricity = loads["electricity"]
    assert electricity["file"] == "electricity.csv"  # the name it was sent under, not the server's temporary file
    one = a.get(f"/loads/{electricity['load_id']}").json()
    assert (one["rows_read"], one["rows_loaded"], one["rows_rejected"]) == (
        electricity["rows_read"], electricity["rows_loaded"], electricity["rows_rejected"])
    assert loads["stationary_fuel"]["rows_loaded"] > 0 and loads["business_travel"]["rows_loaded"] > 0  # XLSX, Parquet
    # the same dataset again: 200, nothing new
    assert a.post("/datasets", json={"name": A_DATASET, "period": "2024"}).status_code == 200


def test_rejects_paged(site):
    a, load_id = site["a"], site["loads"]["electricity"]["load_id"]
    every = a.get(f"/loads/{load_id}/rejects", params={"limit": 1000}).json()["items"]
    assert len(every) == site["loads"]["electricity"]["rows_rejected"] >= 2
    assert any(r["line_no"] == 25 and "negative" in r["reason"] for r in every)
    first, second = (a.get(f"/loads/{load_id}/rejects", params={"offset": i, "limit": 1}).json()["items"] for i in (0, 1))
    assert first + second == every[:2]
    of_dataset = a.get(f"/datasets/{A_DATASET}/rejects", params={"limit": 1000}).json()["items"]
    assert [r for r in of_dataset if r["load_id"] == load_id] == every
    assert len(of_dataset) == sum(load["rows_rejected"] for load in site["loads"].values())


def test_upload_errors(site):
    a = site["a"]
    r = a.post(f"/datasets/{A_DATASET}/loads", data={"activity_type": "electricity"}, files={"file": ("meters.txt", b"x")})
    assert r.status_code == 415 and r.headers["content-type"] == PROBLEM
    r = a.post(f"/datasets/{A_DATASET}/loads", data={"activity_type": "electricty"}, files={"file": ("m.csv", b"a\n1\n")})
    assert r.status_code == 400 and "did you mean 'electricity'" in r.json()["detail"]  # the CLI's message
    r = a.post(f"/datasets/{A_DATASET}/loads", data={"activity_type": "electricity"}, files={"file": ("empty.csv", b"")})
    assert r.status_code == 400 and r.json()["detail"].startswith("empty.csv")  # its name, not the temporary file's
    assert "ccf-upload-" not in r.text
    r = a.post(f"/datasets/{A_DATASET}/loads", files={"file": ("m.csv", b"a\n")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.activity_type"


def test_run_job_summary_and_results(site):
    from ccf.engine.database import connect
    from ccf.engine.run import run
    from helpers import shipped_library

    a, run_id, job = site["a"], site["run_id"], site["job"]
    assert job["run_url"] == f"/runs/{run_id}"
    summary = a.get(f"/runs/{run_id}").json()
    assert summary["dataset"] == A_DATASET and summary["methodologies"]
    for m in summary["methodologies"]:  # the reconciliation: every row in one place
        assert m["rows_in"] == m["rows_result"] + m["rows_excluded"] + m["rows_unmatched"], m
    total = Decimal(summary["total_co2e_kg"])
    # results paged and streamed: the same rows, and they add up to the run's total
    paged, offset = [], 0
    while page := a.get(f"/runs/{run_id}/results", params={"offset": offset, "limit": 50}).json()["items"]:
        paged += page
        offset += 50
    streamed = a.get(f"/runs/{run_id}/results.csv")
    assert streamed.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(streamed.text)))
    assert len(rows) == len(paged) > 0
    assert [(r["methodology_id"], r["activity_id"], r["co2e_kg"]) for r in rows] == [
        (r["methodology_id"], r["activity_id"], r["co2e_kg"]) for r in paged]
    assert all(isinstance(r["co2e_kg"], str) for r in paged)  # decimal strings, never floats
    by_methodology: dict[str, Decimal] = {}
    for r in rows:
        by_methodology[r["methodology_id"]] = by_methodology.get(r["methodology_id"], Decimal(0)) + Decimal(r["co2e_kg"])
    assert by_methodology == {m["methodology"]: Decimal(m["co2e_kg"]) for m in summary["methodologies"] if m["rows_result"]}
    # the same methodologies run by the engine itself (the command line's run) give the same total
    lib = shipped_library()
    with connect(site["url"]) as conn:
        report = run(conn, _key(conn, "org-a", A_DATASET), [lib.resolve(f"{m['methodology']}@{m['version']}") for m in summary["methodologies"]])
    assert report.co2e_kg == total
    assert a.get("/runs", params={"dataset": A_DATASET}).json()[0]["run_id"] == run_id


def test_idempotent_start_and_cancel(site):
    a = site["a"]
    key = "retry-me-once"
    first = a.post("/runs", json={"dataset": A_DATASET, "methodologies": ["scope2.electricity.location_based"]},
                   headers={"Idempotency-Key": key})
    again = a.post("/runs", json={"dataset": A_DATASET, "methodologies": ["scope2.electricity.location_based"]},
                   headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202
    assert first.headers["location"] == again.headers["location"]
    cancelled = a.post(first.headers["location"] + "/cancel").json()
    assert cancelled["state"] == "cancelled"
    assert a.get(first.headers["location"]).json()["state"] == "cancelled"
    assert first.headers["location"] in {j["url"] for j in a.get("/jobs").json()}
    r = a.post("/runs", json={"dataset": A_DATASET, "methodologies": ["no.such.methodology"]})
    assert r.status_code == 400 and r.json()["detail"].startswith("no methodology 'no.such.methodology'")


def test_unmatched_explain_verify_report_impact(site):
    a, run_id = site["a"], site["run_id"]
    assert isinstance(a.get(f"/runs/{run_id}/unmatched").json(), list)
    e = a.get(f"/runs/{run_id}/explain/EL-HOLD-2024Q1").json()
    assert e["activity_id"] == "EL-HOLD-2024Q1" and e["methodologies"]
    r = a.get(f"/runs/{run_id}/explain/NO-SUCH-ROW")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    v = a.post(f"/runs/{run_id}/verify").json()
    assert v["identical"] is True, v
    report = a.get(f"/runs/{run_id}/report", params={"approach": "operational-control"})
    assert report.status_code == 200 and report.headers["content-type"].startswith("application/json")
    assert report.json()["entity_set"]["source_file"] == "northwind-2024.csv"  # as sent, not the server's temporary file
    assert "ccf-upload-" not in report.text
    html = a.get(f"/runs/{run_id}/report", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text.lower()



def test_impact_as_a_job(site):
    """The impact of one version against another is a background job: 202 and the job's URL,
    progress over the two versions, and the attribution in the job once a worker has done it,
    the same as the engine's own (``ccf diff A B --dataset``)."""
    from ccf.engine.attribution import attribute
    from ccf.engine.database import connect
    from ccf.engine.service.worker import run_worker
    from helpers import shipped_library

    a, versions = site["a"], {"from": "scope3.cat6.business_travel@1.0.0", "to": "scope3.cat6.business_travel@2.0.0"}
    queued = a.post(f"/datasets/{A_DATASET}/impact", json=versions, headers={"Idempotency-Key": "impact-1"})
    assert queued.status_code == 202, queued.text
    job = queued.json()
    assert (job["kind"], job["state"], job["dataset"], job["versions"]) == ("impact", "queued", A_DATASET, list(versions.values()))
    assert queued.headers["location"] == job["url"] == a.post(f"/datasets/{A_DATASET}/impact", json=versions,
                                                                headers={"Idempotency-Key": "impact-1"}).headers["location"]
    run_worker(site["url"], once=True)
    done = a.get(job["url"]).json()
    assert done["state"] == "succeeded", done["error"]
    assert (done["progress"]["methodology_index"], done["progress"]["methodology_count"]) == (2, 2)
    assert done["progress"]["rows_done"] == done["progress"]["rows_total"] > 0
    impact = done["impact"]
    assert (impact["from"], impact["to"], impact["dataset"]) == (versions["from"], versions["to"], A_DATASET)
    assert "impact" not in next(j for j in a.get("/jobs").json() if j["id"] == job["id"])  # lists leave it out
    lib = shipped_library()
    with connect(site["url"]) as conn:
        engine = attribute(conn, _key(conn, "org-a", A_DATASET), lib.resolve(versions["from"]), lib.resolve(versions["to"])).to_json()
    assert impact["total_co2e_kg"] == engine["total_co2e_kg"] and impact["causes"] == engine["causes"]
    r = a.post(f"/datasets/{A_DATASET}/impact", json={"from": versions["from"], "to": "scope2.electricity.location_based@1.3.0"})
    assert r.status_code == 400 and "cannot be paired row by row" in r.json()["detail"]


# --- organisations apart ---------------------------------------------------------------------


def test_another_organisation_sees_nothing_of_it(site):
    """Organisation B's token: A's dataset, loads, rejects, runs, results, explain, verify, report,
    impact and jobs are 404 (as for what does not exist), lists are empty, deletes change nothing."""
    a, b, run_id = site["a"], site["b"], site["run_id"]
    load_id, job_url = site["loads"]["electricity"]["load_id"], site["job"]["url"]
    assert b.get("/datasets").json() == []
    assert b.get("/runs").json() == []
    assert b.get("/jobs").json() == []
    assert b.get("/entity-sets").json() == []
    hidden = [
        ("GET", f"/datasets/{A_DATASET}", {}), ("GET", f"/datasets/{A_DATASET}/rejects", {}),
        ("GET", f"/loads/{load_id}", {}), ("GET", f"/loads/{load_id}/rejects", {}),
        ("GET", f"/runs/{run_id}", {}), ("GET", f"/runs/{run_id}/results", {}), ("GET", f"/runs/{run_id}/results.csv", {}),
        ("GET", f"/runs/{run_id}/unmatched", {}), ("GET", f"/runs/{run_id}/explain/EL-HOLD-2024Q1", {}),
        ("POST", f"/runs/{run_id}/verify", {}), ("GET", f"/runs/{run_id}/report", {}),
        ("GET", f"/runs", {"params": {"dataset": A_DATASET}}),
        ("POST", f"/datasets/{A_DATASET}/impact", {"json": {"from": "scope3.cat6.business_travel@1.0.0",
                                                             "to": "scope3.cat6.business_travel@2.0.0"}}),
        ("GET", job_url, {}), ("POST", job_url + "/cancel", {}),
        ("POST", "/runs", {"json": {"dataset": A_DATASET}}),
        ("POST", f"/datasets/{A_DATASET}/loads", {"data": {"activity_type": "electricity"},
                                                   "files": {"file": ("x.csv", b"activity_id\n")}}),
        ("DELETE", f"/datasets/{A_DATASET}", {"params": {"cascade": "true"}}),
        ("DELETE", f"/runs/{run_id}", {}),
    ]
    for method, path, kwargs in hidden:
        r = b.request(method, path, **kwargs)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["detail"].startswith("there is no "), (path, r.text)  # as for what nobody has
    # and A's data is all there still
    assert a.get(f"/runs/{run_id}").status_code == 200
    assert [(d["dataset"], d["period"]) for d in a.get("/datasets").json()] == [(A_DATASET, "2024-01-01..2024-12-31")]
    assert a.get(job_url).json()["state"] == "succeeded"


def test_a_dataset_of_its_own_deleted(site):
    """B makes, loads, runs and deletes a dataset and an entity set of its own, under the names
    A's have: no conflict, and every answer says B's names; A's are untouched."""
    from ccf.engine.api import demo_dir

    b = site["b"]
    entities = demo_dir() / "entities" / "northwind-2024.csv"
    r = b.post("/entity-sets", data={"name": "northwind-2024"}, files={"file": (entities.name, entities.read_bytes())})
    assert r.status_code == 201 and r.json()["entity_set"] == "northwind-2024", r.text
    assert [s["name"] for s in b.get("/entity-sets").json()] == ["northwind-2024"]
    r = b.post("/datasets", json={"name": A_DATASET, "period": "2025", "entity_set": "northwind-2024"})
    assert r.status_code == 201, r.text
    assert (r.json()["dataset"], r.json()["period"], r.json()["entity_set"]) == (A_DATASET, "2025-01-01..2025-12-31", "northwind-2024")
    r = b.post("/datasets", json={"name": A_DATASET, "period": "2024"})  # B's dataset's period, not A's
    assert r.status_code == 400 and r.json()["detail"] == (
        f"dataset {A_DATASET!r} has the reporting period 2025-01-01..2025-12-31, not 2024-01-01..2024-12-31: a dataset "
        "keeps the period it was created with (leave --period out, or load into a new dataset)"), r.text
    path = demo_dir() / "electricity.csv"
    lines = path.read_text().splitlines()
    year_2025 = "\n".join([lines[0]] + [line.replace("2024", "2025") for line in lines[1:]]) + "\n"
    r = b.post(f"/datasets/{A_DATASET}/loads", data={"activity_type": "electricity"},
               files={"file": (path.name, year_2025.encode())})
    assert r.status_code == 201 and r.json()["dataset"] == A_DATASET, r.text
    assert [d["dataset"] for d in b.get("/datasets").json()] == [A_DATASET]
    assert b.get(f"/datasets/{A_DATASET}").json()["loads"][0]["load_id"] == r.json()["load_id"]
    assert b.get(f"/loads/{r.json()['load_id']}").json()["dataset"] == A_DATASET
    job = _run(site["url"], b, {"dataset": A_DATASET, "methodologies": ["scope2.electricity.location_based"]})
    assert job["dataset"] == A_DATASET and b.get(f"/runs/{job['run_id']}").json()["dataset"] == A_DATASET
    assert [r["dataset"] for r in b.get("/runs", params={"dataset": A_DATASET}).json()] == [A_DATASET]
    report = b.get(f"/runs/{job['run_id']}/report", params={"entity_set": "northwind-2024"})
    assert report.status_code == 200 and "org-b." not in report.text, report.text
    # a run deleted on its own: 204, with every row it wrote; then it is not there
    other = _run(site["url"], b, {"dataset": A_DATASET, "methodologies": ["scope2.electricity.location_based"]})
    assert b.get(f"/runs/{other['run_id']}/results").json()["items"]
    deleted = b.delete(f"/runs/{other['run_id']}")
    assert deleted.status_code == 204 and deleted.content == b"", deleted.text
    assert b.get(f"/runs/{other['run_id']}").status_code == 404
    assert b.delete(f"/runs/{other['run_id']}").status_code == 404
    assert [r["run_id"] for r in b.get("/runs").json()] == [job["run_id"]]
    assert b.get(other["url"]).json()["run_id"] is None  # the job that made it stays, without its run
    refused = b.delete(f"/datasets/{A_DATASET}")  # a run depends on it: the CLI's message naming it, nothing deleted
    assert refused.status_code == 409 and str(job["run_id"]) in refused.json()["detail"]
    assert f"dataset {A_DATASET!r} has 1 run(s)" in refused.json()["detail"] and "org-b." not in refused.text
    deleted = b.delete(f"/datasets/{A_DATASET}", params={"cascade": "true"})
    assert deleted.status_code == 200 and deleted.json()["deleted"] == f"dataset {A_DATASET} and its 1 run(s)", deleted.text
    assert b.get(f"/runs/{job['run_id']}").status_code == 404
    assert b.get("/datasets").json() == []
    assert b.get(f"/datasets/{A_DATASET}").status_code == 404
    shown = site["a"].get(f"/datasets/{A_DATASET}").json()
    assert (shown["dataset"], shown["period"], len(shown["loads"])) == (A_DATASET, "2024-01-01..2024-12-31", 3)
