"""Wires the seams from the settings: database, blob storage, job queue, pub/sub, rate
limits, and the judge for the in-process queue. The app and the CLI build one of these."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.requests import HTTPConnection

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.judge.jobs import Event
from codebattle.judge.queue import InProcessQueue, JobQueue, LocalQueue, RedisQueue
from codebattle.judge.runner import JobRunner
from codebattle.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from codebattle.realtime.pubsub import MemoryPubSub, PubSub, RedisPubSub
from codebattle.storage import BlobStore, LocalBlobStore
from codebattle.submissions import service as submissions

log = structlog.get_logger(__name__)


def blob_store(settings: Settings) -> BlobStore:
    return LocalBlobStore(settings.DATA_DIR / "blobs")


@dataclass
class Services:
    settings: Settings
    db: Database
    blobs: BlobStore
    queue: JobQueue
    pubsub: PubSub
    ratelimit: RateLimiter
    background: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def from_settings(
        cls, settings: Settings, runner_factory: Callable[[], JobRunner] | None = None
    ) -> Services:
        queue: JobQueue
        pubsub: PubSub
        ratelimit: RateLimiter
        if settings.REDIS_URL:
            queue = RedisQueue(settings.REDIS_URL, settings.QUEUE_REDELIVERY_SECONDS)
            pubsub = RedisPubSub(settings.REDIS_URL)
            ratelimit = RedisRateLimiter(settings.REDIS_URL)
        else:
            queue = (
                InProcessQueue(runner_factory, settings.JUDGE_WORKERS)
                if runner_factory is not None
                else LocalQueue(settings.DATA_DIR / "blobs", settings.JUDGE_WORKERS)
            )
            pubsub = MemoryPubSub()
            ratelimit = MemoryRateLimiter()
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            blobs=blob_store(settings),
            queue=queue,
            pubsub=pubsub,
            ratelimit=ratelimit,
        )

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a task for the life of these services (cancelled by `stop`)."""
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def start(self, loops: bool = True) -> None:
        """Start the queue and, with `loops`, the server's own battle loops (the deadline
        sweeper, the matchmaker and the keeper of AI opponents)."""
        from codebattle.battles import ai_player, live

        await self.queue.start(self.on_events)
        if loops:
            self.spawn(live.every(0.5, lambda: live.sweep_deadlines(self), "deadline sweep"))
            self.spawn(live.every(1.0, lambda: live.pair_now(self), "matchmaking"))
            self.spawn(
                live.every(
                    ai_player.RENEW_SECONDS,
                    lambda: ai_player.take_over_orphans(self),
                    "taking over AI opponents",
                )
            )
        if isinstance(self.queue, InProcessQueue | LocalQueue):  # jobs kept in this process
            # In process, queued jobs die with the process: queue them again.
            async with self.db.session() as session:
                for job in await submissions.unfinished_jobs(session, self.blobs):
                    await self.queue.enqueue(job)

    async def on_events(self, events: list[Event]) -> None:
        """Record judge events (one transaction), publish what changed, and pass results of
        submissions made in matches on to their matches."""
        from codebattle.battles import live

        async with self.db.session() as session:
            messages = await submissions.record_batch(session, events)
        await self.pubsub.publish_many(
            [
                (f"submission:{event['submission']}", {"v": 1, **message})
                for event, message in zip(events, messages, strict=True)
                if message is not None
            ]
        )
        in_games = [m for m in messages if m is not None and "submission_id" in m]
        if in_games:
            await live.on_judge_messages(self, in_games)

    async def stop(self) -> None:
        for task in list(self.background):
            task.cancel()
        for task in list(self.background):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.queue.stop()
        await self.pubsub.close()
        close = getattr(self.ratelimit, "close", None)
        if close is not None:
            await close()
        await self.db.dispose()


def services_of(connection: HTTPConnection) -> Services:
    """The app's services, from a request or a WebSocket."""
    return connection.app.state.services  # type: ignore[no-any-return]
