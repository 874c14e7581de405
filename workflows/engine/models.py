"""Inputs and outputs of RunWorkflow, its queries and signals, and module activities.

One pydantic model each, so fields can be added without breaking runs in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from workflows.plan import Plan
from workflows.resume import Resume

# Child runs, and top-level runs started by versions before typed runs, are of this type.
WORKFLOW_NAME = "stepwise.run"
# Top-level runs are `stepwise.run/<definition>` (run_type): the type lists them by definition.
RUN_TYPE_PREFIX = WORKFLOW_NAME + "/"
WORKFLOW_QUEUE = "stepwise"
STATUS_QUERY = "status"
INTERACTIONS_QUERY = "interactions"
RESPOND_UPDATE = "respond"
EVENT_SIGNAL = "event"
# The memo that lists a run's open interactions (summaries), so an inbox is one listing.
INBOX_MEMO = "StepwiseInbox"
# Marks histories whose runs keep INBOX_MEMO (older histories replay without it).
INBOX_MEMO_PATCH = "inbox-memo"
# Marks histories whose runs show a change of who may answer together with the run's status, in
# one upsert (older histories upsert each change on its own).
ONE_UPSERT_PATCH = "one-upsert"
# External events as an Update: validated, with the caller's idempotency key as its id.
EVENT_UPDATE = "send_event"
# A no-op local activity that ends a workflow activation (see RunWorkflow's pacing).
YIELD_ACTIVITY = "stepwise.yield"
# The hook where reminders of human steps go out (a local activity; notifications come later).
REMIND_ACTIVITY = "stepwise.remind"
# Where an api.llm step's model chain is resolved (aliases, providers) and checked for workers:
# a local activity, so the answer is in history and replays the same.
LLM_ROUTE_ACTIVITY = "stepwise.llm_route"
# Where an api.llm call's tokens and cost go into the ledger (a local activity; it answers the cost).
LLM_USAGE_ACTIVITY = "stepwise.llm_usage"
# Marks histories whose api.llm steps are routed to per-model task queues (`llm.<model>`) with
# fallback; older histories ran them on the `llm` queue as they were.
LLM_ROUTES_PATCH = "llm-routes"
DEFAULT_CONTINUE_AS_NEW_AFTER = 2_000
# The engine generation new runs start with (RunInput.engine). Generation 1 behaves as if every
# patch above were applied, without their markers (each marker also upserts a search attribute),
# and puts the journal's last entries into RunOutput instead of one more memo upsert.
# Generation 2 leaves StepwiseStatus to what Temporal does not say itself: a run starts without
# it (none means running; core.runs), sets it only when it waits and goes on, and does not set
# it when it ends (its ExecutionStatus says how). Generation 3 runs a node that is the only one
# ready in its body without a task of its own (Interpreter's `inline`), starts the task that
# shows deferred changes only once the run first blocks, and ends without a last event-loop
# turn when no handler is running: the same commands, in fewer turns of the workflow's event
# loop (which decide when deferred changes are shown). A run's generation never changes, so
# histories of every generation replay the same.
ENGINE_GENERATION = 3


def run_type(definition: str) -> str:
    """The workflow type a top-level run of `definition` starts as."""
    return RUN_TYPE_PREFIX + definition


def definition_of(workflow_type: str) -> str | None:
    """The definition a typed run's workflow type names; None for any other type."""
    name = workflow_type.removeprefix(RUN_TYPE_PREFIX)
    return name if name and name != workflow_type else None


RunStatusName = Literal["running", "waiting", "completed", "failed", "cancelled"]


class ExternalEvent(BaseModel):
    """An event a `wait: {signal: NAME}` step waits for, sent through the API or CLI."""

    name: str
    payload: Any = None


class EventReceipt(BaseModel):
    """The reply to an accepted event."""

    name: str
    received_at: str
    # True when a step was waiting for it; otherwise it is kept until one does.
    waited_for: bool


class Scheduled(BaseModel):
    """Set on the runs a schedule starts: the run input is `input` rendered when the run starts,
    with `schedule.id` and `schedule.scheduled_time` (the time it was due, ISO 8601)."""

    schedule_id: str
    input: Any = None


class LlmSpent(BaseModel):
    """What a run's LLM calls have used so far (carried across continue-as-new)."""

    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0


class RecordedStep(BaseModel):
    """An api.llm step's result in an earlier run: a rerun gives it again, without asking a
    model, where the step's rendered inputs are the same (workflows/engine/reuse.py)."""

    step_id: str
    # The enclosing for_each and loop iterations, as in ModuleCall.
    path: list[tuple[str, int]] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)


class Rerun(BaseModel):
    """Set on a run that reruns an earlier one from `from_step`: the results it may reuse."""

    run_id: str
    from_step: str
    steps: list[RecordedStep] = Field(default_factory=list)


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
    # Continue as new (same run id, fresh history) once history holds this many events.
    continue_as_new_after: int = DEFAULT_CONTINUE_AS_NEW_AFTER
    # Set when this run continues an earlier history of the same run.
    resume: Resume | None = None
    started_at: str | None = None
    pending_events: list[ExternalEvent] = Field(default_factory=list)
    children_started: int = 0
    continued: int = 0
    scheduled: Scheduled | None = None
    llm_spent: LlmSpent = Field(default_factory=LlmSpent)
    # Set on a rerun: the earlier run's api.llm results it reuses (those not used yet).
    rerun: Rerun | None = None
    # The engine generation the run started with (ENGINE_GENERATION); 0 for older runs.
    engine: int = 0


def rest_of(run: RunInput) -> dict[str, Any]:
    """A typed run's second input: its RunInput without the plan. The first is the plan's
    canonical JSON (Plan.canonical_json), the very bytes its hash is of, so the worker checks
    the hash on them without working that JSON out again."""
    return run.model_dump(mode="json", exclude={"plan"})


def run_fields(values: Sequence[Any]) -> dict[str, Any]:
    """A run's input as RunInput's fields, from the values of its start event read as JSON:
    one RunInput (child runs, schedules, runs started before typed runs had two inputs), or
    a typed run's plan and the rest of its RunInput (`rest_of`)."""
    if len(values) == 2 and isinstance(values[0], dict) and isinstance(values[1], dict):
        return {**values[1], "plan": values[0]}
    if len(values) == 1 and isinstance(values[0], dict):
        return values[0]
    raise ValueError(
        f"a Stepwise run takes a RunInput, or a plan and the rest of one, not {len(values)} values"
    )


class RunOutput(BaseModel):
    output: Any = None
    # Generation 1: journal entries noted since the last upsert (core.run_events reads them).
    journal: list[dict[str, Any]] | None = None


class LlmTarget(BaseModel):
    model: str
    provider: str
    # The task queue of the workers that serve the model (without the settings' prefix).
    queue: str
    # Whether a worker has polled that queue lately; a chain skips the models nobody serves.
    served: bool = True


class ModuleCall(BaseModel):
    """An activity's input: which step of which run, and its rendered inputs."""

    run_id: str
    step_id: str
    module: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    # The enclosing for_each and loop iterations: [block id, index or iteration] from the outside.
    path: list[tuple[str, int]] = Field(default_factory=list)
    # api.llm: the model and provider the workflow's routing chose from the step's chain
    # (`inputs` stay as the step rendered them).
    target: LlmTarget | None = None
    # A `local` step that ran past the local limit, now run as a regular activity (the journal
    # has its start and end: docs/fast-path.md).
    fallback: bool = False


class ModuleResult(BaseModel):
    outputs: dict[str, Any] = Field(default_factory=dict)


class Reminder(BaseModel):
    """A human step that still waits for an answer, at its `remind_every`."""

    run_id: str
    interaction_id: str
    step_id: str


class StepStatus(BaseModel):
    id: str
    status: Literal["pending", "running", "done", "skipped", "failed"]


class RunStatus(BaseModel):
    """What the `status` query answers."""

    status: RunStatusName
    definition: str
    plan_hash: str
    steps: list[StepStatus]
    done: int = Field(description="Steps finished: done or skipped")
    running: int
    pending: int
    progress: float = Field(description="Percentage of steps that are done or skipped")
    state_keys: list[str]
    continued: int = Field(default=0, description="How many times the run continued as new")


class LlmRouteRequest(BaseModel):
    """An api.llm step's choice of model, as written (a model, `model@provider`, an `@alias`,
    or a list of them: a fallback chain), and its `provider` input."""

    run_id: str
    step_id: str
    model: str | list[str] | None = None
    provider: str | None = None
    # The run's task queue prefix, so the queues asked about are the ones it schedules on.
    queue_prefix: str = ""
    # Whose monthly LLM budget the call counts against (the run's owner), and the definition.
    owner: str | None = None
    definition: str | None = None


class LlmRoute(BaseModel):
    """The models to try, in order, and how long a request may wait for a free worker."""

    targets: list[LlmTarget]
    schedule_to_start_s: float


class LlmUsageRecord(BaseModel):
    """One api.llm call's usage, for the ledger; `key` is the same on every retry of it."""

    key: str
    run_id: str
    step_id: str
    path: list[tuple[str, int]] = Field(default_factory=list)
    definition: str
    owner: str | None = None
    model: str
    provider: str
    input_tokens: int = 0
    output_tokens: int = 0


class LlmUsageRecorded(BaseModel):
    cost_usd: float = 0.0
