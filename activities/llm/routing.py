"""Which models an api.llm step tries, in order, and whether any worker serves each: the
`stepwise.llm_route` local activity of the workflow worker (its answer is kept in history)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from temporalio import activity
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.llm.ledger import LlmLedger
from core.settings import Settings
from workflows.engine.models import LLM_ROUTE_ACTIVITY, LlmRoute, LlmRouteRequest, LlmTarget

_PROVIDER = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# How long the answer "a worker polls this queue" is reused before Temporal is asked again.
SERVED_FOR_S = 5.0


class RouteError(ValueError):
    """A model chain that cannot be resolved; the message says what to define or fix."""


def model_queue(model: str) -> str:
    """The task queue of the workers that serve `model`."""
    return f"llm.{model}"


def split_ref(text: str) -> tuple[str, str | None]:
    """`model@provider` into its parts; a name without a provider part gives None."""
    model, sep, provider = text.rpartition("@")
    if sep and model and _PROVIDER.fullmatch(provider):
        return model, provider
    return text, None


def resolve_chain(
    spec: str | list[str] | None, provider: str | None, settings: Settings
) -> list[tuple[str, str]]:
    """(model, provider) pairs to try in order: aliases expanded, repeats dropped. A name
    without `@provider` takes the step's `provider`, else the settings' default provider."""
    chain: list[tuple[str, str]] = []

    def expand(entry: str, aliases: tuple[str, ...]) -> None:
        entry = entry.strip()
        if not entry:
            raise RouteError("a model name is empty")
        if entry.startswith("@"):
            name = entry[1:]
            if name in aliases:
                raise RouteError(f"the model aliases {' → '.join('@' + a for a in (*aliases, name))} loop")
            if name not in settings.llm_aliases:
                known = ", ".join("@" + a for a in sorted(settings.llm_aliases)) or "none"
                raise RouteError(
                    f"the model alias '@{name}' is not defined (defined: {known}); "
                    f"add it to STEPWISE_LLM_ALIASES"
                )
            target = settings.llm_aliases[name]
            for item in [target] if isinstance(target, str) else target:
                expand(item, (*aliases, name))
            return
        model, named = split_ref(entry)
        pair = (model, named or provider or settings.llm_default_provider)
        if pair not in chain:
            chain.append(pair)

    entries = [spec] if isinstance(spec, str) else list(spec or [settings.llm_default_model])
    for entry in entries:
        expand(entry, ())
    return chain


def served_models(settings: Settings) -> list[str]:
    """The models an llm worker started without --models serves: those the default model,
    the aliases and STEPWISE_LLM_MODELS name."""
    named = [settings.llm_default_model, *settings.llm_models]
    for target in settings.llm_aliases.values():
        named.extend([target] if isinstance(target, str) else target)
    models: list[str] = []
    for entry in named:
        try:
            chain = resolve_chain(entry, None, settings)
        except RouteError:
            continue  # a broken alias is reported by the steps that use it
        models.extend(model for model, _ in chain if model not in models)
    return models


class LlmRouter:
    """Resolves chains with the settings' aliases; asks Temporal whether workers poll each
    model's queue (answers reused for SERVED_FOR_S)."""

    def __init__(
        self, settings: Settings, ledger: LlmLedger, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self._clock = clock
        self._served: dict[str, tuple[float, bool]] = {}

    @activity.defn(name=LLM_ROUTE_ACTIVITY)
    async def route(self, request: LlmRouteRequest) -> LlmRoute:
        spec = request.model
        overrun = await self.ledger.monthly_overrun(request.owner)
        if overrun is not None:
            if self.settings.llm_budget_fallback is None:
                raise ApplicationError(
                    f"the monthly LLM budget of {request.owner} is spent ({overrun}); raise it "
                    f"(STEPWISE_LLM_USER_BUDGETS) or set STEPWISE_LLM_BUDGET_FALLBACK",
                    type="BudgetExceeded",
                    non_retryable=True,
                )
            spec = self.settings.llm_budget_fallback
        try:
            chain = resolve_chain(spec, request.provider, self.settings)
        except RouteError as exc:
            raise ApplicationError(str(exc), type="InvalidInput", non_retryable=True) from None
        targets = [
            LlmTarget(
                model=model,
                provider=provider,
                queue=model_queue(model),
                served=await self._polled(request.queue_prefix + model_queue(model)),
            )
            for model, provider in chain
        ]
        return LlmRoute(targets=targets, schedule_to_start_s=self.settings.llm_schedule_to_start_s)

    async def _polled(self, queue: str) -> bool:
        now = self._clock()
        known = self._served.get(queue)
        if known is not None and now - known[0] < SERVED_FOR_S:
            return known[1]
        polled = await has_pollers(activity.client(), queue)
        self._served[queue] = (now, polled)
        return polled


async def has_pollers(client: Client, queue: str) -> bool:
    """Whether Temporal has seen a worker poll the activity task queue lately."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        ),
        retry=True,
    )
    return len(described.pollers) > 0
