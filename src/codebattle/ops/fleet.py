"""The fleet page's figures: judge workers, the judging queue, latency and IE rate, each API
instance's heartbeat, and the alert webhooks' health.

Each API instance writes a heartbeat row (InstanceBeat) every BEAT_SECONDS: its host and
pid, the sockets it holds open and the live games those serve (matches and rooms with a
socket open on this instance: a game watched from two instances counts on both), and its
queue's workers (with the embedded queue each instance has its own: the page lists the
serving instance's and shows each instance's count from its heartbeat). With Redis, workers
run in pools per language (`codebattle worker --languages`, each with its image): a language
with jobs in the queue and no live worker serving it is said at the top of the page. The alert watch
is shown by its lease: who holds it and when it last ran. A preview has none of these (no
worker, heartbeat or watch): the page says so. The judging figures come from
the database, which is the truth: what is unfinished is what the judge outbox still holds
(submissions/outbox.py), and latency is a submission's creation to its verdict.
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.config import Settings
from codebattle.db import outage
from codebattle.judge.queue import (
    Backlog,
    InProcessQueue,
    JobQueue,
    LocalQueue,
    RedisQueue,
    WorkerInfo,
)
from codebattle.judge.verdicts import Verdict
from codebattle.ops import alerts, lease
from codebattle.ops.models import ClusterLease, InstanceBeat
from codebattle.realtime import stream
from codebattle.services import Services
from codebattle.submissions.models import DONE, IN_PROGRESS, OutboxEntry, Submission

log = structlog.get_logger(__name__)
BEAT_SECONDS = 10.0  # each instance's heartbeat
GONE_SECONDS = 30.0  # an instance not seen for this long is gone (here and on the home page)
FORGET = timedelta(days=1)  # heartbeats older than this are deleted
WINDOW = timedelta(hours=1)  # latency and IE rate are over the last hour
GAME_PATHS = ("/ws/matches/", "/ws/rooms/")  # the sockets that serve a live game


@dataclass(frozen=True, slots=True)
class Worker:
    """A judge worker as the page shows it."""

    name: str
    languages: tuple[str, ...]
    alive: bool
    seen_at: datetime
    up_seconds: float  # how long it has been running (alive) or ran (dead)
    died_at: datetime | None
    image: str = ""  # its pool's image (SANDBOX_DOCKER_IMAGE_*), "" if none or mixed


@dataclass(frozen=True, slots=True)
class Depth:
    """Unfinished submissions of one language: waiting for a worker, being judged."""

    language: str
    waiting: int
    judging: int
    oldest_at: datetime | None

    @property
    def total(self) -> int:
        return self.waiting + self.judging


@dataclass(frozen=True, slots=True)
class Judging:
    """The last hour's verdicts: how many, latency percentiles (seconds), IE share."""

    judged: int
    p50: float | None
    p95: float | None
    internal_errors: int

    @property
    def ie_rate(self) -> float | None:
        return self.internal_errors / self.judged if self.judged else None


@dataclass(frozen=True, slots=True)
class Instance:
    instance: str
    host: str
    pid: int
    started_at: datetime
    seen_at: datetime
    live_games: int
    sockets: int
    queue: str
    gone: bool
    workers_alive: int | None  # its embedded queue's live workers (None: Redis, shared)


def is_alive(seen_at: datetime, now: datetime) -> bool:
    """Seen within GONE_SECONDS of `now`: what an alive instance is on every ops page."""
    return (now - seen_at).total_seconds() <= GONE_SECONDS


@dataclass(frozen=True, slots=True)
class Watch:
    """The alert watch as its lease says: who holds it, until when, when it last ran.
    Nobody is watching once the lease has run out (or was never taken)."""

    holder: str | None
    until: datetime | None
    last_run_at: datetime | None
    watching: bool


@dataclass(frozen=True, slots=True)
class Fleet:
    now: datetime
    workers: list[Worker]
    workers_error: str | None  # the queue could not say (Redis unreachable, ...)
    depth: list[Depth]
    judging: Judging
    instances: list[Instance]
    webhooks: list[dict[str, Any]]  # ops/alerts.py channel_health
    watch: Watch
    queue_kind: str  # "redis" (one shared fleet) or an embedded queue (one per instance)
    here: str | None = None  # the serving instance's name (Services.instance)
    # The queue's jobs per language (JobQueue.backlog); empty if it could not be read.
    backlog: dict[str, Backlog] = field(default_factory=dict)
    # A preview (decision 0030) judges with the mock sandbox in process, keeps no
    # heartbeat and raises no alert: the page says so instead of warning about it.
    preview: bool = False

    @property
    def unserved(self) -> list[tuple[str, Backlog]]:
        """Languages with jobs in the shared (Redis) queue and no live worker that judges
        them: those jobs wait until a worker of their pool starts. (An embedded queue's
        workers judge every language of their host.)"""
        if self.queue_kind != "redis":
            return []
        served = {language for w in self.workers if w.alive for language in w.languages}
        return [(language, b) for language, b in sorted(self.backlog.items())
                if b.depth + b.taken and language not in served]  # fmt: skip

    @property
    def alive_workers(self) -> int:
        """Live workers in `workers`: the whole fleet with Redis, else this instance's."""
        return sum(w.alive for w in self.workers)

    @property
    def alive_workers_elsewhere(self) -> int:
        """Live workers the other live instances' heartbeats report (embedded queues)."""
        return sum(i.workers_alive or 0 for i in self.instances
                   if i.instance != self.here and not i.gone)  # fmt: skip

    @property
    def any_worker_alive(self) -> bool:
        return bool(self.alive_workers or self.alive_workers_elsewhere)

    @property
    def watcher(self) -> Instance | None:
        """The heartbeat of the instance holding the watch lease, if it is watching."""
        if not self.watch.watching:
            return None
        return next((i for i in self.instances if i.instance == self.watch.holder), None)

    @property
    def failing_webhooks(self) -> list[dict[str, Any]]:
        return [w for w in self.webhooks if w.get("failing")]

    def to_json(self) -> dict[str, Any]:
        """The same figures for `/api/ops/fleet` (times as ISO 8601, UTC)."""

        def at(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "now": at(self.now),
            "workers": [
                {"name": w.name, "languages": list(w.languages), "image": w.image,
                 "alive": w.alive, "seen_at": at(w.seen_at),
                 "up_seconds": round(w.up_seconds, 1), "died_at": at(w.died_at)}
                for w in self.workers
            ],
            "backlog": {
                language: {"depth": b.depth, "taken": b.taken,
                           "oldest_seconds": round(b.oldest_seconds, 1)}
                for language, b in sorted(self.backlog.items())
            },
            "unserved": [language for language, _backlog in self.unserved],
            "workers_alive": self.alive_workers,
            "workers_alive_elsewhere": self.alive_workers_elsewhere,
            "workers_error": self.workers_error,
            "queue_kind": self.queue_kind,
            "here": self.here,
            "preview": self.preview,
            "queue": [
                {"language": d.language, "waiting": d.waiting, "judging": d.judging,
                 "oldest_at": at(d.oldest_at)}
                for d in self.depth
            ],
            "judging": {
                "window_seconds": WINDOW.total_seconds(), "judged": self.judging.judged,
                "latency_p50": self.judging.p50, "latency_p95": self.judging.p95,
                "internal_errors": self.judging.internal_errors, "ie_rate": self.judging.ie_rate,
            },
            "instances": [
                {"instance": i.instance, "host": i.host, "pid": i.pid,
                 "started_at": at(i.started_at), "seen_at": at(i.seen_at),
                 "live_games": i.live_games, "sockets": i.sockets, "queue": i.queue,
                 "workers_alive": i.workers_alive, "gone": i.gone}
                for i in self.instances
            ],
            "watch": {"holder": self.watch.holder, "until": at(self.watch.until),
                      "last_run_at": at(self.watch.last_run_at),
                      "watching": self.watch.watching},
            "webhooks": [_plain(w) for w in self.webhooks],
        }  # fmt: skip


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite's aggregates come back as text)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least p% of all at or below
    it (p50 of 1..10 is 5, p95 is 10); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# ---- The heartbeat (every instance)


def queue_kind(queue: JobQueue) -> str:
    if isinstance(queue, RedisQueue):
        return "redis"
    if isinstance(queue, LocalQueue):
        return "local"
    if isinstance(queue, InProcessQueue):
        return "in-process"
    return type(queue).__name__


def served_here() -> tuple[int, int, int]:
    """(sockets, live matches, live rooms) open on this process right now."""
    paths = dict(stream.open_streams)
    matches = sum(1 for p in paths if p.startswith(GAME_PATHS[0]))
    rooms = sum(1 for p in paths if p.startswith(GAME_PATHS[1]))
    return sum(paths.values()), matches, rooms


async def beat(services: Services, instance: str, started_at: datetime, now: datetime) -> None:
    """Write this instance's heartbeat; delete those not seen for a day (any instance's)."""
    sockets, matches, rooms = served_here()
    data: dict[str, Any] = {"queue": queue_kind(services.queue), "matches": matches,
                            "rooms": rooms}  # fmt: skip
    if not isinstance(services.queue, RedisQueue):  # its own workers: cheap, in memory
        workers = await services.queue.fleet(now.timestamp())
        data["workers_alive"] = sum(w.alive for w in workers)
    async with services.db.session() as session:
        row = await session.get(InstanceBeat, instance)
        if row is None:
            row = InstanceBeat(instance=instance, host=socket.gethostname()[:128],
                               pid=os.getpid(), started_at=started_at)  # fmt: skip
            session.add(row)
        row.seen_at = now
        row.live_games = matches + rooms
        row.sockets = sockets
        row.data = data
        await session.execute(delete(InstanceBeat).where(InstanceBeat.seen_at < now - FORGET))
        await session.commit()


async def heartbeat(services: Services, seconds: float = BEAT_SECONDS) -> None:
    """`beat` now and every `seconds` for the life of the process (runtime.start), under
    the instance's one name (`services.instance`, also the watch lease's holder)."""
    instance, started_at = services.instance, datetime.now(UTC)
    while True:
        try:
            await beat(services, instance, started_at, datetime.now(UTC))
        except Exception as exc:
            if outage.is_unavailable(exc):
                outage.report(exc, "the fleet heartbeat")
            else:
                log.exception("background step failed; retrying", step="fleet heartbeat")
        await asyncio.sleep(seconds)


# ---- The page's snapshot


async def snapshot(
    session: AsyncSession,
    queue: JobQueue,
    settings: Settings,
    now: datetime | None = None,
    here: str | None = None,
) -> Fleet:
    """The page's figures; `here` is the serving instance's name (its own workers are
    `workers`, read from its queue, not its heartbeat's count)."""
    now = datetime.now(UTC) if now is None else now
    workers, error = await _workers(queue, now)
    return Fleet(
        now=now,
        workers=workers,
        workers_error=error,
        depth=await queue_depth(session),
        judging=await judging(session, now),
        instances=await instances(session, now),
        webhooks=await webhooks(session, settings, now),
        watch=await watch_lease(session, now),
        queue_kind=queue_kind(queue),
        here=here,
        backlog=await _backlog(queue, now),
        preview=settings.preview,
    )


async def _workers(queue: JobQueue, now: datetime) -> tuple[list[Worker], str | None]:
    try:
        async with asyncio.timeout(5):  # not wait_for: it can swallow a cancellation (3.11)
            found = await queue.fleet(now.timestamp())
    except Exception as exc:  # the page still shows the rest; the error says why
        log.warning("the judge fleet could not be read", error=repr(exc))
        return [], type(exc).__name__
    return [_worker(w, now) for w in found], None


async def _backlog(queue: JobQueue, now: datetime) -> dict[str, Backlog]:
    try:
        async with asyncio.timeout(5):
            return await queue.backlog(now.timestamp())
    except Exception as exc:  # the workers' error says the queue is unreachable
        log.warning("the judge queue's backlog could not be read", error=repr(exc))
        return {}


def _worker(info: WorkerInfo, now: datetime) -> Worker:
    end = info.died_at if info.died_at is not None else now.timestamp()
    return Worker(
        name=info.name,
        languages=info.languages,
        alive=info.alive,
        seen_at=datetime.fromtimestamp(info.seen_at, UTC),
        up_seconds=max(0.0, end - info.started_at),
        died_at=datetime.fromtimestamp(info.died_at, UTC) if info.died_at is not None else None,
        image=info.image,
    )


async def queue_depth(session: AsyncSession) -> list[Depth]:
    """Unfinished submissions (still in the judge outbox) per language: waiting for a
    worker (queued) or being judged (compiling or running), and when the oldest was made."""
    rows = await session.execute(
        select(
            Submission.language, Submission.status, func.count(), func.min(Submission.created_at)
        )
        .join(OutboxEntry, OutboxEntry.submission_id == Submission.id)
        .group_by(Submission.language, Submission.status)
    )
    by_language: dict[str, Depth] = {}
    for language, status, count, oldest in rows:
        seen = by_language.get(language, Depth(language, 0, 0, None))
        oldest_at = _utc(oldest)
        if seen.oldest_at is not None and (oldest_at is None or seen.oldest_at < oldest_at):
            oldest_at = seen.oldest_at
        running = status in IN_PROGRESS
        by_language[language] = Depth(
            language,
            seen.waiting + (0 if running else int(count)),
            seen.judging + (int(count) if running else 0),
            oldest_at,
        )
    return sorted(by_language.values(), key=lambda d: (-d.total, d.language))


async def judging(session: AsyncSession, now: datetime) -> Judging:
    """Submissions judged in the hour before `now`: latency p50/p95 (created → verdict,
    seconds, nearest rank) and how many ended as IE."""
    rows = await session.execute(
        select(Submission.created_at, Submission.finished_at, Submission.verdict).where(
            Submission.status == DONE,
            Submission.finished_at.is_not(None),
            Submission.finished_at > now - WINDOW,
            Submission.finished_at <= now,
        )
    )
    latencies: list[float] = []
    errors = 0
    for created_at, finished_at, verdict in rows:
        if finished_at is not None:  # (the query says so)
            latencies.append(max(0.0, (finished_at - created_at).total_seconds()))
        errors += verdict == Verdict.IE.value
    return Judging(len(latencies), percentile(latencies, 50), percentile(latencies, 95), errors)


async def instances(session: AsyncSession, now: datetime) -> list[Instance]:
    """Every heartbeat of the last day, live ones first; one not seen for GONE_SECONDS is
    gone."""
    rows = (
        await session.scalars(select(InstanceBeat).where(InstanceBeat.seen_at >= now - FORGET))
    ).all()
    found = [
        Instance(
            instance=row.instance, host=row.host, pid=row.pid, started_at=row.started_at,
            seen_at=row.seen_at, live_games=row.live_games, sockets=row.sockets,
            queue=str((row.data or {}).get("queue", "")),
            gone=not is_alive(row.seen_at, now),
            workers_alive=_count((row.data or {}).get("workers_alive")),
        )
        for row in rows
    ]  # fmt: skip
    return sorted(found, key=lambda i: (i.gone, i.host, i.started_at))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def watch_lease(session: AsyncSession, now: datetime) -> Watch:
    """The alert watch's lease (ops/lease.py): held until `until`, renewed each run."""
    row = await session.get(ClusterLease, lease.WATCH)
    if row is None:
        return Watch(None, None, None, watching=False)
    until, last_run_at = _utc(row.until), _utc(row.last_run_at)
    return Watch(row.holder, until, last_run_at, watching=until is not None and until > now)


async def webhooks(
    session: AsyncSession, settings: Settings, now: datetime
) -> list[dict[str, Any]]:
    """The alert webhooks' health (ops/alerts.py `channel_health`): a failing one is said
    at the top of the page."""
    found = await alerts.channel_health(session, settings, now)
    times = ("last_sent_at", "last_error_at")  # aware datetimes for the page
    return [{k: _utc(v) if k in times else v for k, v in row.items()} for row in found]
