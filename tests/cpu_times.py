"""The suite's CPU time, per test file and in PostgreSQL: ``pytest --cpu-files N``.

On a machine that other work shares, a test's wall time (``--durations``) measures the machine's
load more than the test; the CPU time it spends does not (within some per cent). So the suite is
measured in CPU seconds: with ``--cpu-files N`` the summary lists the N test files that spent
most, each the sum over its tests (setup, call and teardown: a module or session fixture counts
in the test that first asked for it) of the CPU of the process that ran it and of the processes
it waited for (a ``ccf`` subprocess, pip); then the CPU of every process of the run (the workers,
their collection included), and that of the run's embedded PostgreSQL server, which no test's
figure holds (with ``CCF_DATABASE_URL`` the server is not ours to measure). The two-core
machine's bound is their sum over two.
"""

from __future__ import annotations

import resource
from collections import Counter
from pathlib import Path

import pytest

KEY = "ccf_cpu_times"


def spent() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def server_cpu(pgdata: Path) -> float | None:
    """CPU seconds of the server whose data directory is ``pgdata``, its ended backends included
    (the postmaster waits for them); None when it is not running."""
    import psutil

    try:
        postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        times = postmaster.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in postmaster.children():
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:  # ended since listed: now in the postmaster's children times
                pass
        return total
    except (OSError, ValueError, psutil.Error):
        return None


class Recorder:
    """Registered in every process that runs tests (each worker, or the one process with -n 0)."""

    def __init__(self) -> None:
        self.files: Counter[str] = Counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item):
        before = spent()
        yield
        self.files[item.nodeid.split("::")[0]] += spent() - before

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = session.config
        if hasattr(config, "workeroutput"):  # to the controller (pytest-xdist), as plain data
            config.workeroutput[KEY] = {"files": dict(self.files), "process": spent()}


class Summary:
    """Registered in the controlling process: adds up what the workers (or it itself) recorded."""

    def __init__(self, top: int, local: Recorder | None) -> None:
        self.top, self.local = top, local
        self.files: Counter[str] = Counter()
        self.processes = 0.0

    def pytest_testnodedown(self, node, error) -> None:
        data = getattr(node, "workeroutput", {}).get(KEY)
        if data:
            self.files.update(data["files"])
            self.processes += data["process"]

    def pytest_terminal_summary(self, terminalreporter, config: pytest.Config) -> None:
        files, processes = self.files, self.processes
        if self.local is not None:  # -n 0: the tests ran here
            files, processes = self.local.files, spent()
        else:  # the workers' figures and this process's own (its children's times would hold the workers')
            own = resource.getrusage(resource.RUSAGE_SELF)
            processes += own.ru_utime + own.ru_stime
        write = terminalreporter.write_line
        terminalreporter.section(f"CPU time of the {self.top} test files that spent most")
        for name, seconds in files.most_common(self.top):
            write(f"{seconds:8.1f} s  {name}")
        write(f"{sum(files.values()):8.1f} s  in the tests of {len(files)} files")
        write(f"{processes:8.1f} s  in every process of pytest (collection, workers, their subprocesses)")
        server = config.stash.get(SERVER_KEY, None)
        seconds = server_cpu(server) if server is not None else None
        write(f"{seconds:8.1f} s  in the run's embedded PostgreSQL" if seconds is not None
              else "         (PostgreSQL's CPU not measured: CCF_DATABASE_URL's server, or none started)")


SERVER_KEY = pytest.StashKey[Path]()  # the run's embedded server's data directory


def configure(config: pytest.Config, pgdata: Path | None) -> None:
    """Register the recorder where tests run and the summary in the controller, if asked."""
    top = config.getoption("cpu_files")
    if not top:
        return
    worker = hasattr(config, "workerinput")
    distributed = not worker and config.getoption("numprocesses", None) not in (None, 0)
    local = None if distributed else Recorder()
    if local is not None:
        config.pluginmanager.register(local, "ccf_cpu_recorder")
    if not worker:
        if pgdata is not None:
            config.stash[SERVER_KEY] = pgdata
        config.pluginmanager.register(Summary(top, local), "ccf_cpu_summary")
