"""The Temporal client every process uses: one data converter (pydantic, payloads encrypted when
keys are configured: core.codec) for all."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from core.codec import converter_for
from core.settings import Settings


async def connect(settings: Settings, address: str | None = None, wait_s: float = 0.0) -> Client:
    """Connect to Temporal (`address` overrides the settings' host and port); keep trying for
    `wait_s` seconds while it is still starting."""
    target = address or f"{settings.temporal_host}:{settings.temporal_port}"
    converter = converter_for(settings)
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await Client.connect(
                target, namespace=settings.temporal_namespace, data_converter=converter
            )
        except RuntimeError:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.2)
