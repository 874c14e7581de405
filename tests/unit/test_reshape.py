"""transform.reshape: build data from a template, once or once per item (`_for_each`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.modules.transform import (
    INDEX_VAR,
    ITEM_VAR,
    ReshapeInput,
    reshape,
    substitute_item,
)
from workflows.templates import TemplateError


def run(source: Any, template: Any, scope: dict[str, Any] | None = None) -> Any:
    inputs = ReshapeInput.model_validate({"source": source, "template": template})
    return reshape(inputs, scope or {}).result


# --- With _for_each -------------------------------------------------------------------


def test_the_dsl_example_builds_one_record_per_item() -> None:
    source = [{"title": "A"}, {"title": "B"}]
    template = {
        "_for_each": "$item",
        "_output": {"scene_id": "{{ $item._index }}", "title": "{{ $item.title }}"},
    }
    assert run(source, template) == [
        {"scene_id": 0, "title": "A"},
        {"scene_id": 1, "title": "B"},
    ]


def test_the_index_is_an_integer_alone_and_text_inside_a_sentence() -> None:
    template = {
        "_for_each": "$item",
        "_output": {"n": "{{ $item._index }}", "label": "Scene {{ $item._index + 1 }}"},
    }
    assert run(["a", "b"], template) == [
        {"n": 0, "label": "Scene 1"},
        {"n": 1, "label": "Scene 2"},
    ]


def test_the_item_may_have_any_name() -> None:
    template = {
        "_for_each": "$scene",
        "_output": "{{ $scene.title }} #{{ $scene._index }}",
    }
    assert run([{"title": "A"}, {"title": "B"}], template) == ["A #0", "B #1"]


def test_the_whole_value_rule_applies_inside_the_output() -> None:
    source = [{"tags": ["x", "y"], "n": "3"}]
    template = {
        "_for_each": "$item",
        "_output": {"tags": "{{ $item.tags }}", "n": "{{ $item.n }}"},
    }
    assert run(source, template) == [{"tags": ["x", "y"], "n": "3"}]


def test_the_item_itself_can_be_the_output() -> None:
    source = [{"a": 1}, [2], "three", None]
    assert run(source, {"_for_each": "$item", "_output": "{{ $item }}"}) == source


def test_the_position_wins_over_an_items_own_index_key() -> None:
    template = {
        "_for_each": "$item",
        "_output": ["{{ $item._index }}", "{{ $item['_index'] }}"],
    }
    assert run([{"_index": 99}], template) == [[0, 99]]


def test_nested_lists_mappings_and_plain_values_are_built_per_item() -> None:
    template = {
        "_for_each": "$item",
        "_output": {
            "kind": "scene",
            "weight": 1.5,
            "flags": [True, None],
            "parts": [
                {"text": "{{ $item.text | upper }}"},
                "{{ $item.text | length }}",
            ],
        },
    }
    assert run([{"text": "ab"}], template) == [
        {
            "kind": "scene",
            "weight": 1.5,
            "flags": [True, None],
            "parts": [{"text": "AB"}, 2],
        }
    ]


def test_keys_of_the_output_may_be_templates_too() -> None:
    template = {"_for_each": "$e", "_output": {"{{ $e.key }}": "{{ $e.value }}"}}
    assert run([{"key": "a", "value": 1}, {"key": 7, "value": 2}], template) == [
        {"a": 1},
        {"7": 2},
    ]


def test_the_rest_of_the_scope_is_visible_per_item() -> None:
    template = {
        "_for_each": "$item",
        "_output": "{{ input.prefix }}{{ $item }}/{{ state.n }}",
    }
    scope = {"input": {"prefix": "p-"}, "state": {"n": 3}}
    assert run(["a", "b"], template, scope) == ["p-a/3", "p-b/3"]


def test_an_empty_source_builds_an_empty_list() -> None:
    assert run([], {"_for_each": "$item", "_output": "{{ $item.never }}"}) == []


def test_a_literal_dollar_name_outside_the_tags_is_left_as_written() -> None:
    template = {
        "_for_each": "$item",
        "_output": "Cost of $item: {{ $item.price }} ($item._index)",
    }
    assert run([{"price": 3}], template) == ["Cost of $item: 3 ($item._index)"]


def test_a_longer_name_that_starts_with_the_item_name_is_not_the_item() -> None:
    template = {"_for_each": "$it", "_output": "{{ $it.a }}"}
    assert run([{"a": 1}], template) == [1]
    with pytest.raises(TemplateError):
        run([{"a": 1}], {"_for_each": "$it", "_output": "{{ $item.a }}"})


def test_an_error_names_the_item_as_written_not_an_internal_name() -> None:
    template = {"_for_each": "$scene", "_output": "{{ $scene.missing }}"}
    with pytest.raises(TemplateError) as caught:
        run([{"title": "A"}], template)
    message = str(caught.value)
    assert "no attribute 'missing'" in message
    assert "{{ $scene.missing }}" in message
    assert ITEM_VAR not in message


def test_for_each_needs_a_list_source() -> None:
    with pytest.raises(TemplateError, match="source must be a list"):
        run({"a": 1}, {"_for_each": "$item", "_output": "x"})


@pytest.mark.parametrize("name", ["item", "$", "$1x", "$a-b", 3, None])
def test_for_each_must_name_the_item_with_a_dollar_name(name: Any) -> None:
    with pytest.raises(TemplateError, match="_for_each must name the item"):
        run([1], {"_for_each": name, "_output": "x"})


def test_for_each_needs_an_output() -> None:
    with pytest.raises(TemplateError, match="needs _output"):
        run([1], {"_for_each": "$item"})


def test_for_each_allows_no_other_keys() -> None:
    with pytest.raises(TemplateError, match=r"only _for_each and _output, not \['extra'\]"):
        run([1], {"_for_each": "$item", "_output": "x", "extra": 1})


@settings(deadline=None)
@given(st.lists(st.integers() | st.text(max_size=5) | st.none(), max_size=10))
def test_for_each_builds_one_result_per_item_in_order(source: list[Any]) -> None:
    template = {
        "_for_each": "$item",
        "_output": {"i": "{{ $item._index }}", "v": "{{ $item }}"},
    }
    assert run(source, template) == [{"i": i, "v": v} for i, v in enumerate(source)]


# --- Without _for_each ----------------------------------------------------------------


def test_without_for_each_the_template_is_built_once_with_source_in_scope() -> None:
    source = {"scenes": [{"title": "A"}, {"title": "B"}]}
    template = {
        "count": "{{ source.scenes | length }}",
        "titles": "{{ source.scenes | map(attribute='title') | list }}",
        "first": ["{{ source.scenes[0] }}", "fixed"],
        "summary": "{{ source.scenes | length }} scenes",
    }
    assert run(source, template) == {
        "count": 2,
        "titles": ["A", "B"],
        "first": [{"title": "A"}, "fixed"],
        "summary": "2 scenes",
    }


def test_a_string_template_builds_any_value() -> None:
    assert run([3, 1, 2], "{{ source | sort }}") == [1, 2, 3]
    assert run("x", "{{ source }}") == "x"


def test_a_template_without_templates_is_returned_as_it_is() -> None:
    template = {"a": [1, "two", None], "b": {"c": True}}
    assert run("ignored", template) == template


def test_the_rest_of_the_scope_is_visible_once() -> None:
    assert run([1], {"topic": "{{ input.topic }}"}, {"input": {"topic": "cats"}}) == {"topic": "cats"}


def test_an_undefined_name_is_an_error() -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        run([1], {"a": "{{ nope }}"})


# --- substitute_item (also used by the compiler to check these templates) -------------


def test_substitute_item_replaces_the_name_and_its_index_inside_tags_only() -> None:
    text = "$item: {{ $item.a ~ $items ~ $item._index }}{% if $item._indexed %}{% endif %}"
    assert substitute_item(text, "$item") == (
        f"$item: {{{{ {ITEM_VAR}.a ~ $items ~ {INDEX_VAR} }}}}{{% if {ITEM_VAR}._indexed %}}{{% endif %}}"
    )


def test_substitute_item_reaches_past_a_nested_literal_in_the_same_tag() -> None:
    assert (
        substitute_item("{{ [{'a': {'b': 1}}, $x.y] }}", "$x")
        == f"{{{{ [{{'a': {{'b': 1}}}}, {ITEM_VAR}.y] }}}}"
    )
