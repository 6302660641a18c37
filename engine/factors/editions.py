"""The edition of the reporting period: which edition of a declared factor set a run reads.

A methodology names a factor set (``factor_set: desnz``) or one of its editions
(``factor_set: desnz-2025``); so may a lookup (``factor_set:`` on the lookup). The run reads,
for each set named, the edition whose declared periods cover the dataset's reporting period —
or, for a dataset without one, the span of its rows' ``period_start``:

- a set named: the edition of that period; a period no edition covers is refused;
- an edition named: used when it is for that period (or for any period); one for another period
  is refused, unless the run is asked to compute with it (``other_edition``), and then every
  result of the methodology carries the reason (``EditionChoice.fallback``).

A set the checker was given without a declaration (a test's own signature) is read by the id
named, as before declarations existed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.engine.sql import Executor, column, is_param, param, table

Period = tuple[date, date]


class EditionError(CcfError):
    """No edition of a set is for the period, or the one pinned is for another."""


@dataclass(frozen=True)
class EditionChoice:
    """The edition a run reads for a set a methodology (or a lookup) names."""

    named: str  # the id in the methodology: a set or an edition
    edition: str  # the edition read
    period: Period | None  # the period it was chosen for (None: the dataset has no rows)
    fallback: str | None = None  # why an edition for another period was read (other_edition)


def choose(named: str, declared: ir.FactorSet | None, period: Period | None, what: str, *,
           other_edition: bool = False) -> EditionChoice:
    """The edition of ``declared`` (named ``named`` by ``what``, e.g. a methodology's ref) for ``period``."""
    if declared is None or named not in declared.names():
        return EditionChoice(named, named, period)
    pinned = declared.edition(named)
    if period is None:  # no rows: nothing is computed with any edition
        return EditionChoice(named, pinned.id if pinned is not None else declared.editions[-1].id, None)
    shown = ir.period_text(*period)
    if pinned is not None:
        if pinned.covers(*period):
            return EditionChoice(named, pinned.id, period)
        reason = (f"{what} names the edition {pinned.id}, which is for {pinned.describe_periods()}, "
                  f"but the data are for {shown}")
        if other_edition:
            return EditionChoice(named, pinned.id, period, reason + "; computed with it as a recorded fallback "
                                 "(asked for with --other-edition; ccf demo asks for it)")
        better = [e.id for e in declared.editions if e.covers(*period)]
        raise EditionError(
            reason + ". " + (f"The edition for {shown} is {better[0]}: run a version of the methodology that names "
                             f"the set ('factor_set: {declared.id}')" if better else f"No edition of {declared.id} is "
                             f"for {shown}") + ", or pass --other-edition to compute with "
            f"{pinned.id} and record it on every result as a fallback."
        )
    fitting = [e for e in declared.editions if e.covers(*period)]
    if len(fitting) == 1:
        return EditionChoice(named, fitting[0].id, period)
    editions = "; ".join(f"{e.id}: {e.describe_periods()}" for e in declared.editions)
    raise EditionError(
        f"{what} reads factor set {declared.id}, and no edition of it is for the whole of {shown} "
        f"({editions}). Load each period's activity as a dataset of its own (ccf load --period), "
        f"or declare the edition for {shown} in factor_sets/{declared.id}.yaml."
    )


def bind(m: ir.Methodology, choices: dict[str | None, EditionChoice]) -> ir.Methodology:
    """The methodology reading the chosen editions: its ``factor_set`` and each lookup's become
    edition ids (``choices`` by the id named; None: the methodology's own set)."""
    own = choices[None]
    lookups = tuple(
        dataclasses.replace(lk, factor_set=choices[lk.factor_set].edition) if lk.factor_set is not None else lk
        for lk in m.lookups
    )
    return dataclasses.replace(m, factor_set=own.edition, lookups=lookups)


def choices_for(m: ir.Methodology, period: Period | None, *, other_edition: bool = False
                ) -> dict[str | None, EditionChoice]:
    """The edition of every set ``m`` reads: its own (key None) and each lookup's other set. A
    set whose factors no rule uses (every factor comes from the activity data) reads no edition
    for the period: it is bound to the id named, whatever the period."""
    def used(named: str | None) -> bool:
        return any(lk.gases and lk.factor_set == named for lk in m.lookups)

    out: dict[str | None, EditionChoice] = {
        None: choose(m.factor_set, m.declared_set, period if used(None) else None, m.ref, other_edition=other_edition)}
    for lk in m.lookups:
        if lk.factor_set is not None and lk.factor_set not in out:
            out[lk.factor_set] = choose(lk.factor_set, lk.declared_set, period if used(lk.factor_set) else None,
                                        f"{m.ref} (factor '{lk.name}')",
                                        other_edition=other_edition)
    return out


@dataclass(frozen=True)
class RecordedEditions:
    """What a run recorded of one methodology's editions (ccf.run_methodology, ccf.run_factor_set)."""

    methodology: ir.Methodology  # bound to the editions the run read
    named: str | None  # the set the methodology names, when not the edition itself
    period: str | None
    fallback: str | None


def as_recorded(ex: Executor, run_id: int, m: ir.Methodology) -> RecordedEditions:
    """``m`` bound to the editions run ``run_id`` read for it, as the run recorded them (a run
    made before editions were chosen recorded the edition under the id the methodology named)."""
    is_this = exp.and_(is_param("run_id"), exp.EQ(this=column("methodology_id"), expression=param("mid")))
    keys = {"run_id": run_id, "mid": m.id}
    row = ex.one(exp.select(column("factor_set"), column("factor_set_named"), column("edition_period"),
                            column("edition_fallback")).from_(table("run_methodology")).where(is_this), keys)
    if row is None:
        return RecordedEditions(m, None, None, None)
    edition, named, period, fallback = row
    choices: dict[str | None, EditionChoice] = {None: EditionChoice(named or edition, edition, None, fallback)}
    for set_id, set_named in ex.rows(exp.select(column("set_id"), column("factor_set_named"))
                                     .from_(table("run_factor_set")).where(is_this), keys):
        choices[set_named or set_id] = EditionChoice(set_named or set_id, set_id, None)
    for lk in m.lookups:  # a lookup whose set the run did not record read it by the id named
        if lk.factor_set is not None and lk.factor_set not in choices:
            choices[lk.factor_set] = EditionChoice(lk.factor_set, lk.factor_set, None)
    return RecordedEditions(bind(m, choices), named if named and named != edition else None, period, fallback)
