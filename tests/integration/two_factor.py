"""Helpers of the two-factor API tests: a user enrolled through the API, codes at the app's clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pyotp

from tests.integration.api_client import Api

TWO_FA = "/api/v1/auth/2fa"
VERIFY = "/api/v1/auth/2fa/verify"
DEVICES = "/api/v1/auth/devices"
STEP = 30  # seconds: one TOTP time step


@dataclass
class Enrolled:
    """A user with two-factor on: the secret their app holds and the backup codes they were shown."""

    secret: str
    backup_codes: list[str]
    headers: dict[str, str]
    refresh_token: str


def code_now(api: Api, secret: str) -> str:
    """The code an authenticator app shows at the app's clock time."""
    return pyotp.TOTP(secret).at(int(api.clock.now.timestamp()))


async def enrolled(api: Api, username: str = "ada") -> Enrolled:
    """`username` signed in, with two-factor enrolled and confirmed (the confirming code is used)."""
    await api.add_user(username)
    pair = await api.login(username)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    enrolment = await api.http.post(f"{TWO_FA}/enrol", headers=headers)
    assert enrolment.status_code == 200, enrolment.text
    secret = enrolment.json()["secret"]
    confirm = await api.http.post(f"{TWO_FA}/confirm", json={"code": code_now(api, secret)}, headers=headers)
    assert confirm.status_code == 200, confirm.text
    return Enrolled(secret, confirm.json()["backup_codes"], headers, pair["refresh_token"])


async def challenge(api: Api, username: str = "ada") -> str:
    """The challenge a password sign-in of a 2FA user answers with."""
    body = await api.login(username)
    assert body.get("two_factor_required") is True, body
    challenge: str = body["challenge"]
    return challenge


async def verify(api: Api, challenge: str, code: str, **extra: Any) -> httpx.Response:
    """The second step; returns the HTTP response."""
    return await api.http.post(VERIFY, json={"challenge": challenge, "code": code, **extra})
