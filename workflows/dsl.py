"""The definition language as pydantic models: what a YAML or JSON file may say.

Unknown keys are errors everywhere, so a typo is never silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from workflows.durations import DURATION_PATTERN

ID_PATTERN = r"^[a-z_][a-z0-9_]*$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
LANGUAGE_VERSION = 1

StepId = Annotated[str, Field(pattern=ID_PATTERN, description="Unique in the file: [a-z_][a-z0-9_]*")]
Duration = Annotated[str, Field(pattern=DURATION_PATTERN, description="e.g. 500ms, 30s, 5m, 2h, 3d")]
# A condition: a template, or a literal true/false.
Condition = Annotated[str | bool, Field(description="A template such as {{ state.ok }}, or true/false")]
# Outputs copied into the run's state when the step finishes: {state key: output name}.
OutputsToState = Annotated[
    dict[str, str], Field(description="State key: output name, applied when the step finishes")
]


def case_key(value: Any) -> str:
    """The text a switch compares: YAML `true:` and `1:` keys match the values true and 1."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _case_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {case_key(k): v for k, v in value.items()}
    return value


class Strict(BaseModel):
    """Base of every language model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


class Retry(Strict):
    """Retry policy of an activity step; unset fields come from `defaults`."""

    max_attempts: int | None = Field(default=None, ge=1, description="Attempts in all (1: no retry)")
    initial_interval: Duration | None = Field(default=None, description="Wait before the first retry")
    backoff: float | None = Field(default=None, ge=1, description="Multiplier of the wait per retry")
    max_interval: Duration | None = Field(default=None, description="Longest wait between retries")
    non_retryable_errors: list[str] | None = Field(
        default=None, description="Error types that are never retried"
    )


class Defaults(Strict):
    """Settings for every activity step; pure and human steps ignore them."""

    retry: Retry | None = None
    timeout: Duration | None = None


class Budget(Strict):
    """What one run may spend on its LLM steps. Once it is spent, the next LLM step fails (not
    retried), or runs on `fallback` when one is given."""

    max_tokens: int | None = Field(default=None, ge=1, description="Tokens in and out, over every LLM step")
    max_cost_usd: float | None = Field(
        default=None, gt=0, description="Cost in US dollars (settings' prices)"
    )
    fallback: str | list[str] | None = Field(
        default=None, description="The model (or chain) LLM steps use once the budget is spent"
    )

    @model_validator(mode="after")
    def _limited(self) -> Budget:
        if self.max_tokens is None and self.max_cost_usd is None:
            raise ValueError("a budget needs max_tokens or max_cost_usd (or both)")
        return self


class Goto(Strict):
    """On error, continue at another step of the same list; `error` is in scope there."""

    goto: str


OnError = Literal["fail", "continue"] | Goto


class StepBase(Strict):
    id: StepId
    if_: Condition | None = Field(default=None, alias="if", description="Skip the step when false")


class RunSettings(Strict):
    """What a module step and a graph node both may say about running their module."""

    outputs_to_state: OutputsToState = Field(default_factory=dict)
    retry: Retry | None = None
    timeout: Duration | None = None
    on_error: OnError = "fail"
    local: bool | None = Field(
        default=None,
        description="Run the module as a Temporal local activity, in the workflow's own worker "
        "(modules that allow it; see docs/fast-path.md). Light modules do by default; false opts out",
    )


class ModuleStep(RunSettings, StepBase):
    """Runs one module."""

    module: str = Field(description="A registered module, e.g. transform.reshape")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Templated module inputs")


class ParallelStep(StepBase):
    """Named branches that run concurrently; a failure fails the block and cancels the rest."""

    parallel: dict[str, list[Step]] = Field(min_length=1)


class ForEachStep(StepBase):
    """Runs its steps once per item of a list."""

    for_each: str | list[Any] = Field(description="A list, or a template giving one")
    as_: str = Field(default="item", alias="as", pattern=ID_PATTERN, description="The item's name")
    max_concurrency: int | None = Field(default=None, ge=1, description="Items run at once")
    steps: list[Step] = Field(min_length=1)
    collect: Any = Field(default=None, description="Evaluated per iteration into `results`")
    outputs_to_state: OutputsToState = Field(default_factory=dict)


class LoopSpec(Strict):
    until: Condition | None = Field(default=None, description="Checked after each iteration")
    max_iterations: int | None = Field(default=None, ge=1, description="Upper bound; required")


class LoopStep(StepBase):
    """Repeats its steps until a condition holds, at most max_iterations times."""

    loop: LoopSpec
    steps: list[Step] = Field(min_length=1)


class SwitchStep(StepBase):
    """Runs the case whose name equals the value, else `default`."""

    switch: str | int | bool = Field(description="A template giving the value to match")
    cases: Annotated[dict[str, list[Step]], BeforeValidator(_case_keys)] = Field(min_length=1)
    default: list[Step] = Field(default_factory=list)


class IfStep(Strict):
    """Runs `then` when the condition holds, else `else`."""

    id: StepId
    if_: Condition = Field(alias="if")
    then: list[Step] = Field(default_factory=list)
    else_: list[Step] = Field(default_factory=list, alias="else")


class CallStep(StepBase):
    """Runs another definition as a child workflow."""

    call: str = Field(description="A definition name; `name@3` pins version 3")
    input: Any = Field(default_factory=dict, description="The child run's input, templated")
    outputs_to_state: OutputsToState = Field(default_factory=dict)


class WaitSpec(Strict):
    duration: str | None = Field(default=None, description="How long to wait, e.g. 1h")
    until: str | None = Field(default=None, description="A time (ISO 8601) or a template giving one")
    signal: str | None = Field(default=None, pattern=ID_PATTERN, description="An external event's name")
    timeout: Duration | None = Field(default=None, description="Give up waiting for the signal after this")


class WaitStep(StepBase):
    """Waits for a duration, until a time, or for an external event."""

    wait: WaitSpec
    outputs_to_state: OutputsToState = Field(default_factory=dict)


STEP_KINDS: dict[str, str] = {
    "module": "module",
    "parallel": "parallel",
    "for_each": "for_each",
    "loop": "loop",
    "switch": "switch",
    "then": "if",
    "else": "if",
    "call": "call",
    "wait": "wait",
}
STEP_TAG = "step:"


def step_kind(value: Any) -> str | None:
    """Which kind of step a mapping is, from its distinguishing key."""
    if isinstance(value, BaseModel):
        return STEP_TAG + type(value).__name__
    if not isinstance(value, dict):
        return None
    for key, kind in STEP_KINDS.items():
        if key in value:
            return STEP_TAG + kind
    return None


Step = Annotated[
    Annotated[ModuleStep, Tag(STEP_TAG + "module")]
    | Annotated[ParallelStep, Tag(STEP_TAG + "parallel")]
    | Annotated[ForEachStep, Tag(STEP_TAG + "for_each")]
    | Annotated[LoopStep, Tag(STEP_TAG + "loop")]
    | Annotated[SwitchStep, Tag(STEP_TAG + "switch")]
    | Annotated[IfStep, Tag(STEP_TAG + "if")]
    | Annotated[CallStep, Tag(STEP_TAG + "call")]
    | Annotated[WaitStep, Tag(STEP_TAG + "wait")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message=(
            "a step needs exactly one of: module, parallel, for_each, loop, switch, "
            "if with then/else, call, wait"
        ),
    ),
]

for _model in (ParallelStep, ForEachStep, LoopStep, SwitchStep, IfStep):
    _model.model_rebuild()


class ConditionalConfig(Strict):
    condition: Condition
    true_edge: str | None = Field(default=None, description="Node to run when the condition holds")
    false_edge: str | None = Field(default=None, description="Node to run otherwise")


class Node(RunSettings):
    """A node of the graph form: a module (or alias) with its inputs in `config`."""

    id: StepId
    type: str = Field(description="A module name, or llm, http, conditional")
    config: dict[str, Any] = Field(default_factory=dict, description="Module inputs, templated")


class Edge(Strict):
    source: str = Field(description="A node id, or start")
    target: str = Field(description="A node id")


Overlap = Literal["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"]
# A calendar field: `*`, a number or name, a range `a-b`, a step `*/15` or `a-b/2`, or a
# comma-separated list of those, as in cron.
CalendarField = Annotated[str | int, Field(description="e.g. *, 9, 1-5, */15, MON-FRI, 1,15")]


class Interval(Strict):
    """Every `every`, counted from the Unix epoch and moved on by `offset`."""

    every: Duration
    offset: Duration | None = None


class Calendar(Strict):
    """Times that match every field (fields left out: second, minute and hour 0, the rest any)."""

    second: CalendarField = 0
    minute: CalendarField = 0
    hour: CalendarField = 0
    day_of_month: CalendarField = "*"
    month: CalendarField = "*"
    year: CalendarField = "*"
    day_of_week: CalendarField = "*"
    comment: str | None = None


class ScheduleSpec(Strict):
    """When a schedule starts runs (the union of `cron`, `intervals` and `calendars`) and what
    it does when runs overlap or it missed some."""

    cron: str | list[str] | None = Field(default=None, description="e.g. 0 9 * * MON-FRI")
    intervals: list[Interval] | None = None
    calendars: list[Calendar] | None = None
    time_zone: str = Field(default="UTC", description="An IANA time zone, e.g. Europe/Berlin")
    jitter: Duration | None = Field(default=None, description="Start each run up to this much later")
    start_at: str | None = Field(default=None, description="No run before this time (ISO 8601)")
    end_at: str | None = Field(default=None, description="No run after this time (ISO 8601)")
    overlap: Overlap = Field(default="skip", description="When a run is due while the last one runs")
    catchup_window: Duration | None = Field(
        default=None, description="Runs missed (the server was down) are started late within this"
    )
    pause_on_failure: bool = Field(default=False, description="Pause when a run fails")
    paused: bool = False
    note: str | None = Field(default=None, description="Why it is paused (or anything)")


class WebhookSpec(Strict):
    """A signed endpoint, POST /api/v1/hooks/{hook id}, that starts a run per delivery."""

    tolerance: Duration | None = Field(
        default=None, description="How old a delivery's timestamp may be (default 5m)"
    )


class Trigger(Strict):
    """Something that starts runs of this definition: a schedule or a webhook."""

    id: StepId
    description: str | None = None
    schedule: ScheduleSpec | None = None
    webhook: WebhookSpec | None = None
    input: Any = Field(
        default=None,
        description="The run input, templated: schedule.* for a schedule, body, headers, delivery.* "
        "for a webhook",
    )


class Definition(Strict):
    """One workflow definition: steps (form A) or nodes and edges (form B)."""

    stepwise: Literal[1] = Field(description="Language version")
    name: str = Field(pattern=NAME_PATTERN, description="Slug: [a-z0-9][a-z0-9-]*")
    description: str | None = None
    input: dict[str, Any] | None = Field(default=None, description="JSON Schema of the run input")
    state: dict[str, Any] = Field(default_factory=dict, description="Initial state")
    defaults: Defaults | None = None
    output: Any = Field(default=None, description="The run's result; default: the final state")
    steps: list[Step] | None = None
    nodes: list[Node] | None = None
    edges: list[Edge] | None = None
    triggers: list[Trigger] = Field(default_factory=list, description="Schedules and webhooks")
    budget: Budget | None = Field(default=None, description="What a run may spend on LLM steps")


NODE_ALIASES = {"llm": "api.llm", "http": "api.fetch"}
CONDITIONAL = "conditional"
START = "start"
