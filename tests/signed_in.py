"""A synchronous API client signed in as an admin, on a migrated SQLite file (no servers)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from core.accounts import create_first_user
from core.db.migrate import upgrade
from core.settings import Settings
from workflows.modules import Registry

ADMIN_PASSWORD = "correct horse battery"


@contextmanager
def signed_in_client(settings: Settings, registry: Registry | None = None) -> Iterator[TestClient]:
    """The app on `settings` (whose data_dir holds the database), with an admin signed in."""
    url = f"sqlite+aiosqlite:///{Path(settings.data_dir) / 'stepwise.db'}"
    settings = settings.model_copy(update={"database_url": url})

    async def prepare() -> None:
        await upgrade(url)
        await create_first_user(url, "admin", ADMIN_PASSWORD, "admin", None, [])

    asyncio.run(prepare())
    with TestClient(create_app(settings, registry=registry)) as client:
        login = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield client
