"""The alert watch: a periodic look at the database and the judge fleet that raises the
alerts operators must hear about. It is run by whichever instance holds the "watch" lease
(`watching`), and it keeps nothing in memory: everything is read again each run and each
alert's key names its event, so a restart loses nothing and a second run (a former holder
still finishing) raises nothing twice.

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

from codebattle.battles import live
from codebattle.fairplay.models import Flag
from codebattle.fairplay.risk import HIGH
from codebattle.integrations import webhooks
from codebattle.judge.verdicts import Verdict
from codebattle.ops import alerts, appeals, lease, sla
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
    and the hour's IE rate over ALERT_IE_RATE, workers that died, appeals whose deadline is
    near or has passed. How many alerts were new."""
    now = now or datetime.now(UTC)
    settings = services.settings
    async with services.db.reading() as session:
        found = [
            *await _high_flags(session, now),
            *await _ie_verdicts(session, now),
            *await _ie_rate(session, now, settings.ALERT_IE_RATE, settings.ALERT_IE_MIN_JUDGED),
            *await _appeals(session, now, settings.APPEAL_SLA_WARN_HOURS),
        ]
    found += await _dead_workers(services)
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


async def _dead_workers(services: Services) -> list[_Candidate]:
    """Judge workers the queue reports dead (`queue.fleet()`; a queue without it has none)."""
    fleet: Callable[[], Awaitable[list[Any]]] | None = getattr(services.queue, "fleet", None)
    if fleet is None:
        return []
    try:
        workers = await fleet()
    except Exception as exc:  # Redis away: the other alerts still go out this pass
        log.warning("alert watch: the judge fleet could not be read", error=repr(exc))
        return []
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
