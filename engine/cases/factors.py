"""A test case's own factors: installed as scratch editions that the version reads, then removed.

A case may bring the factors of the published example it reproduces (``factors:`` in the case,
dsl/cases.py) in place of the rows of a set the version reads. Each set's rows become an edition
of their own, installed as ``ccf factors add`` installs a declared set's edition (the set's gas
units, the rows' unit, gas, value and attributes), under a random id; the version is bound to it
in place of the set it names, so that its lookups — select, match, region and year fallbacks,
unit conversion — are the version's own over the case's rows. The editions and any unit rows
they added are deleted afterwards, whatever happened: nothing of a case remains.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.cases import Case, CaseFactors, set_names
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.factor_sets import ROW_COLUMNS
from ccf.engine.factors.custom import GAS_UNITS
from ccf.engine.factors.model import FactorRecord, FactorSetEdition, sorted_attributes
from ccf.engine.factors.store import install_edition, installed
from ccf.engine.sql import Executor, column, param, table

SCRATCH = "ccf-test-"  # the scratch editions' ids start so (then a random id)


@contextmanager
def case_factors(conn: psycopg.Connection, m: ir.Methodology, case: Case) -> Iterator[ir.Methodology]:
    """``m`` reading the case's factors in place of the sets they are given for (``m`` itself
    when the case brings none); the scratch editions exist, committed, while the block runs."""
    if not case.factors:
        yield m
        return
    with conn.transaction():
        units = {dict(r.cells)["unit"] for f in case.factors for r in f.rows} - _units(Executor(conn))
    made: dict[str, str] = {}  # set name -> scratch edition id
    try:
        declared = set_names(m)
        for f in case.factors:
            if f.set_name not in declared:  # ccf check says so (E218); a run must not read the shipped set instead
                raise CcfError(f"{m.ref} reads no factor set '{f.set_name}', yet the case gives factors of it")
            made[f.set_name] = SCRATCH + uuid.uuid4().hex[:12]
            install_edition(conn, *_edition(made[f.set_name], f, declared[f.set_name], case))
        yield _bound(m, made)
    finally:
        _remove(conn, list(made.values()), units)


def _edition(set_id: str, f: CaseFactors, declared: ir.FactorSet | None, case: Case
             ) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """The case's rows of one set as an edition: the declared set's gas units and attributes."""
    records = []
    for i, row in enumerate(f.rows, start=1):
        cells = dict(row.cells)
        records.append(FactorRecord(
            factor_id=cells.get("factor_id") or f"{f.set_name}-{i}", name=cells.get("name") or case.name,
            unit=cells["unit"], gas=cells["gas"], value=Decimal(cells["value"]),
            attributes=sorted_attributes((k, v) for k, v in cells.items() if k not in ROW_COLUMNS),
            region=cells.get("region") or None, year=int(cells["year"]) if cells.get("year") else None,
            source_line=row.span.line,
        ))
    attributes = (declared.attributes if declared is not None
                  else tuple(sorted({a for r in records for a, _ in r.attributes})))
    gas_units = declared.gas_units if declared is not None else tuple(GAS_UNITS.items())
    digest = hashlib.sha256(repr((set_id, [dataclasses.astuple(r) for r in records])).encode()).hexdigest()
    edition = FactorSetEdition(
        id=set_id, publisher="ccf test case", title=f"{f.set_name}, as given by the case '{case.name}'",
        edition="test case", published=None, licence="test case", source_file=Path(case.span.path).name,
        sha256=digest, region=None, year=None, gas_units=gas_units, attributes=tuple(attributes),
    )
    return edition, records


def _bound(m: ir.Methodology, made: dict[str, str]) -> ir.Methodology:
    """``m`` naming the scratch editions instead of the sets, undeclared: a run reads them by
    their id, whatever the period (editions.choose)."""
    lookups = tuple(
        dataclasses.replace(lk, factor_set=made[lk.factor_set], declared_set=None)
        if lk.factor_set is not None and lk.factor_set in made else lk
        for lk in m.lookups
    )
    if m.factor_set in made:
        return dataclasses.replace(m, factor_set=made[m.factor_set], declared_set=None, lookups=lookups)
    return dataclasses.replace(m, lookups=lookups)


def _units(ex: Executor) -> set[str]:
    return {r[0] for r in ex.rows(exp.select(column("name")).from_(table("unit")))}


def _remove(conn: psycopg.Connection, set_ids: list[str], new_units: set[str]) -> None:
    """Delete the scratch editions, their factors and the unit rows their install added (the
    case's units that were not in the unit table before)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()  # what a failed statement left open
    ex = Executor(conn)
    with conn.transaction():
        for set_id in set_ids:
            have = installed(ex, set_id)
            if have is None:
                continue
            ex.execute(exp.delete(table("factor")).where(
                exp.EQ(this=column("factor_set_id"), expression=param("pk"))), {"pk": have.factor_set_id})
            ex.execute(exp.delete(table("factor_set")).where(
                exp.EQ(this=column("factor_set_id"), expression=param("pk"))), {"pk": have.factor_set_id})
        added = sorted(new_units)
        if added:
            ex.execute(exp.delete(table("unit")).where(
                exp.In(this=column("name"), expressions=[param(f"u{i}") for i in range(len(added))])),
                {f"u{i}": u for i, u in enumerate(added)})
