"""Temporal workers: one per task queue, each with its own concurrency limits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import (
    PollerBehaviorSimpleMaximum,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.engine import remind, yield_point
from activities.integrations import IntegrationActivities
from activities.llm.activity import LlmActivities
from activities.llm.ledger import LlmLedger
from activities.llm.live import ProgressPoster
from activities.llm.providers import build_providers, close_providers
from activities.llm.routing import LlmRouter, has_pollers
from activities.llm.types import ChatProvider
from core.settings import Settings
from workers.heap import settle_heap
from workers.llm import LLM_QUEUE, LlmServing, warm_models
from workers.runner import SandboxByPlan
from workers.telemetry import StepwiseTelemetry
from workflows.engine.models import WORKFLOW_QUEUE
from workflows.engine.registry import use_registry
from workflows.engine.run import RUN_WORKFLOWS
from workflows.modules import Registry

QUEUES = (WORKFLOW_QUEUE, "integrations", "llm", "media", "memory")
# Deterministic libraries the workflow sandbox may share with the host instead of importing
# them again for every run (that is what keeps workflow tasks fast).
PASSTHROUGH = (
    "workflows",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_inspection",
    "jinja2",
    "markupsafe",
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "rpds",
    "attrs",
    "yaml",
)


def sandbox() -> SandboxedWorkflowRunner:
    """The workflow sandbox with Stepwise's deterministic modules passed through."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The runner settings.worker_sandbox asks for (workers/runner.py)."""
    if settings.worker_sandbox == "always":
        return sandbox()
    if settings.worker_sandbox == "never":
        return UnsandboxedWorkflowRunner()
    return SandboxByPlan(sandbox())


@dataclass
class Clients:
    """What activities use, made once per worker process."""

    http: httpx.AsyncClient
    providers: Mapping[str, ChatProvider]
    ledger: LlmLedger
    progress: ProgressPoster | None = None


def activities_for(
    queue: str, settings: Settings, clients: Clients, registry: Registry | None = None
) -> list[Callable[..., Any]]:
    """The activity implementations served on a queue (`llm.<model>` ones serve api.llm). The
    workflow queue's worker also runs the modules that steps may run locally (`local: true`)."""
    if queue == WORKFLOW_QUEUE:
        ledger = clients.ledger
        engine: list[Callable[..., Any]] = [
            yield_point,
            remind,
            LlmRouter(settings, ledger).route,
            ledger.record,
        ]
        return [*engine, IntegrationActivities(clients.http, settings).fetch, *local_activities(registry)]
    if queue == "integrations":
        return [IntegrationActivities(clients.http, settings).fetch]
    if queue == LLM_QUEUE or queue.startswith(LLM_QUEUE + "."):
        return [LlmActivities(clients.providers, settings, clients.progress).llm]
    return []


def local_activities(registry: Registry | None) -> list[Callable[..., Any]]:
    """The `local_activity` of each module that has one (plugins' light modules)."""
    return [spec.local_activity for spec in registry or () if spec.local_activity is not None]


def build_worker(
    client: Client,
    queue: str,
    settings: Settings,
    activities: list[Callable[..., Any]],
    max_concurrent_activities: int | None = None,
) -> Worker:
    """A worker for one Stepwise queue (named with the settings' task queue prefix)."""
    return Worker(client, **worker_options(queue, settings, activities, max_concurrent_activities))


def worker_options(
    queue: str,
    settings: Settings,
    activities: list[Callable[..., Any]],
    max_concurrent_activities: int | None = None,
) -> dict[str, Any]:
    """`Worker`'s keyword arguments for one Stepwise queue (bench/tuning.py varies them)."""
    workflows = list(RUN_WORKFLOWS) if queue == WORKFLOW_QUEUE else []
    return {
        "task_queue": settings.task_queue_prefix + queue,
        "workflows": workflows,
        "activities": activities,
        "workflow_runner": workflow_runner(settings),
        # Run, step and human-wait metrics, and run and step ids in activities' logs.
        "interceptors": [StepwiseTelemetry()],
        "max_concurrent_activities": max_concurrent_activities
        or settings.worker_queue_concurrency.get(queue, settings.worker_max_concurrent_activities),
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_cached_workflows": settings.worker_max_cached_workflows,
        "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(settings.worker_workflow_task_polls),
        "graceful_shutdown_timeout": timedelta(seconds=settings.worker_shutdown_grace_s),
        # Heartbeats reach the server within 2 s, so a cancelled activity stops promptly.
        "max_heartbeat_throttle_interval": timedelta(seconds=2),
    }


@contextlib.asynccontextmanager
async def running_workers(
    client: Client,
    queues: list[str],
    settings: Settings,
    registry: Registry,
    llm: LlmServing | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[list[Worker]]:
    """Run workers for the queues until the block ends; then shut them down gracefully. The
    `llm` queue becomes one worker per model `llm` serves (default: the settings' models).
    With `sessions` (the app database), LLM usage goes into the ledger and monthly budgets
    are checked."""
    use_registry(registry)
    serving = llm or LlmServing.from_settings(settings)
    async with httpx.AsyncClient() as http, llm_providers(settings) as providers:
        progress = ProgressPoster.from_settings(http, settings)
        clients = Clients(http, providers, LlmLedger(settings, sessions), progress)
        workers: list[Worker] = []
        for queue in queues:
            if queue == LLM_QUEUE:
                for each in serving.queues():
                    slots = serving.slots if each != LLM_QUEUE else None
                    served = activities_for(each, settings, clients)
                    workers.append(build_worker(client, each, settings, served, slots))
                continue
            served = activities_for(queue, settings, clients, registry)
            if queue == WORKFLOW_QUEUE or served:
                workers.append(build_worker(client, queue, settings, served))
        settle_heap(settings)
        tasks = [asyncio.create_task(w.run()) for w in workers]
        warming: asyncio.Task[None] | None = None
        try:
            if LLM_QUEUE in queues:
                # api.llm routing skips models no worker polls: be ready only once these poll (a
                # run started at once, eagerly, would otherwise find its model unserved).
                await until_polled(client, [settings.task_queue_prefix + q for q in serving.queues()])
            if serving.warm and LLM_QUEUE in queues:
                warming = asyncio.create_task(warm_models(serving, providers, settings))
            yield workers
        finally:
            if warming is not None:
                warming.cancel()  # a model still loading is not waited for
                tasks.append(warming)
            await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
            await asyncio.gather(*tasks, return_exceptions=True)


async def until_polled(client: Client, queues: list[str], timeout_s: float = 10.0) -> None:
    """Wait (at most `timeout_s`) until Temporal has seen a poller on each activity queue."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    for queue in queues:
        while asyncio.get_running_loop().time() < deadline:
            try:
                if await has_pollers(client, queue):
                    break
            except RPCError as exc:
                if exc.status == RPCStatusCode.UNIMPLEMENTED:
                    return  # the time-skipping test server cannot tell: go on
                raise
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def llm_providers(settings: Settings) -> AsyncIterator[dict[str, ChatProvider]]:
    """The LLM providers the settings configure, closed at the end."""
    providers = build_providers(settings)
    try:
        yield providers
    finally:
        await close_providers(providers)
