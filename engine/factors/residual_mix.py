"""The organisation's residual-mix factor set: what a market-based Scope 2 methodology may read
next to its published grid factors.

No residual-mix data is shipped (docs/data.md#residual-mix). An organisation that has residual
mixes for its market boundaries (AIB European Residual Mixes, Green-e Residual Mix Emission
Rates, a national registry) writes them as a custom factor CSV (engine/factors/custom.py) with
the columns below and installs it under the fixed set id ``org-residual-mix``; a methodology
reads it with ``factor_set: org-residual-mix`` on one lookup. The checker knows the set by its
declaration (methodologies/factor_sets/org-residual-mix.yaml: its gases and attributes),
installed or not; a run with the set absent finds no residual mix and the rows fall through to
the next tier.

Columns (header row first, one factor per row)::

    factor_id,name,unit,gas,value,region,year,energy,source

- ``unit``: an energy unit (``kWh``, ``MWh``); ``gas``: ``CO2e`` (``CO2``, ``CH4``, ``N2O`` may
  be given too, but the market-based methodology reads ``CO2e``);
- ``region``: the market boundary (ISO country code such as ``DE``, or a grid region), never
  blank; ``year``: the year the residual mix is for, never blank;
- ``energy``: ``electricity``; ``source``: where the value comes from (publisher, edition, table).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from ccf.dsl.units import parse_unit
from ccf.engine.factors.catalog import shipped_declarations
from ccf.engine.factors.custom import load_custom
from ccf.engine.factors.model import FactorFileError, FactorRecord, FactorSetEdition

RESIDUAL_MIX_SET = "org-residual-mix"
COLUMNS = ("factor_id", "name", "unit", "gas", "value", "region", "year", "energy", "source")
ENERGY = ("electricity",)


def load_residual_mix(
    path: str | Path,
    edition: str,
    *,
    publisher: str,
    title: str | None = None,
    licence: str = "proprietary",
    published: datetime.date | None = None,
) -> tuple[FactorSetEdition, list[FactorRecord]]:
    """Read and check a residual-mix CSV against the template; installed as ``org-residual-mix``."""
    path = Path(path)
    edition_meta, records = load_custom(
        path, RESIDUAL_MIX_SET, edition, publisher=publisher, title=title or shipped_declarations()[RESIDUAL_MIX_SET].title,
        licence=licence, published=published,
    )
    missing = [c for c in ("energy", "source") if c not in edition_meta.attributes]
    if missing:  # region and year: every row below must have them
        raise FactorFileError(f"a residual-mix file needs the column(s): {', '.join(missing)} "
                              f"(template: {','.join(COLUMNS)})", path, 1)
    for r in records:
        line = r.source_line
        if r.region is None:
            raise FactorFileError("'region' is empty: give the market boundary (e.g. DE) of every residual mix", path, line)
        if r.year is None:
            raise FactorFileError("'year' is empty: give the year every residual mix is for", path, line)
        attrs = dict(r.attributes)
        if attrs.get("energy") not in ENERGY:
            raise FactorFileError(f"'energy' must be one of {', '.join(ENERGY)}, not {attrs.get('energy')!r}", path, line)
        if not attrs.get("source"):
            raise FactorFileError("'source' is empty: say where the value comes from (publisher, edition)", path, line)
        if parse_unit(r.unit).dimension != parse_unit("kWh").dimension:
            raise FactorFileError(f"unit '{r.unit}' is not an energy unit (e.g. kWh, MWh)", path, line)
    return edition_meta, records


__all__ = ["COLUMNS", "RESIDUAL_MIX_SET", "load_residual_mix"]
