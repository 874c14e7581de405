"""Trusted devices through the HTTP API, on SQLite and PostgreSQL: a remembered browser skips the
second step for 30 days, until revoked; the cookie is HttpOnly, and Secure over HTTPS."""

from __future__ import annotations

import httpx

from tests.integration.api_client import Api
from tests.integration.two_factor import DEVICES, STEP, challenge, code_now, enrolled, verify

DAY = 24 * 3600


async def remember(
    api: Api, secret: str, name: str = "ada's laptop", username: str = "ada"
) -> httpx.Response:
    """A second step (at the next time step) that asks to remember this browser."""
    api.clock.advance(STEP)
    answer = await verify(
        api, await challenge(api, username), code_now(api, secret), remember_device=True, device_name=name
    )
    assert answer.status_code == 200, answer.text
    return answer


async def test_a_remembered_device_skips_the_second_step_for_30_days(api: Api) -> None:
    ada = await enrolled(api)
    await api.add_user("root", role="admin")
    answer = await remember(api, ada.secret)
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("stepwise_trusted_device=")
    for attribute in ("HttpOnly", "Max-Age=2592000", "Path=/", "SameSite=lax"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    api.clock.advance(3600)
    skipped = await api.login("ada")
    assert "access_token" in skipped
    headers = {"Authorization": f"Bearer {skipped['access_token']}"}
    devices = (await api.http.get(DEVICES, headers=headers)).json()
    assert [(d["name"], d["current"], d["revoked_at"]) for d in devices] == [("ada's laptop", True, None)]
    assert devices[0]["last_used_at"] == api.clock.now.isoformat().replace("+00:00", "Z")
    audit = await api.http.get("/api/v1/audit", headers=await api.token("root"))
    assert {"method": "password+trusted_device"} in [e["detail"] for e in audit.json()["items"]]
    api.clock.advance(30 * DAY - 3600 - 1)
    assert "access_token" in await api.login("ada")
    api.clock.advance(1)
    assert (await api.login("ada")).get("two_factor_required") is True
    status = (await api.http.get("/api/v1/auth/2fa", headers=await _fresh_headers(api, ada.secret))).json()
    assert status["trusted_devices"] == 0


async def _fresh_headers(api: Api, secret: str) -> dict[str, str]:
    api.clock.advance(STEP)
    answer = await verify(api, await challenge(api), code_now(api, secret))
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_a_revoked_device_asks_again(api: Api) -> None:
    ada = await enrolled(api)
    await api.add_user("root", role="admin")
    await remember(api, ada.secret)
    assert "access_token" in await api.login("ada")
    [device] = (await api.http.get(DEVICES, headers=ada.headers)).json()
    revoked = await api.http.delete(f"{DEVICES}/{device['id']}", headers=ada.headers)
    assert revoked.status_code == 204
    assert (await api.login("ada")).get("two_factor_required") is True
    [listed] = (await api.http.get(DEVICES, headers=ada.headers)).json()
    assert listed["revoked_at"] is not None
    assert "device.revoke" in await api.audit_actions(await api.token("root"))


async def test_another_users_device_is_not_found_and_not_trusted_for_them(api: Api) -> None:
    ada = await enrolled(api)
    bob = await enrolled(api, "bob")
    await remember(api, ada.secret)
    [device] = (await api.http.get(DEVICES, headers=ada.headers)).json()
    missing = await api.http.delete(f"{DEVICES}/{device['id']}", headers=bob.headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"no trusted device with id {device['id']}"
    assert (await api.http.get(DEVICES, headers=bob.headers)).json() == []
    # The browser holds ada's cookie; bob signing in there still needs his second step.
    assert (await api.login("bob")).get("two_factor_required") is True
    assert "access_token" in await api.login("ada")


async def test_without_remember_device_nothing_is_stored(api: Api) -> None:
    ada = await enrolled(api)
    api.clock.advance(STEP)
    answer = await verify(api, await challenge(api), code_now(api, ada.secret))
    assert "set-cookie" not in answer.headers
    assert (await api.http.get(DEVICES, headers=ada.headers)).json() == []
    assert (await api.login("ada")).get("two_factor_required") is True


async def test_over_https_the_cookie_is_secure_and_host_only(api: Api) -> None:
    ada = await enrolled(api)
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as browser:
        api.clock.advance(STEP)
        login = await browser.post(
            "/api/v1/auth/login", json={"username": "ada", "password": "correct horse battery"}
        )
        answer = await browser.post(
            "/api/v1/auth/2fa/verify",
            json={
                "challenge": login.json()["challenge"],
                "code": code_now(api, ada.secret),
                "remember_device": True,
            },
            headers={"User-Agent": "Firefox on ada's phone"},
        )
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("__Host-stepwise_trusted_device=")
        assert "Secure" in cookie
        assert "Domain" not in cookie
        again = await browser.post(
            "/api/v1/auth/login", json={"username": "ada", "password": "correct horse battery"}
        )
        assert "access_token" in again.json()
    [device] = (await api.http.get(DEVICES, headers=ada.headers)).json()
    assert device["name"] == "Firefox on ada's phone"
    assert device["current"] is False  # this client holds no cookie
