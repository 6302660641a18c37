"""Organisations and their API tokens: made by ``ccf tokens``, checked on every request.

A token is ``ccf_<prefix>_<secret>``: the prefix (8 hex characters) finds its row and is not
secret; the secret has 256 random bits. Only the SHA-256 of the whole token is stored, so the
table holds nothing a request could present; the token is shown once, when it is made.
``authenticate`` asks migration 0022's ``ccf.token_organisation``, which ccf_api may call
without being able to read the table.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.service.policies import committed
from ccf.engine.sql import Executor, column, func, ident, is_param, param, table

TOKEN = re.compile(r"ccf_([0-9a-f]{8})_[A-Za-z0-9_-]{43}")
ORG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")  # as ccf.organisation's CHECK says


class OrgError(CcfError):
    """An organisation or token that does not exist or cannot be made."""


@dataclass(frozen=True)
class Org:
    id: int
    name: str


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never its secret."""

    prefix: str
    org: str
    created_at: object
    revoked_at: object


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_org(conn: psycopg.Connection, name: str) -> Org:
    """A new organisation (an error if the name is taken or not a plain name)."""
    if not ORG_NAME.fullmatch(name):
        raise OrgError(f"organisation name {name!r}: use letters, digits, '.', '_' and '-' (at most 63, "
                       "starting with a letter or digit)")
    ex = Executor(conn)
    with committed(conn):
        insert = exp.insert(exp.select(param("name")), exp.Schema(this=table("organisation"), expressions=[ident("name")]),
                            returning="org_id")
        insert.set("conflict", exp.OnConflict(conflict_keys=[ident("name")], action=exp.var("DO NOTHING")))
        row = ex.one(insert, {"name": name})
    if row is None:
        raise OrgError(f"organisation {name!r} exists already")
    return Org(row[0], name)


def find_org(conn: psycopg.Connection, name: str) -> Org | None:
    row = Executor(conn).one(exp.select(column("org_id")).from_(table("organisation")).where(is_param("name")),
                             {"name": name})
    return None if row is None else Org(row[0], name)


def list_orgs(conn: psycopg.Connection) -> list[Org]:
    rows = Executor(conn).rows(exp.select(column("org_id"), column("name")).from_(table("organisation")).order_by("name"))
    return [Org(i, n) for i, n in rows]


def create_token(conn: psycopg.Connection, org_name: str) -> str:
    """A new token for an organisation: returned once, stored only as its hash."""
    org = find_org(conn, org_name)
    if org is None:
        raise OrgError(f"no organisation {org_name!r}; make it with 'ccf tokens create --org {org_name} --new-org'")
    prefix = secrets.token_hex(4)
    token = f"ccf_{prefix}_{secrets.token_urlsafe(32)}"
    ex = Executor(conn)
    with committed(conn):
        ex.execute(exp.insert(exp.select(param("org_id"), param("prefix"), param("sha256")),
                              exp.Schema(this=table("api_token"), expressions=[ident("org_id"), ident("prefix"), ident("sha256")])),
                   {"org_id": org.id, "prefix": prefix, "sha256": _hash(token)})
    return token


def authenticate(conn: psycopg.Connection, token: str) -> Org | None:
    """The organisation of a token that exists and is not revoked; None for any other text."""
    found = TOKEN.fullmatch(token or "")
    if found is None:
        return None
    lookup = exp.select(column("org_id"), column("name")).from_(
        exp.Table(this=func("token_organisation", param("prefix"), param("sha256"), schema="ccf")))
    row = Executor(conn).one(lookup, {"prefix": found.group(1), "sha256": _hash(token)})
    conn.commit()  # a look-up, not the start of the request's transaction
    return None if row is None else Org(row[0], row[1])


def list_tokens(conn: psycopg.Connection, org_name: str | None = None) -> list[TokenInfo]:
    query = (exp.select(column("prefix", "t"), column("name", "o"), column("created_at", "t"), column("revoked_at", "t"))
             .from_(table("api_token", alias="t"))
             .join(table("organisation", alias="o"), on=exp.EQ(this=column("org_id", "o"), expression=column("org_id", "t")))
             .order_by(column("token_id", "t")))
    if org_name is not None:
        query = query.where(exp.EQ(this=column("name", "o"), expression=param("name")))
    return [TokenInfo(*r) for r in Executor(conn).rows(query, {"name": org_name} if org_name else None)]


def revoke_token(conn: psycopg.Connection, prefix: str) -> None:
    """Revoke a token by its prefix (the 8 characters after ``ccf_``): it authenticates no more."""
    ex = Executor(conn)
    with committed(conn):
        cur = ex.execute(exp.update(table("api_token"), {"revoked_at": exp.CurrentTimestamp()},
                                    where=exp.and_(is_param("prefix"), exp.column("revoked_at").is_(exp.null()))),
                         {"prefix": prefix})
    if cur.rowcount == 0:
        raise OrgError(f"no token {prefix!r} to revoke (see 'ccf tokens list')")
