"""A row allocated by share() is explained and verified with its key, quantity and total.

The fuel of one delivery run (TG example 4.3, option I: 240, 150 and 250 t·km) allocated by
scope3.cat4.upstream_transport.fuel_based: ``ccf explain`` of a shipment shows the vehicle, its
t·km and the run's t·km it was divided by; ``ccf verify`` recomputes the totals from every row
the run read, even when it samples one row.
"""

from __future__ import annotations

from helpers import load, shipped_library, write_csv
from ccf.engine.explain import explain
from ccf.engine.run import run
from ccf.engine.verify import Sample, verify, verify_reference

HEADER = "activity_id,entity,period_start,period_end,direction,paid_by_company,vehicle_id,fuel,fuel_volume,fuel_volume_unit,fuel_factor,mass,mass_unit,distance,distance_unit"
ROW = "{id},A,2024-01-01,2024-12-31,internal,true,{vehicle},Diesel,10.5,L,3,{mass},t,{km},km"


def _run(db, tmp_path):
    lib = shipped_library()
    rows = [ROW.format(id="s1", vehicle="run", mass=24, km=10), ROW.format(id="s2", vehicle="run", mass=10, km=15),
            ROW.format(id="s3", vehicle="run", mass=10, km=25), ROW.format(id="empty", vehicle="idle", mass=0, km=5)]
    load(db, lib, "tf", "transport_fuel", write_csv(tmp_path / "tf.csv", HEADER, *rows))
    report = run(db, "tf", [lib.resolve("scope3.cat4.upstream_transport.fuel_based@1.0.0")])
    return lib, report.run_id


def test_explain_shows_the_key_the_quantity_and_the_total(db, tmp_path):
    lib, run_id = _run(db, tmp_path)
    e = explain(db, run_id, "s2", lib)
    (part,) = e.parts
    text = e.render()
    assert part.reproduces_stored, text
    assert "share(mass * distance, vehicle_id): key vehicle_id = 'run'" in text
    assert "this row's mass * distance = 150000000 kg·m" in text  # 10 t x 15 km
    assert "total over the dataset's rows with this key = 640000000 kg·m" in text
    assert "= 150000000 kg·m ÷ 640000000 kg·m = 0.234375" in text
    assert "= 7.3828125 kg CO2e" in text
    empty = explain(db, run_id, "empty", lib)
    assert empty.parts[0].reproduces_stored
    assert "unmatched (no_total: share(…, vehicle_id): the total over the rows with this row's key is zero" in empty.render()


def test_verify_recomputes_the_totals_from_every_row_even_for_a_sample(db, tmp_path):
    lib, run_id = _run(db, tmp_path)
    assert verify(db, run_id, lib).identical
    for sample in (Sample(), Sample(rows=1)):
        v = verify_reference(db, run_id, lib, sample)
        assert v.identical, v.problems
    db.execute("UPDATE ccf.result_row SET co2e_co2e_kg = 11.8 WHERE activity_id = 's1'")  # the guidance's rounded figure
    db.commit()
    v = verify_reference(db, run_id, lib)
    assert not v.identical and any("activity s1" in p and "11.8125" in p for p in v.problems), v.problems
