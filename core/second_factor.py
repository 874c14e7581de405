"""Checking a second factor against the database: a TOTP code or a backup code, each used once.

The pure library (`core.auth.two_factor`) decides whether a code is right; this module makes
the use stick with conditional updates, so two concurrent requests with one code cannot both
pass, and holds off guessing after too many wrong codes. The caller commits.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.totp import CodeReused, InvalidCode
from core.auth.two_factor import second_step
from core.db.models import User
from core.db.repos.audit import recent_times
from core.db.repos.two_factor import (
    claim_totp_step,
    mark_backup_code_used,
    two_factor_state,
    unused_backup_codes,
)

Factor = Literal["totp", "backup_code"]
FAILED = "login.second_factor_failed"
# Ten wrong codes per quarter hour: guessing one of the three codes valid at a time out of a
# million would take centuries, while a user who mistypes a few times is not held up.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)


async def seconds_until_allowed(session: AsyncSession, user_id: str, now: datetime) -> int:
    """0 when the user may try a second step now; else the seconds until the oldest of the last
    `MAX_FAILURES` failures (the audit log's `login.second_factor_failed`) leaves the window."""
    failures = await recent_times(session, FAILED, user_id, now - FAILURE_WINDOW, MAX_FAILURES)
    if len(failures) < MAX_FAILURES:
        return 0
    return max(1, math.ceil((failures[-1] + FAILURE_WINDOW - now).total_seconds()))


async def redeem_second_factor(session: AsyncSession, user: User, code: str, now: datetime) -> Factor:
    """Accept `code` (TOTP or backup) for the user once and say which it was.

    Raises `InvalidCode`, `CodeReused` or `WrongState` (2FA off), all `TwoFactorError`.
    """
    unused = await unused_backup_codes(session, user.id)
    passed = second_step(two_factor_state(user), code, [c.code_hash for c in unused], now)
    if passed.factor == "totp":
        assert passed.state.last_step is not None
        if not await claim_totp_step(session, user.id, passed.state.last_step):
            raise CodeReused(
                "code: this code was already used; wait for the next one in your authenticator app"
            )
        return "totp"
    assert passed.backup_index is not None
    if not await mark_backup_code_used(session, unused[passed.backup_index].id, now):
        raise InvalidCode("code: this backup code was already used; each backup code works once")
    return "backup_code"
