"""scope2.electricity.market_based: certificates allocated set-based, then the hierarchy.

Expected values are computed by hand from the rows below (certificate MWh laid end to end per
entity, country and vintage year; rates in kg CO2e per kWh). The grid-average fallback is
compared with the location-based method (same DESNZ 2025 lookup) rather than with a typed
factor value.
"""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest
from helpers import load, results, rows_of, shipped_library, write_csv
from ccf.engine.run import run

LIB = shipped_library()
REF = "scope2.electricity.market_based@1.0.0"
_names = itertools.count()

ELEC = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country,grid_region,supplier,supplier_rate,supplier_rate_source"
EAC = "activity_id,entity,period_start,period_end,instrument_type,quantity,quantity_unit,country,grid_region,vintage,emission_rate,registry"

CONSUMPTION = (
    "c1,E,2024-01-01,2024-01-31,100,MWh,GB,,S,,",
    "c2,E,2024-02-01,2024-02-29,100000,kWh,GB,,S,0.2,contract",
    "c3,E,2024-03-01,2024-03-31,50,MWh,GB,,S,,",
    "c4,E,2024-04-01,2024-04-30,0,kWh,GB,,S,,",
    "c5,E2,2024-01-01,2024-12-31,10,MWh,DE,,S,,",
    "c6,E3,2024-01-01,2024-12-31,10,MWh,DE,,S,,",
)
CERTIFICATES = (
    "k1,E,2024-01-01,2024-12-31,REGO,150,MWh,GB,,2024,0,r",
    "k2,E,2024-01-01,2024-12-31,PPA,30,MWh,GB,,2024,0.01,r",
    "k3,E,2024-01-01,2024-12-31,REGO,10,MWh,GB,,2023,0,r",
    "k4,E,2024-01-01,2024-12-31,GO,20,MWh,FR,,2024,0,r",
    "k5,E2,2024-01-01,2024-12-31,GO,25,MWh,DE,,2024,0,r",
    "k6,E3,2024-01-01,2024-12-31,GO,4000,kWh,DE,,2024,0,r",
)


def _run(db, tmp_path, consumption=CONSUMPTION, certificates=CERTIFICATES, ref=REF):
    dataset = f"mb{next(_names)}"
    load(db, LIB, dataset, "electricity", write_csv(tmp_path / f"{dataset}_e.csv", ELEC, *consumption))
    load(db, LIB, dataset, "energy_attribute_certificates", write_csv(tmp_path / f"{dataset}_c.csv", EAC, *certificates))
    return dataset, run(db, dataset, [LIB.resolve(ref)], other_edition=True)


@pytest.fixture
def market(db, tmp_path):
    dataset, rep = _run(db, tmp_path)
    return dataset, rep, results(db, rep.run_id)


def _parts(rows):
    """(activity_id, instrument_id) -> (rule, kg CO2e summed over gases)."""
    out: dict[tuple[str, str | None], tuple[str, D]] = {}
    for r in rows:
        key = (r["activity_id"], r["instrument_id"])
        rule, kg = out.get(key, (r["rule_id"], D(0)))
        out[key] = (rule, kg + r["co2e_kg"])
    return out


def test_market_based_hierarchy_by_hand(db, tmp_path, market):
    dataset, rep, rows = market
    parts = _parts(rows)
    # c1 [0,100) MWh of the pool E/GB/2024 lies in k1 [0,150): covered whole, rate 0
    assert parts[("c1", "k1")] == ("certificate", D(0))
    # c2 [100,200): 50 MWh from k1, 30 MWh from k2 (0.01 kg/kWh: 300 kg), 20 MWh remainder at
    # the supplier's 0.2 kg/kWh (4000 kg)
    assert parts[("c2", "k1")] == ("certificate", D(0))
    assert parts[("c2", "k2")] == ("certificate", D(300))
    assert parts[("c2", None)] == ("supplier_specific", D(4000))
    # c3: nothing left; no supplier rate: the location-based grid average, as that method gives
    loc = run(db, dataset, [LIB.resolve("scope2.electricity.location_based@1.1.0")], other_edition=True)
    loc_c3 = sum(r["co2e_kg"] for r in results(db, loc.run_id) if r["activity_id"] == "c3")
    assert parts[("c3", None)][0] == "grid_average_fallback"
    assert parts[("c3", None)][1] == loc_c3 > 0
    # c5 (E2/DE) fully covered by k5: no remainder part
    assert parts[("c5", "k5")] == ("certificate", D(0))
    assert ("c5", None) not in parts
    assert set(parts) == {("c1", "k1"), ("c2", "k1"), ("c2", "k2"), ("c2", None), ("c3", None), ("c5", "k5")}
    # every row in exactly one place: c4 excluded; c6 (4 MWh certificate, 6 MWh without a rule) unmatched whole
    excluded = {r["activity_id"]: r["rule_id"] for r in rows_of(db, "excluded", rep.run_id)}
    unmatched = {r["activity_id"]: r["reason_code"] for r in rows_of(db, "unmatched", rep.run_id)}
    assert excluded == {"c4": "zero_consumption"}
    assert unmatched == {"c6": "no_rule"}
    rec = rep.methodologies[0].reconciliation
    assert (rec.rows_in, rec.rows_result, rec.rows_excluded, rec.rows_unmatched) == (6, 4, 1, 1)
    assert rep.methodologies[0].co2e_kg == D(4300) + loc_c3


def test_unallocated_certificates_with_reasons(db, market):
    _, rep, _ = market
    alloc = {r["instrument_id"]: r for r in rows_of_instruments(db, rep.run_id)}
    got = {k: (r["quantity"], r["allocated"], r["unallocated"], r["allocated_rows"], r["reason_code"]) for k, r in alloc.items()}
    assert got == {
        "k1": (150, 150, 0, 2, "allocated"),
        "k2": (30, 30, 0, 1, "allocated"),
        "k3": (10, 0, 10, 0, "vintage"),  # 2023 vintage, consumption only in 2024
        "k4": (20, 0, 20, 0, "market_boundary"),  # FR certificate, E consumes only in GB
        "k5": (25, 10, 15, 1, "surplus"),
        # laid against c6, which is unmatched as a whole: applied to no reported emission, so
        # unallocated (it is not laid against another row either: the pools are laid end to end once)
        "k6": (4, 0, 4, 0, "unreported_row"),
    }
    assert {r["unit"] for r in alloc.values()} == {"MWh"}
    view = db.execute(
        "SELECT instrument_id, unallocated FROM ccf.unallocated_instrument WHERE run_id = %s ORDER BY 1", (rep.run_id,)
    ).fetchall()
    assert view == [("k3", 10), ("k4", 20), ("k5", 15), ("k6", 4)]
    summary = rep.to_json()["methodologies"][0]["instruments"]
    assert summary == {"unit": "MWh", "quantity": "239", "allocated": "190", "unallocated": "49",
                       "unallocated_by_reason": {"market_boundary": "20", "surplus": "15", "unreported_row": "4",
                                                 "vintage": "10"}}


def rows_of_instruments(db, run_id):
    cur = db.execute("SELECT * FROM ccf.instrument_allocation WHERE run_id = %s ORDER BY instrument_id", (run_id,))
    names = [d.name for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def test_no_certificate_mwh_counted_twice(db, tmp_path):
    """Many rows and certificates in one pool: what certificates give equals what rows receive,
    never more than either side has."""
    consumption = [f"r{i:02d},E,2024-{1 + i % 12:02d}-01,2024-{1 + i % 12:02d}-28,{7 + (i * 13) % 29}.5,MWh,GB,,S,0,x"
                   for i in range(30)]
    certificates = [f"k{j:02d},E,2024-01-01,2024-12-31,REGO,{11 + (j * 7) % 23},MWh,GB,,2024,0,r" for j in range(25)]
    _, rep = _run(db, tmp_path, consumption, certificates)
    alloc = rows_of_instruments(db, rep.run_id)
    consumed = sum(D(c.split(",")[4]) for c in consumption)
    held = sum(D(c.split(",")[5]) for c in certificates)
    given = sum(r["allocated"] for r in alloc)
    assert given == min(consumed, held)
    assert all(0 <= r["allocated"] <= r["quantity"] and r["allocated"] + r["unallocated"] == r["quantity"] for r in alloc)
    # each row: certificate parts + remainder (at 0 kg/kWh here) never exceed the row
    parts = db.execute(
        "SELECT activity_id, count(*) FILTER (WHERE instrument_id IS NOT NULL) FROM ccf.result WHERE run_id = %s GROUP BY 1",
        (rep.run_id,),
    ).fetchall()
    assert len(parts) == 30 and sum(n for _, n in parts) == sum(r["allocated_rows"] for r in alloc)
    rec = rep.methodologies[0].reconciliation
    assert (rec.rows_in, rec.rows_result) == (30, 30)


def test_methodologies_without_instruments_compile_as_before():
    """The allocation stage exists only where a methodology asks for it."""
    from ccf.engine.compile import compile_methodology

    loc = compile_methodology(LIB.resolve("scope2.electricity.location_based@1.1.0"))
    assert loc.instruments is None and "instrument" not in loc.sql()
    mb = compile_methodology(LIB.resolve(REF))
    assert [n for n, _ in mb.statements()] == ["evaluate", "results", "excluded", "unmatched", "instruments", "reconcile", "cleanup"]
    assert "consumption_laid" in mb.sql() and "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" in mb.sql()


def test_listed_as_scope2_market_based():
    m = LIB.resolve(REF)
    assert (m.scope, m.method, m.instruments.activity.id) == (2, "market-based", "energy_attribute_certificates")


# --- SQL = the reference evaluator (dsl/allocate.py), exactly ------------------------------------


def _typed(header: str, line: str, at) -> dict:
    """A CSV line as the loader stores it (numbers Decimal, dates date, blanks None)."""
    from datetime import date

    out: dict[str, object] = {}
    for name, cell in zip(header.split(","), line.split(",")):
        f = at.field(name)
        if cell == "":
            out[name] = None
        elif f is not None and f.type.kind == "quantity":
            out[name] = D(cell)
        elif f is not None and f.type.kind == "date":
            out[name] = date.fromisoformat(cell)
        else:
            out[name] = cell
    return out


def _reference(m, consumption, certificates):
    from ccf.dsl.evaluate import RecordsResolver, evaluate_rows
    from ccf.engine.factors.catalog import load_shipped, shipped_gwp
    from ccf.engine.factors.regions import closure, shipped_regions

    edition, records = load_shipped(m.factor_set)
    resolver = RecordsResolver(records, region=edition.region, year=edition.year, regions=tuple(closure(shipped_regions())))
    gwp = {g.gas: g.value for g in shipped_gwp() if g.gwp_set == m.gwp}
    rows = [_typed(ELEC, c, m.activity) for c in consumption]
    certs = [_typed(EAC, c, m.instruments.activity) for c in certificates]
    return evaluate_rows(m, rows, resolver, gwp, instruments=certs)


def _random_data(seed: int) -> tuple[list[str], list[str]]:
    import random

    rnd = random.Random(seed)
    entities, countries = ["E1", "E2"], ["GB", "DE"]
    consumption = []
    for i in range(rnd.randint(1, 12)):
        month = rnd.randint(1, 12)
        year = rnd.choice([2023, 2024, 2024])
        q = rnd.choice(["0", str(rnd.randint(1, 400)), f"{rnd.randint(1, 90)}.{rnd.randint(0, 99)}"])
        unit = rnd.choice(["kWh", "MWh", "GJ"])
        rate = rnd.choice(["", "", "0.2", "0.05"])
        consumption.append(f"c{rnd.choice('abc')}{i},{rnd.choice(entities)},{year}-{month:02d}-01,{year}-{month:02d}-28,"
                           f"{q},{unit},{rnd.choice(countries)},,S,{rate},x")
    certificates = []
    for j in range(rnd.randint(0, 8)):
        certificates.append(f"k{rnd.choice('xyz')}{j},{rnd.choice(entities)},2024-01-01,2024-12-31,GO,"
                            f"{rnd.randint(1, 300)},{rnd.choice(['MWh', 'kWh'])},{rnd.choice(countries + ['FR'])},,"
                            f"{rnd.choice([2023, 2024])},{rnd.choice(['0', '0', '0.01'])},r")
    return consumption, certificates


@pytest.mark.parametrize("seed", range(12))
def test_sql_equals_reference_allocation(db, tmp_path, seed):
    from ccf.dsl.evaluate import Excluded, Result, Unmatched

    consumption, certificates = _random_data(seed)
    m = LIB.resolve(REF)
    _, rep = _run(db, tmp_path, consumption, certificates)
    ref = _reference(m, consumption, certificates)
    sql_results = {(r["activity_id"], r["instrument_id"], r["rule_id"], r["gas"], r["co2e_kg"]) for r in results(db, rep.run_id)}
    ref_results = {(o.activity_id, o.instrument_id, o.rule_id, g.gas, g.co2e_kg)
                   for o in ref.outcomes if isinstance(o, Result) for g in o.gases}
    assert sql_results == ref_results
    assert {(r["activity_id"], r["rule_id"]) for r in rows_of(db, "excluded", rep.run_id)} == {
        (o.activity_id, o.rule_id) for o in ref.outcomes if isinstance(o, Excluded)}
    assert {(r["activity_id"], r["reason_code"]) for r in rows_of(db, "unmatched", rep.run_id)} == {
        (o.activity_id, o.reason_code) for o in ref.outcomes if isinstance(o, Unmatched)}
    sql_uses = {(r["instrument_id"], r["quantity"], r["allocated"], r["unallocated"], r["allocated_rows"], r["reason_code"])
                for r in rows_of_instruments(db, rep.run_id)}
    ref_uses = {(u.instrument_id, u.quantity, u.allocated, u.unallocated, u.allocated_rows, u.reason_code) for u in ref.instruments}
    assert sql_uses == ref_uses
    rec = rep.methodologies[0].reconciliation
    assert (rec.rows_result, rec.rows_excluded, rec.rows_unmatched) == (ref.count("result"), ref.count("excluded"), ref.count("unmatched"))
    assert dict(rep.methodologies[0].by_gas) == dict(ref.by_gas)


def test_explain_and_verify_a_market_based_run(db, market):
    from ccf.engine.explain import explain
    from ccf.engine.verify import verify

    _, rep, _ = market
    e = explain(db, rep.run_id, "c2", LIB)
    (part,) = e.parts
    assert part.reproduces_stored, e.render()
    text = e.render()
    assert "part 1: 50 MWh from instrument k1" in text and "part 2: 30 MWh from instrument k2" in text
    assert "part 3: 20 MWh not covered by an instrument → rule supplier_specific: 4000 kg CO2e" in text
    assert explain(db, rep.run_id, "c6", LIB).parts[0].reproduces_stored  # unmatched as a whole
    v = verify(db, rep.run_id, LIB)
    assert v.identical, v.problems
    assert v.checked["instrument_allocation"] == 6


def test_dual_reporting_never_adds_the_two_bases(db, tmp_path):
    """A run with both methods: the total is Scope 2 location-based; market-based is beside it."""
    dataset, _ = _run(db, tmp_path)
    both = run(db, dataset, [LIB.resolve("scope2.electricity.location_based@1.1.0"), LIB.resolve(REF)], other_edition=True)
    loc, mb = (next(m for m in both.methodologies if m.method == k) for k in ("location-based", "market-based"))
    assert both.co2e_kg == loc.co2e_kg
    assert both.scope2_by_basis() == {"location-based": loc.co2e_kg, "market-based": mb.co2e_kg}
    summary = both.to_json()
    assert summary["by_scope_category"] == {"scope2": summary["total_co2e_kg"]}
    assert set(summary["scope2_by_basis"]) == {"location-based", "market-based"}
