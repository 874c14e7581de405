"""Trusted devices: a browser that passed the second step skips it for 30 days, until revoked."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, field_validator

TRUSTED_DAYS = 30
# 32 random bytes: 256 bits, so the token cannot be guessed and a fast hash suffices to store it.
TOKEN_BYTES = 32
# `__Host-` makes the browser refuse the cookie unless it is Secure, for path / and without a
# Domain: no sibling subdomain can plant or read it. Plain HTTP (development) cannot use the prefix.
COOKIE_NAME = "__Host-stepwise_trusted_device"
INSECURE_COOKIE_NAME = "stepwise_trusted_device"


class TrustedDeviceRecord(BaseModel):
    """One row of `trusted_devices`, as the caller stores it."""

    model_config = ConfigDict(frozen=True)

    id: int | str | None = None  # the table uses uuid strings
    user_id: int | str
    token_hash: str
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @field_validator("created_at", "expires_at", "last_used_at", "revoked_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # SQLite hands back naive datetimes for what was stored in UTC; comparing one with an
        # aware `now` would raise.
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class CookieSettings(TypedDict):
    """Keyword arguments for Starlette's `Response.set_cookie` (besides `value`)."""

    key: str
    max_age: int
    path: str
    secure: bool
    httponly: bool
    samesite: Literal["lax", "strict", "none"]


def new_device_token() -> tuple[str, str]:
    """A fresh opaque token for the cookie, and its hash for the database."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_device_token(token)


def hash_device_token(token: str) -> str:
    """The sha256 (hex) a token is stored and looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def expires_at(now: datetime, days: int = TRUSTED_DAYS) -> datetime:
    """When a device trusted at `now` must pass the second step again."""
    return now + timedelta(days=days)


def trust_device(user_id: int | str, name: str, now: datetime) -> tuple[str, TrustedDeviceRecord]:
    """A new trusted device: the token for the cookie and the record to store."""
    token, token_hash = new_device_token()
    name = name.strip()[:200] or "unnamed device"
    record = TrustedDeviceRecord(
        user_id=user_id, token_hash=token_hash, name=name, created_at=now, expires_at=expires_at(now)
    )
    return token, record


def is_valid(device: TrustedDeviceRecord, now: datetime) -> bool:
    """Whether the device still skips the second step: neither revoked nor expired."""
    return device.revoked_at is None and now < device.expires_at


def recognises(device: TrustedDeviceRecord, token: str, now: datetime) -> bool:
    """Whether `token` (from the cookie) is this device's, and the device still valid."""
    return hmac.compare_digest(hash_device_token(token), device.token_hash) and is_valid(device, now)


def touch(device: TrustedDeviceRecord, now: datetime) -> TrustedDeviceRecord:
    """The record after a sign-in from the device (the expiry stays: 30 days from trusting)."""
    return device.model_copy(update={"last_used_at": now})


def revoke(device: TrustedDeviceRecord, now: datetime) -> TrustedDeviceRecord:
    """The record of a device that must pass the second step again; revoking twice keeps the first time."""
    return device if device.revoked_at is not None else device.model_copy(update={"revoked_at": now})


def device_cookie(secure: bool = True) -> CookieSettings:
    """How the API sets the trusted-device cookie; `secure=False` only for plain-HTTP development."""
    return CookieSettings(
        key=COOKIE_NAME if secure else INSECURE_COOKIE_NAME,
        max_age=TRUSTED_DAYS * 24 * 60 * 60,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
