"""The in-app feedback form's messages, kept for operators (`codebattle feedback list`, the
dashboard's inbox, where an operator marks one handled)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit
from codebattle.accounts.models import Feedback, User
from codebattle.errors import UserError
from codebattle.text import printable

CATEGORIES = ("bug", "idea", "problem", "other")
MAX_TEXT = 2000
MAX_PAGE = 300


def page_of(value: object) -> str:
    """The site path the feedback came from: a path only (never another site's address)."""
    if not isinstance(value, str):
        return ""
    path = value.strip()
    if not path.startswith("/") or path.startswith("//"):
        return ""
    return "".join(ch for ch in path if ch.isprintable())[:MAX_PAGE]


async def add(
    session: AsyncSession,
    user: User | None,
    category: object,
    text: object,
    page: object,
    locale: str,
) -> Feedback:
    if category not in CATEGORIES:
        raise UserError(422, "feedback_category_invalid")
    body = printable(text.replace("\r\n", "\n"), newlines=True) if isinstance(text, str) else ""
    if not body:
        raise UserError(422, "feedback_text_missing")
    if len(body) > MAX_TEXT:
        raise UserError(422, "feedback_text_too_long", limit=MAX_TEXT)
    item = Feedback(
        user_id=user.id if user is not None else None,
        category=str(category),
        text=body,
        page=page_of(page),
        locale=locale,
    )
    session.add(item)
    await session.commit()
    return item


async def recent(session: AsyncSession, limit: int = 50) -> list[tuple[Feedback, str | None]]:
    """The newest feedback first, each with its author's nickname (None: signed out)."""
    rows = await session.execute(
        select(Feedback, User.nickname)
        .outerjoin(User, User.id == Feedback.user_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(max(1, limit))
    )
    return [(item, nickname) for item, nickname in rows.all()]


async def mark(
    session: AsyncSession, feedback_id: int, actor: User, handled: bool, now: datetime
) -> Feedback:
    """An operator marks a message handled (or open again), written to the audit log in
    the same transaction; the caller commits. Marking it as it already is changes nothing."""
    item = await session.get(Feedback, feedback_id, with_for_update=True)
    if item is None:
        raise UserError(404, "not_found")
    if (item.handled_at is not None) == handled:
        return item
    item.handled_at, item.handled_by = (now, actor.id) if handled else (None, None)
    audit.record(
        session, actor.id, actor.nickname, "feedback", item.user_id,
        "open" if handled else "handled", "handled" if handled else "open", "",
        target=f"feedback:{item.id}",
    )  # fmt: skip
    return item
