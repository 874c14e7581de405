"""Links between a provider's identities (issuer, subject) and users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import OidcIdentity, User


async def find_linked_user(session: AsyncSession, issuer: str, subject: str) -> User | None:
    """The user this provider identity is linked to, or None."""
    return await session.scalar(
        select(User)
        .join(OidcIdentity, OidcIdentity.user_id == User.id)
        .where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    )


async def link_identity(session: AsyncSession, issuer: str, subject: str, user_id: str) -> None:
    """Record that this provider identity signs in as the user."""
    session.add(OidcIdentity(issuer=issuer, subject=subject, user_id=user_id))
    await session.flush()
