"""Rooms: a host, up to `size_limit` players (capped by PRO_ROOM_LIMIT), one or several
problems, a duration, public or by invite code. The host starts and ends it (or the time
does); players submit to the room's problems; the leaderboard ranks by problems solved,
then penalty time (ICPC style: minutes from the start to each solve, plus 20 minutes per
rejected attempt before it; compile errors do not count).

Every change is one transaction with the room row locked (as for matches) and appends to the
room's event log, which clients resume from by sequence number.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.battles import chat
from codebattle.battles.fsm import made_in_time
from codebattle.battles.models import Room, RoomEvent, RoomMember
from codebattle.errors import UserError
from codebattle.problems import service as problems
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.submissions.service import Target
from codebattle.text import printable

OPEN, RUNNING, ENDED = "open", "running", "ended"
PENALTY_PER_REJECTION = 20 * 60.0
MAX_PROBLEMS = 12
MAX_TITLE = 80
NOT_ATTEMPTS = ("CE", "IE")  # verdicts that cost no penalty


def _code() -> str:
    return secrets.token_urlsafe(6)[:8].replace("-", "x").replace("_", "y")


async def create(
    session: AsyncSession,
    host: User,
    *,
    title: object,
    problem_slugs: object,
    duration_minutes: object,
    size_limit: object,
    public: bool,
    max_size: int,
) -> Room:
    title = printable(title) if isinstance(title, str) else ""  # as chat: no NUL, no bidi
    if not title or len(title) > MAX_TITLE:
        raise UserError(422, "room_title_invalid", limit=MAX_TITLE)
    if (
        not isinstance(problem_slugs, list)
        or not 1 <= len(problem_slugs) <= MAX_PROBLEMS
        or len(set(map(str, problem_slugs))) != len(problem_slugs)
    ):
        raise UserError(422, "room_problems_invalid", limit=MAX_PROBLEMS)
    if not _number(duration_minutes) or not 1 <= duration_minutes <= 24 * 60:
        raise UserError(422, "room_duration_invalid")
    if not _number(size_limit) or not 2 <= size_limit <= max_size:
        raise UserError(422, "room_size_invalid", limit=max_size)
    versions = []
    for slug in problem_slugs:
        problem = await problems.problem_by_slug(session, slug)
        assert problem.current_version_id is not None
        versions.append(problem.current_version_id)
    room = Room(
        code=_code(), host_id=host.id, title=title, problems=versions,
        duration=duration_minutes * 60.0, size_limit=size_limit, public=public, state=OPEN,
    )  # fmt: skip
    session.add(room)
    await session.flush()
    _append(room, session, [{"type": "created", "at": time.time(), "host": host.id}])
    await session.commit()
    return room


def _number(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # True is not 1 minute


def _append(room: Room, session: AsyncSession, happened: list[dict[str, Any]]) -> list[RoomEvent]:
    entries = []
    for item in happened:
        room.seq += 1
        data = {k: v for k, v in item.items() if k not in ("type", "at")}
        entries.append(
            RoomEvent(room_id=room.id, seq=room.seq, type=item["type"], at=item["at"], data=data)
        )
    session.add_all(entries)
    return entries


async def _locked(session: AsyncSession, room_id: int) -> Room:
    """The room row, locked for this transaction (SQLite: the transaction already is)."""
    if session.in_transaction():
        await session.commit()
    room = await session.scalar(select(Room).where(Room.id == room_id).with_for_update())
    if room is None:
        await session.rollback()
        raise UserError(404, "room_unknown")
    return room


def _tick(room: Room, now: float) -> list[dict[str, Any]]:
    if room.state == RUNNING and room.ends_at is not None and now >= room.ends_at:
        room.state = ENDED
        return [{"type": "ended", "at": room.ends_at, "reason": "time"}]
    return []


async def change(
    session: AsyncSession, room_id: int, user: User | None, action: str, **params: Any
) -> list[RoomEvent]:
    """Apply one action to a room in one locked transaction; return the new log entries."""
    room = await _locked(session, room_id)
    now = time.time()
    try:
        happened = _tick(room, now)
        if action == "join":
            assert user is not None
            happened += await _join(session, room, user, params.get("code"), now)
        elif action in ("start", "end", "announce"):
            assert user is not None
            if user.id != room.host_id:  # a stranger to a private room learns nothing of it
                seen = await _may_see(session, room, user)
                raise UserError(403, "host_only") if seen else UserError(404, "room_unknown")
            happened += _host_action(room, action, now, params.get("text"))
        elif action == "result":
            happened += await _result(session, room, now, **params)
        elif action != "tick":
            raise UserError(422, "unknown_action")
    except UserError:
        await session.rollback()
        raise
    entries = _append(room, session, happened)
    await session.commit()
    return entries


async def _join(
    session: AsyncSession, room: Room, user: User, code: object, now: float
) -> list[dict[str, Any]]:
    if await session.get(RoomMember, (room.id, user.id)) is not None:
        return []  # joining twice changes nothing
    if room.state == ENDED:
        raise UserError(409, "room_ended")
    if not room.public and code != room.code:
        raise UserError(403, "room_code_wrong")
    if room.members >= room.size_limit:
        raise UserError(409, "room_full", limit=room.size_limit)
    session.add(RoomMember(room_id=room.id, user_id=user.id, joined_at=now, board={}))
    room.members += 1
    return [{"type": "joined", "at": now, "user": user.id, "nickname": user.nickname}]


def _host_action(room: Room, action: str, now: float, text: object) -> list[dict[str, Any]]:
    if action == "start":
        if room.state != OPEN:
            raise UserError(409, "room_started")
        room.state, room.starts_at, room.ends_at = RUNNING, now, now + room.duration
        return [{"type": "started", "at": now, "ends_at": room.ends_at}]
    if action == "end":
        if room.state != RUNNING:
            raise UserError(409, "room_not_running")
        room.state, room.ends_at = ENDED, now
        return [{"type": "ended", "at": now, "reason": "host"}]
    return [{"type": "announcement", "at": now, "text": chat.check_text(text)}]


async def _result(
    session: AsyncSession,
    room: Room,
    now: float,
    *,
    user_id: int,
    version_id: int,
    verdict: str,
    submitted_at: float,
) -> list[dict[str, Any]]:
    """A judged submission: a solve (first AC of a problem) or a rejected attempt. It counts
    by when it was made (the rule matches follow too), even when judged after the end."""
    if room.state not in (RUNNING, ENDED) or not made_in_time(submitted_at, room.ends_at):
        return []
    member = await session.get(RoomMember, (room.id, user_id))
    if member is None or verdict in NOT_ATTEMPTS:
        return []
    key = str(version_id)
    status = dict(member.board.get(key) or {"rejected": 0, "solved_at": None})
    if status["solved_at"] is not None:
        return []
    problem = room.problems.index(version_id)
    if verdict != "AC":
        status["rejected"] += 1
        member.board = {**member.board, key: status}
        return [{"type": "attempt", "at": now, "user": user_id, "problem": problem,
                 "verdict": verdict}]  # fmt: skip
    elapsed = max(0.0, submitted_at - (room.starts_at or submitted_at))
    status["solved_at"] = round(elapsed, 1)
    member.board = {**member.board, key: status}
    member.solved += 1
    member.penalty += elapsed + PENALTY_PER_REJECTION * status["rejected"]
    return [
        {"type": "solved", "at": now, "user": user_id, "problem": problem,
         "solved": member.solved, "penalty": round(member.penalty, 1)}
    ]  # fmt: skip


async def visible(session: AsyncSession, room_id: int, user: User) -> Room:
    """The room, if `user` may see it: its host, a member, or anyone signed in when it is
    public. Otherwise 404, as if it did not exist: one rule for HTTP and the socket, so a
    private room's title, problems, members and scores stay with its people. (Joining by
    invite code looks the room up by its code, not through this.)"""
    room = await session.get(Room, room_id)
    if room is None or not await _may_see(session, room, user):
        raise UserError(404, "room_unknown")
    return room


async def _may_see(session: AsyncSession, room: Room, user: User) -> bool:
    return (
        room.public
        or room.host_id == user.id
        or await session.get(RoomMember, (room.id, user.id)) is not None
    )


async def room_target(session: AsyncSession, room_id: int, user_id: int, slug: object) -> Target:
    """What a member's submission in a running room is judged against."""
    room = await session.get(Room, room_id)
    if room is None:
        raise UserError(404, "room_unknown")
    if await session.get(RoomMember, (room_id, user_id)) is None:
        raise UserError(403, "room_members_only")
    if room.state != RUNNING or not made_in_time(time.time(), room.ends_at):
        raise UserError(409, "room_not_running")  # also when the sweeper has not ended it yet
    row = (
        await session.execute(
            select(ProblemVersion)
            .join(Problem, Problem.id == ProblemVersion.problem_id)
            .where(ProblemVersion.id.in_(room.problems), Problem.slug == slug)
        )
    ).scalar_one_or_none()
    if row is None:
        raise UserError(404, "problem_unknown")
    return Target(row.problem_id, row.id, row.package_key, row.time_limit, row.test_count)


async def practice_context(
    session: AsyncSession, room_id: int, user_id: int, slug: str
) -> dict[str, Any] | None:
    """For the problem page opened from a room: which room its submissions count for (None
    unless the user is a member, the room runs and has this problem)."""
    try:
        await room_target(session, room_id, user_id, slug)
    except UserError:
        return None
    room = await session.get(Room, room_id)
    assert room is not None
    return {"id": room.id, "title": room.title, "ends_at": room.ends_at}


async def leaderboard(session: AsyncSession, room: Room, limit: int = 1000) -> list[dict[str, Any]]:
    """Ranked: most solved, then least penalty, then who joined first. Equal solved and
    penalty share a rank."""
    rows = (
        await session.execute(
            select(RoomMember, User.nickname)
            .join(User, User.id == RoomMember.user_id)
            .where(RoomMember.room_id == room.id)
            .order_by(RoomMember.solved.desc(), RoomMember.penalty, RoomMember.joined_at)
            .limit(limit)
        )
    ).all()
    board, rank, previous = [], 0, None
    for position, (member, nickname) in enumerate(rows, start=1):
        if (member.solved, member.penalty) != previous:
            rank, previous = position, (member.solved, member.penalty)
        board.append(
            {
                "rank": rank,
                "user": member.user_id,
                "nickname": nickname,
                "solved": member.solved,
                "penalty": round(member.penalty, 1),
                "problems": [member.board.get(str(v)) for v in room.problems],
            }  # fmt: skip
        )
    return board


async def room_json(session: AsyncSession, room: Room, locale: str, viewer: User) -> dict[str, Any]:
    return (await rooms_json(session, [room], locale, viewer))[0]


async def rooms_json(
    session: AsyncSession, rooms: Sequence[Room], locale: str, viewer: User
) -> list[dict[str, Any]]:
    """Rooms as `viewer` sees them, in two queries whatever their number (lists)."""
    cards = await problems.version_cards(session, (v for r in rooms for v in r.problems), locale)
    joined = set(
        await session.scalars(
            select(RoomMember.room_id).where(
                RoomMember.room_id.in_([room.id for room in rooms]),
                RoomMember.user_id == viewer.id,
            )
        )
    )
    return [
        {
            "id": room.id,
            "title": room.title,
            "host": room.host_id,
            "state": room.state,
            "public": room.public,
            # The invite code is for the host and members to share.
            "code": room.code if viewer.id == room.host_id or room.id in joined else None,
            "size_limit": room.size_limit,
            "members": room.members,
            "duration": room.duration,
            "starts_at": room.starts_at,
            "ends_at": room.ends_at,
            "seq": room.seq,
            "member": room.id in joined,
            "problems": [cards[v] for v in room.problems],
        }
        for room in rooms
    ]


async def events_since(session: AsyncSession, room_id: int, after_seq: int) -> list[RoomEvent]:
    return list(
        await session.scalars(
            select(RoomEvent)
            .where(RoomEvent.room_id == room_id, RoomEvent.seq > after_seq)
            .order_by(RoomEvent.seq)
        )
    )


async def by_code(session: AsyncSession, code: object) -> Room:
    room = None
    if isinstance(code, str) and len(code) <= 12:
        room = await session.scalar(select(Room).where(Room.code == code.strip()))
    if room is None:
        raise UserError(404, "room_unknown")
    return room


async def listing(session: AsyncSession, limit: int = 50) -> list[Room]:
    """Public rooms that are open or running."""
    return list(
        await session.scalars(
            select(Room)
            .where(Room.public.is_(True), Room.state.in_((OPEN, RUNNING)))
            .order_by(Room.id.desc())
            .limit(limit)
        )
    )


async def due(session: AsyncSession, now: float) -> list[int]:
    return list(
        await session.scalars(select(Room.id).where(Room.state == RUNNING, Room.ends_at <= now))
    )
