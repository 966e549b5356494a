"""Sockets that arrive together share one read to find their users (web/security.SignIns),
and nothing is kept from one read to the next: a revoked token, a deleted or unknown user is
refused on the next socket, as with a read of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from codebattle.accounts import service as accounts
from codebattle.accounts.models import User
from codebattle.accounts.sessions import DatabaseSessionStore, SessionStore
from codebattle.db.session import Database
from codebattle.web.security import REFUSED, SESSION, TOKEN, SignIns
from tests.support.factories import make_user


def socket(token: str | None = None, sid: str | None = None) -> HTTPConnection:
    """A socket's connection as the app sees it (SessionMiddleware has set its session)."""
    headers = [(b"authorization", f"Bearer {token}".encode())] if token is not None else []
    session: dict[str, Any] = {"sid": sid} if sid is not None else {}
    return HTTPConnection({"type": "websocket", "headers": headers, "session": session})


def store_of(db: Database) -> DatabaseSessionStore:
    return DatabaseSessionStore(idle=timedelta(days=1), absolute=timedelta(days=30), db=db)


async def session_of(store: SessionStore, user: User) -> str:
    """A signed-in session's id (what the cookie carries)."""
    return await store.create(user.id, accounts.NICKNAME_SESSION, user.role)


class Statements:
    """SELECTs the database runs, counted from the engine's events."""

    def __init__(self, db: Database) -> None:
        self.selects = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.selects += statement.lstrip().upper().startswith("SELECT")


async def two_users_with_tokens(db: Database) -> tuple[User, User, str, str]:
    async with db.session() as session:
        alice, bob = await make_user(session), await make_user(session)
        _, alice_token = await accounts.create_token(session, alice, "a")
        _, bob_token = await accounts.create_token(session, bob, "b")
    async with db.reading() as session:  # record the tokens' first use before counting
        await accounts.users_by_tokens(session, [alice_token, bob_token])
    return alice, bob, alice_token, bob_token


async def test_fifty_sockets_at_once_share_one_read(db: Database) -> None:
    alice, bob, alice_token, bob_token = await two_users_with_tokens(db)
    store = store_of(db)
    alices = await session_of(store, alice)
    sign_ins, statements = SignIns(db, store), Statements(db)
    sockets = [
        socket(token=alice_token) if i % 3 == 0 else
        socket(token=bob_token) if i % 3 == 1 else
        socket(sid=alices)
        for i in range(50)
    ]  # fmt: skip
    answers = await asyncio.gather(*(sign_ins.who(s, nickname_sign_in=True) for s in sockets))
    expected = [(alice.id, TOKEN), (bob.id, TOKEN), (alice.id, SESSION)]
    assert [(user.id if user else None, how) for user, how in answers] == [
        expected[i % 3] for i in range(50)
    ]
    assert sign_ins.reads == 1
    assert statements.selects <= 2  # one query for the tokens, one for the sessions


async def test_a_token_revoked_between_two_sockets_is_refused_on_the_second(
    db: Database,
) -> None:
    alice, _, alice_token, _ = await two_users_with_tokens(db)
    sign_ins = SignIns(db, store_of(db))
    user, how = await sign_ins.who(socket(token=alice_token), nickname_sign_in=True)
    assert user is not None and (user.id, how) == (alice.id, TOKEN)
    async with db.session() as session:
        (token,) = await accounts.tokens(session, alice)
        await accounts.revoke_token(session, alice, token.id)
    assert await sign_ins.who(socket(token=alice_token), nickname_sign_in=True) == (None, REFUSED)
    assert sign_ins.reads == 2


async def test_a_deleted_or_unknown_user_is_refused(db: Database) -> None:
    alice, bob, _, bob_token = await two_users_with_tokens(db)
    store = store_of(db)
    bobs, alices = await session_of(store, bob), await session_of(store, alice)
    sign_ins = SignIns(db, store)
    user, how = await sign_ins.who(socket(sid=bobs), nickname_sign_in=True)
    assert user is not None and (user.id, how) == (bob.id, SESSION)
    async with db.session() as session:
        await session.execute(delete(User).where(User.id == bob.id))
        await session.commit()
    refused = await asyncio.gather(
        sign_ins.who(socket(sid=bobs), nickname_sign_in=True),
        sign_ins.who(socket(token=bob_token), nickname_sign_in=True),
        sign_ins.who(socket(sid="not-a-session"), nickname_sign_in=True),
        sign_ins.who(socket(token="cb_not-a-token"), nickname_sign_in=True),
        sign_ins.who(socket(), nickname_sign_in=True),
    )
    assert refused == [(None, ""), (None, REFUSED), (None, ""), (None, REFUSED), (None, "")]
    # A nickname session is still refused when nickname sign-in is off (production).
    assert await sign_ins.who(socket(sid=alices), nickname_sign_in=False) == (None, "")
    # An ended session names nobody.
    await store.delete(alices)
    assert await sign_ins.who(socket(sid=alices), nickname_sign_in=True) == (None, "")


class FailingOnce:
    """The database, whose first read fails."""

    def __init__(self, db: Database) -> None:
        self.db, self.failed = db, False

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        if not self.failed:
            self.failed = True
            raise OSError("the database went away")
        async with self.db.reading() as session:
            yield session


async def test_a_failed_read_fails_the_sockets_waiting_for_it_and_not_the_next(
    db: Database,
) -> None:
    alice, _, alice_token, _ = await two_users_with_tokens(db)
    sign_ins = SignIns(cast(Database, FailingOnce(db)), store_of(db))
    failed = await asyncio.gather(
        *(sign_ins.who(socket(token=alice_token), nickname_sign_in=True) for _ in range(3)),
        return_exceptions=True,
    )
    assert [type(outcome) for outcome in failed] == [OSError] * 3
    user, _ = await sign_ins.who(socket(token=alice_token), nickname_sign_in=True)
    assert user is not None and user.id == alice.id
    assert sign_ins.reads == 2


async def test_a_socket_gone_while_waiting_leaves_the_others_their_answer(db: Database) -> None:
    alice, _, alice_token, _ = await two_users_with_tokens(db)
    sign_ins = SignIns(db, store_of(db))
    waiting = [
        asyncio.create_task(sign_ins.who(socket(token=alice_token), nickname_sign_in=True))
        for _ in range(3)
    ]
    await asyncio.sleep(0)
    waiting[1].cancel()
    first, _, last = await asyncio.gather(*waiting, return_exceptions=True)
    assert first == last and isinstance(first, tuple) and first[0] is not None
    assert first[0].id == alice.id and waiting[1].cancelled()
