"""The GWP set travels one way: checked once (the checker), stored once per run
(ccf.run_methodology), read from the IR elsewhere; compiled SQL carries a gas's mass and GWP
columns only where a rule gives that gas by mass."""

from __future__ import annotations

import re

from helpers import load, shipped_library, write_csv
from sqlglot import exp

from ccf.engine.compile import compile_methodology
from ccf.engine.compile.evaluate import by_mass_gases
from ccf.engine.migrate import migrate, migrations
from ccf.engine.run import run
from ccf.engine.sql import Executor, column, is_param, parse, table

LIB = shipped_library()


def test_gwp_columns_only_for_gases_given_by_mass():
    for m in LIB.versions():
        sql = compile_methodology(m).sql()
        weighed = {g.lower() for g in by_mass_gases(m)}
        columns = set(re.findall(r"\b(co2e|co2|ch4|n2o|co2_biogenic)_gwp\b", sql))
        assert columns == weighed, m.ref
        assert (re.search(r"\bFROM ccf\.gwp\b", sql) is not None) == bool(weighed), m.ref
    assert any(by_mass_gases(m) for m in LIB.versions()) and not all(by_mass_gases(m) for m in LIB.versions())


def _refrigeration_run(db, tmp_path):
    m = LIB.resolve("scope1.fugitive.refrigeration.screening@2.0.0")
    header = "activity_id,entity,period_start,period_end,equipment_type,refrigerant,charge,charge_unit"
    load(db, LIB, "g", "refrigeration_equipment", write_csv(tmp_path / "r.csv", header, "a,E,2024-01-01,2024-12-31,chillers,R410A,10,kg"))
    return m, run(db, "g", [m])


def test_the_run_stores_the_gwp_set_once(db, tmp_path):
    m, report = _refrigeration_run(db, tmp_path)
    (outcome,) = report.methodologies
    assert (outcome.gwp, outcome.factor_set, outcome.methodology) == ("AR5", "ipcc-gwp100-ar5", m)  # the IR's
    (summary,) = report.to_json()["methodologies"]
    # the GWP set is the methodology's (its IR), not repeated; the edition is what the run chose for
    # the data's period (engine/factors/editions.py), reported with the run's other answers
    assert "gwp" not in summary and summary["factor_set"] == "ipcc-gwp100-ar5"
    stored = Executor(db).rows(
        exp.select(column("gwp"), column("factor_set")).from_(table("run_methodology")).where(is_param("run_id")),
        {"run_id": report.run_id},
    )
    assert stored == [("AR5", "ipcc-gwp100-ar5")]


def test_runs_stored_before_migration_0017_keep_their_gwp_set(db, tmp_path):
    """0017 renames run_methodology.gwp_set to gwp (the name the YAML and the IR use): a run
    stored under the old name reads the same afterwards, in the table and in the provenance view."""
    _, report = _refrigeration_run(db, tmp_path)
    ex = Executor(db)
    provenance = exp.select(column("gas"), column("gwp_set"), column("gwp"), column("co2e_kg")).from_(
        table("result_provenance")).where(is_param("run_id")).order_by(column("gas"))
    before = ex.rows(provenance, {"run_id": report.run_id})
    with db.transaction():  # the schema as 0016 left it
        db.execute("ALTER TABLE ccf.run_methodology RENAME COLUMN gwp TO gwp_set")
        # 0018 gave the provenance view a last column, which 0017's view has not: the view goes, and
        # 0017 makes it again, as an upgrade from 0016 does. 0018 is not replayed: it adds a column
        # to the table ccf.result, a view since 0019, whose own provenance view is then restored.
        db.execute("DROP VIEW ccf.result_provenance")
        db.execute("DELETE FROM ccf.schema_migration WHERE version = 17")
    assert migrate(db) == ["0017_run_methodology_gwp.sql"]
    with db.transaction():
        ex.execute(exp.Drop(tables=[table("result_provenance")], kind="VIEW"))
        (view,) = [t for t in parse(dict((n, sql) for _, n, sql in migrations())["0019_result_row.sql"], allow_commands=True)
                   if isinstance(t, exp.Create) and t.kind == "VIEW" and t.this.name == "result_provenance"]
        ex.execute(view)
    stored = ex.rows(exp.select(column("gwp")).from_(table("run_methodology")).where(is_param("run_id")), {"run_id": report.run_id})
    assert stored == [("AR5",)]
    assert ex.rows(provenance, {"run_id": report.run_id}) == before and {r[1] for r in before} == {"AR5"}
