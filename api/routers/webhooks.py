"""Webhooks: managing hooks under /webhooks, and deliveries to POST /hooks/{hook_id}, which the
signature authenticates (no Authorization) and which start one run per delivery id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.audit_log import audit, audit_run_change
from api.deps import NowDep, RunsReader, RunsStarter, SessionDep, SettingsDep
from api.plan_cache import PlanCache
from api.problems import PROBLEMS_RESPONSE, ProblemsError, conflict, not_found, unprocessable
from api.responses import errors
from api.schemas.webhooks import (
    DeliveryAccepted,
    WebhookCreate,
    WebhookPublic,
    WebhookRotate,
    WebhookWithSecret,
)
from api.temporal import reachable_client
from core.auth.principal import Principal
from core.db.models import User, WebhookRow
from core.definition_registry import BadReference, DefinitionNotFound, parse_reference
from core.runs import InvalidRunInput, start_run
from core.webhook_store import create_hook, get_hook, list_hooks, rotate_hook, secrets_in_use
from core.webhooks import (
    DEFAULT_TOLERANCE_S,
    SealError,
    SignatureRefused,
    parsed_body,
    render_input,
    template_problems,
    verify,
)
from workflows.durations import parse_duration_ms
from workflows.problems import Problem, join_pointer
from workflows.templates import TemplateError

router = APIRouter(tags=["webhooks"])

DELIVERY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "Anything the sender sends; JSON (application/json) is parsed for the input template.",
        "content": {
            "application/json": {"schema": {}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


def _visible(row: WebhookRow | None, principal: Principal, hook_id: str) -> WebhookRow:
    if row is None or not (principal.sees_all or row.owner_id == principal.user_id):
        raise not_found("webhook", hook_id)
    return row


def _seconds(text: str) -> int:
    return parse_duration_ms(text) // 1000


@router.post(
    "/webhooks",
    response_model=WebhookWithSecret,
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS_RESPONSE, **errors(403)},
)
async def create(
    body: WebhookCreate,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> WebhookWithSecret:
    """A hook that starts runs of a definition, owned by the caller; the answer holds its
    signing secret, which is shown only now (and on rotation)."""
    plans: PlanCache = request.app.state.plans
    try:
        name, version = parse_reference(body.definition)
        await plans.find(session, name, version)
    except (BadReference, DefinitionNotFound) as exc:
        raise unprocessable(f"definition: {exc}") from None
    problems = [
        Problem(join_pointer("/input", *(str(p) for p in path)), message)
        for path, message in template_problems(body.input)
    ]
    if problems:
        raise ProblemsError("the input template cannot be used", problems)
    tolerance = DEFAULT_TOLERANCE_S if body.tolerance is None else _seconds(body.tolerance)
    if tolerance < 1:
        raise unprocessable("tolerance: give at least 1s")
    row, new = await create_hook(
        session, name, version, principal.user_id, principal.username, body.input, tolerance, settings, now
    )
    await audit(
        session,
        request,
        "hook.create",
        now,
        actor_id=principal.user_id,
        target=row.id,
        detail={"definition": name, "version": version},
    )
    await session.commit()
    return WebhookWithSecret(**WebhookPublic.of(row).model_dump(), secret=new.secret)


@router.get("/webhooks", response_model=list[WebhookPublic], responses=errors(403))
async def hooks(principal: RunsReader, session: SessionDep) -> list[WebhookPublic]:
    """Hooks by definition: a member's own; operators and admins see every hook."""
    rows = await list_hooks(session, None if principal.sees_all else principal.user_id)
    return [WebhookPublic.of(row) for row in rows]


@router.get("/webhooks/{hook_id}", response_model=WebhookPublic, responses=errors(403, 404))
async def hook(hook_id: str, principal: RunsReader, session: SessionDep) -> WebhookPublic:
    """A hook (never its secret)."""
    return WebhookPublic.of(_visible(await get_hook(session, hook_id), principal, hook_id))


@router.delete("/webhooks/{hook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409))
async def remove(
    hook_id: str, principal: RunsStarter, request: Request, session: SessionDep, now: NowDep
) -> Response:
    """Delete a hook made through the API (its owner, an operator or an admin)."""
    row = _visible(await get_hook(session, hook_id), principal, hook_id)
    if row.trigger_id is not None:
        raise conflict(
            f"webhook {hook_id} is declared by the trigger '{row.trigger_id}' of definition "
            f"{row.definition}: remove that trigger from the definition and upload it again"
        )
    await session.delete(row)
    await audit(
        session,
        request,
        "hook.delete",
        now,
        actor_id=principal.user_id,
        target=hook_id,
        detail={"definition": row.definition},
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/webhooks/{hook_id}/rotate", response_model=WebhookWithSecret, responses=errors(403, 404, 422))
async def rotate(
    hook_id: str,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    body: WebhookRotate | None = None,
) -> WebhookWithSecret:
    """A new signing secret (shown only now); the old one keeps working for `grace` (default 1h,
    0s: not at all)."""
    row = _visible(await get_hook(session, hook_id), principal, hook_id)
    grace = timedelta(milliseconds=parse_duration_ms((body or WebhookRotate()).grace))
    new = await rotate_hook(session, row, grace, settings, now)
    await audit(
        session,
        request,
        "hook.rotate",
        now,
        actor_id=principal.user_id,
        target=hook_id,
        detail={"grace_s": int(grace.total_seconds())},
    )
    await session.commit()
    return WebhookWithSecret(**WebhookPublic.of(row).model_dump(), secret=new.secret)


def _refused(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Signature"})


@router.post(
    "/hooks/{hook_id}",
    response_model=DeliveryAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**PROBLEMS_RESPONSE, **errors(401, 403, 404, 413, 503)},
    openapi_extra=DELIVERY_BODY,
)
async def deliver(
    hook_id: str, request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> DeliveryAccepted:
    """Start a run for a signed delivery; the same delivery id always answers the same run."""
    raw = await request.body()
    row = await get_hook(session, hook_id)
    if row is None:
        raise not_found("webhook", hook_id)
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        delivery = verify(headers, raw, secrets_in_use(row, settings, now), row.tolerance_s, now)
    except SignatureRefused as exc:
        raise _refused(str(exc)) from None
    except SealError as exc:
        raise _refused(str(exc)) from None
    owner = await session.get(User, row.owner_id) if row.owner_id is not None else None
    if owner is None or not owner.is_active:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"webhook {hook_id}'s owner {row.owner} is disabled or deleted: its runs cannot start; "
            "make a new hook as an active user",
        )
    try:
        body = parsed_body(raw, request.headers.get("content-type"))
        run_input = render_input(row.input, body, headers, delivery, row.id, row.definition)
    except (ValueError, TemplateError) as exc:
        raise unprocessable(f"the delivery cannot be mapped to a run input: {exc}") from None
    plans: PlanCache = request.app.state.plans
    try:
        found = await plans.find(session, row.definition, row.version)
        prepared = await plans.prepare(session, found.plan, found.plan_hash)
    except DefinitionNotFound as exc:
        raise unprocessable(f"definition: {exc}") from None
    client = await reachable_client(request.app.state.temporal)
    try:
        handle = await start_run(
            client,
            prepared,
            run_input,
            settings,
            owner=row.owner,
            version=found.version,
            idempotency_key=f"hook:{row.id}:{delivery.id}",
        )
    except InvalidRunInput as exc:
        problems = [
            Problem(join_pointer("/input", *[p for p in pr.where.split("/") if p]), pr.message)
            for pr in exc.problems
        ]
        raise ProblemsError(
            "the input this delivery gives does not match the definition's input schema", problems
        ) from None
    await audit_run_change(
        request,
        "hook.deliver",
        now,
        actor_id=row.owner_id,
        target=handle.id,
        detail={
            "hook": row.id,
            "delivery": delivery.id,
            "definition": row.definition,
            "version": found.version,
        },
    )
    return DeliveryAccepted(run_id=handle.id, delivery=delivery.id, definition=row.definition)
