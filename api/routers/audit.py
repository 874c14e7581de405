"""GET /audit: the audit log, newest first (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from api.audit_log import written_audit
from api.deps import AdminUser, SessionDep
from api.responses import errors
from api.schemas.audit import AuditEventPublic, AuditPage
from core.db.repos.audit import page

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage, responses=errors(403))
async def audit_log(
    principal: AdminUser,
    request: Request,
    session: SessionDep,
    before: int | None = Query(
        None, description="Only events older than this id (the previous page's next_before)."
    ),
    limit: int = Query(50, ge=1, le=500),
) -> AuditPage:
    """A page of audit events; follow `next_before` for older ones."""
    await written_audit(request)
    events = await page(session, before, limit + 1)
    more = len(events) > limit
    events = events[:limit]
    return AuditPage(
        items=[AuditEventPublic.model_validate(e) for e in events],
        next_before=events[-1].id if more and events else None,
    )
