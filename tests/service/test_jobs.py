"""Background runs (engine/service/jobs.py, worker.py): idempotent starts, cancellation, 20 run
requests sent at once through the HTTP server and run by worker processes side by side with
the totals of sequential runs, and a worker SIGKILLed
in the middle of a run: nothing of that run remains, and its job is run again or failed with the
reason.

A run is held in the middle by a lock the test takes: SHARE on ccf.result lets the run read
everything and stops it at its first result row, after its first progress report (no sleeps,
no timing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from typing import Callable

import psycopg
import pytest

from helpers import shipped_library
from ccf.engine import api
from ccf.engine.database import connect
from ccf.engine.run import run
from ccf.engine.service import jobs, orgs, scoped, worker

SAMPLE = api.demo_dir()
VERSIONS = ["scope1.stationary_combustion", "scope1.mobile_combustion.fuel_based", "scope2.electricity.location_based"]
TYPES = ("stationary_fuel", "mobile_fuel", "electricity")


def _dataset(conn: psycopg.Connection, org: orgs.Org, name: str, types=TYPES) -> str:
    """A dataset of ``org`` with the sample's files of these types."""
    conn.execute("SELECT set_config('ccf.org_id', %s, false)", [str(org.id)])
    lib = shipped_library()
    for t in types:
        api.load_files(conn, name, t, [SAMPLE / f"{t}.csv"], lib)
    conn.execute("SELECT set_config('ccf.org_id', '', false)")
    conn.commit()
    return name


def _totals(conn: psycopg.Connection, run_id: int) -> dict[str, tuple[int, Decimal]]:
    rows = conn.execute("SELECT methodology_id, count(*), sum(co2e_kg) FROM ccf.result WHERE run_id = %s "
                        "GROUP BY methodology_id", [run_id]).fetchall()
    conn.commit()
    return {m: (n, s) for m, n, s in rows}


def _wait_for(condition: Callable[[], object], what: str, timeout_s: float = 300.0):
    """Poll until ``condition`` is true (a bound against a hang, not a timed assertion)."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)
    return value


def _job(url: str, org: orgs.Org, job_id: int) -> jobs.RunJob:
    with scoped.org_connection(org, url) as c:
        job = jobs.get_job(c, org, job_id)
    assert job is not None
    return job


@pytest.fixture()
def acme(db) -> orgs.Org:
    return orgs.create_org(db, "acme")


def test_an_idempotency_key_starts_one_run(db, db_url: str, acme: orgs.Org) -> None:
    _dataset(db, acme, "d", ("stationary_fuel",))
    with scoped.org_connection(acme, db_url) as c:
        first = jobs.start_run(c, acme, "d", VERSIONS[:1], "key-1")
        again = jobs.start_run(c, acme, "d", VERSIONS[:1], "key-1")
        assert again == first and first.state == "queued"
        with pytest.raises(jobs.JobError, match="was used for another run"):
            jobs.start_run(c, acme, "d", VERSIONS[:2], "key-1")
        other = jobs.start_run(c, acme, "d", VERSIONS[:1], None)
        assert jobs.start_run(c, acme, "d", VERSIONS[:1], None).id not in (first.id, other.id)
        assert [j.id for j in jobs.list_jobs(c, acme)][-1] == first.id
        with pytest.raises(jobs.JobError, match="no dataset 'nope'"):
            jobs.start_run(c, acme, "nope", VERSIONS[:1], None)
    # the same key is another organisation's own
    other_org = orgs.create_org(db, "other")
    _dataset(db, other_org, "e", ("stationary_fuel",))
    with scoped.org_connection(other_org, db_url) as c:
        assert jobs.start_run(c, other_org, "e", VERSIONS[:1], "key-1").id != first.id
        with pytest.raises(jobs.JobError, match="no dataset 'd'"):  # A's dataset: not there for B
            jobs.start_run(c, other_org, "d", VERSIONS[:1], None)
        assert jobs.get_job(c, other_org, first.id) is None


def test_a_cancelled_queued_job_never_runs(db, db_url: str, acme: orgs.Org) -> None:
    _dataset(db, acme, "d", ("stationary_fuel",))
    with scoped.org_connection(acme, db_url) as c:
        job = jobs.start_run(c, acme, "d", VERSIONS[:1], None)
        assert jobs.cancel_job(c, acme, job.id).state == "cancelled"
    assert worker.run_worker(db_url, once=True, lib=shipped_library()) == 0
    assert db.execute("SELECT count(*) FROM ccf.run").fetchone() == (0,)


def test_a_running_job_cancelled_is_rolled_back(db, db_url: str, acme: orgs.Org) -> None:
    _dataset(db, acme, "d")
    with scoped.org_connection(acme, db_url) as c:
        job = jobs.start_run(c, acme, "d", VERSIONS, None)
    lib = shipped_library()
    with connect(db_url) as lease, connect(db_url) as conn, connect(db_url) as holder:
        claimed = worker.claim(lease, "test")
        assert claimed is not None and claimed.id == job.id and claimed.state == "running"
        holder.execute("LOCK TABLE ccf.result IN SHARE MODE")  # the run stops at its first result row
        outcome: list[jobs.RunJob] = []
        t = threading.Thread(target=lambda: outcome.append(worker.execute(lease, conn, lib, claimed)))
        t.start()
        running = _wait_for(lambda: (j := _job(db_url, acme, job.id)).methodology_index >= 1 and j, "the run's progress")
        assert running.methodology_count == 3 and running.rows_total > 0
        with scoped.org_connection(acme, db_url) as c:
            assert jobs.cancel_job(c, acme, job.id).cancel_requested
        holder.rollback()
        t.join()
    assert outcome[0].state == "cancelled"
    assert _job(db_url, acme, job.id).state == "cancelled"
    assert db.execute("SELECT count(*) FROM ccf.run").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM ccf.result").fetchone() == (0,)


def _worker_process(url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CCF_DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "ccf.engine.cli", "worker", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_twenty_run_requests_on_four_datasets_through_http_give_the_sequential_totals(db, db_url: str, acme: orgs.Org) -> None:
    """20 ``POST /runs`` sent at once to the real server (uvicorn in a process of its own), on 4
    datasets, executed by two worker processes of two threads each: 20 runs, each with the
    totals of the command line's sequential run of the same dataset."""
    import httpx

    from service.http_server import server

    datasets = [_dataset(db, acme, f"d{i}", TYPES[: i + 1] if i < 3 else TYPES) for i in range(4)]
    lib = shipped_library()
    expected = {}
    for d in datasets:  # sequential runs, as the command line does them
        report = run(db, d, api.resolve(lib, VERSIONS))
        expected[d] = (_totals(db, report.run_id), report.co2e_kg)
    token = orgs.create_token(db, acme.name)
    with server(db_url) as base, httpx.Client(base_url=base, timeout=300, headers={"Authorization": f"Bearer {token}"},
                                              limits=httpx.Limits(max_connections=20)) as client:
        start = threading.Barrier(20)
        answers: dict[int, httpx.Response] = {}

        def send(i: int) -> None:
            start.wait()  # every request in flight together
            answers[i] = client.post("/runs", json={"dataset": datasets[i % 4], "methodologies": VERSIONS},
                                     headers={"Idempotency-Key": f"k{i}"})

        senders = [threading.Thread(target=send, args=(i,)) for i in range(20)]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        assert sorted(answers) == list(range(20)) and {r.status_code for r in answers.values()} == {202}, \
            [r.text for r in answers.values() if r.status_code != 202]
        assert len({r.headers["location"] for r in answers.values()}) == 20
        workers = [_worker_process(db_url, "--once", "--concurrency", "2") for _ in range(2)]
        for w in workers:
            out, err = w.communicate(timeout=900)
            assert w.returncode == 0, err
        done = {i: client.get(r.headers["location"]).json() for i, r in answers.items()}
        assert [j["state"] for j in done.values()] == ["succeeded"] * 20, [(j["state"], j["error"]) for j in done.values()]
        assert len({j["run_id"] for j in done.values()}) == 20
        for i, j in done.items():
            totals, total = expected[datasets[i % 4]]
            assert j["dataset"] == datasets[i % 4] and _totals(db, j["run_id"]) == totals, j
            assert Decimal(client.get(j["run_url"]).json()["total_co2e_kg"]) == total
            p = j["progress"]
            assert (p["methodology_index"], p["methodology_count"], p["rows_done"]) == (3, 3, p["rows_total"])


def test_a_worker_killed_mid_run_leaves_nothing_and_its_job_runs_again(db, db_url: str, acme: orgs.Org) -> None:
    _dataset(db, acme, "d")
    lib = shipped_library()
    with scoped.org_connection(acme, db_url) as c:
        job = jobs.start_run(c, acme, "d", VERSIONS, None)
    with connect(db_url) as holder:
        holder.execute("LOCK TABLE ccf.result IN SHARE MODE")  # the run stops at its first result row
        proc = _worker_process(db_url)
        _wait_for(lambda: _job(db_url, acme, job.id).methodology_index >= 1, "the worker's run to start")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        holder.rollback()
    with connect(db_url) as lease:  # its session gone, its lock is free: queued again
        _wait_for(lambda: worker.recover_lost(lease), "the killed worker's sessions to end")
    lost = _job(db_url, acme, job.id)
    assert (lost.state, lost.attempts) == ("queued", 1)
    assert db.execute("SELECT count(*) FROM ccf.run").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM ccf.result").fetchone() == (0,)
    db.commit()
    assert worker.run_worker(db_url, once=True, lib=shipped_library()) == 1
    again = _job(db_url, acme, job.id)
    assert (again.state, again.attempts) == ("succeeded", 2)
    assert db.execute("SELECT run_id FROM ccf.run").fetchall() == [(again.run_id,)]
    db.commit()
    expected = _totals(db, run(db, "d", api.resolve(lib, VERSIONS)).run_id)
    assert _totals(db, again.run_id) == expected


def test_a_job_that_lost_its_worker_max_attempts_times_fails_with_the_reason(db, db_url: str, acme: orgs.Org) -> None:
    _dataset(db, acme, "d", ("stationary_fuel",))
    with scoped.org_connection(acme, db_url) as c:
        job = jobs.start_run(c, acme, "d", VERSIONS[:1], None)
    db.execute("UPDATE ccf.run_job SET max_attempts = 1 WHERE job_id = %s", [job.id])
    db.commit()
    lease = connect(db_url)
    assert worker.claim(lease, "doomed").id == job.id
    with connect(db_url) as other:
        assert worker.recover_lost(other) == []  # its worker holds it
        lease.close()  # the worker's connection is lost
        assert _wait_for(lambda: worker.recover_lost(other), "the lost session to end") == [job.id]
    failed = _job(db_url, acme, job.id)
    assert failed.state == "failed" and "the worker running it stopped" in failed.error
    assert worker.run_worker(db_url, once=True, lib=shipped_library()) == 0
