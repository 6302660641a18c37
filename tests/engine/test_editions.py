"""The edition of the reporting period (engine/factors/editions.py), on a real PostgreSQL: a
methodology that names the DESNZ set reads the 2024 edition for 2024 activity and the 2025
edition for 2025; a period without an edition, or a pinned edition for another period, is
refused, and the latter computed only when asked, with the reason on every result."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import results, shipped_library, write_csv

from ccf.dsl import ir
from ccf.engine.factors.editions import EditionError, choose
from ccf.engine.load import ReportingPeriod, load_csv
from ccf.engine.run import RunError, run

HEADER = "activity_id,entity,period_start,period_end,fuel,energy,energy_unit,volume,volume_unit,mass,mass_unit"
SERIES, PINNED_2024, PINNED_2025 = ("scope1.stationary_combustion@1.2.0", "scope1.stationary_combustion@1.0.0",
                                    "scope1.stationary_combustion@1.1.0")


@pytest.fixture(scope="module")
def lib():
    return shipped_library()


def _gas(db, lib, tmp_path: Path, dataset: str, year: int, period: str | None = None) -> None:
    path = write_csv(tmp_path / f"{dataset}.csv", HEADER, f"G1,ACME,{year}-01-01,{year}-03-31,Natural gas,1000,kWh,,,,")
    load_csv(db, dataset, lib.activity_types["stationary_fuel"], path,
             period=ReportingPeriod.parse(period) if period else None)


def _by_gas(db, run_id: int) -> dict[str, tuple[Decimal, str]]:
    return {r["gas"]: (r["co2e_kg"], r["factor_set"]) for r in results(db, run_id)}


def test_each_period_reads_its_own_edition(db, lib, tmp_path):
    """The same row in 2024 and in 2025 under the version that names the set gives exactly what
    the versions pinned to the 2024 and 2025 editions give."""
    _gas(db, lib, tmp_path, "y2024", 2024, "2024")
    _gas(db, lib, tmp_path, "y2025", 2025, "2025")
    for dataset, pinned, edition in (("y2024", PINNED_2024, "desnz-2024"), ("y2025", PINNED_2025, "desnz-2025")):
        series = run(db, dataset, [lib.resolve(SERIES)])
        (m,) = series.methodologies
        assert (m.factor_set, m.factor_set_named, m.edition_fallback) == (edition, "desnz", None)
        got = _by_gas(db, series.run_id)
        assert {f for _, f in got.values()} == {edition}
        assert got == _by_gas(db, run(db, dataset, [lib.resolve(pinned)]).run_id)
    assert _by_gas(db, run(db, "y2024", [lib.resolve(SERIES)]).run_id) != _by_gas(
        db, run(db, "y2025", [lib.resolve(SERIES)]).run_id)


def test_a_period_without_an_edition_is_refused(db, lib, tmp_path):
    _gas(db, lib, tmp_path, "y2023", 2023, "2023")
    with pytest.raises(RunError, match="no edition of it is for the whole of 2023 .desnz-2024: 2024; desnz-2025: 2025"):
        run(db, "y2023", [lib.resolve(SERIES)])


def test_rows_of_two_years_without_a_reporting_period_are_refused(db, lib, tmp_path):
    """Without a reporting period the rows' period_start decide; 2024 and 2025 rows together
    have no one edition."""
    path = write_csv(tmp_path / "mixed.csv", HEADER, "A,ACME,2024-12-01,2024-12-31,Natural gas,1,kWh,,,,",
                     "B,ACME,2025-01-01,2025-01-31,Natural gas,1,kWh,,,,")
    load_csv(db, "mixed", lib.activity_types["stationary_fuel"], path)
    with pytest.raises(RunError, match="2024-12-01..2025-01-01"):
        run(db, "mixed", [lib.resolve(SERIES)])


def test_a_pinned_edition_for_another_period_is_refused_or_recorded_per_result(db, lib, tmp_path):
    _gas(db, lib, tmp_path, "y2024", 2024, "2024")
    with pytest.raises(RunError, match="names the edition desnz-2025, which is for 2025, but the data are for 2024. "
                                       "The edition for 2024 is desnz-2024"):
        run(db, "y2024", [lib.resolve(PINNED_2025)])
    report = run(db, "y2024", [lib.resolve(PINNED_2025)], other_edition=True)
    (m,) = report.methodologies
    assert m.factor_set == "desnz-2025" and "which is for 2025, but the data are for 2024" in m.edition_fallback
    rows = results(db, report.run_id)
    assert rows and all(r["edition_fallback"] == m.edition_fallback for r in rows)
    assert report.to_json()["methodologies"][0]["edition_fallback"] == m.edition_fallback


def _desnz() -> ir.FactorSet:
    return shipped_library().factor_sets["desnz"]


def test_a_fiscal_year_across_two_calendar_editions_has_no_edition():
    with pytest.raises(EditionError, match="no edition of it is for the whole of 2024-04-01..2025-03-31"):
        choose("desnz", _desnz(), (date(2024, 4, 1), date(2025, 3, 31)), "m@1")
    assert choose("desnz", _desnz(), (date(2025, 4, 1), date(2025, 6, 30)), "m@1").edition == "desnz-2025"
    assert choose("desnz-2024", _desnz(), (date(2024, 4, 1), date(2024, 6, 30)), "m@1").fallback is None
