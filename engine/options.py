"""Settings and the command line's shared conventions: the one place a setting is resolved.

A setting comes from the most specific place that gives it: a command-line flag, else a ``CCF_*``
environment variable, else the project's ``ccf.yaml`` (found from the current folder upwards,
``engine/project.py``), else the default (docs/commands.md#settings). ``settings()`` resolves them
once per command; every module that needs one (the database, the library's folders) asks here.

The conventions (docs/commands.md#conventions): ``--json`` on every command that prints,
``--target`` on every command that uses the database, and an old spelling kept working as a
deprecated alias that says so.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from ccf.dsl.diagnostics import CcfError, did_you_mean

if TYPE_CHECKING:  # the project file's reader (pydantic) is imported when a command asks for a setting
    from ccf.engine.project import Project

DEFAULT_HOME = Path.home() / ".ccf"


@dataclass(frozen=True)
class Settings:
    """Where a command works: its project (None outside one), its target, its database."""

    project: Project | None
    target: str | None  # the project's target in use (None outside a project)
    database_url: str | None  # None: the embedded server under ``home``
    url_source: str  # what gave the URL, for messages: CCF_DATABASE_URL, or a target's variable
    home: Path  # the embedded server's folder (its data in home/pgdata)
    library: Path | None  # CCF_METHODOLOGIES: a library instead of the shipped one (None: shipped)


def resolve(target_flag: str | None, environ: Mapping[str, str], cwd: Path) -> Settings:
    """The settings of a command run in ``cwd`` with ``--target`` (or None) and ``environ``.

    The database is the first of: the target named by ``--target``; ``CCF_DATABASE_URL``; the
    target named by ``CCF_TARGET``, else the project's default target; the embedded server.
    The embedded server's folder is the first of: an embedded target named by ``--target``;
    ``CCF_HOME``; the project's embedded target; ``~/.ccf``."""
    from ccf.engine.project import find

    project = find(cwd)
    env_url = environ.get("CCF_DATABASE_URL") or None
    env_target = environ.get("CCF_TARGET") or None
    library = Path(environ["CCF_METHODOLOGIES"]) if environ.get("CCF_METHODOLOGIES") else None
    named = target_flag or env_target
    if named is not None and project is None:
        how = "--target" if target_flag else "CCF_TARGET"
        raise CcfError(f"{how} {named!r} names a target of a project, and there is no ccf.yaml in this folder "
                       "or above it (make a project with 'ccf init DIR')")
    if target_flag is None and env_target and env_url:
        raise CcfError("CCF_TARGET and CCF_DATABASE_URL both name the database; unset one of them")
    home = Path(environ["CCF_HOME"]) if environ.get("CCF_HOME") else None
    if project is None:
        return Settings(None, None, env_url, "CCF_DATABASE_URL", home or DEFAULT_HOME, library)
    name = named or project.default_target
    target = project.targets.get(name)
    if target is None:
        hint = did_you_mean(name, project.targets)
        raise CcfError(f"{project.file} has no target {name!r}" + (f"; {hint}" if hint else "")
                       + "; its targets: " + ", ".join(sorted(project.targets)))
    if env_url and target_flag is None:
        return Settings(project, name, env_url, "CCF_DATABASE_URL", home or target.embedded or DEFAULT_HOME, library)
    if target.url_env is not None:
        url = environ.get(target.url_env)
        if not url:
            raise CcfError(f"target {name!r} of {project.file} takes its database URL from the environment "
                           f"variable {target.url_env}, which is not set")
        return Settings(project, name, url, f"{target.url_env} (target {name})", home or DEFAULT_HOME, library)
    folder = target.embedded if target_flag else (home or target.embedded)
    return Settings(project, name, None, "CCF_DATABASE_URL", folder or DEFAULT_HOME, library)


_command: dict[str, Any] | None = None  # while a command runs: its --target and, once resolved, its settings


@contextmanager
def command(target_flag: str | None) -> Iterator[None]:
    """The extent of one command: its settings are resolved at first use and then kept, so every
    part of the command sees the same project and database."""
    global _command
    outer, _command = _command, {"target": target_flag}
    try:
        yield
    finally:
        _command = outer


def settings() -> Settings:
    """The settings in force: the running command's, else (the Python API) resolved now."""
    if _command is None:
        return resolve(None, os.environ, Path.cwd())
    if "settings" not in _command:
        _command["settings"] = resolve(_command["target"], os.environ, Path.cwd())
    return _command["settings"]


POSTGRESQL, CLICKHOUSE = "postgresql", "clickhouse"  # ccf.run.engine (migration 0028): where a run's rows are
ENGINES = (POSTGRESQL, CLICKHOUSE)  # docs/scale-out.md


@dataclass(frozen=True)
class EngineSettings:
    """Which engine computes a run, and where ClickHouse is: a server (``CCF_CLICKHOUSE_URL``,
    clickhouse-connect), else chdb in-process with its data in ``chdb_dir``."""

    engine: str
    clickhouse_url: str | None
    chdb_dir: Path


def engine_settings(flag: str | None = None, environ: Mapping[str, str] | None = None) -> EngineSettings:
    """``--engine`` if given, else ``CCF_ENGINE``, else PostgreSQL; chdb's folder is
    ``CCF_CLICKHOUSE_DIR``, else ``clickhouse`` under the embedded server's folder (CCF_HOME)."""
    env = os.environ if environ is None else environ
    engine = flag or env.get("CCF_ENGINE") or POSTGRESQL
    if engine not in ENGINES:
        hint = did_you_mean(engine, ENGINES)
        raise CcfError(f"CCF_ENGINE is {engine!r}, which is no engine of ccf" + (f"; {hint}" if hint else "")
                       + "; the engines: " + ", ".join(ENGINES))
    folder = Path(env["CCF_CLICKHOUSE_DIR"]) if env.get("CCF_CLICKHOUSE_DIR") else settings().home / "clickhouse"
    return EngineSettings(engine, env.get("CCF_CLICKHOUSE_URL") or None, folder)


def engine_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--engine {postgresql,clickhouse}``: where a command computes runs (default:
    CCF_ENGINE, else postgresql). Commands that read a run have none: they follow the engine
    the run records (ccf.run.engine)."""
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="the engine that computes the run and holds its rows (default: CCF_ENGINE, else postgresql)")
    return parser


def known_url() -> str:
    """The database URL in force, for masking its password in a message ('' when unknown): a
    message about a failure must not itself fail on a broken setting."""
    try:
        return settings().database_url or ""
    except CcfError:
        return os.environ.get("CCF_DATABASE_URL", "")


# --- command-line conventions -------------------------------------------------------------


def json_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--json``: machine-readable output instead of text."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def target_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--target NAME``: the project's database to use (ccf.yaml's targets). SUPPRESS as the
    default: a subcommand's parser must not overwrite what the main parser read."""
    parser.add_argument("--target", metavar="NAME", default=argparse.SUPPRESS,
                        help="the project target (database) to use (default: CCF_TARGET, else ccf.yaml's default_target)")
    return parser


class DeprecatedAlias(argparse.Action):
    """An option's old spelling: stores into the new one's ``dest`` and warns on stderr. Added
    with ``help=argparse.SUPPRESS`` and ``new="--the-new-spelling"``."""

    def __init__(self, option_strings: list[str], dest: str, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        deprecated(f"{option_string}", self.new)
        setattr(namespace, self.dest, values)


def deprecated(old: str, new: str) -> None:
    """Warn that a spelling is deprecated, naming the one to use."""
    sys.stderr.write(f"warning: '{old}' is deprecated and will be removed; use '{new}'\n")
