"""Reference totals of ``share()``: each row's total by its keys, computed in Python.

The same totals as ``engine/compile/shares.py`` computes in SQL with window sums, written
independently so that tests can hold the two against each other exactly. For each ``ir.Share``
of a methodology, rows are grouped by the values of its keys (a missing key is a value of its
own, as SQL's ``PARTITION BY`` groups NULLs together) and the total of a group is the exact sum
of the quantity over its rows, nulls counting for nothing. A group's total is defined only when
it is positive and no row of the group has a negative quantity: then every share is between 0
and 1 and the shares of a group add up to 1 (each rounded once, by ``ccf.div``). Otherwise the
total is None, and a rule whose emissions read the share leaves the row unmatched (``no_total``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping, Sequence

from ccf.dsl import ir
from ccf.dsl.evaluate import EXACT, Evaluator

Totals = Mapping[ir.Share, Decimal | None]  # one row's total per share


def share_totals(m: ir.Methodology, rows: Sequence[Mapping[str, object]]) -> list[dict[ir.Share, Decimal | None]]:
    """Each row's total per share of ``m`` (in ``rows``' order): the rows are the whole dataset."""
    shares = ir.methodology_shares(m)
    out: list[dict[ir.Share, Decimal | None]] = [{} for _ in rows]
    for share in shares:
        quantities: list[Decimal | None] = []
        groups: dict[tuple, list[int]] = {}
        for i, row in enumerate(rows):
            ev = Evaluator(row)
            # Decimal equality and hash are by value (1.0 == 1), as SQL's; None groups with None
            groups.setdefault(tuple(ev(k) for k in share.keys), []).append(i)
            quantities.append(ev.number(share.quantity))
        for members in groups.values():
            present = [q for q in (quantities[i] for i in members) if q is not None]
            total = None
            if present and all(q >= 0 for q in present):
                total = Decimal(0)
                for q in present:
                    total = EXACT.add(total, q)
                total = total if total > 0 else None
            for i in members:
                out[i][share] = total
    return out


def share_text(share: ir.Share) -> str:
    """The share as an auditor reads it: share(tkm, vehicle_id), a computed argument as '…'."""
    def name(node: ir.Node) -> str:
        return node.name if isinstance(node, (ir.FieldRef, ir.ParamRef)) else "…"

    return f"share({', '.join(name(n) for n in (share.quantity, *share.keys))})"


def no_total_reason(share: ir.Share) -> str:
    """The ``ccf.unmatched.reason`` of a row whose share has no total (``reason_code`` no_total)."""
    return (f"{share_text(share)}: the total over the rows with this row's key is zero, empty or has a negative "
            "part, so no part of it can be allocated to this row")


__all__ = ["Totals", "no_total_reason", "share_text", "share_totals"]
