"""The Redis queue when Redis restarts or loses its data, in process, on a private Redis:
data loss is noticed (by exactly one API instance, even if a worker recreated the streams
first), a lost group is recreated and events sent afterwards are recorded, a worker survives
all of it, a job whose events could not be sent stays pending to be judged again, and a
resend the noticing instance did not finish (it died, or its on_lost failed) is taken over."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
import pytest
from structlog.testing import capture_logs

from codebattle.db import outage
from codebattle.judge import jobs, worker
from codebattle.judge import queue as queue_module
from codebattle.judge.queue import (
    EPOCH_KEY,
    RECORDERS_GROUP,
    RESEND_KEY,
    RESULTS_STREAM,
    WORKERS_GROUP,
    RedisQueue,
)
from codebattle.judge.runner import JobRunner
from codebattle.judge.streams import JOBS_STREAM, job_stream
from codebattle.judge.worker import Worker
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

WAIT = 15.0  # every wait is bounded by this


class Recorder:
    """What an API instance's handlers saw: events (by submission), on_lost calls."""

    def __init__(self) -> None:
        self.events: list[jobs.Event] = []
        self.lost = 0

    async def on_event(self, events: list[jobs.Event]) -> None:
        self.events.extend(events)

    async def on_lost(self) -> None:
        self.lost += 1

    def done(self, submission: int) -> bool:
        return any(e["submission"] == submission and e["type"] == "done" for e in self.events)


async def eventually(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)
    assert check(), what


def job(submission: int) -> jobs.Job:
    return {
        "submission": submission, "kind": "submit", "language": "python", "code": "",
        "package_key": "none", "time_limit": 1.0, "stdin": "", "run_all": False,
    }  # fmt: skip


def done_event(submission: int) -> jobs.Event:
    return jobs.done(
        job(submission),
        {"verdict": "AC", "compile_output": "", "message": "", "tests_total": 0,
         "judge_time": 0.0, "tests": []},
    )  # fmt: skip


class FakeRunner:
    """Judges instantly: started, then done (AC); `during` runs between the two."""

    def __init__(self, during: Callable[[], None] = lambda: None) -> None:
        self.during = during

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        emit(jobs.started(job))
        self.during()
        emit(done_event(job["submission"]))


@pytest.fixture
async def queues(private_redis: RedisServer) -> AsyncIterator[Callable[[], Awaitable[Any]]]:  # noqa: F811
    """Start RedisQueue instances (API instances) on the private Redis; stopped afterwards."""
    started: list[RedisQueue] = []

    async def start(recorder: Recorder | None = None) -> tuple[RedisQueue, Recorder]:
        queue, recorder = RedisQueue(private_redis.url, 2.0), recorder or Recorder()
        await queue.start(recorder.on_event, recorder.on_lost)
        started.append(queue)
        return queue, recorder

    yield start
    for queue in started:
        await queue.stop()


@pytest.fixture
def worker_thread(private_redis: RedisServer) -> Iterator[Worker]:  # noqa: F811
    """A `codebattle worker` loop on a thread, with a runner that judges instantly."""
    running = Worker(private_redis.url, cast(JobRunner, FakeRunner()), 2.0)
    thread = threading.Thread(target=running.serve, daemon=True)
    thread.start()
    yield running
    running.stopping.set()
    thread.join(WAIT)
    assert not thread.is_alive()


async def test_a_new_redis_fires_on_lost_once_for_all_instances(
    queues: Callable[[], Awaitable[tuple[RedisQueue, Recorder]]],
) -> None:
    (first, one), (second, two) = await queues(), await queues()
    assert (one.lost, two.lost) == (1, 0)  # the first at its start, on the empty Redis
    assert [await first.check_epoch(), await second.check_epoch()] == [False, False]
    assert (one.lost, two.lost) == (1, 0)


async def test_data_loss_is_noticed_by_exactly_one_instance(
    queues: Callable[[], Awaitable[tuple[RedisQueue, Recorder]]],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    (first, one), (second, two) = await queues(), await queues()
    one.lost = two.lost = 0
    client = private_redis.client()
    client.flushall()
    # A worker recreated the jobs stream and group before any API instance looked.
    client.xgroup_create(JOBS_STREAM, WORKERS_GROUP, id="0", mkstream=True)
    with capture_logs() as logs:
        won = await asyncio.gather(first.check_epoch(), second.check_epoch())
    assert sorted(won) == [False, True]
    assert one.lost + two.lost == 1
    assert sum("Redis lost its data (or is new)" in entry["event"] for entry in logs) == 1
    assert client.get(EPOCH_KEY) is not None
    assert {g["name"] for g in client.xinfo_groups(RESULTS_STREAM)} == {RECORDERS_GROUP.encode()}
    client.close()


async def test_the_watcher_notices_a_restart_without_data_by_itself(
    queues: Callable[[], Awaitable[tuple[RedisQueue, Recorder]]],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    (_queue, recorder), (_other, other) = await queues(), await queues()
    recorder.lost = 0
    with capture_logs() as logs:
        await asyncio.to_thread(private_redis.restart, keep_data=False, down_seconds=0.5)
        await eventually(lambda: recorder.lost + other.lost == 1, "on_lost called once")
        await asyncio.sleep(2.5)  # a further epoch check: no second call
    assert recorder.lost + other.lost == 1
    events = [entry["event"] for entry in logs]
    # The outage is logged at most once per instance, and its end as often as its start.
    down = sum(e.startswith("Redis unreachable") for e in events)
    assert down <= 2 and down == sum(e.startswith("Redis reachable again") for e in events)


async def test_the_consumer_recovers_from_nogroup_and_records_later_events(
    queues: Callable[[], Awaitable[tuple[RedisQueue, Recorder]]],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    _queue, recorder = await queues()
    client = private_redis.client()
    client.xadd(RESULTS_STREAM, {"event": json.dumps(done_event(1))})
    await eventually(lambda: recorder.done(1), "recorded before the flush")
    with capture_logs() as logs:
        client.flushall()
        # A worker's event after the loss: XADD makes the stream again, without its group.
        client.xadd(RESULTS_STREAM, {"event": json.dumps(done_event(2))})
        await eventually(lambda: recorder.done(2), "recorded after the flush")
    assert any("results group is gone" in entry["event"] for entry in logs)
    # The read waiting on the stream when it went (UNBLOCKED) is no failure either.
    assert not [entry for entry in logs if entry["log_level"] == "error"]
    client.close()


async def test_a_worker_survives_a_flush_and_a_restart(
    queues: Callable[[], Awaitable[tuple[RedisQueue, Recorder]]],
    private_redis: RedisServer,  # noqa: F811
    worker_thread: Worker,
) -> None:
    queue, recorder = await queues()
    await queue.enqueue(job(1))
    await eventually(lambda: recorder.done(1), "judged before")
    private_redis.client().flushall()
    await queue.enqueue(job(2))  # the API's resend would do this
    await eventually(lambda: recorder.done(2), "judged after a flush")
    await asyncio.to_thread(private_redis.restart, keep_data=False, down_seconds=1.0)
    await eventually(lambda: recorder.lost >= 2, "the loss noticed")
    await queue.enqueue(job(3))
    await eventually(lambda: recorder.done(3), "judged after a restart without data")
    await asyncio.to_thread(private_redis.restart, keep_data=True, down_seconds=1.0)
    await queue.enqueue(job(4))
    await eventually(lambda: recorder.done(4), "judged after a restart with data")
    assert not worker_thread.stopping.is_set()


def test_a_job_whose_events_could_not_be_sent_stays_pending(
    private_redis: RedisServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "SEND_PATIENCE_SECONDS", 0.2)
    client = private_redis.client()
    sent: list[jobs.Event] = []

    def outage() -> None:  # Redis away for the "done" event's send, then back
        private_redis.stop()

    class Runner(FakeRunner):
        def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
            super().execute(job, lambda event: (sent.append(event), emit(event))[1])
            private_redis.start()

    running = Worker(private_redis.url, cast(JobRunner, Runner(during=outage)), 2.0)
    running.ensure_group()
    client.xadd(job_stream(job(7)), {"job": json.dumps(job(7))})
    message = running.next_job()
    assert message is not None
    running.handle(*message)
    assert [e["type"] for e in sent] == ["started", "done"]  # the runner never saw an error
    pending: Any = client.xpending(job_stream(job(7)), WORKERS_GROUP)
    assert pending["pending"] == 1  # not acked: redelivered after the delay
    results = client.xrange(RESULTS_STREAM)
    assert [json.loads(fields[b"event"])["type"] for _id, fields in results] == ["started"]
    client.close()


@pytest.mark.parametrize("winner", ["dies", "raises"])
async def test_a_resend_the_noticing_instance_did_not_finish_is_taken_over(
    private_redis: RedisServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    winner: str,
) -> None:
    monkeypatch.setattr(queue_module, "TAKEOVER_SECONDS", 1.0)
    client = private_redis.client()
    client.flushall()
    first, second, two = (
        RedisQueue(private_redis.url, 2.0),
        RedisQueue(private_redis.url, 2.0),
        Recorder(),
    )
    never = asyncio.Event()

    async def hangs() -> None:  # the instance dies here, before the resend commits
        await never.wait()

    async def fails() -> None:  # the database refuses it, every time
        raise RuntimeError("the database is away")

    # Driven by hand, without their watchers, so that `first` is the one that notices.
    first._on_lost = hangs if winner == "dies" else fails
    second._on_lost = two.on_lost
    try:
        if winner == "dies":
            dying = asyncio.create_task(first.check_epoch())
            await eventually(lambda: client.get(EPOCH_KEY) is not None, "the loss noticed")
            dying.cancel()
        else:
            assert await first.check_epoch()
        assert client.get(EPOCH_KEY).endswith(b":pending")  # type: ignore[union-attr]
        assert not await second.check_epoch()
        assert two.lost == 0  # the noticing instance's lease holds

        async def taken_over() -> bool:
            await second.check_epoch()
            return two.lost > 0

        async with asyncio.timeout(WAIT):
            while not await taken_over():
                await asyncio.sleep(0.2)
        assert two.lost == 1
        assert client.get(EPOCH_KEY).endswith(b":done")  # type: ignore[union-attr]
        await asyncio.sleep(1.2)  # past another lease: nobody sends them a third time
        assert not await second.check_epoch()
        if winner == "raises":
            await first.check_epoch()  # it sees the resend done and stops trying
            assert first._resending is None
        assert two.lost == 1
    finally:
        await first.stop()
        await second.stop()
        client.close()


async def test_recording_refused_by_a_database_outage_is_a_warning_not_a_traceback(
    queues: Callable[..., Awaitable[tuple[RedisQueue, Recorder]]],
    private_redis: RedisServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outage, "_warned", {})

    class DatabaseAway(Recorder):
        async def on_event(self, events: list[jobs.Event]) -> None:
            self.events.extend(events)
            raise asyncpg.exceptions.CannotConnectNowError("the database system is starting up")

    recorder = DatabaseAway()
    client = private_redis.client()
    with capture_logs() as logs:
        await queues(recorder)
        client.xadd(RESULTS_STREAM, {"event": json.dumps(done_event(1))})
        await eventually(lambda: recorder.done(1), "offered for recording")
        await asyncio.sleep(0.1)
    assert any(e["event"] == "a backing service is unavailable" for e in logs)
    assert not [e for e in logs if e["log_level"] == "error"]
    pending: Any = client.xpending(RESULTS_STREAM, RECORDERS_GROUP)
    assert pending["pending"] == 1  # not acked: recorded when the database is back
    client.close()


async def test_the_epoch_script_knows_its_own_lease(
    queues: Callable[[], Awaitable[tuple[RedisQueue, Recorder]]],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """A check retried after its reply was lost (the client's retry policy sends it again)
    is recognised as the holder's own: it keeps (and renews) the lease rather than finding
    it taken and leaving the resend to nobody; another instance still finds it taken."""
    (first, _one), (second, _two) = await queues(), await queues()
    client = private_redis.client()
    client.flushall()

    async def check(queue: RedisQueue) -> int:
        reply: Any = await queue._check_script(
            keys=[EPOCH_KEY, RESEND_KEY], args=["fresh", queue._holder, 15_000]
        )
        return int(reply[1])

    assert await check(first) == 1  # it noticed the loss and holds the lease
    assert await check(first) == 2  # the same call again: still its own
    assert await check(second) == 0  # someone else's: taken
    assert client.pttl(RESEND_KEY) > 10_000
