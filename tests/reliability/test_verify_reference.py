"""ccf verify --reference: a past run recomputed row by row by the reference evaluator
(dsl/evaluate.py) and compared with what the run stored; it sees what rerunning the same SQL
on the same server cannot."""

from __future__ import annotations

import json

import pytest
from helpers import load, shipped_library, write_csv
from ccf.engine.cli import main
from ccf.engine.run import run
from ccf.engine.verify import Sample, verify, verify_reference

HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"
ROWS = [
    "e1,A,2024-01-01,2024-01-31,1000,kWh,GB", "e2,A,2024-01-01,2024-01-31,0,kWh,GB", "e3,A,2024-01-01,2024-01-31,5,MWh,FR",
    "e4,A,2024-02-01,2024-02-29,431.2,GJ,GB", "e5,A,2024-03-01,2024-03-31,7,therm,GB",
]
LOCATION = "scope2.electricity.location_based@1.0.0"


def _setup(db, tmp_path):
    lib = shipped_library()
    load(db, lib, "v", "electricity", write_csv(tmp_path / "e.csv", HEADER, *ROWS))
    return lib, run(db, "v", [lib.resolve(LOCATION)])


def test_an_untouched_run_is_identical_to_the_reference(db, tmp_path):
    lib, report = _setup(db, tmp_path)
    v = verify_reference(db, report.run_id, lib)
    assert v.identical, v.problems
    assert v.checked == {"result": 9, "excluded": 1, "unmatched": 1}  # three gases for e1, e4, e5
    assert v.sample == "every activity row"


def test_a_tampered_result_is_reported_with_its_activity_id(db, tmp_path):
    lib, report = _setup(db, tmp_path)
    db.execute("UPDATE ccf.result_row SET ch4_co2e_kg = ch4_co2e_kg + 0.000001 WHERE activity_id = 'e4'")
    db.commit()
    v = verify_reference(db, report.run_id, lib)
    assert len(v.problems) == 1
    assert v.problems[0].startswith("scope2.electricity.location_based activity e4: the run stored ")
    assert "CH4 107.800001 kg CO2e" in v.problems[0] and "CH4 107.8 kg CO2e" in v.problems[0]


def test_a_wrong_division_in_the_server_is_seen_by_the_reference_only(db, tmp_path):
    """ccf.div replaced in the database by one that truncates instead of rounding half away from
    zero: the run stores 146.12888888888888888888 kg for e4's N2O (…889 is right). Plain verify
    reruns the same SQL on the same server and calls the run identical; --reference does not."""
    db.execute("""
        CREATE OR REPLACE FUNCTION ccf.div(a NUMERIC, b NUMERIC) RETURNS NUMERIC LANGUAGE sql IMMUTABLE AS $$
          SELECT CASE WHEN b = 0 THEN NULL ELSE DIV(a * 100000000000000000000, b) * 0.00000000000000000001 END
        $$""")
    db.commit()
    lib, report = _setup(db, tmp_path)
    assert verify(db, report.run_id, lib).identical
    v = verify_reference(db, report.run_id, lib)
    assert not v.identical
    e4 = next(p for p in v.problems if " activity e4: " in p)
    assert "N2O 146.12888888888888888888 kg CO2e" in e4 and "N2O 146.12888888888888888889 kg CO2e" in e4


def test_a_result_row_deleted_or_added_is_reported(db, tmp_path):
    lib, report = _setup(db, tmp_path)
    db.execute("DELETE FROM ccf.excluded WHERE activity_id = 'e2'")
    db.execute("""INSERT INTO ccf.unmatched (run_id, methodology_id, activity_id, rule_id, reason_code, reason)
                  VALUES (%s, 'scope2.electricity.location_based', 'ghost', NULL, 'no_rule', 'no rule applies to this row')""",
               (report.run_id,))
    db.commit()
    problems = verify_reference(db, report.run_id, lib).problems
    assert any(p.startswith("scope2.electricity.location_based activity e2: the run stored nothing; the reference evaluator gives excluded")
               for p in problems)
    assert any(" activity ghost: the run stored unmatched (no_rule); the reference evaluator gives no such activity row" in p for p in problems)


def test_a_sample_is_stated_deterministic_and_sized():
    ids = [f"a{i}" for i in range(200)]
    assert Sample.parse("7").pick(42, ids) == Sample.parse("7").pick(42, list(reversed(ids)))
    assert len(Sample.parse("7").pick(42, ids)) == 7
    assert len(Sample.parse("2.5%").pick(42, ids)) == 5
    assert len(Sample.parse("0.1%").pick(42, ids)) == 1  # rounded up
    assert Sample.parse("7").pick(42, ids) != Sample.parse("7").pick(43, ids)  # another run, another sample
    assert sorted(Sample.parse("100%").pick(42, ids)) == sorted(ids) == sorted(Sample().pick(42, ids))
    for bad in ("0", "-3", "abc", "0%", "101%", "5 %", "1e3"):
        with pytest.raises(ValueError):
            Sample.parse(bad)


def test_a_sampled_verification_compares_only_the_sample(db, tmp_path):
    lib, report = _setup(db, tmp_path)
    db.execute("UPDATE ccf.result_row SET co2_co2e_kg = 0, ch4_co2e_kg = 0, n2o_co2e_kg = 0 WHERE activity_id = 'e1'")
    db.commit()
    (picked,) = Sample(rows=1).pick(report.run_id, [r.split(",")[0] for r in ROWS])
    v = verify_reference(db, report.run_id, lib, Sample(rows=1))
    assert v.sample == "a sample of 1 activity rows per methodology"
    assert sum(v.checked.values()) == (3 if picked in ("e1", "e4", "e5") else 1)
    assert v.identical == (picked != "e1")


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url


def test_cli_verify_reference_exit_codes(cli_db, db, tmp_path, capsys):
    _, report = _setup(db, tmp_path)
    db.commit()
    assert main(["verify", str(report.run_id), "--reference"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"run {report.run_id} verified: recomputed by the reference evaluator from its recorded inputs, identical")
    assert main(["verify", str(report.run_id), "--reference", "--sample", "40%", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["identical"] and got["recomputed_by"] == "reference" and got["sample"] == "a sample of 40% of the activity rows per methodology"
    db.execute("UPDATE ccf.result_row SET co2_co2e_kg = co2_co2e_kg * 2 WHERE activity_id = 'e5'")
    db.commit()
    assert main(["verify", str(report.run_id), "--reference"]) == 1
    out = capsys.readouterr().out
    assert "could not be verified" in out and "scope2.electricity.location_based activity e5: " in out
    assert main(["verify", str(report.run_id), "--sample", "5"]) == 2  # --sample needs --reference
    assert "--sample needs --reference" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["verify", str(report.run_id), "--reference", "--sample", "lots"])
    assert exit_.value.code == 2
    assert main(["verify", "999999", "--reference"]) == 1
    assert "there is no run 999999" in capsys.readouterr().err


def test_a_value_from_before_the_limits_is_reported_not_computed_silently(db, tmp_path):
    """A row as an earlier ccf loaded it (1e-9999 t × 3.4e-9999 kgCO2e/t, past today's limits):
    the run's SQL stores 0 kg (PostgreSQL rounds the product at 16,383 places) and plain verify,
    running the same SQL, calls that identical; --reference reports the methodology."""
    lib = shipped_library()
    path = tmp_path / "p.csv"
    path.write_text("activity_id,entity,period_start,period_end,process,amount,amount_unit,co2e_factor,factor_source\n"
                    "P1,A,2024-01-01,2024-12-31,kiln,1,t,3.4,own\n", encoding="utf-8")
    load(db, lib, "old", "process_emissions", path)
    db.execute("UPDATE ccf.activity_process_emissions SET amount = 1e-9999, co2e_factor = 3.4e-9999 WHERE dataset = 'old'")
    db.commit()
    report = run(db, "old", [lib.resolve("scope1.process_emissions.user_supplied_factor@1.0.0")])
    assert db.execute("SELECT co2e_kg FROM ccf.result WHERE run_id = %s", (report.run_id,)).fetchone() == (0,)
    assert verify(db, report.run_id, lib).identical
    (problem,) = verify_reference(db, report.run_id, lib).problems
    assert problem.startswith("scope1.process_emissions.user_supplied_factor: the reference evaluator cannot recompute the run's rows: "
                              "a value with 20002 decimal places")  # 1e-9999 × 1000 (t to kg) × 3.4e-9999 × 0.001
