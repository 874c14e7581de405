"""Streaming api.llm steps: the worker posts tokens to the API's internal endpoint, the run's
SSE stream shows them as `module_progress` events before the step's output, and a worker that
cannot post (no API there, a wrong token) still gives the whole result. The endpoint admits
the worker token only; on PostgreSQL, chunks posted to one API replica reach the streams of
another through LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from core.clock import utcnow
from core.devserver import free_port
from core.progress import ProgressChunk
from core.runs import Prepared, start_run
from core.settings import LlmPrice, Settings
from core.temporal import connect
from tests.helpers import plan_of, registry
from tests.integration.api_client import TEST_SECRET, Api, MovableClock, running_api
from tests.integration.eventually import assert_eventually
from tests.integration.served import served, sse_messages
from tests.integration.stack_api import stack_settings
from tests.llm_servers.base import Text
from tests.llm_servers.openai_api import FakeOpenAI
from workers.worker import QUEUES, running_workers
from workflows.engine.models import RunOutput

TOKEN = "worker-token-for-tests-0123456789"
STORY = " ".join(f"word{n}" for n in range(40))
STREAMED = """stepwise: 1
name: streamed-TAG
output: "{{ steps.tell }}"
steps:
  - {id: go, module: user.text_input, inputs: {prompt: "Go?", assignees: [ana]}}
  - {id: tell, module: api.llm, inputs: {model: m1, input: "Tell a story", stream: true}}
"""


@dataclass
class Streaming:
    api: Api
    base: str
    server: FakeOpenAI
    env: WorkflowEnvironment
    settings: Settings
    tag: str


@contextlib.asynccontextmanager
async def streaming_stack(
    env: WorkflowEnvironment, tmp_path: Path, **worker_settings: Any
) -> AsyncIterator[Streaming]:
    """The API served on 127.0.0.1 with a worker token, and workers that post to it (or where
    `worker_settings` say)."""
    with FakeOpenAI(token_delay_s=0.02, default=Text(STORY)) as server:
        settings = stack_settings(
            env,
            tmp_path,
            f"s{uuid.uuid4().hex[:10]}-",
            openai_base_url=server.url,
            openai_api_key="sk-test",
            llm_default_provider="openai",
            llm_models=["m1"],
            llm_prices={"m1": LlmPrice(input_per_million=1.0, output_per_million=2.0)},
            worker_token=SecretStr(TOKEN),
        )
        async with running_api(settings, MovableClock(utcnow()), registry=registry()) as api:
            await api.add_user("ana")
            async with served(api.app) as base:
                workers = settings.model_copy(update={"worker_api_url": base, **worker_settings})
                # On this process's telemetry runtime, so the LLM counters reach /metrics.
                client = await connect(settings)
                async with running_workers(client, list(QUEUES), workers, registry(), sessions=api.sessions):
                    yield Streaming(api, base, server, env, settings, uuid.uuid4().hex[:8])


async def watched_run(stack: Streaming) -> tuple[list[dict[str, Any]], Any]:
    """Start the run, follow its stream as ana (answering its first step once the stream is
    open, so nothing streams before anyone listens); every event, and the run's output."""
    plan = plan_of(STREAMED.replace("TAG", stack.tag), header=False)
    handle = await start_run(stack.env.client, Prepared(plan), {}, stack.settings, "ana")
    headers = await stack.api.token("ana")
    events: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=stack.base, timeout=60) as http:
        async for message in sse_messages(http, f"/api/v1/runs/{handle.id}/stream", headers):
            if message.event == "end":
                break
            event = json.loads(message.data)
            events.append(event)
            if event["type"] == "module_progress":
                assert "id" not in event  # not in the history: a reconnect resumes from the last event
            if event["type"] == "interaction_request":
                interaction = event["data"]["interaction"]["id"]
                answer = await http.post(
                    f"/api/v1/runs/{handle.id}/interactions/{interaction}",
                    json={"value": "yes"},
                    headers=headers,
                )
                assert answer.status_code == 200, answer.text
    result: RunOutput = await handle.result()
    return events, result.output


def streamed_text(events: list[dict[str, Any]]) -> str:
    text = ""
    for event in events:
        if event["type"] == "module_progress":
            assert event["data"]["offset"] == len(text)  # in order, nothing missing or twice
            text += event["data"]["text"]
    return text


async def test_tokens_reach_the_stream_before_the_steps_output(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with streaming_stack(dev_env, tmp_path) as stack:
        events, output = await watched_run(stack)
        assert stack.server.last.body["stream"] is True
        # The history itself holds no progress: GET .../events has none.
        page = await stack.api.http.get(
            f"/api/v1/runs/{events[0]['run']}/events", headers=await stack.api.token("ana")
        )
        # The ledger's counters on /metrics, by definition, model and provider.
        labels = {"definition": f"streamed-{stack.tag}", "model": "m1", "provider": "openai"}
        usage = output["usage"]
        samples: list[Sample] = []

        async def counted() -> None:
            metrics = await stack.api.http.get("/metrics")
            samples[:] = [
                s for family in text_string_to_metric_families(metrics.text) for s in family.samples
            ]
            tokens = "stepwise_llm_tokens_total"
            assert _value(samples, tokens, direction="output", **labels) == usage["output_tokens"] == 40
            assert _value(samples, tokens, direction="input", **labels) == usage["input_tokens"] > 0

        await assert_eventually(counted)
        cost = _value(samples, "stepwise_llm_cost_microdollars_total", **labels)
        assert cost == round(usage["cost_usd"] * 1e6) == usage["input_tokens"] + 80
    assert "module_progress" not in {e["type"] for e in page.json()["events"]}
    assert output["response"] == STORY
    progress = [e for e in events if e["type"] == "module_progress"]
    assert progress, "no module_progress event reached the stream"
    assert {(e["step"], e["module"], e["data"]["attempt"], e["data"]["call"]) for e in progress} == {
        ("tell", "api.llm", 1, 1)
    }
    assert streamed_text(events) == STORY
    kinds = [(e["type"], e.get("step")) for e in events]
    # Every token came before the step's output (the worker posts the last ones before it returns).
    last_token = max(i for i, (kind, _) in enumerate(kinds) if kind == "module_progress")
    assert kinds.index(("module_output", "tell")) > last_token


async def test_a_worker_that_cannot_post_still_gives_the_whole_result(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with streaming_stack(dev_env, tmp_path / "a", worker_api_url=nowhere) as stack:
        events, output = await watched_run(stack)
    assert output["response"] == STORY
    assert not [e for e in events if e["type"] == "module_progress"]
    async with streaming_stack(dev_env, tmp_path / "b", worker_token=SecretStr("not-the-token")) as stack:
        events, output = await watched_run(stack)
    assert output["response"] == STORY
    assert not [e for e in events if e["type"] == "module_progress"]
    assert [e["type"] for e in events][-1] == "workflow_complete"


def chunk(text: str, offset: int = 0, run: str = "r-1") -> dict[str, Any]:
    return {"run": run, "step": "tell", "module": "api.llm", "attempt": 1, "offset": offset, "text": text}


async def test_the_endpoint_admits_the_worker_token_only(db_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=db_url, secret_key=TEST_SECRET)
    async with running_api(settings) as off:
        await off.add_user("root", role="admin")
        response = await off.http.post("/api/v1/internal/progress", json={"chunks": [chunk("x")]})
        assert response.status_code == 404
        assert "STEPWISE_WORKER_TOKEN" in response.json()["detail"]
    on = settings.model_copy(update={"worker_token": SecretStr(TOKEN)})
    async with running_api(on) as api:
        url = "/api/v1/internal/progress"
        body = {"chunks": [chunk("hello")]}
        assert (await api.http.post(url, json=body)).status_code == 401
        # A user's own credentials, even an admin's, are not the worker token.
        admin = await api.token("root")
        refused = await api.http.post(url, json=body, headers=admin)
        assert refused.status_code == 401
        assert "STEPWISE_WORKER_TOKEN" in refused.json()["detail"]
        worker = {"Authorization": f"Bearer {TOKEN}"}
        bad = await api.http.post(url, json={"chunks": [{"run": "r-1", "text": "x"}]}, headers=worker)
        assert bad.status_code == 422
        with (
            api.app.state.progress.hub.subscribe("r-1") as mine,
            api.app.state.progress.hub.subscribe("r-2") as other,
        ):
            posted = await api.http.post(url, json=body, headers=worker)
            assert posted.status_code == 204
            await _eventually(lambda: bool(mine.chunks))
            assert [c.text for c in mine.take()] == ["hello"]
            assert other.chunks == []


async def test_chunks_posted_to_one_replica_reach_the_streams_of_another(db_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=db_url, secret_key=TEST_SECRET, worker_token=SecretStr(TOKEN)
    )
    # Longer than one NOTIFY takes, and not all ASCII: it arrives in pieces that fit.
    long_text = "é" * 9_000 + "ß" * 9_000
    worker = {"Authorization": f"Bearer {TOKEN}"}
    async with running_api(settings) as one, running_api(settings) as two:
        with (
            one.app.state.progress.hub.subscribe("r-1") as here,
            two.app.state.progress.hub.subscribe("r-1") as there,
        ):
            body = {"chunks": [chunk("a"), chunk(long_text, offset=1), chunk("child", run="r-1.sub.1")]}
            assert (
                await one.http.post("/api/v1/internal/progress", json=body, headers=worker)
            ).status_code == 204
            expected = "a" + long_text + "child"
            await _eventually(lambda: _joined(here.chunks) == expected)
            if db_url.startswith("postgresql"):
                await _eventually(lambda: _joined(there.chunks) == expected)
                assert {c.run for c in there.chunks} == {"r-1", "r-1.sub.1"}
                pieces = [c for c in there.chunks if c.run == "r-1"]
                assert [c.offset for c in pieces] == sorted(c.offset for c in pieces)
                assert "".join(c.text for c in pieces) == "a" + long_text
            else:
                # One API process on SQLite: nothing crosses between processes.
                await asyncio.sleep(0.2)
                assert there.chunks == []


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) <= 1, found
    return found[0].value if found else 0.0


def _joined(chunks: list[ProgressChunk]) -> str:
    return "".join(c.text for c in chunks)


async def _eventually(check: Any, within_s: float = 20.0) -> None:
    for _ in range(int(within_s / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()
