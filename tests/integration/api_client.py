"""An app of one test on its own database, driven over HTTP through httpx's ASGI transport,
with a clock the test moves."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from core.accounts import Actor, register_user
from core.db.engine import create_engine, session_factory
from core.db.models import User
from core.settings import Settings
from workflows.modules import Registry

PASSWORD = "correct horse battery"
TEST_SECRET = "test-only-secret-key-0123456789abcdef"


@dataclass
class MovableClock:
    """A clock that stands still until the test moves it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Api:
    """The app, an HTTP client for it, its clock, and direct database access for set-up."""

    app: FastAPI
    http: httpx.AsyncClient
    clock: MovableClock
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]

    async def add_user(
        self,
        username: str,
        role: str = "member",
        groups: Sequence[str] = (),
        password: str | None = PASSWORD,
        email: str | None = None,
    ) -> User:
        """A user created the way `stepwise user create` does it."""
        async with self.sessions() as session:
            user = await register_user(
                session,
                username,
                password,
                Actor(None),
                self.clock(),
                role,
                email=email,
                groups=groups,
                create_groups=True,
            )
            await session.commit()
            return user

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        """The token pair of a successful sign-in."""
        response = await self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def token(self, username: str) -> dict[str, str]:
        """Headers that authenticate as `username`."""
        return await self.token_with(username, PASSWORD)

    async def token_with(self, username: str, password: str) -> dict[str, str]:
        """Headers that authenticate as `username`, signed in with `password`."""
        return {"Authorization": f"Bearer {(await self.login(username, password))['access_token']}"}

    async def audit_actions(self, admin_headers: dict[str, str]) -> list[str]:
        """The actions in the audit log, newest first."""
        response = await self.http.get("/api/v1/audit", params={"limit": 500}, headers=admin_headers)
        assert response.status_code == 200, response.text
        return [item["action"] for item in response.json()["items"]]


@contextlib.asynccontextmanager
async def running_api(
    settings: Settings,
    clock: MovableClock | None = None,
    oidc_http: httpx.AsyncClient | None = None,
    registry: Registry | None = None,
) -> AsyncIterator[Api]:
    """An app with these settings, started, and an HTTP client for it over the ASGI transport."""
    clock = clock or MovableClock()
    app = create_app(settings, clock=clock, oidc_http=oidc_http, registry=registry)
    engine = create_engine(settings.database_url)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
        ):
            yield Api(app, http, clock, settings, session_factory(engine))
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """A fresh app on a fresh database; requests go through the ASGI transport."""
    settings = Settings(data_dir=tmp_path, database_url=db_url, secret_key=TEST_SECRET)
    async with running_api(settings) as running:
        yield running
