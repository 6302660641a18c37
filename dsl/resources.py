"""Where ccf's shipped files are: the one locator of every file ccf reads from its installation.

The grammar and the unit registry (``ccf.dsl``), the methodology library with its activity types
and sample data (``ccf.methodologies``, the checkout's ``methodologies/``), the published factor
files (``ccf.factors``, from ``factors/``), the schema migrations, the hand-written bench SQL and
the new project's files (``ccf.engine``) are package data: pyproject.toml maps each top-level folder into the ``ccf``
package, so a wheel carries them, and importlib.resources finds them in an installed wheel and in
an editable install of a checkout alike. No module derives a path from its own ``__file__``.

The engine's locations are named here as package names, not imported: the language layer imports
nothing of the engine (tests/test_layering.py), and only engine code asks for them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ccf.dsl.diagnostics import CcfError


def directory(package: str) -> Path:
    """The directory of one of ccf's packages.

    pip unpacks a wheel into site-packages and an editable install reads the checkout, so this is
    a directory on disk: the factor loaders, the library and the sample data's loads open real
    files, which a package imported from a zip could not give them; that is refused with a
    message rather than half working."""
    where = resources.files(package)
    if not isinstance(where, Path) or not where.is_dir():
        raise CcfError(f"{package} is not installed as files on disk ({where}); install ccf with pip")
    return where


def _shipped(path: Path) -> Path:
    """A file or folder ccf ships: a missing one is a damaged installation, said so (a CcfError,
    never a FileNotFoundError's traceback)."""
    if not path.exists():
        raise CcfError(f"{path} is missing from ccf's installation; reinstall ccf")
    return path


def dsl_file(name: str) -> Path:
    """A data file of the language itself (``grammar.lark``, ``units.toml``)."""
    return _shipped(directory("ccf.dsl") / name)


def methodologies() -> Path:
    """The shipped methodology library: activity types, methodology versions, published.lock."""
    return directory("ccf.methodologies")


def sample_company(name: str = "northwind") -> Path:
    """The activity data and entity sets of a fictional sample company (``ccf demo``, ``ccf bench``)."""
    return methodologies() / "sample_data" / name


def factors() -> Path:
    """The published factor and rate files, byte-identical to their publishers' releases."""
    return directory("ccf.factors")


def migrations() -> Path:
    """The engine's schema migrations (``NNNN_name.sql``)."""
    return _shipped(directory("ccf.engine") / "migrations")


def embedded_roles() -> Path:
    """The script the embedded server's superuser runs to make ccf's logins (``ccf``, ``ccf_runner``)."""
    return _shipped(directory("ccf.engine") / "embedded_roles.sql")


def bench_sql(ref: str) -> Path:
    """The hand-written SQL ``ccf bench`` times a methodology version against."""
    return _shipped(directory("ccf.engine") / "bench" / "handwritten" / f"{ref}.sql")


def project_template() -> Path:
    """The files ``ccf init`` copies into a new project (names and texts with placeholders)."""
    return _shipped(directory("ccf.engine") / "project_template")


def checkout() -> Path | None:
    """The source checkout this ccf runs from, when it is an editable install (its
    ``methodologies/`` is the library above); None for an installed wheel, which carries neither
    the snapshots nor a place to record new published versions (``ccf lock``)."""
    root = methodologies().parent
    return root if (root / "pyproject.toml").is_file() and (root / "snapshots").is_dir() else None
