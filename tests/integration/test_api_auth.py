"""Sign-in, access token expiry, refresh rotation and reuse, sign-out — on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import update

from core.db.models import User
from tests.integration.api_client import PASSWORD, Api

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


async def test_login_gives_a_token_pair_that_opens_the_api(api: Api) -> None:
    await api.add_user("ada", role="operator", groups=["reviewers"])
    pair = await api.login("ada")
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 900
    me = await api.http.get(ME, headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["role"], me.json()["groups"]) == (
        "ada",
        "operator",
        ["reviewers"],
    )
    assert "password_hash" not in me.json()


async def test_wrong_password_and_unknown_user_get_the_same_401(api: Api) -> None:
    await api.add_user("ada")
    wrong = await api.http.post(LOGIN, json={"username": "ada", "password": "not it at all"})
    unknown = await api.http.post(LOGIN, json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong username or password"}


async def test_failed_and_successful_logins_are_audited(api: Api) -> None:
    await api.add_user("root", role="admin")
    await api.http.post(LOGIN, json={"username": "root", "password": "guess guess"})
    headers = await api.token("root")
    response = await api.http.get("/api/v1/audit", headers=headers)
    items = response.json()["items"]
    assert [i["action"] for i in items[:2]] == ["login", "login_failed"]
    assert items[1]["target"] == "root"
    assert items[1]["detail"] == {"reason": "wrong credentials"}
    assert items[0]["detail"] == {"method": "password"}
    assert "guess" not in response.text


async def test_an_inactive_user_cannot_sign_in_and_their_token_stops_working(api: Api) -> None:
    user = await api.add_user("ada")
    headers = await api.token("ada")
    async with api.sessions() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
        await session.commit()
    login = await api.http.post(LOGIN, json={"username": "ada", "password": PASSWORD})
    assert login.status_code == 401
    assert login.json()["detail"] == "this account is disabled"
    assert (await api.http.get(ME, headers=headers)).status_code == 401


async def test_a_user_with_2fa_gets_a_challenge_instead_of_tokens(api: Api) -> None:
    user = await api.add_user("ada")
    async with api.sessions() as session:
        await session.execute(update(User).where(User.id == user.id).values(totp_enabled=True))
        await session.commit()
    body = await api.login("ada")
    assert body["two_factor_required"] is True
    assert "access_token" not in body
    refused = await api.http.get(ME, headers={"Authorization": f"Bearer {body['challenge']}"})
    assert refused.status_code == 401


async def test_the_access_token_expires_after_its_ttl(api: Api) -> None:
    await api.add_user("ada")
    headers = await api.token("ada")
    api.clock.advance(899)
    assert (await api.http.get(ME, headers=headers)).status_code == 200
    api.clock.advance(2)
    expired = await api.http.get(ME, headers=headers)
    assert expired.status_code == 401
    assert expired.json()["detail"].startswith("the access token has expired")
    assert expired.headers["www-authenticate"] == "Bearer"


async def test_a_tampered_or_missing_token_is_refused(api: Api) -> None:
    await api.add_user("ada")
    token = (await api.login("ada"))["access_token"]
    tampered = await api.http.get(ME, headers={"Authorization": f"Bearer {token[:-3]}xyz"})
    assert tampered.status_code == 401
    assert tampered.json()["detail"].startswith("the access token is not valid")
    missing = await api.http.get(ME)
    assert missing.status_code == 401
    basic = await api.http.get(ME, headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401


async def test_refresh_rotates_and_the_old_refresh_token_stops_working(api: Api) -> None:
    await api.add_user("ada")
    first = await api.login("ada")
    api.clock.advance(1000)
    second = await api.http.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    fresh = second.json()
    assert fresh["refresh_token"] != first["refresh_token"]
    assert (
        await api.http.get(ME, headers={"Authorization": f"Bearer {fresh['access_token']}"})
    ).status_code == 200
    third = await api.http.post(REFRESH, json={"refresh_token": fresh["refresh_token"]})
    assert third.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(api: Api) -> None:
    await api.add_user("ada")
    await api.add_user("root", role="admin")
    stolen = (await api.login("ada"))["refresh_token"]
    other_session = (await api.login("ada"))["refresh_token"]
    current = (await api.http.post(REFRESH, json={"refresh_token": stolen})).json()["refresh_token"]
    reuse = await api.http.post(REFRESH, json={"refresh_token": stolen})
    assert reuse.status_code == 401
    assert "revoked" in reuse.json()["detail"]
    # The legitimate holder's newer token of that family is revoked too...
    assert (await api.http.post(REFRESH, json={"refresh_token": current})).status_code == 401
    # ...but another sign-in of the same user is a family of its own.
    assert (await api.http.post(REFRESH, json={"refresh_token": other_session})).status_code == 200
    assert "refresh.reuse" in await api.audit_actions(await api.token("root"))


async def test_a_refresh_token_expires(api: Api) -> None:
    await api.add_user("ada")
    pair = await api.login("ada")
    api.clock.advance(30 * 24 * 3600 + 1)
    response = await api.http.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("the refresh token has expired")


async def test_logout_revokes_that_session_only(api: Api) -> None:
    await api.add_user("ada")
    one, two = await api.login("ada"), await api.login("ada")
    response = await api.http.post(LOGOUT, json={"refresh_token": one["refresh_token"]})
    assert response.status_code == 204
    assert (await api.http.post(REFRESH, json={"refresh_token": one["refresh_token"]})).status_code == 401
    assert (await api.http.post(REFRESH, json={"refresh_token": two["refresh_token"]})).status_code == 200


async def test_logout_all_revokes_every_session_of_the_user(api: Api) -> None:
    await api.add_user("ada")
    await api.add_user("bob")
    one, two = await api.login("ada"), await api.login("ada")
    bobs = await api.login("bob")
    headers = {"Authorization": f"Bearer {one['access_token']}"}
    response = await api.http.post(LOGOUT, json={"all": True}, headers=headers)
    assert response.status_code == 204
    for pair in (one, two):
        assert (
            await api.http.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        ).status_code == 401
    assert (await api.http.post(REFRESH, json={"refresh_token": bobs["refresh_token"]})).status_code == 200


async def test_logout_without_a_token_says_what_to_send(api: Api) -> None:
    response = await api.http.post(LOGOUT, json={})
    assert response.status_code == 422
    assert "refresh_token" in response.json()["detail"]
