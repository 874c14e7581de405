"""GET /auth/oidc, /auth/oidc/login and /auth/oidc/callback: signing in with an OIDC provider."""

from __future__ import annotations

from typing import Annotated, NoReturn

from fastapi import APIRouter, Cookie, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse

from api.audit_log import audit
from api.deps import NowDep, OidcDep, SessionDep, SettingsDep
from api.login import issue_session
from api.responses import errors
from api.schemas.auth import TokenPairPublic
from api.schemas.oidc import OidcStatus
from core.accounts import Actor
from core.auth.oidc import OidcError, ProviderUnreachable, begin_login, complete_login
from core.auth.oidc_pending import PENDING_TTL_S, open_pending, seal_pending
from core.oidc_accounts import AccountDisabled, sign_in_identity

router = APIRouter(prefix="/auth/oidc", tags=["auth"])
COOKIE = "stepwise_oidc"


@router.get("", response_model=OidcStatus)
async def oidc_status(request: Request) -> OidcStatus:
    """Whether OIDC sign-in is on, and where it starts (so a UI can show the button)."""
    enabled = request.app.state.oidc is not None
    return OidcStatus(enabled=enabled, login_url=request.url_for("oidc_login").path if enabled else None)


@router.get(
    "/login",
    name="oidc_login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=errors(404, 502),
)
async def oidc_login(request: Request, oidc: OidcDep, settings: SettingsDep, now: NowDep) -> RedirectResponse:
    """Send the browser to the provider, keeping the login's secrets in a signed cookie."""
    try:
        metadata = await oidc.metadata()
    except OidcError as exc:
        # The provider's fault or the settings', never the user's.
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from None
    login = begin_login(oidc.config, metadata)
    response = RedirectResponse(login.url, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        COOKIE,
        seal_pending(login.pending, settings.secret_key, now),
        max_age=PENDING_TTL_S,
        # Sent back only to the callback; Lax still sends it on the provider's top-level redirect.
        path=_callback_path(request),
        secure=oidc.config.redirect_uri.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(
    "/callback", name="oidc_callback", response_model=TokenPairPublic, responses=errors(400, 403, 404, 502)
)
async def oidc_callback(
    request: Request,
    response: Response,
    oidc: OidcDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    pending_cookie: Annotated[str | None, Cookie(alias=COOKIE)] = None,
) -> TokenPairPublic:
    """Where the provider sends the browser back: check the login, find or create the user, and
    answer with a token pair."""

    async def refuse(
        code: int, message: str, actor_id: str | None = None, target: str | None = None
    ) -> NoReturn:
        # Nothing of the failed login is kept but its audit event.
        await session.rollback()
        await audit(
            session,
            request,
            "login_failed",
            now,
            actor_id=actor_id,
            target=target,
            detail={"method": "oidc", "reason": message},
        )
        await session.commit()
        raise HTTPException(code, message, headers=_cookie_clearing(request))

    if pending_cookie is None:
        await refuse(
            status.HTTP_400_BAD_REQUEST,
            f"no OIDC sign-in is in progress in this browser (its cookie is missing or older than "
            f"{PENDING_TTL_S // 60} minutes): start again at {request.url_for('oidc_login').path}",
        )
    try:
        pending = open_pending(pending_cookie, settings.secret_key, now)
    except OidcError as exc:
        await refuse(status.HTTP_400_BAD_REQUEST, str(exc))
    try:
        metadata = await oidc.metadata()
    except OidcError as exc:
        await refuse(status.HTTP_502_BAD_GATEWAY, str(exc))
    try:
        identity = await complete_login(
            oidc.config, metadata, pending, dict(request.query_params), oidc.http, now
        )
    except ProviderUnreachable as exc:
        await refuse(status.HTTP_502_BAD_GATEWAY, str(exc))
    except OidcError as exc:
        await refuse(status.HTTP_400_BAD_REQUEST, str(exc))
    who = identity.email or identity.subject
    try:
        match = await sign_in_identity(session, identity, Actor(None, _client_ip(request)), now)
    except AccountDisabled as exc:
        await refuse(status.HTTP_403_FORBIDDEN, str(exc), actor_id=exc.user_id, target=who)
    except OidcError as exc:
        await refuse(status.HTTP_400_BAD_REQUEST, str(exc), target=who)
    pair = await issue_session(
        session, match.user, request, now, method="oidc", detail={"outcome": match.outcome.value}
    )
    await session.commit()
    response.delete_cookie(COOKIE, path=_callback_path(request), httponly=True, samesite="lax")
    return pair


def _callback_path(request: Request) -> str:
    return request.url_for("oidc_callback").path


def _cookie_clearing(request: Request) -> dict[str, str]:
    """The header that removes the pending-login cookie (a login's secrets are good once)."""
    carrier = Response()
    carrier.delete_cookie(COOKIE, path=_callback_path(request), httponly=True, samesite="lax")
    return {"set-cookie": carrier.headers["set-cookie"]}


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
