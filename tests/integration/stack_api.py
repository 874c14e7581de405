"""The app of one test on a SQLite database of its own, pointed at the session's dev server
with the test's task-queue prefix (the `stack` fixture's workers serve its runs)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from core.db.migrate import upgrade
from core.settings import Settings
from tests.helpers import registry
from tests.integration.api_client import TEST_SECRET, Api, running_api
from tests.integration.databases import run_apart

if TYPE_CHECKING:  # conftest imports this module for its fixture
    from tests.integration.conftest import Stack


def stack_settings(
    env: WorkflowEnvironment, tmp_path: Path, task_queue_prefix: str, **settings: Any
) -> Settings:
    """Settings of a test's app: a migrated SQLite database of its own in `tmp_path`, the dev
    server of `env`, the test secret and `task_queue_prefix`; `settings` add or override."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
    run_apart(upgrade(url))
    host, _, port = env.client.service_client.config.target_host.rpartition(":")
    return Settings(
        data_dir=tmp_path,
        database_url=url,
        secret_key=TEST_SECRET,
        temporal_host=host,
        temporal_port=int(port),
        task_queue_prefix=task_queue_prefix,
        **settings,
    )


@contextlib.asynccontextmanager
async def api_on_stack(stack: Stack, tmp_path: Path, **settings: Any) -> AsyncIterator[Api]:
    """The API over HTTP (ASGI transport), its runs on the `stack`'s dev server and workers;
    `settings` override the defaults."""
    chosen = stack_settings(stack.env, tmp_path, stack.settings.task_queue_prefix, **settings)
    async with running_api(chosen, registry=registry()) as api:
        yield api


@pytest_asyncio.fixture(loop_scope="session")
async def runs_api(stack: Stack, tmp_path: Path) -> AsyncIterator[Api]:
    """The API over HTTP (ASGI transport), its runs on the `stack`'s dev server and workers."""
    async with api_on_stack(stack, tmp_path) as api:
        yield api
