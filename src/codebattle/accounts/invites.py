"""Alpha invites: codes with a use limit and an optional expiry (`codebattle invites create`),
redeemed inside the first sign-in's transaction (accounts.profiles.finish_signup)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import InviteCode
from codebattle.errors import UserError

# No 0/O, 1/I/L: a code is read aloud and typed from a message.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
MAX_CODE_LENGTH = 32  # the column's


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: object) -> str:
    """What a person typed, as stored: upper case, no spaces or dashes around groups."""
    if not isinstance(code, str):
        return ""
    return "".join(code.split()).replace("-", "").upper()[:MAX_CODE_LENGTH]


async def create(
    session: AsyncSession,
    uses: int,
    days: float | None = None,
    note: str = "",
    created_by: str = "cli",
) -> InviteCode:
    """A new code that `uses` people may redeem, until `days` from now (None: no expiry).
    The caller commits (with its audit entry)."""
    if uses < 1:
        raise UserError(422, "invite_uses_invalid")
    if days is not None and days <= 0:
        raise UserError(422, "invite_days_invalid")
    expires = datetime.now(UTC) + timedelta(days=days) if days is not None else None
    invite = InviteCode(
        code=new_code(),
        max_uses=uses,
        uses=0,
        note=note.strip()[:200],
        created_by=created_by[:64],
        expires_at=expires,
    )
    session.add(invite)
    await session.flush()
    return invite


async def listing(session: AsyncSession) -> list[InviteCode]:
    return list(await session.scalars(select(InviteCode).order_by(InviteCode.created_at)))


async def redeem(session: AsyncSession, code: object) -> str:
    """Count one use of `code`, in the caller's transaction (committed with the new user, or
    rolled back with it). One conditional UPDATE: of two people taking the last use at once,
    the database lets one row change and the other sees none changed."""
    wanted = normalise(code)
    if not wanted:
        raise UserError(422, "invite_required")
    now = datetime.now(UTC)
    result = await session.execute(
        update(InviteCode)
        .where(
            InviteCode.code == wanted,
            InviteCode.uses < InviteCode.max_uses,
            or_(InviteCode.expires_at.is_(None), InviteCode.expires_at > now),
        )
        .values(uses=InviteCode.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise UserError(422, "invite_invalid")
    return wanted
