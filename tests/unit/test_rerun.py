"""Rerun without re-spending: which recorded results a rerun offers, which a step takes, and how
a reused step shows in the run's events."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.contrib.pydantic import pydantic_data_converter

from core import rerun as rerun_module
from core.rerun import RerunRefused, reusable, steps_before
from core.run_events import Deriver
from core.run_progress import describe
from tests.helpers import plan_of
from workflows.engine.journal import JOURNAL_MEMO, Journal
from workflows.engine.models import RecordedStep, Rerun
from workflows.engine.reuse import Reuse

PLAN = """
steps:
  - {id: first, module: api.llm, inputs: {model: x@openai, input: "{{ input.topic }}"}}
  - id: each
    for_each: "{{ input.items }}"
    steps:
      - {id: inner, module: api.llm, inputs: {model: x@openai, input: "{{ item }}"}}
  - {id: second, module: api.llm, inputs: {model: x@openai, input: "{{ steps.first.response_text }}"}}
  - {id: third, module: api.llm, inputs: {model: x@openai, input: "{{ steps.second.response_text }}"}}
"""


def recorded(step: str, text: str, path: list[tuple[str, int]] | None = None) -> RecordedStep:
    inputs = {"model": "x@openai", "input": text, "options": {"a": 1, "b": [1, 2]}}
    return RecordedStep(step_id=step, path=path or [], inputs=inputs, outputs={"response_text": text + "!"})


def test_a_step_reuses_the_result_recorded_for_the_same_inputs_in_any_key_order() -> None:
    reuse = Reuse(Rerun(run_id="run-a", from_step="third", steps=[recorded("first", "cats")]))
    inputs = {"options": {"b": [1, 2], "a": 1}, "input": "cats", "model": "x@openai"}
    assert reuse.take("first", (), inputs) == {"response_text": "cats!"}


def test_changed_inputs_another_place_or_another_step_run_anew() -> None:
    steps = [recorded("first", "cats"), recorded("inner", "dogs", [("each", 1)])]
    reuse = Reuse(Rerun(run_id="run-a", from_step="third", steps=steps))
    assert reuse.take("first", (), {**recorded("first", "cats").inputs, "input": "mice"}) is None
    assert reuse.take("inner", (("each", 0),), recorded("inner", "dogs").inputs) is None
    assert reuse.take("second", (), recorded("first", "cats").inputs) is None
    assert reuse.take("inner", (("each", 1),), recorded("inner", "dogs").inputs) == {"response_text": "dogs!"}


def test_a_recorded_result_is_given_once_and_a_continuation_keeps_the_rest() -> None:
    steps = [recorded("first", "cats"), recorded("first", "cats"), recorded("second", "x")]
    reuse = Reuse(Rerun(run_id="run-a", from_step="third", steps=steps))
    inputs = recorded("first", "cats").inputs
    assert reuse.take("first", (), inputs) is not None
    left = reuse.remaining()
    assert left is not None
    assert [s.step_id for s in left.steps] == ["first", "second"]
    assert reuse.take("first", (), inputs) is not None
    assert reuse.take("first", (), inputs) is None


def test_a_run_that_is_no_rerun_reuses_nothing() -> None:
    reuse = Reuse(None)
    assert reuse.take("first", (), {}) is None
    assert reuse.remaining() is None


def test_before_a_step_means_earlier_in_plan_order_blocks_and_their_contents_included() -> None:
    plan = plan_of(PLAN)
    assert steps_before(plan, "third") == {"first", "each", "inner", "second"}
    assert steps_before(plan, "inner") == {"first", "each"}
    assert steps_before(plan, "each") == {"first"}
    assert steps_before(plan, "first") == set()


def test_an_unknown_step_is_refused_naming_the_plans_steps() -> None:
    with pytest.raises(
        RerunRefused, match="no step 'fourth'; its steps are first, each, inner, second, third"
    ):
        steps_before(plan_of(PLAN), "fourth")


def test_only_results_of_steps_before_are_offered_within_the_size_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = [recorded("first", "a"), recorded("third", "b"), recorded("second", "c" * 50)]
    assert [s.step_id for s in reusable(steps, {"first", "second"})] == ["first", "second"]
    monkeypatch.setattr(rerun_module, "REUSE_LIMIT_CHARS", 150)
    assert [s.step_id for s in reusable(steps, {"first", "second"})] == ["first"]


async def test_a_reused_step_shows_as_reused_in_its_events() -> None:
    journal = Journal()
    journal.note("start", "first", (), "module", "api.llm", reused="run-a")
    journal.note("done", "first", (), "module", "api.llm", {"response_text": "hi"}, reused="run-a")
    journal.note("done", "pure", (), "module", "transform.extract", {"x": 1})
    [payload] = pydantic_data_converter.payload_converter.to_payloads([journal.take()])
    event = HistoryEvent(event_id=7, event_type=EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED)
    event.workflow_properties_modified_event_attributes.upserted_memo.fields[JOURNAL_MEMO].CopyFrom(payload)
    derived = await Deriver(pydantic_data_converter, "run-b", "run-b").derive(event)
    shown = [(d.type, d.step, d.data.get("reused"), d.data.get("reused_from")) for d in derived]
    assert shown == [
        ("step_start", "first", True, "run-a"),
        ("module_output", "first", True, "run-a"),
        ("step_complete", "first", True, "run-a"),
        ("module_output", "pure", None, None),
        ("step_complete", "pure", None, None),
    ]
    complete = {"type": "step_complete", "at": "", "run": "run-b", "step": "first", "data": derived[2].data}
    assert describe(complete).endswith("reused from run-a")
