"""OIDC sign-in through the HTTP API, against a real local provider over HTTP, on SQLite and
PostgreSQL: users created, linked and refused, and the pending-login cookie."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import func, select, update

from api.app import create_app
from core.auth.oidc import OidcError
from core.db.models import User
from core.settings import Settings
from tests.integration.api_client import TEST_SECRET, Api, MovableClock, running_api
from tests.oidc_provider import LocalOidcProvider, ProviderUser, running_provider

OIDC = "/api/v1/auth/oidc"
LOGIN = f"{OIDC}/login"
CALLBACK = f"{OIDC}/callback"
# The API under test answers at http://test (httpx's ASGI transport): the browser comes back there.
CALLBACK_URL = f"http://test{CALLBACK}"
COOKIE = "stepwise_oidc"


@pytest.fixture
def provider() -> Iterator[LocalOidcProvider]:
    with running_provider(LocalOidcProvider(redirect_uri=CALLBACK_URL)) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """The browser's trips to the provider (real HTTP on 127.0.0.1; no proxies from the environment)."""
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        yield client


def oidc_settings(db_url: str, tmp_path: Path, issuer: str, client_id: str, secret: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=db_url,
        secret_key=TEST_SECRET,
        oidc_issuer=issuer,
        oidc_client_id=client_id,
        oidc_client_secret=SecretStr(secret),
        oidc_redirect_uri=CALLBACK_URL,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def oidc_api(
    db_url: str, tmp_path: Path, provider: LocalOidcProvider, browser: httpx.AsyncClient
) -> AsyncIterator[Api]:
    """The API with OIDC sign-in at the local provider; its clock starts at the real time, since
    the provider stamps its ID tokens with it."""
    settings = oidc_settings(db_url, tmp_path, provider.issuer, provider.client_id, provider.client_secret)
    async with running_api(settings, MovableClock(datetime.now(UTC)), oidc_http=browser) as running:
        yield running


async def to_callback(api: Api, browser: httpx.AsyncClient) -> str:
    """Start a login and follow the browser to the provider and back: the callback URL it lands on."""
    start = await api.http.get(LOGIN)
    assert start.status_code == 302, start.text
    at_provider = await browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    location: str = at_provider.headers["location"]
    assert location.startswith(CALLBACK_URL + "?")
    return location


async def sign_in(api: Api, browser: httpx.AsyncClient) -> httpx.Response:
    """The callback's answer to a whole login."""
    return await api.http.get(await to_callback(api, browser))


async def sign_in_as(
    api: Api, browser: httpx.AsyncClient, provider: LocalOidcProvider, user: ProviderUser
) -> httpx.Response:
    """The callback's answer to a whole login of `user` at the provider."""
    provider.user = user
    return await sign_in(api, browser)


async def me(api: Api, pair: dict[str, Any]) -> dict[str, Any]:
    response = await api.http.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def audit_log(api: Api) -> list[dict[str, Any]]:
    """The audit events, newest first (read by an admin who signs in with a password)."""
    auditor = await api.add_user("auditor", role="admin")
    response = await api.http.get("/api/v1/audit", params={"limit": 500}, headers=await api.token("auditor"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [item for item in items if item["target"] not in ("auditor", auditor.id)]


async def user_count(api: Api) -> int:
    async with api.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_a_new_person_gets_a_member_account_by_verified_email(
    oidc_api: Api, browser: httpx.AsyncClient
) -> None:
    status = await oidc_api.http.get(OIDC)
    assert status.json() == {"enabled": True, "login_url": LOGIN}
    answer = await sign_in(oidc_api, browser)
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "bearer"
    user = await me(oidc_api, answer.json())
    assert (user["username"], user["email"], user["email_verified"], user["role"]) == (
        "ada",
        "ada@example.com",
        True,
        "member",
    )
    events = await audit_log(oidc_api)
    assert [e["action"] for e in events[:3]] == ["login", "oidc.link", "user.create"]
    assert events[0]["detail"] == {"method": "oidc", "outcome": "created"}
    assert events[1]["detail"]["by"] == "new user"


async def test_the_same_person_again_signs_in_as_the_same_user(
    oidc_api: Api, browser: httpx.AsyncClient, provider: LocalOidcProvider
) -> None:
    first = await me(oidc_api, (await sign_in(oidc_api, browser)).json())
    # The provider's address changed meanwhile: the link (issuer, subject) decides, not the email.
    again = await sign_in_as(oidc_api, browser, provider, ProviderUser(email="ada@new.example.com"))
    assert again.status_code == 200, again.text
    assert (await me(oidc_api, again.json()))["id"] == first["id"]
    assert await user_count(oidc_api) == 1
    events = await audit_log(oidc_api)
    assert events[0]["action"] == "login"
    assert events[0]["detail"] == {"method": "oidc", "outcome": "linked_before"}


async def test_a_password_user_with_the_same_verified_email_is_linked(
    oidc_api: Api, browser: httpx.AsyncClient
) -> None:
    existing = await oidc_api.add_user("lovelace", email="Ada@Example.com")
    answer = await sign_in(oidc_api, browser)
    assert answer.status_code == 200, answer.text
    assert (await me(oidc_api, answer.json()))["id"] == existing.id
    assert await user_count(oidc_api) == 1
    events = await audit_log(oidc_api)
    assert [e["action"] for e in events[:2]] == ["login", "oidc.link"]
    assert events[0]["detail"] == {"method": "oidc", "outcome": "linked_by_email"}
    assert events[1]["target"] == existing.id
    assert events[1]["detail"]["by"] == "email"
    # The password still works beside the provider.
    await oidc_api.login("lovelace")


async def test_an_unverified_email_of_an_existing_user_is_refused(
    oidc_api: Api, browser: httpx.AsyncClient, provider: LocalOidcProvider
) -> None:
    await oidc_api.add_user("lovelace", email="ada@example.com")
    answer = await sign_in_as(oidc_api, browser, provider, ProviderUser(email_verified=False))
    assert answer.status_code == 400
    assert "has not verified that this address is yours" in answer.json()["detail"]
    assert "access_token" not in answer.text
    events = await audit_log(oidc_api)
    assert events[0]["action"] == "login_failed"
    assert events[0]["detail"]["method"] == "oidc"
    assert "not verified" in events[0]["detail"]["reason"]
    assert "oidc.link" not in [e["action"] for e in events]


async def test_a_new_username_is_the_preferred_one_made_unique(
    oidc_api: Api, browser: httpx.AsyncClient, provider: LocalOidcProvider
) -> None:
    await oidc_api.add_user("ada.l", email="someone@example.com")
    answer = await sign_in_as(
        oidc_api, browser, provider, ProviderUser(preferred_username="ada.l", email="ada+work@example.com")
    )
    assert answer.status_code == 200, answer.text
    assert (await me(oidc_api, answer.json()))["username"] == "ada.l-2"
    # Without a preferred username, the email's local part, cut to the characters usernames allow.
    other = await sign_in_as(
        oidc_api, browser, provider, ProviderUser(subject="user-2", email="grace+x@example.com")
    )
    assert (await me(oidc_api, other.json()))["username"] == "grace-x"


async def test_a_tampered_state_is_refused(oidc_api: Api, browser: httpx.AsyncClient) -> None:
    location = urlsplit(await to_callback(oidc_api, browser))
    params = dict(parse_qsl(location.query))
    params["state"] = params["state"][:-2] + "xx"
    answer = await oidc_api.http.get(CALLBACK, params=params)
    assert answer.status_code == 400
    assert answer.json()["detail"] == "state does not match: start the login again"
    assert await user_count(oidc_api) == 0


async def test_a_tampered_cookie_is_refused(oidc_api: Api, browser: httpx.AsyncClient) -> None:
    location = await to_callback(oidc_api, browser)
    sealed = oidc_api.http.cookies[COOKIE]
    header, payload, signature = sealed.split(".")
    oidc_api.http.cookies.clear()
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    answer = await oidc_api.http.get(location, headers={"cookie": f"{COOKIE}={forged}"})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("the sign-in cookie is not valid")
    assert await user_count(oidc_api) == 0


async def test_a_missing_or_stale_cookie_is_refused(oidc_api: Api, browser: httpx.AsyncClient) -> None:
    location = await to_callback(oidc_api, browser)
    kept = dict(oidc_api.http.cookies)
    oidc_api.http.cookies.clear()
    missing = await oidc_api.http.get(location)
    assert missing.status_code == 400
    assert missing.json()["detail"].startswith("no OIDC sign-in is in progress in this browser")
    assert LOGIN in missing.json()["detail"]
    oidc_api.clock.advance(601)
    stale = await oidc_api.http.get(location, headers={"cookie": f"{COOKIE}={kept[COOKIE]}"})
    assert stale.status_code == 400
    assert "more than 10 minutes ago" in stale.json()["detail"]
    events = await audit_log(oidc_api)
    assert [e["action"] for e in events[:2]] == ["login_failed", "login_failed"]


async def test_the_cookie_is_scoped_short_lived_and_cleared(
    oidc_api: Api, browser: httpx.AsyncClient
) -> None:
    start = await oidc_api.http.get(LOGIN)
    cookie = start.headers["set-cookie"].lower()
    for part in ("httponly", "samesite=lax", f"path={CALLBACK}", "max-age=600"):
        assert part in cookie
    at_provider = await browser.get(start.headers["location"])
    answer = await oidc_api.http.get(at_provider.headers["location"])
    assert answer.status_code == 200
    assert COOKIE not in oidc_api.http.cookies
    # A login's secrets are good once: the same callback again is refused.
    replay = await oidc_api.http.get(at_provider.headers["location"])
    assert replay.status_code == 400


async def test_an_inactive_user_is_refused(oidc_api: Api, browser: httpx.AsyncClient) -> None:
    first = await me(oidc_api, (await sign_in(oidc_api, browser)).json())
    async with oidc_api.sessions() as session:
        await session.execute(update(User).where(User.id == first["id"]).values(is_active=False))
        await session.commit()
    answer = await sign_in(oidc_api, browser)
    assert answer.status_code == 403
    assert answer.json()["detail"] == "the account ada is disabled: an admin can enable it again"
    events = await audit_log(oidc_api)
    assert events[0]["action"] == "login_failed"
    assert events[0]["actor_id"] == first["id"]


async def test_oidc_off_answers_404_naming_the_settings(api: Api) -> None:
    status = await api.http.get(OIDC)
    assert status.json() == {"enabled": False, "login_url": None}
    for path in (LOGIN, f"{CALLBACK}?code=x&state=y"):
        answer = await api.http.get(path)
        assert answer.status_code == 404
        assert "STEPWISE_OIDC_ISSUER" in answer.json()["detail"]
        assert "STEPWISE_OIDC_CLIENT_SECRET" in answer.json()["detail"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_provider_answers_502(
    db_url: str, tmp_path: Path, browser: httpx.AsyncClient
) -> None:
    issuer = f"http://127.0.0.1:{closed_port()}"
    settings = oidc_settings(db_url, tmp_path, issuer, "stepwise", "a client secret")
    async with running_api(settings, oidc_http=browser) as api:
        answer = await api.http.get(LOGIN)
    assert answer.status_code == 502
    assert answer.json()["detail"].startswith(f"cannot reach the provider's discovery document at {issuer}")


def test_incomplete_oidc_settings_stop_the_app_with_the_missing_ones(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, oidc_issuer="https://id.example.com", oidc_client_id="stepwise")
    with pytest.raises(OidcError, match="STEPWISE_OIDC_CLIENT_SECRET and STEPWISE_OIDC_REDIRECT_URI"):
        create_app(settings)
