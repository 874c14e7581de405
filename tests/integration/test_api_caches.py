"""What an API process keeps in memory: who a token or key stands for, and stored plans. A
change committed through the process applies at once; one made elsewhere (the CLI, another
replica) within the cache time; with a cache time of 0, at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from api.plan_cache import PlanCache
from api.principal_cache import PrincipalCache
from core.auth.principal import Principal
from core.db.engine import create_engine, session_factory
from core.db.models import ApiKey, User
from core.db.repos.audit import record
from core.definition_registry import DefinitionNotFound, upload
from core.settings import Settings
from tests.helpers import registry
from tests.integration.api_client import TEST_SECRET, Api, running_api

ME = "/api/v1/users/me"
DEFINITION = """stepwise: 1
name: cached
output: '{{ input }}'
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""


def _settings(tmp_path: Path, db_url: str, cache_s: float) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=db_url,
        secret_key=TEST_SECRET,
        auth_cache_s=cache_s,
        definitions_cache_s=cache_s,
    )


async def _disable_elsewhere(api: Api, username: str) -> None:
    """What `stepwise user` or another replica does: a commit the app does not see."""
    async with api.sessions() as session:
        await session.execute(update(User).where(User.username == username).values(is_active=False))
        await session.commit()


async def test_a_change_made_elsewhere_waits_for_the_cache_and_one_made_here_applies_at_once(
    db_url: str, tmp_path: Path
) -> None:
    async with running_api(_settings(tmp_path, db_url, 3600)) as api:
        await api.add_user("root", role="admin")
        await api.add_user("ada")
        await api.add_user("ben")
        ada = await api.token("ada")
        assert (await api.http.get(ME, headers=ada)).status_code == 200
        await _disable_elsewhere(api, "ada")
        assert (await api.http.get(ME, headers=ada)).status_code == 200  # kept for the hour
        ben_id = (await api.http.get(ME, headers=await api.token("ben"))).json()["id"]
        changed = await api.http.patch(
            f"/api/v1/users/{ben_id}", json={"role": "operator"}, headers=await api.token("root")
        )
        assert changed.status_code == 200
        # A user changed through this process empties the cache: ada is read again.
        refused = await api.http.get(ME, headers=ada)
        assert refused.status_code == 401
        assert refused.json()["detail"] == "this account is disabled"


async def test_with_no_cache_time_a_change_made_elsewhere_applies_at_once(
    db_url: str, tmp_path: Path
) -> None:
    async with running_api(_settings(tmp_path, db_url, 0)) as api:
        await api.add_user("ada")
        ada = await api.token("ada")
        created = await api.http.post(
            "/api/v1/api-keys", json={"name": "ci", "scopes": ["runs:read"]}, headers=ada
        )
        key = {"X-API-Key": created.json()["key"]}
        assert (await api.http.get(ME, headers=key)).status_code == 200
        async with api.sessions() as session:
            await session.execute(update(ApiKey).values(revoked_at=api.clock()))
            await session.commit()
        assert (await api.http.get(ME, headers=key)).status_code == 401
        assert (await api.http.get(ME, headers=ada)).status_code == 200
        await _disable_elsewhere(api, "ada")
        assert (await api.http.get(ME, headers=ada)).status_code == 401


def _principal(name: str) -> Principal:
    return Principal(name, name, "member", [], frozenset(), "token")


async def test_the_principal_cache_forgets_after_its_time_and_after_watched_commits(
    db_url: str, tmp_path: Path
) -> None:
    now = [0.0]
    cache = PrincipalCache(5, monotonic=lambda: now[0])
    cache.put(("user", "a"), _principal("a"))
    now[0] = 4.9
    assert cache.get(("user", "a")) is not None
    now[0] = 5.0
    assert cache.get(("user", "a")) is None

    engine = create_engine(db_url)
    try:
        watched = type("Watched", (Session,), {})
        cache.watch(watched)
        sessions = session_factory(engine, watched)
        async with running_api(_settings(tmp_path, db_url, 5)) as api:
            await api.add_user("ada")
            created = await api.http.post(
                "/api/v1/api-keys",
                json={"name": "ci", "scopes": ["runs:read"]},
                headers=await api.token("ada"),
            )
            assert created.status_code == 201
        for change, forgets in (
            ("rollback", False),
            ("unrelated", False),
            ("key used", False),
            ("key renamed", True),
            ("orm", True),
            ("bulk", True),
        ):
            cache.put(("user", "a"), _principal("a"))
            async with sessions() as session:
                ada = (await session.scalars(select(User))).one()
                if change == "rollback":
                    await session.execute(update(User).values(role="operator"))
                    await session.rollback()
                elif change == "unrelated":
                    await record(session, "test.unrelated", api.clock())
                elif change.startswith("key"):
                    key = (await session.scalars(select(ApiKey))).one()
                    key.last_used_at = api.clock()
                    if change == "key renamed":
                        key.name = "renamed"
                elif change == "orm":
                    ada.email = "ada@example.org"
                elif change == "bulk":
                    await session.execute(update(User).values(role="operator"))
                await session.commit()
            assert (cache.get(("user", "a")) is None) is forgets, change
    finally:
        await engine.dispose()


async def test_the_plan_cache_keeps_versions_and_the_latest_for_its_time(db_url: str, tmp_path: Path) -> None:
    async with running_api(_settings(tmp_path, db_url, 0)) as api:
        await api.add_user("root", role="admin")
    engine = create_engine(db_url)
    now = [0.0]
    cache = PlanCache(10, size=2, monotonic=lambda: now[0])
    watched = type("Watched", (Session,), {})
    cache.watch(watched)
    here = session_factory(engine, watched)  # this process's sessions
    elsewhere = session_factory(engine)  # another replica's
    try:

        async def publish(sessions: async_sessionmaker[AsyncSession], output: str) -> None:
            text = DEFINITION.replace("{{ input }}", output)
            async with sessions() as session:
                await upload(session, text, "yaml", registry(), None, api.clock())
                await session.commit()

        async def latest() -> int:
            async with here() as session:
                return (await cache.find(session, "cached")).version

        await publish(here, "one")
        assert await latest() == 1
        await publish(elsewhere, "two")
        assert await latest() == 1  # another replica's upload shows within the cache time
        async with here() as session:
            assert (await cache.find(session, "cached", 2)).version == 2  # name@N is exact
        now[0] = 10
        assert await latest() == 2
        await publish(here, "three")
        assert await latest() == 3  # this process's upload applies at once
        async with here() as session:
            plan = (await cache.find(session, "cached", 1)).plan
            assert plan.name == "cached"
            with pytest.raises(DefinitionNotFound, match="version 9"):
                await cache.find(session, "cached", 9)
    finally:
        await engine.dispose()
