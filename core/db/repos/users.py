"""Users: look-ups, creation, changes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from core.db.errors import AlreadyExists
from core.db.models import Group, User


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    """The user with this id (and its groups, in the same query), or None."""
    query = select(User).options(joinedload(User.groups)).where(User.id == user_id)
    return (await session.scalars(query)).unique().one_or_none()


async def get_by_username(session: AsyncSession, username: str) -> User | None:
    """The user with this username, or None."""
    return await session.scalar(select(User).where(User.username == username))


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """The user with this email, compared case-insensitively (the oldest, should two differ only
    in case), or None."""
    return await session.scalar(
        select(User).where(func.lower(User.email) == email.lower()).order_by(User.created_at).limit(1)
    )


async def free_username(session: AsyncSession, wanted: str, max_length: int = 64) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`, … : the first that no user has (cut to `max_length`)."""
    candidate, n = wanted[:max_length], 1
    while await get_by_username(session, candidate) is not None:
        n += 1
        suffix = f"-{n}"
        candidate = wanted[: max_length - len(suffix)] + suffix
    return candidate


async def list_users(session: AsyncSession) -> list[User]:
    """Every user, by username."""
    return list((await session.scalars(select(User).order_by(User.username))).all())


async def count_users(session: AsyncSession) -> int:
    """How many users there are."""
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def _check_free(
    session: AsyncSession, username: str | None, email: str | None, own_id: str = ""
) -> None:
    if username is not None:
        other = await get_by_username(session, username)
        if other is not None and other.id != own_id:
            raise AlreadyExists(f"the username {username!r} is taken")
    if email is not None:
        other = await session.scalar(select(User).where(User.email == email))
        if other is not None and other.id != own_id:
            raise AlreadyExists(f"the email {email!r} belongs to another user")


async def create_user(
    session: AsyncSession,
    username: str,
    password_hash: str | None,
    role: str = "member",
    email: str | None = None,
    groups: Sequence[Group] = (),
) -> User:
    """A new active user; `AlreadyExists` when the username or email is taken."""
    await _check_free(session, username, email)
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        email=email,
        email_verified=False,
        is_active=True,
        totp_enabled=False,
        groups=list(groups),
    )
    session.add(user)
    await session.flush()
    return user


async def set_email(session: AsyncSession, user: User, email: str | None) -> None:
    """Change the user's email (unverified again); `AlreadyExists` when another user has it."""
    await _check_free(session, None, email, own_id=user.id)
    if email != user.email:
        user.email = email
        user.email_verified = False
    await session.flush()
