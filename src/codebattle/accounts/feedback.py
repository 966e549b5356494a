"""The in-app feedback form's messages, kept for operators (`codebattle feedback list`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
