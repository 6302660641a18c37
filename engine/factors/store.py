"""Factor sets and GWP tables in the database: installed once per edition, never modified
afterwards, and read back here.

Installing an edition that is already there with the same source checksum is a no-op; a
different file claiming the same edition id is an error. Rows go in with COPY.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError
from ccf.dsl.units import dimension_key, fraction_to_decimal, parse_unit
from ccf.engine import locks
from ccf.engine.factors.model import FactorRecord, FactorSetEdition, GwpRecord, require_in_range
from ccf.engine.factors.regions import Region, closure
from ccf.engine.sql import Executor, column, func, ident, is_param, param, table


class FactorSetConflict(CcfError):
    """A different source file claims an edition that is already installed."""


@dataclass(frozen=True)
class InstalledSet:
    factor_set_id: int
    set_id: str
    sha256: str
    gas_units: tuple[tuple[str, str], ...]
    attributes: tuple[str, ...]
    org_id: int | None = None  # None: shared by every organisation (migration 0029)


_FACTOR_COLS = (
    "factor_set_id", "factor_id", "name", "unit", "gas", "value", "attributes", "region", "factor_year", "source_line",
)


def _visible(org_id: exp.Expression) -> exp.Expression:
    """A factor set shared by every organisation (org_id NULL) or of the organisation ``org_id``."""
    return exp.or_(column("org_id").is_(exp.null()), exp.EQ(this=column("org_id"), expression=org_id))


def _session_org() -> exp.Expression:
    """The organisation of the session (migration 0022's ccf.owning_org(): the one a request's or
    a worker's connection names, else the command line's 'default')."""
    return func("owning_org", schema="ccf")


def edition_key(name: exp.Expression, org_id: exp.Expression | None = None) -> exp.Subquery:
    """The ``factor_set_id`` of the installed edition a methodology names ``name`` (a scalar
    subquery; NULL if none): among the shared editions and the own ones of the session's
    organisation (or ``org_id``), its own first (migration 0029)."""
    org = _session_org() if org_id is None else exp.Coalesce(this=org_id, expressions=[_session_org()])
    return exp.Subquery(this=exp.select(column("factor_set_id")).from_(table("factor_set"))
                        .where(exp.and_(exp.EQ(this=column("name"), expression=name), _visible(org)))
                        .order_by(exp.Ordered(this=column("org_id"), nulls_first=False)).limit(1))


def installed(ex: Executor, set_id: str, org_id: int | None = None) -> InstalledSet | None:
    """The installed edition a methodology names ``set_id``: among the shared editions and the own
    ones of the session's organisation (or of ``org_id``), its own first (migration 0029: an
    organisation's own set is stored under a key of its own, and known by its name)."""
    row = ex.one(
        exp.select(column("factor_set_id"), column("set_id"), column("sha256"), column("gas_units"), column("org_id"))
        .from_(table("factor_set"))
        .where(exp.EQ(this=column("factor_set_id"), expression=edition_key(param("set_id"), exp.cast(param("org_id"), "BIGINT")))),
        {"set_id": set_id, "org_id": org_id},
    )
    if row is None:
        return None
    gas_units = tuple((g, u) for g, u in row[3]["gases"])
    return InstalledSet(row[0], row[1], row[2], gas_units, tuple(row[3]["attributes"]), row[4])


def visible_sets(ex: Executor) -> dict[str, str]:
    """The installed editions the session's organisation may name: name to key, its own over a
    shared one of the same name."""
    rows = ex.rows(exp.select(column("name"), column("set_id")).from_(table("factor_set")).where(_visible(_session_org()))
                   .order_by(exp.Ordered(this=column("org_id"), desc=True, nulls_first=False)))
    out: dict[str, str] = {}
    for name, key in rows:
        out.setdefault(name, key)
    return out


def install_edition(conn: psycopg.Connection, edition: FactorSetEdition, records: list[FactorRecord],
                    *, org_id: int | None = None, key: str | None = None) -> bool:
    """Install one edition; False if it was already installed from the same bytes. With
    ``org_id``: as that organisation's own, named ``edition.id`` and stored under ``key`` (a key
    no other set holds: engine/service/names.py), refused where a shared set has the name."""
    ex = Executor(conn)
    with conn.transaction():
        ex.execute(locks.xact_lock(locks.REFERENCE_DATA))
        have = installed(ex, edition.id, org_id)
        if have is not None:
            if org_id is not None and have.org_id is None:
                raise FactorSetConflict(f"{edition.id} is the id of a shared factor set (see 'ccf factors list'); "
                                        "give your own set and its editions ids of their own")
            if have.sha256 != edition.sha256:
                raise FactorSetConflict(
                    f"factor set {edition.id} is already installed from a file with sha256 {have.sha256[:12]}…; "
                    f"{edition.source_file} has {edition.sha256[:12]}…. A changed file is a new edition: give it a new id."
                )
            return False
        require_in_range(((f"factor {r.factor_id} ({r.gas})", r.value) for r in records), f"factor set {edition.id}")
        meta = {"gases": [list(p) for p in edition.gas_units], "attributes": list(edition.attributes)}
        values = {
            "set_id": key or edition.id, "publisher": edition.publisher, "title": edition.title, "edition": edition.edition,
            "published": edition.published, "licence": edition.licence, "source_file": edition.source_file,
            "sha256": edition.sha256, "region": edition.region, "factor_year": edition.year,
            "gas_units": json.dumps(meta), "factor_count": len(records), "org_id": org_id, "name": edition.id,
        }
        insert = exp.insert(
            exp.select(*[param(c) for c in values]),
            exp.Schema(this=table("factor_set"), expressions=[ident(c) for c in values]),
            returning="factor_set_id",
        )
        set_pk = ex.one(insert, values)[0]  # type: ignore[index]
        rows = (
            (
                set_pk, r.factor_id, r.name, r.unit, r.gas, r.value, json.dumps(dict(r.attributes), ensure_ascii=False),
                r.region if r.region is not None else edition.region,
                r.year if r.year is not None else edition.year, r.source_line,
            )
            for r in records
        )
        if org_id is None:
            ex.copy_rows(table("factor"), _FACTOR_COLS, rows)
            install_units(ex, {r.unit for r in records})
        else:
            _copy_through_staging(ex, rows)  # the units: the caller's, as the owner (install_units)
    return True


def _copy_through_staging(ex: Executor, rows) -> None:
    """An organisation's factors, written as ccf_api: PostgreSQL refuses COPY into a table under
    row-level security, so they are copied into a temporary table and inserted from there (the
    policies checking each row). An organisation's set is small; the shipped ones go straight in."""
    staging = exp.Table(this=ident("factor_upload"))
    ex.execute(exp.Create(this=staging.copy(), kind="TABLE", properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
                          expression=exp.select(*[column(c) for c in _FACTOR_COLS]).from_(table("factor")).limit(0)))
    ex.copy_rows(staging.copy(), _FACTOR_COLS, rows)
    ex.execute(exp.insert(exp.select(*[column(c) for c in _FACTOR_COLS]).from_(staging.copy()),
                          exp.Schema(this=table("factor"), expressions=[ident(c) for c in _FACTOR_COLS])))
    ex.execute(exp.Drop(tables=[staging.copy()], kind="TABLE"))


def install_units(ex: Executor, names: set[str]) -> None:
    """Record the exact scale and dimension of factor units, so lookups can convert between
    units of one dimension (a factor per GJ used per kWh)."""
    have = {r[0] for r in ex.rows(exp.select(column("name")).from_(table("unit")))}
    new = []
    for name in sorted(names - have):
        unit = parse_unit(name)
        new.append((name, fraction_to_decimal(unit.scale), dimension_key(unit.dimension)))
    if new:
        ex.copy_rows(table("unit"), ("name", "scale", "dimension"), iter(new))


def install_gwp(conn: psycopg.Connection, records: list[GwpRecord]) -> int:
    """Insert GWP values that are not there yet (the published table never changes)."""
    require_in_range(((f"{r.gas} in {r.gwp_set}", r.value) for r in records), "GWP table")
    ex = Executor(conn)
    with conn.transaction():
        have = {(s, g) for s, g in ex.rows(exp.select(column("gwp_set"), column("gas")).from_(table("gwp")))}
        new = [(r.gwp_set, r.gas, r.value) for r in records if (r.gwp_set, r.gas) not in have]
        if new:
            ex.copy_rows(table("gwp"), ("gwp_set", "gas", "value"), iter(new))
    return len(new)


def install_shipped(conn: psycopg.Connection, only: set[str] | None = None) -> list[str]:
    """Install every shipped edition (or those named) and the GWP table; returns those added."""
    from ccf.engine.factors.catalog import shipped_editions, shipped_gwp
    from ccf.engine.factors.regions import shipped_regions
    from ccf.engine.factors.rates import install_shipped_rates

    added = []
    for set_id, load in shipped_editions().items():
        if only is not None and set_id not in only:
            continue
        ex = Executor(conn)
        if installed(ex, set_id) is not None:
            conn.commit()
            continue
        edition, records = load()
        if install_edition(conn, edition, records):
            added.append(set_id)
    install_gwp(conn, shipped_gwp())
    install_regions(conn, shipped_regions())
    install_shipped_rates(conn)  # exchange rates and price indices for spend-based methods
    with conn.transaction():  # editions installed before the units table existed
        ex = Executor(conn)
        install_units(ex, {r[0] for r in ex.rows(exp.select(column("unit")).distinct().from_(table("factor")))})
    return added


def install_regions(conn: psycopg.Connection, regions: list[Region]) -> int:
    """Add regions (and their ancestor chains) not yet known; a known region never changes."""
    ex = Executor(conn)
    with conn.transaction():
        have = {r[0]: r[1] for r in ex.rows(exp.select(column("code"), column("parent")).from_(table("region")))}
        for r in regions:
            if r.code in have and have[r.code] != r.parent:
                raise CcfError(f"region {r.code} is already installed with parent {have[r.code]}, not {r.parent}")
        new = [r for r in regions if r.code not in have]
        if not new:
            return 0
        ex.copy_rows(table("region"), ("code", "parent", "name", "kind"), iter((r.code, r.parent, r.name, r.kind) for r in new))
        fresh = {r.code for r in new}
        ex.copy_rows(
            table("region_ancestor"), ("region", "ancestor", "depth"),
            iter(row for row in closure(regions) if row[0] in fresh),
        )
    return len(new)


# What a stored factor row holds, in the order stored_factor reads it.
FACTOR_ROW_COLUMNS = ("factor_id", "name", "unit", "gas", "value", "attributes", "region", "factor_year", "source_line")


def stored_factor(row: tuple) -> FactorRecord:
    """A ``ccf.factor`` row selected as ``FACTOR_ROW_COLUMNS``, as the record it was installed from,
    with the edition's default region and year filled in (as install_edition stores them)."""
    factor_id, name, unit, gas, value, attributes, region, year, source_line = row
    return FactorRecord(factor_id, name, unit, gas, value, tuple(sorted(attributes.items())), region, year, source_line)


def stored_factors(ex: Executor, factor_set_id: int) -> list[FactorRecord]:
    """Every factor of one installed edition (``factor_set.factor_set_id``)."""
    rows = ex.rows(
        exp.select(*[column(c) for c in FACTOR_ROW_COLUMNS]).from_(table("factor")).where(is_param("factor_set_id")),
        {"factor_set_id": factor_set_id},
    )
    return [stored_factor(r) for r in rows]


def gwp_values(ex: Executor, gwp_set: str) -> dict[str, Decimal]:
    """The GWP of each gas in one installed GWP set (e.g. 'AR5'); empty if the set is not installed."""
    rows = ex.rows(exp.select(column("gas"), column("value")).from_(table("gwp")).where(is_param("gwp_set")), {"gwp_set": gwp_set})
    return {gas: value for gas, value in rows}
