"""Templates: the whole-value rule, strictness, the sandbox and conversion to JSON data."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from workflows.templates import (
    TemplateError,
    compile_template,
    is_template,
    iter_templates,
    render_value,
    to_json_value,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def render(source: str, scope: dict[str, Any] | None = None, as_text: bool = False) -> Any:
    return compile_template(source, as_text=as_text).render(scope or {})


def jinja_literal(value: Any) -> str:
    """Write JSON data as a Jinja expression that evaluates to it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(jinja_literal(v) for v in value) + "]"
    assert isinstance(value, dict)
    pairs = (f"{jinja_literal(k)}: {jinja_literal(v)}" for k, v in value.items())
    return "{" + ", ".join(pairs) + "}"


# --- The whole-value rule -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1, 2], [1, 2]),
        ({"a": {"b": 1}}, {"a": {"b": 1}}),
        ("3", "3"),
        ("true", "true"),
        ("[1, 2]", "[1, 2]"),
        (3, 3),
        (2.5, 2.5),
        (False, False),
        (None, None),
    ],
)
def test_a_whole_value_template_yields_the_value_as_it_is(value: Any, expected: Any) -> None:
    result = render("{{ x }}", {"x": value})
    assert result == expected
    assert type(result) is type(expected)


def test_whitespace_control_and_inner_spaces_keep_the_whole_value() -> None:
    assert render("{{- x -}}", {"x": [1]}) == [1]
    assert render("{{x}}", {"x": {"k": 1}}) == {"k": 1}
    assert render("{{\n  x\n}}", {"x": [1]}) == [1]


def test_a_whole_value_expression_is_evaluated_not_just_looked_up() -> None:
    assert render("{{ x | length }}", {"x": [1, 2, 3]}) == 3
    assert render("{{ x > 1 }}", {"x": 2}) is True
    assert render("{{ [x, x * 2] }}", {"x": 2}) == [2, 4]


def test_a_nested_literal_whose_braces_close_together_is_still_one_value() -> None:
    assert render("{{ {'summary': {'count': n}} }}", {"n": 3}) == {"summary": {"count": 3}}
    assert render("{{ [{'a': {'b': 1}}] }}") == [{"a": {"b": 1}}]


def test_a_string_literal_holding_braces_is_still_one_value() -> None:
    assert render("{{ ['}}', '{{', '{%'] }}") == ["}}", "{{", "{%"]


def test_a_value_holding_template_syntax_is_not_evaluated_again() -> None:
    assert render("{{ x }}", {"x": "{{ secret }}"}) == "{{ secret }}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ a }}{{ b }}", "12"),
        ("{{ a }} {{ b }}", "1 2"),
        ("n={{ a }}", "n=1"),
        (" {{ a }}", " 1"),
        ("{{ a }}\n", "1\n"),
        ("{{ xs }}!", "[1, 2]!"),
        ("{{ a }}{# note #}", "1"),
        ("{% if a %}{{ xs }}{% endif %}", "[1, 2]"),
        ("{% for x in xs %}{{ x }};{% endfor %}", "1;2;"),
    ],
)
def test_any_other_template_renders_to_a_string(source: str, expected: str) -> None:
    assert render(source, {"a": 1, "b": 2, "xs": [1, 2]}) == expected


def test_as_text_renders_even_a_whole_value_template_to_a_string() -> None:
    assert render("{{ x }}", {"x": 3}, as_text=True) == "3"
    assert render("{{ x }}", {"x": [1, 2]}, as_text=True) == "[1, 2]"


def test_text_is_not_html_escaped() -> None:
    assert render("{{ a }} & {{ b }}", {"a": "<b>", "b": "'q'"}) == "<b> & 'q'"


@settings(deadline=None)
@given(json_values)
def test_whole_value_templates_of_json_literals_round_trip(value: Any) -> None:
    assert render("{{ " + jinja_literal(value) + " }}") == value


@settings(deadline=None)
@given(json_values)
def test_a_scope_value_comes_back_unchanged(value: Any) -> None:
    assert render("{{ x }}", {"x": value}) == value


@settings(deadline=None)
@given(json_values, json_values)
def test_two_templates_side_by_side_always_render_a_string(a: Any, b: Any) -> None:
    assert isinstance(render("{{ a }}{{ b }}", {"a": a, "b": b}), str)


# --- Names and attributes -------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ missing }}",
        "x {{ missing }}",
        "{{ [1, missing] }}",
        "{{ input.nope }}",
        "{{ 1 if false }}",
    ],
)
def test_undefined_names_and_keys_are_errors(source: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(source, {"input": {"topic": "t"}})
    assert repr(source) in str(caught.value)


def test_an_undefined_error_names_what_was_missing() -> None:
    with pytest.raises(TemplateError, match="'missing' is undefined"):
        render("{{ missing }}")
    with pytest.raises(TemplateError, match="no attribute 'nope'"):
        render("{{ input.nope }}", {"input": {}})


@pytest.mark.parametrize("key", ["items", "keys", "values", "get", "update", "copy"])
def test_a_dotted_name_on_a_mapping_means_its_key_before_any_method(key: str) -> None:
    scope = {"steps": {"parse": {key: [1, 2]}}}
    assert render(f"{{{{ steps.parse.{key} }}}}", scope) == [1, 2]
    assert render(f"{{{{ steps.parse.{key} | length }}}}", scope) == 2


def test_mapping_methods_still_work_when_no_key_has_their_name() -> None:
    assert render("{{ d.get('a', 0) + d.get('z', 5) }}", {"d": {"a": 1}}) == 6


# --- The sandbox and replay safety ----------------------------------------------------


def test_the_random_filter_is_not_available() -> None:
    with pytest.raises(TemplateError, match="random"):
        compile_template("{{ [1, 2, 3] | random }}")


@pytest.mark.parametrize("name", ["lipsum", "cycler", "joiner"])
def test_globals_that_are_not_replay_safe_are_undefined(name: str) -> None:
    with pytest.raises(TemplateError, match=f"'{name}' is undefined"):
        render(f"{{{{ {name}() }}}}")


@pytest.mark.parametrize("source", ["{{ ''.__class__ }}", "{{ x.__init__ }}", "{{ x.__class__.__mro__ }}"])
def test_private_attributes_are_refused(source: str) -> None:
    with pytest.raises(TemplateError, match="unsafe"):
        render(source, {"x": 1})


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 10**9 }}",
        "{{ 10**9 * 'x' }}",
        "{{ [0] * 10**8 }}",
        "{{ (1, 2) * 10**8 }}",
        "{{ 'ab' * 5000001 }}",
        "{{ 2 ** 100000 }}",
        "{{ 10 ** (10 ** 10) }}",
        "{{ 2 ** 4097 }}",
        "{{ (10 ** 1000) ** 100 }}",
        "{{ range(10**9) }}",
    ],
)
def test_huge_results_are_refused_before_they_are_built(source: str) -> None:
    with pytest.raises(TemplateError):
        render(source)


def test_large_but_bounded_results_are_allowed() -> None:
    assert render("{{ ('ab' * 5000000) | length }}") == 10_000_000
    assert render("{{ 2 ** 4096 }}") == 2**4096
    assert render("{{ 3 * 4 }}") == 12
    assert render("{{ 'ab' * 3 }}") == "ababab"
    assert render("{{ 2 ** 10 }}") == 1024
    assert render("{{ 2 ** 0.5 }}") == pytest.approx(math.sqrt(2))


def test_errors_raised_while_evaluating_become_template_errors() -> None:
    with pytest.raises(TemplateError, match="division by zero"):
        render("{{ 1 / 0 }}")
    with pytest.raises(TemplateError, match="by zero"):
        render("n = {{ 1 // 0 }}")


# --- Syntax errors --------------------------------------------------------------------


def test_a_syntax_error_is_a_template_error_at_compile_time() -> None:
    with pytest.raises(TemplateError, match="template syntax error"):
        compile_template("{{ x")
    with pytest.raises(TemplateError, match="template syntax error"):
        compile_template("{% if x %}no end")


def test_a_syntax_error_in_a_multi_line_template_names_the_line() -> None:
    with pytest.raises(TemplateError, match="line 3 of the template"):
        compile_template("first\nsecond\n{{ x + }}\nfourth")


# --- Conversion to JSON data ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ (1, 2) }}", [1, 2]),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{ xs | map('string') }}", ["1", "2"]),
        ("{{ xs | select('odd') }}", [1]),
        ("{{ xs | batch(1) }}", [[1], [2]]),
        ("{{ d | dictsort }}", [["a", 2], ["b", 1]]),
        ("{{ d.keys() | list }}", ["b", "a"]),
        ("{{ e.keys() }}", ["k"]),
        ("{{ e.values() }}", [1]),
        ("{{ e.items() }}", [["k", 1]]),
        ("{{ {1: 'one'} }}", {"1": "one"}),
        ("{{ 'x' | safe }}", "x"),
    ],
)
def test_results_are_converted_to_plain_json_data(source: str, expected: Any) -> None:
    result = render(source, {"xs": [1, 2], "d": {"b": 1, "a": 2}, "e": {"k": 1}})
    assert result == expected
    json.dumps(result, allow_nan=False)


def test_sets_become_sorted_lists() -> None:
    assert to_json_value({10, 9, 100}) == [9, 10, 100]
    assert to_json_value(frozenset({"b", "it's", "a"})) == ["a", "b", "it's"]
    assert render("{{ d.keys() - e.keys() }}", {"d": {"c": 1, "a": 1, "b": 1}, "e": {"b": 1}}) == ["a", "c"]


def test_markup_becomes_a_plain_string() -> None:
    result = to_json_value(Markup("<b>"))
    assert result == "<b>"
    assert type(result) is str


@pytest.mark.parametrize("source", ["{{ d.keys }}", "{{ namespace(a=1) }}", "{{ [d.get] }}"])
def test_objects_that_are_not_json_data_are_errors(source: str) -> None:
    with pytest.raises(TemplateError, match="not JSON data"):
        render(source, {"d": {"a": 1}})


def test_to_json_value_refuses_an_arbitrary_object_naming_its_type() -> None:
    with pytest.raises(TemplateError, match="produced a object"):
        to_json_value({"a": [object()]}, "{{ x }}")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_nan_and_infinity_are_refused(text: str) -> None:
    with pytest.raises(TemplateError, match="NaN or infinity"):
        render("{{ x | float }}", {"x": text})
    with pytest.raises(TemplateError, match="NaN or infinity"):
        to_json_value([float(text)])


def test_infinity_from_arithmetic_is_refused() -> None:
    with pytest.raises(TemplateError, match="NaN or infinity"):
        render("{{ 1e308 * 10 }}")


@settings(deadline=None)
@given(json_values)
def test_to_json_value_leaves_json_data_unchanged(value: Any) -> None:
    assert to_json_value(value) == value


# --- What a template reads ------------------------------------------------------------


def test_paths_hold_free_names_and_constant_attribute_chains() -> None:
    template = compile_template("{{ steps.x.field ~ input['topic'] }}")
    assert template.paths == {
        ("steps",),
        ("steps", "x"),
        ("steps", "x", "field"),
        ("input",),
        ("input", "topic"),
    }
    assert template.names == {"steps", "input"}


def test_paths_stop_at_a_computed_or_numeric_index() -> None:
    assert compile_template("{{ steps.x[i].field }}").paths == {
        ("steps",),
        ("steps", "x"),
        ("i",),
    }
    assert compile_template("{{ steps.x.items[0].name }}").paths == {
        ("steps",),
        ("steps", "x"),
        ("steps", "x", "items"),
    }


def test_paths_leave_out_names_the_template_binds_itself() -> None:
    template = compile_template("{% for s in state.scenes %}{{ s.title }}{% endfor %}{% set n = 1 %}{{ n }}")
    assert template.paths == {("state",), ("state", "scenes")}
    assert template.names == {"state"}


def test_a_template_without_names_reads_nothing() -> None:
    assert compile_template("{{ 1 + 2 }}").paths == frozenset()


# --- Templates inside values ----------------------------------------------------------


def test_is_template_spots_every_kind_of_tag() -> None:
    assert is_template("{{ x }}")
    assert is_template("a {% if x %}b{% endif %}")
    assert is_template("{# note #}")
    assert not is_template("plain { text } with $dollars")


def test_render_value_evaluates_templates_anywhere_in_a_value() -> None:
    value = {
        "title": "{{ input.topic }}",
        "tags": ["fixed", "{{ input.tags }}", {"n": "{{ input.tags | length }}"}],
        "count": 3,
        "flag": None,
        "text": "about {{ input.topic }}",
        "{{ input.topic }}": "keys are not templates",
    }
    scope = {"input": {"topic": "cats", "tags": ["a", "b"]}}
    assert render_value(value, scope) == {
        "title": "cats",
        "tags": ["fixed", ["a", "b"], {"n": 2}],
        "count": 3,
        "flag": None,
        "text": "about cats",
        "{{ input.topic }}": "keys are not templates",
    }


def test_render_value_leaves_plain_strings_alone_even_with_an_empty_scope() -> None:
    assert render_value(["a", "b {c}", 1.5], {}) == ["a", "b {c}", 1.5]


def test_render_value_raises_for_an_undefined_name_deep_inside() -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        render_value({"a": [{"b": "{{ nope }}"}]}, {})


def test_iter_templates_lists_every_template_with_its_path() -> None:
    value = {
        "a": "{{ x }}",
        "b": ["plain", "{% if y %}y{% endif %}", {"c": "{# c #}"}],
        "d": 1,
    }
    assert list(iter_templates(value)) == [
        (("a",), "{{ x }}"),
        (("b", 1), "{% if y %}y{% endif %}"),
        (("b", 2, "c"), "{# c #}"),
    ]
    assert list(iter_templates("{{ x }}", ("inputs",))) == [(("inputs",), "{{ x }}")]
    assert list(iter_templates(["plain", 3, None])) == []
