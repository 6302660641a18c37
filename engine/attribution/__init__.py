"""Impact attribution: what a methodology version change did to a dataset's totals, row by row.

``ccf diff ID@A ID@B --dataset D`` runs both versions on the same data (or reuses completed runs
of exactly those content hashes over the same loads), pairs the two runs' outcomes per activity
row and gas — a full outer join written as grouping one tagged stream of both runs' rows, so
that it is planned by sorting or hashing, never as a nested loop — and gives every pair's change
to causes: set-based, in SQL, in one statement; Python only pivots the aggregates.

The decomposition of one (activity row, gas) pair, A's stored value ``a`` to B's ``b``
(docs/auditing.md#how-a-change-is-attributed):

1. The GWP step, by substitution with the values the results store: when both sides give the gas
   as a mass (``co2e_kg = gas_kg × gwp``), ``gas_kg_A × (gwp_B − gwp_A)`` is "GWP set changed".
2. The rest, ``b − a − GWP step``, goes to exactly one cause, the first that applies:
   no result on A's side: newly included (A excluded it), newly matched (A had it unmatched), or
   formula changed (A's rule gave no value for this gas); no result on B's side: newly excluded,
   newly unmatched, or formula changed; another rule chosen, or the chosen rule's emission
   expression for the gas differs (IR equality: parameters, units, constants): formula changed;
   other factor ids: a different factor matched; same factor ids whose published values differ
   between the two factor-set editions: factor value changed; nothing differs and the rest is
   zero: unchanged; anything else: other (empty for every shipped pair, by test).

The parts sum exactly (NUMERIC) to ``b − a`` by construction, hence to the total change. For
breakdowns by rule, scope, entity and gas, each pair is two legs: ``−a`` in A's rule and scope,
``a + rest`` (and the GWP step) in B's, so every breakdown row also adds up from A's figure to B's.

The package: model.py (what an attribution says), queries.py (its SQL and the runs), presentation.py
(text and JSON); engine/attribution_html.py draws the waterfall page.
"""

from __future__ import annotations

from typing import Callable

import psycopg
from ccf.dsl import ir
from ccf.engine.attribution.model import CAUSE_LABELS, CAUSES, Attribution, AttributionError, Breakdown, ChangedRow, SideRun
from ccf.engine.attribution.queries import (
    assemble, drop_pairs, find_run, largest_query, legs_query, outcomes_query, pairs_statement, require_data, runs_for, same_formulas,
)
from ccf.engine.sql import Executor


def require_pairable(a: ir.Methodology, b: ir.Methodology) -> None:
    """Two versions whose results can be paired row by row: they read one activity type."""
    if a.activity.id != b.activity.id:
        raise AttributionError(
            f"{a.ref} reads activity type {a.activity.id} and {b.ref} reads {b.activity.id}: their results cannot be paired row by row"
        )


def attribute(
    conn: psycopg.Connection, dataset: str, a: ir.Methodology, b: ir.Methodology, *, reuse: bool = True, largest: int = 20,
    progress: Callable[[str], None] | None = None,
) -> Attribution:
    """Run (or reuse runs of) both versions on the dataset and attribute the change in totals;
    ``progress`` is called with each version's ref before its run (``runs_for``)."""
    require_pairable(a, b)
    ex = Executor(conn)
    require_data(ex, dataset, a.activity.id)
    side_a, side_b = runs_for(conn, dataset, a, b, reuse, progress)
    params = {
        "run_a": side_a.run_id, "run_b": side_b.run_id, "methodology_a": a.id, "methodology_b": b.id,
        "factor_set_a": side_a.factor_set, "factor_set_b": side_b.factor_set,
        "scope_a": side_a.scope, "scope_b": side_b.scope, "category_a": side_a.category, "category_b": side_b.category,
        "limit": largest,
    }
    conn.commit()  # the runs are committed; what follows only reads (and a temporary table)
    with conn.transaction():
        ex.execute(drop_pairs())
        ex.execute(pairs_statement(same_formulas(a, b)), params)
        legs = ex.rows(legs_query(), params)
        outcomes = tuple((oa, ob, n) for oa, ob, n in ex.rows(outcomes_query(), params))
        top = ex.rows(largest_query(), params)
        ex.execute(drop_pairs())
    return assemble(dataset, side_a, side_b, legs, outcomes, top)


__all__ = ["Attribution", "AttributionError", "Breakdown", "CAUSES", "CAUSE_LABELS", "ChangedRow", "SideRun", "attribute", "require_pairable",
           "find_run", "runs_for", "same_formulas"]
