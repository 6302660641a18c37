"""``ccf factors add`` checks a CSV or XLSX file against its set's declaration
(engine/factors/custom.py load_declared): every problem positioned in the author's words,
nothing installed on any; editions are immutable and several of one set are kept."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.factor_sets import read_factor_set
from ccf.dsl.source import SourceFile
from ccf.engine.factors.commands import factors_add, factors_list
from ccf.engine.factors.custom import FactorFileProblems, load_declared
from ccf.engine.factors.store import FactorSetConflict

DECLARATION = read_factor_set(SourceFile("acme.yaml", """\
factor_set: acme
title: Acme factors
publisher: Acme Ltd
licence: proprietary
attributes: [activity, source]
gases: {CO2e: kgCO2e, CH4: gCH4}
regions: [GB, FR]
years: [2024, 2025]
editions:
  acme-2024: {periods: ["2024"]}
  acme-2025: {periods: ["2025"]}
"""))
SETS = {n: DECLARATION for n in DECLARATION.names()}
HEADER = "factor_id,name,unit,gas,value,region,year,activity,source"


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", "utf-8")
    return path


def test_every_problem_of_a_csv_is_positioned_and_in_the_authors_words(tmp_path):
    path = _csv(tmp_path / "f.csv",
                "A,Grid,kWh,CO2e,0.2,GB,2024,electricity,supplier",
                "B,Grid,kWh,N2O,0.2,DE,2023,electricity,supplier",
                "A,Gas,kWh,CO2e,1,5,FR,2024,gas,x",
                "C,Gas,kWh,CH4,,FR,2024,gas,x",
                "A,Gas,kilowatthour,CO2e,1,FR,2024,gas,x")
    with pytest.raises(FactorFileProblems) as info:
        load_declared(path, DECLARATION, "acme-2024")
    problems = info.value.problems
    assert "line 3, column 'gas': 'N2O' is not a gas of acme (declared: CO2e, CH4)" in problems
    assert "line 3, column 'region': region 'DE' is not one factor_sets/acme.yaml declares" in problems
    assert "line 3, column 'year': year 2023 is not one factor_sets/acme.yaml declares (2024, 2025)" in problems
    assert "line 4: 10 cells, the header has 9" in problems
    assert "line 5, column 'value': empty" in problems
    assert "line 6, column 'factor_id': 'A' is also the factor_id on line 2" in problems
    assert any(p.startswith("line 6, column 'unit': unknown unit 'kilowatthour'") for p in problems)
    assert len(problems) == 7
    assert "nothing was installed" in str(info.value)


def test_an_xlsx_row_is_found_by_sheet_row_and_column_letter(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2024"
    sheet.append(HEADER.split(","))
    sheet.append(["A", "Grid", "kWh", "CO2e", 0.20705, "GB", 2024, "electricity", "supplier"])
    sheet.append(["B", "Grid", "kWh", "CO2e", "n/a", "GB", 2024, "electricity", "supplier"])
    book.save(tmp_path / "f.xlsx")
    with pytest.raises(FactorFileProblems) as info:
        load_declared(tmp_path / "f.xlsx", DECLARATION, "acme-2024")
    assert info.value.problems == ["sheet '2024', row 3, column E 'value': 'n/a' is not a decimal number"]
    sheet.delete_rows(3)
    book.save(tmp_path / "f.xlsx")
    edition, (record,) = load_declared(tmp_path / "f.xlsx", DECLARATION, "acme-2024")
    assert str(record.value) == "0.20705" and record.year == 2024  # the number as typed, not its binary value
    assert edition.gas_units == (("CO2e", "kgCO2e"), ("CH4", "gCH4"))


def test_an_undeclared_column_gets_a_suggestion_and_a_pinned_sha256_is_checked(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(HEADER.replace("source", "sourse") + "\n", "utf-8")
    with pytest.raises(FactorFileProblems) as info:
        load_declared(path, DECLARATION, "acme-2024")
    assert any("line 1: column 'sourse'" in p and "did you mean 'source'" in p for p in info.value.problems)
    pinned = dataclasses.replace(DECLARATION, editions=(dataclasses.replace(DECLARATION.editions[0], sha256="0" * 64),))
    with pytest.raises(CcfError, match="is not the 0000"):
        load_declared(_csv(path), pinned, "acme-2024")
    with pytest.raises(CcfError, match="declares no edition 'acme-2026'"):
        load_declared(path, DECLARATION, "acme-2026")


def test_two_editions_are_kept_an_installed_one_never_changes_and_a_bad_file_installs_nothing(db, tmp_path):
    good = _csv(tmp_path / "a.csv", "A,Grid,kWh,CO2e,0.2,GB,2024,electricity,supplier")
    assert factors_add(db, str(good), "acme-2024", factor_sets=SETS)["installed"] is True
    assert factors_add(db, str(good), "acme-2024", factor_sets=SETS)["installed"] is False  # the same bytes: a no-op
    other = _csv(tmp_path / "b.csv", "A,Grid,kWh,CO2e,0.3,GB,2025,electricity,supplier")
    with pytest.raises(FactorSetConflict):
        factors_add(db, str(other), "acme-2024", factor_sets=SETS)
    with pytest.raises(FactorFileProblems):
        factors_add(db, str(_csv(tmp_path / "c.csv", "A,Grid,kWh,CO2e,x,GB,2025,electricity,supplier")), "acme-2025",
                    factor_sets=SETS)
    assert "acme-2025" not in {s["id"] for s in factors_list(db)}
    assert factors_add(db, str(other), "acme-2025", factor_sets=SETS)["set"] == "acme"
    assert {"acme-2024", "acme-2025"} <= {s["id"] for s in factors_list(db)}
    with pytest.raises(CcfError, match="acme is a factor set; name the edition"):
        factors_add(db, str(other), "acme", factor_sets=SETS)
