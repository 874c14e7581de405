"""Two-factor authentication as pure state transitions: enrol, confirm, second step, disable.

The caller loads a user's `TwoFactorState` (and unused backup-code hashes), calls one function,
and stores what it returns; nothing here touches the database or the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.auth import backup_codes, qr, totp
from core.auth.totp import InvalidCode, TwoFactorError


class WrongState(TwoFactorError):
    """The step does not fit where the user is (e.g. confirming without enrolling)."""


class TwoFactorState(BaseModel):
    """A user's two-factor settings: the confirmed secret, or the one being enrolled."""

    model_config = ConfigDict(frozen=True)

    secret: str | None = None
    enabled: bool = False
    last_step: int | None = None  # the last accepted TOTP time step: codes at or before it are refused
    pending_secret: str | None = None

    @classmethod
    def from_columns(
        cls, totp_secret: str | None, totp_enabled: bool, totp_last_step: int | None
    ) -> TwoFactorState:
        """The state of a `users` row; while 2FA is off, `totp_secret` holds the pending secret."""
        if totp_enabled:
            return cls(secret=totp_secret, enabled=True, last_step=totp_last_step)
        return cls(pending_secret=totp_secret, last_step=totp_last_step)

    def columns(self) -> tuple[str | None, bool, int | None]:
        """(`totp_secret`, `totp_enabled`, `totp_last_step`) to store on the `users` row."""
        return (self.secret if self.enabled else self.pending_secret), self.enabled, self.last_step


@dataclass(frozen=True)
class Enrolment:
    """What starting enrolment gives: the state to store and what to show the user."""

    state: TwoFactorState
    secret: str
    uri: str
    png: bytes


@dataclass(frozen=True)
class Confirmation:
    """Two-factor on: the state to store, backup codes to show once and their hashes to store."""

    state: TwoFactorState
    backup_codes: list[str]
    backup_hashes: list[str]


@dataclass(frozen=True)
class SecondStep:
    """A passed second step: which factor, the state to store, and the backup code to mark used."""

    factor: Literal["totp", "backup_code"]
    state: TwoFactorState
    backup_index: int | None = None


def start_enrolment(state: TwoFactorState, account: str, issuer: str) -> Enrolment:
    """A new pending secret with its otpauth URI and QR code; starting again replaces it."""
    if state.enabled:
        raise WrongState("two-factor authentication is already on; turn it off first to use another app")
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, account, issuer)
    pending = state.model_copy(update={"pending_secret": secret})
    return Enrolment(state=pending, secret=secret, uri=uri, png=qr.qr_png(uri))


def confirm_enrolment(state: TwoFactorState, code: str, now: datetime) -> Confirmation:
    """Two-factor on, once the user proves the app holds the pending secret; ten backup codes."""
    if state.enabled:
        raise WrongState("two-factor authentication is already on; there is nothing to confirm")
    if state.pending_secret is None:
        raise WrongState("no enrolment in progress; start enrolment first, then scan the QR code")
    totp.clean_code(code)  # a malformed code needs no hint about QR codes
    try:
        step = totp.verify(state.pending_secret, code, None, now)
    except InvalidCode as error:
        raise InvalidCode(
            f"{error} (scan the latest QR code if you started enrolment more than once)"
        ) from error
    codes = backup_codes.new_backup_codes()
    enabled = TwoFactorState(secret=state.pending_secret, enabled=True, last_step=step)
    return Confirmation(state=enabled, backup_codes=codes.codes, backup_hashes=codes.hashes)


def _looks_like_totp(code: str) -> bool:
    try:
        totp.clean_code(code)
    except InvalidCode:
        return False
    return True


def second_step(
    state: TwoFactorState, code_or_backup: str, backup_hashes: Sequence[str], now: datetime
) -> SecondStep:
    """Check the second factor at sign-in: a TOTP code (not one used before) or an unused backup code.

    For a backup code the caller marks `backup_hashes[backup_index]` used; for a TOTP code it
    stores the new `state` (its `last_step`).
    """
    if not state.enabled or state.secret is None:
        raise WrongState("two-factor authentication is off for this account; there is no second step")
    if _looks_like_totp(code_or_backup):
        step = totp.verify(state.secret, code_or_backup, state.last_step, now)
        return SecondStep(factor="totp", state=state.model_copy(update={"last_step": step}))
    if backup_codes.looks_like_backup_code(code_or_backup):
        index = backup_codes.match(code_or_backup, backup_hashes)
        if index is None:
            raise InvalidCode(
                "code: this backup code is wrong or was already used; each backup code works once"
            )
        return SecondStep(factor="backup_code", state=state, backup_index=index)
    raise InvalidCode(
        "code: enter the 6 digits your authenticator app shows, or a backup code like 7kq2-m9xd"
    )


def disable(
    state: TwoFactorState, code: str, now: datetime, backup_hashes: Sequence[str] = ()
) -> TwoFactorState:
    """Two-factor off, given a current code (or a backup code); the caller has checked the password.

    The caller also deletes the user's backup codes and revokes their trusted devices.
    """
    second_step(state, code, backup_hashes, now)
    return TwoFactorState()
