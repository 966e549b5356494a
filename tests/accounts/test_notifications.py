"""Notifications (accounts/notifications.py), on SQLite and PostgreSQL: added in the
caller's transaction, counted unread, listed newest first, marked read (some or all, never
another user's), put into words in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime

from codebattle.accounts import notifications
from codebattle.db.session import Database
from tests.support.factories import make_user

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def test_notify_count_list_and_mark_read(db: Database) -> None:
    async with db.session() as session:
        ann, bob = await make_user(session), await make_user(session)
        first = notifications.notify(session, ann.id, "rating_released", {"match": 4})
        second = notifications.notify(
            session, ann.id, "flag_warned", {"reason": "Pasted code."}, "/appeals/new?flag=9"
        )
        third = notifications.notify(session, ann.id, "sanction_lifted", {"reason": "Granted."})
        other = notifications.notify(session, bob.id, "rating_released", {"match": 4})
        await session.commit()
        ids = (first.id, second.id, third.id, other.id)
    async with db.session() as session:
        assert await notifications.unread_count(session, ann.id) == 3
        listed = await notifications.recent(session, ann.id, 2)
        assert [n.id for n in listed] == [ids[2], ids[1]]  # the newest first
        assert listed[1].link == "/appeals/new?flag=9"
        assert notifications.text_of(listed[1], "en") == (
            "You received a fair-play warning. Reason: Pasted code."
        )
        korean = notifications.text_of(listed[1], "ko")
        assert korean == "공정 플레이 경고를 받았습니다. 사유: Pasted code."
        assert await notifications.mark_read(session, ann.id, [ids[0], ids[3]], NOW) == 1
        await session.commit()
    async with db.session() as session:
        assert await notifications.unread_count(session, ann.id) == 2
        assert await notifications.unread_count(session, bob.id) == 1  # not Ann's to mark
        assert await notifications.mark_read(session, ann.id, [], NOW) == 0
        assert await notifications.mark_read(session, ann.id, None, NOW) == 2
        await session.commit()
    async with db.reading() as session:
        assert await notifications.unread_count(session, ann.id) == 0
        assert all(n.read_at == NOW for n in await notifications.recent(session, ann.id))


async def test_a_text_missing_a_parameter_still_reads(db: Database) -> None:
    async with db.session() as session:
        user = await make_user(session)
        note = notifications.notify(session, user.id, "flag_suspended", {"reason": "x"})
        unknown = notifications.notify(session, user.id, "no_such_kind", {})
        await session.commit()
        assert "{until}" in notifications.text_of(note, "en")
        assert notifications.text_of(unknown, "en") == "notify.no_such_kind"
