"""Two-factor authentication through the HTTP API, on SQLite and PostgreSQL: enrol, confirm, the
second sign-in step (TOTP or backup code, each once), trusted devices, disabling."""

from __future__ import annotations

import asyncio
import base64

from pydantic import SecretStr

from core.auth.tokens import encode_access, encode_challenge
from core.db.repos.two_factor import claim_totp_step, mark_backup_code_used, unused_backup_codes
from core.db.repos.users import get_by_username
from tests.integration.api_client import PASSWORD, Api
from tests.integration.two_factor import DEVICES, STEP, TWO_FA, challenge, code_now, enrolled, verify
from tests.unit.test_qr import scan

LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


async def test_enrol_confirm_and_sign_in_with_the_second_step(api: Api) -> None:
    ada = await enrolled(api)
    assert len(ada.backup_codes) == 10
    assert len(set(ada.backup_codes)) == 10
    assert (await api.http.post(LOGOUT, json={"refresh_token": ada.refresh_token})).status_code == 204
    api.clock.advance(STEP)
    first = await challenge(api)
    code = code_now(api, ada.secret)
    passed = await verify(api, first, code)
    assert passed.status_code == 200, passed.text
    me = await api.http.get(ME, headers={"Authorization": f"Bearer {passed.json()['access_token']}"})
    assert me.json()["username"] == "ada"
    assert me.json()["totp_enabled"] is True
    # The same code again, even with a fresh challenge, is a replay.
    again = await verify(api, await challenge(api), code)
    assert again.status_code == 401
    assert again.json()["detail"] == (
        "code: this code was already used; wait for the next one in your authenticator app"
    )
    api.clock.advance(STEP)
    assert (await verify(api, await challenge(api), code_now(api, ada.secret))).status_code == 200


async def test_the_code_that_confirmed_enrolment_does_not_sign_in(api: Api) -> None:
    ada = await enrolled(api)
    refused = await verify(api, await challenge(api), code_now(api, ada.secret))
    assert refused.status_code == 401
    assert "already used" in refused.json()["detail"]


async def test_a_wrong_code_is_refused_and_audited(api: Api) -> None:
    ada = await enrolled(api)
    await api.add_user("root", role="admin")
    api.clock.advance(STEP)
    wrong = str((int(code_now(api, ada.secret)) + 1) % 1_000_000).zfill(6)
    refused = await verify(api, await challenge(api), wrong)
    assert refused.status_code == 401
    assert refused.json()["detail"].startswith("code: this code is wrong or has expired")
    assert refused.headers["www-authenticate"] == "Bearer"
    garbage = await verify(api, await challenge(api), "hello")
    assert garbage.status_code == 401
    assert "backup code like 7kq2-m9xd" in garbage.json()["detail"]
    assert "login.second_factor_failed" in await api.audit_actions(await api.token("root"))


async def test_a_backup_code_signs_in_once(api: Api) -> None:
    ada = await enrolled(api)
    await api.add_user("root", role="admin")
    code = ada.backup_codes[3]
    passed = await verify(api, await challenge(api), code.upper().replace("-", " "))
    assert passed.status_code == 200, passed.text
    for _ in range(2):
        refused = await verify(api, await challenge(api), code)
        assert refused.status_code == 401
        assert "already used" in refused.json()["detail"]
    status = await api.http.get(TWO_FA, headers=ada.headers)
    assert status.json()["backup_codes_left"] == 9
    audit = await api.http.get("/api/v1/audit", headers=await api.token("root"))
    events = [(e["action"], e["detail"]) for e in audit.json()["items"]]
    assert ("login.second_factor", {"method": "backup_code"}) in events
    assert ("login", {"method": "password+backup_code"}) in events


async def test_a_forged_or_expired_challenge_is_refused(api: Api) -> None:
    ada = await enrolled(api)
    api.clock.advance(STEP)
    user = (await api.http.get(ME, headers=ada.headers)).json()
    forged = encode_challenge(user["id"], SecretStr("another-secret-key-0123456789abcdef"), api.clock.now)
    refused = await verify(api, forged, code_now(api, ada.secret))
    assert refused.status_code == 401
    assert (
        refused.json()["detail"]
        == "challenge: the 2FA challenge is not valid; sign in again with your password"
    )
    # An access token is no challenge.
    token = ada.headers["Authorization"].removeprefix("Bearer ")
    assert (await verify(api, token, code_now(api, ada.secret))).status_code == 401
    stale = await challenge(api)
    api.clock.advance(301)
    expired = await verify(api, stale, code_now(api, ada.secret))
    assert expired.status_code == 401
    assert expired.json()["detail"].startswith("challenge: the 2FA challenge has expired")


async def test_a_wrong_code_at_confirm_leaves_two_factor_off(api: Api) -> None:
    await api.add_user("ada")
    headers = await api.token("ada")
    secret = (await api.http.post(f"{TWO_FA}/enrol", headers=headers)).json()["secret"]
    wrong = str((int(code_now(api, secret)) + 1) % 1_000_000).zfill(6)
    refused = await api.http.post(f"{TWO_FA}/confirm", json={"code": wrong}, headers=headers)
    assert refused.status_code == 422
    assert "scan the latest QR code" in refused.json()["detail"]
    status = (await api.http.get(TWO_FA, headers=headers)).json()
    assert status == {
        "enabled": False,
        "enrolment_pending": True,
        "backup_codes_left": 0,
        "trusted_devices": 0,
    }
    assert "access_token" in await api.login("ada")


async def test_confirm_without_enrolling_and_enrolling_twice_are_conflicts(api: Api) -> None:
    await api.add_user("bob")
    headers = await api.token("bob")
    early = await api.http.post(f"{TWO_FA}/confirm", json={"code": "123456"}, headers=headers)
    assert early.status_code == 409
    assert early.json()["detail"].startswith("no enrolment in progress")
    ada = await enrolled(api)
    again = await api.http.post(f"{TWO_FA}/enrol", headers=ada.headers)
    assert again.status_code == 409
    assert "already on" in again.json()["detail"]


async def test_the_qr_code_holds_the_otpauth_uri(api: Api) -> None:
    await api.add_user("ada")
    response = await api.http.post(f"{TWO_FA}/enrol", headers=await api.token("ada"))
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    assert body["otpauth_uri"].startswith("otpauth://totp/Stepwise:ada?")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert scan(base64.b64decode(body["qr_png"])) == [body["otpauth_uri"]]


async def test_two_factor_is_managed_with_a_session_not_an_api_key(api: Api) -> None:
    await api.add_user("ada")
    headers = await api.token("ada")
    created = await api.http.post(
        "/api/v1/api-keys", json={"name": "ci", "scopes": ["runs:read"]}, headers=headers
    )
    key = created.json()["key"]
    refused = await api.http.post(f"{TWO_FA}/enrol", headers={"X-API-Key": key})
    assert refused.status_code == 403
    assert (await api.http.post(f"{TWO_FA}/enrol")).status_code == 401


async def test_new_backup_codes_replace_the_old_ones(api: Api) -> None:
    ada = await enrolled(api)
    api.clock.advance(STEP)
    wrong = await api.http.post(f"{TWO_FA}/backup-codes", json={"code": "000000"}, headers=ada.headers)
    assert wrong.status_code == 403
    fresh = await api.http.post(
        f"{TWO_FA}/backup-codes", json={"code": code_now(api, ada.secret)}, headers=ada.headers
    )
    assert fresh.status_code == 200, fresh.text
    new_codes = fresh.json()["backup_codes"]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(ada.backup_codes)
    assert (await verify(api, await challenge(api), ada.backup_codes[0])).status_code == 401
    assert (await verify(api, await challenge(api), new_codes[0])).status_code == 200


async def test_disable_needs_the_password_and_a_code(api: Api) -> None:
    ada = await enrolled(api)
    await api.add_user("root", role="admin")
    api.clock.advance(STEP)
    remembered = await verify(api, await challenge(api), code_now(api, ada.secret), remember_device=True)
    assert remembered.status_code == 200
    api.clock.advance(STEP)
    code = code_now(api, ada.secret)
    no_password = await api.http.post(
        f"{TWO_FA}/disable", json={"password": "not my password", "code": code}, headers=ada.headers
    )
    assert no_password.status_code == 403
    assert no_password.json()["detail"] == "password: this is not your current password"
    no_code = await api.http.post(
        f"{TWO_FA}/disable", json={"password": PASSWORD, "code": "000000"}, headers=ada.headers
    )
    assert no_code.status_code == 403
    assert no_code.json()["detail"].startswith("code: ")
    off = await api.http.post(
        f"{TWO_FA}/disable", json={"password": PASSWORD, "code": code}, headers=ada.headers
    )
    assert off.status_code == 204
    status = (await api.http.get(TWO_FA, headers=ada.headers)).json()
    assert status == {
        "enabled": False,
        "enrolment_pending": False,
        "backup_codes_left": 0,
        "trusted_devices": 0,
    }
    devices = (await api.http.get(DEVICES, headers=ada.headers)).json()
    assert [d["revoked_at"] is not None for d in devices] == [True]
    assert "access_token" in await api.login("ada")
    actions = await api.audit_actions(await api.token("root"))
    for action in ("2fa.enrol", "2fa.enable", "device.trust", "login.second_factor", "2fa.disable"):
        assert action in actions


async def test_disable_with_a_backup_code(api: Api) -> None:
    ada = await enrolled(api)
    off = await api.http.post(
        f"{TWO_FA}/disable", json={"password": PASSWORD, "code": ada.backup_codes[0]}, headers=ada.headers
    )
    assert off.status_code == 204
    assert "access_token" in await api.login("ada")


async def test_two_concurrent_second_steps_with_one_code_cannot_both_pass(api: Api) -> None:
    ada = await enrolled(api)
    api.clock.advance(STEP)
    code = code_now(api, ada.secret)
    one, two = await challenge(api), await challenge(api)
    answers = await asyncio.gather(verify(api, one, code), verify(api, two, code))
    assert sorted(a.status_code for a in answers) == [200, 401]


async def test_a_totp_step_is_claimed_once_even_after_a_stale_read(api: Api) -> None:
    await enrolled(api)
    async with api.sessions() as first, api.sessions() as second:
        # Both requests read the user before either writes: the read cannot stop the second.
        user_one = await get_by_username(first, "ada")
        user_two = await get_by_username(second, "ada")
        assert user_one is not None
        assert user_two is not None
        step = (user_one.totp_last_step or 0) + 1
        assert await claim_totp_step(first, user_one.id, step)
        await first.commit()
        assert not await claim_totp_step(second, user_two.id, step)
        assert await claim_totp_step(second, user_two.id, step + 1)


async def test_a_backup_code_is_used_once_even_after_a_stale_read(api: Api) -> None:
    await enrolled(api)
    async with api.sessions() as first, api.sessions() as second:
        user = await get_by_username(first, "ada")
        assert user is not None
        [code_one, *_] = await unused_backup_codes(first, user.id)
        [code_two, *_] = await unused_backup_codes(second, user.id)
        assert code_one.id == code_two.id
        assert await mark_backup_code_used(first, code_one.id, api.clock.now)
        await first.commit()
        assert not await mark_backup_code_used(second, code_two.id, api.clock.now)


async def test_an_account_without_a_password_cannot_enrol(api: Api) -> None:
    user = await api.add_user("sso", password=None)
    token = encode_access(user.id, "member", [], api.settings.secret_key, api.clock.now, 900)
    refused = await api.http.post(f"{TWO_FA}/enrol", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 409
    assert "identity provider" in refused.json()["detail"]


async def test_ten_wrong_codes_hold_off_the_second_step_for_a_quarter_hour(api: Api) -> None:
    ada = await enrolled(api)
    api.clock.advance(STEP)
    right = code_now(api, ada.secret)
    wrong = str((int(right) + 1) % 1_000_000).zfill(6)
    first = await challenge(api)
    for _ in range(10):
        assert (await verify(api, first, wrong)).status_code == 401
    held = await verify(api, first, right)
    assert held.status_code == 429
    assert held.headers["retry-after"] == "900"
    assert held.json()["detail"] == "code: too many wrong codes for this account; try again in 15 minutes"
    api.clock.advance(900)
    assert (await verify(api, await challenge(api), code_now(api, ada.secret))).status_code == 200
