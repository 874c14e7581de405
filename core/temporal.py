"""The Temporal client every process uses: one data converter (pydantic) for all."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings


async def connect(settings: Settings, address: str | None = None, wait_s: float = 0.0) -> Client:
    """Connect to Temporal (`address` overrides the settings' host and port); keep trying for
    `wait_s` seconds while it is still starting."""
    target = address or f"{settings.temporal_host}:{settings.temporal_port}"
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await Client.connect(
                target, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
            )
        except RuntimeError:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.2)
