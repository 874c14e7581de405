"""The compiler never crashes: any input either compiles or comes back as problems."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import registry
from workflows.compiler import compile_data, compile_text
from workflows.loader import parse_text

EXAMPLES = sorted(Path(__file__).parents[2].joinpath("docs", "examples").glob("*.y*ml"))
KEYS = [
    "stepwise",
    "name",
    "steps",
    "nodes",
    "edges",
    "id",
    "module",
    "inputs",
    "outputs_to_state",
    "if",
    "then",
    "else",
    "parallel",
    "for_each",
    "as",
    "collect",
    "loop",
    "until",
    "max_iterations",
    "switch",
    "cases",
    "default",
    "call",
    "input",
    "wait",
    "duration",
    "signal",
    "timeout",
    "retry",
    "on_error",
    "goto",
    "type",
    "config",
    "source",
    "target",
    "state",
    "output",
    "defaults",
    "condition",
    "true_edge",
    "false_edge",
]
WORDS = [
    "transform.extract",
    "transform.reshape",
    "api.fetch",
    "user.select",
    "conditional",
    "llm",
    "start",
    "a",
    "b",
    "{{ steps.a.v }}",
    "{{ state.x }}",
    "{{ item }}",
    "{{ x",
    "$item",
    "5m",
    "fail",
    "continue",
    1,
]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=6), st.sampled_from(WORDS))
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=40,
)


def check(result_problems: list[Any], plan: Any) -> None:
    assert (plan is None) == bool(result_problems)
    for problem in result_problems:
        assert problem.where.startswith("/")
        assert problem.message


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=8))
def test_arbitrary_data_compiles_or_reports(data: dict[str, Any]) -> None:
    result = compile_data(data, registry())
    check(result.problems, result.plan)


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=200))
def test_arbitrary_text_compiles_or_reports(text: str) -> None:
    result = compile_text(text, "random.yaml", registry())
    assert result.plan is None or not result.problems


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*path, index)))
    return found


def test_there_are_examples_to_mutate() -> None:
    assert len(EXAMPLES) >= 6


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES or [Path("none")]), st.data())
def test_mutated_examples_compile_or_report(example: Path, data: st.DataObject) -> None:
    original = parse_text(example.read_text(), example.name)
    mutated = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(mutated) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(values)
    result = compile_data(mutated, registry())
    check(result.problems, result.plan)
