"""Editor telemetry (issue 13): how a player's code came to be, as their editor reports it.

The editor sends batches of events (docs/protocol.md, "telemetry"): pastes (size, and whether
the text was copied inside our page: never the text itself), typing bursts (characters typed
and deleted over a span), the page losing and regaining focus, and runs of the examples. A
batch is checked whole (`check_batch`: exact keys and types, bounded numbers, times near the
server's clock) and refused whole, so a client sending garbage gets one error and loses
nothing else. A player's batches of one game are stored as they came, one row each, up to
TELEMETRY_BATCHES_PER_GAME (`store`); the risk scorer reads them back in time order
(`events_of`). Nobody but operators ever sees them: nothing here publishes or echoes.

`accept` is what the sockets and the HTTP route call: check, rate limit (one batch a second
per player and game), refuse a game over for more than LATE_SECONDS (a last flush as the game
ends still counts), store, and copy each paste to the log seam's `paste-events` index.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.battles import fsm
from codebattle.battles.models import MatchEvent, MatchPlayer, MatchRow
from codebattle.config import Settings
from codebattle.errors import UserError
from codebattle.fairplay.models import EditorTelemetry
from codebattle.logsink import PASTE_EVENTS
from codebattle.problems.models import ProblemVersion
from codebattle.rooms.models import Room, RoomMember
from codebattle.services import Services

Event = dict[str, Any]

# Each kind's keys and their types, exactly: a key more or less refuses the batch.
KINDS: dict[str, dict[str, type]] = {
    "paste": {"at": int, "chars": int, "lines": int, "internal": bool},
    "typing": {"at": int, "span": int, "chars": int, "deletes": int},
    "blur": {"at": int},
    "focus": {"at": int},
    "run": {"at": int},
}
# Upper bounds of the counts (all are ≥ 0); `at` is bounded by the clock instead.
BOUNDS = {"chars": 1_000_000, "deletes": 1_000_000, "lines": 100_000, "span": 600_000}
PAST_MS = 3_600_000  # an event may be an hour old (a tab that was offline a while)...
FUTURE_MS = 60_000  # ...or a minute ahead (the client's estimate of the server's clock)
LATE_SECONDS = 60.0  # a game takes telemetry this long after it ended (the last flush)
RATE_LIMIT, RATE_SECONDS = 1, 1.0  # batches per player and game
USER_RATE_LIMIT, USER_RATE_SECONDS = 3, 1.0  # batches per player, all games and problems
PRACTICE_DAY_SECONDS = 86_400.0  # practice has no game: its cap counts a problem's last day
EVENT_BYTES = 96  # the longest event as JSON, about (a typing burst with big numbers)


def frame_bytes(settings: Settings) -> int:
    """What a socket frame needs to carry a full batch (within the transport's limit)."""
    return min(settings.TELEMETRY_EVENTS_PER_BATCH * EVENT_BYTES, settings.MAX_CODE_BYTES)


def _invalid() -> UserError:
    return UserError(422, "telemetry_invalid")


def _count(value: object, key: str) -> int:
    # bool is an int in Python, not in JSON: `true` is no count.
    if type(value) is not int or value < 0 or value > BOUNDS[key]:
        raise _invalid()
    return value


def check_batch(data: object, settings: Settings, now_ms: int) -> list[Event]:
    """The batch's events, checked: `data` is the message (or body) holding `events`, a list
    of 1 to TELEMETRY_EVENTS_PER_BATCH events. Anything else raises `telemetry_invalid`
    (422) for the whole batch. Returns fresh dicts, so nothing else the client sent is kept."""
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not 1 <= len(events) <= settings.TELEMETRY_EVENTS_PER_BATCH:
        raise _invalid()
    checked = []
    for event in events:
        if not isinstance(event, dict):
            raise _invalid()
        kind = event.get("kind")
        keys = KINDS.get(kind) if isinstance(kind, str) else None  # a list is unhashable
        if keys is None or set(event) != {"kind", *keys}:
            raise _invalid()
        at = event["at"]
        if type(at) is not int or not now_ms - PAST_MS <= at <= now_ms + FUTURE_MS:
            raise _invalid()
        kept: Event = {"kind": kind, "at": at}
        for key, wanted in keys.items():
            if key == "at":
                continue
            if wanted is bool:
                if not isinstance(event[key], bool):
                    raise _invalid()
                kept[key] = event[key]
            else:
                kept[key] = _count(event[key], key)
        checked.append(kept)
    return checked


def _game(match_id: int | None, room_id: int | None) -> Any:
    """The stored rows of one game (or of practice: neither id)."""
    if match_id is not None and room_id is not None:
        raise ValueError("a batch belongs to a match or a room, not both")
    match, room = EditorTelemetry.match_id, EditorTelemetry.room_id
    return (
        match.is_(None) if match_id is None else match == match_id,
        room.is_(None) if room_id is None else room == room_id,
    )


async def store(
    session: AsyncSession,
    user_id: int,
    events: list[Event],
    *,
    match_id: int | None = None,
    room_id: int | None = None,
    problem_id: int | None = None,
    settings: Settings,
) -> EditorTelemetry:
    """One row for this checked batch, unless the player already has
    TELEMETRY_BATCHES_PER_GAME in this game (`telemetry_full`, 409: the client stops
    sending). Practice counts the player's batches for the problem over the last day.
    (Two instances storing at once may pass the cap by one; the rate limit makes that rare
    and it bounds nothing that matters.)"""
    query = select(func.count()).where(
        EditorTelemetry.user_id == user_id, *_game(match_id, room_id)
    )
    if match_id is None and room_id is None:
        since = datetime.now(UTC) - timedelta(seconds=PRACTICE_DAY_SECONDS)
        query = query.where(
            EditorTelemetry.problem_id == problem_id, EditorTelemetry.received_at >= since
        )
    if (await session.scalar(query) or 0) >= settings.TELEMETRY_BATCHES_PER_GAME:
        raise UserError(409, "telemetry_full")
    row = EditorTelemetry(
        user_id=user_id, match_id=match_id, room_id=room_id, problem_id=problem_id,
        events=events, event_count=len(events),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def events_of(
    session: AsyncSession,
    user_id: int,
    *,
    match_id: int | None = None,
    room_id: int | None = None,
    problem_id: int | None = None,
    until: datetime | None = None,
) -> list[Event]:
    """Every event the player's editor reported in this game (received up to `until`), in
    the order they happened (`at`; ties in the order received). Practice is no game: nothing.
    In a room of several problems, `problem_id` keeps that problem's batches (and those
    naming none: a client on the room's socket)."""
    if match_id is None and room_id is None:
        return []
    query = select(EditorTelemetry.events).where(
        EditorTelemetry.user_id == user_id, *_game(match_id, room_id)
    )
    if room_id is not None and problem_id is not None:
        query = query.where(
            (EditorTelemetry.problem_id == problem_id) | EditorTelemetry.problem_id.is_(None)
        )
    if until is not None:
        query = query.where(EditorTelemetry.received_at <= until)
    batches = (await session.scalars(query.order_by(EditorTelemetry.id))).all()
    return sorted((dict(e) for batch in batches for e in batch), key=lambda e: e["at"])


async def _match_open(session: AsyncSession, match_id: int, user_id: int, now: float) -> int:
    """The match's problem, if `user_id` plays in it and it did not end over LATE_SECONDS ago."""
    row = await session.get(MatchRow, match_id)
    if row is None or await session.get(MatchPlayer, (match_id, user_id)) is None:
        raise UserError(403, "not_a_player")
    if row.state in (fsm.State.finished, fsm.State.cancelled):
        # When it ended: its last event (the match log is the only record of the time).
        ended = await session.scalar(
            select(func.max(MatchEvent.at)).where(
                MatchEvent.match_id == match_id, MatchEvent.type.in_(("finished", "cancelled"))
            )
        )
        if ended is None or now - ended > LATE_SECONDS:
            raise UserError(409, "telemetry_closed")
    return row.problem_id


async def _room_open(
    session: AsyncSession, room_id: int, user_id: int, now: float, problem_id: int | None
) -> None:
    """Refuses unless `user_id` is a member of the room, `problem_id` (if named) is one of
    its problems, and it did not end over LATE_SECONDS ago (a room's `ends_at` is its end,
    by the time or by its host)."""
    room = await session.get(Room, room_id)
    if room is None or await session.get(RoomMember, (room_id, user_id)) is None:
        raise UserError(403, "not_a_player")
    if problem_id is not None:
        problems = set(
            await session.scalars(
                select(ProblemVersion.problem_id).where(ProblemVersion.id.in_(room.problems))
            )
        )
        if problem_id not in problems:
            raise UserError(403, "not_a_player")
    if room.ends_at is not None and now - room.ends_at > LATE_SECONDS:
        raise UserError(409, "telemetry_closed")


async def accept(
    services: Services,
    user_id: int,
    data: object,
    *,
    match_id: int | None = None,
    room_id: int | None = None,
    problem_id: int | None = None,
) -> EditorTelemetry:
    """A client's batch, from a match's or room's socket (`match_id`, `room_id`: the player
    must be in it) or over HTTP (practice: `problem_id`; a room's problem page: both).
    Refused whole with a UserError; stored otherwise. Never published."""
    settings = services.settings
    now = time.time()
    events = check_batch(data, settings, math.floor(now * 1000))
    game = f"m{match_id}" if match_id else f"r{room_id}" if room_id else f"p{problem_id}"
    wait = await services.ratelimit.hit(f"telemetry:{user_id}:{game}", RATE_LIMIT, RATE_SECONDS)
    if wait is None:  # and for the user whatever the game (practice has one per problem)
        wait = await services.ratelimit.hit(
            f"telemetry:{user_id}", USER_RATE_LIMIT, USER_RATE_SECONDS
        )
    if wait is not None:
        raise UserError(429, "telemetry_rate_limited", seconds=max(1, math.ceil(wait)))
    async with services.db.session() as session:
        if match_id is not None:
            problem_id = await _match_open(session, match_id, user_id, now)
        elif room_id is not None:
            await _room_open(session, room_id, user_id, now, problem_id)
        row = await store(
            session, user_id, events, match_id=match_id, room_id=room_id,
            problem_id=problem_id, settings=settings,
        )  # fmt: skip
        await session.commit()
    for index, event in enumerate(events):  # the log seam's paste-events (never blocks)
        if event["kind"] == "paste":
            services.logsink.emit(
                PASTE_EVENTS, f"{row.id}:{index}",
                {"user_id": user_id, "match_id": match_id, "room_id": room_id,
                 "problem_id": problem_id, "at": event["at"] / 1000, "chars": event["chars"],
                 "lines": event["lines"], "internal": event["internal"]},
            )  # fmt: skip
    return row
