"""Rate limits on sign-in, the request body limit, and errors that never leak — on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text

from tests.integration.api_client import PASSWORD, Api, MovableClock
from tests.integration.hardened_app import client, hardened_settings, serving

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"


async def test_login_attempts_per_username_are_limited_and_say_when_to_retry(api: Api) -> None:
    await api.add_user("ada")
    await api.add_user("bob")
    for _ in range(10):  # the default: 10 a minute per address and username
        wrong = await api.http.post(LOGIN, json={"username": "ada", "password": "not the password"})
        assert wrong.status_code == 401
    # Case does not buy more attempts, and the right password does not get through either.
    refused = await api.http.post(LOGIN, json={"username": "ADA", "password": PASSWORD})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "6"
    assert refused.json() == {"detail": "too many attempts; try again in 6 seconds"}
    assert "x-request-id" in refused.headers
    assert refused.headers["x-frame-options"] == "DENY"
    # Another account from the same address is not locked out.
    assert (await api.http.post(LOGIN, json={"username": "bob", "password": PASSWORD})).status_code == 200
    api.clock.advance(6)
    assert (await api.http.post(LOGIN, json={"username": "ada", "password": PASSWORD})).status_code == 200


async def test_every_sign_in_endpoint_counts_against_the_address(db_url: str, tmp_path: Path) -> None:
    settings = hardened_settings(db_url, tmp_path, rate_limit_auth_per_minute=3)
    clock = MovableClock()
    async with serving(settings, clock) as app, client(app) as http, client(app, "10.1.2.3") as other:
        assert (await http.post(REFRESH, json={"refresh_token": "nope"})).status_code == 401
        assert (await http.post(LOGIN, json={"username": "x", "password": "y"})).status_code == 401
        # 2FA and OIDC paths are limited by prefix, whichever router serves them.
        assert (await http.post("/api/v1/auth/2fa/verify", json={})).status_code != 429
        limited = await http.get("/api/v1/auth/oidc/login")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "20"
        assert (await http.post(REFRESH, json={"refresh_token": "nope"})).status_code == 429
        # Other endpoints and other addresses are not affected.
        assert (await http.get(ME)).status_code == 401
        assert (await other.post(REFRESH, json={"refresh_token": "nope"})).status_code == 401
        clock.advance(20)
        assert (await http.post(REFRESH, json={"refresh_token": "nope"})).status_code == 401


async def test_a_limit_of_zero_is_off(db_url: str, tmp_path: Path) -> None:
    settings = hardened_settings(
        db_url, tmp_path, rate_limit_login_per_minute=0, rate_limit_auth_per_minute=0
    )
    async with serving(settings) as app, client(app) as http:
        for _ in range(70):
            response = await http.post(LOGIN, json={"username": "ada", "password": "wrong password"})
            assert response.status_code == 401


async def _chunks(total: int, size: int = 256) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_bodies_over_the_limit_are_refused_with_413(db_url: str, tmp_path: Path) -> None:
    settings = hardened_settings(db_url, tmp_path, max_body_bytes=1024)
    async with serving(settings) as app, client(app) as http:
        padded = '{"username": "ada", "password": "' + "x" * 1000 + '"}'
        declared = await http.post(LOGIN, content=padded, headers={"content-type": "application/json"})
        assert declared.status_code == 413
        assert declared.json() == {
            "detail": "the request body is larger than the limit of 1024 bytes (STEPWISE_MAX_BODY_BYTES)"
        }
        # No Content-Length: the stream is cut once it passes the limit, wherever it is read.
        for path in (LOGIN, REFRESH, "/api/v1/groups"):
            chunked = await http.post(
                path, content=_chunks(4096), headers={"content-type": "application/json"}
            )
            assert "content-length" not in chunked.request.headers
            assert chunked.status_code == 413, path
            assert "1024 bytes" in chunked.json()["detail"]
        small = await http.post(LOGIN, content=_chunks(900), headers={"content-type": "application/json"})
        assert small.status_code == 422


async def test_an_unexpected_error_answers_only_the_generic_message(api: Api) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internals: /srv/stepwise/core.py line 42")

    api.app.add_api_route("/api/v1/test-boom", boom)
    response = await api.http.get("/api/v1/test-boom")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "detail": f"internal error; the server log has the details under request id {request_id}",
        "request_id": request_id,
    }
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_database_error_leaks_no_sql(api: Api) -> None:
    await api.add_user("ada")
    async with api.sessions() as session:
        await session.execute(text("DROP TABLE audit_events"))
        await session.commit()
    # A failed login writes an audit event: the insert fails.
    response = await api.http.post(LOGIN, json={"username": "ada", "password": "not the password"})
    assert response.status_code == 500
    assert set(response.json()) == {"detail", "request_id"}
    assert response.json()["detail"].startswith("internal error;")
    for leak in ("audit_events", "INSERT", "Traceback", "sqlalchemy", "ada"):
        assert leak not in response.text


async def test_validation_errors_do_not_echo_what_was_sent(api: Api) -> None:
    secret = "s3cr3t-" * 200
    response = await api.http.post(LOGIN, json={"username": "ada", "password": secret})
    assert response.status_code == 422
    assert "s3cr3t" not in response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert error["msg"] == "String should have at most 1024 characters"
    assert "input" not in error


async def test_the_openapi_document_lists_the_answers_the_hardening_gives(api: Api) -> None:
    paths = (await api.http.get("/api/openapi.json")).json()["paths"]
    login = paths[LOGIN]["post"]["responses"]
    assert login["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert {"400", "401", "413", "422", "429"} <= set(login)
    assert "429" not in paths["/api/v1/auth/logout"]["post"]["responses"]
    assert "413" not in paths[ME]["get"]["responses"]
    assert "401" in paths[ME]["get"]["responses"]
