"""Editor telemetry (fairplay/telemetry.py): a batch is checked whole (exact keys and types,
bounded numbers, times near the server's clock) and refused whole; stored one row per batch
up to the cap per player and game; read back in time order for the scorer. `accept` (what
the sockets and the HTTP route call) refuses spectators, non-members, a flood and a game
long over, and garbage costs the client nothing else. Storing and reading run on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import func, select, update

from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.fairplay import telemetry
from codebattle.fairplay.models import EditorTelemetry
from codebattle.ratelimit import MemoryRateLimiter
from codebattle.rooms.models import Room, RoomMember
from codebattle.services import Services
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_match, make_problem_version, make_room, make_user
from tests.support.site import settings_for

NOW = 1_765_000_000_000  # ms


def batch(*events: Any) -> dict[str, Any]:
    return {"v": 1, "type": "telemetry", "events": list(events)}


def paste(at: int = NOW, **changed: Any) -> dict[str, Any]:
    return {"kind": "paste", "at": at, "chars": 120, "lines": 6, "internal": False, **changed}


def typing(at: int = NOW, **changed: Any) -> dict[str, Any]:
    return {"kind": "typing", "at": at, "span": 5000, "chars": 40, "deletes": 3, **changed}


EVERY_KIND = [
    paste(),
    typing(NOW + 1),
    {"kind": "blur", "at": NOW + 2},
    {"kind": "focus", "at": NOW + 3},
    {"kind": "run", "at": NOW + 4},
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, TELEMETRY_EVENTS_PER_BATCH=5, TELEMETRY_BATCHES_PER_GAME=3)


def test_a_valid_batch_is_kept_as_sent(settings: Settings) -> None:
    sent = batch(*EVERY_KIND)
    checked = telemetry.check_batch(sent, settings, NOW)
    assert checked == EVERY_KIND
    assert all(a is not b for a, b in zip(checked, sent["events"], strict=True))  # copies


def test_the_bounds_themselves_are_taken(settings: Settings) -> None:
    edge = [
        paste(NOW - telemetry.PAST_MS, chars=1_000_000, lines=100_000, internal=True),
        typing(NOW + telemetry.FUTURE_MS, span=600_000, chars=0, deletes=1_000_000),
    ]
    assert telemetry.check_batch(batch(*edge), settings, NOW) == edge


GARBAGE: list[Any] = [
    None,
    [],
    "events",
    {"type": "telemetry"},  # no events
    batch(),  # none
    batch(*EVERY_KIND, {"kind": "run", "at": NOW}),  # six: over TELEMETRY_EVENTS_PER_BATCH
    {"events": {"kind": "run", "at": NOW}},  # not a list
    batch("run"),
    batch([NOW]),
    batch({"kind": "scroll", "at": NOW}),
    batch({"kind": ["paste"], "at": NOW}),  # unhashable kind
    batch({"at": NOW}),
    batch({"kind": "run"}),  # no time
    batch({"kind": "run", "at": NOW, "extra": 1}),  # a key too many
    batch({"kind": "paste", "at": NOW, "chars": 1, "lines": 1}),  # a key missing
    batch({"kind": "paste", "at": NOW, "chars": 1, "lines": 1, "internal": False, "text": "x"}),
    batch(paste(chars=-1)),
    batch(paste(chars=1_000_001)),
    batch(paste(lines=100_001)),
    batch(typing(span=600_001)),
    batch(typing(deletes=1_000_001)),
    batch(paste(chars=1.0)),
    batch(paste(chars="12")),
    batch(paste(chars=True)),  # JSON's true is no count
    batch(paste(internal=1)),
    batch(paste(internal="yes")),
    batch(paste(internal=None)),
    batch({"kind": "run", "at": float(NOW)}),
    batch({"kind": "run", "at": str(NOW)}),
    batch({"kind": "run", "at": NOW - telemetry.PAST_MS - 1}),  # over an hour old
    batch({"kind": "run", "at": NOW + telemetry.FUTURE_MS + 1}),  # over a minute ahead
    batch({"kind": "run", "at": NOW // 1000}),  # seconds, not milliseconds
    batch(paste(), typing(chars=-5)),  # one bad event refuses the batch
]


@pytest.mark.parametrize("data", GARBAGE)
def test_garbage_is_refused_whole(settings: Settings, data: Any) -> None:
    with pytest.raises(UserError) as refused:
        telemetry.check_batch(data, settings, NOW)
    assert (refused.value.status, refused.value.key) == (422, "telemetry_invalid")


def test_a_full_batch_fits_a_socket_frame(tmp_path: Path) -> None:
    big = settings_for(tmp_path, TELEMETRY_EVENTS_PER_BATCH=200)
    worst = typing(span=600_000, chars=1_000_000, deletes=1_000_000)
    frame = json.dumps(batch(*[worst] * 200))
    assert len(frame.encode()) <= telemetry.frame_bytes(big) + 4096  # stream.frame_limit's


# ---- Stored and read back (SQLite and PostgreSQL).


async def duel(db: Database, tmp_path: Path) -> tuple[int, int, int, int]:
    """(alice, bob, match, problem): a match of two players."""
    async with db.session() as session:
        alice, bob = await make_user(session), await make_user(session)
        version = await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        match = await make_match(session, version, [alice, bob])
        ids = alice.id, bob.id, match.id, version.problem_id
        await session.commit()
    return ids


async def stored(db: Database, user_id: int, events: list[dict[str, Any]], **game: Any) -> int:
    async with db.session() as session:
        row = await telemetry.store(session, user_id, events, **game)
        await session.commit()
        return row.id


async def test_batches_are_read_back_in_time_order(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob, match, problem = await duel(db, tmp_path)
    game = {"match_id": match, "problem_id": problem, "settings": settings}
    await stored(db, alice, [typing(NOW + 20), paste(NOW + 5)], **game)
    await stored(db, alice, [{"kind": "run", "at": NOW + 10}], **game)
    await stored(db, bob, [paste(NOW + 1)], **game)  # the opponent's are theirs
    await stored(db, alice, [paste(NOW)], problem_id=problem, settings=settings)  # practice
    async with db.reading() as session:
        events = await telemetry.events_of(session, alice, match_id=match)
        assert [e["at"] for e in events] == [NOW + 5, NOW + 10, NOW + 20]
        assert events[0] == paste(NOW + 5)
        assert await telemetry.events_of(session, bob, match_id=match) == [paste(NOW + 1)]
        assert await telemetry.events_of(session, alice, room_id=1) == []
        assert await telemetry.events_of(session, alice) == []  # practice is no game
        # `until`: what had been received by then (a batch received later is left out).
        rows = (await session.scalars(select(EditorTelemetry).order_by(EditorTelemetry.id))).all()
        first = rows[0].received_at
        later = await telemetry.events_of(session, alice, match_id=match, until=first)
        assert [e["at"] for e in later] == [NOW + 5, NOW + 20]
        past = first - timedelta(seconds=1)
        assert await telemetry.events_of(session, alice, match_id=match, until=past) == []
        assert [r.event_count for r in rows] == [2, 1, 1, 1]
        assert rows[0].problem_id == problem and rows[3].match_id is None


async def test_a_game_holds_a_bounded_number_of_batches(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob, match, problem = await duel(db, tmp_path)
    game = {"match_id": match, "problem_id": problem, "settings": settings}
    for i in range(settings.TELEMETRY_BATCHES_PER_GAME):
        await stored(db, alice, [paste(NOW + i)], **game)
    with pytest.raises(UserError) as full:
        await stored(db, alice, [paste(NOW + 9)], **game)
    assert (full.value.status, full.value.key) == (409, "telemetry_full")
    await stored(db, bob, [paste(NOW)], **game)  # per player
    # Practice: per problem, over the last day.
    for i in range(settings.TELEMETRY_BATCHES_PER_GAME):
        await stored(db, alice, [paste(NOW + i)], problem_id=problem, settings=settings)
    with pytest.raises(UserError):
        await stored(db, alice, [paste(NOW)], problem_id=problem, settings=settings)
    async with db.session() as session:  # a day later, practice takes them again
        old = datetime.now(UTC) - timedelta(days=2)
        await session.execute(
            update(EditorTelemetry)
            .where(EditorTelemetry.match_id.is_(None))
            .values(received_at=old)
        )
        await session.commit()
    await stored(db, alice, [paste(NOW)], problem_id=problem, settings=settings)
    async with db.reading() as session:
        count = select(func.count()).select_from(EditorTelemetry)
        assert await session.scalar(count) == 2 * settings.TELEMETRY_BATCHES_PER_GAME + 2


# ---- accept: what the sockets and the HTTP route call.


class Sink:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def emit(self, index: str, doc_id: str, body: dict[str, Any]) -> None:
        self.records.append((index, doc_id, body))


def services(db: Database, settings: Settings) -> Services:
    fake = SimpleNamespace(db=db, settings=settings, ratelimit=MemoryRateLimiter(), logsink=Sink())
    return cast(Services, fake)


def now_batch(*kinds: str) -> dict[str, Any]:
    at = int(time.time() * 1000)
    return batch(*({"kind": kind, "at": at} for kind in kinds))


async def refused(call: Any) -> tuple[int, str]:
    with pytest.raises(UserError) as error:
        await call
    return error.value.status, error.value.key


async def test_accept_stores_a_players_batch_and_refuses_the_rest(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob, match, problem = await duel(db, tmp_path)
    async with db.session() as session:
        carol = (await make_user(session)).id
        await session.commit()
    site = services(db, settings)
    # Garbage first: refused, and it costs the next batch nothing (not even the rate limit).
    assert await refused(telemetry.accept(site, alice, batch({"kind": "x"}), match_id=match)) == (
        422, "telemetry_invalid",
    )  # fmt: skip
    row = await telemetry.accept(site, alice, now_batch("run", "blur"), match_id=match)
    assert row.match_id == match and row.problem_id == problem and row.event_count == 2
    # One batch a second per player and game.
    again = telemetry.accept(site, alice, now_batch("focus"), match_id=match)
    assert await refused(again) == (429, "telemetry_rate_limited")
    await telemetry.accept(site, bob, now_batch("focus"), match_id=match)
    # A spectator (or anyone not playing) is refused.
    assert await refused(telemetry.accept(site, carol, now_batch("run"), match_id=match)) == (
        403, "not_a_player",
    )  # fmt: skip
    async with db.reading() as session:
        assert [e["kind"] for e in await telemetry.events_of(session, alice, match_id=match)] == [
            "run", "blur",
        ]  # fmt: skip


async def finish(db: Database, match_id: int, seconds_ago: float) -> None:
    async with db.session() as session:
        row = await session.get(MatchRow, match_id)
        assert row is not None
        row.state, row.seq = "finished", row.seq + 1
        at = time.time() - seconds_ago
        session.add(MatchEvent(match_id=match_id, seq=row.seq, type="finished", at=at, data={}))
        await session.commit()


async def test_a_game_over_takes_a_last_flush_then_refuses(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob, match, _ = await duel(db, tmp_path)
    site = services(db, settings)
    await finish(db, match, seconds_ago=10)
    await telemetry.accept(site, alice, now_batch("run"), match_id=match)  # a late flush
    async with db.session() as session:
        await session.execute(update(MatchEvent).values(at=time.time() - 61))
        await session.commit()
    assert await refused(telemetry.accept(site, bob, now_batch("run"), match_id=match)) == (
        409, "telemetry_closed",
    )  # fmt: skip


async def test_rooms_take_their_members_batches(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob, _, problem = await duel(db, tmp_path)
    async with db.session() as session:
        host = await make_user(session)
        room = (await make_room(session, host)).id
        session.add(RoomMember(room_id=room, user_id=alice, joined_at=time.time()))
        await session.commit()
    site = services(db, settings)
    row = await telemetry.accept(site, alice, now_batch("run"), room_id=room, problem_id=problem)
    assert (row.room_id, row.match_id, row.problem_id) == (room, None, problem)
    assert await refused(telemetry.accept(site, bob, now_batch("run"), room_id=room)) == (
        403, "not_a_player",
    )  # fmt: skip
    async with db.session() as session:
        await session.execute(update(Room).values(state="ended", ends_at=time.time() - 61))
        await session.commit()
    await past_the_rate_window()
    assert await refused(telemetry.accept(site, alice, now_batch("run"), room_id=room)) == (
        409, "telemetry_closed",
    )  # fmt: skip


async def test_practice_is_stored_by_problem(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, _, _, problem = await duel(db, tmp_path)
    site = services(db, settings)
    row = await telemetry.accept(site, alice, now_batch("run"), problem_id=problem)
    assert (row.match_id, row.room_id, row.problem_id, row.user_id) == (None, None, problem, alice)


async def past_the_rate_window() -> None:
    await asyncio.sleep(telemetry.RATE_SECONDS - time.time() % telemetry.RATE_SECONDS + 0.01)


async def test_pastes_reach_the_log_seam_and_a_room_takes_only_its_problems(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, _, match, problem = await duel(db, tmp_path)
    site = services(db, settings)
    now = int(time.time() * 1000)
    row = await telemetry.accept(
        site, alice, batch(typing(now), paste(now + 1), paste(now + 2, internal=True)),
        match_id=match,
    )  # fmt: skip
    sink = cast(Any, site).logsink
    assert [(index, doc) for index, doc, _ in sink.records] == [
        ("paste-events", f"{row.id}:1"), ("paste-events", f"{row.id}:2"),
    ]  # fmt: skip
    assert sink.records[0][2] | {"at": 0} == {
        "user_id": alice, "match_id": match, "room_id": None, "problem_id": problem, "at": 0,
        "chars": 120, "lines": 6, "internal": False,
    }  # fmt: skip
    async with db.session() as session:
        host = await make_user(session)
        room = (await make_room(session, host)).id
        session.add(RoomMember(room_id=room, user_id=alice, joined_at=time.time()))
        await session.commit()
    other = problem + 1000  # no problem of the room
    refusal = telemetry.accept(site, alice, now_batch("run"), room_id=room, problem_id=other)
    assert await refused(refusal) == (403, "not_a_player")


async def test_a_rooms_problems_are_read_apart(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, _, _, problem = await duel(db, tmp_path)
    async with db.session() as session:
        other = await make_problem_version(
            session, LocalBlobStore(tmp_path / "blobs"), "guess-number"
        )
        room = (await make_room(session, await make_user(session))).id
        other_problem = other.problem_id
        await session.commit()
    game = {"room_id": room, "settings": settings}
    await stored(db, alice, [paste(NOW + 2)], problem_id=problem, **game)
    await stored(db, alice, [paste(NOW + 1)], problem_id=other_problem, **game)
    await stored(db, alice, [typing(NOW)], **game)  # on the room's socket: no problem named
    async with db.reading() as session:
        mine = await telemetry.events_of(session, alice, room_id=room, problem_id=problem)
        assert [e["at"] for e in mine] == [NOW, NOW + 2]
        every = await telemetry.events_of(session, alice, room_id=room)
        assert [e["at"] for e in every] == [NOW, NOW + 1, NOW + 2]


async def test_a_player_sends_a_few_batches_a_second_whatever_the_game(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob, first, problem = await duel(db, tmp_path)
    async with db.session() as session:
        version = await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        matches = [first] + [
            (await make_match(session, version, [alice, bob])).id
            for _ in range(telemetry.USER_RATE_LIMIT)
        ]
        await session.commit()
    site = services(db, settings)
    await past_the_rate_window()
    for match in matches[: telemetry.USER_RATE_LIMIT]:  # one a game, up to the player's limit
        await telemetry.accept(site, alice, now_batch("run"), match_id=match)
    last = telemetry.accept(site, alice, now_batch("run"), match_id=matches[-1])
    assert await refused(last) == (429, "telemetry_rate_limited")
    await telemetry.accept(site, bob, now_batch("run"), match_id=matches[-1])  # per player
