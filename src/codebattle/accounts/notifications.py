"""Messages from the site to one user (a decision about them, a game voided, an appeal
answered): stored with a kind and its parameters, and put into words (`notify.<kind>` in
the catalogues) when shown, in the reader's language. Added in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import Notification
from codebattle.i18n import translate

MAX_RECENT = 200


def notify(
    session: AsyncSession, user_id: int, kind: str, params: dict[str, Any], link: str = ""
) -> Notification:
    """Add a notification (committed with the caller's change). `params` fill the text of
    `notify.<kind>`; `link` is a path on this site ("/appeals/new?flag=3")."""
    note = Notification(user_id=user_id, kind=kind[:32], params=dict(params), link=link[:200])
    session.add(note)
    return note


async def unread_count(session: AsyncSession, user_id: int) -> int:
    """How many are unread: one COUNT on (user_id, read_at), which an index covers."""
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


async def recent(session: AsyncSession, user_id: int, limit: int = 50) -> list[Notification]:
    """The newest first."""
    return list(
        await session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(max(1, min(limit, MAX_RECENT)))
        )
    )


async def mark_read(
    session: AsyncSession,
    user_id: int,
    ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Mark the user's unread notifications read (these `ids`, or all); how many. Never
    another user's. Does not commit."""
    query = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now or datetime.now(UTC))
    )
    if ids is not None:
        if not ids:
            return 0
        query = query.where(Notification.id.in_(list(ids)))
    result = await session.execute(query.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def text_of(note: Notification, locale: str) -> str:
    """The notification in words; a kind or parameter this version does not know reads as
    its key rather than failing the page."""
    params = {k: v for k, v in (note.params or {}).items() if isinstance(k, str)}
    try:
        return translate(f"notify.{note.kind}", locale, **params)
    except (KeyError, IndexError, ValueError):
        return translate(f"notify.{note.kind}", locale)
