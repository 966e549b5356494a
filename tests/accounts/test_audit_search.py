"""The audit log's search (actor, action, target, subject, paged by `before_id`, newest
first) and its append-only guarantee in the database itself (migration 0018's triggers):
an UPDATE or DELETE of an entry fails on SQLite and PostgreSQL, while deleting a user the
log names still works (the foreign keys become NULL, which the triggers allow)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from codebattle.accounts import audit
from codebattle.accounts.models import AuditEntry, User
from codebattle.db.session import Database


async def _people(db: Database) -> tuple[int, int, int]:
    async with db.session() as session:
        boss, opal, kim = (
            User(nickname="boss", role="admin"),
            User(nickname="opal"),
            User(nickname="kim"),
        )
        session.add_all([boss, opal, kim])
        await session.commit()
        return boss.id, opal.id, kim.id


async def test_search_filters_and_pages_newest_first(db: Database) -> None:
    boss, opal, kim = await _people(db)
    async with db.session() as session:
        audit.record(session, boss, "boss", "role", kim, "player", "moderator", "helps")
        audit.record(session, opal, "opal", "flag_decide", kim, "open", "warn", "r", "flag:12")
        audit.record(session, opal, "opal", "flag_decide", boss, "open", "dismiss", "r", "flag:13")
        audit.record(session, None, "cli", "plan", kim, "free", "pro", "gift")
        await session.commit()

    async with db.session() as session:
        everything = await audit.search(session)
        assert [e.action for e in everything] == ["plan", "flag_decide", "flag_decide", "role"]
        by_opal = await audit.search(session, actor_id=opal)
        assert [e.target for e in by_opal] == ["flag:13", "flag:12"]
        assert [e.target for e in await audit.search(session, target="flag:12")] == ["flag:12"]
        assert len(await audit.search(session, target="flag:")) == 2  # a prefix
        assert await audit.search(session, target="flag:1") == []  # exact otherwise
        about_kim = await audit.search(session, subject_user_id=kim)
        assert [e.action for e in about_kim] == ["plan", "flag_decide", "role"]
        both = await audit.search(session, action="flag_decide", subject_user_id=kim)
        assert [e.target for e in both] == ["flag:12"]
        first = await audit.search(session, limit=2)
        rest = await audit.search(session, before_id=first[-1].id, limit=2)
        assert [e.id for e in first + rest] == [e.id for e in everything]
        assert await audit.search(session, before_id=rest[-1].id) == []


async def test_the_database_refuses_to_change_or_delete_an_entry(db: Database) -> None:
    boss, _opal, kim = await _people(db)
    async with db.session() as session:
        entry = audit.record(session, boss, "boss", "role", kim, "player", "admin", "why")
        await session.commit()
        entry_id = entry.id

    for statement in (
        update(AuditEntry).where(AuditEntry.id == entry_id).values(reason="nothing happened"),
        update(AuditEntry).where(AuditEntry.id == entry_id).values(new="player"),
        update(AuditEntry).where(AuditEntry.id == entry_id).values(subject_user_id=boss),
        delete(AuditEntry).where(AuditEntry.id == entry_id),
    ):
        async with db.session() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(statement)
                await session.commit()
            await session.rollback()

    async with db.session() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("DELETE FROM audit_log"))
        await session.rollback()

    async with db.session() as session:
        (kept,) = await audit.search(session)
        assert (kept.reason, kept.new, kept.subject_user_id) == ("why", "admin", kim)


async def test_deleting_a_user_the_log_names_still_works(db: Database) -> None:
    """No code path hard-deletes users today (accounts/deletion.py anonymises); should one
    ever, the log keeps its entries with the user ids set to NULL."""
    boss, _opal, kim = await _people(db)
    async with db.session() as session:
        audit.record(session, boss, "boss", "role", kim, "player", "moderator", "helps")
        await session.commit()
    async with db.session() as session:
        await session.execute(delete(User).where(User.id.in_((boss, kim))))
        await session.commit()
    async with db.session() as session:
        (entry,) = await audit.search(session)
        assert (entry.actor_id, entry.subject_user_id) == (None, None)
        assert (entry.actor_label, entry.reason) == ("boss", "helps")


async def test_a_user_in_a_change_is_named_by_nickname_and_id(db: Database) -> None:
    """An assignment's old and new name users as "nickname (#id)": readable as stored."""
    _, opal, _ = await _people(db)
    async with db.session() as session:
        assert await audit.user_label(session, opal) == f"opal (#{opal})"
        assert await audit.user_label(session, None) is None
        assert await audit.user_label(session, 999999) == "999999"  # gone: the id
