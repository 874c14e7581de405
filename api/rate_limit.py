"""Rate limits on the sign-in endpoints: token buckets per client address (and, for the password
login, per username too), kept in this process's memory."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

# Paths under these prefixes are limited whatever router serves them (2FA and OIDC come from others).
LIMITED_PREFIXES = ("/auth/2fa", "/auth/oidc")
LIMITED_PATHS = ("/auth/login", "/auth/refresh")
LOGIN_PATH = "/auth/login"
# Past this many buckets, full ones (nobody near a limit) are forgotten; then the oldest.
MAX_BUCKETS = 100_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class Limiter(Protocol):
    """Where the buckets are kept: this process (`RateLimiter`) or Redis (`RedisRateLimiter`)."""

    async def hit(self, key: tuple[str, ...], per_minute: int) -> int:
        """Spend one attempt of `key`: 0 when allowed, else the seconds until the next one is."""
        ...

    async def close(self) -> None:
        """Let go of any connection."""
        ...


class RateLimiter:
    """Token buckets keyed by any tuple of strings, in this process's memory: `per_minute`
    attempts at once, refilled evenly over a minute. `clock` gives seconds (tests move it
    instead of sleeping)."""

    def __init__(self, clock: Callable[[], float], max_buckets: int = MAX_BUCKETS) -> None:
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: dict[tuple[str, ...], _Bucket] = {}

    def __len__(self) -> int:
        """How many buckets are kept."""
        return len(self._buckets)

    async def close(self) -> None:
        """Nothing to let go of."""

    async def hit(self, key: tuple[str, ...], per_minute: int) -> int:
        """Spend one attempt of `key`: 0 when allowed, else the seconds until the next one is."""
        if per_minute <= 0:
            return 0
        now = self._clock()
        rate = per_minute / 60.0
        bucket = self._buckets.get(key)
        if bucket is None:
            self._make_room(now, rate, per_minute)
            bucket = self._buckets[key] = _Bucket(tokens=float(per_minute), at=now)
        else:
            # A clock moved backwards refills nothing rather than draining the bucket.
            bucket.tokens = min(float(per_minute), bucket.tokens + max(0.0, now - bucket.at) * rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / rate))

    def _make_room(self, now: float, rate: float, capacity: int) -> None:
        if len(self._buckets) < self._max_buckets:
            return
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * rate >= capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_buckets:
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].at)
            for key in oldest[: len(oldest) // 2 + 1]:
                del self._buckets[key]


def is_limited(path: str, api_prefix: str) -> bool:
    """Whether requests to `path` count against the sign-in limits."""
    rest = path.removeprefix(api_prefix) if path.startswith(api_prefix) else None
    if rest is None:
        return False
    rest = rest.rstrip("/") or "/"
    return rest in LIMITED_PATHS or any(
        rest == prefix or rest.startswith(prefix + "/") for prefix in LIMITED_PREFIXES
    )


class RateLimitMiddleware:
    """Answer 429 with `Retry-After` once a client address, or a username at the password login,
    has used up its attempts."""

    def __init__(self, app: ASGIApp, limiter: Limiter, settings: Settings, api_prefix: str) -> None:
        self.app = app
        self.limiter = limiter
        self.settings = settings
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_limited(scope["path"], self.api_prefix):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = await self.limiter.hit(("address", address), self.settings.rate_limit_auth_per_minute)
        is_login = scope["method"] == "POST" and scope["path"].rstrip("/") == self.api_prefix + LOGIN_PATH
        if not wait and is_login and self.settings.rate_limit_login_per_minute > 0:
            messages, receive = await _buffered(receive)
            username = _username(b"".join(m.get("body", b"") for m in messages))
            if username is not None:
                wait = await self.limiter.hit(
                    ("login", address, username), self.settings.rate_limit_login_per_minute
                )
        if wait:
            response = JSONResponse(
                {"detail": f"too many attempts; try again in {wait} seconds"},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[list[Message], Receive]:
    """Read the whole body (the body limit outside this middleware bounds it), and a `receive`
    that hands the same messages to the app."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return messages, replay


def _username(body: bytes) -> str | None:
    """The username of a login body, folded so that case does not buy more attempts."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    username = data.get("username") if isinstance(data, dict) else None
    return username.strip().casefold() if isinstance(username, str) else None
