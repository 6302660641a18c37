"""The region hierarchy (factors/regions.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccf.engine.factors.catalog import shipped_editions
from ccf.engine.factors.model import FactorFileError
from ccf.engine.factors.regions import Region, ancestors, closure, load_regions, regions_file, shipped_regions

EU27 = set("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())


def test_shipped_hierarchy() -> None:
    regions = {r.code: r for r in shipped_regions()}
    assert regions["WORLD"].parent is None
    assert regions["US"].parent == "WORLD" and regions["EU"].parent == "WORLD"
    assert (regions["GB"].parent, regions["GB"].name) == ("WORLD", "United Kingdom")
    assert {c for c, r in regions.items() if r.parent == "EU"} == EU27
    assert "EL" not in regions and regions["GR"].name == "Greece"
    assert regions["SRSO"] == Region("SRSO", "US", "SERC South", "egrid_subregion")


def test_closure_of_srso() -> None:
    rows = closure(shipped_regions())
    assert [(a, d) for r, a, d in rows if r == "SRSO"] == [("SRSO", 0), ("US", 1), ("WORLD", 2)]
    assert [(a, d) for r, a, d in rows if r == "WORLD"] == [("WORLD", 0)]
    assert [(a, d) for r, a, d in rows if r == "FR"] == [("FR", 0), ("EU", 1), ("WORLD", 2)]
    assert all((r.code, r.code, 0) in rows for r in shipped_regions())
    assert len(rows) == len(set(rows))


def test_region_not_in_the_table_has_itself_and_world() -> None:
    regions = shipped_regions()
    assert ancestors(regions, "JP") == [("JP", 0), ("WORLD", 1)]
    assert ancestors(regions, "WORLD") == [("WORLD", 0)]
    assert ancestors(regions, "CAMX") == [("CAMX", 0), ("US", 1), ("WORLD", 2)]


def test_every_egrid_region_has_a_row() -> None:
    codes = {r.code for r in shipped_regions()}
    _, records = shipped_editions()["egrid-2023"]()
    egrid_regions = {r.region for r in records}
    assert len(egrid_regions) == 28 and egrid_regions <= codes
    names = {r.code: r.name for r in shipped_regions()}
    for r in records:
        if r.region != "US":
            assert names[r.region] == r.attribute("subregion_name")


def _write(tmp_path: Path, *rows: str) -> Path:
    p = tmp_path / "regions.csv"
    p.write_text("\n".join(["code,parent,name,kind", *rows]) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("rows,message", [
    (["WORLD,,World,world", "A,B,A,country", "B,A,B,country"], "cycle in region parents: A -> B -> A"),
    (["WORLD,,World,world", "A,A,A,country"], "cycle"),
    (["WORLD,,World,world", "A,XX,A,country"], "unknown parent 'XX'"),
    (["WORLD,,World,world", "A,WORLD,A,country", "A,WORLD,Again,country"], "duplicate region 'A'"),
    (["WORLD,,World,world", "A,,A,country"], "only WORLD has no parent"),
    (["A,,A,country"], "only WORLD has no parent"),
    (["WORLD,,World,world", "a,WORLD,A,country"], "not upper-case"),
    (["WORLD,,World,world", "A,WORLD,A,planet"], "kind 'planet'"),
    (["WORLD,,World,world", "A,WORLD,,country"], "no name"),
    (["WORLD,,World,world", "A,WORLD,A"], "3 cells"),
    ([], "no WORLD"),
])
def test_invalid_hierarchies(tmp_path: Path, rows: list[str], message: str) -> None:
    with pytest.raises(FactorFileError, match=message):
        load_regions(_write(tmp_path, *rows))


def test_bad_header(tmp_path: Path) -> None:
    p = tmp_path / "regions.csv"
    p.write_text("code,parent,name\nWORLD,,World\n", encoding="utf-8")
    with pytest.raises(FactorFileError, match="header"):
        load_regions(p)


def test_shipped_file_is_documented() -> None:
    readme = (regions_file().parent / "README.md").read_text()
    assert "regions.csv" in readme and "eGRID2023" in readme
