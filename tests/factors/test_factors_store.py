"""The factor store reads back what it installed: an edition's factors as the records they were
read from (the edition's default region and year filled in), a GWP set's values by gas."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from ccf.engine.factors.custom import load_custom
from ccf.engine.factors.model import GwpRecord
from ccf.engine.factors.store import gwp_values, install_edition, install_gwp, installed, stored_factors
from ccf.engine.sql import Executor


def test_stored_factors_are_the_installed_records_with_the_editions_defaults(db, tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_text("factor_id,name,unit,gas,value,region,year,supplier,grade\n"
                    "grid,Site grid electricity,kWh,CO2e,0.2071000,,,,\n"
                    "van,Van diesel,km,CO2,1E-1,FR,2023,Fleetco,B7\n", "utf-8")
    edition, records = load_custom(path, "acme-2024", "2024", publisher="Acme Ltd", region="GB", year=2024)
    assert install_edition(db, edition, records)
    ex = Executor(db)
    stored = stored_factors(ex, installed(ex, "acme-2024").factor_set_id)  # type: ignore[union-attr]
    defaults = [dataclasses.replace(r, region=r.region or "GB", year=r.year or 2024) for r in records]
    assert sorted(stored, key=lambda r: r.factor_id) == defaults
    assert [str(r.value) for r in sorted(stored, key=lambda r: r.factor_id)] == ["0.2071000", "0.1"]  # as published


def test_gwp_values_are_one_sets_values_by_gas(db) -> None:
    install_gwp(db, [GwpRecord("T1", "CO2", Decimal(1)), GwpRecord("T1", "CH4", Decimal("28.00")),
                     GwpRecord("T2", "CH4", Decimal("27.9"))])
    ex = Executor(db)
    assert gwp_values(ex, "T1") == {"CO2": Decimal(1), "CH4": Decimal(28)}
    assert str(gwp_values(ex, "T1")["CH4"]) == "28.00"
    assert gwp_values(ex, "T2") == {"CH4": Decimal("27.9")}
    assert gwp_values(ex, "T3") == {}
    assert gwp_values(ex, "AR5")["CH4"] == Decimal(28)  # the shipped table, installed with the schema
