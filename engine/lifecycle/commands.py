"""The lifecycle commands: ``ccf datasets list|show|delete``, ``ccf runs list|show|delete``,
``ccf rejects LOAD|--dataset D``, ``ccf unmatched RUN`` and ``ccf db status|stop|url|adopt-clickhouse``; each
with ``--json``. Parsing and printing only: the work is the Python API's (engine/api.py)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from ccf.engine.lifecycle.rows import record_text
from ccf.engine.options import json_flag


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="list, show and delete datasets")
    ds = p.add_subparsers(dest="datasets_command", required=True, metavar="SUBCOMMAND")
    json_flag(ds.add_parser("list", help="every dataset: period, entity set, loads, rows, runs"))
    s = ds.add_parser("show", help="one dataset with its loads and runs")
    s.add_argument("dataset")
    json_flag(s)
    s = ds.add_parser("delete", help="delete a dataset, its loads and their rows (in one transaction)")
    s.add_argument("dataset")
    s.add_argument("--cascade", action="store_true", help="also delete the runs over it (without it, such runs stop the delete)")
    json_flag(s)
    p.set_defaults(func=run_datasets)

    p = sub.add_parser("runs", help="list, show and delete runs")
    rs = p.add_subparsers(dest="runs_command", required=True, metavar="SUBCOMMAND")
    s = rs.add_parser("list", help="every run (of one dataset): methodologies and total")
    s.add_argument("--dataset", help="only the runs over this dataset")
    json_flag(s)
    s = rs.add_parser("show", help="one run: totals by scope, each methodology's reconciliation")
    s.add_argument("run", type=int, help="run id")
    json_flag(s)
    s = rs.add_parser("delete", help="delete a run and every row it wrote (in one transaction)")
    s.add_argument("run", type=int, help="run id")
    json_flag(s)
    p.set_defaults(func=run_runs)

    s = sub.add_parser("rejects", help="the rows a load (or a dataset's loads) rejected: file, line, reason, record")
    s.add_argument("load", type=int, nargs="?", help="load id (see 'ccf datasets show')")
    s.add_argument("--dataset", help="every load of this dataset")
    json_flag(s)
    s.set_defaults(func=run_rejects)

    s = sub.add_parser("unmatched", help="the rows a run left unmatched: file, line, reason with the keys tried")
    s.add_argument("run", type=int, help="run id")
    s.add_argument("--methodology", help="only this methodology's rows (its id)")
    json_flag(s)
    s.set_defaults(func=run_unmatched)

    p = sub.add_parser("db", help="the database: status, stop (the embedded server), url")
    dbs = p.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    json_flag(dbs.add_parser("status", help="where the database is; whether the embedded server runs"))
    json_flag(dbs.add_parser("stop", help="stop the embedded server (the next command starts it)"))
    json_flag(dbs.add_parser("url", help="the URL ccf connects with (any password masked)"))
    json_flag(dbs.add_parser("adopt-clickhouse", help="make this database, moved or restored from a dump (its original "
                                                      "gone), the owner of its ClickHouse runs' rows"))
    p.set_defaults(func=run_db)


def _emit(args: argparse.Namespace, data: Any, text: Callable[[Any], str]) -> int:
    sys.stdout.write((json.dumps(data, indent=2, ensure_ascii=False, default=str) if args.json else text(data)) + "\n")
    return 0


def run_datasets(args: argparse.Namespace) -> int:
    from ccf.engine import api

    with api.open_database() as conn:
        if args.datasets_command == "list":
            return _emit(args, api.datasets(conn), _datasets_text)
        if args.datasets_command == "show":
            return _emit(args, api.dataset(conn, args.dataset), _dataset_text)
        return _emit(args, api.delete_dataset(conn, args.dataset, cascade=args.cascade).to_json(), _deleted_text)


def run_runs(args: argparse.Namespace) -> int:
    from ccf.engine import api

    with api.open_database() as conn:
        if args.runs_command == "list":
            return _emit(args, api.runs(conn, args.dataset), _runs_text)
        if args.runs_command == "show":
            return _emit(args, api.run_info(conn, args.run), _run_text)
        return _emit(args, api.delete_run(conn, args.run).to_json(), _deleted_text)


def run_rejects(args: argparse.Namespace) -> int:
    from ccf.engine import api

    if (args.load is None) == (args.dataset is None):
        sys.stderr.write("ccf rejects: error: name a load id or --dataset DATASET (one of them)\n")
        return 2
    with api.open_database() as conn:
        rows = api.rejects(conn, load_id=args.load, dataset=args.dataset)
    return _emit(args, rows, _rejects_text)


def run_unmatched(args: argparse.Namespace) -> int:
    from ccf.engine import api

    with api.open_database() as conn:
        rows = api.unmatched(conn, args.run, args.methodology)
    return _emit(args, rows, _unmatched_text)


def run_db(args: argparse.Namespace) -> int:
    from ccf.engine import api

    if args.db_command == "status":
        return _emit(args, api.db_status(), _status_text)
    if args.db_command == "stop":
        return _emit(args, api.db_stop(), _stopped_text)
    if args.db_command == "adopt-clickhouse":
        with api.open_database() as conn:
            return _emit(args, api.adopt_clickhouse(conn), lambda d: f"this database's ClickHouse runs: ClickHouse database "
                                                                     f"{d['clickhouse_database']}")
    return _emit(args, {"url": api.db_url()}, lambda d: d["url"])


# --- text ---------------------------------------------------------------------------------


def _datasets_text(rows: list[dict]) -> str:
    if not rows:
        return "no dataset yet (a dataset is created by its first 'ccf load --dataset NAME')"
    return "\n".join(
        f"{d['dataset']}: {d['loads']} load(s), {d['rows_loaded']} rows loaded, {d['rows_rejected']} rejected, "
        f"{d['runs']} run(s); period {d['period'] or '-'}, entity set {d['entity_set'] or '-'}; "
        f"activity types {', '.join(d['activity_types']) or '-'}"
        for d in rows
    )


def _dataset_text(d: dict) -> str:
    out = [_datasets_text([{**d, "loads": len(d["loads"]), "runs": len(d["runs"])}]), "loads:"]
    out += [f"  load {x['load_id']}: {x['activity_type']} from {x['source_file']}: {x['rows_read']} read, "
            f"{x['rows_loaded']} loaded, {x['rows_rejected']} rejected ({x['loaded_at']})" for x in d["loads"]] or ["  none"]
    out.append("runs:")
    out += [f"  {line}" for line in _runs_text(d["runs"]).splitlines()] if d["runs"] else ["  none"]
    return "\n".join(out)


def _runs_text(rows: list[dict]) -> str:
    if not rows:
        return "no run yet (see 'ccf run')"
    return "\n".join(
        f"run {r['run_id']}: dataset {r['dataset']}, {r['started_at']}, {len(r['methodologies'])} methodologies, "
        f"total {r['total_co2e_kg']} kg CO2e" for r in rows
    )


def _run_text(r: dict) -> str:
    out = [f"run {r['run_id']}: dataset {r['dataset']}, engine {r['engine_version']}, started {r['started_at']}, "
           f"finished {r['finished_at']}, loads {', '.join(map(str, r['loads']))}",
           f"total {r['total_co2e_kg']} kg CO2e"]
    out += [f"  {k}: {v} kg CO2e" for k, v in r["by_scope_category"].items()]
    out += [f"{m['methodology']}@{m['version']} ({m['activity_type']}, {m['factor_set']}, GWP {m['gwp']}): "
            f"{m['co2e_kg']} kg CO2e; {m['rows_in']} rows = {m['rows_result']} results + {m['rows_excluded']} excluded "
            f"+ {m['rows_unmatched']} unmatched; {m['rows_rejected']} rejected at load" for m in r["methodologies"]]
    return "\n".join(out)


def _deleted_text(d: dict) -> str:
    rows = ", ".join(f"{n} from {t}" for t, n in d["rows"].items() if n)
    return f"deleted {d['deleted']}: {rows or 'no rows'}"


def _rejects_text(rows: list[dict]) -> str:
    if not rows:
        return "no rejected rows"
    return "\n".join(
        f"{r['source_file']}:{r['line_no']} (load {r['load_id']}, activity {r['activity_id'] or '-'}): {r['reason']}\n"
        f"  record: {record_text(r['record'])}"
        for r in rows
    )


def _unmatched_text(rows: list[dict]) -> str:
    if not rows:
        return "no unmatched rows"
    return "\n".join(
        f"{r['source_file'] or '?'}:{r['line_no'] if r['line_no'] is not None else '?'} (load {r['load_id']}) "
        f"{r['methodology']} activity {r['activity_id']}, rule {r['rule_id'] or '-'}: [{r['reason_code']}] {r['reason']}"
        for r in rows
    )


def _status_text(d: dict) -> str:
    clickhouse = f"\nclickhouse: {d['clickhouse']}" if "clickhouse" in d else ""
    if d["kind"] == "external":
        return f"database: {d['url']} (from {d['source']}; not managed by ccf){clickhouse}"
    state = f"running (pid {d['pid']})" if d["running"] else ("stopped" if d["initialised"] else "not created yet")
    return f"embedded PostgreSQL in {d['data_directory']}: {state}{clickhouse}"


def _stopped_text(d: dict) -> str:
    return (f"stopped the embedded PostgreSQL in {d['data_directory']}" if d["stopped"]
            else f"the embedded PostgreSQL in {d['data_directory']} was not running")
