"""Trying one module with sample inputs: checked as the compiler checks a step, then run the
way a run would run it (pure modules in-process, activity modules on their task queue)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.runs import Prepared, new_run_id, start_run
from core.settings import Settings
from workflows.compiler import compile_data
from workflows.engine.models import WORKFLOW_QUEUE, RunOutput
from workflows.interpreter import Interpreter, PureOnly, RunInfo, StepError
from workflows.modules import ModuleSpec, Registry
from workflows.plan import Plan
from workflows.problems import Problem

# The one step of a trial's definition; its problems are reported relative to its inputs.
TRIAL_STEP = "trial"
_STEP_POINTER = "/steps/0"
_INPUTS_POINTER = f"{_STEP_POINTER}/inputs"
_FAILED_PREFIX = f"step '{TRIAL_STEP}' failed: "


class TrialError(BaseModel):
    """What went wrong: an error type (e.g. Http404, InvalidInput), a message, and for an
    input that breaks the module's schema, its JSON pointer within the inputs."""

    type: str
    message: str
    pointer: str | None = None


class TrialResult(BaseModel):
    """The outcome of one trial: the module's outputs, or its error."""

    module: str
    runs: Literal["workflow", "activity"]
    outputs: dict[str, Any] | None = None
    error: TrialError | None = None
    duration_ms: int
    # The Temporal workflow id of an activity trial, to find it in the Temporal UI.
    run_id: str | None = None


class TrialRefused(Exception):
    """A trial that cannot start; nothing ran."""


class UnknownModule(TrialRefused):
    """No module of that name; the message suggests the closest one."""


class HumanModule(TrialRefused):
    """Human modules wait for a person: they are tried in a run, not on their own."""


class InvalidTrialInputs(TrialRefused):
    """The sample inputs break the module's input schema (or their templates are wrong)."""

    def __init__(self, module: str, problems: list[TrialError]) -> None:
        super().__init__(f"the inputs do not fit module {module}: " + "; ".join(_line(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Trial:
    """A checked trial: the module and the one-step plan that runs it with the sample inputs."""

    spec: ModuleSpec
    plan: Plan
    input: Any


def prepare_trial(
    registry: Registry,
    name: str,
    inputs: dict[str, Any],
    sample_input: Any = None,
    state: dict[str, Any] | None = None,
    activity_timeout_s: float = 30.0,
) -> Trial:
    """Compile a one-step definition running `name` with `inputs`; templates in them may read
    `input` (sample_input) and `state` (the sample state). Raises a TrialRefused."""
    spec = registry.get(name)
    if spec is not None and spec.runs == "human":
        raise HumanModule(
            f"module {name} waits for a person and cannot be tried on its own: start a run of a "
            "definition with this step (`stepwise run FILE`) and answer it from the inbox"
        )
    step: dict[str, Any] = {"id": TRIAL_STEP, "module": name, "inputs": inputs}
    if spec is not None and spec.runs == "activity":
        # One attempt, bounded by the trial's wait: a trial reports the first failure.
        step["retry"] = {"max_attempts": 1}
        step["timeout"] = f"{max(1, math.ceil(activity_timeout_s * 1000))}ms"
    definition = {
        "stepwise": 1,
        "name": "try-" + name.replace(".", "-").replace("_", "-"),
        "state": state or {},
        "steps": [step],
        "output": "{{ steps." + TRIAL_STEP + " }}",
    }
    result = compile_data(definition, registry)
    unknown = [p for p in result.problems if p.where == f"{_STEP_POINTER}/module"]
    if spec is None or unknown:
        raise UnknownModule(unknown[0].message if unknown else f"unknown module '{name}'")
    if result.plan is None:
        raise InvalidTrialInputs(name, [_trial_problem(p) for p in result.problems])
    return Trial(spec, result.plan, sample_input)


async def run_pure(
    trial: Trial, registry: Registry, clock: Callable[[], float] = time.perf_counter
) -> TrialResult:
    """Run a workflow module in this process, through the interpreter a run uses."""
    started = clock()
    run = RunInfo(new_run_id(trial.plan), trial.plan.content_hash(), datetime.now(UTC).isoformat())
    interpreter = Interpreter(trial.plan, registry, PureOnly(), trial.input, run)
    try:
        outputs = await interpreter.run()
    except StepError as exc:
        return _failed(trial, TrialError(type=exc.error_type, message=exc.message), started, clock)
    return TrialResult(
        module=trial.spec.name, runs="workflow", outputs=outputs, duration_ms=_elapsed_ms(started, clock)
    )


async def run_activity(
    trial: Trial,
    client: Client,
    settings: Settings,
    clock: Callable[[], float] = time.perf_counter,
    owner: str | None = None,
) -> TrialResult:
    """Start a run of the trial's plan on Temporal and wait (module_test_timeout_s at most)
    for the module's outputs or error; a run that does not finish in time is terminated."""
    started = clock()
    handle = await start_run(client, Prepared(trial.plan), trial.input, settings, owner=owner)
    run_id = handle.id
    output: RunOutput
    try:
        try:
            output = await asyncio.wait_for(handle.result(), settings.module_test_timeout_s)
        except TimeoutError:
            error = await _no_result(trial.spec, client, settings)
            if await _terminated(handle, error.message):
                return _failed(trial, error, started, clock, run_id)
            output = await handle.result()  # it finished as the wait ended
    except WorkflowFailureError as exc:
        return _failed(trial, _run_error(exc), started, clock, run_id)
    return TrialResult(
        module=trial.spec.name,
        runs="activity",
        outputs=output.output,
        duration_ms=_elapsed_ms(started, clock),
        run_id=run_id,
    )


def _trial_problem(problem: Problem) -> TrialError:
    """A compiler problem, its pointer made relative to the trial's inputs."""
    where = problem.where
    if where == _INPUTS_POINTER or where.startswith(_INPUTS_POINTER + "/"):
        return TrialError(
            type="InvalidInput", message=problem.message, pointer=where[len(_INPUTS_POINTER) :] or "/"
        )
    if where.startswith(_STEP_POINTER):
        return TrialError(type="InvalidInput", message=problem.message)
    return TrialError(type="InvalidInput", message=f"{where.lstrip('/')}: {problem.message}")


def _run_error(exc: WorkflowFailureError) -> TrialError:
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return TrialError(
            type=cause.type or "ApplicationError", message=cause.message.removeprefix(_FAILED_PREFIX)
        )
    return TrialError(type=type(cause).__name__, message=str(cause))


async def _no_result(spec: ModuleSpec, client: Client, settings: Settings) -> TrialError:
    """Why no result came in time: a queue without a worker, else a slow module."""
    wait = settings.module_test_timeout_s
    workflow_queue = settings.task_queue_prefix + WORKFLOW_QUEUE
    if not await _has_worker(client, workflow_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW):
        return TrialError(
            type="NoWorker",
            message=f"no worker serves the task queue '{workflow_queue}' that runs start on: "
            "start `stepwise worker --all`",
        )
    queue = settings.task_queue_prefix + (spec.queue or "")
    if not await _has_worker(client, queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        return TrialError(
            type="NoWorker",
            message=f"no worker serves the task queue '{queue}' (waited {wait:g}s): "
            f"start one with `stepwise worker --queue {spec.queue}`",
        )
    return TrialError(
        type="Timeout",
        message=f"module {spec.name} gave no result within {wait:g}s "
        "(STEPWISE_MODULE_TEST_TIMEOUT_S); the trial run was terminated",
    )


async def _terminated(handle: WorkflowHandle[Any, RunOutput], why: str) -> bool:
    """Terminate the trial run; False when it had finished already."""
    try:
        await handle.terminate(reason=f"module trial: {why}")
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def _has_worker(client: Client, queue: str, kind: TaskQueueType.ValueType) -> bool:
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
        )
    )
    return bool(response.pollers)


def _failed(
    trial: Trial, error: TrialError, started: float, clock: Callable[[], float], run_id: str | None = None
) -> TrialResult:
    runs: Literal["workflow", "activity"] = "activity" if trial.spec.runs == "activity" else "workflow"
    return TrialResult(
        module=trial.spec.name, runs=runs, error=error, duration_ms=_elapsed_ms(started, clock), run_id=run_id
    )


def _elapsed_ms(started: float, clock: Callable[[], float]) -> int:
    return max(0, round((clock() - started) * 1000))


def _line(problem: TrialError) -> str:
    return f"{problem.pointer}: {problem.message}" if problem.pointer else problem.message
