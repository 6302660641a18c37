"""Names per organisation: what a request calls a dataset, an entity set or its own factor set,
and the key of the whole database that the row is stored under (migrations 0026, 0029).

Two organisations may each have a dataset ``northwind``. Every table of a dataset's rows names
it by its key, unique in the database; the organisation knows it by its ``name``, unique in the
organisation. A request's names become keys here, looked up through the organisation's own
connection: row-level security shows it only its own rows, so a name that another organisation
has is, to it, a name that nobody has. What a response says with keys is said with names again
(``Names.shown``). A new row's key is made here: the name itself for the organisation
``default`` (the command line's, whose keys are its names), else ``<organisation>.<name>``, with
``-2``, ``-3``… appended while that key is held by any row of any organisation. No key is ever
shown to an organisation, so which one its row got tells it nothing of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from sqlglot import exp

from ccf.engine.service.orgs import Org
from ccf.engine.sql import Executor, column, eq, func, param, table

DEFAULT_ORG = "default"  # the command line's organisation (migration 0022): its keys are its names


@dataclass(frozen=True)
class Kind:
    """A table of named rows and its key column (by default, the table's name)."""

    table: str
    key_column: str = ""

    @property
    def key(self) -> str:
        return self.key_column or self.table


# Factor sets (migration 0029): an organisation's own are named apart as datasets are; a shared
# set is seen by every organisation, its name its key, and an organisation's own set of the
# same name is the one it means.
DATASET, ENTITY_SET, FACTOR_SET = Kind("dataset"), Kind("entity_set"), Kind("factor_set", "set_id")


def key_of(conn: psycopg.Connection, kind: Kind, name: str) -> str | None:
    """The key of the organisation's row of this name (``conn``: its connection); None if it has
    none. Of a shared factor set and the organisation's own of one name, its own."""
    query = exp.select(column(kind.key)).from_(table(kind.table)).where(eq(column("name"), param("name")))
    if kind == FACTOR_SET:
        query = query.order_by(exp.Ordered(this=column("org_id"), nulls_first=False)).limit(1)
    row = Executor(conn).one(query, {"name": name})
    return None if row is None else row[0]


def new_key(owner: psycopg.Connection, kind: Kind, org: Org, name: str) -> str:
    """A key that no row of any organisation holds (``owner``: a connection that sees them all),
    for a new row of ``org`` named ``name``."""
    base = name if org.name == DEFAULT_ORG else f"{org.name}.{name}"
    key = column(kind.key)
    held = {k for (k,) in Executor(owner).rows(
        exp.select(key).from_(table(kind.table))
        .where(exp.or_(eq(key.copy(), param("base")), func("starts_with", key.copy(), param("prefix")))),
        {"base": base, "prefix": base + "-"})}
    n = 1
    while (candidate := base if n == 1 else f"{base}-{n}") in held:
        n += 1
    return candidate


def rename(conn: psycopg.Connection, kind: Kind, key: str, name: str) -> None:
    """Give the row of this key the organisation's name for it (in the caller's transaction)."""
    Executor(conn).execute(exp.update(table(kind.table), {"name": param("name")}, where=eq(column(kind.key), param("key"))),
                           {"name": name, "key": key})


@dataclass(frozen=True)
class Names:
    """The organisation's keys and their names, to say a response with names."""

    names: dict[str, str]

    @classmethod
    def of(cls, conn: psycopg.Connection) -> Names:
        """Those of the organisation of ``conn`` (row-level security shows it its own rows only)."""
        ex = Executor(conn)
        found: dict[str, str] = {}
        for kind in (DATASET, ENTITY_SET, FACTOR_SET):  # a shared factor set's name is its key
            found.update(ex.rows(exp.select(column(kind.key), column("name")).from_(table(kind.table))))
        return cls({k: n for k, n in found.items() if k != n})

    def shown(self, value: Any) -> Any:
        """``value`` (a JSON-ready document, or a text: a message) with every key of the
        organisation's rows replaced by the row's name. Keys other than names are made of the
        organisation's name, a dot and a name, so they do not occur by chance in other text. A
        document to be rendered (an HTML page) is mapped before, so that its names are escaped."""
        if not self.names:
            return value
        if isinstance(value, str):
            for key in sorted(self.names, key=len, reverse=True):  # a longer key first: 'a.x-2' before 'a.x'
                value = value.replace(key, self.names[key])
            return value
        if isinstance(value, dict):
            return {self.shown(k): self.shown(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.shown(v) for v in value]
        return value
