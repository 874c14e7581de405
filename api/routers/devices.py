"""GET /auth/devices, DELETE /auth/devices/{id}: the caller's trusted devices."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.audit_log import audit
from api.deps import NowDep, SessionDep, SignedInUser
from api.problems import not_found
from api.responses import errors
from api.schemas.two_factor import TrustedDevicePublic
from api.trusted_devices import current_device
from core.auth.devices import revoke
from core.db.repos.trusted_devices import device_record, get_trusted_device, list_trusted_devices

router = APIRouter(prefix="/auth/devices", tags=["two-factor"])


@router.get("", response_model=list[TrustedDevicePublic], responses=errors(403))
async def trusted_devices(
    principal: SignedInUser, request: Request, session: SessionDep
) -> list[TrustedDevicePublic]:
    """The caller's trusted devices, newest first (expired and revoked ones too, marked)."""
    here = await current_device(session, request, principal.user_id)
    return [
        TrustedDevicePublic.model_validate(device).model_copy(
            update={"current": here is not None and device.id == here.id}
        )
        for device in await list_trusted_devices(session, principal.user_id)
    ]


@router.delete("/{device_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404))
async def revoke_device(
    device_id: str, principal: SignedInUser, request: Request, session: SessionDep, now: NowDep
) -> Response:
    """Revoke a device: signing in there asks for the second step again."""
    device = await get_trusted_device(session, device_id)
    if device is None or device.user_id != principal.user_id:
        raise not_found("trusted device", device_id)
    if device.revoked_at is None:
        device.revoked_at = revoke(device_record(device), now).revoked_at
        await audit(
            session,
            request,
            "device.revoke",
            now,
            actor_id=principal.user_id,
            target=device.id,
            detail={"name": device.name},
        )
        await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
