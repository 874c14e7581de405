"""The web UI in a real browser, the way a person uses it: sign in with a second factor,
upload the scene pipeline (docs/examples/scene-narration.yaml), start a run from the input
form, choose three scenes in the select, watch the run complete; and see the server's message
when an answer is refused. Screenshots go where `screenshots` says (docs/images with
`make screenshots`)."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, Page, ViewportSize, expect
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from core.auth.totp import code_at, time_step
from core.clock import utcnow
from tests.helpers import registry
from tests.integration.api_client import PASSWORD, Api, MovableClock, running_api
from tests.integration.served import served
from tests.integration.stack_api import stack_settings
from tests.llm_servers.base import Json, Text
from tests.llm_servers.ollama_api import FakeOllama
from tests.llm_servers.openai_api import FakeOpenAI
from workers.worker import QUEUES, running_workers

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "scene-narration.yaml"
SCENES = [
    {"title": "The hive at dawn", "description": "Bees leave for the first flowers"},
    {"title": "The waggle dance", "description": "A forager tells where the food is"},
    {"title": "Nectar to honey", "description": "Fanning wings dry the nectar"},
    {"title": "Guard bees", "description": "Who may come in, and who may not"},
    {"title": "The queen", "description": "Two thousand eggs a day"},
    {"title": "Winter cluster", "description": "Keeping warm together"},
]
ASK = """stepwise: 1
name: ask
output: "{{ steps.code.value }}"
steps:
  - {id: code, module: user.text_input, inputs: {prompt: "Release code?", assignees: [ada]}}
"""
WIDE = ViewportSize(width=1280, height=900)
NARROW = ViewportSize(width=375, height=800)
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class UiStack:
    api: Api
    base: str
    secret: str
    headers: dict[str, str]


async def _two_factor_on(api: Api) -> tuple[str, dict[str, str]]:
    """ada (an admin) with two-factor authentication on: the TOTP secret, and headers of the
    sign-in made before it was on (for the test's own API calls)."""
    await api.add_user("ada", role="admin")
    headers = await api.token("ada")
    secret: str = (await api.http.post("/api/v1/auth/2fa/enrol", headers=headers)).json()["secret"]
    code = code_at(secret, time_step(api.clock()))
    confirmed = await api.http.post("/api/v1/auth/2fa/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    # The code of the next time step is the one the browser types (a used code is refused).
    api.clock.advance(30)
    return secret, headers


@contextlib.asynccontextmanager
async def ui_stack(env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[UiStack]:
    """The API serving the built UI on 127.0.0.1, with workers for every queue; api.llm on local
    servers speaking OpenAI's protocol (the scenes) and Ollama's (the narrations)."""
    with (
        FakeOpenAI(default=Json({"scenes": SCENES})) as openai,
        FakeOllama(token_delay_s=0.01, default=Text("Wings hum as the scene opens.")) as ollama,
    ):
        settings = stack_settings(
            env,
            tmp_path,
            f"e{uuid.uuid4().hex[:10]}-",
            openai_base_url=openai.url,
            openai_api_key=SecretStr("sk-test"),
            ollama_host=ollama.url,
            llm_aliases={"generate": "m1@openai", "cheap": "m1@openai"},
            llm_models=["m1", "qwen2.5:7b"],
            worker_token=SecretStr("e2e-worker-token-0123456789"),
        )
        async with running_api(settings, MovableClock(utcnow()), registry=registry()) as api:
            secret, headers = await _two_factor_on(api)
            async with served(api.app) as base:
                workers = settings.model_copy(update={"worker_api_url": base})
                async with running_workers(
                    env.client, list(QUEUES), workers, registry(), sessions=api.sessions
                ):
                    yield UiStack(api, base, secret, headers)


@contextlib.asynccontextmanager
async def browsing(browser: Browser, viewport: ViewportSize) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies, no storage) and its page; closed at the end, which
    also ends the page's live streams, so the server can stop."""
    context = await browser.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def sign_in(page: Page, stack: UiStack) -> None:
    await page.goto(stack.base + "/")
    await page.get_by_label("Username").fill("ada")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("Code").fill(code_at(stack.secret, time_step(stack.api.clock())))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_sign_in_with_2fa_upload_start_choose_three_scenes_and_watch_it_complete(
    browser: Browser, dev_env: WorkflowEnvironment, tmp_path: Path, screenshots: Path
) -> None:
    async with ui_stack(dev_env, tmp_path) as stack, browsing(browser, WIDE) as page:
        await _scene_tour(page, stack, screenshots)


async def _scene_tour(page: Page, stack: UiStack, screenshots: Path) -> None:
    await sign_in(page, stack)

    # Upload the example as a new definition.
    await page.get_by_role("link", name="Definitions", exact=True).click()
    await page.get_by_role("link", name="New definition").click()
    await page.get_by_label("Definition source").fill(EXAMPLE.read_text())
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_role("heading", name="scene-narration")).to_be_visible()

    # Start it from the form its input schema makes.
    await page.get_by_label("topic").fill("bees")
    await page.get_by_role("button", name="Start").click()
    await page.wait_for_url(re.compile(r"/runs/scene-narration-"))
    run_id = page.url.rsplit("/", 1)[-1]
    await expect(page.get_by_text("Waiting for")).to_be_visible()

    # Answer the select in the inbox: fewer than three cannot be sent.
    await page.get_by_role("link", name="Inbox", exact=True).click()
    await page.get_by_role("button", name=re.compile("Which scenes should we narrate")).click()
    submit = page.get_by_role("button", name="Submit choice")
    for scene in SCENES[:2]:
        await page.get_by_label(re.compile(scene["title"])).check()
    await expect(submit).to_be_disabled()
    await page.get_by_label(re.compile(SCENES[4]["title"])).check()
    await expect(submit).to_be_enabled()
    await page.screenshot(path=str(screenshots / "select-answer.png"), full_page=True)
    await submit.click()
    await expect(page.get_by_text("Nothing waits for you.")).to_be_visible()

    # The run completes, live: its timeline shows the steps and the streamed narration.
    await page.goto(f"{stack.base}/runs/{run_id}")
    await expect(page.locator(".facts .status")).to_have_text(re.compile("completed", re.I))
    await expect(page.get_by_text("workflow complete").first).to_be_visible()
    # The output narrates the three scenes chosen in the browser, and only those.
    output = page.get_by_role("heading", name="Output").locator("xpath=following-sibling::*[1]")
    for scene in (SCENES[0], SCENES[1], SCENES[4]):
        await expect(output).to_contain_text(scene["title"])
    await expect(output).not_to_contain_text(SCENES[2]["title"])
    await expect(output).to_contain_text("Wings hum as the scene opens.")
    # The ledger: the scenes' call and the three narrations.
    await expect(page.get_by_text(re.compile(r"tokens in 4 calls"))).to_be_visible()
    await page.screenshot(path=str(screenshots / "run-timeline.png"), full_page=True)

    await page.get_by_role("link", name="Runs", exact=True).click()
    await expect(page.get_by_role("link", name=run_id)).to_be_visible()
    await page.screenshot(path=str(screenshots / "runs-list.png"))


async def test_a_refused_answer_shows_the_servers_message_next_to_the_field(
    browser: Browser, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with ui_stack(dev_env, tmp_path) as stack:
        headers = stack.headers
        uploaded = await stack.api.http.post(
            "/api/v1/definitions", content=ASK, headers={**headers, "Content-Type": "application/yaml"}
        )
        assert uploaded.status_code in (200, 201), uploaded.text
        async with browsing(browser, NARROW) as page:
            await _refused(page, stack, headers)


async def _refused(page: Page, stack: UiStack, headers: dict[str, str]) -> None:
    await sign_in(page, stack)
    started = await stack.api.http.post("/api/v1/runs", json={"definition": "ask"}, headers=headers)
    run_id = started.json()["id"]

    await page.get_by_role("link", name="Inbox", exact=True).click()
    await page.get_by_role("button", name="Release code?").click()
    await page.get_by_label("Release code?").fill("from the browser")
    # Someone answers first, elsewhere; the browser's answer is then refused.
    interactions = await stack.api.http.get(f"/api/v1/runs/{run_id}/interactions", headers=headers)
    (open_one,) = interactions.json()
    first = await stack.api.http.post(
        f"/api/v1/runs/{run_id}/interactions/{open_one['id']}",
        json={"value": "from the API"},
        headers=headers,
    )
    assert first.status_code == 200, first.text
    await page.get_by_role("button", name="Submit", exact=True).click()
    alert = page.get_by_role("alert")
    await expect(alert).to_be_visible()
    refused = await stack.api.http.post(
        f"/api/v1/runs/{run_id}/interactions/{open_one['id']}", json={"value": "again"}, headers=headers
    )
    assert refused.status_code >= 400
    # The browser shows the server's own words.
    await expect(alert).to_contain_text(refused.json()["detail"][:40])
