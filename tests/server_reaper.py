"""A test run's embedded server never outlives the pytest that started it.

The controlling pytest process makes the run's directory (``ccf-tests-*`` in the system's temporary
folder, tests/conftest.py) and holds an exclusive lock on its ``owner.lock`` for as long as it
lives. The kernel releases that lock however the process ends, a SIGKILL included, so a lock
that can be taken means the run's owner is gone. Two things act on that:

- a watchdog (this file run as a script, in a session of its own so that a signal to pytest's
  process group does not reach it) waits on the lock and, once it gets it, stops the run's server
  and removes the directory: a killed run leaves nothing behind;
- each new run, at its start, does the same for every run directory whose lock it can take (the
  watchdog itself killed, the machine rebooted).

A run that ends normally stops its server itself (``pytest_unconfigure``); its watchdog then finds
nothing left to do. Directories without an ``owner.lock`` (made before it existed) are left alone:
nothing says whether their owner still runs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

PREFIX = "ccf-tests-"
LOCK = "owner.lock"


def owned(shared: Path) -> IO:
    """Take ``shared``'s owner lock for this process (keep the file open for the run's life).

    The lock is taken on a file of another name, then renamed into place: a sweep never sees an
    ``owner.lock`` that is not locked yet."""
    pending = shared / f"{LOCK}.{os.getpid()}"
    lock = open(pending, "w")  # not inherited by child processes (PEP 446): only this one holds it
    fcntl.flock(lock, fcntl.LOCK_EX)
    pending.rename(shared / LOCK)
    return lock


def watch(shared: Path) -> subprocess.Popen:
    """Start the watchdog of ``shared``: it reaps the directory once its owner (this process) is gone."""
    return subprocess.Popen([sys.executable, __file__, str(shared)], start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sweep(root: Path | None = None, keep: Path | None = None) -> list[Path]:
    """Reap every run directory under ``root`` whose owner is gone; the directories reaped."""
    reaped = []
    for shared in sorted(Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*")):
        if shared != keep and _reap_if_orphaned(shared, wait=False):
            reaped.append(shared)
    return reaped


def _reap_if_orphaned(shared: Path, wait: bool) -> bool:
    try:
        lock = open(shared / LOCK)
    except OSError:  # no owner lock (or already reaped)
        return False
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:  # its owner still runs
            return False
        if not (shared / LOCK).exists():  # removed while we waited: the run ended normally
            return False
        _reap(shared)
        return True


def _reap(shared: Path) -> None:
    """Stop the server of a run directory whose owner is gone, and remove the directory."""
    if (shared / "pgdata" / "postmaster.pid").exists():
        from ccf.engine.database import stop_embedded

        stop_embedded(shared / "pgdata")
    shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":  # the watchdog: blocks until the owner's lock is released
    _reap_if_orphaned(Path(sys.argv[1]), wait=True)
