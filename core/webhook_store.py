"""Webhook rows: hooks declared in a definition's `triggers:` kept in step with its latest
version, hooks made through the API, and rotation. Functions here only flush; the caller
commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import WebhookRow
from core.settings import Settings
from core.webhooks import DEFAULT_TOLERANCE_S, hook_path, new_hook_id, new_secret, open_sealed, seal
from workflows import dsl
from workflows.durations import parse_duration_ms
from workflows.plan import Plan


@dataclass(frozen=True)
class NewHook:
    """A hook just made, with its secret in clear: shown to its maker once, never again."""

    id: str
    trigger_id: str | None
    path: str
    secret: str


def tolerance_of(spec: dsl.WebhookSpec | None) -> int:
    """A webhook trigger's timestamp tolerance in seconds (default 300)."""
    if spec is None or spec.tolerance is None:
        return DEFAULT_TOLERANCE_S
    return max(1, parse_duration_ms(spec.tolerance) // 1000)


async def create_hook(
    session: AsyncSession,
    definition: str,
    version: int | None,
    owner_id: str | None,
    owner: str,
    input_template: Any,
    tolerance_s: int,
    settings: Settings,
    now: datetime,
    trigger_id: str | None = None,
) -> tuple[WebhookRow, NewHook]:
    """Add a hook with a new id and secret."""
    secret = new_secret()
    row = WebhookRow(
        id=new_hook_id(),
        definition=definition,
        version=version,
        trigger_id=trigger_id,
        owner_id=owner_id,
        owner=owner,
        input=input_template,
        secret=seal(secret, settings.secret_key),
        tolerance_s=tolerance_s,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, NewHook(row.id, trigger_id, hook_path(row.id), secret)


async def reconcile_hooks(
    session: AsyncSession, plan: Plan, owner_id: str | None, owner: str, settings: Settings, now: datetime
) -> list[NewHook]:
    """Make the hooks of `plan.name` match the webhook triggers of a version just stored: new
    triggers get a hook (owned by `owner`), kept ones their new input and tolerance (id and
    secret stay), removed ones lose theirs. Hooks made through the API are never touched.
    Returns the hooks made, with their secrets."""
    declared = {t.id: t for t in plan.triggers if t.webhook is not None}
    query = select(WebhookRow).where(WebhookRow.definition == plan.name, WebhookRow.trigger_id.is_not(None))
    existing = {row.trigger_id: row for row in (await session.scalars(query)).all()}
    made: list[NewHook] = []
    for trigger_id, row in existing.items():
        trigger = declared.get(trigger_id or "")
        if trigger is None:
            await session.delete(row)
            continue
        row.input = trigger.input
        row.tolerance_s = tolerance_of(trigger.webhook)
    for trigger_id, trigger in declared.items():
        if trigger_id in existing:
            continue
        _row, new = await create_hook(
            session,
            plan.name,
            None,
            owner_id,
            owner,
            trigger.input,
            tolerance_of(trigger.webhook),
            settings,
            now,
            trigger_id=trigger_id,
        )
        made.append(new)
    await session.flush()
    return made


async def delete_hooks(session: AsyncSession, definition: str) -> int:
    """Remove every hook of a definition (it is being deleted); how many there were."""
    result = await session.execute(delete(WebhookRow).where(WebhookRow.definition == definition))
    await session.flush()
    count: int = getattr(result, "rowcount", 0) or 0
    return count


async def get_hook(session: AsyncSession, hook_id: str) -> WebhookRow | None:
    """The hook with this id, or None."""
    return await session.get(WebhookRow, hook_id)


async def list_hooks(session: AsyncSession, owner_id: str | None) -> list[WebhookRow]:
    """Hooks by definition and creation time; only `owner_id`'s when given."""
    query = select(WebhookRow).order_by(WebhookRow.definition, WebhookRow.created_at, WebhookRow.id)
    if owner_id is not None:
        query = query.where(WebhookRow.owner_id == owner_id)
    return list((await session.scalars(query)).all())


def secrets_in_use(row: WebhookRow, settings: Settings, now: datetime) -> list[str]:
    """The secrets a delivery may be signed with now: the current one, and the one before it
    until its grace ends."""
    opened = [open_sealed(row.secret, settings.secret_key)]
    if row.previous_secret is not None and row.previous_until is not None and now < row.previous_until:
        opened.append(open_sealed(row.previous_secret, settings.secret_key))
    return opened


async def rotate_hook(
    session: AsyncSession, row: WebhookRow, grace: timedelta, settings: Settings, now: datetime
) -> NewHook:
    """Give a hook a new secret; the old one is accepted for `grace` more (none when zero)."""
    secret = new_secret()
    row.previous_secret = row.secret if grace > timedelta(0) else None
    row.previous_until = now + grace if grace > timedelta(0) else None
    row.secret = seal(secret, settings.secret_key)
    row.rotated_at = now
    await session.flush()
    return NewHook(row.id, row.trigger_id, hook_path(row.id), secret)
