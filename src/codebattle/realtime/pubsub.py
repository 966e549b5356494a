"""The pub/sub seam: in-process by default, Redis with REDIS_URL (so that any API instance
can serve any socket). Messages are JSON-able dicts; delivery is best effort, so anything a
client must not miss is also stored and re-read on (re)connect."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import redis.asyncio as aioredis

Message = dict[str, Any]
PREFIX = "codebattle:"
QUEUE_SIZE = 1000  # per subscriber; a subscriber this far behind loses messages


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[Message]: ...


class PubSub(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    def subscribe(
        self, channel: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Message]]: ...

    async def close(self) -> None: ...


class MemoryPubSub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)

    async def publish(self, channel: str, message: Message) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[channel].add(queue)

        async def messages() -> AsyncIterator[Message]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[channel].discard(queue)
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

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
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
                await self._local.publish(channel, json.loads(raw["data"]))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self.client.aclose()
