"""A run directory is reaped once its owner is gone, never while it lives (tests/server_reaper.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import server_reaper


def _run_dir(root, name):
    shared = root / f"{server_reaper.PREFIX}{name}"
    shared.mkdir()
    (shared / "template.lock").touch()
    return shared


def test_a_run_whose_owner_lives_is_kept_and_one_whose_owner_died_is_removed(tmp_path):
    alive, dead, unowned = _run_dir(tmp_path, "alive"), _run_dir(tmp_path, "dead"), _run_dir(tmp_path, "old")
    with server_reaper.owned(alive):
        # the dead run's owner: a process that took the lock and was killed (SIGKILL runs no clean-up)
        owner = subprocess.Popen([sys.executable, "-c", "import sys, time, server_reaper as r; from pathlib import Path;"
                                  "held = r.owned(Path(sys.argv[1])); print(flush=True); time.sleep(600)", str(dead)],
                                 stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(Path(server_reaper.__file__).parent)})
        try:
            owner.stdout.readline()  # it holds the lock now
            assert server_reaper.sweep(tmp_path) == []
        finally:
            owner.kill()
            owner.wait()
        assert server_reaper.sweep(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and unowned.exists()  # no owner.lock: nothing says it is orphaned
    assert server_reaper.sweep(tmp_path) == [alive]  # its owner lock released



def test_the_watchdog_reaps_once_its_owner_is_gone(tmp_path):
    shared = _run_dir(tmp_path, "killed")
    lock = server_reaper.owned(shared)
    watchdog = server_reaper.watch(shared)
    lock.close()  # what the kernel does for a killed owner
    watchdog.wait(timeout=60)
    assert not shared.exists()
