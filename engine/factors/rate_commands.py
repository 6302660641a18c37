"""``ccf rates list|show|load``: the exchange-rate and price-index tables of spend-based methods.

``load`` installs an organisation-supplied table (docs/data.md#rate-tables): the file is read
exactly as written and recorded with its sha256; loading it again is a no-op, and a different
file under an installed id is an error (a changed table is a new edition with a new id).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.engine.factors.rates import RateTableMeta, install_rate_table, installed_rate_table, load_rate_file
from ccf.engine.options import deprecated
from ccf.engine.sql import Executor, column, param, table

_COLS = ("table_id", "kind", "publisher", "title", "edition", "basis", "reference_currency", "index_base",
         "licence", "source_url", "source_file", "sha256", "rate_count")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rates", help="exchange-rate and price-index tables for spend-based methods")
    rs = p.add_subparsers(dest="rates_command", required=True)
    s = rs.add_parser("list", help="every installed rate table")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run)
    s = rs.add_parser("show", help="the rates of one table")
    s.add_argument("table_id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run)
    # 'add', as 'ccf factors add' (docs/commands.md#conventions); 'load' is its deprecated alias
    s = rs.add_parser("add", aliases=["load"], help="install an organisation-supplied rate table (CSV: currency,year,value)")
    s.add_argument("file", type=Path)
    s.add_argument("--id", required=True, help="edition id the methodology names, e.g. org-us-price-index")
    s.add_argument("--kind", required=True, choices=("exchange_rate", "price_index"))
    s.add_argument("--publisher", required=True, help="who publishes the values (cite the statistical office)")
    s.add_argument("--title", required=True, help="the publisher's table or series name")
    s.add_argument("--edition", required=True, help="release or vintage, e.g. 'release of 2025-03-27'")
    s.add_argument("--basis", required=True, help="e.g. 'annual average' or 'GDP implicit price deflator'")
    s.add_argument("--licence", required=True)
    s.add_argument("--source-url")
    s.add_argument("--reference-currency", help="exchange rates: value = units of this currency per currency unit")
    s.add_argument("--index-base", help="price indices: e.g. '2017=100'")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ccf.engine import api

    with api.open_database() as conn:
        ex = Executor(conn)
        if args.rates_command in ("add", "load"):
            if args.rates_command == "load":
                deprecated("ccf rates load", "ccf rates add")
            meta = RateTableMeta(
                args.id, args.kind, args.publisher, args.title, args.edition, args.basis, args.licence,
                args.source_url, args.reference_currency, args.index_base,
            )
            rt, records = load_rate_file(args.file, meta)
            added = install_rate_table(conn, rt, records)
            conn.commit()
            if args.json:
                print(json.dumps({"id": rt.id, "rate_count": len(records), "sha256": rt.sha256, "installed": added}, indent=2))
            else:
                print(f"{'installed' if added else 'already installed'} {rt.id}: {len(records)} rates, sha256 {rt.sha256}")
            return 0
        q = exp.select(*[column(c) for c in _COLS]).from_(table("rate_table")).order_by(column("table_id"))
        tables = [dict(zip(_COLS, r)) for r in ex.rows(q)]
        if args.rates_command == "list":
            if args.json:
                print(json.dumps(tables, indent=2))
            else:
                for t in tables:
                    print(f"{t['table_id']:<24} {t['kind']:<14} {t['rate_count']:>5} rates  {t['publisher']}, {t['edition']}")
            return 0
        if installed_rate_table(ex, args.table_id) is None:
            raise CcfError(f"no rate table {args.table_id!r}; see 'ccf rates list'")
        rows = ex.rows(
            exp.select(column("currency", "r"), column("year", "r"), column("value", "r"), column("source_line", "r"))
            .from_(table("rate", alias="r"))
            .join(table("rate_table", alias="t"), on=exp.EQ(this=column("rate_table_id", "t"), expression=column("rate_table_id", "r")))
            .where(exp.EQ(this=column("table_id", "t"), expression=param("table_id")))
            .order_by(column("currency", "r"), column("year", "r")),
            {"table_id": args.table_id},
        )
        info = next(t for t in tables if t["table_id"] == args.table_id)
        if args.json:
            print(json.dumps({**info, "rates": [{"currency": c, "year": y, "value": str(v), "line": n} for c, y, v, n in rows]}, indent=2))
            return 0
        print(f"{info['table_id']} — {info['title']} ({info['publisher']}, {info['edition']}); basis: {info['basis']}")
        if info["reference_currency"]:
            print(f"value = {info['reference_currency']} per unit of the currency")
        if info["index_base"]:
            print(f"index base {info['index_base']}")
        for c, y, v, n in rows:
            print(f"  {c} {y}  {v}   (line {n})")
        return 0


__all__ = ["add_parser", "run"]
