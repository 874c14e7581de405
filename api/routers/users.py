"""GET /users/me; operators and admins read users; admins create and change them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit_log import audit
from api.deps import AdminUser, CurrentUser, NowDep, SessionDep, StaffUser
from api.problems import conflict, not_found, unprocessable
from api.responses import errors
from api.schemas.users import UserCreate, UserPublic, UserUpdate
from core.accounts import AccountError, Actor, checked_hash, register_user
from core.auth.sessions import end_all_sessions
from core.db.errors import AlreadyExists, UnknownName
from core.db.models import User
from core.db.repos.groups import groups_named
from core.db.repos.users import get_user, list_users, set_email

router = APIRouter(prefix="/users", tags=["users"])


def user_public(user: User) -> UserPublic:
    """The API's view of a user (no hashes, no TOTP secret)."""
    return UserPublic(
        id=user.id,
        username=user.username,
        email=user.email,
        email_verified=user.email_verified,
        role=user.role,
        groups=user.group_names,
        is_active=user.is_active,
        totp_enabled=user.totp_enabled,
        created_at=user.created_at,
    )


@router.get("/me", response_model=UserPublic, responses=errors(404))
async def me(principal: CurrentUser, session: SessionDep) -> UserPublic:
    """The signed-in user (or the user of the API key)."""
    user = await get_user(session, principal.user_id)
    if user is None:
        raise not_found("user", principal.user_id)
    return user_public(user)


@router.get("", response_model=list[UserPublic], responses=errors(403))
async def users(principal: StaffUser, session: SessionDep) -> list[UserPublic]:
    """Every user (operators and admins)."""
    return [user_public(u) for u in await list_users(session)]


@router.get("/{user_id}", response_model=UserPublic, responses=errors(404))
async def user(user_id: str, principal: CurrentUser, session: SessionDep) -> UserPublic:
    """One user; a member sees only themselves (404 for anyone else)."""
    found = await get_user(session, user_id) if principal.may_see(user_id) else None
    if found is None:
        raise not_found("user", user_id)
    return user_public(found)


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED, responses=errors(403, 409))
async def create(
    body: UserCreate, principal: AdminUser, request: Request, session: SessionDep, now: NowDep
) -> UserPublic:
    """Create a user with a role and groups (admins)."""
    ip = request.client.host if request.client else None
    try:
        created = await register_user(
            session,
            body.username,
            body.password,
            Actor(principal.user_id, ip),
            now,
            role=body.role,
            email=body.email,
            groups=body.groups,
        )
    except (AccountError, UnknownName) as exc:
        raise unprocessable(str(exc)) from None
    except AlreadyExists as exc:
        raise conflict(str(exc)) from None
    await session.commit()
    return user_public(created)


async def _other_active_admins(session: AsyncSession, user_id: str) -> int:
    query = select(User.id).where(User.role == "admin", User.is_active.is_(True), User.id != user_id)
    return len((await session.scalars(query)).all())


@router.patch("/{user_id}", response_model=UserPublic, responses=errors(403, 404, 409))
async def update(
    user_id: str, body: UserUpdate, principal: AdminUser, request: Request, session: SessionDep, now: NowDep
) -> UserPublic:
    """Change a user's role, groups, active flag, password or email (admins)."""
    found = await get_user(session, user_id)
    if found is None:
        raise not_found("user", user_id)
    loses_admin = found.role == "admin" and (body.role not in (None, "admin") or body.is_active is False)
    if loses_admin and await _other_active_admins(session, found.id) == 0:
        raise conflict(f"{found.username} is the last active admin; make another user admin first")
    changes: dict[str, Any] = {}
    try:
        if body.role is not None and body.role != found.role:
            changes["role"] = [found.role, body.role]
            found.role = body.role
        if body.groups is not None:
            before = found.group_names
            found.groups = await groups_named(session, body.groups)
            if found.group_names != before:
                changes["groups"] = [before, found.group_names]
        if body.is_active is not None and body.is_active != found.is_active:
            changes["is_active"] = [found.is_active, body.is_active]
            found.is_active = body.is_active
        if body.password is not None:
            found.password_hash = checked_hash(body.password)
            changes["password"] = "changed"  # noqa: S105 (a marker, not a password)
        if "email" in body.model_fields_set and body.email != found.email:
            changes["email"] = [found.email, body.email]
            await set_email(session, found, body.email)
    except (AccountError, UnknownName) as exc:
        raise unprocessable(str(exc)) from None
    except AlreadyExists as exc:
        raise conflict(str(exc)) from None
    if "password" in changes or found.is_active is False:
        # A new password or a disabled account ends every session that exists.
        await end_all_sessions(session, found.id, now)
    if changes:
        await audit(
            session, request, "user.update", now, actor_id=principal.user_id, target=found.id, detail=changes
        )
    await session.commit()
    return user_public(found)
