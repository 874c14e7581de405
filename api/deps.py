"""Dependencies routes declare: settings, the clock, the Temporal connection, the module
registry, the OIDC provider, a database session and the caller.

Every dependency is `async def`: FastAPI runs a plain `def` one in its thread pool, a thread hop
(about a millisecond on a busy two-core machine) for each, on every request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.oidc_provider import OidcProvider
from api.security import authenticate, unauthorized
from api.temporal import TemporalConnection, reachable_client
from core.auth.principal import Principal
from core.auth.scopes import ADMIN, DEFINITIONS_WRITE, INTERACTIONS_RESPOND, RUNS_READ, RUNS_START
from core.clock import Clock
from core.settings import Settings
from workflows.modules import Registry


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _connection(request: Request) -> TemporalConnection:
    connection: TemporalConnection = request.app.state.temporal
    return connection


async def get_temporal(request: Request) -> TemporalConnection:
    return _connection(request)


async def get_temporal_client(request: Request) -> Client:
    """The Temporal client; 503 when Temporal cannot be reached."""
    return await reachable_client(_connection(request))


async def get_registry(request: Request) -> Registry:
    """The modules definitions may use: the built-in ones and those of installed plugins."""
    registry: Registry = request.app.state.registry
    return registry


async def get_now(request: Request) -> datetime:
    """The time of this request, from the app's clock."""
    clock: Clock = request.app.state.clock
    return clock()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One database session per request; the route commits, anything uncommitted is rolled back."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session:
        yield session


async def get_oidc(request: Request) -> OidcProvider:
    """The OIDC provider; 404 naming the settings to set when OIDC sign-in is off."""
    provider: OidcProvider | None = request.app.state.oidc
    if provider is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "OIDC sign-in is not configured on this server: set STEPWISE_OIDC_ISSUER, "
            "STEPWISE_OIDC_CLIENT_ID, STEPWISE_OIDC_CLIENT_SECRET and STEPWISE_OIDC_REDIRECT_URI "
            "(see docs/oidc.md)",
        )
    return provider


SettingsDep = Annotated[Settings, Depends(get_settings)]
OidcDep = Annotated[OidcProvider, Depends(get_oidc)]
TemporalDep = Annotated[TemporalConnection, Depends(get_temporal)]
TemporalClient = Annotated[Client, Depends(get_temporal_client)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
NowDep = Annotated[datetime, Depends(get_now)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


# Declared so the OpenAPI docs offer both ways to authenticate; the headers are read by
# `authenticate`, which also tells a JWT from an API key sent as a bearer token.
_bearer = HTTPBearer(auto_error=False, description="An access token, or an API key (sw_...).")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (sw_...).")


async def get_optional_principal(
    request: Request,
    session: SessionDep,
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _key: Annotated[str | None, Depends(_api_key)],
) -> Principal | None:
    """The caller, or None for a request without credentials."""
    settings: Settings = request.app.state.settings
    return await authenticate(request, session, settings, await get_now(request))


def _present(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("sign in first: send `Authorization: Bearer <access token or API key>`")
    return principal


async def get_principal(principal: Annotated[Principal | None, Depends(get_optional_principal)]) -> Principal:
    """The caller; 401 when the request carries no credentials."""
    return _present(principal)


OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentUser = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only callers with one of `roles` (403 for others)."""

    async def dependency(caller: OptionalUser) -> Principal:
        principal = _present(caller)
        if principal.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the role {' or '.join(roles)}; yours is {principal.role}",
            )
        return principal

    return dependency


def require_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only callers holding `scope` (403 for others)."""

    async def dependency(caller: OptionalUser) -> Principal:
        principal = _present(caller)
        if scope not in principal.scopes:
            held = ", ".join(sorted(principal.scopes)) or "none"
            what = "this API key has the scopes" if principal.via == "api_key" else "your role allows"
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the scope {scope}; {what}: {held}")
        return principal

    return dependency


async def _signed_in(principal: CurrentUser) -> Principal:
    if principal.via != "token":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this needs a signed-in session (an access token), not an API key"
        )
    return principal


# The admin scope is granted only to admins (a key's scopes never exceed its user's role).
AdminUser = Annotated[Principal, Depends(require_scope(ADMIN))]
StaffUser = Annotated[Principal, Depends(require_role("admin", "operator"))]
SignedInUser = Annotated[Principal, Depends(_signed_in)]


def idempotency_key_header(meaning: str) -> Any:
    """An optional `Idempotency-Key` header; `meaning` says what the same key twice stands for."""
    return Header(alias="Idempotency-Key", min_length=1, max_length=200, description=meaning)


RunsReader = Annotated[Principal, Depends(require_scope(RUNS_READ))]
RunsStarter = Annotated[Principal, Depends(require_scope(RUNS_START))]
Respondent = Annotated[Principal, Depends(require_scope(INTERACTIONS_RESPOND))]
DefinitionsWriter = Annotated[Principal, Depends(require_scope(DEFINITIONS_WRITE))]
