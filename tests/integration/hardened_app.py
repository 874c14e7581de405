"""An app of one test with settings of its own (small limits, CORS origins), over httpx's ASGI
transport from a client address the test picks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings
from tests.integration.api_client import TEST_SECRET, MovableClock


def hardened_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Test settings with `overrides` (e.g. rate_limit_auth_per_minute=3)."""
    return Settings(data_dir=tmp_path, database_url=db_url, secret_key=TEST_SECRET, **overrides)


@contextlib.asynccontextmanager
async def serving(settings: Settings, clock: MovableClock | None = None) -> AsyncIterator[FastAPI]:
    """The app for `settings`, its lifespan running."""
    app = create_app(settings, clock=clock or MovableClock())
    async with app.router.lifespan_context(app):
        yield app


def client(app: FastAPI, address: str = "127.0.0.1", base_url: str = "http://test") -> httpx.AsyncClient:
    """An HTTP client for `app` whose requests come from `address`."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)
