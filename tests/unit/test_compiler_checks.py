"""Every static check of the compiler (form A), each shown by a definition that trips it."""

from __future__ import annotations

import pytest

from tests.helpers import compile_yaml, problems_of
from workflows.compiler import compile_text
from workflows.modules import builtin_registry
from workflows.plan import ModuleNode


def only(text: str) -> tuple[str, str]:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def test_unknown_module_suggests_the_closest() -> None:
    assert only("steps: [{id: a, module: transform.reshap}]") == (
        "/steps/0/module",
        "unknown module 'transform.reshap': did you mean 'transform.reshape'?",
    )


def test_literal_inputs_are_checked_against_the_module_schema() -> None:
    problems = dict(problems_of("steps: [{id: a, module: api.fetch, inputs: {method: GTE, bogus: 1}}]"))
    assert problems["/steps/0/inputs"] == "module api.fetch needs the input 'url'"
    assert problems["/steps/0/inputs/bogus"].startswith("module api.fetch has no input 'bogus'")
    assert "'GTE' is not one of" in problems["/steps/0/inputs/method"]


def test_whole_value_template_stands_for_any_value() -> None:
    result = compile_yaml(
        """
        input: {type: object}
        steps:
          - {id: a, module: api.fetch, inputs: {url: "{{ input.url }}", headers: "{{ input.headers }}"}}
        """
    )
    assert result.problems == []


def test_text_template_is_a_string_for_the_schema() -> None:
    (where, message) = only(
        """
        steps:
          - {id: a, module: transform.concat_arrays, inputs: {arrays: "x{{ input }}"}}
        """
    )
    assert where == "/steps/0/inputs/arrays"
    assert "is not of type 'array'" in message


def test_duplicate_ids_are_reported_at_every_repeat() -> None:
    problems = problems_of(
        """
        steps:
          - {id: a, module: transform.extract}
          - id: block
            if: "{{ true }}"
            then: [{id: a, module: transform.extract}]
          - {id: a, module: transform.extract}
        """
    )
    assert problems == [
        ("/steps/1/then/0/id", "duplicate id 'a': /steps/0/id has it already"),
        ("/steps/2/id", "duplicate id 'a': /steps/0/id has it already"),
    ]


def test_outputs_to_state_must_name_a_module_output() -> None:
    assert only(
        "steps: [{id: a, module: api.fetch, inputs: {url: x}, outputs_to_state: {body: respons}}]"
    ) == (
        "/steps/0/outputs_to_state/body",
        "module api.fetch has no output 'respons': did you mean 'response'?",
    )


def test_extract_outputs_are_its_input_names() -> None:
    assert only(
        """
        steps:
          - {id: a, module: transform.extract, inputs: {team: x}, outputs_to_state: {t: teams}}
        """
    ) == (
        "/steps/0/outputs_to_state/t",
        "module transform.extract has no output 'teams': did you mean 'team'?",
    )


def test_template_syntax_error() -> None:
    where, message = only("steps: [{id: a, module: transform.extract, inputs: {v: '{{ 1 + }}'}}]")
    assert where == "/steps/0/inputs/v"
    assert message.startswith("template syntax error")


def test_reference_to_a_later_step() -> None:
    where, message = only(
        """
        steps:
          - {id: a, module: transform.extract, inputs: {v: "{{ steps.b.v }}"}}
          - {id: b, module: transform.extract, inputs: {v: 1}}
        """
    )
    assert where == "/steps/0/inputs/v"
    assert "step 'b' cannot have finished before this point" in message


def test_reference_to_itself() -> None:
    assert only("steps: [{id: a, module: transform.extract, inputs: {v: '{{ steps.a.v }}'}}]") == (
        "/steps/0/inputs/v",
        "step 'a' cannot read its own outputs",
    )


def test_reference_to_a_missing_step_suggests_one() -> None:
    _, message = only(
        """
        steps:
          - {id: scenes, module: transform.extract, inputs: {v: 1}}
          - {id: b, module: transform.extract, inputs: {v: "{{ steps.scene.v }}"}}
        """
    )
    assert message == "there is no step 'scene' (did you mean 'scenes'?)"


def test_reference_to_an_output_the_step_lacks() -> None:
    _, message = only(
        """
        steps:
          - {id: a, module: io.render_template, inputs: {template: x}}
          - {id: b, module: transform.extract, inputs: {v: "{{ steps.a.text }}"}}
        """
    )
    assert message == "step 'a' (module io.render_template) has no output 'text'; its outputs: rendered"


def test_sibling_parallel_branch_cannot_be_read() -> None:
    where, message = only(
        """
        steps:
          - id: both
            parallel:
              left: [{id: l, module: transform.extract, inputs: {v: "{{ steps.r.v }}"}}]
              right: [{id: r, module: transform.extract, inputs: {v: 1}}]
          - {id: after, module: transform.extract, inputs: {v: "{{ steps.r.v }}"}}
        """
    )
    assert where == "/steps/0/parallel/left/0/inputs/v"
    assert "runs in parallel branch 'right'" in message


def test_for_each_inner_steps_are_not_readable_after_the_block() -> None:
    where, message = only(
        """
        steps:
          - id: each
            for_each: [1, 2]
            steps: [{id: inner, module: transform.extract, inputs: {v: "{{ item }}"}}]
            collect: "{{ steps.inner.v }}"
          - {id: after, module: transform.extract, inputs: {v: "{{ steps.inner.v }}", w: "{{ steps.each.results }}"}}
        """
    )
    assert where == "/steps/1/inputs/v"
    assert "read steps.each.results" in message


def test_names_outside_their_block_are_undefined() -> None:
    problems = dict(
        problems_of(
            """
            steps:
              - {id: a, module: transform.extract, inputs: {i: "{{ item }}", l: "{{ loop.iteration }}", e: "{{ error.message }}"}}
            """
        )
    )
    assert "only defined inside a for_each" in problems["/steps/0/inputs/i"]
    assert "only defined inside a loop block" in problems["/steps/0/inputs/l"]
    assert "only defined in an error handler" in problems["/steps/0/inputs/e"]


def test_unknown_name_suggests_a_close_one() -> None:
    assert only("steps: [{id: a, module: transform.extract, inputs: {v: '{{ inptu.x }}'}}]")[1] == (
        "'inptu' is not defined (did you mean 'input'?)"
    )


def test_state_keys_must_exist() -> None:
    assert only(
        """
        state: {count: 0}
        steps: [{id: a, module: transform.extract, inputs: {v: "{{ state.cuont }}"}}]
        """
    )[1] == (
        "state has no key 'cuont': it is neither in the initial state nor written by any "
        "outputs_to_state (did you mean 'count'?)"
    )


def test_closed_input_schema_catches_typos() -> None:
    assert (
        only(
            """
        input: {type: object, properties: {topic: {type: string}}, additionalProperties: false}
        steps: [{id: a, module: transform.extract, inputs: {v: "{{ input.topc }}"}}]
        """
        )[1]
        == "the input schema has no property 'topc' (did you mean 'topic'?)"
    )


def test_invalid_input_schema() -> None:
    where, message = only("input: {type: objekt}\nsteps: [{id: a, module: transform.extract}]")
    assert where == "/input/type"
    assert message.startswith("not a valid JSON Schema")


@pytest.mark.parametrize("name", ["input", "state", "steps", "run", "index", "loop"])
def test_for_each_name_may_not_shadow_template_names(name: str) -> None:
    assert only(
        f"""
        steps:
          - {{id: each, for_each: [1], as: {name}, steps: [{{id: x, module: transform.extract}}]}}
        """
    ) == ("/steps/0/as", f"'{name}' would hide the template name {name}; choose another name")


def test_nested_for_each_may_not_reuse_the_item_name() -> None:
    where, _ = only(
        """
        steps:
          - id: outer
            for_each: [[1]]
            steps:
              - {id: inner, for_each: "{{ item }}", steps: [{id: x, module: transform.extract}]}
        """
    )
    assert where == "/steps/0/steps/0/as"


def test_goto_must_name_a_step_of_the_same_list() -> None:
    problems = dict(
        problems_of(
            """
            steps:
              - {id: a, module: transform.extract, on_error: {goto: nowhere}}
              - {id: b, module: transform.extract, on_error: {goto: b}}
              - {id: c, if: "{{ true }}", then: [{id: d, module: transform.extract, on_error: {goto: a}}]}
            """
        )
    )
    assert "names a step that does not exist" in problems["/steps/0/on_error/goto"]
    assert "cannot name the step itself" in problems["/steps/1/on_error/goto"]
    assert "names a step in another list" in problems["/steps/2/then/0/on_error/goto"]


def test_error_is_in_scope_in_a_goto_handler() -> None:
    result = compile_yaml(
        """
        steps:
          - {id: risky, module: transform.concat_arrays, inputs: {arrays: [[1]]}, on_error: {goto: handle}}
          - {id: handle, module: transform.extract, inputs: {why: "{{ error.message }}"}}
        """
    )
    assert result.problems == []


def test_loop_needs_max_iterations() -> None:
    assert only(
        "steps: [{id: l, loop: {until: '{{ true }}'}, steps: [{id: x, module: transform.extract}]}]"
    ) == (
        "/steps/0/loop",
        "a loop needs max_iterations, so that an `until` that never holds cannot run forever",
    )


def test_for_each_needs_a_list() -> None:
    assert only("steps: [{id: e, for_each: 'state.items', steps: [{id: x, module: transform.extract}]}]")[
        0
    ] == ("/steps/0/for_each")


def test_condition_must_be_a_single_template() -> None:
    where, message = only("steps: [{id: a, module: transform.extract, if: 'state.ok'}]")
    assert where == "/steps/0/if"
    assert "is not a single template" in message


def test_retry_on_a_pure_step_has_no_effect() -> None:
    assert only("steps: [{id: a, module: transform.extract, retry: {max_attempts: 2}}]") == (
        "/steps/0/retry",
        "retry has no effect on transform.extract, which runs inside the workflow",
    )


def test_wait_needs_exactly_one_kind_and_valid_values() -> None:
    problems = dict(
        problems_of(
            """
            steps:
              - {id: w1, wait: {duration: 1h, signal: paid}}
              - {id: w2, wait: {duration: 5 min}}
              - {id: w3, wait: {until: next tuesday}}
              - {id: w4, wait: {duration: 1h, timeout: 2h}}
            """
        )
    )
    assert problems["/steps/0/wait"] == "wait needs exactly one of duration, until or signal"
    assert "is not a duration" in problems["/steps/1/wait/duration"]
    assert "is not a time" in problems["/steps/2/wait/until"]
    assert problems["/steps/3/wait/timeout"] == "timeout applies to a signal wait only"


def test_call_names_a_definition() -> None:
    assert only("steps: [{id: c, call: Other Def}]")[0] == "/steps/0/call"


def test_call_of_a_missing_definition_when_a_folder_is_given() -> None:
    text = "stepwise: 1\nname: x\nsteps: [{id: c, call: summarize@3}, {id: d, call: known}]\n"
    result = compile_text(text, "x.yaml", builtin_registry(), lambda name, version: name == "known")
    assert [(p.where, p.message) for p in result.problems] == [
        ("/steps/0/call", "definition 'summarize' version 3 is not found")
    ]


def test_reshape_templates_are_checked_after_replacing_the_item_name() -> None:
    problems = dict(
        problems_of(
            """
            steps:
              - id: r
                module: transform.reshape
                inputs:
                  source: [1]
                  template: {_for_each: "$item", _output: {a: "{{ $item._index }}", b: "{{ $itm }}", c: "{{ nope }}"}}
            """
        )
    )
    assert set(problems) == {"/steps/0/inputs/template/_output/b", "/steps/0/inputs/template/_output/c"}
    assert "template syntax error" in problems["/steps/0/inputs/template/_output/b"]
    assert "'nope' is not defined" in problems["/steps/0/inputs/template/_output/c"]


def test_a_file_with_many_mistakes_reports_every_one() -> None:
    problems = problems_of(
        """
        descripton: typo
        state: {count: 0}
        steps:
          - {id: a, module: api.fetch, inputs: {method: GET}}
          - {id: a, module: transform.reshap}
          - {id: c, module: transform.extract, inputs: {v: "{{ state.cnt }}", w: "{{ steps.d.v }}"}}
          - {id: d, loop: {until: "{{ true }}"}, steps: [{id: e, module: transform.extract}]}
          - {id: f, for_each: "{{ [1] }}", as: input, steps: [{id: g, module: transform.extract}]}
        """
    )
    assert len(problems) >= 7, problems
    assert {w for w, _ in problems} >= {
        "/descripton",
        "/steps/0/inputs",
        "/steps/1/id",
        "/steps/2/inputs/v",
        "/steps/2/inputs/w",
        "/steps/3/loop",
        "/steps/4/as",
    }


def test_module_validators_run_on_literal_inputs_at_compile_time() -> None:
    problems = dict(
        problems_of(
            """
            steps:
              - {id: a, module: transform.parse_pattern, inputs: {input: x, pattern: {regex: "(", separator: ","}}}
              - {id: b, module: io.validate, inputs: {data: 1, schema: {type: objekt}}}
              - {id: c, module: transform.render_template_array, inputs: {items: [1], template: x, item_variable: self}}
              - {id: d, module: transform.parse_pattern, inputs: {input: x, pattern: "{{ input.p }}"}}
            """
        )
    )
    assert set(problems) == {
        "/steps/0/inputs/pattern/regex",
        "/steps/1/inputs/schema",
        "/steps/2/inputs/item_variable",
    }
    assert "not a valid regular expression" in problems["/steps/0/inputs/pattern/regex"]
    assert "not a valid JSON Schema" in problems["/steps/1/inputs/schema"]
    assert "'self' cannot name a template variable" in problems["/steps/2/inputs/item_variable"]


def test_text_template_where_a_number_is_expected() -> None:
    where, message = only("steps: [{id: a, module: api.llm, inputs: {input: hi, temperature: 't={{ 1 }}'}}]")
    assert where == "/steps/0/inputs/temperature"
    assert "is not valid under any of the given schemas" in message


def test_a_key_of_non_ascii_digits_is_reported_not_crashed_on() -> None:
    """'²' is a digit to str.isdigit() but not to int(): sorting problems must not trip on it."""
    text = """stepwise: 1
name: digits
steps:
  - {id: a, module: transform.concat_arrays, inputs: {"²": 1, "³": 2}}
"""
    result = compile_text(text, "digits.yaml", builtin_registry())
    assert result.plan is None
    assert {p.where for p in result.problems} >= {"/steps/0/inputs/²", "/steps/0/inputs/³"}


def test_a_first_retry_wait_longer_than_the_longest_is_refused_or_widens_the_default() -> None:
    """Temporal refuses a policy whose max_interval is below its initial_interval (the run's
    workflow task would fail for ever): said at compile time, or the default max gives way."""
    step = "  - {id: a, module: api.fetch, inputs: {url: 'http://x'}, retry: %s}\n"
    text = "stepwise: 1\nname: waits\n%ssteps:\n"
    widened = compile_text(text % "" + step % "{initial_interval: 1h}", "w.yaml", builtin_registry())
    assert widened.plan is not None
    node = widened.plan.body.nodes[0]
    assert isinstance(node, ModuleNode)
    assert node.retry is not None
    assert node.retry.max_interval_ms == node.retry.initial_interval_ms == 3_600_000
    refused = compile_text(
        text % "" + step % "{initial_interval: 1h, max_interval: 1m}", "r.yaml", builtin_registry()
    )
    assert [(p.where, p.message) for p in refused.problems] == [
        (
            "/steps/0/retry",
            "max_interval (60000 ms) is shorter than initial_interval (3600000 ms); make it at least as long",
        )
    ]
    defaults = "defaults: {retry: {initial_interval: 2m, max_interval: 1m}}\n"
    from_defaults = compile_text(text % defaults + step % "{max_attempts: 2}", "d.yaml", builtin_registry())
    assert [p.where for p in from_defaults.problems] == ["/defaults/retry"]
