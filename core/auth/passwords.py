"""Password hashes (argon2id through pwdlib)."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash` (False for a malformed hash)."""
    try:
        return _hasher().verify(password, password_hash)
    except UnknownHashError:
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's; rehash at the next login."""
    hasher = _hasher().hashers[0]
    return hasher.check_needs_rehash(password_hash)


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so an unknown username answers as slowly as a wrong
    password."""
    verify_password(password, _dummy_hash())


@cache
def _dummy_hash() -> str:
    return hash_password("not a real password")


def password_problem(password: str) -> str | None:
    """Why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    return None
