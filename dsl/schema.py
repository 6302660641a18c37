"""JSON Schemas of the file formats, exported from the pydantic models (for editors)."""

from __future__ import annotations

from typing import Any

from ccf.dsl.cases import CaseFile
from ccf.dsl.factor_sets import FactorSetFile
from ccf.dsl.model import ActivityTypeFile, MethodologyFile

SCHEMA_BASE = "https://ccf.invalid/schema/"


def schema_of(model: type, name: str) -> dict[str, Any]:
    """The JSON Schema of a file format's model, with its $id under SCHEMA_BASE."""
    schema = model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_BASE + name, **schema}


def methodology_schema() -> dict[str, Any]:
    return schema_of(MethodologyFile, "methodology.schema.json")


def activity_type_schema() -> dict[str, Any]:
    return schema_of(ActivityTypeFile, "activity-type.schema.json")


def factor_set_schema() -> dict[str, Any]:
    return schema_of(FactorSetFile, "factor-set.schema.json")


def test_case_schema() -> dict[str, Any]:
    return schema_of(CaseFile, "test-case.schema.json")
