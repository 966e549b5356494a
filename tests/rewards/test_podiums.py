"""Room podiums earn points (rewards/podiums.py) on SQLite and PostgreSQL: the first three
of an ended room with enough human players, once however often the pass runs; equal rows
share a place; too few humans earn nothing; a disqualified member gives the points back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from codebattle.config import Settings, load_settings
from codebattle.db.session import Database
from codebattle.progress import earning, points
from codebattle.rewards import podiums
from codebattle.rooms.models import Room, RoomMember
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_problem_version, make_room, make_user

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
FIRST, SECOND, THIRD = earning.rules()[earning.ROOM_PODIUM].places


def _settings(tmp_path: Path, players: int = 5) -> Settings:
    return load_settings(DATA_DIR=tmp_path, ROOM_PODIUM_MIN_PLAYERS=players)


async def _ended_room(db: Database, tmp_path: Path, solved: list[int]) -> tuple[int, list[int]]:
    """A room that ended an hour ago; its members solved these many problems, in order of
    joining (equal solved: equal penalty, so they share a place)."""
    async with db.session() as session:
        await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        host = await make_user(session)
        room = await make_room(session, host)
        users = [await make_user(session) for _ in solved]
        for n, (user, count) in enumerate(zip(users, solved, strict=True)):
            session.add(RoomMember(room_id=room.id, user_id=user.id, joined_at=n, solved=count,
                                   penalty=0.0, board={}))  # fmt: skip
        row = await session.get(Room, room.id)
        assert row is not None
        row.state, row.ends_at = "ended", NOW.timestamp() - 3600
        await session.commit()
        return room.id, [u.id for u in users]


async def _balances(db: Database, users: list[int]) -> list[int]:
    async with db.reading() as session:
        return [await points.balance(session, u) for u in users]


async def test_the_first_three_earn_once(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _room, users = await _ended_room(db, tmp_path, [3, 2, 2, 1, 0])
    for _ in range(2):
        async with db.session() as session:
            await podiums.grant_due(session, settings, NOW)
    assert await _balances(db, users) == [FIRST, SECOND, SECOND, 0, 0]  # 3rd row is rank 2


async def test_a_room_with_too_few_humans_earns_nothing(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path, players=6)
    _room, users = await _ended_room(db, tmp_path, [3, 2, 1, 1, 1])
    async with db.session() as session:
        assert await podiums.grant_due(session, settings, NOW) == 0
    assert await _balances(db, users) == [0, 0, 0, 0, 0]


async def test_a_disqualified_member_gives_the_points_back(db: Database, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    room_id, users = await _ended_room(db, tmp_path, [3, 2, 1, 1, 0])
    async with db.session() as session:
        await podiums.grant_due(session, settings, NOW)
    async with db.session() as session:
        assert await podiums.take_back(session, room_id, users[0])
        assert not await podiums.take_back(session, room_id, users[0])  # once
        assert not await podiums.take_back(session, room_id, users[4])  # nothing to give
        await session.commit()
    assert (await _balances(db, users))[0] == 0
    async with db.session() as session:
        assert points.describe(await points.verify(session)) == []


async def test_an_overturned_disqualification_gives_the_points_again_once(
    db: Database, tmp_path: Path
) -> None:
    settings = _settings(tmp_path)
    room_id, users = await _ended_room(db, tmp_path, [3, 2, 1, 1, 0])
    async with db.session() as session:
        await podiums.grant_due(session, settings, NOW)
    for _ in range(2):  # disqualified, reinstated, disqualified, reinstated
        async with db.session() as session:
            assert await podiums.take_back(session, room_id, users[0])
            await session.commit()
        assert (await _balances(db, users))[0] == 0
        async with db.session() as session:
            assert await podiums.give_back(session, room_id, users[0])
            assert not await podiums.give_back(session, room_id, users[0])  # once
            await session.commit()
        assert (await _balances(db, users))[0] == FIRST
    async with db.session() as session:  # the pass grants nothing more
        await podiums.grant_due(session, settings, NOW)
        assert not await podiums.give_back(session, room_id, users[4])  # never granted
    assert await _balances(db, users) == [FIRST, SECOND, THIRD, THIRD, 0]
    async with db.session() as session:
        assert points.describe(await points.verify(session)) == []
