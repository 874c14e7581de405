"""What the workers record about runs, steps and human answers (core.metrics names the series),
and the run and step ids their activities' log records carry (core.logs).

A Temporal interceptor, so that RunWorkflow itself records nothing. Workflow-side figures go
through `workflow.metric_meter()`, which records nothing while a run replays its history: a run
replayed on another worker is not counted again. The interceptor issues no commands, so
histories replay the same with it and without it (tests/replay replays them with it).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from temporalio import activity, workflow
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError, is_cancelled_exception
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from core.logs import log_context
from core.metrics import HUMAN_WAIT, RUNS_CONTINUED, RUNS_ENDED, RUNS_STARTED, STEP_DURATION
from workflows.engine.human import InteractionRequest, RespondInput, RespondResult
from workflows.engine.models import INTERACTIONS_QUERY, RESPOND_UPDATE
from workflows.engine.run import input_of
from workflows.typecheck import isinstance

MODULE_PREFIX = "module:"


class StepwiseTelemetry(Interceptor):
    """Counts runs by definition and outcome, times module steps and human answers, and puts
    the run and step ids in activities' log context."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityTelemetry(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _RunTelemetry


class _ActivityTelemetry(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        step_id = getattr(input.args[0], "step_id", None) if input.args else None
        with log_context(run_id=info.workflow_id, step_id=step_id if isinstance(step_id, str) else None):
            if not info.activity_type.startswith(MODULE_PREFIX):
                return await super().execute_activity(input)
            started = time.perf_counter()
            outcome = "failed"
            try:
                result = await super().execute_activity(input)
                outcome = "completed"
                return result
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            finally:
                activity.metric_meter().create_histogram_float(
                    STEP_DURATION, "Time one attempt of a module step took, by module and outcome", "s"
                ).record(
                    time.perf_counter() - started,
                    {"module": info.activity_type.removeprefix(MODULE_PREFIX), "outcome": outcome},
                )


class _RunTelemetry(WorkflowInboundInterceptor):
    """One per run (per workflow execution, so again after a continue-as-new)."""

    definition = "unknown"

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        run = input_of(workflow.instance())
        if run is None:
            return await super().execute_workflow(input)
        self.definition = run.plan.name
        meter = workflow.metric_meter()
        labels = {"definition": self.definition}
        if run.continued == 0:
            meter.create_counter(RUNS_STARTED, "Runs started, by definition").add(1, labels)
        try:
            result = await super().execute_workflow(input)
        except workflow.ContinueAsNewError:
            meter.create_counter(RUNS_CONTINUED, "Runs that continued as new, by definition").add(1, labels)
            raise
        except BaseException as exc:
            # As the SDK decides: a cancellation ends the run cancelled, a failure error fails
            # it; anything else fails only this workflow task, which Temporal retries.
            if is_cancelled_exception(exc):
                outcome = "cancelled"
            elif isinstance(exc, Exception) and workflow.is_failure_exception(exc):
                outcome = "failed"
                _log_failure(self.definition, exc)
            else:
                raise
            _ended(meter, self.definition, outcome)
            raise
        _ended(meter, self.definition, "completed")
        return result

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        opened = _opened_at(input) if input.update == RESPOND_UPDATE else None
        result = await super().handle_update_handler(input)
        if opened is not None and isinstance(result, RespondResult) and result.decided:
            module, created = opened
            workflow.metric_meter().create_histogram_float(
                HUMAN_WAIT, "Time from a human step opening to its decisive answer", "s"
            ).record(
                max(0.0, (workflow.now() - created).total_seconds()),
                {"definition": self.definition, "module": module},
            )
        return result


def _ended(meter: MetricMeter, definition: str, outcome: str) -> None:
    meter.create_counter(RUNS_ENDED, "Runs that ended, by definition and outcome").add(
        1, {"definition": definition, "outcome": outcome}
    )


def _log_failure(definition: str, exc: Exception) -> None:
    """One warning per failed run (not again on replay), naming the step that failed it."""
    details = exc.details if isinstance(exc, ApplicationError) else ()
    extra: dict[str, str] = {"definition": definition}
    if details and isinstance(details[0], dict) and isinstance(details[0].get("step"), str):
        extra["step_id"] = details[0]["step"]
    workflow.logger.warning("run failed: %s", exc, extra=extra)


def _opened_at(input: HandleUpdateInput) -> tuple[str, datetime] | None:
    """The module and opening time of the interaction an answer is for, from the run's own
    `interactions` query (read before the answer closes it)."""
    answer = input.args[0] if input.args else None
    query = workflow.get_query_handler(INTERACTIONS_QUERY)
    if not isinstance(answer, RespondInput) or query is None:
        return None
    for request in query():
        if isinstance(request, InteractionRequest) and request.id == answer.interaction_id:
            return request.type, datetime.fromisoformat(request.created_at)
    return None
