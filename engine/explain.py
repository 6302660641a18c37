"""Explain one activity row of a run: the derivation of its result, re-computed and checked.

The explanation is computed by the reference evaluator (dsl/evaluate.py) from the same inputs
the run used — the activity row as loaded, the methodology version, the installed factor set,
the GWP set and the region hierarchy — and is checked against the rows the run stored: the
explanation's arithmetic must reproduce them exactly. Activity rows are read from the loads the
run recorded only: a row loaded after the run is not part of it (and would change an allocation).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import psycopg
from sqlglot import exp

from ccf.dsl import evaluate as ev
from ccf.dsl import ir
from ccf.dsl.currency import RateTableValues, convert
from ccf.dsl.diagnostics import CcfError
from ccf.dsl.diff import source_text
from ccf.dsl.library import Library
from ccf.dsl.model import DATA_QUALITY
from ccf.dsl.numeric import plain
from ccf.dsl.shares import share_text, share_totals
from ccf.dsl.units import fraction_to_decimal, is_terminating, parse_unit, registry
from ccf.engine.compile import activity_table_name, of_run_loads
from ccf.engine.compile.allocation import reads_instrument
from ccf.engine.factors.editions import RecordedEditions, as_recorded
from ccf.engine.factors.rates import rate_tables
from ccf.engine.factors.store import gwp_values, installed, stored_factors
from ccf.engine.lifecycle.rows import record_text, rejections_of
from ccf.engine.options import CLICKHOUSE
from ccf.engine.sql import Executor, column, is_param, table, text


@dataclass
class MethodologyExplanation:
    ref: str
    lines: list[str] = field(default_factory=list)
    outcome: str = ""
    reproduces_stored: bool = False
    stored: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Explanation:
    run_id: int
    activity_id: str
    dataset: str
    parts: list[MethodologyExplanation] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # the row's rejections by the run's loads

    def render(self) -> str:
        out = [f"run {self.run_id} · dataset {self.dataset} · activity {self.activity_id}"]
        for r in self.rejected:
            out.append("")
            out.append(f"rejected when loaded (load {r['load_id']}, {r['source_file']} line {r['line_no']}): {r['reason']}")
            out.append(f"  record: {record_text(r['record'])}")
            out.append("  a rejected row is in no methodology's result: 'ccf rejects LOAD' lists the load's rejected rows")
        for p in self.parts:
            out.append("")
            out.append(f"{p.ref}: {p.outcome}")
            out += [f"  {line}" for line in p.lines]
            out.append(
                "  check: the derivation reproduces the stored rows exactly"
                if p.reproduces_stored else "  check: THE DERIVATION DOES NOT MATCH THE STORED ROWS"
            )
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "activity_id": self.activity_id, "dataset": self.dataset,
            "methodologies": [
                {"methodology": p.ref, "outcome": p.outcome, "derivation": p.lines, "reproduces_stored": p.reproduces_stored}
                for p in self.parts
            ],
            **({"rejected": self.rejected} if self.rejected else {}),
        }


def explain(conn: psycopg.Connection, run_id: int, activity_id: str, lib: Library) -> Explanation:
    ex = Executor(conn)
    head = ex.one(exp.select(column("dataset"), column("summary")).from_(table("run")).where(is_param("run_id")), {"run_id": run_id})
    if head is None:
        raise CcfError(f"there is no run {run_id}")
    dataset, summary = head
    read = {"dataset": dataset, "loads": (summary or {}).get("loads", [])}  # the rows the run read (of_run_loads)
    out = Explanation(run_id, activity_id, dataset)
    recorded = ex.rows(
        exp.select(column("methodology_id"), column("version"), column("content_hash"))
        .from_(table("run_methodology")).where(is_param("run_id")).order_by(column("methodology_id")),
        {"run_id": run_id},
    )
    methodologies = []
    for mid, version, content_hash in recorded:
        m = lib.methodologies.get((mid, version))
        if m is None or m.content_hash != content_hash:
            raise CcfError(f"{mid}@{version} is not in the library as the run used it (see 'ccf verify {run_id}')")
        methodologies.append(m)
    rows = _activity_rows_of(ex, [m.activity.id for m in methodologies], read, activity_id)
    for m in methodologies:
        row = rows.get(m.activity.id)
        if row is None:  # the row is not of this methodology's activity type: nothing more to read for it
            continue
        recorded_editions = as_recorded(ex, run_id, m)
        m = recorded_editions.methodology  # every set as the edition the run read
        part = _explain_one(ex, run_id, m, row, read)
        part.lines[1:1] = _edition_lines(recorded_editions)
        out.parts.append(part)
    out.rejected = rejections_of(ex, dataset, read["loads"], activity_id)  # a repeated id: loaded once, rejected after
    if not out.parts and not out.rejected:
        raise CcfError(f"activity {activity_id!r} is not in dataset {dataset!r} for any methodology of run {run_id} "
                       "(rows loaded after the run are not part of it)")
    return out


def _edition_lines(r: RecordedEditions) -> list[str]:
    """How the run chose the methodology's factor edition (engine/factors/editions.py)."""
    m = r.methodology
    lines = []
    if r.named is not None:
        lines.append(f"factor edition: {m.factor_set}, the edition of factor set {r.named} for {r.period}")
    if r.fallback is not None:
        lines.append(f"factor edition: FALLBACK: {r.fallback}")
    return lines


def _activity_rows_of(ex: Executor, activity_types: list[str], read: dict[str, Any],
                      activity_id: str) -> dict[str, dict[str, Any]]:
    """The row ``activity_id`` of the run's loads in each of these activity types that holds it
    (usually one; an id may recur in another type's table). Which tables hold it is one query, a
    probe of each table's key (dataset, activity_id); then each row is read from its table: a
    few statements per explained row, where reading every type's table was one each (69 for the
    sample company's run)."""
    types = tuple(dict.fromkeys(activity_types))
    if not types:
        return {}
    found = {t for (t,) in ex.rows(_probe(types), {**read, "activity_id": activity_id})}
    return {t: row for t in types if t in found and (row := _activity_row(ex, t, read, activity_id)) is not None}


@functools.lru_cache(maxsize=64)
def _probe(types: tuple[str, ...]) -> exp.Expression:
    """The one statement naming which of these activity types' tables hold a row, built once per
    process for each list of types (a run's): explaining each row of a run of 69 types rebuilt
    its 69 probes each time, 40% of the CPU of an explain. Shared, so never changed: rendering
    leaves a tree as it is (engine/sql.render)."""
    probes = [
        exp.select(text(t)).where(exp.Exists(this=exp.select(exp.Literal.number(1)).from_(table(activity_table_name(t)))
                                             .where(exp.and_(of_run_loads(), is_param("activity_id")))))
        for t in types
    ]
    # copy=False: the probes are this call's own; pairwise unions copied the growing statement
    # at each step (quadratic in the types)
    return exp.union(*probes, distinct=False, copy=False) if len(probes) > 1 else probes[0]


def _activity_row(ex: Executor, activity_type: str, read: dict[str, Any], activity_id: str) -> dict[str, Any] | None:
    cur = ex.execute(
        exp.select(exp.Star()).from_(table(activity_table_name(activity_type)))
        .where(exp.and_(of_run_loads(), is_param("activity_id"))),
        {**read, "activity_id": activity_id},
    )
    got = cur.fetchone()
    return None if got is None else dict(zip([d.name for d in cur.description], got))


_RESOLVERS: dict[tuple[str, str], ev.RecordsResolver] = {}


def resolver_for(ex: Executor, m: ir.Methodology) -> ev.FactorResolver:
    """A resolver over the installed edition's factors, and over each other set a lookup reads
    (``factor_set:`` on the lookup; a set that is not installed finds nothing, as in the run)."""
    default = _set_resolver(ex, m.factor_set)
    if default is None:
        raise CcfError(f"factor set {m.factor_set} is not installed")
    others = {lk.factor_set for lk in m.lookups if lk.factor_set is not None}
    if not others:
        return default
    found = {s: r for s in sorted(others) if (r := _set_resolver(ex, s)) is not None}
    return ev.FactorSetsResolver(default, found)


def _set_resolver(ex: Executor, set_id: str) -> ev.RecordsResolver | None:
    """A resolver over one installed edition's factors (None: not installed); an installed
    edition never changes, so it is read once per process and edition checksum."""
    fs = installed(ex, set_id)  # the organisation's own set of the name, else the shared one
    if fs is None:
        return None
    key = (set_id, fs.sha256)
    if key not in _RESOLVERS:
        records = stored_factors(ex, fs.factor_set_id)
        chain = ex.rows(exp.select(column("region"), column("ancestor"), column("depth")).from_(table("region_ancestor")))
        _RESOLVERS[key] = ev.RecordsResolver(records, regions=[tuple(r) for r in chain])
    return _RESOLVERS[key]


def _conversions(m: ir.Methodology, row: dict[str, Any], tables: dict[str, RateTableValues]) -> tuple[dict, list[str]]:
    """Each conversion's converted amount for one row, and its steps with values, in words."""
    e = ev.Evaluator(row)
    converted, lines = {}, []
    for cv in m.conversions:
        amount, currency, year = e.number(cv.amount), e(cv.currency), e(cv.price_year)
        value, missing = convert(cv, amount, currency, year, tables)
        converted[cv.name] = value
        lines.append(
            f"currency conversion {cv.name}: {plain(amount) if amount is not None else '(empty)'} {currency or '(no currency)'}"
            f" at {plain(year) if isinstance(year, Decimal) else '(no year)'} prices → {cv.to_currency} at {cv.to_year} prices"
            " (convert at the price year's exchange rate, then deflate)"
        )
        if missing is not None:
            lines.append(f"  no rate: {missing}")
            continue
        if value is None or not isinstance(year, Decimal):
            continue
        rates = tables.get(cv.exchange_rates)
        ref = rates.reference_currency if rates is not None else None
        steps = [plain(amount)] if amount is not None else []
        if currency != cv.to_currency:
            if currency != ref:
                r = rates.values[(currency, int(year))]  # type: ignore[union-attr]
                lines.append(f"  exchange rate {plain(r)} {ref} per {currency} ({cv.exchange_rates}, {plain(year)})")
                steps.append(f"× {plain(r)}")
            if cv.to_currency != ref:
                r = rates.values[(cv.to_currency, int(year))]  # type: ignore[union-attr]
                lines.append(f"  exchange rate {plain(r)} {ref} per {cv.to_currency} ({cv.exchange_rates}, {plain(year)})")
                steps.append(f"÷ {plain(r)}")
        if year != cv.to_year:
            index = tables[cv.price_index]  # type: ignore[index]
            at_t, at_y = index.values[(cv.to_currency, cv.to_year)], index.values[(cv.to_currency, int(year))]
            lines.append(
                f"  price index {cv.to_currency} {cv.to_year} = {plain(at_t)}, {plain(year)} = {plain(at_y)} ({cv.price_index})"
            )
            steps += [f"× {plain(at_t)}", f"÷ {plain(at_y)}"]
        lines.append(f"  {cv.name} = {' '.join(steps)} = {plain(value)} {cv.to_currency}")
    return converted, lines


def _shown(value: Decimal | None, scale: Fraction, unit: str) -> str:
    if value is None:
        return "(empty)"
    return f"{_plain(value)} {unit}".strip()


def _plain(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _display_unit(node: ir.Node) -> tuple[str, Fraction]:
    """The unit to show a quantity in: the dimension's display unit, else its own scale."""
    for _, (dim, display) in registry().dimensions.items():
        if dim == node.type.dimension:
            return display, parse_unit(display).scale
    for name, u in registry().units.items():
        if u.dimension == node.type.dimension and u.scale == node.scale:
            return name, u.scale
    return "", Fraction(1)


def _gas_units(ex: Executor, set_id: str) -> dict[str, str]:
    """The numerator unit of each gas's values in one installed factor set (e.g. lbCO2 in eGRID):
    a lookup may read another set than its methodology's, so each factor is shown in its own."""
    fs = installed(ex, set_id)
    return dict(fs.gas_units) if fs is not None else {}


def _explain_one(ex: Executor, run_id: int, m: ir.Methodology, row: dict[str, Any], read: dict[str, Any]) -> MethodologyExplanation:
    if m.instruments is not None:
        return _explain_allocated(ex, run_id, m, row, read)
    resolver, gwp = resolver_for(ex, m), gwp_values(ex, m.gwp)
    gas_units = {s: _gas_units(ex, s) for s in {lk.factor_set or m.factor_set for lk in m.lookups}}
    tables = rate_tables(ex, m)  # exchange rates and price indices of spend-based methods
    totals = _share_totals(ex, m, row, read)
    outcome = ev.evaluate_row(m, row, resolver, gwp, tables, totals)
    values = ev.row_factors(m, row, resolver)  # what each lookup found for this row
    converted, conversion_lines = _conversions(m, row, tables)
    e = ev.Evaluator(row, values, converted, totals)
    p = MethodologyExplanation(m.ref)
    lines = p.lines
    lines.append(f"methodology {m.ref} (sha256 {m.content_hash[:12]}…), factor set {m.factor_set}, GWP {m.gwp}")
    lines.append("activity data:")
    for f in m.activity.fields:
        if f.name in row and f.name not in ("activity_id", DATA_QUALITY):  # the row's score: its own line
            unit = row.get(f"{f.name}_unit")
            lines.append(f"  {f.name} = {row[f.name] if row[f.name] is not None else '(empty)'}{(' ' + unit) if unit else ''}")
    lines.append("rules, in order (the first whose condition is true decides):")
    chosen = getattr(outcome, "rule_id", None)
    for r in m.rules:
        cond = "always" if r.where is None else f"{source_text(r.where.span)} → {_truth(e(r.where))}"
        lines.append(f"  {r.id}: {cond}")
        if r.id == chosen:
            if r.description:  # what the tier is, in the methodology's words (e.g. a labelled proxy)
                lines.append(f"  (rule {r.id}: {' '.join(r.description.split())})")
            break
    for lk in m.lookups:
        for gas in lk.gases:
            got = values.get((lk.name, gas))
            if got is None or got.candidates == 0:
                continue
            lines.append(
                f"factor {lk.name}.{gas.lower()}: {lk.factor_set or m.factor_set} factor {got.factor_id}, match level {got.match_level}"
            )
    lines += conversion_lines
    if isinstance(outcome, ev.Excluded):
        p.outcome = f"excluded by rule {outcome.rule_id}: {outcome.reason}"
    elif isinstance(outcome, ev.Unmatched):
        p.outcome = f"unmatched ({outcome.reason_code}{': ' + outcome.lookup if outcome.lookup else ''}{': ' + outcome.reason if outcome.reason else ''})"
    else:
        p.outcome = f"result by rule {outcome.rule_id}: {_plain(sum((g.co2e_kg for g in outcome.gases), Decimal(0)))} kg CO2e"
        rule = next(r for r in m.rules if r.id == outcome.rule_id)
        if rule.total is not None:  # the published total first: it is what the row reports
            lines.append(f"reported CO2e (total): {source_text(rule.total.span)}")
            lines += _leaf_lines(m, row, e, rule.total, gas_units)
            lines.append(f"  = {_plain(e.number(rule.total))} kg CO2e")  # type: ignore[arg-type]
        for em in rule.emissions:
            g = next((x for x in outcome.gases if x.gas == em.gas), None)
            if em.gas == ir.TOTAL_MINUS_GASES:  # its leaves are the total's and the gases', shown above
                split = [x for x in outcome.gases if x.gas not in ir.OUTSIDE_SCOPES and x.gas != em.gas]
                if g is not None:
                    summed = _plain(sum((x.co2e_kg for x in split), Decimal(0)))
                    lines.append(f"{em.gas}: total − ({' + '.join(x.gas for x in split)}) = "
                                 f"{_plain(e.number(rule.total))} − {summed} = {_plain(g.co2e_kg)} kg CO2e")  # type: ignore[arg-type]
                continue
            lines.append(f"{em.gas}: {source_text(em.value.span)}")
            lines += _leaf_lines(m, row, e, em.value, gas_units)
            if g is None:
                continue
            if g.gwp is not None:
                lines.append(f"  = {_plain(g.gas_kg)} kg {em.gas} × GWP {_plain(g.gwp)} ({m.gwp}) = {_plain(g.co2e_kg)} kg CO2e")
            else:
                lines.append(f"  = {_plain(g.co2e_kg)} kg CO2e")
        lines.append(data_quality_line(m, rule, e))
    p.stored = _stored(ex, run_id, m, row["activity_id"])
    p.reproduces_stored = _same(outcome, p.stored)
    return p


def _share_totals(ex: Executor, m: ir.Methodology, row: dict[str, Any], read: dict[str, Any]) -> dict[ir.Share, Decimal | None]:
    """The row's total per share: summed over every row the run read (none without shares)."""
    if not ir.methodology_shares(m):
        return {}
    rows = activity_rows(ex, m.activity.id, read)
    at = next(i for i, r in enumerate(rows) if r["activity_id"] == row["activity_id"])
    return share_totals(m, rows)[at]


def data_quality_line(m: ir.Methodology, rule: ir.Rule, e: ev.Evaluator) -> str:
    """'data quality: 2 (from the row)', '… (rule r, default)', '… (methodology default)', with
    the expression where the score is computed; or 'not scored'."""
    score, source = ev.data_quality(m, rule, e)
    if score is None:
        return "data quality: not scored (neither the row nor the methodology gives a score)"
    if source == "row":
        return f"data quality: {_plain(score)} (from the row)"
    node = rule.data_quality if source == "rule" else m.data_quality
    assert node is not None
    written = source_text(node.span)
    how = "" if written is None or written == _plain(score) else f": {written}"
    return f"data quality: {_plain(score)} ({f'rule {rule.id}, default' if source == 'rule' else 'methodology default'}{how})"


def _leaf_lines(m: ir.Methodology, row: dict[str, Any], e: ev.Evaluator, node: ir.Node,
                gas_units: dict[str, dict[str, str]]) -> list[str]:
    """One line per field, parameter and factor an expression reads, with its value: a factor
    as published (its own set's numerator unit per the lookup's unit), a quantity in its display
    unit, with the row's own unit and the conversion where they differ."""
    lines = []
    for leaf in ir.leaves(node):
        if isinstance(leaf, ir.Share):
            lines += _share_lines(leaf, e)
            continue
        v = e.number(leaf)
        if isinstance(leaf, ir.FactorRef):
            lk = next(lk for lk in m.lookups if lk.name == leaf.lookup)
            unit = f"{gas_units[lk.factor_set or m.factor_set].get(leaf.gas, '')}/{lk.per}"
            lines.append(f"  {leaf.lookup}.{leaf.gas.lower()} = {_shown(v, Fraction(1), unit)}")
            continue
        unit, shown_scale = _display_unit(leaf)
        shown = None if v is None else _scaled(v, leaf.scale / shown_scale)
        raw_unit = row.get(f"{leaf.name}_unit") if isinstance(leaf, ir.FieldRef) else None
        conversion = ""
        if raw_unit and raw_unit != unit and row.get(leaf.name) is not None:
            ratio = parse_unit(raw_unit).scale / shown_scale
            shown_ratio = _plain(fraction_to_decimal(ratio)) if is_terminating(ratio) else f"{ratio.numerator}/{ratio.denominator}"
            conversion = f"{_plain(row[leaf.name])} {raw_unit} × {shown_ratio} = "
        lines.append(f"  {leaf.name} = {conversion}{_shown(shown, shown_scale, unit)}")
    return lines


def _share_lines(share: ir.Share, e: ev.Evaluator) -> list[str]:
    """A share: the row's key, its quantity and the total over the rows of that key it was divided by."""
    key = ", ".join(f"{source_text(k.span) or '…'} = {_key_text(e(k))}" for k in share.keys)
    quantity, total, value = e.number(share.quantity), e.totals.get(share), e.number(share)
    text = source_text(share.span) or share_text(share)
    unit, to_shown = _share_unit(share.quantity)
    shown = lambda d: "(empty)" if d is None else f"{_plain(_scaled(d, to_shown))} {unit}".strip()  # noqa: E731
    lines = [f"  {text}: key {key}",
             f"    this row's {source_text(share.quantity.span) or 'quantity'} = {shown(quantity)}",
             f"    total over the dataset's rows with this key = {shown(total) if total is not None else '(none: zero, empty or with a negative part)'}"]
    if value is not None:
        lines.append(f"    = {shown(quantity)} ÷ {shown(total)} = {_plain(value)} (ccf.div: 20 decimal places)")
    return lines


def _share_unit(node: ir.Node) -> tuple[str, Fraction]:
    """The unit a share's quantity is shown in, and the ratio from the node's scale to it: the
    dimension's display unit, else its base units (kg·m for mass × distance)."""
    unit, scale = _display_unit(node)
    if unit or not node.type.dimension:
        return unit, node.scale / scale
    base = "·".join(b if power == 1 else f"{b}^{power}" for b, power in node.type.dimension)
    return base, node.scale


def _key_text(v: object) -> str:
    if v is None:
        return "(empty)"
    return f"'{v}'" if isinstance(v, str) else _plain(v) if isinstance(v, Decimal) else str(v)


def activity_rows(ex: Executor, activity_type: str, read: dict[str, Any]) -> list[dict[str, Any]]:
    """The activity rows a run read: ``read`` holds its dataset and loads (compile.of_run_loads)."""
    cur = ex.execute(exp.select(exp.Star()).from_(table(activity_table_name(activity_type))).where(of_run_loads()), read)
    return [dict(zip([d.name for d in cur.description], r)) for r in cur.fetchall()]


def _explain_allocated(ex: Executor, run_id: int, m: ir.Methodology, row: dict[str, Any],
                       read: dict[str, Any]) -> MethodologyExplanation:
    """A row of a methodology with instruments: its allocation (which needs every row and
    instrument of the run's loads, dsl/allocate.py), then each part's rule and value."""
    from ccf.dsl.allocate import allocate, combine, part_row

    ins = m.instruments
    assert ins is not None
    resolver, gwp = resolver_for(ex, m), gwp_values(ex, m.gwp)
    tables = rate_tables(ex, m)
    rows = activity_rows(ex, m.activity.id, read)
    instruments = {str(i["activity_id"]): i for i in activity_rows(ex, ins.activity.id, read)}
    parts, _ = allocate(ins, m.activity, rows, list(instruments.values()))
    p = MethodologyExplanation(m.ref)
    p.lines.append(f"methodology {m.ref} (sha256 {m.content_hash[:12]}…), factor set {m.factor_set}, GWP {m.gwp}")
    p.lines.append(f"instruments ({ins.activity.id}) allocated first: same {', '.join(ins.match)}, vintage = year of "
                   f"period_start; rows by period_start, activity_id; instruments by activity_id")
    unit, scale = ("MWh", parse_unit("MWh").scale)
    evaluated = []
    for part in parts[str(row["activity_id"])]:
        inst = instruments.get(part.instrument_id) if part.instrument_id else None
        outcome = ev.evaluate_row(m, part_row(ins, m.activity, row, part, inst), resolver, gwp, tables)
        evaluated.append((part, outcome))
        amount = "(empty)" if part.quantity is None else f"{_plain(_scaled(part.quantity, 1 / scale))} {unit}"
        source = (f"from instrument {part.instrument_id} ({inst.get('instrument_type', '')}, vintage {inst.get(ins.vintage)}, "
                  f"{', '.join(f'{k} {inst.get(k)}' for k in ins.match)})" if inst else "not covered by an instrument")
        if isinstance(outcome, ev.Result):
            kg = _plain(sum((g.co2e_kg for g in outcome.gases), Decimal(0)))
            score = "" if outcome.data_quality is None else f"; data quality {outcome.data_quality}"
            told = f"rule {outcome.rule_id}: {kg} kg CO2e{_factors_told(m, outcome)}{_instrument_told(m, outcome, inst)}{score}"
        elif isinstance(outcome, ev.Excluded):
            told = f"excluded by rule {outcome.rule_id}"
        else:
            told = f"unmatched ({outcome.reason_code})"
        p.lines.append(f"  part {part.part_no}: {amount} {source} → {told}")
    final = combine(evaluated)
    if len(final) == 1 and not isinstance(final[0], ev.Result):
        o = final[0]
        p.outcome = (f"excluded by rule {o.rule_id}: {o.reason}" if isinstance(o, ev.Excluded)
                     else f"unmatched ({o.reason_code}) in part of the row: the row has no result")
    else:
        total = sum((g.co2e_kg for o in final if isinstance(o, ev.Result) for g in o.gases), Decimal(0))
        p.outcome = f"result in {len(final)} part(s): {_plain(total)} kg CO2e"
    stored = _stored(ex, run_id, m, row["activity_id"])
    p.stored = stored
    mine = sorted((g.gas, g.co2e_kg, o.rule_id, o.instrument_id, o.data_quality)
                  for o in final if isinstance(o, ev.Result) for g in o.gases)
    theirs = sorted((s["gas"], s["co2e_kg"], s["rule_id"], s["instrument_id"], s["data_quality"]) for s in stored)
    p.reproduces_stored = mine == theirs
    return p


def _factors_told(m: ir.Methodology, outcome: ev.Result) -> str:
    """' (<set> factor <id>, match level <level>; …)': the factors of a result part, each with
    the factor set it came from (a lookup may read another set than the methodology's)."""
    rule = next(r for r in m.rules if r.id == outcome.rule_id)
    sets = {lk.name: lk.factor_set or m.factor_set for lk in m.lookups}
    told = []
    for em, g in zip(sorted(rule.emissions, key=lambda e: ir.GAS_ORDER.index(e.gas)), outcome.gases):
        refs = list(dict.fromkeys(r.lookup for r in ir.factor_refs(em.value)))
        for lookup, factor_id in zip(refs, g.factor_ids):
            told.append(f"{g.gas} {sets[lookup]} factor {factor_id}, match level {g.match_level}")
    return f" ({'; '.join(dict.fromkeys(told))})" if told else ""


def _instrument_told(m: ir.Methodology, outcome: ev.Result, inst: dict[str, Any] | None) -> str:
    """'; source: instrument <type> <id> (registry …), <field> <value> as the instrument conveys
    it, loaded in load N line L': for a part whose rule takes its rate from the instrument
    (market-based certificates), the instrument is the source, as result.factor_set names it."""
    rule = next(r for r in m.rules if r.id == outcome.rule_id)
    if inst is None or not any(reads_instrument(em.value) and not any(ir.factor_refs(em.value)) for em in rule.emissions):
        return ""
    prefix = ir.instrument_column("")
    read = dict.fromkeys(leaf.name[len(prefix):] for em in rule.emissions for leaf in ir.leaves(em.value)
                         if isinstance(leaf, ir.FieldRef) and leaf.name.startswith(prefix))
    what = " ".join(str(inst[k]) for k in ("instrument_type", "activity_id") if inst.get(k) is not None)
    registry = f" (registry {inst['registry']})" if inst.get("registry") is not None else ""
    values = ", ".join(f"{k} {_plain(inst[k]) if isinstance(inst[k], Decimal) else inst[k]}" for k in read)
    return (f"; source: instrument {what}{registry}, {values} as the instrument conveys it, "
            f"loaded in load {inst['load_id']} line {inst['line_no']}")


def _truth(v: object) -> str:
    return {True: "true", False: "false", None: "null (not true)"}.get(v, str(v))  # type: ignore[arg-type]


def _scaled(v: Decimal, ratio: Fraction) -> Decimal:
    """v × ratio for display; exact when the ratio terminates, else to 20 places like ccf.div."""
    if is_terminating(ratio):
        return ev.EXACT.multiply(v, fraction_to_decimal(ratio))
    return ev.div(ev.EXACT.multiply(v, Decimal(ratio.numerator)), Decimal(ratio.denominator)) or Decimal(0)


def _stored(ex: Executor, run_id: int, m: ir.Methodology, activity_id: str) -> list[dict[str, Any]]:
    from ccf.engine.clickhouse.reads import run_engine

    if run_engine(ex, run_id) == CLICKHOUSE:  # the run's rows are in ClickHouse (docs/scale-out.md)
        from ccf.engine.clickhouse.catalogue import opened
        from ccf.engine.clickhouse.reads import stored_results

        return stored_results(*opened(ex), run_id, m.id, activity_id)
    cur = ex.execute(
        exp.select(column("gas"), column("gas_kg"), column("gwp"), column("co2e_kg"), column("factor_ids"), column("match_level"), column("rule_id"),
                   column("instrument_id"), column(DATA_QUALITY))
        .from_(table("result"))
        .where(exp.and_(is_param("run_id"), exp.EQ(this=column("methodology_id"), expression=text(m.id)), is_param("activity_id")))
        .order_by(column("gas")),
        {"run_id": run_id, "activity_id": activity_id},
    )
    return [dict(zip([d.name for d in cur.description], r)) for r in cur.fetchall()]


def _same(outcome: ev.RowOutcome, stored: list[dict[str, Any]]) -> bool:
    if not isinstance(outcome, ev.Result):
        return stored == []
    mine = sorted(
        (g.gas, g.gas_kg, g.gwp, g.co2e_kg, list(g.factor_ids), g.match_level, outcome.rule_id, outcome.data_quality)
        for g in outcome.gases
    )
    theirs = sorted(
        (s["gas"], s["gas_kg"], s["gwp"], s["co2e_kg"], list(s["factor_ids"]), s["match_level"], s["rule_id"], s["data_quality"])
        for s in stored
    )
    return mine == theirs
