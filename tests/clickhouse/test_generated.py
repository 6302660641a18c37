"""The generated methodologies of the reliability suite on both engines, with the same generated
datasets: hypothesis writes a methodology over the rel_gen activity type (random well-typed
conditions and emissions over every kind of field, parameter, literal unit, factor and share:
tests/reliability/test_differential.py ``generated_methodology``) and rows for it (the suite's
``RowSpec``: edge values such as 0, 1e15 and 21 decimals, missing values, hostile text); the rows
are loaded into PostgreSQL and run there and on ClickHouse, and ``compare`` holds every result,
exclusion, unmatched row and reason, the reconciliation and the sums against each other.

ClickHouse's 76 digits do not hold everything PostgreSQL computes: a row beyond its rule's guard is
unmatched ``inexact_on_clickhouse`` (compare checks PostgreSQL computed it), and a run whose
conditions or columns' places no row could hold is refused before it starts, naming the
computation (``ClickHouseInexact``); the test counts both and requires most runs compared."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

pytest.importorskip("chdb", reason="the clickhouse extra (chdb) is not installed")

from reliability._support import NIGHTLY, DataChooser, unique, write_rows  # noqa: E402
from reliability.test_differential import HEADER, generated_methodology, known_bugs, rel_gen, rel_gen_spec  # noqa: E402,F401  fixtures
from clickhouse._support import ch_rows  # noqa: E402
from clickhouse.test_differential import compare  # noqa: E402
from ccf.dsl.library import read_methodology  # noqa: E402
from ccf.dsl.source import SourceFile  # noqa: E402
from ccf.engine.api import factor_signatures  # noqa: E402
from ccf.engine.clickhouse.numeric import ClickHouseInexact  # noqa: E402
from ccf.engine.database import connect  # noqa: E402
from ccf.engine.load import load_csv  # noqa: E402

EXAMPLES = 150 if NIGHTLY else 8
MAX_ROWS = 25
# each example loads and runs on both engines (seconds): a failure is reported as drawn, unshrunk
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


@pytest.fixture(scope="module")
def engines(module_db_url, clickhouse):
    conn = connect(module_db_url)
    yield conn, clickhouse
    conn.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("generated")


def test_generated_methodologies_on_both_engines(engines, rel_gen, rel_gen_spec, folder):
    conn, ch = engines
    outcomes = {"compared": 0, "refused": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not NIGHTLY, database=None, phases=PHASES,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(text=generated_methodology(), data=st.data())
    def one(text, data):
        path = folder / f"{unique('m')}.yaml"
        path.write_text(text, encoding="utf-8")
        m = read_methodology(SourceFile(str(path), text), {"rel_gen": rel_gen}, factor_signatures())
        assume(not known_bugs(m))
        chooser = DataChooser(data)
        cells = [rel_gen_spec.cells(chooser, f"G{i}") for i in range(chooser.integer(1, MAX_ROWS))]
        dataset = unique()
        loaded = load_csv(conn, dataset, m.activity, write_rows(folder / f"{dataset}.csv", m.activity, cells))
        assert loaded.rows_rejected == 0, loaded.reasons
        try:
            compare(conn, ch, m, dataset, zlib.crc32(dataset.encode()))
        except ClickHouseInexact as e:  # refused whole, before anything ran: named
            assert "could need more than 76 digits" in str(e)
            outcomes["refused"] += 1
            return
        outcomes["compared"] += 1

    one()
    # most drawn methodologies are compared row by row, not refused whole
    assert outcomes["compared"] > outcomes["refused"], outcomes


def test_not_in_a_list_with_null_is_null_as_in_postgresql(engines, rel_gen, folder):
    """Found by the generated methodologies: ``"GB" not in (null, label ?? "x")`` is NULL in
    PostgreSQL (no rule applies), where ClickHouse's own NOT IN drops the NULL item and is TRUE."""
    conn, ch = engines
    text = HEADER + """\
gwp: AR5
factor_set: desnz-2024
rules:
  - id: not_listed
    where: '"GB" not in (null, label ?? "x")'
    emissions: n1 * 2 kgCO2e
  - id: listed
    where: 'label in (null, "GB")'
    emissions: n1 * 3 kgCO2e
"""
    path = folder / "not_in.yaml"
    path.write_text(text, encoding="utf-8")
    m = read_methodology(SourceFile(str(path), text), {"rel_gen": rel_gen}, factor_signatures())
    dataset = unique()
    cells = [{"activity_id": aid, "entity": "ACME", "period_start": "2024-01-01", "period_end": "2024-01-01", "n1": "1", "label": label}
             for aid, label in (("EMPTY", ""), ("GB", "GB"), ("FR", "FR"))]
    load_csv(conn, dataset, m.activity, write_rows(folder / f"{dataset}.csv", m.activity, cells))
    compare(conn, ch, m, dataset, 11)
    reasons = {r["activity_id"]: r["reason_code"] for r in ch_rows(ch, "unmatched", 11, m.id)}
    assert reasons == {"EMPTY": "no_rule", "FR": "no_rule"}  # NULL, not TRUE, in either rule
    assert [(r["activity_id"], r["rule_id"]) for r in ch_rows(ch, "result_row", 11, m.id)] == [("GB", "listed")]
