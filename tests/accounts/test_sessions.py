"""The session store (accounts.sessions), the same suite on the database (SQLite and
PostgreSQL) and on Redis: create, read valid sessions only, idle and absolute lifetimes
(time injected, no waiting), touch at most once a minute, end one, end a user's, list, data,
sweeping expired rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from codebattle.accounts import sessions
from codebattle.accounts.models import SignInSession, User
from codebattle.accounts.sessions import (
    DatabaseSessionStore,
    RedisSessionStore,
    SessionStore,
    hash_id,
)
from codebattle.db.session import Database
from tests.support.factories import make_user

IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(days=3)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class Stores:
    store: SessionStore
    clock: Clock
    db: Database
    alice: User
    bob: User


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def where(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """The users' database, and Redis for the Redis store (the sync fixtures set them up)."""
    if request.param == "redis":
        return str(request.getfixturevalue("sqlite_url")), str(request.getfixturevalue("redis_url"))
    fixture = "pg_url" if request.param == "postgresql" else "sqlite_url"
    return str(request.getfixturevalue(fixture)), None


@pytest.fixture
async def stores(where: tuple[str, str | None]) -> AsyncIterator[Stores]:
    url, redis_url = where
    db, clock = Database(url), Clock()
    store: SessionStore
    if redis_url is not None:
        store = RedisSessionStore(idle=IDLE, absolute=ABSOLUTE, clock=clock, url=redis_url)
    else:
        store = DatabaseSessionStore(idle=IDLE, absolute=ABSOLUTE, clock=clock, db=db)
    async with db.session() as session:
        alice, bob = await make_user(session), await make_user(session)
    yield Stores(store, clock, db, alice, bob)
    await store.close()
    await db.dispose()


async def test_a_created_session_is_found_by_its_id_and_only_its_hash_is_kept(
    stores: Stores,
) -> None:
    store, alice = stores.store, stores.alice
    plain = await store.create(alice.id, "nickname", "player", user_agent="Firefox " * 40)
    other = await store.create(alice.id, "google", "player")
    assert plain != other and len(plain) >= 40
    found = await store.get_many([plain, other, "not-a-session"])
    assert set(found) == {plain, other}
    stored = found[plain]
    assert (stored.user_id, stored.via, stored.role) == (alice.id, "nickname", "player")
    assert stored.id_hash == hash_id(plain) != plain
    assert len(stored.user_agent) == 200
    assert stored.created_at == stored.last_seen_at == stores.clock.now
    assert stored.expires_at == stores.clock.now + ABSOLUTE
    assert await store.get("") is None


async def test_signed_in_joins_the_users_and_leaves_out_pending_and_deleted(
    stores: Stores,
) -> None:
    store, alice, bob = stores.store, stores.alice, stores.bob
    mine = await store.create(alice.id, "nickname")
    bobs = await store.create(bob.id, "github")
    unfinished = await store.create(None, "google", data={"email": "a@example.com"})
    async with stores.db.reading() as session:
        found = await store.signed_in(session, [mine, bobs, unfinished, "nothing"])
    assert {plain: user.id for plain, (_, user) in found.items()} == {
        mine: alice.id,
        bobs: bob.id,
    }
    assert found[bobs][0].via == "github"
    pending = await store.get(unfinished)
    assert pending is not None and pending.user_id is None
    assert pending.data == {"email": "a@example.com"}
    await store.delete(mine)
    async with stores.db.reading() as session:
        assert set(await store.signed_in(session, [mine, bobs])) == {bobs}


async def test_a_session_unused_for_the_idle_lifetime_is_over(stores: Stores) -> None:
    store, clock = stores.store, stores.clock
    plain = await store.create(stores.alice.id, "nickname")
    clock.advance(IDLE - timedelta(seconds=1))
    stored = await store.get(plain)
    assert stored is not None
    assert await store.touch(stored)  # used: the idle lifetime starts again
    clock.advance(IDLE - timedelta(seconds=1))
    assert await store.get(plain) is not None
    clock.advance(timedelta(seconds=2))
    assert await store.get(plain) is None
    assert await store.of_user(stores.alice.id) == []
    async with stores.db.reading() as session:
        assert await store.signed_in(session, [plain]) == {}


async def test_a_session_in_use_ends_at_its_absolute_end(stores: Stores) -> None:
    store, clock = stores.store, stores.clock
    start = clock.now
    plain = await store.create(stores.alice.id, "nickname")
    while clock.now + IDLE / 2 < start + ABSOLUTE:
        clock.advance(IDLE / 2)
        stored = await store.get(plain)
        assert stored is not None
        await store.touch(stored)
    clock.advance(IDLE / 2)
    assert await store.get(plain) is None
    # A rotated session keeps the earlier absolute end it is given.
    end = clock.now + timedelta(hours=1)
    rotated = await store.create(stores.alice.id, "nickname", "moderator", expires_at=end)
    stored = await store.get(rotated)
    assert stored is not None and stored.expires_at == end and stored.role == "moderator"


async def test_touch_writes_at_most_once_a_minute(stores: Stores) -> None:
    store, clock = stores.store, stores.clock
    plain = await store.create(stores.alice.id, "nickname")
    stored = await store.get(plain)
    assert stored is not None
    clock.advance(timedelta(seconds=59))
    assert not await store.touch(stored)
    again = await store.get(plain)
    assert again is not None and again.last_seen_at == stored.created_at
    clock.advance(timedelta(seconds=1))
    assert await store.touch(stored)
    again = await store.get(plain)
    assert again is not None and again.last_seen_at == clock.now


async def test_a_deleted_session_is_not_touched_back_to_life(stores: Stores) -> None:
    store, clock = stores.store, stores.clock
    plain = await store.create(stores.alice.id, "nickname")
    stored = await store.get(plain)
    assert stored is not None
    await store.delete(plain)
    clock.advance(timedelta(minutes=5))
    await store.touch(stored)
    assert await store.get(plain) is None


async def test_ending_all_of_a_users_sessions_optionally_keeps_one(stores: Stores) -> None:
    store, alice, bob = stores.store, stores.alice, stores.bob
    first, second, third = [await store.create(alice.id, "nickname") for _ in range(3)]
    bobs = await store.create(bob.id, "nickname")
    assert await store.delete_user(alice.id, keep=second) == 2
    assert set(await store.get_many([first, second, third, bobs])) == {second, bobs}
    assert await store.delete_user(alice.id) == 1
    assert set(await store.get_many([second, bobs])) == {bobs}
    assert await store.delete_user(alice.id) == 0


async def test_a_users_sessions_listed_newest_use_first_and_ended_by_hash(
    stores: Stores,
) -> None:
    store, clock, alice, bob = stores.store, stores.clock, stores.alice, stores.bob
    old = await store.create(alice.id, "nickname", user_agent="old browser")
    clock.advance(timedelta(minutes=5))
    new = await store.create(alice.id, "google", user_agent="new browser")
    bobs = await store.create(bob.id, "nickname")
    await store.create(None, "google")  # a pending sign-in belongs to nobody
    listed = await store.of_user(alice.id)
    assert [s.user_agent for s in listed] == ["new browser", "old browser"]
    # Bob cannot end Alice's session by its hash, nor Alice an unknown one.
    assert not await store.delete_hash(bob.id, hash_id(old))
    assert not await store.delete_hash(alice.id, "0" * 64)
    assert await store.delete_hash(alice.id, hash_id(old))
    assert [s.id_hash for s in await store.of_user(alice.id)] == [hash_id(new)]
    assert set(await store.get_many([old, new, bobs])) == {new, bobs}


async def test_set_data_replaces_a_valid_sessions_data(stores: Stores) -> None:
    store, clock = stores.store, stores.clock
    plain = await store.create(None, "google", data={"step": 1})
    assert await store.set_data(plain, {"step": 2, "name": "김"})
    stored = await store.get(plain)
    assert stored is not None and stored.data == {"step": 2, "name": "김"}
    assert not await store.set_data("not-a-session", {"x": 1})
    clock.advance(IDLE)
    assert not await store.set_data(plain, {"step": 3})


async def test_the_database_store_sweeps_expired_rows(sqlite_url: str) -> None:
    db, clock = Database(sqlite_url), Clock()
    store = DatabaseSessionStore(idle=IDLE, absolute=ABSOLUTE, clock=clock, db=db)
    try:
        async with db.session() as session:
            alice = await make_user(session)
        for _ in range(3):
            await store.create(alice.id, "nickname")
        clock.advance(IDLE + timedelta(minutes=11))
        kept = await store.create(alice.id, "nickname")  # sweeps: the last sweep is old
        async with db.reading() as session:
            hashes = list(await session.scalars(select(SignInSession.id_hash)))
            assert hashes == [hash_id(kept)]
        await store.create(alice.id, "nickname")  # no sweep so soon after the last
        clock.advance(ABSOLUTE)
        assert await store.sweep() == 2
        async with db.reading() as session:
            assert await session.scalar(select(func.count()).select_from(SignInSession)) == 0
    finally:
        await db.dispose()


async def test_a_sweep_that_leaves_a_backlog_runs_again_at_the_next_sign_in(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "SWEEP_BATCH", 2)
    db, clock = Database(sqlite_url), Clock()
    store = DatabaseSessionStore(idle=IDLE, absolute=ABSOLUTE, clock=clock, db=db)

    async def rows() -> int:
        async with db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(SignInSession)) or 0)

    try:
        async with db.session() as session:
            alice = await make_user(session)
        for _ in range(5):
            await store.create(alice.id, "nickname")  # the first one swept nothing
        clock.advance(ABSOLUTE)
        await store.create(alice.id, "nickname")  # sweeps 2 of 5: a backlog
        assert await rows() == 4
        await store.create(alice.id, "nickname")  # at once again: 2 more
        assert await rows() == 3
        await store.create(alice.id, "nickname")  # the last expired one; no backlog left
        assert await rows() == 3
        await store.create(alice.id, "nickname")  # not again so soon
        assert await rows() == 4
    finally:
        await db.dispose()


async def test_delete_says_whether_it_removed_the_session_and_create_takes_an_id(
    stores: Stores,
) -> None:
    store, alice = stores.store, stores.alice
    plain = await store.create(alice.id, "google", "player")
    first, second = await asyncio.gather(store.delete(plain), store.delete(plain))
    assert sorted([first, second]) == [False, True]  # exactly one removed it
    assert await store.delete(plain) is False and await store.get(plain) is None
    chosen = await store.create(alice.id, "google", "moderator", plain="chosen-id")
    assert chosen == "chosen-id"
    found = await store.get("chosen-id")
    assert found is not None and found.role == "moderator"
