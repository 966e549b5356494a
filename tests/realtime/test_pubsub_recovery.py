"""Redis pub/sub across a Redis restart, on a private Redis: the subscription connection comes
back subscribed to every channel that has local subscribers (redis-py subscribes again to
those it knows; ours adds those whose SUBSCRIBE failed while Redis was away), and every local
subscription is told it may have missed messages (its overflow is set: its socket resyncs).
Publishing while Redis is away neither raises nor floods the log."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from codebattle.realtime.pubsub import RedisPubSub, Subscription
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

WAIT = 15.0


@pytest.fixture
async def pubsubs(private_redis: RedisServer) -> AsyncIterator[tuple[RedisPubSub, RedisPubSub]]:  # noqa: F811
    """A subscribing process and a publishing one."""
    listener, publisher = RedisPubSub(private_redis.url), RedisPubSub(private_redis.url)
    yield listener, publisher
    await listener.close()
    await publisher.close()


async def received(
    subscription: Subscription, publish: Callable[[], object], timeout: float = WAIT
) -> dict[str, object]:
    """Publish (again every half second: a subscription may still be on its way) until the
    subscription holds a message; the first one."""
    async with asyncio.timeout(timeout):
        while True:
            await publish()  # type: ignore[misc]
            for _ in range(10):
                if items := subscription.drain():
                    return items[0].message
                await asyncio.sleep(0.05)


async def until_set(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), WAIT)


@pytest.mark.parametrize("keep_data", [True, False])
async def test_subscribers_hear_again_after_a_restart_and_are_told_to_resync(
    pubsubs: tuple[RedisPubSub, RedisPubSub],
    private_redis: RedisServer,  # noqa: F811
    keep_data: bool,
) -> None:
    listener, publisher = pubsubs
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(listener.subscribe("match:1"))
        second = await stack.enter_async_context(listener.subscribe("match:1"))
        other = await stack.enter_async_context(listener.subscribe("room:2"))
        hello = await received(first, lambda: publisher.publish("match:1", {"n": 0}))
        assert hello == {"n": 0}
        second.drain()
        assert not first.overflow.is_set()

        with capture_logs() as logs:
            await asyncio.to_thread(private_redis.restart, keep_data=keep_data, down_seconds=0.5)
            # Told to resync: whatever was published meanwhile is lost to them.
            for subscription in (first, second, other):
                await until_set(subscription.overflow)
        assert any("pub/sub connected again" in entry["event"] for entry in logs)

        # The reconnect subscribed again before telling them: one publish is enough.
        await publisher.publish("match:1", {"n": 1})
        await publisher.publish("room:2", {"n": 2})
        assert await received(first, _nothing) == {"n": 1}
        assert await received(second, _nothing) == {"n": 1}
        assert await received(other, _nothing) == {"n": 2}


async def _nothing() -> None:
    return None


async def test_a_channel_subscribed_while_redis_is_away_is_subscribed_when_it_is_back(
    pubsubs: tuple[RedisPubSub, RedisPubSub],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    listener, publisher = pubsubs
    async with listener.subscribe("match:1") as first:
        await received(first, lambda: publisher.publish("match:1", {"n": 0}))
        await asyncio.to_thread(private_redis.stop)
        async with listener.subscribe("submission:3") as late:  # does not raise
            await asyncio.to_thread(private_redis.start)
            await until_set(late.overflow)
            await publisher.publish("submission:3", {"n": 3})
            assert await received(late, _nothing) == {"n": 3}


async def test_a_first_subscription_made_while_redis_is_away_is_subscribed_when_it_is_back(
    pubsubs: tuple[RedisPubSub, RedisPubSub],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    listener, publisher = pubsubs
    await asyncio.to_thread(private_redis.stop)
    async with listener.subscribe("match:5") as first:  # the process never reached Redis
        await asyncio.to_thread(private_redis.start)
        await until_set(first.overflow)
        await publisher.publish("match:5", {"n": 5})
        assert await received(first, _nothing) == {"n": 5}


async def test_publishing_while_redis_is_away_is_logged_once_and_swallowed(
    pubsubs: tuple[RedisPubSub, RedisPubSub],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    _listener, publisher = pubsubs
    await publisher.publish("match:1", {"n": 0})
    await asyncio.to_thread(private_redis.stop)
    with capture_logs() as logs:
        await publisher.publish("match:1", {"n": 1})
        await publisher.publish_many([("match:1", {"n": 2}), ("room:1", {"n": 3})])
        await asyncio.to_thread(private_redis.start)
        await publisher.publish("match:1", {"n": 4})
    events = [entry["event"] for entry in logs]
    assert sum(e.startswith("publishing to Redis failed") for e in events) == 1
    assert events.count("publishing to Redis works again") == 1


async def test_redis_py_by_itself_subscribes_again_to_the_channels_it_knows(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """What RedisPubSub relies on (redis-py 8): a PubSub whose connection dropped connects
    again on a later read and subscribes again to its channels (PubSub.on_connect), even
    without a retry policy."""
    client = aioredis.from_url(private_redis.url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe("plain")
        await asyncio.to_thread(private_redis.restart, keep_data=False)
        publisher = aioredis.from_url(private_redis.url)
        async with asyncio.timeout(WAIT):
            while True:
                await publisher.publish("plain", "hi")
                try:
                    message = await pubsub.get_message(timeout=0.2)
                except aioredis.ConnectionError:
                    continue  # the drop seen: the next read connects again
                if message is not None:
                    break
        await publisher.aclose()
        assert message["data"] == b"hi"
    finally:
        await pubsub.aclose()
        await client.aclose()


async def test_a_reconnect_changes_subscriptions_only_under_the_lock(
    pubsubs: tuple[RedisPubSub, RedisPubSub],
) -> None:
    """redis-py calls `_reconnected` inside whatever command reconnected, maybe while a
    `subscribe` holds the lock: the resubscription waits for it (and cannot deadlock)."""
    listener, publisher = pubsubs
    async with listener.subscribe("match:1") as first:
        await received(first, lambda: publisher.publish("match:1", {"n": 0}))
        async with listener._lock:  # a subscribe() or an unsubscribe on its way
            await listener._reconnected(None)
            await asyncio.sleep(1.5)  # more than a read's timeout: the reader had its turn
            assert not first.overflow.is_set()
        await until_set(first.overflow)  # then done, and the subscribers told
        await publisher.publish("match:1", {"n": 1})
        assert await received(first, _nothing) == {"n": 1}
