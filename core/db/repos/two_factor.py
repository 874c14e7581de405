"""A user's two-factor columns and backup codes (stored as hashes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.two_factor import TwoFactorState
from core.db.models import BackupCode, User


def two_factor_state(user: User) -> TwoFactorState:
    """The user's two-factor state, as the pure library reads it."""
    return TwoFactorState.from_columns(user.totp_secret, user.totp_enabled, user.totp_last_step)


async def save_two_factor_state(session: AsyncSession, user: User, state: TwoFactorState) -> None:
    """Store `state` in the user's `totp_*` columns."""
    user.totp_secret, user.totp_enabled, user.totp_last_step = state.columns()
    await session.flush()


async def claim_totp_step(session: AsyncSession, user_id: str, step: int) -> bool:
    """Record `step` as the user's last accepted TOTP step; False when that step (or a later one)
    was claimed meanwhile, so two concurrent sign-ins with one code cannot both succeed."""
    result = await session.execute(
        update(User)
        .where(
            User.id == user_id,
            User.totp_enabled.is_(True),
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def unused_backup_codes(session: AsyncSession, user_id: str) -> list[BackupCode]:
    """The user's backup codes not used yet."""
    query = select(BackupCode).where(BackupCode.user_id == user_id, BackupCode.used_at.is_(None))
    return list((await session.scalars(query.order_by(BackupCode.id))).all())


async def count_unused_backup_codes(session: AsyncSession, user_id: str) -> int:
    """How many backup codes the user has left."""
    query = select(func.count()).where(BackupCode.user_id == user_id, BackupCode.used_at.is_(None))
    return int(await session.scalar(query) or 0)


async def mark_backup_code_used(session: AsyncSession, code_id: str, now: datetime) -> bool:
    """Mark the code used; False when it already was meanwhile (each code works once)."""
    result = await session.execute(
        update(BackupCode)
        .where(BackupCode.id == code_id, BackupCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def delete_backup_codes(session: AsyncSession, user_id: str) -> None:
    """Drop every backup code of the user, used or not."""
    await session.execute(
        delete(BackupCode).where(BackupCode.user_id == user_id).execution_options(synchronize_session=False)
    )


async def replace_backup_codes(session: AsyncSession, user_id: str, hashes: Sequence[str]) -> None:
    """Store a new set of backup-code hashes; the earlier set stops working."""
    await delete_backup_codes(session, user_id)
    session.add_all(BackupCode(user_id=user_id, code_hash=code_hash) for code_hash in hashes)
    await session.flush()
