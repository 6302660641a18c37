"""Lower a checked methodology (IR) to set-based PostgreSQL statements, as sqlglot trees.

A methodology always compiles to the same six statements, whatever the row count:

1. ``evaluate``  CREATE TEMPORARY TABLE ccf_eval AS … — one pass over the activity rows:
   normalise units, join each factor lookup (resolved once per distinct key), pick the first
   rule whose condition holds, compute every gas, and classify the row
   (result / excluded / unmatched with a reason).
2. ``results``   INSERT INTO ccf.result_row … — one row per activity row, its gases as columns, with provenance.
3. ``excluded``  INSERT INTO ccf.excluded …
4. ``unmatched`` INSERT INTO ccf.unmatched …
5. ``reconcile`` SELECT the counts that must balance with the rows 2-4 wrote, and the kg CO2e per gas.
6. ``cleanup``   DROP TABLE ccf_eval.

Bound parameters: %(run_id)s, %(dataset)s, %(loads)s (the dataset's loads the run reads, an array
of load ids), %(factor_set_id)s, and %(factor_set_id__<lookup>)s for a lookup that reads another
factor set (``lookup_set_params``).

The package, one module per job:

``expressions``  IR expressions -> SQL over one row (``ExpressionCompiler``, ``scale_sql``);
``activity``     the rows a run reads (``of_run_loads``) and the ``activity`` step;
``rescaled``     quantities also in the unit of the factor they multiply (a multiplication, not ccf.div);
``lookups``      factor lookups, each resolved once per distinct key;
``currency``     spend-based currency conversions, resolved once per distinct key;
``allocation``   instruments allocated to activity rows (market-based Scope 2);
``shares``       the totals ``share()`` divides by, one window sum per share;
``evaluate``     statement 1, which fills ``ccf_eval``;
``statements``   the statements that read ``ccf_eval``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.passes import without_unused_lookups
from ccf.engine.compile import allocation, evaluate, statements
from ccf.engine.compile.activity import activity_table_name, of_run_loads
from ccf.engine.compile.evaluate import EVAL, gases
from ccf.engine.compile.expressions import ExpressionCompiler, scale_sql
from ccf.engine.compile.lookups import lookup_set_params
from ccf.engine.database import SESSION_SETTINGS
from ccf.engine.sql import comment, render


@dataclass(frozen=True)
class CompiledMethodology:
    """The statements of one methodology, in the order they run."""

    methodology: ir.Methodology
    evaluate: exp.Expression
    results: exp.Expression
    excluded: exp.Expression
    unmatched: exp.Expression
    reconcile: exp.Expression
    cleanup: exp.Expression
    instruments: exp.Expression | None = None  # only for a methodology with instruments

    def statements(self) -> list[tuple[str, exp.Expression]]:
        return [
            ("evaluate", self.evaluate),
            ("results", self.results),
            ("excluded", self.excluded),
            ("unmatched", self.unmatched),
            *([("instruments", self.instruments)] if self.instruments is not None else []),
            ("reconcile", self.reconcile),
            ("cleanup", self.cleanup),
        ]

    def sql(self) -> str:
        return self._text

    @functools.cached_property
    def _text(self) -> str:  # once per compile: a run records it, and compiled() reuses compiles
        m = self.methodology
        head = [
            f"ccf compiled SQL for {m.ref} ({m.status})",
            m.title,
            f"content hash sha256:{m.content_hash}",
            f"activity type {m.activity.id}; factor set {m.factor_set}; GWP {m.gwp}",
            "parameters: %(run_id)s, %(dataset)s, %(loads)s, %(factor_set_id)s"
            + "".join(f", %({p})s ({s})" for p, s in lookup_set_params(m).items()),
            # the text below means what the methodology says under these (a literal's backslash, say)
            "assumes the session settings ccf pins on each connection:",
            "  " + " ".join(f"{k}={v}" if " " not in v else f"{k}='{v}'" for k, v in SESSION_SETTINGS.items()),
        ]
        body = [f"\n{comment(f'[{i}] {name}')}\n{render(tree)};" for i, (name, tree) in enumerate(self.statements(), 1)]
        return "\n".join(comment(line) for line in head) + "\n" + "\n".join(body) + "\n"


def compile_methodology(m: ir.Methodology) -> CompiledMethodology:
    """The fixed statement list of one methodology."""
    used = without_unused_lookups(m)
    return CompiledMethodology(
        m,
        evaluate=evaluate.statement(used),
        results=statements.results(used),
        excluded=statements.excluded(used),
        unmatched=statements.unmatched(used),
        reconcile=statements.reconcile(used),
        cleanup=statements.cleanup(),
        instruments=allocation.allocation_statement(m, EVAL) if m.instruments is not None else None,
    )


def compiled(m: ir.Methodology) -> CompiledMethodology:
    """``compile_methodology(m)``, once per process for each methodology as bound: the key is the
    whole checked IR (compared by value, never by name), so its content hash, its parameters'
    values (a test case's), the editions a run binds and its activity type all tell compiles
    apart. A run and each test case of ``ccf test`` compile through it: the cases of a version,
    the snapshot tests' runs and the suite's many runs of the same version compile it once. The
    trees are shared: nothing may change them (rendering does not: engine/sql.render)."""
    try:
        hash(m)
    except TypeError:  # an IR node that is no value (holding a list, say) has no key: compiled afresh
        return compile_methodology(m)
    return _compiled_once(m)


@functools.lru_cache(maxsize=256)
def _compiled_once(m: ir.Methodology) -> CompiledMethodology:
    return compile_methodology(m)


__all__ = [
    "CompiledMethodology", "ExpressionCompiler", "activity_table_name", "compile_methodology", "compiled", "gases",
    "lookup_set_params", "of_run_loads", "scale_sql",
]
