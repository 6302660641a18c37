"""Semantic diff of methodology versions: on the IR, not on the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import shipped_library
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ccf.dsl.diff import diff_methodologies
from ccf.dsl.library import Library
from ccf.dsl.source import SourceFile
from ccf.engine.api import factor_signatures

ROOT = Path(__file__).resolve().parent.parent
LIB = shipped_library()
SCOPE2 = ROOT / "methodologies" / "scope2.electricity.location_based" / "1.0.0.yaml"


def _variant(tmp_path: Path, text: str) -> object:
    lib = Library(tmp_path, factor_signatures(), activity_types=dict(LIB.activity_types))
    path = tmp_path / "scope2.electricity.location_based" / "1.0.0.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, "utf-8")
    m = lib.add(path)
    assert lib.diagnostics == [], lib.diagnostics
    return m


def test_a_version_diffed_with_itself_has_no_semantic_change():
    m = LIB.resolve("scope2.electricity.location_based@1.0.0")
    d = diff_methodologies(m, m)
    assert not d.semantic and d.render().endswith("no semantic change")


def test_formatting_only_changes_are_not_semantic(tmp_path):
    text = SCOPE2.read_text("utf-8")
    reformatted = (
        "# a comment\n"
        + text.replace("where: quantity == 0", "where: (quantity)==0")
        .replace("co2: quantity * uk_grid.co2", "co2: quantity*uk_grid.co2   ")
        .replace("select: {level1: UK electricity, level3: \"Electricity: UK\"}", "select:\n      level3: 'Electricity: UK'\n      level1: UK electricity")
    )
    assert reformatted != text
    d = diff_methodologies(LIB.resolve("scope2.electricity.location_based@1.0.0"), _variant(tmp_path, reformatted))
    assert d.changes == ()


def test_each_kind_of_change_is_reported_with_both_sides(tmp_path):
    text = SCOPE2.read_text("utf-8")
    changed = (
        text.replace("gwp: AR5", "gwp: AR6")
        .replace("co2: quantity * uk_grid.co2", "co2: quantity * uk_grid.co2 * 1.1")
        .replace('where: country == "GB"', 'where: country in ("GB", "UK")')
        .replace("per: kWh", "per: MWh")
    )
    d = diff_methodologies(LIB.resolve("scope2.electricity.location_based@1.0.0"), _variant(tmp_path, changed))
    kinds = {(c.kind, c.subject) for c in d.changes}
    assert kinds == {
        ("GWP set changed", "GWP set"),
        ("factor unit changed", "factor lookup uk_grid"),
        ("condition changed", "rule uk_grid: where"),
        ("formula changed", "rule uk_grid: emissions CO2"),
        # written the same, but the factor they use is now per MWh
        ("formula inputs changed", "rule uk_grid: emissions CH4"),
        ("formula inputs changed", "rule uk_grid: emissions N2O"),
    }
    formula = next(c for c in d.changes if c.kind == "formula changed")
    assert formula.before.text == "quantity * uk_grid.co2"
    assert formula.after.text == "quantity * uk_grid.co2 * 1.1"
    assert formula.after.span.line == formula.before.span.line


def test_rules_added_removed_and_reordered(tmp_path):
    text = SCOPE2.read_text("utf-8")
    zero = text[text.index("  - id: zero_consumption"): text.index("  - id: uk_grid")]
    swapped = text.replace(zero, "") + zero.replace("zero_consumption", "nothing_used")
    d = diff_methodologies(LIB.resolve("scope2.electricity.location_based@1.0.0"), _variant(tmp_path, swapped))
    kinds = [(c.kind, c.subject) for c in d.changes]
    assert ("rule removed", "rule zero_consumption") in kinds
    assert ("rule added", "rule nothing_used") in kinds


def test_a_lookup_reading_another_factor_set_is_reported(tmp_path):
    text = SCOPE2.read_text("utf-8")
    other = text.replace("    per: kWh", "    per: kWh\n    factor_set: desnz-2024", 1)
    m = LIB.resolve("scope2.electricity.location_based@1.0.0")
    d = diff_methodologies(m, _variant(tmp_path, other))
    (change,) = [c for c in d.changes if c.kind == "factor set of lookup changed"]
    assert change.subject == "factor lookup uk_grid: factor set"
    assert (change.before.text, change.after.text) == (f"{m.factor_set} (the methodology's)", "desnz-2024")


class DiffFile(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "json"

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(ROOT / "snapshots" / "diff")

    @classmethod
    def get_snapshot_name(cls, *, test_location, index=0) -> str:
        name = test_location.testname
        return name[name.index("[") + 1 : -1]


def _pairs():
    by_id: dict[str, list] = {}
    for m in LIB.versions():
        by_id.setdefault(m.id, []).append(m)
    return [f"{a.ref}..{b.version}" for ms in by_id.values() for a, b in zip(ms, ms[1:])]


@pytest.mark.parametrize("pair", _pairs())
def test_diff_of_each_pair_of_shipped_versions(pair, snapshot):
    a_ref, b_version = pair.split("..")
    a = LIB.resolve(a_ref)
    b = LIB.resolve(f"{a.id}@{b_version}")
    body = diff_methodologies(a, b).to_json()
    for change in body["changes"]:  # paths relative to the repository, for a stable snapshot
        for side in ("before", "after"):
            at = (change[side] or {}).get("at")
            if at:
                at["path"] = str(Path(at["path"]).resolve().relative_to(ROOT))
    assert json.dumps(body, indent=2) + "\n" == snapshot(extension_class=DiffFile)
