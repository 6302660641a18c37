"""The same methodology, the same activity rows: ClickHouse (chdb) and PostgreSQL store the same
results, exclusions and unmatched rows, and reconcile to the same counts and totals.

For each shipped methodology the ClickHouse backend compiles (engine/clickhouse/compile.py
``supported``), rows are drawn by the reliability suite's generator (tests/reliability/_support.py:
every unit of each quantity, missing optional values, keys that do and do not find a factor,
hostile text), loaded into PostgreSQL through ccf and run there; then the same run's inputs are
copied to chdb, compiled for ClickHouse and run. Every column of every result row is compared
(decimals equal, not close), and every exclusion, unmatched row and reason. A methodology the
backend does not compile is refused, naming the construct."""

from __future__ import annotations

import zlib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from clickhouse._support import ALLOCATION, EXCLUDED, UNMATCHED, ch_rows, pg_rows, result_key, same_result  # noqa: E402
from helpers import shipped_library  # noqa: E402
from reliability import _support  # noqa: E402
from reliability._support import (  # noqa: E402
    NIGHTLY, RandomChooser, RowSpec, one_edition, region_codes, shipped_factors, unique, write_rows,
)
from ccf.dsl import ir, resources  # noqa: E402
from ccf.dsl.numeric import exact_sum  # noqa: E402
from ccf.engine.clickhouse.compile import INEXACT, Unsupported, supported  # noqa: E402
from ccf.engine.clickhouse.numeric import ClickHouseInexact  # noqa: E402
from ccf.engine.clickhouse.run import run_on_clickhouse  # noqa: E402
from ccf.engine.compile.evaluate import gases  # noqa: E402
from ccf.engine.database import connect  # noqa: E402
from ccf.engine.factors.catalog import shipped_editions  # noqa: E402
from ccf.engine.load import load_csv  # noqa: E402
from ccf.engine.run import run  # noqa: E402

ROWS = 20


def _compiles(m: ir.Methodology) -> bool:
    try:
        supported(m)
    except Unsupported:
        return False
    return True


LIBRARY = shipped_library()
SUPPORTED = [m.ref for m in LIBRARY.versions() if _compiles(m)]
UNSUPPORTED = [m.ref for m in LIBRARY.versions() if not _compiles(m)]
# each run (load and run on both engines) takes seconds: the suite runs the latest published
# version of each methodology, the nightly run every version
LATEST = {m.ref for m in LIBRARY.latest_published()}
COMPARED = SUPPORTED if NIGHTLY else [r for r in SUPPORTED if r in LATEST or r in (
    "scope1.stationary_combustion@1.0.0", "scope2.electricity.location_based@1.0.0")]
# methodologies that multiply several activity fields (up to six: employees × share × distance ×
# trips × days × factor): for the drawn data, each field up to a million, their products could
# exceed ClickHouse's 76 digits, so their rules are guarded row by row: a row with a wider input
# than the guard is unmatched 'inexact_on_clickhouse' where PostgreSQL computes it
# (docs/numeric-semantics.md#clickhouse); every other row is compared as for any methodology
WIDE = {
    "scope1.fugitive.refrigeration.screening@1.0.0", "scope1.fugitive.refrigeration.screening@2.0.0",
    "scope3.cat10.processing_of_sold_products.site_specific@1.0.0",
    "scope3.cat11.use_of_sold_products.direct_use_phase@1.0.0", "scope3.cat11.use_of_sold_products.direct_use_phase@2.0.0",
    "scope3.cat11.use_of_sold_products.indirect_use_phase@1.0.0", "scope3.cat11.use_of_sold_products.intermediate_products@1.0.0",
    "scope3.cat12.end_of_life.waste_type_specific@1.0.0",
    "scope3.cat15.investments.pcaf_commercial_real_estate@1.0.0", "scope3.cat15.investments.pcaf_mortgages@1.0.0",
    "scope3.cat15.investments.pcaf_motor_vehicle_loans@1.0.0",
    "scope3.cat7.employee_commuting.average_data@1.0.0", "scope3.cat7.employee_commuting.distance_based@1.0.0",
    "scope3.cat7.employee_commuting.distance_based@1.1.0",
}


@pytest.fixture(scope="module")
def engines(module_db_url, clickhouse):
    conn = connect(module_db_url)
    yield conn, clickhouse
    conn.close()


def plain_number(ch: _support.Chooser, negative: bool = False) -> str:
    """A number as activity data has them: up to a million, up to 3 decimals (ClickHouse's 76
    digits hold the shipped methodologies' arithmetic for such inputs, but for ``WIDE``; wider
    inputs are refused, ``test_inputs_beyond_76_digits_are_refused_not_rounded``)."""
    text_ = f"{ch.integer(0, 10**6)}.{str(ch.integer(0, 999)).zfill(3)}" if ch.chance(70) else ch.pick(["0", "1", "2.5", "1000"])
    return "-" + text_ if negative and ch.chance(30) else text_


def compare(conn, ch, m: ir.Methodology, dataset: str, run_id: int) -> set[str]:
    """Run ``m`` on both engines and compare everything they store; the activity ids ClickHouse
    leaves unmatched 'inexact_on_clickhouse' (PostgreSQL's result, or its no_value or
    bad_data_quality, which come after: docs/numeric-semantics.md#clickhouse)."""
    report = run(conn, dataset, [m], other_edition=True)
    (pg_out,) = report.methodologies
    out = run_on_clickhouse(conn, ch, dataset, m, run_id, other_edition=True)
    cols = {"excluded": EXCLUDED, "unmatched": UNMATCHED}
    pg = {name: [tuple(r[c] for c in cols[name]) for r in pg_rows(conn, name, report.run_id, m.id)] for name in cols}
    got = {name: [tuple(r[c] for c in cols[name]) for r in ch_rows(ch, name, run_id, m.id)] for name in cols}
    inexact = {r[0]: r for r in got["unmatched"] if r[2] == INEXACT}
    assert not inexact or m.instruments is None, inexact  # the drawn parts need no guard: none is compared one by one
    key = result_key(m)  # a result row per activity row; with instruments, per part
    pg_results = {key(r): r for r in pg_rows(conn, "result_row", report.run_id, m.id)}
    ch_results = {key(r): r for r in ch_rows(ch, "result_row", run_id, m.id)}
    # where ClickHouse gives up a row, PostgreSQL computed it (a result), or found it had no
    # value or a bad score, which it decides after the guard; by the same rule
    pg_unmatched = {r[0]: r for r in pg["unmatched"]}
    for aid, row in inexact.items():
        assert aid in pg_results or pg_unmatched[aid][2] in ("no_value", "bad_data_quality"), (aid, pg_unmatched.get(aid))
        assert row[1] == (pg_results[aid]["rule_id"] if aid in pg_results else pg_unmatched[aid][1])
    assert set(ch_results) == set(pg_results) - set(inexact)
    for aid, row in ch_results.items():
        assert not same_result(pg_results[aid], row), (aid, same_result(pg_results[aid], row))
    assert sorted(got["excluded"]) == sorted(pg["excluded"])
    assert sorted(r for r in got["unmatched"] if r[0] not in inexact) == sorted(r for r in pg["unmatched"] if r[0] not in inexact)
    given_up = len(set(inexact) & set(pg_results))
    rec = pg_out.reconciliation
    assert out.reconciliation == replace(rec, rows_result=rec.rows_result - given_up, rows_unmatched=rec.rows_unmatched + given_up)
    if not inexact:
        assert out.by_gas == tuple(pg_out.by_gas) and out.co2e_kg == pg_out.co2e_kg
    # the sums of the rows both engines computed, to the last digit
    expected = []
    for gas in sorted(gases(m)):
        values = [r[f"{gas.lower()}_co2e_kg"] for aid, r in pg_results.items() if aid not in inexact]
        if any(v is not None for v in values):
            expected.append((gas, exact_sum(v for v in values if v is not None)))
    assert out.by_gas == tuple(expected)
    if m.instruments is not None:  # every instrument: what it gave, what is left and why, the totals printed
        assert sorted(out.allocation) == sorted(tuple(r[c] for c in ALLOCATION) for r in pg_rows(conn, "instrument_allocation", report.run_id, m.id))
    if m.method == "market-based":
        assert out.by_rule == pg_out.by_rule
    return set(inexact)


@pytest.mark.parametrize("ref", COMPARED)
def test_clickhouse_stores_what_postgresql_stores(ref, engines, tmp_path: Path, monkeypatch):
    conn, ch = engines
    m = one_edition(LIBRARY.resolve(ref))
    others = sorted({lk.factor_set for lk in m.lookups if lk.factor_set in shipped_editions()})
    records = shipped_factors(m.factor_set).records + tuple(r for s in others for r in shipped_factors(s).records)
    spec = RowSpec.build(m, records, region_codes())
    monkeypatch.setattr(_support, "number_text", plain_number)
    chooser = RandomChooser(zlib.crc32(ref.encode()))
    dataset = unique()
    cells = [spec.cells(chooser, f"R{i}") for i in range(ROWS)]
    if m.instruments is not None:
        cells = _pooled(chooser, cells)
        instruments = _instruments(chooser, m.instruments, cells)
        load_csv(conn, dataset, m.instruments.activity, write_rows(tmp_path / "instruments.csv", m.instruments.activity, instruments))
    path = write_rows(tmp_path / "rows.csv", m.activity, cells)
    load_csv(conn, dataset, m.activity, path)
    inexact = compare(conn, ch, m, dataset, zlib.crc32(ref.encode()))
    assert not inexact or ref in WIDE, inexact  # the drawn data needs a guard only for WIDE


def _pooled(ch: _support.Chooser, cells: list[dict]) -> list[dict]:
    """The drawn rows, most of them in a few market boundaries (entity, country) of 2024, so that
    pools hold several rows and instruments: each row's interval starts where the last ended."""
    out = []
    for row in cells:
        row = dict(row)
        if ch.chance(80):
            row["entity"] = ch.pick(["ACME", "Ünïcode Ltd"])
            row["country"] = ch.pick(["GB", "US", "DE"])
            row["period_start"] = row["period_end"] = ch.pick(["2024-01-01", "2024-06-30", "2024-12-31"])
        out.append(row)
    return out


def _instruments(ch: _support.Chooser, ins: ir.Instruments, cells: list[dict]) -> list[dict]:
    """Certificates for the drawn rows' boundaries and years: most in a row's boundary and
    vintage (allocated, or a surplus), some of another country (market boundary) or year
    (vintage); quantities in each of the field's units, some zero or larger than the pool."""
    units = [c.unit for c in ins.activity.field(ins.allocate).conversions]  # type: ignore[union-attr]
    out = []
    for i in range(ROWS // 2):
        row = ch.pick(cells)
        year = (row["period_start"] or "2024")[:4]
        out.append({
            "activity_id": f"I{i}", "entity": row["entity"], "period_start": "2024-12-31", "period_end": "2024-12-31",
            "instrument_type": ch.pick(["REGO", "GO", "REC"]), "quantity": ch.pick(["0", "1", "2.5", "250.125", "100000"]),
            "quantity_unit": ch.pick(units), "country": row.get("country") if ch.chance(80) else "FR",
            "vintage": year if ch.chance(80) else "2019", "emission_rate": ch.pick(["0", "0.2", "0.35", "1.25"]),
        })
    return out


def test_the_first_slice_covers_the_brief():
    assert {"scope1.stationary_combustion@1.4.0", "scope2.electricity.location_based@1.3.0"} <= set(COMPARED) - WIDE


def test_every_shipped_version_compiles():
    """Instruments were the last construct refused (market-based Scope 2, 4 versions)."""
    assert UNSUPPORTED == []


def test_inputs_beyond_76_digits_are_refused_not_rounded(engines, tmp_path: Path):
    """A value PostgreSQL computes exactly but ClickHouse's 76 digits could not: the run is
    refused, naming the computation, rather than stored wrapped around or truncated."""
    conn, ch = engines
    m = LIBRARY.resolve("scope2.electricity.location_based@1.0.0")
    dataset = unique()
    cells = [{"activity_id": "R1", "entity": "ACME", "period_start": "2024-01-01", "period_end": "2024-01-31",
              "quantity": "9" * 30 + "." + "9" * 40, "quantity_unit": "GJ", "country": "GB"}]
    load_csv(conn, dataset, m.activity, write_rows(tmp_path / "wide.csv", m.activity, cells))
    report = run(conn, dataset, [m], other_edition=True)
    assert report.methodologies[0].reconciliation.rows_result == 1  # PostgreSQL: exact
    with pytest.raises(ClickHouseInexact, match="could need more than 76 digits"):
        run_on_clickhouse(conn, ch, dataset, m, 7, other_edition=True)
    assert ch_rows(ch, "result_row", 7, m.id) == []


def test_a_row_beyond_76_digits_is_unmatched_on_clickhouse_the_others_computed(engines, tmp_path: Path):
    """A quantity with 45 digits before the point: PostgreSQL computes its emissions exactly,
    ClickHouse's rule is guarded for this run (its product could need more than 76 digits) and
    that row alone is unmatched 'inexact_on_clickhouse'; the ordinary row is computed the same."""
    conn, ch = engines
    m = LIBRARY.resolve("scope2.electricity.location_based@1.0.0")
    dataset = unique()
    cells = [{"activity_id": aid, "entity": "ACME", "period_start": "2024-01-01", "period_end": "2024-01-31",
              "quantity": quantity, "quantity_unit": "GJ", "country": "GB"}
             for aid, quantity in (("WIDE", "9" * 45 + ".5"), ("PLAIN", "1234.5"))]
    load_csv(conn, dataset, m.activity, write_rows(tmp_path / "wide.csv", m.activity, cells))
    inexact = compare(conn, ch, m, dataset, 8)
    assert inexact == {"WIDE"}
    (row,) = [r for r in ch_rows(ch, "unmatched", 8, m.id)]
    assert row["reason_code"] == INEXACT and "more than" in row["reason"] and "digits before the point" in row["reason"]
    assert [r["activity_id"] for r in ch_rows(ch, "result_row", 8, m.id)] == ["PLAIN"]


def test_shares_of_a_site_and_a_site_without_a_total(engines, tmp_path: Path):
    """share(goods_volume, site) on ClickHouse: a site's rows take 1/3 and 2/3 of its energy (the
    share rounded once, by div), a site whose volume is zero and a row without one have no total
    (no_total, PostgreSQL's reason); everything as PostgreSQL stores it."""
    conn, ch = engines
    m = LIBRARY.resolve("scope3.cat4.upstream_transport.storage_site_specific@1.0.0")
    dataset = unique()
    base = {"entity": "ACME", "period_start": "2024-01-01", "period_end": "2024-12-31", "direction": "inbound",
            "paid_by_company": "true", "site_electricity": "1000", "site_electricity_unit": "kWh",
            "electricity_factor": "0.2", "goods_volume_unit": "m3"}
    rows = [("A1", "A", "1"), ("A2", "A", "2"), ("B1", "B", "0"), ("B2", "B", "0"), ("C1", "C", "")]
    cells = [{**base, "activity_id": aid, "site": site, "goods_volume": volume} for aid, site, volume in rows]
    load_csv(conn, dataset, m.activity, write_rows(tmp_path / "shares.csv", m.activity, cells))
    assert not compare(conn, ch, m, dataset, 9)
    results = {r["activity_id"]: r["total_co2e_kg"] for r in ch_rows(ch, "result_row", 9, m.id)}
    assert results == {"A1": Decimal("66.666666666666666666"), "A2": Decimal("133.333333333333333334")}
    reasons = {r["activity_id"]: r["reason_code"] for r in ch_rows(ch, "unmatched", 9, m.id)}
    assert reasons == {"B1": "no_total", "B2": "no_total", "C1": "no_total"}


@pytest.mark.parametrize("ref, sample", [
    ("scope3.cat15.investments.pcaf_motor_vehicle_loans@1.0.0", "financed_vehicles.csv"),
    ("scope3.cat7.employee_commuting.distance_based@1.1.0", "commuting.csv"),
])
def test_values_with_more_places_than_stored_are_computed_on_the_demo_rows(ref, sample, engines):
    """The demo's rows of two versions whose products carry more than 40 places in their type:
    each value is checked to have at most 40 (``x = toDecimal256(x, 40)``) and stored. The check
    rendered without its parentheses ('NOT x IS NULL OR x = …'), so every row with a value was
    unmatched 'inexact_on_clickhouse' and the demo gave 0 kg where PostgreSQL gives 3,202.524 and
    556,559.729; now every row is stored as PostgreSQL stores it."""
    conn, ch = engines
    m = one_edition(LIBRARY.resolve(ref))
    dataset = unique()
    load_csv(conn, dataset, m.activity, resources.sample_company() / sample)
    assert compare(conn, ch, m, dataset, 10 + zlib.crc32(ref.encode()) % 1000) == set()
