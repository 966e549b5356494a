"""The job queue seam: judge jobs out, result events back.

- `LocalQueue` (embedded default): judge worker processes on this machine
  (judge/local_worker.py), fed over pipes.
- `InProcessQueue`: worker threads in the API process, for tests and tools that bring
  their own runner.
- `RedisQueue` (with REDIS_URL): jobs on Redis streams read by `codebattle worker`
  processes (judge/worker.py); events come back on another stream. Every stream uses
  consumer groups, so delivery is at-least-once: a job whose worker dies is claimed again by
  another worker once it has been idle for QUEUE_REDELIVERY_SECONDS, and an event is acked
  only after it was recorded. Recording is idempotent (submissions/service.py), so a
  redelivered job's results are recorded exactly once. Redis may restart, even without its
  data: groups are recreated where they are found missing, and a Redis that lost its data is
  noticed (an epoch key) so that the caller sends every unfinished job again (`on_lost`).

Every queue judges by priority (judge/jobs.py: a duel's submissions and runs, then practice
runs, then rooms, then practice), strictly, in order of arrival within a level: a race never
waits behind a backlog. In process: one priority queue; in Redis: one jobs stream per
language and level (judge/streams.py), a worker reading the most urgent non-empty one of its
languages first (`codebattle worker --languages`: per-language pools). A job is never
preempted, so a worker busy with a long practice submission finishes it first: the urgent
lane's workers (`urgent_workers` here, `codebattle worker --urgent` over Redis) take only the
urgent levels (jobs.URGENT), so one is free for a race whatever the backlog.

Every queue says which judge workers it has (`fleet()`, the operators' fleet page and the
"worker died" alert): the local processes or threads, with those that died lately, or the
`codebattle worker` processes that keep a heartbeat in Redis (WORKERS_KEY). And what waits,
per language (`backlog()`, the metrics' queue depth and oldest job age, the autoscaling
signal): a job for a language no live worker serves is queued all the same (at-least-once),
and shows there until a worker of its language comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import os
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from itertools import count
from typing import Any, Protocol

import redis.asyncio as aioredis
import structlog

from codebattle import logs, redis_clients
from codebattle.db import outage
from codebattle.integrations import sentry, tracing
from codebattle.judge import jobs
from codebattle.judge.jobs import Event, Job
from codebattle.judge.languages import LANGUAGES
from codebattle.judge.runner import GIVEN_BACK, BlobsUnavailable, Runner
from codebattle.judge.streams import (
    LEGACY_STREAMS,
    WORKERS_GROUP,
    StreamState,
    age_seconds,
    job_stream,
    language_streams,
    parse_groups,
)

log = structlog.get_logger(__name__)

# Called with the events available at once (in order), so they are recorded in one
# transaction; must be idempotent (events may come again).
EventHandler = Callable[[list[Event]], Awaitable[None]]
# Called when the queue may have lost jobs it held (a new in-process queue holds none of
# the last process's; Redis restarted without its data): the caller sends them again.
LostHandler = Callable[[], Awaitable[None]]
BATCH = 200
# Test events are gathered for up to this long and recorded (then published) together, so
# that a busy recorder writes a few transactions a second rather than one per test; a batch
# ends at once with an urgent event (`urgent`), so that what a player waits for most is not
# delayed.
COALESCE_SECONDS = 0.25
RESULTS_STREAM = "codebattle:results"
RECORDERS_GROUP = "recorders"
STREAM_MAXLEN = 100_000
STOP_SECONDS = 5.0  # how long stopping the Redis queue may wait for its tasks and client
MAX_DELIVERIES = 5  # a job that kills this many workers is failed as IE, not retried forever
EPOCH_KEY = "codebattle:epoch"  # set once into an empty Redis: its absence means data loss
EPOCH_SECONDS = 2.0  # how often the API looks at it
RESEND_KEY = "codebattle:epoch:resend"  # the lease of the instance sending the jobs again
TAKEOVER_SECONDS = 15.0  # a resend still pending this long after it was taken is taken over
# Each `codebattle worker` writes {languages, image, started_at, seen_at} under its name in this
# hash every WORKER_BEAT_SECONDS and removes it when it stops cleanly; one not seen for
# WORKER_DEAD_SECONDS died (killed, its host gone), and is forgotten after FORGET_SECONDS.
WORKERS_KEY = "codebattle:workers"
WORKER_BEAT_SECONDS = 5.0
WORKER_DEAD_SECONDS = 3 * WORKER_BEAT_SECONDS
FORGET_SECONDS = 24 * 3600.0
DEAD_KEPT = 50  # local workers that died, remembered (the newest) for the fleet page
# A job whose package the blob store could not give (runner.BlobsUnavailable) is queued
# again after this pause (in process: the Redis queue's is its redelivery delay).
GIVE_BACK_SECONDS = 10.0

# The epoch's value is "<id>:pending" until the lost jobs were sent again, then "<id>:done"
# (a value of an older version, without a suffix, is done). Returns [value, 1] to the
# instance that put a new epoch into an empty Redis, [value, 2] to one that takes over a
# pending resend whose lease expired, else [value, 0]. Atomic, as a script is.
_CHECK_EPOCH = """
local value = redis.call('GET', KEYS[1])
if not value then
  value = ARGV[1] .. ':pending'
  redis.call('SET', KEYS[1], value)
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return {value, 1}
end
if string.sub(value, -8) == ':pending' then
  -- Ours already (a renewal, or a retried call whose first reply was lost), or free.
  local holder = redis.call('GET', KEYS[2])
  if holder == ARGV[2] or not holder then
    redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
    return {value, 2}
  end
end
return {value, 0}
"""
# The resend of epoch ARGV[1] is done; a newer epoch (Redis lost its data again) is not.
_RESEND_DONE = """
if redis.call('GET', KEYS[1]) == ARGV[1] .. ':pending' then
  redis.call('SET', KEYS[1], ARGV[1] .. ':done')
  redis.call('DEL', KEYS[2])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One judge worker as the fleet page shows it. Times are Unix seconds. A worker that
    died unexpectedly is `alive` False with `died_at` (when it died, or was last seen)."""

    name: str  # an urgent lane's worker says so in its name ("...-urgent-...")
    languages: tuple[str, ...]
    started_at: float
    seen_at: float
    alive: bool
    died_at: float | None
    image: str = ""  # its pool's image (SANDBOX_DOCKER_IMAGE_*), "" if none or mixed


@dataclass(frozen=True, slots=True)
class Backlog:
    """One language's jobs in the queue. `depth`: queued, not yet taken by any worker (what
    more workers would take: the autoscaling signal); `taken`: taken and not yet finished
    (being judged, or held by a worker that died until another takes it over), counted
    apart because it is work in hand, not work waiting. `oldest_seconds`: the age of the
    oldest job not yet taken (0.0 when none waits): how long a player has waited for a
    worker."""

    depth: int
    taken: int
    oldest_seconds: float


class JobQueue(Protocol):
    async def start(self, on_event: EventHandler, on_lost: LostHandler) -> None: ...

    async def enqueue(self, job: Job) -> None: ...

    async def ping(self) -> None: ...

    async def fleet(self, now: float | None = None) -> list[WorkerInfo]: ...

    async def backlog(self, now: float | None = None) -> dict[str, Backlog]: ...

    async def stop(self) -> None: ...


def consumer_name(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


def languages_here() -> tuple[str, ...]:
    """The languages whose toolchain this host has (what a worker here can judge)."""
    return tuple(name for name, language in LANGUAGES.items() if language.available())


def pool_languages(names: tuple[str, ...]) -> tuple[str, ...]:
    """The languages a worker is asked to serve, checked: each known and with its toolchain
    on this host (a worker must never take a job it cannot judge). In registry order."""
    if not names:
        raise ValueError("no language to judge (none given, or no toolchain on this host)")
    for name in names:
        if name not in LANGUAGES:
            raise ValueError(f"unknown language {name!r} (known: {', '.join(LANGUAGES)})")
        if not LANGUAGES[name].available():
            raise ValueError(f"{name}: its toolchain is not on this host")
    return tuple(name for name in LANGUAGES if name in names)


def _add(found: dict[str, Backlog], language: str, more: Backlog) -> None:
    """Add one stream's (or job's) figures to its language's."""
    seen = found.get(language, Backlog(0, 0, 0.0))
    found[language] = Backlog(
        seen.depth + more.depth,
        seen.taken + more.taken,
        max(seen.oldest_seconds, more.oldest_seconds),
    )


# When Redis cannot tell a group's lag (None: entries deleted inside the stream, a group
# moved by XGROUP SETID), XRANGE counts the undelivered entries, up to this many: a lower
# bound past it, and at most 100 jobs' code (6.4 MB) read in that rare state.
UNKNOWN_LAG_CAP = 100


def _undelivered(state: StreamState, entries: int, length: int) -> int:
    """How many of a stream's entries its group has not delivered: its lag; without the
    group, every entry (it is created from id 0); when Redis cannot tell the lag, the
    `entries` XRANGE found after the last delivered id (at most UNKNOWN_LAG_CAP)."""
    if not entries:
        return 0
    if not state.grouped:
        return length
    return state.lag if state.lag is not None else entries


def every_job_stream() -> tuple[str, ...]:
    """The streams of every known language, level by level within each."""
    return tuple(stream for language in LANGUAGES for stream in language_streams(language))


def urgent(event: Event) -> bool:
    """An event that ends its batch at once: "started" (the player sees "compiling"),
    "compiled" (then "running", even if the first test is slow), a submission's first test
    (its first result) and "done" (the verdict)."""
    if event["type"] == "test":
        return event["index"] == 0
    return event["type"] in ("started", "compiled", "done")


async def _dispatch(events: asyncio.Queue[Event], on_event: EventHandler) -> None:
    """Hand events to `on_event` in order, gathered for up to COALESCE_SECONDS, or only
    those already there once one is urgent."""
    loop = asyncio.get_running_loop()
    while True:
        batch = [await events.get()]
        hurry = urgent(batch[0])
        deadline = loop.time() + COALESCE_SECONDS
        while len(batch) < BATCH:
            timeout = 0.0 if hurry else deadline - loop.time()
            try:
                if timeout <= 0:
                    batch.append(events.get_nowait())
                else:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a
                    # cancellation that comes as the event arrives, and `stop` hangs.
                    async with asyncio.timeout(timeout):
                        batch.append(await events.get())
            except (TimeoutError, asyncio.QueueEmpty):
                break
            hurry = hurry or urgent(batch[-1])
        try:
            await on_event(batch)
        except Exception as exc:
            _recording_failed(exc, len(batch))


def _recording_failed(exc: Exception, events: int) -> None:
    """An outage (the database away) is one warning per outage; anything else a traceback."""
    if outage.is_unavailable(exc):
        outage.report(exc, "recording judge events")
    else:
        log.error("recording judge events failed", events=events, exc_info=exc)


async def _until_done(on_lost: LostHandler) -> None:
    """Call `on_lost` until it succeeds, waiting 1 s doubling to 10 s in between."""
    wait = 1.0
    while True:
        await asyncio.sleep(wait)
        try:
            await on_lost()
            return
        except Exception as exc:
            outage.log_failure(exc, "resending the jobs a new process lost")
        wait = min(wait * 2, 10.0)


class _Workers:
    """Jobs wait in this process for `workers` tasks (`_work`) that take any level, and
    `urgent_workers` more that take only the urgent ones (jobs.URGENT), most urgent first
    (in order of arrival within a level); their events are recorded in order, gathered as
    `_dispatch` does."""

    def __init__(self, workers: int, urgent_workers: int = 0) -> None:
        self.workers = workers
        self.urgent_workers = urgent_workers
        # A heap of (priority, arrival, enqueued at, job): the arrival number keeps a level
        # in order (and is unique, so jobs themselves are never compared). A condition rather
        # than a PriorityQueue: an urgent worker waits for a job of its levels at the top.
        self._jobs: list[tuple[int, int, float, Job]] = []
        self._taken: dict[str, int] = {}  # jobs being judged, per language
        self._queued = asyncio.Condition()
        self._arrivals = count()
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._languages = languages_here()  # (a few PATH lookups)
        self._dead: deque[WorkerInfo] = deque(maxlen=DEAD_KEPT)  # newest last
        self._given_back: dict[int, int] = {}  # id(job): times the blob store was away
        self._pauses: set[asyncio.Task[None]] = set()  # given back jobs, waiting to requeue

    async def start(self, on_event: EventHandler, on_lost: LostHandler) -> None:
        # The workers' tasks first, in the order `lanes` gives (the fleet reads them so).
        self._tasks = [asyncio.create_task(self._work(most)) for most in self.lanes()]
        self._tasks.append(asyncio.create_task(_dispatch(self._events, on_event)))
        # A new process holds none of the jobs the last one held. If they cannot be made due
        # now (the database is down), the process starts all the same and tries again.
        try:
            await on_lost()
        except Exception as exc:
            outage.log_failure(exc, "resending the jobs a new process lost")
            self._tasks.append(asyncio.create_task(_until_done(on_lost)))

    def lanes(self) -> list[int]:
        """The least urgent level each worker takes: any, then the urgent lane's."""
        return [jobs.PRACTICE] * self.workers + [jobs.URGENT[-1]] * self.urgent_workers

    async def enqueue(self, job: Job) -> None:
        async with self._queued:
            entry = (jobs.priority(job), next(self._arrivals), time.time(), job)
            heapq.heappush(self._jobs, entry)
            self._queued.notify_all()

    async def _next(self, most: int = jobs.PRACTICE) -> Job:
        """The most urgent job waiting, if its level is `most` or more urgent (waits for
        one). It counts as taken until `_finished`."""
        async with self._queued:
            await self._queued.wait_for(lambda: bool(self._jobs) and self._jobs[0][0] <= most)
            *_order, job = heapq.heappop(self._jobs)
            language = job["language"]
            self._taken[language] = self._taken.get(language, 0) + 1
            return job

    def _finished(self, job: Job) -> None:
        language = job["language"]
        self._taken[language] = max(0, self._taken.get(language, 0) - 1)
        self._given_back.pop(id(job), None)

    def _give_back(self, job: Job) -> None:
        """A job the blob store could not give the package of (runner.BlobsUnavailable, no
        verdict): queued again (at the end of its level) after GIVE_BACK_SECONDS, counted as
        taken meanwhile; the MAX_DELIVERIES-th time, failed as IE."""
        times = self._given_back.get(id(job), 0) + 1
        if times >= MAX_DELIVERIES:
            log.error("the blob store stayed unavailable; the job failed",
                      submission=job["submission"], tries=times)  # fmt: skip
            self._events.put_nowait(
                jobs.failed(job, "judging failed repeatedly; it was not your fault")
            )
            self._finished(job)
            return
        log.warning("the blob store is unavailable; the job is queued again",
                    submission=job["submission"], tries=times, wait=GIVE_BACK_SECONDS)  # fmt: skip
        pause = asyncio.create_task(self._requeue_later(job, times))
        self._pauses.add(pause)
        pause.add_done_callback(self._pauses.discard)

    async def _requeue_later(self, job: Job, times: int) -> None:
        await asyncio.sleep(GIVE_BACK_SECONDS)
        self._finished(job)
        self._given_back[id(job)] = times  # kept across its return to the queue
        await self.enqueue(job)

    async def backlog(self, now: float | None = None) -> dict[str, Backlog]:
        """Per language (every known one, and any other a job names): the jobs waiting in
        this process's heap, those its workers are judging, the oldest waiting's age. A walk
        over the heap in memory: a few thousand entries at most."""
        now = time.time() if now is None else now
        found = {language: Backlog(0, 0, 0.0) for language in LANGUAGES}
        for _priority, _arrival, enqueued_at, job in self._jobs:
            _add(found, job["language"], Backlog(1, 0, max(0.0, now - enqueued_at)))
        for language, taken in self._taken.items():
            _add(found, language, Backlog(0, taken, 0.0))
        return found

    async def ping(self) -> None:
        if not self._tasks or all(task.done() for task in self._tasks):
            raise RuntimeError("the judge workers are not running")

    async def _work(self, most: int) -> None:
        raise NotImplementedError

    async def fleet(self, now: float | None = None) -> list[WorkerInfo]:
        """The workers running now, then those that died lately (oldest first)."""
        now = time.time() if now is None else now
        return [*self._running(self._languages, now), *self._dead]

    def _running(self, languages: tuple[str, ...], now: float) -> list[WorkerInfo]:
        raise NotImplementedError

    def _died(self, name: str, started_at: float, died_at: float) -> None:
        self._dead.append(WorkerInfo(name, self._languages, started_at, died_at, False, died_at))

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._pauses]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


class LocalQueue(_Workers):
    """Jobs are judged by `workers` (+ `urgent_workers`) processes of this machine
    (judge/local_worker.py), one job at a time each: the web app's event loop and the judges
    share no GIL, so a judge starts the next test the moment a program ends, and judging
    cannot stall the site.

    A worker gets an environment of only PATH and `store_env`, the settings that open the
    blob store (storage.store_environment): the store and the sandbox are all it needs;
    and the app's log format and Sentry settings (sentry.child_environment).
    A worker that dies is started again and its job judged again from the start (recording
    is idempotent); a job that has killed MAX_DELIVERIES workers is failed as IE. One whose
    package the blob store could not give is put back (`_give_back`)."""

    def __init__(self, store_env: Mapping[str, str], workers: int, urgent_workers: int = 0) -> None:
        super().__init__(workers, urgent_workers)
        self.store_env = dict(store_env)
        self._procs: set[asyncio.subprocess.Process] = set()
        self._born: dict[asyncio.subprocess.Process, float] = {}  # when each was started
        self._urgent: set[asyncio.subprocess.Process] = set()  # the urgent lane's (named so)

    async def _spawn(self, urgent: bool) -> asyncio.subprocess.Process:
        while True:
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "codebattle.judge.local_worker",
                    *tracing.worker_args(),  # the app's tracing (OTLP endpoint), if on
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **self.store_env,
                         # Its lines and errors like the app's (logs, Sentry).
                         "LOG_FORMAT": logs.current_format(), **sentry.child_environment()},
                    limit=1 << 24,  # a "done" event lists every test
                )  # fmt: skip
            except OSError:
                log.exception("a judge worker could not start; retrying")
                await asyncio.sleep(1)
                continue
            self._procs.add(proc)
            self._born[proc] = time.time()
            if urgent:
                self._urgent.add(proc)
            return proc

    async def _work(self, most: int) -> None:
        """One worker process, taking jobs of level `most` or more urgent: start it, feed it
        jobs, pass its events on; start it again if it dies."""
        urgent = most < jobs.PRACTICE
        proc: asyncio.subprocess.Process | None = await self._spawn(urgent)  # ready at once
        while True:
            job = await self._next(most)
            for delivery in range(1, MAX_DELIVERIES + 1):
                if proc is None:
                    proc = await self._spawn(urgent)
                outcome = await self._judge(proc, job)
                if outcome == GIVEN_BACK:
                    self._give_back(job)
                    break
                if outcome == "done":
                    self._finished(job)
                    break
                log.warning("a judge worker died; its job is judged again",
                            submission=job["submission"], delivery=delivery)  # fmt: skip
                self._gone(proc, time.time())
                await self._reap(proc)
                proc = None
            else:
                self._events.put_nowait(
                    jobs.failed(job, "judging failed repeatedly; it was not your fault")
                )
                self._finished(job)

    async def _judge(self, proc: asyncio.subprocess.Process, job: Job) -> str:
        """Send the job, pass its events on up to "done": "done", GIVEN_BACK (the worker
        could not get its package: it sent no event), or "died"."""
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(job).encode() + b"\n")
            await proc.stdin.drain()
            while line := await proc.stdout.readline():
                event = json.loads(line)
                if event["type"] == GIVEN_BACK:
                    return GIVEN_BACK
                self._events.put_nowait(event)
                if event["type"] == "done":
                    return "done"
        except (ConnectionError, ValueError):
            pass
        return "died"

    def _name(self, proc: asyncio.subprocess.Process) -> str:
        lane = "local-urgent" if proc in self._urgent else "local"
        return f"{lane}-{socket.gethostname()}-{proc.pid}"

    def _running(self, languages: tuple[str, ...], now: float) -> list[WorkerInfo]:
        running = []
        for proc in sorted(self._born, key=self._born.__getitem__):
            if proc.returncode is not None:  # died while waiting for a job: noticed now
                self._gone(proc, now)
            else:
                running.append(
                    WorkerInfo(self._name(proc), languages, self._born[proc], now, True, None)
                )
        return running

    def _gone(self, proc: asyncio.subprocess.Process, died_at: float) -> None:
        """A worker process died unexpectedly: remembered once (a restart is a new one)."""
        started_at = self._born.pop(proc, None)
        if started_at is not None:
            self._died(self._name(proc), started_at, died_at)
        self._urgent.discard(proc)

    async def _reap(self, proc: asyncio.subprocess.Process) -> None:
        self._procs.discard(proc)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()

    async def stop(self) -> None:
        await super().stop()
        for proc in list(self._procs):
            if proc.stdin is not None:
                proc.stdin.close()  # the worker exits at the end of its input
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                await self._reap(proc)
            self._procs.discard(proc)
        self._born.clear()  # stopped on purpose: no worker died
        self._urgent.clear()


class InProcessQueue(_Workers):
    """Jobs run on `workers` (+ `urgent_workers`) threads of this process."""

    def __init__(
        self, runner_factory: Callable[[], Runner], workers: int, urgent_workers: int = 0
    ) -> None:
        super().__init__(workers, urgent_workers)
        self.runner_factory = runner_factory
        self._runner: Runner | None = None
        self._started_at = time.time()
        self._noticed: set[int] = set()  # worker threads whose death was remembered

    async def start(self, on_event: EventHandler, on_lost: LostHandler) -> None:
        self._runner = await asyncio.to_thread(self.runner_factory)
        self._started_at = time.time()
        self._noticed.clear()
        await super().start(on_event, on_lost)

    def _running(self, languages: tuple[str, ...], now: float) -> list[WorkerInfo]:
        """One entry per worker thread (its task); one that failed is reported once."""
        running = []
        lanes = self.lanes()
        for index, task in enumerate(self._tasks[: len(lanes)]):
            lane = "thread" if lanes[index] == jobs.PRACTICE else "thread-urgent"
            name = f"{lane}-{socket.gethostname()}-{os.getpid()}-{index + 1}"
            if not task.done():
                running.append(WorkerInfo(name, languages, self._started_at, now, True, None))
            elif index not in self._noticed and not task.cancelled():
                self._noticed.add(index)
                self._died(name, self._started_at, now)
        return running

    async def _work(self, most: int) -> None:
        loop = asyncio.get_running_loop()
        assert self._runner is not None
        runner = self._runner
        while True:
            job = await self._next(most)

            def emit(event: Event) -> None:
                loop.call_soon_threadsafe(self._events.put_nowait, event)

            try:
                await asyncio.to_thread(runner.execute, job, emit)
            except BlobsUnavailable:
                self._give_back(job)  # it stays taken until it is queued again
            except BaseException:
                self._finished(job)
                raise
            else:
                self._finished(job)


async def ensure_group(client: aioredis.Redis, stream: str, group: str) -> None:
    """Create the group (and its stream) unless it exists. From id 0: what was added to a
    stream before its group existed (a worker's events after Redis lost its data) is read."""
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except aioredis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def is_nogroup(exc: BaseException) -> bool:
    """Redis lost a stream or its group (it restarted without its data, or was flushed):
    NOGROUP, or UNBLOCKED for a read that was waiting on the stream when it went."""
    return isinstance(exc, aioredis.ResponseError) and str(exc).startswith(("NOGROUP", "UNBLOCKED"))


class Outage:
    """Whether Redis is unreachable, so that an outage is logged when it starts and when it
    ends rather than on every retry. Thread-safe: a worker's heartbeat thread shares it."""

    def __init__(self, who: str) -> None:
        self.who = who
        self._since: float | None = None
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning("Redis unreachable; retrying until it is back", who=self.who, error=repr(exc))

    def ok(self) -> None:
        if self._since is None:  # the usual case: no lock taken
            return
        with self._lock:
            if self._since is None:
                return
            seconds = time.monotonic() - self._since
            self._since = None
        log.warning("Redis reachable again", who=self.who, down_seconds=round(seconds, 1))


def worker_beat(languages: tuple[str, ...], started_at: float, now: float, image: str = "") -> str:
    """A worker's heartbeat as stored under its name in WORKERS_KEY."""
    return json.dumps({"languages": list(languages), "image": image,
                       "started_at": started_at, "seen_at": now})  # fmt: skip


def parse_beat(name: str, raw: bytes | str, now: float) -> WorkerInfo | None:
    """A heartbeat read back (None if it cannot be read: removed as stale). One written by
    an older version has no image: ""."""
    try:
        data = json.loads(raw)
        seen_at = float(data["seen_at"])
        info = (tuple(str(x) for x in data["languages"]), float(data["started_at"]), seen_at)
        image = data.get("image") or ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    alive = now - seen_at <= WORKER_DEAD_SECONDS
    return WorkerInfo(name, info[0], info[1], seen_at, alive, None if alive else seen_at,
                      str(image))  # fmt: skip


def _any_urgent(messages: list[Any]) -> bool:
    return any(fields and urgent(json.loads(fields[b"event"])) for _id, fields in messages)


class RedisQueue:
    """The API side: enqueue jobs, record result events (acked after recording).

    Redis may restart, and without persistence it comes back empty: no streams, no groups,
    no pending jobs. A missing group (NOGROUP) is created again wherever it is seen.

    Data loss is noticed through an epoch key, which every instance reads at start and
    every EPOCH_SECONDS (a Lua script, so each step is atomic). When the key is gone, the
    instance that puts a new one there, "<id>:pending", also takes a lease (RESEND_KEY,
    expiring after TAKEOVER_SECONDS) and calls `on_lost` (the caller sends every unfinished
    job again from the database); once `on_lost` returned it sets "<id>:done". An `on_lost`
    that raises is not done: the epoch stays pending and the instance tries again at its
    next check. The loss is kept in Redis, not in one process: if that instance dies or
    keeps failing, its lease expires, and the next instance to see the epoch still pending
    takes the lease and calls its own `on_lost`. A resend may so run twice (one slower than
    TAKEOVER_SECONDS, or a takeover of a live but failing one): sending a job again is
    harmless. Instances that see a new epoch recreate the groups. A worker may have
    recreated the streams meanwhile: the epoch is noticed all the same. It fires at the
    first start on an empty Redis too, where it resends what is unfinished (nothing on a
    new install)."""

    def __init__(self, url: str, redelivery_seconds: float) -> None:
        self.client = redis_clients.connect(url)
        self.redelivery_ms = int(redelivery_seconds * 1000)
        self.consumer = consumer_name("api")
        self.outage = Outage(self.consumer)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._on_lost: LostHandler | None = None
        self._epoch: bytes | None = None  # the epoch id this instance last saw
        self._resending: bytes | None = None  # the epoch whose resend this instance owes
        self._done_owed: bytes | None = None  # resent, but not yet marked done in Redis
        # Who holds the resend's lease: unique per queue (two may share a process and its
        # consumer name, as in tests), the same for every call of this one.
        self._holder = f"{self.consumer}-{secrets.token_hex(4)}"
        self._check_script = self.client.register_script(_CHECK_EPOCH)
        self._done_script = self.client.register_script(_RESEND_DONE)

    async def start(self, on_event: EventHandler, on_lost: LostHandler) -> None:
        self._on_lost = on_lost
        try:
            await self._ensure_groups()
            await self.check_epoch()
        except aioredis.RedisError as exc:  # Redis is down: the watcher tries again
            self.outage.failed(exc)
        self._tasks = [
            asyncio.create_task(self._consume(on_event), name="judge results consumer"),
            asyncio.create_task(self._watch(), name="Redis epoch watcher"),
        ]

    async def enqueue(self, job: Job) -> None:
        await self.client.xadd(
            job_stream(job), {"job": json.dumps(job)}, maxlen=STREAM_MAXLEN, approximate=True
        )

    async def ping(self) -> None:
        await self.client.ping()

    async def fleet(self, now: float | None = None) -> list[WorkerInfo]:
        """The `codebattle worker` processes by their heartbeats (WORKERS_KEY): alive if
        seen within WORKER_DEAD_SECONDS, else dead since last seen; entries older than
        FORGET_SECONDS are removed. Oldest started first."""
        now = time.time() if now is None else now
        entries = await self.client.hgetall(WORKERS_KEY)
        workers, stale = [], []
        for raw_name, raw in entries.items():
            name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
            info = parse_beat(name, raw, now)
            if info is None or now - info.seen_at > FORGET_SECONDS:
                stale.append(raw_name)
            else:
                workers.append(info)
        if stale:
            await self.client.hdel(WORKERS_KEY, *stale)
        return sorted(workers, key=lambda w: (w.started_at, w.name))

    async def _ensure_groups(self) -> None:
        for stream in (*every_job_stream(), *LEGACY_STREAMS):
            await ensure_group(self.client, stream, WORKERS_GROUP)
        await ensure_group(self.client, RESULTS_STREAM, RECORDERS_GROUP)

    async def backlog(self, now: float | None = None) -> dict[str, Backlog]:
        """Per known language, over its streams (every level): entries the workers' group
        has not delivered (its lag; a stream without the group: every entry), entries
        delivered and not acked (pending), and the age of the oldest undelivered one (the
        time part of its id). Two pipelined round trips: XINFO GROUPS of every stream, then
        XRANGE COUNT 1 and XLEN (O(1)) where something waits; no scan (where Redis cannot
        tell the lag, XRANGE reads up to UNKNOWN_LAG_CAP entries to count). Jobs still in an
        older version's streams are not counted: a worker moves them to their own stream
        within a second (judge/worker.py)."""
        now = time.time() if now is None else now
        streams = [(lang, stream) for lang in LANGUAGES for stream in language_streams(lang)]
        pipe = self.client.pipeline(transaction=False)
        for _language, stream in streams:
            pipe.xinfo_groups(stream)
        replies = await pipe.execute(raise_on_error=False)
        states = dict(zip(streams, map(parse_groups, replies), strict=True))
        looked = [key for key, state in states.items() if state.maybe_new]
        pipe = self.client.pipeline(transaction=False)
        for key in looked:
            state = states[key]
            unknown = state.grouped and state.lag is None
            pipe.xrange(
                key[1], min=state.after_delivered(), count=UNKNOWN_LAG_CAP if unknown else 1
            )
            pipe.xlen(key[1])
        replies = await pipe.execute() if looked else []
        firsts = {key: (replies[2 * i], int(replies[2 * i + 1])) for i, key in enumerate(looked)}
        found = {language: Backlog(0, 0, 0.0) for language in LANGUAGES}
        for key, state in states.items():
            first, length = firsts.get(key, ([], 0))
            depth = _undelivered(state, len(first), length)
            oldest = age_seconds(first[0][0], now) if first else 0.0
            _add(found, key[0], Backlog(depth, state.pending, oldest))
        return found

    async def check_epoch(self) -> bool:
        """Notice a Redis that lost its data, and send the jobs again if this instance is
        the one to (see the class); whether this instance put the new epoch there."""
        fresh = secrets.token_hex(8)
        lease_ms = int(TAKEOVER_SECONDS * 1000)
        reply: Any = await self._check_script(
            keys=[EPOCH_KEY, RESEND_KEY], args=[fresh, self._holder, lease_ms]
        )
        value, role = bytes(reply[0]), int(reply[1])
        epoch = value.split(b":", 1)[0]
        if role == 1:
            log.warning(
                "Redis lost its data (or is new): streams and groups recreated, "
                "unfinished jobs are sent again"
            )
        elif role == 2 and self._resending != epoch:  # not its own resend, still failing
            log.warning("the resend of lost jobs was left unfinished (its instance died or "
                        "failed); this instance sends them again")  # fmt: skip
        if role:
            self._resending = epoch
        if epoch != self._epoch:
            if self._epoch is not None and not role:
                log.warning("Redis lost its data; another API instance sends the jobs again")
            self._epoch = epoch
            await self._ensure_groups()
        if self._resending == epoch and not value.endswith(b":pending"):
            self._resending = self._done_owed = None  # another instance finished it
        if self._resending is not None:
            await self._resend(self._resending)
        return role == 1

    async def _resend(self, epoch: bytes) -> None:
        """Call on_lost for this epoch; mark its resend done in Redis once it returned (if
        marking fails, only the marking is tried again)."""
        assert self._on_lost is not None, "started"
        if self._done_owed == epoch:
            await self._done_script(keys=[EPOCH_KEY, RESEND_KEY], args=[epoch])
            self._done_owed = self._resending = None
            return
        try:
            await self._on_lost()
        except Exception as exc:  # the database may be down too: the next check tries again
            if outage.is_unavailable(exc):
                outage.report(exc, "sending lost jobs again")
            else:
                log.error("sending the unfinished jobs again failed; retrying", exc_info=exc)
            return
        self._done_owed = epoch
        await self._done_script(keys=[EPOCH_KEY, RESEND_KEY], args=[epoch])
        self._done_owed = self._resending = None

    async def _watch(self) -> None:
        while not self._stopping:
            await asyncio.sleep(EPOCH_SECONDS)
            try:
                await self.check_epoch()
            except aioredis.RedisError as exc:
                self._failed(exc)
            except Exception:  # the watcher must outlive any failure: it is the only one
                log.exception("checking Redis for lost data failed; retrying")
            else:
                self.outage.ok()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, (aioredis.ConnectionError, aioredis.TimeoutError)):
            self.outage.failed(exc)
        else:
            log.error("a Redis command failed; retrying", exc_info=exc)

    async def _consume(self, on_event: EventHandler) -> None:
        # Until stopped: a cancellation is not enough (redis-py can swallow one that lands
        # inside a command; seen in the recovery tests), so the loop also checks the flag.
        while not self._stopping:
            try:
                await self._consume_once(on_event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_nogroup(exc):
                    log.warning("the judge results group is gone (Redis lost its data?); "
                                "recreating it")  # fmt: skip
                    try:
                        await self._ensure_groups()
                        continue
                    except aioredis.RedisError as again:
                        exc = again
                if isinstance(exc, aioredis.RedisError):
                    self._failed(exc)
                else:
                    log.exception("reading judge results from Redis failed; retrying")
                await asyncio.sleep(1)
            else:
                self.outage.ok()

    async def _consume_once(self, on_event: EventHandler) -> None:
        # Events another API instance read but never acked (it died) are taken over.
        claimed: Any = await self.client.xautoclaim(
            RESULTS_STREAM, RECORDERS_GROUP, self.consumer, self.redelivery_ms, "0-0", count=BATCH
        )
        messages = list(claimed[1]) if claimed else []
        if not messages:
            messages = await self._read(1000)
            deadline = time.monotonic() + COALESCE_SECONDS
            hurry = _any_urgent(messages)  # what came is recorded at once
            while messages and len(messages) < BATCH and not hurry:
                wait_ms = int((deadline - time.monotonic()) * 1000)
                if wait_ms <= 0:
                    break
                more = await self._read(wait_ms)
                if not more:
                    break
                messages += more
                hurry = _any_urgent(more)
        events = [json.loads(fields[b"event"]) for _id, fields in messages if fields]
        if events:
            try:
                await on_event(events)
            except Exception as exc:  # not acked: read again after the redelivery delay
                _recording_failed(exc, len(events))
                return
        if messages:
            # Redis may have lost these meanwhile: XACK of what it does not hold is a no-op.
            await self.client.xack(RESULTS_STREAM, RECORDERS_GROUP, *[m[0] for m in messages])

    async def _read(self, block_ms: int) -> list[Any]:
        reply: Any = await self.client.xreadgroup(
            RECORDERS_GROUP, self.consumer, {RESULTS_STREAM: ">"}, count=BATCH, block=block_ms
        )
        return [m for _stream, batch in reply or [] for m in batch]

    async def stop(self) -> None:
        # Bounded: a task stuck in a call to a Redis that went away, or a close that hangs,
        # must not hold the process's shutdown (or a test's teardown) for good.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _done, stuck = await asyncio.wait(self._tasks, timeout=STOP_SECONDS)
            if stuck:
                log.warning("judge queue tasks did not stop in time",
                            tasks=sorted(task.get_name() for task in stuck))  # fmt: skip
        self._tasks = []
        try:
            await asyncio.wait_for(self.client.aclose(), STOP_SECONDS)
        except (TimeoutError, aioredis.RedisError, OSError) as exc:
            log.warning("closing the Redis client failed", error=repr(exc))
