"""Writing audit events from a request: who (actor), what, on what, from which address."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.repos.audit import record


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
    ip = request.client.host if request.client else None
    await record(session, action, now, actor_id=actor_id, target=target, detail=detail, ip=ip)
