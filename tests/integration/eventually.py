"""Poll instead of sleeping: retry an assertion until it holds or a generous limit passes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def assert_eventually(
    check: Callable[[], Awaitable[None]], timeout_s: float = 30.0, every_s: float = 0.1
) -> None:
    """Run `check` until it stops raising AssertionError; re-raise its last failure after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            await check()
            return
        except AssertionError:
            if loop.time() > deadline:
                raise
        await asyncio.sleep(every_s)
