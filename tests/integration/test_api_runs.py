"""Runs over HTTP on a real dev server: start (by name, @version, inline), input checks,
idempotent starts, listings with filters and cursors, detail, cancel, terminate, isolation,
called definitions pinned at start, the audit log, and Temporal being away."""

from __future__ import annotations

import socket

from api.temporal import TemporalConnection
from tests.integration.api_client import Api
from tests.integration.run_team import Team

DOUBLE = """stepwise: 1
name: double-{tag}
input: {type: object, properties: {n: {type: integer}}, required: [n]}
output: '{{ input.n * 2 }}'
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""
PAUSE = """stepwise: 1
name: pause-{tag}
steps:
  - {id: hold, module: user.pause, inputs: {message: 'Go on?', assignees: [nobody-{tag}]}}
"""
PARENT = """stepwise: 1
name: parent-{tag}
output: '{{ steps.sub.output }}'
steps:
  - {id: w, wait: {signal: go}}
  - {id: sub, call: double-{tag}, input: {n: 5}}
"""


def _ended(run: dict[str, object]) -> bool:
    return run["state"] not in ("running", "waiting")


async def test_start_by_name_by_version_and_inline(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    await team.upload(DOUBLE.replace("n * 2", "n * 3"))
    latest = await team.started("ada", {"definition": team.name("double"), "input": {"n": 4}})
    first = await team.started("ada", {"definition": f"{team.name('double')}@1", "input": {"n": 4}})
    inline = await team.started("ada", {"source": DOUBLE.replace("{tag}", team.tag), "input": {"n": 1}})

    done = await team.run_when(latest, _ended)
    assert (done["state"], done["output"], done["version"], done["owner"]) == (
        "completed",
        12,
        2,
        team.name("ada"),
    )
    assert (
        done["plan_hash"]
        == (await team.get("root", f"/definitions/{team.name('double')}")).json()["content_hash"]
    )
    pinned = await team.run_when(first, _ended)
    assert (pinned["output"], pinned["version"]) == (8, 1)
    adhoc = await team.run_when(inline, _ended)
    assert (adhoc["output"], adhoc["version"]) == (2, None)


async def test_an_input_that_misses_the_schema_is_422_with_pointers_and_starts_nothing(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    refused = await team.start("ada", {"definition": team.name("double"), "input": {"n": "four"}})
    assert refused.status_code == 422
    assert [(p["pointer"], p["message"]) for p in refused.json()["problems"]] == [
        ("/input/n", "'four' is not of type 'integer'")
    ]
    missing = await team.start("ada", {"definition": team.name("double"), "input": {}})
    assert missing.json()["problems"][0]["pointer"] == "/input"
    unknown = await team.start("ada", {"definition": team.name("nothing"), "input": {}})
    assert unknown.status_code == 422
    assert "no definition" in unknown.json()["detail"]
    broken = await team.start(
        "ada", {"source": "stepwise: 1\nname: x\nsteps:\n  - {id: a, module: no.such}\n"}
    )
    assert broken.status_code == 422
    assert broken.json()["problems"]
    both = await team.start("ada", {"definition": "a", "source": "b"})
    assert both.status_code == 422
    assert (await team.get("ada", "/runs")).json()["items"] == []


async def test_the_same_idempotency_key_is_the_same_run(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    body = {"definition": team.name("double"), "input": {"n": 1}}
    first = await team.start("ada", body, key="nightly-1")
    await team.run_when(first.json()["id"], _ended)
    again = await team.start("ada", body, key="nightly-1")
    other = await team.start("ada", body, key="nightly-2")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert other.json()["id"] != first.json()["id"]


async def test_listings_filter_and_page_and_a_member_sees_only_their_own(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    await team.upload(PAUSE)
    done = []
    for n in range(3):  # one after another: closed runs list by when they ended
        done.append(await team.started("ada", {"definition": team.name("double"), "input": {"n": n}}))
        await team.run_when(done[-1], _ended)
    held = await team.started("ada", {"definition": team.name("pause"), "input": {}})
    bens = await team.started("ben", {"definition": team.name("double"), "input": {"n": 9}})
    await team.run_when(bens, _ended)

    async def listed() -> None:
        page = (await team.get("ada", "/runs")).json()
        assert {r["id"] for r in page["items"]} == {*done, held}
        waiting = (await team.get("ada", "/runs", status="waiting")).json()
        assert [r["id"] for r in waiting["items"]] == [held]

    await team.eventually(listed)
    by_definition = (await team.get("ada", "/runs", definition=team.name("pause"))).json()
    assert [r["id"] for r in by_definition["items"]] == [held]
    completed = (await team.get("root", "/runs", status="completed", definition=team.name("double"))).json()
    assert {r["id"] for r in completed["items"]} == {*done, bens}
    # Pages: newest first (by when they ended), every run once.
    first = (await team.get("ada", "/runs", limit=2, definition=team.name("double"))).json()
    assert first["next_cursor"] is not None
    rest = (
        await team.get("ada", "/runs", limit=2, definition=team.name("double"), cursor=first["next_cursor"])
    ).json()
    assert rest["next_cursor"] is None
    assert [r["id"] for r in [*first["items"], *rest["items"]]] == list(reversed(done))
    bad = await team.get("ada", "/runs", cursor="%%%not-base64")
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("cursor:")
    # Ben's run is not Ada's to see, and the answer is the one for a run that does not exist.
    hidden = await team.get("ada", f"/runs/{bens}")
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == (await team.get("ada", "/runs/no-such-run")).json()["detail"].replace(
        "no-such-run", bens
    )
    assert (await team.get("otto", f"/runs/{bens}")).status_code == 200
    waiting_for_me = (await team.get("ada", "/runs", awaiting="me")).json()
    assert waiting_for_me["items"] == []
    detail = (await team.get("ada", f"/runs/{held}")).json()
    assert detail["progress"]["steps"][0]["id"] == "hold"
    assert detail["awaiting"] == [team.name("nobody")]
    await team.post("otto", f"/runs/{held}/terminate", {"reason": "test over"})


async def test_cancel_by_the_owner_not_by_another_member_and_terminate_by_an_operator(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(PAUSE)
    first = await team.started("ada", {"definition": team.name("pause")})
    second = await team.started("ada", {"definition": team.name("pause")})
    stranger = await team.post("ben", f"/runs/{first}/cancel")
    assert stranger.status_code == 404
    cancelled = await team.post("ada", f"/runs/{first}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    assert (await team.run_when(first, _ended))["state"] == "cancelled"
    ended = await team.post("ada", f"/runs/{first}/cancel")
    assert ended.status_code == 409
    assert "has ended" in ended.json()["detail"]

    refused = await team.post("ada", f"/runs/{second}/terminate")
    assert refused.status_code == 403
    terminated = await team.post("otto", f"/runs/{second}/terminate", {"reason": "stuck"})
    assert terminated.status_code == 202, terminated.text
    assert (await team.run_when(second, _ended))["state"] == "terminated"
    actions = await runs_api.audit_actions(team.headers["root"])
    assert actions.count("run.start") == 2
    assert actions.count("run.cancel") == 1
    assert actions.count("run.terminate") == 1


async def test_a_called_definition_is_pinned_when_the_run_starts(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    await team.upload(PARENT)
    run_id = await team.started("ada", {"definition": team.name("parent")})
    await team.upload(DOUBLE.replace("n * 2", "n * 3"))  # version 2, after the start
    await team.run_when(run_id, lambda run: run["state"] == "waiting")
    sent = await team.post("ada", f"/runs/{run_id}/signals/go", {"now": True})
    assert sent.status_code == 200, sent.text
    done = await team.run_when(run_id, _ended)
    assert (done["state"], done["output"]) == ("completed", 10)


async def test_temporal_away_is_503_with_what_to_do(api: Api) -> None:
    await api.add_user("root", role="admin")
    headers = await api.token("root")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api.app.state.temporal = TemporalConnection(api.settings.model_copy(update={"temporal_port": port}))
    response = await api.http.get("/api/v1/runs", headers=headers)
    assert response.status_code == 503
    assert f"127.0.0.1:{port} is unreachable" in response.json()["detail"]
    assert "STEPWISE_TEMPORAL_PORT" in response.json()["detail"]
