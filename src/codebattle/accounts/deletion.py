"""Deleting an account: the person's data goes, their games and submissions stay under an
anonymous name ("deleted-<random>"), and nobody else's ratings change (no rating row is
touched: the games happened)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import billing
from codebattle.accounts.models import (
    ApiToken,
    GuardianConsent,
    Identity,
    SignInSession,
    User,
)
from codebattle.accounts.profiles import anonymous_name
from codebattle.errors import UserError
from codebattle.integrations.portone import PortOne


async def delete_account(
    session: AsyncSession,
    user_id: int,
    confirm_nickname: object,
    payments: PortOne | None = None,
) -> User:
    """Delete the account `user_id` once its nickname is typed again (`confirm_nickname`).

    Removed: email, display name, avatar, birth year and age band, the invite used, every
    sign-in identity, API token, stored session and billing key, and guardians' addresses
    (the consent's time stays, as the record that it was given). Kept: the user row under an
    anonymous nickname (games, submissions and ratings point at it), payments (accounting
    law), feedback text (not linked to anything personal once the name is gone). The billing
    key is deleted at the provider (`payments`) too, best effort, after ours is gone.
    Gift-card phone numbers are erased, and waiting exchanges closed, by the rewards'
    periodic sweep (rewards/giftcards.sweep: rewards sit above accounts), within seconds."""
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise UserError(404, "user_unknown")
    typed = confirm_nickname.strip() if isinstance(confirm_nickname, str) else ""
    if typed != user.nickname:
        raise UserError(422, "delete_confirm_mismatch")
    user.nickname = anonymous_name()
    user.email = None
    user.email_verified = False
    user.display_name = None
    user.avatar_url = None
    user.birth_year = None
    user.age_band = None
    user.invite_code = None
    user.plan_auto_renew = False
    user.deleted_at = datetime.now(UTC)
    for model in (Identity, ApiToken, SignInSession):
        await session.execute(delete(model).where(model.user_id == user_id))
    keys = await billing.take_billing_keys(session, user_id)
    await session.execute(
        update(GuardianConsent)
        .where(GuardianConsent.user_id == user_id)
        .values(guardian_email="", consent_ip=None)
    )
    await session.commit()
    await billing.forget_at_provider(payments, keys, user_id)
    return user
