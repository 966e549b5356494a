"""accounts/identities.py on SQLite and PostgreSQL: linking, the last way to sign in, the
email match that offers and never merges, and the settings page's rows."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from codebattle.accounts import identities
from codebattle.accounts.models import Identity, User
from codebattle.accounts.providers import Profile
from codebattle.db.session import Database
from codebattle.errors import UserError
from tests.support.factories import make_user


async def pairs(db: Database, user_id: int) -> list[tuple[str, str]]:
    async with db.session() as session:
        return sorted(
            (i.provider, i.subject) for i in await identities.identities_of(session, user_id)
        )


async def test_link_unlink_and_the_last_way(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session, "linda")
        other = await make_user(session, "otto")
        await session.commit()
        uid, other_id = user.id, other.id
    kakao = Profile(provider="kakao", subject="11", email="l@kakao.com", email_verified=True)
    async with db.session() as session:
        await identities.link(session, uid, kakao)
        await identities.link(session, uid, kakao)  # the same again changes nothing
    assert await pairs(db, uid) == [("kakao", "11"), ("nickname", "linda")]
    async with db.session() as session:
        assert (await identities.user_of(session, "kakao", "11")).id == uid  # type: ignore[union-attr]
        with pytest.raises(UserError) as taken:
            await identities.link(session, other_id, kakao)
        assert (taken.value.status, taken.value.key) == (409, "identity_taken")
        with pytest.raises(UserError) as second:
            await identities.link(session, uid, Profile(provider="kakao", subject="12"))
        assert second.value.key == "identity_provider_linked"
    # In production the nickname is no way in: Kakao is the last one there.
    async with db.session() as session:
        with pytest.raises(UserError) as last:
            await identities.unlink(session, uid, "kakao", nickname_sign_in=False)
        assert (last.value.status, last.value.key) == (409, "identity_last")
        with pytest.raises(UserError) as unknown:
            await identities.unlink(session, uid, "naver", nickname_sign_in=True)
        assert unknown.value.status == 404
        rows = await identities.sign_in_methods(session, uid, ["kakao", "naver"], False)
        assert [(r.provider, r.linked, r.can_unlink, r.can_link) for r in rows] == [
            ("kakao", True, False, False),
            ("naver", False, False, True),
        ]
    async with db.session() as session:
        await identities.unlink(session, uid, "kakao", nickname_sign_in=True)
    assert await pairs(db, uid) == [("nickname", "linda")]
    assert await pairs(db, other_id) == [("nickname", "otto")]


async def test_email_match_needs_a_verified_address_and_a_live_account(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session, "mina")
        user.email, user.email_verified = "Mina@Example.com", True
        gone = User(nickname="gone", email="gone@example.com")
        gone.deleted_at = user.created_at
        gone.identities.append(Identity(provider="github", subject="9"))
        session.add(gone)
        await session.commit()
        uid = user.id
    verified = Profile(
        provider="google", subject="g", email="mina@example.com", email_verified=True
    )
    async with db.session() as session:
        match = await identities.email_match(session, verified)
        assert match is not None and match.id == uid
        unverified = Profile(provider="google", subject="g", email="mina@example.com")
        assert await identities.email_match(session, unverified) is None
        deleted = Profile(
            provider="naver", subject="n", email="gone@example.com", email_verified=True
        )
        assert await identities.email_match(session, deleted) is None
        assert await identities.user_of(session, "github", "9") is None  # a deleted account


async def test_two_unlinks_at_once_leave_one_way_to_sign_in_on_postgresql(pg_url: str) -> None:
    """Two tabs unlink Kakao and Naver at the same moment: each alone would leave the other,
    together they would leave none. The user's row lock lets exactly one through."""
    db = Database(pg_url)
    try:
        async with db.session() as session:
            user = await make_user(session, "twotabs")
            session.add(Identity(user_id=user.id, provider="kakao", subject="k1"))
            session.add(Identity(user_id=user.id, provider="naver", subject="n1"))
            await session.commit()
            uid = user.id
        async with db.session() as first, db.session() as second:
            # Both connections are open and in a transaction before either unlink begins,
            # so both unlinks read before either commits unless the lock orders them.
            await first.execute(select(1))
            await second.execute(select(1))
            results = await asyncio.gather(
                identities.unlink(first, uid, "kakao", nickname_sign_in=False),
                identities.unlink(second, uid, "naver", nickname_sign_in=False),
                return_exceptions=True,
            )
        refused = [r for r in results if isinstance(r, UserError)]
        assert results.count(None) == 1  # one unlink went through
        assert [(r.status, r.key) for r in refused] == [(409, "identity_last")]
        left = [p for p, _ in await pairs(db, uid) if p != identities.NICKNAME]
        assert len(left) == 1 and left[0] in ("kakao", "naver")
    finally:
        await db.dispose()
