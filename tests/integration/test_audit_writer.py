"""The audit writer: run changes' audit events, written after the response, in order, many to a
transaction; retried while the database fails; drained at shutdown; `add` waits when full."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.audit_writer import AuditWriter, PendingEvent
from core.db.engine import create_engine, session_factory
from core.db.models import AuditEvent

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _event(n: int) -> PendingEvent:
    return PendingEvent(f"test.{n}", AT, None, f"run-{n}", {"n": n}, "127.0.0.1")


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(db_url: str, tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _written(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEvent]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def test_events_are_written_in_order_and_flush_waits_for_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    writer = AuditWriter(sessions)
    writer.start()
    try:
        for n in range(120):
            await writer.add(_event(n))
        assert await writer.flush(30)
        written = await _written(sessions)
        assert [e.action for e in written] == [f"test.{n}" for n in range(120)]
        assert (written[7].target, written[7].detail, written[7].ip) == ("run-7", {"n": 7}, "127.0.0.1")
    finally:
        await writer.close()


class _FailingFirst:
    """Sessions whose first `failures` commits fail, as a database that is away would."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], failures: int) -> None:
        self.sessions = sessions
        self.failures = failures

    def __call__(self) -> AsyncSession:
        session = self.sessions()
        if self.failures > 0:
            self.failures -= 1

            async def refuse() -> None:
                raise ConnectionError("the database is away")

            session.commit = refuse  # type: ignore[method-assign]
        return session


async def test_a_failing_database_is_retried_and_nothing_is_lost(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    failing = _FailingFirst(sessions, 2)
    writer = AuditWriter(failing, retry_s=0.01)  # type: ignore[arg-type]
    writer.start()
    try:
        with caplog.at_level(logging.ERROR, logger="api.audit_writer"):
            await writer.add(_event(1))
            assert await writer.flush(30)
        assert failing.failures == 0
        assert [e.action for e in await _written(sessions)] == ["test.1"]
        assert "writing 1 events failed; retrying" in caplog.text
    finally:
        await writer.close()


async def test_close_writes_what_is_queued(sessions: async_sessionmaker[AsyncSession]) -> None:
    writer = AuditWriter(sessions)
    writer.start()
    for n in range(5):
        await writer.add(_event(n))
    await writer.close()
    assert len(await _written(sessions)) == 5


async def test_a_full_queue_makes_add_wait_for_the_writer(sessions: async_sessionmaker[AsyncSession]) -> None:
    writer = AuditWriter(sessions, max_pending=1)
    await writer.add(_event(1))
    blocked = asyncio.create_task(writer.add(_event(2)))
    await asyncio.sleep(0)
    assert not blocked.done()  # the writer has not started: nothing takes the first event
    writer.start()
    await asyncio.wait_for(blocked, 30)
    await writer.close()
    assert [e.action for e in await _written(sessions)] == ["test.1", "test.2"]
