"""Schedules: create, list, get, update, pause and unpause, trigger now, backfill, delete. The
schedule's owner owns its runs; a member sees and changes only their own. Schedules declared in
a definition's `triggers:` change with the definition (they can be paused, triggered and
backfilled here, not edited or deleted)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, ScheduleOverlapPolicy
from temporalio.client import ScheduleBackfill as TemporalBackfill
from temporalio.service import RPCError, RPCStatusCode

from api.audit_log import audit
from api.deps import NowDep, RunsReader, RunsStarter, SessionDep, SettingsDep, TemporalClient
from api.problems import PROBLEMS_RESPONSE, ProblemsError, conflict, not_found, unprocessable
from api.responses import errors
from api.schemas.schedules import (
    ScheduleAccepted,
    ScheduleBackfill,
    ScheduleBody,
    ScheduleCreate,
    ScheduleNote,
    SchedulePublic,
    ScheduleTrigger,
)
from core.auth.principal import Principal
from core.db.models import ScheduleRow
from core.definition_registry import BadReference, DefinitionNotFound, find_version, parse_reference
from core.schedule_store import (
    ScheduleRefused,
    add_schedule,
    change_schedule,
    get_schedule_row,
    remove_schedule,
    schedule_rows,
)
from core.schedules import OVERLAP, describe_schedule, zone_problems
from workflows import dsl
from workflows.compiler.triggers import schedule_input_problems
from workflows.plan import Plan

router = APIRouter(prefix="/schedules", tags=["schedules"])
_SPEC_FIELDS = set(dsl.ScheduleSpec.model_fields)


async def _checked(session: AsyncSession, body: ScheduleBody) -> tuple[str, int | None, dict[str, Any]]:
    """The definition's name, pinned version and the spec as written; 422 naming each problem."""
    try:
        name, version = parse_reference(body.definition)
        row = await find_version(session, name, version)
    except (BadReference, DefinitionNotFound) as exc:
        raise unprocessable(f"definition: {exc}") from None
    spec = dsl.ScheduleSpec.model_validate(body.model_dump(include=_SPEC_FIELDS))
    plan = Plan.model_validate(row.plan)
    problems = [*schedule_input_problems(spec, body.input, plan.input_schema), *zone_problems(spec, "/")]
    if problems:
        raise ProblemsError("the schedule cannot be used as it is", problems)
    return name, version, spec.model_dump(mode="json")


def _visible(row: ScheduleRow | None, principal: Principal, schedule_id: str) -> ScheduleRow:
    if row is None or not (principal.sees_all or row.owner_id == principal.user_id):
        raise not_found("schedule", schedule_id)
    return row


def _not_declared(row: ScheduleRow, doing: str) -> None:
    if row.trigger_id is not None:
        raise conflict(
            f"schedule {row.id} is declared in the triggers of definition '{row.definition}': "
            f"to {doing} it, change the definition's triggers and upload it again"
        )


async def _public(client: Client, row: ScheduleRow) -> SchedulePublic:
    return SchedulePublic.of(row, await describe_schedule(client, row.id))


@router.post(
    "",
    response_model=SchedulePublic,
    status_code=status.HTTP_201_CREATED,
    responses={**PROBLEMS_RESPONSE, **errors(403, 409, 503)},
)
async def create(
    body: ScheduleCreate,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
    now: NowDep,
) -> SchedulePublic:
    """A schedule owned by the caller, who owns the runs it starts."""
    name, version, spec = await _checked(session, body)
    schedule_id = body.id or f"{name}-{uuid.uuid4().hex[:8]}"
    if await get_schedule_row(session, schedule_id) is not None:
        raise conflict(f"a schedule with id {schedule_id} exists already; choose another id")
    row = ScheduleRow(
        id=schedule_id,
        definition=name,
        version=version,
        owner_id=principal.user_id,
        owner=principal.username,
        input=body.input,
        spec=spec,
        created_at=now,
        updated_at=now,
    )
    try:
        await add_schedule(session, client, row, settings)
    except ScheduleRefused as exc:
        raise unprocessable(f"Temporal refused the schedule: {exc}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.ALREADY_EXISTS:
            raise conflict(f"a schedule with id {schedule_id} exists already; choose another id") from None
        raise
    await audit(
        session,
        request,
        "schedule.create",
        now,
        actor_id=principal.user_id,
        target=schedule_id,
        detail={"definition": name, "version": version},
    )
    await session.commit()
    return await _public(client, row)


@router.get("", response_model=list[SchedulePublic], responses=errors(403, 503))
async def schedules(
    principal: RunsReader, session: SessionDep, client: TemporalClient
) -> list[SchedulePublic]:
    """Schedules by id: a member's own; operators and admins see every schedule."""
    rows = await schedule_rows(session, None if principal.sees_all else principal.user_id)
    return list(await asyncio.gather(*(_public(client, row) for row in rows)))


@router.get("/{schedule_id}", response_model=SchedulePublic, responses=errors(403, 404, 503))
async def schedule(
    schedule_id: str, principal: RunsReader, session: SessionDep, client: TemporalClient
) -> SchedulePublic:
    """A schedule: its spec as written, whether it is paused, its next times and recent runs."""
    row = _visible(await get_schedule_row(session, schedule_id), principal, schedule_id)
    return await _public(client, row)


@router.put(
    "/{schedule_id}",
    response_model=SchedulePublic,
    responses={**PROBLEMS_RESPONSE, **errors(403, 404, 409, 503)},
)
async def update(
    schedule_id: str,
    body: ScheduleBody,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalClient,
    now: NowDep,
) -> SchedulePublic:
    """Replace what and when a schedule runs; whether it is paused stays as it is."""
    row = _visible(await get_schedule_row(session, schedule_id), principal, schedule_id)
    _not_declared(row, "change")
    row.definition, row.version, row.spec = await _checked(session, body)
    row.input = body.input
    try:
        await change_schedule(session, client, row, settings, now)
    except ScheduleRefused as exc:
        raise unprocessable(f"Temporal refused the schedule: {exc}") from None
    await audit(session, request, "schedule.update", now, actor_id=principal.user_id, target=schedule_id)
    await session.commit()
    return await _public(client, row)


async def _act(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    row: ScheduleRow,
    action: str,
) -> None:
    await audit(session, request, f"schedule.{action}", now, actor_id=principal.user_id, target=row.id)
    await session.commit()


async def _set_paused(
    schedule_id: str,
    paused: bool,
    principal: Principal,
    request: Request,
    session: AsyncSession,
    client: Client,
    now: datetime,
    body: ScheduleNote | None,
) -> SchedulePublic:
    row = _visible(await get_schedule_row(session, schedule_id), principal, schedule_id)
    action = "pause" if paused else "unpause"
    note = (body or ScheduleNote()).note or f"{action}d by {principal.username}"
    handle = client.get_schedule_handle(row.id)
    await (handle.pause(note=note) if paused else handle.unpause(note=note))
    await _act(request, session, principal, now, row, action)
    return await _public(client, row)


@router.post("/{schedule_id}/pause", response_model=SchedulePublic, responses=errors(403, 404, 503))
async def pause(
    schedule_id: str,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    client: TemporalClient,
    now: NowDep,
    body: ScheduleNote | None = None,
) -> SchedulePublic:
    """Start no more runs until unpaused (runs going on go on)."""
    return await _set_paused(schedule_id, True, principal, request, session, client, now, body)


@router.post("/{schedule_id}/unpause", response_model=SchedulePublic, responses=errors(403, 404, 503))
async def unpause(
    schedule_id: str,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    client: TemporalClient,
    now: NowDep,
    body: ScheduleNote | None = None,
) -> SchedulePublic:
    """Start runs again when they are due."""
    return await _set_paused(schedule_id, False, principal, request, session, client, now, body)


@router.post("/{schedule_id}/trigger", status_code=status.HTTP_202_ACCEPTED, responses=errors(403, 404, 503))
async def trigger(
    schedule_id: str,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    client: TemporalClient,
    now: NowDep,
    body: ScheduleTrigger | None = None,
) -> ScheduleAccepted:
    """Start a run now (paused or not), subject to the overlap policy."""
    row = _visible(await get_schedule_row(session, schedule_id), principal, schedule_id)
    overlap = (body or ScheduleTrigger()).overlap
    await client.get_schedule_handle(row.id).trigger(overlap=OVERLAP[overlap] if overlap else None)
    await _act(request, session, principal, now, row, "trigger")
    return ScheduleAccepted(id=row.id, requested="trigger")


@router.post(
    "/{schedule_id}/backfill",
    response_model=ScheduleAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**PROBLEMS_RESPONSE, **errors(403, 404, 503)},
)
async def backfill(
    schedule_id: str,
    body: ScheduleBackfill,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    client: TemporalClient,
    now: NowDep,
) -> ScheduleAccepted:
    """Start the runs that were due in a past time range, as if the schedule had run then."""
    row = _visible(await get_schedule_row(session, schedule_id), principal, schedule_id)
    if body.start_at.tzinfo is None or body.end_at.tzinfo is None:
        raise unprocessable("start_at, end_at: give a time zone (e.g. 2026-01-31T09:00:00Z)")
    if body.end_at <= body.start_at:
        raise unprocessable("end_at: must be after start_at")
    overlap = OVERLAP[body.overlap] if body.overlap else ScheduleOverlapPolicy.ALLOW_ALL
    await client.get_schedule_handle(row.id).backfill(TemporalBackfill(body.start_at, body.end_at, overlap))
    await _act(request, session, principal, now, row, "backfill")
    return ScheduleAccepted(id=row.id, requested="backfill")


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409, 503))
async def delete(
    schedule_id: str,
    principal: RunsStarter,
    request: Request,
    session: SessionDep,
    client: TemporalClient,
    now: NowDep,
) -> Response:
    """Delete a schedule; the runs it started go on."""
    row = _visible(await get_schedule_row(session, schedule_id), principal, schedule_id)
    _not_declared(row, "delete")
    await remove_schedule(session, client, row)
    await _act(request, session, principal, now, row, "delete")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
