"""GET /groups (operators and admins), POST /groups (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from api.audit_log import audit
from api.deps import AdminUser, NowDep, SessionDep, StaffUser
from api.problems import conflict
from api.responses import errors
from api.schemas.users import GroupCreate, GroupPublic
from core.db.errors import AlreadyExists
from core.db.repos.groups import create_group, list_groups

router = APIRouter(prefix="/groups", tags=["users"])


@router.get("", response_model=list[GroupPublic], responses=errors(403))
async def groups(principal: StaffUser, session: SessionDep) -> list[GroupPublic]:
    """Every group, by name."""
    return [GroupPublic.model_validate(g) for g in await list_groups(session)]


@router.post("", response_model=GroupPublic, status_code=status.HTTP_201_CREATED, responses=errors(403, 409))
async def create(
    body: GroupCreate, principal: AdminUser, request: Request, session: SessionDep, now: NowDep
) -> GroupPublic:
    """Create a group (admins)."""
    try:
        group = await create_group(session, body.name)
    except AlreadyExists as exc:
        raise conflict(str(exc)) from None
    await audit(session, request, "group.create", now, actor_id=principal.user_id, target=group.name)
    await session.commit()
    return GroupPublic.model_validate(group)
