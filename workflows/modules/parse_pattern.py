"""transform.parse_pattern: turn text (often an LLM's or a person's) into typed records."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflows.modules.registry import ModuleInput, ModuleOutput
from workflows.typecheck import isinstance

FieldType = Literal["str", "string", "int", "integer", "float", "number", "bool", "boolean"]
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off", ""}


def _check_regex(value: str) -> str:
    # Checked when the inputs are validated (at compile time), not when the step runs.
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


class PatternSpec(BaseModel):
    """A regular expression with named groups, and how to split the input into items."""

    model_config = ConfigDict(extra="forbid")

    regex: str = Field(description="Regular expression with named groups, matched against each item")
    separator: str | None = Field(
        default=None, description="Split the input into items on this text (default: one item)"
    )
    separator_is_regex: bool = Field(default=False, description="Treat `separator` as a regex")
    trim: bool = Field(default=True, description="Strip whitespace around each item")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _check_regex(value)

    @model_validator(mode="after")
    def _separator_compiles(self) -> PatternSpec:
        if self.separator_is_regex and self.separator is not None:
            try:
                _check_regex(self.separator)
            except ValueError as exc:
                raise ValueError(f"separator is {exc}") from exc
        return self


class FieldRule(BaseModel):
    """Checks on one parsed field."""

    model_config = ConfigDict(extra="forbid")

    required: bool = False
    min: float | None = None
    max: float | None = None
    in_: list[Any] | None = Field(default=None, alias="in")
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)


class ParsePatternInput(ModuleInput):
    input: str = Field(description="The text to parse")
    pattern: PatternSpec | str = Field(
        description="A regex with named groups, or {regex, separator, separator_is_regex, trim}"
    )
    field_types: dict[str, FieldType] = Field(
        default_factory=dict, description="Convert named groups: str, int, float or bool"
    )
    mappings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Replace values per field: {field: {from: to}}"
    )
    validation: dict[str, FieldRule] = Field(
        default_factory=dict, description="Rules per field: required, min, max, in, pattern"
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: PatternSpec | str) -> PatternSpec | str:
        return _check_regex(value) if isinstance(value, str) else value


class ParsePatternOutput(ModuleOutput):
    items: list[dict[str, Any]] = Field(description="One record per item: named groups, `_raw`, `_index`")
    valid: bool = Field(description="True when every item matched and passed its rules")
    errors: list[str] = Field(description="What did not match or convert, one message each")
    count: int = Field(description="How many items were parsed")


def _convert(value: str, kind: str) -> Any:
    if kind in ("int", "integer"):
        return int(value.strip())
    if kind in ("float", "number"):
        number = float(value.strip())
        if not math.isfinite(number):  # "nan", "inf": not JSON numbers
            raise ValueError(f"'{value}' is not a finite number")
        return number
    if kind in ("bool", "boolean"):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"'{value}' is not a yes/no value")
    return value


def _check(name: str, value: Any, rule: FieldRule) -> list[str]:
    problems = []
    if isinstance(value, int | float) and not isinstance(value, bool):
        if rule.min is not None and value < rule.min:
            problems.append(f"{name} is {value}, below the minimum {rule.min:g}")
        if rule.max is not None and value > rule.max:
            problems.append(f"{name} is {value}, above the maximum {rule.max:g}")
    if rule.in_ is not None and value not in rule.in_:
        problems.append(f"{name} is {value!r}, not one of {rule.in_}")
    if rule.pattern is not None and not re.fullmatch(rule.pattern, str(value)):
        problems.append(f"{name} '{value}' does not match {rule.pattern}")
    return problems


def _split(text: str, spec: PatternSpec) -> list[str]:
    if spec.separator is None:
        parts = [text]
    elif spec.separator_is_regex:
        separator = re.compile(spec.separator)
        # re.split also returns what the separator's groups captured; keep only the items.
        parts = separator.split(text)[:: separator.groups + 1]
    else:
        parts = text.split(spec.separator)
    if spec.trim:
        parts = [p.strip() for p in parts]
    return [p for p in parts if p]


def parse_pattern(inputs: ParsePatternInput, scope: Mapping[str, Any]) -> ParsePatternOutput:
    """Split the input into items, match each against the regex, convert and check fields."""
    spec = inputs.pattern if isinstance(inputs.pattern, PatternSpec) else PatternSpec(regex=inputs.pattern)
    regex = re.compile(spec.regex)
    items: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, raw in enumerate(_split(inputs.input, spec)):
        label = f"item {index + 1} ({raw[:40]!r})"
        match = regex.fullmatch(raw) or regex.match(raw)
        if match is None:
            errors.append(f"{label} does not match the pattern {spec.regex}")
            continue
        record: dict[str, Any] = {"_raw": raw, "_index": index}
        for name, value in match.groupdict().items():
            record[name] = value
            if value is None:
                continue
            kind = inputs.field_types.get(name)
            if kind is not None:
                try:
                    record[name] = _convert(value, kind)
                except ValueError:
                    errors.append(f"{label}: {name} '{value}' is not a valid {kind}")
            mapping = inputs.mappings.get(name)
            if mapping is not None and str(record[name]) in mapping:
                record[f"{name}_original"] = record[name]
                record[name] = mapping[str(record[name])]
        for name, rule in inputs.validation.items():
            if record.get(name) is None:
                if rule.required:
                    errors.append(f"{label}: {name} is missing")
                continue
            errors.extend(f"{label}: {p}" for p in _check(name, record[name], rule))
        items.append(record)
    if not items and not errors:
        errors.append("the input holds no items to parse")
    return ParsePatternOutput(items=items, valid=not errors, errors=errors, count=len(items))
