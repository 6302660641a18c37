"""The category × method table of docs/methodologies.md is the one the library gives, and each
methodology lands in the cell its category, method and id say."""

from __future__ import annotations

from pathlib import Path

from helpers import shipped_library

from ccf.engine.method_table import CELLS, END, NOT_YET, START, Cell, empty_cells, fills, rows, shipped_table

ROOT = Path(__file__).resolve().parent.parent
LIB = shipped_library()


def _doc_table() -> str:
    doc = (ROOT / "docs" / "methodologies.md").read_text("utf-8")
    return doc[doc.index(START): doc.index(END) + len(END)]


def test_the_doc_holds_the_generated_table():
    table = shipped_table()
    # the cells no published version fills yet: printed, and shown as such in the doc (the
    # completeness check of issue #19 is an assertion on this list, once every part is merged)
    print("cells without a published methodology:", *empty_cells_of_shipped(), sep="\n  ")
    assert _doc_table() == table, "docs/methodologies.md is stale: python -m ccf.engine.method_table docs/methodologies.md"


def empty_cells_of_shipped() -> list[str]:
    return empty_cells(rows(LIB.methodologies.values(), [], ROOT))


def _cell(category: int, label: str) -> Cell:
    (cell,) = [c for c in CELLS if c.category == category and c.label == label]
    return cell


def _versions(cell: Cell) -> set[str]:
    return {m.ref for m in LIB.methodologies.values() if fills(cell, m)}


def test_category_11_parts_are_told_apart_by_the_id():
    energy = _versions(_cell(11, "direct-use-phase: products that consume energy, fuels or feedstocks"))
    ghg = _versions(_cell(11, "direct-use-phase: products that contain or emit GHGs"))
    intermediate = _versions(_cell(11, "intermediate products with their share"))
    assert "scope3.cat11.use_of_sold_products.direct_use_phase@2.0.0" in energy
    assert "scope3.cat11.use_of_sold_products.ghg_release@1.0.0" in ghg
    assert "scope3.cat11.use_of_sold_products.intermediate_products@1.0.0" in intermediate
    # one method, three parts: a version fills the part its id names, and only that one
    assert not energy & ghg and not energy & intermediate and not ghg & intermediate


def test_a_version_fills_a_cell_of_its_own_method_only():
    # 1.0.0 was published with the label average-product, which no cell of the guidance has
    cells = [c for c in CELLS if fills(c, LIB.resolve("scope3.cat11.use_of_sold_products.direct_use_phase@1.0.0"))]
    assert cells == []
    assert "scope3.cat12.end_of_life.waste_type_specific@2.0.0" in _versions(
        _cell(12, "waste-type-specific: with the treatment mix of the sold products"))


def test_an_empty_cell_says_so_and_a_filled_one_links_its_files():
    table = shipped_table()
    line = next(x for x in table.splitlines() if x.startswith("| 10 processing of sold products | site-specific |"))
    assert "(../methodologies/scope3.cat10.processing_of_sold_products.site_specific/1.0.0.yaml)" in line
    assert "(../methodologies/scope3.cat10.processing_of_sold_products.site_specific/tests/technical-guidance.yaml)" in line
    for cell in empty_cells_of_shipped():
        assert cell.startswith("category ")
    assert f"| {NOT_YET} | {NOT_YET} |" in table
