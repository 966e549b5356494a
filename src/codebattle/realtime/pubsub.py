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

Message = dict[str, Any]
PREFIX = "codebattle:"
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
    thousand sockets on one channel cost one Redis subscription, not a thousand)."""

    def __init__(self, url: str) -> None:
        self.client = aioredis.from_url(url)
        self._local = MemoryPubSub()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._counts: dict[str, int] = defaultdict(int)
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, message: Message) -> None:
        await self.client.publish(PREFIX + channel, json.dumps(message))

    async def publish_many(self, messages: list[tuple[str, Message]]) -> None:
        if not messages:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(PREFIX + channel, json.dumps(message))
            await pipe.execute()

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        async with self._local.subscribe(channel) as messages:
            async with self._lock:
                if self._pubsub is None:
                    self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                if self._counts[channel] == 0:
                    await self._pubsub.subscribe(PREFIX + channel)
                self._counts[channel] += 1
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

    async def _read(self) -> None:
        while True:
            try:
                raw = await self._pubsub.get_message(timeout=1.0)
            except aioredis.RedisError:
                await asyncio.sleep(0.5)  # reconnects on the next read
                continue
            if raw is not None and raw.get("type") == "message":
                channel = raw["channel"].decode().removeprefix(PREFIX)
                text = raw["data"].decode()
                self._local.deliver(channel, Envelope(json.loads(text), text))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self.client.aclose()
