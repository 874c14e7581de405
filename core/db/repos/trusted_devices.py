"""Trusted devices: browsers that skip the second step until they expire or are revoked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth.devices import TrustedDeviceRecord
from core.db.models import TrustedDevice


async def add_trusted_device(session: AsyncSession, record: TrustedDeviceRecord) -> TrustedDevice:
    """Store a newly trusted device (its token only as a hash)."""
    device = TrustedDevice(
        user_id=str(record.user_id),
        token_hash=record.token_hash,
        name=record.name,
        created_at=record.created_at,
        expires_at=record.expires_at,
    )
    session.add(device)
    await session.flush()
    return device


def device_record(device: TrustedDevice) -> TrustedDeviceRecord:
    """The stored row as the pure library reads it."""
    return TrustedDeviceRecord.model_validate(device, from_attributes=True)


async def find_trusted_device(session: AsyncSession, token_hash: str) -> TrustedDevice | None:
    """The device whose cookie token has this hash, or None."""
    return await session.scalar(select(TrustedDevice).where(TrustedDevice.token_hash == token_hash))


async def get_trusted_device(session: AsyncSession, device_id: str) -> TrustedDevice | None:
    """The device with this id, or None."""
    return await session.get(TrustedDevice, device_id)


async def list_trusted_devices(session: AsyncSession, user_id: str) -> list[TrustedDevice]:
    """The user's devices, newest first (expired and revoked ones too)."""
    query = select(TrustedDevice).where(TrustedDevice.user_id == user_id)
    return list((await session.scalars(query.order_by(TrustedDevice.created_at.desc()))).all())


async def count_valid_devices(session: AsyncSession, user_id: str, now: datetime) -> int:
    """How many of the user's devices still skip the second step."""
    query = select(func.count()).where(
        TrustedDevice.user_id == user_id, TrustedDevice.revoked_at.is_(None), TrustedDevice.expires_at > now
    )
    return int(await session.scalar(query) or 0)


async def revoke_user_devices(session: AsyncSession, user_id: str, now: datetime) -> None:
    """Revoke every device of the user not revoked yet."""
    await session.execute(
        update(TrustedDevice)
        .where(TrustedDevice.user_id == user_id, TrustedDevice.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
