"""Names per organisation (engine/service/names.py, migration 0026): a new row's key is one that
no row of any organisation holds, the command line's rows are named by their keys, a name is
unique within its organisation only, and a response says names, never keys."""

from __future__ import annotations

import psycopg
import pytest

from ccf.engine.service import orgs
from ccf.engine.service.names import DATASET, ENTITY_SET, Names, new_key


def _dataset(conn: psycopg.Connection, org: orgs.Org, key: str, name: str | None = None) -> None:
    conn.execute("INSERT INTO ccf.dataset (dataset, org_id, name) VALUES (%s, %s, %s)", [key, org.id, name])


def test_a_new_key_is_held_by_no_row_of_any_organisation(db: psycopg.Connection) -> None:
    x, xy = orgs.create_org(db, "x"), orgs.create_org(db, "x.y")
    default = orgs.find_org(db, "default")
    assert new_key(db, DATASET, x, "y.z") == "x.y.z"
    _dataset(db, x, "x.y.z", "y.z")
    assert new_key(db, DATASET, xy, "z") == "x.y.z-2"  # another organisation's key: another key, silently
    _dataset(db, xy, "x.y.z-2", "z")
    _dataset(db, default, "x.y.z-3")  # the command line's dataset, named by its key
    assert new_key(db, DATASET, xy, "z") == "x.y.z-4"
    assert new_key(db, DATASET, default, "northwind") == "northwind"  # the command line's keys are its names
    assert db.execute("SELECT name FROM ccf.dataset WHERE dataset = 'x.y.z-3'").fetchone() == ("x.y.z-3",)
    assert new_key(db, ENTITY_SET, x, "y.z") == "x.y.z"  # entity sets have keys of their own


def test_a_name_is_unique_within_its_organisation_only(db: psycopg.Connection) -> None:
    a, b = orgs.create_org(db, "a"), orgs.create_org(db, "b")
    _dataset(db, a, "a.northwind", "northwind")
    _dataset(db, b, "b.northwind", "northwind")
    db.commit()
    _dataset(db, a, "a.northwind-2", "northwind")
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.commit()  # checked when the transaction commits (the service renames a row within it)
    db.rollback()


def test_a_response_says_names_not_keys() -> None:
    names = Names({"acme.x": "x", "acme.x-2": "x-y", "acme.es": "es"})
    doc = {"dataset": "acme.x-2", "runs": [{"dataset": "acme.x"}], "by_dataset": {"acme.es": 1},
           "detail": "dataset 'acme.x' has 1 run(s): 'ccf datasets delete acme.x --cascade'", "n": 3}
    assert names.shown(doc) == {"dataset": "x-y", "runs": [{"dataset": "x"}], "by_dataset": {"es": 1},
                                "detail": "dataset 'x' has 1 run(s): 'ccf datasets delete x --cascade'", "n": 3}
    assert Names({}).shown(doc) is doc
