"""The sign-in flow's boundaries: after the first factor, either a 2FA challenge or a session.

`issue_session` is the one place a session starts; the password login calls it now, the 2FA
step and OIDC sign-in call it once they have verified the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit_log import audit
from api.schemas.auth import TokenPairPublic, TwoFactorRequired
from api.trusted_devices import trusted_device_of
from core.auth.sessions import start_session
from core.auth.tokens import encode_challenge
from core.db.models import User
from core.settings import Settings


async def issue_session(
    session: AsyncSession,
    user: User,
    request: Request,
    now: datetime,
    method: str = "password",
    detail: dict[str, Any] | None = None,
) -> TokenPairPublic:
    """Start a session for a fully verified user: a token pair, and a `login` audit event (with
    `method` and any further `detail`)."""
    settings: Settings = request.app.state.settings
    pair = await start_session(session, user, settings, now)
    await audit(
        session,
        request,
        "login",
        now,
        actor_id=user.id,
        target=user.username,
        detail={"method": method, **(detail or {})},
    )
    return TokenPairPublic(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


async def after_first_factor(
    session: AsyncSession, user: User, request: Request, now: datetime
) -> TokenPairPublic | TwoFactorRequired:
    """A session, or a 2FA challenge when the user has a second factor enabled and the request
    does not come from one of their trusted devices."""
    if not user.totp_enabled:
        return await issue_session(session, user, request, now)
    if await trusted_device_of(session, request, user, now) is not None:
        return await issue_session(session, user, request, now, method="password+trusted_device")
    settings: Settings = request.app.state.settings
    await audit(session, request, "login.challenge", now, actor_id=user.id, target=user.username)
    return TwoFactorRequired(challenge=encode_challenge(user.id, settings.secret_key, now))
