"""Inputs and outputs of RunWorkflow, its queries and signals, and module activities.

One pydantic model each, so fields can be added without breaking runs in flight.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from workflows.plan import Plan

WORKFLOW_NAME = "stepwise.run"
WORKFLOW_QUEUE = "stepwise"
STATUS_QUERY = "status"
EVENT_SIGNAL = "event"
# A no-op local activity that ends a workflow activation (see RunWorkflow's pacing).
YIELD_ACTIVITY = "stepwise.yield"
RunStatusName = Literal["running", "waiting", "completed", "failed", "cancelled"]


class RunInput(BaseModel):
    """What a run starts with: the plan it pins, the plans it may call, its input."""

    plan: Plan
    plan_hash: str
    input: Any = None
    owner: str | None = None
    # Plans of definitions that `call` steps name (by `name` or `name@version`), pinned at start.
    children: dict[str, Plan] = Field(default_factory=dict)
    # Put before the task queue of every activity (the settings' task_queue_prefix).
    queue_prefix: str = ""


class RunOutput(BaseModel):
    output: Any = None


class ModuleCall(BaseModel):
    """An activity's input: which step of which run, and its rendered inputs."""

    run_id: str
    step_id: str
    module: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class ModuleResult(BaseModel):
    outputs: dict[str, Any] = Field(default_factory=dict)


class ExternalEvent(BaseModel):
    """An event a `wait: {signal: NAME}` step waits for, sent through the API or CLI."""

    name: str
    payload: Any = None


class StepStatus(BaseModel):
    id: str
    status: Literal["pending", "running", "done", "skipped", "failed"]


class RunStatus(BaseModel):
    """What the `status` query answers."""

    status: RunStatusName
    definition: str
    plan_hash: str
    steps: list[StepStatus]
    done: int
    running: int
    pending: int
    progress: float = Field(description="Percentage of steps that are done or skipped")
    state_keys: list[str]
