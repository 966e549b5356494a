"""Room podiums earn points: the first three of a room that ended, once the room had at
least ROOM_PODIUM_MIN_PLAYERS human players not disqualified (`humans`; a room of alts
earns nothing). Granted by a pass over recently ended rooms (rooms know nothing of
points), once per room and player (the ledger key); a member disqualified afterwards
gives the points back, and gets them again if the disqualification is overturned (ops/decisions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.config import Settings
from codebattle.progress import earning, points
from codebattle.progress.models import PointTransaction
from codebattle.rooms import service as rooms
from codebattle.rooms.models import Room, RoomMember

LOOK_BACK = timedelta(days=3)  # rooms that ended this recently are looked at again


def key(room_id: int, user_id: int) -> str:
    return f"room:{room_id}:{user_id}"


async def humans(session: AsyncSession, room_id: int) -> int:
    """The room's human members that count towards ROOM_PODIUM_MIN_PLAYERS: not the AI,
    not disqualified (a member an operator removed made no contest). The one rule for the
    podium's points and the room-podium achievement."""
    count = await session.scalar(
        select(func.count())
        .select_from(RoomMember)
        .join(User, User.id == RoomMember.user_id)
        .where(
            RoomMember.room_id == room_id,
            RoomMember.disqualified.is_(False),
            User.is_ai.is_(False),
        )
    )
    return int(count or 0)


async def podium(session: AsyncSession, room: Room, places: int = 3) -> list[tuple[int, int]]:
    """(user id, place) of the room's first `places` that solved something (disqualified
    members are off the board); equal rows share a place (two firsts both earn the first
    place's points)."""
    board = await rooms.leaderboard(session, room, limit=places + 50)
    return [(row["user"], row["rank"]) for row in board if row["rank"] <= places and row["solved"]]


async def grant_room(session: AsyncSession, room: Room, settings: Settings) -> dict[int, int]:
    """Grant one ended room's podium (in the caller's transaction): {user: points}."""
    if room.state != "ended" or await humans(session, room.id) < settings.ROOM_PODIUM_MIN_PLAYERS:
        return {}
    rule = earning.rules()[earning.ROOM_PODIUM]
    ended = datetime.fromtimestamp(room.ends_at or 0, UTC)
    day = earning.local_day(ended, settings.plan_zone)
    earned: dict[int, int] = {}
    for user_id, place in await podium(session, room):
        amount = rule.places[place - 1] if place <= len(rule.places) else 0
        if not amount or not await earning.may_earn(session, user_id, ended):
            continue
        posted = await points.earn(
            session, user_id, key=key(room.id, user_id), reason=earning.ROOM_PODIUM,
            points=amount, day=day, cap=rule.daily_cap,
            params={"room": room.id, "place": place}, now=ended,
        )  # fmt: skip
        if posted is not None and posted.created:
            earned[user_id] = earning.gained(posted.transaction)
    return earned


async def grant_due(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Grant the podiums of the rooms that ended in the last LOOK_BACK. Commits; returns
    how many grants were made (a room granted before adds none)."""
    since = (now - LOOK_BACK).timestamp()
    ended = list(
        await session.scalars(
            select(Room)
            .where(Room.state == "ended", Room.ends_at >= since, Room.ends_at <= now.timestamp())
            .order_by(Room.id)
        )
    )
    made = 0
    for room in ended:
        made += len(await grant_room(session, room, settings))
        await session.commit()
    return made


async def _grants(session: AsyncSession, room_id: int, user_id: int) -> list[PointTransaction]:
    """The room's podium grants to this player, oldest first: the first, then one per
    overturned disqualification."""
    base = key(room_id, user_id)
    return list(
        await session.scalars(
            select(PointTransaction)
            .where(or_(PointTransaction.key == base, PointTransaction.key.like(f"{base}:r%")))
            .order_by(PointTransaction.id)
        )
    )


async def _reversed(session: AsyncSession, txn: PointTransaction) -> bool:
    found = await session.scalar(
        select(PointTransaction.id).where(PointTransaction.reverses_id == txn.id)
    )
    return found is not None


async def take_back(session: AsyncSession, room_id: int, user_id: int) -> bool:
    """A disqualified member gives back the room's podium points (in the caller's
    transaction). True when there were points to give back."""
    grants = await _grants(session, room_id, user_id)
    if not grants or await _reversed(session, grants[-1]):
        return False
    return (await points.reverse(session, grants[-1], params={"room": room_id})).created


async def give_back(session: AsyncSession, room_id: int, user_id: int) -> bool:
    """A disqualification overturned: the podium points taken back are granted again,
    the same amount on the same day (the reversal gave the day's cap back), once per
    overturn (the key counts the grants). In the caller's transaction."""
    grants = await _grants(session, room_id, user_id)
    if not grants or not await _reversed(session, grants[-1]):
        return False  # never granted (the pass grants it if due), or it stands
    first = grants[0]
    given = dict(first.params or {})
    amount, day = given.get("points"), given.get("day")
    if not isinstance(amount, int) or amount <= 0:
        return False
    rule = earning.rules()[earning.ROOM_PODIUM]
    posted = await points.earn(
        session, user_id, key=f"{key(room_id, user_id)}:r{len(grants)}",
        reason=earning.ROOM_PODIUM, points=amount,
        day=day if isinstance(day, str) else None,
        cap=rule.daily_cap if isinstance(day, str) else None,
        params={"room": room_id, "place": given.get("place")}, now=first.created_at,
    )  # fmt: skip
    return posted is not None and posted.created
