"""Schedules over HTTP on a real dev server (the time-skipping server has no Schedules): a
schedule every second starts runs owned by its owner with the time in their input, pause stops
them, trigger-now starts one, a backfill starts one run per time due in the range, the overlap
policies, bad specs refused with their place, and publishing a definition reconciling the
schedules its triggers declare."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.integration.api_client import Api
from tests.integration.run_team import Team

TICK = """stepwise: 1
name: tick-{tag}
input: {type: object, properties: {at: {type: string}, v: {type: integer}}, required: [at]}
output: '{{ [input.at, input.v | default(0)] }}'
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""

HOLD = """stepwise: 1
name: hold-{tag}
steps:
  - {id: held, wait: {signal: go}}
"""

DECLARED = """stepwise: 1
name: tick-{tag}
input: {type: object, properties: {at: {type: string}, v: {type: integer}}, required: [at]}
output: '{{ [input.at, input.v] }}'
triggers:
  - id: nightly
    schedule: {cron: "%s", time_zone: Europe/Berlin, paused: true}
    input: {at: "{{ schedule.scheduled_time }}", v: %d}
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""
AT = {"at": "{{ schedule.scheduled_time }}"}
YEARLY = "0 0 1 1 *"


async def _send(team: Team, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
    return await team.api.http.request(method, f"/api/v1{path}", json=body, headers=team.headers[who])


async def _schedule(team: Team, who: str = "ada", **fields: Any) -> dict[str, Any]:
    body = {"definition": team.name("tick"), "input": AT, **fields}
    response = await _send(team, who, "POST", "/schedules", body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _runs(team: Team, definition: str) -> list[dict[str, Any]]:
    response = await team.get("root", "/runs", definition=team.name(definition), limit=500)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _ran(team: Team, definition: str, count: int) -> list[dict[str, Any]]:
    """The runs of `definition` once exactly `count` have started."""
    found: list[dict[str, Any]] = []

    async def check() -> None:
        found[:] = await _runs(team, definition)
        assert len(found) == count, found

    await team.eventually(check)
    return found


async def test_a_schedule_every_second_starts_runs_and_pausing_stops_them(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(TICK)
    made = await _schedule(team, intervals=[{"every": "1s"}], overlap="allow_all")
    assert (made["owner"], made["paused"], made["trigger_id"]) == (team.name("ada"), False, None)
    assert made["spec"]["intervals"] == [{"every": "1s", "offset": None}]

    async def two_done() -> None:
        done = [r for r in await _runs(team, "tick") if r["state"] == "completed"]
        assert len(done) >= 2

    await team.eventually(two_done)
    run = (await _runs(team, "tick"))[-1]
    assert run["owner"] == team.name("ada")
    assert run["id"].startswith(made["id"] + "-")
    detail = await team.run_when(run["id"], lambda r: r["state"] == "completed")
    at = detail["output"][0]
    assert at.endswith("+00:00")
    assert at[:2] == "20"
    assert detail["output"][1] == 0

    paused = await _send(team, "ada", "POST", f"/schedules/{made['id']}/pause", {"note": "for the test"})
    assert paused.status_code == 200, paused.text
    assert (paused.json()["paused"], paused.json()["note"]) == (True, "for the test")
    await asyncio.sleep(1.5)  # a run due just before the pause may still start
    before = len(await _runs(team, "tick"))
    await asyncio.sleep(3)
    assert len(await _runs(team, "tick")) == before
    # ben (a member) does not see ada's schedule; an operator does.
    assert (await _send(team, "ben", "GET", f"/schedules/{made['id']}")).status_code == 404
    assert made["id"] not in [s["id"] for s in (await _send(team, "ben", "GET", "/schedules")).json()]
    assert (await _send(team, "otto", "GET", f"/schedules/{made['id']}")).status_code == 200
    deleted = await _send(team, "ada", "DELETE", f"/schedules/{made['id']}")
    assert deleted.status_code == 204
    assert (await _send(team, "ada", "GET", f"/schedules/{made['id']}")).status_code == 404


async def test_trigger_now_starts_one_and_a_backfill_one_per_time_due(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(TICK)
    made = await _schedule(team, intervals=[{"every": "1m"}], paused=True, overlap="allow_all")
    triggered = await _send(team, "ada", "POST", f"/schedules/{made['id']}/trigger")
    assert triggered.status_code == 202, triggered.text
    await _ran(team, "tick", 1)
    filled = await _send(
        team,
        "ada",
        "POST",
        f"/schedules/{made['id']}/backfill",
        {"start_at": "2026-01-01T10:00:00Z", "end_at": "2026-01-01T10:04:30Z"},
    )
    assert filled.status_code == 202, filled.text
    runs = await _ran(team, "tick", 6)
    outputs = []
    for run in runs:
        detail = await team.run_when(run["id"], lambda r: r["state"] == "completed")
        outputs.append(detail["output"][0])
    due = [f"2026-01-01T10:0{m}:00+00:00" for m in range(5)]
    assert sorted(o for o in outputs if o.startswith("2026-01-01T10")) == due


@pytest.mark.parametrize(
    ("overlap", "running", "ended"),
    [
        ("skip", 1, None),
        ("allow_all", 2, None),
        ("buffer_one", 1, None),
        ("buffer_all", 1, None),
        ("cancel_other", 1, "cancelled"),
        ("terminate_other", 1, "terminated"),
    ],
)
async def test_overlap_policies(runs_api: Api, overlap: str, running: int, ended: str | None) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(HOLD)
    body = {"definition": team.name("hold"), "cron": YEARLY, "paused": True, "overlap": overlap}
    made = (await _send(team, "ada", "POST", "/schedules", body)).json()
    await _send(team, "ada", "POST", f"/schedules/{made['id']}/trigger")
    first = (await _ran(team, "hold", 1))[0]["id"]
    # Temporal names a run after its schedule and the second it was due: a trigger within the
    # same second would be the same run.
    await asyncio.sleep(1.1)
    await _send(team, "ada", "POST", f"/schedules/{made['id']}/trigger")

    async def settled() -> None:
        view = (await _send(team, "ada", "GET", f"/schedules/{made['id']}")).json()
        runs = await _runs(team, "hold")
        # With allow_all Temporal does not follow its runs (nothing waits on them): count them.
        going = [r for r in runs if r["state"] in ("running", "waiting")]
        assert len(going if overlap == "allow_all" else view["running"]) == running, view
        if overlap == "skip":
            assert view["skipped_overlap"] == 1
            assert len(runs) == 1
        if ended is not None:
            assert len(runs) == 2
            states = {r["id"]: r["state"] for r in runs}
            assert states[first] in ({ended} if ended == "cancelled" else {"terminated", "failed"}), states
            assert view["running"] != [first]

    await team.eventually(settled)
    if overlap.startswith("buffer_"):
        # A third run due while the first still runs: buffer_one keeps one waiting (the third
        # is skipped), buffer_all keeps both; each starts when the one before ends.
        await asyncio.sleep(1.1)
        await _send(team, "ada", "POST", f"/schedules/{made['id']}/trigger")
        expected = 2 if overlap == "buffer_one" else 3

        async def all_ran() -> None:
            runs = await _runs(team, "hold")
            for run in runs:
                if run["state"] in ("running", "waiting"):
                    await _send(team, "ada", "POST", f"/runs/{run['id']}/signals/go", None)
            assert [r["state"] for r in runs] == ["completed"] * expected, runs
            view = (await _send(team, "ada", "GET", f"/schedules/{made['id']}")).json()
            assert view["skipped_overlap"] == (1 if overlap == "buffer_one" else 0)

        await team.eventually(all_ran)


async def test_bad_schedules_are_refused_with_their_place(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(TICK)

    async def refused(**fields: Any) -> list[dict[str, Any]]:
        body = {"definition": team.name("tick"), "input": AT, **fields}
        response = await _send(team, "ada", "POST", "/schedules", body)
        assert response.status_code == 422, response.text
        problems: list[dict[str, Any]] = response.json().get("problems") or [response.json()]
        return problems

    cron = await refused(cron="61 * * * *")
    assert cron[0]["pointer"] == "/cron"
    assert "minute: 61 is out of range (0 to 59)" in cron[0]["message"]
    zone = await refused(cron=YEARLY, time_zone="Mars/Olympus")
    assert zone[0]["pointer"] == "/time_zone"
    assert "not a time zone" in zone[0]["message"]
    never = await refused(time_zone="UTC")
    assert "needs cron, intervals or calendars" in never[0]["message"]
    wrong = await refused(cron=YEARLY, input={"at": 5})
    assert wrong[0]["pointer"] == "/input/at"
    # A caller who may not start runs may not schedule them: an API key with runs:read only.
    made = await team.api.http.post(
        "/api/v1/api-keys", json={"name": "reader", "scopes": ["runs:read"]}, headers=team.headers["ada"]
    )
    assert made.status_code == 201, made.text
    reader = {"X-API-Key": made.json()["key"]}
    body = {"definition": team.name("tick"), "input": AT, "cron": YEARLY}
    forbidden = await team.api.http.post("/api/v1/schedules", json=body, headers=reader)
    assert forbidden.status_code == 403
    assert "runs:start" in forbidden.json()["detail"]
    missing = await _send(team, "ada", "POST", "/schedules", {"definition": "no-such-thing", "cron": YEARLY})
    assert missing.status_code == 422
    assert "no definition 'no-such-thing'" in missing.json()["detail"]
    assert not [
        s
        for s in (await _send(team, "ada", "GET", "/schedules")).json()
        if s["definition"] == team.name("tick")
    ]


async def test_publishing_a_version_reconciles_its_schedules(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    first = await team.upload(DECLARED % (YEARLY, 1), who="ada")
    schedule_id = f"{team.name('tick')}.nightly"
    assert first["schedules"] == [schedule_id]
    view = (await _send(team, "ada", "GET", f"/schedules/{schedule_id}")).json()
    assert (view["trigger_id"], view["paused"], view["owner"]) == ("nightly", True, team.name("ada"))
    assert view["spec"]["time_zone"] == "Europe/Berlin"
    # Declared schedules change with the definition, not through PUT or DELETE.
    assert (await _send(team, "ada", "DELETE", f"/schedules/{schedule_id}")).status_code == 409
    # An API schedule following the latest version moves on with it too.
    follower = await _schedule(team, cron=YEARLY, paused=True, input={"at": "api", "v": 7})

    second = await team.upload(DECLARED % ("0 3 * * *", 2), who="ada")
    assert sorted(second["schedules"]) == sorted([schedule_id, follower["id"]])
    view = (await _send(team, "ada", "GET", f"/schedules/{schedule_id}")).json()
    assert view["spec"]["cron"] == "0 3 * * *"
    assert view["input"]["v"] == 2
    assert view["paused"] is True
    await _send(team, "ada", "POST", f"/schedules/{schedule_id}/trigger")
    await _send(team, "ada", "POST", f"/schedules/{follower['id']}/trigger")
    runs = await _ran(team, "tick", 2)
    outputs = set()
    for run in runs:
        detail = await team.run_when(run["id"], lambda r: r["state"] == "completed")
        assert detail["version"] == 2
        outputs.add(detail["output"][1])
    assert outputs == {2, 7}

    third = await team.upload(TICK, who="ada")  # no triggers any more
    assert schedule_id in third["schedules"]
    assert (await _send(team, "ada", "GET", f"/schedules/{schedule_id}")).status_code == 404
    assert (await _send(team, "ada", "GET", f"/schedules/{follower['id']}")).status_code == 200
    gone = await _send(team, "ada", "DELETE", f"/definitions/{team.name('tick')}")
    assert gone.status_code == 204, gone.text
    assert (await _send(team, "ada", "GET", f"/schedules/{follower['id']}")).status_code == 404
    assert (await _send(team, "ada", "GET", f"/definitions/{team.name('tick')}")).status_code == 404
