"""The Temporal client every process uses: one data converter (pydantic) for all."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings


async def connect(settings: Settings, address: str | None = None) -> Client:
    """Connect to Temporal (`address` overrides the settings' host and port)."""
    target = address or f"{settings.temporal_host}:{settings.temporal_port}"
    return await Client.connect(
        target, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
    )
