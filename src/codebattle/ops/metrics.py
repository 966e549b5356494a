"""Prometheus metrics of an API process (docs/operations.md "Metrics and autoscaling").

One registry per process (`codebattle serve` runs one process; several instances each
expose their own, and Prometheus adds them up). What happens is counted where it happens:
request latency by the middleware (ops/metrics_http.py), verdicts and judging latency when
runtime records them. What is, is read: the sockets open at scrape time (in memory), and
what needs a query (queue backlog per language, live games, judge workers) by `sampling`,
a background task that refreshes gauges every SAMPLE_SECONDS, so a scrape never waits for
Redis or the database. Labels are low-cardinality: route templates, never raw paths or ids;
languages and verdicts from closed sets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from codebattle.battles.fsm import State as MatchState
from codebattle.battles.models import MatchRow
from codebattle.judge.languages import LANGUAGES
from codebattle.judge.verdicts import Verdict
from codebattle.realtime import stream
from codebattle.rooms.fsm import State as RoomState
from codebattle.rooms.models import Room
from codebattle.services import Services
from codebattle.submissions.recording import Recorded

log = structlog.get_logger(__name__)
SAMPLE_SECONDS = 5.0  # the sampled gauges are at most this old (Prometheus scrapes every 15 s)
QUERY_SECONDS = 5.0  # one part of a sample that takes longer is given up (its gauge cleared)
# Matches whose game is on: counting down, played, or waiting for verdicts of time.
LIVE_MATCH_STATES = (MatchState.countdown, MatchState.running, MatchState.judging)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SOCKET_KINDS = {"matches": "match", "rooms": "room", "submissions": "submission"}

# No `_created` series beside each counter and histogram: Prometheus does not need them,
# and they would add a line per series to every scrape.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # process_cpu_seconds_total, resident memory, open fds
PlatformCollector(registry=REGISTRY)  # python_info

HTTP_LATENCY = Histogram(
    "codebattle_http_request_duration_seconds",
    "HTTP requests: from the request's arrival to its response's last byte.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
JUDGING_LATENCY = Histogram(
    "codebattle_judging_latency_seconds",
    "Submissions: from their creation to their verdict recorded.",
    ["language"],
    buckets=(0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0),
    registry=REGISTRY,
)
VERDICTS = Counter(
    "codebattle_verdicts",
    "Verdicts recorded, by language and verdict (IE: the judge's fault).",
    ["language", "verdict"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "codebattle_queue_depth",
    "Judge jobs queued and not yet taken by a worker, per language: the autoscaling "
    "signal. With Redis every instance reports the one shared queue: aggregate with max.",
    ["language"],
    registry=REGISTRY,
)
QUEUE_TAKEN = Gauge(
    "codebattle_queue_taken",
    "Judge jobs taken by a worker and not finished (being judged, or held by a worker that "
    "died until another takes them over), per language.",
    ["language"],
    registry=REGISTRY,
)
QUEUE_OLDEST = Gauge(
    "codebattle_queue_oldest_job_age_seconds",
    "Age of the oldest waiting judge job per language (0: none waiting).",
    ["language"],
    registry=REGISTRY,
)
WORKERS_ALIVE = Gauge(
    "codebattle_judge_workers_alive",
    "Judge workers alive that can judge the language (a worker of several languages counts "
    "in each). With Redis every instance reports the one fleet: aggregate with max.",
    ["language"],
    registry=REGISTRY,
)
LIVE_GAMES = Gauge(
    "codebattle_live_games",
    "Games on now, from the database (kind: match or room): aggregate with max.",
    ["kind"],
    registry=REGISTRY,
)
SAMPLE_FAILURES = Counter(
    "codebattle_metrics_sample_failures",
    "Sampled gauges that could not be read (part: queue, workers, games); left out until "
    "the next sample reads them.",
    ["part"],
    registry=REGISTRY,
)


class SocketsCollector(Collector):
    """`codebattle_sockets_open{kind}`: the WebSockets this process holds open right now,
    read at scrape time from realtime.stream's count (a copy of a dict in memory)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "codebattle_sockets_open",
            "WebSockets open on this process, by kind (match, room, submission).",
            labels=["kind"],
        )
        counts = dict.fromkeys(SOCKET_KINDS.values(), 0)
        for path, sockets in dict(stream.open_streams).items():
            kind = socket_kind(path)
            counts[kind] = counts.get(kind, 0) + sockets
        for kind, sockets in sorted(counts.items()):
            family.add_metric([kind], sockets)
        yield family


REGISTRY.register(SocketsCollector())


def socket_kind(path: str) -> str:
    """A socket's kind from its path ("/ws/matches/12" → "match")."""
    parts = path.split("/")
    return SOCKET_KINDS.get(parts[2], "other") if len(parts) > 2 else "other"


def language_label(language: Any) -> str:
    """A language name we judge, else "other" (a label never takes an open-ended value)."""
    return language if isinstance(language, str) and language in LANGUAGES else "other"


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


# ---- What happens: observed where it happens


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    HTTP_LATENCY.labels(method, route, status_class(status)).observe(seconds)


def observe_verdicts(recorded: Iterable[Recorded], now: float | None = None) -> None:
    """Count the verdicts among what a batch recorded, with their latency. Recording is
    idempotent (a duplicate event records nothing), so each verdict is counted once in the
    whole cluster, by the instance that recorded it."""
    now = time.time() if now is None else now
    for r in recorded:
        if r.change != "done":
            continue
        language = language_label((r.final or {}).get("language"))
        verdict = r.verdict if r.verdict in Verdict.__members__ else "other"
        VERDICTS.labels(language, verdict).inc()
        JUDGING_LATENCY.labels(language).observe(max(0.0, now - r.made_at))


# ---- What is: sampled off the scrape's path


async def sample(services: Services, now: float | None = None) -> None:
    """Refresh the sampled gauges once. Each part on its own: one that fails (Redis or the
    database unreachable) leaves its gauge empty rather than stale, and the others are
    still read."""
    now = time.time() if now is None else now
    await _part("queue", lambda: _queue(services, now))
    await _part("workers", lambda: _workers(services, now))
    await _part("games", lambda: _games(services))


async def sampling(services: Services, seconds: float = SAMPLE_SECONDS) -> None:
    """`sample` now and every `seconds`, for the life of the process (runtime.start)."""
    while True:
        await sample(services)
        await asyncio.sleep(seconds)


async def _part(name: str, read: Callable[[], Awaitable[None]]) -> None:
    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
    # arrives as its inner call ends, and the sampling loop then outlives Services.stop.
    try:
        async with asyncio.timeout(QUERY_SECONDS):
            await read()
    except Exception as exc:
        SAMPLE_FAILURES.labels(name).inc()
        for gauge in _GAUGES[name]:
            gauge.clear()
        log.warning("a metric could not be sampled", part=name, error=repr(exc))


async def _queue(services: Services, now: float) -> None:
    backlog = await services.queue.backlog(now)
    # Every language, so an empty queue reads 0, not absent; an unknown one as "other".
    depth, taken, oldest = (dict.fromkeys(LANGUAGES, 0.0) for _ in range(3))
    for name, jobs in backlog.items():
        language = language_label(name)
        depth[language] = depth.get(language, 0) + jobs.depth
        taken[language] = taken.get(language, 0) + jobs.taken
        oldest[language] = max(oldest.get(language, 0.0), jobs.oldest_seconds)
    for gauge, values in ((QUEUE_DEPTH, depth), (QUEUE_TAKEN, taken), (QUEUE_OLDEST, oldest)):
        gauge.clear()
        for language, value in values.items():
            gauge.labels(language).set(value)


async def _workers(services: Services, now: float) -> None:
    workers = await services.queue.fleet(now)
    alive = dict.fromkeys(LANGUAGES, 0)
    for worker in workers:
        if worker.alive:
            for language in worker.languages:
                alive[language_label(language)] = alive.get(language_label(language), 0) + 1
    WORKERS_ALIVE.clear()
    for language, count in alive.items():
        WORKERS_ALIVE.labels(language).set(count)


async def _games(services: Services) -> None:
    async with services.db.reading() as session:
        matches = await session.scalar(
            select(func.count()).select_from(MatchRow).where(MatchRow.state.in_(LIVE_MATCH_STATES))
        )
        rooms = await session.scalar(
            select(func.count()).select_from(Room).where(Room.state == RoomState.running)
        )
    LIVE_GAMES.labels("match").set(matches or 0)
    LIVE_GAMES.labels("room").set(rooms or 0)


_GAUGES: dict[str, tuple[Gauge, ...]] = {
    "queue": (QUEUE_DEPTH, QUEUE_TAKEN, QUEUE_OLDEST),
    "workers": (WORKERS_ALIVE,),
    "games": (LIVE_GAMES,),
}
