"""Users, groups, roles and isolation; the audit log; errors that leak nothing."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from api.deps import SessionDep
from tests.integration.api_client import PASSWORD, Api

USERS = "/api/v1/users"


async def test_a_member_sees_only_themselves_and_anyone_else_is_404(api: Api) -> None:
    ada = await api.add_user("ada")
    bob = await api.add_user("bob")
    member = await api.token("ada")
    assert (await api.http.get(f"{USERS}/{ada.id}", headers=member)).status_code == 200
    other = await api.http.get(f"{USERS}/{bob.id}", headers=member)
    missing = await api.http.get(f"{USERS}/no-such-id", headers=member)
    assert other.status_code == missing.status_code == 404
    assert (await api.http.get(USERS, headers=member)).status_code == 403


async def test_operators_and_admins_see_every_user(api: Api) -> None:
    await api.add_user("ada")
    bob = await api.add_user("bob", role="operator")
    await api.add_user("root", role="admin")
    for name in ("bob", "root"):
        headers = await api.token(name)
        listed = (await api.http.get(USERS, headers=headers)).json()
        assert [u["username"] for u in listed] == ["ada", "bob", "root"]
    ada_id = next(u["id"] for u in listed if u["username"] == "ada")
    assert (await api.http.get(f"{USERS}/{ada_id}", headers=await api.token("bob"))).status_code == 200
    # Operators read; only admins change.
    refused = await api.http.patch(
        f"{USERS}/{bob.id}", json={"role": "admin"}, headers=await api.token("bob")
    )
    assert refused.status_code == 403


async def test_an_admin_creates_a_user_who_can_sign_in(api: Api) -> None:
    await api.add_user("root", role="admin")
    admin = await api.token("root")
    assert (await api.http.post("/api/v1/groups", json={"name": "legal"}, headers=admin)).status_code == 201
    created = await api.http.post(
        USERS,
        json={"username": "eve", "password": "a long password", "role": "operator", "groups": ["legal"]},
        headers=admin,
    )
    assert created.status_code == 201
    assert (created.json()["role"], created.json()["groups"]) == ("operator", ["legal"])
    assert (await api.login("eve", "a long password"))["token_type"] == "bearer"
    again = await api.http.post(USERS, json={"username": "eve", "password": "a long password"}, headers=admin)
    assert again.status_code == 409
    assert again.json()["detail"] == "the username 'eve' is taken"


async def test_user_input_is_checked_with_a_message_naming_the_field(api: Api) -> None:
    await api.add_user("root", role="admin")
    admin = await api.token("root")
    short = await api.http.post(USERS, json={"username": "eve", "password": "short"}, headers=admin)
    assert short.status_code == 422
    assert short.json()["detail"] == "password: the password must have at least 8 characters"
    no_group = await api.http.post(
        USERS, json={"username": "eve", "password": PASSWORD, "groups": ["ghosts"]}, headers=admin
    )
    assert no_group.status_code == 422
    assert "no group named 'ghosts'" in no_group.json()["detail"]
    bad_role = await api.http.post(
        USERS, json={"username": "eve", "password": PASSWORD, "role": "god"}, headers=admin
    )
    assert bad_role.status_code == 422


async def test_an_admin_changes_role_groups_password_and_active_flag(api: Api) -> None:
    await api.add_user("root", role="admin")
    ada = await api.add_user("ada")
    admin = await api.token("root")
    await api.http.post("/api/v1/groups", json={"name": "reviewers"}, headers=admin)
    old_session = await api.login("ada")
    changed = await api.http.patch(
        f"{USERS}/{ada.id}",
        json={"role": "operator", "groups": ["reviewers"], "password": "another password"},
        headers=admin,
    )
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["groups"]) == ("operator", ["reviewers"])
    assert (
        await api.http.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    ).status_code == 401
    # A new password ends the sessions that existed.
    refresh = await api.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": old_session["refresh_token"]}
    )
    assert refresh.status_code == 401
    headers = await api.token_with("ada", "another password")
    assert (await api.http.get(USERS, headers=headers)).status_code == 200
    disabled = await api.http.patch(f"{USERS}/{ada.id}", json={"is_active": False}, headers=admin)
    assert disabled.json()["is_active"] is False
    assert (await api.http.get("/api/v1/users/me", headers=headers)).status_code == 401
    audit = (await api.http.get("/api/v1/audit", headers=admin)).json()["items"]
    updates = [e for e in audit if e["action"] == "user.update"]
    assert updates[0]["detail"] == {"is_active": [True, False]}
    assert updates[1]["detail"]["role"] == ["member", "operator"]
    assert updates[1]["detail"]["groups"] == [[], ["reviewers"]]
    assert updates[1]["detail"]["password"] == "changed"


async def test_the_last_admin_cannot_be_demoted_or_disabled(api: Api) -> None:
    root = await api.add_user("root", role="admin")
    admin = await api.token("root")
    for change in ({"role": "member"}, {"is_active": False}):
        refused = await api.http.patch(f"{USERS}/{root.id}", json=change, headers=admin)
        assert refused.status_code == 409
        assert "last active admin" in refused.json()["detail"]


async def test_groups_are_listed_for_staff_and_created_by_admins(api: Api) -> None:
    await api.add_user("root", role="admin")
    await api.add_user("ada")
    admin, member = await api.token("root"), await api.token("ada")
    assert (await api.http.post("/api/v1/groups", json={"name": "ops"}, headers=member)).status_code == 403
    assert (await api.http.post("/api/v1/groups", json={"name": "ops"}, headers=admin)).status_code == 201
    assert (await api.http.post("/api/v1/groups", json={"name": "ops"}, headers=admin)).status_code == 409
    assert [g["name"] for g in (await api.http.get("/api/v1/groups", headers=admin)).json()] == ["ops"]
    assert (await api.http.get("/api/v1/groups", headers=member)).status_code == 403


async def test_the_audit_log_pages_newest_first_for_admins_only(api: Api) -> None:
    await api.add_user("root", role="admin")
    await api.add_user("ada")
    for _ in range(4):
        await api.login("ada")
    admin = await api.token("root")
    assert (await api.http.get("/api/v1/audit", headers=await api.token("ada"))).status_code == 403
    first = (await api.http.get("/api/v1/audit", params={"limit": 3}, headers=admin)).json()
    assert len(first["items"]) == 3
    second = (
        await api.http.get(
            "/api/v1/audit", params={"limit": 3, "before": first["next_before"]}, headers=admin
        )
    ).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    everything = (await api.http.get("/api/v1/audit", params={"limit": 500}, headers=admin)).json()
    assert everything["next_before"] is None
    assert everything["items"][-1]["action"] == "user.create"


async def test_an_unexpected_error_is_a_500_with_a_request_id_and_no_sql(api: Api) -> None:
    async def broken(session: SessionDep) -> None:
        await session.execute(text("SELECT secret_column FROM no_such_table"))

    app: FastAPI = api.app
    app.add_api_route("/api/v1/broken", broken)
    response = await api.http.get("/api/v1/broken")
    assert response.status_code == 500
    body = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    assert (
        body["detail"]
        == f"internal error; the server log has the details under request id {body['request_id']}"
    )
    assert "no_such_table" not in response.text
    assert "Traceback" not in response.text
