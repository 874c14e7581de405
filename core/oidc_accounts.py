"""Which user an OIDC identity signs in as, in the application database: linked before, linked
now by verified email, or a new member."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import Actor, register_user
from core.auth.oidc import AccountMatch, LinkOutcome, OidcIdentity, match_or_create
from core.db.models import User
from core.db.repos.audit import record
from core.db.repos.oidc_identities import find_linked_user, link_identity
from core.db.repos.users import free_username, get_by_email

# What a username may hold (api/schemas/users.py `Name`); anything else becomes a dash.
_NOT_IN_USERNAME = re.compile(r"[^A-Za-z0-9._@-]+")
FALLBACK_USERNAME = "user"


class AccountDisabled(Exception):
    """The identity belongs to a user an admin has disabled."""

    def __init__(self, user: User) -> None:
        super().__init__(f"the account {user.username} is disabled: an admin can enable it again")
        self.user_id = user.id


def wanted_username(identity: OidcIdentity) -> str:
    """A username for a new user: the provider's preferred username, else the email's local part,
    reduced to the characters usernames allow."""
    raw = identity.preferred_username or (identity.email or "").split("@", 1)[0]
    cleaned = _NOT_IN_USERNAME.sub("-", raw)
    # A username starts with a letter or a digit.
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)
    return cleaned or FALLBACK_USERNAME


async def sign_in_identity(
    session: AsyncSession, identity: OidcIdentity, actor: Actor, now: datetime
) -> AccountMatch[User]:
    """The active user the identity signs in as, linked (and audited as `oidc.link`) when new;
    the caller commits. Raises `OidcError` (an unverified email of an existing user, no email)
    and `AccountDisabled`."""

    async def by_identity(issuer: str, subject: str) -> User | None:
        return await find_linked_user(session, issuer, subject)

    async def by_email(email: str) -> User | None:
        return await get_by_email(session, email)

    async def create(new: OidcIdentity) -> User:
        username = await free_username(session, wanted_username(new))
        user = await register_user(session, username, None, actor, now, "member", new.email)
        user.email_verified = new.email_verified
        return user

    match = await match_or_create(identity, by_identity, by_email, create)
    if not match.user.is_active:
        raise AccountDisabled(match.user)
    if match.needs_link:
        await link_identity(session, identity.issuer, identity.subject, match.user.id)
        await record(
            session,
            "oidc.link",
            now,
            actor_id=match.user.id,
            target=match.user.id,
            detail={
                "issuer": identity.issuer,
                "subject": identity.subject,
                "by": "email" if match.outcome is LinkOutcome.LINKED_BY_EMAIL else "new user",
            },
            ip=actor.ip,
        )
    return match
