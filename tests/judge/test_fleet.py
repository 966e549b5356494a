"""Each queue says which judge workers it has (judge/queue.py `fleet()`): the embedded
default's worker processes (one killed is reported dead, with when; its replacement is a new
entry), the in-process queue's threads, and `codebattle worker` processes by the heartbeats
they keep in Redis (one that stops beating is dead since it was last seen; a clean stop
removes it; a day-old entry is forgotten)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

from codebattle.judge import jobs
from codebattle.judge.queue import (
    FORGET_SECONDS,
    WORKER_DEAD_SECONDS,
    WORKERS_KEY,
    InProcessQueue,
    LocalQueue,
    RedisQueue,
    WorkerInfo,
    languages_here,
)
from codebattle.judge.runner import JobRunner
from codebattle.judge.worker import Worker
from tests.judge.test_redis_queue_recovery import FakeRunner, Recorder, job
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

WAIT = 30.0


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    async with asyncio.timeout(WAIT):
        while not await check():
            await asyncio.sleep(0.05)


async def test_local_workers_a_killed_one_is_dead_and_its_replacement_new(tmp_path: Path) -> None:
    queue, recorder = LocalQueue({"DATA_DIR": str(tmp_path)}, 2), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    try:
        fleet: list[WorkerInfo] = []

        async def two_alive() -> bool:
            nonlocal fleet
            fleet = await queue.fleet()
            return len(fleet) == 2 and all(w.alive for w in fleet)

        await until(two_alive, "two workers running")
        assert {w.languages for w in fleet} == {languages_here()}
        assert all(w.died_at is None for w in fleet)
        pids = {int(w.name.rsplit("-", 1)[1]) for w in fleet}
        victim = min(pids)
        before_kill = time.time()
        os.kill(victim, signal.SIGKILL)

        async def one_dead() -> bool:
            nonlocal fleet
            fleet = await queue.fleet()
            return any(not w.alive for w in fleet)

        await until(one_dead, "the killed worker reported")
        dead = [w for w in fleet if not w.alive]
        assert len(dead) == 1 and dead[0].name.endswith(f"-{victim}")
        assert dead[0].died_at is not None and dead[0].died_at >= before_kill
        # Two jobs, one per worker: the dead one is replaced by a new process.
        await queue.enqueue(job(1))
        await queue.enqueue(job(2))
        async with asyncio.timeout(WAIT):
            while not (recorder.done(1) and recorder.done(2)):
                await asyncio.sleep(0.05)
        fleet = await queue.fleet()
        alive = [w for w in fleet if w.alive]
        assert len(alive) == 2 and len(fleet) == 3
        new = {int(w.name.rsplit("-", 1)[1]) for w in alive} - pids
        assert len(new) == 1 and victim not in new
        assert [w for w in fleet if not w.alive] == dead  # reported once, unchanged
    finally:
        await queue.stop()
    assert await queue.fleet() == dead  # a clean stop is no death


class Crashing:
    """A runner whose second job kills its worker thread's task (a bug, not a job's IE)."""

    def __init__(self) -> None:
        self.calls = 0

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("the judge broke")
        FakeRunner().execute(job, emit)


async def test_in_process_workers_and_one_that_failed() -> None:
    runner = Crashing()
    queue, recorder = InProcessQueue(lambda: cast(JobRunner, runner), 2), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    try:
        now = time.time()
        fleet = await queue.fleet(now)
        assert [w.alive for w in fleet] == [True, True]
        assert all(w.seen_at == now and w.languages == languages_here() for w in fleet)
        await queue.enqueue(job(1))
        await queue.enqueue(job(2))

        async def failed() -> bool:
            return any(not w.alive for w in await queue.fleet())

        await until(failed, "the failed thread reported")
        fleet = await queue.fleet()
        assert sorted(w.alive for w in fleet) == [False, True]
        dead = next(w for w in fleet if not w.alive)
        assert dead.died_at is not None
        assert [w for w in await queue.fleet() if not w.alive] == [dead]  # once
    finally:
        with contextlib.suppress(RuntimeError):  # stop() raises what ended a worker task
            await queue.stop()


async def test_redis_workers_by_their_heartbeats(private_redis: RedisServer) -> None:  # noqa: F811
    queue = RedisQueue(private_redis.url, 2.0)
    running = Worker(private_redis.url, cast(JobRunner, FakeRunner()), 2.0)
    thread = threading.Thread(target=running.serve, daemon=True)
    thread.start()
    try:

        async def listed() -> bool:
            return [w.name for w in await queue.fleet()] == [running.name]

        await until(listed, "the worker's first heartbeat")
        (info,) = await queue.fleet()
        assert info.alive and info.died_at is None
        assert info.languages == languages_here() and info.started_at == running.started_at
        assert info.name.startswith(running.consumer)
    finally:
        running.stopping.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert await queue.fleet() == []  # a clean stop removes its heartbeat

    # A worker that stopped beating (killed): dead since it was last seen.
    silent = Worker(private_redis.url, cast(JobRunner, FakeRunner()), 2.0)
    seen = time.time() - 100
    silent.beat(now=seen)
    (alive,) = await queue.fleet(now=seen + WORKER_DEAD_SECONDS)
    assert alive.alive and alive.died_at is None
    (dead,) = await queue.fleet(now=seen + WORKER_DEAD_SECONDS + 1)
    assert (dead.name, dead.alive, dead.died_at, dead.seen_at) == (silent.name, False, seen, seen)
    # A day later it is forgotten, and removed from Redis.
    assert await queue.fleet(now=seen + FORGET_SECONDS + 1) == []
    client = private_redis.client()
    assert client.hlen(WORKERS_KEY) == 0
    client.hset(WORKERS_KEY, "garbage", b"not json")  # unreadable: dropped
    assert await queue.fleet() == [] and client.hlen(WORKERS_KEY) == 0
    client.close()
    await queue.stop()
