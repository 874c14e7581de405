"""Webhooks over HTTP on a real dev server: a signed delivery starts a run with the mapped
input; a replayed delivery id is the same run; bad, stale and missing signatures are 401,
oversized bodies 413, unknown hooks 404, inputs off the schema 422 (nothing started);
rotation with grace; who sees which hooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from core.db.models import User
from core.webhooks import sign
from tests.integration.api_client import Api
from tests.integration.conftest import Stack
from tests.integration.run_team import Team
from tests.integration.stack_api import api_on_stack

DOUBLE = """stepwise: 1
name: double-{tag}
input: {type: object, properties: {n: {type: integer}}, required: [n]}
output: '{{ input.n * 2 }}'
steps:
  - {id: a, module: transform.extract, inputs: {n: 1}}
"""


async def _hook(team: Team, who: str = "ada", **fields: Any) -> dict[str, Any]:
    response = await team.post(who, "/webhooks", {"definition": team.name("double"), **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _deliver(
    api: Api,
    hook: dict[str, Any],
    body: Any,
    secret: str | None = None,
    at: int | None = None,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    raw = json.dumps(body).encode()
    timestamp = int(api.clock().timestamp()) if at is None else at
    sent = {
        "content-type": "application/json",
        "x-stepwise-timestamp": str(timestamp),
        "x-stepwise-signature": sign(secret or hook["secret"], timestamp, raw),
        **(extra or {}),
    }
    return await api.http.post(hook["path"], content=raw, headers=sent)


def _ended(run: dict[str, Any]) -> bool:
    return run["state"] not in ("running", "waiting")


async def test_a_signed_delivery_starts_a_run_and_a_replay_is_the_same_run(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    hook = await _hook(team, input={"n": "{{ body.value }}"})
    assert hook["secret"].startswith("whsec_")
    assert hook["path"] == f"/api/v1/hooks/{hook['id']}"

    first = await _deliver(runs_api, hook, {"value": 21}, extra={"x-stepwise-delivery": "evt-1"})
    assert first.status_code == 202, first.text
    assert first.json()["delivery"] == "evt-1"
    assert first.json()["definition"] == team.name("double")
    run_id = first.json()["run_id"]
    done = await team.run_when(run_id, _ended)
    assert (done["state"], done["output"], done["owner"]) == ("completed", 42, team.name("ada"))

    # The same delivery id, even with another body and after the run ended: the same run.
    again = await _deliver(runs_api, hook, {"value": 1}, extra={"x-stepwise-delivery": "evt-1"})
    assert (again.status_code, again.json()["run_id"]) == (202, run_id)
    other = await _deliver(runs_api, hook, {"value": 1}, extra={"x-stepwise-delivery": "evt-2"})
    assert other.status_code == 202
    assert other.json()["run_id"] != run_id
    # Without a delivery id, an identical replay (same timestamp and body) is the same run.
    at = int(runs_api.clock().timestamp())
    plain = await _deliver(runs_api, hook, {"value": 3}, at=at)
    replayed = await _deliver(runs_api, hook, {"value": 3}, at=at)
    assert plain.status_code == replayed.status_code == 202
    assert plain.json()["run_id"] == replayed.json()["run_id"]
    assert "hook.deliver" in await runs_api.audit_actions(team.headers["root"])


async def test_bad_stale_and_missing_signatures_are_401_and_start_nothing(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    hook = await _hook(team, tolerance="1m")
    now = int(runs_api.clock().timestamp())
    wrong = await _deliver(runs_api, hook, {"n": 1}, secret="whsec_not-the-secret")
    assert wrong.status_code == 401
    assert "bad signature" in wrong.json()["detail"]
    stale = await _deliver(runs_api, hook, {"n": 1}, at=now - 61)
    assert stale.status_code == 401
    assert "stale timestamp" in stale.json()["detail"]
    assert "60 s" in stale.json()["detail"]
    future = await _deliver(runs_api, hook, {"n": 1}, at=now + 61)
    assert future.status_code == 401
    assert "stale timestamp" in future.json()["detail"]
    bare = await runs_api.http.post(hook["path"], json={"n": 1})
    assert bare.status_code == 401
    assert "missing X-Stepwise-Timestamp" in bare.json()["detail"]
    unsigned = await runs_api.http.post(
        hook["path"], json={"n": 1}, headers={"x-stepwise-timestamp": str(now)}
    )
    assert unsigned.status_code == 401
    assert "missing X-Stepwise-Signature" in unsigned.json()["detail"]
    unknown = await _deliver(runs_api, {**hook, "path": "/api/v1/hooks/hk_nosuchhook"}, {"n": 1})
    assert unknown.status_code == 404
    assert (await team.get("root", "/runs", definition=team.name("double"))).json()["items"] == []


async def test_an_input_off_the_schema_or_a_failing_template_is_422_and_starts_nothing(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    hook = await _hook(team)
    off = await _deliver(runs_api, hook, {"n": "four"})
    assert off.status_code == 422
    assert [(p["pointer"], p["message"]) for p in off.json()["problems"]] == [
        ("/input/n", "'four' is not of type 'integer'")
    ]
    mapped = await _hook(team, input={"n": "{{ body.missing.deeper }}"})
    failing = await _deliver(runs_api, mapped, {"n": 1})
    assert failing.status_code == 422
    assert "cannot be mapped to a run input" in failing.json()["detail"]
    assert (await team.get("root", "/runs", definition=team.name("double"))).json()["items"] == []
    refused = await team.post(
        "ada", "/webhooks", {"definition": team.name("double"), "input": "{{ input.n }}"}
    )
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["pointer"] == "/input"
    missing = await team.post("ada", "/webhooks", {"definition": team.name("nothing")})
    assert missing.status_code == 422
    assert "no definition" in missing.json()["detail"]


async def test_a_disabled_owner_is_403(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    hook = await _hook(team, who="ben")
    async with runs_api.sessions() as session:
        await session.execute(update(User).where(User.username == team.name("ben")).values(is_active=False))
        await session.commit()
    refused = await _deliver(runs_api, hook, {"n": 1})
    assert refused.status_code == 403
    assert "disabled or deleted" in refused.json()["detail"]


async def test_rotation_keeps_the_old_secret_within_grace_only(runs_api: Api) -> None:
    team = Team(runs_api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    hook = await _hook(team)
    rotated = await team.post("ada", f"/webhooks/{hook['id']}/rotate", {"grace": "10m"})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != hook["secret"]
    assert rotated.json()["id"] == hook["id"]
    assert (await _deliver(runs_api, hook, {"n": 1}, secret=new)).status_code == 202
    assert (await _deliver(runs_api, hook, {"n": 2})).status_code == 202
    runs_api.clock.advance(601)
    late = await _deliver(runs_api, hook, {"n": 3})
    assert late.status_code == 401
    assert "bad signature" in late.json()["detail"]
    assert (await _deliver(runs_api, hook, {"n": 3}, secret=new)).status_code == 202
    shown = (await team.get("ada", f"/webhooks/{hook['id']}")).json()
    assert "secret" not in shown
    assert shown["rotated_at"] is not None


async def test_an_oversized_body_is_413_naming_the_limit(stack: Stack, tmp_path: Path) -> None:
    async with api_on_stack(stack, tmp_path, webhook_max_body_bytes=1000) as api:
        team = Team(api)
        await team.sign_in_everyone()
        await team.upload(DOUBLE)
        hook = await _hook(team)
        big = await _deliver(api, hook, {"n": 1, "pad": "x" * 2000})
        assert big.status_code == 413
        assert "1000 bytes (STEPWISE_WEBHOOK_MAX_BODY_BYTES)" in big.json()["detail"]
        assert (await team.get("root", "/runs", definition=team.name("double"))).json()["items"] == []


async def test_members_see_their_own_hooks_staff_see_all_and_declared_ones_are_not_deleted(api: Api) -> None:
    team = Team(api)
    await team.sign_in_everyone()
    await team.upload(DOUBLE)
    adas = await _hook(team, who="ada")
    bens = await _hook(team, who="ben")
    assert [h["id"] for h in (await team.get("ada", "/webhooks")).json()] == [adas["id"]]
    assert {h["id"] for h in (await team.get("otto", "/webhooks")).json()} == {adas["id"], bens["id"]}
    assert all("secret" not in h for h in (await team.get("otto", "/webhooks")).json())
    assert (await team.get("ada", f"/webhooks/{bens['id']}")).status_code == 404
    hidden = await api.http.delete(f"/api/v1/webhooks/{bens['id']}", headers=team.headers["ada"])
    assert hidden.status_code == 404
    assert (await team.post("ada", f"/webhooks/{bens['id']}/rotate")).status_code == 404
    gone = await api.http.delete(f"/api/v1/webhooks/{bens['id']}", headers=team.headers["otto"])
    assert gone.status_code == 204
    assert (await team.get("otto", f"/webhooks/{bens['id']}")).status_code == 404

    declared = await team.upload(
        DOUBLE + "triggers:\n  - {id: push, webhook: {}, input: {n: '{{ body.n }}'}}\n"
    )
    # The upload reconciled its triggers: the new hook comes with its secret, once.
    made = declared["hooks"]
    assert [(h["trigger_id"], h["secret"][:6]) for h in made] == [("push", "whsec_")]
    refused = await api.http.delete(f"/api/v1/webhooks/{made[0]['id']}", headers=team.headers["root"])
    assert refused.status_code == 409
    assert "remove that trigger" in refused.json()["detail"]
