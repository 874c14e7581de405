"""`stepwise run --local`: an ephemeral dev server and workers, one run, then stop them."""

from __future__ import annotations

from typing import Any

from core.environments import ephemeral_dev_server
from core.runs import Prepared, start_run
from core.settings import Settings
from workers.worker import QUEUES, running_workers
from workflows.modules import Registry


async def run_local(prepared: Prepared, run_input: Any, settings: Settings, registry: Registry) -> Any:
    """Run a prepared definition to completion on a throwaway server; returns its output."""
    async with (
        await ephemeral_dev_server() as env,
        running_workers(env.client, list(QUEUES), settings, registry),
    ):
        handle = await start_run(env.client, prepared, run_input, settings)
        result = await handle.result()
        return result.output
