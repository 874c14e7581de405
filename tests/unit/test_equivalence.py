"""Equivalent definitions in form A (steps) and form B (graph) evaluate to the same outputs."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import evaluate_data

KEYS = ("a", "b", "c")
Op = tuple[Any, ...]

numbers = st.integers(min_value=-5, max_value=20)
expressions = st.one_of(
    numbers.map(lambda n: f"{{{{ {n} }}}}"),
    st.tuples(st.sampled_from(KEYS), numbers).map(lambda t: f"{{{{ state.{t[0]} + {t[1]} }}}}"),
    st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)).map(
        lambda t: f"{{{{ state.{t[0]} - state.{t[1]} }}}}"
    ),
    st.tuples(st.sampled_from(KEYS), st.integers(0, 3)).map(lambda t: f"{{{{ state.{t[0]} * {t[1]} }}}}"),
    st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)).map(
        lambda t: f"{{{{ [state.{t[0]}, state.{t[1]}] | max }}}}"
    ),
)
conditions = st.one_of(
    st.tuples(st.sampled_from(KEYS), numbers).map(lambda t: f"{{{{ state.{t[0]} > {t[1]} }}}}"),
    st.tuples(st.sampled_from(KEYS), st.sampled_from(KEYS)).map(
        lambda t: f"{{{{ (state.{t[0]} + state.{t[1]}) % 2 == 0 }}}}"
    ),
)
leaf = st.tuples(st.just("set"), st.sampled_from(KEYS), expressions)
operations = st.recursive(
    leaf,
    lambda inner: st.tuples(
        st.just("if"), conditions, st.lists(inner, max_size=3), st.lists(inner, max_size=3)
    ),
    max_leaves=10,
)
programs = st.lists(operations, min_size=1, max_size=5)
states = st.fixed_dictionaries({k: numbers for k in KEYS})


def steps_form(program: list[Op], state: dict[str, int]) -> dict[str, Any]:
    ids = itertools.count()

    def steps(ops: list[Op]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for op in ops:
            if op[0] == "set":
                result.append(
                    {
                        "id": f"s{next(ids)}",
                        "module": "transform.extract",
                        "inputs": {"v": op[2]},
                        "outputs_to_state": {op[1]: "v"},
                    }
                )
            else:
                block: dict[str, Any] = {"id": f"s{next(ids)}", "if": op[1]}
                block.update(then=steps(op[2]), **{"else": steps(op[3])})
                result.append(block)
        return result

    return {"stepwise": 1, "name": "equivalence", "state": state, "steps": steps(program)}


def graph_form(program: list[Op], state: dict[str, int]) -> dict[str, Any]:
    ids = itertools.count()
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []

    def node(**fields: Any) -> str:
        node_id = f"n{next(ids)}"
        nodes.append({"id": node_id, **fields})
        return node_id

    def chain(ops: list[Op], tails: list[str]) -> list[str]:
        for op in ops:
            if op[0] == "set":
                target = node(type="transform.extract", config={"v": op[2]}, outputs_to_state={op[1]: "v"})
                edges.extend({"source": t, "target": target} for t in tails)
                tails = [target]
            else:
                route = node(type="conditional", config={"condition": op[1]})
                edges.extend({"source": t, "target": route} for t in tails)
                entries = {}
                for branch in ("true", "false"):
                    entries[branch] = node(type="transform.extract", config={})
                route_node = nodes[-3]
                route_node["config"]["true_edge"] = entries["true"]
                route_node["config"]["false_edge"] = entries["false"]
                tails = chain(op[2], [entries["true"]]) + chain(op[3], [entries["false"]])
        return tails

    chain(program, ["start"])
    return {"stepwise": 1, "name": "equivalence", "state": state, "nodes": nodes, "edges": edges}


@settings(deadline=None, max_examples=80)
@given(programs, states)
def test_form_a_and_form_b_evaluate_to_the_same_state(program: list[Op], state: dict[str, int]) -> None:
    steps_output = evaluate_data(steps_form(program, state))
    graph_output = evaluate_data(graph_form(program, state))
    assert steps_output == graph_output


def test_the_generators_build_what_they_claim() -> None:
    program: list[Op] = [
        ("set", "a", "{{ state.a + 1 }}"),
        ("if", "{{ state.a > 1 }}", [("set", "b", "{{ 10 }}")], [("set", "c", "{{ 20 }}")]),
    ]
    assert evaluate_data(steps_form(program, {"a": 0, "b": 0, "c": 0})) == {"a": 1, "b": 0, "c": 20}
    assert evaluate_data(graph_form(program, {"a": 1, "b": 0, "c": 0})) == {"a": 2, "b": 10, "c": 0}
