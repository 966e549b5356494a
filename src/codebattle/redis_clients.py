"""Redis clients, made one way everywhere (queue, workers, pub/sub, rate limits, sessions).

Each has a retry policy: without one (redis-py's default from a URL) the first command on
each pooled connection after Redis restarted fails, finding the connection closed. With it
the connection is opened again and the command sent again, which may run it twice: a job
sent twice is judged twice and recorded once, an event recorded twice changes nothing, a
rate-limit count may count one request twice, the epoch script recognises its own lease."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

RETRIES = 2
BACKOFF = (0.25, 0.05)  # cap and base of the exponential backoff, seconds
# A Redis that hangs (a partition, a stopped process) rather than refuses: a connect gives
# up after 5 s and an idle connection is checked before use. A read timeout only for the
# blocking client (the worker): on asyncio clients it could swallow a task's cancellation
# (seen: a consumer that outlived its queue's stop); their callers bound their own waits
# (asyncio.timeout around a send, the queue's bounded stop).
TIMEOUTS: dict[str, float] = {"socket_connect_timeout": 5.0, "health_check_interval": 30}
SYNC_TIMEOUTS: dict[str, float] = {**TIMEOUTS, "socket_timeout": 10.0}


def connect(url: str) -> aioredis.Redis:
    """An asyncio client."""
    return aioredis.from_url(
        url, retry=AsyncRetry(ExponentialBackoff(*BACKOFF), RETRIES), **TIMEOUTS
    )


def connect_sync(url: str) -> redis.Redis:
    """A blocking client (the judge worker)."""
    return redis.Redis.from_url(
        url, retry=Retry(ExponentialBackoff(*BACKOFF), RETRIES), **SYNC_TIMEOUTS
    )
