"""reconcile_hooks and delete_hooks on SQLite and PostgreSQL: a definition's webhook triggers
become hooks, keep their ids and secrets when the definition changes, and go when the trigger
(or the definition) does; hooks made through the API are left alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import Actor, register_user
from core.db.engine import create_engine, session_factory
from core.db.models import WebhookRow
from core.settings import Settings
from core.webhook_store import create_hook, delete_hooks, reconcile_hooks, secrets_in_use
from tests.helpers import plan_of
from tests.integration.api_client import TEST_SECRET

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(secret_key=TEST_SECRET)
BASE = """stepwise: 1
name: hooked
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
triggers:
"""
TWO = (
    BASE
    + """  - {id: push, webhook: {}, input: {ref: "{{ body.ref }}"}}
  - {id: deploy, webhook: {tolerance: 2m}}
  - {id: nightly, schedule: {cron: "0 3 * * *"}}
"""
)
CHANGED = (
    BASE
    + """  - {id: push, webhook: {tolerance: 1m}, input: {ref: "{{ body.after }}"}}
"""
)


@pytest_asyncio.fixture(loop_scope="session")
async def session(db_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as opened:
            yield opened
    finally:
        await engine.dispose()


async def _rows(session: AsyncSession) -> dict[str | None, WebhookRow]:
    rows = (await session.scalars(select(WebhookRow).order_by(WebhookRow.created_at))).all()
    return {row.trigger_id: row for row in rows}


async def test_reconcile_creates_keeps_secrets_on_update_and_deletes_removed_triggers(
    session: AsyncSession,
) -> None:
    user = await register_user(session, "ada", None, Actor(None), NOW, "member")
    made = await reconcile_hooks(session, plan_of(TWO, header=False), user.id, "ada", SETTINGS, NOW)
    await session.commit()
    assert sorted(h.trigger_id or "" for h in made) == ["deploy", "push"]
    rows = await _rows(session)
    assert set(rows) == {"push", "deploy"}
    push = rows["push"]
    assert (push.definition, push.version, push.owner, push.owner_id) == ("hooked", None, "ada", user.id)
    assert (push.input, push.tolerance_s, rows["deploy"].tolerance_s) == ({"ref": "{{ body.ref }}"}, 300, 120)
    by_trigger = {h.trigger_id: h for h in made}
    assert by_trigger["push"].path == f"/api/v1/hooks/{push.id}"
    # Sealed at rest; opened, it is the secret handed out once.
    assert by_trigger["push"].secret not in push.secret
    assert secrets_in_use(push, SETTINGS, NOW) == [by_trigger["push"].secret]
    api_made, _ = await create_hook(session, "hooked", None, user.id, "ada", None, 300, SETTINGS, NOW)
    await session.commit()

    again = await reconcile_hooks(session, plan_of(CHANGED, header=False), user.id, "ada", SETTINGS, NOW)
    await session.commit()
    assert again == []
    session.expire_all()
    rows = await _rows(session)
    assert set(rows) == {"push", None}
    assert rows["push"].id == push.id
    assert (rows["push"].input, rows["push"].tolerance_s) == ({"ref": "{{ body.after }}"}, 60)
    assert secrets_in_use(rows["push"], SETTINGS, NOW) == [by_trigger["push"].secret]
    assert rows[None].id == api_made.id

    assert await delete_hooks(session, "hooked") == 2
    await session.commit()
    assert await _rows(session) == {}
