"""Sign-in rate limits kept in Redis, so that every API replica counts against the same buckets."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger("stepwise.api")

# One atomic step of a token bucket: refill for the time passed, take a token or say how long to
# wait. The caller's clock is used (not Redis TIME), so tests can move it; a clock behind the
# bucket's refills nothing.
_HIT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return wait
"""


class RedisRateLimiter:
    """Token buckets in Redis under `prefix`; the same contract as `RateLimiter`. While Redis
    cannot be reached the limits are off (logged), rather than sign-in failing for everyone."""

    def __init__(self, url: str, clock: Callable[[], float], prefix: str = "stepwise:rate:") -> None:
        # Connects on first use, inside the app's event loop.
        self._redis: Redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._clock = clock
        self._prefix = prefix
        self._script: Any = self._redis.register_script(_HIT)

    async def hit(self, key: tuple[str, ...], per_minute: int) -> int:
        """Spend one attempt of `key`: 0 when allowed, else the seconds until the next one is."""
        if per_minute <= 0:
            return 0
        name = self._prefix + hashlib.sha256(json.dumps(key).encode()).hexdigest()
        try:
            wait = await self._script(keys=[name], args=[per_minute, per_minute / 60.0, self._clock()])
        except RedisError as exc:
            logger.error("rate limits are off: Redis is unreachable (%s)", exc)
            return 0
        return int(wait)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
