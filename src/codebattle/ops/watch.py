"""The alert watch: a periodic look at the database and the judge fleet that raises the
alerts operators must hear about (and says when a language's judging is back). It is run
by whichever instance holds the "watch" lease (`watching`), and it keeps nothing in
memory: everything is read again each run (open episodes too) and each alert's key names
its event, so a restart loses nothing and a second run (a former holder still finishing)
raises nothing twice.

Also the two loops every instance runs (started by runtime.start): the watch under its
lease, and the delivery of due alerts (`delivering`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from codebattle.battles import live
from codebattle.fairplay.models import Flag
from codebattle.fairplay.risk import HIGH
from codebattle.integrations import webhooks
from codebattle.judge.languages import LANGUAGES
from codebattle.judge.queue import Backlog, WorkerInfo
from codebattle.judge.verdicts import Verdict
from codebattle.ops import alerts, appeals, fleet, lease, sla
from codebattle.ops.models import ANSWERED, OPEN, Alert, Appeal
from codebattle.services import Services
from codebattle.submissions.models import DONE, Submission

log = structlog.get_logger(__name__)

WATCH_LEASE = lease.WATCH
WATCH_SECONDS = 10.0  # the watch runs this often (on the lease holder)
WATCH_LEASE_SECONDS = 30.0  # a holder that stops renewing loses the lease after this
DELIVER_SECONDS = 2.0  # every instance delivers due alerts this often
FLAGS_SINCE = timedelta(days=1)
IE_SINCE = timedelta(hours=1)


@dataclass(frozen=True)
class _Candidate:
    key: str
    kind: str
    params: dict[str, Any]
    link: str


async def watch_once(services: Services, now: datetime | None = None) -> int:
    """Raise the alerts due now: high flags of the last day, IE verdicts of the last hour
    and the hour's IE rate over ALERT_IE_RATE, workers that died, languages whose jobs wait
    with no live worker (and their end), appeals whose deadline is near or has passed. How
    many alerts were new."""
    now = now or datetime.now(UTC)
    settings = services.settings
    workers = await _fleet(services, now)
    waiting = await _backlog(services, now) if workers is not None else None
    async with services.db.reading() as session:
        found = [
            *await _high_flags(session, now),
            *await _ie_verdicts(session, now),
            *await _ie_rate(session, now, settings.ALERT_IE_RATE, settings.ALERT_IE_MIN_JUDGED),
            *await _appeals(session, now, settings.APPEAL_SLA_WARN_HOURS),
        ]
        if workers is not None and waiting is not None:
            found += await _no_worker(
                session, workers, waiting, now, settings.ALERT_NO_WORKER_SECONDS
            )
    found += _dead_workers(workers or [])
    if not found:
        return 0
    async with services.db.reading() as session:
        known = set(
            await session.scalars(select(Alert.key).where(Alert.key.in_([c.key for c in found])))
        )
    # In key order: two watchers inserting the same keys take their locks in one order
    # (PostgreSQL would otherwise deadlock one of them).
    fresh = sorted((c for c in found if c.key not in known), key=lambda c: c.key)
    if not fresh:
        return 0
    raised = 0
    async with services.db.session() as session:
        for c in fresh:
            raised += await alerts.raise_alert(
                session, c.key, c.kind, c.params, c.link, settings, now
            )
        await session.commit()
    if raised:
        log.info("alerts raised", count=raised)
    return raised


async def _high_flags(session: AsyncSession, now: datetime) -> list[_Candidate]:
    flags = await session.scalars(
        select(Flag).where(Flag.level == HIGH, Flag.created_at >= now - FLAGS_SINCE)
    )
    return [
        _Candidate(
            f"flag:{flag.id}:high",
            alerts.FLAG_HIGH,
            {
                "flag_id": flag.id,
                "user_id": flag.user_id,
                "score": flag.score,
                "source": flag.source,
                "match_id": flag.match_id,
                "room_id": flag.room_id,
            },
            f"/ops/flags/{flag.id}",
        )
        for flag in flags
    ]


async def _ie_verdicts(session: AsyncSession, now: datetime) -> list[_Candidate]:
    rows = await session.scalars(
        select(Submission).where(
            Submission.verdict == Verdict.IE.value, Submission.finished_at >= now - IE_SINCE
        )
    )
    return [
        _Candidate(
            f"ie:{s.id}",
            alerts.IE_VERDICT,
            {
                "submission_id": s.id,
                "user_id": s.user_id,
                "problem_id": s.problem_id,
                "language": s.language,
                "match_id": s.match_id,
                "room_id": s.room_id,
                "message": (s.message or "")[:200],
            },
            "/ops/fleet",
        )
        for s in rows
    ]


async def _ie_rate(
    session: AsyncSession, now: datetime, threshold: float, min_judged: int
) -> list[_Candidate]:
    """The share of IE among submissions judged in the last hour, once enough were judged:
    one alert per UTC hour at most."""
    judged, ie = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Submission.verdict == Verdict.IE.value),
            ).where(Submission.status == DONE, Submission.finished_at >= now - IE_SINCE)
        )
    ).one()
    if judged < min_judged or ie / judged <= threshold:
        return []
    hour = now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    return [
        _Candidate(
            f"ie_rate:{hour}",
            alerts.IE_RATE,
            {"ie": ie, "judged": judged, "rate": ie / judged, "threshold": threshold, "hour": hour},
            "/ops/fleet",
        )
    ]


async def _appeals(session: AsyncSession, now: datetime, warn_hours: float) -> list[_Candidate]:
    """Open appeals without a first answer (that deadline), and appeals not decided (the
    decision's), whose deadline is within `warn_hours` or past."""
    horizon = now + timedelta(hours=warn_hours)
    rows = await session.scalars(
        select(Appeal).where(
            Appeal.status.in_((OPEN, ANSWERED)),
            Appeal.decided_at.is_(None),
            or_(
                (Appeal.first_response_at.is_(None)) & (Appeal.first_response_due <= horizon),
                Appeal.decision_due <= horizon,
            ),
        )
    )
    found = []
    for appeal in rows:
        # Both deadlines while the first answer is the next one (ops/appeals.next_deadline,
        # as the queue and the home page count them), else the decision's alone.
        deadlines = [(appeals.DECISION_DUE, appeal.decision_due)]
        upcoming = appeals.next_deadline(appeal)
        if upcoming[0] == appeals.FIRST_RESPONSE:
            deadlines.insert(0, upcoming)
        for name, due in deadlines:
            state = sla.urgency(due, now, warn_hours)
            if state == sla.OK:
                continue
            lapsed = state == sla.LAPSED
            found.append(
                _Candidate(
                    f"appeal:{appeal.id}:{name}:{'lapsed' if lapsed else 'warn'}",
                    alerts.APPEAL_SLA_LAPSED if lapsed else alerts.APPEAL_SLA_WARN,
                    {
                        "appeal_id": appeal.id,
                        "deadline": name,
                        "due": due.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                        "hours_left": round(sla.seconds_left(due, now) / 3600, 1),
                    },
                    f"/ops/appeals/{appeal.id}",
                )
            )
    return found


async def _fleet(services: Services, now: datetime) -> list[WorkerInfo] | None:
    """The judge workers as the queue reports them (`queue.fleet()`); None for a queue
    without a fleet, or when it cannot be read."""
    read: Callable[[float], Awaitable[list[WorkerInfo]]] | None = getattr(
        services.queue, "fleet", None
    )
    if read is None:
        return None
    try:
        return await read(now.timestamp())
    except Exception as exc:  # Redis away: the other alerts still go out this pass
        log.warning("alert watch: the judge fleet could not be read", error=repr(exc))
        return None


async def _backlog(services: Services, now: datetime) -> dict[str, Backlog] | None:
    """The shared (Redis) queue's jobs per language; None for an embedded queue, whose
    workers judge every language of their host, or when it cannot be read."""
    if fleet.queue_kind(services.queue) != "redis":
        return None
    try:
        found: dict[str, Backlog] = await services.queue.backlog(now.timestamp())
    except Exception as exc:
        log.warning("alert watch: the judge queue's backlog could not be read", error=repr(exc))
        return None
    return found


NO_WORKER_PREFIX = "no_worker:"


async def _no_worker(
    session: AsyncSession,
    workers: list[WorkerInfo],
    backlog: dict[str, Backlog],
    now: datetime,
    seconds: float,
) -> list[_Candidate]:
    """Languages whose jobs have waited `seconds` with no live worker seen for as long
    (one alert per episode: "no_worker:<language>:<n>"), and the end of an episode once a
    live worker serves its language again ("...:<n>:cleared"). The open episodes are read
    from the alerts themselves, so nothing is kept in memory."""
    at = now.timestamp()
    served = {language for w in workers if w.alive for language in w.languages}
    last_seen: dict[str, float] = {}
    for w in workers:
        for language in w.languages:
            last_seen[language] = max(last_seen.get(language, w.seen_at), w.seen_at)
    cleared = aliased(Alert)
    still_open = await session.scalars(
        select(Alert.key).where(
            Alert.kind == alerts.NO_WORKER,
            ~select(cleared.id).where(cleared.key == Alert.key + ":cleared").exists(),
        )
    )
    open_by_language = {key.split(":")[1]: key for key in still_open}
    found = []
    for language, b in sorted(backlog.items()):
        title = LANGUAGES[language].title if language in LANGUAGES else language
        episode = open_by_language.get(language)
        if language in served:
            if episode is not None:
                found.append(_Candidate(
                    f"{episode}:cleared", alerts.NO_WORKER_CLEARED,
                    {"language": language, "title": title, "depth": b.depth, "taken": b.taken,
                     "workers": sorted(w.name for w in workers
                                       if w.alive and language in w.languages)},
                    "/ops/fleet",
                ))  # fmt: skip
            continue
        seen = last_seen.get(language)
        gone_long = seen is None or at - seen >= seconds
        # A job taken by a worker that is gone has waited since that worker was last seen.
        waited_long = b.taken > 0 or b.oldest_seconds >= seconds
        if episode is not None or not (b.depth + b.taken and gone_long and waited_long):
            continue
        number = await _last_episode(session, language) + 1
        found.append(_Candidate(
            f"{NO_WORKER_PREFIX}{language}:{number}", alerts.NO_WORKER,
            {"language": language, "title": title, "depth": b.depth, "taken": b.taken,
             "oldest_seconds": round(b.oldest_seconds, 1),
             "last_seen": _when(seen) if seen is not None else None},
            "/ops/fleet",
        ))  # fmt: skip
    return found


async def _last_episode(session: AsyncSession, language: str) -> int:
    """The number of the language's latest no-worker episode (0 if none was alerted)."""
    keys = await session.scalars(
        select(Alert.key).where(
            Alert.kind == alerts.NO_WORKER,
            Alert.key.startswith(f"{NO_WORKER_PREFIX}{language}:", autoescape=True),
        )
    )
    numbers = [int(part) for key in keys if (part := key.rsplit(":", 1)[-1]).isdigit()]
    return max(numbers, default=0)


def _dead_workers(workers: list[WorkerInfo]) -> list[_Candidate]:
    """Judge workers the queue reports dead (a queue without a fleet has none)."""
    found = []
    for worker in workers:
        if worker.alive or worker.died_at is None:
            continue
        started = int(worker.started_at)
        found.append(
            _Candidate(
                f"worker_died:{str(worker.name)[:80]}:{started}",
                alerts.WORKER_DIED,
                {
                    "name": worker.name,
                    "languages": list(worker.languages),
                    "started_at": _when(worker.started_at),
                    "died_at": _when(worker.died_at),
                },
                "/ops/fleet",
            )
        )
    return found


def _when(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ---- The loops (runtime.start) ---------------------------------------------------------


async def watch_if_holder(services: Services, instance: str, now: datetime | None = None) -> bool:
    """Take or renew the watch lease and, when held, run the watch: whether it ran."""
    now = now or datetime.now(UTC)
    async with services.db.session() as session:
        held = await lease.acquire(session, WATCH_LEASE, instance, WATCH_LEASE_SECONDS, now)
    if held:
        await watch_once(services, now)
        async with services.db.session() as session:
            await lease.mark_run(session, WATCH_LEASE, instance, now)
    return held


def watching(services: Services) -> Coroutine[Any, Any, None]:
    """Every WATCH_SECONDS: the watch, on the lease holder only (this instance holds it
    under its one name, `services.instance`). Outages are logged once each and the next
    tick tries again (live.every)."""
    return live.every(
        WATCH_SECONDS, lambda: watch_if_holder(services, services.instance), "alert watch"
    )


def delivering(services: Services) -> Coroutine[Any, Any, None]:
    """Every DELIVER_SECONDS: send the alerts due (alerts.deliver_due), claimed under this
    instance's name."""
    return live.every(
        DELIVER_SECONDS,
        lambda: alerts.deliver_due(
            services.db, services.settings, webhooks.clients_for, services.instance
        ),
        "alert delivery",
    )
