"""Feedback marked handled and open again (accounts/feedback.mark), on SQLite and
PostgreSQL: who and when are kept, each change is audited once, marking it as it already is
changes nothing, an unknown message is a 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from codebattle.accounts import feedback
from codebattle.accounts.models import AuditEntry, Feedback, User
from codebattle.db.session import Database
from codebattle.errors import UserError
from tests.support.factories import make_user

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def test_feedback_is_marked_handled_once_and_opened_again(db: Database) -> None:
    async with db.session() as session:
        operator = await make_user(session, "opal")
        operator.role = "operator"
        await session.commit()
        item = await feedback.add(session, None, "bug", "the timer froze", "/play", "en")
        item_id, operator_id = item.id, operator.id
    for handled in (True, True, False):
        async with db.session() as session:
            actor = await session.get(User, operator_id)
            assert actor is not None
            await feedback.mark(session, item_id, actor, handled, NOW)
            await session.commit()
            if handled:
                stored = await session.get(Feedback, item_id)
                assert stored is not None
                assert stored.handled_at == NOW and stored.handled_by == operator_id
    async with db.reading() as session:
        stored = await session.get(Feedback, item_id)
        assert stored is not None and stored.handled_at is None and stored.handled_by is None
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.target == f"feedback:{item_id}")
            )
        )
        assert [(e.old, e.new) for e in entries] == [("open", "handled"), ("handled", "open")]
        actor = await session.get(User, operator_id)
        assert actor is not None
        with pytest.raises(UserError) as refused:
            await feedback.mark(session, 10**6, actor, True, NOW)
        assert refused.value.status == 404
