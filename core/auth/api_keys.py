"""API keys: `sw_<prefix>_<secret>`, 256 random bits, stored as a SHA-256 hash beside the
visible prefix (keys are checked on every request, so no slow password hash)."""

from __future__ import annotations

import hmac
import secrets
import string
from dataclasses import dataclass

from core.auth.tokens import sha256_hex

KEY_MARK = "sw_"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: shown once, then only its prefix and hash are kept."""

    key: str
    prefix: str
    key_hash: str


def generate_key() -> NewKey:
    """A new random key with its visible prefix and hash."""
    prefix = KEY_MARK + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key=key, prefix=prefix, key_hash=sha256_hex(key))


def looks_like_key(value: str) -> bool:
    """Whether `value` has the shape of an API key (as opposed to a JWT)."""
    return value.startswith(KEY_MARK)


def key_prefix(key: str) -> str | None:
    """The visible prefix of a well-formed key, or None."""
    prefix, sep, secret = key.partition("_")[2].partition("_")
    if not sep or not secret or len(prefix) != PREFIX_LENGTH:
        return None
    return KEY_MARK + prefix


def key_matches(key: str, key_hash: str) -> bool:
    """Whether `key` hashes to `key_hash`, compared in constant time."""
    return hmac.compare_digest(sha256_hex(key), key_hash)
