"""Audit events of run changes (a start, an answer, an event, a cancel), written after the
response by one background task, many to a transaction.

The durable record of such a change is the run's Temporal history, which holds who made it;
the audit row is a second copy for the audit log, so the request does not wait for it. A
process killed before the task wrote a row loses that row (not the change). Account changes
live in the app database and keep writing their event in their own transaction
(`api.audit_log.audit`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db.repos.audit import record_many

logger = logging.getLogger(__name__)

BATCH = 500
RETRY_S = 1.0
GATHER_S = 0.02
CLOSE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PendingEvent:
    action: str
    at: datetime
    actor_id: str | None
    target: str | None
    detail: dict[str, Any] | None
    ip: str | None


class AuditWriter:
    """Queues events and writes them in order; `flush` waits until every queued event is
    written. At most `max_pending` wait: beyond that, `add` waits for the writer."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], max_pending: int = 10_000, retry_s: float = RETRY_S
    ) -> None:
        self._sessions = sessions
        self._queue: asyncio.Queue[PendingEvent] = asyncio.Queue(max_pending)
        self._retry_s = retry_s
        self._gather_s = GATHER_S
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def add(self, event: PendingEvent) -> None:
        await self._queue.put(event)

    async def flush(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued event is written; False when `timeout_s` ran out first."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Write what is queued (for at most CLOSE_TIMEOUT_S), then stop."""
        if self._task is None:
            return
        if not await self.flush(CLOSE_TIMEOUT_S):
            logger.error(
                "audit: %d events could not be written before shutdown and are lost", self._queue.qsize()
            )
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(self._gather_s)  # let the response go out first, and more events come
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[PendingEvent]) -> None:
        """Write the batch in one transaction, retrying until the database takes it."""
        while True:
            try:
                async with self._sessions() as session:
                    await record_many(session, [asdict(e) for e in batch])
                    await session.commit()
                return
            except Exception:
                logger.exception("audit: writing %d events failed; retrying", len(batch))
                await asyncio.sleep(self._retry_s)
