"""/auth/2fa: enrol, confirm, status, new backup codes, disable; and the second sign-in step."""

from __future__ import annotations

import base64
import math

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit_log import audit
from api.deps import NowDep, SessionDep, SettingsDep, SignedInUser
from api.login import issue_session
from api.problems import conflict, unprocessable
from api.responses import errors
from api.schemas.auth import TokenPairPublic
from api.schemas.two_factor import (
    BackupCodesPublic,
    CodeRequest,
    DisableRequest,
    EnrolmentPublic,
    TwoFactorStatus,
    VerifyRequest,
)
from api.security import unauthorized
from api.trusted_devices import set_device_cookie
from core.auth import backup_codes, devices
from core.auth.passwords import verify_password
from core.auth.tokens import TokenError, decode_challenge
from core.auth.totp import CodeReused, TwoFactorError
from core.auth.two_factor import WrongState, confirm_enrolment, disable, start_enrolment
from core.db.models import User
from core.db.repos.trusted_devices import add_trusted_device, count_valid_devices, revoke_user_devices
from core.db.repos.two_factor import (
    count_unused_backup_codes,
    delete_backup_codes,
    replace_backup_codes,
    save_two_factor_state,
    two_factor_state,
    unused_backup_codes,
)
from core.db.repos.users import get_user
from core.second_factor import FAILED, redeem_second_factor, seconds_until_allowed

router = APIRouter(prefix="/auth/2fa", tags=["two-factor"])
# The secret is in the answer: no cache may keep it.
NO_STORE = {"Cache-Control": "no-store"}


async def _me(session: AsyncSession, user_id: str) -> User:
    user = await get_user(session, user_id)
    if user is None:
        raise unauthorized("this account no longer exists")
    return user


def _failure(error: TwoFactorError) -> str:
    if isinstance(error, CodeReused):
        return "reused"
    return "two-factor off" if isinstance(error, WrongState) else "invalid"


def _forbidden(error: Exception) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, str(error))


@router.get("", response_model=TwoFactorStatus, responses=errors(403))
async def two_factor_status(principal: SignedInUser, session: SessionDep, now: NowDep) -> TwoFactorStatus:
    """Whether two-factor is on, how many backup codes are left, how many devices are trusted."""
    user = await _me(session, principal.user_id)
    state = two_factor_state(user)
    return TwoFactorStatus(
        enabled=state.enabled,
        enrolment_pending=state.pending_secret is not None,
        backup_codes_left=await count_unused_backup_codes(session, user.id),
        trusted_devices=await count_valid_devices(session, user.id, now),
    )


@router.post("/enrol", response_model=EnrolmentPublic, responses=errors(403, 409))
async def enrol(
    principal: SignedInUser,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> EnrolmentPublic:
    """Start enrolment: a new secret, its otpauth URI and QR code; confirm it with a code next."""
    user = await _me(session, principal.user_id)
    if user.password_hash is None:
        # OIDC sign-in never asks for this second factor; the provider has its own.
        raise conflict(
            "this account signs in through OIDC only; two-factor authentication here protects "
            "password sign-in, so turn it on at your identity provider instead"
        )
    try:
        started = start_enrolment(two_factor_state(user), user.username, settings.two_factor_issuer)
    except WrongState as error:
        raise conflict(str(error)) from None
    await save_two_factor_state(session, user, started.state)
    await audit(session, request, "2fa.enrol", now, actor_id=user.id, target=user.username)
    await session.commit()
    response.headers.update(NO_STORE)
    return EnrolmentPublic(
        secret=started.secret, otpauth_uri=started.uri, qr_png=base64.b64encode(started.png).decode()
    )


@router.post("/confirm", response_model=BackupCodesPublic, responses=errors(403, 409))
async def confirm(
    body: CodeRequest,
    principal: SignedInUser,
    request: Request,
    response: Response,
    session: SessionDep,
    now: NowDep,
) -> BackupCodesPublic:
    """Turn two-factor on with a code from the app; the answer holds ten backup codes, shown once."""
    user = await _me(session, principal.user_id)
    try:
        confirmed = confirm_enrolment(two_factor_state(user), body.code, now)
    except WrongState as error:
        raise conflict(str(error)) from None
    except TwoFactorError as error:
        raise unprocessable(str(error)) from None
    await save_two_factor_state(session, user, confirmed.state)
    await replace_backup_codes(session, user.id, confirmed.backup_hashes)
    await audit(session, request, "2fa.enable", now, actor_id=user.id, target=user.username)
    await session.commit()
    response.headers.update(NO_STORE)
    return BackupCodesPublic(backup_codes=confirmed.backup_codes)


@router.post("/backup-codes", response_model=BackupCodesPublic, responses=errors(403, 409))
async def new_backup_codes(
    body: CodeRequest,
    principal: SignedInUser,
    request: Request,
    response: Response,
    session: SessionDep,
    now: NowDep,
) -> BackupCodesPublic:
    """Ten new backup codes, given a current code; the earlier ones stop working."""
    user = await _me(session, principal.user_id)
    try:
        await redeem_second_factor(session, user, body.code, now)
    except WrongState as error:
        raise conflict(str(error)) from None
    except TwoFactorError as error:
        raise _forbidden(error) from None
    fresh = backup_codes.new_backup_codes()
    await replace_backup_codes(session, user.id, fresh.hashes)
    await audit(session, request, "2fa.backup_codes", now, actor_id=user.id, target=user.username)
    await session.commit()
    response.headers.update(NO_STORE)
    return BackupCodesPublic(backup_codes=fresh.codes)


@router.post("/disable", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 409))
async def turn_off(
    body: DisableRequest, principal: SignedInUser, request: Request, session: SessionDep, now: NowDep
) -> Response:
    """Turn two-factor off with the password and a code; backup codes and trusted devices go too."""
    user = await _me(session, principal.user_id)
    if user.password_hash is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "password: this account has no password to confirm the change with; "
            "two-factor authentication here protects password sign-in only",
        )
    if not verify_password(body.password, user.password_hash):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "password: this is not your current password")
    unused = await unused_backup_codes(session, user.id)
    try:
        off = disable(two_factor_state(user), body.code, now, [c.code_hash for c in unused])
    except WrongState as error:
        raise conflict(str(error)) from None
    except TwoFactorError as error:
        raise _forbidden(error) from None
    await save_two_factor_state(session, user, off)
    await delete_backup_codes(session, user.id)
    await revoke_user_devices(session, user.id, now)
    await audit(session, request, "2fa.disable", now, actor_id=user.id, target=user.username)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/verify", response_model=TokenPairPublic, responses=errors(401))
async def verify(
    body: VerifyRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> TokenPairPublic:
    """The second sign-in step: the login's challenge and a TOTP or backup code give the token pair."""
    try:
        user_id = decode_challenge(body.challenge, settings.secret_key, now)
    except TokenError as error:
        raise unauthorized(f"challenge: {error}; sign in again with your password") from None
    user = await get_user(session, user_id)
    if user is None or not user.is_active:
        raise unauthorized("this account is disabled")
    wait_s = await seconds_until_allowed(session, user.id, now)
    if wait_s:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"code: too many wrong codes for this account; try again in {math.ceil(wait_s / 60)} minutes",
            headers={"Retry-After": str(wait_s)},
        )
    try:
        factor = await redeem_second_factor(session, user, body.code, now)
    except TwoFactorError as error:
        # Nothing was written: a refused code changes no row (the updates are conditional).
        await audit(
            session,
            request,
            FAILED,
            now,
            actor_id=user.id,
            target=user.username,
            detail={"reason": _failure(error)},
        )
        await session.commit()
        hint = "; sign in again with your password" if isinstance(error, WrongState) else ""
        raise unauthorized(f"{error}{hint}") from None
    if body.remember_device:
        name = body.device_name or request.headers.get("user-agent") or ""
        token, record = devices.trust_device(user.id, name, now)
        device = await add_trusted_device(session, record)
        await audit(
            session,
            request,
            "device.trust",
            now,
            actor_id=user.id,
            target=device.id,
            detail={"name": device.name},
        )
        set_device_cookie(request, response, token)
    await audit(
        session,
        request,
        "login.second_factor",
        now,
        actor_id=user.id,
        target=user.username,
        detail={"method": factor},
    )
    pair = await issue_session(session, user, request, now, method=f"password+{factor}")
    await session.commit()
    return pair
