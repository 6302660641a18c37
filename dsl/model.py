"""The shape of methodology and activity-type files, as strict pydantic models.

Unknown keys are errors (``extra="forbid"``, which also puts ``additionalProperties: false``
into the exported JSON Schema so editors flag typos). Expressions stay text here; the
expression parser reads them with their spans.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ccf.dsl.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from ccf.dsl.yaml_source import YamlDocument

IDENT = r"^[a-z][a-z0-9_]*$"
DOTTED_ID = r"^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_]*)*$"
NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"  # a name in the expression language (grammar.lark NAME)
KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else", "true", "false", "null"})
SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$"

class Problem(ValueError):
    """A validator's complaint, with a suggestion and the key (under the model) it is about."""

    def __init__(self, message: str, suggestion: str | None = None, at: str | None = None):
        super().__init__(message)
        self.suggestion = suggestion
        self.at = at


Expression = Annotated[str, Field(min_length=1, description="an expression in the ccf expression language")]

CALCULATION_METHODS = (
    "fuel-based",
    "distance-based",
    "spend-based",
    "average-data",
    "supplier-specific",
    "hybrid",
    "location-based",
    "market-based",
    "waste-type-specific",
    "asset-specific",
    "investment-specific",
    "average-product",
    "site-specific",
    "screening",
    "mass-balance",
    "direct-measurement",
    "user-supplied-factor",
    "lessor-specific",
    "lessee-specific",
    "franchise-specific",
    "direct-use-phase",
    "indirect-use-phase",
    "projected-lifetime",
)
Method = Literal[CALCULATION_METHODS]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)


class GhgProtocol(Strict):
    """Where the methodology sits in the GHG Protocol and which guidance it implements."""

    scope: Literal[1, 2, 3]
    category: int | None = Field(None, ge=1, le=15, description="Scope 3 category 1-15; only for scope 3")
    source: str | None = Field(None, description="Scope 1/2 source category, e.g. 'stationary combustion'")
    method: Method = Field(description="calculation method as named by the GHG Protocol")
    references: list[str] = Field(min_length=1, description="guidance sections this methodology implements")

    @field_validator("scope", mode="before")
    @classmethod
    def _scope_is_a_number(cls, v: Any) -> Any:
        if isinstance(v, bool):  # Literal[1, 2, 3] takes true for 1 (True == 1), even in strict mode
            raise Problem(f"'scope' must be 1, 2 or 3, not {str(v).lower()}", at="scope")
        return v

    @model_validator(mode="after")
    def _category_only_in_scope3(self) -> "GhgProtocol":
        if self.scope == 3 and self.category is None:
            raise Problem(
                "a Scope 3 methodology must name its category (1-15)",
                "add 'category: <1-15>' under 'ghg_protocol', e.g. category: 6 for business travel",
                at="scope",
            )
        if self.scope != 3 and self.category is not None:
            raise Problem(
                f"only Scope 3 methodologies have a category; this one is Scope {self.scope}",
                "remove 'category', or set 'scope: 3' if this is a Scope 3 methodology",
                at="category",
            )
        return self


class FactorLookupSpec(Strict):
    """How rows find an emission factor: fixed attributes (select) and keys from the row (match)."""

    select: dict[str, str] = Field(default_factory=dict, description="factor attribute = fixed text")
    match: dict[str, Expression] = Field(default_factory=dict, description="factor attribute = expression over fields")
    per: str = Field(description="unit the methodology uses the factor per, e.g. kWh, passenger.km, t")
    region: Expression | None = Field(
        None, description="the row's region (e.g. grid_region ?? country); falls back to parent regions, then WORLD"
    )
    year: Expression | None = Field(
        None, description="the row's year (e.g. year(period_start)); falls back to the latest earlier factor year"
    )
    factor_set: str | None = Field(
        None,
        description="read this lookup's factors from another declared factor set (or edition) than the "
        "methodology's (e.g. the organisation's residual mix, org-residual-mix); a set that is not installed finds no factor",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _something_selected(self) -> "FactorLookupSpec":
        if not self.select and not self.match:
            raise Problem(
                "a factor lookup needs 'select' or 'match' (or both)",
                "name the factor with 'select: {attribute: text}', or 'match: {attribute: expression}' per row",
            )
        return self


class InstrumentsSpec(Strict):
    """Contractual instruments (energy attribute certificates) allocated to the activity rows
    before the rules run (GHG Protocol Scope 2 Guidance, ch. 7: market-based method)."""

    activity: str = Field(pattern=IDENT, description="activity type of the instruments, e.g. energy_attribute_certificates")
    allocate: str = Field(pattern=IDENT, description="quantity field allocated, the same name in both activity types")
    match: list[str] = Field(
        min_length=1, description="fields that must be equal on both sides: the market boundary (country, grid region), the entity"
    )
    vintage: str = Field(
        pattern=IDENT, description="the instruments' vintage-year field; eligible for consumption whose period starts in that year"
    )
    description: str | None = None


class CurrencyConversionSpec(Strict):
    """Spend in any currency and price year, brought to the factor's currency and price year."""

    amount: Expression = Field(description="the amount in the row's own currency, e.g. spend")
    currency: Expression = Field(description="the row's ISO 4217 currency code, e.g. currency")
    price_year: Expression | None = Field(
        None, description="the year of the row's prices, e.g. price_year ?? year(period_start); default year(period_start)"
    )
    to_currency: str = Field(pattern=r"^[A-Z]{3}$", description="the factor's currency, e.g. USD")
    to_year: int = Field(ge=1900, le=2200, description="the factor's price year, e.g. 2022")
    exchange_rates: str = Field(description="exchange-rate table edition, e.g. frb-g5a-2024")
    price_index: str | None = Field(
        None, description="price-index table edition of the to_currency economy; without one only rows priced in to_year convert"
    )
    description: str | None = None


# co2_biogenic: outside the scopes; total: the rule's reported kg CO2e (a published total), its
# gases reported beside it (docs/authoring.md#emissions)
GasKey = Literal["co2e", "co2", "ch4", "n2o", "co2_biogenic", "total"]


class RuleSpec(Strict):
    """One ordered rule: the first rule whose condition holds decides a row's outcome."""

    id: str = Field(pattern=IDENT)
    description: str | None = None
    where: Expression | None = Field(None, description="condition; omitted means every remaining row")
    emissions: Expression | dict[GasKey, Expression] | None = Field(
        None,
        description="kg CO2e expression, or one expression per gas; 'total' with the gases: the published "
        "CO2e total reported, its gases beside it and the difference as part total_minus_gases",
    )
    exclude: str | None = Field(None, description="reason rows meeting 'where' are excluded")
    data_quality: Expression | int | None = Field(
        None, description="data-quality score, 1 (best) to 5 (poorest), of a row without its own data_quality; "
        "overrides the methodology's"
    )

    @model_validator(mode="after")
    def _one_outcome(self) -> "RuleSpec":
        if self.emissions is not None and self.exclude is not None:
            raise Problem(
                "this rule has both 'emissions' and 'exclude'",
                "a rule either calculates emissions or excludes rows: keep one, or split it into two rules",
                at="exclude",
            )
        if self.emissions is None and self.exclude is None:
            raise Problem(
                "this rule has neither 'emissions' nor 'exclude'",
                "add 'emissions: <expression>' to calculate, or 'exclude: <reason>' to leave matching rows out",
            )
        if isinstance(self.emissions, dict) and not self.emissions:
            raise Problem("'emissions' lists no gas", "give at least one of co2e, co2, ch4, n2o", at="emissions")
        return self


class MethodologyFile(Strict):
    """A versioned GHG Protocol calculation methodology."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, strict=True, title="ccf methodology"
    )

    methodology: str = Field(pattern=DOTTED_ID, description="id, e.g. scope2.electricity.location_based")
    version: str = Field(pattern=SEMVER, description="semantic version, e.g. 1.0.0")
    status: Literal["draft", "published"]
    title: str
    description: str | None = None
    ghg_protocol: GhgProtocol
    factor_set: str = Field(
        description="a declared factor set (factor_sets/<id>.yaml), e.g. desnz: a run reads its edition for the "
        "data's reporting period; or one edition, e.g. desnz-2024"
    )
    gwp: str = Field(description="IPCC GWP-100 set used to weight gases, e.g. AR6")
    activity: str = Field(pattern=IDENT, description="activity type this methodology consumes")
    parameters: dict[str, Expression | int | float] = Field(default_factory=dict)
    factors: dict[str, FactorLookupSpec] = Field(default_factory=dict)
    instruments: InstrumentsSpec | None = Field(
        None, description="contractual instruments allocated to the rows first; rules see them as instrument.<field>"
    )
    currency_conversions: dict[str, CurrencyConversionSpec] = Field(
        default_factory=dict, description="spend-based: amounts converted to the factor's currency and price year"
    )
    data_quality: Expression | int | None = Field(
        None, description="data-quality score, 1 (best) to 5 (poorest), of a result whose row has no data_quality "
        "and whose rule gives none, e.g. 4 for spend-based data"
    )
    rules: list[RuleSpec] = Field(min_length=1)

    @field_validator("parameters", "factors", "currency_conversions")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        """Expressions refer to parameters and factors by name, so each must be a usable name."""
        for name in v:
            if name in KEYWORDS:
                raise Problem(f"'{name}' is a word of the expression language", "choose another name", at=name)
            if not re.match(NAME, str(name)):
                example = re.sub(r"[^A-Za-z0-9_]+", "_", str(name)).strip("_")
                example = example if re.match(NAME, example) else "grid_loss"
                raise Problem(
                    f"'{name}' cannot be used as a name in expressions",
                    f"use letters, digits and '_', starting with a letter, e.g. {example}",
                    at=name,
                )
        return v


FieldKind = Literal["text", "number", "date", "boolean", "quantity"]


class FieldSpec(Strict):
    """One column of activity data."""

    type: FieldKind = "quantity"
    dimension: str | None = Field(None, description="for quantities: energy, mass, volume, distance, ...")
    unit: str | None = Field(None, description="fixed unit; otherwise each row names its unit in <field>_unit")
    required: bool = True
    description: str | None = None

    @model_validator(mode="after")
    def _dimension_iff_quantity(self) -> "FieldSpec":
        if self.type == "quantity" and not self.dimension and not self.unit:
            raise ValueError("a quantity field needs a 'dimension' (or a fixed 'unit')")
        if self.type != "quantity" and (self.dimension or self.unit):
            raise ValueError("only quantity fields have a dimension or unit")
        return self


class ActivityTypeFile(Strict):
    """The columns of one kind of activity data (the CSV contract)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, strict=True, title="ccf activity type"
    )

    activity_type: str = Field(pattern=IDENT)
    title: str
    description: str | None = None
    fields: dict[str, Union[FieldSpec, str]] = Field(
        min_length=1, description="name: dimension or type (shorthand), or a full field spec"
    )

    @field_validator("fields")
    @classmethod
    def _field_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not re.match(IDENT, name) or len(name) > 50:
                raise ValueError(f"field name '{name}' must be lower_snake_case (at most 50 characters)")
            if name in STANDARD_FIELDS or name in RESERVED_COLUMNS or name.endswith("_unit") or "__" in name:
                raise ValueError(f"'{name}' is a reserved column name")
        return v


# The columns every activity type has besides its own fields: name -> kind. All are required
# but data_quality: a row's data-quality score, 1 (best) to 5 (poorest), PCAF's scale
# (docs/data.md#data-quality); a CSV without the column loads as before, its rows not scored.
STANDARD_FIELDS = {"activity_id": "text", "entity": "text", "period_start": "date", "period_end": "date",
                   "data_quality": "number"}
DATA_QUALITY = "data_quality"
OPTIONAL_STANDARD_FIELDS = frozenset({DATA_QUALITY})
DATA_QUALITY_SCORES = (1, 2, 3, 4, 5)
# bookkeeping columns of activity tables and compiled queries; fields may not take these names
RESERVED_COLUMNS = frozenset({"dataset", "load_id", "line_no", "unit_conversion", "rule_no", "rule_id"})


_PATTERNS = {
    IDENT: ("must be lower_snake_case: small letters, digits and '_', starting with a letter", "e.g. {example}"),
    DOTTED_ID: (
        "must be small letters, digits and '_' in parts separated by dots",
        "e.g. scope2.electricity.location_based",
    ),
    SEMVER: ("must be a version of three numbers separated by dots", "e.g. {example}"),
}
_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping of 'key: value' lines",
    "model_type": "a mapping of 'key: value' lines",
    "model_attributes_type": "a mapping of 'key: value' lines",
    "list_type": "a list of '- ' items",
}


def _kind_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    return repr(value)


def _pattern_example(pattern: str, value: Any) -> str:
    text = str(value)
    if pattern == SEMVER:
        nums = (re.findall(r"\d+", text) + ["0", "0", "0"])[:3]
        return ".".join(str(int(n)) for n in nums)
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "my_name"


def _message(err: dict[str, Any], loc: tuple = ()) -> tuple[str, str | None]:
    """A pydantic error in the author's words, and a suggestion."""
    msg = err["msg"].removeprefix("Value error, ")
    kind = err["type"]
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return f"'{name}' is missing", None
    if kind == "extra_forbidden":
        return f"unknown key '{name}'", None
    if kind == "value_error" and isinstance(ctx.get("error"), Problem):
        return str(ctx["error"]), ctx["error"].suggestion
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERNS:
        words, example = _PATTERNS[ctx["pattern"]]
        return f"'{name}' {words} (got {value!r})", example.format(example=_pattern_example(ctx["pattern"], value))
    if kind in ("literal_error", "enum"):
        allowed = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        if "[key]" in err["loc"]:
            return f"'{value}' is not allowed here; use {ctx.get('expected')}", did_you_mean(str(value), allowed)
        if len(allowed) > 6:  # a long list: the suggestion carries it
            hint = did_you_mean(str(value), allowed) or f"use one of {ctx.get('expected')}"
            return f"'{name}' cannot be {_kind_of(value)}", hint
        return f"'{name}' must be {ctx.get('expected')}, not {_kind_of(value)}", did_you_mean(str(value), allowed)
    if kind == "union_type":
        kinds = ctx["kinds"]
        return f"'{name}' must be {', '.join(kinds[:-1])} or {kinds[-1]}, not {_kind_of(value)}", None
    if kind in _TYPE_WORDS:
        return f"'{name}' must be {_TYPE_WORDS[kind]}, not {_kind_of(value)}", None
    if kind == "too_short" and ctx.get("min_length") == 1:
        return f"'{name}' needs at least one item", None
    if msg.startswith("Input should be") and name:
        return f"'{name}' should be{msg.removeprefix('Input should be')} (got {_kind_of(value)})", None
    return (msg[0].lower() + msg[1:] if msg else kind), None


def _field_description(model: type[Strict], loc: tuple) -> str | None:
    current: Any = _model_at(model, loc[:-1])
    field = getattr(current, "model_fields", {}).get(loc[-1]) if loc else None
    return field.description if field is not None else None


def validate_document(doc: YamlDocument, model: type[Strict]) -> Any:
    """Validate YAML data against a model; every pydantic error becomes a positioned diagnostic."""
    if not isinstance(doc.data, dict):
        raise DiagnosticError(
            [Diagnostic("E201", "the file must be a mapping of keys (e.g. 'methodology: …')", doc.span(()))]
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors()
    cleaned = [
        (err, _data_loc(doc.data, err["loc"], keep_last=err["type"] == "missing"))
        for err in errors
    ]
    missing = {loc for err, loc in cleaned if err["type"] == "missing"}
    misspelt: dict[tuple, str] = {}  # unknown key -> the missing key next to it that it resembles
    for err, loc in cleaned:
        if err["type"] == "extra_forbidden":
            near = did_you_mean(str(loc[-1]), [str(m[-1]) for m in missing if m[:-1] == loc[:-1]])
            if near:
                misspelt[loc] = near
    claimed = {m for m in missing for loc, near in misspelt.items() if m[:-1] == loc[:-1] and f"'{m[-1]}'" in near}
    diags = []
    for err, loc in _prefer_specific(cleaned):
        message, suggestion = _message(err, loc)
        if err["type"] == "extra_forbidden":
            span = doc.key_span(loc)
            suggestion = misspelt.get(loc) or did_you_mean(str(loc[-1]), _allowed_keys(model, loc[:-1], doc))
        elif err["type"] == "missing":
            if loc in claimed:
                continue
            span = doc.key_span(loc[:-1]) if loc[:-1] else doc.span(())
            if not loc[:-1]:
                span = type(span)(span.path, 1, 1, 1, 1)
            about = _field_description(model, loc)
            suggestion = f"add '{loc[-1]}: …'" + (f" ({about})" if about else "")
        elif err["type"] == "value_error" and isinstance((err.get("ctx") or {}).get("error"), Problem):
            at = err["ctx"]["error"].at
            span = _key_and_value(doc, loc + (at,)) if at else doc.key_span(loc)
        elif "[key]" in err["loc"]:
            span = doc.key_span(loc)
        else:
            span = doc.span(loc)
        diags.append(Diagnostic("E202", message, span, suggestion=suggestion))
    raise DiagnosticError(_drop_union_noise(diags)) from None


def _data_loc(data: Any, loc: tuple, keep_last: bool) -> tuple:
    """The parts of a pydantic location that are keys and indices in the data.

    Pydantic adds the names of union members ('constrained-str', 'function-after[…]', '[key]')
    to locations; an author's key may contain any character, so keep exactly the parts that
    are found in the data (and a missing key's name, which by definition is not).
    """
    out: list = []
    for i, part in enumerate(loc):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        elif keep_last and i == len(loc) - 1:
            pass
        else:
            continue
        out.append(part)
    return tuple(out)


def _key_and_value(doc: YamlDocument, path: tuple) -> Any:
    """From the start of a key to the end of its value when both are on one line."""
    key, value = doc.key_spans.get(path), doc.value_spans.get(path)
    if key is None or value is None:
        return doc.key_span(path)
    if value.end_line != key.line:
        return key
    return type(key)(key.path, key.line, key.column, value.end_line, value.end_column)


def _prefer_specific(cleaned: list[tuple[dict, tuple]]) -> list[tuple[dict, tuple]]:
    """Each member of a union reports; where one says more than 'wrong type', keep that."""
    specific = {loc[: len(loc) - 1] if "[key]" in err["loc"] else loc for err, loc in cleaned if err["type"] not in _TYPE_WORDS}
    out, seen_type = [], set()
    for err, loc in cleaned:
        if err["type"] in _TYPE_WORDS:
            if any(loc == s[: len(loc)] for s in specific) or loc in seen_type:
                continue
            seen_type.add(loc)
            kinds = {_TYPE_WORDS[e["type"]] for e, l in cleaned if l == loc and e["type"] in _TYPE_WORDS}
            if "a number" in kinds:
                kinds.discard("a whole number")
            if len(kinds) > 1:
                err = dict(err, type="union_type", ctx={"kinds": sorted(kinds, key=len)})
        out.append((err, loc))
    return out


def _drop_union_noise(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Union members each report; keep the first error at a span."""
    seen, out = set(), []
    for d in diags:
        key = (d.span.line, d.span.column)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _model_at(model: type[Strict], loc: tuple) -> Any:
    """The model class that describes the mapping at loc (None when there is none)."""
    current: Any = model
    keyed = False  # the previous field is a dict: the next part is one of its keys
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        keyed = getattr(ann, "__origin__", None) is dict
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        for c in candidates:
            inner = getattr(c, "__args__", ())
            for cc in (c, *inner):
                if isinstance(cc, type) and issubclass(cc, BaseModel):
                    current = cc
                    break
    return current


def _allowed_keys(model: type[Strict], loc: tuple, doc: YamlDocument) -> list[str]:
    return list(getattr(_model_at(model, loc), "model_fields", {}))
