"""Rate limits kept in Redis (STEPWISE_RATE_LIMIT_REDIS_URL): two API replicas share the buckets.

Needs Redis at 127.0.0.1:6379, database 15 (or STEPWISE_TEST_REDIS_URL); skipped without it, except under
CI=true. Each test signs in from an address of its own, so runs never share a bucket.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.db.migrate import upgrade
from tests.integration.api_client import MovableClock
from tests.integration.databases import run_apart
from tests.integration.hardened_app import client, hardened_settings, serving

REDIS_URL = os.environ.get("STEPWISE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def redis_url() -> str:
    where = urlsplit(REDIS_URL)
    try:
        socket.create_connection((where.hostname, where.port or 6379), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable ({exc}); CI must run the Redis tests")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


def _migrated(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stepwise.db'}"
    run_apart(upgrade(url))
    return url


def _address() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


async def test_replicas_count_against_the_same_buckets(redis_url: str, tmp_path: Path) -> None:
    db_url = _migrated(tmp_path)
    settings = hardened_settings(
        db_url, tmp_path, rate_limit_redis_url=redis_url, rate_limit_login_per_minute=4
    )
    clock = MovableClock()
    address, username = _address(), f"user-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": "not the password"}
    async with (
        serving(settings, clock) as one,
        serving(settings, clock) as two,
        client(one, address) as first,
        client(two, address) as second,
    ):
        for http in (first, second, first, second):
            assert (await http.post(LOGIN, json=body)).status_code == 401
        refused = await second.post(LOGIN, json=body)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "15"
        assert (await first.post(LOGIN, json=body)).status_code == 429
        clock.advance(15)
        assert (await first.post(LOGIN, json=body)).status_code == 401


async def test_an_unreachable_redis_turns_the_limits_off_instead_of_failing(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    db_url = _migrated(tmp_path)
    settings = hardened_settings(
        db_url,
        tmp_path,
        rate_limit_redis_url=f"redis://127.0.0.1:{closed_port}/0",
        rate_limit_login_per_minute=1,
    )
    async with serving(settings) as app, client(app) as http:
        for _ in range(3):
            answer = await http.post(LOGIN, json={"username": "ada", "password": "not the password"})
            assert answer.status_code == 401
