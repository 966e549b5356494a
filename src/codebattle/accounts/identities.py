"""Sign-in identities of a user: find the user a provider's profile names, link and unlink
providers, and the email match that offers (never performs) a sign-in to another account.

An email that matches an existing account does not merge the accounts: whoever controls a
provider account with that address would otherwise take over ours. The person is offered
to sign in to that account first and to link the provider from its settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import Identity, User
from codebattle.accounts.providers import Profile, ProfileError, github, google, kakao, naver
from codebattle.errors import UserError

NICKNAME = "nickname"  # the development sign-in's identities (accounts.service)

_NORMALISERS: dict[str, Callable[[Mapping[str, Any]], Profile]] = {
    "google": google.profile,
    "github": lambda data: github.profile(data.get("user") or {}, data.get("emails")),
    "kakao": kakao.profile,
    "naver": naver.profile,
}


def profile_of(provider: str, data: Mapping[str, Any]) -> Profile:
    """Our profile from a provider's JSON (integrations.oauth.OAuthClients.profile_data).
    Raises ProfileError when it lacks what we need."""
    normalise = _NORMALISERS.get(provider)
    if normalise is None or not isinstance(data, Mapping):
        raise ProfileError(provider)
    return normalise(data)


def profile_dict(profile: Profile) -> dict[str, Any]:
    """The profile as kept with an unfinished first sign-in (JSON)."""
    return asdict(profile)


def profile_from_dict(data: Mapping[str, Any]) -> Profile:
    """The profile back from `profile_dict` (the welcome page's side)."""
    fields = Profile.__dataclass_fields__
    return Profile(**{k: v for k, v in data.items() if k in fields})


async def user_of(session: AsyncSession, provider: str, subject: str) -> User | None:
    """The user this provider's subject signs in as (a deleted account signs in as nobody)."""
    user = await session.scalar(
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.provider == provider, Identity.subject == subject)
    )
    return user if user is not None and user.deleted_at is None else None


async def identities_of(session: AsyncSession, user_id: int) -> list[Identity]:
    return list(
        await session.scalars(
            select(Identity).where(Identity.user_id == user_id).order_by(Identity.id)
        )
    )


def sign_in_ways(identities: list[Identity], nickname_sign_in: bool) -> list[Identity]:
    """The identities that can sign in on this site: providers', and the nickname only
    where nickname sign-in exists (never in production)."""
    return [i for i in identities if i.provider != NICKNAME or nickname_sign_in]


async def _lock_user(session: AsyncSession, user_id: int) -> None:
    """Take the user's row for this transaction, so that two links or unlinks of one user
    run one after the other and each counts what the other left: on PostgreSQL a row lock
    (SELECT ... FOR UPDATE, held until commit); on SQLite the session's BEGIN IMMEDIATE
    (db.session) already holds the one write lock from this first statement on."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def link(session: AsyncSession, user_id: int, profile: Profile) -> Identity:
    """Add the provider's identity to this user. Refused when another account has it
    (409 identity_taken) or this user already has another account of that provider
    (409 identity_provider_linked); linking the same one again changes nothing."""
    await _lock_user(session, user_id)
    existing = await session.scalar(
        select(Identity).where(
            Identity.provider == profile.provider, Identity.subject == profile.subject
        )
    )
    if existing is not None:
        if existing.user_id != user_id:
            raise UserError(409, "identity_taken", provider=label(profile.provider))
        return existing
    mine = await identities_of(session, user_id)
    if any(i.provider == profile.provider for i in mine):
        raise UserError(409, "identity_provider_linked", provider=label(profile.provider))
    identity = Identity(
        user_id=user_id,
        provider=profile.provider,
        subject=profile.subject,
        email=profile.email,
    )
    session.add(identity)
    try:
        await session.commit()
    except IntegrityError:  # the same identity linked at the same moment elsewhere
        await session.rollback()
        raise UserError(409, "identity_taken", provider=label(profile.provider)) from None
    return identity


async def unlink(
    session: AsyncSession, user_id: int, provider: str, nickname_sign_in: bool
) -> None:
    """Remove the user's identity of this provider, unless it is the last way to sign in
    (409 identity_last). Two unlinks at once (two tabs) cannot both pass the count: the
    user's row is locked first, and the second one counts after the first one's commit."""
    await _lock_user(session, user_id)
    mine = await identities_of(session, user_id)
    target = [i for i in mine if i.provider == provider]
    if not target:
        raise UserError(404, "identity_unknown", provider=label(provider))
    remaining = [i for i in sign_in_ways(mine, nickname_sign_in) if i.provider != provider]
    if not remaining:
        raise UserError(409, "identity_last", provider=label(provider))
    for identity in target:
        await session.delete(identity)
    await session.commit()


async def email_match(session: AsyncSession, profile: Profile) -> User | None:
    """The existing account with the profile's address, when the provider vouches for the
    address (an unverified one proves nothing and is never matched)."""
    if not profile.email or not profile.email_verified:
        return None
    return await session.scalar(
        select(User)
        .where(
            func.lower(User.email) == profile.email.lower(),
            User.deleted_at.is_(None),
        )
        .order_by(User.id)
        .limit(1)
    )


async def providers_of(session: AsyncSession, user_id: int) -> list[str]:
    """The providers this user signs in with (the nickname left out)."""
    return [i.provider for i in await identities_of(session, user_id) if i.provider != NICKNAME]


LABELS = {"google": "Google", "github": "GitHub", "kakao": "Kakao", "naver": "Naver"}


def label(provider: str) -> str:
    return LABELS.get(provider, provider)


@dataclass(frozen=True)
class Method:
    """One row of the settings page's sign-in methods: a provider, linked or not."""

    provider: str
    label: str
    linked: bool
    email: str | None = None
    can_unlink: bool = False  # linked, and not the last way to sign in
    can_link: bool = False  # offered on this site and not linked


async def sign_in_methods(
    session: AsyncSession, user_id: int, offered: list[str], nickname_sign_in: bool
) -> list[Method]:
    """The providers a user has linked, and those they could link, in a fixed order."""
    mine = await identities_of(session, user_id)
    ways = sign_in_ways(mine, nickname_sign_in)
    rows = []
    for provider in LABELS:
        linked = [i for i in mine if i.provider == provider]
        if not linked and provider not in offered:
            continue
        rows.append(
            Method(
                provider=provider,
                label=label(provider),
                linked=bool(linked),
                email=linked[0].email if linked else None,
                can_unlink=bool(linked) and any(w.provider != provider for w in ways),
                can_link=not linked and provider in offered,
            )
        )
    return rows
