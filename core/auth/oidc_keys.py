"""An OIDC provider's signing keys (its JWKS) and the check of the ID tokens it signs."""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import Key, KeySet

# Clocks of two machines disagree a little; a minute is what providers' own libraries allow.
CLOCK_LEEWAY_S = 60
# Asymmetric algorithms only: "none" proves nothing, and HS* would make the client secret a signing key.
ACCEPTED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class OidcError(Exception):
    """A login that cannot go on; the message says what failed and what to do."""


class ProviderUnreachable(OidcError):
    """The provider did not answer at all (connection refused, timeout): not the user's doing."""


async def fetch_json(http: httpx.AsyncClient, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    """GET a JSON object from the provider, or an OidcError naming `what` and `url`."""
    try:
        response = await http.get(url, **kwargs)
    except httpx.HTTPError as exc:
        raise ProviderUnreachable(
            f"cannot reach the provider's {what} at {url}: {str(exc) or type(exc).__name__}"
        ) from exc
    if response.status_code != 200:
        raise OidcError(f"the provider's {what} at {url} answered HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError as exc:
        raise OidcError(f"the provider's {what} at {url} is not JSON") from exc
    if not isinstance(document, dict):
        raise OidcError(f"the provider's {what} at {url} is not a JSON object")
    return document


class SigningKeys:
    """The provider's JWKS: fetched on first use, kept, and fetched again once when a token
    names a key it does not hold (the provider rotated its keys)."""

    def __init__(self, jwks_uri: str) -> None:
        self.jwks_uri = jwks_uri
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    async def _fetch(self, http: httpx.AsyncClient) -> KeySet:
        document = await fetch_json(http, self.jwks_uri, "JWKS")
        try:
            return KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError) as exc:
            raise OidcError(f"the provider's JWKS at {self.jwks_uri} cannot be read: {exc}") from exc

    async def key(self, kid: str | None, http: httpx.AsyncClient) -> Key:
        """The key named `kid` (or the only key, when the token names none)."""
        async with self._lock:
            fetched = False
            if self._keys is None:
                self._keys, fetched = await self._fetch(http), True
            found = _find(self._keys, kid)
            if found is None and not fetched:
                self._keys = await self._fetch(http)
                found = _find(self._keys, kid)
        if found is None:
            raise OidcError(
                f"the ID token is signed with key {kid!r}, which the provider's JWKS at {self.jwks_uri} "
                "does not hold: start the login again; if it keeps failing, the provider's keys are "
                "misconfigured"
            )
        return found


def _find(keys: KeySet, kid: str | None) -> Key | None:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    return next((key for key in keys.keys if key.kid == kid), None)


async def verify_id_token(
    id_token: str,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: list[str],
    keys: SigningKeys,
    http: httpx.AsyncClient,
    now: datetime,
) -> dict[str, Any]:
    """The claims of an ID token whose signature, issuer, audience, times and nonce all check out."""
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError) as exc:
        raise OidcError(f"the ID token is not a signed JWT: {exc}") from exc
    alg = header.get("alg")
    accepted = [a for a in ACCEPTED_ALGORITHMS if a in algorithms]
    if alg not in accepted:
        raise OidcError(
            f"the ID token is signed with {alg!r}, not with one of {', '.join(accepted) or '(none)'} "
            "(the asymmetric algorithms the provider advertises): have the provider sign ID tokens with RS256"
        )
    kid = header.get("kid")
    key = await keys.key(kid if isinstance(kid, str) else None, http)
    try:
        claims = jwt.decode(id_token, key, algorithms=[alg]).claims
    except BadSignatureError as exc:
        raise OidcError(
            "the ID token's signature does not verify against the provider's keys: it was altered "
            "on the way, or it does not come from this provider; start the login again"
        ) from exc
    except JoseError as exc:
        raise OidcError(f"the ID token cannot be read: {exc}") from exc
    _check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, now=now)
    return claims


def _check_claims(claims: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: datetime) -> None:
    if claims.get("iss") != issuer:
        raise OidcError(f"the ID token was issued by {claims.get('iss')!r}, not by {issuer!r}")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if client_id not in audiences:
        raise OidcError(
            f"the ID token is meant for {audience!r}, not for this client ({client_id!r}): "
            "check STEPWISE_OIDC_CLIENT_ID"
        )
    # With several audiences, the authorized party must be us (OIDC Core 3.1.3.7, steps 4 and 5).
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise OidcError(
            f"the ID token was issued to {claims.get('azp')!r}, not to this client ({client_id!r})"
        )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise OidcError("the ID token names no subject ('sub')")
    current = now.timestamp()
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int | float) or not isinstance(issued, int | float):
        raise OidcError("the ID token lacks its expiry ('exp') or its issue time ('iat')")
    if current > expires + CLOCK_LEEWAY_S:
        raise OidcError(
            f"the ID token expired at {_iso(expires)} (it is now {_iso(current)}): start the login again; "
            "if it keeps failing, check this server's clock"
        )
    if issued > current + CLOCK_LEEWAY_S:
        raise OidcError(
            f"the ID token claims to be issued at {_iso(issued)}, after now ({_iso(current)}): "
            "check this server's clock"
        )
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise OidcError("nonce does not match: the ID token belongs to another login; start the login again")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
