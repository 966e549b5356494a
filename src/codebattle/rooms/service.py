"""Rooms: a host, up to `size_limit` players (capped by the host's plan: FREE_ROOM_LIMIT,
BASIC_ROOM_LIMIT or PRO_ROOM_LIMIT, accounts/plans.room_size_limit), one or several
problems, a duration, public or by invite code. The host starts and ends it (or the time
does); players submit to the room's problems; the leaderboard ranks by problems solved,
then penalty time (ICPC style: minutes from the start to each solve, plus 20 minutes per
rejected attempt before it; compile errors do not count).

Every change is one transaction with the room row locked (as for matches): the room's state
machine (rooms/fsm.py) decides, and what happened is appended to the room's event log
(battles/eventlog.py, the matches' too), which clients resume from by sequence number. Who
may act is checked here: the host starts, ends and announces; members submit.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeGuard

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.battles import chat
from codebattle.battles.eventlog import EventLog
from codebattle.errors import UserError
from codebattle.judge.verdicts import Verdict
from codebattle.problems import service as problems
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.progress import service as progress
from codebattle.progress import tiers
from codebattle.rooms import fsm
from codebattle.rooms.models import Room, RoomEvent, RoomMember
from codebattle.submissions import recording
from codebattle.submissions.service import Target
from codebattle.text import printable

MAX_PROBLEMS = 12
MAX_TITLE = 80
HOST_ACTIONS = ("start", "end", "announce")
LOG = EventLog(Room, Room.id, RoomEvent, RoomEvent.room_id, RoomEvent.seq)


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
    plan: str | None = None,
    upgrade: tuple[str, int] | None = None,
) -> Room:
    """A new room hosted by `host`, of at most `max_size` players (the host's plan's
    limit). A size over it names the host's `plan` and, with `upgrade` (a plan and its
    limit), the plan that allows the size asked for."""
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
        if _number(size_limit) and size_limit > max_size and plan and upgrade:
            raise UserError(
                422, "room_size_plan", plan=plan.capitalize(), limit=max_size,
                next_plan=upgrade[0].capitalize(), next_limit=upgrade[1],
            )  # fmt: skip
        raise UserError(422, "room_size_invalid", limit=max_size)
    versions = []
    for slug in problem_slugs:
        problem = await problems.problem_by_slug(session, slug)
        assert problem.current_version_id is not None
        versions.append(problem.current_version_id)
    room = Room(
        code=_code(), host_id=host.id, title=title, problems=versions,
        duration=duration_minutes * 60.0, size_limit=size_limit, public=public,
        state=fsm.State.open,
    )  # fmt: skip
    session.add(room)
    await session.flush()
    LOG.append(session, room, [{"type": "created", "at": time.time(), "host": host.id}])
    await session.commit()
    return room


def _number(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # True is not 1 minute


def _machine(row: Room) -> fsm.Room:
    """The state machine's view of a room row."""
    return fsm.Room(
        host=row.host_id, duration=row.duration, size_limit=row.size_limit, public=row.public,
        code=row.code, state=fsm.State(row.state), starts_at=row.starts_at, ends_at=row.ends_at,
        members=row.members,
    )  # fmt: skip


def _store(room: fsm.Room, row: Room) -> None:
    row.state, row.starts_at, row.ends_at, row.members = (
        room.state, room.starts_at, room.ends_at, room.members
    )  # fmt: skip


async def change(
    session: AsyncSession, room_id: int, user: User | None, action: str, **params: Any
) -> list[RoomEvent]:
    """Apply one action to a room in one locked transaction; return the new log entries.

    A "result" naming its submission (`submission_id`) is taken once: a verdict the room
    took before changes nothing and returns no entries; else it is marked reported in the
    transaction that scores it (or, for a room that does not exist, in one of its own)."""
    verdict_of = (
        recording.verdict_named(params.get("submission_id")) if action == "result" else None
    )
    try:
        row = await LOG.locked(session, room_id)
    except LookupError:
        await recording.refused(session, verdict_of)  # no room to count it: not passed on again
        raise UserError(404, "room_unknown") from None
    if await recording.taken_before(session, verdict_of):
        return []
    now = time.time()
    room = _machine(row)
    try:
        happened = fsm.tick(room, now)
        if action == "join":
            assert user is not None
            happened += await _join(session, row, room, user, params.get("code"), now)
        elif action in HOST_ACTIONS:
            assert user is not None
            await _require_host(session, row, user)
            happened += _host(room, action, params.get("text"), now)
        elif action == "result":
            happened += await _result(session, row, room, now, **params)
            if verdict_of is not None:
                await recording.mark_reported(session, [verdict_of], datetime.now(UTC))
        elif action != "tick":
            raise UserError(422, "unknown_action")
    except UserError:
        await session.rollback()
        raise
    _store(room, row)
    entries = LOG.append(session, row, happened)
    await session.commit()
    return entries


async def _join(
    session: AsyncSession, row: Room, room: fsm.Room, user: User, code: object, now: float
) -> list[fsm.Event]:
    if await session.get(RoomMember, (row.id, user.id)) is not None:
        return []  # joining twice changes nothing
    happened = fsm.join(room, user.id, user.nickname, code, now)
    session.add(RoomMember(room_id=row.id, user_id=user.id, joined_at=now, board={}))
    return happened


async def _require_host(session: AsyncSession, row: Room, user: User) -> None:
    if user.id != row.host_id:  # a stranger to a private room learns nothing of it
        seen = await _may_see(session, row, user)
        raise UserError(403, "host_only") if seen else UserError(404, "room_unknown")


def _host(room: fsm.Room, action: str, text: object, now: float) -> list[fsm.Event]:
    if action == "start":
        return fsm.start(room, now)
    if action == "end":
        return fsm.end(room, now)
    return fsm.announce(room, chat.check_text(text), now)


async def _result(
    session: AsyncSession,
    row: Room,
    room: fsm.Room,
    now: float,
    *,
    user_id: int,
    version_id: int,
    verdict: str,
    submitted_at: float,
    submission_id: int | None = None,  # taken once: see `change`
) -> list[fsm.Event]:
    """A member's judged submission (see fsm.result); a non-member's counts for nothing."""
    member = await session.get(RoomMember, (row.id, user_id))
    if member is None:
        return []
    score = fsm.Score(member.solved, member.penalty, member.board)
    happened = fsm.result(
        room, score, user=user_id, version=version_id, problem=row.problems.index(version_id),
        verdict=Verdict(verdict), submitted_at=submitted_at, now=now,
    )  # fmt: skip
    member.solved, member.penalty, member.board = score.solved, score.penalty, score.board
    return happened


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
    if not fsm.accepts_submissions(_machine(room), time.time()):
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
            .where(RoomMember.room_id == room.id, RoomMember.disqualified.is_(False))
            .order_by(RoomMember.solved.desc(), RoomMember.penalty, RoomMember.joined_at)
            .limit(limit)
        )
    ).all()  # a disqualified member (an operator voided their game) is left off
    shown = await progress.standings(session, [member.user_id for member, _ in rows])
    board, rank, previous = [], 0, None
    for position, (member, nickname) in enumerate(rows, start=1):
        if (member.solved, member.penalty) != previous:
            rank, previous = position, (member.solved, member.penalty)
        row = _board_row(room, member, nickname, shown[member.user_id].display)
        board.append({"rank": rank, **row})
    return board


def _board_row(room: Room, member: RoomMember, nickname: str, display: int) -> dict[str, Any]:
    return {
        "user": member.user_id,
        "nickname": nickname,
        "tier": tiers.tier_of(display).json(),
        "solved": member.solved,
        "penalty": round(member.penalty, 1),
        "problems": [member.board.get(str(v)) for v in room.problems],
    }


async def disqualify(
    session: AsyncSession, room_id: int, user_id: int, off: bool, now: float | None = None
) -> list[RoomEvent]:
    """An operator voids a member's game in a room (`off`), or takes that back: the member
    leaves the leaderboard ("disqualified") or comes back to it ("reinstated", with their
    row, so live pages need not reload). In the caller's transaction (flushed, not
    committed), under the room's lock; a member already so gives []."""
    row = await LOG.locked(session, room_id, join=True)
    member = await session.get(RoomMember, (room_id, user_id))
    if member is None or member.disqualified == off:
        return []
    member.disqualified = off
    moment = time.time() if now is None else now
    event: dict[str, Any] = {"type": "disqualified" if off else "reinstated", "at": moment,
                             "user": user_id}  # fmt: skip
    if not off:
        nickname = await session.scalar(select(User.nickname).where(User.id == user_id))
        display = (await progress.standings(session, [user_id]))[user_id].display
        event["row"] = _board_row(row, member, nickname or "?", display)
    entries = LOG.append(session, row, [event])
    await session.flush()
    return entries


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
    return [as_seen(room_card(room, cards), room, viewer.id, room.id in joined) for room in rooms]


def room_card(room: Room, cards: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """A room as anyone who may see it sees it (`as_seen` adds what depends on the viewer)."""
    return {
        "id": room.id,
        "title": room.title,
        "host": room.host_id,
        "state": room.state,
        "public": room.public,
        "code": None,
        "size_limit": room.size_limit,
        "members": room.members,
        "duration": room.duration,
        "starts_at": room.starts_at,
        "ends_at": room.ends_at,
        "seq": room.seq,
        "member": False,
        "problems": [cards[v] for v in room.problems],
    }


def as_seen(card: dict[str, Any], room: Room, viewer: int, member: bool) -> dict[str, Any]:
    """The card for `viewer`: the invite code is for the host and members to share."""
    shared = viewer == room.host_id or member
    return {**card, "code": room.code if shared else None, "member": member}


async def events_since(session: AsyncSession, room_id: int, after_seq: int) -> list[RoomEvent]:
    return await LOG.since(session, room_id, after_seq)


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
            .where(Room.public.is_(True), Room.state.in_(fsm.LISTED))
            .order_by(Room.id.desc())
            .limit(limit)
        )
    )


async def due(session: AsyncSession, now: float) -> list[int]:
    return list(
        await session.scalars(
            select(Room.id).where(Room.state == fsm.State.running, Room.ends_at <= now)
        )
    )
