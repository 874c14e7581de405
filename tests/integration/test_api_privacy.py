"""Privacy through the API on a real dev server: deleting a run removes its history, retention
deletes finished runs, and an admin exports and deletes a user's data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.service import RPCError, RPCStatusCode

from core.privacy import retention_pass
from core.runs import Prepared, start_run
from tests.helpers import plan_of
from tests.integration.api_client import Api
from tests.integration.conftest import Stack
from tests.integration.eventually import assert_eventually

SHORT = "output: '{{ input.n }}'\nsteps:\n  - {id: a, module: transform.extract, inputs: {n: 1}}\n"
CALLER = "output: '{{ steps.sub.output }}'\nsteps:\n  - {id: sub, call: privacy-child, input: {n: 3}}\n"
CHILD = "stepwise: 1\nname: privacy-child\n" + SHORT
WAITS = "steps:\n  - {id: nap, wait: {duration: 1h}}\n"


@pytest.fixture
def api(runs_api: Api) -> Api:
    """The API on a database of its own, against the test's dev server and task queues."""
    return runs_api


async def gone(stack: Stack, workflow_id: str) -> None:
    assert await _missing(stack, workflow_id), f"{workflow_id} is still there"


async def test_deleting_a_run_removes_its_history_and_its_child_runs(api: Api, stack: Stack) -> None:
    await api.add_user("ana")
    await api.add_user("ben")
    ana, ben = await api.token("ana"), await api.token("ben")
    child = plan_of(CHILD, header=False)
    prepared = Prepared(plan_of(CALLER), {"privacy-child": child})
    handle = await start_run(stack.env.client, prepared, {}, stack.settings, owner="ana")
    assert (await handle.result()).output == 3
    child_id = f"{handle.id}.sub.1"
    await stack.env.client.get_workflow_handle(child_id).describe()
    # Another member cannot see it, so cannot delete it either.
    assert (await api.http.delete(f"/api/v1/runs/{handle.id}", headers=ben)).status_code == 404
    assert (await api.http.delete(f"/api/v1/runs/{handle.id}", headers=ana)).status_code == 204

    async def deleted() -> None:
        await gone(stack, handle.id)
        await gone(stack, child_id)

    await assert_eventually(deleted)
    assert (await api.http.delete(f"/api/v1/runs/{handle.id}", headers=ana)).status_code == 404
    await api.add_user("root", role="admin")
    assert "run.delete" in await api.audit_actions(await api.token("root"))


async def test_retention_deletes_runs_that_finished_before_the_cutoff(stack: Stack) -> None:
    owner = f"keeper-{uuid.uuid4().hex[:8]}"
    plan = plan_of(SHORT)
    finished = await start_run(stack.env.client, Prepared(plan), {"n": 1}, stack.settings, owner=owner)
    await finished.result()
    still = await start_run(stack.env.client, Prepared(plan_of(WAITS)), {}, stack.settings)
    # Nothing finished more than a day ago: a pass now deletes nothing of ours.
    assert finished.id not in await retention_pass(stack.env.client, 1, datetime.now(UTC))

    async def expired() -> None:
        # Seen from two days later, the finished run is past a one-day retention; the open one is not.
        deleted = await retention_pass(stack.env.client, 1, datetime.now(UTC) + timedelta(days=2))
        assert finished.id in deleted or await _missing(stack, finished.id)
        assert still.id not in deleted

    await assert_eventually(expired)
    await assert_eventually(lambda: gone(stack, finished.id))
    await still.terminate("test over")


async def _missing(stack: Stack, workflow_id: str) -> bool:
    try:
        await stack.env.client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        return exc.status == RPCStatusCode.NOT_FOUND
    return False


async def test_an_admin_exports_and_deletes_a_users_data(api: Api, stack: Stack) -> None:
    await api.add_user("root", role="admin")
    user = await api.add_user("cleo", groups=["editors"])
    root, cleo = await api.token("root"), await api.token("cleo")
    created = await api.http.post(
        "/api/v1/api-keys", json={"name": "laptop", "scopes": ["runs:read"]}, headers=cleo
    )
    assert created.status_code == 201, created.text
    handle = await start_run(
        stack.env.client, Prepared(plan_of(SHORT)), {"n": 2}, stack.settings, owner="cleo"
    )
    await handle.result()

    async def exported() -> dict[str, Any]:
        response = await api.http.get(f"/api/v1/users/{user.id}/export", headers=root)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert [r["run_id"] for r in body["runs"]] == [handle.id]
        return body

    body: dict[str, Any] = {}

    async def check() -> None:
        body.update(await exported())

    await assert_eventually(check)
    assert body["groups"] == ["editors"]
    assert [k["name"] for k in body["api_keys"]] == ["laptop"]
    assert "login" in [e["action"] for e in body["audit_events"]]
    text = str(body)
    assert "$argon2" not in text
    assert "password_hash" not in text
    assert "totp_secret" not in text
    assert "key_hash" not in text
    # Members may not; nor may an admin delete themselves.
    assert (await api.http.get(f"/api/v1/users/{user.id}/export", headers=cleo)).status_code == 403
    me = (await api.http.get("/api/v1/users/me", headers=root)).json()["id"]
    assert (await api.http.delete(f"/api/v1/users/{me}", headers=root)).status_code == 409
    response = await api.http.delete(f"/api/v1/users/{user.id}", params={"delete_runs": True}, headers=root)
    assert response.status_code == 200, response.text
    assert response.json()["runs_deleted"] == 1
    assert (await api.http.get("/api/v1/users/me", headers=cleo)).status_code == 401
    assert (await api.http.get(f"/api/v1/users/{user.id}", headers=root)).status_code == 404
    await assert_eventually(lambda: gone(stack, handle.id))
    events = (await api.http.get("/api/v1/audit", params={"limit": 500}, headers=root)).json()["items"]
    assert all(e["target"] != "cleo" for e in events)
    assert any(e["action"] == "user.delete" for e in events)
