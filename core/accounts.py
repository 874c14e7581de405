"""Creating and changing user accounts, shared by the API and `stepwise user create`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.passwords import hash_password, password_problem
from core.auth.scopes import ROLES
from core.clock import utcnow
from core.db.engine import opened_sessions
from core.db.migrate import require_current_schema
from core.db.models import User
from core.db.repos.audit import record
from core.db.repos.groups import groups_named
from core.db.repos.users import create_user


class AccountError(ValueError):
    """An account change that is refused; the message says which field and why."""


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for the audit log (no id: the command line)."""

    user_id: str | None
    ip: str | None = None


def checked_hash(password: str) -> str:
    """The hash of an acceptable password; `AccountError` naming the rule it breaks."""
    problem = password_problem(password)
    if problem is not None:
        raise AccountError(f"password: {problem}")
    return hash_password(password)


async def register_user(
    session: AsyncSession,
    username: str,
    password: str | None,
    actor: Actor,
    now: datetime,
    role: str = "member",
    email: str | None = None,
    groups: Sequence[str] = (),
    create_groups: bool = False,
) -> User:
    """Create a user (with a checked, hashed password) and audit it; the caller commits.
    Raises `AccountError`, `AlreadyExists`, or `UnknownName` for a missing group."""
    if role not in ROLES:
        raise AccountError(f"role: {role!r} is not one of {', '.join(ROLES)}")
    password_hash = checked_hash(password) if password is not None else None
    members_of = await groups_named(session, groups, create=create_groups)
    user = await create_user(session, username, password_hash, role, email, members_of)
    await record(
        session,
        "user.create",
        now,
        actor_id=actor.user_id,
        target=user.id,
        detail={"username": username, "role": role, "groups": user.group_names},
        ip=actor.ip,
    )
    return user


async def create_first_user(
    url: str, username: str, password: str | None, role: str, email: str | None, groups: Sequence[str]
) -> User:
    """Create a user in the database at `url` from the command line (missing groups are
    created); `SchemaOutdated` when the database is not migrated."""
    await require_current_schema(url)
    async with opened_sessions(url) as sessions, sessions() as session:
        user = await register_user(
            session, username, password, Actor(None), utcnow(), role, email, groups, create_groups=True
        )
        await session.commit()
        return user
