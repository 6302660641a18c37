"""The package is the product: the built wheel, installed into a fresh virtual environment, runs
from a folder outside the checkout and carries every shipped file, byte for byte.

This runs with the README's test command (it takes about a minute): the wheel is built from a copy
of the checkout, installed with its dependencies by pip as this machine's pip is configured (no
reuse of the test environment's site-packages), and its ``ccf`` is run with a CCF_HOME of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from ccf.dsl import resources
from ccf.dsl.diagnostics import CcfError
from ccf.engine import __version__
from ccf.engine.database import stop_embedded
from ccf.engine.factors.catalog import SHA256

ROOT = Path(__file__).resolve().parent.parent
# checkout folder -> where the wheel puts it (pyproject.toml's package-dir)
PARTS = {"dsl": "ccf/dsl", "engine": "ccf/engine", "methodologies": "ccf/methodologies", "factors": "ccf/factors"}
# the methodologies whose test cases `ccf test` runs from the installed wheel
WHEEL_CASES = ("scope2.electricity.location_based", "scope2.electricity.market_based",
               "scope3.cat1.purchased_goods.spend_based")


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def work() -> Path:
    """A new temporary directory for the source copy, the wheel, the venv and the CCF_HOME,
    removed at the end. Not under pytest's basetemp, for the reason tests/conftest.py gives: the
    embedded server runs as its own system user under root, and a test session starting meanwhile
    resets that folder to mode 0700, which would lock it out of the venv's PostgreSQL binaries."""
    work = Path(tempfile.mkdtemp(prefix="ccf-wheel-"))
    yield work
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(work: Path) -> Path:
    """The wheel, built from a copy of the checkout without what .gitignore ignores: pip builds in
    the source tree, and a build/ folder left there by an earlier build would put stale files into
    the wheel, hiding a packaging mistake that a clean clone shows."""
    tmp = work / "wheel"
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis"))
    _pip("wheel", "--no-deps", "--quiet", str(source), "-w", str(tmp / "dist"), cwd=tmp)
    (built,) = (tmp / "dist").glob("ccf-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, work: Path) -> Path:
    """A fresh virtual environment with the wheel and its dependencies installed; its directory."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # --no-compile: no byte-code for every module of every dependency up front (much of the
    # install's CPU time); Python compiles the modules ccf imports when it first imports them
    _pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-compile", str(wheel), cwd=venv)
    return venv


def _shipped(folder: str) -> set[str]:
    """Every file of a checkout folder the wheel must carry (not Python's byte-code caches)."""
    base = ROOT / folder
    return {
        p.relative_to(base).as_posix()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_the_wheel_carries_every_file_of_the_package_folders(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, where in PARTS.items():
        in_wheel = {n[len(where) + 1:] for n in names if n.startswith(where + "/")}
        assert in_wheel == _shipped(folder), folder
    assert wheel.name == f"ccf-{__version__}-py3-none-any.whl"


def test_a_package_imported_from_a_zip_is_refused_with_a_message(tmp_path, monkeypatch):
    """Python can import a package from a zip; its files are then no paths on disk, which the
    loaders need: ccf says so instead of failing somewhere inside a loader. (ccf itself cannot be
    imported from a zip, as ccf is a namespace package; a regular package stands in for it.)"""
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ccf_zipped_probe/__init__.py", "")
        z.writestr("ccf_zipped_probe/data.csv", "a,b\n")
    monkeypatch.syspath_prepend(str(archive))
    try:
        with pytest.raises(CcfError, match="ccf_zipped_probe is not installed as files on disk"):
            resources.directory("ccf_zipped_probe")
    finally:
        sys.modules.pop("ccf_zipped_probe", None)


def test_an_editable_install_reads_the_checkout():
    """The README's install (pip install -e .) reads and writes the checkout's own folders."""
    assert (resources.methodologies(), resources.factors()) == (ROOT / "methodologies", ROOT / "factors")
    ref = "scope2.electricity.location_based@1.1.0"
    assert resources.bench_sql(ref) == ROOT / "engine" / "bench" / "handwritten" / f"{ref}.sql"
    assert resources.checkout() == ROOT


@pytest.fixture(scope="module")
def run_ccf(installed: Path, work: Path):
    """Run the installed ccf from a folder outside the checkout, with an embedded server in a
    CCF_HOME of its own (stopped at the end) and nothing of the test run's environment that
    would point it back at the checkout or at another database."""
    home = work / "home"
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCF_", "PYTHON", "VIRTUAL_ENV"))}
    env["CCF_HOME"] = str(home)

    def ccf(*args: str, cwd: Path = elsewhere) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(installed / "bin" / "ccf"), *args], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600)

    yield ccf
    stop_embedded(home / "pgdata")


@pytest.fixture(scope="module")
def project(run_ccf, work: Path) -> Path:
    """The quick start's project, ``ccf init acme`` by the installed wheel (outside the checkout)."""
    done = run_ccf("init", "acme")
    assert done.returncode == 0, done.stderr
    return work / "elsewhere" / "acme"


def test_the_installed_wheel_runs_outside_the_checkout(installed: Path, run_ccf, project: Path):
    done = run_ccf("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"ccf {__version__}\n", "")

    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import ccf.engine; print(ccf.engine.__file__)"],
                           capture_output=True, text=True, check=True, cwd=installed)
    assert Path(where.stdout.strip()).is_relative_to(installed)

    done = run_ccf("list", "--json")
    assert done.returncode == 0, done.stderr
    listed = {f"{m['id']}@{m['version']}" for m in json.loads(done.stdout)}
    assert listed == {p.stem for p in (ROOT / "snapshots" / "totals").glob("*.json")}

    # the quick start (`ccf init acme && cd acme && ccf demo`): the demo of the installed wheel,
    # in the project, computes the numbers the checkout pins for the same versions. One demo for
    # both: a second one (it took 40% of this file's time) would only run the same versions again
    done = run_ccf("demo", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["run"]
    assert run["engine_version"] == __version__
    for m in run["methodologies"]:
        pinned = json.loads((ROOT / "snapshots" / "totals" / f"{m['methodology']}@{m['version']}.json").read_text("utf-8"))
        assert (m["content_hash"], m["co2e_kg"], m["by_gas"]) == (pinned["content_sha256"], pinned["co2e_kg"], pinned["by_gas"])
        assert m["reconciliation"]["balanced"]
    assert len(run["methodologies"]) >= 30

    # `ccf test` runs from the installed wheel (issue 18, item 1): the cases of a few versions that
    # read what a case can (shipped editions by period, instruments, a case's own factors, price
    # indices and currencies); every case runs from the checkout in tests/cases, and the first
    # test above holds that the wheel carries each case file byte for byte
    done = run_ccf("test", *WHEEL_CASES)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.splitlines()[-1]
    assert summary.endswith(" 0 failed") and int(summary.split()[0]) >= len(WHEEL_CASES), done.stdout
    ran = {line.split()[1].split("@")[0] for line in done.stdout.splitlines() if line.startswith("pass ")}
    assert ran == set(WHEEL_CASES), done.stdout

    # a maintainer's command that writes into a checkout says so instead of writing into site-packages
    done = run_ccf("lock")
    assert done.returncode == 1 and "installed package" in done.stderr and "Traceback" not in done.stderr


def test_the_installed_wheel_makes_a_project_and_works_in_it(run_ccf, project: Path):
    """The quick start's project (its demo is the test above's), and the project's methodology
    beside the shipped ones (in the embedded server of the CCF_HOME above, which the environment
    sets over the project's own: no second server to start)."""
    acme = project
    done = run_ccf("list", "--json", cwd=acme / "data")
    assert done.returncode == 0, done.stderr
    mine = [m for m in json.loads(done.stdout) if m["id"] == "acme.scope2.electricity.uk_grid"]
    assert [(m["version"], m["status"]) for m in mine] == [("1.0.0", "draft")]
    done = run_ccf("check", "--offline", cwd=acme)
    assert done.returncode == 0, done.stderr
    done = run_ccf("lock", cwd=acme)  # into the project: nothing published there yet
    assert (done.returncode, done.stdout) == (0, "nothing new to lock\n"), done.stderr


def test_the_installed_factor_files_are_the_published_bytes(installed: Path):
    (factors,) = installed.glob("lib/python3*/site-packages/ccf/factors")
    for file, sha in SHA256.items():
        assert hashlib.sha256((factors / file).read_bytes()).hexdigest() == sha
    for path in (ROOT / "factors").rglob("*.csv"):
        assert (factors / path.relative_to(ROOT / "factors")).read_bytes() == path.read_bytes()
