"""The pub/sub seam: in-process by default, Redis with REDIS_URL (so that any API instance
can serve any socket). Messages are JSON-able dicts; delivery is best effort, so anything a
client must not miss is also stored and re-read on (re)connect."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog

from codebattle import redis_clients

log = structlog.get_logger(__name__)
Message = dict[str, Any]
PREFIX = "codebattle:"
CLOSE_SECONDS = 5.0  # how long closing may wait for the reader and the connections
QUEUE_SIZE = 256  # per subscriber; a subscriber this far behind is told it is too slow


@dataclass(frozen=True, slots=True)
class Envelope:
    """A published message and its JSON text, encoded once for every subscriber (a room of
    a thousand sockets does not serialise each event a thousand times)."""

    message: Message
    text: str


class SubscriberTooSlow(Exception):
    """This subscriber's queue overflowed: it missed messages and must resync."""


class Subscription:
    """One subscriber's bounded queue. A deque and one waiter rather than asyncio.Queue:
    this runs once per message per socket, so every step counts."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self._items: deque[Envelope] = deque()
        self._size = size
        self._waiter: asyncio.Future[None] | None = None
        self.overflow = asyncio.Event()  # set once a message was lost

    def put(self, envelope: Envelope) -> None:
        if len(self._items) >= self._size:
            self.overflow.set()
        else:
            self._items.append(envelope)
        self._wake()

    def missed(self) -> None:
        """Messages may have been lost on the way (pub/sub was cut off): the subscriber
        must resync, as if it had been too slow."""
        self.overflow.set()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def drain(self) -> list[Envelope]:
        """Every message waiting, taken at once (for a watcher that only looks)."""
        items = list(self._items)
        self._items.clear()
        return items

    async def get(self) -> Envelope:
        """The next message; SubscriberTooSlow once any was lost."""
        while not self._items and not self.overflow.is_set():
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.overflow.is_set():
            raise SubscriberTooSlow
        return self._items.popleft()


class PubSub(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    async def publish_many(self, messages: list[tuple[str, Message]]) -> None:
        """Publish in order, in one round trip where there is one."""

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


class MemoryPubSub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def publish(self, channel: str, message: Message) -> None:
        self.deliver(channel, Envelope(message, json.dumps(message)))

    async def publish_many(self, messages: list[tuple[str, Message]]) -> None:
        for channel, message in messages:
            self.deliver(channel, Envelope(message, json.dumps(message)))

    def deliver(self, channel: str, envelope: Envelope) -> None:
        """To every subscriber of the channel at once, with no await in between: whoever
        subscribes later did not get it, whoever subscribed before did (room snapshots
        rely on this: rooms/snapshots.py)."""
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.put(envelope)

    def all_missed(self) -> int:
        """Tell every subscription that it may have missed messages (`Subscription.missed`);
        how many there were."""
        count = 0
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                subscription.missed()
                count += 1
        return count

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers[channel].discard(subscription)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def close(self) -> None:
        self._subscribers.clear()


class RedisPubSub:
    """One Redis subscription connection per process, fanned out to local subscribers (so a
    thousand sockets on one channel cost one Redis subscription, not a thousand).

    When that connection drops (Redis restarted) redis-py connects again on the next read
    and subscribes again to the channels it knows; the reader then (`_resubscribe`, under
    the lock that `subscribe` holds, so the two never change subscriptions at once)
    subscribes those it could not (a SUBSCRIBE refused while Redis was away), drops those
    nobody here wants any more, and tells every local subscription that it may have missed
    messages: their sockets resync from the stored state (realtime/stream.py), as after an
    overflow."""

    def __init__(self, url: str) -> None:
        # Without a retry policy the first publish on each pooled connection after a Redis
        # restart fails (the connection was closed); with one it is opened again.
        self.client = redis_clients.connect(url)
        self._local = MemoryPubSub()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self._counts: dict[str, int] = defaultdict(int)
        self._lock = asyncio.Lock()
        self._down = False  # publishing failed: logged once until it works again
        self._unsure = False  # a SUBSCRIBE failed: not every wanted channel is subscribed
        self._reconnect_due = False  # connected again: the reader resubscribes and tells

    async def publish(self, channel: str, message: Message) -> None:
        await self.publish_many([(channel, message)])

    async def publish_many(self, messages: list[tuple[str, Message]]) -> None:
        """Publish; while Redis is away, log and go on. Callers publish after their commit:
        the data is in the database, and every subscriber of this process and the others is
        told to resync when their connection comes back, so raising would only turn a
        saved change into an error page (or stop a judge events batch half way)."""
        if not messages:
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for channel, message in messages:
                    pipe.publish(PREFIX + channel, json.dumps(message))
                await pipe.execute()
        except aioredis.RedisError as exc:
            if not self._down:
                self._down = True
                log.warning("publishing to Redis failed; subscribers resync when it is back",
                            error=repr(exc), messages=len(messages))  # fmt: skip
            return
        if self._down:
            self._down = False
            log.warning("publishing to Redis works again")

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        async with self._local.subscribe(channel) as messages:
            async with self._lock:
                if self._pubsub is None:
                    self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                self._counts[channel] += 1
                if self._counts[channel] == 1:
                    try:
                        await self._connect()
                        await self._pubsub.subscribe(PREFIX + channel)
                    except aioredis.RedisError as exc:  # `_reconnected` subscribes it
                        self._unsure = True
                        log.warning("subscribing failed; retried when Redis is back",
                                    channel=channel, error=repr(exc))  # fmt: skip
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read())
            try:
                yield messages
            finally:
                async with self._lock:
                    self._counts[channel] -= 1
                    if self._counts[channel] == 0:
                        del self._counts[channel]
                        with contextlib.suppress(aioredis.RedisError):
                            await self._pubsub.unsubscribe(PREFIX + channel)

    async def _connect(self) -> None:
        """Open the subscription connection once, and hear of its reconnects. Opened only
        after a SUBSCRIBE failed (Redis was away from the start), it is a reconnect too."""
        pubsub = self._pubsub
        if pubsub.connection is None:
            await pubsub.connect()
            connection: Any = pubsub.connection
            # Called after redis-py's own callback, which subscribes again to what it knows.
            connection.register_connect_callback(self._reconnected)
            if self._unsure:
                self._reconnect_due = True

    async def _reconnected(self, _connection: Any) -> None:
        # Called inside whatever command reconnected, maybe a `subscribe` holding the lock:
        # the reader does the work once it can take the lock.
        self._reconnect_due = True

    async def _resubscribe(self) -> None:
        """After a reconnect: subscribe what is wanted and missing, drop what is not wanted,
        then tell every local subscription it may have missed messages."""
        async with self._lock:
            self._reconnect_due = False  # before: a reconnect during these sets it again
            wanted = {PREFIX + channel for channel in self._counts}
            known = {self._name(key) for key in self._pubsub.channels}
            try:
                if missing := wanted - known:
                    await self._pubsub.subscribe(*sorted(missing))
                if stale := known - wanted:
                    await self._pubsub.unsubscribe(*sorted(stale))
            except aioredis.RedisError:
                self._reconnect_due = True  # the reader tries again
                raise
            self._unsure = False
            told = self._local.all_missed()
        log.warning("Redis pub/sub connected again; subscribers told to resync",
                    channels=len(wanted), subscribers=told)  # fmt: skip

    @staticmethod
    def _name(key: str | bytes) -> str:
        return key.decode() if isinstance(key, bytes) else key

    async def _read(self) -> None:
        failed = False
        # Until closed: redis-py may swallow a cancellation that lands inside a read with a
        # timeout, so the loop also checks the flag (as the judge queue's loops do).
        while not self._closing:
            try:
                await self._connect()
                if self._reconnect_due:
                    await self._resubscribe()
                raw = await self._pubsub.get_message(timeout=1.0)
            except aioredis.RedisError as exc:
                if not failed:
                    log.warning("Redis pub/sub unreachable; reconnecting", error=repr(exc))
                    failed = True
                await asyncio.sleep(0.5)  # reconnects on the next read
                continue
            failed = False
            if raw is not None and raw.get("type") == "message":
                channel = raw["channel"].decode().removeprefix(PREFIX)
                text = raw["data"].decode()
                self._local.deliver(channel, Envelope(json.loads(text), text))

    async def close(self) -> None:
        self._closing = True
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait({self._reader}, timeout=CLOSE_SECONDS)  # bounded, as above
        with contextlib.suppress(TimeoutError, aioredis.RedisError, OSError):
            if self._pubsub is not None:
                await asyncio.wait_for(self._pubsub.aclose(), CLOSE_SECONDS)
            await asyncio.wait_for(self.client.aclose(), CLOSE_SECONDS)
