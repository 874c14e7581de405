"""Live progress of a step (the tokens of a streaming api.llm step): a side channel beside
Temporal. Workers post chunks to the API (POST /api/v1/internal/progress); each API process
hands them to the SSE streams of the run it holds open (`ProgressHub`). Nothing here is
durable: a chunk that is lost is lost, and the step's result still comes through Temporal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)
T = TypeVar("T")
# What one SSE subscriber may have waiting before its oldest chunks are dropped (a slow reader
# never holds up the others, nor the worker).
SUBSCRIBER_BACKLOG = 1_000
MAX_TEXT = 64 * 1024
MAX_CHUNKS = 200


class ProgressChunk(BaseModel):
    """A piece of a step's live output, as a worker posts it."""

    run: str = Field(max_length=1_000, description="The workflow id of the run (or called run) of the step")
    step: str = Field(max_length=500)
    path: list[tuple[str, int]] = Field(default_factory=list, max_length=100)
    module: str = Field(max_length=200)
    attempt: int = Field(ge=1, description="The activity's attempt: a retried attempt starts its text again")
    call: int = Field(
        default=1, ge=1, description="The provider call within the attempt (a repaired reply is a new call)"
    )
    offset: int = Field(ge=0, description="How many characters of this call's text came before this chunk")
    text: str = Field(max_length=MAX_TEXT)


class ProgressPost(BaseModel):
    """The body of POST /api/v1/internal/progress."""

    chunks: list[ProgressChunk] = Field(max_length=MAX_CHUNKS)


def progress_event(chunk: ProgressChunk, at: str) -> dict[str, Any]:
    """The chunk as a run event of the stream (`module_progress`; no `id`: it is not in the
    run's history, so a reconnect neither resumes from it nor gets it again)."""
    return {
        "type": "module_progress",
        "at": at,
        "run": chunk.run,
        "step": chunk.step,
        "path": [list(p) for p in chunk.path],
        "module": chunk.module,
        "data": {"text": chunk.text, "offset": chunk.offset, "attempt": chunk.attempt, "call": chunk.call},
    }


class Subscription:
    """The chunks of one run (and the runs it called) for one SSE stream, oldest first."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.chunks: list[ProgressChunk] = []
        self.dropped = 0
        self.ready = asyncio.Event()

    def wants(self, workflow_id: str) -> bool:
        # A called run's id is its caller's, a dot, its step and a number (workflows/engine).
        return workflow_id == self.run_id or workflow_id.startswith(self.run_id + ".")

    def put(self, chunk: ProgressChunk) -> None:
        if len(self.chunks) >= SUBSCRIBER_BACKLOG:
            self.chunks.pop(0)
            self.dropped += 1
        self.chunks.append(chunk)
        self.ready.set()

    def take(self) -> list[ProgressChunk]:
        """What has come since the last take."""
        chunks, self.chunks = self.chunks, []
        self.ready.clear()
        return chunks


class ProgressHub:
    """The SSE streams of this process that want chunks, by run."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self.delivered = 0

    @contextlib.contextmanager
    def subscribe(self, run_id: str) -> Iterator[Subscription]:
        subscription = Subscription(run_id)
        self._subscriptions.append(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.remove(subscription)

    def deliver(self, chunks: list[ProgressChunk]) -> int:
        """Hand chunks to the streams that want them; how many streams got one."""
        got = 0
        for subscription in self._subscriptions:
            for chunk in chunks:
                if subscription.wants(chunk.run):
                    subscription.put(chunk)
                    got += 1
        self.delivered += got
        return got


def notify_payloads(chunks: list[ProgressChunk], max_bytes: int) -> list[str]:
    """The chunks as JSON texts of at most `max_bytes` bytes each (PostgreSQL's NOTIFY takes
    under 8000): a long text is split, its offsets kept right."""
    out: list[str] = []
    for chunk in chunks:
        out.extend(_pieces(chunk, max_bytes))
    return out


def _pieces(chunk: ProgressChunk, max_bytes: int) -> list[str]:
    payload = chunk.model_dump_json()
    if len(payload.encode()) <= max_bytes:
        return [payload]
    if len(chunk.text) <= 1:
        logger.warning("a progress chunk of %d bytes cannot be split under %d", len(payload), max_bytes)
        return []
    half = len(chunk.text) // 2
    first = chunk.model_copy(update={"text": chunk.text[:half]})
    second = chunk.model_copy(update={"text": chunk.text[half:], "offset": chunk.offset + half})
    return _pieces(first, max_bytes) + _pieces(second, max_bytes)


def chunk_of(payload: str) -> ProgressChunk | None:
    """A chunk from a NOTIFY payload; None (logged) for one that is not a chunk."""
    try:
        return ProgressChunk.model_validate(json.loads(payload))
    except ValueError as exc:
        logger.warning("a progress notification that is no chunk was ignored: %s", str(exc)[:200])
        return None


async def _next(events: AsyncIterator[T]) -> T:
    return await anext(events)


async def with_progress(
    events: AsyncIterator[T], subscription: Subscription
) -> AsyncIterator[T | list[ProgressChunk]]:
    """`events` as they come, with the subscription's chunks between them (as lists) as soon
    as they come; ends with `events`, after the chunks that came before its end."""
    pending = asyncio.create_task(_next(events))
    try:
        while True:
            ready = asyncio.create_task(subscription.ready.wait())
            done, _ = await asyncio.wait({pending, ready}, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if subscription.ready.is_set():
                yield subscription.take()
            if pending not in done:
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                break
            yield event
            pending = asyncio.create_task(_next(events))
        if subscription.chunks:
            yield subscription.take()
    finally:
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
