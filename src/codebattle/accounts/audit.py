"""The audit log: who changed what about whom, when and why (roles, plans, invites, ...).

`record` adds an entry to the caller's session and does not commit: the entry is written
in the same transaction as the change it describes, or not at all.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import AuditEntry, User

MAX_LIMIT = 1000


def _cut(value: object, size: int) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= size else text[: size - 1] + "…"


def record(
    session: AsyncSession,
    actor_id: int | None,
    actor_label: str,
    action: str,
    subject_user_id: int | None,
    old: object,
    new: object,
    reason: str,
    target: str | None = None,
) -> AuditEntry:
    """Add one entry to `session` (the caller commits it with its change). `old` and `new`
    are kept as text (None stays None), cut to the column's size; `target` names what the
    action was about besides a user ("flag:12", "appeal:3", "match:40")."""
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=_cut(actor_label, 64) or "",
        action=_cut(action, 32) or "",
        subject_user_id=subject_user_id,
        old=_cut(old, 128),
        new=_cut(new, 128),
        reason=reason,
        target=_cut(target, 64),
    )
    session.add(entry)
    return entry


async def entries(
    session: AsyncSession, subject_user_id: int | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The newest entries first, all of them or those about one user."""
    query = select(AuditEntry)
    if subject_user_id is not None:
        query = query.where(AuditEntry.subject_user_id == subject_user_id)
    query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return list(await session.scalars(query.limit(max(1, min(limit, MAX_LIMIT)))))


async def nicknames(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    """The nicknames of the users named in entries (actors, subjects), in one query."""
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.nickname).where(User.id.in_(ids)))
    return {user_id: nickname for user_id, nickname in rows}


async def user_label(session: AsyncSession, user_id: int | None) -> str | None:
    """How an entry names a user in its change (an assignment's old and new): "nickname
    (#id)", readable as stored and still found by id after a rename; None stays None."""
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return f"{user.nickname} (#{user_id})" if user is not None else str(user_id)


async def search(
    session: AsyncSession,
    *,
    actor_id: int | None = None,
    action: str | None = None,
    target: str | None = None,
    subject_user_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """The entries matching every filter given, newest first (by id: entries are only
    ever added). `before_id` pages on: the entries older than that one. `target` is
    matched exactly ("flag:12"), or as a prefix when it ends with ":" ("flag:")."""
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if target:
        if target.endswith(":"):
            query = query.where(AuditEntry.target.startswith(target, autoescape=True))
        else:
            query = query.where(AuditEntry.target == target)
    if subject_user_id is not None:
        query = query.where(AuditEntry.subject_user_id == subject_user_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    query = query.order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    return list(await session.scalars(query))
