"""The API's Temporal connection: made in the lifespan, retried lazily if Temporal was down."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from core.settings import Settings
from core.temporal import connect


class TemporalConnection:
    """Holds one client; connects on first use after a failed start."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    @property
    def address(self) -> str:
        return f"{self.settings.temporal_host}:{self.settings.temporal_port}"

    async def client(self) -> Client:
        """The client, connecting now if there is none yet (raises if Temporal is unreachable)."""
        async with self._lock:
            if self._client is None:
                self._client = await connect(self.settings)
            return self._client
