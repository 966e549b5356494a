"""A game cancelled before it started uses up no day's game, on SQLite and PostgreSQL:
given back to each human player in the transaction that cancels it, once, on the plan day
the match was created; a game that was played keeps its count."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from codebattle.accounts import plans
from codebattle.accounts.models import DailyGames, User
from codebattle.battles import ai_player, fsm, live, lobby, matchmaking
from codebattle.battles import service as battles
from codebattle.battles.models import MatchRow
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_problem_version, make_user
from tests.support.services import FakeServices
from tests.support.site import settings_for

RULES = matchmaking.Rules(ai_after=30)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A long countdown: a give-up right after the start falls in it.
    return settings_for(tmp_path, FREE_MATCH_LIMIT=3, MATCH_COUNTDOWN_SECONDS=300)


async def _setup(db: Database, tmp_path: Path, *names: str) -> list[int]:
    async with db.session() as session:
        await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        users = [await make_user(session, name) for name in names]
        await session.commit()
        return [u.id for u in users]


async def _used(db: Database, user_id: int, settings: Settings) -> int:
    async with db.reading() as session:
        return await plans.games_used(session, user_id, plans.plan_day(datetime.now(UTC), settings))


async def _ranked(db: Database, settings: Settings, *players: int) -> int:
    for uid in players:
        async with db.session() as session:
            await lobby.join(session, uid, limits=settings)
    services: Any = FakeServices(db, settings)
    async with db.session() as session:
        [match_id] = await lobby.pair(
            session, live.match_settings(services), RULES, random.Random(1), limits=settings
        )
    return match_id


async def _machine(db: Database, match_id: int) -> fsm.Match:
    async with db.reading() as session:
        row = await session.get(MatchRow, match_id)
        assert row is not None
        return battles.load(row.fsm)


async def test_an_ai_game_given_up_in_its_countdown_gives_the_game_back_once(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    [uid] = await _setup(db, tmp_path, "left_early")
    services: Any = FakeServices(db, settings)
    match_id = await ai_player.start_match(services, uid, "easy")
    assert await _used(db, uid, settings) == 1
    await live.act(services, match_id, {"type": "give_up", "user": uid})
    assert (await _machine(db, match_id)).state == fsm.State.cancelled
    assert await _used(db, uid, settings) == 0
    # More events on the cancelled game (a deadline sweep, a second give-up) give nothing.
    await live.act(services, match_id, None)
    with pytest.raises(fsm.IllegalEvent):
        await live.act(services, match_id, {"type": "give_up", "user": uid})
    assert await _used(db, uid, settings) == 0
    # With a game taken since, still only the one cancel counts.
    await ai_player.start_match(services, uid, "easy")
    await live.act(services, match_id, None)
    assert await _used(db, uid, settings) == 1
    async with db.reading() as session:
        ai_ids = list(await session.scalars(select(User.id).where(User.is_ai)))
        counted = list(await session.scalars(select(DailyGames.user_id)))
    assert ai_ids and not set(ai_ids) & set(counted)


async def test_a_ranked_game_left_in_its_countdown_gives_both_players_their_game(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob = await _setup(db, tmp_path, "alice", "bob")
    services: Any = FakeServices(db, settings)
    match_id = await _ranked(db, settings, alice, bob)
    assert [await _used(db, u, settings) for u in (alice, bob)] == [1, 1]
    match = await _machine(db, match_id)
    assert match.state == fsm.State.countdown and match.starts_at is not None
    give_back = live._games_back(services)
    for uid in (alice, bob):
        async with db.session() as session:
            await battles.apply(
                session, match_id, {"type": "reconnect", "user": uid, "socket": "s"},
                match.starts_at - 10, before_commit=give_back,
            )  # fmt: skip
    async with db.session() as session:  # alice goes away in the countdown, for good
        await battles.apply(
            session, match_id, {"type": "disconnect", "user": alice, "socket": "s"},
            match.starts_at - 5, before_commit=give_back,
        )  # fmt: skip
    assert [await _used(db, u, settings) for u in (alice, bob)] == [1, 1]
    later = match.starts_at + match.settings.grace
    async with db.session() as session:  # the sweeper, after the grace period
        happened = await battles.apply(session, match_id, None, later, before_commit=give_back)
    assert [e.type for e in happened][-1] == "cancelled"
    assert [await _used(db, u, settings) for u in (alice, bob)] == [0, 0]
    async with db.session() as session:  # a second sweep: nothing more
        await battles.apply(session, match_id, None, later + 100, before_commit=give_back)
    assert [await _used(db, u, settings) for u in (alice, bob)] == [0, 0]


async def test_a_game_played_and_then_abandoned_keeps_its_count(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob = await _setup(db, tmp_path, "carol", "dave")
    services: Any = FakeServices(db, settings)
    match_id = await _ranked(db, settings, alice, bob)
    match = await _machine(db, match_id)
    assert match.starts_at is not None
    give_back = live._games_back(services)
    running = match.starts_at + 1
    for uid in (alice, bob):
        for kind, at in (("reconnect", running), ("disconnect", running + 1)):
            async with db.session() as session:
                await battles.apply(
                    session, match_id, {"type": kind, "user": uid, "socket": "s"}, at,
                    before_commit=give_back,
                )  # fmt: skip
    async with db.session() as session:
        happened = await battles.apply(
            session, match_id, None, running + 1 + match.settings.grace, before_commit=give_back
        )
    assert [(e.type, e.data.get("reason")) for e in happened] == [("cancelled", "abandoned")]
    assert [await _used(db, u, settings) for u in (alice, bob)] == [1, 1]


async def test_the_game_goes_back_to_the_day_it_was_taken(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    """A game created before the plan day turned is given back on its own day."""
    [uid] = await _setup(db, tmp_path, "night_owl")
    services: Any = FakeServices(db, settings)
    match_id = await ai_player.start_match(services, uid, "easy")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    async with db.session() as session:
        row = await session.get(MatchRow, match_id)
        user = await session.get(User, uid)
        assert row is not None and user is not None
        row.created_at = yesterday
        await plans.take_game(session, user, settings, yesterday)  # yesterday's game
        await session.commit()
    await live.act(services, match_id, {"type": "give_up", "user": uid})
    async with db.reading() as session:
        assert await plans.games_used(session, uid, plans.plan_day(yesterday, settings)) == 0
    assert await _used(db, uid, settings) == 1  # today's count untouched
