"""The run page's weight and time to interactive (issue [web]), measured in Debian's chromium.

    .venv/bin/python -m bench.web_page [--rounds 15]

It serves the built UI (`make web` first) from the API over a real dev server and workers, makes
one finished run (a fetch-free definition of pure steps and an answered human step), and opens
its page `--rounds` times in fresh browser contexts (no cache), signed in through storage:
- JS gzip: the scripts the page loaded, each compressed with gzip -6 as a server would send it;
- app: from navigation start until the app's shell answers (signed in, its menu drawn);
- time to interactive: from navigation start until the page shows the run's state and its
  controls answer (the rerun select is there), read from the page's own performance clock.
Two variants, interleaved round by round: this machine as it is, and a slow one (chromium's
emulation: 10 Mbit/s down, 40 ms latency, the CPU slowed 4x).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import statistics
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Response, async_playwright

from core.db.migrate import upgrade
from core.environments import ephemeral_dev_server
from core.settings import Settings
from tests.helpers import registry
from tests.integration.api_client import TEST_SECRET, Api, running_api
from tests.integration.served import served
from workers.worker import QUEUES, running_workers

CHROMIUM = os.environ.get("STEPWISE_CHROMIUM", "/usr/bin/chromium")
DEFINITION = """stepwise: 1
name: bench-page
output: "{{ steps.total.sum }}"
steps:
  - {id: numbers, module: transform.extract, inputs: {values: [1, 2, 3, 4]}}
  - {id: ok, module: user.pause, inputs: {message: "Go on?"}}
  - {id: total, module: transform.extract, inputs: {sum: "{{ steps.numbers['values'] | sum }}"}}
"""
SLOW = {"download": 10e6 / 8, "upload": 5e6 / 8, "latency": 40, "cpu": 4}


@contextlib.asynccontextmanager
async def stack(folder: Path) -> AsyncIterator[tuple[Api, str]]:
    url = f"sqlite+aiosqlite:///{folder / 'stepwise.db'}"
    await upgrade(url)
    async with await ephemeral_dev_server() as env:
        host, _, port = env.client.service_client.config.target_host.rpartition(":")
        settings = Settings(
            data_dir=folder,
            database_url=url,
            secret_key=TEST_SECRET,
            temporal_host=host,
            temporal_port=int(port),
            task_queue_prefix=f"w{uuid.uuid4().hex[:8]}-",
        )
        async with (
            running_api(settings, registry=registry()) as api,
            served(api.app) as base,
            running_workers(env.client, list(QUEUES), settings, registry()),
        ):
            yield api, base


async def finished_run(api: Api) -> tuple[str, dict[str, Any]]:
    """A completed run of DEFINITION, and the token pair of its owner."""
    await api.add_user("ada")
    pair = await api.login("ada")
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    uploaded = await api.http.post(
        "/api/v1/definitions", content=DEFINITION, headers={**headers, "Content-Type": "application/yaml"}
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    run_id: str = (
        await api.http.post("/api/v1/runs", json={"definition": "bench-page"}, headers=headers)
    ).json()["id"]
    for _ in range(600):
        open_ones = (await api.http.get(f"/api/v1/runs/{run_id}/interactions", headers=headers)).json()
        if open_ones:
            break
        await asyncio.sleep(0.05)
    answer = await api.http.post(
        f"/api/v1/runs/{run_id}/interactions/{open_ones[0]['id']}", json={"confirmed": True}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    for _ in range(600):
        if (await api.http.get(f"/api/v1/runs/{run_id}", headers=headers)).json()["state"] == "completed":
            return run_id, pair
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{run_id} did not complete")


async def measure(browser: Browser, url: str, pair: dict[str, Any], slow: bool) -> tuple[float, float, int]:
    """(ms until the app answers, ms until the run is shown and its controls answer, gzip bytes
    of the scripts) of one cold load of `url`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    session = json.dumps({"access_token": pair["access_token"], "refresh_token": pair["refresh_token"]})
    await context.add_init_script(f"localStorage.setItem('stepwise.session', {json.dumps(session)})")
    page: Page = await context.new_page()
    scripts: list[Response] = []
    page.on("response", lambda r: scripts.append(r) if r.request.resource_type == "script" else None)
    if slow:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": SLOW["latency"],
                "downloadThroughput": SLOW["download"],
                "uploadThroughput": SLOW["upload"],
            },
        )
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": SLOW["cpu"]})
    try:
        await page.goto(url)
        await page.get_by_role("button", name="Sign out").wait_for()
        shell_ms: float = await page.evaluate("performance.now()")
        await page.locator(".facts .status").wait_for()
        await page.get_by_label("Rerun from step").wait_for()
        ready_ms: float = await page.evaluate("performance.now()")
        weight = 0
        for response in scripts:
            weight += len(gzip.compress(await response.body(), compresslevel=6))
        return shell_ms, ready_ms, weight
    finally:
        await context.close()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with stack(Path(folder)) as (api, base), async_playwright() as playwright:
            run_id, pair = await finished_run(api)
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            url = f"{base}/runs/{run_id}"
            await measure(browser, url, pair, False)  # warm-up: the server's first requests
            results: dict[str, list[tuple[float, float, int]]] = {
                "this machine": [],
                "10 Mbit/s, 40 ms, CPU / 4": [],
            }
            for _ in range(rounds):
                for name, slow in (("this machine", False), ("10 Mbit/s, 40 ms, CPU / 4", True)):
                    results[name].append(await measure(browser, url, pair, slow))
            await browser.close()
    print(f"run page, {rounds} cold loads a variant, interleaved")
    print(f"{'variant':<28}{'JS gzip KB':>12}{'app p50 ms':>12}{'TTI p50 ms':>12}{'TTI p95 ms':>12}")
    for name, samples in results.items():
        shell = [s for s, _, _ in samples]
        times = [t for _, t, _ in samples]
        kb = max(w for _, _, w in samples) / 1024
        row = f"{name:<28}{kb:>12.1f}{statistics.median(shell):>12.0f}"
        print(f"{row}{statistics.median(times):>12.0f}{_p95(times):>12.0f}")
    print("app: the page's shell answers (signed in); TTI: the run's state is shown and its controls answer")
    print("targets: <= 300 KB gzip, <= 1,000 ms on this machine")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(main(parser.parse_args().rounds))
    sys.stdout.flush()
    os._exit(0)  # the SDK's threads can abort interpreter teardown (see cli.main.entry)
