"""Rerunning a run from one of its steps: a new run of the same pinned plan, input and called
plans, that reuses the results of the earlier run's api.llm steps before that step (where their
rendered inputs are unchanged), so no model is asked, and no token paid for, twice.

"Before STEP" is plan order: the order in which `iter_nodes` lists the plan's steps, where every
step comes after the steps it depends on and a block comes before its contents. STEP, what it
holds (a block), and every step listed after it run anew; so does anything inside the runs that
`call` steps start. What the earlier run recorded is read out of its Temporal history (the
first execution's input, the completed `module:api.llm` activities of every execution).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import decode_typed_search_attributes
from temporalio.exceptions import ApplicationError

from core.run_history import execution_pages, first_execution
from core.run_views import RunNotFound, run_summary
from core.runs import Prepared, start_run
from core.settings import Settings
from workflows.engine.llm import LLM_MODULE
from workflows.engine.models import (
    WORKFLOW_NAME,
    ModuleCall,
    ModuleResult,
    RecordedStep,
    Rerun,
    RunInput,
    RunOutput,
    definition_of,
    run_fields,
)
from workflows.engine.reuse import canonical
from workflows.engine.scheduled import SCHEDULED_TIME_KEY, input_due
from workflows.plan import Plan, iter_nodes

LLM_ACTIVITY = f"module:{LLM_MODULE}"
# What a rerun carries of recorded results at most (JSON characters of their inputs and
# outputs), so its input stays far below Temporal's 2 MB payload limit; results past it (in the
# order they were recorded) are not reused: those steps run anew.
REUSE_LIMIT_CHARS = 1_000_000


class RerunRefused(ValueError):
    """The rerun cannot start as asked (an unknown step, say); the message says why and what to do."""


@dataclass
class Recorded:
    """What a run's history holds for a rerun: its first input and its api.llm results."""

    run_input: RunInput
    version: int | None
    steps: list[RecordedStep] = field(default_factory=list)


@dataclass
class Rerunning:
    """A rerun that started: its handle, and the steps whose results it may reuse."""

    handle: WorkflowHandle[Any, RunOutput]
    run_input: RunInput
    version: int | None
    reusable: list[str]


def steps_before(plan: Plan, step: str) -> set[str]:
    """The ids of the steps listed before `step` in plan order (see the module's docstring);
    RerunRefused naming the plan's steps when it has none called `step`."""
    ids = list(dict.fromkeys(node.id for node in iter_nodes(plan.body)))
    if step not in ids:
        raise RerunRefused(
            f"from_step: plan '{plan.name}' has no step '{step}'; its steps are {', '.join(ids) or 'none'}"
        )
    return set(ids[: ids.index(step)])


def reusable(recorded: list[RecordedStep], before: set[str]) -> list[RecordedStep]:
    """The recorded results of the steps in `before`, within REUSE_LIMIT_CHARS."""
    kept: list[RecordedStep] = []
    size = 0
    for step in recorded:
        if step.step_id not in before:
            continue
        size += len(canonical(step.inputs)) + len(canonical(step.outputs))
        if size > REUSE_LIMIT_CHARS:
            break
        kept.append(step)
    return kept


async def read_recorded(client: Client, run_id: str) -> Recorded:
    """The run's first input and the results of its api.llm steps, across continue-as-new;
    RunNotFound when there is no such Stepwise run."""
    summary = await run_summary(client, run_id)
    execution: str | None = await first_execution(client, run_id)
    converter = client.data_converter
    run_input: RunInput | None = None
    steps: list[RecordedStep] = []
    while execution is not None:
        calls: dict[int, ModuleCall] = {}
        following: str | None = None
        async for events in execution_pages(client, run_id, execution, follow=False):
            for event in events:
                kind = event.event_type
                if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED and run_input is None:
                    run_input = await _first_input(client, run_id, event)
                elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                    attrs = event.activity_task_scheduled_event_attributes
                    if attrs.activity_type.name == LLM_ACTIVITY:
                        [call] = await converter.decode(attrs.input.payloads, [ModuleCall])
                        calls[event.event_id] = call
                elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    done = event.activity_task_completed_event_attributes
                    call = calls.pop(done.scheduled_event_id, None)
                    if call is not None:
                        [result] = await converter.decode(done.result.payloads, [ModuleResult])
                        steps.append(_recorded(call, result))
                elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                    attrs_new = event.workflow_execution_continued_as_new_event_attributes
                    following = attrs_new.new_execution_run_id or None
        execution = following
    if run_input is None:
        raise RunNotFound(run_id)
    return Recorded(run_input, summary.version, steps)


async def _first_input(client: Client, run_id: str, event: HistoryEvent) -> RunInput:
    """The RunInput a run started with, its input rendered when a schedule started it."""
    attrs = event.workflow_execution_started_event_attributes
    if attrs.workflow_type.name != WORKFLOW_NAME and definition_of(attrs.workflow_type.name) is None:
        raise RunNotFound(run_id)
    values = await client.data_converter.decode(attrs.input.payloads)
    run_input = RunInput.model_validate(run_fields(values))
    if run_input.scheduled is None:
        return run_input
    attributes = decode_typed_search_attributes(attrs.search_attributes)
    due = attributes.get(SCHEDULED_TIME_KEY) or event.event_time.ToDatetime(tzinfo=UTC)
    try:
        value = input_due(run_input, due if due.tzinfo else due.replace(tzinfo=UTC))
    except ApplicationError as exc:
        raise RerunRefused(f"run {run_id} never had a valid input: {exc.message}") from None
    return run_input.model_copy(update={"input": value, "scheduled": None})


def _recorded(call: ModuleCall, result: ModuleResult) -> RecordedStep:
    return RecordedStep(step_id=call.step_id, path=call.path, inputs=call.inputs, outputs=result.outputs)


async def rerun(
    client: Client, run_id: str, from_step: str, settings: Settings, owner: str | None = None
) -> Rerunning:
    """Start a rerun of `run_id` from `from_step`, owned by `owner`. RunNotFound for an unknown
    run, RerunRefused for a step its plan does not have."""
    recorded = await read_recorded(client, run_id)
    earlier = recorded.run_input
    before = steps_before(earlier.plan, from_step)
    offered = reusable(recorded.steps, before)
    plan = Rerun(run_id=run_id, from_step=from_step, steps=offered)
    prepared = Prepared(earlier.plan, dict(earlier.children), earlier.plan_hash)
    handle = await start_run(
        client, prepared, earlier.input, settings, owner=owner, version=recorded.version, rerun=plan
    )
    names = list(dict.fromkeys(step.step_id for step in offered))
    return Rerunning(handle, earlier, recorded.version, names)
