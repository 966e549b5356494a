"""Sanctions of users: a warning, a suspension for some days (no ranked play, no rewards) or
a ban (nothing but the account and appeal pages). Lifted, never deleted.

`User.banned_at` and `User.suspended_until` are what every request reads (profiles.
restriction, the ranked queue); they are worked out again from the active sanctions in
the transaction that imposes or lifts one, so lifting one of two suspensions leaves the
other in force. The caller commits. A lift is audited here; a sanction imposed is part of
a decision, which its caller audits (ops/decisions.py, "flag_decision")."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit, notifications
from codebattle.accounts.models import BAN, SUSPEND, WARN, Sanction, User
from codebattle.accounts.profiles import SEOUL
from codebattle.accounts.sessions import SessionStore
from codebattle.errors import UserError

KINDS = (WARN, SUSPEND, BAN)


async def impose(
    session: AsyncSession,
    user: User,
    kind: str,
    reason: str,
    actor_id: int | None,
    *,
    days: int | None,
    flag_id: int | None,
    now: datetime,
) -> Sanction:
    """A new sanction from `now` (a suspension for `days`; a warning or a ban without an
    end), flushed; the user's columns follow. A ban's sessions end after the commit
    (`end_sessions`)."""
    if kind not in KINDS:
        raise UserError(422, "sanction_kind_unknown")
    if kind == SUSPEND and (days is None or days <= 0):
        raise UserError(422, "suspension_days_invalid")
    ends = now + timedelta(days=days) if kind == SUSPEND and days is not None else None
    sanction = Sanction(
        user_id=user.id, kind=kind, reason=reason, flag_id=flag_id, starts_at=now,
        ends_at=ends, created_by=actor_id, created_at=now,
    )  # fmt: skip
    session.add(sanction)
    await session.flush()
    await _recompute(session, user, now)
    return sanction


async def lift(
    session: AsyncSession,
    sanction_id: int,
    actor_id: int | None,
    reason: str,
    now: datetime,
    *,
    notify: bool = True,
) -> Sanction:
    """End a sanction early (404 if unknown, 409 if lifted already), audited
    ("sanction_lift"); the user's columns follow and, with `notify`, the user is told
    ("sanction_lifted")."""
    sanction = await session.scalar(
        select(Sanction).where(Sanction.id == sanction_id).with_for_update()
    )
    if sanction is None:
        raise UserError(404, "sanction_unknown")
    if sanction.lifted_at is not None:
        raise UserError(409, "sanction_lifted_already")
    sanction.lifted_at, sanction.lifted_by, sanction.lift_reason = now, actor_id, reason
    actor = await session.get(User, actor_id) if actor_id is not None else None
    audit.record(
        session, actor_id, actor.nickname if actor else "system", "sanction_lift",
        sanction.user_id, sanction.kind, "lifted", reason, target=f"sanction:{sanction.id}",
    )  # fmt: skip
    user = await session.get(User, sanction.user_id)
    if user is not None:
        await _recompute(session, user, now)
        if notify:
            notifications.notify(session, user.id, "sanction_lifted", {"reason": reason})
    await session.flush()
    return sanction


def _in_force(now: datetime) -> list[ColumnElement[bool]]:
    return [
        Sanction.lifted_at.is_(None),
        Sanction.starts_at <= now,
        or_(Sanction.ends_at.is_(None), Sanction.ends_at > now),
    ]


async def active(session: AsyncSession, user_id: int, now: datetime) -> list[Sanction]:
    """The user's sanctions in force at `now`, newest first."""
    return list(
        await session.scalars(
            select(Sanction)
            .where(Sanction.user_id == user_id, *_in_force(now))
            .order_by(Sanction.id.desc())
        )
    )


async def of_user(session: AsyncSession, user_id: int) -> list[Sanction]:
    """All of the user's sanctions, lifted and ended ones too, newest first."""
    return list(
        await session.scalars(
            select(Sanction).where(Sanction.user_id == user_id).order_by(Sanction.id.desc())
        )
    )


async def _recompute(session: AsyncSession, user: User, now: datetime) -> None:
    """`banned_at` and `suspended_until` from the sanctions in force (the latest end)."""
    await session.flush()
    rows = await active(session, user.id, now)
    bans = [s.starts_at for s in rows if s.kind == BAN]
    ends = [s.ends_at for s in rows if s.kind == SUSPEND and s.ends_at is not None]
    user.banned_at = min(bans) if bans else None
    user.suspended_until = max(ends) if ends else None


def banned(user: User) -> bool:
    return user.banned_at is not None


def suspended(user: User, now: datetime) -> bool:
    return user.suspended_until is not None and user.suspended_until > now


def may_earn_rewards(user: User, now: datetime) -> bool:
    """Points and rewards (the rewards issue): not while suspended or banned."""
    return may_play_ranked(user, now)


def may_play_ranked(user: User, now: datetime) -> bool:
    return not banned(user) and not suspended(user, now)


def local_date(moment: datetime, zone: tzinfo = SEOUL) -> str:
    """A sanction's end as players read it: the date in the site's time zone."""
    return moment.astimezone(zone).date().isoformat()


def check_ranked(user: User, now: datetime, zone: tzinfo | None = None) -> None:
    """Refuse ranked play to a suspended (or banned) player: 403 "suspended" with the
    date the suspension ends (in `zone`, the site's: Seoul unless given)."""
    if banned(user):
        raise UserError(403, "account_banned")
    if suspended(user, now):
        assert user.suspended_until is not None
        raise UserError(403, "suspended", until=local_date(user.suspended_until, zone or SEOUL))


async def end_sessions(store: SessionStore, user_id: int) -> int:
    """Sign a banned user out everywhere (after the ban's commit: the session store may be
    another database transaction or Redis). Their API tokens stay stored but refused:
    `profiles.restriction` answers "account_banned" for every request that needs a user
    allowed to play."""
    return await store.delete_user(user_id)
