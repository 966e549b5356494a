"""Each seam's implementations pass the same tests: in process, and Redis where it runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from codebattle.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from codebattle.realtime.pubsub import (
    QUEUE_SIZE,
    MemoryPubSub,
    PubSub,
    RedisPubSub,
    SubscriberTooSlow,
)
from codebattle.storage import LocalBlobStore, content_key


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return str(request.param)


async def test_rate_limiter(backend: str) -> None:
    limiter: RateLimiter = (
        MemoryRateLimiter() if backend == "memory" else RedisRateLimiter("redis://127.0.0.1:6379/0")
    )
    results = [await limiter.hit("user:1", 3, 30.0) for _ in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3] is not None and 0 < results[3] <= 30
    assert await limiter.hit("user:2", 3, 30.0) is None  # counted per key
    if isinstance(limiter, RedisRateLimiter):
        await limiter.close()


async def test_pubsub_delivers_to_subscribers_of_the_channel(backend: str) -> None:
    bus: PubSub = MemoryPubSub() if backend == "memory" else RedisPubSub("redis://127.0.0.1:6379/0")
    async with (
        bus.subscribe("submission:1") as first,
        bus.subscribe("submission:1") as second,
        bus.subscribe("submission:2") as other,
    ):
        await asyncio.sleep(0.2)  # Redis subscriptions are confirmed asynchronously
        await bus.publish("submission:1", {"type": "test", "n": 1})
        await bus.publish("submission:1", {"type": "done"})
        for messages in (first, second):
            envelope = await asyncio.wait_for(messages.get(), 5)
            assert envelope.message == {"type": "test", "n": 1}
            assert json.loads(envelope.text) == envelope.message  # encoded once, for all
            assert (await asyncio.wait_for(messages.get(), 5)).message == {"type": "done"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(other.get(), 0.2)
    await bus.close()


async def test_a_subscriber_that_falls_behind_is_told_so() -> None:
    bus = MemoryPubSub()
    async with bus.subscribe("room:1") as slow, bus.subscribe("room:1") as fast:
        for n in range(QUEUE_SIZE + 1):
            await bus.publish("room:1", {"n": n})
            assert (await fast.get()).message == {"n": n}  # the others are not held up
        with pytest.raises(SubscriberTooSlow):
            await slow.get()


def test_local_blobs_are_content_addressed_and_refuse_bad_keys(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    key = content_key("code", b"print(1)\n")
    store.put(key, b"print(1)\n")
    store.put(key, b"print(1)\n")  # idempotent
    assert store.get(key) == b"print(1)\n" and store.exists(key)
    with pytest.raises(KeyError):
        store.get(content_key("code", b"other"))
    for bad in ("../etc/passwd", "/etc/passwd", "code/../../x", "code", "code//x"):
        with pytest.raises(ValueError):
            store.put(bad, b"x")
