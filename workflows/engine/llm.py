"""api.llm steps: each model of the step's chain on its own task queue (`llm.<model>`, where the
workers that keep it loaded poll), the next model when one fails or nobody serves it.

Which models a chain holds (aliases, providers) and which have workers is asked of a local
activity, so the answer is in history and a replay takes the same path.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError, TimeoutType

from workflows import plan as p
from workflows.engine.models import LLM_ROUTE_ACTIVITY, LlmRoute, LlmRouteRequest, LlmTarget
from workflows.interpreter import Path, StepError

LLM_MODULE = "api.llm"
# Failures that another model would meet as well: the step's own inputs are wrong.
_FINAL = frozenset({"InvalidInput"})


class Executor(Protocol):
    async def activity(
        self,
        node: p.ModuleNode,
        inputs: dict[str, Any],
        path: Path,
        queue: str,
        schedule_to_start: timedelta | None = None,
        target: LlmTarget | None = None,
    ) -> dict[str, Any]: ...

    def reused(self, node: p.ModuleNode, inputs: dict[str, Any], path: Path) -> dict[str, Any] | None: ...


async def routed_llm(
    executor: Executor, node: p.ModuleNode, inputs: dict[str, Any], path: Path, prefix: str
) -> dict[str, Any]:
    """The reply of the first model of the chain that gives one; in a rerun, the reply the
    earlier run recorded for the same inputs (no model is asked, nothing is scheduled)."""
    recorded = executor.reused(node, inputs, path)
    if recorded is not None:
        return recorded
    route = await _route(node, inputs, prefix)
    failures: list[str] = []
    last: StepError | None = None
    wait = timedelta(seconds=route.schedule_to_start_s)
    for target in route.targets:
        if not target.served:
            failures.append(f"{_named(target)}: {_unserved(target)}")
            continue
        try:
            return await executor.activity(node, inputs, path, target.queue, wait, target)
        except StepError as exc:
            if exc.error_type in _FINAL:
                raise
            last = exc
            reason = _unserved(target) if _never_started(exc) else exc.message
            failures.append(f"{_named(target)}: {reason}")
    if last is not None and len(failures) == 1:
        raise last
    if last is None and len(failures) == 1:
        raise StepError(node.id, "NoWorker", failures[0])
    kind = "NoWorker" if last is None else "AllModelsFailed"
    raise StepError(node.id, kind, "no model of the chain answered: " + "; ".join(failures))


async def _route(node: p.ModuleNode, inputs: dict[str, Any], prefix: str) -> LlmRoute:
    request = LlmRouteRequest(
        run_id=workflow.info().workflow_id,
        step_id=node.id,
        model=inputs.get("model"),
        provider=inputs.get("provider"),
        queue_prefix=prefix,
    )
    try:
        route: LlmRoute = await workflow.execute_local_activity(
            LLM_ROUTE_ACTIVITY,
            request,
            result_type=LlmRoute,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=5, non_retryable_error_types=["InvalidInput"]),
            summary=f"route {node.id}",
        )
    except ActivityError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            raise StepError(node.id, cause.type or "InvalidInput", cause.message) from exc
        raise StepError(node.id, "RouteFailed", str(cause or exc)) from exc
    return route


def _never_started(exc: StepError) -> bool:
    """Whether no worker took the request within the schedule-to-start timeout."""
    failure = exc.__cause__
    cause = failure.cause if isinstance(failure, ActivityError) else None
    return isinstance(cause, TimeoutError) and cause.type == TimeoutType.SCHEDULE_TO_START


def _named(target: LlmTarget) -> str:
    return f"{target.model}@{target.provider}"


def _unserved(target: LlmTarget) -> str:
    return (
        f"no worker serves it (task queue {target.queue}); start one with "
        f"`stepwise worker --queue llm --models {target.model}`"
    )
