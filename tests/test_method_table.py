"""The category × method table of docs/methodologies.md is the one the library gives, and each
methodology lands in the cell its category, method and id say."""

from __future__ import annotations

from pathlib import Path

from helpers import shipped_library

from ccf.engine.method_table import CELLS, END, NOT_YET, START, Cell, empty_cells, fills, render, rows, shipped_table

ROOT = Path(__file__).resolve().parent.parent
LIB = shipped_library()


def _doc_table() -> str:
    doc = (ROOT / "docs" / "methodologies.md").read_text("utf-8")
    return doc[doc.index(START): doc.index(END) + len(END)]


def test_the_doc_holds_the_generated_table():
    assert _doc_table() == shipped_table(), "docs/methodologies.md is stale: python -m ccf.engine.method_table docs/methodologies.md"


def test_every_cell_has_a_published_methodology_with_test_cases():
    # issue #19: a published methodology for every cell of the Technical Guidance's (and PCAF's)
    # table, and each reproduced by test cases
    assert empty_cells_of_shipped() == []
    table = shipped_table()
    assert NOT_YET not in table
    for line in [x for x in table.splitlines() if x.startswith("| ") and x[2].isdigit()]:
        cases = line.rstrip(" |").rsplit(" | ", 1)[1]
        assert "/tests/" in cases, f"a cell without test cases: {line[:120]}"


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


def test_category_3_and_15_parts_are_told_apart_by_the_id():
    # "electricity" names the average-data id of (b) and (c), not the (d) id "sold_electricity"
    sold = _versions(_cell(3, "average-data: (d) generation of purchased electricity sold to end users"))
    upstream = _versions(_cell(3, "average-data: (b) upstream of purchased electricity"))
    assert sold == {"scope3.cat3.fuel_energy.sold_electricity.average_data@1.0.0"}
    assert "scope3.cat3.fuel_energy.electricity@1.2.0" in upstream and not sold & upstream
    # PCAF 1.0.0 covers two asset classes; each later id one
    listed = _versions(_cell(15, "PCAF listed equity and corporate bonds"))
    loans = _versions(_cell(15, "PCAF business loans and unlisted equity"))
    assert listed & loans == {"scope3.cat15.investments.pcaf@1.0.0"}
    assert "scope3.cat15.investments.pcaf_mortgages@1.0.0" in _versions(_cell(15, "PCAF mortgages"))
    assert "scope3.cat15.investments.pcaf_mortgages@1.0.0" not in listed


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
    # a library without versions: every cell is empty, and says so
    nothing = rows([], [], ROOT)
    assert len(empty_cells(nothing)) == len(CELLS)
    assert all(cell.startswith("category ") for cell in empty_cells(nothing))
    assert render(nothing).count(f"| {NOT_YET} | {NOT_YET} |") == len(CELLS)
