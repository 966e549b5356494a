"""Accounts: nickname sign-in (outside production, players only), users by identity,
personal API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import audit
from codebattle.accounts.models import ApiToken, Identity, User
from codebattle.errors import UserError

NICKNAME = re.compile(r"^[0-9A-Za-z_\-\uac00-\ud7a3]{2,20}$")
TOKEN_PREFIX = "cb_"  # noqa: S105 - a label, not a secret
MAX_TOKENS = 20


def check_nickname(nickname: object) -> str:
    if not isinstance(nickname, str) or not NICKNAME.match(nickname.strip()):
        raise UserError(422, "nickname_invalid")
    return nickname.strip()


async def user_by_identity(session: AsyncSession, provider: str, subject: str) -> User | None:
    return await session.scalar(
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.provider == provider, Identity.subject == subject)
    )


NICKNAME_SESSION = "nickname"  # how a session was opened; sessions from before say nothing


def nickname_session_valid(user: User, via: object, nickname_sign_in: bool) -> bool:
    """Whether a session cookie still speaks for `user`. A session opened by nickname
    (every session without `via`) ends when nickname sign-in is switched off (production)
    or the user is given a role above player."""
    if (via or NICKNAME_SESSION) != NICKNAME_SESSION:
        return True
    return nickname_sign_in and nickname_sign_in_allowed(user)


def nickname_sign_in_allowed(user: User) -> bool:
    """Nickname sign-in has no password, so it never opens an account above player:
    moderators, operators and admins use an API token (`codebattle users token`)."""
    return user.role == "player"


async def sign_in_nickname(session: AsyncSession, nickname: object, locale: str) -> User:
    """The player with this nickname identity, created on first sign-in."""
    user = await _nickname_user(session, nickname, locale)
    if not nickname_sign_in_allowed(user):
        raise UserError(403, "nickname_sign_in_staff")
    return user


async def _nickname_user(session: AsyncSession, nickname: object, locale: str) -> User:
    """The user with this nickname identity, created if there is none."""
    name = check_nickname(nickname)
    subject = name.lower()
    user = await user_by_identity(session, "nickname", subject)
    if user is not None:
        return user
    # Nothing to ask on first sign-in: the nickname is chosen, no terms page (development).
    user = User(nickname=name, locale=locale, onboarded_at=datetime.now(UTC))
    user.identities.append(Identity(provider="nickname", subject=subject))
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:  # a race with another sign-in, or the nickname is taken
        await session.rollback()
        user = await user_by_identity(session, "nickname", subject)
        if user is None:
            raise UserError(409, "nickname_taken") from None
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, user: User, name: object) -> tuple[ApiToken, str]:
    """A new token; the plain text is returned once and never stored."""
    label = name.strip()[:64] if isinstance(name, str) and name.strip() else "token"
    active = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if len(list(active)) >= MAX_TOKENS:
        raise UserError(422, "too_many_tokens", limit=MAX_TOKENS)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=label, token_hash=hash_token(plain), prefix=plain[:9])
    session.add(token)
    await session.commit()
    return token, plain


async def tokens(session: AsyncSession, user: User) -> list[ApiToken]:
    return list(
        await session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id)
        )
    )


async def revoke_token(session: AsyncSession, user: User, token_id: int) -> None:
    token = await session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise UserError(404, "token_unknown")
    token.revoked_at = datetime.now(UTC)
    await session.commit()


async def user_by_token(session: AsyncSession, plain: str) -> User | None:
    return (await users_by_tokens(session, [plain])).get(plain)


async def users_by_tokens(
    session: AsyncSession, plains: Iterable[str], *, touch: bool = True
) -> dict[str, User]:
    """The users of those of these API tokens (plain text) that are valid and not revoked,
    in one query; each token's last use is recorded (at most once a minute) if `touch`
    (not in a preview, whose database keeps no token's use: decision 0030)."""
    hashes = {
        hash_token(plain): plain
        for plain in plains
        if plain.startswith(TOKEN_PREFIX) and len(plain) <= 100
    }
    if not hashes:
        return {}
    found = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash.in_(hashes))
        )
    ).all()
    valid = [(token, user) for token, user in found if token.revoked_at is None]
    if not touch:
        return {hashes[token.token_hash]: user for token, user in valid}
    now = datetime.now(UTC)
    stale = [
        token
        for token, _ in valid
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60
    ]
    if stale:
        # A write of its own, after the reads' transaction: the caller may be reading.
        await session.commit()
        for token in stale:
            token.last_used_at = now
        await session.commit()
    return {hashes[token.token_hash]: user for token, user in valid}


async def users_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, User]:
    """The users with these ids that exist, in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {
        user.id: user for user in await session.scalars(select(User).where(User.id.in_(wanted)))
    }


async def ensure_user(session: AsyncSession, nickname: str) -> User:
    """For operators (`codebattle users token`): the nickname's user, created if needed,
    whatever its role (the operator has the server's command line)."""
    return await _nickname_user(session, nickname, "ko")


ROLES = ("player", "moderator", "operator", "admin")


async def set_role(
    session: AsyncSession,
    nickname: str,
    role: str,
    *,
    reason: str,
    actor: User | None = None,
    actor_label: str = "cli",
) -> tuple[User, str]:
    """For operators (`codebattle users role`, later the operator dashboard): give the user
    a role, with the audit entry (who, old → new, why) in the same transaction. `actor` is
    the signed-in user who does it (None from the command line, `actor_label` says who).
    The user's sessions are issued again with the new role on their next request
    (app.identify). Returns the user and the role they had."""
    if role not in ROLES:
        raise UserError(422, "role_unknown")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise UserError(422, "role_reason_required")
    user = await session.scalar(select(User).where(User.nickname == nickname).with_for_update())
    if user is None:
        raise UserError(404, "user_unknown")
    old = user.role
    user.role = role
    label = actor.nickname if actor is not None else actor_label
    audit.record(session, actor.id if actor else None, label, "role", user.id, old, role, reason)
    await session.commit()
    return user, old
