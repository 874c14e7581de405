"""Browser end-to-end tests: the built web UI (web/dist), served by the API on 127.0.0.1 over a
real dev server and workers, driven by Playwright in Debian's chromium (never a downloaded
browser). Without chromium or a build they skip, saying how to get them, except under CI=true,
where that is a failure."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright
from temporalio.testing import WorkflowEnvironment

from core.environments import ephemeral_dev_server

CHROMIUM = Path(os.environ.get("STEPWISE_CHROMIUM", "/usr/bin/chromium"))
DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (under CI=true the browser tests must run)")
    pytest.skip(reason)


def _check_prerequisites() -> None:
    if not CHROMIUM.is_file():
        _missing(f"no chromium at {CHROMIUM}: install Debian's with `sudo apt-get install chromium`")
    if not (DIST / "index.html").is_file():
        _missing(f"the web UI is not built ({DIST} has no index.html): run `make web`")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless chromium for the session."""
    _check_prerequisites()
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the tests put their screenshots: STEPWISE_SCREENSHOTS (`make screenshots` sets it
    to docs/images) or the test's temporary folder."""
    folder = Path(os.environ.get("STEPWISE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server for the browser tests."""
    async with await ephemeral_dev_server() as env:
        yield env
