"""Parse definition text (YAML or JSON) into plain data, with syntax errors at line and column."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from workflows.dsl import case_key
from workflows.problems import DefinitionError, Problem

MAX_TEXT_BYTES = 1024 * 1024
# Aliases let a small YAML file expand to a huge value; count values as they would be sent.
MAX_VALUES = 200_000


class _Loader(yaml.SafeLoader):
    """YAML 1.2 core scalars: only true/false are booleans, no dates, no sexagesimal numbers."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = case_key(self.construct_object(key_node, deep=deep))
            if key in mapping:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (a later one would hide the first)", mark
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.endswith((":str", ":merge", ":value"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _regex, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN\0"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_regex), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        if text[:2] in ("0o", "0x"):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"'{text}' is not an integer", node.start_mark
        ) from exc


def _refuse(loader: yaml.SafeLoader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(
        None, None, f"{node.tag} values are not JSON data; quote the value", node.start_mark
    )


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
for _unsupported in ("timestamp", "binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_unsupported}", _refuse)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise ValueError(f"duplicate key '{key}' (a later one would hide the first)")
        mapping[key] = value
    return mapping


def _count_values(value: Any, budget: int) -> int:
    """Values in `value` counting shared ones each time, stopping once over `budget`."""
    stack = [value]
    seen = 0
    while stack and seen <= budget:
        current = stack.pop()
        seen += 1
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return seen


def parse_text(text: str, filename: str = "") -> Any:
    """Parse YAML or JSON text (JSON for `.json` files) into plain data."""
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise DefinitionError(
            [Problem("/", f"definition is {size} bytes; the limit is {MAX_TEXT_BYTES} (1 MiB)")]
        )
    data = _parse_json(text) if filename.endswith(".json") else _parse_yaml(text)
    if _count_values(data, MAX_VALUES) > MAX_VALUES:
        raise DefinitionError(
            [Problem("/", f"definition expands to more than {MAX_VALUES} values (YAML aliases?)")]
        )
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise DefinitionError(
            [Problem("/", f"a definition is a mapping with stepwise, name and steps; this file is {kind}")]
        )
    return data


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_json_pairs)
    except json.JSONDecodeError as exc:
        raise DefinitionError([Problem("/", exc.msg, exc.lineno, exc.colno)]) from exc
    except ValueError as exc:
        raise DefinitionError([Problem("/", str(exc))]) from exc


def _parse_yaml(text: str) -> Any:
    try:
        documents = list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        message = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark:
            where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
            message = f"{message} ({exc.context} at {where})"
        if not isinstance(exc, yaml.constructor.ConstructorError):
            message = f"YAML syntax error: {message}"
        raise DefinitionError([Problem("/", message, line, column)]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError([Problem("/", f"YAML error: {exc}", 1, 1)]) from exc
    if len(documents) > 1:
        raise DefinitionError([Problem("/", "one definition per file: remove the extra '---' documents")])
    return documents[0] if documents else None
