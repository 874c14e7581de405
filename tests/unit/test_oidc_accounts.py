"""Which user an OIDC identity signs in as: its link, a verified email, or a new member."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from core.auth.oidc import AccountMatch, LinkOutcome, OidcError, OidcIdentity, match_or_create

ISSUER = "https://id.example"


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str = "member"


@dataclass
class Directory:
    """Users and their (issuer, subject) links, as the repository functions would see them."""

    users: list[User] = field(default_factory=list)
    links: dict[tuple[str, str], int] = field(default_factory=dict)

    async def find_by_identity(self, issuer: str, subject: str) -> User | None:
        user_id = self.links.get((issuer, subject))
        return next((u for u in self.users if u.id == user_id), None)

    async def find_by_email(self, email: str) -> User | None:
        return next((u for u in self.users if u.email == email), None)

    async def create(self, identity: OidcIdentity) -> User:
        assert identity.email is not None
        user = User(id=len(self.users) + 1, email=identity.email)
        self.users.append(user)
        return user

    async def match(self, identity: OidcIdentity) -> AccountMatch[User]:
        return await match_or_create(identity, self.find_by_identity, self.find_by_email, self.create)


def identity(
    email: str | None = "ada@example.com", verified: bool = True, subject: str = "s-1"
) -> OidcIdentity:
    return OidcIdentity(issuer=ISSUER, subject=subject, email=email, email_verified=verified, name="Ada")


async def test_an_existing_link_wins_over_the_email() -> None:
    linked, same_email = User(1, "old@example.com"), User(2, "ada@example.com")
    directory = Directory([linked, same_email], {(ISSUER, "s-1"): 1})

    match = await directory.match(identity(verified=False))

    assert match.user == linked
    assert match.outcome is LinkOutcome.LINKED_BEFORE
    assert not match.needs_link


async def test_a_verified_email_links_the_existing_user() -> None:
    ada = User(7, "ada@example.com", role="admin")
    directory = Directory([ada])

    match = await directory.match(identity(verified=True))

    assert match.user == ada
    assert match.outcome is LinkOutcome.LINKED_BY_EMAIL
    assert match.needs_link
    assert len(directory.users) == 1


async def test_an_unverified_email_never_links_an_existing_user() -> None:
    directory = Directory([User(7, "ada@example.com", role="admin")])

    with pytest.raises(
        OidcError, match="has not verified that this address is yours: verify it at the provider"
    ):
        await directory.match(identity(verified=False))

    assert len(directory.users) == 1


async def test_a_new_identity_becomes_a_new_member() -> None:
    directory = Directory([User(1, "someone@example.com")])

    match = await directory.match(identity(email="new@example.com", verified=False, subject="s-9"))

    assert match.outcome is LinkOutcome.CREATED
    assert match.needs_link
    assert match.user == User(2, "new@example.com", role="member")


async def test_an_identity_without_email_and_link_is_refused() -> None:
    with pytest.raises(OidcError, match="allow the 'email' scope"):
        await Directory().match(identity(email=None))
