"""POST /auth/login, /auth/refresh, /auth/logout."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.audit_log import audit
from api.deps import NowDep, OptionalUser, SessionDep, SettingsDep
from api.login import after_first_factor
from api.responses import errors
from api.schemas.auth import LoginRequest, LogoutRequest, RefreshRequest, TokenPairPublic, TwoFactorRequired
from api.security import unauthorized
from core.auth.passwords import dummy_verify, hash_password, needs_rehash, verify_password
from core.auth.sessions import RefreshRefused, end_all_sessions, end_session, refresh_session
from core.db.repos.users import get_by_username

router = APIRouter(prefix="/auth", tags=["auth"])
WRONG_CREDENTIALS = "wrong username or password"


@router.post("/login", response_model=TokenPairPublic | TwoFactorRequired, responses=errors(401))
async def login(
    body: LoginRequest, request: Request, session: SessionDep, now: NowDep
) -> TokenPairPublic | TwoFactorRequired:
    """Sign in with a username and password: a token pair, or a 2FA challenge."""
    user = await get_by_username(session, body.username)
    if user is None or user.password_hash is None:
        # As slow as a wrong password, so timing does not tell which usernames exist.
        dummy_verify(body.password)
        verified = False
    else:
        verified = verify_password(body.password, user.password_hash)
    if user is None or not verified or not user.is_active:
        reason = "disabled" if verified else "wrong credentials"
        await audit(
            session,
            request,
            "login_failed",
            now,
            actor_id=user.id if user else None,
            target=body.username,
            detail={"reason": reason},
        )
        await session.commit()
        # Only someone who knows the password learns that the account is disabled.
        raise unauthorized("this account is disabled" if verified else WRONG_CREDENTIALS)
    assert user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(body.password)
    answer = await after_first_factor(session, user, request, now)
    await session.commit()
    return answer


@router.post("/refresh", response_model=TokenPairPublic, responses=errors(401))
async def refresh(
    body: RefreshRequest, request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> TokenPairPublic:
    """Trade a refresh token for a new pair; the old token stops working."""
    try:
        pair = await refresh_session(session, body.refresh_token, settings, now)
    except RefreshRefused as exc:
        if exc.reused:
            await audit(
                session, request, "refresh.reuse", now, actor_id=exc.user_id, detail={"family_revoked": True}
            )
            await session.commit()
            raise unauthorized(
                f"{exc}: every session from that sign-in is now revoked; sign in again"
            ) from None
        raise unauthorized(f"{exc}; sign in again") from None
    await session.commit()
    return TokenPairPublic(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    body: LogoutRequest, request: Request, session: SessionDep, principal: OptionalUser, now: NowDep
) -> Response:
    """Revoke the session of the refresh token given; with `all`, every session of the user."""
    if body.refresh_token is None and not (body.all and principal):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            'give the refresh_token to revoke, or send {"all": true} with your access token',
        )
    user_id = principal.user_id if principal else ""
    if body.refresh_token is not None:
        token = await end_session(session, body.refresh_token, now)
        if token is None:
            raise unauthorized("unknown refresh token")
        user_id = token.user_id
    if body.all:
        await end_all_sessions(session, user_id, now)
    await audit(session, request, "logout", now, actor_id=user_id, detail={"all": body.all})
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
