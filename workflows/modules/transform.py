"""Pure reshaping modules: transform.reshape, transform.extract, transform.concat_arrays."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ConfigDict, Field

from workflows.modules.registry import ModuleInput, ModuleOutput, TemplateSite
from workflows.templates import TemplateError, compile_template, is_template, iter_templates
from workflows.typecheck import isinstance

FOR_EACH = "_for_each"
OUTPUT = "_output"
ITEM_NAME = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$")
# Inside `_output`, `$name` becomes this identifier and `$name._index` the position.
ITEM_VAR = "__stepwise_item"
INDEX_VAR = "__stepwise_index"


class ReshapeInput(ModuleInput):
    source: Any = Field(description="The data to reshape: a list with `_for_each`, else any value")
    template: Any = Field(
        description="What to build: any value whose strings are templates; "
        '`{"_for_each": "$item", "_output": X}` builds X once per item of `source`'
    )


class ReshapeOutput(ModuleOutput):
    result: Any = Field(description="The reshaped data")


# The `{{ ... }}` and `{% ... %}` tags of a template: `$name` is replaced only inside them,
# so a literal "$item" in the text around them is left as the user wrote it. A tag runs to
# the last `}}` (`%}`) before the next tag opens, since a nested literal may hold `}}`.
_TAG = re.compile(r"\{\{(?:(?!\{\{|\{%).)*\}\}|\{%(?:(?!\{\{|\{%).)*%\}", re.DOTALL)


def substitute_item(text: str, name: str) -> str:
    """Replace `$name._index` and `$name` in a template's tags with the names bound per item."""

    def in_tag(match: re.Match[str]) -> str:
        tag = re.sub(re.escape(name) + r"\._index\b", INDEX_VAR, match.group(0))
        return re.sub(re.escape(name) + r"(?![A-Za-z0-9_])", ITEM_VAR, tag)

    return _TAG.sub(in_tag, text)


def for_each_spec(template: Any) -> tuple[str, Any] | None:
    """The item name and output template of a `_for_each` template, or None if it is not one."""
    if isinstance(template, dict) and FOR_EACH in template:
        name = template[FOR_EACH]
        if not isinstance(name, str) or not ITEM_NAME.match(name):
            raise ValueError(f"_for_each must name the item like '$item', not {name!r}")
        extra = sorted(set(template) - {FOR_EACH, OUTPUT})
        if extra:
            raise ValueError(f"a _for_each template holds only _for_each and _output, not {extra}")
        if OUTPUT not in template:
            raise ValueError("a _for_each template needs _output: what to build for each item")
        return name, template[OUTPUT]
    return None


def _render_tree(value: Any, scope: Mapping[str, Any], item_name: str | None) -> Any:
    if isinstance(value, str):
        if not is_template(value):
            return value
        if item_name is None:
            return compile_template(value).render(scope)
        try:
            return compile_template(substitute_item(value, item_name)).render(scope)
        except TemplateError as exc:
            # Name the item as the user wrote it, not by the identifier bound in its place.
            message = str(exc).replace(INDEX_VAR, f"{item_name}._index").replace(ITEM_VAR, item_name)
            raise TemplateError(message) from exc
    if isinstance(value, list):
        return [_render_tree(v, scope, item_name) for v in value]
    if isinstance(value, dict):
        return {
            str(_render_tree(k, scope, item_name)): _render_tree(v, scope, item_name)
            for k, v in value.items()
        }
    return value


def _tree_templates(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Templates in a reshape template: values, and mapping keys (which reshape renders too)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if is_template(str(key)):
                yield (*path, str(key)), str(key)
            yield from _tree_templates(child, (*path, str(key)))
    else:
        yield from iter_templates(value, path)


def reshape_template_sites(inputs: Mapping[str, Any]) -> Iterator[TemplateSite]:
    """The templates in reshape's `template`, as the module will render them."""
    template = inputs.get("template")
    try:
        spec = for_each_spec(template)
    except ValueError as exc:
        raise TemplateError(str(exc)) from exc
    if spec is None:
        for path, source in _tree_templates(template, ("template",)):
            yield TemplateSite(path, source, frozenset({"source"}))
        return
    name, output = spec
    for path, source in _tree_templates(output, ("template", OUTPUT)):
        yield TemplateSite(path, substitute_item(source, name), frozenset({ITEM_VAR, INDEX_VAR, "source"}))


def reshape(inputs: ReshapeInput, scope: Mapping[str, Any]) -> ReshapeOutput:
    """Build `template` once, or once per item of `source` with `_for_each`."""
    try:
        spec = for_each_spec(inputs.template)
    except ValueError as exc:
        raise TemplateError(str(exc)) from exc
    if spec is None:
        return ReshapeOutput(result=_render_tree(inputs.template, {**scope, "source": inputs.source}, None))
    name, output = spec
    if not isinstance(inputs.source, list):
        raise TemplateError(f"source must be a list to use _for_each, got {type(inputs.source).__name__}")
    result = [
        _render_tree(output, {**scope, "source": inputs.source, ITEM_VAR: item, INDEX_VAR: index}, name)
        for index, item in enumerate(inputs.source)
    ]
    return ReshapeOutput(result=result)


class ExtractInput(ModuleInput):
    """Any named inputs; each becomes an output of the same name."""

    model_config = ConfigDict(extra="allow")


class ExtractOutput(ModuleOutput):
    model_config = ConfigDict(extra="allow")


def extract(inputs: ExtractInput, scope: Mapping[str, Any]) -> ExtractOutput:
    """Pass named values through, evaluated: handy to name intermediate results."""
    return ExtractOutput(**(inputs.model_extra or {}))


class ConcatArraysInput(ModuleInput):
    arrays: list[list[Any]] = Field(description="Lists to join, in order")


class ConcatArraysOutput(ModuleOutput):
    result: list[Any] = Field(description="Every item of every list, in order")


def concat_arrays(inputs: ConcatArraysInput, scope: Mapping[str, Any]) -> ConcatArraysOutput:
    """Join lists end to end."""
    return ConcatArraysOutput(result=[item for array in inputs.arrays for item in array])
