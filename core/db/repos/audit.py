"""The audit log: who did what, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import AuditEvent


async def record(
    session: AsyncSession,
    action: str,
    at: datetime,
    actor_id: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Add one audit event (committed with the change it describes)."""
    event = AuditEvent(action=action, at=at, actor_id=actor_id, target=target, detail=detail or {}, ip=ip)
    session.add(event)
    await session.flush()
    return event


async def record_many(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """Add audit events given as column values (action, at, actor_id, target, detail, ip) in
    one bulk INSERT, without making an object of each."""
    await session.execute(insert(AuditEvent), [{**e, "detail": e.get("detail") or {}} for e in events])


async def page(session: AsyncSession, before: int | None, limit: int) -> list[AuditEvent]:
    """Up to `limit` events, newest first, older than the event `before` when given."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return list((await session.scalars(query)).all())


async def recent_times(
    session: AsyncSession, action: str, actor_id: str, since: datetime, limit: int
) -> list[datetime]:
    """When the actor's last `limit` events of `action` after `since` happened, newest first."""
    query = (
        select(AuditEvent.at)
        .where(AuditEvent.action == action, AuditEvent.actor_id == actor_id, AuditEvent.at > since)
        .order_by(AuditEvent.at.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
