"""An organisation declares its own factor set, adds two editions, writes a methodology over it,
checks, runs and reports — all from the command line, on a real PostgreSQL (docs/authoring.md,
"Your own factor sets": this test runs the path that section shows)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ccf.engine.cli import main

DECLARATION = """\
factor_set: acme-hotels
title: Acme hotel-night factors (supplier-specific)
publisher: Acme Travel Ltd
licence: proprietary
attributes: [hotel_class]
gases:
  CO2e: kgCO2e
regions: [GB, FR]
years: [2024, 2025]
editions:
  acme-hotels-2024:
    periods: ["2024"]
  acme-hotels-2025:
    periods: ["2025"]
"""

ACTIVITY_TYPE = """\
activity_type: hotel_nights
title: Hotel nights booked for business travel
fields:
  country: text
  hotel_class: text
  nights: {unit: room.night}
"""

METHODOLOGY = """\
methodology: scope3.cat6.hotel_stays
version: 1.0.0
status: published
title: Scope 3 category 6, hotel stays, supplier-specific
ghg_protocol:
  scope: 3
  category: 6
  method: supplier-specific
  references:
    - GHG Protocol Scope 3 Technical Guidance (2013), category 6, hotel stays
factor_set: acme-hotels
gwp: AR5
activity: hotel_nights
factors:
  hotel:
    select: {hotel_class: Standard}
    region: country
    per: room.night
rules:
  - id: stays
    emissions: nights * hotel
"""

ENTITIES = "entity,name,parent,equity_share,financial_control,operational_control,joint_financial_control,country\n" \
           "ACME,Acme Group,,,,,,GB\nACME-UK,Acme UK Ltd,ACME,1,true,true,false,GB\n"

FACTORS_2024 = "factor_id,name,unit,gas,value,region,year,hotel_class\n" \
               "H-GB-24,Hotel night GB,room.night,CO2e,10.4,GB,2024,Standard\n" \
               "H-FR-24,Hotel night FR,room.night,CO2e,6.9,FR,2024,Standard\n"


def _library(tmp_path: Path) -> Path:
    lib = tmp_path / "library"
    for rel, text in {"factor_sets/acme-hotels.yaml": DECLARATION, "activity_types/hotel_nights.yaml": ACTIVITY_TYPE,
                      "scope3.cat6.hotel_stays/1.0.0.yaml": METHODOLOGY}.items():
        (lib / rel).parent.mkdir(parents=True, exist_ok=True)
        (lib / rel).write_text(text, "utf-8")
    return lib


def _xlsx_2025(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Factors"
    sheet.append(["factor_id", "name", "unit", "gas", "value", "region", "year", "hotel_class"])
    sheet.append(["H-GB-25", "Hotel night GB", "room.night", "CO2e", 10.1, "GB", 2025, "Standard"])
    sheet.append(["H-FR-25", "Hotel night FR", "room.night", "CO2e", "6.75", "FR", 2025, "Standard"])
    book.save(path)
    return path


def _stays(path: Path, year: int) -> Path:
    path.write_text("activity_id,entity,period_start,period_end,country,hotel_class,nights\n"
                    f"S1,ACME-UK,{year}-03-01,{year}-03-03,GB,Standard,3\n"
                    f"S2,ACME-UK,{year}-06-10,{year}-06-12,FR,Standard,2\n", "utf-8")
    return path


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_an_organisation_declares_a_set_adds_two_editions_and_runs_each_period_with_its_own(
        tmp_path, db_url, monkeypatch, capsys):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    monkeypatch.setenv("CCF_METHODOLOGIES", str(_library(tmp_path)))

    # checked offline against the declaration; the factor values are not installed yet
    assert main(["check"]) == 0
    assert "acme-hotels-2024" in capsys.readouterr().err  # "select texts not checked against …"

    # a file that does not fit the declaration: every problem positioned, nothing installed
    bad = tmp_path / "bad.csv"
    bad.write_text("factor_id,name,unit,gas,value,region,year,hotel_klass\n"
                   "X,Hotel,room.night,CO2,1.0,DE,2024,Standard\n", "utf-8")
    assert main(["factors", "add", str(bad), "--id", "acme-hotels-2024"]) == 1
    err = capsys.readouterr().err
    assert "line 1: column 'hotel_klass'" in err and "did you mean 'hotel_class'" in err
    assert main(["factors", "list", "--json"]) == 0
    assert not any(s["id"].startswith("acme-") for s in _json(capsys))

    # two editions: a CSV and an XLSX file
    csv = tmp_path / "hotels-2024.csv"
    csv.write_text(FACTORS_2024, "utf-8")
    assert main(["factors", "add", str(csv), "--id", "acme-hotels-2024", "--json"]) == 0
    assert _json(capsys)["installed"] is True
    xlsx = _xlsx_2025(tmp_path / "hotels-2025.xlsx")
    assert main(["factors", "add", str(xlsx), "--id", "acme-hotels-2025", "--edition", "2025 v1", "--json"]) == 0
    assert _json(capsys)["factor_count"] == 2
    assert main(["factors", "list", "--json"]) == 0
    assert {"acme-hotels-2024", "acme-hotels-2025"} <= {s["id"] for s in _json(capsys)}

    # installed: a select text no factor has is an error, with the values that exist
    lib = Path(str(tmp_path / "library"))
    typo = tmp_path / "typo.yaml"
    typo.write_text(METHODOLOGY.replace("hotel_class: Standard", "hotel_class: Standrd").replace("1.0.0", "1.1.0"), "utf-8")
    assert main(["check", str(typo)]) == 1
    err = capsys.readouterr().err
    assert "E606" in err and "no factor of acme-hotels-2024 or acme-hotels-2025 has hotel_class 'Standrd'" in err
    assert "did you mean 'Standard'" in err
    assert main(["check", str(lib)]) == 0
    capsys.readouterr()

    # each year's activity with its own edition
    assert main(["entities", "load", str(_write(tmp_path / "acme.csv", ENTITIES))]) == 0
    for year in (2024, 2025):
        assert main(["load", "--dataset", f"acme-{year}", "--type", "hotel_nights", "--period", str(year),
                     str(_stays(tmp_path / f"stays-{year}.csv", year))]) == 0
    capsys.readouterr()
    runs = {}
    for year, edition, kg in ((2024, "acme-hotels-2024", Decimal("3") * Decimal("10.4") + 2 * Decimal("6.9")),
                              (2025, "acme-hotels-2025", Decimal("3") * Decimal("10.1") + 2 * Decimal("6.75"))):
        assert main(["run", "--dataset", f"acme-{year}", "--json"]) == 0
        summary = _json(capsys)
        (m,) = summary["methodologies"]
        assert (m["factor_set"], m["factor_set_named"]) == (edition, "acme-hotels")
        assert Decimal(m["co2e_kg"]) == kg
        runs[year] = summary["run_id"]

    assert main(["explain", str(runs[2025]), "S1"]) == 0
    out = capsys.readouterr().out
    assert "factor edition: acme-hotels-2025, the edition of factor set acme-hotels for 2025" in out
    assert "H-GB-25" in out and "30.3" in out

    assert main(["report", str(runs[2024]), "--approach", "operational-control", "--format", "json"]) == 0
    (m,) = _json(capsys)["methodologies"]
    assert m["factor_edition"] == {"set": "acme-hotels", "edition": "acme-hotels-2024", "period": "2024", "fallback": None}

    # a period no edition is for is refused, never computed with another year's factors
    assert main(["load", "--dataset", "acme-2026", "--type", "hotel_nights", "--period", "2026",
                 str(_stays(tmp_path / "stays-2026.csv", 2026))]) == 0
    capsys.readouterr()
    assert main(["run", "--dataset", "acme-2026"]) == 1
    err = capsys.readouterr().err
    assert "no edition of it is for the whole of 2026" in err and "acme-hotels-2024: 2024; acme-hotels-2025: 2025" in err


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path
