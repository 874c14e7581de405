"""api.llm steps end to end on a real dev server, the OpenAI SDK talking to a local server that
speaks its wire protocol: structured output repaired, per-model queues and fallback chains, a
model nobody serves, 429 with Retry-After, run and monthly budgets, the ledger in run details
and /api/v1/usage; an llm worker's warm-up and /health."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from activities.llm.ollama_chat import OllamaProvider
from core.clock import utcnow
from core.metrics import serve_metrics
from core.runs import Prepared, start_run
from core.settings import LlmBudget, LlmPrice, Settings
from tests.helpers import plan_of, registry
from tests.integration.api_client import Api, MovableClock, running_api
from tests.integration.stack_api import stack_settings
from tests.llm_servers.base import Json, Text
from tests.llm_servers.ollama_api import FakeOllama
from tests.llm_servers.openai_api import FakeOpenAI
from workers.llm import LlmServing, warm_models
from workers.worker import QUEUES, running_workers
from workflows.engine.models import RunOutput

SCENES = {
    "type": "object",
    "properties": {"scenes": {"type": "array", "items": {"type": "string"}, "minItems": 2}},
    "required": ["scenes"],
}


def definition(name: str, steps: str, budget: str = "") -> str:
    return f"stepwise: 1\nname: {name}\n{budget}steps:\n{steps}"


def with_output(text: str, output: str) -> str:
    return text.replace("stepwise: 1\n", f'stepwise: 1\noutput: "{output}"\n', 1)


@dataclass
class LlmStack:
    api: Api
    server: FakeOpenAI
    settings: Settings
    env: WorkflowEnvironment

    async def run(self, text: str, owner: str | None = None) -> Any:
        handle = await start_run(
            self.env.client, Prepared(plan_of(text, header=False)), {}, self.settings, owner=owner
        )
        result: RunOutput = await handle.result()
        return result.output

    async def failure(self, text: str, owner: str | None = None) -> str:
        handle = await start_run(
            self.env.client, Prepared(plan_of(text, header=False)), {}, self.settings, owner=owner
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        return str(failed.value.cause)

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.server.requests if r.path.endswith("/chat/completions")]


@pytest_asyncio.fixture(loop_scope="session")
async def llm(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[LlmStack]:
    with FakeOpenAI() as server:
        settings = stack_settings(
            dev_env,
            tmp_path,
            f"l{uuid.uuid4().hex[:10]}-",
            openai_base_url=server.url,
            openai_api_key="sk-test",
            llm_default_provider="openai",
            llm_aliases={"chat": "m1", "generate": ["m1"], "cheap": "tiny"},
            llm_prices={"m1": LlmPrice(input_per_million=1.0, output_per_million=2.0)},
            llm_user_monthly_budget=LlmBudget(max_tokens=50),
            llm_user_budgets={"rich": LlmBudget(max_tokens=10**9)},
        )
        async with (
            running_api(settings, MovableClock(utcnow()), registry=registry()) as api,
            running_workers(dev_env.client, list(QUEUES), settings, registry(), sessions=api.sessions),
        ):
            yield LlmStack(api, server, settings, dev_env)


async def test_a_reply_that_misses_the_schema_is_repaired_and_every_token_counted(llm: LlmStack) -> None:
    llm.server.script(
        Json({"scenes": ["only one"]}, input_tokens=10, output_tokens=5),
        Json({"scenes": ["a", "b"]}, input_tokens=20, output_tokens=6),
    )
    schema = json.dumps(SCENES)
    step = (
        f'  - {{id: ideas, module: api.llm, inputs: {{model: "@generate", input: "Scenes", '
        f"output_schema: {schema}}}}}\n"
    )
    output = await llm.run(with_output(definition("repaired", step), "{{ steps.ideas }}"))
    assert output["response"] == {"scenes": ["a", "b"]}
    assert output["model"] == "m1"
    assert output["provider"] == "openai"
    assert output["usage"] == {
        "input_tokens": 30,
        "output_tokens": 11,
        "total_tokens": 41,
        "calls": 2,
        "cost_usd": (30 * 1.0 + 11 * 2.0) / 1e6,
    }
    first, second = llm.bodies()
    assert first["model"] == "m1"
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["schema"] == SCENES
    # The second request carries the first reply and what was wrong with it.
    assert second["messages"][-2]["role"] == "assistant"
    assert "at /scenes: ['only one'] is too short" in second["messages"][-1]["content"]


async def test_a_chain_goes_past_a_model_nobody_serves_and_one_that_refuses(llm: LlmStack) -> None:
    llm.server.script(Text("fallback answer"))
    steps = '  - {id: a, module: api.llm, inputs: {model: ["ghost", "m1"], input: "Hi"}}\n'
    output = await llm.run(with_output(definition("chain", steps), "{{ steps.a }}"))
    assert output["response_text"] == "fallback answer"
    assert output["model"] == "m1"
    assert [b["model"] for b in llm.bodies()] == ["m1"]  # nothing was sent for the ghost
    # A model that refuses (400, not retried) hands over to the next one.
    llm.server.fail(400, "this model does not exist")
    llm.server.script(Text("tiny answers"))
    refused = '  - {id: a, module: api.llm, inputs: {model: ["m1", "@cheap"], input: "Hi"}}\n'
    output = await llm.run(with_output(definition("refused", refused), "{{ steps.a }}"))
    assert output["response_text"] == "tiny answers"
    assert output["model"] == "tiny"
    assert [b["model"] for b in llm.bodies()] == ["m1", "m1", "tiny"]


async def test_a_model_no_worker_serves_fails_at_once_and_says_how_to_serve_it(llm: LlmStack) -> None:
    steps = '  - {id: a, module: api.llm, inputs: {model: "ghost", input: "Hi"}}\n'
    message = await llm.failure(definition("unserved", steps))
    assert "no worker serves it (task queue llm.ghost)" in message
    assert "stepwise worker --queue llm --models ghost" in message
    alias = '  - {id: a, module: api.llm, inputs: {model: "@nope", input: "Hi"}}\n'
    assert "'@nope' is not defined" in await llm.failure(definition("unknown-alias", alias))


async def test_a_429_is_retried_after_the_delay_the_provider_asked_for(llm: LlmStack) -> None:
    llm.server.fail(429, "slow down", retry_after="1")
    llm.server.script(Text("after the wait"))
    steps = '  - {id: a, module: api.llm, inputs: {input: "Hi"}, retry: {max_attempts: 2, initial_interval: 1h}}\n'
    # The step's own retry waits an hour: the run ends within the test only because the second
    # attempt went out after the provider's Retry-After (1 s). The bound is not a measurement.
    output = await asyncio.wait_for(
        llm.run(with_output(definition("limited", steps), "{{ steps.a.response_text }}")), 120
    )
    assert output == "after the wait"
    assert len(llm.bodies()) == 2


TWO_STEPS = """  - {id: a, module: api.llm, inputs: {input: "one two three"}}
  - {id: b, module: api.llm, inputs: {input: "{{ steps.a.response_text }}"}}
"""


async def test_a_spent_run_budget_fails_the_next_step_or_moves_it_to_the_fallback(llm: LlmStack) -> None:
    llm.server.script(Text("a long reply", input_tokens=8, output_tokens=8))
    message = await llm.failure(definition("capped", TWO_STEPS, "budget: {max_tokens: 10}\n"))
    assert "step 'b'" in message
    assert "the run's budget is spent (16 tokens used of max_tokens 10)" in message
    assert len(llm.bodies()) == 1
    llm.server.script(Text("a long reply", input_tokens=8, output_tokens=8), Text("cheap"))
    budget = 'budget: {max_tokens: 10, fallback: "@cheap"}\n'
    output = await llm.run(with_output(definition("fallback", TWO_STEPS, budget), "{{ steps.b }}"))
    assert output["model"] == "tiny"
    assert output["response_text"] == "cheap"


async def test_a_monthly_budget_is_read_from_the_ledger(llm: LlmStack) -> None:
    one = '  - {id: a, module: api.llm, inputs: {input: "Hi"}}\n'
    llm.server.script(Text("first", input_tokens=30, output_tokens=30))
    assert (
        await llm.run(with_output(definition("month", one), "{{ steps.a.response_text }}"), "ana") == "first"
    )
    # ana's 50 tokens a month (the default budget) are spent; rich has a budget of their own.
    message = await llm.failure(definition("month", one), "ana")
    assert "the monthly LLM budget of ana is spent (60 tokens used of 50 this month)" in message
    llm.server.script(Text("still fine"))
    assert (
        await llm.run(with_output(definition("month", one), "{{ steps.a.response_text }}"), "rich")
        == "still fine"
    )


async def test_run_details_and_usage_show_the_ledger(llm: LlmStack) -> None:
    await llm.api.add_user("root", role="admin")
    await llm.api.add_user("ana")
    await llm.api.add_user("bo")
    llm.server.script(
        Text("x", input_tokens=3, output_tokens=4),
        Text("y", input_tokens=5, output_tokens=6),
        Text("z", input_tokens=1, output_tokens=1),
    )
    text = definition("ledger", TWO_STEPS)
    handle = await start_run(
        llm.env.client, Prepared(plan_of(text, header=False)), {}, llm.settings, owner="ana"
    )
    await handle.result()
    other = await start_run(
        llm.env.client,
        Prepared(
            plan_of(
                definition("ledger-bo", '  - {id: a, module: api.llm, inputs: {input: "Hi"}}\n'), header=False
            )
        ),
        {},
        llm.settings,
        owner="bo",
    )
    await other.result()
    ana = await llm.api.token("ana")
    detail = await llm.api.http.get(f"/api/v1/runs/{handle.id}", headers=ana)
    assert detail.status_code == 200, detail.text
    usage = detail.json()["llm_usage"]
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (2, 8, 10)
    assert usage["cost_usd"] == pytest.approx((8 * 1.0 + 10 * 2.0) / 1e6)
    assert [(c["step_id"], c["model"], c["input_tokens"]) for c in usage["calls_made"]] == [
        ("a", "m1", 3),
        ("b", "m1", 5),
    ]
    mine = await llm.api.http.get("/api/v1/usage", params={"group": "user"}, headers=ana)
    assert [(i["name"], i["calls"]) for i in mine.json()["items"]] == [("ana", 2)]
    root = await llm.api.token("root")
    everyone = await llm.api.http.get("/api/v1/usage", params={"group": "definition"}, headers=root)
    assert {i["name"]: i["total_tokens"] for i in everyone.json()["items"]} == {"ledger": 18, "ledger-bo": 2}
    me = await llm.api.http.get("/api/v1/usage/me", headers=ana)
    assert me.json()["spent"]["total_tokens"] == 18
    assert me.json()["budget"] == {"max_tokens": 50, "max_cost_usd": None}
    bad = await llm.api.http.get("/api/v1/usage", params={"month": "2026-13"}, headers=root)
    assert bad.status_code == 422
    assert "write YYYY-MM" in bad.text


async def test_an_llm_worker_warms_its_models_and_reports_them_on_health(tmp_path: Path) -> None:
    with FakeOllama() as ollama:
        settings = Settings(ollama_host=ollama.url, llm_aliases={})
        provider = OllamaProvider("ollama", ollama.url, 10.0)
        serving = LlmServing.from_settings(settings, ["qwen2.5:7b", "missing@nowhere"], 2)
        try:
            await warm_models(serving, {"ollama": provider}, settings)
        finally:
            await provider.aclose()
        warmed = [r for r in ollama.requests if r.body and r.body.get("model") == "qwen2.5:7b"]
        assert warmed
        assert "keep_alive" in warmed[0].body
    assert serving.state["qwen2.5:7b"] == "ready"
    assert serving.state["missing@nowhere"].startswith("failed: no provider named 'nowhere'")
    server = serve_metrics("127.0.0.1:0", CollectorRegistry(), lambda: {"llm": serving.health()})
    try:
        async with httpx.AsyncClient() as http:
            health = (await http.get(f"http://{server.address}/health")).json()
            metrics = await http.get(f"http://{server.address}/metrics")
    finally:
        server.close()
    assert health["llm"]["slots_per_model"] == 2
    assert [(m["queue"], m["state"][:6]) for m in health["llm"]["models"]] == [
        ("llm.qwen2.5:7b", "ready"),
        ("llm.missing", "failed"),
    ]
    assert metrics.status_code == 200
