"""Profiles: the first sign-in (nickname, terms, birth year, invite), age bands, what a
restricted account may do, and a guardian's consent for a user under 14.

Age bands (Korea's personal information law, art. 22-2, counts full years). We usually know
only the birth year, so a person's age this year is `year - birth_year` once their birthday
has passed and one less before. We take the younger possibility (conservative): age =
`year - birth_year - 1` (providers.band_of_birth_year, the one rule). So in 2026 someone born
in 2012 counts as 13 (under 14) all year, someone born in 2011 as 14. "under19" (a minor for
rewards) likewise: born in 2007 counts as 18 in 2026. The year is the current year in
PLAN_TIMEZONE (Asia/Seoul by default).

A band is worked out from the birth year each time it is needed (`age_band_of`), since it
changes as years pass; the stored `users.age_band` is read only when no birth year is known
(the band a provider's age range gave at sign-up)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts import invites
from codebattle.accounts.models import (
    GuardianConsent,
    Identity,
    PlanChange,
    User,
)
from codebattle.accounts.providers import (
    ADULT,
    OLDEST,
    UNDER14,
    UNDER19,
    band_of_birth_year,
    parse_birth_year,
)
from codebattle.accounts.service import NICKNAME
from codebattle.config import Settings
from codebattle.errors import UserError
from codebattle.i18n import translate
from codebattle.integrations import mail

AGE_BANDS = (UNDER14, UNDER19, ADULT)
SEOUL = ZoneInfo("Asia/Seoul")  # PLAN_TIMEZONE's default; routes pass the setting

# Names that would pass for the site, its staff, or an AI opponent; compared lower-cased.
RESERVED = frozenset(
    {
        "admin",
        "administrator",
        "operator",
        "moderator",
        "mod",
        "staff",
        "system",
        "ai",
        "bot",
        "anonymous",
        "deleted",
        "root",
        "support",
        "help",
        "codebattle",
        "code-battle",
        "code_battle",
        "null",
        "undefined",
        "관리자",
        "운영자",
        "운영진",
        "관리인",
        "시스템",
        "익명",
        "탈퇴",
        "고객센터",
        "코드배틀",
    }
)
DELETED_PREFIX = "deleted-"  # deleted accounts' anonymous names (accounts.deletion)
_AI_NAME = re.compile(r"^ai[\s(（]", re.IGNORECASE)  # AI users are "AI (easy)", ...


def check_nickname(nickname: object) -> str:
    """A nickname as stored, or UserError: 2–20 letters, digits, _ or - (Hangul allowed),
    not a reserved name. Uniqueness is `nickname_free`'s."""
    if not isinstance(nickname, str):
        raise UserError(422, "nickname_invalid")
    name = nickname.strip()
    lowered = name.lower()
    if _AI_NAME.match(name) or lowered in RESERVED or lowered.startswith(DELETED_PREFIX):
        raise UserError(422, "nickname_reserved")
    if not NICKNAME.match(name):
        raise UserError(422, "nickname_invalid")
    return name


async def nickname_free(session: AsyncSession, name: str) -> bool:
    """No user has this nickname, compared case-insensitively."""
    taken = await session.scalar(
        select(User.id).where(func.lower(User.nickname) == name.lower()).limit(1)
    )
    return taken is None


def suggested_nickname(display_name: object) -> str:
    """The provider's display name when it would pass as a nickname (spaces dropped), else ""."""
    if not isinstance(display_name, str):
        return ""
    candidate = "".join(display_name.split())
    try:
        return check_nickname(candidate)
    except UserError:
        return ""


def current_year(zone: tzinfo) -> int:
    return datetime.now(zone).year


def age_band(birth_year: int, year: int) -> str:
    """The band of someone born in `birth_year`, in `year`, taking the younger possibility."""
    return band_of_birth_year(birth_year, year)


def age_band_of(user: User, now: datetime | None = None, zone: tzinfo = SEOUL) -> str | None:
    """The user's band at `now` (default: this moment) in `zone`: from the birth year when
    it is known, so a 13-year-old is 14 the next year without anyone touching the account;
    else the band stored at sign-up (a provider's age range); None when neither is known."""
    if user.birth_year is not None:
        year = (now or datetime.now(UTC)).astimezone(zone).year
        return age_band(user.birth_year, year)
    return user.age_band if user.age_band in AGE_BANDS else None


def check_birth_year(value: object, year: int) -> int:
    """A birth year from the form: ASCII digits, a whole number from `year - OLDEST` to
    `year` (not "²" nor "١٢", which str.isdigit accepts)."""
    born = parse_birth_year(value, year)
    if born is None:
        raise UserError(422, "birth_year_invalid")
    return born


def birth_years(year: int) -> list[int]:
    """The choices of the birth year select, newest first."""
    return list(range(year, year - OLDEST - 1, -1))


def provider_age(profile: dict[str, Any], year: int) -> tuple[int | None, str | None]:
    """The birth year and band the provider gave, if any: a birth year decides the band;
    a band alone (Kakao's age range) is taken as given."""
    birth_year = profile.get("birth_year")
    if isinstance(birth_year, int) and year - OLDEST <= birth_year <= year:
        return birth_year, age_band(birth_year, year)
    band = profile.get("age_band")
    return None, band if band in AGE_BANDS else None


def restriction(
    user: User, now: datetime | None = None, zone: tzinfo = SEOUL, *, ban: bool = True
) -> str | None:
    """Why this signed-in account may do nothing beyond its own account pages, or None.
    The key is also the error's ("onboarding_required", "guardian_consent_required").
    The band is worked out at `now` (age_band_of), so turning 14 lifts the restriction.
    A banned account ("account_banned", accounts/sanctions.py) reaches only its account
    and appeal pages (which ask with `ban=False`)."""
    if ban and user.banned_at is not None:
        return "account_banned"
    if user.onboarded_at is None:
        return "onboarding_required"
    if age_band_of(user, now, zone) == UNDER14 and user.guardian_consent_at is None:
        return "guardian_consent_required"
    return None


@dataclass(frozen=True)
class Pending:
    """An unfinished first sign-in as web.sessions.pending gives it."""

    via: str
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    display_name: str | None
    avatar_url: str | None
    profile: dict[str, Any]
    next: str | None

    @classmethod
    def of(cls, data: object) -> Pending | None:
        if not isinstance(data, dict):
            return None
        profile = data.get("profile")
        if not isinstance(profile, dict):
            return None
        provider, subject = profile.get("provider"), profile.get("subject")
        if not isinstance(provider, str) or not isinstance(subject, str) or not subject:
            return None
        email, name, avatar = (profile.get(k) for k in ("email", "display_name", "avatar_url"))
        nxt = data.get("next")
        return cls(
            via=str(data.get("via") or provider),
            provider=provider,
            subject=subject,
            email=email if isinstance(email, str) and email else None,
            email_verified=profile.get("email_verified") is True,
            display_name=name if isinstance(name, str) and name else None,
            avatar_url=avatar if isinstance(avatar, str) and avatar else None,
            profile=profile,
            next=nxt if isinstance(nxt, str) else None,
        )


async def finish_signup(
    session: AsyncSession,
    pending: Pending,
    nickname: object,
    birth_year: object,
    accepted_terms: bool,
    invite_code: object,
    locale: str,
    *,
    invite_only: bool = False,
    zone: tzinfo = SEOUL,
) -> User:
    """Create the user and its identity in one transaction, the first sign-in finished
    (onboarded_at, terms_accepted_at). The provider's email is kept only when verified.
    With `invite_only` an invite's use is counted in the same transaction."""
    if not accepted_terms:
        raise UserError(422, "terms_required")
    name = check_nickname(nickname)
    year = current_year(zone)
    known_year, band = provider_age(pending.profile, year)
    if band is None:
        known_year = check_birth_year(birth_year, year)
        band = age_band(known_year, year)
    if not await nickname_free(session, name):
        raise UserError(409, "nickname_taken")
    code = await invites.redeem(session, invite_code) if invite_only else None
    now = datetime.now(UTC)
    verified_email = pending.email if pending.email_verified else None
    user = User(
        nickname=name,
        locale=locale,
        email=verified_email,
        email_verified=verified_email is not None,
        display_name=pending.display_name[:64] if pending.display_name else None,
        avatar_url=pending.avatar_url
        if pending.avatar_url and len(pending.avatar_url) <= 512
        else None,
        birth_year=known_year,
        age_band=band,
        onboarded_at=now,
        terms_accepted_at=now,
        invite_code=code,
        plan_started_at=now,
    )
    user.identities.append(
        Identity(provider=pending.provider, subject=pending.subject[:255], email=verified_email)
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:  # the nickname taken meanwhile, or this identity registered twice
        await session.rollback()
        existing = await session.scalar(
            select(Identity.id).where(
                Identity.provider == pending.provider, Identity.subject == pending.subject
            )
        )
        raise UserError(409, "already_registered" if existing else "nickname_taken") from None
    return user


# Guardian consent -------------------------------------------------------------------------

CONSENT_SALT = "guardian-consent"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def check_email(value: object) -> str:
    email = value.strip() if isinstance(value, str) else ""
    if len(email) > 254 or not EMAIL.match(email):
        raise UserError(422, "email_invalid")
    return email


def consent_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=CONSENT_SALT)


async def request_consent(
    session: AsyncSession,
    user: User,
    guardian_email: object,
    secret_key: str,
    *,
    zone: tzinfo = SEOUL,
) -> tuple[GuardianConsent, str]:
    """Record a consent request for `user` (under 14); return it and its signed token."""
    if age_band_of(user, zone=zone) != UNDER14:
        raise UserError(409, "guardian_consent_not_needed")
    if user.guardian_consent_at is not None:
        raise UserError(409, "guardian_consent_given")
    email = check_email(guardian_email)
    if user.email and email.lower() == user.email.lower():
        raise UserError(422, "guardian_email_own")
    consent = GuardianConsent(user_id=user.id, guardian_email=email)
    session.add(consent)
    await session.commit()
    token = consent_serializer(secret_key).dumps({"c": consent.id, "u": user.id})
    return consent, token


async def send_consent_mail(settings: Settings, to: str, nickname: str, link: str) -> None:
    """The consent request to a guardian, in Korean and English (we do not know which the
    guardian reads)."""
    days = settings.GUARDIAN_CONSENT_DAYS
    subject = " / ".join(translate("consent_mail_subject", locale) for locale in ("ko", "en"))
    body = "\n\n".join(
        translate("consent_mail_body", locale, nickname=nickname, link=link, days=days)
        for locale in ("ko", "en")
    )
    await mail.send(settings, mail.message(settings, to, subject, body))


@dataclass(frozen=True)
class ConsentRequest:
    consent: GuardianConsent
    user: User


async def consent_of(
    session: AsyncSession, token: str, secret_key: str, days: int
) -> ConsentRequest:
    """The request a consent link names; UserError for an expired or tampered link, or a
    request that no longer exists (the account deleted)."""
    try:
        data = consent_serializer(secret_key).loads(token, max_age=days * 24 * 3600)
    except SignatureExpired:
        raise UserError(410, "consent_link_expired") from None
    except BadSignature:
        raise UserError(400, "consent_link_invalid") from None
    if not isinstance(data, dict):
        raise UserError(400, "consent_link_invalid")
    consent = await session.get(GuardianConsent, data.get("c"))
    if consent is None or consent.user_id != data.get("u"):
        raise UserError(404, "consent_link_unknown")
    user = await session.get(User, consent.user_id)
    if user is None or user.deleted_at is not None:
        raise UserError(404, "consent_link_unknown")
    return ConsentRequest(consent, user)


def check_not_self(found: ConsentRequest, signed_in: User | None) -> None:
    """A guardian consents from their own browser: refused (403 "consent_by_self") when the
    browser opening the link is signed in as the very account the consent is for. This
    stops the obvious self-consent; it cannot prove who the guardian is (docs/accounts.md)."""
    if signed_in is not None and signed_in.id == found.user.id:
        raise UserError(403, "consent_by_self")


async def give_consent(
    session: AsyncSession,
    token: str,
    secret_key: str,
    days: int,
    address: str,
    signed_in: User | None = None,
) -> ConsentRequest:
    """The guardian consents: the time and their address are recorded, and the account is
    no longer restricted. Consenting again through the same link changes nothing. Refused
    when `signed_in` (the browser's user) is the account itself (check_not_self)."""
    found = await consent_of(session, token, secret_key, days)
    check_not_self(found, signed_in)
    if found.consent.consented_at is None:
        now = datetime.now(UTC)
        found.consent.consented_at = now
        found.consent.consent_ip = address[:64]
        if found.user.guardian_consent_at is None:
            found.user.guardian_consent_at = now
        await session.commit()
    return found


async def consents(session: AsyncSession, user: User) -> list[GuardianConsent]:
    return list(
        await session.scalars(
            select(GuardianConsent)
            .where(GuardianConsent.user_id == user.id)
            .order_by(GuardianConsent.id)
        )
    )


# Export ----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def account_export(session: AsyncSession, user: User) -> dict[str, Any]:
    """The account's own part of a data export: profile, identities, plan and its changes,
    guardian consents. Sessions (from the session store), games and submissions are added
    by the caller."""
    fresh = await session.get(User, user.id)
    if fresh is None:
        raise UserError(404, "user_unknown")
    identities = await session.scalars(
        select(Identity).where(Identity.user_id == fresh.id).order_by(Identity.id)
    )
    changes = await session.scalars(
        select(PlanChange).where(PlanChange.user_id == fresh.id).order_by(PlanChange.id)
    )
    return {
        "profile": {
            "id": fresh.id,
            "nickname": fresh.nickname,
            "locale": fresh.locale,
            "role": fresh.role,
            "created_at": _iso(fresh.created_at),
            "email": fresh.email,
            "email_verified": fresh.email_verified,
            "display_name": fresh.display_name,
            "avatar_url": fresh.avatar_url,
            "birth_year": fresh.birth_year,
            "age_band": age_band_of(fresh),
            "onboarded_at": _iso(fresh.onboarded_at),
            "terms_accepted_at": _iso(fresh.terms_accepted_at),
            "guardian_consent_at": _iso(fresh.guardian_consent_at),
            "invite_code": fresh.invite_code,
        },
        "identities": [
            {"provider": i.provider, "email": i.email, "created_at": _iso(i.created_at)}
            for i in identities
        ],
        "plan": {
            "plan": fresh.plan,
            "started_at": _iso(fresh.plan_started_at),
            "ends_at": _iso(fresh.plan_ends_at),
            "source": fresh.plan_source,
            "auto_renew": fresh.plan_auto_renew,
        },
        "plan_changes": [
            {
                "old_plan": c.old_plan,
                "plan": c.plan,
                "starts_at": _iso(c.starts_at),
                "ends_at": _iso(c.ends_at),
                "source": c.source,
            }
            for c in changes
        ],
        "guardian_consents": [
            {
                "guardian_email": c.guardian_email,
                "requested_at": _iso(c.requested_at),
                "consented_at": _iso(c.consented_at),
            }
            for c in await consents(session, fresh)
        ],
        "sessions": [],  # the caller adds them from the session store
        "points": [],
        "points_note": "Points are not awarded yet; this list will hold them.",
    }


def anonymous_name() -> str:
    return DELETED_PREFIX + secrets.token_hex(6)
