"""An organisation's own factor CSV: the documented format and one error per kind."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ccf.dsl.diagnostics import CcfError
from ccf.engine.factors.custom import load_custom
from ccf.engine.factors.model import FactorFileError, FactorRecord

HEADER = "factor_id,name,unit,gas,value,region,year,supplier\n"


def load(tmp_path: Path, text: str):
    path = tmp_path / "own.csv"
    path.write_bytes(text.encode())
    return load_custom(path, "acme-2024", "2024", publisher="Acme Ltd", region="GB", year=2024)


def test_loads_the_documented_format(tmp_path: Path) -> None:
    edition, records = load(tmp_path, HEADER + "grid,Site grid electricity,kWh,CO2e,0.2071,,,\n"
                                               "\n"
                                               "van,Van diesel,km,CO2,1e-1,FR,2023, Fleetco \n")
    assert records == [
        FactorRecord("grid", "Site grid electricity", "kWh", "CO2e", Decimal("0.2071"), (), None, None, 2),
        FactorRecord("van", "Van diesel", "km", "CO2", Decimal("0.1"), (("supplier", "Fleetco"),), "FR", 2023, 4),
    ]
    assert (edition.id, edition.edition, edition.publisher, edition.title) == ("acme-2024", "2024", "Acme Ltd", "own")
    assert (edition.region, edition.year, edition.attributes) == ("GB", 2024, ("supplier",))
    assert edition.gas_unit("CO2e") == "kgCO2e" and edition.gas_unit("N2O") == "kgN2O"
    assert edition.source_file == "own.csv" and len(edition.sha256) == 64


def test_minimal_columns_and_bom(tmp_path: Path) -> None:
    _, records = load(tmp_path, "\ufefffactor_id,name,unit,gas,value\nspend,Spend,GBP,CO2e,0.5\n")
    assert [(r.factor_id, r.unit, r.value, r.attributes) for r in records] == [("spend", "GBP", Decimal("0.5"), ())]


@pytest.mark.parametrize("text,message,line", [
    pytest.param("factor_id,name,unit,value\n", "missing column(s): gas", 1, id="missing-column"),
    pytest.param(HEADER + "a,A,kWh,CO2e,0.2.1,,,\n", "value '0.2.1' is not a decimal number", 2, id="bad-decimal"),
    pytest.param(HEADER + "a,A,kWh,CO2e,NaN,,,\n", "value 'NaN' is not a decimal number", 2, id="nan"),
    pytest.param(HEADER + "a,A,kWh,CO2e,1_000,,,\n", "value '1_000' is not a decimal number", 2, id="underscore"),
    pytest.param(HEADER + "a,A,kwh,CO2e,1,,,\n",
                 "unknown unit 'kwh'; did you mean 'kWh'?", 2, id="unknown-unit"),
    pytest.param(HEADER + "a,A,t.kms,CO2e,1,,,\n", "unit 't.kms': unknown unit 'kms'; did you mean 'km'?", 2,
                 id="unknown-unit-term"),
    pytest.param(HEADER + "a,A,kgCO2e/kWh,CO2e,1,,,\n",
                 "unit 'kgCO2e/kWh' names a gas; give only the per-unit, e.g. 'kWh'", 2, id="unit-with-gas"),
    pytest.param(HEADER + "a,A,kWh,CO2e,1,,,\nb,B,kWh,CO2e,1,,,\na,C,kWh,CO2e,2,,,\n",
                 "duplicate factor_id 'a' (first on line 2)", 4, id="duplicate-id"),
    pytest.param(HEADER + "a,A,kWh,SF6,1,,,\n", "unknown gas 'SF6' (use one of CO2e, CO2, CH4, N2O)", 2,
                 id="unknown-gas"),
    pytest.param(HEADER + "a,,kWh,CO2e,1,,,\n", "'name' is empty", 2, id="empty-field"),
    pytest.param(HEADER + "a,A,kWh,CO2e,1,,24,\n", "year '24' is not a four-digit year", 2, id="bad-year"),
    pytest.param(HEADER + "a,A,kWh,CO2e,1\n", "row has 5 cells, header has 8", 2, id="short-row"),
    pytest.param("factor_id,name,unit,gas,value,name\n", "repeated column(s): name", 1, id="repeated-column"),
    pytest.param("factor_id,name,unit,gas,value,\n", "column 6 has no name", 1, id="unnamed-column"),
    pytest.param("", "empty file: expected a header row", 1, id="empty-file"),
])
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(FactorFileError) as e:
        load(tmp_path, text)
    assert isinstance(e.value, CcfError)
    assert (e.value.message, e.value.line, e.value.path) == (message, line, str(tmp_path / "own.csv"))
    assert str(e.value) == f"{tmp_path / 'own.csv'}:{line}: {message}"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_bytes(HEADER.encode() + b"a,Caf\xe9,kWh,CO2e,1,,,\n")
    with pytest.raises(FactorFileError, match="not UTF-8"):
        load_custom(path, "x", "1", publisher="x")
