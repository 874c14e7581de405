"""Schedules kept in two places that move together: the app database says who owns each one and
what it runs (and the spec as written); Temporal holds the compiled schedule and its state.
Callers commit the session after these calls succeed, so a refused Temporal call stores nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.db.models import ScheduleRow
from core.definition_registry import find_version, prepare_plan, stored_plan
from core.schedules import Target, create_schedule, trigger_schedule_id, update_schedule
from core.settings import Settings
from workflows import dsl
from workflows.plan import Plan


class ScheduleRefused(ValueError):
    """Temporal refused the schedule (its message says why); nothing was stored."""


async def target_of(session: AsyncSession, row: ScheduleRow) -> Target:
    """The plan (the pinned version, or the latest) and what it calls, resolved now."""
    version_row = await find_version(session, row.definition, row.version)
    prepared = await prepare_plan(session, stored_plan(version_row))
    return Target(prepared, version_row.version, row.input, row.owner)


async def _temporal(call: Any) -> None:
    try:
        await call
    except RPCError as exc:
        if exc.status in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.FAILED_PRECONDITION):
            raise ScheduleRefused(exc.message) from None
        raise


async def add_schedule(session: AsyncSession, client: Client, row: ScheduleRow, settings: Settings) -> None:
    session.add(row)
    await session.flush()
    spec = dsl.ScheduleSpec.model_validate(row.spec)
    await _temporal(create_schedule(client, row.id, spec, await target_of(session, row), settings))


async def change_schedule(
    session: AsyncSession, client: Client, row: ScheduleRow, settings: Settings, now: datetime
) -> None:
    """Send the row's spec and runs to Temporal again (after the row changed)."""
    row.updated_at = now
    await session.flush()
    spec = dsl.ScheduleSpec.model_validate(row.spec)
    await _temporal(update_schedule(client, row.id, settings, spec, await target_of(session, row)))


async def remove_schedule(session: AsyncSession, client: Client, row: ScheduleRow) -> None:
    await session.delete(row)
    await session.flush()
    try:
        await client.get_schedule_handle(row.id).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


async def get_schedule_row(session: AsyncSession, schedule_id: str) -> ScheduleRow | None:
    return await session.get(ScheduleRow, schedule_id)


async def schedule_rows(
    session: AsyncSession, owner_id: str | None = None, definition: str | None = None
) -> list[ScheduleRow]:
    """Schedules by id: one owner's (None: everyone's), of one definition when given."""
    query = select(ScheduleRow).order_by(ScheduleRow.id)
    if owner_id is not None:
        query = query.where(ScheduleRow.owner_id == owner_id)
    if definition is not None:
        query = query.where(ScheduleRow.definition == definition)
    return list((await session.scalars(query)).all())


async def reconcile_schedules(
    session: AsyncSession,
    client: Client,
    plan: Plan,
    owner_id: str | None,
    owner: str,
    settings: Settings,
    now: datetime,
) -> list[str]:
    """After a new version of `plan`'s definition was stored: its schedule triggers created or
    updated, those it no longer declares removed, and every schedule following the latest
    version given the new one. The ids of the schedules touched."""
    declared = {t.id: t for t in plan.triggers if t.schedule is not None}
    touched: list[str] = []
    for row in await schedule_rows(session, definition=plan.name):
        trigger = declared.pop(row.trigger_id, None) if row.trigger_id is not None else None
        if row.trigger_id is not None and trigger is None:
            await remove_schedule(session, client, row)
        elif row.version is None:
            if trigger is not None and trigger.schedule is not None:
                row.spec = trigger.schedule.model_dump(mode="json")
                row.input = trigger.input
            await change_schedule(session, client, row, settings, now)
        else:
            continue
        touched.append(row.id)
    for trigger in declared.values():
        assert trigger.schedule is not None
        row = ScheduleRow(
            id=trigger_schedule_id(plan.name, trigger.id),
            definition=plan.name,
            version=None,
            trigger_id=trigger.id,
            owner_id=owner_id,
            owner=owner,
            input=trigger.input,
            spec=trigger.schedule.model_dump(mode="json"),
            created_at=now,
            updated_at=now,
        )
        await add_schedule(session, client, row, settings)
        touched.append(row.id)
    return touched


async def delete_schedules(session: AsyncSession, client: Client, definition: str) -> int:
    """Every schedule of a definition (it is being deleted)."""
    rows = await schedule_rows(session, definition=definition)
    for row in rows:
        await remove_schedule(session, client, row)
    return len(rows)
