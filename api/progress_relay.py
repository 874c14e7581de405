"""How posted progress chunks reach the SSE streams of every API replica: in this process
alone (SQLite: there is one API process), or through PostgreSQL's LISTEN/NOTIFY, which every
replica on the same database hears, this one included."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import Protocol

import asyncpg
from sqlalchemy.engine import make_url

from core.progress import ProgressChunk, ProgressHub, chunk_of, notify_payloads

logger = logging.getLogger(__name__)
CHANNEL = "stepwise_progress"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
NOTIFY_MAX_BYTES = 7_800
RECONNECT_S = 1.0


class ProgressRelay(Protocol):
    hub: ProgressHub

    async def publish(self, chunks: list[ProgressChunk]) -> None: ...

    async def aclose(self) -> None: ...


class LocalRelay:
    """Chunks go straight to this process's streams."""

    def __init__(self, hub: ProgressHub) -> None:
        self.hub = hub

    async def publish(self, chunks: list[ProgressChunk]) -> None:
        self.hub.deliver(chunks)

    async def aclose(self) -> None:
        return None


class PostgresRelay:
    """Chunks are sent as NOTIFY on one channel; a LISTEN connection of each replica hands
    what it hears to its streams. While PostgreSQL cannot be reached, chunks reach this
    replica's streams only."""

    def __init__(self, hub: ProgressHub, database_url: str) -> None:
        self.hub = hub
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._publisher: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen from now on (reconnecting when the connection drops); returns once
        listening, or after the first failed try."""
        self._task = asyncio.create_task(self._listen(), name="progress LISTEN")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 10)

    async def publish(self, chunks: list[ProgressChunk]) -> None:
        payloads = notify_payloads(chunks, NOTIFY_MAX_BYTES)
        try:
            async with self._lock:
                if self._publisher is None or self._publisher.is_closed():
                    self._publisher = await asyncpg.connect(self._dsn)
                await self._publisher.execute(
                    "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n",
                    CHANNEL,
                    payloads,
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.warning("progress chunks reach this API process only: NOTIFY failed (%s)", exc)
            self.hub.deliver(chunks)

    async def _listen(self) -> None:
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("cannot LISTEN for progress chunks (%s); trying again", exc)
                self._listening.set()  # start() waits no longer; streams still get local chunks
                await asyncio.sleep(RECONNECT_S)
                continue
            try:
                connection.add_termination_listener(functools.partial(_set, lost))
                await connection.add_listener(CHANNEL, self._heard)
                self._listening.set()
                await lost.wait()
                logger.warning("the LISTEN connection for progress chunks dropped; reconnecting")
            finally:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)
            await asyncio.sleep(RECONNECT_S)

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        chunk = chunk_of(payload)
        if chunk is not None:
            self.hub.deliver([chunk])

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.close(timeout=2)


def _set(event: asyncio.Event, _connection: object) -> None:
    event.set()


async def open_relay(database_url: str) -> ProgressRelay:
    """The relay for an app on this database, started."""
    hub = ProgressHub()
    if make_url(database_url).get_backend_name() != "postgresql":
        return LocalRelay(hub)
    relay = PostgresRelay(hub, database_url)
    await relay.start()
    return relay
