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
SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$"

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
)
Method = Literal[CALCULATION_METHODS]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class GhgProtocol(Strict):
    """Where the methodology sits in the GHG Protocol and which guidance it implements."""

    scope: Literal[1, 2, 3]
    category: int | None = Field(None, ge=1, le=15, description="Scope 3 category 1-15; only for scope 3")
    source: str | None = Field(None, description="Scope 1/2 source category, e.g. 'stationary combustion'")
    method: Method = Field(description="calculation method as named by the GHG Protocol")
    references: list[str] = Field(min_length=1, description="guidance sections this methodology implements")

    @model_validator(mode="after")
    def _category_only_in_scope3(self) -> "GhgProtocol":
        if self.scope == 3 and self.category is None:
            raise ValueError("a Scope 3 methodology must name its category (1-15)")
        if self.scope != 3 and self.category is not None:
            raise ValueError("only Scope 3 methodologies have a category")
        return self


class FactorLookupSpec(Strict):
    """How rows find an emission factor: fixed attributes (select) and keys from the row (match)."""

    select: dict[str, str] = Field(default_factory=dict, description="factor attribute = fixed text")
    match: dict[str, Expression] = Field(default_factory=dict, description="factor attribute = expression over fields")
    per: str = Field(description="unit the factor is stated per, e.g. kWh, passenger.km, t")
    description: str | None = None

    @model_validator(mode="after")
    def _something_selected(self) -> "FactorLookupSpec":
        if not self.select and not self.match:
            raise ValueError("a factor lookup needs 'select' or 'match' (or both)")
        return self


GasKey = Literal["co2e", "co2", "ch4", "n2o"]


class RuleSpec(Strict):
    """One ordered rule: the first rule whose condition holds decides a row's outcome."""

    id: str = Field(pattern=IDENT)
    description: str | None = None
    where: Expression | None = Field(None, description="condition; omitted means every remaining row")
    emissions: Expression | dict[GasKey, Expression] | None = Field(
        None, description="kg CO2e expression, or one expression per gas"
    )
    exclude: str | None = Field(None, description="reason rows meeting 'where' are excluded")

    @model_validator(mode="after")
    def _one_outcome(self) -> "RuleSpec":
        if (self.emissions is None) == (self.exclude is None):
            raise ValueError("a rule has exactly one of 'emissions' or 'exclude'")
        if isinstance(self.emissions, dict) and not self.emissions:
            raise ValueError("'emissions' lists no gas")
        return self


class MethodologyFile(Strict):
    """A versioned GHG Protocol calculation methodology."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, title="ccf methodology"
    )

    methodology: str = Field(pattern=DOTTED_ID, description="id, e.g. scope2.electricity.location_based")
    version: str = Field(pattern=SEMVER, description="semantic version, e.g. 1.0.0")
    status: Literal["draft", "published"]
    title: str
    description: str | None = None
    ghg_protocol: GhgProtocol
    factor_set: str = Field(description="factor set edition id, e.g. desnz-2024")
    gwp: Literal["AR4", "AR5", "AR6"] = Field(description="IPCC GWP-100 set used to weight gases")
    activity: str = Field(pattern=IDENT, description="activity type this methodology consumes")
    parameters: dict[str, Expression | int | float] = Field(default_factory=dict)
    factors: dict[str, FactorLookupSpec] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(min_length=1)


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
        extra="forbid", frozen=True, str_strip_whitespace=True, title="ccf activity type"
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
            if name in STANDARD_FIELDS or name.endswith("_unit"):
                raise ValueError(f"'{name}' is a reserved column name")
        return v


STANDARD_FIELDS = {"activity_id": "text", "entity": "text", "period_start": "date", "period_end": "date"}


def _message(err: dict[str, Any]) -> str:
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    kind = err["type"]
    if kind == "missing":
        return f"'{err['loc'][-1]}' is required here"
    if kind == "extra_forbidden":
        return f"unknown key '{err['loc'][-1]}'"
    if kind == "string_pattern_mismatch":
        return f"{msg.lower()} (got {err['input']!r})"
    if kind in ("literal_error", "enum"):
        return f"{msg} (got {err['input']!r})"
    return msg[0].lower() + msg[1:] if msg else kind


def validate_document(doc: YamlDocument, model: type[Strict]) -> Any:
    """Validate YAML data against a model; every pydantic error becomes a positioned diagnostic."""
    if not isinstance(doc.data, dict):
        raise DiagnosticError(
            [Diagnostic("E201", "the file must be a mapping of keys (e.g. 'methodology: …')", doc.span(()))]
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        diags = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in _UNION_TAGS)))
            suggestion = None
            if err["type"] == "extra_forbidden":
                span = doc.key_span(loc)
                allowed = _allowed_keys(model, loc[:-1], doc)
                suggestion = did_you_mean(str(loc[-1]), allowed)
            elif err["type"] == "missing":
                span = doc.key_span(loc[:-1]) if loc[:-1] else doc.span(())
                if not loc[:-1]:
                    span = type(span)(span.path, 1, 1, 1, 1)
            else:
                span = doc.span(loc)
            diags.append(Diagnostic("E202", _message(err), span, suggestion=suggestion))
        raise DiagnosticError(_drop_union_noise(diags)) from None


_UNION_TAGS = {"str", "dict[str,str]", "FieldSpec", "int", "float", "function-after[_one_outcome(), RuleSpec]"}


def _drop_union_noise(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Union members each report; keep the first error at a span."""
    seen, out = set(), []
    for d in diags:
        key = (d.span.line, d.span.column)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _allowed_keys(model: type[Strict], loc: tuple, doc: YamlDocument) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        for c in candidates:
            inner = getattr(c, "__args__", ())
            for cc in (c, *inner):
                if isinstance(cc, type) and issubclass(cc, BaseModel):
                    current = cc
                    break
    return list(getattr(current, "model_fields", {}))
