"""``ccf factors``: list, show and search the factor sets installed in the database; add an
edition of a declared set.

The query functions return plain data (values as exact decimal strings, never floats);
:func:`add_parser` and :func:`run` are the command-line front end, wired into ``engine/cli.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any, Mapping

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError, did_you_mean
from ccf.engine.sql import Executor, column, param, table

DEFAULT_LIMIT = 50

_SET_FIELDS = ("set_id", "publisher", "title", "edition", "published", "licence", "factor_count", "sha256",
               "source_file", "region", "factor_year")


def decimal_text(value: Decimal) -> str:
    """A value's exact decimal text, without an exponent (0.000092, not 9.2E-5)."""
    return format(value, "f")


def _set_row(row: tuple) -> dict[str, Any]:
    d = dict(zip(_SET_FIELDS, row, strict=True))
    d["id"] = d.pop("set_id")
    d["year"] = d.pop("factor_year")
    d["published"] = d["published"].isoformat() if d["published"] is not None else None
    return {k: d[k] for k in ("id", "publisher", "title", "edition", "licence", "published", "region", "year",
                              "factor_count", "sha256", "source_file")}


def _sets_query() -> exp.Select:
    return exp.select(*[column(c, "s") for c in _SET_FIELDS]).from_(table("factor_set", alias="s"))


def factors_list(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every installed factor-set edition, by id."""
    ex = Executor(conn)
    return [_set_row(r) for r in ex.rows(_sets_query().order_by(column("set_id", "s")))]


def _set_ids(ex: Executor) -> list[str]:
    return [r[0] for r in ex.rows(exp.select(column("set_id")).from_(table("factor_set")).order_by(column("set_id")))]


def unknown_set(ex: Executor, set_id: str) -> CcfError:
    """The error for a set id that is not installed, with the closest installed ids."""
    known = _set_ids(ex)
    hint = did_you_mean(set_id, known)
    return CcfError(f"no factor set {set_id!r} installed; "
                    + (hint or "installed: " + (", ".join(known) or "none")) + " (see 'ccf factors list')")


def _counts(ex: Executor, by: str, set_pk: int) -> dict[str, int]:
    """Number of factors of one set per value of a column (gas or unit), largest first."""
    n = exp.Count(this=exp.Star())
    rows = ex.rows(
        exp.select(column(by), n.copy().as_("n"))
        .from_(table("factor"))
        .where(exp.EQ(this=column("factor_set_id"), expression=param("set_pk")))
        .group_by(column(by))
        .order_by(exp.Ordered(this=n.copy(), desc=True), column(by)),
        {"set_pk": set_pk},
    )
    return {k: v for k, v in rows}


def factors_show(conn: psycopg.Connection, set_id: str) -> dict[str, Any]:
    """One edition's metadata, gases (with their numerator units), attributes and factor counts."""
    ex = Executor(conn)
    row = ex.one(
        _sets_query().select(column("factor_set_id", "s"), column("gas_units", "s"))
        .where(exp.EQ(this=column("set_id", "s"), expression=param("set_id"))),
        {"set_id": set_id},
    )
    if row is None:
        raise unknown_set(ex, set_id)
    out = _set_row(row[:len(_SET_FIELDS)])
    set_pk, meta = row[len(_SET_FIELDS)], row[len(_SET_FIELDS) + 1]
    out["gases"] = [{"gas": g, "unit": u} for g, u in meta["gases"]]
    out["attributes"] = list(meta["attributes"])
    out["factors_by_gas"] = _counts(ex, "gas", set_pk)
    out["factors_by_unit"] = _counts(ex, "unit", set_pk)
    return out


def _like_pattern(term: str) -> str:
    """An ILIKE pattern matching the term anywhere, its own % _ and \\ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def factors_search(conn: psycopg.Connection, text: str, set_id: str | None = None,
                   limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """Factors whose name, factor id or an attribute value contains every word of ``text``
    (case-insensitive), in file order within each set; at most ``limit`` of them."""
    ex = Executor(conn)
    words = text.split()
    if not words:
        raise CcfError("nothing to search for: give one or more words")
    if limit < 1:
        raise CcfError(f"--limit must be at least 1, not {limit}")
    params: dict[str, Any] = {"limit": limit}
    conditions: list[exp.Expression] = []
    for i, word in enumerate(words):
        key = f"w{i}"
        params[key] = _like_pattern(word)
        attr_match = (
            exp.select(exp.Literal.number(1))
            .from_(exp.Table(this=exp.Anonymous(this="jsonb_each_text", expressions=[column("attributes", "f")]),
                             alias=exp.TableAlias(this=exp.to_identifier("a"),
                                                  columns=[exp.to_identifier("k"), exp.to_identifier("v")])))
            .where(exp.ILike(this=column("v", "a"), expression=param(key)))
        )
        conditions.append(exp.or_(
            exp.ILike(this=column("name", "f"), expression=param(key)),
            exp.ILike(this=column("factor_id", "f"), expression=param(key)),
            exp.Exists(this=attr_match),
        ))
    if set_id is not None:
        if ex.one(exp.select(exp.Literal.number(1)).from_(table("factor_set"))
                  .where(exp.EQ(this=column("set_id"), expression=param("set_id"))), {"set_id": set_id}) is None:
            raise unknown_set(ex, set_id)
        params["set_id"] = set_id
        conditions.append(exp.EQ(this=column("set_id", "s"), expression=param("set_id")))
    query = (
        exp.select(*[column(c, "s") for c in ("set_id", "edition")],
                   *[column(c, "f") for c in ("factor_id", "name", "unit", "gas", "value", "attributes", "region",
                                              "factor_year")])
        .from_(table("factor", alias="f"))
        .join(table("factor_set", alias="s"),
              on=exp.EQ(this=column("factor_set_id", "f"), expression=column("factor_set_id", "s")))
        .where(exp.and_(*conditions))
        .order_by(column("set_id", "s"), column("source_line", "f"), column("factor_id", "f"))
        .limit(param("limit"))
    )
    return [
        {"set": s, "edition": ed, "factor_id": fid, "name": name, "unit": unit, "gas": gas,
         "value": decimal_text(value), "attributes": attrs, "region": region, "year": year}
        for s, ed, fid, name, unit, gas, value, attrs, region, year in ex.rows(query, params)
    ]


def factors_add(
    conn: psycopg.Connection, path: str, edition_id: str, label: str | None = None, *, publisher: str | None = None,
    title: str | None = None, licence: str | None = None, factor_sets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Install a CSV or XLSX file as the declared edition ``edition_id`` (factor_sets/<set>.yaml),
    checked against its declaration first; ``org-residual-mix`` against its template too.
    Installing the same file again is a no-op; another file under an installed edition's id is
    refused (an installed edition never changes)."""
    from pathlib import Path

    from ccf.dsl import ir
    from ccf.engine.factors.custom import load_declared
    from ccf.engine.factors.residual_mix import RESIDUAL_MIX_SET, load_residual_mix
    from ccf.engine.factors.store import install_edition

    if not Path(path).is_file():
        raise CcfError(f"no file {path!r}")
    if factor_sets is None:
        from ccf.engine import api

        factor_sets = api.library().factor_sets
    declared = factor_sets.get(edition_id)
    if not isinstance(declared, ir.FactorSet):
        hint = did_you_mean(edition_id, [n for n, fs in factor_sets.items() if isinstance(fs, ir.FactorSet)])
        raise CcfError(f"no factor set declares an edition {edition_id!r}" + (f"; {hint}" if hint else "")
                       + ": declare the set and its editions in factor_sets/<set>.yaml first (docs/authoring.md#your-own-factor-sets)")
    if declared.edition(edition_id) is None:
        raise CcfError(f"{edition_id} is a factor set; name the edition to install with --id "
                       f"({', '.join(e.id for e in declared.editions)})")
    if edition_id == RESIDUAL_MIX_SET:
        meta, records = load_residual_mix(path, label or edition_id, publisher=publisher or declared.publisher,
                                          title=title, licence=licence or declared.licence)
    else:
        meta, records = load_declared(path, declared, edition_id, label=label, publisher=publisher, title=title,
                                      licence=licence)
    new = install_edition(conn, meta, records)
    return {"id": meta.id, "set": declared.id, "edition": meta.edition, "factor_count": len(records),
            "sha256": meta.sha256, "installed": new}


# --- command line --------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``factors list|show SET|search TEXT [--set S] [--limit N]|add FILE --id …`` (each with --json)."""
    p = subparsers.add_parser("factors", help="list, show and search the installed factor sets; add your own")
    sub = p.add_subparsers(dest="factors_command", required=True, metavar="SUBCOMMAND")

    s = sub.add_parser("list", help="list the installed factor-set editions")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("show", help="show one factor set: metadata, gases, attributes, counts")
    s.add_argument("set", help="factor-set id, e.g. desnz-2024")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("search", help="find factors whose name, id or attributes contain every word")
    s.add_argument("text", nargs="+", help="words to find (case-insensitive)")
    s.add_argument("--set", help="only this factor set")
    s.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"at most N factors (default {DEFAULT_LIMIT})")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("add", help="install a CSV or XLSX file as an edition of a declared factor set")
    s.add_argument("file", help="the CSV or XLSX (first sheet) file: factor_id, name, unit, gas, value, [region, year,] "
                   "and the set's declared attributes (docs/authoring.md#your-own-factor-sets)")
    s.add_argument("--id", required=True, dest="set_id",
                   help="the edition, as declared in factor_sets/<set>.yaml, e.g. acme-travel-2024 or org-residual-mix")
    s.add_argument("--edition", help="the edition's name as its publisher gives it, e.g. '2024 v1.1' (default: the id)")
    s.add_argument("--publisher", help="who publishes the values (default: the declaration's publisher)")
    s.add_argument("--title", help="title (default: the declaration's)")
    s.add_argument("--licence", help="licence of the values (default: the declaration's)")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run one ``ccf factors`` subcommand against the project database."""
    from ccf.engine import api

    with api.open_database() as conn:
        if args.factors_command == "list":
            data: Any = factors_list(conn)
            printer = _print_list
        elif args.factors_command == "add":
            data = factors_add(conn, args.file, args.set_id, args.edition, publisher=args.publisher, title=args.title,
                               licence=args.licence, factor_sets=api.library().factor_sets)
            printer = _print_added
        elif args.factors_command == "show":
            data = factors_show(conn, args.set)
            printer = _print_show
        else:
            data = factors_search(conn, " ".join(args.text), args.set, args.limit)
            printer = _print_search
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        printer(data)
    return 0


def _console():
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _print_added(d: dict[str, Any]) -> None:
    what = "installed" if d["installed"] else "already installed from the same file"
    sys.stdout.write(f"edition {d['id']} of factor set {d['set']} ({d['edition']}, {d['factor_count']} factors, "
                     f"sha256 {d['sha256'][:12]}…): {what}\n")


def _print_list(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    t = Table("set", "publisher", "edition", "published", "factors", "licence", "source file", "sha256")
    for r in rows:
        t.add_row(r["id"], r["publisher"], r["edition"], r["published"] or "-", str(r["factor_count"]),
                  r["licence"], r["source_file"], r["sha256"][:12] + "…")
    _console().print(t)


def _print_show(d: dict[str, Any]) -> None:
    from rich.table import Table

    console = _console()
    meta = Table(show_header=False, box=None)
    for key in ("id", "title", "publisher", "edition", "published", "licence", "region", "year", "factor_count",
                "source_file", "sha256"):
        meta.add_row(key, "-" if d[key] is None else str(d[key]))
    meta.add_row("attributes", ", ".join(d["attributes"]) or "-")
    console.print(meta)
    gases = Table("gas", "value unit", "factors")
    for g in d["gases"]:
        gases.add_row(g["gas"], g["unit"], str(d["factors_by_gas"].get(g["gas"], 0)))
    console.print(gases)
    units = Table("per unit", "factors")
    for unit, n in d["factors_by_unit"].items():
        units.add_row(unit, str(n))
    console.print(units)


def _print_search(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not rows:
        sys.stdout.write("no factors found\n")
        return
    t = Table("set", "factor id", "name", "gas", "value", "per", "region")
    for r in rows:
        t.add_row(r["set"], r["factor_id"], r["name"], r["gas"], r["value"], r["unit"], r["region"] or "-")
    _console().print(t)
