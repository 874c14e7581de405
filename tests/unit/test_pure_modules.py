"""The small pure modules: extract, concat_arrays, render_template(_array) and validate."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workflows.modules.render import (
    RenderTemplateArrayInput,
    RenderTemplateArrayOutput,
    RenderTemplateInput,
    render_template,
    render_template_array,
)
from workflows.modules.transform import (
    ConcatArraysInput,
    ExtractInput,
    concat_arrays,
    extract,
)
from workflows.modules.validate import ValidateInput, ValidateOutput, validate
from workflows.templates import TemplateError

# --- transform.extract ----------------------------------------------------------------


def test_extract_passes_every_named_input_through_unchanged() -> None:
    values = {
        "category": "technical",
        "team": ["a", "b"],
        "score": 3,
        "meta": {"x": None},
    }
    out = extract(ExtractInput.model_validate(values), {})
    assert out.model_dump() == values


def test_extract_accepts_names_that_shadow_model_attributes() -> None:
    values = {"json": 1, "schema": 2, "copy": 3}
    assert extract(ExtractInput.model_validate(values), {}).model_dump() == values


def test_extract_with_no_inputs_has_no_outputs() -> None:
    assert extract(ExtractInput.model_validate({}), {}).model_dump() == {}


# --- transform.concat_arrays ----------------------------------------------------------


def test_concat_arrays_joins_lists_end_to_end_in_order() -> None:
    inputs = ConcatArraysInput.model_validate({"arrays": [[1, 2], [], ["a"], [[3], {"k": 4}]]})
    assert concat_arrays(inputs, {}).result == [1, 2, "a", [3], {"k": 4}]


def test_concat_arrays_of_nothing_is_empty() -> None:
    assert concat_arrays(ConcatArraysInput.model_validate({"arrays": []}), {}).result == []


@pytest.mark.parametrize("arrays", [[1, [2]], "ab", [[1], None]])
def test_concat_arrays_refuses_anything_but_a_list_of_lists(arrays: Any) -> None:
    with pytest.raises(ValidationError):
        ConcatArraysInput.model_validate({"arrays": arrays})


@settings(deadline=None)
@given(st.lists(st.lists(st.integers() | st.text(max_size=3), max_size=5), max_size=6))
def test_concat_arrays_length_is_the_sum_and_order_is_kept(
    arrays: list[list[Any]],
) -> None:
    result = concat_arrays(ConcatArraysInput.model_validate({"arrays": arrays}), {}).result
    assert len(result) == sum(len(a) for a in arrays)
    start = 0
    for array in arrays:
        assert result[start : start + len(array)] == array
        start += len(array)


# --- io.render_template ---------------------------------------------------------------


def test_render_template_returns_the_text_the_engine_rendered() -> None:
    inputs = RenderTemplateInput.model_validate({"template": "Hello, cats!\n"})
    assert render_template(inputs, {"input": {"topic": "dogs"}}).rendered == "Hello, cats!\n"


def test_render_template_needs_text() -> None:
    with pytest.raises(ValidationError):
        RenderTemplateInput.model_validate({"template": ["a"]})


# --- transform.render_template_array --------------------------------------------------


def render_array(scope: dict[str, Any] | None = None, **inputs: Any) -> RenderTemplateArrayOutput:
    return render_template_array(RenderTemplateArrayInput.model_validate(inputs), scope or {})


def test_render_template_array_renders_once_per_item_with_item_and_index() -> None:
    out = render_array(
        items=[{"title": "A"}, {"title": "B"}],
        template="{{ index + 1 }}. {{ item.title }}",
    )
    assert out.sections == ["1. A", "2. B"]
    assert out.rendered == "1. A\n\n2. B"
    assert out.count == 2


def test_render_template_array_joins_with_the_given_separator() -> None:
    out = render_array(items=["a", "b", "c"], template="<{{ item }}>", separator=", ")
    assert out.rendered == "<a>, <b>, <c>"


def test_render_template_array_item_and_index_may_be_renamed() -> None:
    out = render_array(
        items=["x", "y"],
        template="{{ n }}={{ scene }}",
        item_variable="scene",
        index_variable="n",
    )
    assert out.sections == ["0=x", "1=y"]


@pytest.mark.parametrize("name", ["1st", "a-b", "", "my item"])
def test_render_template_array_refuses_names_a_template_cannot_use(name: str) -> None:
    with pytest.raises(ValidationError):
        RenderTemplateArrayInput.model_validate({"items": [], "template": "x", "item_variable": name})
    with pytest.raises(ValidationError):
        RenderTemplateArrayInput.model_validate({"items": [], "template": "x", "index_variable": name})


def test_render_template_array_sections_are_always_text() -> None:
    out = render_array(items=[3, [1, 2], None, {"a": 1}], template="{{ item }}")
    assert out.sections == ["3", "[1, 2]", "None", "{'a': 1}"]


def test_render_template_array_sees_the_rest_of_the_scope() -> None:
    out = render_array(
        {"input": {"topic": "cats"}},
        items=[1, 2],
        template="{{ input.topic }} {{ item }}",
    )
    assert out.sections == ["cats 1", "cats 2"]


def test_render_template_array_supports_statements_per_item() -> None:
    out = render_array(
        items=[{"tags": ["a", "b"]}, {"tags": []}],
        template="{% for t in item.tags %}#{{ t }}{% else %}none{% endfor %}",
    )
    assert out.sections == ["#a#b", "none"]


def test_render_template_array_of_no_items_renders_nothing() -> None:
    out = render_array(items=[], template="{{ item.never }}")
    assert (out.rendered, out.sections, out.count) == ("", [], 0)


def test_render_template_array_raises_for_an_undefined_name() -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        render_array(items=[1], template="{{ nope }}")


def test_render_template_array_raises_for_a_syntax_error() -> None:
    with pytest.raises(TemplateError, match="syntax error"):
        render_array(items=[1], template="{{ item ")


@settings(deadline=None)
@given(
    st.lists(st.text(alphabet="abc xyz", max_size=6), max_size=8),
    st.sampled_from(["\n\n", ", ", ""]),
)
def test_render_template_array_sections_join_into_the_rendered_text(items: list[str], separator: str) -> None:
    out = render_array(items=items, template="{{ item }}", separator=separator)
    assert out.sections == items
    assert out.count == len(items)
    assert out.rendered == separator.join(items)


# --- io.validate ----------------------------------------------------------------------


def check(data: Any, schema: Any) -> ValidateOutput:
    return validate(ValidateInput.model_validate({"data": data, "schema": schema}), {})


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name"],
}


def test_validate_accepts_matching_data() -> None:
    out = check({"name": "Ada", "age": 36, "tags": ["x"]}, PERSON)
    assert out.valid
    assert out.errors == []


def test_validate_reports_every_mismatch_with_its_pointer() -> None:
    out = check({"age": -1, "tags": ["ok", 2]}, PERSON)
    assert not out.valid
    assert out.errors == [
        "/: 'name' is a required property",
        "/age: -1 is less than the minimum of 0",
        "/tags/1: 2 is not of type 'string'",
    ]


def test_validate_lists_array_positions_in_numeric_order() -> None:
    out = check(list(range(12)), {"items": {"type": "string"}})
    assert [e.split(":")[0] for e in out.errors] == [f"/{i}" for i in range(12)]


def test_validate_escapes_keys_in_the_pointer() -> None:
    schema = {"properties": {"a/b": {"type": "string"}, "m~n": {"type": "string"}}}
    out = check({"a/b": 1, "m~n": 2}, schema)
    assert out.errors == [
        "/a~1b: 1 is not of type 'string'",
        "/m~0n: 2 is not of type 'string'",
    ]


def test_validate_uses_draft_2020_12() -> None:
    out = check([1, "x"], {"prefixItems": [{"type": "string"}]})
    assert out.errors == ["/0: 1 is not of type 'string'"]


def test_validate_accepts_boolean_schemas() -> None:
    assert check({"any": "thing"}, True).valid
    out = check(1, False)
    assert not out.valid
    assert out.errors == ["/: False schema does not allow 1"]


def test_validate_ignores_display_hints_in_the_schema() -> None:
    assert check(["a"], {"type": "array", "display": "grid"}).valid


@pytest.mark.parametrize("schema", [{"type": "wrong"}, {"minimum": "zero"}, [1], "string", 3])
def test_validate_refuses_a_schema_that_is_not_a_json_schema(schema: Any) -> None:
    with pytest.raises(ValidationError, match="schema"):
        ValidateInput.model_validate({"data": 1, "schema": schema})


def test_validate_needs_data_and_a_schema() -> None:
    with pytest.raises(ValidationError):
        ValidateInput.model_validate({"data": 1})
    with pytest.raises(ValidationError):
        ValidateInput.model_validate({"schema": {}})
    assert check(None, {"type": "null"}).valid
