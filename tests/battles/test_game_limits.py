"""The daily game limit where games start, on SQLite and PostgreSQL: concurrent starts for
the last game (only one gets it), games against the AI, the ranked queue (refused at join,
an over-limit player taken out at pairing while the other keeps their place), rematches,
and what the limit never touches (practice, AI users)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from codebattle.accounts import plans
from codebattle.accounts.models import DailyGames, User
from codebattle.battles import ai_player, fsm, live, lobby, matchmaking
from codebattle.battles.models import MatchPlayer, MatchRow, QueueTicket
from codebattle.config import Settings
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.storage import LocalBlobStore
from tests.support.factories import make_problem_version, make_submission, make_user
from tests.support.site import settings_for

RULES = matchmaking.Rules(ai_after=30)


class FakeServices:
    """What start_match and rematch use of the services: the database and settings; the
    AI's play task is not run (closed at once)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        coroutine.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, FREE_MATCH_LIMIT=2, BASIC_MATCH_LIMIT=4)


async def _setup(db: Database, tmp_path: Path, *names: str) -> list[int]:
    async with db.session() as session:
        await make_problem_version(session, LocalBlobStore(tmp_path / "blobs"))
        users = [await make_user(session, name) for name in names]
        await session.commit()
        return [u.id for u in users]


async def _use_games(db: Database, user_id: int, settings: Settings, count: int) -> None:
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        for _ in range(count):
            await plans.take_game(session, user, settings, datetime.now(UTC))
        await session.commit()


async def _used(db: Database, user_id: int, settings: Settings) -> int:
    async with db.reading() as session:
        return await plans.games_used(session, user_id, plans.plan_day(datetime.now(UTC), settings))


async def _end_games(db: Database, user_id: int) -> None:
    """Cancel the player's unfinished games (so another may start)."""
    async with db.session() as session:
        rows = await session.scalars(
            select(MatchRow)
            .join(MatchPlayer, MatchPlayer.match_id == MatchRow.id)
            .where(MatchPlayer.user_id == user_id, MatchRow.state.in_(fsm.UNDECIDED))
        )
        for row in rows:
            row.state = fsm.State.cancelled
        await session.commit()


async def test_concurrent_takes_never_pass_the_limit(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    """Twenty transactions try at once, each holding its transaction open after its
    count, for the two games the day allows: exactly two commit."""
    [uid] = await _setup(db, tmp_path, "many_tabs")
    gate = asyncio.Event()

    async def attempt() -> bool:
        async with db.session() as session:
            user = await session.get(User, uid)
            assert user is not None
            await gate.wait()  # every transaction has read the user: all start together
            try:
                await plans.take_game(session, user, settings, datetime.now(UTC))
            except UserError as error:
                assert error.key == "daily_games_used"
                await session.rollback()
                return False
            await asyncio.sleep(0.01)  # the game's other rows, while the count is held
            await session.commit()
            return True

    tasks = [asyncio.create_task(attempt()) for _ in range(20)]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert results.count(True) == 2
    assert await _used(db, uid, settings) == 2


async def test_two_tabs_start_games_against_the_ai_with_one_left(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    [uid] = await _setup(db, tmp_path, "two_tabs")
    await _use_games(db, uid, settings, 1)  # one of two left
    services: Any = FakeServices(db, settings)
    results = await asyncio.gather(
        ai_player.start_match(services, uid, "easy"),
        ai_player.start_match(services, uid, "easy"),
        return_exceptions=True,
    )
    started = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, UserError)]
    assert len(started) == 1 and len(refused) == 1, results
    # Refused for the day's limit or for the game the other tab just started.
    assert refused[0].key in ("daily_games_used", "already_in_match")
    assert await _used(db, uid, settings) == 2
    async with db.reading() as session:
        games = await session.scalars(select(MatchPlayer).where(MatchPlayer.user_id == uid))
        assert len(list(games)) == 1

    # That game over, no game is left today: the next is refused, naming Basic.
    await _end_games(db, uid)
    with pytest.raises(UserError) as over:
        await ai_player.start_match(services, uid, "easy")
    assert (over.value.status, over.value.key) == (429, "daily_games_used")
    assert over.value.params == {"limit": 2, "next_plan": "basic", "next_limit": 4}
    assert await _used(db, uid, settings) == 2


async def test_a_pro_player_and_the_ai_are_never_limited(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    [uid] = await _setup(db, tmp_path, "pro_player")
    async with db.session() as session:
        await plans.change_plan(
            session, uid, "pro", ends_at=None, source="grant", now=datetime.now(UTC)
        )
        await session.commit()
    services: Any = FakeServices(db, settings)
    for _ in range(4):
        await ai_player.start_match(services, uid, "easy")
        await _end_games(db, uid)
    async with db.reading() as session:
        ai_ids = list(await session.scalars(select(User.id).where(User.is_ai)))
        counted = list(await session.scalars(select(DailyGames.user_id)))
    assert ai_ids and not set(ai_ids) & set(counted)  # the AI played 4 games, never counted


async def test_the_queue_refuses_a_player_with_no_game_left(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    [uid] = await _setup(db, tmp_path, "queued_out")
    await _use_games(db, uid, settings, 2)
    async with db.session() as session:
        with pytest.raises(UserError) as over:
            await lobby.join(session, uid, limits=settings)
        assert over.value.key == "daily_games_used"
    async with db.reading() as session:
        assert await session.get(QueueTicket, uid) is None


async def test_pairing_skips_an_over_limit_player_and_keeps_the_other_waiting(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob, carol = await _setup(db, tmp_path, "alice", "bob", "carol")
    async with db.session() as session:
        await lobby.join(session, alice, limits=settings)
        await lobby.join(session, bob, limits=settings)
    await _use_games(db, alice, settings, 2)  # alice's last games went elsewhere meanwhile
    match_settings = live.match_settings(FakeServices(db, settings))  # type: ignore[arg-type]
    async with db.session() as session:
        created = await lobby.pair(
            session, match_settings, RULES, random.Random(1), limits=settings
        )
    assert created == []
    async with db.reading() as session:
        assert await session.get(QueueTicket, alice) is None  # out of the queue
        assert (await lobby.status(session, bob, RULES))["state"] == "waiting"  # kept
    assert await _used(db, bob, settings) == 0

    async with db.session() as session:
        await lobby.join(session, carol, limits=settings)
    async with db.session() as session:
        created = await lobby.pair(
            session, match_settings, RULES, random.Random(1), limits=settings
        )
    assert len(created) == 1
    async with db.reading() as session:
        assert (await lobby.status(session, bob, RULES))["state"] == "paired"
        assert (await lobby.status(session, carol, RULES))["state"] == "paired"
    assert [await _used(db, u, settings) for u in (alice, bob, carol)] == [2, 1, 1]


async def test_a_pair_whose_second_player_has_no_game_gives_the_first_one_back(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    """The race after the check: a player's last game taken between the queue's check
    and the pair's count."""
    bob, dave = await _setup(db, tmp_path, "bob", "dave")
    async with db.session() as session:
        await lobby.join(session, bob, limits=settings)
        await lobby.join(session, dave, limits=settings)
    await _use_games(db, dave, settings, 2)
    async with db.session() as session:
        users = {u.id: u for u in await session.scalars(select(User))}
        tickets = {t.user_id: t for t in await session.scalars(select(QueueTicket))}
        taken = await lobby._take_games(
            session, [users[bob], users[dave]], tickets, settings, datetime.now(UTC)
        )
        await session.commit()
    assert taken is False
    assert await _used(db, bob, settings) == 0  # given back
    async with db.reading() as session:
        assert await session.get(QueueTicket, dave) is None
        assert (await lobby.status(session, bob, RULES))["state"] == "waiting"


async def test_a_rematch_counts_for_both_players(
    db: Database, tmp_path: Path, settings: Settings
) -> None:
    alice, bob = await _setup(db, tmp_path, "alice", "bob")
    await _use_games(db, bob, settings, 2)
    services: Any = FakeServices(db, settings)
    old = MatchRow(mode="ranked", rated=True)
    with pytest.raises(UserError) as over:
        await live.rematch(services, old, [alice, bob])
    assert over.value.key == "daily_games_used"
    assert await _used(db, alice, settings) == 0  # the whole start rolled back
    await _use_games(db, alice, settings, 1)
    async with db.session() as session:
        await plans.change_plan(
            session, bob, "basic", ends_at=None, source="grant", now=datetime.now(UTC)
        )
        await session.commit()
    assert isinstance(await live.rematch(services, old, [alice, bob]), int)
    assert [await _used(db, u, settings) for u in (alice, bob)] == [2, 3]


async def test_practice_is_unlimited(db: Database, tmp_path: Path, settings: Settings) -> None:
    [uid] = await _setup(db, tmp_path, "practising")
    await _use_games(db, uid, settings, 2)
    async with db.session() as session:
        user = await session.get(User, uid)
        assert user is not None
        assert (await plans.allowance(session, user, settings, datetime.now(UTC))).exhausted
        blobs = LocalBlobStore(tmp_path / "blobs")
        for _ in range(3):
            await make_submission(session, blobs, user)
        await session.commit()
    assert await _used(db, uid, settings) == 2
