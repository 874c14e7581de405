"""Heartbeats while an activity works, so Temporal can cancel it and notice a dead worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity


@contextlib.asynccontextmanager
async def heartbeating(every_s: float = 2.0) -> AsyncIterator[None]:
    """Heartbeat every `every_s` seconds while the block runs."""

    async def beat() -> None:
        if activity.info().is_local:
            return  # a local activity (`local: true`) lives inside its workflow task: no heartbeats
        while True:
            activity.heartbeat()
            await asyncio.sleep(every_s)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
