"""tests/cpu_times.py counts what it says: the CPU of the processes a test waited for, and that of
the run's embedded server. Each figure is a lower bound checked against CPU spent on purpose
(counted by the process that spent it), never against a clock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

import cpu_times

BUSY = "import time\nwhile time.process_time() < 0.3:\n    pass\n"


def test_a_subprocess_waited_for_counts_in_the_test_that_ran_it():
    before = cpu_times.spent()
    subprocess.run([sys.executable, "-c", BUSY], check=True, timeout=600)
    assert cpu_times.spent() - before >= 0.3


@pytest.mark.skipif(bool(os.environ.get("CCF_DATABASE_URL")), reason="the run's embedded server only")
def test_the_servers_cpu_holds_its_ended_backends(pg_admin_url):
    import psutil

    pgdata = Path(os.environ["CCF_TESTS_SHARED"]) / "pgdata"
    before = cpu_times.server_cpu(pgdata)
    with psycopg.connect(pg_admin_url) as conn:
        (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone()
        conn.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
        backend = psutil.Process(pid)
        own = sum(backend.cpu_times()[:2])
    backend.wait(timeout=120)  # ended, so counted only among the postmaster's children
    assert own > 0 and before is not None
    # times are whole clock ticks (1/100 s) summed as floats; and a backend of another test that
    # ended but is not yet reaped counts nowhere for a moment: read again until reaped
    tick = 0.011
    for _ in range(50):
        gained = cpu_times.server_cpu(pgdata) - before
        if gained >= own - tick:
            break
        time.sleep(0.1)
    assert gained >= own - tick
    assert cpu_times.server_cpu(pgdata / "nothing") is None
