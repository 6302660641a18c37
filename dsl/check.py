"""Check a parsed methodology (and activity type) and lower it to the IR (stage [4]).

Pure: (validated file, activity types, factor catalogue) -> ``ir.Methodology`` or a
``DiagnosticError`` listing every problem found, each with its span and a suggestion.
``check_methodology`` checks the sections in order — parameters, factor lookups, instruments,
currency conversions (``currency.py``), rules — each expression with ``expressions.Checker``,
then proves the arithmetic exact (``exactness.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Mapping, Protocol

from ccf.dsl import exactness, ir
from ccf.dsl.currency import check_conversions, mismatch_hint
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError, Related, did_you_mean
from ccf.dsl.evaluate import evaluate
from ccf.dsl.expressions import GAS_KEYS, INSTRUMENT, Checker, Failed, Lookup, Scope, describe, rescale, unit_hint
from ccf.dsl.model import (
    DATA_QUALITY_SCORES, OPTIONAL_STANDARD_FIELDS, STANDARD_FIELDS, ActivityTypeFile, FieldSpec, MethodologyFile,
)
from ccf.dsl.source import Span
from ccf.dsl.units import (
    GASES,
    UnitError,
    fraction_to_decimal,
    is_terminating,
    named_dimensions,
    parse_unit,
    registry,
    units_of,
)
from ccf.dsl.yaml_source import YamlDocument

EMISSION_KEYS = {**GAS_KEYS, "co2_biogenic": "CO2_biogenic"}  # biogenic CO2: reported outside the scopes


class FactorSetSignature(Protocol):
    """What the checker needs to know of a factor set: its gases' units and attributes (a
    declaration, ``ir.FactorSet``, or a test's own signature)."""

    id: str
    gas_units: tuple[tuple[str, str], ...]
    attributes: tuple[str, ...]


# --- activity types ---------------------------------------------------------------------


def check_activity_type(doc: YamlDocument, spec: ActivityTypeFile) -> ir.ActivityType:
    """Resolve field kinds and the per-row unit conversions of quantity fields."""
    diags: list[Diagnostic] = []
    fields: list[ir.Field] = [
        ir.Field(name, {"text": ir.TEXT, "date": ir.DATE, "number": ir.NUMBER}[kind], name not in OPTIONAL_STANDARD_FIELDS,
                 span=doc.span(()))
        for name, kind in STANDARD_FIELDS.items()
    ]
    dims = named_dimensions()
    for name, raw in spec.fields.items():
        span = doc.span(("fields", name))
        fs = _field_spec(raw)
        if fs is None:
            diags.append(
                Diagnostic(
                    "E203",
                    f"'{raw}' is neither a field type nor a dimension",
                    span,
                    suggestion=did_you_mean(str(raw), [*dims, "text", "number", "date", "boolean"]),
                )
            )
            continue
        if fs.type != "quantity":
            kind = {"text": ir.TEXT, "number": ir.NUMBER, "date": ir.DATE, "boolean": ir.BOOLEAN}[fs.type]
            fields.append(ir.Field(name, kind, fs.required, span=span))
            continue
        if fs.unit:
            try:
                unit = parse_unit(fs.unit)
            except UnitError as exc:
                diags.append(Diagnostic("E501", str(exc), span, suggestion=unit_hint(exc)))
                continue
            if not is_terminating(unit.scale):
                diags.append(Diagnostic(
                    "E510",
                    f"a field in {fs.unit} cannot be stored exactly: 1 {fs.unit} is {unit.scale} in base units,"
                    " which has no finite decimal expansion",
                    span,
                    suggestion=f"declare the field as a plain number and give it its unit in the rule,"
                    f" e.g. '{name} * 1 {fs.unit}' (the rule's arithmetic is exact)",
                ))
                continue
            fields.append(
                ir.Field(
                    name, ir.quantity(unit.dimension), fs.required,
                    fixed_factor=_exact(unit.scale), display_unit=fs.unit, span=span,
                )
            )
            continue
        if fs.dimension not in dims:
            diags.append(
                Diagnostic(
                    "E502", f"unknown dimension '{fs.dimension}'", span, suggestion=did_you_mean(fs.dimension or "", dims)
                )
            )
            continue
        dim = dims[fs.dimension]
        conversions = tuple(
            ir.UnitConversion(n, _exact(u.scale)) for n, u in sorted(units_of(dim).items())
        )
        fields.append(
            ir.Field(
                name, ir.quantity(dim), fs.required, conversions=conversions,
                display_unit=registry().dimensions[fs.dimension][1], span=span,
            )
        )
    if diags:
        raise DiagnosticError(diags)
    digest = hashlib.sha256(doc.source.text.encode("utf-8")).hexdigest()
    return ir.ActivityType(spec.activity_type, spec.title, tuple(fields), digest, span=doc.span(()))


def _field_spec(raw: FieldSpec | str) -> FieldSpec | None:
    if isinstance(raw, FieldSpec):
        return raw
    if raw in ("text", "number", "date", "boolean"):
        return FieldSpec(type=raw)
    if raw in named_dimensions():
        return FieldSpec(type="quantity", dimension=raw)
    return None


def _exact(f: Fraction) -> Decimal:
    return fraction_to_decimal(f)


# --- methodologies ----------------------------------------------------------------------


def check_methodology(
    doc: YamlDocument,
    spec: MethodologyFile,
    activity_types: Mapping[str, ir.ActivityType],
    factor_sets: Mapping[str, FactorSetSignature],
) -> ir.Methodology:
    """Check one validated methodology file and lower it to the IR."""
    ck = Checker(doc)
    activity = activity_types.get(spec.activity)
    if activity is None:
        ck.error(
            "E405", f"unknown activity type '{spec.activity}'", doc.span(("activity",)),
            suggestion=did_you_mean(spec.activity, activity_types) or "activity types: " + ", ".join(sorted(activity_types)),
        )
        raise DiagnosticError(ck.diags)
    gwp_sets = ir.gwp_sets(factor_sets)
    if spec.gwp not in gwp_sets:
        ck.error(
            "E607", f"unknown GWP set '{spec.gwp}'", doc.span(("gwp",)),
            suggestion=did_you_mean(spec.gwp, gwp_sets) or "GWP sets: " + ", ".join(sorted(gwp_sets)),
        )
    set_of = _set_ids(ck, spec, gwp_sets)
    factor_set = set_of(spec.factor_set, ("factor_set",))
    fset = factor_sets.get(factor_set)
    if fset is None and factor_set != ir.GWP_FACTOR_SET:  # without a known gwp: E607 above
        ck.error(
            "E601", f"unknown factor set '{spec.factor_set}'", doc.span(("factor_set",)),
            suggestion=did_you_mean(spec.factor_set, factor_sets) or "factor sets: " + ", ".join(sorted(factor_sets)),
        )
    scope = Scope({f.name: f for f in activity.fields})
    params = _parameters(ck, spec, scope)
    lookups = _lookups(ck, spec, scope, fset, factor_sets, set_of)
    instruments = _instruments(ck, doc, spec, activity, activity_types)
    if instruments is not None:
        scope.instrument = {f.name: f for f in instruments.activity.fields}
    elif spec.instruments is not None:  # already reported: say nothing of instrument.<field>
        ck.failed.add(INSTRUMENT)
    conversions = check_conversions(ck, doc, spec, scope)
    rules = _rules(ck, spec, scope)
    data_quality = _data_quality(ck, spec.data_quality, ("data_quality",), scope)
    if ck.diags:
        raise DiagnosticError(ck.diags)
    # the gases of each lookup are those the rules used, known only now
    ir_lookups = tuple(dataclasses.replace(lk, gases=tuple(sorted(scope.lookups[lk.name].used))) for lk in lookups)
    g = spec.ghg_protocol
    m = ir.Methodology(
        spec.methodology, spec.version, spec.status, spec.title, g.scope, g.category, g.source, g.method,
        tuple(g.references), factor_set, spec.gwp, activity, params, ir_lookups, rules,
        hashlib.sha256(doc.source.text.encode("utf-8")).hexdigest(), doc.source.path, span=doc.span(()),
        instruments=instruments,
        conversions=conversions,
        declared_set=fset if isinstance(fset, ir.FactorSet) else None,
        data_quality=data_quality,
    )
    try:  # its arithmetic within PostgreSQL's exact range, or guarded (docs/numeric-semantics.md)
        exactness.plan(m)
    except exactness.InexactMethodology as e:
        raise DiagnosticError([Diagnostic("E511", str(e).split(": ", 1)[1], e.span)]) from None
    return m


def _set_ids(ck: Checker, spec: MethodologyFile, gwp_sets: Mapping[str, str]) -> Callable[[str, tuple], str]:
    """The factor-set id a methodology's or lookup's ``factor_set`` names: ``ipcc-gwp100`` is the
    GWP-100 set of the methodology's ``gwp`` (its one statement of the GWP set); naming the set of
    another assessment directly would weigh gases with two, and is an error (E608)."""
    own = gwp_sets.get(spec.gwp)

    def set_id(name: str, path: tuple) -> str:
        if name == ir.GWP_FACTOR_SET:
            return own or name
        other = next((g for g, s in gwp_sets.items() if s == name), None)
        if other is not None and other != spec.gwp:
            ck.error(
                "E608", f"factor set '{name}' gives GWPs of {other}, but this methodology weighs gases with {spec.gwp}",
                ck.doc.span(path), suggestion=f"write '{ir.GWP_FACTOR_SET}': the GWP-100 set of the methodology's 'gwp'",
            )
        return name

    return set_id


def _parameters(ck: Checker, spec: MethodologyFile, scope: Scope) -> tuple[ir.Parameter, ...]:
    """The parameters: constants, each may use the parameters above it; each lands in ``scope``."""
    doc = ck.doc
    params: list[ir.Parameter] = []
    not_in_parameters = {
        **{n: (f"a parameter cannot use the factor '{n}': parameters are fixed values",
               "use the factor in a rule's 'emissions' instead") for n in spec.factors},
        **{n: (f"a parameter cannot use the activity field '{n}': parameters are fixed values",
               "use the field in a rule's 'where' or 'emissions' instead") for n in scope.fields},
    }
    for index, (name, text) in enumerate(spec.parameters.items()):
        path = ("parameters", name)
        if name in scope.fields:
            ck.error(
                "E407", f"parameter '{name}' has the name of an activity field", doc.key_span(path),
                suggestion="give the parameter another name",
            )
            continue
        later = {
            n: (f"parameter '{n}' is defined further down; a parameter can only use the parameters above it",
                f"move '{n}' above '{name}'")
            for n in list(spec.parameters)[index:]
        }
        tree = ck.parse(str(text), path)
        if tree is None:
            ck.failed.add(name)
            continue
        try:
            node = ck.expr(tree, Scope({}, dict(scope.params), {}, allow_lookups=False, hidden={**not_in_parameters, **later}))
        except Failed:
            ck.failed.add(name)
            continue
        scope.params[name] = node
        params.append(ir.Parameter(name, node, span=doc.key_span(path)))
    return tuple(params)


def _lookups(
    ck: Checker, spec: MethodologyFile, scope: Scope, fset: FactorSetSignature | None,
    factor_sets: Mapping[str, FactorSetSignature], set_of: Callable[[str, tuple], str],
) -> list[ir.FactorLookup]:
    """The factor lookups, each in ``scope``; their ``gases`` are filled in once the rules are checked."""
    doc = ck.doc
    lookups: list[ir.FactorLookup] = []
    not_in_match = {
        n: (f"a factor's 'match' cannot use the factor '{n}'", "match keys are built from activity fields, e.g. country")
        for n in spec.factors
    }
    for name, lk in spec.factors.items():
        path = ("factors", name)
        if name in scope.fields or name in scope.params:
            ck.error(
                "E407", f"factor '{name}' has the name of a field or parameter", doc.key_span(path),
                suggestion="give the factor another name",
            )
            continue
        try:
            per = parse_unit(lk.per)
        except UnitError as exc:
            ck.error("E501", str(exc), doc.span(path + ("per",)), suggestion=unit_hint(exc))
            ck.failed.add(name)
            continue
        lset, lk_set = fset, None
        if lk.factor_set is not None:  # this lookup reads another set (e.g. the organisation's residual mix)
            lk_set = set_of(lk.factor_set, path + ("factor_set",))
            lset = factor_sets.get(lk_set)
            if lset is None:
                ck.error(
                    "E601", f"unknown factor set '{lk.factor_set}' in factor '{name}'", doc.span(path + ("factor_set",)),
                    suggestion=did_you_mean(lk.factor_set, factor_sets) or "factor sets: " + ", ".join(sorted(factor_sets)),
                )
                ck.failed.add(name)
                continue
        if lset is not None:
            known = set(lset.attributes)
            for attr in [*lk.select, *lk.match]:
                if attr not in known:
                    sub = "select" if attr in lk.select else "match"
                    ck.error(
                        "E602", f"factor set '{lk.factor_set or spec.factor_set}' has no attribute '{attr}'", doc.key_span(path + (sub, attr)),
                        suggestion=did_you_mean(attr, known) or "attributes: " + ", ".join(sorted(known)),
                    )
        match_nodes = []
        for attr, text in lk.match.items():
            tree = ck.parse(text, path + ("match", attr))
            if tree is None:
                continue
            try:
                node = ck.expr(tree, Scope(scope.fields, dict(scope.params), {}, allow_lookups=False, hidden=not_in_match))
            except Failed:
                continue
            if node.type.kind not in ("text", "null"):
                ck.error("E503", f"a match key is compared with factor text, but this is {node.type}", node.span)
                continue
            match_nodes.append((attr, node))
        fallback: dict[str, ir.Node | None] = {"region": None, "year": None}
        for key, want in (("region", "text"), ("year", "quantity")):
            text = getattr(lk, key)
            tree = ck.parse(text, path + (key,)) if text is not None else None
            if tree is None:
                continue
            try:
                node = ck.expr(tree, Scope(scope.fields, dict(scope.params), {}, allow_lookups=False))
            except Failed:
                continue
            if node.type.kind not in (want, "null") or (want == "quantity" and node.type.dimension):
                wanted = "text (a region code)" if key == "region" else "a plain number (a year)"
                ck.error("E503", f"a lookup's {key} must be {wanted}, but this is {node.type}", node.span)
                continue
            fallback[key] = node
        gas_units = dict(lset.gas_units) if lset is not None else {g: "kgCO2e" for g in GASES}
        scope.lookups[name] = Lookup(name, ir.quantity(per.dimension), per.scale, gas_units)
        lookups.append(ir.FactorLookup(
            name, tuple(sorted(lk.select.items())), tuple(match_nodes), lk.per, (),
            region=fallback["region"], year=fallback["year"], factor_set=lk_set,
            declared_set=lset if lk.factor_set is not None and isinstance(lset, ir.FactorSet) else None,
            span=doc.key_span(path),
        ))
    return lookups


def _rules(ck: Checker, spec: MethodologyFile, scope: Scope) -> tuple[ir.Rule, ...]:
    """The rules: ids unique, a condition each, emissions of a mass of CO2e or of the named gas."""
    doc = ck.doc
    rules: list[ir.Rule] = []
    seen_ids: dict[str, Span] = {}
    for i, rule in enumerate(spec.rules):
        path = ("rules", i)
        rspan = doc.span(path + ("id",))
        if rule.id in seen_ids:
            ck.error(
                "E408", f"rule id '{rule.id}' is used twice (first on line {seen_ids[rule.id].line})", rspan,
                related=(Related(seen_ids[rule.id], "first used here"),), suggestion="give each rule its own id",
            )
        seen_ids.setdefault(rule.id, rspan)
        where = None
        if rule.where is not None:
            tree = ck.parse(rule.where, path + ("where",))
            if tree is not None:
                try:
                    where = ck.expr(tree, scope)
                    ck.want_bool(where, "'where'")
                except Failed:
                    pass
        emissions: list[ir.Emission] = []
        total: ir.Node | None = None
        if rule.emissions is not None:
            given = rule.emissions if isinstance(rule.emissions, dict) else {"co2e": rule.emissions}
            in_scopes = [k for k in given if k != "total" and EMISSION_KEYS[k] not in ir.OUTSIDE_SCOPES]
            if "co2e" in in_scopes and len(in_scopes) > 1 and "total" not in given:
                ck.error(
                    "E508",
                    "a rule gives either co2e or the separate gases, not both: the total would count them twice",
                    doc.key_span(path + ("emissions", "co2e")),
                    suggestion="remove 'co2e' (it is the sum of the gases) or remove the gases; for a published "
                    "total reported beside its gases, write it as 'total'",
                )
            epath = path + ("emissions",)
            for key, text in given.items():
                gpath = epath + (key,) if isinstance(rule.emissions, dict) else epath
                tree = ck.parse(text, gpath)
                if tree is None:
                    continue
                try:
                    node = ck.expr(tree, scope)
                except Failed:
                    continue
                em = _emission(ck, "CO2e" if key == "total" else EMISSION_KEYS[key], node, next(iter(scope.lookups), None))
                if em is not None and key == "total":
                    total = em.value
                elif em is not None:
                    emissions.append(em)
            if "total" in given:
                difference = _total_minus_gases(ck, doc.key_span(epath + ("total",)), in_scopes, total, emissions)
                emissions += [difference] if difference is not None else []
        dq = _data_quality(ck, rule.data_quality, path + ("data_quality",), scope)
        rules.append(ir.Rule(rule.id, where, tuple(emissions), rule.exclude, rule.description, total, dq, span=rspan))
    return tuple(rules)


def _data_quality(ck: Checker, text: str | int | None, path: tuple, scope: Scope) -> ir.Node | None:
    """A ``data_quality:`` key: the score of a row that has none, 1 (best) to 5 (poorest), from
    the row's fields and the parameters (never a factor: the score says how good the data are).
    A score fixed by the file alone is checked here (E513); one computed per row is checked per
    row, and a row it puts outside 1-5 is unmatched (``bad_data_quality``), never clamped."""
    if text is None:
        return None
    tree = ck.parse(str(text), path)
    if tree is None:
        return None
    not_here = {n: (f"a data-quality score cannot use the factor '{n}'",
                    "give the score from the row's fields and the parameters, e.g. if verified then 1 else 2")
                for n in scope.lookups}
    try:
        node = ck.expr(tree, Scope(scope.fields, dict(scope.params), {}, allow_lookups=False, hidden=not_here,
                                   instrument=scope.instrument))
    except Failed:
        return None
    if node.type != ir.NUMBER and node.type.kind != "null":
        ck.error("E503", "data_quality must be a plain number, a score from 1 (best) to 5 (poorest), but this is "
                 + describe(node), node.span, suggestion="e.g. data_quality: 4, or data_quality: if verified then 1 else 2")
        return None
    node = rescale(node, Fraction(1))
    if not any(isinstance(leaf, (ir.FieldRef, ir.FactorRef)) for leaf in ir.leaves(node)):  # fixed by the file
        score = evaluate(node)
        if score is None or score not in DATA_QUALITY_SCORES:
            ck.error("E513", f"data_quality is {'null' if score is None else score}, not a data-quality score",
                     node.span, suggestion="a whole number from 1 (best data, e.g. verified reported emissions) to "
                     "5 (poorest, e.g. estimates from sector averages), PCAF's scale")
            return None
    return node


def _instruments(
    ck: Checker, doc: YamlDocument, spec: MethodologyFile, activity: ir.ActivityType,
    activity_types: Mapping[str, ir.ActivityType],
) -> ir.Instruments | None:
    """The 'instruments' section: its activity type and the fields allocation pairs up."""
    it = spec.instruments
    if it is None:
        return None
    path = ("instruments",)
    instruments = activity_types.get(it.activity)
    if instruments is None:
        ck.error(
            "E405", f"unknown activity type '{it.activity}'", doc.span(path + ("activity",)),
            suggestion=did_you_mean(it.activity, activity_types) or "activity types: " + ", ".join(sorted(activity_types)),
        )
        return None
    ok = True

    def both(name: str, at: tuple, want: str) -> None:
        nonlocal ok
        for side in (activity, instruments):
            f = side.field(name)
            if f is None:
                ck.error(
                    "E401", f"activity type '{side.id}' has no field '{name}'", doc.span(at),
                    suggestion=did_you_mean(name, [x.name for x in side.fields]),
                )
                ok = False
                return
        a, b = activity.field(name).type, instruments.field(name).type  # type: ignore[union-attr]
        if a != b or (want == "quantity") != (a.kind == "quantity"):
            what = "a quantity of the same dimension" if want == "quantity" else "a value of the same type (not a quantity)"
            ck.error(
                "E503", f"'{name}' must be {what} in '{activity.id}' and '{instruments.id}', but it is {a} and {b}",
                doc.span(at),
            )
            ok = False

    both(it.allocate, path + ("allocate",), "quantity")
    for i, name in enumerate(it.match):
        both(name, path + ("match", i), "value")
    vintage = instruments.field(it.vintage)
    if vintage is None:
        ck.error(
            "E401", f"activity type '{instruments.id}' has no field '{it.vintage}'", doc.span(path + ("vintage",)),
            suggestion=did_you_mean(it.vintage, [x.name for x in instruments.fields]),
        )
        ok = False
    elif vintage.type != ir.NUMBER:
        ck.error("E503", f"the vintage must be a plain number (a year), but '{it.vintage}' is {vintage.type}",
                 doc.span(path + ("vintage",)))
        ok = False
    if not ok:
        return None
    return ir.Instruments(instruments, it.allocate, tuple(it.match), it.vintage, span=doc.key_span(path))


def _total_minus_gases(
    ck: Checker, at: Span, keys: list[str], total: ir.Node | None, gases: list[ir.Emission]
) -> ir.Emission | None:
    """A rule's ``total`` stands beside its gases (``keys``, those in the scopes), each a mass
    of CO2e as the set publishes it; the part it adds is the total minus their sum, so that the
    parts add up to the total exactly (docs/numeric-semantics.md#published-totals)."""
    if "co2e" in keys:
        ck.error("E508", "a rule gives either 'co2e' or a 'total', not both: each is the rule's CO2e", at,
                 suggestion="keep 'total' (the published total) with the gases, and remove 'co2e'")
        return None
    if not keys:
        ck.error("E512", "a 'total' is reported beside the gases it is published with, but this rule gives none", at,
                 suggestion="add the published gases (co2, ch4, n2o), or write the one figure as 'co2e'")
        return None
    by_mass = [em for em in gases if not em.co2e_basis and em.gas not in ir.OUTSIDE_SCOPES]
    for em in by_mass:
        ck.error(
            "E512",
            f"beside a 'total', {em.gas} must be a mass of CO2e as the set publishes it, but this is a mass of {em.gas}",
            em.span,
            suggestion="use the set's CO2e component of the gas; where a set publishes gases by mass only, leave out "
            "'total': the CO2e is then the gases weighted by the methodology's GWPs",
        )
    split = [em.value for em in gases if em.gas not in ir.OUTSIDE_SCOPES]
    if total is None or by_mass or len(split) != len(keys):  # an error is already reported
        return None
    kg = total.type
    summed = split[0]
    for v in split[1:]:
        summed = ir.Arith("+", summed, v, kg, Fraction(1), span=v.span)
    return ir.Emission(ir.TOTAL_MINUS_GASES, ir.Arith("-", total, summed, kg, Fraction(1), span=at), True, span=at)


def _emission(ck: Checker, gas: str, node: ir.Node, a_factor: str | None = None) -> ir.Emission | None:
    """An emissions expression must be a mass of CO2e, or for a gas key, a mass of that gas."""
    co2e = parse_unit("kgCO2e").dimension
    own = parse_unit(f"kg{ir.gwp_gas(gas)}").dimension
    if node.type.kind == "quantity" and node.type.dimension == co2e:
        return ir.Emission(gas, rescale(node, Fraction(1)), True, span=node.span)
    if gas != "CO2e" and node.type.kind == "quantity" and node.type.dimension == own:
        return ir.Emission(gas, rescale(node, Fraction(1)), False, span=node.span)
    if node.type.kind == "quantity" and (currency := mismatch_hint(node)) is not None:
        ck.error("E509", currency[0], node.span, suggestion=currency[1])
        return None
    wanted = "a mass of CO2e (e.g. kgCO2e)" if gas == "CO2e" else f"a mass of {gas} or of CO2e"
    text = ck.text(node.span)
    example = f"{text} * {a_factor}" if text and a_factor and " " not in text else "quantity * factor"
    ck.error(
        "E506",
        f"emissions must be {wanted}, but this is {describe(node)}",
        node.span,
        suggestion=f"multiply the activity by an emission factor, e.g. {example}" if node.type.kind == "quantity" else None,
    )
    return None
