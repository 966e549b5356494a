"""Players' reports of an opponent after a game (issue 13): each becomes a flag carrying the
reporter's words, for an operator to read next to the evidence. A report never punishes by
itself; it is an accusation, weighed as one weak signal (risk.REPORTS).

The rules: only a player of a finished game may report, only a human opponent (the AI is
labelled and cannot cheat), one report per reporter and game (a unique constraint, so two
at once store one), and at most `REPORTS_PER_DAY` in any 24 hours per reporter (counted in
the database, under a lock of the reporter's row on PostgreSQL, so the cap is exact)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.battles import fsm
from codebattle.battles.models import MatchPlayer, MatchRow
from codebattle.errors import UserError
from codebattle.fairplay import risk
from codebattle.fairplay.models import OPEN, Flag, PlayerReport
from codebattle.ratelimit import RateLimiter
from codebattle.text import printable

REASONS = ("copied", "ai_generated", "outside_help", "abuse", "other")
MAX_TEXT = 1000  # characters of the reporter's own words
DAY = timedelta(days=1)
ATTEMPT_WINDOW = 60.0  # seconds: attempts, refused or not, are capped per minute too


@dataclass(frozen=True)
class Filed:
    report: PlayerReport
    flag: Flag


def report_flag_key(report_id: int) -> str:
    return f"report:{report_id}"


def reasons_of(report: PlayerReport) -> list[dict[str, Any]]:
    """A report flag's reasons, as risk.Assessment.reasons() words them."""
    signal = risk.Signal(risk.REPORTS, strength=1.0, params={"count": 1})
    return [
        {"signal": risk.REPORTS, "contribution": signal.contribution(), "params": signal.params}
    ]


def check_text(reason: str, text: str | None) -> str:
    """The reporter's words as stored (unprintable characters dropped, stripped), or a
    UserError for an unknown reason or words over MAX_TEXT characters."""
    if reason not in REASONS:
        raise UserError(422, "report_reason_invalid")
    words = printable(text or "", newlines=True)
    if len(words) > MAX_TEXT:
        raise UserError(422, "report_text_too_long", limit=MAX_TEXT)
    return words


async def opponent_of(session: AsyncSession, reporter: User, match_id: int) -> User:
    """The human opponent `reporter` may report in this finished match, or a UserError
    saying why not."""
    match = await session.get(MatchRow, match_id)
    if match is None:
        raise UserError(404, "match_unknown")
    players = list(
        await session.scalars(select(MatchPlayer.user_id).where(MatchPlayer.match_id == match_id))
    )
    if reporter.id not in players:
        raise UserError(403, "report_players_only")
    if match.state != fsm.State.finished:
        raise UserError(409, "report_after_game")
    others = [user_id for user_id in players if user_id != reporter.id]
    ai_in_fsm = {p["user_id"] for p in (match.fsm or {}).get("players", []) if p.get("ai")}
    users = list(await session.scalars(select(User).where(User.id.in_(others))))
    humans = [u for u in users if not u.is_ai and u.id not in ai_in_fsm]
    if not humans:
        raise UserError(422, "report_ai_opponent")
    return humans[0]  # a duel: the one opponent


async def has_reported(session: AsyncSession, reporter_id: int, match_id: int) -> bool:
    found = await session.scalar(
        select(PlayerReport.id).where(
            PlayerReport.reporter_id == reporter_id, PlayerReport.match_id == match_id
        )
    )
    return found is not None


async def reported(session: AsyncSession, reporter_id: int, match_id: int) -> bool:
    """Whether this player reported this match already (404 for a match that is not)."""
    if await session.get(MatchRow, match_id) is None:
        raise UserError(404, "match_unknown")
    return await has_reported(session, reporter_id, match_id)


async def _check_daily_cap(
    session: AsyncSession, reporter: User, per_day: int, now: datetime
) -> None:
    # Two reports of different games at once must not both pass the count: the reporter's
    # row is locked on PostgreSQL (SQLite's writes are serialised by BEGIN IMMEDIATE).
    await session.execute(select(User.id).where(User.id == reporter.id).with_for_update())
    since = now - DAY
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(PlayerReport.created_at)).where(
                PlayerReport.reporter_id == reporter.id, PlayerReport.created_at >= since
            )
        )
    ).one()
    if count >= per_day:
        first = oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=UTC)
        hours = max(1, math.ceil((first + DAY - now).total_seconds() / 3600))
        headers = {"Retry-After": str(hours * 3600)}
        raise UserError(429, "reports_per_day", headers, limit=per_day, hours=hours)


async def file_report(
    session: AsyncSession,
    ratelimit: RateLimiter | None,
    reporter: User,
    match_id: int,
    reason: str,
    text: str | None,
    *,
    per_day: int,
    now: datetime | None = None,
) -> Filed:
    """Store `reporter`'s report of their opponent in `match_id` and its flag (source
    "report", level "review"), committed. Refusals are UserErrors: 404 unknown match,
    403 not a player of it, 409 not finished, 422 an AI opponent / unknown reason / words
    too long, 409 `already_reported` (a second report of the game, also when two arrive
    at once), 429 over `per_day` in 24 hours or too many attempts (with `ratelimit`)."""
    moment = now or datetime.now(UTC)
    if ratelimit is not None:
        wait = await ratelimit.hit(f"report:{reporter.id}", per_day, ATTEMPT_WINDOW)
        if wait is not None:
            seconds = max(1, round(wait + 0.5))
            raise UserError(
                429, "report_rate_limited", {"Retry-After": str(seconds)}, seconds=seconds
            )
    words = check_text(reason, text)
    reported = await opponent_of(session, reporter, match_id)
    if await has_reported(session, reporter.id, match_id):
        raise UserError(409, "already_reported")
    await _check_daily_cap(session, reporter, per_day, moment)
    report = PlayerReport(
        reporter_id=reporter.id, reported_id=reported.id, match_id=match_id,
        reason=reason, text=words, created_at=moment,
    )  # fmt: skip
    session.add(report)
    try:
        await session.flush()
    except IntegrityError:  # the same reporter's other request stored it first
        await session.rollback()
        raise UserError(409, "already_reported") from None
    reasons = reasons_of(report)
    flag = Flag(
        key=report_flag_key(report.id), source="report", level=risk.REVIEW,
        score=risk.combine(r["contribution"] for r in reasons), user_id=reported.id,
        match_id=match_id, report_id=report.id, reasons=reasons, status=OPEN,
        created_at=moment,
    )  # fmt: skip
    session.add(flag)
    await session.commit()
    return Filed(report, flag)
