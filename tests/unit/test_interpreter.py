"""Run-time semantics of plans of pure steps."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from tests.helpers import evaluate, plan_of, registry
from workflows.compiler import compile_text
from workflows.interpreter import StepError
from workflows.modules.registry import ModuleInput, ModuleOutput, ModuleSpec
from workflows.plan import ModuleNode


def test_steps_run_in_order_and_write_state() -> None:
    plan = plan_of(
        """
        state: {n: 1}
        output: "{{ [state.n, steps.b.v, run.id] }}"
        steps:
          - {id: a, module: transform.extract, inputs: {v: "{{ state.n + 1 }}"}, outputs_to_state: {n: v}}
          - {id: b, module: transform.extract, inputs: {v: "{{ state.n * 10 }}"}, outputs_to_state: {n: v}}
        """
    )
    assert evaluate(plan) == [20, 20, "run-1"]


def test_skipped_step_does_not_stop_the_list() -> None:
    plan = plan_of(
        """
        steps:
          - {id: a, module: transform.extract, inputs: {v: 1}, if: "{{ false }}", outputs_to_state: {a: v}}
          - {id: b, module: transform.extract, inputs: {v: 2}, outputs_to_state: {b: v}}
        """
    )
    assert evaluate(plan) == {"b": 2}


def test_for_each_keeps_input_order_and_bounds_concurrency() -> None:
    plan = plan_of(
        """
        output: "{{ steps.each.results }}"
        steps:
          - id: each
            for_each: "{{ input.words }}"
            as: word
            max_concurrency: 2
            steps:
              - {id: shout, module: io.render_template, inputs: {template: "{{ index }}:{{ word | upper }}"}}
            collect: "{{ steps.shout.rendered }}"
        """
    )
    assert evaluate(plan, {"words": ["a", "b", "c"]}) == ["0:A", "1:B", "2:C"]


def test_loop_until_and_iteration() -> None:
    plan = plan_of(
        """
        state: {score: 0}
        output: "{{ state }}"
        steps:
          - id: refine
            loop: {until: "{{ state.score >= 3 }}", max_iterations: 10}
            steps:
              - {id: bump, module: transform.extract, inputs: {s: "{{ loop.iteration }}"}, outputs_to_state: {score: s}}
        """
    )
    assert evaluate(plan) == {"score": 3}


def test_loop_stops_at_max_iterations() -> None:
    plan = plan_of(
        """
        state: {n: 0}
        steps:
          - id: l
            loop: {until: "{{ false }}", max_iterations: 4}
            steps: [{id: inc, module: transform.extract, inputs: {n: "{{ state.n + 1 }}"}, outputs_to_state: {n: n}}]
        """
    )
    assert evaluate(plan) == {"n": 4}


def test_switch_matches_yaml_keys_and_default() -> None:
    plan = plan_of(
        """
        steps:
          - id: route
            switch: "{{ input.kind }}"
            cases:
              bug: [{id: b, module: transform.extract, inputs: {t: eng}, outputs_to_state: {team: t}}]
              1: [{id: one, module: transform.extract, inputs: {t: one}, outputs_to_state: {team: t}}]
              true: [{id: yes, module: transform.extract, inputs: {t: yes}, outputs_to_state: {team: t}}]
            default: [{id: d, module: transform.extract, inputs: {t: desk}, outputs_to_state: {team: t}}]
        """
    )
    assert evaluate(plan, {"kind": "bug"}) == {"team": "eng"}
    assert evaluate(plan, {"kind": 1}) == {"team": "one"}
    assert evaluate(plan, {"kind": True}) == {"team": "yes"}
    assert evaluate(plan, {"kind": "other"}) == {"team": "desk"}


def test_parallel_branches_all_finish_before_the_next_step() -> None:
    plan = plan_of(
        """
        output: "{{ [steps.l.v, steps.r.v, state.sum] }}"
        steps:
          - id: both
            parallel:
              left: [{id: l, module: transform.extract, inputs: {v: 1}}]
              right: [{id: r, module: transform.extract, inputs: {v: 2}}]
          - {id: add, module: transform.extract, inputs: {s: "{{ steps.l.v + steps.r.v }}"}, outputs_to_state: {sum: s}}
        """
    )
    assert evaluate(plan) == [1, 2, 3]


def test_failure_fails_the_run_with_the_step_named() -> None:
    plan = plan_of("steps: [{id: bad, module: transform.concat_arrays, inputs: {arrays: '{{ 3 }}'}}]")
    with pytest.raises(StepError) as info:
        evaluate(plan)
    assert info.value.step_id == "bad"
    assert info.value.error_type == "InvalidInput"


def test_on_error_continue_goes_on() -> None:
    plan = plan_of(
        """
        steps:
          - {id: bad, module: transform.concat_arrays, inputs: {arrays: "{{ 3 }}"}, on_error: continue}
          - {id: next, module: transform.extract, inputs: {v: 1}, outputs_to_state: {v: v}}
        """
    )
    assert evaluate(plan) == {"v": 1}


def test_on_error_goto_jumps_back_until_it_succeeds() -> None:
    plan = plan_of(
        """
        state: {tries: 0}
        output: "{{ [state.tries, steps.fragile.result, state.why] }}"
        steps:
          - {id: count, module: transform.extract, inputs: {n: "{{ state.tries + 1 }}", why: "{{ error.type if error is defined else '' }}"}, outputs_to_state: {tries: n, why: why}}
          - {id: fragile, module: transform.concat_arrays, inputs: {arrays: "{{ [[1]] if state.tries >= 3 else 'x' }}"}, on_error: {goto: count}}
        """
    )
    assert evaluate(plan) == [3, [1], "InvalidInput"]


def test_on_error_goto_forward_skips_the_steps_between() -> None:
    plan = plan_of(
        """
        steps:
          - {id: bad, module: transform.concat_arrays, inputs: {arrays: "{{ 3 }}"}, on_error: {goto: handler}}
          - {id: skipped, module: transform.extract, inputs: {v: 1}, outputs_to_state: {skipped: v}}
          - {id: handler, module: transform.extract, inputs: {m: "{{ error.message }}"}, outputs_to_state: {handled: m}}
        """
    )
    state = evaluate(plan)
    assert "skipped" not in state
    assert "inputs do not fit module transform.concat_arrays" in state["handled"]


def test_default_output_is_the_final_state() -> None:
    plan = plan_of(
        "state: {a: 1}\nsteps: [{id: x, module: transform.extract, inputs: {v: 2}, outputs_to_state: {b: v}}]"
    )
    assert evaluate(plan) == {"a": 1, "b": 2}


def test_goto_in_a_graph_reruns_the_target_while_finished_nodes_are_reset() -> None:
    plan = plan_of(
        """
        state: {x_runs: 0}
        nodes:
          - {id: x, type: transform.extract, config: {n: "{{ state.x_runs + 1 }}"}, outputs_to_state: {x_runs: n}}
          - {id: d, type: transform.extract, config: {seen: "{{ state.x_runs }}"}, outputs_to_state: {d_saw: seen}}
          - {id: y, type: transform.extract, config: {v: 1}}
          - {id: a, type: transform.concat_arrays, config: {arrays: "{{ 3 }}"}, on_error: {goto: x}}
        edges:
          - {source: start, target: x}
          - {source: x, target: d}
          - {source: start, target: y}
          - {source: y, target: a}
        """
    )
    assert evaluate(plan) == {"x_runs": 2, "d_saw": 2}


def test_a_step_may_be_called_start() -> None:
    plan = plan_of(
        """
        output: "{{ state.order }}"
        state: {order: []}
        steps:
          - {id: first, module: transform.extract, inputs: {o: "{{ state.order + ['first'] }}"}, outputs_to_state: {order: o}}
          - {id: start, module: transform.extract, inputs: {o: "{{ state.order + ['start'] }}"}, outputs_to_state: {order: o}}
          - {id: last, module: transform.extract, inputs: {o: "{{ state.order + ['last'] }}"}, outputs_to_state: {order: o}}
        """
    )
    assert evaluate(plan) == ["first", "start", "last"]


def test_a_module_failure_is_a_step_error_that_on_error_handles() -> None:
    plan = plan_of(
        """
        steps:
          - id: parse
            module: transform.reshape
            inputs: {source: 3, template: {_for_each: "$item", _output: "{{ $item }}"}}
            on_error: continue
          - {id: after, module: transform.extract, inputs: {ok: true}, outputs_to_state: {ok: ok}}
        """
    )
    assert evaluate(plan) == {"ok": True}


def test_a_run_that_changes_its_state_leaves_the_plan_as_it_was() -> None:
    # A worker hands every run of a plan the same Plan (plan.read_canonical): what one run
    # does to its state must not reach the next. `evaluate` runs the plan twice.
    plan = plan_of(
        """
        state: {seen: [0]}
        output: "{{ state.seen }}"
        steps:
          - {id: a, module: transform.extract, inputs: {v: "{{ state.seen.append(1) }}"}}
        """
    )
    assert evaluate(plan) == [0, 1]
    assert plan.state == {"seen": [0]}


class _Items(ModuleInput):
    items: Any = None


class _Value(ModuleOutput):
    value: Any = None


def _collect(inputs: BaseModel, scope: Any) -> _Value:
    assert isinstance(inputs, _Items)
    inputs.items.append(1)  # a module that changes what it was given
    return _Value(value=inputs.items)


def test_a_module_that_changes_its_unrendered_input_leaves_the_plan_as_it_was() -> None:
    modules = registry()
    modules.register(
        ModuleSpec("acme.collect", "workflow", _Items, _Value, "x", run=_collect, self_rendered=("items",))
    )
    text = "stepwise: 1\nname: t\noutput: '{{ steps.a.value }}'\nsteps: [{id: a, module: acme.collect, inputs: {items: [0]}}]"
    plan = compile_text(text, "t.yaml", modules).unwrap()
    assert evaluate(plan, modules=modules) == [0, 1]
    node = plan.body.nodes[0]
    assert isinstance(node, ModuleNode)
    assert node.inputs == {"items": [0]}
