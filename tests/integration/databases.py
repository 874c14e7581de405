"""The `db_url` fixture: every database test runs on SQLite and on PostgreSQL.

PostgreSQL gets a fresh database per test (created on 127.0.0.1:5432 as user postgres,
dropped after); where it cannot be reached the PostgreSQL half is skipped, except under
CI=true, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.migrate import upgrade

T = TypeVar("T")
PG_HOST = os.environ.get("STEPWISE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("STEPWISE_TEST_PG_PORT", "5432"))
PG_USER = "postgres"


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a loop of its own (in a thread), from sync or async code."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _admin(statement: str) -> None:
    engine = create_async_engine(
        f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres",
        isolation_level="AUTOCOMMIT",
        connect_args={"timeout": 5},
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _postgres_database() -> str:
    name = f"stepwise_test_{uuid.uuid4().hex[:16]}"
    try:
        run_apart(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, DBAPIError, TimeoutError) as exc:
        reason = f"PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_USER}) is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the database tests on PostgreSQL too")
        pytest.skip(reason)
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a migrated, empty database of this test alone."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
        run_apart(upgrade(url))
        yield url
        return
    name = _postgres_database()
    try:
        url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
        run_apart(upgrade(url))
        yield url
    finally:
        run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
