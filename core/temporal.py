"""The Temporal client every process uses: one data converter (pydantic, payloads encrypted when
keys are configured: core.codec) for all, the process's telemetry runtime (metrics: core.metrics)
and, when an OTLP endpoint is set, tracing (core.tracing)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.runtime import Runtime

from core.codec import converter_for
from core.metrics import temporal_metrics
from core.settings import Settings
from core.tracing import temporal_interceptors


def runtime_for(settings: Settings) -> Runtime:
    """The Temporal runtime of this process: the one whose metrics /metrics shows, unless metrics are off."""
    return temporal_metrics().runtime() if settings.metrics_enabled else Runtime.default()


async def connect(settings: Settings, address: str | None = None, wait_s: float = 0.0) -> Client:
    """Connect to Temporal (`address` overrides the settings' host and port); keep trying for
    `wait_s` seconds while it is still starting. Workers made from the client share its
    runtime (so its metrics) and its tracing interceptor."""
    target = address or f"{settings.temporal_host}:{settings.temporal_port}"
    converter = converter_for(settings)
    runtime = runtime_for(settings)
    interceptors = temporal_interceptors(settings)
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await Client.connect(
                target,
                namespace=settings.temporal_namespace,
                data_converter=converter,
                runtime=runtime,
                interceptors=interceptors,
            )
        except RuntimeError:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.2)
