"""Writing audit events from a request: who (actor), what, on what, from which address."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit_writer import AuditWriter, PendingEvent
from core.db.repos.audit import record

FLUSH_TIMEOUT_S = 5.0


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def audit(
    session: AsyncSession,
    request: Request,
    action: str,
    now: datetime,
    actor_id: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the request's transaction (the route commits it with its change)."""
    await record(session, action, now, actor_id=actor_id, target=target, detail=detail, ip=_address(request))


async def audit_run_change(
    request: Request,
    action: str,
    now: datetime,
    actor_id: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Queue the audit event of a change to a run, made in Temporal (whose history is its
    durable record): the app's AuditWriter writes it after the response."""
    writer: AuditWriter = request.app.state.audit_writer
    await writer.add(PendingEvent(action, now, actor_id, target, detail, _address(request)))


async def written_audit(request: Request) -> None:
    """Wait (a few seconds at most) until queued audit events are written, so what this process
    did shows when the log is read or rewritten."""
    writer: AuditWriter = request.app.state.audit_writer
    await writer.flush(FLUSH_TIMEOUT_S)
