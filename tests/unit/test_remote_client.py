"""The API client of the command line against a scripted API: the 2FA step, one refresh of an
expired token, and the API's reasons shown as they are."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from core.remote import Remote, RemoteError, base_url, open_http, sign_in
from core.stored_login import StoredLogin, load_login, login_lock, save_login

URL = "http://api.test"
Handler = Callable[[httpx.Request], httpx.Response]


def transport(routes: dict[tuple[str, str], Handler], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return routes[(request.method, request.url.path)](request)

    return httpx.MockTransport(handle)


def pair(access: str, refresh: str) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 1}
    )


def test_a_two_factor_account_is_asked_for_its_code() -> None:
    seen: list[httpx.Request] = []
    routes: dict[tuple[str, str], Handler] = {
        ("POST", "/api/v1/auth/login"): lambda r: httpx.Response(
            200, json={"two_factor_required": True, "challenge": "ch-1"}
        ),
        ("POST", "/api/v1/auth/2fa/verify"): lambda r: pair("a2", "r2"),
    }
    with open_http(URL, transport(routes, seen)) as http:
        login = sign_in(http, URL, "ada", "pw", lambda: " 123456\n")
    assert login == StoredLogin(url=URL, access_token="a2", refresh_token="r2")
    assert json.loads(seen[1].content) == {"challenge": "ch-1", "code": "123456"}


def test_a_wrong_password_gives_the_apis_message() -> None:
    routes: dict[tuple[str, str], Handler] = {
        ("POST", "/api/v1/auth/login"): lambda r: httpx.Response(
            401, json={"detail": "wrong username or password"}
        )
    }
    with open_http(URL, transport(routes, [])) as http, pytest.raises(RemoteError) as info:
        sign_in(http, URL, "ada", "nope", lambda: pytest.fail("no 2FA step"))
    assert str(info.value) == "wrong username or password"


def test_an_expired_token_is_refreshed_once_and_the_new_pair_stored() -> None:
    seen: list[httpx.Request] = []
    stored: list[StoredLogin] = []

    def me(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer fresh":
            return httpx.Response(200, json={"username": "ada"})
        return httpx.Response(401, json={"detail": "the access token has expired"})

    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/users/me"): me,
        ("POST", "/api/v1/auth/refresh"): lambda r: pair("fresh", "r2"),
    }
    remote = Remote(
        StoredLogin(url=URL, access_token="old", refresh_token="r1"), stored.append, transport(routes, seen)
    )
    assert remote.call("GET", "/users/me") == {"username": "ada"}
    assert stored == [StoredLogin(url=URL, access_token="fresh", refresh_token="r2")]
    assert json.loads(seen[1].content) == {"refresh_token": "r1"}


def test_a_pair_another_command_refreshed_meanwhile_is_taken_instead_of_refreshing(
    tmp_path: Path,
) -> None:
    """Refresh tokens are single-use: spending the stale one would end the session."""
    seen: list[httpx.Request] = []
    path = tmp_path / "credentials.json"
    save_login(path, StoredLogin(url=URL, access_token="theirs", refresh_token="r2"))

    def me(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer theirs":
            return httpx.Response(200, json={"username": "ada"})
        return httpx.Response(401, json={"detail": "the access token has expired"})

    routes: dict[tuple[str, str], Handler] = {("GET", "/api/v1/users/me"): me}
    remote = Remote(
        StoredLogin(url=URL, access_token="old", refresh_token="r1"),
        lambda login: save_login(path, login),
        transport(routes, seen),
        latest=lambda: load_login(path),
        exclusive=lambda: login_lock(path),
    )
    assert remote.call("GET", "/users/me") == {"username": "ada"}
    assert [r.url.path for r in seen] == ["/api/v1/users/me", "/api/v1/users/me"]


def test_a_refused_refresh_says_to_sign_in_again() -> None:
    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/users/me"): lambda r: httpx.Response(401, json={"detail": "expired"}),
        ("POST", "/api/v1/auth/refresh"): lambda r: httpx.Response(
            401, json={"detail": "the refresh token has expired; sign in again"}
        ),
    }
    stored: list[StoredLogin] = []
    remote = Remote(
        StoredLogin(url=URL, access_token="a", refresh_token="r"), stored.append, transport(routes, [])
    )
    with pytest.raises(RemoteError) as info:
        remote.call("GET", "/users/me")
    assert str(info.value) == (
        f"the session at {URL} has ended (the refresh token has expired); sign in again with `stepwise login`"
    )
    assert stored == []


def test_a_token_refused_right_after_a_refresh_is_not_refreshed_again() -> None:
    seen: list[httpx.Request] = []
    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/users/me"): lambda r: httpx.Response(
            401, json={"detail": "this account is disabled"}
        ),
        ("POST", "/api/v1/auth/refresh"): lambda r: pair("a2", "r2"),
    }
    remote = Remote(
        StoredLogin(url=URL, access_token="a", refresh_token="r"), lambda _: None, transport(routes, seen)
    )
    with pytest.raises(RemoteError, match="this account is disabled; sign in again with `stepwise login`"):
        remote.call("GET", "/users/me")
    assert [r.url.path for r in seen].count("/api/v1/auth/refresh") == 1


def test_refused_input_lists_every_problem_with_its_pointer() -> None:
    body = {
        "detail": "the input does not match the definition's input schema",
        "problems": [{"pointer": "/input/n", "message": "'many' is not of type 'integer'", "line": None}],
    }
    routes: dict[tuple[str, str], Handler] = {
        ("POST", "/api/v1/runs"): lambda r: httpx.Response(422, json=body)
    }
    remote = Remote(StoredLogin(url=URL, api_key="sw_k"), lambda _: None, transport(routes, []))
    with pytest.raises(RemoteError) as info:
        remote.start_run({"definition": "double", "input": {"n": "many"}})
    assert str(info.value).splitlines() == [
        "the input does not match the definition's input schema",
        "/input/n: 'many' is not of type 'integer'",
    ]


def test_an_api_key_is_sent_as_such_and_never_refreshed() -> None:
    seen: list[httpx.Request] = []
    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/users/me"): lambda r: httpx.Response(
            401, json={"detail": "the API key sw_k was revoked"}
        )
    }
    remote = Remote(StoredLogin(url=URL, api_key="sw_k_secret"), lambda _: None, transport(routes, seen))
    with pytest.raises(RemoteError, match="the API key sw_k was revoked"):
        remote.call("GET", "/users/me")
    assert [r.headers["x-api-key"] for r in seen] == ["sw_k_secret"]


def test_a_run_is_polled_until_it_ends() -> None:
    states = iter(["running", "waiting", "completed"])
    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/runs/r-1"): lambda r: httpx.Response(200, json={"state": next(states), "output": 3})
    }
    naps: list[float] = []
    remote = Remote(
        StoredLogin(url=URL, api_key="k"), lambda _: None, transport(routes, []), sleep=naps.append
    )
    assert remote.wait_for("r-1")["state"] == "completed"
    assert len(naps) == 2


def test_an_unreachable_api_is_named() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    remote = Remote(StoredLogin(url=URL, api_key="k"), lambda _: None, httpx.MockTransport(refuse))
    with pytest.raises(RemoteError, match=f"cannot reach the Stepwise API at {URL} .*`stepwise dev`"):
        remote.call("GET", "/users/me")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/api/v1/", "http://127.0.0.1:8000"),
        (" https://stepwise.example.org/ ", "https://stepwise.example.org"),
    ],
)
def test_addresses_are_taken_with_or_without_the_api_prefix(given: str, expected: str) -> None:
    assert base_url(given) == expected


@pytest.mark.parametrize("given", ["127.0.0.1:8000", "ftp://x", "http://"])
def test_a_bad_address_is_refused_with_an_example(given: str) -> None:
    with pytest.raises(RemoteError, match=re.escape("give one like http://127.0.0.1:8000")):
        base_url(given)


def test_a_long_wait_refreshes_each_time_the_token_expires() -> None:
    tokens = iter(["t1", "t2"])
    states = iter(["running", "completed"])
    valid = {"current": "t0"}

    def run(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] != f"Bearer {valid['current']}":
            return httpx.Response(401, json={"detail": "the access token has expired"})
        valid["current"] = "expired"  # every token works for one call here
        return httpx.Response(200, json={"state": next(states)})

    def refresh(request: httpx.Request) -> httpx.Response:
        valid["current"] = next(tokens)
        return pair(valid["current"], f"r-{valid['current']}")

    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/runs/r-1"): run,
        ("POST", "/api/v1/auth/refresh"): refresh,
    }
    stored: list[StoredLogin] = []
    login = StoredLogin(url=URL, access_token="stale", refresh_token="r0")
    remote = Remote(login, stored.append, transport(routes, []), sleep=lambda _: None)
    assert remote.wait_for("r-1")["state"] == "completed"
    assert [s.refresh_token for s in stored] == ["r-t1", "r-t2"]


def test_an_address_that_is_not_a_stepwise_api_is_named() -> None:
    routes: dict[tuple[str, str], Handler] = {
        ("POST", "/api/v1/auth/login"): lambda r: httpx.Response(200, text="<html>hello</html>"),
    }
    with open_http(URL, transport(routes, [])) as http, pytest.raises(RemoteError) as info:
        sign_in(http, URL, "ada", "pw", lambda: "")
    assert "without JSON; is it a Stepwise API?" in str(info.value)


def test_a_pair_taken_from_another_command_that_has_expired_too_is_refreshed(tmp_path: Path) -> None:
    """The other command's access token can expire before this one uses it; then this one
    spends the (now shared) refresh token, once."""
    seen: list[httpx.Request] = []
    path = tmp_path / "credentials.json"
    save_login(path, StoredLogin(url=URL, access_token="theirs", refresh_token="r2"))

    def me(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer mine":
            return httpx.Response(200, json={"username": "ada"})
        return httpx.Response(401, json={"detail": "the access token has expired"})

    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/users/me"): me,
        ("POST", "/api/v1/auth/refresh"): lambda r: pair("mine", "r3"),
    }
    remote = Remote(
        StoredLogin(url=URL, access_token="old", refresh_token="r1"),
        lambda login: save_login(path, login),
        transport(routes, seen),
        latest=lambda: load_login(path),
        exclusive=lambda: login_lock(path),
    )
    assert remote.call("GET", "/users/me") == {"username": "ada"}
    assert [r.url.path for r in seen].count("/api/v1/auth/refresh") == 1
    assert json.loads(seen[2].content) == {"refresh_token": "r2"}
    assert load_login(path) == StoredLogin(url=URL, access_token="mine", refresh_token="r3")


def _sse(*events: str, end: bool = False) -> bytes:
    lines = [f"id: {n}\ndata: {json.dumps({'id': n, 'type': 'step_start'})}\n\n" for n in events]
    return ("retry: 1000\n\n" + "".join(lines) + ("event: end\ndata: {}\n\n" if end else "")).encode()


def test_the_event_stream_resumes_after_its_last_event_and_refreshes_an_expired_token() -> None:
    seen: list[httpx.Request] = []
    answers: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: httpx.Response(200, content=_sse("e1", "e2")),  # then the connection drops
        lambda r: httpx.Response(401, json={"detail": "the access token has expired"}),
        lambda r: httpx.Response(200, content=_sse("e3", end=True)),
    ]
    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/runs/r 1/stream"): lambda r: answers.pop(0)(r),
        ("POST", "/api/v1/auth/refresh"): lambda r: pair("a2", "r2"),
    }
    stored: list[StoredLogin] = []
    remote = Remote(
        StoredLogin(url=URL, access_token="a1", refresh_token="r1"),
        stored.append,
        transport(routes, seen),
        sleep=lambda _: None,
    )
    assert [event["id"] for event in remote.events("r 1")] == ["e1", "e2", "e3"]
    streams = [r for r in seen if r.url.path.endswith("/stream")]
    assert [r.headers.get("last-event-id") for r in streams] == [None, "e2", "e2"]
    assert streams[-1].headers["authorization"] == "Bearer a2"
    assert stored == [StoredLogin(url=URL, access_token="a2", refresh_token="r2")]


def test_an_event_stream_refused_after_a_refresh_says_to_sign_in_again() -> None:
    routes: dict[tuple[str, str], Handler] = {
        ("GET", "/api/v1/runs/r1/stream"): lambda r: httpx.Response(401, json={"detail": "account disabled"}),
        ("POST", "/api/v1/auth/refresh"): lambda r: pair("a2", "r2"),
    }
    seen: list[httpx.Request] = []
    remote = Remote(
        StoredLogin(url=URL, access_token="a1", refresh_token="r1"), lambda _: None, transport(routes, seen)
    )
    with pytest.raises(RemoteError, match="account disabled; sign in again with `stepwise login`"):
        list(remote.events("r1"))
    assert [r.url.path for r in seen].count("/api/v1/auth/refresh") == 1
