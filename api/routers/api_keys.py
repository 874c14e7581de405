"""GET/POST /api-keys, DELETE /api-keys/{id}: a user's own keys (admins: anyone's)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status

from api.audit_log import audit
from api.deps import NowDep, SessionDep, SignedInUser
from api.problems import not_found, unprocessable
from api.responses import errors
from api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from core.auth.api_keys import generate_key
from core.auth.scopes import ADMIN
from core.db.repos.api_keys import add_api_key, get_api_key, list_api_keys

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED, responses=errors(403))
async def create(
    body: ApiKeyCreate, principal: SignedInUser, request: Request, session: SessionDep, now: NowDep
) -> ApiKeyCreated:
    """A new key for the caller; the answer holds the key itself, which is never shown again."""
    beyond = sorted(set(body.scopes) - principal.scopes)
    if beyond:
        raise unprocessable(
            f"scopes: your role {principal.role} cannot grant {', '.join(beyond)}; "
            f"choose from {', '.join(sorted(principal.scopes))}"
        )
    if body.expires_at is not None and body.expires_at <= now:
        raise unprocessable("expires_at: the time has passed; give a time in the future")
    new = generate_key()
    key = await add_api_key(
        session,
        principal.user_id,
        body.name,
        new.prefix,
        new.key_hash,
        list(body.scopes),
        now,
        body.expires_at,
    )
    await audit(
        session,
        request,
        "api_key.create",
        now,
        actor_id=principal.user_id,
        target=key.id,
        detail={"name": key.name, "prefix": key.prefix, "scopes": key.scopes},
    )
    await session.commit()
    return ApiKeyCreated(**ApiKeyPublic.model_validate(key).model_dump(), key=new.key)


@router.get("", response_model=list[ApiKeyPublic], responses=errors(403))
async def keys(
    principal: SignedInUser,
    session: SessionDep,
    all_users: bool = Query(False, alias="all", description="Every user's keys (admins only)."),
) -> list[ApiKeyPublic]:
    """The caller's keys, newest first (revoked ones too, marked); admins may ask for all."""
    if all_users and ADMIN not in principal.scopes:
        raise unprocessable("all: only admins may list every user's keys; leave it out to list yours")
    found = await list_api_keys(session, None if all_users else principal.user_id)
    return [ApiKeyPublic.model_validate(k) for k in found]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404))
async def revoke(
    key_id: str, principal: SignedInUser, request: Request, session: SessionDep, now: NowDep
) -> Response:
    """Revoke a key: requests with it are refused from now on."""
    key = await get_api_key(session, key_id)
    if key is None or not (key.user_id == principal.user_id or ADMIN in principal.scopes):
        raise not_found("API key", key_id)
    if key.revoked_at is None:
        key.revoked_at = now
        await audit(
            session,
            request,
            "api_key.revoke",
            now,
            actor_id=principal.user_id,
            target=key.id,
            detail={"prefix": key.prefix, "owner": key.user_id},
        )
        await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
