"""An app served by uvicorn on 127.0.0.1 in the test's event loop: for what httpx's ASGI
transport cannot do, such as reading a stream while it is still being written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI

from core.devserver import free_port
from core.sse import SseMessage, SseParser


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` (its lifespan already entered) on a free port; its base URL. A port that
    turns out taken is replaced by another."""
    for _ in range(5):
        config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(3_000):  # up to 30 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if server.started:
            break
        with contextlib.suppress(BaseException):
            await task
    else:
        raise RuntimeError("no free port for uvicorn after 5 tries")
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task


async def sse_messages(
    http: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> AsyncIterator[SseMessage]:
    """The messages of an event stream as they arrive (raises on a status other than 200)."""
    parser = SseParser()
    async with http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            message = parser.feed(line)
            if message is not None:
                yield message
