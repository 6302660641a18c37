"""``ccf factors``: list, show and search the factor sets installed in the database, print a
lookup for one factor, add an edition of a declared set.

The query functions return plain data (values as exact decimal strings, never floats; the
search is search.py's, the lookup snippet.py's);
:func:`add_parser` and :func:`run` are the command-line front end, wired into ``engine/cli.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Mapping

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError, did_you_mean
from ccf.engine.factors.search import DEFAULT_LIMIT, Filters, factors_search
from ccf.engine.factors.snippet import factor_snippet
from ccf.engine.sql import Executor, column, param, table

_SET_FIELDS = ("set_id", "publisher", "title", "edition", "published", "licence", "factor_count", "sha256",
               "source_file", "region", "factor_year")


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


def factor_file(
    path: str, edition_id: str, label: str | None = None, *, publisher: str | None = None, title: str | None = None,
    licence: str | None = None, factor_sets: Mapping[str, Any] | None = None,
) -> tuple[Any, Any, list]:
    """A CSV or XLSX file read as the declared edition ``edition_id`` (factor_sets/<set>.yaml),
    checked against its declaration; ``org-residual-mix`` against its template too: the
    declared set, the edition and its records. Nothing is installed."""
    from pathlib import Path

    from ccf.dsl import ir
    from ccf.engine.factors.custom import load_declared
    from ccf.engine.factors.residual_mix import RESIDUAL_MIX_SET, load_residual_mix

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
    return declared, meta, records


def factors_add(
    conn: psycopg.Connection, path: str, edition_id: str, label: str | None = None, *, publisher: str | None = None,
    title: str | None = None, licence: str | None = None, factor_sets: Mapping[str, Any] | None = None,
    org: str | None = None,
) -> dict[str, Any]:
    """Install a CSV or XLSX file as the declared edition ``edition_id`` (``factor_file``).
    Installing the same file again is a no-op; another file under an installed edition's id is
    refused (an installed edition never changes). With ``org``: as that organisation's own set
    (migration 0029), under a key of its own; without, shared by every organisation."""
    from ccf.engine.factors.store import install_edition, install_units

    declared, meta, records = factor_file(path, edition_id, label, publisher=publisher, title=title, licence=licence,
                                          factor_sets=factor_sets)
    org_id = key = None
    if org is not None:
        from ccf.engine.service import names, orgs

        owner = orgs.find_org(conn, org)
        if owner is None:
            raise CcfError(f"no organisation {org!r} (see 'ccf tokens list'; 'ccf tokens create --org {org} --new-org' makes it)")
        org_id, key = owner.id, names.new_key(conn, names.FACTOR_SET, owner, meta.id)
        with conn.transaction():
            install_units(Executor(conn), {r.unit for r in records})
    new = install_edition(conn, meta, records, org_id=org_id, key=key)
    return {"id": meta.id, "set": declared.id, "edition": meta.edition, "factor_count": len(records),
            "sha256": meta.sha256, "installed": new, **({"organisation": org} if org is not None else {})}


# --- command line --------------------------------------------------------------------------


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``factors list|show SET|search [TEXT] [--set S --region R --year Y --unit U --gas G --limit N
    --snippet]|snippet FACTOR_ID [--set S]|add FILE --id …`` (each with --json)."""
    p = subparsers.add_parser("factors", help="list, show and search the installed factor sets; add your own")
    sub = p.add_subparsers(dest="factors_command", required=True, metavar="SUBCOMMAND")

    s = sub.add_parser("list", help="list the installed factor-set editions")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("show", help="show one factor set: metadata, gases, attributes, counts")
    s.add_argument("set", help="factor-set id, e.g. desnz-2024")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("search", help="find factors by words and filters, best first; --snippet: a lookup for the best")
    s.add_argument("text", nargs="*", help="words to find in the name, attribute values or id (case-insensitive)")
    s.add_argument("--set", help="a factor set (every installed edition of it) or one edition, e.g. desnz or desnz-2024")
    s.add_argument("--region", help="the factors' region, e.g. GB, US, DE")
    s.add_argument("--year", type=int, help="the factors' year")
    s.add_argument("--unit", help="the unit factors are stated per, in any spelling: kWh, litres, tonne.km")
    s.add_argument("--gas", help="one gas: CO2, CH4, N2O, CO2e, ...")
    s.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"at most N factors (default {DEFAULT_LIMIT})")
    s.add_argument("--snippet", action="store_true",
                   help="print a ready-to-paste lookup that finds the best factor (as 'ccf factors snippet')")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("snippet", help="print a ready-to-paste lookup (select, per) that finds exactly one factor")
    s.add_argument("factor_id", help="the factor's id, as 'ccf factors search' shows it")
    s.add_argument("--set", help="the factor set or edition holding it (needed when several editions have the id)")
    s.add_argument("--name", help="the lookup's name (default: from the most specific attribute selected)")
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
    s.add_argument("--org", help="install it as this organisation's own set, which only its requests and runs see "
                   "(docs/service.md); default: shared by every organisation")
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
                               licence=args.licence, factor_sets=api.library().factor_sets, org=args.org)
            printer = _print_added
        elif args.factors_command == "show":
            data = factors_show(conn, args.set)
            printer = _print_show
        elif args.factors_command == "snippet":
            data = factor_snippet(conn, args.factor_id, args.set, api.library().factor_sets, args.name)
            printer = _print_snippet
        else:
            filters = Filters(args.set, args.region, args.year, args.unit, args.gas)
            data = factors_search(conn, " ".join(args.text), limit=args.limit, filters=filters,
                                  factor_sets=api.library().factor_sets if args.set else None)
            printer = _print_search
            if args.snippet:
                if not data:
                    raise CcfError("no factor found: no snippet to print")
                best = data[0]
                data = {"factor": best, **factor_snippet(conn, best["factor_id"], best["set"], api.library().factor_sets)}
                printer = _print_snippet
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
    whose = f", organisation {d['organisation']}'s own" if "organisation" in d else ""
    sys.stdout.write(f"edition {d['id']} of factor set {d['set']} ({d['edition']}, {d['factor_count']} factors, "
                     f"sha256 {d['sha256'][:12]}…{whose}): {what}\n")


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
    t = Table("set", "factor id", "name", "gas", "value", "value unit", "per", "region", "year")
    for r in rows:
        t.add_row(r["set"], r["factor_id"], r["name"], r["gas"], r["value"], r["value_unit"] or "-", r["per"],
                  r["region"] or "-", "-" if r["year"] is None else str(r["year"]))
    _console().print(t)


def _print_snippet(d: dict[str, Any]) -> None:
    sys.stdout.write(d["snippet"])
