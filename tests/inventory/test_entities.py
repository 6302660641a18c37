"""Entity files: validation with line numbers, immutable named sets, effective shares along chains."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from inventory._support import ACME, ACME_SHARES, ENTITY_HEADER, load_acme, main, write_entities

from ccf.engine.inventory.entities import (
    EntitySetConflict,
    EntitySetError,
    entity_sets,
    entity_tree,
    load_entity_set,
    parse_entities,
)

ROOT = Path(__file__).resolve().parents[2]
NORTHWIND = ROOT / "methodologies" / "sample_data" / "northwind" / "entities" / "northwind-2024.csv"


def _problems(*rows: str, header: str = ENTITY_HEADER) -> list[tuple[int | None, str]]:
    data = ("\n".join([header, *rows]) + "\n").encode("utf-8")
    with pytest.raises(EntitySetError) as info:
        parse_entities(data, "e.csv")
    return info.value.problems


def test_a_valid_file_gives_typed_records():
    records = parse_entities(("\n".join([ENTITY_HEADER, *ACME]) + "\n").encode(), "acme.csv")
    by = {r.entity: r for r in records}
    assert by["ROOT"].parent is None and by["ROOT"].equity_share == Decimal(1)
    assert by["ROOT"].financial_control and by["ROOT"].operational_control and not by["ROOT"].joint_financial_control
    assert by["A11"].equity_share == Decimal("0.5") and by["A11"].joint_financial_control
    assert by["J1"].financial_control and by["J1"].operational_control  # yes / YES / no
    assert by["C"].line_no == 7


def test_every_problem_is_reported_with_its_line():
    problems = _problems(
        "ROOT,Root,,,,,,",
        "A,A,ROOT,60%,true,true,,",
        "B,B,ROOT,1.5,maybe,true,,",
        "C,,ROOT,0.5,true,,,",
        "D,D,ROTO,0.5,true,true,,",
        "E,E,ROOT,0.5,true,true,true,",
        "A,A again,ROOT,1,true,true,,",
    )
    assert (3, "equity_share '60%' is not a decimal from 0 to 1 (write 60% as 0.6)") in problems
    assert (4, "equity_share '1.5' is not a decimal from 0 to 1") in problems
    assert (4, "financial_control 'maybe' is not true or false (also accepted: yes/no, 1/0)") in problems
    assert (5, "name is required but empty") in problems
    assert (5, "operational_control is required: true or false") in problems
    assert (6, "parent 'ROTO' is not an entity of this file; did you mean 'ROOT'?") in problems
    assert any(line == 7 and "exclude each other" in msg for line, msg in problems)
    assert (8, "entity 'A' appears more than once (first on line 3)") in problems
    assert [p[0] for p in problems] == sorted(p[0] for p in problems)


def test_the_message_lists_every_problem_with_file_and_line():
    with pytest.raises(EntitySetError) as info:
        parse_entities(f"{ENTITY_HEADER}\nR,R,,,,,,\nA,A,R,2,true,true,,\nB,B,R,x,true,true,,\n".encode(), "org.csv")
    text = str(info.value)
    assert text.startswith("2 problems in the entity file:")
    assert "org.csv:3: equity_share '2' is not a decimal from 0 to 1" in text
    assert "org.csv:4: equity_share 'x' is not a decimal from 0 to 1" in text


def test_header_problems():
    with pytest.raises(EntitySetError) as info:
        parse_entities(b"entity,name,parnet,equity_share,financial_control,operational_control\n", "h.csv")
    assert info.value.problems == [
        (1, "missing column(s): parent"),
        (1, "unknown column(s): parnet (did you mean 'parent'?)"),
    ]
    with pytest.raises(EntitySetError, match="empty file"):
        parse_entities(b"", "h.csv")
    with pytest.raises(EntitySetError, match="no entities"):
        parse_entities((ENTITY_HEADER + "\n").encode(), "h.csv")
    with pytest.raises(EntitySetError, match=r"h.csv:2: not UTF-8"):
        parse_entities((ENTITY_HEADER + "\nR,\xff,,,,,,\n").encode("latin-1"), "h.csv")


def test_exactly_one_root_and_no_loops():
    problems = _problems("R1,R1,,,,,,", "R2,R2,,,,,,")
    assert problems == [(3, "more than one root entity (empty parent): lines 2, 3; exactly one row, the reporting "
                            "company, has no parent")]
    problems = _problems("R,R,,,,,,", "A,A,B,1,true,true,,", "B,B,C,1,true,true,,", "C,C,A,1,true,true,,")
    assert problems == [(3, "the hierarchy loops: A -> B -> C -> A (lines 3, 4, 5); each entity must lead up to the root")]
    assert _problems("A,A,B,1,true,true,,", "B,B,A,1,true,true,,")[-1][1].startswith("the hierarchy loops")
    assert (2, "entity 'A' cannot be its own parent") in _problems("A,A,A,1,true,true,,", "R,R,,,,,,")


def test_the_root_holds_all_of_itself():
    assert _problems("R,R,,0.5,,,,") == [(2, "the root entity (no parent) must have an empty equity_share or 1, not '0.5'")]
    assert _problems("R,R,,1,false,,,") == [(2, "the root entity (no parent) controls itself: financial_control must be empty or true")]
    # written out in full, the root is accepted too
    (root,) = parse_entities(f"{ENTITY_HEADER}\nR,R,,1.00,true,TRUE,false,\n".encode(), "r.csv")
    assert root.equity_share == Decimal(1)


def test_optional_columns_may_be_left_out(tmp_path):
    path = write_entities(tmp_path / "e.csv", "R,R,,,,", "A,A,R,0.25,1,0",
                          header="entity,name,parent,equity_share,financial_control,operational_control")
    r, a = parse_entities(path.read_bytes(), path)
    assert a.country is None and not a.joint_financial_control and a.equity_share == Decimal("0.25")


def test_an_entity_set_is_stored_once_and_never_modified(db, tmp_path):
    path = write_entities(tmp_path / "acme.csv", *ACME)
    first = load_entity_set(db, "acme-2024", path)
    assert first.loaded and first.entities == 8
    again = load_entity_set(db, "acme-2024", path)
    assert not again.loaded
    changed = write_entities(tmp_path / "acme2.csv", *ACME[:-1])
    with pytest.raises(EntitySetConflict, match="entity set 'acme-2024' is already loaded"):
        load_entity_set(db, "acme-2024", changed)
    assert load_entity_set(db, "acme-2025", changed).loaded
    assert [(s["name"], s["entities"]) for s in entity_sets(db)] == [("acme-2024", 8), ("acme-2025", 7)]


def test_nothing_is_stored_when_the_file_has_a_problem(db, tmp_path):
    path = write_entities(tmp_path / "bad.csv", "R,R,,,,,,", "A,A,R,7,true,true,,")
    with pytest.raises(EntitySetError):
        load_entity_set(db, "bad", path)
    assert entity_sets(db) == []


def test_effective_shares_are_products_along_the_chain(db, tmp_path):
    load_acme(db, tmp_path)
    tree = entity_tree(db, "acme")
    assert [("  " * e["depth"]) + e["entity"] for e in tree] == ["ROOT", "  A", "    A1", "      A11", "  B", "  C", "  J", "    J1"]
    for approach, shares in ACME_SHARES.items():
        got = {e["entity"]: Decimal(e["shares_percent"][approach]) / 100 for e in tree}
        assert got == {k: Decimal(v) for k, v in shares.items()}, approach


def test_cli_entities_load_list_show(cli_db, capsys):
    assert main(["entities", "load", str(NORTHWIND)]) == 0
    assert "entity set northwind-2024 loaded, 6 entities" in capsys.readouterr().out
    assert main(["entities", "load", str(NORTHWIND)]) == 0
    assert "already loaded from the same file; nothing changed" in capsys.readouterr().out
    assert main(["entities", "list"]) == 0
    assert capsys.readouterr().out.startswith("northwind-2024: 6 entities")
    assert main(["entities", "show", "--json"]) == 0
    import json

    shown = json.loads(capsys.readouterr().out)
    shares = {e["entity"]: e["shares_percent"] for e in shown["entities"]}
    assert shares["NW-UK-LOG"] == {"equity-share": "60", "financial-control": "100", "operational-control": "100"}
    assert shares["NW-DE"] == {"equity-share": "40", "financial-control": "0", "operational-control": "100"}
    assert shares["NW-LOG-IE"] == {"equity-share": "30", "financial-control": "50", "operational-control": "0"}
    assert main(["entities", "load", str(NORTHWIND), "--id", "northwind-copy"]) == 0
    capsys.readouterr()
    assert main(["entities", "show"]) == 1  # two sets: the message says how this command names one
    assert "2 entity sets are loaded (northwind-2024, northwind-copy): choose one with 'ccf entities show NAME'" \
        in capsys.readouterr().err


def test_cli_entity_errors_are_messages_not_tracebacks(cli_db, tmp_path, capsys):
    bad = write_entities(tmp_path / "bad.csv", "R,R,,,,,,", "A,A,R,60%,true,true,,")
    assert main(["entities", "load", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"error: {bad}:3: equity_share '60%' is not a decimal from 0 to 1 (write 60% as 0.6)" in err
    assert "Traceback" not in err
    assert main(["entities", "load", str(bad), "--set", "no spaces"]) == 1
    assert "entity set name 'no spaces'" in capsys.readouterr().err
    assert main(["entities", "show", "nothing"]) == 1
    assert "no entity set 'nothing'" in capsys.readouterr().err


@pytest.fixture()
def cli_db(db_url, monkeypatch):
    monkeypatch.setenv("CCF_DATABASE_URL", db_url)
    return db_url
