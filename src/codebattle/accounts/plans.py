"""Plans (Free, Basic, Pro) and their limits: games a day, room sizes, the AI review.

The plan on the user row is what was last written; `effective_plan` is what it is now (a
paid plan whose end has passed counts as free until `expire_plans` writes the change).
`change_plan` is the one place a plan changes (checkout, renewal, grant, refund, expiry):
it writes the user row, the history (plan_changes) and, for an operator's grant, the audit
log, inside the caller's transaction. `take_game` counts a game against the day's limit in
the transaction that starts the game, so two tabs cannot both take the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit
from codebattle.accounts.models import DailyGames, PlanChange, User
from codebattle.errors import UserError

if TYPE_CHECKING:
    from codebattle.config import Settings

PLANS = ("free", "basic", "pro")
PAID_PLANS = ("basic", "pro")
# Where a change came from (plan_changes.source, users.plan_source).
SOURCES = ("default", "checkout", "renewal", "grant", "refund", "cancel", "expiry")


def effective_plan(user: User, now: datetime) -> str:
    """The plan that holds at `now`: a paid plan whose end has passed is free."""
    plan = user.plan if user.plan in PLANS else "free"
    if plan != "free" and user.plan_ends_at is not None and user.plan_ends_at <= now:
        return "free"
    return plan


def next_plan(plan: str) -> str | None:
    """The plan above `plan` (None for Pro)."""
    index = PLANS.index(plan) if plan in PLANS else 0
    return PLANS[index + 1] if index + 1 < len(PLANS) else None


def daily_game_limit(settings: Settings, plan: str) -> int | None:
    """Games (ranked and vs AI) a day on `plan`; None: no limit (Pro)."""
    if plan == "pro":
        return None
    if plan == "basic":
        return settings.BASIC_MATCH_LIMIT
    return settings.FREE_MATCH_LIMIT


def room_size_limit(settings: Settings, plan: str) -> int:
    """The largest room a host on `plan` can open."""
    if plan == "pro":
        return settings.PRO_ROOM_LIMIT
    if plan == "basic":
        return settings.BASIC_ROOM_LIMIT
    return settings.FREE_ROOM_LIMIT


def room_plan_for(settings: Settings, size: int) -> str | None:
    """The smallest plan whose hosts can open a room of `size` (None: no plan can)."""
    for plan in PLANS:
        if size <= room_size_limit(settings, plan):
            return plan
    return None


def review_allowed(settings: Settings, plan: str) -> bool:
    """Whether a user on `plan` gets the AI code review: Pro always, Basic when
    BASIC_REVIEW_ENABLED, Free never."""
    if plan == "pro":
        return True
    if plan == "basic":
        return settings.BASIC_REVIEW_ENABLED
    return False


def plan_day(now: datetime, settings: Settings) -> date:
    """The plan day `now` falls on, counted in PLAN_TIMEZONE (Asia/Seoul: the day turns at
    00:00 KST, 15:00 UTC)."""
    return now.astimezone(settings.plan_zone).date()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def change_plan(
    session: AsyncSession,
    user_id: int,
    plan: str,
    *,
    ends_at: datetime | None,
    source: str,
    payment_id: str | None = None,
    actor_id: int | None = None,
    actor_label: str = "system",
    reason: str = "",
    now: datetime,
    extend: bool = True,
) -> PlanChange:
    """Put user `user_id` on `plan` until `ends_at` (None: open-ended; always None for
    free) and record the change. Locks the user row; does NOT commit (the caller's
    transaction, so a payment and its plan change land together).

    A renewal of the plan the user is on (effective at `now`, with an end still ahead)
    extends from the current end: the new end is `current end + (ends_at - now)`, and the
    change's `starts_at` is the old end. Pass `extend=False` to set `ends_at` as given.
    The returned PlanChange holds the start and end actually written. If the stored
    plan had ended without its expiry written, that expiry is recorded first.

    An audit entry (action "plan") is written when the change is an operator's: source
    "grant", or any change made with an `actor_id`.
    """
    if plan not in PLANS:
        raise UserError(422, "plan_unknown", plan=plan, known=", ".join(PLANS))
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise UserError(404, "user_unknown")
    old_plan = effective_plan(user, now)
    old_ends = user.plan_ends_at
    stored = user.plan if user.plan in PLANS else "free"
    if stored != old_plan:  # a paid plan that ended and whose expiry was not yet written
        if source == "expiry":
            old_plan = stored
        else:
            session.add(_expiry(user, stored, now))
    starts_at = now
    if plan == "free":
        ends_at = None
    elif ends_at is not None:
        ends_at = _aware(ends_at)
        if extend and old_plan == plan and old_ends is not None and old_ends > now:
            ends_at = old_ends + max(ends_at - now, timedelta(0))
            starts_at = old_ends
    if old_plan != plan or user.plan_started_at is None:
        user.plan_started_at = now
    user.plan = plan
    user.plan_ends_at = ends_at
    user.plan_source = source
    if plan == "free":
        user.plan_auto_renew = False
    change = PlanChange(
        user_id=user.id,
        old_plan=old_plan,
        plan=plan,
        starts_at=starts_at,
        ends_at=ends_at,
        source=source,
        payment_id=payment_id,
        actor_id=actor_id,
        created_at=now,
    )
    session.add(change)
    if source == "grant" or actor_id is not None:
        audit.record(
            session,
            actor_id,
            actor_label,
            "plan",
            user.id,
            _describe(old_plan, old_ends if old_plan != "free" else None),
            _describe(plan, ends_at),
            reason,
        )
    await session.flush()
    return change


def _expiry(user: User, stored: str, now: datetime) -> PlanChange:
    """The history's record of the fall back to free at the end of a paid plan."""
    return PlanChange(
        user_id=user.id,
        old_plan=stored,
        plan="free",
        starts_at=user.plan_ends_at or now,
        ends_at=None,
        source="expiry",
        created_at=now,
    )


def _describe(plan: str, ends_at: datetime | None) -> str:
    if ends_at is None:
        return plan
    return f"{plan} until {ends_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}"


async def expire_plans(session: AsyncSession, now: datetime) -> int:
    """Write the fall back to free of every paid plan whose end has passed (source
    "expiry"), so the history says when it happened. Does not commit; returns how many.
    Renewals (payments) should run before this, so a renewed plan never expires."""
    ids = list(
        await session.scalars(
            select(User.id)
            .where(User.plan.in_(PAID_PLANS), User.plan_ends_at.is_not(None))
            .where(User.plan_ends_at <= now)
            .order_by(User.id)
        )
    )
    count = 0
    for user_id in ids:
        user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
        if user is None or effective_plan(user, now) != "free" or user.plan == "free":
            continue  # renewed or changed meanwhile
        await change_plan(session, user_id, "free", ends_at=None, source="expiry", now=now)
        count += 1
    return count


# Daily games -------------------------------------------------------------------------


@dataclass(frozen=True)
class GameAllowance:
    """A user's games today: the plan, its daily limit (None: unlimited), games used and
    left (None: unlimited)."""

    plan: str
    limit: int | None
    used: int
    left: int | None

    @property
    def exhausted(self) -> bool:
        return self.left is not None and self.left <= 0

    def as_json(self) -> dict[str, Any]:
        return {"plan": self.plan, "games_limit": self.limit, "games_left": self.left}


async def games_used(session: AsyncSession, user_id: int, day: date) -> int:
    count = await session.scalar(
        select(DailyGames.count).where(DailyGames.user_id == user_id, DailyGames.day == day)
    )
    return int(count or 0)


async def games_used_by(session: AsyncSession, user_ids: list[int], day: date) -> dict[int, int]:
    """Games used on `day` by each of `user_ids` (0 for those with none), in one query."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(DailyGames.user_id, DailyGames.count).where(
            DailyGames.user_id.in_(user_ids), DailyGames.day == day
        )
    )
    used = dict.fromkeys(user_ids, 0)
    used.update({user_id: int(count) for user_id, count in rows})
    return used


def allowance_of(user: User, used: int, settings: Settings, now: datetime) -> GameAllowance:
    """`user`'s games today, given the games used (AI users: unlimited)."""
    plan = effective_plan(user, now)
    limit = None if user.is_ai else daily_game_limit(settings, plan)
    left = None if limit is None else max(limit - used, 0)
    return GameAllowance(plan=plan, limit=limit, used=used, left=left)


async def allowance(
    session: AsyncSession, user: User, settings: Settings, now: datetime
) -> GameAllowance:
    """How many games `user` has left today (AI users: unlimited)."""
    used = await games_used(session, user.id, plan_day(now, settings))
    return allowance_of(user, used, settings, now)


def limit_error(settings: Settings, plan: str, limit: int) -> UserError:
    """The error for a user who has used the day's games: names what the next plan gives."""
    upgrade = next_plan(plan)
    if upgrade == "basic":
        return UserError(
            429,
            "daily_games_used",
            limit=limit,
            next_plan="basic",
            next_limit=settings.BASIC_MATCH_LIMIT,
        )
    return UserError(429, "daily_games_used_basic", limit=limit, next_plan=upgrade or "")


def check_game(allowed: GameAllowance, settings: Settings) -> None:
    """Raise the day's-limit error when no game is left (a check before waiting in a
    queue; the count itself is `take_game`'s)."""
    if allowed.exhausted and allowed.limit is not None:
        raise limit_error(settings, allowed.plan, allowed.limit)


async def take_game(session: AsyncSession, user: User, settings: Settings, now: datetime) -> None:
    """Count one game (ranked or vs AI) for `user` on today's plan day, only while under
    the plan's limit; raise UserError(429, "daily_games_used") otherwise. Call it in the
    transaction that starts the game: the count is one conditional UPDATE, so two
    concurrent starts for the last game cannot both pass (the second waits for the
    first's row lock on PostgreSQL, for the write lock on SQLite, and then finds the
    count at the limit). AI users are never limited nor counted."""
    if user.is_ai:
        return
    plan = effective_plan(user, now)
    limit = daily_game_limit(settings, plan)
    day = plan_day(now, settings)
    values = {"user_id": user.id, "day": day, "count": 0}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(
            postgresql.insert(DailyGames).values(**values).on_conflict_do_nothing()
        )
    else:
        await session.execute(sqlite.insert(DailyGames).values(**values).on_conflict_do_nothing())
    statement = (
        update(DailyGames)
        .where(DailyGames.user_id == user.id, DailyGames.day == day)
        .values(count=DailyGames.count + 1)
        .execution_options(synchronize_session=False)
    )
    if limit is not None:
        statement = statement.where(DailyGames.count < limit)
    result = await session.execute(statement)
    if getattr(result, "rowcount", 0) != 1:
        raise limit_error(settings, plan, limit or 0)


def game_day(created_at: datetime, settings: Settings) -> date:
    """The plan day a game was counted on: the day its match was created (`take_game` runs
    in the transaction that creates it), in PLAN_TIMEZONE."""
    return plan_day(_aware(created_at), settings)


async def give_back_game(
    session: AsyncSession,
    user: User,
    settings: Settings,
    now: datetime,
    *,
    day: date | None = None,
) -> None:
    """Undo one `take_game` in the caller's transaction: a pairing whose other player had
    no game left, or a game cancelled before it started. `day` is the plan day the game
    was taken on (default: `now`'s); never below zero."""
    if user.is_ai:
        return
    await session.execute(
        update(DailyGames)
        .where(
            DailyGames.user_id == user.id,
            DailyGames.day == (plan_day(now, settings) if day is None else day),
            DailyGames.count > 0,
        )
        .values(count=DailyGames.count - 1)
        .execution_options(synchronize_session=False)
    )
