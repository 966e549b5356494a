"""The rate-limit seam: fixed windows counted in process, or in Redis with REDIS_URL (shared
by every API instance)."""

from __future__ import annotations

import math
import time
from typing import Protocol

import redis.asyncio as aioredis
import structlog

from codebattle import redis_clients

log = structlog.get_logger(__name__)


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: float) -> float | None:
        """Count one hit; return None when allowed, else seconds until the next is."""
        ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, hits)

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        now = time.time()
        number = int(now // window)
        current, hits = self._counts.get(key, (number, 0))
        if current != number:
            hits = 0
        if len(self._counts) > 100_000:  # forget old windows rather than grow without end
            self._counts = {k: v for k, v in self._counts.items() if v[0] == number}
        if hits >= limit:
            return max((number + 1) * window - now, 0.001)
        self._counts[key] = (number, hits + 1)
        return None


class RedisRateLimiter:
    """Fixed windows counted in Redis. When Redis is unreachable, every hit is allowed (fail
    open): limits protect the site from floods, they hold no data, and refusing everyone
    while Redis restarts would turn a short outage into a site-wide one. The outage is
    logged once when it starts and once when it ends; while it lasts, Redis is asked again
    at most every RETRY_SECONDS, so requests do not each wait for a connection to fail."""

    RETRY_SECONDS = 1.0

    def __init__(self, url: str) -> None:
        # A connection closed by a Redis restart is opened again rather than failing a hit.
        self.client = redis_clients.connect(url)
        self._down_until: float | None = None  # monotonic; None while Redis answers

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        if self._down_until is not None and time.monotonic() < self._down_until:
            return None
        now = time.time()
        number = int(now // window)
        name = f"codebattle:rate:{key}:{number}"
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, math.ceil(window) + 1)
                hits, _ = await pipe.execute()
        except (aioredis.ConnectionError, aioredis.TimeoutError) as exc:  # not a bug: those raise
            if self._down_until is None:
                log.warning("Redis unreachable: rate limits are not applied", error=repr(exc))
            self._down_until = time.monotonic() + self.RETRY_SECONDS
            return None
        if self._down_until is not None:
            self._down_until = None
            log.warning("Redis reachable again: rate limits apply")
        if int(hits) > limit:
            return max((number + 1) * window - now, 0.001)
        return None

    async def close(self) -> None:
        await self.client.aclose()
