"""Alerts to operators: raised once per event, delivered to each configured webhook (Slack,
Discord) with retries and backoff, summarised when many are due at once.

- `raise_alert` writes the Alert (its key names the event: raising it again adds nothing)
  and one delivery per configured channel, in the caller's transaction.
- `deliver_due` (every instance's delivery loop, never a request) claims due deliveries
  with a conditional UPDATE, so two instances never send the same one, sends them, and
  writes what happened: sent; or tried again after a backoff (doubling from BACKOFF_FIRST,
  at most BACKOFF_LONGEST, at least what a 429 asked for) until ALERT_TRIES; or failed for
  good (a webhook deleted, a payload refused).
- `channel_health` is what the fleet page shows of each channel.

After a try, a delivery's `claimed_until` is left at the time of that try: the claim is
over (it is in the past) and it says when the delivery was last tried.

Messages are English with the Korean in the same message (operators read both)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.integrations import webhooks
from codebattle.integrations.webhooks import Message, Outcome, Webhook
from codebattle.ops.models import DUE, FAILED, SENT, Alert, AlertDelivery

log = structlog.get_logger(__name__)

FLAG_HIGH, IE_VERDICT, IE_RATE = "flag_high", "ie_verdict", "ie_rate"
WORKER_DIED, APPEAL_SLA_WARN, APPEAL_SLA_LAPSED = (
    "worker_died",
    "appeal_sla_warn",
    "appeal_sla_lapsed",
)
GIFT_FAILED = "gift_failed"
# A language's jobs wait and no live worker serves it; and the end of that (a worker came).
NO_WORKER, NO_WORKER_CLEARED = "no_worker", "no_worker_cleared"
KINDS = (
    FLAG_HIGH, IE_VERDICT, IE_RATE, WORKER_DIED, APPEAL_SLA_WARN, APPEAL_SLA_LAPSED, GIFT_FAILED,
    NO_WORKER, NO_WORKER_CLEARED,
)  # fmt: skip
_URGENT = frozenset({FLAG_HIGH, IE_RATE, WORKER_DIED, APPEAL_SLA_LAPSED, NO_WORKER})
_LABELS = {
    FLAG_HIGH: "High fair-play flags · 부정행위 의심(높음)",
    IE_VERDICT: "Judge faults (IE) · 채점 오류",
    IE_RATE: "IE rate over the threshold · 채점 오류율 초과",
    WORKER_DIED: "Judge workers died · 채점 워커 중단",
    APPEAL_SLA_WARN: "Appeal deadlines near · 이의 신청 기한 임박",
    APPEAL_SLA_LAPSED: "Appeal deadlines lapsed · 이의 신청 기한 초과",
    GIFT_FAILED: "Gift cards failed · 기프티콘 발급 실패",
    NO_WORKER: "Languages without a live worker · 채점 워커 없는 언어",
    NO_WORKER_CLEARED: "Languages judged again · 채점 재개된 언어",
}
_DEADLINES = {"first_response": ("first response", "첫 답변"), "decision": ("decision", "결정")}

BACKOFF_FIRST = 5.0  # seconds before the second try; doubling after each failure
BACKOFF_LONGEST = 600.0
CLAIM_BATCH = 500  # deliveries one pass claims at most (more: a summary each pass)
SUMMARY_LINES = 5  # the first alerts a summary quotes
_ERROR_CHARS = 300


# ---- Raising ---------------------------------------------------------------------------


async def raise_alert(
    session: AsyncSession,
    key: str,
    kind: str,
    params: Mapping[str, Any],
    link: str,
    settings: Settings,
    now: datetime | None = None,
) -> bool:
    """Record the alert `key` once, with a delivery per configured channel: True when it
    is new. `link` is a dashboard path ("/ops/flags/12"). In the caller's transaction (the
    caller commits); safe when another instance raises the same key at the same time."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    now = now or datetime.now(UTC)
    values = {"key": key, "kind": kind, "params": dict(params), "link": link, "created_at": now}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Alert).values(**values).on_conflict_do_nothing(index_elements=[Alert.key])
    ).returning(Alert.id)
    alert_id = (await session.execute(statement)).scalar_one_or_none()
    if alert_id is None:
        return False
    for channel in webhooks.configured(settings):
        session.add(AlertDelivery(alert_id=alert_id, channel=channel, next_try_at=now))
    await session.flush()
    return True


# ---- The text of a message --------------------------------------------------------------


def message_of(alert: Alert, base_url: str) -> Message:
    """The chat message of one alert, built from its kind and params."""
    p = alert.params or {}
    title, body = _texts(alert.kind, p)
    return Message(
        title=title,
        body=body,
        link=_url(base_url, alert.link),
        at=alert.created_at,
        urgent=alert.kind in _URGENT,
    )


def _texts(kind: str, p: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body), English then Korean."""
    if kind == FLAG_HIGH:
        where = (
            f"match #{p['match_id']}"
            if p.get("match_id")
            else (f"room #{p['room_id']}" if p.get("room_id") else "a report")
        )
        flag = p.get("flag_id")
        return (
            f"High fair-play flag #{flag} · 부정행위 의심 플래그(높음) #{flag}",
            f"Player #{p.get('user_id')}, risk score {_number(p.get('score'))}, {where}.\n"
            f"플레이어 #{p.get('user_id')}, 위험 점수 {_number(p.get('score'))}. 검토해 주세요.",
        )
    if kind == IE_VERDICT:
        detail = str(p.get("message") or "")[:200]
        return (
            f"Judge fault (IE) on submission #{p.get('submission_id')} · "
            f"채점 오류(IE): 제출 #{p.get('submission_id')}",
            f"Language {p.get('language')}, problem #{p.get('problem_id')}."
            + (f" {detail}" if detail else "")
            + "\n플레이어의 잘못이 아닌 채점 서버 오류입니다.",
        )
    if kind == IE_RATE:
        rate, limit = _percent(p.get("rate")), _percent(p.get("threshold"))
        return (
            f"IE rate {rate} over the last hour · 최근 1시간 채점 오류율 {rate}",
            f"{p.get('ie')} of {p.get('judged')} judged submissions ended in IE "
            f"(threshold {limit}).\n채점된 제출 {p.get('judged')}건 중 {p.get('ie')}건이 "
            f"IE입니다(기준 {limit}).",
        )
    if kind == WORKER_DIED:
        languages = ", ".join(str(x) for x in p.get("languages") or []) or "-"
        return (
            f"Judge worker {p.get('name')} died · 채점 워커 {p.get('name')} 중단",
            f"Languages: {languages}. Started {p.get('started_at')}, died {p.get('died_at')}.\n"
            f"언어: {languages}. 시작 {p.get('started_at')}, 중단 {p.get('died_at')}.",
        )
    if kind in (APPEAL_SLA_WARN, APPEAL_SLA_LAPSED):
        en, ko = _DEADLINES.get(str(p.get("deadline")), ("deadline", "기한"))
        appeal, due = p.get("appeal_id"), p.get("due")
        if kind == APPEAL_SLA_WARN:
            hours = _number(p.get("hours_left"), 1)
            return (
                f"Appeal #{appeal}: {en} due in {hours} h · 이의 신청 #{appeal}: {ko} 기한 "
                f"{hours}시간 남음",
                f"Due {due} (UTC).\n기한: {due} (UTC).",
            )
        return (
            f"Appeal #{appeal}: the {en} deadline has lapsed · 이의 신청 #{appeal}: {ko} 기한 초과",
            f"Was due {due} (UTC).\n기한: {due} (UTC).",
        )
    if kind == GIFT_FAILED:
        exchange, code = p.get("exchange_id"), p.get("code") or "-"
        why = "refused by the provider" if p.get("why") == "refused" else "no card after retries"
        ko = "제공사가 거절" if p.get("why") == "refused" else "재시도 후에도 발급되지 않음"
        return (
            f"Gift card exchange #{exchange} failed · 기프티콘 교환 #{exchange} 실패",
            f"{why} (code {code}); the points were given back.\n{ko} (코드 {code}); 포인트는 "
            "돌려주었습니다.",
        )
    if kind in (NO_WORKER, NO_WORKER_CLEARED):
        return _no_worker_texts(kind, p)
    return kind, ""  # pragma: no cover  (raise_alert refuses other kinds)


def _no_worker_texts(kind: str, p: Mapping[str, Any]) -> tuple[str, str]:
    title, language = p.get("title") or p.get("language"), p.get("language")
    jobs = int(p.get("depth") or 0) + int(p.get("taken") or 0)
    if kind == NO_WORKER_CLEARED:
        workers = ", ".join(str(x) for x in p.get("workers") or []) or "-"
        return (
            f"{title} is judged again · {title} 채점 재개",
            f"A live worker serves it: {workers}. {jobs} job(s) in the queue.\n"
            f"살아 있는 워커가 채점합니다: {workers}. 큐의 작업 {jobs}개.",
        )
    seen = p.get("last_seen")
    en_seen = f"last worker seen {seen}" if seen else "no worker of its pool seen"
    ko_seen = f"마지막 워커 확인 {seen}" if seen else "해당 풀의 워커 기록 없음"
    age = _number(p.get("oldest_seconds"), 0)
    return (
        f"No live {title} worker: {jobs} job(s) waiting · {title} 채점 워커 없음: "
        f"작업 {jobs}개 대기",
        f"The oldest has waited {age} s; {en_seen}. Start a worker of its pool "
        f"(codebattle worker --languages {language}).\n가장 오래된 작업이 {age}초 기다렸습니다; "
        f"{ko_seen}. 해당 언어 풀의 워커를 시작해 주세요.",
    )


def summary_of(alerts: Sequence[Alert], base_url: str, at: datetime) -> Message:
    """One message for many alerts: counts per kind, the first few titles, a link to /ops."""
    counts = Counter(alert.kind for alert in alerts)
    lines = [f"{_LABELS.get(kind, kind)}: {n}" for kind, n in sorted(counts.items())]
    firsts = [f"• {_texts(a.kind, a.params or {})[0]}" for a in alerts[:SUMMARY_LINES]]
    rest = len(alerts) - len(firsts)
    more = [f"… and {rest} more · 외 {rest}건"] if rest > 0 else []
    return Message(
        title=f"{len(alerts)} alerts · 알림 {len(alerts)}건",
        body="\n".join([*lines, "", *firsts, *more]),
        link=_url(base_url, "/ops"),
        at=at,
        urgent=any(alert.kind in _URGENT for alert in alerts),
    )


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + (path or "/ops")


def _number(value: Any, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else str(value)


def _percent(value: Any) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else str(value)


# ---- Delivering ------------------------------------------------------------------------


@dataclass
class _Due:
    id: int
    channel: str
    tries: int
    alert: Alert


def backoff(tries: int, retry_after: float | None = None) -> float:
    """Seconds before the next try after `tries` failed ones: BACKOFF_FIRST doubling, at
    most BACKOFF_LONGEST, and never sooner than the service asked (`retry_after`)."""
    wait: float = min(BACKOFF_FIRST * 2.0 ** max(tries - 1, 0), BACKOFF_LONGEST)
    return max(wait, retry_after or 0.0)


def claim_seconds(settings: Settings) -> float:
    """How long a claim holds: long enough for one pass's sends on a channel (a summary, or
    up to ALERT_SUMMARY_OVER messages one after another), each bounded by the timeout."""
    return settings.ALERT_TIMEOUT_SECONDS * (settings.ALERT_SUMMARY_OVER + 1) + 30.0


async def deliver_due(
    db: Database,
    settings: Settings,
    client_factory: Callable[[Settings], Mapping[str, Webhook]],
    instance: str,
    now: datetime | None = None,
) -> int:
    """Send the deliveries due at `now` (this instance's claim) and record the outcomes;
    how many deliveries were sent. Channels are sent in parallel; within one, messages go
    one after another, and a 429 holds the channel's rest until the wait is over."""
    now = now or datetime.now(UTC)
    channels = webhooks.configured(settings)
    if not channels:
        return 0
    claimed = await _claim(db, channels, instance, now, claim_seconds(settings))
    if not claimed:
        return 0
    clients = client_factory(settings)
    try:
        by_channel: dict[str, list[_Due]] = {}
        for due in claimed:
            by_channel.setdefault(due.channel, []).append(due)
        results = await asyncio.gather(
            *(
                _send_channel(clients.get(channel), rows, settings, now)
                for channel, rows in by_channel.items()
            )
        )
    finally:
        for client in clients.values():
            await client.aclose()
    outcomes = [item for result in results for item in result]
    return await _record(db, outcomes, instance, now, settings.ALERT_TRIES)


async def _claim(
    db: Database, channels: list[str], instance: str, now: datetime, seconds: float
) -> list[_Due]:
    """Claim the due deliveries of these channels for `instance`: one conditional UPDATE
    (status due, time come, no live claim), so of two instances each row goes to one.
    PostgreSQL skips rows another claim has locked; SQLite runs writers one at a time."""
    free = and_(
        AlertDelivery.status == DUE,
        AlertDelivery.next_try_at <= now,
        AlertDelivery.channel.in_(channels),
        or_(AlertDelivery.claimed_until.is_(None), AlertDelivery.claimed_until <= now),
    )
    candidates = (
        select(AlertDelivery.id)
        .where(free)
        .order_by(AlertDelivery.next_try_at, AlertDelivery.id)
        .limit(CLAIM_BATCH)
        .with_for_update(skip_locked=True)
    )
    async with db.session() as session:
        ids = list(
            await session.scalars(
                update(AlertDelivery)
                .where(AlertDelivery.id.in_(candidates.scalar_subquery()), free)
                .values(claimed_by=instance, claimed_until=now + timedelta(seconds=seconds))
                .returning(AlertDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )
        await session.commit()
        if not ids:
            return []
        rows = await session.execute(
            select(AlertDelivery, Alert)
            .join(Alert, Alert.id == AlertDelivery.alert_id)
            .where(AlertDelivery.id.in_(ids))
            .order_by(Alert.created_at, Alert.id)
        )
        return [_Due(d.id, d.channel, d.tries, a) for d, a in rows.all()]


@dataclass
class _Result:
    due: _Due
    outcome: Outcome | None  # None: not tried this pass (a 429 held the channel)
    summary: bool = False
    hold_until: datetime | None = None


async def _send_channel(
    client: Webhook | None, rows: list[_Due], settings: Settings, now: datetime
) -> list[_Result]:
    if client is None:  # configured when claimed, not any more: tried again later
        return [_Result(row, Outcome.retry("not_configured")) for row in rows]
    base = settings.BASE_URL
    if len(rows) > settings.ALERT_SUMMARY_OVER:
        outcome = await _send(client, summary_of([r.alert for r in rows], base, now))
        return [_Result(row, outcome, summary=True) for row in rows]
    results: list[_Result] = []
    for index, row in enumerate(rows):
        outcome = await _send(client, message_of(row.alert, base))
        results.append(_Result(row, outcome))
        if outcome.status == "retry" and outcome.retry_after is not None:
            hold = now + timedelta(seconds=outcome.retry_after)
            results += [_Result(rest, None, hold_until=hold) for rest in rows[index + 1 :]]
            break
    return results


async def _send(client: Webhook, message: Message) -> Outcome:
    """One send; a bug in a client is a failed try (logged), not a lost pass."""
    try:
        return await client.send(message)
    except Exception:
        log.exception("alert webhook client failed", channel=client.channel)
        return Outcome.retry("client_error")


async def _record(
    db: Database, results: list[_Result], instance: str, now: datetime, max_tries: int
) -> int:
    """Write each outcome on its delivery, if this instance's claim still holds it."""
    sent = 0
    async with db.session() as session:
        for result in results:
            due, outcome = result.due, result.outcome
            values: dict[str, Any]
            if outcome is None:  # not tried: free again, once the channel's wait is over
                values = {"claimed_until": None}
                if result.hold_until is not None:
                    values["next_try_at"] = result.hold_until
            elif outcome.status == "sent":
                values = {"status": SENT, "sent_at": now, "claimed_until": now,
                          "summary": result.summary}  # fmt: skip
                sent += 1
            else:
                tries = due.tries + 1
                gave_up = outcome.status == "failed" or tries >= max_tries
                values = {
                    "tries": tries,
                    "status": FAILED if gave_up else DUE,
                    "next_try_at": now + timedelta(seconds=backoff(tries, outcome.retry_after)),
                    "last_error": outcome.error[:_ERROR_CHARS],
                    "claimed_until": now,
                }
                log.warning("alert delivery failed", channel=due.channel, alert=due.alert.key,
                            error=outcome.error, tries=tries, gave_up=gave_up)  # fmt: skip
            await session.execute(
                update(AlertDelivery)
                .where(
                    AlertDelivery.id == due.id,
                    AlertDelivery.claimed_by == instance,
                    AlertDelivery.status == DUE,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        await session.commit()
    return sent


# ---- What the fleet page shows ---------------------------------------------------------


async def channel_health(
    session: AsyncSession, settings: Settings, now: datetime
) -> list[dict[str, Any]]:
    """Per channel: configured?, when it last sent, its last error and when, whether it is
    failing (its newest try failed), deliveries due, and deliveries failed for good in the
    last day."""
    configured = set(webhooks.configured(settings))
    health = []
    for channel in webhooks.CHANNELS:
        mine = AlertDelivery.channel == channel
        last_sent = await session.scalar(select(func.max(AlertDelivery.sent_at)).where(mine))
        tried = and_(
            mine,
            AlertDelivery.status != SENT,
            AlertDelivery.tries > 0,
            AlertDelivery.claimed_until <= now,
        )
        last_error = (
            await session.execute(
                select(AlertDelivery.last_error, AlertDelivery.claimed_until)
                .where(tried)
                .order_by(AlertDelivery.claimed_until.desc(), AlertDelivery.id.desc())
                .limit(1)
            )
        ).first()
        error, error_at = (last_error[0], last_error[1]) if last_error else (None, None)
        due = await session.scalar(select(func.count()).where(mine, AlertDelivery.status == DUE))
        failed = await session.scalar(
            select(func.count()).where(
                mine,
                AlertDelivery.status == FAILED,
                AlertDelivery.claimed_until >= now - timedelta(days=1),
            )
        )
        health.append(
            {
                "channel": channel,
                "configured": channel in configured,
                "last_sent_at": last_sent,
                "last_error": error,
                "last_error_at": error_at,
                "failing": error_at is not None and (last_sent is None or error_at > last_sent),
                "due": int(due or 0),
                "failed_day": int(failed or 0),
            }
        )
    return health
