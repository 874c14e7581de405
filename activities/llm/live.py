"""The live text of a streaming step, posted to the API in batches (POST
/api/v1/internal/progress) for the run's SSE streams. A side channel: a post that fails or
times out is dropped and logged, never raised, so it cannot fail or slow the step whose result
goes through Temporal anyway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from activities.llm.types import OnText
from core.progress import ProgressChunk, ProgressPost
from core.settings import Settings

logger = logging.getLogger(__name__)
PROGRESS_PATH = "/api/v1/internal/progress"
POST_TIMEOUT_S = 2.0
# The most text a chunk carries, and the most that may wait unposted (the rest is dropped: a
# subscriber sees the gap in the offsets).
CHUNK_CHARS = 16 * 1024
BACKLOG_CHARS = 256 * 1024


@dataclass(frozen=True)
class StepPlace:
    """Which step of which run the text belongs to."""

    run: str
    step: str
    path: list[tuple[str, int]]
    module: str
    attempt: int


@dataclass
class LiveText:
    """One attempt's text: `on_text(call)` gives the callback for a provider call."""

    place: StepPlace
    _pending: list[ProgressChunk] = field(default_factory=list)
    _waiting_chars: int = 0
    dropped_chars: int = 0

    def on_text(self, call: int) -> OnText:
        offset = 0

        async def add(text: str) -> None:
            nonlocal offset
            self.add(call, offset, text)
            offset += len(text)

        return add

    def add(self, call: int, offset: int, text: str) -> None:
        if self._waiting_chars + len(text) > BACKLOG_CHARS:
            self.dropped_chars += len(text)
            return
        self._waiting_chars += len(text)
        last = self._pending[-1] if self._pending else None
        if (
            last is not None
            and last.call == call
            and last.offset + len(last.text) == offset
            and len(last.text) + len(text) <= CHUNK_CHARS
        ):
            self._pending[-1] = last.model_copy(update={"text": last.text + text})
            return
        p = self.place
        self._pending.append(
            ProgressChunk(
                run=p.run,
                step=p.step,
                path=p.path,
                module=p.module,
                attempt=p.attempt,
                call=call,
                offset=offset,
                text=text,
            )
        )

    def take(self) -> list[ProgressChunk]:
        chunks, self._pending, self._waiting_chars = self._pending, [], 0
        return chunks


class ProgressPoster:
    """Posts live text to the API; one per worker process (it shares the worker's HTTP client)."""

    def __init__(self, http: httpx.AsyncClient, api_url: str, token: str, flush_s: float) -> None:
        self.http = http
        self.url = api_url + PROGRESS_PATH
        self.headers = {"Authorization": f"Bearer {token}"}
        self.flush_s = flush_s
        self.failed_posts = 0

    @classmethod
    def from_settings(cls, http: httpx.AsyncClient, settings: Settings) -> ProgressPoster | None:
        """The poster the settings configure; None unless both the API URL and token are set."""
        if settings.worker_api_url is None or settings.worker_token is None:
            return None
        token = settings.worker_token.get_secret_value()
        return cls(http, settings.worker_api_url, token, settings.progress_flush_s)

    @contextlib.asynccontextmanager
    async def streaming(self, place: StepPlace) -> AsyncIterator[LiveText]:
        """Post what the block adds to the LiveText every flush_s, and the rest at its end."""
        live = LiveText(place)
        stop = asyncio.Event()

        async def flush_every() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.flush_s)
                await self._post(live.take())

        task = asyncio.create_task(flush_every())
        try:
            yield live
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            if live.dropped_chars:
                logger.warning(
                    "%d characters of %s's live text were not posted (the API was slow)",
                    live.dropped_chars,
                    place.step,
                )

    async def _post(self, chunks: list[ProgressChunk]) -> None:
        if not chunks:
            return
        body = ProgressPost(chunks=chunks).model_dump_json()
        try:
            response = await self.http.post(
                self.url,
                content=body,
                headers={**self.headers, "Content-Type": "application/json"},
                timeout=POST_TIMEOUT_S,
            )
        except httpx.HTTPError as exc:
            self._failed(f"{type(exc).__name__}: {exc}")
            return
        if response.status_code != httpx.codes.NO_CONTENT:
            self._failed(f"{response.status_code} {response.text[:300]}")

    def _failed(self, why: str) -> None:
        # Loudly now and then, quietly between: an API that is away would flood the log.
        self.failed_posts += 1
        level = logging.WARNING if self.failed_posts % 100 == 1 else logging.DEBUG
        logger.log(level, "live text not posted to %s (the step goes on): %s", self.url, why)
