"""The audit log: entries written in the caller's transaction, read newest first."""

from __future__ import annotations

from codebattle.accounts import audit
from codebattle.accounts.models import User
from codebattle.db.session import Database


async def test_record_is_written_with_the_callers_commit(db: Database) -> None:
    async with db.session() as session:
        admin = User(nickname="boss", role="admin")
        player = User(nickname="kim")
        session.add_all([admin, player])
        await session.commit()
        admin_id, player_id = admin.id, player.id
        audit.record(session, admin_id, "boss", "role", player_id, "player", "moderator", "helps")
        await session.rollback()  # not committed: nothing written
        assert await audit.entries(session) == []
        audit.record(session, admin_id, "boss", "role", player_id, "player", "moderator", "helps")
        audit.record(session, None, "cli", "plan", admin_id, None, "pro" * 100, "")
        await session.commit()

    async with db.session() as session:
        newest, oldest = await audit.entries(session)
        assert (newest.action, newest.actor_label, newest.old) == ("plan", "cli", None)
        assert newest.new is not None and len(newest.new) == 128  # cut to the column
        assert (oldest.actor_id, oldest.subject_user_id) == (admin_id, player_id)
        assert (oldest.old, oldest.new, oldest.reason) == ("player", "moderator", "helps")
        about_kim = await audit.entries(session, subject_user_id=player_id)
        assert [entry.id for entry in about_kim] == [oldest.id]
        assert await audit.nicknames(session, {admin_id, player_id}) == {
            admin_id: "boss",
            player_id: "kim",
        }
