"""Each seam's implementations pass the same tests: in process, and Redis where it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codebattle.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from codebattle.realtime.pubsub import MemoryPubSub, PubSub, RedisPubSub
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
            iterator = messages.__aiter__()
            assert await asyncio.wait_for(iterator.__anext__(), 5) == {"type": "test", "n": 1}
            assert await asyncio.wait_for(iterator.__anext__(), 5) == {"type": "done"}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(other.__aiter__().__anext__(), 0.2)
    await bus.close()


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
