"""What the operators' users pages read: a search by nickname or email, and one user's
whole file (plan, role, sanctions, flags, reports by and about them, payments, the audit
entries about them, their appeals). Read only: changes go through accounts/ (plans,
roles, sanctions), which audit them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit
from codebattle.accounts.models import AuditEntry, Payment, Sanction, User
from codebattle.fairplay.models import Flag, PlayerReport
from codebattle.ops.models import Appeal

SEARCH_LIMIT = 50
FILE_LIMIT = 50  # rows per section of a user's file (the newest)


def _pattern(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def search_users(session: AsyncSession, q: str, limit: int = SEARCH_LIMIT) -> list[User]:
    """Users whose nickname or email contains `q` (any case), exact nicknames first, then
    by nickname; at most `limit` (50). An empty query finds nobody."""
    text = q.strip()
    if not text:
        return []
    pattern = _pattern(text)
    query = (
        select(User)
        .where(
            or_(
                func.lower(User.nickname).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
        .order_by((func.lower(User.nickname) == text.lower()).desc(), User.nickname)
        .limit(max(1, min(limit, SEARCH_LIMIT)))
    )
    return list(await session.scalars(query))


async def user_file(session: AsyncSession, user_id: int) -> dict[str, Any] | None:
    """Everything an operator reads about one user, newest first in each section; None if
    there is no such user. Rows are ORM objects; `names` maps the user ids they mention
    (reporters, actors, operators) to nicknames."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    sanctions = list(
        await session.scalars(
            select(Sanction)
            .where(Sanction.user_id == user_id)
            .order_by(Sanction.created_at.desc(), Sanction.id.desc())
            .limit(FILE_LIMIT)
        )
    )
    flags = list(
        await session.scalars(
            select(Flag)
            .where(Flag.user_id == user_id)
            .order_by(Flag.created_at.desc(), Flag.id.desc())
            .limit(FILE_LIMIT)
        )
    )
    reports_about = await _reports(session, PlayerReport.reported_id == user_id)
    reports_by = await _reports(session, PlayerReport.reporter_id == user_id)
    payments = list(
        await session.scalars(
            select(Payment)
            .where(Payment.user_id == user_id)
            .order_by(Payment.created_at.desc())
            .limit(FILE_LIMIT)
        )
    )
    entries = await audit.search(session, subject_user_id=user_id, limit=FILE_LIMIT)
    appeals = list(
        await session.scalars(
            select(Appeal)
            .where(Appeal.user_id == user_id)
            .order_by(Appeal.created_at.desc(), Appeal.id.desc())
            .limit(FILE_LIMIT)
        )
    )
    ids = _mentioned(sanctions, reports_about + reports_by, entries)
    return {
        "user": user,
        "sanctions": sanctions,
        "flags": flags,
        "reports_about": reports_about,
        "reports_by": reports_by,
        "payments": payments,
        "audit": entries,
        "appeals": appeals,
        "names": await audit.nicknames(session, ids),
    }


async def _reports(session: AsyncSession, where: Any) -> list[PlayerReport]:
    query = select(PlayerReport).where(where)
    query = query.order_by(PlayerReport.created_at.desc(), PlayerReport.id.desc())
    return list(await session.scalars(query.limit(FILE_LIMIT)))


def _mentioned(
    sanctions: list[Sanction], reports: list[PlayerReport], entries: list[AuditEntry]
) -> set[int]:
    ids: set[int] = set()
    for s in sanctions:
        ids.update(i for i in (s.created_by, s.lifted_by) if i is not None)
    for r in reports:
        ids.update((r.reporter_id, r.reported_id))
    for e in entries:
        ids.update(i for i in (e.actor_id, e.subject_user_id) if i is not None)
    return ids


async def user_by_nickname(session: AsyncSession, nickname: str) -> User | None:
    """The user with this nickname (any case), for the audit log's filters."""
    text = nickname.strip()
    if not text:
        return None
    return await session.scalar(
        select(User).where(func.lower(User.nickname) == text.lower()).limit(1)
    )
