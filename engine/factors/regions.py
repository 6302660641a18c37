"""The region hierarchy factor lookups fall back along (subregion -> country -> ... -> WORLD).

Read from ``factors/regions.csv`` (``code,parent,name,kind``; sources in ``factors/README.md``).
Exactly one region, ``WORLD``, has no parent; every other region's parent is a region of the file,
so every region reaches ``WORLD``. A region code that is not in the file (any other ISO 3166-1
country, for instance) has only itself and ``WORLD`` as ancestors: see :func:`ancestors`.

Also the ISO 3166-1 country codes (``factors/country_codes.csv``, ``alpha2,alpha3,name``), so
that a publisher's three-letter country codes become the two-letter codes regions use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ccf.dsl import resources
from ccf.engine.factors.model import FactorFileError, csv_rows, read_file, read_text

WORLD = "WORLD"
COLUMNS = ("code", "parent", "name", "kind")
KINDS = ("world", "union", "country", "egrid_subregion")
_CODE = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class Region:
    code: str
    parent: str | None  # None only for WORLD
    name: str
    kind: str


def load_regions(path: str | Path) -> list[Region]:
    """The regions of a hierarchy file, in file order, checked to form one tree rooted at WORLD."""
    path = Path(path)
    rows = list(csv_rows(read_text(read_file(path), path)))
    if not rows:
        raise FactorFileError("empty file; expected a header row " + ",".join(COLUMNS), path)
    (hline, header), body = rows[0], rows[1:]
    if tuple(c.strip() for c in header) != COLUMNS:
        raise FactorFileError(f"header is {','.join(header)!r}; expected {','.join(COLUMNS)!r}", path, hline)
    regions: list[Region] = []
    lines: dict[str, int] = {}
    for line, cells in body:
        if len(cells) != len(COLUMNS):
            raise FactorFileError(f"{len(cells)} cells; expected {len(COLUMNS)}", path, line)
        code, parent, name, kind = (c.strip() for c in cells)
        if not _CODE.fullmatch(code):
            raise FactorFileError(f"region code '{code}' is not upper-case letters, digits and '_'", path, line)
        if code in lines:
            raise FactorFileError(f"duplicate region '{code}' (also line {lines[code]})", path, line)
        if not name:
            raise FactorFileError(f"region '{code}' has no name", path, line)
        if kind not in KINDS:
            raise FactorFileError(f"region '{code}': kind '{kind}' is not one of {', '.join(KINDS)}", path, line)
        if (code == WORLD) != (not parent):
            raise FactorFileError(f"only {WORLD} has no parent, and {WORLD} has none ('{code}', parent '{parent}')",
                                  path, line)
        lines[code] = line
        regions.append(Region(code, parent or None, name, kind))
    if WORLD not in lines:
        raise FactorFileError(f"no {WORLD} region", path)
    for r in regions:
        if r.parent is not None and r.parent not in lines:
            raise FactorFileError(f"region '{r.code}': unknown parent '{r.parent}'", path, lines[r.code])
    parents = {r.code: r.parent for r in regions}
    for r in regions:
        seen = [r.code]
        code = r.parent
        while code is not None:
            if code in seen:
                cycle = " -> ".join([*seen[seen.index(code):], code])
                raise FactorFileError(f"cycle in region parents: {cycle}", path, lines[r.code])
            seen.append(code)
            code = parents[code]
    return regions


def closure(regions: list[Region]) -> list[tuple[str, str, int]]:
    """(region, ancestor, depth) for every region and each of its ancestors, itself at depth 0.

    Regions must form a tree (as :func:`load_regions` checks); ordered by file order, then depth.
    """
    parents = {r.code: r.parent for r in regions}
    out: list[tuple[str, str, int]] = []
    for r in regions:
        code: str | None = r.code
        depth = 0
        while code is not None:
            out.append((r.code, code, depth))
            code = parents[code]
            depth += 1
            if depth > len(parents):
                raise ValueError(f"cycle in region parents above '{r.code}'")
    return out


def ancestors(regions: list[Region], code: str) -> list[tuple[str, int]]:
    """(ancestor, depth) of one region code, itself first; a code not in the table has only
    itself and WORLD (the rule the database's region lookup implements too)."""
    chain = [(a, d) for r, a, d in closure(regions) if r == code]
    return chain or ([(code, 0)] if code == WORLD else [(code, 0), (WORLD, 1)])


def regions_file() -> Path:
    return resources.factors() / "regions.csv"


@cache
def _shipped() -> tuple[Region, ...]:
    return tuple(load_regions(regions_file()))


def shipped_regions() -> list[Region]:
    """The shipped region hierarchy (``factors/regions.csv``), parsed once."""
    return list(_shipped())


COUNTRY_COLUMNS = ("alpha2", "alpha3", "name")
_ALPHA = {2: re.compile(r"[A-Z]{2}"), 3: re.compile(r"[A-Z]{3}")}


def load_country_codes(path: str | Path) -> dict[str, str]:
    """alpha-3 -> alpha-2 of every country of a country-code file, each code once."""
    path = Path(path)
    rows = list(csv_rows(read_text(read_file(path), path)))
    if not rows or tuple(c.strip() for c in rows[0][1]) != COUNTRY_COLUMNS:
        raise FactorFileError(f"expected the header {','.join(COUNTRY_COLUMNS)}", path, rows[0][0] if rows else None)
    by_alpha3: dict[str, str] = {}
    seen2: set[str] = set()
    for line, cells in rows[1:]:
        if len(cells) != len(COUNTRY_COLUMNS):
            raise FactorFileError(f"{len(cells)} cells; expected {len(COUNTRY_COLUMNS)}", path, line)
        alpha2, alpha3, name = (c.strip() for c in cells)
        if not (_ALPHA[2].fullmatch(alpha2) and _ALPHA[3].fullmatch(alpha3) and name):
            raise FactorFileError(f"'{alpha2},{alpha3},{name}' is not a two-letter code, a three-letter code and a name",
                                  path, line)
        if alpha2 in seen2 or alpha3 in by_alpha3:
            raise FactorFileError(f"country {alpha2}/{alpha3} listed twice", path, line)
        seen2.add(alpha2)
        by_alpha3[alpha3] = alpha2
    return by_alpha3


@cache
def _country_codes() -> tuple[tuple[str, str], ...]:
    return tuple(load_country_codes(resources.factors() / "country_codes.csv").items())


def shipped_country_codes() -> dict[str, str]:
    """The shipped ISO 3166-1 codes (``factors/country_codes.csv``): alpha-3 -> alpha-2."""
    return dict(_country_codes())
