"""Refresh tokens, stored as hashes, grouped in families (one family per sign-in)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import RefreshToken


async def add_refresh_token(
    session: AsyncSession, user_id: str, family_id: str, token_hash: str, now: datetime, ttl_s: int
) -> RefreshToken:
    """Store a new refresh token of the family, valid for `ttl_s` seconds."""
    token = RefreshToken(
        user_id=user_id,
        family_id=family_id,
        token_hash=token_hash,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    session.add(token)
    await session.flush()
    return token


async def find_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    """The stored token with this hash, or None."""
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))


async def mark_rotated(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Mark the token used; False when it already was (or was revoked) meanwhile, so two
    concurrent refreshes with one token cannot both succeed."""
    result = await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None), RefreshToken.revoked_at.is_(None)
        )
        .values(rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    """Revoke every token of the family that is not revoked yet."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def revoke_user_tokens(session: AsyncSession, user_id: str, now: datetime) -> None:
    """Revoke every refresh token of the user (sign out everywhere)."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
