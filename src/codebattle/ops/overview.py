"""What the operators' dashboard home and inbox read: what needs attention now (open
flags by level, appeals near or past a deadline, the fleet in one line, the newest
feedback), the feedback inbox a page at a time, and the appeals of one flag. Each is a
few cheap queries (counts and small LIMITs), never a scan of a whole table into Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import Feedback, User
from codebattle.fairplay.models import OPEN as FLAG_OPEN
from codebattle.fairplay.models import Flag
from codebattle.ops import appeals, fleet, sla
from codebattle.ops.models import Appeal, InstanceBeat
from codebattle.rewards import giftcards

FEEDBACK_PAGE = 50
LEVELS = ("high", "review")  # the order the home page lists open flags in


@dataclass
class Attention:
    """The home page's figures."""

    flags: dict[str, int] = field(default_factory=dict)  # open flags per level
    appeals_soon: int = 0  # appeals with a deadline within the warning hours
    appeals_lapsed: int = 0  # appeals past a deadline
    appeals_open: int = 0  # appeals not yet decided
    instances: int = 0  # API instances alive (seen within fleet.GONE_SECONDS)
    live_games: int = 0
    sockets: int = 0
    feedback: list[tuple[Feedback, str | None]] = field(default_factory=list)
    rewards_pending: int = 0  # gift-card exchanges awaiting an operator's approval


async def attention(
    session: AsyncSession, *, warn_hours: float, now: datetime | None = None, feedback: int = 5
) -> Attention:
    """What needs an operator now. An appeal's deadline is its next one
    (appeals.next_deadline: the first answer's while unanswered, else the decision's), as
    the appeals queue shows it."""
    now = now or datetime.now(UTC)
    found = Attention()
    rows = await session.execute(
        select(Flag.level, func.count()).where(Flag.status == FLAG_OPEN).group_by(Flag.level)
    )
    counts = {level: int(n) for level, n in rows.all()}
    found.flags = {level: counts.get(level, 0) for level in LEVELS} | counts
    soon = now + timedelta(hours=warn_hours)
    near = await session.scalars(
        select(Appeal)
        .where(Appeal.status.in_(appeals.PENDING))
        .where(
            or_(
                Appeal.first_response_at.is_(None) & (Appeal.first_response_due <= soon),
                Appeal.first_response_at.is_not(None) & (Appeal.decision_due <= soon),
            )
        )
    )  # only the appeals whose next deadline is near are read; the rest are counted
    for appeal in near:
        level = appeals.deadline_of(appeal, now, warn_hours).urgency
        found.appeals_lapsed += level == sla.LAPSED
        found.appeals_soon += level == sla.SOON
    found.appeals_open = int(
        await session.scalar(
            select(func.count()).select_from(Appeal).where(Appeal.status.in_(appeals.PENDING))
        )
        or 0
    )
    beats = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(InstanceBeat.live_games), 0),
                func.coalesce(func.sum(InstanceBeat.sockets), 0),
            ).where(InstanceBeat.seen_at >= now - timedelta(seconds=fleet.GONE_SECONDS))
        )
    ).one()
    found.instances, found.live_games, found.sockets = (int(x) for x in beats)
    found.feedback = (await feedback_page(session, limit=feedback))[0]
    found.rewards_pending = await giftcards.pending_count(session)
    return found


FEEDBACK_STATES = ("open", "handled", "all")


async def feedback_page(
    session: AsyncSession,
    category: str | None = None,
    before_id: int | None = None,
    limit: int = FEEDBACK_PAGE,
    state: str = "all",
) -> tuple[list[tuple[Feedback, str | None]], int | None]:
    """The inbox, newest first, each message with its author's nickname (None: signed
    out); and the id to pass as `before_id` for the older ones (None: no more). `state`:
    one of FEEDBACK_STATES ("open": not yet handled)."""
    query = select(Feedback, User.nickname).outerjoin(User, User.id == Feedback.user_id)
    if category:
        query = query.where(Feedback.category == category)
    if state == "open":
        query = query.where(Feedback.handled_at.is_(None))
    elif state == "handled":
        query = query.where(Feedback.handled_at.is_not(None))
    if before_id is not None:
        query = query.where(Feedback.id < before_id)
    rows = (await session.execute(query.order_by(Feedback.id.desc()).limit(limit + 1))).all()
    items: list[tuple[Feedback, str | None]] = [(item, name) for item, name in rows[:limit]]
    older = items[-1][0].id if len(rows) > limit and items else None
    return items, older


async def flag_appeals(session: AsyncSession, flag_id: int) -> list[dict[str, Any]]:
    """The appeals of a decision on this flag, newest first (for its page's link)."""
    rows = await session.scalars(
        select(Appeal).where(Appeal.flag_id == flag_id).order_by(Appeal.id.desc())
    )
    return [{"id": a.id, "status": a.status, "outcome": a.outcome} for a in rows]
