"""api.llm steps: each model of the step's chain on its own task queue (`llm.<model>`, where the
workers that keep it loaded poll), the next model when one fails or nobody serves it.

Which models a chain holds (aliases, providers) and which have workers is asked of a local
activity, so the answer is in history and a replay takes the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError, TimeoutType

from workflows import plan as p
from workflows.dsl import Budget
from workflows.engine.models import (
    LLM_ROUTE_ACTIVITY,
    LLM_USAGE_ACTIVITY,
    LlmRoute,
    LlmRouteRequest,
    LlmSpent,
    LlmTarget,
    LlmUsageRecord,
    LlmUsageRecorded,
)
from workflows.interpreter import Path, StepError
from workflows.typecheck import isinstance

LLM_MODULE = "api.llm"
# Failures that another model would meet as well: the step's own inputs are wrong.
_FINAL = frozenset({"InvalidInput", "BudgetExceeded"})
# Counters of LLM usage (Prometheus adds _total); the cost in millionths of a dollar, as
# Temporal's counters count whole numbers.
LLM_TOKENS = "stepwise_llm_tokens"
LLM_COST = "stepwise_llm_cost_microdollars"


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


@dataclass
class LlmContext:
    """What routing and accounting need of the run: its queue prefix, definition, owner, budget
    and what it has spent (RunWorkflow's own, carried across continue-as-new)."""

    prefix: str
    definition: str
    owner: str | None
    budget: Budget | None
    spent: LlmSpent


async def routed_llm(
    executor: Executor, node: p.ModuleNode, inputs: dict[str, Any], path: Path, run: LlmContext
) -> dict[str, Any]:
    """The reply of the first model of the chain that gives one, with its cost counted; in a
    rerun, the reply the earlier run recorded for the same inputs (no model is asked, nothing
    is scheduled, nothing is counted again)."""
    recorded = executor.reused(node, inputs, path)
    if recorded is not None:
        return recorded
    spec = inputs.get("model")
    spent = _spent(run.budget, run.spent)
    if spent is not None:
        if run.budget is None or run.budget.fallback is None:
            raise StepError(
                node.id,
                "BudgetExceeded",
                f"the run's budget is spent ({spent}); raise the definition's budget or give "
                f"budget.fallback, a model to go on with",
            )
        spec = run.budget.fallback
    route = await _route(node, spec, inputs.get("provider"), run)
    failures: list[str] = []
    last: StepError | None = None
    wait = timedelta(seconds=route.schedule_to_start_s)
    for target in route.targets:
        if not target.served:
            failures.append(f"{_named(target)}: {_unserved(target)}")
            continue
        try:
            outputs = await executor.activity(node, inputs, path, target.queue, wait, target)
        except StepError as exc:
            if exc.error_type in _FINAL:
                raise
            last = exc
            reason = _unserved(target) if _never_started(exc) else exc.message
            failures.append(f"{_named(target)}: {reason}")
            continue
        return await _counted(node, outputs, target, path, run)
    if last is not None and len(failures) == 1:
        raise last
    if last is None and len(failures) == 1:
        raise StepError(node.id, "NoWorker", failures[0])
    kind = "NoWorker" if last is None else "AllModelsFailed"
    raise StepError(node.id, kind, "no model of the chain answered: " + "; ".join(failures))


def _spent(budget: Budget | None, spent: LlmSpent) -> str | None:
    """What of the run's budget is used up, or None."""
    if budget is None:
        return None
    if budget.max_tokens is not None and spent.tokens >= budget.max_tokens:
        return f"{spent.tokens} tokens used of max_tokens {budget.max_tokens}"
    if budget.max_cost_usd is not None and spent.cost_usd >= budget.max_cost_usd:
        return f"${spent.cost_usd:.4f} used of max_cost_usd {budget.max_cost_usd}"
    return None


async def _counted(
    node: p.ModuleNode, outputs: dict[str, Any], target: LlmTarget, path: Path, run: LlmContext
) -> dict[str, Any]:
    """Count the call's tokens and cost against the run and into the ledger; the outputs' usage
    gains the cost."""
    usage = dict(outputs.get("usage") or {})
    tokens_in, tokens_out = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    run.spent.calls += 1
    record = LlmUsageRecord(
        key=f"{workflow.info().workflow_id}/llm/{run.spent.calls}",
        run_id=workflow.info().workflow_id,
        step_id=node.id,
        path=list(path),
        definition=run.definition,
        owner=run.owner,
        model=target.model,
        provider=target.provider,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
    )
    try:
        recorded: LlmUsageRecorded = await workflow.execute_local_activity(
            LLM_USAGE_ACTIVITY,
            record,
            result_type=LlmUsageRecorded,
            start_to_close_timeout=timedelta(seconds=10),
            # A ledger that stays unreachable for minutes costs its row, never the run.
            retry_policy=RetryPolicy(maximum_attempts=20, maximum_interval=timedelta(seconds=30)),
            summary=f"usage of {node.id}",
        )
        cost = recorded.cost_usd
    except ActivityError as exc:
        workflow.logger.warning("the usage of step %s was not recorded: %s", node.id, exc.cause or exc)
        cost = 0.0
    run.spent.tokens += tokens_in + tokens_out
    run.spent.cost_usd += cost
    labels = {"definition": run.definition, "model": target.model, "provider": target.provider}
    meter = workflow.metric_meter()
    tokens = meter.create_counter(LLM_TOKENS, "Tokens of LLM calls, by definition and model")
    tokens.add(tokens_in, {**labels, "direction": "input"})
    tokens.add(tokens_out, {**labels, "direction": "output"})
    if cost:
        meter.create_counter(
            LLM_COST, "Cost of LLM calls in millionths of a US dollar, by definition and model"
        ).add(round(cost * 1_000_000), labels)
    return {**outputs, "usage": {**usage, "cost_usd": cost}}


async def _route(node: p.ModuleNode, spec: Any, provider: Any, run: LlmContext) -> LlmRoute:
    request = LlmRouteRequest(
        run_id=workflow.info().workflow_id,
        step_id=node.id,
        model=spec,
        provider=provider,
        queue_prefix=run.prefix,
        owner=run.owner,
        definition=run.definition,
    )
    try:
        route: LlmRoute = await workflow.execute_local_activity(
            LLM_ROUTE_ACTIVITY,
            request,
            result_type=LlmRoute,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=5, non_retryable_error_types=list(_FINAL)),
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
