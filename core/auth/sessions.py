"""Sign-in sessions: an access token plus a rotating refresh token.

Every refresh marks the presented token rotated and hands out a new one of the same family.
Presenting a rotated token again means it was copied: the whole family is revoked, so both
the thief and the user must sign in again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.tokens import encode_access, new_refresh_token, sha256_hex
from core.db.models import RefreshToken, User
from core.db.repos.refresh_tokens import (
    add_refresh_token,
    find_refresh_token,
    mark_rotated,
    revoke_family,
    revoke_user_tokens,
)
from core.db.repos.users import get_user
from core.settings import Settings


@dataclass(frozen=True)
class TokenPair:
    """What a client keeps after signing in or refreshing."""

    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str


class RefreshRefused(Exception):
    """A refresh token that gives no new pair; `reused` when it had been rotated already
    (its family is now revoked)."""

    def __init__(self, reason: str, user_id: str | None = None, reused: bool = False) -> None:
        super().__init__(reason)
        self.user_id = user_id
        self.reused = reused


async def _pair(
    session: AsyncSession, user: User, family_id: str, settings: Settings, now: datetime
) -> TokenPair:
    raw = new_refresh_token()
    await add_refresh_token(session, user.id, family_id, sha256_hex(raw), now, settings.refresh_token_ttl_s)
    access = encode_access(
        user.id, user.role, user.group_names, settings.secret_key, now, settings.access_token_ttl_s
    )
    return TokenPair(access, raw, settings.access_token_ttl_s, user.id)


async def start_session(session: AsyncSession, user: User, settings: Settings, now: datetime) -> TokenPair:
    """A new token pair for a user who just proved who they are (a new refresh family)."""
    return await _pair(session, user, str(uuid.uuid4()), settings, now)


async def refresh_session(session: AsyncSession, raw: str, settings: Settings, now: datetime) -> TokenPair:
    """Trade a refresh token for a new pair; `RefreshRefused` when it is unknown, expired,
    revoked or reused (reuse revokes its family: the caller must commit that)."""
    token = await find_refresh_token(session, sha256_hex(raw))
    if token is None:
        raise RefreshRefused("unknown refresh token")
    if token.revoked_at is not None:
        raise RefreshRefused("the refresh token was revoked", token.user_id)
    if token.rotated_at is None and token.expires_at <= now:
        raise RefreshRefused("the refresh token has expired", token.user_id)
    if token.rotated_at is not None or not await mark_rotated(session, token.id, now):
        await revoke_family(session, token.family_id, now)
        raise RefreshRefused("the refresh token was used already", token.user_id, reused=True)
    user = await get_user(session, token.user_id)
    if user is None or not user.is_active:
        raise RefreshRefused("the account is disabled", token.user_id)
    return await _pair(session, user, token.family_id, settings, now)


async def end_session(session: AsyncSession, raw: str, now: datetime) -> RefreshToken | None:
    """Revoke the session (refresh family) the token belongs to; the token, or None if unknown."""
    token = await find_refresh_token(session, sha256_hex(raw))
    if token is not None:
        await revoke_family(session, token.family_id, now)
    return token


async def end_all_sessions(session: AsyncSession, user_id: str, now: datetime) -> None:
    """Revoke every refresh token of the user."""
    await revoke_user_tokens(session, user_id, now)
