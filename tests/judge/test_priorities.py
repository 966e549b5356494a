"""Scheduling (issue 18): a job's priority is stored with its submission when it is made,
from its kind and the match or room it was made in (a duel's run too), and job_for reads it
(the outbox's resend too); both queues judge the most urgent level first, in order of
arrival within a level, so a duel's submission is never stuck behind a backlog; the urgent
lane's workers (in process and `codebattle worker --urgent`) take a race at once while every
other worker is busy with practice, and never take practice themselves; the Redis workers
keep their guarantees on every level's stream (takeover of a dead worker's job, deliveries,
heartbeat, ack, a lost group recreated) and still judge what an older version queued; and
the first events of a submission are recorded without waiting for a batch. Redelivery is
driven by setting a job's idle time (XCLAIM IDLE), never by sleeping past it."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from codebattle.battles import live
from codebattle.battles.models import MatchEvent
from codebattle.cli import app
from codebattle.db.session import Database
from codebattle.judge import jobs
from codebattle.judge import queue as queue_module
from codebattle.judge.queue import (
    RESULTS_STREAM,
    WORKERS_GROUP,
    InProcessQueue,
    RedisQueue,
    job_stream,
)
from codebattle.judge.runner import JobRunner
from codebattle.judge.streams import JOBS_STREAM, language_streams
from codebattle.judge.worker import Worker
from codebattle.storage import LocalBlobStore
from codebattle.submissions import outbox, service
from codebattle.submissions.models import CUSTOM, SAMPLES, SUBMIT, Submission
from codebattle.submissions.service import job_for
from codebattle.submissions.submit import submit
from tests.battles.test_verdicts_once import running_duel
from tests.judge.test_redis_queue_recovery import Recorder, done_event, eventually
from tests.support.factories import (
    MAX_CODE_BYTES,
    STARTER,
    make_problem_version,
    make_user,
)
from tests.support.redis_server import RedisServer, private_redis  # noqa: F401

WAIT = 15.0  # every wait is bounded by this
JOB_STREAMS = language_streams("python")  # the jobs below are Python's, one stream per level
MATCH, RUN, ROOM, PRACTICE = jobs.MATCH, jobs.RUN, jobs.ROOM, jobs.PRACTICE


def job(submission: int, level: int | None) -> jobs.Job:
    made: jobs.Job = {
        "submission": submission, "kind": "submit", "language": "python", "code": "",
        "package_key": "none", "time_limit": 1.0, "stdin": "", "run_all": False,
    }  # fmt: skip
    if level is not None:  # None: a job of an older version, which had no priority
        made["priority"] = level
    return made


class OrderRunner:
    """Judges instantly (started, then done), noting the order; the first job waits for
    `gate` (it keeps the only worker busy while a backlog is queued)."""

    def __init__(self, during: Callable[[jobs.Job], None] = lambda job: None) -> None:
        self.order: list[int] = []
        self.started = threading.Event()
        self.gate = threading.Event()
        self.during = during

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        emit(jobs.started(job))
        self.order.append(job["submission"])
        self.started.set()
        if len(self.order) == 1:
            assert self.gate.wait(WAIT)
        self.during(job)
        emit(done_event(job["submission"]))


# -- job_for ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "match_id", "room_id", "level"),
    [
        (SUBMIT, 5, None, MATCH),  # a race
        (SAMPLES, 5, None, MATCH),  # a run in a race is part of it
        (CUSTOM, 5, None, MATCH),
        (SAMPLES, None, None, RUN),  # a practice player waits for a short run
        (CUSTOM, None, None, RUN),
        (SUBMIT, None, 9, ROOM),  # a room's backlog, its runs with it
        (SAMPLES, None, 9, ROOM),
        (CUSTOM, None, 9, ROOM),
        (SUBMIT, None, None, PRACTICE),
    ],
)
def test_each_kind_and_place_has_its_level(
    kind: str, match_id: int | None, room_id: int | None, level: int
) -> None:
    assert service.priority_of(kind, match_id, room_id) == level


@pytest.mark.parametrize(
    ("kind", "match_id", "level", "run_all"),
    [
        (SUBMIT, 5, MATCH, True),  # a race: every test (most passed wins at the end)
        (SAMPLES, None, MATCH, False),  # a duel's run: stored without its match
        (SUBMIT, None, ROOM, False),  # a room counts the verdict: stops at a failure
        (SUBMIT, None, PRACTICE, False),
    ],
)
def test_job_for_gives_the_stored_level(
    kind: str, match_id: int | None, level: int, run_all: bool
) -> None:
    submission = Submission(id=1, kind=kind, match_id=match_id, room_id=None, priority=level,
                            language="python", custom_input=None)  # fmt: skip
    made = job_for(submission, "pkg", 1.0, "print(1)")
    assert (made["priority"], made["run_all"]) == (level, run_all)
    assert job_stream(made) == JOB_STREAMS[level]


async def test_the_outbox_resends_a_job_with_the_priority_it_was_sent_with(
    db: Database, tmp_path: Path
) -> None:
    """Runs made in a match or a room keep its level though they are stored without it."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    made = [(SUBMIT, None, None), (SAMPLES, None, None), (CUSTOM, None, None),
            (SAMPLES, 41, None), (CUSTOM, 41, None), (SAMPLES, None, 42)]  # fmt: skip
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session)
        sent = [
            (await service.create(session, blobs, user, STARTER, "python", "print(1)",
                                  kind=kind, custom_input="", max_code_bytes=MAX_CODE_BYTES,
                                  match_id=match_id, room_id=room_id))[1]
            for kind, match_id, room_id in made
        ]  # fmt: skip
        await session.commit()
    # Read back from the table, as a relay does.
    again, lost = await outbox.jobs_of(db, blobs, [j["submission"] for j in sent])
    assert lost == [] and again == sent
    assert [j["priority"] for j in again] == [PRACTICE, RUN, RUN, MATCH, MATCH, ROOM]


class Queue:
    def __init__(self) -> None:
        self.jobs: list[jobs.Job] = []

    async def enqueue(self, job: jobs.Job) -> None:
        self.jobs.append(job)


async def test_a_duel_s_samples_run_is_queued_and_resent_as_the_race(
    db: Database, tmp_path: Path
) -> None:
    """Through the one way in (`submit`, with the match's place, as the arena now sends
    it): the run counts for no game (no match id, no "submitted" event) yet is level 0."""
    duel = await running_duel(db, tmp_path)
    blobs, match_id, alice = duel.blobs, duel.match_id, duel.alice
    queue = Queue()
    services = duel.services
    services.queue = queue
    place = live.match_place(services, match_id, alice.id)  # type: ignore[arg-type]
    run = await submit(services, alice, None, "python", "print(1)\n", kind=SAMPLES,  # type: ignore[arg-type]
                       place=place)  # fmt: skip
    assert (run.match_id, run.priority) == (None, MATCH)
    assert [(j["submission"], j["priority"]) for j in queue.jobs] == [(run.id, MATCH)]
    again, _lost = await outbox.jobs_of(db, blobs, [run.id])
    async with db.session() as session:
        logged = await session.scalars(
            select(MatchEvent.type).where(MatchEvent.match_id == match_id)
        )
        assert "submitted" not in list(logged)
    assert again == queue.jobs  # the outbox's resend: the same level


def test_a_job_without_a_known_priority_is_practice() -> None:
    assert jobs.priority(job(1, None)) == PRACTICE
    assert jobs.priority(job(1, 7)) == PRACTICE
    assert job_stream(job(1, None)) == JOB_STREAMS[PRACTICE]
    assert len(set(JOB_STREAMS)) == len(jobs.LEVELS)


# -- in process -------------------------------------------------------------------------


async def test_in_process_the_match_job_goes_before_the_backlog() -> None:
    runner = OrderRunner()
    queue = InProcessQueue(lambda: cast(JobRunner, runner), workers=1)
    recorder = Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    try:
        await queue.enqueue(job(1, PRACTICE))
        await eventually(runner.started.is_set, "the first job is being judged")
        for submission in range(2, 7):
            await queue.enqueue(job(submission, PRACTICE))
        await queue.enqueue(job(7, ROOM))
        await queue.enqueue(job(8, RUN))
        await queue.enqueue(job(9, ROOM))
        await queue.enqueue(job(10, MATCH))
        runner.gate.set()
        await eventually(lambda: all(recorder.done(s) for s in range(1, 11)), "all judged")
    finally:
        await queue.stop()
    assert runner.order == [1, 10, 8, 7, 9, 2, 3, 4, 5, 6]


class LaneRunner:
    """Judges instantly, except practice jobs, which wait for `gate` (they keep the workers
    that take them busy); notes what started."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.gate = threading.Event()

    def execute(self, job: jobs.Job, emit: Callable[[jobs.Event], None]) -> None:
        emit(jobs.started(job))
        self.order.append(job["submission"])
        if jobs.priority(job) == PRACTICE:
            assert self.gate.wait(WAIT)
        emit(done_event(job["submission"]))


async def test_in_process_the_urgent_worker_takes_a_race_while_the_others_judge_practice() -> None:
    runner = LaneRunner()
    queue = InProcessQueue(lambda: cast(JobRunner, runner), workers=2, urgent_workers=1)
    recorder = Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    try:
        for submission in (1, 2, 3):  # two take a worker each, one waits: never the urgent one's
            await queue.enqueue(job(submission, PRACTICE))
        await eventually(lambda: len(runner.order) == 2, "both workers busy with practice")
        await queue.enqueue(job(4, MATCH))
        await queue.enqueue(job(5, RUN))
        await eventually(lambda: recorder.done(4) and recorder.done(5), "the urgent lane judged")
        assert sorted(runner.order[:2]) == [1, 2] and runner.order[2:] == [4, 5]  # 3 waits
        names = [worker.name for worker in await queue.fleet()]
        assert [name.startswith("thread-urgent-") for name in names] == [False, False, True]
        runner.gate.set()
        await eventually(lambda: recorder.done(3), "practice judged once a worker is free")
    finally:
        runner.gate.set()
        await queue.stop()


# -- the first results are not batched -------------------------------------------------


def one_test(submission: int, index: int) -> jobs.Event:
    result: jobs.TestData = {"name": str(index), "verdict": "AC", "sample": False}
    return jobs.test_event(job(submission, MATCH), index, result)


async def check_batches(
    batches: list[list[jobs.Event]], send: Callable[[jobs.Event], Awaitable[Any]]
) -> None:
    """With a batching window far longer than the test, "started", "compiled" and the first
    test are recorded alone and at once; later tests wait for the batch, which "done" ends."""
    started, compiled = jobs.started(job(1, MATCH)), jobs.compiled(job(1, MATCH))
    await send(started)
    await eventually(lambda: batches == [[started]], "started recorded at once")
    await send(compiled)
    await eventually(lambda: batches == [[started], [compiled]], "compiled recorded at once")
    await send(one_test(1, 0))
    await eventually(lambda: len(batches) == 3, "the first test recorded at once")
    assert batches[2] == [one_test(1, 0)]
    await send(one_test(1, 1))
    await asyncio.sleep(0.3)  # longer than the usual window: this one is still gathered
    assert len(batches) == 3
    await send(done_event(1))
    await eventually(lambda: len(batches) == 4, "the batch ends with done")
    assert batches[3] == [one_test(1, 1), done_event(1)]


async def test_in_process_the_first_events_are_recorded_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queue_module, "COALESCE_SECONDS", 60.0)
    events: asyncio.Queue[jobs.Event] = asyncio.Queue()
    batches: list[list[jobs.Event]] = []

    async def on_event(batch: list[jobs.Event]) -> None:
        batches.append(batch)

    task = asyncio.create_task(queue_module._dispatch(events, on_event))

    async def send(event: jobs.Event) -> None:
        events.put_nowait(event)

    try:
        await check_batches(batches, send)
    finally:
        task.cancel()


async def test_redis_the_first_events_are_recorded_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
    private_redis: RedisServer,  # noqa: F811
) -> None:
    monkeypatch.setattr(queue_module, "COALESCE_SECONDS", 60.0)
    queue, recorder = RedisQueue(private_redis.url, 2.0), Recorder()
    batches: list[list[jobs.Event]] = []

    async def on_event(batch: list[jobs.Event]) -> None:
        batches.append(batch)

    await queue.start(on_event, recorder.on_lost)
    client = private_redis.client()

    async def send(event: jobs.Event) -> None:
        await asyncio.to_thread(client.xadd, RESULTS_STREAM, {"event": json.dumps(event)})

    try:
        await check_batches(batches, send)
    finally:
        await queue.stop()
        client.close()


# -- Redis workers ----------------------------------------------------------------------


def enqueue(url: str, *queued: jobs.Job) -> None:
    """As an API instance enqueues them (RedisQueue.enqueue), in this order."""

    async def send() -> None:
        queue = RedisQueue(url, 2.0)
        try:
            for each in queued:
                await queue.enqueue(each)
        finally:
            await queue.client.aclose()

    asyncio.run(send())


def pending(client: Any, stream: str) -> int:
    return int(client.xpending(stream, WORKERS_GROUP)["pending"])


def drain(worker: Worker, until: int) -> None:
    """Take and judge jobs until `until` were judged (bounded)."""
    runner = cast(OrderRunner, worker.runner)
    deadline = time.monotonic() + WAIT
    while len(runner.order) < until:
        assert time.monotonic() < deadline, runner.order
        message = worker.next_job()
        if message is not None:
            worker.handle(*message)


def test_redis_the_match_job_goes_before_the_backlog(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    runner = OrderRunner()
    runner.gate.set()
    worker = Worker(private_redis.url, cast(JobRunner, runner), 2.0)
    worker.ensure_group()
    backlog = [job(s, PRACTICE) for s in range(1, 6)]
    enqueue(private_redis.url, *backlog, job(6, ROOM), job(7, RUN), job(8, ROOM), job(9, MATCH))
    drain(worker, 9)
    assert runner.order == [9, 7, 6, 8, 1, 2, 3, 4, 5]
    client = private_redis.client()
    assert [pending(client, stream) for stream in JOB_STREAMS] == [0, 0, 0, 0]  # all acked
    assert worker.next_job() is None  # nothing left (after a short wait)
    client.close()


def test_redis_jobs_an_older_version_queued_are_judged(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    runner = OrderRunner()
    runner.gate.set()
    worker = Worker(private_redis.url, cast(JobRunner, runner), 2.0)
    client = private_redis.client()
    # Before the upgrade: one stream, its group, a job without a priority.
    client.xgroup_create(JOBS_STREAM, WORKERS_GROUP, id="0", mkstream=True)
    client.xadd(JOBS_STREAM, {"job": json.dumps(job(1, None))})
    worker.ensure_group()  # the new worker starts
    enqueue(private_redis.url, job(2, MATCH))
    drain(worker, 2)
    assert runner.order == [2, 1]
    assert pending(client, JOBS_STREAM) == 0
    client.close()


def idle(client: Any, worker: Worker, stream: str, message_id: bytes, seconds: float) -> None:
    """Make a pending job look idle this long, as if its worker had been dead for so long
    (XCLAIM IDLE; JUSTID: its deliveries are not counted)."""
    client.xclaim(stream, WORKERS_GROUP, worker.consumer, 0, [message_id],
                  idle=int(seconds * 1000), justid=True)  # fmt: skip


def test_redis_a_dead_worker_s_match_job_is_taken_over_first(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    dead = Worker(private_redis.url, cast(JobRunner, OrderRunner()), 30.0)
    dead.ensure_group()
    enqueue(private_redis.url, job(1, MATCH))
    taken = dead.next_job()
    assert taken is not None and taken[0] == JOB_STREAMS[MATCH]  # then it dies, unacked
    message_id = taken[1]
    enqueue(private_redis.url, job(2, PRACTICE), job(3, MATCH))
    client = private_redis.client()
    idle(client, dead, JOB_STREAMS[MATCH], message_id, 60.0)  # past the redelivery delay
    runner = OrderRunner()
    runner.gate.set()
    seen: list[int] = []
    taker = Worker(private_redis.url, cast(JobRunner, runner), 30.0)
    runner.during = lambda j: seen.append(
        taker.deliveries(JOB_STREAMS[MATCH], message_id) if j["submission"] == 1 else 0
    )
    drain(taker, 3)
    assert runner.order == [1, 3, 2]  # the match level first, its dead worker's job first
    assert seen[0] == 2  # delivered twice
    assert [pending(client, stream) for stream in JOB_STREAMS] == [0, 0, 0, 0]
    client.close()


def test_redis_a_high_priority_job_that_killed_workers_fails_as_ie(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    runner = OrderRunner()
    runner.gate.set()
    worker = Worker(private_redis.url, cast(JobRunner, runner), 30.0)
    worker.ensure_group()
    enqueue(private_redis.url, job(1, MATCH))
    client = private_redis.client()
    for _ in range(queue_module.MAX_DELIVERIES):  # each taker dies with it
        taken = worker.next_job()
        assert taken is not None
        idle(client, worker, taken[0], taken[1], 60.0)
    sent: list[jobs.Event] = []
    worker.send = sent.append  # type: ignore[method-assign]
    message = worker.next_job()
    assert message is not None
    worker.handle(*message)
    assert runner.order == []  # not judged a sixth time
    assert [e["type"] for e in sent] == ["done"]
    assert cast(jobs.DoneEvent, sent[0])["result"]["verdict"] == "IE"
    assert pending(client, JOB_STREAMS[MATCH]) == 0
    client.close()


def test_redis_the_heartbeat_keeps_a_high_priority_job(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """Judged for longer than the redelivery delay, the match job stays its worker's: while
    it is judged, the heartbeat reclaims it on its own stream, which makes a job that looked
    long idle fresh again, so a rival does not take it over."""
    client = private_redis.client()
    others: list[Any] = []
    beats: list[tuple[str, bytes]] = []
    worker = Worker(private_redis.url, cast(JobRunner, OrderRunner()), 0.3)  # beats each 0.1 s
    # The rival takes over a job idle for 30 s: only a beat can make a 60 s one fresh.
    rival = Worker(private_redis.url, cast(JobRunner, OrderRunner()), 30.0)
    reclaim = worker.reclaim

    def beat(stream: str, message_id: bytes) -> None:
        reclaim(stream, message_id)
        beats.append((stream, message_id))

    def judged(_job: jobs.Job) -> None:
        [entry] = client.xpending_range(stream_of_match, WORKERS_GROUP, min="-", max="+", count=1)
        message_id = entry["message_id"]
        idle(client, worker, stream_of_match, message_id, 60.0)  # as if judged for a minute
        after = len(beats) + 2  # the second beat from now began after the line above
        deadline = time.monotonic() + WAIT
        while len(beats) < after:
            assert time.monotonic() < deadline, "the heartbeat beats while judging"
            time.sleep(0.02)
        others.append(rival.next_job())

    stream_of_match = JOB_STREAMS[MATCH]
    worker.reclaim = beat  # type: ignore[method-assign]
    cast(OrderRunner, worker.runner).during = judged
    cast(OrderRunner, worker.runner).gate.set()
    worker.ensure_group()
    enqueue(private_redis.url, job(1, MATCH))
    drain(worker, 1)
    assert others == [None]
    assert {stream for stream, _id in beats} == {stream_of_match}
    client.close()


def test_redis_without_a_beat_a_long_idle_job_is_taken_over(
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """The check above can fail: the same job, idle as long but not reclaimed, is taken."""
    worker = Worker(private_redis.url, cast(JobRunner, OrderRunner()), 30.0)
    rival = Worker(private_redis.url, cast(JobRunner, OrderRunner()), 30.0)
    worker.ensure_group()
    enqueue(private_redis.url, job(1, MATCH))
    taken = worker.next_job()
    assert taken is not None
    client = private_redis.client()
    idle(client, worker, taken[0], taken[1], 60.0)
    again = rival.next_job()
    assert again is not None and again[1] == taken[1]
    client.close()


@pytest.fixture
def serving(private_redis: RedisServer) -> Iterator[tuple[Worker, OrderRunner]]:  # noqa: F811
    """A `codebattle worker` loop on a thread; its first job waits for the runner's gate."""
    runner = OrderRunner()
    running = Worker(private_redis.url, cast(JobRunner, runner), 2.0)
    thread = threading.Thread(target=running.serve, daemon=True)
    thread.start()
    yield running, runner
    runner.gate.set()
    running.stopping.set()
    thread.join(WAIT)
    assert not thread.is_alive()


async def test_redis_jobs_arriving_at_once_are_taken_one_at_a_time(
    serving: tuple[Worker, OrderRunner],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """An idle worker woken by jobs on several streams at once takes only the most urgent:
    the others stay unclaimed for any worker, not pending behind the one it judges."""
    _worker, runner = serving
    queue, recorder = RedisQueue(private_redis.url, 2.0), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    client = private_redis.client()
    try:
        await asyncio.sleep(0.3)  # the worker is waiting
        together = client.pipeline(transaction=True)
        for each in (job(1, PRACTICE), job(2, ROOM), job(3, MATCH)):
            together.xadd(job_stream(each), {"job": json.dumps(each)})
        together.execute()
        await eventually(runner.started.is_set, "the first is being judged")
        assert runner.order == [3]
        assert sum(pending(client, stream) for stream in JOB_STREAMS) == 1
        runner.gate.set()
        await eventually(lambda: all(recorder.done(s) for s in (1, 2, 3)), "all judged")
        assert runner.order == [3, 2, 1]
    finally:
        await queue.stop()
        client.close()


async def test_redis_every_level_s_group_is_recreated_after_a_flush(
    serving: tuple[Worker, OrderRunner],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    _worker, runner = serving
    runner.gate.set()
    queue, recorder = RedisQueue(private_redis.url, 2.0), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    client = private_redis.client()
    try:
        await queue.enqueue(job(1, PRACTICE))
        await eventually(lambda: recorder.done(1), "judged before")
        client.flushall()
        for submission, level in ((2, MATCH), (3, RUN), (4, ROOM), (5, PRACTICE)):
            await queue.enqueue(job(submission, level))  # the API's resend would do this
        await eventually(lambda: all(recorder.done(s) for s in range(2, 6)), "judged after")
        assert all(pending(client, stream) == 0 for stream in JOB_STREAMS)
    finally:
        await queue.stop()
        client.close()


async def test_redis_the_urgent_worker_takes_a_race_while_the_others_judge_practice(
    serving: tuple[Worker, OrderRunner],
    private_redis: RedisServer,  # noqa: F811
) -> None:
    """`codebattle worker --urgent` reads only the urgent levels' streams: with the other
    worker busy on a long practice job and another practice job waiting, it takes nothing;
    a match job (then a practice run) it takes at once, while practice still waits."""
    worker, runner = serving
    queue, recorder = RedisQueue(private_redis.url, 2.0), Recorder()
    await queue.start(recorder.on_event, recorder.on_lost)
    client = private_redis.client()
    lane = OrderRunner()
    lane.gate.set()
    urgent = Worker(private_redis.url, cast(JobRunner, lane), 2.0, levels=jobs.URGENT)
    try:
        await queue.enqueue(job(1, PRACTICE))
        await eventually(runner.started.is_set, "the other worker is busy with practice")
        await queue.enqueue(job(2, PRACTICE))
        assert await asyncio.to_thread(urgent.next_job) is None  # practice is not its
        await queue.enqueue(job(3, MATCH))
        await queue.enqueue(job(4, RUN))
        for _ in range(2):
            taken = await asyncio.to_thread(urgent.next_job)
            assert taken is not None
            await asyncio.to_thread(urgent.handle, *taken)
        await eventually(lambda: recorder.done(3) and recorder.done(4), "the urgent lane judged")
        assert (lane.order, runner.order) == ([3, 4], [1])  # 1 still judged, 2 still waits
        assert pending(client, JOB_STREAMS[PRACTICE]) == 1 and "-urgent-" in urgent.name
        assert "-urgent-" not in worker.name
        runner.gate.set()
        await eventually(lambda: recorder.done(2), "practice judged once its worker is free")
        assert runner.order == [1, 2]
    finally:
        await queue.stop()
        client.close()


def test_a_worker_of_no_known_level_is_refused() -> None:
    for levels in ((), (4,), (-1,)):
        with pytest.raises(ValueError, match="levels"):
            Worker("redis://127.0.0.1:1/0", cast(JobRunner, OrderRunner()), 2.0, levels=levels)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--levels", "9"], "a comma-separated list of 0, 1, 2, 3"),
        (["--levels", "0,x"], "a comma-separated list of 0, 1, 2, 3"),
        (["--urgent", "--levels", "0"], "not both"),
    ],
)
def test_codebattle_worker_refuses_unknown_levels(
    monkeypatch: pytest.MonkeyPatch, args: list[str], error: str
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # never reached
    result = CliRunner().invoke(app, ["worker", *args])
    assert result.exit_code == 2 and error in result.output
