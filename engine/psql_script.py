"""``ccf compile ID --bind run_id=…,dataset=…``: a methodology's statements as a script that
psql runs as it is, for an auditor to recompute a run's numbers outside ccf.

The values of the bound parameters are the ones a run gives them (engine/run.py
``statement_params``), read from the database: for a run that computed this methodology, the
loads and the factor editions it recorded (what ``ccf verify`` recomputes with); for any other
run id, the dataset's loads and the editions a run would choose now. Each is substituted into
the sqlglot trees as a literal (``sql.with_values``), never formatted into text.

The script is one transaction, at REPEATABLE READ as a run is (one snapshot), that first pins
the session settings ccf's SQL depends on with ``SET LOCAL`` (database.SESSION_SETTINGS: what
a statement means does not depend on the server's or psql's settings). Its statements write the
run's result, exclusion and unmatched rows as the run did, into the run's partitions by name
(engine/run_partition.py), each ``INSERT`` with ``RETURNING`` so that psql prints the rows it
computed, and the transaction ends in ROLLBACK: nothing it wrote stays. The partitions the run id
lacks are made first (a run id no run has, a ClickHouse run, or a run converted by migration
0027 with no row of some table: ``run_partition.make_missing``), in the script's own transaction,
so the ROLLBACK drops them too; they are not attached, which would only lock the parents until
then. There is deliberately no way to commit it: a run is the only writer of results, with its
ccf.run record, its reconciliation and its provenance; rows committed by a script would be
results no run accounts for.
"""

from __future__ import annotations

from typing import Any, Mapping

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.engine.compile import compile_methodology, lookup_set_params
from ccf.engine.database import SESSION_SETTINGS
from ccf.engine.factors.editions import as_recorded, bind
from ccf.engine.factors.store import installed
from ccf.engine.load import dataset_loads, require_dataset
from ccf.engine.run import choose_editions, one_snapshot, statement_params
from ccf.engine.run_partition import WRITTEN, into_partition, make_missing, partition_table
from ccf.engine.sql import column, comment, ident, is_param, param, render, table, text, with_values

REQUIRED = ("run_id", "dataset")


def parse_binds(specs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs, comma-separated, from one or more ``--bind`` options."""
    out: dict[str, str] = {}
    for spec in specs:
        for pair in filter(None, (p.strip() for p in spec.split(","))):
            name, eq, value = pair.partition("=")
            if not eq or not name.strip():
                raise CcfError(f"--bind takes NAME=VALUE pairs separated by commas, not {pair!r}")
            if name.strip() in out:
                raise CcfError(f"--bind names {name.strip()} twice")
            out[name.strip()] = value.strip()
    return out


def _expected(m: ir.Methodology) -> str:
    optional = ["loads", "factor_set_id", *[p for p in lookup_set_params(m) if p != "factor_set_id"]]
    return (f"{m.ref} takes {', '.join(REQUIRED)} (required) and {', '.join(optional)} (default: as the run "
            "recorded them, else from the database as a run would read them)")


def _check_names(m: ir.Methodology, binds: Mapping[str, str]) -> None:
    known = {*REQUIRED, "loads", "factor_set_id", *lookup_set_params(m)}
    unknown = sorted(set(binds) - known)
    missing = [n for n in REQUIRED if n not in binds]
    if unknown or missing:
        what = "; ".join(filter(None, [f"unknown bind name(s) {', '.join(unknown)}" if unknown else "",
                                       f"missing {', '.join(missing)}" if missing else ""]))
        raise CcfError(f"{what}: {_expected(m)}")


def _run_id(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise CcfError(f"run_id must be a whole number, not {value!r}") from None
    if n < 1:
        raise CcfError(f"run_id must be 1 or more, not {n}")
    return n


def _loads(value: str) -> list[int]:
    try:
        return sorted(int(v) for v in value.replace(";", " ").split())
    except ValueError:
        raise CcfError(f"loads are load ids separated by ';' (e.g. loads=3;4), not {value!r}") from None


def _recorded(ex, run_id: int, m: ir.Methodology) -> tuple[str, list[int], bool] | None:
    """The dataset and loads of run ``run_id``, and whether it computed this version of ``m``."""
    row = ex.one(exp.select(column("dataset"), column("summary")).from_(table("run")).where(is_param("run_id")),
                 {"run_id": run_id})
    if row is None:
        return None
    ran = ex.one(exp.select(column("version")).from_(table("run_methodology"))
                 .where(exp.and_(is_param("run_id"), exp.EQ(this=column("methodology_id"), expression=param("mid")))),
                 {"run_id": run_id, "mid": m.id})
    return row[0], sorted((row[1] or {}).get("loads", [])), ran is not None and ran[0] == m.version


def bound_script(conn: psycopg.Connection, m: ir.Methodology, binds: Mapping[str, str],
                 other_edition: bool = False) -> str:
    """The psql script of ``m``'s statements bound as described in the module docstring."""
    _check_names(m, binds)
    run_id, dataset = _run_id(binds["run_id"]), binds["dataset"]
    with one_snapshot(conn, rollback=True) as ex:  # it only reads
        info = require_dataset(ex, dataset)
        recorded = _recorded(ex, run_id, m)
        if recorded is not None and recorded[0] != dataset:
            raise CcfError(f"run {run_id} is of dataset {recorded[0]!r}, not {dataset!r}")
        if recorded is not None and recorded[2]:
            how = f"as run {run_id} recorded them"
            loads = recorded[1]
            bound = as_recorded(ex, run_id, m).methodology
        else:
            how = f"as a run of dataset {dataset} would read them now"
            loads = dataset_loads(ex, dataset)
            bound = bind(m, choose_editions(ex, info, tuple(loads), m, other_edition))
        if "loads" in binds:
            loads = _loads(binds["loads"])
            if missing := sorted(set(loads) - set(dataset_loads(ex, dataset))):
                raise CcfError(f"dataset {dataset} holds no load {', '.join(map(str, missing))}")
        params, _, _ = statement_params(ex, bound, run_id, dataset, loads)
        for name in set(binds) - {*REQUIRED, "loads"}:  # a factor set named by its edition id, or its key
            value = binds[name]
            fs = installed(ex, value)
            if fs is None and not value.isdigit():
                raise CcfError(f"{name}: no factor set {value!r} installed (see 'ccf factors list')")
            params[name] = fs.factor_set_id if fs is not None else int(value)
    compiled = compile_methodology(bound)
    head = [
        f"ccf compiled SQL for {bound.ref} ({bound.status}), bound to run {run_id} of dataset {dataset}",
        bound.title,
        f"content hash sha256:{bound.content_hash}",
        f"activity type {bound.activity.id}; factor set {bound.factor_set}; GWP {bound.gwp}",
        f"values ({how}): " + "; ".join(f"{k} = {_shown(k, v, bound)}" for k, v in params.items()),
        "",
        "What it does: in one transaction (REPEATABLE READ: one snapshot, as a run) with the session",
        "settings ccf pins, it computes the methodology over the dataset's rows of those loads and",
        f"WRITES run {run_id}'s result, excluded and unmatched rows of {bound.id} into the run's",
        f"partitions of ccf.result_row, ccf.excluded and ccf.unmatched (ccf_run.result_row_{run_id}, …;",
        "it makes those the run lacks), printing each row it writes (RETURNING), then the counts that",
        "must balance with them (rows_in = rows_result + the excluded + the unmatched rows printed;",
        "result_rows = the result rows printed); then ROLLBACK: nothing it wrote or made stays. Run it as",
        "the login ccf connects with",
        "(the owner of the ccf schema), e.g. psql -X -v ON_ERROR_STOP=1 -f FILE \"$CCF_DATABASE_URL\"",
    ]
    partitions = {target: partition_table(target, run_id) for target in WRITTEN}
    body = [f"\n{comment(f'[{i}] {name}')}\n{render(_returning(with_values(into_partition(tree, partitions), params)))};"
            for i, (name, tree) in enumerate(compiled.statements(), 1)]
    settings = [render(exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.Column(this=ident(k.lower())), expression=text(v)),
                                                         kind="LOCAL")]), pretty=False) + ";"
                for k, v in SESSION_SETTINGS.items()]
    begin = render(exp.Transaction(modes=["ISOLATION LEVEL REPEATABLE READ"]), pretty=False) + ";"
    made = [comment("the run's partitions it lacks, made in this transaction (engine/run_partition.py)"),
            render(make_missing(run_id), pretty=False) + ";"]
    return "\n".join([*(comment(line) for line in head), begin, *settings, *made, *body, "",
                      render(exp.Rollback()) + ";"]) + "\n"


def _shown(name: str, value: Any, m: ir.Methodology) -> str:
    if value is None:  # a set that is not installed: the lookups reading it find nothing, as in a run
        return f"NULL ({lookup_set_params(m)[name]}, not installed)"
    if name == "factor_set_id":
        return f"{value} ({m.factor_set})"
    if name.startswith("factor_set_id__"):
        return f"{value} ({lookup_set_params(m)[name]})"
    if isinstance(value, list):
        return "{" + ",".join(map(str, value)) + "}"
    return repr(value) if isinstance(value, str) else str(value)


def _returning(tree: exp.Expression) -> exp.Expression:
    """An INSERT … SELECT that also returns the columns it wrote (psql prints them)."""
    if not isinstance(tree, exp.Insert):
        return tree
    cols = [column(c.name) for c in tree.this.expressions]
    out = tree.copy()
    out.set("returning", exp.Returning(expressions=cols))
    return out
