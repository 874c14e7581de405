"""The JSON Schema (draft 2020-12) of the language, for editors and other tools.

Each module's inputs are described under its `module` (or node `type`), and any input may be
a template instead of a literal value, as the compiler allows.
"""

from __future__ import annotations

import copy
from typing import Any

from workflows import dsl
from workflows.modules.registry import Registry

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TEMPLATE = {"type": "string", "pattern": r"\{[{%]", "description": "A template, evaluated at run time"}
_MAP_KEYWORDS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_ONE_KEYWORDS = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames")
_LIST_KEYWORDS = ("anyOf", "oneOf", "allOf", "prefixItems")


def language_schema(registry: Registry) -> dict[str, Any]:
    """The schema of a definition file, with the inputs of every registered module."""
    schema = dsl.Definition.model_json_schema(by_alias=True)
    defs: dict[str, Any] = schema["$defs"]
    module_names = registry.names()
    step_rules, node_rules = [], []
    for spec in registry:
        inputs = _relaxed(_inline_defs(spec.input_schema(), spec.name, defs))
        step_rules.append(_when("module", spec.name, "inputs", inputs))
        node_rules.append(_when("type", spec.name, "config", inputs))
    for alias, target in dsl.NODE_ALIASES.items():
        if target in registry:
            inputs = _relaxed(_inline_defs(registry.get(target).input_schema(), target, defs))  # type: ignore[union-attr]
            node_rules.append(_when("type", alias, "config", inputs))
    conditional = _relaxed(_inline_defs(dsl.ConditionalConfig.model_json_schema(), "conditional", defs))
    node_rules.append(_when("type", dsl.CONDITIONAL, "config", conditional))
    defs["ModuleStep"]["properties"]["module"]["enum"] = module_names
    defs["ModuleStep"]["allOf"] = step_rules
    node_types = sorted({*module_names, *dsl.NODE_ALIASES, dsl.CONDITIONAL})
    defs["Node"]["properties"]["type"]["enum"] = node_types
    defs["Node"]["allOf"] = node_rules
    return {
        "$schema": DRAFT,
        "$id": "urn:stepwise:definition:v1",
        "title": "Stepwise workflow definition",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _when(key: str, value: str, field: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "if": {"properties": {key: {"const": value}}, "required": [key]},
        "then": {"properties": {field: schema}},
    }


def _inline_defs(schema: dict[str, Any], prefix: str, defs: dict[str, Any]) -> dict[str, Any]:
    """Move a module schema's $defs into the language's, renamed `<module>.<Name>`."""
    schema = copy.deepcopy(schema)
    local = schema.pop("$defs", {})
    renames = {f"#/$defs/{name}": f"#/$defs/{prefix}.{name}" for name in local}
    for name, sub in local.items():
        defs[f"{prefix}.{name}"] = _relaxed(_rename_refs(sub, renames))
    return _rename_refs(schema, renames)  # type: ignore[no-any-return]


def _rename_refs(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: renames.get(v, v) if k == "$ref" else _rename_refs(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_refs(v, renames) for v in value]
    return value


def _relaxed(schema: Any) -> Any:
    """Let every non-string value also be written as a template."""
    if not isinstance(schema, dict):
        return schema
    result = dict(schema)
    for key in _MAP_KEYWORDS:
        if isinstance(result.get(key), dict):
            result[key] = {name: _relaxed(sub) for name, sub in result[key].items()}
    for key in _ONE_KEYWORDS:
        if isinstance(result.get(key), dict):
            result[key] = _relaxed(result[key])
    for key in _LIST_KEYWORDS:
        if isinstance(result.get(key), list):
            result[key] = [_relaxed(sub) for sub in result[key]]
    if _constrains_non_string(result):
        meta = {k: result.pop(k) for k in ("title", "description", "default") if k in result}
        return {**meta, "anyOf": [result, TEMPLATE]}
    return result


def _constrains_non_string(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind is not None:
        return bool(kind != "string")
    return "$ref" in schema or "enum" in schema or "const" in schema
