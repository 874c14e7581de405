"""The trusted-device cookie: set after a remembered second step, read at sign-in."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.devices import device_cookie, hash_device_token, recognises, touch
from core.db.models import TrustedDevice, User
from core.db.repos.trusted_devices import device_record, find_trusted_device


def _secure(request: Request) -> bool:
    # Plain HTTP (development) cannot hold a Secure `__Host-` cookie: the browser would drop it.
    return request.url.scheme == "https"


def device_token(request: Request) -> str | None:
    """The trusted-device token the browser sent, or None."""
    return request.cookies.get(device_cookie(secure=_secure(request))["key"])


def set_device_cookie(request: Request, response: Response, token: str) -> None:
    """Have the browser keep `token` for 30 days (HttpOnly; Secure when the request is HTTPS)."""
    response.set_cookie(value=token, **device_cookie(secure=_secure(request)))


async def current_device(session: AsyncSession, request: Request, user_id: str) -> TrustedDevice | None:
    """The stored device the request's cookie names, if it is the user's (valid or not)."""
    token = device_token(request)
    if token is None:
        return None
    device = await find_trusted_device(session, hash_device_token(token))
    return device if device is not None and device.user_id == user_id else None


async def trusted_device_of(
    session: AsyncSession, request: Request, user: User, now: datetime
) -> TrustedDevice | None:
    """The user's trusted device this request comes from, still valid, marked used now; or None."""
    token = device_token(request)
    device = await current_device(session, request, user.id)
    if token is None or device is None or not recognises(device_record(device), token, now):
        return None
    device.last_used_at = touch(device_record(device), now).last_used_at
    await session.flush()
    return device
