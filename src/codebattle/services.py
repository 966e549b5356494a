"""Wires the seams from the settings: database, blob storage, job queue, pub/sub, rate
limits, and the judge for the in-process queue. The app and the CLI build one of these.

A container only, low in the layers: capability code takes it as its seams (e.g.
`submissions.submit` saves through `db` and `blobs` and queues on `queue`), and it imports
none of them. What a running server does with it (judge results recorded and passed on,
the battle loops) is `codebattle.runtime`, above the battles, so no service imports back."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.requests import HTTPConnection

from codebattle import failpoints
from codebattle.config import Settings
from codebattle.db import preview
from codebattle.db.session import Database
from codebattle.judge.mock import MockRunner
from codebattle.judge.queue import InProcessQueue, JobQueue, LocalQueue, RedisQueue
from codebattle.judge.runner import JobRunner
from codebattle.logsink import LogWriter, make_writer
from codebattle.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from codebattle.realtime.pubsub import MemoryPubSub, PubSub, RedisPubSub
from codebattle.storage import BlobStore, open_store, store_environment

log = structlog.get_logger(__name__)

STOP_TASK_SECONDS = 10.0  # what a cancelled background task gets to end


def new_instance_id() -> str:
    """A name for this process that no other shares (here or on another host, now or after
    a restart): host, pid and a random tail; at most 64 characters (the columns that keep it)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


def blob_store(settings: Settings) -> BlobStore:
    """A bucket when S3_BUCKET is set, else DATA_DIR/blobs (storage.open_store)."""
    return open_store(settings)


@dataclass
class Services:
    settings: Settings
    db: Database
    blobs: BlobStore
    queue: JobQueue
    pubsub: PubSub
    ratelimit: RateLimiter
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # This process's one name in the cluster, made once: its heartbeat on the fleet page,
    # the alert watch's lease holder and the alert deliveries' claims all say it.
    instance: str = field(default_factory=new_instance_id)
    # The log seam (`logsink.emit(index, doc_id, body)`): its writer starts on the first
    # emit and is flushed, within a bound, by `stop`.
    logsink: LogWriter = field(init=False)

    def __post_init__(self) -> None:
        self.logsink = make_writer(self.settings, self.db)

    @classmethod
    def from_settings(
        cls, settings: Settings, runner_factory: Callable[[], JobRunner] | None = None
    ) -> Services:
        failpoints.arm(settings.FAILPOINTS)
        queue: JobQueue
        pubsub: PubSub
        ratelimit: RateLimiter
        workers, urgent = settings.JUDGE_WORKERS, settings.JUDGE_URGENT_WORKERS
        if settings.preview:  # the mock sandbox (judge/mock.py): no worker, no bubblewrap
            queue = InProcessQueue(
                lambda: MockRunner.for_preview(blob_store(settings), settings.DATA_DIR), workers
            )
        elif settings.REDIS_URL:
            queue = RedisQueue(settings.REDIS_URL, settings.QUEUE_REDELIVERY_SECONDS)
        elif runner_factory is not None:
            queue = InProcessQueue(runner_factory, workers, urgent)
        else:
            queue = LocalQueue(store_environment(settings), workers, urgent)
        if settings.REDIS_URL:
            pubsub = RedisPubSub(settings.REDIS_URL)
            ratelimit = RedisRateLimiter(settings.REDIS_URL)
        else:
            pubsub = MemoryPubSub()
            ratelimit = MemoryRateLimiter()
        db = Database(settings.database_url)
        if settings.preview:  # read-only but for sessions and practice (decision 0030)
            preview.guard(db.engine)
        return cls(
            settings=settings,
            db=db,
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

    async def stop(self) -> None:
        tasks = list(self.background)
        for task in tasks:
            task.cancel()
        # Bounded: a task that swallowed its cancellation must not hold the process's stop.
        if tasks:
            done, stuck = await asyncio.wait(tasks, timeout=STOP_TASK_SECONDS)
            for task in done:  # retrieved, so no "exception was never retrieved" at exit
                if not task.cancelled():
                    task.exception()
            for task in stuck:
                log.error("a background task did not stop when cancelled", task=task.get_name())
        await self.queue.stop()
        await self.pubsub.close()
        close = getattr(self.ratelimit, "close", None)
        if close is not None:
            await close()
        # Last before the database it may write to, after what may still emit (the queue's
        # last results are recorded); bounded by logsink.writer.FLUSH_SECONDS.
        await self.logsink.stop()
        await self.db.dispose()
        self.blobs.close()  # the bucket's threads and connections; after all that may use it


def services_of(connection: HTTPConnection) -> Services:
    """The app's services, from a request or a WebSocket."""
    return connection.app.state.services  # type: ignore[no-any-return]
