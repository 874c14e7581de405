"""The pending OIDC login a browser carries from the redirect to the callback: a short-lived JWT
(HS256 with the server's secret key), so the server keeps no state between the two."""

from __future__ import annotations

from datetime import datetime

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from pydantic import SecretStr, ValidationError

from core.auth.oidc import OidcError, PendingLogin
from core.auth.tokens import ALGORITHM, signing_key

PENDING = "oidc_pending"
# Long enough to sign in at the provider (a password, a second factor), short enough to go stale.
PENDING_TTL_S = 600


def seal_pending(pending: PendingLogin, secret: SecretStr, now: datetime, ttl_s: int = PENDING_TTL_S) -> str:
    """The pending login as a signed token that expires `ttl_s` seconds after `now`."""
    iat = int(now.timestamp())
    claims = {"typ": PENDING, "iat": iat, "exp": iat + ttl_s, **pending.model_dump()}
    return jwt.encode({"alg": ALGORITHM}, claims, signing_key(secret), algorithms=[ALGORITHM])


def open_pending(token: str, secret: SecretStr, now: datetime) -> PendingLogin:
    """The pending login of a valid, unexpired token; `OidcError` saying why not otherwise."""
    try:
        decoded = jwt.decode(token, signing_key(secret), algorithms=[ALGORITHM])
        jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            exp={"essential": True},
            typ={"essential": True, "value": PENDING},
        ).validate(decoded.claims)
        return PendingLogin.model_validate(decoded.claims)
    except ExpiredTokenError:
        raise OidcError(
            f"this sign-in was started more than {PENDING_TTL_S // 60} minutes ago: start the login again"
        ) from None
    except (JoseError, ValueError, ValidationError):
        raise OidcError(
            "the sign-in cookie is not valid (altered, or signed by another server): start the login again"
        ) from None
