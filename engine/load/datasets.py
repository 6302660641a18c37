"""Datasets and their reporting periods: ``ccf.dataset`` records a dataset's period and entity
set at its first load (``bind_dataset``); later loads, runs and verify read them back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from ccf.dsl.diagnostics import CcfError, did_you_mean
from ccf.engine.load.base import LoadError, cast_to, icol
from ccf.engine.sql import Executor, ident, param, text


@dataclass(frozen=True, order=True)
class ReportingPeriod:
    """The period a dataset reports on, both days included."""

    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> "ReportingPeriod":
        """``2024`` (a calendar year) or ``2024-04-01..2025-03-31``; LoadError otherwise."""
        t = text.strip()
        try:
            if re.fullmatch(r"[0-9]{4}", t):
                return cls(date(int(t), 1, 1), date(int(t), 12, 31))
            m = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\s*\.\.\s*([0-9]{4}-[0-9]{2}-[0-9]{2})", t)
            if m:
                start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
                if end < start:
                    raise LoadError(f"reporting period {t!r} ends before it starts")
                return cls(start, end)
        except ValueError as e:
            raise LoadError(f"reporting period {t!r}: {e}") from None
        raise LoadError(f"reporting period {t!r} is not YYYY (a calendar year) or YYYY-MM-DD..YYYY-MM-DD "
                        "(first and last day, e.g. 2024-04-01..2025-03-31)")

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True)
class Dataset:
    """A dataset as its first load created it: its reporting period and entity set, if any."""

    name: str
    period: ReportingPeriod | None = None
    entity_set: str | None = None


_DATASET = exp.Table(this=ident("dataset"), db=ident("ccf"))


def dataset_info(ex: Executor, name: str) -> Dataset | None:
    """The dataset as stored, or None if nothing was ever loaded into it."""
    row = ex.one(
        exp.select(icol("period_start"), icol("period_end"), icol("entity_set")).from_(_DATASET)
        .where(exp.EQ(this=icol("dataset"), expression=param("dataset"))),
        {"dataset": name},
    )
    if row is None:
        return None
    start, end, entity_set = row
    return Dataset(name, ReportingPeriod(start, end) if start is not None else None, entity_set)


def require_dataset(ex: Executor, name: str) -> Dataset:
    """The dataset as stored; CcfError when nothing was ever loaded into it (a misspelt name would
    otherwise run over no rows and report zero emissions), naming the closest datasets that exist."""
    found = dataset_info(ex, name)
    if found is not None:
        return found
    names = [n for (n,) in ex.rows(exp.select(icol("dataset")).from_(_DATASET).order_by(icol("dataset")))]
    if not names:
        raise CcfError(f"no dataset {name!r}: nothing has been loaded yet (a dataset is created by its first "
                       "'ccf load --dataset NAME')")
    hint = did_you_mean(name, names)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise CcfError(f"no dataset {name!r}; " + (hint or f"the datasets are: {shown}"))


def dataset_loads(ex: Executor, name: str) -> list[int]:
    """The loads of a dataset that this transaction's snapshot holds, in order. Loads are only
    ever added, each in one transaction with its rows, so these ids name exactly the rows read."""
    rows = ex.rows(
        exp.select(icol("load_id")).from_(exp.Table(this=ident("activity_load"), db=ident("ccf")))
        .where(exp.EQ(this=icol("dataset"), expression=param("dataset"))).order_by(icol("load_id")),
        {"dataset": name},
    )
    return [r[0] for r in rows]


def bind_dataset(ex: Executor, wanted: Dataset) -> Dataset:
    """Create the dataset with the period and entity set asked for, or check them against the
    ones it was created with (rows already loaded were checked against those)."""
    if wanted.entity_set is not None:
        found = ex.one(
            exp.select(icol("entity_set")).from_(exp.Table(this=ident("entity_set"), db=ident("ccf")))
            .where(exp.EQ(this=icol("entity_set"), expression=param("entity_set"))),
            {"entity_set": wanted.entity_set},
        )
        if found is None:
            raise LoadError(f"no entity set {wanted.entity_set!r}: load it first with "
                            f"'ccf entities load FILE --id {wanted.entity_set}' (see 'ccf entities list')")
    period = wanted.period
    cols = ["dataset", "period_start", "period_end", "entity_set"]
    params = {"dataset": wanted.name, "period_start": period.start if period else None,
              "period_end": period.end if period else None, "entity_set": wanted.entity_set}
    insert = exp.insert(
        exp.select(param("dataset"), cast_to(param("period_start"), "DATE"), cast_to(param("period_end"), "DATE"),
                   cast_to(param("entity_set"), "TEXT")),
        exp.Schema(this=_DATASET, expressions=[ident(c) for c in cols]),
    )
    insert.set("conflict", exp.OnConflict(conflict_keys=[ident("dataset")], action=exp.var("DO NOTHING")))
    if ex.execute(insert, params).rowcount == 1:
        return wanted
    stored = dataset_info(ex, wanted.name)
    assert stored is not None  # it conflicted, so it exists
    name = wanted.name
    if wanted.period is not None and stored.period != wanted.period:
        if stored.period is None:
            raise LoadError(f"dataset {name!r} was created without a reporting period, so its rows were not checked "
                            f"against one; load into a new dataset to use the period {wanted.period}")
        raise LoadError(f"dataset {name!r} has the reporting period {stored.period}, not {wanted.period}: a dataset "
                        "keeps the period it was created with (leave --period out, or load into a new dataset)")
    if wanted.entity_set is not None and stored.entity_set != wanted.entity_set:
        if stored.entity_set is None:
            raise LoadError(f"dataset {name!r} was created without an entity set, so its rows' entities were not "
                            f"checked; load into a new dataset to bind it to entity set {wanted.entity_set!r}")
        raise LoadError(f"dataset {name!r} is bound to entity set {stored.entity_set!r}, not {wanted.entity_set!r}: "
                        "a dataset keeps the entity set it was created with (leave --entities out, or load into "
                        "a new dataset)")
    return stored
