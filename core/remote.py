"""A client of a remote Stepwise API for the command line: signing in (with the 2FA step),
refreshing an expired access token (once per call), and the calls of `run`, `rerun`, `inbox`,
`respond`, `signal` and `watch` (a run's event stream, resumed after a dropped connection)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import httpx

from core.sse import SseParser
from core.stored_login import StoredLogin

API_PREFIX = "/api/v1"
DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0
ENDED = ("completed", "failed", "cancelled", "terminated", "timed_out")
SIGN_IN_AGAIN = "sign in again with `stepwise login`"
# A stream that drops is resumed this many times in a row at most (events in between are kept).
STREAM_RETRIES = 5
# The stream says it is alive every 15 s; silence this long means the connection is gone.
STREAM_READ_TIMEOUT_S = 60.0


class RemoteError(Exception):
    """A call the API refused or that did not reach it; the message is what to show."""


def base_url(url: str) -> str:
    """The API's address without a trailing slash or `/api/v1` (both forms are accepted)."""
    cleaned = url.strip().rstrip("/").removesuffix(API_PREFIX).rstrip("/")
    try:
        parsed = httpx.URL(cleaned)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise RemoteError(f"{url!r} is not an API address; give one like {DEFAULT_URL}")
    return cleaned


def open_http(url: str, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An HTTP client for the API at `url` (a base URL as `base_url` gives)."""
    return httpx.Client(base_url=url + API_PREFIX, timeout=TIMEOUT_S, transport=transport)


def explain(response: httpx.Response) -> str:
    """The API's `detail`, with one line per problem (`pointer: message`) of a 422."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.request.url} answered {response.status_code} without JSON; is it a Stepwise API?"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # the request did not match the route's schema
        lines = ["the API refused the request:"]
        for item in detail:
            where = "/" + "/".join(str(part) for part in item.get("loc", []))
            lines.append(f"{where}: {item.get('msg', item)}")
        return "\n".join(lines)
    if not isinstance(detail, str):
        return f"the API answered {response.status_code}: {body}"
    problems = body.get("problems") or []
    return "\n".join([detail, *(f"{p['pointer']}: {p['message']}" for p in problems)])


def _send(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        return http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise RemoteError(
            f"cannot reach the Stepwise API at {str(http.base_url).removesuffix(API_PREFIX + '/')} ({exc}); "
            "start it (`stepwise dev`) or sign in to the right one with `stepwise login --url URL`"
        ) from None


def _body(response: httpx.Response) -> Any:
    if response.status_code == httpx.codes.NO_CONTENT:
        return None
    if response.is_error:
        raise RemoteError(explain(response))
    try:
        return response.json()
    except ValueError:
        raise RemoteError(explain(response)) from None


def sign_in(
    http: httpx.Client, url: str, username: str, password: str, ask_code: Callable[[], str]
) -> StoredLogin:
    """Sign in with a password; `ask_code` gives the second factor when the account has 2FA."""
    answer = _body(_send(http, "POST", "/auth/login", json={"username": username, "password": password}))
    if isinstance(answer, dict) and answer.get("two_factor_required"):
        code = ask_code().strip()
        answer = _body(
            _send(http, "POST", "/auth/2fa/verify", json={"challenge": answer["challenge"], "code": code})
        )
    if not isinstance(answer, dict) or not {"access_token", "refresh_token"} <= answer.keys():
        raise RemoteError(f"{url} did not answer the sign-in as a Stepwise API does; check --url")
    return StoredLogin(url=url, access_token=answer["access_token"], refresh_token=answer["refresh_token"])


def sign_in_with_key(http: httpx.Client, url: str, key: str) -> tuple[StoredLogin, dict[str, Any]]:
    """A login by API key, checked by asking who it belongs to."""
    me = _body(_send(http, "GET", "/users/me", headers={"X-API-Key": key}))
    return StoredLogin(url=url, api_key=key), me


class Remote:
    """Calls on behalf of a stored login. A call refused for an expired access token is sent
    again once after a refresh; the new token pair is handed to `store`."""

    def __init__(
        self,
        login: StoredLogin,
        store: Callable[[StoredLogin], None],
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        latest: Callable[[], StoredLogin | None] = lambda: None,
        exclusive: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        """`latest` reads the login as stored now and `exclusive` locks it: a refresh first
        takes a pair that another command refreshed meanwhile (refresh tokens are single-use)."""
        self.login = login
        self._store = store
        self._http = open_http(login.url, transport)
        self._sleep = sleep
        self._latest = latest
        self._exclusive = exclusive

    def _headers(self) -> dict[str, str]:
        if self.login.api_key is not None:
            return {"X-API-Key": self.login.api_key}
        return {"Authorization": f"Bearer {self.login.access_token}"}

    def call(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> Any:
        """One API call; its JSON answer, or `RemoteError` with the API's reason."""
        extra = {"Idempotency-Key": key} if key else {}
        response = _send(self._http, method, path, headers={**self._headers(), **extra}, **kwargs)
        # A 401 means the call did nothing, so it may be sent again with a renewed token.
        spent = False
        while response.status_code == httpx.codes.UNAUTHORIZED and self._may_refresh(spent):
            spent = self._refresh()
            response = _send(self._http, method, path, headers={**self._headers(), **extra}, **kwargs)
        if response.status_code == httpx.codes.UNAUTHORIZED:
            raise RemoteError(f"{explain(response)}; {SIGN_IN_AGAIN}")
        return _body(response)

    def _may_refresh(self, spent: bool) -> bool:
        """Whether a refused request is worth a refresh: once our own refresh token was spent
        for it, a second refusal is not about expiry."""
        return self.login.refresh_token is not None and not spent

    def _refresh(self) -> bool:
        """A new access token: True when this spent our refresh token, False when it took a
        pair another command refreshed meanwhile (its access token may have expired already)."""
        with self._exclusive():
            stored = self._latest()
            if (
                stored is not None
                and stored.url == self.login.url
                and stored.refresh_token not in (None, self.login.refresh_token)
            ):
                self.login = stored
                return False
            response = _send(
                self._http, "POST", "/auth/refresh", json={"refresh_token": self.login.refresh_token}
            )
            if response.is_error:
                why = explain(response).removesuffix("; sign in again")
                raise RemoteError(f"the session at {self.login.url} has ended ({why}); {SIGN_IN_AGAIN}")
            pair = _body(response)
            self.login = self.login.model_copy(
                update={"access_token": pair["access_token"], "refresh_token": pair["refresh_token"]}
            )
            self._store(self.login)
            return True

    def start_run(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /runs: a stored definition (`definition`) or an inline one (`source`, `format`)."""
        started: dict[str, Any] = self.call("POST", "/runs", json=body)
        return started

    def rerun(self, run_id: str, from_step: str) -> dict[str, Any]:
        """POST /runs/{id}/rerun: a new run that reuses the run's results before `from_step`."""
        path = f"/runs/{quote(run_id, safe='')}/rerun"
        started: dict[str, Any] = self.call("POST", path, json={"from_step": from_step})
        return started

    def wait_for(self, run_id: str, every_s: float = 0.2, most_s: float = 2.0) -> dict[str, Any]:
        """GET /runs/{id} until the run has ended (polling more slowly as it goes on)."""
        while True:
            detail: dict[str, Any] = self.call("GET", f"/runs/{quote(run_id, safe='')}")
            if detail["state"] in ENDED:
                return detail
            self._sleep(every_s)
            every_s = min(every_s * 1.5, most_s)

    def inbox_page(self, limit: int, cursor: str | None) -> dict[str, Any]:
        """One page of GET /inbox: `items` and `next_cursor`."""
        params: dict[str, str | int] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page: dict[str, Any] = self.call("GET", "/inbox", params=params)
        return page

    def inbox(self) -> list[dict[str, Any]]:
        """Every open interaction the signed-in user may answer, page after page."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.inbox_page(1000, cursor)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def respond(self, run_id: str, interaction_id: str, data: Any, key: str | None) -> dict[str, Any]:
        """POST /runs/{id}/interactions/{iid}: answer as the signed-in user."""
        path = f"/runs/{quote(run_id, safe='')}/interactions/{quote(interaction_id, safe='')}"
        reply: dict[str, Any] = self.call("POST", path, json=data, key=key)
        return reply

    def signal(self, run_id: str, name: str, payload: Any, key: str | None) -> dict[str, Any]:
        """POST /runs/{id}/signals/{name}: send the run an event."""
        path = f"/runs/{quote(run_id, safe='')}/signals/{quote(name, safe='')}"
        receipt: dict[str, Any] = self.call("POST", path, json=payload, key=key)
        return receipt

    def events(self, run_id: str, after: str | None = None) -> Iterator[dict[str, Any]]:
        """GET /runs/{id}/stream: the run's events as they happen, until it has ended. A dropped
        connection is resumed with Last-Event-ID, so no event is lost or shown twice."""
        path = f"/runs/{quote(run_id, safe='')}/stream"
        timeout = httpx.Timeout(TIMEOUT_S, read=STREAM_READ_TIMEOUT_S)
        last, failures, spent = after, 0, False
        while True:
            headers = {**self._headers(), **({"Last-Event-ID": last} if last else {})}
            try:
                with self._http.stream("GET", path, headers=headers, timeout=timeout) as response:
                    if response.status_code == httpx.codes.UNAUTHORIZED:
                        if self._may_refresh(spent):
                            spent = self._refresh()
                            continue
                        response.read()
                        raise RemoteError(f"{explain(response)}; {SIGN_IN_AGAIN}")
                    if response.is_error:
                        response.read()
                        raise RemoteError(explain(response))
                    parser = SseParser()
                    for line in response.iter_lines():
                        message = parser.feed(line)
                        if message is None:
                            continue
                        if message.event == "end":
                            return
                        event: dict[str, Any] = json.loads(message.data)
                        # Live progress (module_progress) has no id: a reconnect resumes after
                        # the last event of the history.
                        last, failures, spent = event.get("id", last), 0, False
                        yield event
                    raise httpx.RemoteProtocolError("the stream ended before the run did")
            except httpx.TransportError as exc:
                failures += 1
                if failures > STREAM_RETRIES:
                    raise RemoteError(f"lost the event stream of {run_id} ({exc}); try again") from None
                self._sleep(min(0.25 * 2**failures, 5.0))

    def logout(self) -> bool:
        """Revoke this login's refresh token at the API; False when it had ended already."""
        response = _send(self._http, "POST", "/auth/logout", json={"refresh_token": self.login.refresh_token})
        if response.status_code == httpx.codes.UNAUTHORIZED:
            return False
        _body(response)
        return True

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()
