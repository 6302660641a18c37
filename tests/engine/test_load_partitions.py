"""The activity tables partitioned by dataset (engine/load/tables.py, migration 0025): a dataset's
first load makes, fills, keys and attaches its partition in its own transaction; later loads
write through the parent; a failed load leaves no partition; 0025 converts older tables in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccf.dsl import ir
from ccf.dsl.library import read_activity_type
from ccf.dsl.source import SourceFile
from ccf.engine import load as load_module
from ccf.engine.load import LoadError, load_csv
from ccf.engine.load.tables import PARTITIONS, partition_name
from ccf.engine.migrate import migrate
from ccf.engine.sql import Executor

ROOT = Path(__file__).resolve().parents[2]
HEADER = "activity_id,entity,period_start,period_end,quantity,quantity_unit,country"


@pytest.fixture()
def electricity() -> ir.ActivityType:
    return read_activity_type(SourceFile.read(ROOT / "methodologies/activity_types/electricity.yaml"))


def _csv(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def _row(aid: str, quantity: str = "10") -> str:
    return f"{aid},Plant,2024-01-01,2024-01-31,{quantity},kWh,GB"


def _partitions(db) -> list[tuple[str, str, str]]:
    """(partition, its bound, its primary key's definition) of ccf.activity_electricity."""
    if db.execute("SELECT to_regclass('ccf.activity_electricity')").fetchone() == (None,):
        return []
    return db.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), "
        "       (SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) "
        "FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
        "WHERE h.inhparent = 'ccf.activity_electricity'::regclass ORDER BY 1").fetchall()


def _rows(db) -> list[tuple]:
    return db.execute("SELECT dataset, activity_id, load_id, line_no, quantity, tableoid::regclass::text "
                      "FROM ccf.activity_electricity ORDER BY dataset, activity_id").fetchall()


def test_a_dataset_s_first_load_makes_its_keyed_partition_and_later_loads_write_through_the_parent(
        db, electricity, tmp_path, monkeypatch):
    ran: list[str] = []

    class Recording(Executor):
        def execute(self, tree, params=None):
            cur = super().execute(tree, params)
            ran.append(" ".join(self.statements[-1].split()))
            return cur

    monkeypatch.setattr(load_module, "Executor", Recording)
    odd = "it's a \"data\\set\" ü"  # any dataset name: a literal of the partition's bound, never in a name
    load_csv(db, odd, electricity, _csv(tmp_path, "a.csv", _row("A1"), _row("A2")))
    part = partition_name("electricity", odd)
    assert [s for s in ran if s.startswith("INSERT INTO")][-2:] == [
        s for s in ran if s.startswith(f'INSERT INTO {PARTITIONS}."{part}"')]  # the rows into the new partition
    create, key, attach = (next(i for i, s in enumerate(ran) if s.startswith(p)) for p in (
        f'CREATE TABLE {PARTITIONS}."{part}"', f'ALTER TABLE {PARTITIONS}."{part}" ADD PRIMARY KEY',
        'ALTER TABLE ccf."activity_electricity" ATTACH PARTITION'))
    inserts = [i for i, s in enumerate(ran) if s.startswith(f'INSERT INTO {PARTITIONS}."{part}"')]
    assert create < min(inserts) and max(inserts) < key < attach  # filled before it has its key
    ran.clear()
    load_csv(db, odd, electricity, _csv(tmp_path, "b.csv", _row("A3"), _row("A1", "5")),
             max_rejects=load_module.RejectLimit.parse("1"))
    assert not any(s.startswith(("CREATE TABLE", "ALTER TABLE")) for s in ran)
    assert any(s.startswith('INSERT INTO ccf."activity_electricity"') for s in ran)
    load_csv(db, "other", electricity, _csv(tmp_path, "c.csv", _row("A1")))
    other = partition_name("electricity", "other")
    expected_bound = "FOR VALUES IN ('it''s a \"data\\set\" ü')"
    assert _partitions(db) == sorted([
        (part, expected_bound, f"CREATE UNIQUE INDEX {part}_pkey ON {PARTITIONS}.{part} USING btree (dataset, activity_id)"),
        (other, "FOR VALUES IN ('other')",
         f"CREATE UNIQUE INDEX {other}_pkey ON {PARTITIONS}.{other} USING btree (dataset, activity_id)"),
    ])
    assert [r[:2] for r in _rows(db)] == [("it's a \"data\\set\" ü", "A1"), ("it's a \"data\\set\" ü", "A2"),
                                          ("it's a \"data\\set\" ü", "A3"), ("other", "A1")]
    # the second load's repeated id: rejected against the first load's row, read through the parent
    (reason,) = db.execute("SELECT reason FROM ccf.rejected").fetchone()
    assert reason.startswith("activity_id 'A1' is already in dataset")


def test_a_failed_first_load_leaves_no_partition(db, electricity, tmp_path):
    with pytest.raises(LoadError, match="more than --max-rejects allows"):
        load_csv(db, "d", electricity, _csv(tmp_path, "a.csv", _row("A1"), _row("A2", "x")),
                 max_rejects=load_module.RejectLimit.parse("0"))
    db.rollback()
    assert _partitions(db) == []
    assert db.execute("SELECT to_regclass(%s)", [f'{PARTITIONS}."{partition_name("electricity", "d")}"']).fetchone() == (None,)
    report = load_csv(db, "d", electricity, _csv(tmp_path, "b.csv", _row("A1")))  # then the next first load makes it
    assert report.rows_loaded == 1 and len(_partitions(db)) == 1


def test_the_partitions_schema_is_the_owner_s_alone(db, electricity, tmp_path):
    """Privileges and row-level security are the parent's: no other role may name a partition."""
    load_csv(db, "d", electricity, _csv(tmp_path, "a.csv", _row("A1")))
    roles = [r for (r,) in db.execute("SELECT rolname FROM pg_roles WHERE rolname IN ('ccf_api', 'ccf_runner')")]
    assert roles  # the embedded server's roles
    for role in roles:
        assert db.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", [role, PARTITIONS]).fetchone() == (False,)


def test_migration_0025_converts_an_older_activity_table_in_place(db, electricity, tmp_path):
    """The table as ccf made it before 0025 (one table of every dataset, keyed): each dataset's
    rows move into their own keyed partition, the same rows, and loads go on as before."""
    load_csv(db, "d1", electricity, _csv(tmp_path, "a.csv", _row("A1"), _row("A2")))
    load_csv(db, "d2", electricity, _csv(tmp_path, "b.csv", _row("A1", "7")))
    before = [r[:5] for r in _rows(db)]
    with db.transaction():  # the schema as 0023 left it
        db.execute("CREATE TABLE ccf.old_electricity (LIKE ccf.activity_electricity)")
        db.execute("INSERT INTO ccf.old_electricity SELECT * FROM ccf.activity_electricity")
        db.execute("DROP TABLE ccf.activity_electricity")
        db.execute("ALTER TABLE ccf.old_electricity RENAME TO activity_electricity")
        db.execute("ALTER TABLE ccf.activity_electricity ADD PRIMARY KEY (dataset, activity_id)")
        db.execute("DELETE FROM ccf.schema_migration WHERE version = 25")
    assert db.execute("SELECT relkind FROM pg_class WHERE oid = 'ccf.activity_electricity'::regclass").fetchone() == ("r",)
    assert migrate(db) == ["0025_activity_partitions.sql"]
    db.commit()
    assert db.execute("SELECT relkind FROM pg_class WHERE oid = 'ccf.activity_electricity'::regclass").fetchone() == ("p",)
    assert [r[:5] for r in _rows(db)] == before
    assert {r[0]: r[5] for r in _rows(db)} == {d: f'{PARTITIONS}.{partition_name("electricity", d)}' for d in ("d1", "d2")}
    assert [(name, bound) for name, bound, key in _partitions(db) if key] == sorted(
        (partition_name("electricity", d), f"FOR VALUES IN ('{d}')") for d in ("d1", "d2"))
    # under row-level security again, as before (engine/service/policies.py, after the migrations)
    assert db.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'ccf.activity_electricity'::regclass").fetchone() == (True,)
    later = load_csv(db, "d1", electricity, _csv(tmp_path, "c.csv", _row("A3"), _row("A1")),
                     max_rejects=load_module.RejectLimit.parse("1"))
    assert (later.rows_loaded, later.rows_rejected) == (1, 1)
    assert load_csv(db, "d3", electricity, _csv(tmp_path, "d.csv", _row("A1"))).rows_loaded == 1
    assert len(_partitions(db)) == 3


def test_deleting_a_dataset_drops_its_partition(db, electricity, tmp_path):
    from ccf.engine.lifecycle.datasets import delete_dataset

    load_csv(db, "d", electricity, _csv(tmp_path, "a.csv", _row("A1")))
    load_csv(db, "e", electricity, _csv(tmp_path, "b.csv", _row("A1")))
    delete_dataset(db, "d")
    assert [name for name, _, _ in _partitions(db)] == [partition_name("electricity", "e")]
    assert load_csv(db, "d", electricity, _csv(tmp_path, "c.csv", _row("A1"))).rows_loaded == 1  # a first load again
    assert len(_partitions(db)) == 2
