"""Reference allocation of contractual instruments to activity rows, in Python.

The same allocation as ``engine/compile/allocation.py`` computes in SQL, written independently so that
tests can hold the two against each other exactly: rows and instruments pooled by the ``match``
fields and year (row ``period_start`` year = instrument ``vintage``), laid end to end in the same
order (rows by period_start then activity_id, instruments by activity_id; text compared by code
point, as SQL's ``COLLATE "C"``), each row receiving the overlap of its interval with each
instrument's. A row's parts are then evaluated like rows (``evaluate.evaluate_row``), and the
row's one outcome decided from them: unmatched if any part is, else excluded if any part is,
else one ``Result`` per part.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Iterable, Mapping, Sequence

from ccf.dsl import ir
from ccf.dsl.evaluate import EXACT, Evaluator, Result, RowOutcome, scale
from ccf.dsl.units import parse_unit

ZERO = Decimal(0)
MWH = parse_unit("MWh")


@dataclass(frozen=True)
class Part:
    """One part of an activity row: the quantity it covers (base units) and its instrument."""

    activity_id: str
    part_no: int
    quantity: Decimal
    instrument_id: str | None


@dataclass(frozen=True)
class InstrumentUse:
    """One instrument after allocation (a ``ccf.instrument_allocation`` row), in ``unit``."""

    instrument_id: str
    entity: str
    unit: str
    quantity: Decimal
    allocated: Decimal
    unallocated: Decimal
    allocated_rows: int
    reason_code: str


def _base(f: ir.Field, row: Mapping[str, object], name: str) -> Decimal | None:
    """A quantity field of a row in base units (as compile's ``activity`` step converts it)."""
    v = Evaluator(row)(ir.FieldRef(name, f.type, f.conversions, f.fixed_factor))
    assert v is None or isinstance(v, Decimal)
    return v


def _pool(ins: ir.Instruments, row: Mapping[str, object], year: object) -> tuple:
    return (*(row.get(f) for f in ins.match), Decimal(year) if year is not None else None)  # type: ignore[arg-type]


def _laid(items: Sequence[tuple[tuple, Decimal, str]]) -> dict[str, tuple[tuple, Decimal, Decimal]]:
    """id -> (pool, start, end): running sums per pool, in the order given."""
    upto: dict[tuple, Decimal] = {}
    out = {}
    for pool, q, id in items:
        start = upto.get(pool, ZERO)
        end = EXACT.add(start, q)
        upto[pool] = end
        out[id] = (pool, start, end)
    return out


def allocate(
    ins: ir.Instruments, activity: ir.ActivityType, rows: Sequence[Mapping[str, object]],
    instruments: Sequence[Mapping[str, object]], reported: Callable[[str], bool] = lambda rid: True,
) -> tuple[dict[str, list[Part]], list[InstrumentUse]]:
    """Each row's parts (by activity_id), and what each instrument gave and kept.

    ``reported(activity_id)``: whether the row's outcome is a result. Volume laid against a row
    that is unmatched or excluded as a whole was applied to no reported emission: it counts as
    unallocated, with the reason ``unreported_row``, never as allocated."""
    fa, fi = activity.field(ins.allocate), ins.activity.field(ins.allocate)
    assert fa is not None and fi is not None
    q_row = {str(r["activity_id"]): _base(fa, r, ins.allocate) for r in rows}
    q_ins = {str(i["activity_id"]): _base(fi, i, ins.allocate) for i in instruments}
    by_row = sorted(rows, key=lambda r: (r["period_start"], str(r["activity_id"])))
    by_ins = sorted(instruments, key=lambda i: str(i["activity_id"]))
    row_pool = {str(r["activity_id"]): _pool(ins, r, r["period_start"].year) for r in rows}  # type: ignore[union-attr]
    ins_pool = {str(i["activity_id"]): _pool(ins, i, i.get(ins.vintage)) for i in instruments}
    laid_rows = _laid([(row_pool[str(r["activity_id"])], q_row[str(r["activity_id"])] or ZERO, str(r["activity_id"])) for r in by_row])
    laid_ins = _laid([(ins_pool[str(i["activity_id"])], q_ins[str(i["activity_id"])] or ZERO, str(i["activity_id"])) for i in by_ins])

    given: dict[str, list[tuple[Decimal, str, Decimal]]] = {}  # row -> [(instrument end, id, allocated)]
    for rid, (pool, rs, re) in laid_rows.items():
        for iid, (ipool, is_, ie) in laid_ins.items():
            if pool != ipool or None in pool[-1:] or not (rs < re and is_ < ie and rs < ie and is_ < re):
                continue
            given.setdefault(rid, []).append((ie, iid, EXACT.subtract(min(re, ie), max(rs, is_))))
    parts: dict[str, list[Part]] = {}
    for r in rows:
        rid = str(r["activity_id"])
        mine = sorted(given.get(rid, []))
        out = [Part(rid, n, a, iid) for n, (_, iid, a) in enumerate(mine, 1)]
        total = sum((a for _, _, a in mine), ZERO)
        q = q_row[rid]
        if not mine or (q is not None and q > total):
            rest = None if q is None else EXACT.subtract(q, total)
            out.append(Part(rid, len(mine) + 1, rest, None))  # type: ignore[arg-type]
        parts[rid] = out

    unit, ratio = ("MWh", 1 / MWH.scale) if fi.type.dimension == MWH.dimension else (fi.display_unit or "1", Fraction(1))
    uses = []
    for i in instruments:
        iid = str(i["activity_id"])
        allocated = sum((p.quantity for rid, ps in parts.items() if reported(rid) for p in ps if p.instrument_id == iid), ZERO)
        unreported = sum((p.quantity for rid, ps in parts.items() if not reported(rid) for p in ps if p.instrument_id == iid), ZERO)
        rows_given = sum(1 for rid, ps in parts.items() if reported(rid) and any(p.instrument_id == iid for p in ps))
        q = q_ins[iid] or ZERO
        left = EXACT.subtract(q, allocated)
        same = [r for r in rows if all(r.get(f) == i.get(f) for f in ins.match)]
        if left == 0:
            code = "allocated"
        elif unreported > 0:
            code = "unreported_row"
        elif not same:
            code = "market_boundary"
        elif not any(Decimal(r["period_start"].year) == i.get(ins.vintage) for r in same):  # type: ignore[union-attr]
            code = "vintage"
        else:
            code = "surplus"
        uses.append(InstrumentUse(iid, str(i["entity"]), unit, scale(q, ratio), scale(allocated, ratio),  # type: ignore[arg-type]
                                  scale(left, ratio), rows_given, code))  # type: ignore[arg-type]
    return parts, uses


def part_row(ins: ir.Instruments, activity: ir.ActivityType, row: Mapping[str, object], part: Part,
             instrument: Mapping[str, object] | None) -> dict[str, object]:
    """The row the rules see for one part: the part's quantity, and the instrument's fields."""
    f = activity.field(ins.allocate)
    assert f is not None
    base_unit = next(c.unit for c in f.conversions if c.factor == 1)  # the quantity is in base units
    out = {**row, ins.allocate: part.quantity, f"{ins.allocate}_unit": base_unit}
    for name, value in (instrument or {}).items():
        out[ir.instrument_column(name)] = value
    return out


def combine(parts: Sequence[tuple[Part, RowOutcome]]) -> list[RowOutcome]:
    """The row's outcome from its parts': the first unmatched part, else the first excluded,
    else every part's result (each naming its instrument)."""
    for kind in ("unmatched", "excluded"):
        first = next((o for _, o in parts if o.outcome == kind), None)
        if first is not None:
            return [first]
    return [replace(o, instrument_id=p.instrument_id) for p, o in parts if isinstance(o, Result)]


def evaluate_allocated(
    m: ir.Methodology, rows: Iterable[Mapping[str, object]], instruments: Iterable[Mapping[str, object]], evaluate_part,
) -> tuple[list[RowOutcome], list[InstrumentUse]]:
    """Every row's outcomes (one, or one result per part) and the instruments' use."""
    ins = m.instruments
    assert ins is not None
    rows, instruments = list(rows), list(instruments)
    parts, _ = allocate(ins, m.activity, rows, instruments)
    by_id = {str(i["activity_id"]): i for i in instruments}
    outcomes: list[RowOutcome] = []
    reported: set[str] = set()
    for r in rows:
        evaluated = [
            (p, evaluate_part(part_row(ins, m.activity, r, p, by_id.get(p.instrument_id) if p.instrument_id else None)))
            for p in parts[str(r["activity_id"])]
        ]
        combined = combine(evaluated)
        if all(isinstance(o, Result) for o in combined):
            reported.add(str(r["activity_id"]))
        outcomes += combined
    # what each instrument gave, counting only rows with results (an unmatched or excluded row's
    # share is unallocated, reason unreported_row)
    _, uses = allocate(ins, m.activity, rows, instruments, reported.__contains__)
    return outcomes, uses


__all__ = ["InstrumentUse", "Part", "allocate", "combine", "evaluate_allocated", "part_row"]
