"""scope2.electricity.market_based 1.1.0: the residual-mix tier, read from the organisation's
own factor set (org-residual-mix) next to DESNZ 2025.

The residual mixes come from tests/methodologies/data/TEST_ONLY_residual_mix.csv: invented
round numbers, labelled as such in every row, never published values. Expected values are
computed by hand from those numbers; the grid-average fallback is compared with the
location-based method (same DESNZ 2025 factor) rather than with a typed factor value.
"""

from __future__ import annotations

import itertools
from decimal import Decimal as D
from pathlib import Path

import pytest
from helpers import load, results, rows_of, shipped_library, write_csv
from ccf.engine.factors.model import FactorFileError
from ccf.engine.factors.residual_mix import RESIDUAL_MIX_SET, load_residual_mix
from ccf.engine.factors.store import install_edition
from ccf.engine.run import run

HERE = Path(__file__).resolve().parent
TEST_SET = HERE / "data" / "TEST_ONLY_residual_mix.csv"
LIB = shipped_library()
V100, V110 = "scope2.electricity.market_based@1.0.0", "scope2.electricity.market_based@1.1.0"
_names = itertools.count()

ELEC = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier,supplier_rate,supplier_rate_source"
EAC = "activity_id,entity,period_start,period_end,instrument_type,quantity,quantity_unit,country,grid_region,vintage,emission_rate,registry"

CONSUMPTION = (
    "r1,E,2024-01-01,2024-03-31,100,MWh,GB,,S,,",  # 40 MWh certificate, 60 MWh residual mix (GB 2023 for 2024)
    "r2,E,2024-04-01,2024-06-30,50,MWh,GB,,S,0.2,contract",  # supplier rate before the residual mix
    "r3,E2,2024-01-01,2024-12-31,10,MWh,DE,,S,,",  # residual mix DE 2024
    "r4,E2,2024-01-01,2024-12-31,20,MWh,FR,,S,,",  # residual mix FR 2024, stated per MWh
    "r5,E,2022-01-01,2022-12-31,30,MWh,GB,,S,,",  # no GB residual mix of 2022 or earlier: grid average
    "r6,E2,2024-01-01,2024-12-31,5,MWh,US,,S,,",  # no residual mix, not GB: no rule
)
CERTIFICATES = ("k1,E,2024-01-01,2024-12-31,REGO,40,MWh,GB,,2024,0,r",)


def _dataset(db, tmp_path) -> str:
    dataset = f"rm{next(_names)}"
    load(db, LIB, dataset, "electricity", write_csv(tmp_path / f"{dataset}_e.csv", ELEC, *CONSUMPTION))
    load(db, LIB, dataset, "energy_attribute_certificates", write_csv(tmp_path / f"{dataset}_c.csv", EAC, *CERTIFICATES))
    return dataset


def _install(db):
    edition, records = load_residual_mix(TEST_SET, "test", publisher="ccf tests (TEST ONLY)")
    install_edition(db, edition, records)
    return edition


def _parts(rows):
    """(activity_id, instrument_id) -> (rule, kg CO2e summed over gases)."""
    out: dict[tuple[str, str | None], tuple[str, D]] = {}
    for r in rows:
        key = (r["activity_id"], r["instrument_id"])
        rule, kg = out.get(key, (r["rule_id"], D(0)))
        out[key] = (rule, kg + r["co2e_kg"])
    return out


def _grid_average(db, dataset: str, activity_id: str) -> D:
    loc = run(db, dataset, [LIB.resolve("scope2.electricity.location_based@1.1.0")], other_edition=True)
    return sum(r["co2e_kg"] for r in results(db, loc.run_id) if r["activity_id"] == activity_id)


def test_every_tier_by_hand_with_the_residual_mix_installed(db, tmp_path):
    edition = _install(db)
    dataset = _dataset(db, tmp_path)
    rep = run(db, dataset, [LIB.resolve(V110)], other_edition=True)
    rows = results(db, rep.run_id)
    parts = _parts(rows)
    grid_r5 = _grid_average(db, dataset, "r5")
    assert parts == {
        ("r1", "k1"): ("certificate", D(0)),  # 40 MWh at the certificate's rate 0
        ("r1", None): ("residual_mix", D(30000)),  # 60 000 kWh x 0.5 kg/kWh (GB 2023)
        ("r2", None): ("supplier_specific", D(10000)),  # 50 000 kWh x 0.2 kg/kWh
        ("r3", None): ("residual_mix", D(2500)),  # 10 000 kWh x 0.25 kg/kWh (DE 2024)
        ("r4", None): ("residual_mix", D(2000)),  # 20 MWh x 100 kg/MWh (FR 2024)
        ("r5", None): ("grid_average_fallback", grid_r5),
    }
    assert grid_r5 > 0
    unmatched = {r["activity_id"]: r["reason_code"] for r in rows_of(db, "unmatched", rep.run_id)}
    assert unmatched == {"r6": "no_rule"}
    rec = rep.methodologies[0].reconciliation
    assert (rec.rows_in, rec.rows_result, rec.rows_excluded, rec.rows_unmatched) == (6, 5, 0, 1)
    assert rep.methodologies[0].co2e_kg == D(44500) + grid_r5
    # the run says how much each tier gave (30000 + 2500 + 2000 from the residual mix)
    assert rep.methodologies[0].by_rule == (
        ("certificate", D(0)), ("supplier_specific", D(10000)), ("residual_mix", D(34500)), ("grid_average_fallback", grid_r5),
    )
    assert rep.to_json()["methodologies"][0]["by_rule"]["residual_mix"] == "34500"

    # provenance: the residual-mix rows name the organisation's set, its edition and factor
    residual = {r["activity_id"]: r for r in rows if r["rule_id"] == "residual_mix"}
    assert {a: (r["factor_ids"], r["match_level"]) for a, r in residual.items()} == {
        "r1": (["test-rm-gb-2023"], "year 2023 for 2024"),
        "r3": (["test-rm-de-2024"], "exact"),
        "r4": (["test-rm-fr-2024"], "stated per MWh"),
    }
    assert {(r["factor_set"], r["factor_set_sha256"]) for r in residual.values()} == {(RESIDUAL_MIX_SET, edition.sha256)}
    others = {(r["factor_set"]) for r in rows if r["rule_id"] not in ("residual_mix", "certificate")}
    assert others == {"desnz-2025"}
    # a certificate part's source is its instrument, not a factor set (no set checksum)
    assert {(r["factor_set"], r["factor_set_sha256"]) for r in rows if r["rule_id"] == "certificate"} == {
        ("instrument REGO k1", None)}
    recorded = db.execute(
        "SELECT set_id, lookups, sha256 FROM ccf.run_factor_set WHERE run_id = %s", (rep.run_id,)
    ).fetchall()
    assert recorded == [(RESIDUAL_MIX_SET, ["residual_mix"], edition.sha256)]


def test_without_the_organisation_set_the_rows_fall_back_as_in_1_0_0(db, tmp_path):
    dataset = _dataset(db, tmp_path)
    new = run(db, dataset, [LIB.resolve(V110)], other_edition=True)
    old = run(db, dataset, [LIB.resolve(V100)], other_edition=True)

    def outcomes(run_id):
        got = {(r["activity_id"], r["instrument_id"], r["gas"]): (r["rule_id"], r["co2e_kg"], r["factor_ids"])
               for r in results(db, run_id)}
        got.update({(r["activity_id"], None, None): (r["reason_code"], None, None) for r in rows_of(db, "unmatched", run_id)})
        return got

    assert outcomes(new.run_id) == outcomes(old.run_id)
    assert "residual_mix" not in {rule for rule, _, _ in outcomes(new.run_id).values()}
    assert new.methodologies[0].by_gas == old.methodologies[0].by_gas
    # r3 and r4 (DE, FR) have neither a residual mix nor a grid average: unmatched, never lost
    unmatched = {r["activity_id"]: r["reason_code"] for r in rows_of(db, "unmatched", new.run_id)}
    assert unmatched == {"r3": "no_rule", "r4": "no_rule", "r6": "no_rule"}
    # the run records that it looked for the set and did not find it
    recorded = db.execute(
        "SELECT set_id, sha256 FROM ccf.run_factor_set WHERE run_id = %s", (new.run_id,)
    ).fetchall()
    assert recorded == [(RESIDUAL_MIX_SET, None)]


def test_an_ambiguous_residual_mix_is_unmatched_not_skipped(db, tmp_path):
    """Two residual mixes for one market boundary and year: the rule applies (a factor was
    found) and the row is unmatched with the reason, never silently sent to the next tier."""
    twice = tmp_path / "twice.csv"
    twice.write_text(
        TEST_SET.read_text(encoding="utf-8")
        + "test-rm-de-2024-b,TEST ONLY DE again,kWh,CO2e,0.3,DE,2024,electricity,TEST ONLY: a second value\n",
        encoding="utf-8",
    )
    edition, records = load_residual_mix(twice, "test", publisher="ccf tests (TEST ONLY)")
    install_edition(db, edition, records)
    dataset = _dataset(db, tmp_path)
    rep = run(db, dataset, [LIB.resolve(V110)], other_edition=True)
    unmatched = {r["activity_id"]: (r["rule_id"], r["reason_code"], r["reason"]) for r in rows_of(db, "unmatched", rep.run_id)}
    assert unmatched["r3"] == (
        "residual_mix", "ambiguous_factor",
        "more than one emission factor matches lookup 'residual_mix' in org-residual-mix per kWh "
        "(energy = 'electricity', region (or a parent region) = 'DE', year (or an earlier year) = '2024')",
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("x,TEST,kWh,CO2e,0.1,,2024,electricity,TEST ONLY", "'region' is empty"),
        ("x,TEST,kWh,CO2e,0.1,DE,,electricity,TEST ONLY", "'year' is empty"),
        ("x,TEST,kWh,CO2e,0.1,DE,2024,heat,TEST ONLY", "'energy' must be one of electricity, not 'heat'"),
        ("x,TEST,kWh,CO2e,0.1,DE,2024,electricity,", "'source' is empty"),
        ("x,TEST,kg,CO2e,0.1,DE,2024,electricity,TEST ONLY", "unit 'kg' is not an energy unit"),
    ],
)
def test_a_residual_mix_file_is_checked_against_the_template(tmp_path, row, message):
    path = write_csv(tmp_path / "rm.csv", "factor_id,name,unit,gas,value,region,year,energy,source", row)
    with pytest.raises(FactorFileError) as err:
        load_residual_mix(path, "test", publisher="test")
    assert message in str(err.value) and err.value.line == 2


def test_a_residual_mix_file_without_the_template_columns(tmp_path):
    path = write_csv(tmp_path / "rm.csv", "factor_id,name,unit,gas,value,region,year", "x,TEST,kWh,CO2e,0.1,DE,2024")
    with pytest.raises(FactorFileError, match="needs the column\\(s\\): energy, source"):
        load_residual_mix(path, "test", publisher="test")


def test_explain_names_the_residual_mix_set_and_reproduces_the_stored_rows(db, tmp_path):
    from ccf.engine.explain import explain

    _install(db)
    dataset = _dataset(db, tmp_path)
    rep = run(db, dataset, [LIB.resolve(V110)], other_edition=True)
    for activity_id in ("r1", "r3", "r4", "r5"):
        e = explain(db, rep.run_id, activity_id, LIB)
        assert e.parts and all(p.reproduces_stored for p in e.parts), e.render()
    text = explain(db, rep.run_id, "r1", LIB).render()
    assert "rule residual_mix: 30000 kg CO2e (CO2e org-residual-mix factor test-rm-gb-2023, match level year 2023 for 2024)" in text
    assert "rule certificate: 0 kg CO2e" in text


def test_verify_recomputes_a_run_that_read_the_residual_mix(db, tmp_path):
    from ccf.engine.verify import verify

    dataset = _dataset(db, tmp_path)
    before = run(db, dataset, [LIB.resolve(V110)], other_edition=True)  # without the set: the tier is empty
    db.commit()
    assert verify(db, before.run_id, LIB).identical
    _install(db)
    after = run(db, dataset, [LIB.resolve(V110)], other_edition=True)
    db.commit()
    assert verify(db, after.run_id, LIB).identical
    # the set has been installed since the first run: its results would differ, and verify says why
    problems = verify(db, before.run_id, LIB).problems
    assert problems == [f"factor set {RESIDUAL_MIX_SET} is not what the run read (not installed)"]


def test_attribution_of_1_0_0_to_1_1_0_with_a_residual_mix(db, tmp_path):
    """With the organisation's residual mix installed, 1.1.0 gives r3 and r4 (DE, FR) a result
    (newly matched: 2500 + 2000 kg) and moves r1's 60 MWh remainder from the grid average to the
    residual mix (rule choice: formula changed); the parts sum exactly to the change."""
    from ccf.engine.attribution import attribute

    _install(db)
    dataset = _dataset(db, tmp_path)
    att = attribute(db, dataset, LIB.resolve(V100), LIB.resolve(V110))
    old = _parts(results(db, att.a.run_id))
    assert old[("r1", None)][0] == "grid_average_fallback"
    causes = {c: (v, n) for c, v, n in att.causes}
    assert causes["newly_matched"] == (D(4500), 2)  # one CO2e row each
    assert causes["formula_changed"] == (D(30000) - old[("r1", None)][1], 4)  # 3 grid gases + the residual CO2e
    assert {c for c, (v, _) in causes.items() if v != 0} == {"newly_matched", "formula_changed"}
    assert sum(v for v, _ in causes.values()) == att.change == att.total_b - att.total_a
