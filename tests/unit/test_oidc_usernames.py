"""The username a new OIDC user gets, from what the provider shares."""

from __future__ import annotations

import pytest

from core.auth.oidc import OidcIdentity
from core.oidc_accounts import wanted_username


def identity(email: str | None, preferred: str | None = None) -> OidcIdentity:
    return OidcIdentity(
        issuer="https://id.example.com",
        subject="s-1",
        email=email,
        email_verified=True,
        name=None,
        preferred_username=preferred,
    )


@pytest.mark.parametrize(
    ("email", "preferred", "expected"),
    [
        ("ada@example.com", None, "ada"),
        ("ada@example.com", "lovelace", "lovelace"),
        ("grace+work@example.com", None, "grace-work"),
        ("x@example.com", "Ada Lovelace", "Ada-Lovelace"),
        ("x@example.com", "__ada", "ada"),
        ("x@example.com", "Zoë", "Zo-"),
        ("---@example.com", None, "user"),
    ],
)
def test_the_preferred_username_or_the_local_part_reduced_to_what_usernames_allow(
    email: str, preferred: str | None, expected: str
) -> None:
    assert wanted_username(identity(email, preferred)) == expected
