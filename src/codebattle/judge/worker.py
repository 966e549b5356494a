"""`codebattle worker`: judges jobs from Redis, sends events back. Needs REDIS_URL and the
blob storage, never the database.

Delivery is at-least-once. While judging, the worker re-claims its job every third of the
redelivery delay, so the job's idle time stays low; if the worker dies, the job goes idle and
the next worker that looks (XAUTOCLAIM) takes it over and judges it from the start.

Jobs come on one stream per language and priority level (judge/streams.py): the worker
reads only its languages' (`codebattle worker --languages python`: a pool per language, each
host or image carrying one toolchain; by default every language this host has), and takes
one job at a time from the most urgent level that has one (a dead worker's job of a level
before a new one of it; across its languages, the oldest first), and so never holds a job it
is not judging (see `next_job`). A job for a language no live worker serves waits in its
stream until one comes (the queue's `backlog()` shows it). A worker given `levels`
(`codebattle worker --urgent`: jobs.URGENT) reads only those levels' streams: the urgent
lane, free for a race whatever the practice backlog (a job is never preempted, so a worker
that takes every level may be busy with a long practice submission).

Jobs an older version queued, on its one stream per level (streams.LEGACY_STREAMS), are
moved by any worker to their own language's stream (`reroute`), in one transaction with
their ack: a job is never taken by a worker that cannot judge it, nor lost.

Redis may go away or come back without its data: the worker waits (logging the outage once),
creates the jobs group again when it is missing, and never dies of it. A job whose events
could not be sent is not acked, so it is judged again (see `handle`); so is one whose
package the blob store could not give (runner.BlobsUnavailable: a bucket briefly down or
throttling), after MAX_DELIVERIES deliveries an IE.

While it serves, a thread writes the worker's heartbeat (its languages, its pool's image,
when it started, when it was last seen) to Redis every WORKER_BEAT_SECONDS for the fleet
page, and a clean stop removes it: one that stops beating died (judge/queue.py
`RedisQueue.fleet`).
"""

from __future__ import annotations

import json
import secrets
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import redis
import structlog

from codebattle import logs, redis_clients
from codebattle.judge import jobs
from codebattle.judge.queue import (
    MAX_DELIVERIES,
    RESULTS_STREAM,
    STREAM_MAXLEN,
    WORKER_BEAT_SECONDS,
    WORKERS_KEY,
    Outage,
    consumer_name,
    is_nogroup,
    languages_here,
    pool_languages,
    worker_beat,
)
from codebattle.judge.runner import BlobsUnavailable, JobRunner
from codebattle.judge.streams import (
    LEGACY_STREAMS,
    WORKERS_GROUP,
    StreamState,
    job_stream,
    parse_groups,
    stream_of,
)

log = structlog.get_logger(__name__)
SEND_PATIENCE_SECONDS = 10.0  # an event waits this long for Redis to come back
WAIT_MS = 1000  # an idle worker looks for dead workers' jobs this often
REROUTE_BATCH = 100  # an older version's jobs moved to their own streams at a time
# A job as read: its stream, its message id, its fields.
Message = tuple[str, bytes, dict[bytes, bytes]]


class Worker:
    def __init__(
        self,
        url: str,
        runner: JobRunner,
        redelivery_seconds: float,
        levels: tuple[int, ...] = jobs.LEVELS,
        languages: tuple[str, ...] | None = None,
        image: str = "",
    ) -> None:
        """`languages`: those it judges (default: every one this host has a toolchain for);
        a ValueError names one that is unknown or not on this host. `image`: its pool's
        image, shown on the fleet page."""
        # A connection closed by a restart is opened again (redis_clients).
        self.client = redis_clients.connect_sync(url)
        self.runner = runner
        self.redelivery_ms = int(redelivery_seconds * 1000)
        self.consumer = consumer_name("worker")
        self.stopping = threading.Event()
        self.outage = Outage(self.consumer)
        self._unsent = False  # an event of the current job could not be sent
        if not levels or not set(levels) <= set(jobs.LEVELS):
            raise ValueError(f"levels must be some of {jobs.LEVELS}, not {levels}")
        self.languages = pool_languages(languages_here() if languages is None else languages)
        self.image = image
        # The streams it reads: per level, most urgent first, one per language.
        self.by_level = tuple(
            tuple(stream_of(language, level) for language in self.languages)
            for level in sorted(set(levels))
        )
        self.streams = tuple(stream for streams in self.by_level for stream in streams)
        # What it looks at and waits on: its streams, and an older version's to drain.
        self.watched = (*self.streams, *LEGACY_STREAMS)
        # The fleet's name: a restarted worker (the same host and pid, in a container) is a
        # new entry, so the one that died stays visible as dead. A worker of some levels
        # only says so: "-urgent" for the urgent lane, else "-levels-2-3".
        lane = "" if set(levels) == set(jobs.LEVELS) else "-" + _lane(levels)
        self.name = f"{self.consumer}{lane}-{secrets.token_hex(3)}"
        self.started_at = time.time()

    def ensure_group(self) -> None:
        """Create the jobs group on each stream it reads where it is missing."""
        for stream in self.watched:
            try:
                self.client.xgroup_create(stream, WORKERS_GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def run(self) -> None:
        """`codebattle worker`: serve until SIGTERM or SIGINT."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.serve()

    def serve(self) -> None:
        """Take jobs until `stopping` is set (any thread may run this)."""
        log.info("worker ready", consumer=self.consumer)
        beats = threading.Thread(target=self._beating, name="worker heartbeat", daemon=True)
        beats.start()
        try:
            self._step(self.ensure_group)
            while not self.stopping.is_set():
                self._step(self._take_one)
        finally:
            self.stopping.set()
            beats.join()

    def beat(self, now: float | None = None) -> None:
        """Write this worker's heartbeat (judge/queue.py WORKERS_KEY)."""
        now = time.time() if now is None else now
        beat = worker_beat(self.languages, self.started_at, now, self.image)
        self.client.hset(WORKERS_KEY, self.name, beat)

    def _beating(self) -> None:
        """Beat every WORKER_BEAT_SECONDS until stopping, then remove the heartbeat (a clean
        stop is no death). Redis being away is the serving loop's to log."""
        while True:
            try:
                self.beat()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self.outage.failed(exc)
            except redis.RedisError as exc:
                log.warning("the worker's heartbeat failed", error=repr(exc))
            if self.stopping.wait(WORKER_BEAT_SECONDS):
                break
        try:
            self.client.hdel(WORKERS_KEY, self.name)
        except redis.RedisError as exc:  # it shows as dead after a while: say why here
            log.warning("the worker's heartbeat could not be removed", error=repr(exc))

    def _take_one(self) -> None:
        message = self.next_job()
        if message is not None:
            self.handle(*message)

    def _step(self, action: Callable[[], None]) -> None:
        """Run `action`, surviving whatever Redis does: a lost group is created again, an
        outage is waited out (logged once)."""
        try:
            action()
        except redis.ResponseError as exc:
            if not is_nogroup(exc):
                log.exception("a Redis command failed; retrying")
                self.stopping.wait(1)
                return
            log.warning("the jobs group is gone (Redis lost its data?); recreating it")
            self._step(self.ensure_group)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.outage.failed(exc)
            self.stopping.wait(1)
        except redis.RedisError:
            log.exception("a Redis command failed; retrying")
            self.stopping.wait(1)
        else:
            self.outage.ok()

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def next_job(self) -> Message | None:
        """The most urgent job of its languages, taken by this worker; else None after
        waiting up to WAIT_MS for a new one.

        First a look at every stream it reads (XINFO GROUPS, pipelined: one round trip), and
        the older version's jobs found there moved to their own streams (`reroute`). Then
        level by level, most urgent first: a job a dead worker left (XAUTOCLAIM), then a new
        one (a non-blocking XREADGROUP of one stream: one job), from the language whose
        first waiting job is the oldest. The wait is a plain XREAD from each stream's last
        id, which takes nothing: a blocking XREADGROUP over several streams may hand one
        consumer a job of each at once (Redis 7 runs a woken command again over every
        stream), and those would wait, pending, behind the one judged."""
        since = self._last_ids()  # before looking: a job added after it ends the wait
        states = self._look()
        if self.reroute(states):
            states = self._look()
        for streams in self.by_level:
            for stream in streams:
                found = self._take_over(stream) if states[stream].pending else None
                if found is not None:
                    return (stream, *found)
            for stream in self._oldest_first([s for s in streams if states[s].maybe_new], states):
                found = self._take_new(stream)
                if found is not None:
                    return (stream, *found)
        self.client.xread(dict(zip(self.watched, since, strict=True)), count=1, block=WAIT_MS)
        return None

    def _last_ids(self) -> list[bytes | str]:
        pipe = self.client.pipeline(transaction=False)
        for stream in self.watched:
            pipe.xrevrange(stream, count=1)
        return [last[0][0] if last else "0-0" for last in pipe.execute()]

    def _look(self) -> dict[str, StreamState]:
        """What each stream it reads holds for the workers' group (judge/streams.py)."""
        pipe = self.client.pipeline(transaction=False)
        for stream in self.watched:
            pipe.xinfo_groups(stream)
        replies = pipe.execute(raise_on_error=False)
        return {
            stream: parse_groups(reply) for stream, reply in zip(self.watched, replies, strict=True)
        }

    def _oldest_first(self, streams: list[str], states: dict[str, StreamState]) -> list[str]:
        """One level's streams that may hold a new job, the one whose first waiting job is
        the oldest first (arrival order within a level, across languages)."""
        if len(streams) < 2:
            return streams
        pipe = self.client.pipeline(transaction=False)
        for stream in streams:
            pipe.xrange(stream, min=states[stream].after_delivered(), count=1)
        firsts = {s: f[0][0] for s, f in zip(streams, pipe.execute(), strict=True) if f}
        return sorted(firsts, key=lambda stream: _id_order(firsts[stream]))

    def reroute(self, states: dict[str, StreamState]) -> bool:
        """Move the jobs an older version queued (streams.LEGACY_STREAMS) to the streams of
        their languages and levels, each batch in one transaction with its ack: they are
        never judged here unless this worker serves their language, and never lost (a worker
        that dies before the transaction leaves them pending, taken over and moved by
        another after the redelivery delay). Whether any moved."""
        moved = False
        for stream in LEGACY_STREAMS:
            state = states[stream]
            messages: list[tuple[bytes, dict[bytes, bytes]]] = []
            if state.pending:
                claimed: Any = self.client.xautoclaim(stream, WORKERS_GROUP, self.consumer,
                                                      self.redelivery_ms, "0-0",
                                                      count=REROUTE_BATCH)  # fmt: skip
                messages += [m for m in claimed[1] if m[1]] if claimed else []
            if state.maybe_new:
                reply: Any = self.client.xreadgroup(
                    WORKERS_GROUP, self.consumer, {stream: ">"}, count=REROUTE_BATCH
                )
                messages += [m for _stream, batch in reply or [] for m in batch if m[1]]
            if messages:
                self._move(stream, messages)
                moved = True
        return moved

    def _move(self, stream: str, messages: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        pipe = self.client.pipeline(transaction=True)
        for message_id, fields in messages:
            try:
                target = job_stream(json.loads(fields[b"job"]))
            except (KeyError, ValueError, TypeError):  # no worker could judge it: dropped
                log.error("an unreadable job was dropped", stream=stream, message=message_id)
                continue
            pipe.xadd(target, fields, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
        pipe.xack(stream, WORKERS_GROUP, *[message_id for message_id, _fields in messages])
        pipe.execute()
        log.info("jobs of an older version moved to their language's streams",
                 stream=stream, jobs=len(messages))  # fmt: skip

    def _take_over(self, stream: str) -> tuple[bytes, dict[bytes, bytes]] | None:
        claimed: Any = self.client.xautoclaim(
            stream, WORKERS_GROUP, self.consumer, self.redelivery_ms, "0-0", count=1
        )
        messages = [m for m in claimed[1] if m[1]] if claimed else []
        if not messages:
            return None
        log.info("job taken over from a dead worker", message=messages[0][0], stream=stream)
        return (messages[0][0], messages[0][1])

    def _take_new(self, stream: str) -> tuple[bytes, dict[bytes, bytes]] | None:
        reply: Any = self.client.xreadgroup(WORKERS_GROUP, self.consumer, {stream: ">"}, count=1)
        for _stream, batch in reply or []:
            for message in batch:
                return (message[0], message[1])
        return None

    def deliveries(self, stream: str, message_id: bytes) -> int:
        pending: Any = self.client.xpending_range(
            stream, WORKERS_GROUP, min=message_id, max=message_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    def handle(self, stream: str, message_id: bytes, fields: dict[bytes, bytes]) -> None:
        """Judge one job and ack it, unless some of its events could not be sent or the blob
        store could not give its package (runner.BlobsUnavailable): then it stays pending,
        and Redis gives it again (to this worker or another) after the redelivery delay; if
        Redis lost it, the API sends it again (judge/queue.py)."""
        with logs.bound(job_id=message_id.decode()):  # on every line while it is judged
            self._handle(stream, message_id, fields)

    def _handle(self, stream: str, message_id: bytes, fields: dict[bytes, bytes]) -> None:
        job: jobs.Job = json.loads(fields[b"job"])
        self._unsent = False
        delivery = self.deliveries(stream, message_id)
        if delivery > MAX_DELIVERIES:
            self.send(jobs.failed(job, "judging failed repeatedly; it was not your fault"))
        else:
            beating = threading.Event()
            heart = threading.Thread(target=self._heartbeat, args=(stream, message_id, beating))
            heart.start()
            try:
                self.runner.execute(job, self.send)
            except BlobsUnavailable as exc:  # not a verdict: unacked, it comes again
                log.warning("the blob store is unavailable; the job is left to be judged again",
                            submission=job["submission"], delivery=delivery,
                            max_deliveries=MAX_DELIVERIES, error=str(exc))  # fmt: skip
                return
            finally:
                beating.set()
                heart.join()
        if self._unsent:
            log.warning("a job's events could not all be sent; it is left to be judged again",
                        submission=job["submission"])  # fmt: skip
            return
        # Redis may have lost the job meanwhile: XACK of what it does not hold is a no-op.
        self.client.xack(stream, WORKERS_GROUP, message_id)

    def _heartbeat(self, stream: str, message_id: bytes, done: threading.Event) -> None:
        while not done.wait(self.redelivery_ms / 3000):
            self.reclaim(stream, message_id)

    def reclaim(self, stream: str, message_id: bytes) -> None:
        """One beat of a judged job's heartbeat: claim it again, which sets its idle time
        to 0, so no other worker takes it over."""
        try:
            self.client.xclaim(stream, WORKERS_GROUP, self.consumer, 0, [message_id], justid=True)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.outage.failed(exc)
        except redis.RedisError as exc:  # the job is gone with Redis's data: judge on
            log.warning("heartbeat failed", error=repr(exc))

    def send(self, event: jobs.Event) -> None:
        """Send one event, trying for up to SEND_PATIENCE_SECONDS while Redis is away (it
        restarts in about a second). Never raises: the runner would turn that into an IE
        result. After one event is lost, the job's later events are not sent either (the
        job is judged again in full)."""
        if self._unsent:
            return
        deadline = time.monotonic() + SEND_PATIENCE_SECONDS
        while True:
            try:
                self.client.xadd(RESULTS_STREAM, {"event": json.dumps(event)},
                                 maxlen=STREAM_MAXLEN, approximate=True)  # fmt: skip
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self.outage.failed(exc)
                if time.monotonic() < deadline and not self.stopping.wait(0.5):
                    continue  # stopping (SIGTERM) ends the wait at once
            except redis.RedisError:
                log.exception("an event could not be sent")
            else:
                self.outage.ok()
                return
            self._unsent = True
            return


def _id_order(message_id: bytes) -> tuple[int, int]:
    milliseconds, sequence = message_id.split(b"-", 1)
    return (int(milliseconds), int(sequence))


def _lane(levels: tuple[int, ...]) -> str:
    """How a worker of some levels only is named: "urgent" for jobs.URGENT."""
    chosen = tuple(sorted(set(levels)))
    return "urgent" if chosen == jobs.URGENT else "levels-" + "-".join(map(str, chosen))
