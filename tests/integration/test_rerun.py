"""Rerun without re-spending, over HTTP on a real dev server, with api.llm served by a worker
that talks to a local server speaking OpenAI's chat completions protocol (it records every
request, so the provider calls are counted)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from tests.helpers import registry
from tests.integration.conftest import Stack
from tests.integration.run_team import Team
from tests.integration.stack_api import api_on_stack
from tests.llm_servers import FakeOpenAI, Text
from workers.worker import QUEUES, running_workers

MODEL = "x@openai"
CHAIN = """stepwise: 1
name: chain-{tag}
output: "{{ steps.e.response_text }}"
steps:
  - {id: a, module: api.llm, inputs: {model: "x@openai", input: "Start from {{ input.topic }}"}}
  - {id: b, module: api.llm, inputs: {model: "x@openai", input: "Go on from {{ steps.a.response_text }}"}}
  - {id: c, module: api.llm, inputs: {model: "x@openai", input: "Go on from {{ steps.b.response_text }}"}}
  - {id: d, module: api.llm, inputs: {model: "x@openai", input: "Go on from {{ steps.c.response_text }}"}}
  - {id: e, module: api.llm, inputs: {model: "x@openai", input: "End after {{ steps.d.response_text }}"}}
"""
# b's input holds the run's id (a pure step before it gives it), so a rerun's b has new input.
STAMPED = """stepwise: 1
name: stamped-{tag}
output: "{{ steps.c.response_text }}"
steps:
  - {id: a, module: api.llm, inputs: {model: "x@openai", input: "Start from {{ input.topic }}"}}
  - {id: stamp, module: transform.extract, inputs: {run: "{{ run.id }}"}}
  - {id: b, module: api.llm, inputs: {model: "x@openai", input: "{{ steps.a.response_text }} in {{ steps.stamp.run }}"}}
  - {id: c, module: api.llm, inputs: {model: "x@openai", input: "End after {{ steps.b.response_text }}"}}
"""
# Two llm steps in each of four iterations, `fresh` naming the run (so a rerun asks it again):
# with a short history limit, the run and its rerun both continue as new on the way.
LOOPED = """stepwise: 1
name: looped-{tag}
state: {n: 0}
output: "{{ steps.end.response_text }}"
steps:
  - id: spin
    loop: {until: "{{ state.n >= 4 }}", max_iterations: 10}
    steps:
      - {id: say, module: api.llm, inputs: {model: "x@openai", input: "Line {{ loop.iteration }}"}}
      - {id: fresh, module: api.llm, inputs: {model: "x@openai", input: "{{ run.id }} {{ loop.iteration }}"}}
      - {id: count, module: transform.extract, inputs: {n: '{{ state.n + 1 }}'}, outputs_to_state: {n: n}}
  - {id: end, module: api.llm, inputs: {model: "x@openai", input: "End after {{ state.n }} lines"}}
"""
PAUSE = """stepwise: 1
name: held-{tag}
steps:
  - {id: hold, module: user.pause, inputs: {message: 'Go on?', assignees: [nobody-{tag}]}}
"""


@dataclass
class LlmStack:
    team: Team
    server: FakeOpenAI

    def calls(self) -> list[Any]:
        """The chat requests the provider has had."""
        return [r for r in self.server.requests if r.path.endswith("/chat/completions")]

    async def finished(self, run_id: str) -> dict[str, Any]:
        return await self.team.run_when(run_id, lambda run: run["state"] not in ("running", "waiting"))

    async def rerun(self, who: str, run_id: str, from_step: str) -> dict[str, Any]:
        response = await self.team.post(who, f"/runs/{run_id}/rerun", {"from_step": from_step})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def completions(self, run_id: str) -> dict[str, dict[str, Any]]:
        """The data of each step's step_complete event."""
        response = await self.team.get("root", f"/runs/{run_id}/events")
        assert response.status_code == 200, response.text
        events = response.json()["events"]
        return {e["step"]: e["data"] for e in events if e["type"] == "step_complete"}


@contextlib.asynccontextmanager
async def llm_stack(env: WorkflowEnvironment, tmp_path: Path, **api_settings: Any) -> AsyncIterator[LlmStack]:
    """Workers of every queue (api.llm on `x@openai`, the fake server) and the API over them
    (with `api_settings`), everyone signed in."""
    with FakeOpenAI() as server:
        settings = Settings(
            task_queue_prefix=f"t{uuid.uuid4().hex[:10]}-",
            openai_base_url=server.url,
            openai_api_key=SecretStr("sk-test-rerun"),
            llm_models=[MODEL],
            llm_aliases={},
            llm_default_model=MODEL,
        )
        async with (
            running_workers(env.client, list(QUEUES), settings, registry()),
            api_on_stack(Stack(env, settings), tmp_path, **api_settings) as api,
        ):
            team = Team(api)
            await team.sign_in_everyone()
            yield LlmStack(team, server)


@pytest_asyncio.fixture(loop_scope="session")
async def llm(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[LlmStack]:
    async with llm_stack(dev_env, tmp_path) as stack:
        yield stack


def _replies(server: FakeOpenAI, *texts: str) -> None:
    server.script(*(Text(text) for text in texts))


async def test_a_rerun_from_the_last_step_asks_the_model_once(llm: LlmStack) -> None:
    team = llm.team
    await team.upload(CHAIN)
    _replies(llm.server, "one", "two", "three", "four", "five")
    first = await team.started("ada", {"definition": team.name("chain"), "input": {"topic": "owls"}})
    done = await llm.finished(first)
    assert (done["state"], done["output"]) == ("completed", "five")
    assert len(llm.calls()) == 5

    _replies(llm.server, "FIVE")
    started = await llm.rerun("ada", first, "e")
    assert started["rerun_of"] == {"run_id": first, "from_step": "e"}
    assert started["reusable_steps"] == ["a", "b", "c", "d"]
    assert (started["definition"], started["plan_hash"], started["owner"]) == (
        done["definition"],
        done["plan_hash"],
        team.name("ada"),
    )
    again = await llm.finished(started["id"])
    assert (again["state"], again["output"]) == ("completed", "FIVE")
    assert again["rerun_of"] == {"run_id": first, "from_step": "e"}
    calls = llm.calls()
    assert len(calls) == 6
    # The one new call is e's, with the input the reused d gave it.
    assert "End after four" in str(calls[-1].body["messages"])

    shown = await llm.completions(started["id"])
    for step in ("a", "b", "c", "d"):
        assert (shown[step].get("reused"), shown[step].get("reused_from")) == (True, first), step
    assert "reused" not in shown["e"]
    earlier = await llm.completions(first)
    assert all("reused" not in data for data in earlier.values())


async def test_a_rerun_from_the_first_step_asks_the_model_for_every_step(llm: LlmStack) -> None:
    team = llm.team
    await team.upload(CHAIN)
    _replies(llm.server, "one", "two", "three", "four", "five")
    first = await team.started("ada", {"definition": team.name("chain"), "input": {"topic": "owls"}})
    await llm.finished(first)
    before = len(llm.calls())

    _replies(llm.server, "1", "2", "3", "4", "5")
    started = await llm.rerun("ada", first, "a")
    assert started["reusable_steps"] == []
    again = await llm.finished(started["id"])
    assert (again["state"], again["output"]) == ("completed", "5")
    assert len(llm.calls()) == before + 5
    assert all("reused" not in data for data in (await llm.completions(started["id"])).values())


async def test_a_step_whose_rendered_input_changed_asks_the_model_again(llm: LlmStack) -> None:
    team = llm.team
    await team.upload(STAMPED)
    _replies(llm.server, "one", "two", "three")
    first = await team.started("ada", {"definition": team.name("stamped"), "input": {"topic": "owls"}})
    await llm.finished(first)
    before = len(llm.calls())

    _replies(llm.server, "TWO", "THREE")
    started = await llm.rerun("ada", first, "c")
    assert started["reusable_steps"] == ["a", "b"]
    again = await llm.finished(started["id"])
    assert (again["state"], again["output"]) == ("completed", "THREE")
    # a is reused; b's input names the new run, so b asks again; c runs anew.
    assert len(llm.calls()) == before + 2
    assert started["id"] in str(llm.calls()[-2].body["messages"])
    shown = await llm.completions(started["id"])
    assert shown["a"].get("reused") is True
    assert "reused" not in shown["b"]
    assert "reused" not in shown["c"]


async def test_a_rerun_is_refused_for_unknown_steps_runs_others_runs_and_open_runs(llm: LlmStack) -> None:
    team = llm.team
    await team.upload(CHAIN)
    _replies(llm.server, "one", "two", "three", "four", "five")
    first = await team.started("ada", {"definition": team.name("chain"), "input": {"topic": "owls"}})
    await llm.finished(first)
    calls = len(llm.calls())

    unknown = await team.post("ada", f"/runs/{first}/rerun", {"from_step": "f"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == (
        f"from_step: plan '{team.name('chain')}' has no step 'f'; its steps are a, b, c, d, e"
    )
    others = await team.post("ben", f"/runs/{first}/rerun", {"from_step": "e"})
    assert (others.status_code, others.json()["detail"]) == (404, f"no run with id {first}")
    missing = await team.post("ada", "/runs/no-such-run-here/rerun", {"from_step": "e"})
    assert missing.status_code == 404

    await team.upload(PAUSE)
    held = await team.started("ada", {"definition": team.name("held")})
    await team.run_when(held, lambda run: run["state"] == "waiting")
    open_run = await team.post("ada", f"/runs/{held}/rerun", {"from_step": "hold"})
    assert open_run.status_code == 409
    assert "still waiting" in open_run.json()["detail"]
    assert len(llm.calls()) == calls

    # An operator may rerun anyone's run; the rerun is theirs, and audited.
    _replies(llm.server, "FIVE")
    staff = await llm.rerun("otto", first, "e")
    assert staff["owner"] == team.name("otto")
    assert (await llm.finished(staff["id"]))["output"] == "FIVE"
    audit = await team.get("root", "/audit", limit=500)
    assert audit.status_code == 200, audit.text
    entries = [e for e in audit.json()["items"] if e["target"] == staff["id"]]
    assert [(e["action"], e["detail"]["rerun_of"], e["detail"]["from_step"]) for e in entries] == [
        ("run.rerun", first, "e")
    ]


async def test_a_rerun_reuses_results_across_continue_as_new_on_both_sides(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with llm_stack(dev_env, tmp_path, continue_as_new_after=30) as llm:
        team, server = llm.team, llm.server
        await team.upload(LOOPED)
        _replies(server, *[f"{kind} {n}" for n in range(4) for kind in ("say", "fresh")], "the end")
        first = await team.started("ada", {"definition": team.name("looped")})
        assert (await llm.finished(first))["output"] == "the end"
        assert len(llm.calls()) == 9

        _replies(server, *[f"FRESH {n}" for n in range(4)], "THE END")
        started = await llm.rerun("ada", first, "end")
        again = await llm.finished(started["id"])
        assert (again["state"], again["output"]) == ("completed", "THE END")
        # Every `say` was reused, in every execution of the rerun; `fresh` and `end` asked.
        asked = [str(call.body["messages"]) for call in llm.calls()[9:]]
        assert len(asked) == 5
        assert not [text for text in asked if "Line" in text]
        assert "End after 4 lines" in asked[-1]
        # Both runs did continue as new (so the reused results crossed executions).
        for run_id in (first, started["id"]):
            described = await dev_env.client.get_workflow_handle(run_id).describe()
            info = described.raw_description.workflow_execution_info
            assert info.first_run_id != described.run_id, run_id
