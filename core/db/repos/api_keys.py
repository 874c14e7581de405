"""API keys: stored as hashes, found by their visible prefix."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import ApiKey


async def add_api_key(
    session: AsyncSession,
    user_id: str,
    name: str,
    prefix: str,
    key_hash: str,
    scopes: list[str],
    now: datetime,
    expires_at: datetime | None,
) -> ApiKey:
    """Store a new key's prefix and hash."""
    key = ApiKey(
        user_id=user_id,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scopes=sorted(set(scopes)),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    return key


async def get_api_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    """The key with this id, or None."""
    return await session.get(ApiKey, key_id)


async def list_api_keys(session: AsyncSession, user_id: str | None) -> list[ApiKey]:
    """The keys of one user (every user's when `user_id` is None), newest first."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return list((await session.scalars(query)).all())


async def keys_with_prefix(session: AsyncSession, prefix: str) -> list[ApiKey]:
    """The keys sharing a visible prefix (almost always one)."""
    return list((await session.scalars(select(ApiKey).where(ApiKey.prefix == prefix))).all())
