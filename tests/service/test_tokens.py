"""API tokens (engine/service/orgs.py): stored hashed, found by prefix, revocable; ``ccf tokens``."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from ccf.engine.cli import main
from ccf.engine.database import connect
from ccf.engine.service import orgs, scoped


def test_a_token_is_stored_as_its_hash_only_and_authenticates_its_organisation(db) -> None:
    org = orgs.create_org(db, "acme")
    token = orgs.create_token(db, "acme")
    prefix, secret = token.split("_", 2)[1:]
    stored = db.execute("SELECT row_to_json(t)::text, sha256 FROM ccf.api_token t").fetchall()
    assert len(stored) == 1
    text, sha256 = stored[0]
    assert secret not in text and token not in text and prefix in text
    assert sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert orgs.authenticate(db, token) == org
    assert orgs.authenticate(db, token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # same prefix, other secret
    assert orgs.authenticate(db, "") is None and orgs.authenticate(db, "Bearer " + token) is None
    orgs.revoke_token(db, prefix)
    assert orgs.authenticate(db, token) is None


def test_the_api_login_authenticates_without_reading_the_tokens(db, db_url: str) -> None:
    org = orgs.create_org(db, "acme")
    token = orgs.create_token(db, "acme")
    with connect(scoped.api_conninfo(db_url)) as api_conn:
        assert orgs.authenticate(api_conn, token) == org
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            api_conn.execute("SELECT * FROM ccf.api_token")


def test_organisation_names_are_unique_and_plain(db) -> None:
    orgs.create_org(db, "acme")
    with pytest.raises(orgs.OrgError, match="exists already"):
        orgs.create_org(db, "acme")
    with pytest.raises(orgs.OrgError, match="letters, digits"):
        orgs.create_org(db, "a b")
    with pytest.raises(orgs.OrgError, match="no organisation 'nope'"):
        orgs.create_token(db, "nope")


def test_ccf_tokens(db_url: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    assert main(["tokens", "create", "--org", "acme", "--new-org"]) == 0
    token = capsys.readouterr().out.strip()
    assert orgs.TOKEN.fullmatch(token)
    assert main(["tokens", "create", "--org", "nope"]) == 1
    assert "no organisation 'nope'" in capsys.readouterr().err
    assert main(["tokens", "list"]) == 0
    listed = capsys.readouterr().out
    assert token.split("_")[1] in listed and token not in listed and "active" in listed
    assert main(["tokens", "revoke", token.split("_")[1]]) == 0
    assert main(["tokens", "revoke", token.split("_")[1]]) == 1
    with connect(db_url) as conn:
        assert orgs.authenticate(conn, token) is None
