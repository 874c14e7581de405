"""Time-based one-time passwords (RFC 6238): secrets, otpauth URIs and verification."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of now that still count: authenticator clocks drift, and people type slowly.
DRIFT_STEPS = 1
# 32 base32 characters are 160 bits, the HMAC-SHA1 key length RFC 4226 recommends.
SECRET_LENGTH = 32


class TwoFactorError(Exception):
    """A second factor was refused; the message says why and what to do, `field` names the input."""

    def __init__(self, message: str, field: str = "code") -> None:
        super().__init__(message)
        self.field = field


class InvalidCode(TwoFactorError):
    """The code is malformed, wrong, or from too far from now."""


class CodeReused(TwoFactorError):
    """The code (or an earlier one) was already accepted: a TOTP code works once."""


def new_secret() -> str:
    """A fresh random TOTP secret: 160 bits, base32."""
    return pyotp.random_base32(length=SECRET_LENGTH)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (from the QR code) to add this account."""
    if not account.strip() or ":" in account:
        raise ValueError(
            "account: give the user's name or e-mail address (without ':') for the authenticator app"
        )
    if not issuer.strip() or ":" in issuer:
        raise ValueError("issuer: give a non-empty name without ':' (e.g. 'Stepwise')")
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def time_step(now: datetime) -> int:
    """The TOTP time step (counter) `now` falls in."""
    if now.tzinfo is None:
        # pyotp would read a naive datetime as local time: a silent skew of hours.
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code an authenticator app shows during time step `step`."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def clean_code(code: str) -> str:
    """The digits of a typed code (spaces and dashes dropped), or InvalidCode if it is not 6 digits."""
    digits = "".join(code.split()).replace("-", "")
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        raise InvalidCode(f"code: enter the {DIGITS} digits your authenticator app shows, like 123456")
    return digits


def verify(secret: str, code: str, last_step: int | None, now: datetime) -> int:
    """The time step `code` belongs to (now ± one step), to store as the new last step.

    Raises InvalidCode for a malformed or wrong code and CodeReused for a code of a step at or
    before `last_step` (the same code again, or an earlier one after a later one was accepted).
    """
    digits = clean_code(code)
    current = time_step(now)
    matched = [
        step
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
        if hmac.compare_digest(code_at(secret, step), digits)
    ]
    fresh = [step for step in matched if last_step is None or step > last_step]
    if fresh:
        return max(fresh)
    if matched:
        raise CodeReused("code: this code was already used; wait for the next one in your authenticator app")
    raise InvalidCode(
        "code: this code is wrong or has expired; enter the code your authenticator app shows now, "
        "and check that the device's clock is set automatically"
    )
