"""Single-use backup codes: for signing in when the authenticator app is lost."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher

COUNT = 10
# Crockford's base32: no i, l, o or u, so nothing reads as another character; 5 bits each.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LENGTH = 8  # 40 bits
GROUP = 4  # shown as xxxx-xxxx
# What people type for a character that is not in the alphabet but looks like one that is.
_LOOKALIKES = str.maketrans({"o": "0", "i": "1", "l": "1"})


@dataclass(frozen=True)
class BackupCodes:
    """Codes to show the user once, and their hashes (same order) for the caller to store."""

    codes: list[str]
    hashes: list[str]


@functools.cache
def _hasher() -> PasswordHash:
    # Argon2id, not a fast hash as for API keys: 40 bits can be brute-forced from a leaked sha256
    # in hours, not from a memory-hard hash. OWASP's minimum (19 MiB, 2 passes, 1 lane) keeps
    # checking all ten codes of a user under half a second. Built on first use, not at import.
    return PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),))


def generate(count: int = COUNT) -> list[str]:
    """`count` fresh random codes, like `7kq2-m9xd`."""
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(count)]
    return [f"{code[:GROUP]}-{code[GROUP:]}" for code in codes]


def normalise(code: str) -> str:
    """The canonical form of a typed code: lower case, no spaces or dashes, look-alikes mapped."""
    return "".join(code.split()).replace("-", "").lower().translate(_LOOKALIKES)


def looks_like_backup_code(code: str) -> bool:
    """Whether `code` has the shape of a backup code (right length and alphabet)."""
    canonical = normalise(code)
    return len(canonical) == LENGTH and all(c in ALPHABET for c in canonical)


def hash_code(code: str) -> str:
    """The Argon2id hash of a code (salted: the same code twice hashes differently)."""
    return _hasher().hash(normalise(code))


def new_backup_codes(count: int = COUNT) -> BackupCodes:
    """Fresh codes and their hashes; storing them replaces any earlier set."""
    codes = generate(count)
    return BackupCodes(codes=codes, hashes=[hash_code(code) for code in codes])


def match(code: str, hashes: Sequence[str]) -> int | None:
    """The index in `hashes` (the user's unused codes) of the one `code` is, or None.

    The caller marks that code used: each works once.
    """
    if not looks_like_backup_code(code):
        return None
    canonical = normalise(code)
    for index, stored in enumerate(hashes):
        try:
            if _hasher().verify(canonical, stored):
                return index
        except UnknownHashError as error:
            raise ValueError(f"hashes[{index}] is not an Argon2 hash made by hash_code") from error
    return None
