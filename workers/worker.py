"""Temporal workers: one per task queue, each with its own concurrency limits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.engine import remind, yield_point
from activities.integrations import IntegrationActivities
from core.settings import Settings
from workers.telemetry import StepwiseTelemetry
from workflows.engine.models import WORKFLOW_QUEUE
from workflows.engine.registry import use_registry
from workflows.engine.run import RunWorkflow
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


def activities_for(queue: str, http: httpx.AsyncClient, settings: Settings) -> list[Callable[..., Any]]:
    """The activity implementations served on a queue."""
    if queue == WORKFLOW_QUEUE:
        return [yield_point, remind]
    if queue == "integrations":
        return [IntegrationActivities(http, settings).fetch]
    return []


def build_worker(client: Client, queue: str, settings: Settings, http: httpx.AsyncClient) -> Worker:
    """A worker for one Stepwise queue (named with the settings' task queue prefix)."""
    workflows = [RunWorkflow] if queue == WORKFLOW_QUEUE else []
    return Worker(
        client,
        task_queue=settings.task_queue_prefix + queue,
        workflows=workflows,
        activities=activities_for(queue, http, settings),
        workflow_runner=sandbox(),
        # Run, step and human-wait metrics, and run and step ids in activities' logs.
        interceptors=[StepwiseTelemetry()],
        max_concurrent_activities=settings.worker_queue_concurrency.get(
            queue, settings.worker_max_concurrent_activities
        ),
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_s),
        # Heartbeats reach the server within 2 s, so a cancelled activity stops promptly.
        max_heartbeat_throttle_interval=timedelta(seconds=2),
    )


@contextlib.asynccontextmanager
async def running_workers(
    client: Client, queues: list[str], settings: Settings, registry: Registry
) -> AsyncIterator[list[Worker]]:
    """Run workers for the queues until the block ends; then shut them down gracefully."""
    use_registry(registry)
    async with httpx.AsyncClient() as http:
        served = [q for q in queues if q == WORKFLOW_QUEUE or activities_for(q, http, settings)]
        workers = [build_worker(client, q, settings, http) for q in served]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            yield workers
        finally:
            await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
            await asyncio.gather(*tasks, return_exceptions=True)
