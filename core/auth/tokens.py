"""Signed tokens (JWT, HS256, joserfc): short-lived access tokens and 2FA challenges; opaque
refresh tokens and their hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey
from pydantic import SecretStr

ALGORITHM = "HS256"
ACCESS = "access"
CHALLENGE = "2fa"
CHALLENGE_TTL_S = 300


class TokenError(Exception):
    """A token that is not accepted; the message says why (expired, bad signature, wrong kind)."""


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says about its bearer."""

    sub: str
    role: str
    groups: list[str]
    jti: str
    iat: int
    exp: int


def signing_key(secret: SecretStr) -> OctKey:
    """The HMAC key made of the server's secret key (for HS256 tokens of any kind)."""
    # The length of the secret is checked by Settings; joserfc's warning would repeat it per call.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OctKey.import_key(secret.get_secret_value())


def _encode(typ: str, sub: str, secret: SecretStr, now: datetime, ttl_s: int, **extra: Any) -> str:
    iat = int(now.timestamp())
    claims = {"sub": sub, "typ": typ, "iat": iat, "exp": iat + ttl_s, "jti": uuid.uuid4().hex, **extra}
    return jwt.encode({"alg": ALGORITHM}, claims, signing_key(secret), algorithms=[ALGORITHM])


def _decode(token: str, typ: str, secret: SecretStr, now: datetime) -> dict[str, Any]:
    what = "access token" if typ == ACCESS else "2FA challenge"
    try:
        decoded = jwt.decode(token, signing_key(secret), algorithms=[ALGORITHM])
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            sub={"essential": True},
            exp={"essential": True},
            typ={"essential": True, "value": typ},
        )
        registry.validate(decoded.claims)
    except ExpiredTokenError:
        raise TokenError(f"the {what} has expired") from None
    except (JoseError, ValueError):
        raise TokenError(f"the {what} is not valid") from None
    return decoded.claims


def encode_access(
    user_id: str, role: str, groups: list[str], secret: SecretStr, now: datetime, ttl_s: int
) -> str:
    """An access token for the user, valid for `ttl_s` seconds from `now`."""
    return _encode(ACCESS, user_id, secret, now, ttl_s, role=role, groups=groups)


def decode_access(token: str, secret: SecretStr, now: datetime) -> AccessClaims:
    """The claims of a valid, unexpired access token; `TokenError` otherwise."""
    claims = _decode(token, ACCESS, secret, now)
    try:
        return AccessClaims(
            sub=str(claims["sub"]),
            role=str(claims["role"]),
            groups=[str(g) for g in claims["groups"]],
            jti=str(claims["jti"]),
            iat=int(claims["iat"]),
            exp=int(claims["exp"]),
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("the access token is not valid") from None


def encode_challenge(user_id: str, secret: SecretStr, now: datetime, ttl_s: int = CHALLENGE_TTL_S) -> str:
    """A short-lived token saying the user passed the first factor; the 2FA step redeems it."""
    return _encode(CHALLENGE, user_id, secret, now, ttl_s)


def decode_challenge(token: str, secret: SecretStr, now: datetime) -> str:
    """The user id of a valid, unexpired 2FA challenge; `TokenError` otherwise."""
    return str(_decode(token, CHALLENGE, secret, now)["sub"])


def new_refresh_token() -> str:
    """A new opaque refresh token (256 bits)."""
    return secrets.token_urlsafe(32)


def sha256_hex(value: str) -> str:
    """The hex SHA-256 of `value`: how refresh tokens and API keys are stored."""
    return hashlib.sha256(value.encode()).hexdigest()
