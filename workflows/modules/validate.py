"""io.validate: check data against a JSON Schema without failing the run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import Field, field_validator

from workflows.modules.registry import ModuleInput, ModuleOutput, json_schema
from workflows.typecheck import isinstance


class ValidateInput(ModuleInput):
    data: Any = Field(description="The data to check")
    schema_: Any = Field(alias="schema", description="A JSON Schema (draft 2020-12)")

    _schema = field_validator("schema_")(json_schema)


class ValidateOutput(ModuleOutput):
    valid: bool = Field(description="True when the data matches the schema")
    errors: list[str] = Field(description="Each mismatch as `/pointer: message`")


def validate(inputs: ValidateInput, scope: Mapping[str, Any]) -> ValidateOutput:
    """Report every way the data misses the schema."""
    validator = Draft202012Validator(inputs.schema_)
    # Array indexes sort as numbers (/2 before /10); keys and indexes never share a level.
    errors = sorted(
        validator.iter_errors(inputs.data),
        key=lambda e: ([(isinstance(p, str), p) for p in e.absolute_path], e.message),
    )
    messages = ["/" + "/".join(_pointer_part(p) for p in e.absolute_path) + f": {e.message}" for e in errors]
    return ValidateOutput(valid=not messages, errors=messages)


def _pointer_part(part: str | int) -> str:
    # JSON Pointer (RFC 6901) escapes, so a key holding "/" or "~" names one place.
    return str(part).replace("~", "~0").replace("/", "~1")
