"""The HTTP API as its users run it, for the tests of tests/service/test_http*.py: ``ccf serve``'s
application under uvicorn in a process of its own, on a free localhost port, over a real database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

import httpx

START_TIMEOUT_S = 120.0  # a wait for the process to listen, not an assertion about its speed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(db_url: str) -> Iterator[str]:
    """uvicorn serving ``create_app`` for the database at ``db_url``; yields its base URL. Its
    log (stderr: the traceback of a 500) is printed when it stops, for pytest to show with a
    failing test."""
    from ccf.engine.api import open_database
    from ccf.engine.service.serve import KEEP_ALIVE_S  # as 'ccf serve': no reused connection closed under a client

    open_database(db_url).close()  # as 'ccf serve' does first: migrated, factor sets installed
    port = free_port()
    env = {**os.environ, "CCF_DATABASE_URL": db_url}
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ccf.engine.service.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--timeout-keep-alive", str(KEEP_ALIVE_S)],
        env=env, stdout=subprocess.DEVNULL, stderr=log, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start listening")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.seek(0)
        print(log.read())
        log.close()
