"""Who is calling: an access token (`Authorization: Bearer <jwt>`) or an API key
(`Authorization: Bearer sw_...` or `X-API-Key`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.principal_cache import Cached, PrincipalCache, VerifiedTokens
from core.auth.api_keys import key_matches, key_prefix, looks_like_key
from core.auth.principal import Principal
from core.auth.scopes import role_scopes
from core.auth.tokens import AccessClaims, TokenError, decode_access, sha256_hex
from core.db.repos.api_keys import keys_with_prefix
from core.db.repos.users import get_user
from core.settings import Settings

# `last_used_at` is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client how to authenticate."""
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def _credentials(request: Request) -> tuple[str | None, str | None]:
    """(access token, API key) from the request headers; at most one is set."""
    api_key = request.headers.get("x-api-key")
    header = request.headers.get("authorization")
    if header is None:
        return None, api_key
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise unauthorized("the Authorization header must be `Bearer <access token or API key>`")
    if looks_like_key(value):
        return None, value
    return value, api_key


async def authenticate(
    request: Request, session: AsyncSession, settings: Settings, now: datetime
) -> Principal | None:
    """The caller, or None when the request carries no credentials; 401 for bad ones."""
    token, api_key = _credentials(request)
    cache: PrincipalCache = request.app.state.principals
    if token is not None:
        claims = _verified(token, settings, now, request.app.state.verified_tokens)
        return await _from_claims(claims, session, cache)
    if api_key is not None:
        return await _from_key(api_key, session, now, cache)
    return None


def _verified(token: str, settings: Settings, now: datetime, tokens: VerifiedTokens) -> AccessClaims:
    """The claims of a valid, unexpired access token (checked once per token); 401 otherwise."""
    claims = tokens.get(token, now)
    if claims is None:
        try:
            claims = decode_access(token, settings.secret_key, now)
        except TokenError as exc:
            raise unauthorized(f"{exc}; sign in again or refresh at POST /api/v1/auth/refresh") from None
        tokens.put(token, claims)
    return claims


async def _from_claims(claims: AccessClaims, session: AsyncSession, cache: PrincipalCache) -> Principal:
    cached = cache.get(("user", claims.sub))
    if cached is not None:
        return cached.principal
    user = await get_user(session, claims.sub)
    if user is None or not user.is_active:
        raise unauthorized("this account is disabled")
    # Role and groups come from the database (or the cache of it), not from the token, so a
    # change takes effect before the token expires.
    principal = Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        groups=user.group_names,
        scopes=role_scopes(user.role),
        via="token",
    )
    cache.put(("user", user.id), principal)
    return principal


async def _from_key(api_key: str, session: AsyncSession, now: datetime, cache: PrincipalCache) -> Principal:
    prefix = key_prefix(api_key)
    if prefix is None:
        raise unauthorized("malformed API key: expected sw_<8 characters>_<secret>")
    digest = sha256_hex(api_key)
    cached = cache.get(("key", digest))
    if cached is not None and _still_good(cached, now):
        return cached.principal
    key = next((k for k in await keys_with_prefix(session, prefix) if key_matches(api_key, k.key_hash)), None)
    if key is None:
        raise unauthorized("unknown API key")
    if key.revoked_at is not None:
        raise unauthorized(f"the API key {key.prefix} was revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise unauthorized(f"the API key {key.prefix} has expired")
    user = await get_user(session, key.user_id)
    if user is None or not user.is_active:
        raise unauthorized("the account of this API key is disabled")
    principal = Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        groups=user.group_names,
        # Never more than the role allows today, whatever the key was created with.
        scopes=frozenset(key.scopes) & role_scopes(user.role),
        via="api_key",
        api_key_id=key.id,
    )
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
        await session.commit()
    cache.put(("key", digest), principal, expires_at=key.expires_at, last_used_at=key.last_used_at)
    return principal


def _still_good(cached: Cached, now: datetime) -> bool:
    """A cached key that has not expired since, and whose `last_used_at` is not due again."""
    if cached.expires_at is not None and cached.expires_at <= now:
        return False
    return cached.last_used_at is not None and now - cached.last_used_at < LAST_USED_RESOLUTION
