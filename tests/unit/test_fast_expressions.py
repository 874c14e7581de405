"""The fast path for whole-value expressions: where it answers, Jinja answers the same."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import TemplateSyntaxError

from workflows.fast_expressions import Unsure, fast_expression
from workflows.templates import TemplateError, compile_template, environment

KEYS = ("a", "b", "value", "items", "0")
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | st.sampled_from(["", "a", "xy"])
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=3)
    ),
    max_leaves=6,
)
scopes = st.fixed_dictionaries(
    {"a": values, "b": values, "steps": st.dictionaries(st.sampled_from(KEYS), values)}
)

literals = st.sampled_from(["0", "1", "-2", "2.5", "'a'", "'value'", "true", "false", "none", "[1]", "x"])
atoms = literals | st.sampled_from(["a", "b", "steps", "missing", "range"])


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.sampled_from(
        ["+", "-", "/", "//", "*", "%", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
    )
    return (
        st.tuples(inner, st.sampled_from(KEYS[:4])).map(lambda t: f"{t[0]}.{t[1]}")
        | st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]")
        | st.tuples(inner, binary, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} < {t[1]} <= {t[2]})")
        | inner.map(lambda e: f"(not {e})")
        | inner.map(lambda e: f"(-{e})")
        | inner.map(lambda e: f"{e} | length")
    )


expressions = st.recursive(atoms, _extend, max_leaves=6)


def jinja(expression: str, scope: dict[str, Any]) -> tuple[str, Any]:
    """What Jinja alone makes of the expression: ("value", v) or ("error", exception)."""
    try:
        return "value", environment().compile_expression(expression, undefined_to_none=False)(**scope)
    except Exception as exc:
        return "error", exc


def fast(expression: str) -> Any:
    try:
        tree = environment().parse("{{ " + expression + " }}")
    except TemplateSyntaxError:  # the generator's `a | length[0]`, say: no template at all
        return None
    return fast_expression(tree.body[0].nodes[0])  # type: ignore[attr-defined]


@settings(deadline=None, max_examples=800)
@given(expressions, scopes)
def test_where_the_fast_path_answers_it_is_what_jinja_answers(expression: str, scope: dict[str, Any]) -> None:
    evaluate = fast(expression)
    if evaluate is None:
        return
    try:
        value = evaluate(scope)
    except Unsure:
        return
    outcome, expected = jinja(expression, scope)
    assert outcome == "value", f"{expression}: Jinja raised {expected!r}, the fast path gave {value!r}"
    assert repr(value) == repr(expected)
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("expression", "scope", "expected"),
    [
        ("steps.s0.value + 1", {"steps": {"s0": {"value": 2}}}, 3),
        ("a.b[1]", {"a": {"b": [1, 2]}}, 2),
        ("a['b'] == 'x' and not c", {"a": {"b": "x"}, "c": []}, True),
        ("a or 'default'", {"a": ""}, "default"),
        ("1 < a <= 3", {"a": 3}, True),
        ("-a // 2", {"a": 5}, -3),
    ],
)
def test_the_fast_path_reads_names_keys_items_and_operators(
    expression: str, scope: dict[str, Any], expected: Any
) -> None:
    evaluate = fast(expression)
    assert evaluate is not None
    assert evaluate(scope) == expected
    assert compile_template("{{ " + expression + " }}").render(scope) == expected


@pytest.mark.parametrize(
    "expression",
    ["a | length", "a * 2", "a % 2", "a ** 2", "f(a)", "a[1:]", "a ~ b", "a if b else c", "[a]", "{'k': a}"],
)
def test_filters_calls_and_guarded_operators_are_left_to_jinja(expression: str) -> None:
    assert fast(expression) is None


@pytest.mark.parametrize(
    ("expression", "scope"),
    [
        ("a.items", {"a": {"b": 1}}),  # not a key: the dict's method, as Jinja's sandbox has it
        ("missing", {}),
        ("a.b", {"a": [1]}),
        ("a[5]", {"a": [1]}),
        ("a + b", {"a": 1, "b": "x"}),
        ("range", {}),  # a global, not in the scope
    ],
)
def test_what_the_fast_path_cannot_tell_it_leaves_to_jinja(expression: str, scope: dict[str, Any]) -> None:
    evaluate = fast(expression)
    assert evaluate is not None
    with pytest.raises(Unsure):
        evaluate(scope)


def test_a_template_the_fast_path_is_unsure_of_keeps_jinjas_error() -> None:
    with pytest.raises(TemplateError, match="'dict object' has no attribute 's1'"):
        compile_template("{{ steps.s1.value + 1 }}").render({"steps": {"s0": {"value": 1}}})
    with pytest.raises(TemplateError, match="unsupported operand"):
        compile_template("{{ a + b }}").render({"a": 1, "b": "x"})
    assert compile_template("{{ a.items() | list }}").render({"a": {"k": 1}}) == [["k", 1]]


def test_a_scope_naming_self_fails_as_it_does_in_jinja() -> None:
    """`self` cannot be passed to Jinja's expression (the compiler refuses it as a node id or
    an item name): the fast path must not make such a template succeed where Jinja fails."""
    scope = {"self": {"output": 1}, "a": 2}
    with pytest.raises(TemplateError, match="multiple values for argument 'self'"):
        compile_template("{{ a + 1 }}").render(scope)
