"""The token buckets behind the sign-in rate limits, on a clock the test moves."""

from __future__ import annotations

from api.rate_limit import RateLimiter, is_limited


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_allows_a_burst_then_refills_evenly() -> None:
    clock = Seconds()
    limiter = RateLimiter(clock)
    assert [await limiter.hit(("k",), 3) for _ in range(4)] == [0, 0, 0, 20]
    clock.now += 19
    assert await limiter.hit(("k",), 3) == 1
    clock.now += 1
    assert await limiter.hit(("k",), 3) == 0
    assert await limiter.hit(("other",), 3) == 0


async def test_a_clock_moving_back_neither_refills_nor_breaks_the_bucket() -> None:
    clock = Seconds()
    limiter = RateLimiter(clock)
    await limiter.hit(("k",), 1)
    clock.now -= 3600
    assert await limiter.hit(("k",), 1) == 60


async def test_many_keys_do_not_grow_memory_past_the_cap_and_limited_keys_stay_limited() -> None:
    clock = Seconds()
    limiter = RateLimiter(clock, max_buckets=10)
    await limiter.hit(("attacked",), 1)
    for n in range(1000):
        await limiter.hit((f"sprayed-{n}",), 1)
    assert len(limiter) <= 10
    clock.now += 59
    await limiter.hit(("attacked-again",), 1)
    assert await limiter.hit(("sprayed-999",), 1) > 0


def test_the_limited_paths() -> None:
    prefix = "/api/v1"
    for path in (
        "/auth/login",
        "/auth/login/",
        "/auth/refresh",
        "/auth/2fa",
        "/auth/2fa/verify",
        "/auth/oidc/x",
    ):
        assert is_limited(prefix + path, prefix), path
    for path in ("/auth/logout", "/auth/2faX", "/users/me", "/auth/oidcfoo"):
        assert not is_limited(prefix + path, prefix), path
    assert not is_limited("/auth/login", prefix)
