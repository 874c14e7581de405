"""Workers an API process runs itself (`stepwise api --worker-queue stepwise`), on the API's own
Temporal client: runs started through that API then start eagerly in its workflow worker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI

from core.settings import Settings
from workers.worker import running_workers


def hosting(
    queues: list[str], settings: Settings
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """What create_app's `alongside` runs: workers for `queues` for the app's lifetime."""

    @contextlib.asynccontextmanager
    async def hosted(app: FastAPI) -> AsyncIterator[None]:
        client = await app.state.temporal.client()  # connects now: workers need Temporal up
        registry, sessions = app.state.registry, app.state.sessions
        async with running_workers(client, queues, settings, registry, sessions=sessions):
            yield

    return hosted
