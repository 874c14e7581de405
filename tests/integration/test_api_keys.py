"""API keys: created once, listed, revoked, checked on every request, limited by scopes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.api_client import Api

KEYS = "/api/v1/api-keys"
ME = "/api/v1/users/me"


async def _create(api: Api, headers: dict[str, str], scopes: list[str], **extra: Any) -> dict[str, Any]:
    response = await api.http.post(KEYS, json={"name": "ci", "scopes": scopes, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_key_is_shown_once_and_works_in_either_header(api: Api) -> None:
    await api.add_user("ada")
    headers = await api.token("ada")
    created = await _create(api, headers, ["runs:start", "runs:read"])
    key = created["key"]
    assert key.startswith(created["prefix"] + "_")
    assert len(created["prefix"]) == len("sw_") + 8
    assert created["scopes"] == ["runs:read", "runs:start"]
    listed = (await api.http.get(KEYS, headers=headers)).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert key not in (await api.http.get(KEYS, headers=headers)).text
    for key_headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        me = await api.http.get(ME, headers=key_headers)
        assert me.status_code == 200
        assert me.json()["username"] == "ada"


async def test_use_is_recorded_in_last_used_at(api: Api) -> None:
    await api.add_user("ada")
    headers = await api.token("ada")
    created = await _create(api, headers, ["runs:read"])
    assert created["last_used_at"] is None
    await api.http.get(ME, headers={"X-API-Key": created["key"]})
    listed = (await api.http.get(KEYS, headers=headers)).json()
    assert listed[0]["last_used_at"] is not None


async def test_a_revoked_key_is_refused(api: Api) -> None:
    await api.add_user("ada")
    await api.add_user("root", role="admin")
    headers = await api.token("ada")
    created = await _create(api, headers, ["runs:read"])
    assert (await api.http.delete(f"{KEYS}/{created['id']}", headers=headers)).status_code == 204
    refused = await api.http.get(ME, headers={"X-API-Key": created["key"]})
    assert refused.status_code == 401
    assert refused.json()["detail"] == f"the API key {created['prefix']} was revoked"
    listed = (await api.http.get(KEYS, headers=headers)).json()
    assert listed[0]["revoked_at"] is not None
    actions = await api.audit_actions(await api.token("root"))
    assert actions.index("api_key.revoke") < actions.index("api_key.create")


async def test_an_unknown_or_malformed_key_is_refused(api: Api) -> None:
    await api.add_user("ada")
    created = await _create(api, await api.token("ada"), ["runs:read"])
    wrong_secret = created["key"][:-4] + "AAAA"
    assert (await api.http.get(ME, headers={"X-API-Key": wrong_secret})).status_code == 401
    malformed = await api.http.get(ME, headers={"X-API-Key": "sw_short"})
    assert malformed.status_code == 401
    assert "malformed" in malformed.json()["detail"]


async def test_an_expired_key_is_refused(api: Api) -> None:
    await api.add_user("ada")
    headers = await api.token("ada")
    expires = (api.clock() + timedelta(hours=1)).isoformat()
    created = await _create(api, headers, ["runs:read"], expires_at=expires)
    assert (await api.http.get(ME, headers={"X-API-Key": created["key"]})).status_code == 200
    api.clock.advance(3601)
    refused = await api.http.get(ME, headers={"X-API-Key": created["key"]})
    assert refused.status_code == 401
    assert refused.json()["detail"].endswith("has expired")


async def test_a_key_without_the_scope_gets_403(api: Api) -> None:
    await api.add_user("root", role="admin")
    admin = await api.token("root")
    narrow = await _create(api, admin, ["runs:read"])
    broad = await _create(api, admin, ["admin"])
    refused = await api.http.get("/api/v1/audit", headers={"X-API-Key": narrow["key"]})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this needs the scope admin; this API key has the scopes: runs:read"
    assert (await api.http.get("/api/v1/audit", headers={"X-API-Key": broad["key"]})).status_code == 200


async def test_a_key_never_holds_more_than_its_users_role(api: Api) -> None:
    await api.add_user("ada")
    await api.add_user("root", role="admin")
    member = await api.token("ada")
    refused = await api.http.post(KEYS, json={"name": "x", "scopes": ["admin"]}, headers=member)
    assert refused.status_code == 422
    assert "cannot grant admin" in refused.json()["detail"]
    # An admin's key with the admin scope loses it when the admin is demoted.
    admin = await api.token("root")
    key = (await _create(api, admin, ["admin", "runs:read"]))["key"]
    ada_id = (await api.http.get(ME, headers=member)).json()["id"]
    assert (
        await api.http.patch(f"/api/v1/users/{ada_id}", json={"role": "admin"}, headers=admin)
    ).status_code == 200
    root_id = (await api.http.get(ME, headers=admin)).json()["id"]
    ada_admin = await api.token("ada")
    demote = await api.http.patch(f"/api/v1/users/{root_id}", json={"role": "member"}, headers=ada_admin)
    assert demote.status_code == 200
    assert (await api.http.get("/api/v1/audit", headers={"X-API-Key": key})).status_code == 403


async def test_members_see_only_their_keys_and_admins_may_list_all(api: Api) -> None:
    await api.add_user("ada")
    await api.add_user("bob")
    await api.add_user("root", role="admin")
    ada, bob, root = await api.token("ada"), await api.token("bob"), await api.token("root")
    adas = await _create(api, ada, ["runs:read"])
    bobs = await _create(api, bob, ["runs:read"])
    assert [k["id"] for k in (await api.http.get(KEYS, headers=bob)).json()] == [bobs["id"]]
    assert (await api.http.delete(f"{KEYS}/{adas['id']}", headers=bob)).status_code == 404
    assert (await api.http.get(KEYS, params={"all": "true"}, headers=bob)).status_code == 422
    everyone = (await api.http.get(KEYS, params={"all": "true"}, headers=root)).json()
    assert len(everyone) == 2
    assert (await api.http.delete(f"{KEYS}/{adas['id']}", headers=root)).status_code == 204


async def test_keys_are_managed_with_a_session_not_with_a_key(api: Api) -> None:
    await api.add_user("ada")
    key = (await _create(api, await api.token("ada"), ["runs:read"]))["key"]
    refused = await api.http.post(
        KEYS, json={"name": "more", "scopes": ["runs:read"]}, headers={"X-API-Key": key}
    )
    assert refused.status_code == 403
