from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from codebattle.db.base import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nickname: Mapped[str] = mapped_column(String(32), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    role: Mapped[str] = mapped_column(String(16), default="player")
    is_ai: Mapped[bool] = mapped_column(Boolean, default=False)  # an AI opponent, labelled so
    ai_level: Mapped[str | None] = mapped_column(String(8), nullable=True)  # an AI's: "easy", ...
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # chat
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # What the person told us or a provider gave (see docs/accounts.md for why each is kept).
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    avatar_url: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # Age: a birth year (asked, or from the provider) and the band it falls in: "under14",
    # "under19" or "adult" (None: unknown, e.g. a development nickname account).
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    age_band: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # First sign-in finished (nickname chosen, terms accepted); None: not yet.
    onboarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Under 14: a guardian's consent (accounts.models.GuardianConsent holds the record).
    guardian_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    invite_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The plan: "free", "basic" or "pro", since when, until when (None: open-ended), and
    # what set it ("default", "checkout", "renewal", "grant", "refund", "expiry", ...).
    plan: Mapped[str] = mapped_column(String(8), default="free")
    plan_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    plan_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    plan_source: Mapped[str] = mapped_column(String(16), default="default")
    plan_auto_renew: Mapped[bool] = mapped_column(Boolean, default=False)
    # The AI code review may send this user's code to the model: None until asked
    # (reviews/), then their answer; the offline review needs no consent.
    review_consent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # A deleted account keeps its games under an anonymous name; personal data is gone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Sanctions in force, kept on the user so that every request can check them without a
    # query (accounts/sanctions.py writes them with the `sanctions` rows they summarise):
    # a ban refuses everything but the account and appeal pages; a suspension refuses
    # ranked play and rewards until it ends.
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    identities: Mapped[list[Identity]] = relationship(back_populates="user")


# Nicknames are unique whatever their case ("Bob" and "bob" are one name).
Index("uq_users_nickname_lower", func.lower(User.nickname), unique=True)


class Identity(Base):
    """One way to sign in as a user: a provider ("nickname", "github", ...) and its subject."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)  # as the provider said
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in the list, e.g. "cb_ab12cd"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SignInSession(Base):
    """A session kept on the server (the database store; accounts.sessions). The cookie
    carries a random id; only its SHA-256 is stored. `user_id` is None while a first
    sign-in is unfinished (`data` then holds the provider's profile)."""

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    via: Mapped[str] = mapped_column(String(16))  # "nickname", "google", ...
    role: Mapped[str] = mapped_column(String(16), default="player")  # the role at issue
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # absolute


class AuditEntry(Base):
    """Who changed what about whom, when and why (roles, plans, invites, ...)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    actor_label: Mapped[str] = mapped_column(String(64))  # "cli", a nickname, "system"
    action: Mapped[str] = mapped_column(String(32))  # "role", "plan", "invite", ...
    subject_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    old: Mapped[str | None] = mapped_column(String(128), nullable=True)
    new: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # What the action was about besides a user: "flag:12", "appeal:3", "match:40", ...
    target: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


# Kinds of sanction: a warning (on record, nothing refused), a suspension for a period (no
# ranked play, no rewards), a ban (nothing but the account and appeal pages).
WARN, SUSPEND, BAN = "warn", "suspend", "ban"


class Sanction(Base):
    """An operator's sanction of a user, usually the decision on a fair-play flag. Lifted,
    never deleted: `lifted_at` ends it early (an operator, or an appeal granted)."""

    __tablename__ = "sanctions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # WARN | SUSPEND | BAN
    reason: Mapped[str] = mapped_column(Text)  # shown to the user
    flag_id: Mapped[int | None] = mapped_column(
        ForeignKey("fairplay_flags.id", ondelete="SET NULL"), nullable=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # None: no end
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    lift_reason: Mapped[str] = mapped_column(Text, default="")


class Notification(Base):
    """A message to one user from the site (a decision about them, an appeal answered, ...):
    `kind` names its text (`notify.<kind>` in the catalogues) and `params` fill it, so it
    reads in the user's language whenever it is shown."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(200), default="")  # a path on this site
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class GuardianConsent(Base):
    """A consent request sent to a guardian of a user under 14, and its answer."""

    __tablename__ = "guardian_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    guardian_email: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consent_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class InviteCode(Base):
    """An alpha invite: a code that lets `max_uses` people finish their first sign-in."""

    __tablename__ = "invite_codes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Feedback(Base):
    """What a user wrote in the in-app feedback form, for operators."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    category: Mapped[str] = mapped_column(String(16))  # "bug", "idea", "problem", "other"
    text: Mapped[str] = mapped_column(Text)
    page: Mapped[str] = mapped_column(String(300), default="")
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # An operator dealt with it (the inbox shows open ones first); None: still open.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    handled_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class PlanChange(Base):
    """Every change of a user's plan, for the user's history and operators."""

    __tablename__ = "plan_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    old_plan: Mapped[str] = mapped_column(String(8))
    plan: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payment(Base):
    """One payment for one period of a plan. `id` is the payment id we give the provider
    (PortOne's paymentId), so a repeated confirmation or webhook finds the same row."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    plan: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="KRW")
    kind: Mapped[str] = mapped_column(String(12))  # "checkout" | "renewal"
    # "pending" → "paid" | "failed"; "paid" → "refunded"
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failure: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BillingKey(Base):
    """The provider's billing key for a user's renewals (one per user; deleted when the
    user cancels or deletes the account)."""

    __tablename__ = "billing_keys"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    billing_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DailyGames(Base):
    """Games (ranked and vs AI) a user started on one plan day; the row is counted up in
    the transaction that starts a game, only while under the plan's limit."""

    __tablename__ = "daily_games"
    __table_args__ = (PrimaryKeyConstraint("user_id", "day"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=0)
