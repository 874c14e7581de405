"""Run events derived from recorded histories (core/run_events.py), offline: the recorded
runs' steps, blocks, human steps, retries, child runs and timers come out complete and in order."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from core.codec import encrypted_converter
from core.run_events import ROOT, Cursor, Deriver, child_key, with_ids
from tests.replay.record import replay_keys

HISTORIES = Path(__file__).parent / "histories"


async def _events(workflow_id: str, root: str | None = None) -> tuple[list[dict[str, Any]], Deriver]:
    history = WorkflowHistory.from_json(workflow_id, (HISTORIES / f"{workflow_id}.json").read_text())
    converter = encrypted_converter(pydantic_data_converter, replay_keys())
    deriver = Deriver(converter, root or workflow_id, workflow_id)
    derived = [d for event in history.events for d in await deriver.derive(event)]
    key = ROOT if root is None else child_key(root, workflow_id)
    events = with_ids(key, workflow_id, derived, Cursor())
    return events, deriver


def _story(events: list[dict[str, Any]], step: str) -> list[str]:
    return [e["type"] for e in events if e["step"] == step]


async def test_blocks_come_out_complete_and_in_order() -> None:
    events, deriver = await _events("replay-blocks-journal")
    assert deriver.closed
    assert [c.workflow_id for c in deriver.children] == ["replay-blocks-journal.child.1"]
    assert events[0]["type"] == "workflow_start"
    assert events[0]["data"]["definition"] == "replay-blocks"
    assert (events[-1]["type"], events[-1]["data"]["status"]) == ("workflow_complete", "completed")
    for step in ("first", "second"):
        assert _story(events, step) == ["step_start", "module_start", "module_output", "step_complete"]
    gets = [(e["type"], e["path"]) for e in events if e["step"] == "get" and e["type"] == "step_complete"]
    assert sorted(p[0][1] for _, p in gets) == [0, 1, 2]
    assert [e["path"] for e in events if e["step"] == "bump" and e["type"] == "step_complete"] == [
        [["refine", 1]],
        [["refine", 2]],
    ]
    assert _story(events, "big") == []
    assert _story(events, "small") == ["step_start", "module_start", "module_output", "step_complete"]
    assert _story(events, "missing") == ["step_start", "module_start", "error"]
    assert "answered 404" in next(e for e in events if e["type"] == "error")["data"]["message"]
    assert _story(events, "pause") == ["step_start", "timer_started", "timer_fired", "step_complete"]
    assert _story(events, "child") == ["step_start", "step_complete"]
    order = [(e["type"], e["step"]) for e in events]
    assert order.index(("step_complete", "both")) > order.index(("step_complete", "second"))
    assert order.index(("step_start", "each")) > order.index(("step_complete", "both"))


async def test_a_child_run_names_its_caller() -> None:
    events, _ = await _events("replay-blocks-journal.child.1", root="replay-blocks-journal")
    assert events[0]["data"]["called_by"] == {"run": "replay-blocks-journal", "step": "child"}
    assert events[0]["id"].startswith("child.1@0.1.")
    assert events[-1]["data"]["output"] == 6


async def test_human_steps_ask_and_are_answered() -> None:
    events, _ = await _events("replay-human-journal")
    assert _story(events, "ask") == [
        "step_start",
        "module_start",
        "interaction_request",
        "interaction_response",
        "module_output",
        "step_complete",
    ]
    # A 2-of-3 approval: two answers, the first does not decide it.
    sign = [e for e in events if e["step"] == "sign" and e["type"] == "interaction_response"]
    assert [(e["data"]["by"], e["data"]["decided"]) for e in sign] == [("bob", False), ("cy", True)]
    request = next(e for e in events if e["type"] == "interaction_request" and e["step"] == "pick")
    assert request["data"]["interaction"]["prompt"] == "Pick one"
    assert _story(events, "pick")[:4] == [
        "step_start",
        "module_start",
        "interaction_request",
        "timer_started",
    ]
    assert next(e for e in events if e["type"] == "module_output" and e["step"] == "note")["data"] == {
        "outputs": {"value": "fine", "jump_back_requested": False}
    }


async def test_an_older_history_gives_what_it_holds() -> None:
    """Histories from before the journal: activities, answers and the end still come out."""
    events, _ = await _events("replay-blocks")
    assert _story(events, "first") == ["step_start", "module_start", "module_output", "step_complete"]
    assert events[-1]["type"] == "workflow_complete"


async def test_a_generation_1_run_shows_its_local_steps_and_its_last_journal_entries() -> None:
    """Engine generation 1 (docs/fast-path.md): no patch markers, local steps journaled, and
    the journal's last entries carried in the run's result instead of a memo upsert."""
    history = WorkflowHistory.from_json(
        "replay-blocks-engine1", (HISTORIES / "replay-blocks-engine1.json").read_text()
    )
    markers = [e for e in history.events if e.HasField("marker_recorded_event_attributes")]
    assert {m.marker_recorded_event_attributes.marker_name for m in markers} == {"core_local_activity"}
    events, deriver = await _events("replay-blocks-engine1")
    assert deriver.closed
    assert _story(events, "quick") == ["step_start", "module_start", "module_output", "step_complete"]
    assert _story(events, "pause") == ["step_start", "timer_started", "timer_fired", "step_complete"]
    for step in ("first", "second", "small"):
        assert _story(events, step) == ["step_start", "module_start", "module_output", "step_complete"]
    assert (events[-1]["type"], events[-1]["data"]["status"]) == ("workflow_complete", "completed")
    assert events[-1]["data"]["output"]["quick"] == {"n": 6}


async def test_a_generation_2_run_leaves_its_status_to_temporal() -> None:
    """Engine generation 2: a run starts without StepwiseStatus and does not set it when it
    ends (its ExecutionStatus says how); while it waits (a person, an event) it says so."""

    def statuses(name: str) -> list[bytes]:
        history = WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())
        started = history.events[0].workflow_execution_started_event_attributes
        assert "StepwiseStatus" not in started.search_attributes.indexed_fields
        assert "StepwiseDefinition" in started.search_attributes.indexed_fields
        shown = [
            e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            for e in history.events
            if e.HasField("upsert_workflow_search_attributes_event_attributes")
        ]
        return [fields["StepwiseStatus"].data for fields in shown if "StepwiseStatus" in fields]

    assert statuses("replay-graph-normal-engine2") == []
    for name in ("replay-blocks-engine2", "replay-human-engine2"):
        shown = statuses(name)
        assert shown[:1] == [b'"waiting"'], shown
        assert shown[-1:] == [b'"running"'], shown
    for name in ("replay-blocks-engine2", "replay-graph-normal-engine2"):
        events, deriver = await _events(name)
        assert deriver.closed
        assert (events[-1]["type"], events[-1]["data"]["status"]) == ("workflow_complete", "completed")
    # The local step's journal entries went out with the next memo, not one of their own.
    events, _ = await _events("replay-blocks-engine2")
    assert _story(events, "quick") == ["step_start", "module_start", "module_output", "step_complete"]


async def test_a_typed_run_is_named_by_its_workflow_type_alone() -> None:
    """Runs started as `stepwise.run/<definition>` carry no StepwiseDefinition (only an owner's
    StepwiseOwner); their child runs are `stepwise.run`. Their events come out as before."""
    expected = {
        "replay-blocks-typed": "replay-blocks",
        "replay-graph-normal-typed": "replay-graph",
        "replay-events-typed": "replay-events",
        "replay-human-typed": "replay-human",
        "replay-blocks-typed.child.1": None,
    }
    for name, definition in expected.items():
        history = WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())
        started = history.events[0].workflow_execution_started_event_attributes
        assert started.workflow_type.name == (f"stepwise.run/{definition}" if definition else "stepwise.run")
        owner = {"StepwiseOwner"} if name == "replay-human-typed" else set()
        assert set(started.search_attributes.indexed_fields) == owner, name
    events, deriver = await _events("replay-blocks-typed")
    assert deriver.closed
    assert events[0]["data"]["definition"] == "replay-blocks"
    assert [c.workflow_id for c in deriver.children] == ["replay-blocks-typed.child.1"]
    for step in ("quick", "first", "second", "small"):
        assert _story(events, step) == ["step_start", "module_start", "module_output", "step_complete"]
    assert (events[-1]["type"], events[-1]["data"]["status"]) == ("workflow_complete", "completed")


async def test_a_generation_3_run_carries_its_plan_as_the_json_its_hash_is_of() -> None:
    """Engine generation 3: a typed run's inputs are its plan's canonical JSON (which hashes
    to the plan hash as it is) and the rest of its RunInput; its commands are those of the
    generation before, and its events come out as before."""
    converter = encrypted_converter(pydantic_data_converter, replay_keys())
    for name in ("replay-blocks-engine3", "replay-graph-normal-engine3", "replay-human-engine3"):
        history = WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())
        started = history.events[0].workflow_execution_started_event_attributes
        plan_json, rest = await converter.payload_codec.decode(list(started.input.payloads))  # type: ignore[union-attr]
        assert hashlib.sha256(plan_json.data).hexdigest() == json.loads(rest.data)["plan_hash"]
        assert json.loads(rest.data)["engine"] == 3
        assert "plan" not in json.loads(rest.data)
        typed = WorkflowHistory.from_json(
            name, (HISTORIES / f"{name.replace('engine3', 'typed')}.json").read_text()
        )
        assert _commands(history) == _commands(typed), name
    events, deriver = await _events("replay-blocks-engine3")
    assert deriver.closed
    assert events[0]["data"]["definition"] == "replay-blocks"
    assert events[0]["data"]["steps"] == (await _events("replay-blocks-typed"))[0][0]["data"]["steps"]
    for step in ("quick", "first", "second", "small", "bump"):
        assert _story(events, step)[:1] == ["step_start"], step
        assert _story(events, step)[-1:] == ["step_complete"], step
    assert (events[-1]["type"], events[-1]["data"]["status"]) == ("workflow_complete", "completed")


def _commands(history: WorkflowHistory) -> list[str]:
    """What a run's workflow tasks asked for, in order (the events that commands make)."""
    made = {
        "activity_task_scheduled_event_attributes",
        "timer_started_event_attributes",
        "marker_recorded_event_attributes",
        "start_child_workflow_execution_initiated_event_attributes",
        "upsert_workflow_search_attributes_event_attributes",
        "workflow_properties_modified_event_attributes",
        "workflow_execution_completed_event_attributes",
    }
    kinds = (e.WhichOneof("attributes") for e in history.events)
    return [kind for kind in kinds if kind in made]
