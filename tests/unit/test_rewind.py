"""Retry with feedback and jump back: where a human step sends a run back, and what it finds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.helpers import plan_of, problems_of, registry
from workflows import plan as p
from workflows.engine.human import answer_outputs
from workflows.interpreter import Interpreter, PureOnly, RunInfo


class Answers(PureOnly):
    """Answers human steps from a script (step id -> answers in turn); records what was asked."""

    def __init__(self, script: dict[str, list[dict[str, Any]]]) -> None:
        self.script = {k: list(v) for k, v in script.items()}
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def module(self, node: p.ModuleNode, inputs: dict[str, Any], path: Any = ()) -> dict[str, Any]:
        if node.runs != "human":
            return await super().module(node, inputs)
        self.asked.append((node.id, inputs))
        return answer_outputs(node.module, inputs, self.script[node.id].pop(0), "ada")


# Every test runs with a task per node, and with lone nodes inline (engine generation 3).
INLINE = {"on": False}


@pytest.fixture(autouse=True, params=[False, True], ids=["tasked", "inline"])
def _inline(request: pytest.FixtureRequest) -> None:
    INLINE["on"] = request.param


def run(plan: p.Plan, answers: Answers, run_input: Any = None) -> Any:
    info = RunInfo("run-1", plan.content_hash(), "2026-01-01T00:00:00+00:00")
    interpreter = Interpreter(plan, registry(), answers, run_input or {}, info, inline=INLINE["on"])
    return asyncio.run(interpreter.run())


def targets(plan: p.Plan) -> dict[str, str | None]:
    return {
        n.id: n.rewind_to
        for n in p.iter_nodes(plan.body)
        if isinstance(n, p.ModuleNode) and n.runs == "human"
    }


REVIEW = """
state: {n: 0}
output: "{{ [steps.pick.selected_data, state.n, steps.draft.seen, steps.after.f] }}"
steps:
  - {id: draft, module: transform.extract, inputs: {items: "{{ ['a' ~ state.n, 'b' ~ state.n] }}", seen: "{{ feedback }}"}}
  - {id: bump, module: transform.extract, inputs: {n: "{{ state.n + 1 }}"}, outputs_to_state: {n: n}}
  - {id: pick, module: user.select, inputs: {data: "{{ steps.draft.items }}"}}
  - {id: after, module: transform.extract, inputs: {f: "{{ feedback }}"}}
"""


def test_a_retry_reruns_the_producing_step_with_the_feedback_and_state_as_it_was() -> None:
    plan = plan_of(REVIEW)
    assert targets(plan) == {"pick": "draft"}
    answers = Answers({"pick": [{"retry": True, "feedback": "shorter"}, {"selected_indices": [1]}]})
    # state.n went back to 0 before draft ran again, so the items and the count are as at first;
    # the re-run saw the feedback, which is over once the review accepts.
    assert run(plan, answers) == [["b0"], 1, "shorter", None]
    assert [inputs["data"] for _, inputs in answers.asked] == [["a0", "b0"], ["a0", "b0"]]


def test_jump_back_returns_to_the_previous_human_step_with_state_restored() -> None:
    plan = plan_of(
        """
        state: {n: 0, name: nobody}
        steps:
          - {id: ask, module: user.text_input, inputs: {prompt: "Name? (now {{ state.name }}, n={{ state.n }})"},
             outputs_to_state: {name: value}}
          - {id: count, module: transform.extract, inputs: {n: "{{ state.n + 1 }}"}, outputs_to_state: {n: n}}
          - {id: confirm, module: user.text_input, inputs: {prompt: "Greet {{ state.name }}?"}}
        """
    )
    assert targets(plan) == {"ask": None, "confirm": "ask"}
    answers = Answers(
        {"ask": [{"value": "ada"}, {"value": "bob"}], "confirm": [{"jump_back": True}, {"value": "yes"}]}
    )
    assert run(plan, answers) == {"n": 1, "name": "bob"}
    prompts = [inputs["prompt"] for _, inputs in answers.asked]
    assert prompts == [
        "Name? (now nobody, n=0)",
        "Greet ada?",
        "Name? (now nobody, n=0)",
        "Greet bob?",
    ]


def test_without_a_place_to_go_back_to_the_answer_only_sets_the_output() -> None:
    plan = plan_of(
        """
        output: "{{ [steps.pick.retry_requested, steps.pick.feedback] }}"
        steps:
          - {id: pick, module: user.select, inputs: {data: [1, 2]}}
          - {id: ask, module: user.text_input, inputs: {prompt: "?"}, if: "{{ false }}"}
        """
    )
    assert targets(plan) == {"pick": None, "ask": "pick"}
    assert run(plan, Answers({"pick": [{"retry": True, "feedback": "no"}]})) == [True, "no"]


def test_a_review_inside_a_block_goes_back_to_a_step_before_the_block() -> None:
    plan = plan_of(
        """
        state: {tries: 0}
        output: "{{ [steps.pick.selected_data, state.tries] }}"
        steps:
          - {id: draft, module: transform.extract, inputs: {items: "{{ [feedback or 'first'] }}"}}
          - {id: tally, module: transform.extract, inputs: {t: "{{ state.tries + 1 }}"}, outputs_to_state: {tries: t}}
          - id: check
            if: "{{ true }}"
            then:
              - id: outer
                loop: {max_iterations: 3}
                steps:
                  - {id: pick, module: user.select, inputs: {data: "{{ steps.draft.items }}"}}
        """
    )
    assert targets(plan) == {"pick": "draft"}
    chosen: list[dict[str, Any]] = [{"selected_indices": [0]}] * 3
    answers = Answers({"pick": [{"retry": True, "feedback": "second"}, *chosen]})
    assert run(plan, answers) == [["second"], 1]


def test_a_review_in_a_for_each_iteration_reruns_only_that_iteration() -> None:
    plan = plan_of(
        """
        output: "{{ steps.each.results }}"
        steps:
          - id: each
            for_each: "{{ input.topics }}"
            as: topic
            steps:
              - {id: draft, module: io.render_template, inputs: {template: "{{ topic }}{{ '+' ~ feedback if feedback else '' }}"}}
              - {id: pick, module: user.select, inputs: {data: "{{ [steps.draft.rendered] }}"}}
            collect: "{{ steps.pick.selected_data[0] }}"
        """
    )
    assert targets(plan) == {"pick": "draft"}
    answers = Answers(
        {"pick": [{"retry": True, "feedback": "x"}, {"selected_indices": [0]}, {"selected_indices": [0]}]}
    )
    # The first iteration asks first, and retries; the second is untouched by its feedback.
    assert run(plan, answers, {"topics": ["a", "b"]}) == ["a+x", "b"]


def test_a_graph_review_reruns_the_node_it_reads() -> None:
    plan = plan_of(
        """
        output: "{{ review.output.selected_data }}"
        nodes:
          - {id: gen, type: transform.extract, config: {items: "{{ [feedback or 'v1'] }}"}}
          - {id: review, type: user.select, config: {data: "{{ gen.output.items }}"}}
        edges:
          - {source: start, target: gen}
          - {source: gen, target: review}
        """
    )
    assert targets(plan) == {"review": "gen"}
    answers = Answers({"review": [{"retry": True, "feedback": "v2"}, {"selected_indices": [0]}]})
    assert run(plan, answers) == ["v2"]


def test_the_producer_of_a_state_key_is_its_latest_writer() -> None:
    plan = plan_of(
        """
        steps:
          - {id: one, module: transform.extract, inputs: {x: 1}, outputs_to_state: {x: x}}
          - {id: two, module: transform.extract, inputs: {x: 2}, outputs_to_state: {x: x}}
          - {id: pick, module: user.select, inputs: {data: "{{ [state.x] }}"}}
          - {id: choose, module: user.select, inputs: {data: "{{ [state.x, steps.one.x] }}", retry_from: two}}
        """
    )
    assert targets(plan) == {"pick": "two", "choose": "two"}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("later", "retry_from 'later' does not run before this step"),
        ("pick", "retry_from 'pick' is this step itself"),
        ("nope", "retry_from 'nope' does not exist"),
        ("{{ input.x }}", "retry_from names a step id, written out (not a template)"),
    ],
)
def test_a_named_target_must_be_an_earlier_step(target: str, message: str) -> None:
    problems = problems_of(
        f"""
        steps:
          - id: each
            for_each: [1]
            steps:
              - {{id: inner, module: transform.extract, inputs: {{a: 1}}}}
          - {{id: pick, module: user.select, inputs: {{data: [1], retry_from: "{target}"}}}}
          - {{id: later, module: transform.extract, inputs: {{a: 1}}}}
        """
    )
    assert [where for where, _ in problems] == ["/steps/1/inputs/retry_from"]
    assert problems[0][1].startswith(message)


def test_a_step_inside_an_earlier_block_runs_again_with_its_block() -> None:
    plan = plan_of(
        """
        steps:
          - id: each
            for_each: [1]
            steps:
              - {id: inner, module: transform.extract, inputs: {a: 1}}
          - {id: pick, module: user.select, inputs: {data: [1], retry_from: inner}}
        """
    )
    assert targets(plan) == {"pick": "each"}


def test_a_step_in_an_iteration_cannot_go_back_outside_it() -> None:
    problems = problems_of(
        """
        steps:
          - {id: before, module: transform.extract, inputs: {a: 1}}
          - id: each
            for_each: [1]
            steps:
              - {id: ask, module: user.text_input, inputs: {prompt: "?", jump_back_to: before}}
        """
    )
    assert problems == [
        (
            "/steps/1/steps/0/inputs/jump_back_to",
            "jump_back_to 'before' does not run before this step in the same list or an enclosing one "
            "(a jump does not leave a parallel branch or a for_each iteration); name an earlier step",
        )
    ]


class FakeWriter(Answers):
    """Also answers api.llm: four paragraphs that name the topic and the feedback it saw."""

    async def module(self, node: p.ModuleNode, inputs: dict[str, Any], path: Any = ()) -> dict[str, Any]:
        if node.module != "api.llm":
            return await super().module(node, inputs)
        self.asked.append((node.id, inputs))
        text = str(inputs["input"])
        topic = text.split(" about ")[1].split(" for ")[0]
        asked = text.split("The reviewer asked: ")[1] if "asked:" in text else "none"
        return {"response": {"paragraphs": [f"{topic} {i} ({asked})" for i in range(4)]}}


def test_the_draft_review_example_retries_jumps_back_and_publishes_the_edit() -> None:
    from pathlib import Path

    from workflows.compiler import compile_text

    path = Path(__file__).parents[2] / "docs" / "examples" / "draft-review.yaml"
    plan = compile_text(path.read_text(), path.name, registry()).unwrap()
    writer = FakeWriter(
        {
            "ask_topic": [{"value": "bees"}, {"value": "owls"}],
            "review": [
                {"retry": True, "feedback": "shorter"},
                {"selected_indices": [0, 2]},
                {"selected_indices": [1, 3]},
            ],
            "title": [{"jump_back": True}, {"value": "Night owls"}],
            "sign_off": [{"approved": True, "data": {"text": "Owls, edited."}}],
        }
    )
    output = run(plan, writer, {"audience": "children"})
    assert output == {"topic": "owls", "title": "Night owls", "text": "Owls, edited.", "edited": True}
    drafts = [inputs["input"] for step, inputs in writer.asked if step == "draft"]
    assert ["The reviewer asked: shorter" in d for d in drafts] == [False, True, False]
    reviews = [inputs["data"] for step, inputs in writer.asked if step == "review"]
    assert reviews[2][1] == "owls 1 (none)"
