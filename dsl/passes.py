"""IR -> IR passes before lowering: each returns a methodology that means the same as the one it
is given, without what its SQL would not need."""

from __future__ import annotations

from dataclasses import replace

from ccf.dsl import ir


def without_unused_lookups(m: ir.Methodology) -> ir.Methodology:
    """A factor lookup no expression refers to has no gas to resolve: it is not compiled (its
    candidates would be resolved for nothing, and its gas filter would be empty)."""
    return replace(m, lookups=tuple(lk for lk in m.lookups if lk.gases))
