"""The inventory of finished runs under one consolidation approach: exact kg, nothing rounded.

``build_inventory`` checks the runs (they exist; no methodology counted twice over one
dataset), runs the set-based queries of ``consolidation.py`` and arranges their rows into
sections. Every amount is a ``Decimal`` straight from a NUMERIC sum; rounding for people
happens later, once, in ``presentation.py``. ``compare_base_year`` applies the base-year rule
(docs/reporting.md#base-year).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from fractions import Fraction
from types import MappingProxyType
from typing import Mapping, Sequence

import psycopg
from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.numeric import EXACT, exact_sum
from ccf.engine.inventory import consolidation as q
from ccf.engine.inventory.entities import entity_set_of_runs
from ccf.engine.inventory.pcaf import FinancedRow, financed_rows
from ccf.engine.inventory.quality import QualityRow, combined
from ccf.engine.sql import Executor, ident

ALL = "all"  # the one basis of runs without Scope 2
SCOPE2_ORDER = ("location-based", "market-based")
KYOTO_ORDER = ("CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3")
SCOPE3_CATEGORIES = MappingProxyType({
    1: "Purchased goods and services", 2: "Capital goods",
    3: "Fuel- and energy-related activities (not included in Scope 1 or Scope 2)",
    4: "Upstream transportation and distribution", 5: "Waste generated in operations", 6: "Business travel",
    7: "Employee commuting", 8: "Upstream leased assets", 9: "Downstream transportation and distribution",
    10: "Processing of sold products", 11: "Use of sold products", 12: "End-of-life treatment of sold products",
    13: "Downstream leased assets", 14: "Franchises", 15: "Investments",
})
SECTION_TITLES = MappingProxyType({
    "scope": "Emissions by scope",
    "category": "Emissions by scope and Scope 3 category",
    "gas": "Emissions by greenhouse gas",
    "entity": "Emissions by entity",
    "period_year": "Emissions by period (year of period_start)",
    "method": "Data quality: share of CO2e by calculation method",
    "match_level": "Data quality: share of CO2e by emission-factor match level",
    "outside_scopes": "Outside the scopes: biogenic CO2, and projected lifetime emissions of projects financed",
})


class ReportError(CcfError):
    """Runs that cannot be reported together, or a base year that cannot be compared."""


@dataclass(frozen=True)
class MethodologyRun:
    """One methodology of one run, with its reconciliation counts and unknown-entity rows."""

    run_id: int
    dataset: str
    methodology_id: str
    version: str
    content_hash: str
    scope: int
    category: int | None
    method: str
    factor_set: str
    gwp: str
    rows_in: int
    rows_result: int
    rows_excluded: int
    rows_unmatched: int
    rows_rejected: int
    # the factor edition (engine/factors/editions.py): the set the methodology named, the period
    # the edition was chosen for, and why an edition for another period was read (None: it was not)
    factor_set_named: str | None = None
    edition_period: str | None = None
    edition_fallback: str | None = None
    rows_unknown_entity: int = 0  # activity rows with results whose entity is not in the set
    unknown_entity_kg: Decimal = Decimal(0)  # their gross kg CO2e, not in any total

    @property
    def activity_rows(self) -> int:
        """Rows of the activity file(s): those that reached the activity table plus rejected ones."""
        return self.rows_in + self.rows_rejected


@dataclass(frozen=True)
class Row:
    """One line of a section: exact consolidated kg CO2e per basis, plus section-specific data."""

    key: str
    label: str
    co2e_kg: Mapping[str, Decimal]
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    rows: tuple[Row, ...]
    percent: bool = False  # also show each row's share of the total


@dataclass(frozen=True)
class UnknownEntity:
    run_id: int
    methodology_id: str
    entity: str
    activity_rows: int
    gross_kg: Decimal


@dataclass(frozen=True)
class UnallocatedInstrument:
    """Contractual instrument volume a run could not allocate to consumption, and why."""

    run_id: int
    methodology_id: str
    instrument_id: str
    entity: str
    unit: str
    quantity: Decimal
    unallocated: Decimal
    reason_code: str
    reason: str


@dataclass(frozen=True)
class Tier:
    """Scope 1, 2 or 3 category 3 results of one methodology with one rule (the tier of its
    hierarchy) and one source (a factor set edition, or a certificate part's instrument), consolidated."""

    scope: int
    methodology_id: str
    version: str
    rule_id: str
    factor_set: str
    activity_rows: int
    co2e_kg: Decimal


@dataclass(frozen=True)
class Inventory:
    """One GHG inventory: consolidated, exact, per Scope 2 basis."""

    approach: str
    entity_set: Mapping[str, object]
    runs: tuple[int, ...]
    methodologies: tuple[MethodologyRun, ...]
    bases: tuple[str, ...]
    totals: Mapping[str, Decimal]
    sections: tuple[Section, ...]
    outside_scopes: Section
    unknown_entities: tuple[UnknownEntity, ...]
    unallocated_instruments: tuple[UnallocatedInstrument, ...] = ()
    tiers: tuple[Tier, ...] = ()  # Scope 1, 2 and 3 category 3: tier and source of each methodology's results
    financed: tuple[FinancedRow, ...] = ()  # category 15 results with their amounts, for PCAF's metrics (pcaf.py)
    # per scope, Scope 3 category and in total: the CO2e by data-quality score (quality.py)
    data_quality: tuple[QualityRow, ...] = ()

    def section(self, id: str) -> Section:
        return next(s for s in self.sections if s.id == id)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(int(r.key) for r in self.section("period_year").rows)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(sorted({m.dataset for m in self.methodologies}))

    def versions(self) -> dict[str, frozenset[tuple[str, str]]]:
        """methodology id -> the (version, content hash) pairs the runs used."""
        out: dict[str, set[tuple[str, str]]] = {}
        for m in self.methodologies:
            out.setdefault(m.methodology_id, set()).add((m.version, m.content_hash))
        return {k: frozenset(v) for k, v in sorted(out.items())}


# --- building --------------------------------------------------------------------------


def build_inventory(conn: psycopg.Connection, runs: Sequence[int], approach: str, entity_set: str | None = None) -> Inventory:
    """The consolidated inventory of the given runs under one approach and entity set."""
    if approach not in q.APPROACHES:
        raise ReportError(f"unknown consolidation approach {approach!r}; use one of {', '.join(q.APPROACHES)}")
    ex = Executor(conn)
    with conn.transaction():
        names = tuple(q.REPORT_SETTINGS)
        (before,) = ex.rows(q.set_settings_query(names), q.REPORT_SETTINGS)
        eset, run_ids, params, unknown, methodologies = _inputs(conn, ex, runs, entity_set)
        bases = tuple(params["bases"])
        grouped = ex.rows(q.sections_query(approach), params)
        entities = ex.rows(q.entities_query(approach), params)
        unallocated = tuple(UnallocatedInstrument(*r) for r in ex.rows(q.unallocated_instruments_query(), params))
        tiers = tuple(Tier(*r) for r in ex.rows(q.tiers_query(approach), params))
        financed = tuple(financed_rows(ex, run_ids, eset["name"], approach))
        # not left for a caller's transaction (a base year reports twice)
        for drop in (q.drop_report_groups(), *q.drop_report_rows()):
            ex.execute(drop)
        ex.rows(q.set_settings_query(names), dict(zip(names, before[::2])))  # as they were for the caller's transaction
    totals, sections, outside, quality = _sections(grouped, bases)
    sections.insert(3, _entity_section(entities, bases, approach))
    _check_financed(financed, sections, bases)
    return Inventory(
        approach=approach, entity_set=MappingProxyType(dict(eset)), runs=run_ids, methodologies=methodologies,
        bases=bases, totals=MappingProxyType(totals), sections=tuple(sections), outside_scopes=outside,
        unknown_entities=unknown, unallocated_instruments=unallocated, tiers=tiers, financed=financed,
        data_quality=quality,
    )


def _check_financed(financed: Sequence[FinancedRow], sections: list[Section], bases: tuple[str, ...]) -> None:
    """PCAF's metrics join category 15 results to their activity rows: every result must have
    found its row, or the metrics would silently leave some out (an activity row deleted since
    the run). Category 15 is Scope 3, the same under every basis."""
    category = next(s for s in sections if s.id == "category")
    row = next((r for r in category.rows if r.key == "scope3.category15"), None)
    expected = row.co2e_kg.get(bases[0], Decimal(0)) if row else Decimal(0)
    got = exact_sum(r.consolidated_kg for r in financed)
    if got != expected:
        raise ReportError(f"the category 15 results of these runs no longer all find their activity rows "
                          f"({got} of {expected} kg CO2e): a dataset changed since its run; run it again")


def _inputs(conn: psycopg.Connection, ex: Executor, runs: Sequence[int], entity_set: str | None) -> tuple:
    """The entity set, the run ids, the queries' parameters (runs, entity set, Scope 2 bases),
    the unknown entities and the methodologies of the runs; and the runs' result rows summed
    into the report's groups (consolidation.report_groups_statement), which the queries after
    this one read, until ``drop_report_groups``, and the views of the rows they read one by one
    (``_rows_one_by_one``), until ``drop_report_rows``."""
    run_ids = _check_runs(ex, runs)
    params: dict = {"runs": list(run_ids)}
    ex.execute(q.report_groups_statement(), params)  # the result rows read once
    on_clickhouse = _groups_on_clickhouse(ex, run_ids)
    eset = entity_set_of_runs(conn, run_ids, entity_set)  # by the groups' entities, on either engine
    params["entity_set"] = eset["name"]
    _rows_one_by_one(ex, params, on_clickhouse)
    unknown = tuple(UnknownEntity(*r) for r in ex.rows(q.unknown_entities_query(), params))
    methodologies = _methodologies(ex, params, unknown)
    params["bases"] = list(_bases(methodologies))
    return eset, run_ids, params, unknown, methodologies


def _groups_on_clickhouse(ex: Executor, run_ids: tuple[int, ...]) -> list[int]:
    """The groups of the runs computed on ClickHouse, summed there (engine/clickhouse/reads.py);
    those runs."""
    from ccf.engine.clickhouse.reads import clickhouse_runs

    on_clickhouse = clickhouse_runs(ex, run_ids)
    if on_clickhouse:
        from ccf.engine.clickhouse.catalogue import opened
        from ccf.engine.clickhouse.reads import report_groups

        report_groups(ex, *opened(ex), on_clickhouse)
    return on_clickhouse


def _rows_one_by_one(ex: Executor, params: dict, on_clickhouse: list[int]) -> None:
    """The views through which the report reads result rows one by one (consolidation.REPORT_ROWS
    and REPORT_RESULTS): ccf.result_row's rows, and those of the methodologies of ClickHouse runs
    ``on_clickhouse`` that it reads so (``read_one_by_one_query``), copied from ClickHouse into a
    temporary table beside them (engine/clickhouse/reads.py), in the shape of ccf.result_row."""
    chosen = ex.rows(q.read_one_by_one_query(), {**params, "clickhouse": on_clickhouse}) if on_clickhouse else []
    if chosen:
        from ccf.engine.clickhouse.catalogue import opened
        from ccf.engine.clickhouse.reads import copy_result_rows

        copied = exp.Table(this=ident(q.CLICKHOUSE_ROWS))
        ex.execute(q.clickhouse_rows_statement())
        copy_result_rows(ex, *opened(ex), copied, [(run_id, methodology_id) for run_id, methodology_id in chosen])
        ex.analyze_sample(copied)  # its size for the plans of the queries reading it
    for statement in q.report_rows_statements(copied=bool(chosen)):
        ex.execute(statement)


def explain_report(conn: psycopg.Connection, runs: Sequence[int], approach: str, entity_set: str | None = None) -> list[tuple[str, list[str]]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the report's queries over the runs, under the report's
    settings, rolled back (``ccf bench --explain``)."""
    ex = Executor(conn)
    with conn.transaction(force_rollback=True):
        ex.rows(q.set_settings_query(tuple(q.REPORT_SETTINGS)), q.REPORT_SETTINGS)
        _, _, params, _, _ = _inputs(conn, ex, runs, entity_set)
        ex.execute(q.drop_report_groups())  # made again below, under EXPLAIN
        return [
            (name, ex.explain_analyze(tree, params)) for name, tree in (
                ("the result rows summed once (ccf_report_groups)", q.report_groups_statement()),
                ("coverage: result rows of entities outside the set", q.unknown_entities_query()),
                ("breakdowns (every grouping set)", q.sections_query(approach)),
                ("entities", q.entities_query(approach)),
                ("tiers", q.tiers_query(approach)),
            )
        ]


def _check_runs(ex: Executor, runs: Sequence[int]) -> tuple[int, ...]:
    if not runs:
        raise ReportError("no run to report: give one or more run ids (see 'ccf run')")
    repeated = sorted({r for r in runs if list(runs).count(r) > 1})
    if repeated:
        raise ReportError(f"run {', '.join(map(str, repeated))} given more than once")
    found = {r[0] for r in ex.rows(q.known_runs_query(), {"runs": list(runs)})}
    missing = [r for r in runs if r not in found]
    if missing:
        raise ReportError(f"no run {', '.join(map(str, missing))} in this database")
    return tuple(runs)


def _methodologies(ex: Executor, params: dict, unknown: tuple[UnknownEntity, ...]) -> tuple[MethodologyRun, ...]:
    rows = [MethodologyRun(*r) for r in ex.rows(q.runs_query(), params)]
    seen: dict[tuple[str, str], int] = {}
    for m in rows:
        key = (m.dataset, m.methodology_id)
        if key in seen:
            raise ReportError(
                f"runs {seen[key]} and {m.run_id} both computed {m.methodology_id} over dataset {m.dataset!r}: "
                "reporting both would count the same activity rows twice; give only one of them"
            )
        seen[key] = m.run_id
    out = []
    for m in rows:
        mine = [u for u in unknown if (u.run_id, u.methodology_id) == (m.run_id, m.methodology_id)]
        out.append(replace(m, rows_unknown_entity=sum(u.activity_rows for u in mine),
                           unknown_entity_kg=exact_sum(u.gross_kg for u in mine)))
    return tuple(out)


def _bases(methodologies: Sequence[MethodologyRun]) -> tuple[str, ...]:
    """The Scope 2 methods present, location-based first; ('all',) when there is no Scope 2."""
    methods = {m.method for m in methodologies if m.scope == 2}
    if not methods:
        return (ALL,)
    return tuple(sorted(methods, key=lambda s: (SCOPE2_ORDER.index(s) if s in SCOPE2_ORDER else len(SCOPE2_ORDER), s)))


def _key_label(section: str, row: dict) -> tuple[str, str, tuple]:
    """Stable key, label and sort key of one grouped row."""
    if section == "scope":
        return f"scope{row['scope']}", f"Scope {row['scope']}", (row["scope"],)
    if section == "category":
        s, c = row["scope"], row["category"]
        if c is None:
            return f"scope{s}", f"Scope {s}", (s, 0)
        name = SCOPE3_CATEGORIES.get(c, "")
        return f"scope{s}.category{c}", f"Scope {s}, category {c}" + (f": {name}" if name else ""), (s, c)
    if section == "gas":
        g = row["gas"]
        label = {"CO2e": "CO2e (not separated by gas)", "CO2_biogenic": "CO2 (biogenic)",
                 ir.TOTAL_MINUS_GASES: "published CO2e totals minus their gases",
                 q.PROJECTED_LIFETIME_LINE: "projected lifetime emissions of projects financed in the period "
                                            "(Scope 3 category 15, reported apart)"}.get(g, g)
        # the gases, others, a total's difference to its gases, then CO2e not separated by gas
        rank = {ir.TOTAL_MINUS_GASES: 2, "CO2e": 3}.get(g, 1)
        order = KYOTO_ORDER.index(g) if g in KYOTO_ORDER else len(KYOTO_ORDER) + rank
        return g, label, (order, g)
    value = row[section]
    return str(value), str(value), (value,)


def _sections(grouped: list[tuple], bases: tuple[str, ...]) -> tuple[dict, list[Section], Section, tuple[QualityRow, ...]]:
    by_id = {q.grouping_id(names): name for name, names in q.GROUPINGS.items()}
    names = ("basis", "outside_scopes", "grouping", "scope", "category", "gas", "period_year", "method", "match_level",
             "data_quality", "co2e_kg", "gas_kg", "gas_kg_complete")
    totals = {b: Decimal(0) for b in bases}
    collected: dict[tuple[bool, str], dict[str, dict]] = {}
    mixes: dict[tuple[int, int | None], dict[str, dict[int | None, Decimal]]] = {}  # (scope, category) -> basis -> mix
    for values in grouped:
        row = dict(zip(names, values, strict=True))
        section = by_id[row["grouping"]]
        if section == "total":
            if not row["outside_scopes"]:
                totals[row["basis"]] = row["co2e_kg"]
            continue
        if section == "data_quality":
            if not row["outside_scopes"]:
                mix = mixes.setdefault((row["scope"], row["category"]), {}).setdefault(row["basis"], {})
                mix[row["data_quality"]] = row["co2e_kg"]
            continue
        if row["outside_scopes"] and section != "gas":
            continue
        key, label, order = _key_label(section, row)
        slot = collected.setdefault((row["outside_scopes"], section), {}).setdefault(
            key, {"label": label, "order": order, "co2e_kg": {}, "gas_kg": {}})
        slot["co2e_kg"][row["basis"]] = row["co2e_kg"]
        slot["gas_kg"][row["basis"]] = row["gas_kg"] if row["gas_kg_complete"] else None

    def section_of(outside: bool, sid: str, title_id: str | None = None) -> Section:
        items = sorted(collected.get((outside, sid), {}).items(), key=lambda kv: kv[1]["order"])
        rows = []
        for key, slot in items:
            extra: dict[str, object] = {}
            if sid == "gas":
                extra["gas_kg"] = MappingProxyType({b: slot["gas_kg"].get(b) for b in bases})
            rows.append(Row(key, slot["label"], MappingProxyType({b: slot["co2e_kg"].get(b, Decimal(0)) for b in bases}),
                            MappingProxyType(extra)))
        sid_out = title_id or sid
        return Section(sid_out, SECTION_TITLES[sid_out], tuple(rows), percent=sid in ("method", "match_level"))

    sections = [section_of(False, s) for s in ("scope", "category", "gas", "period_year", "method", "match_level")]
    return totals, sections, section_of(True, "gas", "outside_scopes"), _quality_rows(mixes, bases)


def _quality_rows(mixes: dict[tuple[int, int | None], dict[str, dict[int | None, Decimal]]],
                  bases: tuple[str, ...]) -> tuple[QualityRow, ...]:
    """The data-quality mix of each scope, then of each Scope 3 category under its scope, then of
    the whole inventory (each the exact sum of the parts below it)."""
    rows: list[QualityRow] = []

    def row(key: str, label: str, parts: list[dict[str, dict[int | None, Decimal]]]) -> QualityRow:
        return QualityRow(key, label, MappingProxyType({
            b: MappingProxyType(combined([p[b] for p in parts if b in p])) for b in bases}))

    for scope in sorted({s for s, _ in mixes}):
        categories = sorted((c for s, c in mixes if s == scope and c is not None))
        rows.append(row(f"scope{scope}", f"Scope {scope}", [m for (s, _), m in mixes.items() if s == scope]))
        for c in categories:
            key, label, _ = _key_label("category", {"scope": scope, "category": c})
            rows.append(row(key, label, [mixes[(scope, c)]]))
    rows.append(row("total", "Total", list(mixes.values())))
    return tuple(rows)


def _entity_section(rows: list[tuple], bases: tuple[str, ...], approach: str) -> Section:
    names = ("basis", *q.OWNERSHIP_COLUMNS, "co2e_kg", "gross_kg", "activity_rows")
    entities: dict[str, dict] = {}
    for values in rows:
        r = dict(zip(names, values, strict=True))
        e = entities.setdefault(r["entity"], {"r": r, "co2e_kg": {}, "gross_kg": {}})
        e["co2e_kg"][r["basis"]] = r["co2e_kg"]
        e["gross_kg"][r["basis"]] = r["gross_kg"]
    out = []
    for code, e in entities.items():  # already in tree order (ORDER BY path)
        r = e["r"]
        out.append(Row(code, r["name"], MappingProxyType(e["co2e_kg"]), MappingProxyType({
            "parent": r["parent"], "country": r["country"], "depth": r["depth"],
            "share": r[q.SHARE_COLUMN[approach]],
            "shares": MappingProxyType({a: r[q.SHARE_COLUMN[a]] for a in q.APPROACHES}),
            "gross_kg": MappingProxyType(e["gross_kg"]),
            "activity_rows": r["activity_rows"],
        })))
    return Section("entity", SECTION_TITLES["entity"], tuple(out))


# --- base year -------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseYear:
    """The base-year comparison (GHG Protocol Corporate Standard, chapter 5)."""

    original: Inventory
    recomputed: Inventory | None
    version_changes: tuple[tuple[str, str, str], ...]  # (methodology, base-year versions, reporting versions)
    only_in_reporting: tuple[str, ...]
    only_in_base_year: tuple[str, ...]
    significance_percent: Decimal
    recalculation_kg: Mapping[str, Decimal | None]  # recomputed - original, per basis
    recalculation_percent: Mapping[str, Fraction | None]
    significant: bool

    @property
    def compared(self) -> Inventory:
        """The base year the reporting year is compared with."""
        return self.recomputed if (self.recomputed is not None and self.significant) else self.original


def _versions_text(pairs: frozenset[tuple[str, str]]) -> str:
    return ", ".join(sorted(v for v, _ in pairs))


def compare_base_year(
    conn: psycopg.Connection, reporting: Inventory, base_runs: Sequence[int],
    recomputed_runs: Sequence[int] = (), significance_percent: Decimal = Decimal(5),
) -> BaseYear:
    """Compare the reporting year with its base year under the same approach and entity set.

    Same methodology versions: compared directly. Different versions: the base year must also
    be given recomputed with the reporting year's versions (a run of the base-year datasets
    with those versions); the recalculation is significant when it changes the base-year total
    by at least ``significance_percent`` percent under any basis, and then the reporting year is
    compared with the recomputed base year, otherwise with the original.
    """
    if significance_percent < 0:
        raise ReportError("the significance threshold is a percentage, 0 or more")
    overlap = sorted(set(base_runs) & set(reporting.runs)) or sorted(set(recomputed_runs) & set(reporting.runs))
    if overlap:
        raise ReportError(f"run {', '.join(map(str, overlap))} is both in the reporting year and in the base year")
    name = str(reporting.entity_set["name"])
    original = build_inventory(conn, base_runs, reporting.approach, name)
    rep, base = reporting.versions(), original.versions()
    common = sorted(set(rep) & set(base))
    changes = tuple((m, _versions_text(base[m]), _versions_text(rep[m])) for m in common if rep[m] != base[m])
    recomputed = None
    if changes and not recomputed_runs:
        listing = "; ".join(f"{m} {b} -> {r}" for m, b, r in changes)
        refs = " ".join(f"{m}@{sorted(rep[m])[0][0]}" for m in common)
        if len(original.datasets) == 1:
            how = f"'ccf run --dataset {original.datasets[0]} {refs}'"
        else:
            how = f"'ccf run --dataset DATASET {refs}' for each of {', '.join(original.datasets)}"
        raise ReportError(
            f"the base year used other methodology versions ({listing}); recompute it with the reporting year's "
            f"versions ({how}) and pass that run with --recomputed-base-year-run, so that the recalculation is "
            "shown against the significance threshold"
        )
    if recomputed_runs and not changes:
        raise ReportError("the base year already used the reporting year's methodology versions: "
                          "--recomputed-base-year-run is only needed when they differ")
    recalc_kg: dict[str, Decimal | None] = {}
    recalc_pct: dict[str, Fraction | None] = {}
    significant = False
    if changes:
        recomputed = build_inventory(conn, recomputed_runs, reporting.approach, name)
        if recomputed.datasets != original.datasets:
            raise ReportError(f"the recomputed base year covers dataset(s) {', '.join(recomputed.datasets)}, "
                              f"the base year {', '.join(original.datasets)}: recompute the same data")
        again = recomputed.versions()
        wrong = [m for m in common if again.get(m) != rep[m]]
        if wrong:
            raise ReportError("the recomputed base year does not use the reporting year's versions of "
                              + ", ".join(f"{m} ({_versions_text(again[m]) if m in again else 'missing'}, "
                                          f"expected {_versions_text(rep[m])})" for m in wrong))
        threshold = Fraction(significance_percent)
        for b in original.bases:
            if b not in recomputed.totals:
                recalc_kg[b], recalc_pct[b] = None, None
                continue
            with localcontext(EXACT):
                diff = recomputed.totals[b] - original.totals[b]
            recalc_kg[b] = diff
            if original.totals[b] == 0:
                recalc_pct[b] = None
                significant = significant or diff != 0
                continue
            pct = Fraction(diff) / Fraction(original.totals[b]) * 100
            recalc_pct[b] = pct
            significant = significant or abs(pct) >= threshold
    return BaseYear(
        original=original, recomputed=recomputed, version_changes=changes,
        only_in_reporting=tuple(sorted(set(rep) - set(base))), only_in_base_year=tuple(sorted(set(base) - set(rep))),
        significance_percent=significance_percent, recalculation_kg=MappingProxyType(recalc_kg),
        recalculation_percent=MappingProxyType(recalc_pct), significant=significant,
    )
