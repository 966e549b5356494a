"""Sanctions (accounts/sanctions.py), on SQLite and PostgreSQL: imposed and lifted with the
user's ban and suspension columns worked out again from the sanctions in force (lifting
one of two suspensions leaves the other), lifts audited, who may play ranked and earn
rewards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from codebattle.accounts import profiles, sanctions
from codebattle.accounts.models import BAN, SUSPEND, WARN, AuditEntry, Notification, User
from codebattle.db.session import Database
from codebattle.errors import UserError
from tests.support.factories import make_user

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def _player(db: Database) -> int:
    async with db.session() as session:
        user = await make_user(session)
        await session.commit()
        return user.id


async def _user(db: Database, user_id: int) -> User:
    async with db.reading() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def test_lifting_one_of_two_suspensions_leaves_the_other(db: Database) -> None:
    user_id = await _player(db)
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        short = await sanctions.impose(
            session, user, SUSPEND, "Pasted code.", None, days=3, flag_id=None, now=NOW
        )
        long = await sanctions.impose(
            session, user, SUSPEND, "Again.", None, days=7, flag_id=None, now=NOW
        )
        await session.commit()
        short_id, long_id = short.id, long.id
    assert (await _user(db, user_id)).suspended_until == NOW + timedelta(days=7)
    async with db.session() as session:
        await sanctions.lift(session, long_id, None, "Appeal granted.", NOW + timedelta(days=1))
        await session.commit()
    user = await _user(db, user_id)
    assert user.suspended_until == NOW + timedelta(days=3)
    assert not sanctions.may_earn_rewards(user, NOW + timedelta(days=1))
    assert sanctions.may_earn_rewards(user, NOW + timedelta(days=3, seconds=1))
    with pytest.raises(UserError) as caught:
        sanctions.check_ranked(user, NOW + timedelta(days=2))
    assert (caught.value.status, caught.value.key) == (403, "suspended")
    assert caught.value.params == {"until": "2026-03-05"}  # noon UTC is 21:00 in Seoul
    sanctions.check_ranked(user, NOW + timedelta(days=3, seconds=1))
    async with db.session() as session:
        await sanctions.lift(session, short_id, None, "Both granted.", NOW + timedelta(days=1))
        await session.commit()
        assert [s.id for s in await sanctions.of_user(session, user_id)] == [long_id, short_id]
        assert await sanctions.active(session, user_id, NOW + timedelta(days=1)) == []
    assert (await _user(db, user_id)).suspended_until is None


async def test_a_ban_restricts_the_account_until_lifted(db: Database) -> None:
    user_id = await _player(db)
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        ban = await sanctions.impose(
            session, user, BAN, "Cheated.", None, days=None, flag_id=None, now=NOW
        )
        warn = await sanctions.impose(
            session, user, WARN, "Careful.", None, days=None, flag_id=None, now=NOW
        )
        await session.commit()
        ban_id = ban.id
        assert warn.ends_at is None and ban.ends_at is None
    user = await _user(db, user_id)
    assert user.banned_at == NOW and user.suspended_until is None
    assert profiles.restriction(user) == "account_banned"
    assert profiles.restriction(user, ban=False) is None
    assert not sanctions.may_earn_rewards(user, NOW)
    with pytest.raises(UserError) as caught:
        sanctions.check_ranked(user, NOW)
    assert caught.value.key == "account_banned"
    async with db.session() as session:
        assert {s.kind for s in await sanctions.active(session, user_id, NOW)} == {BAN, WARN}
        await sanctions.lift(session, ban_id, None, "Appeal granted.", NOW)
        await session.commit()
    user = await _user(db, user_id)
    assert user.banned_at is None and profiles.restriction(user) is None
    async with db.reading() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.target == f"sanction:{ban_id}")
        )
        assert entry is not None
        assert (entry.action, entry.subject_user_id, entry.old) == ("sanction_lift", user_id, BAN)
        kinds = list(
            await session.scalars(select(Notification.kind).where(Notification.user_id == user_id))
        )
        assert kinds == ["sanction_lifted"]


async def test_lift_and_impose_refuse_what_they_should(db: Database) -> None:
    user_id = await _player(db)
    async with db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        for kind, days, key in [("scold", None, "sanction_kind_unknown"),
                                (SUSPEND, None, "suspension_days_invalid"),
                                (SUSPEND, 0, "suspension_days_invalid")]:  # fmt: skip
            with pytest.raises(UserError) as caught:
                await sanctions.impose(
                    session, user, kind, "x", None, days=days, flag_id=None, now=NOW
                )
            assert caught.value.key == key
        warn = await sanctions.impose(
            session, user, WARN, "Careful.", None, days=None, flag_id=None, now=NOW
        )
        await session.commit()
        warn_id = warn.id
    async with db.session() as session:
        with pytest.raises(UserError) as caught:
            await sanctions.lift(session, 999_999, None, "x", NOW)
        assert (caught.value.status, caught.value.key) == (404, "sanction_unknown")
        await sanctions.lift(session, warn_id, None, "Sorry.", NOW)
        await session.commit()
    async with db.session() as session:
        with pytest.raises(UserError) as caught:
            await sanctions.lift(session, warn_id, None, "Again.", NOW)
        assert (caught.value.status, caught.value.key) == (409, "sanction_lifted_already")
