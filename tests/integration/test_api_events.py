"""A run's events over HTTP, read out of its Temporal history: GET .../events (in order, with
cursors), GET .../stream (Server-Sent Events, resumed with Last-Event-ID), across parallel
branches, a for_each, a human step, a retry, a child run and continue-as-new."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from api.routers.run_events import RunEventsPage
from tests.integration.api_client import Api
from tests.integration.conftest import HttpServer, Stack
from tests.integration.run_team import Team
from tests.integration.served import served, sse_messages
from tests.integration.stack_api import api_on_stack

MIXED = """stepwise: 1
name: mixed-{tag}
steps:
  - id: both
    parallel:
      left:
        - id: flaky
          module: api.fetch
          inputs: {url: "BASE/flaky/{tag}"}
          retry: {max_attempts: 3, initial_interval: 100ms}
      right:
        - {id: calc, module: transform.extract, inputs: {x: 1}}
  - id: each
    for_each: "{{ [1, 2] }}"
    steps:
      - {id: get, module: api.fetch, inputs: {url: "BASE/n/{{ item }}"}}
  - {id: skipped, if: "{{ false }}", module: transform.extract, inputs: {y: 2}}
  - {id: ok, module: user.text_input, inputs: {prompt: "Ship it?", assignees: [ada-{tag}]}}
"""
CHILD = """stepwise: 1
name: child-{tag}
output: '{{ input.n + 1 }}'
steps:
  - {id: inner, module: transform.extract, inputs: {n: '{{ input.n }}'}}
"""
LONG = """stepwise: 1
name: long-{tag}
state: {n: 0}
steps:
  - id: spin
    loop: {until: "{{ state.n >= 6 }}", max_iterations: 10}
    steps:
      - {id: hit, module: api.fetch, inputs: {url: "BASE/n/{{ loop.iteration }}"}}
      - {id: count, module: transform.extract, inputs: {n: '{{ state.n + 1 }}'}, outputs_to_state: {n: n}}
  - {id: sub, call: child-{tag}, input: {n: '{{ state.n }}'}}
"""


def _mixed(http_server: HttpServer) -> str:
    return MIXED.replace("BASE", http_server.base)


async def _events(team: Team, run_id: str, **params: Any) -> dict[str, Any]:
    response = await team.get("root", f"/runs/{run_id}/events", **params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _story(events: list[dict[str, Any]], step: str, path: list[Any] | None = None) -> list[str]:
    """The event types of one step (at one path), in order."""
    return [e["type"] for e in events if e["step"] == step and (path is None or e["path"] == path)]


def _check_mixed(events: list[dict[str, Any]], ada: str) -> None:
    types = [e["type"] for e in events]
    assert types[0] == "workflow_start"
    assert types[-1] == "workflow_complete"
    assert events[-1]["data"]["status"] == "completed"
    assert _story(events, "flaky") == [
        "step_start",
        "retry",
        "module_start",
        "module_output",
        "step_complete",
    ]
    retry = next(e for e in events if e["type"] == "retry")
    assert retry["data"]["attempt"] == 2
    assert retry["data"]["last_error"]["type"] == "Http503"
    assert _story(events, "calc") == ["step_start", "module_start", "module_output", "step_complete"]
    assert next(e for e in events if e["type"] == "module_output" and e["step"] == "calc")["data"] == {
        "outputs": {"x": 1}
    }
    for index in (0, 1):
        assert _story(events, "get", [["each", index]]) == [
            "step_start",
            "module_start",
            "module_output",
            "step_complete",
        ]
    assert _story(events, "skipped") == ["step_complete"]
    assert _story(events, "ok") == [
        "step_start",
        "module_start",
        "interaction_request",
        "interaction_response",
        "module_output",
        "step_complete",
    ]
    answer = next(e for e in events if e["type"] == "interaction_response")
    assert (answer["data"]["by"], answer["data"]["answer"]) == (ada, {"value": "yes"})
    # Blocks open before what they hold and close after it.
    position = {(e["type"], e["step"], json.dumps(e["path"])): i for i, e in enumerate(events)}
    assert position[("step_start", "both", "[]")] < position[("step_start", "flaky", "[]")]
    assert position[("step_complete", "both", "[]")] > position[("step_complete", "flaky", "[]")]
    assert position[("step_complete", "both", "[]")] > position[("step_complete", "calc", "[]")]
    assert position[("step_start", "each", "[]")] > position[("step_complete", "both", "[]")]
    assert position[("step_complete", "each", "[]")] > position[("step_complete", "get", '[["each", 1]]')]
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids)


async def _answer(team: Team, run_id: str) -> None:
    (open_one,) = (await team.get("ada", f"/runs/{run_id}/interactions")).json()
    done = await team.post("ada", f"/runs/{run_id}/interactions/{open_one['id']}", {"value": "yes"})
    assert done.status_code == 200, done.text


async def test_a_stream_resumed_with_last_event_id_gives_every_event_once(
    runs_api: Api, http_server: HttpServer
) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(_mixed(http_server))
    run_id = await team.started("ada", {"definition": team.name("mixed")})
    url = f"/api/v1/runs/{run_id}/stream"
    got: list[dict[str, Any]] = []
    async with served(runs_api.app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        # Read until the human step asks, then drop the connection.
        async for message in sse_messages(http, url, team.headers["ada"]):
            event = json.loads(message.data)
            assert message.id == event["id"]
            got.append(event)
            if event["type"] == "interaction_request":
                break
        last_id = got[-1]["id"]
        # Answered while nobody listens: the stream must still bring what followed.
        await _answer(team, run_id)
        ended = False
        async for message in sse_messages(http, url, team.headers["ada"] | {"Last-Event-ID": last_id}):
            if message.event == "end":
                ended = True
                break
            got.append(json.loads(message.data))
        assert ended
    _check_mixed(got, team.name("ada"))
    page = await _events(team, run_id)
    assert page["ended"] is True
    assert [e["id"] for e in page["events"]] == [e["id"] for e in got]
    assert page["events"] == got


async def test_events_page_by_page_from_any_cursor(runs_api: Api, http_server: HttpServer) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(_mixed(http_server))
    run_id = await team.started("ada", {"definition": team.name("mixed")})

    async def asking() -> None:
        page = await _events(team, run_id)
        assert page["events"][-1]["type"] == "interaction_request"
        assert page["ended"] is False

    await team.eventually(asking)
    await _answer(team, run_id)
    await team.run_when(run_id, lambda run: run["state"] == "completed")
    whole = await _events(team, run_id)
    RunEventsPage.model_validate(whole)  # what the OpenAPI document promises
    every = whole["events"]
    _check_mixed(every, team.name("ada"))
    # Three at a time from the start, and on from any event's id: the same events.
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await _events(team, run_id, limit=3, **({"after": cursor} if cursor else {}))
        paged.extend(page["events"])
        cursor = page["cursor"]
        if page["ended"]:
            break
    assert paged == every
    for k in (0, 5, len(every) - 2):
        assert (await _events(team, run_id, after=every[k]["id"]))["events"] == every[k + 1 :]
    assert (await _events(team, run_id, after=every[-1]["id"]))["events"] == []


async def test_events_across_continue_as_new_and_a_child_run(
    stack: Stack, tmp_path: Path, http_server: HttpServer
) -> None:
    async with api_on_stack(stack, tmp_path, continue_as_new_after=30) as api:
        team = Team(api)
        await team.sign_in_everyone()
        await team.upload(CHILD)
        await team.upload(LONG.replace("BASE", http_server.base))
        run_id = await team.started("ada", {"definition": team.name("long")})
        done = await team.run_when(run_id, lambda run: run["state"] not in ("running", "waiting"))
        assert done["state"] == "completed", done
        events = (await _events(team, run_id))["events"]
        # Read again: the executions (all ended now) come from the API's memory this time.
        assert (await _events(team, run_id))["events"] == events
        assert api.app.state.closed_executions.size >= len(events)
    # Continued as new after 30 history events: several executions, one start.
    executions = {e["id"].split(".")[0] for e in events}
    assert len(executions) > 1, executions
    assert [e["type"] for e in events].count("workflow_start") == 2  # the run and its child
    for iteration in range(1, 7):
        assert _story(events, "count", [["spin", iteration]])[-1] == "step_complete"
        assert _story(events, "hit", [["spin", iteration]])[-1] == "step_complete"
    child = [e for e in events if e["run"] != run_id]
    assert {e["run"] for e in child} == {f"{run_id}.sub.1"}
    assert [e["type"] for e in child] == [
        "workflow_start",
        "step_start",
        "module_start",
        "module_output",
        "step_complete",
        "workflow_complete",
    ]
    assert child[0]["data"]["called_by"] == {"run": run_id, "step": "sub"}
    assert child[-1]["data"]["output"] == 7
    sub = _story(events, "sub")
    assert sub == ["step_start", "step_complete"]
    assert Counter(e["id"] for e in events).most_common(1)[0][1] == 1


async def test_who_may_read_events_and_bad_cursors(runs_api: Api, http_server: HttpServer) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(CHILD)
    run_id = await team.started("ada", {"definition": team.name("child"), "input": {"n": 1}})
    await team.run_when(run_id, lambda run: run["state"] == "completed")
    assert (await team.get("ada", f"/runs/{run_id}/events")).status_code == 200
    assert (await team.get("otto", f"/runs/{run_id}/events")).status_code == 200
    assert (await team.get("ben", f"/runs/{run_id}/events")).status_code == 404
    assert (await team.get("ben", f"/runs/{run_id}/stream")).status_code == 404
    assert (await runs_api.http.get(f"/api/v1/runs/{run_id}/events")).status_code == 401
    assert (await team.get("ada", "/runs/no-such-run/events")).status_code == 404
    bad = await team.get("ada", f"/runs/{run_id}/events", after="nonsense")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("after: 'nonsense' is not a cursor")
    stream = await runs_api.http.get(
        f"/api/v1/runs/{run_id}/stream", headers=team.headers["ada"] | {"Last-Event-ID": "x.y"}
    )
    assert stream.status_code == 422
    assert "Last-Event-ID" in stream.json()["detail"]
