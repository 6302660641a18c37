"""``api.library()`` checks a library once per process while its files are unchanged, and again
as soon as one is written, added or removed; each caller gets a library of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import shipped_library_copy

from ccf.engine import api

LOCATION = "scope2.electricity.location_based"


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A copy of the shipped library with the electricity methodologies (and the activity types
    and factor sets, no sample data): the tests check it six times."""
    return shipped_library_copy(tmp_path / "methodologies", ("scope2.electricity.",), "tests")


def test_an_unchanged_library_is_checked_once_and_each_caller_gets_its_own(root: Path):
    first, second = api.library(root), api.library(root)
    assert first is not second and first.methodologies == second.methodologies
    # the versions themselves were checked once: the second call holds the very same objects
    assert all(second.methodologies[k] is m for k, m in first.methodologies.items())
    # what a caller adds (ccf check of a file outside the library) stays in its own library
    extra = root.parent / "extra.yaml"
    extra.write_text((root / LOCATION / "1.0.0.yaml").read_text("utf-8").replace("version: 1.0.0", "version: 9.9.9"), "utf-8")
    assert first.add(extra, enforce_layout=False) is not None
    assert (LOCATION, "9.9.9") in first.methodologies
    assert (LOCATION, "9.9.9") not in api.library(root).methodologies


def test_a_file_written_added_or_removed_is_read_again(root: Path):
    before = api.library(root)
    assert (LOCATION, "9.9.9") not in before.methodologies and not before.diagnostics
    added = root / LOCATION / "9.9.9.yaml"
    added.write_text((root / LOCATION / "1.0.0.yaml").read_text("utf-8").replace("version: 1.0.0", "version: 9.9.9"), "utf-8")
    assert (LOCATION, "9.9.9") in api.library(root).methodologies
    # the same number of bytes, other text: a title of the same length
    text = added.read_text("utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    added.write_text(text.replace(title, "title: " + "x" * (len(title) - len("title: "))), "utf-8")
    assert api.library(root).methodologies[(LOCATION, "9.9.9")].title == "x" * (len(title) - len("title: "))
    added.write_text("methodology: nonsense\n", "utf-8")
    assert [d.span.path for d in api.library(root).diagnostics] == [str(added)]
    added.unlink()
    after = api.library(root)
    assert (LOCATION, "9.9.9") not in after.methodologies and not after.diagnostics
